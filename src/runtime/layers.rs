//! The cross-cutting concerns around the handler, each a small async wrapper:
//!
//! ```text
//! request_span( fc_markers( access_log( catch_panic( handler ))))
//! ```
//!
//! - [`request_span`]: a tracing span carrying `request_id`, so every JSON log line written
//!   while serving the request names it;
//! - [`fc_markers`]: FC's `FC Invoke Start/End RequestId: <id>` lines around `/invoke` (and the
//!   `Initialize` pair around `/initialize`), which the console and SLS group a request's
//!   lines by; the End line gets `, Error: Unhandled function error` on a function error, as in
//!   FC's Go runtime;
//! - [`access_log`]: one info line per request (method, path, status, duration) and a warn
//!   line for refused input or failed targets; never headers or bodies;
//! - [`catch_panic`]: a panic in the handler becomes a JSON error reply (404 + `x-fc-status`
//!   for `/invoke`, else 500) and the server keeps serving.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt as _;

use hyper::{Method, StatusCode};
use tracing::{Instrument as _, Span};

use super::log;
use super::reply::{Outcome, Reply};
use super::routes::Route;

/// Longest path written to the access log; paths are the caller's input.
const MAX_LOGGED_PATH: usize = 256;

/// The span every line of one request is written in.
pub(crate) fn request_span(request_id: &str) -> Span {
    tracing::info_span!("request", request_id = %request_id)
}

/// Prints FC's Start/End markers around event invocations and the initializer.
pub(crate) async fn fc_markers<F>(route: Route, request_id: &str, inner: F) -> Reply
where
    F: Future<Output = Reply>,
{
    let kind = match route {
        Route::Invoke => "Invoke",
        Route::Initialize => "Initialize",
        _ => return inner.await,
    };
    log::fc_marker(format_args!("FC {kind} Start RequestId: {request_id}"));
    let reply = inner.await;
    if reply.is_function_error() {
        log::fc_marker(format_args!(
            "FC {kind} End RequestId: {request_id}, Error: Unhandled function error"
        ));
    } else {
        log::fc_marker(format_args!("FC {kind} End RequestId: {request_id}"));
    }
    reply
}

/// What the access log line says about the request: only the method and the path (never the
/// query, which may carry a URL with credentials, nor headers or the body).
#[derive(Clone, Debug)]
pub(crate) struct RequestLine {
    pub method: Method,
    pub path: String,
    pub route: Route,
    pub started: Instant,
}

impl RequestLine {
    pub(crate) fn new(method: &Method, path: &str, route: Route, started: Instant) -> Self {
        Self {
            method: method.clone(),
            path: path.chars().take(MAX_LOGGED_PATH).collect(),
            route,
            started,
        }
    }
}

/// Writes the request's log lines once the reply is known.
pub(crate) async fn access_log<F>(line: RequestLine, inner: F) -> Reply
where
    F: Future<Output = Reply>,
{
    let reply = inner.await;
    match &reply.outcome {
        Outcome::BadInput(class) => {
            tracing::warn!(error_class = %class, route = line.route.name(), "input refused");
        }
        Outcome::TargetsFailed(classes) => {
            tracing::warn!(
                error_classes = %classes.join(","),
                route = line.route.name(),
                "probe failed"
            );
        }
        // The panic hook already wrote the panic's message and location; the server wrote
        // why it was busy.
        Outcome::Ok | Outcome::NotFound | Outcome::Panicked | Outcome::Internal | Outcome::Busy => {
        }
    }
    tracing::info!(
        method = %line.method,
        path = %line.path,
        route = line.route.name(),
        status = reply.status.as_u16(),
        duration_ms = crate::report::ms(line.started.elapsed()),
        "request"
    );
    reply
}

/// Polls the handler under `catch_unwind`, so that a panic ends only this request; the panic
/// becomes an error reply. No task of its own: the request's pipeline already is one, so the
/// handler stays in its span and on its thread.
pub(crate) async fn catch_panic<F>(route: Route, request_id: &str, inner: F) -> Reply
where
    F: Future<Output = Reply>,
{
    // Unwind safety: the panicking handler's state is dropped with it; what it shares with
    // other requests (settings, the redactor's layers behind their locks) it only reads.
    match AssertUnwindSafe(inner).catch_unwind().await {
        Ok(reply) => reply,
        Err(_) => failure(route, request_id, true),
    }
}

/// The reply for a handler that panicked (or was cancelled while the runtime shut down).
pub(crate) fn failure(route: Route, request_id: &str, panicked: bool) -> Reply {
    let (error_type, message, outcome) = if panicked {
        ("runtime.panic", "the handler panicked", Outcome::Panicked)
    } else {
        (
            "runtime.internal",
            "the handler was cancelled",
            Outcome::Internal,
        )
    };
    let reply = Reply::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        error_type,
        message,
        "This is a bug in apigw-vpc-probe: the function's log has the details under this \
         request id; please report it.",
        request_id,
        outcome,
    );
    if route.is_event_invocation() {
        reply.into_event_invocation()
    } else {
        reply
    }
}

/// Wraps `inner` in the request span.
pub(crate) fn in_request_span<F: Future>(
    request_id: &str,
    inner: F,
) -> tracing::instrument::Instrumented<F> {
    inner.instrument(request_span(request_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok() -> Reply {
        Reply::json(StatusCode::OK, &json!({}), Outcome::Ok)
    }

    #[tokio::test]
    async fn panic_becomes_fc_function_error_on_invoke() {
        let reply = catch_panic(Route::Invoke, "r-1", async {
            if true {
                panic!("boom");
            }
            ok()
        })
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.fc_status, Some(StatusCode::NOT_FOUND));
        assert_eq!(reply.outcome, Outcome::Panicked);
        let v: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(v["errorType"], "runtime.panic");
        assert_eq!(v["requestId"], "r-1");
    }

    #[tokio::test]
    async fn panic_becomes_500_elsewhere() {
        let reply = catch_panic(Route::Probe, "r-2", async {
            if true {
                panic!("boom");
            }
            ok()
        })
        .await;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(reply.fc_status, None);
    }

    #[tokio::test]
    async fn no_panic_passes_the_reply_through() {
        let reply = catch_panic(Route::Invoke, "r", async { ok() }).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
}
