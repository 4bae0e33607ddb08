//! Sending signed calls: resolve the endpoint (the crate's resolver, so `APIGW_DNS_SERVERS`
//! applies), TCP and TLS through `connect.rs` (the same rustls configuration and
//! `APIGW_CA_FILE` as the probe), one HTTP/1.1 exchange with hyper, then the answer or a typed
//! [`OpenApiError`].
//!
//! **Time.** Every call takes the caller's deadline. One attempt at one endpoint is bounded by
//! `APIGW_OPENAPI_TIMEOUT_MS` (default 3000) and by the deadline, whichever comes first; when
//! the deadline is the one that passes, the error is [`ErrorKind::DeadlineExceeded`], else
//! [`ErrorKind::Unreachable`].
//!
//! **Endpoints.** The candidates of [`Endpoints::candidates`] are tried in order. The next one
//! is tried only when this one gave no OpenAPI answer: it was unreachable, or it answered
//! something with neither an error code nor a `RequestId` (e.g. an HTML 404 of a proxy), or it
//! said the product or action is not served there (`InvalidProduct.NotFound`,
//! `InvalidApi.NotFound`, `InvalidAction.NotFound`). An OpenAPI answer (a denial, a
//! not-found, a body of an unexpected shape…) is the answer.
//!
//! **Retries.** At most one per endpoint, with a fresh date and nonce (spec §1.5): after a
//! throttled answer only when it carries `x-acs-retry-after` (milliseconds, as the official
//! SDK reads it [sdk `get_throttling_time_left`]; the doc does not state the unit
//! \[unverified\]) and the wait plus [`MIN_ATTEMPT`] still fits before the deadline; after
//! `ServiceUnavailable`/`InternalError`/5xx once after [`RETRY_PAUSE`] ("retry once", §8), if
//! that fits too. Otherwise the error is returned as it is.
//!
//! **Secrets.** The `Authorization` header and the token are written to the socket and nowhere
//! else: not into errors, not into logs. Error messages are cut and masked (`error.rs`). A
//! client built inside a redaction scope (a request's, the command line's run) adds the secret
//! and the token to it, and each request's signature as it is made.

use std::any::Any;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper_util::rt::TokioIo;
use serde_json::Value;

use super::credentials::Credentials;
use super::endpoint::{Endpoint, Endpoints, Product, Scheme};
use super::error::{classify, sanitize_message, ErrorKind, OpenApiError};
use super::json::{DecodeError, FromJson};
use super::sign::{canonical_query, sha256_hex, sign, SignInput};
use crate::config::Settings;
use crate::connect::{self, Io};
use crate::error::HintContext;
use crate::resolve::Resolver;

/// Largest answer body read; a larger one is an error (the documented answers are a few KB, a
/// page of 100 deployed APIs some tens).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Shortest time worth starting a retry with.
pub const MIN_ATTEMPT: Duration = Duration::from_millis(200);

/// Pause before retrying a `ServiceUnavailable` answer.
pub const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Sent as `User-Agent` (not signed).
const USER_AGENT: &str = concat!("apigw-vpc-probe/", env!("CARGO_PKG_VERSION"));

/// Parses a successful answer's body into the caller's type. The call's machinery (endpoints,
/// retry, timeouts, signing, the error envelope) takes this as a plain `fn`, so that it is
/// compiled once instead of once per response type (it was 150 KB of the binary).
type Decode = fn(&Value) -> Result<Box<dyn Any + Send>, DecodeError>;

fn decode<T: FromJson + Send + 'static>(value: &Value) -> Result<Box<dyn Any + Send>, DecodeError> {
    T::from_json(value).map(|t| Box::new(t) as Box<dyn Any + Send>)
}

/// A successful call's value, with what identifies the answer for evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer<T> {
    /// The parsed body.
    pub value: T,
    /// The server's request id: `x-acs-request-id`, else the body's `RequestId`, else FC's
    /// `x-fc-request-id` header.
    pub request_id: Option<String>,
    /// The endpoint that answered, `https://host[:port]`.
    pub endpoint: String,
    /// The RAM action of the call, e.g. `vpc:DescribeVSwitchAttributes`.
    pub action: String,
}

/// How calls reach endpoints: TLS configuration, resolver and timeout. Cheap to clone; build
/// one per process and share it, or let [`Client::new`] build one.
#[derive(Clone)]
pub struct Transport {
    tls: Result<Arc<rustls::ClientConfig>, String>,
    resolver: Result<Arc<Resolver>, String>,
    timeout: Duration,
}

impl Transport {
    /// The crate's TLS configuration (the built-in roots and `APIGW_CA_FILE`'s, read at
    /// start-up), resolver (`APIGW_DNS_SERVERS`, `APIGW_DNS_TIMEOUT_MS`) and
    /// `APIGW_OPENAPI_TIMEOUT_MS`. A problem with the resolver (no configuration) fails the calls
    /// that need it, with its message, rather than this constructor.
    pub fn new(settings: &Settings) -> Self {
        Self {
            tls: connect::tls_config(&settings.ca_roots).map_err(|e| e.message),
            resolver: Resolver::new(&settings.dns_servers, settings.dns_timeout)
                .map(Arc::new)
                .map_err(|e| e.message),
            timeout: settings.openapi.timeout,
        }
    }
}

impl Transport {
    /// Resolves `endpoint`'s host (the crate's resolver), connects to the first address that
    /// answers (never a forbidden one) and, for https, does the TLS handshake. Errors are
    /// (kind, message). Also the push's way to its receiver (`crate::push`).
    pub(crate) async fn connect(
        &self,
        endpoint: &Endpoint,
    ) -> Result<Box<dyn Io>, (ErrorKind, String)> {
        let unreachable = |m: String| (ErrorKind::Unreachable, m);
        let ctx = HintContext::for_host(&endpoint.host, None);
        let addresses: Vec<IpAddr> = match endpoint.host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => {
                let resolver = self
                    .resolver
                    .as_ref()
                    .map_err(|m| unreachable(format!("cannot resolve {}: {m}", endpoint.host)))?;
                resolver
                    .resolve(&endpoint.host, &ctx)
                    .await
                    .map_err(|e| unreachable(e.message))?
                    .addresses
            }
        };
        // The metadata service and link-local addresses are never dialled (policy.rs), even
        // if a DNS answer points there.
        let allowed: Vec<IpAddr> = addresses
            .iter()
            .copied()
            .filter(|ip| !crate::policy::is_forbidden_address(*ip))
            .collect();
        if allowed.is_empty() {
            return Err(unreachable(format!(
                "{} resolves only to addresses that are never dialled ({:?})",
                endpoint.host, addresses
            )));
        }
        let mut stream = None;
        let mut failures = Vec::new();
        for ip in allowed {
            match connect::tcp(SocketAddr::new(ip, endpoint.port), &ctx).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => failures.push(e.message),
            }
        }
        let Some(tcp) = stream else {
            return Err(unreachable(failures.join("; ")));
        };
        let io: Box<dyn Io> = match endpoint.scheme {
            Scheme::Http => Box::new(tcp),
            Scheme::Https => {
                let tls = self.tls.clone().map_err(|m| (ErrorKind::Other, m))?;
                Box::new(
                    connect::tls(tcp, &endpoint.host, tls, &ctx)
                        .await
                        .map_err(|e| unreachable(e.message))?,
                )
            }
        };
        Ok(io)
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("tls", &self.tls.as_ref().map(|_| "ready"))
            .field("resolver", &self.resolver.as_ref().map(|_| "ready"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The OpenAPI client: signs with one set of credentials, sends to the [`Endpoints`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    endpoints: Endpoints,
    credentials: Credentials,
    transport: Transport,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.inner.endpoints)
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

/// One call to make.
pub(crate) struct Call<'a> {
    pub product: Product,
    /// The region the call is about (endpoint choice); ignored for CEN.
    pub region: &'a str,
    /// `x-acs-action`.
    pub action: &'static str,
    /// `POST` for RPC, the action's method for ROA.
    pub method: &'static str,
    /// Encoded path: `/` for RPC.
    pub path: String,
    /// Query parameters, not encoded.
    pub query: Vec<(String, String)>,
}

/// What came back from one attempt.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Client {
    /// A client for `credentials`, with the transport of `settings` (see [`Transport::new`]).
    pub fn new(settings: &Settings, endpoints: Endpoints, credentials: Credentials) -> Self {
        Self::with_transport(Transport::new(settings), endpoints, credentials)
    }

    /// A client over a shared [`Transport`]. The secret and the token are added to the current
    /// redaction scope (`redact::note`), if there is one.
    pub fn with_transport(
        transport: Transport,
        endpoints: Endpoints,
        credentials: Credentials,
    ) -> Self {
        for value in credentials.secret_values() {
            crate::redact::note(value);
        }
        Self {
            inner: Arc::new(Inner {
                endpoints,
                credentials,
                transport,
            }),
        }
    }

    /// The endpoint choice.
    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// Calls an RPC `action` of `product` with `params` in the query (`POST /`), the way the
    /// official SDK sends every read action (spec §1.3), and parses the answer as `T`. For
    /// actions without a typed function here (e.g. CloudMonitor's `PutCustomMetric`).
    pub async fn rpc<T: FromJson + Send + 'static>(
        &self,
        product: Product,
        region: &str,
        action: &'static str,
        params: Vec<(String, String)>,
        deadline: Instant,
    ) -> Result<Answer<T>, OpenApiError> {
        self.call(
            Call {
                product,
                region,
                action,
                method: "POST",
                path: "/".into(),
                query: params,
            },
            deadline,
        )
        .await
    }

    /// Sends `call`: endpoints in order, one retry where the module doc says. Counted once in
    /// `/metrics` (`apigw_probe_control_plane_calls_total`), whatever the callers.
    pub(crate) async fn call<T: FromJson + Send + 'static>(
        &self,
        call: Call<'_>,
        deadline: Instant,
    ) -> Result<Answer<T>, OpenApiError> {
        let product = call.product;
        let result = self.call_uncounted(call, deadline, decode::<T>).await;
        crate::metrics::process::count_control_plane_call(
            product,
            result.as_ref().err().map(|e| e.kind),
        );
        let answer = result?;
        Ok(Answer {
            // `decode::<T>` boxed a `T`: the downcast cannot fail.
            value: *answer
                .value
                .downcast::<T>()
                .unwrap_or_else(|_| unreachable!("decode::<T> returns a T")),
            request_id: answer.request_id,
            endpoint: answer.endpoint,
            action: answer.action,
        })
    }

    async fn call_uncounted(
        &self,
        call: Call<'_>,
        deadline: Instant,
        decode: Decode,
    ) -> Result<Answer<Box<dyn Any + Send>>, OpenApiError> {
        let ram_action = format!("{}:{}", call.product.ram_code(), call.action);
        let candidates = self.inner.endpoints.candidates(call.product, call.region);
        if candidates.is_empty() {
            return Err(OpenApiError::new(
                ErrorKind::Unreachable,
                &ram_action,
                format!(
                    "APIGW_OPENAPI_NETWORK=vpc, and {} has no VPC endpoint this function can use for {}: set APIGW_OPENAPI_NETWORK=auto (and give the function internet access or a NAT gateway) or APIGW_OPENAPI_ENDPOINT_* ",
                    call.product, call.region
                ),
            ));
        }
        let mut earlier: Vec<String> = Vec::new();
        let last = candidates.len() - 1;
        for (i, endpoint) in candidates.iter().enumerate() {
            match self
                .with_retry(&call, &ram_action, endpoint, deadline, decode)
                .await
            {
                Ok(answer) => return Ok(answer),
                Err(e) if i < last && falls_through(&e) => {
                    earlier.push(format!("{endpoint}: {} ({})", e.kind, e.message));
                }
                Err(mut e) => {
                    if !earlier.is_empty() {
                        e.message = format!("{}; tried before: {}", e.message, earlier.join("; "));
                    }
                    return Err(e);
                }
            }
        }
        // The loop returns at the last candidate.
        Err(OpenApiError::new(
            ErrorKind::Unreachable,
            &ram_action,
            earlier.join("; "),
        ))
    }

    async fn with_retry(
        &self,
        call: &Call<'_>,
        ram_action: &str,
        endpoint: &Endpoint,
        deadline: Instant,
        decode: Decode,
    ) -> Result<Answer<Box<dyn Any + Send>>, OpenApiError> {
        let first = self
            .attempt(call, ram_action, endpoint, deadline, decode)
            .await;
        let Err(e) = &first else { return first };
        let pause = match (e.kind, e.retry_after) {
            (ErrorKind::Throttled, Some(wait)) => wait,
            (ErrorKind::ServiceUnavailable, wait) => wait.unwrap_or(RETRY_PAUSE),
            _ => return first,
        };
        if Instant::now() + pause + MIN_ATTEMPT > deadline {
            return first;
        }
        tokio::time::sleep(pause).await;
        self.attempt(call, ram_action, endpoint, deadline, decode)
            .await
    }

    /// One signed request to one endpoint, bounded by the call timeout and the deadline.
    async fn attempt(
        &self,
        call: &Call<'_>,
        ram_action: &str,
        endpoint: &Endpoint,
        deadline: Instant,
        decode: Decode,
    ) -> Result<Answer<Box<dyn Any + Send>>, OpenApiError> {
        let error = |kind, message: String| {
            let mut e = OpenApiError::new(kind, ram_action, message);
            e.endpoint = Some(endpoint.to_string());
            e
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(error(
                ErrorKind::DeadlineExceeded,
                "the caller's deadline left no time for the call".into(),
            ));
        }
        let timeout = self.inner.transport.timeout;
        let by_deadline = deadline < now + timeout;
        let limit = if by_deadline { deadline } else { now + timeout };
        let exchange = self.exchange(call, endpoint);
        let reply = match tokio::time::timeout_at(limit.into(), exchange).await {
            Ok(Ok(reply)) => reply,
            Ok(Err((kind, message))) => return Err(error(kind, message)),
            Err(_) if by_deadline => {
                return Err(error(
                    ErrorKind::DeadlineExceeded,
                    format!("no answer from {endpoint} before the caller's deadline"),
                ))
            }
            Err(_) => {
                return Err(error(
                    ErrorKind::Unreachable,
                    format!(
                        "no answer from {endpoint} within APIGW_OPENAPI_TIMEOUT_MS ({} ms)",
                        timeout.as_millis()
                    ),
                ))
            }
        };
        self.answer(reply, ram_action, endpoint, decode)
    }

    /// Turns a reply into the value or the typed error.
    fn answer(
        &self,
        reply: Reply,
        ram_action: &str,
        endpoint: &Endpoint,
        decode: Decode,
    ) -> Result<Answer<Box<dyn Any + Send>>, OpenApiError> {
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let json: Option<Value> = serde_json::from_slice(&reply.body).ok();
        let field = |names: &[&str]| -> Option<String> {
            let obj = json.as_ref()?.as_object()?;
            names.iter().find_map(|n| match obj.get(*n)? {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let request_id = header("x-acs-request-id")
            .or_else(|| field(&["RequestId", "requestId"]))
            .or_else(|| header("x-fc-request-id"));
        if (200..300).contains(&reply.status) {
            let Some(json) = json else {
                let mut e = OpenApiError::new(
                    ErrorKind::Other,
                    ram_action,
                    format!(
                        "HTTP {} from {endpoint} with a body that is not JSON ({} bytes)",
                        reply.status,
                        reply.body.len()
                    ),
                );
                e.endpoint = Some(endpoint.to_string());
                e.status = Some(reply.status);
                e.request_id = request_id;
                return Err(e);
            };
            return match decode(&json) {
                Ok(value) => Ok(Answer {
                    value,
                    request_id,
                    endpoint: endpoint.to_string(),
                    action: ram_action.to_owned(),
                }),
                Err(err) => {
                    let mut e = OpenApiError::new(
                        ErrorKind::Other,
                        ram_action,
                        format!("the answer from {endpoint} is not the documented shape: {err}"),
                    );
                    e.endpoint = Some(endpoint.to_string());
                    e.status = Some(reply.status);
                    e.request_id = request_id;
                    Err(e)
                }
            };
        }
        // An error: the RPC envelope, FC 3.0's, or FC 2.0's (spec §8, §4.1).
        let code = field(&["Code", "code", "errorCode", "ErrorCode"]);
        let secrets: Vec<&str> = self.inner.credentials.secret_values().collect();
        let message = match field(&["Message", "message", "errorMessage", "ErrorMessage"]) {
            Some(m) => sanitize_message(&m, &secrets),
            None if json.is_some() => format!("HTTP {} without a message", reply.status),
            None => format!(
                "HTTP {} with a body that is not an OpenAPI error ({} bytes)",
                reply.status,
                reply.body.len()
            ),
        };
        let denied_action = json.as_ref().and_then(|j| {
            ["AccessDeniedDetail", "accessDeniedDetail"]
                .iter()
                .find_map(|k| j.get(k)?.get("AuthAction")?.as_str())
                .map(|s| sanitize_message(s, &secrets))
        });
        let retry_after = header("x-acs-retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis);
        let mut e = OpenApiError::new(classify(code.as_deref(), reply.status), ram_action, message);
        e.endpoint = Some(endpoint.to_string());
        e.status = Some(reply.status);
        e.code = code.map(|c| sanitize_message(&c, &secrets));
        e.request_id = request_id;
        e.recommend = field(&["Recommend"]).map(|r| sanitize_message(&r, &secrets));
        e.denied_action = denied_action;
        e.retry_after = retry_after;
        Err(e)
    }

    /// Resolves, connects and exchanges one request. Errors are (kind, message).
    async fn exchange(
        &self,
        call: &Call<'_>,
        endpoint: &Endpoint,
    ) -> Result<Reply, (ErrorKind, String)> {
        let io = self.inner.transport.connect(endpoint).await?;
        let request = self.request(call, endpoint)?;
        send(io, request, endpoint).await
    }

    /// The signed request, with a fresh date and nonce.
    fn request(
        &self,
        call: &Call<'_>,
        endpoint: &Endpoint,
    ) -> Result<hyper::Request<Full<Bytes>>, (ErrorKind, String)> {
        let creds = &self.inner.credentials;
        let body = Bytes::new();
        let content_sha256 = sha256_hex(&body);
        let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), endpoint.host_header()),
            ("x-acs-action".into(), call.action.into()),
            ("x-acs-version".into(), call.product.version().into()),
            ("x-acs-date".into(), date),
            ("x-acs-signature-nonce".into(), nonce),
            ("x-acs-content-sha256".into(), content_sha256.clone()),
        ];
        if let Some(token) = creds.security_token() {
            headers.push(("x-acs-security-token".into(), token.into()));
        }
        let signed = sign(
            &SignInput {
                method: call.method,
                canonical_uri: &call.path,
                query: &call.query,
                headers: &headers,
                content_sha256: &content_sha256,
            },
            creds.access_key_id(),
            creds.access_key_secret(),
        );
        // Like the app signatures (apigw/request.rs): should a server or proxy echo it, the
        // output redaction masks it.
        crate::redact::note(&signed.signature);
        let query = canonical_query(&call.query);
        let uri = if query.is_empty() {
            call.path.clone()
        } else {
            format!("{}?{query}", call.path)
        };
        let mut builder = hyper::Request::builder().method(call.method).uri(uri);
        for (name, value) in &headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder
            .header("authorization", signed.authorization)
            .header("user-agent", USER_AGENT)
            .header("accept", "application/json")
            .body(Full::new(body))
            // The parts are ours; a header value could only fail on a control character in
            // the token or the region. The message never includes a value.
            .map_err(|_| {
                (
                    ErrorKind::Other,
                    "the request could not be built (a credential or parameter holds a character not allowed in HTTP)"
                        .to_owned(),
                )
            })
    }
}

/// Whether the next endpoint should be tried after `e` (module doc).
fn falls_through(e: &OpenApiError) -> bool {
    match e.kind {
        ErrorKind::Unreachable => true,
        // No error code and no RequestId: whatever answered is not the OpenAPI.
        ErrorKind::Other => {
            (e.code.is_none() && e.request_id.is_none())
                || matches!(
                    e.code.as_deref(),
                    Some(
                        "InvalidProduct.NotFound"
                            | "InvalidApi.NotFound"
                            | "InvalidAction.NotFound"
                    )
                )
        }
        _ => false,
    }
}

/// Aborts the connection task when the exchange ends or is cancelled.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One HTTP/1.1 exchange on `io`; the body is read up to [`MAX_RESPONSE_BYTES`].
pub(crate) async fn send(
    io: Box<dyn Io>,
    request: hyper::Request<Full<Bytes>>,
    endpoint: &Endpoint,
) -> Result<Reply, (ErrorKind, String)> {
    let lost = |when: &str, e: &hyper::Error| {
        (
            ErrorKind::Unreachable,
            format!("the connection to {endpoint} failed {when}: {e}"),
        )
    };
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(64 * 1024)
        .handshake(TokioIo::new(io))
        .await
        .map_err(|e| lost("before the request was sent", &e))?;
    let _driver = AbortOnDrop(tokio::spawn(async move {
        let _ = conn.await;
    }));
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| lost("before an answer came", &e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| lost("while the answer was read", &e))?;
        if let Some(data) = frame.data_ref() {
            if bytes.len() + data.len() > MAX_RESPONSE_BYTES {
                return Err((
                    ErrorKind::Other,
                    format!("the answer from {endpoint} is larger than {MAX_RESPONSE_BYTES} bytes"),
                ));
            }
            bytes.extend_from_slice(data);
        }
    }
    Ok(Reply {
        status,
        headers,
        body: Bytes::from(bytes),
    })
}
