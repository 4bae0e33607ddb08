//! The prober: event → targets → resolve → connect → call → report.
//!
//! Like blackbox_exporter's HTTP prober: resolve first, dial the chosen address keeping the
//! original `Host` and SNI, timestamp each phase, and derive the durations once at the end.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::Request;
use tokio::sync::{watch, OnceCell};

use crate::call::{Exchange, Progress};
use crate::config::Settings;
use crate::connect;
use crate::diagnose;
use crate::error::{ErrorClass, HintContext, ProbeError};
use crate::event::{self, Selection};
use crate::policy;
use crate::report::{
    self, BodyBudget, DnsReport, DnsSource, FunctionInfo, GatewayInfo, Latency, Phases, Report,
    Sample, TargetReport, TimerInfo, Trigger,
};
use crate::resolve::Resolver;
use crate::scope::Scope;
use crate::sign::{self, Canonical};
use crate::target::{Auth, Origin, Target};

/// The `User-Agent` of every call.
pub const USER_AGENT: &str = concat!("apigw-vpc-probe/", env!("CARGO_PKG_VERSION"));

/// Sent with every probe request, and refused when it comes in (`508`, `target.loop`): a
/// target that leads back to this function ends after one hop instead of probing itself
/// without end. Not an `X-Ca-*` header, so it is not signed.
pub const PROBE_HOP_HEADER: &str = "x-apigw-probe-hop";

/// The hint of samples cut short because the function is stopping.
const STOPPING_HINT: &str = "FC stopped the instance (scaling in, a new version or \
    configuration) while this probe ran: invoke again. APIGW_SHUTDOWN_GRACE_MS is how long \
    running probes may go on after SIGTERM.";

/// Fires when the function is stopping and its shutdown grace ran out: probes in flight then
/// end at once as `budget.exceeded`, with their phases so far, so that every request still
/// gets its report.
#[derive(Clone, Debug)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Fires once `true` is sent.
    pub fn new(receiver: watch::Receiver<bool>) -> Self {
        Self(receiver)
    }

    /// Never fires (the command line, tests).
    pub fn never() -> Self {
        Self(watch::channel(false).1)
    }

    async fn fired(&self) {
        let mut receiver = self.0.clone();
        // A closed channel (no sender) never fires.
        if receiver.wait_for(|stopping| *stopping).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The shortest budget an invocation gets, whatever FC's timeout says.
const MIN_BUDGET: Duration = Duration::from_millis(50);

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

impl Invocation {
    /// An invocation with no FC context (CLI, tests).
    pub fn new(trigger: Trigger, request_id: impl Into<String>, selection: Selection) -> Self {
        Self {
            trigger,
            request_id: request_id.into(),
            selection,
            origin: Origin::Request,
            function_timeout: None,
            function_region: None,
            function: None,
            timer: None,
            resolve: Vec::new(),
        }
    }
}

/// Holds what probes share: settings, the resolver and the TLS configuration. Both are built on
/// first use, so that start-up does no I/O.
pub struct Prober {
    settings: Arc<Settings>,
    configured: event::Configured,
    resolver: OnceCell<Result<Arc<Resolver>, ProbeError>>,
    tls: OnceCell<Result<Arc<rustls::ClientConfig>, ProbeError>>,
    stopping: Stopping,
}

impl Prober {
    pub fn new(settings: Arc<Settings>) -> Self {
        Self {
            configured: event::Configured::build(&settings),
            settings,
            resolver: OnceCell::new(),
            tls: OnceCell::new(),
            stopping: Stopping::never(),
        }
    }

    /// Samples in flight end when `stopping` fires.
    pub fn stop_on(mut self, stopping: Stopping) -> Self {
        self.stopping = stopping;
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The deadline of an invocation: the configured one, or FC's timeout less the margin.
    pub fn budget(&self, function_timeout: Option<Duration>) -> Duration {
        let fc = function_timeout.map(|t| t.saturating_sub(self.settings.budget_margin));
        fc.map_or(self.settings.deadline, |t| t.min(self.settings.deadline))
            .max(MIN_BUDGET)
    }

    /// Runs one invocation. `Err` only for invocation-level bad input (invalid event, unknown
    /// target name, configuration problems); per-target failures are in the report.
    pub async fn run(&self, inv: Invocation) -> Result<Report, ProbeError> {
        let started = Instant::now();
        let started_at = SystemTime::now();
        let budget = self.budget(inv.function_timeout);
        let deadline = started + budget;
        let planned = event::plan(inv.selection, &self.settings, &self.configured, inv.origin)?;
        check_resolve(&inv.resolve, &planned)?;
        let bodies = BodyBudget::new(self.settings.body_budget);
        // Hints compare the function's region with the domain's: never APIGW_REGION, which
        // names the group's region.
        let region = inv
            .function_region
            .clone()
            .or_else(|| self.settings.function_region.clone());

        let probes = planned.into_iter().map(|planned| {
            let region = region.clone();
            let resolve = &inv.resolve;
            let bodies = &bodies;
            async move {
                match planned {
                    Ok(mut target) => {
                        let overridden = resolve.iter().find(|r| resolve_applies(r, &target));
                        if let Some((_, _, ip)) = overridden {
                            target.address_override = Some(*ip);
                        }
                        self.probe_target(target, deadline, region.as_deref(), bodies)
                            .await
                    }
                    Err(failed) => *failed,
                }
            }
        });
        let targets = futures_util::future::join_all(probes).await;

        let duration_ms = report::ms(started.elapsed());
        // Logged after the clock stopped: writing the lines is not part of what is measured.
        for t in &targets {
            tracing::info!(
                target_name = %t.name,
                ok = t.ok,
                class = t.error.as_ref().map(|e| e.class.name()).as_deref().unwrap_or(""),
                // What went wrong, for the log reader (redacted on its way out like every line).
                error = t.error.as_ref().map_or("", |e| e.message.as_str()),
                samples = t.samples.len(),
                p50_ms = t.latency_ms.map_or(0.0, |l| l.p50),
                "target probed"
            );
        }
        let mut function = inv.function;
        if let Some(f) = &mut function {
            f.budget_ms = report::ms(budget);
        }
        let mut report = Report {
            schema: report::SCHEMA,
            ok: targets.iter().all(|t| t.ok),
            trigger: inv.trigger,
            request_id: inv.request_id,
            started_at: report::rfc3339(started_at),
            duration_ms,
            function,
            timer: inv.timer,
            targets,
            truncated: None,
        };
        report.fit(self.settings.max_report_bytes);
        Ok(report)
    }

    /// Probes one target: its samples one after the other, each on a fresh connection.
    async fn probe_target(
        &self,
        target: Target,
        deadline: Instant,
        region: Option<&str>,
        bodies: &BodyBudget,
    ) -> TargetReport {
        let ctx = HintContext::for_host(&target.host, region);
        let mut report = TargetReport {
            name: target.name.clone(),
            url: target.url.to_string(),
            auth: Some(target.auth_label().to_owned()),
            ok: false,
            dns: None,
            samples: Vec::with_capacity(target.samples as usize),
            samples_omitted: 0,
            latency_ms: None,
            warnings: Vec::new(),
            error: None,
        };
        for index in 0..target.samples {
            let keep_body = target.return_body.keeps(index) && !bodies.is_spent();
            let (mut sample, dns) = self.sample(&target, deadline, &ctx, keep_body).await;
            if let Some(body) = sample.body.take() {
                let (text, cut) = bodies.take(&body);
                sample.body_truncated |= cut;
                // A cut may have kept the start of a secret: mask it.
                sample.body = Some(match cut {
                    true => crate::redact::current().redact_cut(&text),
                    false => text,
                });
            }
            if report.dns.is_none() {
                report.dns = dns;
            }
            let stop = sample.error.as_ref().is_some_and(|e| {
                matches!(
                    e.class,
                    ErrorClass::BudgetExceeded
                        | ErrorClass::TargetForbidden
                        | ErrorClass::ConfigInvalid
                )
            });
            report.samples.push(sample);
            if stop {
                break;
            }
        }

        if let Some(dns) = &report.dns {
            if dns.scope == Some(Scope::Public) && ctx.is_vpc_domain() {
                report.warnings.push(format!(
                    "{} is a VPC second-level domain but resolves to a public address ({}): traffic would leave the VPC; check the function's DNS (customDNS, PrivateZone)",
                    dns.host,
                    dns.addresses.join(", ")
                ));
            }
        }
        let answered: Vec<f64> = report
            .samples
            .iter()
            .filter(|s| s.status.is_some())
            .map(|s| s.phases_ms.total)
            .collect();
        report.latency_ms = Latency::of(&answered);
        report.error = report.samples.iter().find_map(|s| s.error.clone());
        report.ok = report.error.is_none() && report.samples.len() == target.samples as usize;
        report
    }

    /// One sample: resolve, connect, TLS, request, response, each under its own limit.
    async fn sample(
        &self,
        target: &Target,
        budget: Instant,
        ctx: &HintContext,
        keep_body: bool,
    ) -> (Sample, Option<DnsReport>) {
        let s = &self.settings;
        let mut sample = Sample::default();

        // Prepared first: work that must not count towards any network phase (the first
        // sample would otherwise pay for reading resolv.conf and loading the CA roots).
        let prepared = async {
            let (request, string_to_sign) = build_request(target)?;
            let lookup = match target.address_override {
                Some(ip) => Lookup::Given(ip),
                None => Lookup::Resolve(self.resolver().await?),
            };
            let tls = match target.https {
                true => Some(self.tls().await?),
                false => None,
            };
            Ok::<_, ProbeError>((request, string_to_sign, lookup, tls))
        };
        let (request, string_to_sign, lookup, tls) = match prepared.await {
            Ok(p) => p,
            Err(e) => {
                return (
                    Clock::start(budget, target.timeout, &self.stopping).fail(
                        sample,
                        Phase::Dns,
                        e,
                    ),
                    None,
                )
            }
        };
        let mut clock = Clock::start(budget, target.timeout, &self.stopping);

        // Resolve.
        let (addresses, dns) = match lookup {
            Lookup::Given(ip) => {
                let source = if target
                    .url
                    .host_str()
                    .is_some_and(|h| h.parse::<IpAddr>().is_ok() || h.starts_with('['))
                {
                    DnsSource::Literal
                } else {
                    DnsSource::Override
                };
                clock.mark(Phase::Dns);
                (
                    vec![ip],
                    dns_report(&target.host, &[ip], &[], Duration::ZERO, source),
                )
            }
            Lookup::Resolve(resolver) => {
                let servers = resolver.servers().to_vec();
                let result = clock
                    .limit(
                        Phase::Dns,
                        s.dns_timeout,
                        ctx,
                        resolver.resolve(&target.host, ctx),
                    )
                    .await;
                match result {
                    Ok(res) => {
                        clock.mark(Phase::Dns);
                        let dns = dns_report(
                            &target.host,
                            &res.addresses,
                            &servers,
                            clock.until(Phase::Dns),
                            DnsSource::Resolver,
                        );
                        (res.addresses, dns)
                    }
                    Err(mut e) => {
                        if e.class == ErrorClass::DnsTimeout
                            && !e.message.contains(&servers.join(", "))
                        {
                            e.message = format!("{}, asking {}", e.message, servers.join(", "));
                        }
                        let dns = dns_report(
                            &target.host,
                            &[],
                            &servers,
                            clock.elapsed(),
                            DnsSource::Resolver,
                        );
                        return (clock.fail(sample, Phase::Dns, e), Some(dns));
                    }
                }
            }
        };

        // Never dial a forbidden address, whichever of the answers would be chosen.
        if let Some(e) = addresses.iter().find_map(|ip| {
            policy::check_address(&target.host, *ip, target.origin, &s.allow_hosts).err()
        }) {
            return (clock.fail(sample, Phase::Connect, e), Some(dns));
        }
        let ip = addresses
            .iter()
            .copied()
            .find(IpAddr::is_ipv4)
            .unwrap_or(addresses[0]);
        let remote = SocketAddr::new(ip, target.port);
        sample.remote = Some(remote.to_string());

        // Connect.
        let stream = match clock
            .limit(
                Phase::Connect,
                s.connect_timeout,
                ctx,
                connect::tcp(remote, ctx),
            )
            .await
        {
            Ok(stream) => stream,
            Err(e) => return (clock.fail(sample, Phase::Connect, e), Some(dns)),
        };
        clock.mark(Phase::Connect);

        // Request, over TLS or not.
        let mut exchange = Exchange::new(keep_body);
        let stream: Box<dyn connect::Io> = match tls {
            Some(tls) => {
                let tls_stream = match clock
                    .limit(
                        Phase::Tls,
                        s.tls_timeout,
                        ctx,
                        connect::tls(stream, &target.host, tls, ctx),
                    )
                    .await
                {
                    Ok(stream) => stream,
                    Err(e) => return (clock.fail(sample, Phase::Tls, e), Some(dns)),
                };
                clock.mark(Phase::Tls);
                Box::new(tls_stream)
            }
            None => {
                // No TLS: the phase is zero by construction, not a few microseconds of our code.
                clock.ends[Phase::Tls as usize] = clock.ends[Phase::Connect as usize];
                Box::new(stream)
            }
        };
        let sent = clock
            .limit(
                Phase::Ttfb,
                Duration::MAX,
                ctx,
                exchange.send(stream, request, ctx),
            )
            .await;
        let body = match sent {
            Ok(()) => {
                clock
                    .limit(Phase::Transfer, Duration::MAX, ctx, exchange.body(ctx))
                    .await
            }
            Err(e) => Err(e),
        };
        let progress = exchange.finish();
        clock.wire(&progress);
        sample.bytes = progress.bytes;
        sample.interim_responses = progress.interim;
        if let Some((status, headers)) = &progress.head {
            sample.status = Some(*status);
            let gateway = gateway_info(headers);
            if gateway != GatewayInfo::default() {
                sample.gateway = Some(gateway);
            }
        }
        if keep_body && progress.head.is_some() {
            let body = String::from_utf8_lossy(&progress.body);
            let cut = progress.bytes > progress.body.len() as u64;
            sample.body = Some(match cut {
                // The cut may have kept the start of a secret: mask it.
                true => crate::redact::current().redact_cut(&body),
                false => body.into_owned(),
            });
            sample.body_truncated = cut;
        }
        if let Err(e) = body {
            let phase = clock.current();
            return (clock.fail(sample, phase, e), Some(dns));
        }
        // The exchange completed: the phases stand, whatever the status says.
        sample.phases_ms = clock.phases();
        if target.show_string_to_sign {
            sample.string_to_sign.clone_from(&string_to_sign);
        }
        match judge(target, &progress, &sample, string_to_sign.as_deref(), ctx) {
            Ok(()) => sample.ok = true,
            Err(e) => sample.error = Some(e),
        }
        (sample, Some(dns))
    }

    async fn resolver(&self) -> Result<Arc<Resolver>, ProbeError> {
        self.resolver
            .get_or_init(|| async {
                Resolver::new(&self.settings.dns_servers, self.settings.dns_timeout).map(Arc::new)
            })
            .await
            .clone()
    }

    async fn tls(&self) -> Result<Arc<rustls::ClientConfig>, ProbeError> {
        self.tls
            .get_or_init(|| async { connect::tls_config(self.settings.ca_file.as_deref()) })
            .await
            .clone()
    }
}

/// Whether a `--resolve HOST:PORT:ADDR` entry applies to `target`: the same host (case does not
/// matter; a trailing dot does, as in curl, where `example.com.` is another name) and port.
fn resolve_applies((host, port, _): &(String, u16, IpAddr), target: &Target) -> bool {
    host.eq_ignore_ascii_case(&target.host) && *port == target.port
}

/// Every `--resolve` entry must apply to a target: one that does not is a typo, another port or
/// a trailing dot, and ignoring it would probe through DNS what the user meant to pin.
fn check_resolve(
    resolve: &[(String, u16, IpAddr)],
    planned: &[event::Planned],
) -> Result<(), ProbeError> {
    let targets: Vec<&Target> = planned.iter().filter_map(|p| p.as_ref().ok()).collect();
    // Targets that could not be built are reported as such; there is nothing to match.
    if targets.is_empty() {
        return Ok(());
    }
    for entry in resolve {
        if targets.iter().any(|t| resolve_applies(entry, t)) {
            continue;
        }
        let (host, port, addr) = entry;
        let called: Vec<String> = targets
            .iter()
            .map(|t| format!("{}:{}", bracket(&t.host), t.port))
            .collect();
        return Err(ProbeError {
            class: ErrorClass::ConfigInvalid,
            message: format!(
                "--resolve {host}:{port}:{} applies to no target (the targets call {})",
                bracket(&addr.to_string()),
                called.join(", ")
            ),
            hint: "Write --resolve HOST:PORT:ADDR with the URL's host exactly (a trailing dot \
                makes another name, as in curl) and its port (80 for http://, 443 for https://, \
                unless the URL names one), or leave the entry out."
                .into(),
        });
    }
    Ok(())
}

/// How a sample gets its address.
enum Lookup {
    /// From the URL (an IP literal) or `--resolve`.
    Given(IpAddr),
    /// From DNS.
    Resolve(Arc<Resolver>),
}

/// Checks the response against the target's expectation and fills status and gateway fields.
fn judge(
    target: &Target,
    progress: &Progress,
    sample: &Sample,
    string_to_sign: Option<&str>,
    ctx: &HintContext,
) -> Result<(), ProbeError> {
    let Some((status, headers)) = &progress.head else {
        return Err(ProbeError::new(
            ErrorClass::HttpProtocol,
            "no response head",
            ctx,
        ));
    };
    if target.expect.accepts(*status) {
        return Ok(());
    }
    if *status == 508 && headers.contains_key(PROBE_HOP_HEADER) {
        return Err(ProbeError::new(
            ErrorClass::TargetLoop,
            "the target answered 508 target.loop: it is apigw-vpc-probe itself, which refused \
             this probe's request (X-Apigw-Probe-Hop) instead of probing again",
            ctx,
        ));
    }
    let gateway = sample.gateway.clone().unwrap_or_default();
    // The whole message, not the report's shortened copy: an A403IS message carries the
    // gateway's whole string to sign, and a difference can sit past any display limit.
    let full_message = header_text(&progress.head, "x-ca-error-message");
    let message = gateway.error_message.clone().unwrap_or_default();
    // A legacy gateway sends only a message; the table maps some of them to codes.
    let code = gateway
        .error_code
        .clone()
        .or_else(|| diagnose::legacy_code(&message).map(str::to_owned));
    match code {
        Some(code) => {
            let mut text = format!("API Gateway answered {status} {code}: {message}");
            // The one thing users of every other SDK do by hand: find where the gateway's
            // string to sign and ours part.
            if code == "A403IS" {
                match string_to_sign.and_then(|sts| sign::compare_with_gateway(sts, full_message))
                {
                    Some(sign::Comparison::Differs(diff)) => {
                        text = format!("{text} — string to sign {diff}")
                    }
                    Some(sign::Comparison::Identical) => {
                        text = format!(
                            "{text} — the strings to sign are identical, so the AppSecret differs from the app's"
                        )
                    }
                    None => {}
                }
            }
            Err(ProbeError {
                hint: diagnose::gateway_hint(&code, &message),
                class: ErrorClass::Gateway(code),
                message: text,
            })
        }
        None if !message.is_empty() => Err(ProbeError {
            class: ErrorClass::HttpStatus,
            message: format!(
                "HTTP {status} from API Gateway: {message}; expected {}",
                target.expect.describe()
            ),
            hint: diagnose::gateway_hint("", &message),
        }),
        None => Err(ProbeError::new(
            ErrorClass::HttpStatus,
            format!(
                "HTTP {status} from the {} (no X-Ca-Error-Code); expected {}",
                if gateway.request_id.is_some() {
                    "backend, passed through by API Gateway"
                } else {
                    "server"
                },
                target.expect.describe()
            ),
            ctx,
        )),
    }
}

/// A response header as text (empty when absent or not visible ASCII).
fn header_text<'a>(head: &'a Option<(u16, HeaderMap)>, name: &str) -> &'a str {
    head.as_ref()
        .and_then(|(_, h)| h.get(name))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The `X-Ca-*` response headers. Error codes are kept only if they look like one (6
/// alphanumerics as documented, up to 16 tolerated), so a hostile server cannot forge classes.
fn gateway_info(headers: &HeaderMap) -> GatewayInfo {
    let get = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).map(|v| {
            if v.chars().nth(512).is_none() {
                return v.to_owned();
            }
            // Redacted before the cut, so that the cut cannot keep half a secret.
            let v = crate::redact::current().redact(v).into_owned();
            v.chars().take(512).collect::<String>()
        })
    };
    GatewayInfo {
        request_id: get("x-ca-request-id"),
        error_code: get("x-ca-error-code").filter(|c| {
            !c.is_empty() && c.len() <= 16 && c.bytes().all(|b| b.is_ascii_alphanumeric())
        }),
        error_message: get("x-ca-error-message"),
    }
}

/// The request as sent: origin-form URI, the original `Host`, the stage, the target's headers,
/// then the authentication; with the string to sign when the request is signed.
fn build_request(target: &Target) -> Result<(Request<Full<Bytes>>, Option<String>), ProbeError> {
    let path = match target.url.query() {
        Some(q) => format!("{}?{q}", target.url.path()),
        None => target.url.path().to_owned(),
    };
    let default_port = if target.https { 443 } else { 80 };
    let host = match (target.port, &target.address_override) {
        (p, _) if p == default_port => bracket(&target.host),
        (p, _) => format!("{}:{p}", bracket(&target.host)),
    };
    let mut builder = Request::builder()
        .method(target.method.clone())
        .uri(path)
        .header(hyper::header::HOST, host)
        .header(hyper::header::USER_AGENT, USER_AGENT)
        .header(hyper::header::ACCEPT, "*/*")
        // One connection per sample: say so, so the server closes cleanly.
        .header(hyper::header::CONNECTION, "close");
    if let Some(stage) = &target.stage {
        builder = builder.header("x-ca-stage", stage.as_str());
    }
    let mut request = builder
        .body(Full::new(target.body.clone()))
        .map_err(|e| ProbeError::config(format!("the request cannot be built: {e}")))?;
    for (name, value) in &target.headers {
        // The target's own headers win over the defaults above (e.g. Host, Accept).
        request.headers_mut().insert(name.clone(), value.clone());
    }
    // After the target's headers, which cannot take it away.
    request
        .headers_mut()
        .insert(PROBE_HOP_HEADER, HeaderValue::from_static("1"));
    if !target.body.is_empty() && !request.headers().contains_key(hyper::header::CONTENT_TYPE) {
        request.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
    }
    let string_to_sign = authenticate(&mut request, target)?;
    Ok((request, string_to_sign))
}

/// Adds the target's authentication: `Authorization: APPCODE …`, or the app signature over the
/// request as it will be sent (fresh timestamp and nonce per sample).
fn authenticate(
    request: &mut Request<Full<Bytes>>,
    target: &Target,
) -> Result<Option<String>, ProbeError> {
    let header = |v: &str| {
        HeaderValue::from_str(v)
            .map_err(|_| ProbeError::config("a credential is not a valid header value"))
    };
    let (key, secret, method) = match &target.auth {
        Auth::None => return Ok(None),
        Auth::AppCode(code) => {
            let mut value = header(&format!("APPCODE {}", code.expose()))?;
            value.set_sensitive(true);
            request
                .headers_mut()
                .insert(hyper::header::AUTHORIZATION, value);
            return Ok(None);
        }
        Auth::App {
            key,
            secret,
            method,
        } => (key, secret, *method),
    };
    let timestamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let content_type = request
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let is_form = content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded");
    {
        let h = request.headers_mut();
        h.insert("x-ca-key", header(key)?);
        h.insert("x-ca-timestamp", header(&timestamp.to_string())?);
        h.insert("x-ca-nonce", header(&uuid::Uuid::new_v4().to_string())?);
        h.insert(
            "x-ca-signature-method",
            HeaderValue::from_static(method.name()),
        );
        // Non-form bodies enter the signature through their MD5.
        if !target.body.is_empty() && !is_form {
            h.insert("content-md5", header(&sign::content_md5(&target.body))?);
        }
    }
    // Sign every X-Ca-* header sent (the stage among them), as Alibaba's SDKs do.
    let mut names: Vec<String> = request
        .headers()
        .keys()
        .map(|n| n.as_str().to_owned())
        .filter(|n| {
            n.starts_with("x-ca-") && n != "x-ca-signature" && n != "x-ca-signature-headers"
        })
        .collect();
    names.sort();
    names.dedup();
    let headers = request.headers();
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let path = percent_encoding::percent_decode_str(target.url.path()).decode_utf8_lossy();
    let query: Vec<(String, String)> = target.url.query_pairs().into_owned().collect();
    let form: Vec<(String, String)> = if is_form {
        url::form_urlencoded::parse(&target.body)
            .into_owned()
            .collect()
    } else {
        Vec::new()
    };
    let canonical = Canonical {
        method: target.method.as_str(),
        accept: get("accept"),
        content_md5: get("content-md5"),
        content_type: get("content-type"),
        date: get("date"),
        signed_headers: names
            .iter()
            .map(|n| (n.as_str(), get(n).unwrap_or("")))
            .collect(),
        path: &path,
        query: query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        form: form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
    };
    let string_to_sign = canonical.string_to_sign();
    let signature = sign::signature(method, secret.expose().as_bytes(), &string_to_sign);
    // A signature replays against the gateway for 15 minutes: never in any output.
    crate::redact::note(&signature);
    let signed = header(&names.join(","))?;
    let h = request.headers_mut();
    h.insert("x-ca-signature-headers", signed);
    h.insert("x-ca-signature", header(&signature)?);
    Ok(Some(string_to_sign))
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn dns_report(
    host: &str,
    addresses: &[IpAddr],
    servers: &[String],
    elapsed: Duration,
    source: DnsSource,
) -> DnsReport {
    DnsReport {
        host: host.to_owned(),
        addresses: addresses.iter().map(IpAddr::to_string).collect(),
        scope: Scope::of_all(addresses),
        servers: servers.to_vec(),
        ms: report::ms(elapsed),
        source,
    }
}

/// The phases of a sample, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Dns = 0,
    Connect = 1,
    Tls = 2,
    Send = 3,
    Ttfb = 4,
    Transfer = 5,
}

impl Phase {
    const ALL: [Phase; 6] = [
        Phase::Dns,
        Phase::Connect,
        Phase::Tls,
        Phase::Send,
        Phase::Ttfb,
        Phase::Transfer,
    ];

    fn name(self) -> &'static str {
        ["dns", "connect", "tls", "send", "ttfb", "transfer"][self as usize]
    }

    /// The class of a timeout in this phase.
    fn timeout_class(self) -> ErrorClass {
        match self {
            Phase::Dns => ErrorClass::DnsTimeout,
            Phase::Connect => ErrorClass::TcpTimeout,
            Phase::Tls => ErrorClass::TlsTimeout,
            Phase::Send | Phase::Ttfb | Phase::Transfer => ErrorClass::HttpTimeout,
        }
    }
}

/// The instants of one sample. Phases end at their marks; durations are derived once, at the
/// end, as differences of consecutive marks, so they add up to the total exactly.
struct Clock {
    start: Instant,
    sample_deadline: Instant,
    budget: Instant,
    ends: [Option<Instant>; 6],
    end: Option<Instant>,
    stopping: Stopping,
}

impl Clock {
    fn start(budget: Instant, sample_timeout: Duration, stopping: &Stopping) -> Self {
        let start = Instant::now();
        Self {
            start,
            sample_deadline: start + sample_timeout,
            budget,
            ends: [None; 6],
            end: None,
            stopping: stopping.clone(),
        }
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Time from the start to the end of `phase` (zero while it has not ended).
    fn until(&self, phase: Phase) -> Duration {
        self.ends[phase as usize].map_or(Duration::ZERO, |t| t - self.start)
    }

    fn mark(&mut self, phase: Phase) {
        self.ends[phase as usize] = Some(Instant::now());
    }

    /// The first phase without an end mark.
    fn current(&self) -> Phase {
        Phase::ALL
            .into_iter()
            .find(|p| self.ends[*p as usize].is_none())
            .unwrap_or(Phase::Transfer)
    }

    /// Takes the instants the socket saw: request written, first byte, body complete.
    fn wire(&mut self, p: &Progress) {
        if let Some(t) = p.sent {
            self.ends[Phase::Send as usize] = Some(t);
        }
        if let Some(t) = p.first_byte {
            self.ends[Phase::Ttfb as usize] = Some(t);
        }
        if let Some(t) = p.done {
            self.ends[Phase::Transfer as usize] = Some(t);
            self.end = Some(t);
        }
    }

    /// Runs `fut` within the phase's own limit, the sample's timeout and the invocation's
    /// budget, whichever ends first; a timeout is named after the phase, or after the budget.
    async fn limit<T>(
        &self,
        phase: Phase,
        phase_limit: Duration,
        ctx: &HintContext,
        fut: impl std::future::Future<Output = Result<T, ProbeError>>,
    ) -> Result<T, ProbeError> {
        let now = Instant::now();
        let fut = self.unless_stopping(phase, fut);
        let phase_deadline = now.checked_add(phase_limit).unwrap_or(self.sample_deadline);
        let deadline = phase_deadline.min(self.sample_deadline).min(self.budget);
        match tokio::time::timeout_at(deadline.into(), fut).await {
            Ok(result) => result,
            Err(_) => {
                let waited = report::ms(Instant::now() - now);
                if deadline == self.budget && self.budget < phase_deadline.min(self.sample_deadline)
                {
                    Err(ProbeError::new(
                        ErrorClass::BudgetExceeded,
                        format!(
                            "the invocation's time budget ran out during {} (after {waited:.0} ms in that phase)",
                            phase.name()
                        ),
                        ctx,
                    ))
                } else {
                    let limit = if deadline == self.sample_deadline {
                        "the sample timeout (timeout_ms / APIGW_TIMEOUT_MS)".to_owned()
                    } else {
                        format!("the {} limit", phase.name())
                    };
                    Err(ProbeError::new(
                        phase.timeout_class(),
                        format!(
                            "{} phase timed out after {waited:.0} ms ({limit})",
                            phase.name()
                        ),
                        ctx,
                    ))
                }
            }
        }
    }

    /// Runs `fut` until the function is stopping; then `budget.exceeded` at once.
    async fn unless_stopping<T>(
        &self,
        phase: Phase,
        fut: impl std::future::Future<Output = Result<T, ProbeError>>,
    ) -> Result<T, ProbeError> {
        let started = Instant::now();
        tokio::select! {
            // First, so that a phase that starts after the signal sends nothing.
            biased;
            () = self.stopping.fired() => Err(ProbeError {
                class: ErrorClass::BudgetExceeded,
                message: format!(
                    "the function is stopping (SIGTERM) and its shutdown grace ran out during {} \
                     (after {:.0} ms in that phase)",
                    phase.name(),
                    report::ms(started.elapsed())
                ),
                hint: STOPPING_HINT.into(),
            }),
            result = fut => result,
        }
    }

    /// Ends the sample with `error` in `phase`: that phase lasts until now, later ones are 0.
    fn fail(mut self, mut sample: Sample, phase: Phase, error: ProbeError) -> Sample {
        let now = Instant::now();
        // Marks the socket saw may run past the failing phase; the phase keeps the rest.
        for p in Phase::ALL {
            if p >= phase {
                self.ends[p as usize] = None;
            }
        }
        self.ends[phase as usize] = Some(now);
        self.end = Some(now);
        sample.phases_ms = self.phases();
        sample.ok = false;
        sample.error = Some(error);
        sample
    }

    fn phases(&self) -> Phases {
        let end = self.end.unwrap_or_else(Instant::now);
        // Whole microseconds throughout: the report shows microseconds, and integer sums keep
        // `7.953` from becoming `7.952999999999999` when the remainder is added below.
        let mut prev = self.start;
        let mut out = [0u128; 6];
        for p in Phase::ALL {
            let at = self.ends[p as usize].map(|t| t.max(prev).min(end));
            if let Some(t) = at {
                out[p as usize] = (t - self.start).as_micros() - (prev - self.start).as_micros();
                prev = t;
            }
        }
        // Whatever is left (e.g. hyper's handshake before the first write) belongs to the last
        // phase reached, so that the phases add up to the total.
        let total = (end - self.start).as_micros();
        let sum: u128 = out.iter().sum();
        let last = Phase::ALL
            .into_iter()
            .rev()
            .find(|p| self.ends[*p as usize].is_some())
            .unwrap_or(Phase::Dns);
        out[last as usize] += total.saturating_sub(sum);
        let ms = |us: u128| us as f64 / 1000.0;
        Phases {
            dns: ms(out[0]),
            connect: ms(out[1]),
            tls: ms(out[2]),
            send: ms(out[3]),
            ttfb: ms(out[4]),
            transfer: ms(out[5]),
            total: ms(total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{TargetDefaults, TargetSpec};

    fn target(url: &str) -> Target {
        TargetSpec {
            stage: Some("TEST".into()),
            headers: [("x-custom".to_owned(), "1".to_owned())].into(),
            ..TargetSpec::from_url(url)
        }
        .build(
            &TargetDefaults {
                region: None,
                timeout: Duration::from_secs(1),
                max_samples: 5,
                credentials: Default::default(),
                signing_hosts: Default::default(),
            },
            Origin::Config,
        )
        .unwrap()
    }

    #[test]
    fn request_keeps_the_original_host_and_sends_the_stage() {
        let (r, sts) = build_request(&target(
            "http://g-cn-shanghai-vpc.alicloudapi.com/web/x?a=1",
        ))
        .unwrap();
        assert!(sts.is_none(), "no auth configured, nothing signed");
        assert_eq!(r.uri(), "/web/x?a=1");
        assert_eq!(r.headers()["host"], "g-cn-shanghai-vpc.alicloudapi.com");
        assert_eq!(r.headers()["x-ca-stage"], "TEST");
        assert_eq!(r.headers()["x-custom"], "1");
        let (r, _) = build_request(&target("https://h.example:8443/")).unwrap();
        assert_eq!(r.headers()["host"], "h.example:8443");
    }

    #[test]
    fn app_signature_covers_the_request_as_sent() {
        let mut t = target("http://g.alicloudapi.com/v1/items?b=2&a=%E4%B8%AD");
        t.method = hyper::Method::POST;
        t.body = Bytes::from_static(b"{\"n\":1}");
        t.auth = Auth::App {
            key: "203753385".into(),
            secret: crate::secret::Secret::new("s3cr3t").unwrap(),
            method: sign::SignatureMethod::HmacSha256,
        };
        let (r, sts) = build_request(&t).unwrap();
        let sts = sts.unwrap();
        let h = r.headers();
        assert_eq!(h["x-ca-key"], "203753385");
        assert_eq!(
            h["x-ca-signature-headers"],
            "x-ca-key,x-ca-nonce,x-ca-signature-method,x-ca-stage,x-ca-timestamp"
        );
        assert_eq!(h["content-md5"], sign::content_md5(b"{\"n\":1}").as_str());
        assert!(sts.ends_with("\n/v1/items?a=中&b=2"), "{sts}");
        assert!(sts.contains("x-ca-stage:TEST\n"), "{sts}");
        assert!(!sts.contains("s3cr3t"));
        let expected = sign::signature(sign::SignatureMethod::HmacSha256, b"s3cr3t", &sts);
        assert_eq!(h["x-ca-signature"], expected.as_str());
        // Fresh nonce per request.
        let (r2, _) = build_request(&t).unwrap();
        assert_ne!(r2.headers()["x-ca-nonce"], h["x-ca-nonce"]);
    }

    #[test]
    fn every_request_carries_the_hop_header_outside_the_signature() {
        let mut t = target("http://g.alicloudapi.com/");
        // A target cannot take it away.
        t.headers.push((
            hyper::header::HeaderName::from_static(PROBE_HOP_HEADER),
            HeaderValue::from_static("0"),
        ));
        t.auth = Auth::App {
            key: "203753385".into(),
            secret: crate::secret::Secret::new("s3cr3t").unwrap(),
            method: sign::SignatureMethod::HmacSha256,
        };
        let (r, sts) = build_request(&t).unwrap();
        assert_eq!(r.headers()[PROBE_HOP_HEADER], "1");
        let signed = r.headers()["x-ca-signature-headers"].to_str().unwrap();
        assert!(!signed.contains("hop"), "{signed}");
        assert!(!sts.unwrap().to_ascii_lowercase().contains("hop"));
    }

    #[test]
    fn appcode_goes_in_authorization() {
        let mut t = target("http://g.alicloudapi.com/");
        t.auth = Auth::AppCode(crate::secret::Secret::new("c0de").unwrap());
        let (r, sts) = build_request(&t).unwrap();
        assert_eq!(r.headers()["authorization"], "APPCODE c0de");
        assert!(r.headers()["authorization"].is_sensitive());
        assert!(sts.is_none());
    }

    #[test]
    fn legacy_message_only_answers_map_to_gateway_classes() {
        let t = target("http://g.alicloudapi.com/");
        let ctx = HintContext::default();
        let judge_headers = |status: u16, pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            let progress = Progress {
                head: Some((status, h.clone())),
                ..Progress::default()
            };
            let sample = Sample {
                gateway: Some(gateway_info(&h)),
                ..Sample::default()
            };
            judge(&t, &progress, &sample, Some("GET\n"), &ctx).unwrap_err()
        };
        let e = judge_headers(400, &[("x-ca-error-message", "Invalid Domain")]);
        assert_eq!(e.class, ErrorClass::Gateway("I404DO".into()));
        let e = judge_headers(400, &[("x-ca-error-message", "Timestamp Expired")]);
        assert_eq!(e.class, ErrorClass::HttpStatus);
        assert!(e.message.contains("from API Gateway"), "{e}");
        assert!(e.hint.contains("clock"), "{e}");
        let e = judge_headers(502, &[("x-ca-request-id", "r")]);
        assert_eq!(e.class, ErrorClass::HttpStatus);
        assert!(e.message.contains("backend"), "{e}");
    }

    #[test]
    fn gateway_codes_must_look_like_codes() {
        let mut h = HeaderMap::new();
        h.insert("x-ca-request-id", HeaderValue::from_static("r-1"));
        h.insert("x-ca-error-code", HeaderValue::from_static("I404NF"));
        h.insert(
            "x-ca-error-message",
            HeaderValue::from_static("API not found"),
        );
        let g = gateway_info(&h);
        assert_eq!(g.error_code.as_deref(), Some("I404NF"));
        assert_eq!(g.request_id.as_deref(), Some("r-1"));
        h.insert("x-ca-error-code", HeaderValue::from_static("a.b c"));
        assert_eq!(gateway_info(&h).error_code, None);
    }

    #[test]
    fn phases_add_up_to_the_total_on_success_and_failure() {
        let base = Instant::now();
        let at = |us: u64| base + Duration::from_micros(us);
        let mut clock = Clock {
            start: base,
            sample_deadline: at(10_000_000),
            budget: at(10_000_000),
            ends: [None; 6],
            end: None,
            stopping: Stopping::never(),
        };
        clock.ends = [
            Some(at(1_234)),
            Some(at(1_900)),
            Some(at(1_901)),
            None,
            None,
            None,
        ];
        clock.wire(&Progress {
            sent: Some(at(2_000)),
            first_byte: Some(at(7_777)),
            done: Some(at(8_001)),
            ..Progress::default()
        });
        let p = clock.phases();
        assert_eq!(p.dns, 1.234);
        assert_eq!(p.ttfb, 5.777);
        assert_eq!(p.total, 8.001);
        let sum = p.dns + p.connect + p.tls + p.send + p.ttfb + p.transfer;
        assert!((sum - p.total).abs() < 1e-9, "{p:?}");

        let clock = Clock::start(
            Instant::now() + Duration::from_secs(1),
            Duration::from_secs(1),
            &Stopping::never(),
        );
        let sample = Sample::default();
        std::thread::sleep(Duration::from_millis(2));
        let failed = clock.fail(sample, Phase::Connect, ProbeError::config("x"));
        let p = failed.phases_ms;
        assert!(!failed.ok);
        assert!(p.connect >= 2.0 && p.total >= p.connect, "{p:?}");
        let sum = p.dns + p.connect + p.tls + p.send + p.ttfb + p.transfer;
        assert!((sum - p.total).abs() < 1e-9, "{p:?}");
    }

    #[tokio::test]
    async fn a_stopping_function_ends_the_phase_in_flight_as_budget_exceeded() {
        let (stop, receiver) = watch::channel(false);
        let stopping = Stopping::new(receiver);
        let clock = Clock::start(
            Instant::now() + Duration::from_secs(60),
            Duration::from_secs(60),
            &stopping,
        );
        let ctx = HintContext::default();
        let waiting = clock.limit(Phase::Ttfb, Duration::MAX, &ctx, async {
            std::future::pending::<Result<(), ProbeError>>().await
        });
        let started = Instant::now();
        let (result, ()) = tokio::join!(waiting, async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stop.send(true);
        });
        let e = result.unwrap_err();
        assert_eq!(e.class, ErrorClass::BudgetExceeded);
        assert!(
            e.message.contains("stopping") && e.message.contains("ttfb"),
            "{e}"
        );
        assert!(e.hint.contains("APIGW_SHUTDOWN_GRACE_MS"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
        // A phase that starts afterwards does not run at all.
        let ran = std::sync::atomic::AtomicBool::new(false);
        let e = clock
            .limit(Phase::Dns, Duration::MAX, &ctx, async {
                ran.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::BudgetExceeded);
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn phases_are_whole_microseconds_that_add_up() {
        // Marks between microseconds: per-phase truncation used to leave a remainder of a
        // microsecond that, added as a float, showed as 7.952999999999999.
        let base = Instant::now();
        for step in 0..500u64 {
            let at = |ns: u64| base + Duration::from_nanos(ns);
            let clock = Clock {
                start: base,
                sample_deadline: at(u64::MAX / 4),
                budget: at(u64::MAX / 4),
                ends: [
                    Some(at(1_500 + step * 7)),
                    Some(at(3_000 + step * 13)),
                    Some(at(3_000 + step * 13)),
                    Some(at(4_999 + step * 17)),
                    Some(at(6_451_500 + step * 1_001)),
                    Some(at(7_952_999 + step * 1_999)),
                ],
                end: Some(at(7_953_700 + step * 1_999)),
                stopping: Stopping::never(),
            };
            let p = clock.phases();
            let mut sum_us = 0u64;
            for (name, v) in p.named().into_iter().chain([("total", p.total)]) {
                let text = serde_json::to_string(&v).unwrap();
                let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
                assert!(decimals <= 3, "{name} = {text} (step {step})");
                if name != "total" {
                    sum_us += (v * 1000.0).round() as u64;
                }
            }
            assert_eq!(sum_us, (p.total * 1000.0).round() as u64, "{p:?}");
        }
    }

    #[test]
    fn budget_is_fc_timeout_less_margin_capped_by_the_deadline() {
        let prober = Prober::new(Arc::new(Settings::default()));
        assert_eq!(prober.budget(None), Duration::from_secs(60));
        assert_eq!(
            prober.budget(Some(Duration::from_secs(3))),
            Duration::from_millis(2500)
        );
        assert_eq!(prober.budget(Some(Duration::from_millis(100))), MIN_BUDGET);
    }
}
