//! The Function Compute custom runtime: the HTTP server FC's `bootstrap` starts
//! (`apigw-vpc-probe serve`).
//!
//! One module per job:
//! - `server`: listening, connections, graceful stop;
//! - `socket`: when each request began, and the 408 for a head that never completes;
//! - `service`: the boundary where an HTTP request meets the layers and the handler;
//! - `layers`: request span, FC log markers, access log, panic catching;
//! - `handler`: the plain async function that answers each route;
//! - `routes`, `context`, `query`, `body`, `reply`: what the handler reads and answers.
//!
//! Start-up does no network I/O: settings come from the environment and the prober builds its
//! resolver on first use, so FC's TCP readiness check succeeds within milliseconds.

pub(crate) mod body;
pub(crate) mod context;
pub(crate) mod handler;
pub(crate) mod layers;
pub(crate) mod log;
pub(crate) mod query;
pub(crate) mod reply;
pub(crate) mod routes;
pub(crate) mod server;
pub(crate) mod service;
pub(crate) mod socket;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

use context::InstanceEnv;
use handler::App;
pub use server::DEFAULT_PORT;

/// Exit status: stopped by a signal.
pub const EXIT_OK: i32 = 0;
/// Exit status: could not start (address in use, signal handler).
pub const EXIT_START_FAILED: i32 = 1;

/// The arguments of `serve` (what the function's bootstrap runs; the binary parses them, and its
/// `serve --help` describes them).
#[derive(Debug)]
pub struct ServeArgs {
    /// The address to listen on instead of FC's port from the environment
    /// (`FC_CUSTOM_LISTEN_PORT`, else `FC_SERVER_PORT`, else [`DEFAULT_PORT`], on 0.0.0.0).
    pub listen: Option<SocketAddr>,
}

/// Runs the `serve` subcommand until SIGTERM/SIGINT; returns the exit status.
pub async fn serve(args: ServeArgs) -> i32 {
    log::init();
    crate::metrics::process::started();
    // Registered before listening, so a SIGTERM right after start-up is not missed.
    let mut sigterm = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot install the SIGTERM handler");
            return EXIT_START_FAILED;
        }
    };
    let addr = match args.listen {
        Some(addr) => addr,
        None => {
            let (addr, notes) = server::listen_addr(|k| std::env::var(k).ok());
            for note in notes {
                tracing::warn!("{note}");
            }
            addr
        }
    };
    let listener = match TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(listen = %addr, error = %e, "cannot listen");
            return EXIT_START_FAILED;
        }
    };
    let (limits, limit_problems) = server::Limits::from_lookup(|k| std::env::var(k).ok());
    let mut settings = crate::config::Settings::from_env();
    settings.problems.extend(limit_problems);
    // Set when the shutdown grace is over: probes still running then end at once.
    let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
    let app = Arc::new(
        App::new(Arc::new(settings), InstanceEnv::from_env())
            .stop_on(crate::timing::Stopping::new(stopping_rx)),
    );
    crate::redact::set_global(app.redactor().clone());
    if let Err(e) = app.settings().check() {
        // What every invocation's config.invalid will say, for whoever reads only the log (a
        // timer's invocations have no reader). The messages quote no value of a JSON setting
        // that did not parse (`config::json_problem`), and the line is redacted as any other.
        tracing::warn!(
            problems = app.settings().problems.len(),
            details = %e.message,
            "the APIGW_* settings are not valid; every probe will answer config.invalid"
        );
    }
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(listen = %local, version = env!("CARGO_PKG_VERSION"), "listening");

    let handler = Arc::new(move |req| handler::handle(app.clone(), req));
    let shutdown = async move {
        tokio::select! {
            _ = sigterm.recv() => tracing::info!(signal = "SIGTERM", "stopping"),
            () = sigint() => tracing::info!(signal = "SIGINT", "stopping"),
        }
    };
    server::run(listener, handler, limits, shutdown, stopping).await;
    tracing::info!("stopped");
    EXIT_OK
}

/// Completes on Ctrl-C; never, if the handler cannot be installed.
async fn sigint() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
