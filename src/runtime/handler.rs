//! The handler: a plain async function from a request to a [`Reply`]. It knows nothing of FC's
//! log markers, spans or panics; the layers in [`super::layers`] add those.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::StatusCode;
use serde_json::json;

use super::body::{self, BodyError, ReadLimits};
use super::context::{request_credentials, InstanceEnv, RequestContext};
use super::query::{self, ProbeQuery};
use super::reply::{Outcome, Reply};
use super::routes::Route;
use crate::apigw::PROBE_HOP_HEADER;
use crate::config::Settings;
use crate::error::{ErrorClass, HintContext, ProbeError};
use crate::event::{self, Event, Selection};
use crate::metrics::encode::{encode, Format};
use crate::metrics::negotiate::{self, Answer};
use crate::metrics::{self as metrics, process};
use crate::probe::{Invocation, Prober};
use crate::redact::{self, Redactor};
use crate::report::{Report, TimerInfo, Trigger};
use crate::target::{Origin, TargetSpec};
use crate::timing::Stopping;

/// Prometheus's scrape timeout (seconds), which blackbox_exporter's `/probe` fits its probe in.
const SCRAPE_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

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
        Route::Invoke => {
            let mut trigger = Trigger::Event;
            let reply = invoke(&app, req, &mut trigger).await;
            process::count_invocation(trigger, counted(&reply.outcome));
            reply.into_event_invocation()
        }
        Route::Probe => {
            let reply = probe(&app, req).await;
            process::count_invocation(Trigger::Http, counted(&reply.outcome));
            reply
        }
        Route::Metrics => own_metrics(&req),
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

/// The `outcome` an invocation is counted under.
fn counted(outcome: &Outcome) -> process::Outcome {
    match outcome {
        Outcome::Ok => process::Outcome::Ok,
        Outcome::TargetsFailed(_) => process::Outcome::Failed,
        Outcome::BadInput(_) => process::Outcome::BadInput,
        _ => process::Outcome::Error,
    }
}

/// `GET /metrics`: the process's counters, in the format `Accept` asks for (text 0.0.4 unless
/// it prefers OpenMetrics).
fn own_metrics(req: &FcRequest) -> Reply {
    let format = match negotiate::choose(header_str(&req.headers, "accept"), true) {
        Answer::Metrics(format) => format,
        Answer::Json => Format::Text,
    };
    let text = encode(&process::exposition(), format);
    Reply::text(StatusCode::OK, format.content_type(), text, Outcome::Ok)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /invoke`: the event decides what to probe. Status mapping to FC's 200/404 is left to
/// [`Reply::into_event_invocation`]. `trigger` becomes `timer` for a timer's event.
async fn invoke(app: &App, mut req: FcRequest, trigger: &mut Trigger) -> Reply {
    let body = match read_body(app, &mut req).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let event = match Event::parse(&body) {
        Ok(e) => e,
        Err(e) => return Reply::bad_input(StatusCode::BAD_REQUEST, &e, &req.request_id),
    };
    if event.timer.is_some() {
        *trigger = Trigger::Timer;
    }
    let result = run(app, &req, *trigger, event.selection, event.timer, None).await;
    match result {
        Ok(report) => Reply::report(report_status(&report, StatusCode::NOT_FOUND), &report),
        Err(e) => Reply::bad_input(StatusCode::BAD_REQUEST, &e, &req.request_id),
    }
}

/// `GET /probe` (query) or `POST /probe` (event body; an empty body falls back to the query).
/// Metrics instead of the report for blackbox_exporter's form (`module`, unless `debug=true`)
/// or when `Accept` asks for them.
async fn probe(app: &App, mut req: FcRequest) -> Reply {
    let (mut module, mut debug) = (false, false);
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
        let selection = match query::parse(req.query.as_deref()) {
            Ok(ProbeQuery::Selection(s)) => Ok(s),
            Ok(ProbeQuery::Module {
                module: name,
                target,
                debug: d,
            }) => {
                (module, debug) = (true, d);
                module_selection(app.settings(), &name, target)
            }
            Err(e) => Err(e),
        };
        match selection {
            Ok(s) => (s, None),
            Err(e) => return http_bad_input(&e, &req.request_id),
        }
    };
    let answer = match debug {
        true => Answer::Json,
        false => negotiate::choose(header_str(&req.headers, "accept"), module),
    };
    // Invalid input in a target is the caller's to fix: 400, and nothing probed.
    if let Selection::Specs(specs) = &selection {
        if let Err(e) = event::check_request_targets(specs, app.settings()) {
            return http_bad_input(&e, &req.request_id);
        }
    }
    // A scrape gets its probe's answer before Prometheus gives up on it, as from blackbox.
    let scrape_timeout = match answer {
        Answer::Metrics(_) => header_str(&req.headers, SCRAPE_TIMEOUT_HEADER)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero()),
        Answer::Json => None,
    };
    match run(app, &req, Trigger::Http, selection, timer, scrape_timeout).await {
        // A failed probe is a successful scrape: 200, and probe_success says the rest.
        Ok(report) if matches!(answer, Answer::Metrics(_)) => {
            let format = match answer {
                Answer::Metrics(f) => f,
                Answer::Json => Format::Text,
            };
            let text = encode(&metrics::probe::report_exposition(&report), format);
            Reply::text(
                StatusCode::OK,
                format.content_type(),
                text,
                Outcome::of(&report),
            )
        }
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

/// blackbox_exporter's `module` and `target`: the configured target of that name as it is
/// configured, else the module's options with `target` as the URL (`http://` added to a bare
/// host, as blackbox does), a target from the request like any other. An unknown module or a
/// missing target is refused (400), as by blackbox.
fn module_selection(
    settings: &Settings,
    module: &str,
    target: Option<String>,
) -> Result<Selection, ProbeError> {
    let Some(options) = settings.modules.get(module) else {
        // The names are the operator's: the log has them, the caller a hint.
        tracing::warn!(
            module,
            configured = ?settings.modules.keys().collect::<Vec<_>>(),
            "the request names no configured module"
        );
        return Err(ProbeError {
            class: ErrorClass::ConfigInvalid,
            message: format!("unknown module {module:?}"),
            hint: "Name a module of the function's APIGW_MODULES (its log lists them under this \
                request id), or http_2xx, which every function has."
                .into(),
        });
    };
    let Some(target) = target else {
        return Err(ProbeError::config(
            "the target parameter is missing: give target=<URL or configured target name>, as \
             Prometheus's relabelling of __param_target does",
        ));
    };
    let configured = settings
        .targets
        .iter()
        .any(|t| t.name.as_deref() == Some(target.as_str()));
    if configured {
        return Ok(Selection::Named(target));
    }
    let url = if target.contains("://") {
        target
    } else {
        format!("http://{target}")
    };
    Ok(Selection::Specs(vec![TargetSpec {
        url: Some(url),
        ..options.clone()
    }]))
}

async fn run(
    app: &App,
    req: &FcRequest,
    trigger: Trigger,
    selection: Selection,
    timer: Option<TimerInfo>,
    scrape_timeout: Option<Duration>,
) -> Result<Report, ProbeError> {
    let mut ctx = RequestContext::new(req.request_id.clone(), &req.headers, &app.instance);
    if let Some(scrape) = scrape_timeout {
        ctx.function_timeout = Some(ctx.function_timeout.map_or(scrape, |t| t.min(scrape)));
    }
    // The function role's credentials go to the configuration cross-check only (API Gateway's
    // app authentication uses the app's AppKey/AppSecret from the settings).
    let push = crate::push::PushContext {
        credentials: ctx.credentials.clone(),
        region: ctx.function.region.clone(),
        account_id: ctx.account_id.clone(),
    };
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
        push: Some(push),
    };
    let result = app.prober.run(inv).await;
    if let Ok(report) = &result {
        process::count_results(report);
    }
    result
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
        "Served: POST /invoke (events), GET /probe?target=<name> | ?url=<url> | \
         ?module=<module>&target=<url> (metrics), POST /probe (event body), GET /metrics, \
         GET /healthz, POST /initialize, GET /pre-stop.",
        &req.request_id,
        Outcome::NotFound,
    )
}
