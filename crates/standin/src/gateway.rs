//! An API-Gateway-like server: the dedicated instance of the seed's setup.
//!
//! It picks the group by `Host`, the API by path, method and `X-Ca-Stage`, calls the backend on
//! a fresh connection, and answers its own errors the way API Gateway does: `X-Ca-Error-Code`
//! and `X-Ca-Error-Message` beside `X-Ca-Request-Id`, which every response carries. Backend
//! answers pass through without `X-Ca-Error-Code`.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use super::auth::{self, App, Auth, Nonces, Received};
use super::http::{accept_loop, serve_conn, AbortOnDrop, Reply};

/// Largest request body the stand-in forwards (the real limit depends on the instance).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// The stages API Gateway knows.
pub const STAGES: &[&str] = &["RELEASE", "TEST", "PRE"];

/// Which schemes an API accepts (API Gateway's per-API protocol setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocols {
    pub http: bool,
    pub https: bool,
}

impl Default for Protocols {
    fn default() -> Self {
        Self {
            http: true,
            https: true,
        }
    }
}

/// One published API.
#[derive(Clone, Debug)]
pub struct Api {
    pub method: Method,
    /// The request path; ending in `*` matches by prefix, and the rest is appended to
    /// `backend_path`.
    pub path: String,
    /// Stages it is published to.
    pub stages: Vec<String>,
    pub backend: SocketAddr,
    pub backend_path: String,
    pub auth: Auth,
    pub protocols: Protocols,
    /// Calls per second the API's throttling policy allows. Default: no limit.
    pub max_per_second: Option<u32>,
    /// The API's backend timeout. Default: the gateway's.
    pub backend_timeout: Option<Duration>,
}

impl Api {
    /// An anonymous API published to `stages`, served by `backend` at the same path.
    pub fn new(method: Method, path: &str, stages: &[&str], backend: SocketAddr) -> Self {
        Self {
            method,
            path: path.to_owned(),
            stages: stages.iter().map(|s| (*s).to_owned()).collect(),
            backend,
            backend_path: path.trim_end_matches('*').to_owned(),
            auth: Auth::None,
            protocols: Protocols::default(),
            max_per_second: None,
            backend_timeout: None,
        }
    }

    /// The backend path for `path` if this API's path matches it.
    fn backend_path_for(&self, path: &str) -> Option<String> {
        match self.path.strip_suffix('*') {
            Some(prefix) => path
                .strip_prefix(prefix)
                .map(|rest| format!("{}{rest}", self.backend_path)),
            None => (self.path == path).then(|| self.backend_path.clone()),
        }
    }
}

/// An API group: its domains (Host names) and APIs.
#[derive(Clone, Debug)]
pub struct Group {
    pub id: String,
    pub domains: Vec<String>,
    pub apis: Vec<Api>,
}

/// The instance's configuration.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub groups: Vec<Group>,
    /// The apps registered on the instance (for APIs with app authentication).
    pub apps: Vec<App>,
    /// How long the backend may take to answer. Default 10 s.
    pub backend_timeout: Duration,
    /// How long connecting to the backend may take; past it the answer is `D504CO`, as when a
    /// security group drops the SYN. Default 3 s.
    pub backend_connect_timeout: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            groups: Vec::new(),
            apps: Vec::new(),
            backend_timeout: Duration::from_secs(10),
            backend_connect_timeout: Duration::from_secs(3),
        }
    }
}

impl GatewayConfig {
    /// The demo group on its VPC domain with one API: `GET /web/cloudapi` on RELEASE, served by
    /// `backend` (tests that need a gateway of their own: TLS, a dropping backend).
    pub fn demo_cloudapi(backend: SocketAddr) -> Self {
        Self {
            groups: vec![Group {
                id: super::DEMO_GROUP.into(),
                domains: vec![super::vpc_domain(super::DEMO_GROUP, super::DEMO_REGION)],
                apis: vec![Api::new(
                    Method::GET,
                    "/web/cloudapi",
                    &["RELEASE"],
                    backend,
                )],
            }],
            ..Self::default()
        }
    }
}

/// A running gateway; stops when dropped.
pub struct Gateway {
    addr: SocketAddr,
    state: Arc<State>,
    _task: AbortOnDrop,
}

impl Gateway {
    /// Serves plain HTTP on `listen`.
    pub async fn start(listen: SocketAddr, config: GatewayConfig) -> io::Result<Self> {
        Self::spawn(TcpListener::bind(listen).await?, config, None)
    }

    /// Serves plain HTTP on `listener`, bound beforehand: for a gateway whose address must be
    /// known before its configuration is (an API whose backend starts after the gateway's
    /// address was handed out).
    pub fn serve(listener: TcpListener, config: GatewayConfig) -> io::Result<Self> {
        Self::spawn(listener, config, None)
    }

    /// Serves HTTPS on `listen` with `tls`.
    pub async fn start_tls(
        listen: SocketAddr,
        config: GatewayConfig,
        tls: Arc<rustls::ServerConfig>,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        Self::spawn(listener, config, Some(tokio_rustls::TlsAcceptor::from(tls)))
    }

    fn spawn(
        listener: TcpListener,
        config: GatewayConfig,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            config: RwLock::new(Arc::new(config)),
            nonces: Nonces::default(),
            calls: Mutex::new(HashMap::new()),
            handshakes: Mutex::new(Handshakes::default()),
        });
        let https = tls.is_some();
        let handler_state = state.clone();
        let handler = Arc::new(move |req: Request<Incoming>, peer: SocketAddr| {
            let state = handler_state.clone();
            async move { handle(&state, req, peer, https).await }
        });
        let counted = state.clone();
        let task = accept_loop(listener, move |stream, peer| {
            let handler = handler.clone();
            let tls = tls.clone();
            let counted = counted.clone();
            async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let resumed = stream.get_ref().1.handshake_kind()
                                == Some(rustls::HandshakeKind::Resumed);
                            if let Ok(mut h) = counted.handshakes.lock() {
                                h.full += u32::from(!resumed);
                                h.resumed += u32::from(resumed);
                            }
                            serve_conn(stream, peer, handler).await;
                        }
                    }
                    None => serve_conn(stream, peer, handler).await,
                }
            }
        });
        Ok(Self {
            addr,
            state,
            _task: task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// TLS handshakes served so far (HTTPS only): `(full, resumed)`. A client that resumes a
    /// session skips most of the handshake it is meant to measure.
    pub fn tls_handshakes(&self) -> (u32, u32) {
        self.state
            .handshakes
            .lock()
            .map(|h| (h.full, h.resumed))
            .unwrap_or_default()
    }

    /// A function that replaces the running gateway's configuration (requests already routed
    /// finish with the old one): how the stand-in's world keeps the gateway in step.
    pub fn config_setter(&self) -> impl Fn(GatewayConfig) + Send + Sync + 'static {
        let state = self.state.clone();
        move |config| {
            if let Ok(mut c) = state.config.write() {
                *c = Arc::new(config);
            }
        }
    }
}

/// What a running gateway keeps between requests.
struct State {
    config: RwLock<Arc<GatewayConfig>>,
    nonces: Nonces,
    /// Calls per API (by path) in the current second, for throttling.
    calls: Mutex<HashMap<String, (u64, u32)>>,
    /// TLS handshakes served, full and resumed.
    handshakes: Mutex<Handshakes>,
}

#[derive(Debug, Default)]
struct Handshakes {
    full: u32,
    resumed: u32,
}

impl State {
    /// The configuration now.
    fn config(&self) -> Arc<GatewayConfig> {
        self.config
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Counts a call to `api`; false when its throttling policy refuses it.
    fn admit(&self, api: &Api, now_ms: u64) -> bool {
        let Some(limit) = api.max_per_second else {
            return true;
        };
        let Ok(mut calls) = self.calls.lock() else {
            return false;
        };
        let second = now_ms / 1000;
        let entry = calls
            .entry(format!("{} {}", api.method, api.path))
            .or_insert((second, 0));
        if entry.0 != second {
            *entry = (second, 0);
        }
        entry.1 += 1;
        entry.1 <= limit
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// API Gateway's own rejection: status, `X-Ca-Error-Code`, `X-Ca-Error-Message`.
struct Rejection {
    status: u16,
    code: &'static str,
    message: String,
}

impl Rejection {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

/// One request through the gateway: route, authenticate, throttle, then call the backend.
async fn handle(state: &State, req: Request<Incoming>, peer: SocketAddr, https: bool) -> Reply {
    let request_id = uuid::Uuid::new_v4().to_string().to_ascii_uppercase();
    let mut reply = match route_and_call(state, req, peer, https).await {
        Ok(reply) => reply,
        Err(r) => {
            let mut reply = Response::new(Full::new(Bytes::new()));
            *reply.status_mut() =
                hyper::StatusCode::from_u16(r.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
            let h = reply.headers_mut();
            h.insert("x-ca-error-code", HeaderValue::from_static(r.code));
            if let Ok(v) = HeaderValue::from_str(&r.message) {
                h.insert("x-ca-error-message", v);
            }
            reply
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        reply.headers_mut().insert("x-ca-request-id", v);
    }
    reply
}

async fn route_and_call(
    state: &State,
    req: Request<Incoming>,
    peer: SocketAddr,
    https: bool,
) -> Result<Reply, Rejection> {
    let config = state.config();
    let config = &*config;
    let (parts, body) = req.into_parts();
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
        .unwrap_or("")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let group = config
        .groups
        .iter()
        .find(|g| g.domains.iter().any(|d| d.eq_ignore_ascii_case(&host)))
        .ok_or_else(|| Rejection::new(404, "I404DO", "Invalid Domain"))?;
    let stage = match parts.headers.get("x-ca-stage") {
        None => "RELEASE".to_owned(),
        Some(v) => {
            let s = v.to_str().unwrap_or("").to_ascii_uppercase();
            if !STAGES.contains(&s.as_str()) {
                return Err(Rejection::new(400, "I400SG", "Invalid Stage"));
            }
            s
        }
    };
    let path = parts.uri.path().to_owned();
    let (api, backend_path) = group
        .apis
        .iter()
        .filter(|api| api.method == parts.method && api.stages.contains(&stage))
        .find_map(|api| api.backend_path_for(&path).map(|p| (api, p)))
        .ok_or_else(|| Rejection::new(404, "I404NF", "API not found"))?;
    let allowed = if https {
        api.protocols.https
    } else {
        api.protocols.http
    };
    if !allowed {
        let scheme = if https { "HTTPS" } else { "HTTP" };
        return Err(Rejection::new(
            403,
            "I403PT",
            format!("Invalid protocol {scheme} unsupported"),
        ));
    }
    // The body is read before authentication: form parameters and Content-MD5 are signed.
    let body = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|_| Rejection::new(413, "I413RL", "Request body too Large"))?
        .to_bytes();
    let now = now_ms();
    let received = Received {
        method: &parts.method,
        path_and_query: parts.uri.path_and_query().map_or("/", |p| p.as_str()),
        headers: &parts.headers,
        body: &body,
    };
    auth::check(&api.auth, &config.apps, &state.nonces, &received, now).map_err(|r| Rejection {
        status: r.status,
        code: r.code,
        message: r.message,
    })?;
    if !state.admit(api, now) {
        return Err(Rejection::new(
            429,
            "T429FC",
            "Throttled by API Flow Control",
        ));
    }
    call_backend(config, api, &backend_path, parts, body, peer).await
}

/// Hop-by-hop headers are not forwarded (RFC 9110 §7.6.1), nor Host (set to the backend's).
fn forwardable(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if forwardable(name) {
            to.append(name.clone(), value.clone());
        }
    }
}

async fn call_backend(
    config: &GatewayConfig,
    api: &Api,
    backend_path: &str,
    parts: hyper::http::request::Parts,
    body: Bytes,
    peer: SocketAddr,
) -> Result<Reply, Rejection> {
    let connect_failed = |what: String| {
        Rejection::new(
            504,
            "D504CO",
            format!("Backend service connect failed: {what}"),
        )
    };
    let timed_out = || Rejection::new(504, "D504TO", "Backend service request timeout");
    let uri = match parts.uri.query() {
        Some(q) => format!("{backend_path}?{q}"),
        None => backend_path.to_owned(),
    };
    let mut forward = Request::builder()
        .method(parts.method.clone())
        .uri(uri)
        .body(Full::new(body))
        .map_err(|e| Rejection::new(400, "I400RU", format!("Invalid Request Uri {e}")))?;
    copy_headers(&parts.headers, forward.headers_mut());
    let h = forward.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&api.backend.to_string()) {
        h.insert(hyper::header::HOST, v);
    }
    if let Ok(v) = HeaderValue::from_str(&peer.ip().to_string()) {
        h.insert("x-forwarded-for", v);
    }

    let exchange = async {
        let stream = tokio::time::timeout(
            config.backend_connect_timeout,
            TcpStream::connect(api.backend),
        )
        .await
        .map_err(|_| connect_failed("connection timed out".into()))?
        .map_err(|e| connect_failed(e.to_string()))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| connect_failed(e.to_string()))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let resp = sender
            .send_request(forward)
            .await
            .map_err(|e| connect_failed(e.to_string()))?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| connect_failed(format!("connection broken during the body: {e}")))?
            .to_bytes();
        driver.abort();
        Ok::<_, Rejection>((parts, body))
    };
    let timeout = api.backend_timeout.unwrap_or(config.backend_timeout);
    let (parts, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| timed_out())??;
    let mut reply = Response::new(Full::new(body));
    *reply.status_mut() = parts.status;
    copy_headers(&parts.headers, reply.headers_mut());
    Ok(reply)
}
