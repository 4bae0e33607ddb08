//! The HTTP/1 server FC talks to: listen, a task per connection, graceful stop on SIGTERM.

use std::convert::Infallible;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::body::{self, ReadLimits};
use super::handler::{self, FcRequest};
use super::reply::{CloseConnection, Outcome, Reply};
use super::routes::Route;
use super::service::{self, Handler};
use super::socket::{GuardedSocket, ReadClock};

/// The port when neither `FC_CUSTOM_LISTEN_PORT` nor `FC_SERVER_PORT` is set.
pub const DEFAULT_PORT: u16 = 9000;

/// Time a client has to send a request head. hyper also applies it to idle keep-alive
/// connections, so it is long enough that FC's pooled connections are rarely closed under it,
/// and short enough that a stuck client does not hold a connection for good.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Default of `APIGW_SHUTDOWN_GRACE_MS`: time in-flight requests get to finish after SIGTERM
/// before their probes are stopped. Longer than the probe's default sample timeout (5 s), so
/// that a sample under way usually finishes.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// After the grace, time the requests still running get to write their reports (their probes
/// end at once) before the process exits anyway.
pub(crate) const STOPPED_WRITE_TIME: Duration = Duration::from_secs(1);

/// Default of `APIGW_REQUEST_READ_TIMEOUT_MS`: a whole request (head and body) must arrive
/// within 30 s of its first byte. FC forwards a request it already holds, in milliseconds;
/// 30 s still lets a caller of the HTTP trigger send a 128 KB event at 35 kbit/s, and frees a
/// connection held by a stalled or trickling client within half a minute.
pub(crate) const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Default of `APIGW_BODY_READ_TIMEOUT_MS`: the longest pause between two pieces of a request
/// body. A pause, not a total: the total is the request's deadline above, and a pause limit
/// ends a client that went quiet sooner. 10 s outlasts several TCP retransmissions on a lossy
/// but live path.
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default of `APIGW_MAX_CONNECTIONS`: connections served at once. FC sends one instance at
/// most `instanceConcurrency` requests at a time (10 in s.yaml), each on a connection of its
/// own, besides its health check and the connections it keeps open between requests; 64 leaves
/// that room several times over (raise it with an `instanceConcurrency` above about 50; FC
/// allows 200), and bounds what clients that hold connections open can take from a 128 MB
/// instance.
pub(crate) const MAX_CONNECTIONS: usize = 64;

/// How long a connection beyond the limit may take to send its request head and body before
/// it is answered (`503`, or `200` for `/healthz`) and closed: such connections are only
/// answered, so they must turn over quickly.
pub(crate) const BUSY_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Most body bytes read (and dropped) from a request refused as busy before answering it, so
/// that the answer is not lost to a reset; FC's limit for asynchronous events.
const BUSY_DRAIN_BYTES: usize = 128 * 1024;

/// `Retry-After` of a busy answer, in seconds.
const BUSY_RETRY_AFTER_S: u32 = 1;

/// Largest accepted value of the `APIGW_*_MS` settings below (a day): larger ones are typos.
const MAX_SETTING_MS: u64 = 86_400_000;
/// Largest accepted `APIGW_MAX_CONNECTIONS`: below a common file descriptor limit (65536).
const MAX_SETTING_CONNECTIONS: u64 = 60_000;

/// How the server treats its clients: `APIGW_*` variables, defaults in the constants above.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// `APIGW_REQUEST_READ_TIMEOUT_MS`, default [`REQUEST_READ_TIMEOUT`].
    pub request_read_timeout: Duration,
    /// `APIGW_BODY_READ_TIMEOUT_MS`, default [`BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// `APIGW_MAX_CONNECTIONS`, default [`MAX_CONNECTIONS`]. Beyond it, as many connections
    /// again are answered `503` (`/healthz` `200`) and closed; any more are closed at once.
    pub max_connections: usize,
    /// `APIGW_SHUTDOWN_GRACE_MS`, default [`SHUTDOWN_GRACE`].
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_read_timeout: REQUEST_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}

impl Limits {
    /// Reads the settings through `get`; a bad value keeps the default and is returned as a
    /// problem (the caller adds it to the settings' problems: every invocation then answers
    /// `config.invalid` naming it).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let mut millis = |name: &str, default: Duration| -> Duration {
            let Some(value) = get(name).filter(|v| !v.trim().is_empty()) else {
                return default;
            };
            match value.trim().parse::<u64>() {
                Ok(v) if (1..=MAX_SETTING_MS).contains(&v) => Duration::from_millis(v),
                _ => {
                    problems.push(format!(
                        "{name} must be a number of milliseconds from 1 to {MAX_SETTING_MS}"
                    ));
                    default
                }
            }
        };
        let request_read_timeout = millis("APIGW_REQUEST_READ_TIMEOUT_MS", REQUEST_READ_TIMEOUT);
        let body_read_timeout = millis("APIGW_BODY_READ_TIMEOUT_MS", BODY_READ_TIMEOUT);
        let shutdown_grace = millis("APIGW_SHUTDOWN_GRACE_MS", SHUTDOWN_GRACE);
        let max_connections = match get("APIGW_MAX_CONNECTIONS")
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().parse::<u64>())
        {
            None => MAX_CONNECTIONS,
            Some(Ok(n)) if (1..=MAX_SETTING_CONNECTIONS).contains(&n) => n as usize,
            Some(_) => {
                problems.push(format!(
                    "APIGW_MAX_CONNECTIONS must be a whole number from 1 to {MAX_SETTING_CONNECTIONS}"
                ));
                MAX_CONNECTIONS
            }
        };
        let limits = Self {
            request_read_timeout,
            body_read_timeout,
            max_connections,
            shutdown_grace,
        };
        (limits, problems)
    }

    /// The limits of a connection beyond `max_connections`: it is only answered.
    fn busy(&self) -> Self {
        Self {
            request_read_timeout: self.request_read_timeout.min(BUSY_READ_TIMEOUT),
            body_read_timeout: self.body_read_timeout.min(BUSY_READ_TIMEOUT),
            ..self.clone()
        }
    }
}

/// Pause after a failed `accept` (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The address FC expects: `0.0.0.0:$FC_CUSTOM_LISTEN_PORT`, else `$FC_SERVER_PORT`, else
/// 9000. Returns a note for each variable that was set but is not a port.
pub(crate) fn listen_addr(get: impl Fn(&str) -> Option<String>) -> (SocketAddr, Vec<String>) {
    let mut notes = Vec::new();
    for name in ["FC_CUSTOM_LISTEN_PORT", "FC_SERVER_PORT"] {
        let Some(value) = get(name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        match value.trim().parse::<u16>() {
            Ok(port) => return (SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), notes),
            Err(_) => notes.push(format!("{name}={value:?} is not a port; ignored")),
        }
    }
    (
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, DEFAULT_PORT)),
        notes,
    )
}

/// Accepts connections until `shutdown` completes, then lets in-flight requests finish (for
/// `limits.shutdown_grace` at most). Requests still running then are told to stop through
/// `stopping` (their probes end as `budget.exceeded`), and get [`STOPPED_WRITE_TIME`] to write
/// their reports before this returns.
///
/// At most `limits.max_connections` connections are served; `accept` never waits for one to
/// end: a connection beyond the limit is answered at once by `busy` (`503`, `/healthz`
/// `200` so that FC's health check does not take a busy instance for a dead one), as many again
/// at most; any more are closed unanswered.
pub(crate) async fn run<H: Handler + ?Sized>(
    listener: TcpListener,
    handler: Arc<H>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    stopping: watch::Sender<bool>,
) {
    let busy_limits = Arc::new(limits.busy());
    let limits = Arc::new(limits);
    let serving = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(limits.max_connections));
    let max = limits.max_connections;
    let busy_handler = Arc::new(move |req| busy(req, max));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    if let Ok(permit) = serving.clone().try_acquire_owned() {
                        connections.spawn(connection(
                            stream,
                            handler.clone(),
                            limits.clone(),
                            stop_rx.clone(),
                            permit,
                            false,
                        ));
                    } else if let Ok(permit) = refusing.clone().try_acquire_owned() {
                        connections.spawn(connection(
                            stream,
                            busy_handler.clone(),
                            busy_limits.clone(),
                            stop_rx.clone(),
                            permit,
                            true,
                        ));
                    } else {
                        tracing::warn!(
                            max_connections = max,
                            "connection limit reached twice over; closing a connection unanswered"
                        );
                        drop(stream);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            // Reap finished connections so the set does not grow with every one ever served.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    if drain(&mut connections, limits.shutdown_grace).await {
        return;
    }
    tracing::warn!(
        open = connections.len(),
        grace_ms = limits.shutdown_grace.as_millis() as u64,
        "requests still running after the shutdown grace period; stopping their probes"
    );
    let _ = stopping.send(true);
    if !drain(&mut connections, STOPPED_WRITE_TIME).await {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the probes stopped; closing them"
        );
    }
}

/// Waits up to `within` for every connection to end; true when they did.
async fn drain(connections: &mut JoinSet<()>, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_ok()
}

/// Serves one connection until the peer closes it, a reply asks to close it, or the server
/// stops. It holds `permit` (its place under `APIGW_MAX_CONNECTIONS`) until then. A `busy`
/// connection (beyond the limit) serves one request and is not kept alive.
async fn connection<H: Handler + ?Sized>(
    stream: TcpStream,
    handler: Arc<H>,
    limits: Arc<Limits>,
    mut stop: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
    busy: bool,
) {
    let _permit = permit;
    // Replies are small and written at once: do not let Nagle hold the last segment back.
    let _ = stream.set_nodelay(true);
    let clock = ReadClock::new();
    let socket = GuardedSocket::new(stream, clock.clone(), limits.request_read_timeout);
    let svc = {
        let clock = clock.clone();
        let limits = limits.clone();
        service_fn(move |req| {
            let handler = handler.clone();
            let clock = clock.clone();
            let (started, in_request) = clock.begin();
            let read = ReadLimits {
                deadline: started
                    .checked_add(limits.request_read_timeout)
                    .unwrap_or_else(Instant::now),
                request_timeout: limits.request_read_timeout,
                body_timeout: limits.body_read_timeout,
            };
            async move {
                let response = service::call(handler, req, read).await;
                if response.extensions().get::<CloseConnection>().is_some() {
                    clock.request_close();
                }
                drop(in_request);
                Ok::<_, Infallible>(response)
            }
        })
    };
    // Also the idle time of a kept-alive connection: never shorter than a request may take.
    let head_timeout = if busy {
        limits.request_read_timeout
    } else {
        HEADER_READ_TIMEOUT.max(limits.request_read_timeout)
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(!busy)
        .header_read_timeout(head_timeout)
        // FC owns the `date` header.
        .auto_date_header(false);
    let conn = builder.serve_connection(TokioIo::new(socket), svc);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                // Peers that hang up or time out are routine; not worth more than debug.
                tracing::debug!(error = %e, "connection ended with an error");
            }
            return;
        }
        Ok(_) = stop.wait_for(|stopped| *stopped) => {}
        () = clock.close_requested() => {}
    }
    // Finish the request in flight, if any, then close.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// The answer on a connection beyond `APIGW_MAX_CONNECTIONS`: `200` for `/healthz`, else
/// `503` `runtime.busy` with `Retry-After` (404 + `x-fc-status` on `/invoke`, FC's contract).
async fn busy(mut req: FcRequest, max_connections: usize) -> Reply {
    if req.route == Route::Healthz {
        return handler::healthy();
    }
    body::discard(&mut req.body, BUSY_DRAIN_BYTES, &req.read).await;
    tracing::warn!(
        max_connections,
        route = req.route.name(),
        "connection limit reached; answered 503"
    );
    let mut reply = Reply::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "runtime.busy",
        &format!(
            "the function already serves {max_connections} connections (APIGW_MAX_CONNECTIONS)"
        ),
        "Retry in a moment. If FC sends this instance more requests at once than that \
         (instanceConcurrency), raise APIGW_MAX_CONNECTIONS with it.",
        &req.request_id,
        Outcome::Busy,
    );
    reply.retry_after = Some(BUSY_RETRY_AFTER_S);
    if req.route.is_event_invocation() {
        reply.into_event_invocation()
    } else {
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn addr(vars: &[(&str, &str)]) -> (SocketAddr, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        listen_addr(|k| map.get(k).cloned())
    }

    #[test]
    fn port_comes_from_fc_variables() {
        assert_eq!(addr(&[]).0, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(
            addr(&[("FC_SERVER_PORT", "8000")]).0,
            "0.0.0.0:8000".parse().unwrap()
        );
        assert_eq!(
            addr(&[
                ("FC_CUSTOM_LISTEN_PORT", "9001"),
                ("FC_SERVER_PORT", "8000")
            ])
            .0,
            "0.0.0.0:9001".parse().unwrap()
        );
        let (a, notes) = addr(&[
            ("FC_CUSTOM_LISTEN_PORT", "http"),
            ("FC_SERVER_PORT", "8000"),
        ]);
        assert_eq!(a, "0.0.0.0:8000".parse().unwrap());
        assert_eq!(notes.len(), 1);
    }

    fn limits(vars: &[(&str, &str)]) -> (Limits, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Limits::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn limits_have_documented_defaults_and_refuse_bad_values() {
        let (l, problems) = limits(&[]);
        assert_eq!(l, Limits::default());
        assert_eq!(l.request_read_timeout, Duration::from_secs(30));
        assert_eq!(l.body_read_timeout, Duration::from_secs(10));
        assert_eq!(l.shutdown_grace, Duration::from_secs(10));
        assert!(problems.is_empty());
        let (l, problems) = limits(&[
            ("APIGW_REQUEST_READ_TIMEOUT_MS", " 1500 "),
            ("APIGW_BODY_READ_TIMEOUT_MS", "0"),
        ]);
        assert_eq!(l.request_read_timeout, Duration::from_millis(1500));
        assert_eq!(l.body_read_timeout, BODY_READ_TIMEOUT);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("APIGW_BODY_READ_TIMEOUT_MS"));
        let (_, problems) = limits(&[("APIGW_REQUEST_READ_TIMEOUT_MS", "99999999999")]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(l.max_connections, 64);
        let (l, problems) = limits(&[("APIGW_MAX_CONNECTIONS", "4")]);
        assert_eq!((l.max_connections, problems.len()), (4, 0));
        let (l, problems) = limits(&[("APIGW_MAX_CONNECTIONS", "-1")]);
        assert_eq!(l.max_connections, MAX_CONNECTIONS);
        assert!(
            problems[0].contains("APIGW_MAX_CONNECTIONS"),
            "{problems:?}"
        );
    }
}

#[cfg(test)]
mod serving_tests {
    use super::*;
    use crate::runtime::handler::FcRequest;
    use crate::runtime::reply::{Outcome, Reply};
    use crate::runtime::routes::Route;
    use hyper::StatusCode;

    /// A handler that panics on `/invoke` and answers everything else.
    async fn panicky(req: FcRequest) -> Reply {
        if req.route == Route::Invoke {
            panic!("boom for {}", req.request_id);
        }
        Reply::json(
            StatusCode::OK,
            &serde_json::json!({"route": req.route.name()}),
            Outcome::Ok,
        )
    }

    // One thread, as `main` runs the server: the panic is caught on the thread that also
    // serves the client's next request.
    #[tokio::test(flavor = "current_thread")]
    async fn a_panicking_handler_does_not_stop_the_server() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (stopping, _) = watch::channel(false);
        let server = tokio::spawn(run(
            listener,
            Arc::new(panicky),
            Limits::default(),
            async {
                let _ = stopped.await;
            },
            stopping,
        ));
        let client = reqwest::Client::builder().no_proxy().build().unwrap();

        for _ in 0..3 {
            let resp = client
                .post(format!("http://{addr}/invoke"))
                .header("x-fc-request-id", "req-panic")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 404);
            assert_eq!(resp.headers()["x-fc-status"], "404");
            let body: serde_json::Value =
                serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
            assert_eq!(body["errorType"], "runtime.panic");
            assert_eq!(body["requestId"], "req-panic");
            // No panic message in the answer: it goes to the log only.
            assert!(!body.to_string().contains("boom"));

            let resp = client
                .get(format!("http://{addr}/healthz"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
        }
        let _ = stop.send(());
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("stops")
            .unwrap();
    }
}
