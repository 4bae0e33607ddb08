//! The report: one JSON document, `schema: 1`. Field names are a contract: extend, never rename.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::error::{ErrorClass, ProbeError};
use crate::scope::Scope;

/// The report's schema version.
pub const SCHEMA: u32 = 1;

/// How the function was asked to probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// `POST /invoke`: console "Test", SDK, other event triggers.
    Event,
    /// An HTTP trigger request (`/probe`).
    Http,
    /// A timer trigger's event.
    Timer,
    /// The command line.
    Cli,
}

/// The whole report of one invocation.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: u32,
    pub ok: bool,
    pub trigger: Trigger,
    pub request_id: String,
    /// RFC 3339, UTC, milliseconds.
    pub started_at: String,
    pub duration_ms: f64,
    /// The function's context from FC's headers (absent on the CLI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionInfo>,
    /// The timer trigger's fields, for timer invocations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timer: Option<TimerInfo>,
    pub targets: Vec<TargetReport>,
}

/// What FC told the function about itself. Never holds credentials.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FunctionInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<u32>,
    /// The probe deadline that was applied, in milliseconds.
    pub budget_ms: f64,
}

/// The timer trigger's event fields.
#[derive(Clone, Debug, Serialize)]
pub struct TimerInfo {
    #[serde(rename = "triggerName")]
    pub trigger_name: String,
    #[serde(rename = "triggerTime")]
    pub trigger_time: String,
}

/// The result for one target.
#[derive(Clone, Debug, Serialize)]
pub struct TargetReport {
    pub name: String,
    pub url: String,
    /// How the calls authenticated: `app`, `appcode`, `none`, or `none (host not configured
    /// for signing)` for a target from a request that asked for credentials on a host the
    /// operator did not configure. Absent when the target failed before it was built.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    pub ok: bool,
    /// Absent when the target failed before resolution (invalid, forbidden).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsReport>,
    pub samples: Vec<Sample>,
    /// Over the samples that got a response; absent when none did.
    pub latency_ms: Option<Latency>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The first failure of the target, if any.
    pub error: Option<ProbeError>,
}

/// How the host was resolved.
#[derive(Clone, Debug, Serialize)]
pub struct DnsReport {
    pub host: String,
    pub addresses: Vec<String>,
    pub scope: Option<Scope>,
    /// The servers asked (`ip:port`); empty when no query was made.
    pub servers: Vec<String>,
    pub ms: f64,
    /// `resolver`, `literal` (IP in the URL) or `override` (CLI `--resolve`).
    pub source: &'static str,
}

/// One call.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Sample {
    pub ok: bool,
    /// The address dialled, `ip:port`.
    pub remote: Option<String>,
    pub status: Option<u16>,
    /// Response body bytes received (all of them, also past the kept 64 KiB).
    pub bytes: u64,
    pub phases_ms: Phases,
    /// What API Gateway said about the call (`X-Ca-*` response headers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayInfo>,
    /// The response body (at most 64 KiB, lossy UTF-8) when the target asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The client's string to sign, when the target asks for it (it holds no secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_to_sign: Option<String>,
    pub error: Option<ProbeError>,
}

/// API Gateway's response headers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GatewayInfo {
    pub request_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// Phase durations in milliseconds. `dns + connect + tls + send + ttfb + transfer == total`.
///
/// `send` (connection ready → request written) extends the original five phases so that they
/// still add up; `ttfb` is request written → first response byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Phases {
    pub dns: f64,
    pub connect: f64,
    pub tls: f64,
    pub send: f64,
    pub ttfb: f64,
    pub transfer: f64,
    pub total: f64,
}

impl Phases {
    /// The phases in order with their names (without `total`).
    pub fn named(&self) -> [(&'static str, f64); 6] {
        [
            ("dns", self.dns),
            ("connect", self.connect),
            ("tls", self.tls),
            ("send", self.send),
            ("ttfb", self.ttfb),
            ("transfer", self.transfer),
        ]
    }
}

/// Latency summary in milliseconds (nearest-rank percentiles).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Latency {
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// Summarizes `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let idx = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[idx.clamp(1, v.len()) - 1]
        };
        Some(Self {
            min: v[0],
            p50: rank(50.0),
            p90: rank(90.0),
            p99: rank(99.0),
            max: v[v.len() - 1],
        })
    }
}

/// Milliseconds with microsecond precision, as reported everywhere.
pub fn ms(d: Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

/// RFC 3339 in UTC with milliseconds.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

impl TargetReport {
    /// A target that failed before any network work (invalid or forbidden).
    pub fn failed_early(name: String, url: String, error: ProbeError) -> Self {
        Self {
            name,
            url,
            auth: None,
            ok: false,
            dns: None,
            samples: Vec::new(),
            latency_ms: None,
            warnings: Vec::new(),
            error: Some(error),
        }
    }
}

impl Report {
    /// True when any target was refused by policy.
    pub fn any_forbidden(&self) -> bool {
        self.targets.iter().any(|t| {
            t.error
                .as_ref()
                .is_some_and(|e| e.class == ErrorClass::TargetForbidden)
        })
    }

    /// The `Server-Timing` header value: each target's first sample's phases, tagged with the
    /// target's position so that several targets stay apart.
    pub fn server_timing(&self) -> String {
        let mut out = String::new();
        for (i, t) in self.targets.iter().enumerate() {
            let Some(s) = t.samples.first() else { continue };
            let prefix = if self.targets.len() > 1 {
                format!("t{i}-")
            } else {
                String::new()
            };
            for (name, v) in s
                .phases_ms
                .named()
                .into_iter()
                .chain([("total", s.phases_ms.total)])
            {
                if !out.is_empty() {
                    out.push_str(", ");
                }
                let _ = write!(out, "{prefix}{name};dur={v:.3}");
            }
        }
        out
    }

    /// A human-readable summary for terminals.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for t in &self.targets {
            let _ = writeln!(
                out,
                "{} {}  {}",
                if t.ok { "OK  " } else { "FAIL" },
                t.name,
                t.url
            );
            if let Some(d) = &t.dns {
                let scope = d
                    .scope
                    .map(|s| serde_json::to_value(s).map(|v| v.as_str().unwrap_or("").to_owned()))
                    .and_then(Result::ok)
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "     dns  {} -> {} [{}] via {} ({:.3} ms)",
                    d.host,
                    if d.addresses.is_empty() {
                        "-".to_owned()
                    } else {
                        d.addresses.join(", ")
                    },
                    scope,
                    if d.servers.is_empty() {
                        d.source.to_owned()
                    } else {
                        d.servers.join(", ")
                    },
                    d.ms
                );
            }
            for (i, s) in t.samples.iter().enumerate() {
                let p = &s.phases_ms;
                let _ = writeln!(
                    out,
                    "     #{:<2} {} {:>4}  dns {:.3}  connect {:.3}  tls {:.3}  send {:.3}  ttfb {:.3}  transfer {:.3}  total {:.3} ms  {} B{}",
                    i + 1,
                    s.remote.as_deref().unwrap_or("-"),
                    s.status.map_or("-".to_owned(), |c| c.to_string()),
                    p.dns,
                    p.connect,
                    p.tls,
                    p.send,
                    p.ttfb,
                    p.transfer,
                    p.total,
                    s.bytes,
                    s.gateway
                        .as_ref()
                        .and_then(|g| g.request_id.as_deref())
                        .map(|id| format!("  X-Ca-Request-Id {id}"))
                        .unwrap_or_default(),
                );
            }
            for s in &t.samples {
                if let Some(sts) = &s.string_to_sign {
                    let _ = writeln!(out, "     string to sign:");
                    for line in sts.split('\n') {
                        let _ = writeln!(out, "       | {line}");
                    }
                }
            }
            if let Some(l) = &t.latency_ms {
                let _ = writeln!(
                    out,
                    "     latency ms  min {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
                    l.min, l.p50, l.p90, l.p99, l.max
                );
            }
            for w in &t.warnings {
                let _ = writeln!(out, "     warning: {w}");
            }
            if let Some(e) = &t.error {
                let _ = writeln!(out, "     error {}: {}", e.class, e.message);
                let _ = writeln!(out, "     hint: {}", e.hint);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let l = Latency::of(&v).unwrap();
        assert_eq!(
            (l.min, l.p50, l.p90, l.p99, l.max),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
        let l = Latency::of(&[5.0]).unwrap();
        assert_eq!((l.min, l.p50, l.p99, l.max), (5.0, 5.0, 5.0, 5.0));
        assert!(Latency::of(&[]).is_none());
    }

    #[test]
    fn ms_keeps_microseconds() {
        assert_eq!(ms(Duration::from_micros(1234)), 1.234);
    }

    #[test]
    fn rfc3339_is_utc_with_millis() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.123Z");
    }
}
