//! The handler: a plain async function from a request to a [`Reply`]. It knows nothing of FC's
//! log markers, spans or panics; the layers in [`super::layers`] add those.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::StatusCode;
use serde_json::json;

use super::body::{self, BodyError, ReadLimits};
use super::context::{request_credentials, InstanceEnv, RequestContext};
use super::query;
use super::reply::{Outcome, Reply};
use super::routes::Route;
use crate::apigw::PROBE_HOP_HEADER;
use crate::config::Settings;
use crate::error::{ErrorClass, HintContext, ProbeError};
use crate::event::{self, Event, Selection};
use crate::probe::{Invocation, Prober};
use crate::redact::{self, Redactor};
use crate::report::{Report, TimerInfo, Trigger};
use crate::target::Origin;
use crate::timing::Stopping;

/// A request as the handler sees it.
pub(crate) struct FcRequest {
    pub route: Route,
    /// Chosen by the service (it names the request's span before the handler runs).
    pub request_id: String,
    pub method: hyper::Method,
    /// The path as received (for messages).
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Incoming,
    /// How long the body may take to arrive.
    pub read: ReadLimits,
}

/// What requests share: the prober (which holds the settings), the instance's environment, and
/// the configured secrets that nothing this runtime writes may contain.
pub(crate) struct App {
    prober: Prober,
    instance: InstanceEnv,
    redactor: Redactor,
    /// Role credential values added to `redactor` from requests so far (see
    /// [`App::request_redactor`]).
    lasting: AtomicUsize,
}

/// Most role credential values kept with the configured secrets: FC rotates them rarely, an
/// instance lives far shorter than a few dozen rotations, and beyond this a request's own layer
/// takes them.
const MAX_LASTING_VALUES: usize = 16;

impl App {
    pub(crate) fn new(settings: Arc<Settings>, instance: InstanceEnv) -> Self {
        let redactor = Redactor::from_settings(&settings);
        if let Some(c) = &instance.credentials {
            redactor.add(c.access_key_secret());
            redactor.add(c.security_token().unwrap_or_default());
        }
        Self {
            prober: Prober::new(settings),
            instance,
            redactor,
            lasting: AtomicUsize::new(0),
        }
    }

    /// The configured secrets (for log lines written outside a request).
    pub(crate) fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// One request's redactor: the configured secrets and the role credentials FC sent with
    /// the request; the signatures computed while serving it are added as they are made.
    fn request_redactor(&self, headers: &HeaderMap) -> Redactor {
        let r = self.redactor.child();
        let Some(c) = request_credentials(headers, &self.instance) else {
            return r;
        };
        for value in [
            c.access_key_secret(),
            c.security_token().unwrap_or_default(),
        ] {
            if value.chars().count() < redact::MIN_SECRET_LEN || self.redactor.holds(value) {
                continue;
            }
            // FC sends the same credentials with every request until they rotate: kept with
            // the configured secrets, they are prepared once for all requests, not per request.
            if self.lasting.fetch_add(1, Ordering::Relaxed) < MAX_LASTING_VALUES {
                self.redactor.add(value);
            } else {
                r.add(value);
            }
        }
        r
    }

    pub(crate) fn settings(&self) -> &Settings {
        self.prober.settings()
    }

    /// Probes in flight end (as `budget.exceeded`) when `stopping` fires.
    pub(crate) fn stop_on(mut self, stopping: Stopping) -> Self {
        self.prober = self.prober.stop_on(stopping);
        self
    }
}

/// Serves one request. Whatever it answers or logs passes through the request's redactor.
pub(crate) async fn handle(app: Arc<App>, req: FcRequest) -> Reply {
    let redactor = app.request_redactor(&req.headers);
    let reply = redact::scope(redactor.clone(), route(app, req)).await;
    reply.redacted(&redactor)
}

async fn route(app: Arc<App>, mut req: FcRequest) -> Reply {
    let reads_body = req.route == Route::Invoke
        || (req.route == Route::Probe && req.method == hyper::Method::POST);
    let looped = req.headers.contains_key(PROBE_HOP_HEADER);
    if !reads_body || looped {
        body::discard(&mut req.body, app.settings().max_event_bytes, &req.read).await;
    }
    if looped {
        let reply = loop_detected(&req);
        return if req.route.is_event_invocation() {
            reply.into_event_invocation()
        } else {
            reply
        };
    }
    match req.route {
        Route::Invoke => invoke(&app, req).await.into_event_invocation(),
        Route::Probe => probe(&app, req).await,
        Route::Healthz => healthy(),
        // Nothing to prepare: the resolver and TLS settings are built on first use, and the
        // initializer must not fail the instance over a probe target being down.
        Route::Initialize | Route::PreStop | Route::PreFreeze => {
            Reply::json(StatusCode::OK, &json!({"status": "ok"}), Outcome::Ok)
        }
        Route::NotFound => not_found(&req),
    }
}

/// The answer to `GET /healthz`: the process serves (also when it is at its connection limit).
pub(crate) fn healthy() -> Reply {
    Reply::json(StatusCode::OK, &json!({"status": "ok"}), Outcome::Ok)
}

/// `POST /invoke`: the event decides what to probe. Status mapping to FC's 200/404 is left to
/// [`Reply::into_event_invocation`].
async fn invoke(app: &App, mut req: FcRequest) -> Reply {
    let body = match read_body(app, &mut req).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let event = match Event::parse(&body) {
        Ok(e) => e,
        Err(e) => return Reply::bad_input(StatusCode::BAD_REQUEST, &e, &req.request_id),
    };
    let trigger = if event.timer.is_some() {
        Trigger::Timer
    } else {
        Trigger::Event
    };
    let result = run(app, &req, trigger, event.selection, event.timer).await;
    match result {
        Ok(report) => Reply::report(report_status(&report, StatusCode::NOT_FOUND), &report),
        Err(e) => Reply::bad_input(StatusCode::BAD_REQUEST, &e, &req.request_id),
    }
}

/// `GET /probe` (query) or `POST /probe` (event body; an empty body falls back to the query).
async fn probe(app: &App, mut req: FcRequest) -> Reply {
    let (selection, timer) = if req.method == hyper::Method::POST {
        let body = match read_body(app, &mut req).await {
            Ok(b) => b,
            Err(reply) => return reply,
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            match query::selection(req.query.as_deref()) {
                Ok(s) => (s, None),
                Err(e) => return http_bad_input(&e, &req.request_id),
            }
        } else {
            match Event::parse(&body) {
                Ok(e) => (e.selection, e.timer),
                Err(e) => return http_bad_input(&e, &req.request_id),
            }
        }
    } else {
        match query::selection(req.query.as_deref()) {
            Ok(s) => (s, None),
            Err(e) => return http_bad_input(&e, &req.request_id),
        }
    };
    // Invalid input in a target is the caller's to fix: 400, and nothing probed.
    if let Selection::Specs(specs) = &selection {
        if let Err(e) = event::check_request_targets(specs, app.settings()) {
            return http_bad_input(&e, &req.request_id);
        }
    }
    match run(app, &req, Trigger::Http, selection, timer).await {
        Ok(report) => {
            let status = if report.any_forbidden() {
                StatusCode::FORBIDDEN
            } else {
                report_status(&report, StatusCode::BAD_GATEWAY)
            };
            Reply::report(status, &report)
        }
        Err(e) => http_bad_input(&e, &req.request_id),
    }
}

async fn run(
    app: &App,
    req: &FcRequest,
    trigger: Trigger,
    selection: Selection,
    timer: Option<TimerInfo>,
) -> Result<Report, ProbeError> {
    let ctx = RequestContext::new(req.request_id.clone(), &req.headers, &app.instance);
    // The function role's credentials go to the configuration cross-check only (API Gateway's
    // app authentication uses the app's AppKey/AppSecret from the settings).
    let cross_check = crate::crosscheck::CrossCheck {
        credentials: ctx.credentials,
        function: crate::crosscheck::FunctionIdentity {
            region: ctx.function.region.clone(),
            account_id: ctx.account_id,
            name: ctx.function.name.clone(),
            qualifier: ctx.function.qualifier.clone(),
        },
        mode: None,
    };
    let inv = Invocation {
        trigger,
        request_id: ctx.request_id,
        selection,
        origin: Origin::Request,
        function_timeout: ctx.function_timeout,
        function_region: ctx.function.region.clone(),
        function: Some(ctx.function),
        timer,
        resolve: Vec::new(),
        cross_check: Some(cross_check),
    };
    app.prober.run(inv).await
}

/// 200 when every target was ok, else `failed`.
fn report_status(report: &Report, failed: StatusCode) -> StatusCode {
    if report.ok {
        StatusCode::OK
    } else {
        failed
    }
}

/// 403 for a forbidden target, else 400.
fn http_bad_input(e: &ProbeError, request_id: &str) -> Reply {
    let status = if e.class == ErrorClass::TargetForbidden {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    };
    Reply::bad_input(status, e, request_id)
}

/// The body within `APIGW_MAX_EVENT_BYTES`, or the reply that refuses it.
async fn read_body(app: &App, req: &mut FcRequest) -> Result<Bytes, Reply> {
    let limit = app.settings().max_event_bytes;
    body::read_limited(&mut req.body, limit, &req.read)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { limit } => {
                let e = ProbeError {
                    class: ErrorClass::ConfigInvalid,
                    message: format!("the request body is larger than {limit} bytes"),
                    hint: "Send a smaller event (FC's limit for asynchronous and timer events \
                        is 128 KB), or raise APIGW_MAX_EVENT_BYTES."
                        .into(),
                };
                Reply::bad_input(StatusCode::PAYLOAD_TOO_LARGE, &e, &req.request_id)
            }
            BodyError::Read(detail) => {
                let e = ProbeError::config(format!("the request body could not be read: {detail}"));
                Reply::bad_input(StatusCode::BAD_REQUEST, &e, &req.request_id)
            }
            BodyError::Stalled { .. } | BodyError::Late { .. } => {
                let message = e.timeout_message().unwrap_or_default();
                tracing::warn!(
                    route = req.route.name(),
                    "{message}; answered 408 and closed the connection"
                );
                body::timeout_reply(&message, &req.request_id)
            }
        })
}

/// `508` for a request sent by a probe (this function's or another apigw-vpc-probe's): serving
/// it could probe this function again, and again.
fn loop_detected(req: &FcRequest) -> Reply {
    let e = ProbeError::new(
        ErrorClass::TargetLoop,
        format!(
            "{} {} was sent by apigw-vpc-probe's prober (it carries X-Apigw-Probe-Hop): \
             refused, so that a probe that leads back here ends after one hop",
            req.method,
            req.path.chars().take(200).collect::<String>()
        ),
        &HintContext::default(),
    );
    let mut reply = Reply::bad_input(StatusCode::LOOP_DETECTED, &e, &req.request_id);
    reply.hop_refused = true;
    reply
}

fn not_found(req: &FcRequest) -> Reply {
    // The path is the caller's own input; cut it so that the answer stays small.
    let path: String = req.path.chars().take(200).collect();
    Reply::error(
        StatusCode::NOT_FOUND,
        "route.not_found",
        &format!("{} {path} is not served", req.method),
        "Served: POST /invoke (events), GET /probe?target=<name> | ?url=<url>, POST /probe \
         (event body), GET /healthz, POST /initialize, GET /pre-stop.",
        &req.request_id,
        Outcome::NotFound,
    )
}
