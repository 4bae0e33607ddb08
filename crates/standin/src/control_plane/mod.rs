//! A stand-in of Alibaba Cloud's control plane (OpenAPI) for the configuration cross-check:
//! one HTTP(S) server for every product, answering from the stand-in's [`World`].
//!
//! - RPC products (CloudAPI 2016-07-14, VPC 2016-04-28, CBN 2017-09-12, CMS 2019-01-01) on
//!   `/`, dispatched on `x-acs-action` + `x-acs-version` (V2 requests: `Action` + `Version` in
//!   the query); parameters from the query and from a form body. FC 3.0's ROA `GetFunction` on
//!   `GET /2023-03-30/functions/{name}?qualifier=…`.
//! - Every request is verified by the stand-in's own signature check ([`verify`]) against the
//!   world's AccessKeys, with an injectable [`Clock`] and nonce replay refusal; RAM denials are
//!   the world's; errors come in the documented envelopes ([`errors`]); [`faults`] are
//!   injected per action.
//! - `/_standin/…` is the admin endpoint (loopback peers, or the admin token): read, replace or
//!   patch the world, inject faults, move the clock, read the request log and the metrics
//!   received. `crates/standin/CONTROL-PLANE.md` documents it.

pub mod actions;
pub mod errors;
pub mod faults;
pub mod seed;
pub mod verify;
pub mod world;

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use crate::http::{accept_loop, AbortOnDrop, Reply};
use actions::{Ctx, Params, Product};
use errors::ApiError;
pub use faults::{Fault, Outcome};
use verify::{KeyInfo, Nonces};
pub use world::{World, WorldError, WorldHandle};

/// Largest request body the control plane reads.
const MAX_BODY: usize = 1024 * 1024;

/// The header that authorizes admin requests from a non-loopback peer.
pub const ADMIN_TOKEN_HEADER: &str = "x-standin-admin-token";

/// The server's clock: the system clock, shifted or frozen by tests (the timestamp window and
/// STS expiry are checked against it).
#[derive(Clone, Debug, Default)]
pub struct Clock(Arc<Mutex<ClockState>>);

#[derive(Debug, Default)]
struct ClockState {
    offset_ms: i64,
    frozen: Option<SystemTime>,
}

impl Clock {
    /// Now, as the control plane sees it.
    pub fn now(&self) -> SystemTime {
        let Ok(s) = self.0.lock() else {
            return SystemTime::now();
        };
        if let Some(t) = s.frozen {
            return t;
        }
        let base = SystemTime::now();
        let d = Duration::from_millis(s.offset_ms.unsigned_abs());
        if s.offset_ms >= 0 {
            base + d
        } else {
            base.checked_sub(d).unwrap_or(base)
        }
    }

    /// Moves the clock by `seconds` (negative: back), on top of earlier shifts.
    pub fn shift(&self, seconds: i64) {
        if let Ok(mut s) = self.0.lock() {
            s.offset_ms = s.offset_ms.saturating_add(seconds.saturating_mul(1000));
        }
    }

    /// Stops the clock at `at`.
    pub fn freeze(&self, at: SystemTime) {
        if let Ok(mut s) = self.0.lock() {
            s.frozen = Some(at);
        }
    }

    /// Back to the system clock.
    pub fn reset(&self) {
        if let Ok(mut s) = self.0.lock() {
            *s = ClockState::default();
        }
    }
}

/// One request the control plane answered (the admin endpoint's `requests`; secrets and
/// signatures are not kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    pub action: String,
    pub version: String,
    /// The AccessKeyId the request claimed ("" when it had none).
    pub access_key_id: String,
    pub status: u16,
    /// The error code, when it was refused.
    pub code: Option<String>,
    /// Its parameters (query and form body; for ROA the path's resource too), without
    /// `Signature`, `SecurityToken` and `AccessKeyId`.
    pub params: BTreeMap<String, String>,
}

/// How the control plane is started.
#[derive(Clone, Default)]
pub struct Options {
    /// Serve HTTPS with this configuration.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Admin requests from non-loopback peers must carry it in `x-standin-admin-token`
    /// (without one they are refused).
    pub admin_token: Option<String>,
}

struct State {
    world: WorldHandle,
    nonces: Nonces,
    clock: Clock,
    faults: faults::Faults,
    log: Mutex<Vec<Served>>,
    metrics: Mutex<Vec<Value>>,
    admin_token: Option<String>,
}

/// A running control plane; stops when dropped.
pub struct ControlPlane {
    addr: SocketAddr,
    https: bool,
    state: Arc<State>,
    _task: AbortOnDrop,
}

impl ControlPlane {
    /// Serves plain HTTP on `listen`, answering from `world`.
    pub async fn start(listen: SocketAddr, world: WorldHandle) -> io::Result<Self> {
        Self::start_with(listen, world, Options::default()).await
    }

    /// Serves HTTPS on `listen` with `tls`.
    pub async fn start_tls(
        listen: SocketAddr,
        world: WorldHandle,
        tls: Arc<rustls::ServerConfig>,
    ) -> io::Result<Self> {
        Self::start_with(
            listen,
            world,
            Options {
                tls: Some(tls),
                ..Options::default()
            },
        )
        .await
    }

    pub async fn start_with(
        listen: SocketAddr,
        world: WorldHandle,
        options: Options,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            world,
            nonces: Nonces::default(),
            clock: Clock::default(),
            faults: faults::Faults::default(),
            log: Mutex::new(Vec::new()),
            metrics: Mutex::new(Vec::new()),
            admin_token: options.admin_token,
        });
        let https = options.tls.is_some();
        let acceptor = options.tls.map(tokio_rustls::TlsAcceptor::from);
        let conn_state = state.clone();
        let task = accept_loop(listener, move |stream, peer| {
            let state = conn_state.clone();
            let acceptor = acceptor.clone();
            async move {
                match acceptor {
                    Some(a) => {
                        if let Ok(s) = a.accept(stream).await {
                            serve(s, peer, state).await;
                        }
                    }
                    None => serve(stream, peer, state).await,
                }
            }
        });
        Ok(Self {
            addr,
            https,
            state,
            _task: task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` or `https://ADDR`: the endpoint to give a client.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The world it answers from (shared with the DNS zone and the gateway it was wired to).
    pub fn world(&self) -> &WorldHandle {
        &self.state.world
    }

    /// The clock the signature window and STS expiry are checked against.
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// Injects `fault` for `action` (`*`: every action), replacing an earlier one.
    pub fn inject(&self, action: &str, fault: Fault) {
        self.state.faults.set(action, fault);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear(None);
    }

    /// The requests answered so far.
    pub fn requests(&self) -> Vec<Served> {
        self.state.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        if let Ok(mut l) = self.state.log.lock() {
            l.clear();
        }
    }

    /// The `PutCustomMetric` entries accepted so far.
    pub fn metrics(&self) -> Vec<Value> {
        self.state
            .metrics
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

/// Closing a connection without an answer (the `close` fault).
#[derive(Debug)]
struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by an injected fault")
    }
}

impl std::error::Error for Abort {}

async fn serve<IO>(io: IO, peer: SocketAddr, state: Arc<State>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let state = state.clone();
        async move { handle(&state, req, peer).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await;
}

fn reply(status: u16, body: &Value, headers: &[(&str, String)]) -> Reply {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    }
    resp
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> &'h str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The region an endpoint's host names: `apigateway-vpc.cn-shanghai.aliyuncs.com`,
/// `vpc.cn-shanghai.aliyuncs.com`, `fcv3.cn-shanghai.aliyuncs.com`,
/// `<account>.cn-shanghai[-internal].fc.aliyuncs.com`; none for an address or a central
/// endpoint (`cbn.aliyuncs.com`, `cen.vpc-proxy.aliyuncs.com`).
pub fn region_of_host(host: &str) -> Option<String> {
    let labels: Vec<&str> = host.strip_suffix(".aliyuncs.com")?.split('.').collect();
    let region = match labels.as_slice() {
        [_, region, "fc"] => region.trim_end_matches("-internal"),
        [_, region] => region,
        _ => return None,
    };
    let looks_like_region = region.contains('-')
        && region != "vpc-proxy"
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    looks_like_region.then(|| region.to_owned())
}

/// How an answer is wrapped.
#[derive(Clone, Copy)]
enum Style {
    Rpc(Option<Product>),
    Fc,
}

fn request_id(style: Style) -> String {
    let u = uuid::Uuid::new_v4().simple().to_string();
    match style {
        // FC's form: `1-64e70cf1-5cbef92ea8fc8c42899cf5d1`.
        Style::Fc => format!("1-{}-{}", &u[..8], &u[8..32]),
        Style::Rpc(_) => uuid::Uuid::new_v4().to_string().to_ascii_uppercase(),
    }
}

struct Answering<'a> {
    state: &'a State,
    style: Style,
    request_id: String,
    host_id: String,
    served: Served,
}

impl Answering<'_> {
    fn error(mut self, e: &ApiError) -> Reply {
        self.served.status = e.status;
        self.served.code = Some(e.code.clone());
        self.log();
        let mut headers = Vec::new();
        if let Some(ms) = e.retry_after_ms {
            headers.push(("x-acs-retry-after", ms.to_string()));
        }
        let body = match self.style {
            Style::Fc => {
                headers.push(("x-fc-request-id", self.request_id.clone()));
                headers.push(("x-acs-request-id", self.request_id.clone()));
                e.fc_body(&self.request_id)
            }
            Style::Rpc(p) => {
                e.rpc_body(&self.request_id, &self.host_id, p.map_or("", Product::name))
            }
        };
        reply(e.status, &body, &headers)
    }

    fn ok(mut self, body: &Value) -> Reply {
        self.served.status = 200;
        self.log();
        let mut headers = Vec::new();
        if matches!(self.style, Style::Fc) {
            headers.push(("x-fc-request-id", self.request_id.clone()));
            headers.push(("x-acs-request-id", self.request_id.clone()));
        }
        reply(200, body, &headers)
    }

    fn log(&self) {
        if let Ok(mut l) = self.state.log.lock() {
            l.push(self.served.clone());
        }
    }
}

/// The world's AccessKey as the verifier needs it.
fn key_info(world: &World, id: &str) -> Option<KeyInfo> {
    let k = world.access_keys.get(id)?;
    Some(KeyInfo {
        secret: k.secret.clone(),
        security_token: k.security_token.clone(),
        // A date the world's validation let through always parses; an unparsable one would
        // count as already expired rather than as valid forever.
        expiration: k
            .expiration
            .as_deref()
            .map(|e| verify::parse_date(e).unwrap_or(SystemTime::UNIX_EPOCH)),
        disabled: k.disabled,
    })
}

fn logged_params(params: &[(String, String)]) -> BTreeMap<String, String> {
    params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "Signature" | "SecurityToken" | "AccessKeyId"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `/2023-03-30/functions/{name}`: the function's name.
fn fc_function(path: &str) -> Option<String> {
    let name = path.strip_prefix("/2023-03-30/functions/")?;
    (!name.is_empty() && !name.contains('/')).then(|| verify::decode_component(name))
}

async fn handle(state: &State, req: Request<Incoming>, peer: SocketAddr) -> Result<Reply, Abort> {
    if req.uri().path().starts_with("/_standin/") {
        return Ok(admin(state, req, peer).await);
    }
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let host = header(&parts.headers, "host").to_owned();
    let host_name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host.as_str(), |(name, _)| name)
        .to_owned();
    let fc_name = fc_function(&path);
    let style = if path.starts_with("/2023-03-30/") {
        Style::Fc
    } else {
        Style::Rpc(None)
    };
    let mut answering = Answering {
        state,
        style,
        request_id: request_id(style),
        host_id: host_name.clone(),
        served: Served {
            action: String::new(),
            version: String::new(),
            access_key_id: String::new(),
            status: 0,
            code: None,
            params: BTreeMap::new(),
        },
    };
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(answering.error(&ApiError::invalid(
                "body",
                "unreadable or larger than 1 MiB",
            )))
        }
    };

    let mut params = verify::parse_params(&query);
    let form = header(&parts.headers, "content-type")
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded");
    if form && style_is_rpc(style) {
        params.extend(verify::parse_params(&String::from_utf8_lossy(&body)));
    }
    let v2 = style_is_rpc(style) && verify::is_v2(&params, &parts.headers);

    // Which action: RPC by x-acs-action/x-acs-version (V2: Action/Version), ROA by path.
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (product, action, version) = match (&fc_name, style) {
        (Some(_), Style::Fc) if parts.method == hyper::Method::GET => (
            Some(Product::Fc),
            "GetFunction".to_owned(),
            Product::Fc.version().to_owned(),
        ),
        (_, Style::Fc) => (None, String::new(), String::new()),
        (_, Style::Rpc(_)) if path == "/" => {
            let (action, version) = if v2 {
                (
                    get("Action").unwrap_or_default(),
                    get("Version").unwrap_or_default(),
                )
            } else {
                (
                    header(&parts.headers, "x-acs-action").to_owned(),
                    header(&parts.headers, "x-acs-version").to_owned(),
                )
            };
            let product = Product::from_version(&version)
                .filter(|p| *p != Product::Fc && p.actions().contains(&action.as_str()));
            (product, action, version)
        }
        _ => (None, String::new(), String::new()),
    };
    answering.served.action.clone_from(&action);
    answering.served.version.clone_from(&version);
    answering.served.params = logged_params(&params);
    if let Some(name) = &fc_name {
        answering
            .served
            .params
            .insert("functionName".into(), name.clone());
    }
    let Some(product) = product else {
        return Ok(answering.error(&ApiError::known("InvalidAction.NotFound")));
    };
    if let Style::Rpc(_) = style {
        answering.style = Style::Rpc(Some(product));
    }

    let world = state.world.snapshot();
    let now = state.clock.now();
    let lookup = |id: &str| key_info(&world, id);
    let verified = if v2 {
        answering.served.access_key_id = get("AccessKeyId").unwrap_or_default();
        verify::verify_v2(parts.method.as_str(), &params, now, lookup, &state.nonces)
    } else {
        if let Some(a) = verify::parse_authorization(header(&parts.headers, "authorization")) {
            answering.served.access_key_id = a.access_key_id;
        }
        let incoming = verify::Incoming {
            method: parts.method.as_str(),
            path: &path,
            query: &query,
            headers: &parts.headers,
            body: &body,
        };
        verify::verify_v3(&incoming, now, lookup, &state.nonces)
    };
    let verified = match verified {
        Ok(v) => v,
        Err(e) => return Ok(answering.error(&e)),
    };

    if let Some(fault) = state.faults.take(&action) {
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        match fault.outcome {
            Outcome::Answer => {}
            Outcome::Error(e) => return Ok(answering.error(&e)),
            Outcome::Hang => std::future::pending::<()>().await,
            Outcome::Close => return Err(Abort),
        }
    }

    if world.denied(&verified.access_key_id, product.ram_code(), &action) {
        return Ok(answering.error(&denial(&world, &verified.access_key_id, product, &action)));
    }

    let region = get("RegionId")
        .filter(|r| !r.is_empty() && product != Product::Cbn)
        .or_else(|| region_of_host(&host_name).filter(|_| product != Product::Cbn));
    let ctx = Ctx {
        world: &world,
        request_id: &answering.request_id,
        region,
    };
    let p = Params(params.clone());
    let result = match &fc_name {
        Some(name) if product == Product::Fc => actions::get_function(name, &p, &ctx),
        _ => actions::answer(product, &action, &p, &ctx),
    };
    match result {
        Ok(body) => {
            if product == Product::Cms {
                if let (Ok(entries), Ok(mut m)) = (actions::metric_list(&p), state.metrics.lock()) {
                    m.extend(entries);
                }
            }
            Ok(answering.ok(&body))
        }
        Err(e) => Ok(answering.error(&e)),
    }
}

fn style_is_rpc(style: Style) -> bool {
    matches!(style, Style::Rpc(_))
}

/// A RAM denial: `Forbidden.RAM` with `AccessDeniedDetail` (RPC products), FC's 403
/// `AccessDenied` naming the action.
fn denial(world: &World, access_key_id: &str, product: Product, action: &str) -> ApiError {
    let ram_action = format!("{}:{action}", product.ram_code());
    if product == Product::Fc {
        return ApiError::new(
            403,
            "AccessDenied",
            format!("The current user does not have the permission to perform {ram_action}."),
        );
    }
    let key = world.access_keys.get(access_key_id);
    let sts = access_key_id.starts_with("STS.") || key.is_some_and(|k| k.security_token.is_some());
    let mut e = ApiError::known("Forbidden.RAM");
    e.access_denied = Some(Box::new(json!({
        "PolicyType": "AccountLevelIdentityBasedPolicy",
        "AuthPrincipalOwnerId": world.account_id.to_string(),
        "AuthPrincipalType": if sts { "AssumedRoleUser" } else { "SubUser" },
        "AuthPrincipalDisplayName": key.map(|k| k.principal.clone()).unwrap_or_default(),
        "NoPermissionType": "ImplicitDeny",
        "AuthAction": ram_action,
        "EncodedDiagnosticMessage": "",
    })));
    e
}

fn admin_json(status: u16, body: &Value) -> Reply {
    reply(status, body, &[])
}

fn admin_error(status: u16, msg: &str) -> Reply {
    admin_json(status, &json!({"error": msg}))
}

/// Admin requests come from loopback, or carry the configured token.
fn admin_allowed(peer: IpAddr, token: Option<&str>, sent: &str) -> bool {
    peer.is_loopback() || token.is_some_and(|t| !t.is_empty() && sent == t)
}

async fn admin(state: &State, req: Request<Incoming>, peer: SocketAddr) -> Reply {
    let sent = header(req.headers(), ADMIN_TOKEN_HEADER);
    if !admin_allowed(peer.ip(), state.admin_token.as_deref(), sent) {
        return admin_error(
            403,
            "the admin endpoint answers loopback peers, or requests with the admin token",
        );
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return admin_error(400, "the body is unreadable or larger than 1 MiB"),
    };
    let json_body =
        || serde_json::from_slice::<Value>(&body).map_err(|e| format!("the body is not JSON: {e}"));
    use hyper::Method as M;
    match (method, path.as_str()) {
        (M::GET, "/_standin/world") => admin_json(200, &state.world.snapshot().to_json()),
        (M::PUT, "/_standin/world") => {
            let v = match json_body() {
                Ok(v) => v,
                Err(e) => return admin_error(400, &e),
            };
            match World::from_json(v).and_then(|w| state.world.replace(w)) {
                Ok(()) => admin_json(200, &state.world.snapshot().to_json()),
                Err(e) => admin_error(400, &e.0),
            }
        }
        (M::POST | M::PATCH, "/_standin/world") => {
            let v = match json_body() {
                Ok(v) => v,
                Err(e) => return admin_error(400, &e),
            };
            match state.world.patch(&v) {
                Ok(w) => admin_json(200, &w.to_json()),
                Err(e) => admin_error(400, &e.0),
            }
        }
        (M::POST, "/_standin/faults") => {
            let v = match json_body() {
                Ok(v) => v,
                Err(e) => return admin_error(400, &e),
            };
            let Some(action) = v.get("action").and_then(Value::as_str) else {
                return admin_error(400, "a fault needs \"action\" (an action name, or \"*\")");
            };
            match Fault::from_json(&v) {
                Ok(f) => {
                    state.faults.set(action, f);
                    admin_json(200, &json!({"action": action}))
                }
                Err(e) => admin_error(400, &e),
            }
        }
        (M::DELETE, "/_standin/faults") => {
            let action = verify::parse_params(&query)
                .into_iter()
                .find(|(k, _)| k == "action")
                .map(|(_, v)| v);
            state.faults.clear(action.as_deref());
            admin_json(200, &json!({}))
        }
        (M::GET, "/_standin/requests") => admin_json(
            200,
            &serde_json::to_value(state.log.lock().map(|l| l.clone()).unwrap_or_default())
                .unwrap_or(Value::Null),
        ),
        (M::DELETE, "/_standin/requests") => {
            if let Ok(mut l) = state.log.lock() {
                l.clear();
            }
            admin_json(200, &json!([]))
        }
        (M::GET, "/_standin/metrics") => admin_json(
            200,
            &Value::Array(state.metrics.lock().map(|m| m.clone()).unwrap_or_default()),
        ),
        (M::GET, "/_standin/clock") => {
            admin_json(200, &json!({"now": verify::format_date(state.clock.now())}))
        }
        (M::POST, "/_standin/clock") => {
            let v = match json_body() {
                Ok(v) => v,
                Err(e) => return admin_error(400, &e),
            };
            if v.get("reset").and_then(Value::as_bool) == Some(true) {
                state.clock.reset();
            }
            if let Some(s) = v.get("shiftSeconds").and_then(Value::as_i64) {
                state.clock.shift(s);
            }
            if let Some(now) = v.get("now").and_then(Value::as_str) {
                match verify::parse_date(now) {
                    Some(t) => state.clock.freeze(t),
                    None => return admin_error(400, "now must be yyyy-MM-ddTHH:mm:ssZ"),
                }
            }
            admin_json(200, &json!({"now": verify::format_date(state.clock.now())}))
        }
        _ => admin_error(
            404,
            "unknown admin request; see crates/standin/CONTROL-PLANE.md",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_endpoint_hosts() {
        assert_eq!(
            region_of_host("apigateway-vpc.cn-hangzhou.aliyuncs.com").as_deref(),
            Some("cn-hangzhou")
        );
        assert_eq!(
            region_of_host("vpc.cn-shanghai.aliyuncs.com").as_deref(),
            Some("cn-shanghai")
        );
        assert_eq!(
            region_of_host("123.cn-shanghai-internal.fc.aliyuncs.com").as_deref(),
            Some("cn-shanghai")
        );
        assert_eq!(region_of_host("cbn.aliyuncs.com"), None);
        assert_eq!(region_of_host("cen.vpc-proxy.aliyuncs.com"), None);
        assert_eq!(region_of_host("127.0.0.1"), None);
    }

    #[test]
    fn clock_shifts_and_freezes() {
        let c = Clock::default();
        let before = c.now();
        c.shift(-1200);
        assert!(c.now() < before);
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        c.freeze(t);
        assert_eq!(c.now(), t);
        c.reset();
        assert!(c.now() >= before);
    }

    #[test]
    fn admin_from_loopback_or_with_the_token() {
        let lan: IpAddr = "10.1.0.5".parse().unwrap();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(admin_allowed(lo, None, ""));
        assert!(!admin_allowed(lan, None, ""));
        assert!(!admin_allowed(lan, None, "anything"));
        assert!(!admin_allowed(lan, Some("s3cret"), "wrong"));
        assert!(admin_allowed(lan, Some("s3cret"), "s3cret"));
        assert!(!admin_allowed(lan, Some(""), ""));
    }

    #[test]
    fn function_paths() {
        assert_eq!(
            fc_function("/2023-03-30/functions/apigw-vpc-probe").as_deref(),
            Some("apigw-vpc-probe")
        );
        assert_eq!(fc_function("/2023-03-30/functions/"), None);
        assert_eq!(fc_function("/2023-03-30/functions/a/b"), None);
    }
}
