//! The prober: event → targets → resolve → connect → call → report.
//!
//! Like blackbox_exporter's HTTP prober: resolve first, dial the chosen address keeping the
//! original `Host` and SNI, timestamp each phase, and derive the durations once at the end.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use tokio::sync::OnceCell;

use crate::apigw::answer::{gateway_info, judge};
use crate::apigw::request::build_request;
use crate::call::Exchange;
use crate::config::Settings;
use crate::error::{ErrorClass, HintContext, ProbeError};
use crate::event::{self, Selection};
use crate::logline::TargetLine;
use crate::report::{
    self, AddressReport, BodyBudget, DnsReport, DnsSource, FailedPhase, FunctionInfo, GatewayInfo,
    Latency, Report, Sample, TargetReport, TimerInfo, Trigger,
};
use crate::resolve::Resolver;
use crate::scope::Scope;
use crate::target::{bracket, AddressMode, Origin, Target};
use crate::timing::{Clock, Phase, Stopping};
use crate::{certs, connect, expect, policy};

/// The shortest budget an invocation gets, whatever FC's timeout says.
const MIN_BUDGET: Duration = Duration::from_millis(50);

/// The most addresses `addresses: "all"` calls in a round (a warning says when the answer had
/// more): the calls run at once, each may keep 64 KiB of body for the assertions, and API
/// Gateway's VPC domains answer one or two.
pub const MAX_ADDRESSES: usize = 8;

/// The least time a retry must have before the invocation's deadline, beside its wait: a retry
/// that could only end as `budget.exceeded` would hide the class of the attempt before it.
const MIN_ATTEMPT: Duration = Duration::from_millis(100);

/// One request to probe: what to probe and within which limits.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// How the invocation came in (event, HTTP trigger, timer, command line).
    pub trigger: Trigger,
    /// The request id: FC's `x-fc-request-id`, or one made up.
    pub request_id: String,
    /// Which targets to probe.
    pub selection: Selection,
    /// Origin of targets written in the invocation itself: [`Origin::Request`] for events and
    /// HTTP requests (checked against the allow-list), [`Origin::Cli`] for the calling program.
    pub origin: Origin,
    /// FC's function timeout (`x-fc-function-timeout`), if known.
    pub function_timeout: Option<Duration>,
    /// The function's region for hints (`x-fc-region`, else settings).
    pub function_region: Option<String>,
    /// FC's context for the report (name, region, memory, timeout).
    pub function: Option<FunctionInfo>,
    /// The timer trigger's fields, for timer invocations.
    pub timer: Option<TimerInfo>,
    /// `--resolve host:port:addr` entries (CLI only).
    pub resolve: Vec<(String, u16, IpAddr)>,
    /// The configuration cross-check's credentials and function identity (the runtime: FC's
    /// headers; the `check` command: a CLI profile). `None`: no cross-check.
    pub cross_check: Option<crate::crosscheck::CrossCheck>,
    /// What the pushed metrics need from the invocation (the role's credentials, the
    /// function's region). `None`: this invocation pushes nothing; with it, the sinks of
    /// `APIGW_REMOTE_WRITE_URL` / `APIGW_CMS_METRICS` are pushed when `APIGW_PUSH_TRIGGERS`
    /// names the trigger (see [`crate::push`]).
    pub push: Option<crate::push::PushContext>,
}

impl Invocation {
    /// An invocation with no FC context, by the program itself (the command line, or another
    /// program using this library): its targets are trusted like the configuration's, so no
    /// allow-list applies. The runtime sets `origin` to [`Origin::Request`] for what callers
    /// send.
    pub fn new(trigger: Trigger, request_id: impl Into<String>, selection: Selection) -> Self {
        Self {
            trigger,
            request_id: request_id.into(),
            selection,
            origin: Origin::Cli,
            function_timeout: None,
            function_region: None,
            function: None,
            timer: None,
            resolve: Vec::new(),
            cross_check: None,
            push: None,
        }
    }
}

/// Holds what probes share: settings, the resolver and the TLS configuration. Both are built on
/// first use, so that start-up does no I/O.
///
/// ```no_run
/// use std::sync::Arc;
/// use apigw_vpc_probe::{report::Trigger, Invocation, Prober, Selection, Settings, TargetSpec};
///
/// # async fn run() -> Result<(), apigw_vpc_probe::ProbeError> {
/// let prober = Prober::new(Arc::new(Settings::from_env()));
/// let url = "http://0123456789abcdef0123456789abcdef-cn-shanghai-vpc.alicloudapi.com/web/cloudapi";
/// let selection = Selection::Specs(vec![TargetSpec::from_url(url)]);
/// let report = prober.run(Invocation::new(Trigger::Cli, "my-run-1", selection)).await?;
/// for target in &report.targets {
///     match &target.error {
///         None => println!("{} ok", target.name),
///         Some(e) => println!("{} {}: {}", target.name, e.class, e.hint),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct Prober {
    settings: Arc<Settings>,
    configured: event::Configured,
    resolver: OnceCell<Result<Arc<Resolver>, ProbeError>>,
    tls: OnceCell<Result<Arc<rustls::ClientConfig>, ProbeError>>,
    /// The OpenAPI client's transport for the cross-check, built on first use.
    openapi: std::sync::OnceLock<crate::openapi::Transport>,
    stopping: Stopping,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Prober {
    /// A prober for `settings`; builds the configured targets, does no I/O.
    pub fn new(settings: Arc<Settings>) -> Self {
        Self {
            configured: event::Configured::build(&settings),
            settings,
            resolver: OnceCell::new(),
            tls: OnceCell::new(),
            openapi: std::sync::OnceLock::new(),
            stopping: Stopping::never(),
        }
    }

    /// Samples in flight end when `stopping` fires.
    pub fn stop_on(mut self, stopping: Stopping) -> Self {
        self.stopping = stopping;
        self
    }

    /// The settings it probes with.
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
        // A pushing invocation keeps the push's share of the budget back from the probes and
        // the cross-check, so that even a probe that ran out of time gets its failure pushed.
        let push = inv
            .push
            .as_ref()
            .filter(|_| self.settings.push.applies(inv.trigger));
        let share = match push {
            Some(_) => self.settings.push.share(budget),
            None => Duration::ZERO,
        };
        let end = started + budget;
        let deadline = end - share;
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
            let cross = inv.cross_check.as_ref();
            async move {
                match planned {
                    Ok(mut target) => {
                        let overridden = resolve.iter().find(|r| resolve_applies(r, &target));
                        if let Some((_, _, ip)) = overridden {
                            target.address_override = Some(*ip);
                        }
                        let subject = cross.map(|_| crate::crosscheck::Subject::of(&target));
                        let mut report = self
                            .probe_target(target, deadline, region.as_deref(), bodies)
                            .await;
                        // After the probe, in what is left of the deadline (crosscheck docs).
                        if let (Some(cross), Some(subject)) = (cross, subject) {
                            // Boxed: the cross-check's state (12 KB) would otherwise be part
                            // of every target's future, checked or not.
                            Box::pin(crate::crosscheck::run(
                                &self.settings,
                                &self.openapi,
                                cross,
                                &subject,
                                &mut report,
                                deadline,
                            ))
                            .await;
                        }
                        report
                    }
                    Err(failed) => *failed,
                }
            }
        });
        let targets = futures_util::future::join_all(probes).await;

        let duration_ms = report::ms(started.elapsed());
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
            push: None,
        };
        // Logged after the clock stopped (writing the lines is not part of what is measured)
        // and before the report is cut to size: one flat line per target for SLS.
        let redactor = crate::redact::current();
        for t in &report.targets {
            let config_check = t.config_check.as_ref().map(|c| c.verdict.name());
            TargetLine::new(
                report.trigger,
                &report.request_id,
                t,
                config_check,
                &redactor,
            )
            .emit();
        }
        // After the probes and the cross-check, before the report is cut to size (the series
        // come from the whole report), within what is left of the invocation's deadline.
        if let Some(ctx) = push {
            let transport = self
                .openapi
                .get_or_init(|| crate::openapi::Transport::new(&self.settings));
            let time_ms = crate::push::epoch_ms(SystemTime::now());
            // Boxed, as the cross-check: only the invocations that push pay for its state.
            let pushed = Box::pin(crate::push::run(
                &self.settings,
                transport,
                ctx,
                &report,
                time_ms,
                end,
            ));
            report.push = Some(pushed.await);
        }
        report.fit(self.settings.max_report_bytes);
        Ok(report)
    }

    /// Probes one target: its samples one after the other, each on a fresh connection (with
    /// `addresses: "all"`, one per resolved address, at once).
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
            flaky: false,
            dns: None,
            samples: Vec::with_capacity(target.samples as usize),
            samples_omitted: 0,
            latency_ms: None,
            addresses: Vec::new(),
            warnings: Vec::new(),
            error: None,
            config_check: None,
        };
        let notes = Mutex::new(Vec::new());
        let mut rounds = 0;
        for index in 0..target.samples {
            let job = Job {
                target: &target,
                ctx: &ctx,
                budget: deadline,
                keep_body: target.return_body.keeps(index) && !bodies.is_spent(),
                notes: &notes,
            };
            let (samples, dns) = match target.addresses {
                AddressMode::First => {
                    let (sample, dns) = self.sample_with_retries(&job).await;
                    (vec![sample], dns)
                }
                AddressMode::All => self.round_all(&job).await,
            };
            if report.dns.is_none() {
                report.dns = dns;
            }
            let mut stop = false;
            for mut sample in samples {
                if let Some(body) = sample.body.take() {
                    let (text, cut) = bodies.take(&body);
                    sample.body_truncated |= cut;
                    // A cut may have kept the start of a secret: mask it.
                    sample.body = Some(match cut {
                        true => crate::redact::current().redact_cut(&text),
                        false => text,
                    });
                }
                stop |= sample.error.as_ref().is_some_and(|e| {
                    matches!(
                        e.class,
                        ErrorClass::BudgetExceeded
                            | ErrorClass::TargetForbidden
                            | ErrorClass::ConfigInvalid
                    )
                });
                report.samples.push(sample);
            }
            rounds += 1;
            if stop {
                break;
            }
        }

        if let Some(dns) = &report.dns {
            if dns.scope == Some(Scope::Public) && ctx.vpc_domain {
                report.warnings.push(format!(
                    "{} is a VPC second-level domain but resolves to a public address ({}): traffic would leave the VPC; check the function's DNS (customDNS, PrivateZone)",
                    dns.host,
                    dns.addresses.join(", ")
                ));
            }
        }
        report
            .warnings
            .extend(notes.into_inner().unwrap_or_else(PoisonError::into_inner));
        let answered: Vec<f64> = report
            .samples
            .iter()
            .filter(|s| s.status.is_some())
            .map(|s| s.phases_ms.total)
            .collect();
        report.latency_ms = Latency::of(&answered);
        if target.addresses == AddressMode::All {
            report.addresses = per_address(&report.samples);
        }
        report.flaky = report.samples.iter().any(|s| s.flaky);
        report.error = target_error(&report);
        let complete = rounds == target.samples;
        if report.error.is_none() && complete {
            report.error = expect::check_percentiles(
                &target.expect,
                report.latency_ms.as_ref(),
                answered.len(),
                &ctx,
            );
        }
        report.ok = report.error.is_none() && complete;
        report
    }

    /// A sample with `addresses: "first"`, tried again while it fails with a transport class
    /// and `retry` allows: the last attempt is the sample, the earlier ones its `attempts`.
    async fn sample_with_retries(&self, job: &Job<'_>) -> (Sample, Option<DnsReport>) {
        let mut attempts = Vec::new();
        let mut last_dns = None;
        loop {
            let (mut sample, dns) = self.sample(job).await;
            last_dns = dns.or(last_dns);
            if self.retry_after(job, &mut sample, attempts.len()).await {
                attempts.push(attempt(sample));
                continue;
            }
            with_attempts(&mut sample, attempts);
            return (sample, last_dns);
        }
    }

    /// One round of `addresses: "all"`: resolve (tried again as a sample is), then call every
    /// address at once, each tried again on its own.
    async fn round_all(&self, job: &Job<'_>) -> (Vec<Sample>, Option<DnsReport>) {
        let mut attempts = Vec::new();
        let (resolved, tls) = loop {
            let failed = match self.tools(job.target).await {
                Ok(tools) => match self.resolve(job, tools.lookup).await {
                    Ok(resolved) => break (resolved, tools.tls),
                    Err(failed) => failed,
                },
                Err(e) => (self.clock(job).fail(Sample::default(), Phase::Dns, e), None),
            };
            let (mut sample, dns) = failed;
            if self.retry_after(job, &mut sample, attempts.len()).await {
                attempts.push(attempt(sample));
                continue;
            }
            with_attempts(&mut sample, attempts);
            return (vec![sample], dns);
        };
        let Resolved {
            addresses,
            dns,
            clock,
        } = resolved;
        if addresses.len() > MAX_ADDRESSES {
            push_note(
                job.notes,
                format!(
                    "{} resolves to {} addresses; addresses \"all\" calls the first {MAX_ADDRESSES}",
                    job.target.host,
                    addresses.len()
                ),
            );
        }
        let calls = addresses.iter().take(MAX_ADDRESSES).map(|ip| {
            let clock = clock.clone();
            let tls = tls.clone();
            async move {
                // A fresh request (its own nonce) per call; signing it counts into connect,
                // a few microseconds.
                let first = match build_request(job.target) {
                    Ok(request) => self.call(job, clock, *ip, request, tls.clone()).await,
                    Err(e) => clock.fail(Sample::default(), Phase::Connect, e),
                };
                self.call_with_retries(job, first, *ip, tls).await
            }
        });
        let mut samples = futures_util::future::join_all(calls).await;
        // Failed lookups of this round belong to its first call.
        if let Some(first) = samples.first_mut() {
            if !attempts.is_empty() {
                attempts.append(&mut first.attempts);
                with_attempts(first, attempts);
            }
        }
        (samples, Some(dns))
    }

    /// Tries a call to one address again (not resolving again: such an attempt's `dns` is 0)
    /// while it fails with a transport class and `retry` allows.
    async fn call_with_retries(
        &self,
        job: &Job<'_>,
        mut sample: Sample,
        ip: IpAddr,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Sample {
        let mut attempts = Vec::new();
        while self.retry_after(job, &mut sample, attempts.len()).await {
            attempts.push(attempt(sample));
            let mut clock = self.clock(job);
            clock.skip(Phase::Dns);
            sample = match build_request(job.target) {
                Ok(request) => self.call(job, clock, ip, request, tls.clone()).await,
                Err(e) => clock.fail(Sample::default(), Phase::Connect, e),
            };
        }
        with_attempts(&mut sample, attempts);
        sample
    }

    /// Whether a failed attempt is tried again: its class is a transport one, `retry` has
    /// attempts left, and the wait and another attempt fit the invocation's deadline. Waits
    /// the interval when so (unless the function is stopping).
    async fn retry_after(&self, job: &Job<'_>, sample: &mut Sample, done: usize) -> bool {
        let retry = job.target.retry;
        let Some(e) = sample.error.as_mut() else {
            return false;
        };
        if !e.class.is_transport() || done >= retry.count as usize {
            return false;
        }
        if Instant::now() + retry.interval() + MIN_ATTEMPT >= job.budget {
            e.message.push_str(
                " (not tried again: the wait and another attempt do not fit the invocation's deadline)",
            );
            return false;
        }
        tokio::select! {
            biased;
            () = self.stopping.fired() => false,
            () = tokio::time::sleep(retry.interval()) => true,
        }
    }

    /// One sample with `addresses: "first"`: resolve, then call the first IPv4 address of the
    /// answer (else the first), each step under its own limit.
    async fn sample(&self, job: &Job<'_>) -> (Sample, Option<DnsReport>) {
        // Prepared first: work that must not count towards any network phase (the first
        // sample would otherwise pay for reading resolv.conf and loading the CA roots).
        let prepared = async {
            let request = build_request(job.target)?;
            Ok::<_, ProbeError>((request, self.tools(job.target).await?))
        };
        let (request, tools) = match prepared.await {
            Ok(p) => p,
            Err(e) => {
                let mut failed = self.clock(job).fail(Sample::default(), Phase::Dns, e);
                // Nothing went on the network: the time is the dns phase's, the failure not.
                failed.failed_phase = Some(FailedPhase::Setup);
                return (failed, None);
            }
        };
        let resolved = match self.resolve(job, tools.lookup).await {
            Ok(resolved) => resolved,
            Err(failed) => return failed,
        };
        let ip = resolved
            .addresses
            .iter()
            .copied()
            .find(IpAddr::is_ipv4)
            .unwrap_or(resolved.addresses[0]);
        let sample = self.call(job, resolved.clock, ip, request, tools.tls).await;
        (sample, Some(resolved.dns))
    }

    /// The resolver (or the given address) and the TLS configuration a sample needs.
    async fn tools(&self, target: &Target) -> Result<Tools, ProbeError> {
        let lookup = match target.address_override {
            Some(ip) => Lookup::Given(ip),
            None => Lookup::Resolve(self.resolver().await?),
        };
        let tls = match target.https {
            true => Some(self.tls().await?),
            false => None,
        };
        Ok(Tools { lookup, tls })
    }

    /// A clock for a sample of `job`, started now.
    fn clock(&self, job: &Job<'_>) -> Clock {
        Clock::start(job.budget, job.target.timeout, &self.stopping)
    }

    /// The dns phase: the answer (or the given address), each address checked against the
    /// policy before any is dialled. The clock starts here.
    async fn resolve(
        &self,
        job: &Job<'_>,
        lookup: Lookup,
    ) -> Result<Resolved, (Sample, Option<DnsReport>)> {
        let (target, ctx, s) = (job.target, job.ctx, &self.settings);
        let sample = Sample::default();
        let mut clock = self.clock(job);
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
                // Boxed: the lookup's state (4 KB) is needed only for names, not for the
                // IP literals and given addresses that skip it.
                let result = Box::pin(clock.limit(
                    Phase::Dns,
                    s.dns_timeout,
                    ctx,
                    resolver.resolve(&target.host, ctx),
                ))
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
                        return Err((clock.fail(sample, Phase::Dns, e), Some(dns)));
                    }
                }
            }
        };

        // Never dial a forbidden address, whichever of the answers would be chosen.
        if let Some(e) = addresses.iter().find_map(|ip| {
            policy::check_address(&target.host, *ip, target.origin, &s.allow_hosts).err()
        }) {
            return Err((clock.fail(sample, Phase::Connect, e), Some(dns)));
        }
        Ok(Resolved {
            addresses,
            dns,
            clock,
        })
    }

    /// One call to `ip` after the dns phase: connect, TLS, request, response, then the answer
    /// judged (status, API Gateway's codes) and checked against `expect`.
    async fn call(
        &self,
        job: &Job<'_>,
        mut clock: Clock,
        ip: IpAddr,
        (request, string_to_sign): (Request<Full<Bytes>>, Option<String>),
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Sample {
        let (target, ctx, s) = (job.target, job.ctx, &self.settings);
        let mut sample = Sample::default();
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
            Err(e) => return clock.fail(sample, Phase::Connect, e),
        };
        clock.mark(Phase::Connect);

        // Request, over TLS or not. The body is kept when the report returns it or an
        // assertion reads it.
        let mut exchange = Exchange::new(job.keep_body || target.expect.reads_body());
        let mut seen = None;
        let stream: Box<dyn connect::Io> = match tls {
            Some(tls) => {
                // Boxed: the handshake's state (4 KB) is needed only until it ends, not for
                // the whole exchange of every call, http or https.
                let handshake = Box::pin(clock.limit(
                    Phase::Tls,
                    s.tls_timeout,
                    ctx,
                    connect::tls(stream, &target.host, tls, ctx),
                ));
                let tls_stream = match handshake.await {
                    Ok(stream) => stream,
                    Err(e) => return clock.fail(sample, Phase::Tls, e),
                };
                clock.mark(Phase::Tls);
                // Copied now (a few KB), parsed once the clock stopped.
                seen = Some(certs::Seen::of(tls_stream.get_ref().1));
                Box::new(tls_stream)
            }
            None => {
                clock.skip(Phase::Tls);
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
            sample.http_version = progress.version.map(|v| format!("{v:?}"));
            sample.content_length = headers
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let gateway = gateway_info(headers);
            if gateway != GatewayInfo::default() {
                sample.gateway = Some(gateway);
            }
        }
        if job.keep_body && progress.head.is_some() {
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
            let mut sample = clock.fail(sample, phase, e);
            sample.tls = seen.map(|seen| seen.facts(SystemTime::now()));
            return sample;
        }
        // The exchange completed: the phases stand, whatever the status says.
        sample.phases_ms = clock.phases();
        sample.tls = seen.map(|seen| seen.facts(SystemTime::now()));
        if target.show_string_to_sign {
            sample.string_to_sign.clone_from(&string_to_sign);
        }
        let mut failed = Vec::new();
        match judge(target, &progress, &sample, string_to_sign.as_deref(), ctx) {
            Err(e) => failed.push(e),
            // The status passed: now the rest of what the target expects.
            Ok(()) => {
                if let Some((_, headers)) = &progress.head {
                    let answer = expect::Answer {
                        headers,
                        body: &progress.body,
                        bytes: progress.bytes,
                        total_ms: sample.phases_ms.total,
                        tls: sample.tls.as_ref(),
                    };
                    let checked = expect::check(&target.expect, target.https, &answer, ctx);
                    failed.extend(checked.errors);
                    for note in checked.warnings {
                        push_note(job.notes, note);
                    }
                }
            }
        }
        sample.error = first_of(failed);
        sample.ok = sample.error.is_none();
        if !sample.ok {
            // The exchange completed: what failed is the answer (status, gateway code, an
            // assertion), not a phase.
            sample.failed_phase = Some(FailedPhase::Answer);
        }
        sample
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
            .get_or_init(|| async { connect::tls_config(&self.settings.ca_roots) })
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

/// What every step of one sample works with.
struct Job<'a> {
    target: &'a Target,
    ctx: &'a HintContext,
    /// The invocation's deadline.
    budget: Instant,
    /// Whether the report keeps this sample's body.
    keep_body: bool,
    /// Warnings for the target (assertions that could check only part of the body, …).
    notes: &'a Mutex<Vec<String>>,
}

/// What a sample is prepared with before its clock starts.
struct Tools {
    lookup: Lookup,
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// The outcome of the dns phase: the addresses (none of them forbidden), the target's `dns`
/// entry, and the clock with the dns phase marked.
struct Resolved {
    addresses: Vec<IpAddr>,
    dns: DnsReport,
    clock: Clock,
}

/// Adds a warning for the target once.
fn push_note(notes: &Mutex<Vec<String>>, note: String) {
    let mut notes = notes.lock().unwrap_or_else(PoisonError::into_inner);
    if !notes.contains(&note) {
        notes.push(note);
    }
}

/// A failed attempt as kept in the next one's `attempts`: without the body, which went through
/// no body budget.
fn attempt(mut sample: Sample) -> Sample {
    sample.body = None;
    sample.body_truncated = false;
    sample
}

/// Puts the earlier `attempts` into the last one, marking it flaky when it passed.
fn with_attempts(sample: &mut Sample, attempts: Vec<Sample>) {
    sample.flaky = sample.ok && !attempts.is_empty();
    sample.attempts = attempts;
}

/// A sample's error: the first failure, with the classes of the others named.
fn first_of(failed: Vec<ProbeError>) -> Option<ProbeError> {
    let mut failed = failed.into_iter();
    let mut first = failed.next()?;
    let more: Vec<String> = failed.map(|e| e.class.name().into_owned()).collect();
    if !more.is_empty() {
        first.message = format!(
            "{} (and {} more failed: {})",
            first.message,
            more.len(),
            more.join(", ")
        );
    }
    Some(first)
}

/// The address of a sample's `remote`.
fn address_of(sample: &Sample) -> Option<String> {
    let remote: SocketAddr = sample.remote.as_deref()?.parse().ok()?;
    Some(remote.ip().to_string())
}

/// The `addresses` entries of an `addresses: "all"` target, in the order first called.
fn per_address(samples: &[Sample]) -> Vec<AddressReport> {
    let mut order: Vec<String> = Vec::new();
    for s in samples {
        if let Some(a) = address_of(s).filter(|a| !order.contains(a)) {
            order.push(a);
        }
    }
    order
        .into_iter()
        .map(|address| {
            let calls: Vec<&Sample> = samples
                .iter()
                .filter(|s| address_of(s).as_deref() == Some(address.as_str()))
                .collect();
            let answered: Vec<f64> = calls
                .iter()
                .filter(|s| s.status.is_some())
                .map(|s| s.phases_ms.total)
                .collect();
            let error = calls.iter().find_map(|s| s.error.clone());
            AddressReport {
                ok: error.is_none(),
                samples: calls.len() as u32,
                failed: calls.iter().filter(|s| s.error.is_some()).count() as u32,
                latency_ms: Latency::of(&answered),
                error,
                address,
            }
        })
        .collect()
}

/// The target's error: its first failing sample's; with `addresses: "all"` naming the addresses
/// that failed.
fn target_error(report: &TargetReport) -> Option<ProbeError> {
    let first = report.samples.iter().find(|s| s.error.is_some())?;
    let mut error = first.error.clone()?;
    let failing: Vec<&str> = report
        .addresses
        .iter()
        .filter(|a| !a.ok)
        .map(|a| a.address.as_str())
        .collect();
    if let Some(address) = address_of(first).filter(|_| !failing.is_empty()) {
        error.message = format!(
            "{} of {} addresses failed ({}); {address}: {}",
            failing.len(),
            report.addresses.len(),
            failing.join(", "),
            error.message
        );
    }
    Some(error)
}

/// How a sample gets its address.
enum Lookup {
    /// From the URL (an IP literal) or `--resolve`.
    Given(IpAddr),
    /// From DNS.
    Resolve(Arc<Resolver>),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crosscheck::CrossCheck;
    use crate::openapi::Credentials;
    use crate::report::Trigger;
    use crate::target::TargetSpec;

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

    #[tokio::test]
    async fn a_succeeding_invocation_builds_no_openapi_transport() {
        let backend = apigw_standin::Backend::start(([127, 0, 0, 1], 0).into())
            .await
            .unwrap();
        let url = format!("http://{}/web/cloudapi", backend.addr());
        let prober = Prober::new(Arc::new(Settings::default()));
        let mut inv = Invocation::new(
            Trigger::Cli,
            "r-1",
            Selection::Specs(vec![TargetSpec::from_url(url)]),
        );
        // Role credentials: the check's mode is `on-failure`.
        inv.cross_check = Some(CrossCheck {
            credentials: Credentials::new(
                Some("LTAI-test".into()),
                Some("role-secret-0123456789".into()),
                None,
            ),
            function: Default::default(),
            mode: None,
        });
        let report = prober.run(inv).await.unwrap();
        assert!(report.ok, "{report:?}");
        assert!(report.targets[0].config_check.is_none());
        assert!(
            prober.openapi.get().is_none(),
            "the cross-check's transport (TLS roots, resolver) was built for a target that passed"
        );
    }
}
