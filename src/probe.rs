//! The prober: event → targets → resolve → connect → call → report.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::error::ProbeError;
use crate::event::Selection;
use crate::report::{FunctionInfo, Report, TimerInfo, Trigger};
use crate::target::Origin;

/// One request to probe: what to probe and within which limits.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub trigger: Trigger,
    pub request_id: String,
    pub selection: Selection,
    /// Origin of targets written in the request itself (`Request` for events/HTTP, `Cli`).
    pub origin: Origin,
    /// FC's function timeout (`x-fc-function-timeout`), if known.
    pub function_timeout: Option<Duration>,
    /// The function's region for hints (`x-fc-region`, else settings).
    pub function_region: Option<String>,
    pub function: Option<FunctionInfo>,
    pub timer: Option<TimerInfo>,
    /// `--resolve host:port:addr` entries (CLI only).
    pub resolve: Vec<(String, u16, IpAddr)>,
}

/// Holds what probes share: settings, the resolver and the TLS configuration (both built on
/// first use, so that start-up does no I/O).
pub struct Prober {
    settings: Arc<Settings>,
}

impl Prober {
    pub fn new(settings: Arc<Settings>) -> Self {
        Self { settings }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs one invocation. `Err` only for invocation-level bad input (invalid event, unknown
    /// target name, configuration problems); per-target failures are in the report.
    pub async fn run(&self, inv: Invocation) -> Result<Report, ProbeError> {
        let _ = inv;
        todo!()
    }
}
