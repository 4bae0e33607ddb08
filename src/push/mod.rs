//! Pushed metrics (issue 12): a timer-triggered function cannot be scraped, so after the probe
//! (and the configuration cross-check) it sends the same series `crate::metrics` derives from
//! the report to the sinks that are configured:
//!
//! - `remote_write`: Prometheus remote write 1.0 (`APIGW_REMOTE_WRITE_URL`): any Prometheus,
//!   Mimir, VictoriaMetrics, or SLS MetricStore's Prometheus-compatible endpoint, with BasicAuth
//!   configured explicitly or from the function role's credentials (SLS);
//! - `cms`: CloudMonitor custom metrics (`APIGW_CMS_METRICS=on`, `PutCustomMetric` through the
//!   OpenAPI client).
//!
//! **Which invocations push** (`APIGW_PUSH_TRIGGERS`): the timer's, by default. Events and HTTP
//! requests push only when the setting names them: a caller's targets would otherwise become
//! series (and cost) the operator did not choose, and a `/probe` scrape already hands the
//! series to whoever scrapes.
//!
//! **Time**: when an invocation pushes, its probe (and cross-check) deadline is the
//! invocation's deadline less the push's share, `APIGW_PUSH_BUDGET_MS` (default 2000, at most
//! half the deadline), so that even a probe that ran out of time (`budget.exceeded`) still
//! gets its failure pushed. The sinks are pushed at the same time, each within that share and
//! never past the invocation's deadline.
//!
//! **Failures** are reported in the report's `push` block (one entry per sink: ok, or the
//! error's stable class, message and hint) and logged (one line per sink, through the request's
//! redactor); they never change the report's `ok` or the answer's status.

pub(crate) mod cms;
pub(crate) mod remote_write;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use url::Url;

use crate::config::Settings;
use crate::named::named_enum;
use crate::openapi::{Credentials, Endpoint, EndpointKind, Scheme, Transport};
use crate::report::{PushError, PushReport, Report, SinkReport, Trigger};
use crate::secret::Secret;

named_enum! {
    /// Why a push failed: the `class` of a `push` block's `error`.
    pub enum PushClass as "push class" {
        /// A series or entry broke a documented rule and was not sent (a target name that
        /// cannot be a CloudMonitor dimension, a label the remote write spec forbids).
        Invalid = "push.invalid",
        /// The receiver refused the request (HTTP 4xx, CloudMonitor's `InvalidParameter`…).
        Refused = "push.refused",
        /// The receiver refused the credentials (HTTP 401/403, a RAM denial).
        Denied = "push.denied",
        /// The receiver throttled the request (HTTP 429, `Throttling.*`).
        Throttled = "push.throttled",
        /// The receiver failed (HTTP 5xx), also on the retry.
        Server = "push.server",
        /// The receiver could not be reached: DNS, connect, TLS, or the connection was lost.
        Unreachable = "push.unreachable",
        /// No answer within the push's share of the deadline (`APIGW_PUSH_BUDGET_MS`).
        Timeout = "push.timeout",
        /// Something the push needs is missing: the role's credentials (`role` auth,
        /// CloudMonitor) or the function's region (CloudMonitor).
        Unconfigured = "push.unconfigured",
    }
}

named_enum! {
    /// How remote write authenticates (`APIGW_REMOTE_WRITE_AUTH`).
    pub enum RemoteWriteAuth as "APIGW_REMOTE_WRITE_AUTH" {
        /// No `Authorization` header.
        None = "none",
        /// BasicAuth with `APIGW_REMOTE_WRITE_USERNAME` and the configured password.
        Basic = "basic",
        /// BasicAuth with the function role's credentials, as SLS MetricStore takes them: the
        /// AccessKeyId as the user, the AccessKeySecret (with `$` and the STS token appended
        /// when there is one) as the password.
        Role = "role",
    }
}

named_enum! {
    /// `APIGW_CMS_METRICS`.
    pub enum Switch as "APIGW_CMS_METRICS" {
        /// Push to CloudMonitor.
        On = "on",
        /// Do not.
        Off = "off",
    }
}

/// The remote write sink's settings.
#[derive(Clone, Debug)]
pub struct RemoteWriteSettings {
    /// Where to connect (from `APIGW_REMOTE_WRITE_URL`).
    pub endpoint: Endpoint,
    /// The request target: the URL's path and query.
    pub path: String,
    /// `scheme://host[:port]/path`, as the report shows it (no query: it may hold a token).
    pub shown: String,
    /// `APIGW_REMOTE_WRITE_AUTH`: default `basic` with a user name, else `none`.
    pub auth: RemoteWriteAuth,
    /// `APIGW_REMOTE_WRITE_USERNAME`.
    pub username: Option<String>,
    /// `APIGW_REMOTE_WRITE_PASSWORD`, else the first line of `APIGW_REMOTE_WRITE_PASSWORD_FILE`.
    pub password: Option<Secret>,
    /// `APIGW_REMOTE_WRITE_JOB`: the `job` label. Default `apigw-vpc-probe`.
    pub job: String,
    /// `APIGW_REMOTE_WRITE_LABELS` (`name=value,…`): labels added to every series (e.g. the
    /// region, when several functions write to one receiver). Default none.
    pub labels: Vec<(String, String)>,
}

/// The push's settings (part of [`Settings`]).
#[derive(Clone, Debug)]
pub struct PushSettings {
    /// Prometheus remote write; `None` without `APIGW_REMOTE_WRITE_URL`.
    pub remote_write: Option<RemoteWriteSettings>,
    /// `APIGW_CMS_METRICS`: `on` pushes to CloudMonitor. Default `off`.
    pub cms: bool,
    /// `APIGW_CMS_GROUP_ID`: the CloudMonitor application group of the entries. Default 0
    /// (none).
    pub cms_group_id: u64,
    /// `APIGW_PUSH_TRIGGERS`: the triggers whose invocations push (`timer`, `event`, `http`,
    /// comma-separated). Default `timer`.
    pub triggers: Vec<Trigger>,
    /// `APIGW_PUSH_BUDGET_MS`: the push's share of the invocation's deadline. Default 2000.
    pub budget: Duration,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            remote_write: None,
            cms: false,
            cms_group_id: 0,
            triggers: vec![Trigger::Timer],
            budget: Duration::from_millis(2000),
        }
    }
}

/// Label names the series themselves use (or the spec reserves): `APIGW_REMOTE_WRITE_LABELS`
/// may not set them.
const OWN_LABELS: &[&str] = &[
    "job", "instance", "target", "phase", "class", "scope", "code", "quantile",
];

/// A label name as the remote write spec allows it: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn label_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_loopback(host: &str) -> bool {
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        || host.eq_ignore_ascii_case("localhost")
}

impl PushSettings {
    /// Reads the `APIGW_REMOTE_WRITE_*`, `APIGW_CMS_*` and `APIGW_PUSH_*` settings through
    /// `get`; problems are added to `problems` (each makes every invocation `config.invalid`).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut s = Self::default();
        if let Some(v) = get("APIGW_CMS_METRICS") {
            match v.parse::<Switch>() {
                Ok(on) => s.cms = on == Switch::On,
                Err(e) => problems.push(e.to_string()),
            }
        }
        if let Some(v) = get("APIGW_CMS_GROUP_ID") {
            match v.trim().parse::<u64>() {
                Ok(id) => s.cms_group_id = id,
                Err(_) => problems.push(
                    "APIGW_CMS_GROUP_ID must be a CloudMonitor application group id (a whole number; 0 for none)"
                        .into(),
                ),
            }
        }
        if let Some(v) = get("APIGW_PUSH_TRIGGERS") {
            s.triggers.clear();
            for item in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                match item.to_ascii_lowercase().as_str() {
                    "timer" => s.triggers.push(Trigger::Timer),
                    "event" => s.triggers.push(Trigger::Event),
                    "http" => s.triggers.push(Trigger::Http),
                    _ => problems.push(format!(
                        "APIGW_PUSH_TRIGGERS entry {item:?} is not one of timer, event, http"
                    )),
                }
            }
        }
        if let Some(v) = get("APIGW_PUSH_BUDGET_MS") {
            match v.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => s.budget = Duration::from_millis(ms),
                _ => problems
                    .push("APIGW_PUSH_BUDGET_MS must be a positive number of milliseconds".into()),
            }
        }
        if let Some(url) = get("APIGW_REMOTE_WRITE_URL") {
            match remote_write_settings(url.trim(), &get) {
                Ok(rw) => s.remote_write = Some(rw),
                Err(mut e) => problems.append(&mut e),
            }
        } else {
            for name in [
                "APIGW_REMOTE_WRITE_AUTH",
                "APIGW_REMOTE_WRITE_USERNAME",
                "APIGW_REMOTE_WRITE_PASSWORD",
                "APIGW_REMOTE_WRITE_PASSWORD_FILE",
            ] {
                if get(name).is_some() {
                    problems.push(format!("{name} is set but APIGW_REMOTE_WRITE_URL is not"));
                }
            }
        }
        s
    }

    /// True when an invocation of `trigger` pushes: a sink is configured and the trigger is
    /// one of `APIGW_PUSH_TRIGGERS`.
    pub fn applies(&self, trigger: Trigger) -> bool {
        (self.remote_write.is_some() || self.cms) && self.triggers.contains(&trigger)
    }

    /// The part of an invocation's `budget` kept for the push: `APIGW_PUSH_BUDGET_MS`, at most
    /// half of it.
    pub fn share(&self, budget: Duration) -> Duration {
        self.budget.min(budget / 2)
    }
}

fn remote_write_settings(
    value: &str,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<RemoteWriteSettings, Vec<String>> {
    let mut problems = Vec::new();
    let fail = |m: String| vec![format!("APIGW_REMOTE_WRITE_URL {m}")];
    let url = Url::parse(value).map_err(|e| fail(format!("is not a URL ({e})")))?;
    let scheme = match url.scheme() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => return Err(fail(format!("must be http:// or https://, not {other}://"))),
    };
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(fail("has no host".into())),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(fail(
            "must not carry a user name or password: use APIGW_REMOTE_WRITE_USERNAME and \
             APIGW_REMOTE_WRITE_PASSWORD(_FILE), which are kept out of every output"
                .into(),
        ));
    }
    if url.fragment().is_some() {
        return Err(fail("must not have a #fragment".into()));
    }
    let port = url.port_or_known_default().unwrap_or(match scheme {
        Scheme::Https => 443,
        Scheme::Http => 80,
    });
    let endpoint = Endpoint {
        scheme,
        host: host.clone(),
        port,
        kind: EndpointKind::Override,
    };
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let shown = format!("{endpoint}{}", url.path());

    let username = get("APIGW_REMOTE_WRITE_USERNAME").map(|u| u.trim().to_owned());
    let password = match (
        get("APIGW_REMOTE_WRITE_PASSWORD"),
        get("APIGW_REMOTE_WRITE_PASSWORD_FILE"),
    ) {
        (Some(p), _) => Secret::new(p.trim()),
        (None, Some(path)) => match std::fs::read_to_string(path.trim()) {
            Ok(text) => Secret::new(text.lines().next().unwrap_or("").trim()),
            Err(e) => {
                // The path is the operator's (the log has it); never the content.
                tracing::warn!(path = %path.trim(), error = %e, "APIGW_REMOTE_WRITE_PASSWORD_FILE cannot be read");
                problems.push(format!(
                    "APIGW_REMOTE_WRITE_PASSWORD_FILE cannot be read: {e}"
                ));
                None
            }
        },
        (None, None) => None,
    };
    let auth = match get("APIGW_REMOTE_WRITE_AUTH") {
        Some(v) => v.parse::<RemoteWriteAuth>().unwrap_or_else(|e| {
            problems.push(e.to_string());
            RemoteWriteAuth::None
        }),
        None if username.is_some() => RemoteWriteAuth::Basic,
        None => RemoteWriteAuth::None,
    };
    match auth {
        RemoteWriteAuth::Basic => {
            if username.is_none() || password.is_none() {
                problems.push(
                    "APIGW_REMOTE_WRITE_AUTH=basic needs APIGW_REMOTE_WRITE_USERNAME and \
                     APIGW_REMOTE_WRITE_PASSWORD (or APIGW_REMOTE_WRITE_PASSWORD_FILE)"
                        .into(),
                );
            }
            if username.as_deref().is_some_and(|u| u.contains(':')) {
                problems.push(
                    "APIGW_REMOTE_WRITE_USERNAME may not contain ':' (BasicAuth's separator)"
                        .into(),
                );
            }
            if password
                .as_ref()
                .is_some_and(|p| p.expose().chars().count() < crate::redact::MIN_SECRET_LEN)
            {
                problems.push(format!(
                    "APIGW_REMOTE_WRITE_PASSWORD is shorter than {} characters: it could not be \
                     kept out of the output without masking ordinary text",
                    crate::redact::MIN_SECRET_LEN
                ));
            }
        }
        RemoteWriteAuth::None | RemoteWriteAuth::Role => {
            if username.is_some() || password.is_some() {
                problems.push(format!(
                    "APIGW_REMOTE_WRITE_USERNAME and the password are used only with \
                     APIGW_REMOTE_WRITE_AUTH=basic, not {auth}"
                ));
            }
        }
    }
    if auth != RemoteWriteAuth::None && scheme == Scheme::Http && !is_loopback(&host) {
        problems.push(format!(
            "APIGW_REMOTE_WRITE_URL uses http:// for {host}, which is not a loopback address: \
             BasicAuth would send the credentials in clear text; use https://"
        ));
    }
    let job = get("APIGW_REMOTE_WRITE_JOB")
        .map_or_else(|| "apigw-vpc-probe".to_owned(), |j| j.trim().to_owned());
    let mut labels: Vec<(String, String)> = Vec::new();
    for item in get("APIGW_REMOTE_WRITE_LABELS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let Some((name, value)) = item.split_once('=') else {
            problems.push(format!(
                "APIGW_REMOTE_WRITE_LABELS entry {item:?} is not name=value"
            ));
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if !label_name_ok(name) || name.starts_with("__") || value.is_empty() {
            problems.push(format!(
                "APIGW_REMOTE_WRITE_LABELS entry {item:?}: the name must match [a-zA-Z_][a-zA-Z0-9_]* without a leading __, and the value may not be empty"
            ));
        } else if OWN_LABELS.contains(&name) || labels.iter().any(|(n, _)| n == name) {
            problems.push(format!(
                "APIGW_REMOTE_WRITE_LABELS sets {name}, which the series already carry (or it is given twice); the series' own: {}",
                OWN_LABELS.join(", ")
            ));
        } else {
            labels.push((name.to_owned(), value.to_owned()));
        }
    }
    if problems.is_empty() {
        Ok(RemoteWriteSettings {
            endpoint,
            path,
            shown,
            auth,
            username,
            password,
            job,
            labels,
        })
    } else {
        Err(problems)
    }
}

/// What one invocation brings to the push: the role's credentials and the function's region.
#[derive(Clone, Debug, Default)]
pub struct PushContext {
    /// The role's credentials (FC's `x-fc-access-key-*` / `x-fc-security-token`, else
    /// `ALIBABA_CLOUD_*`): CloudMonitor signs with them, `role` remote write authenticates
    /// with them.
    pub credentials: Option<Credentials>,
    /// `x-fc-region` / `FC_REGION`: CloudMonitor's region.
    pub region: Option<String>,
    /// `x-fc-account-id` / `FC_ACCOUNT_ID`.
    pub account_id: Option<String>,
}

/// Milliseconds since the epoch of `t`.
pub(crate) fn epoch_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A sink's report before it is finished.
pub(crate) fn sink(endpoint: Option<String>) -> SinkReport {
    SinkReport {
        endpoint,
        ..SinkReport::default()
    }
}

/// A push error.
pub(crate) fn error(
    class: PushClass,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> PushError {
    PushError {
        class,
        message: message.into(),
        hint: hint.into(),
        code: None,
    }
}

/// What every sink pushes from: one invocation's report and where and until when to send it.
pub(crate) struct Job<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) transport: &'a Transport,
    pub(crate) ctx: &'a PushContext,
    pub(crate) report: &'a Report,
    /// The samples' timestamp, in milliseconds since the epoch.
    pub(crate) time_ms: i64,
    /// The push's share of the deadline, ended.
    pub(crate) deadline: Instant,
}

/// Pushes `report`'s series to every configured sink at once, within the push's share
/// (`APIGW_PUSH_BUDGET_MS` from now) and `deadline`; logs one line per sink.
pub(crate) async fn run(
    settings: &Settings,
    transport: &Transport,
    ctx: &PushContext,
    report: &Report,
    time_ms: i64,
    deadline: Instant,
) -> PushReport {
    let push = &settings.push;
    let job = Job {
        settings,
        transport,
        ctx,
        report,
        time_ms,
        deadline: (Instant::now() + push.budget).min(deadline),
    };
    let rw = async {
        match &push.remote_write {
            Some(rw) => Some(remote_write::push(rw, &job).await),
            None => None,
        }
    };
    let cms = async {
        match push.cms {
            true => Some(cms::push(&job).await),
            false => None,
        }
    };
    let (remote_write, cms) = tokio::join!(rw, cms);
    for (name, s) in [("remote_write", &remote_write), ("cms", &cms)] {
        let Some(s) = s else { continue };
        match &s.error {
            None => tracing::info!(
                sink = name,
                sent = s.sent,
                push_ms = s.duration_ms,
                "metrics pushed"
            ),
            Some(e) => tracing::warn!(
                sink = name,
                class = e.class.name(),
                sent = s.sent,
                dropped = s.dropped,
                status = s.status,
                push_ms = s.duration_ms,
                error = %e.message,
                "push failed"
            ),
        }
    }
    PushReport { remote_write, cms }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::{ErrorClass, ProbeError};
    use crate::report::{Sample, TargetReport};
    use std::collections::HashMap;

    /// A report of passing targets `ok` and targets failed with `failed`'s classes.
    pub(crate) fn report(ok: &[&str], failed: &[(&str, ErrorClass)]) -> Report {
        let passing = ok.iter().map(|n| {
            let mut t = TargetReport::failed_early(
                (*n).into(),
                "http://x/".into(),
                ProbeError::config("x"),
            );
            t.error = None;
            t.ok = true;
            t.samples = vec![Sample {
                ok: true,
                status: Some(200),
                ..Sample::default()
            }];
            t
        });
        let failing = failed.iter().map(|(n, class)| {
            let mut t = TargetReport::failed_early(
                (*n).into(),
                "http://x/".into(),
                ProbeError::config("x"),
            );
            t.error = Some(ProbeError {
                class: class.clone(),
                message: "m".into(),
                hint: "h".into(),
            });
            t
        });
        Report {
            schema: crate::report::SCHEMA,
            ok: failed.is_empty(),
            trigger: Trigger::Timer,
            request_id: "r".into(),
            started_at: "t".into(),
            duration_ms: 1.0,
            function: None,
            timer: None,
            targets: passing.chain(failing).collect(),
            truncated: None,
            push: None,
        }
    }

    fn settings(vars: &[(&str, &str)]) -> (PushSettings, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut problems = Vec::new();
        let s = PushSettings::from_lookup(&|k: &str| map.get(k).cloned(), &mut problems);
        (s, problems)
    }

    #[test]
    fn defaults_push_nothing_and_only_the_timer_would() {
        let (s, p) = settings(&[]);
        assert!(p.is_empty());
        assert!(s.remote_write.is_none() && !s.cms);
        assert_eq!(s.triggers, [Trigger::Timer]);
        assert_eq!(s.budget, Duration::from_millis(2000));
        assert!(!s.applies(Trigger::Timer), "no sink");
        let (s, p) = settings(&[("APIGW_CMS_METRICS", "ON")]);
        assert!(p.is_empty(), "{p:?}");
        assert!(s.applies(Trigger::Timer) && !s.applies(Trigger::Event));
        let (s, p) = settings(&[
            ("APIGW_CMS_METRICS", "on"),
            ("APIGW_PUSH_TRIGGERS", "timer, Event"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        assert!(s.applies(Trigger::Event) && !s.applies(Trigger::Http));
        assert_eq!(
            s.share(Duration::from_secs(60)),
            Duration::from_millis(2000)
        );
        assert_eq!(
            s.share(Duration::from_secs(2)),
            Duration::from_secs(1),
            "half"
        );
    }

    #[test]
    fn remote_write_settings_and_their_refusals() {
        let (s, p) = settings(&[
            (
                "APIGW_REMOTE_WRITE_URL",
                "https://p.cn-shanghai-intranet.log.aliyuncs.com/prometheus/p/m/api/v1/write?x=1",
            ),
            ("APIGW_REMOTE_WRITE_AUTH", "role"),
            ("APIGW_REMOTE_WRITE_LABELS", "region=cn-shanghai, env=prod"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        let rw = s.remote_write.unwrap();
        assert_eq!(rw.auth, RemoteWriteAuth::Role);
        assert_eq!(rw.path, "/prometheus/p/m/api/v1/write?x=1");
        assert_eq!(
            rw.shown,
            "https://p.cn-shanghai-intranet.log.aliyuncs.com/prometheus/p/m/api/v1/write"
        );
        assert_eq!(rw.job, "apigw-vpc-probe");
        assert_eq!(rw.labels.len(), 2);

        let (s, p) = settings(&[
            (
                "APIGW_REMOTE_WRITE_URL",
                "http://127.0.0.1:9090/api/v1/write",
            ),
            ("APIGW_REMOTE_WRITE_USERNAME", "probe"),
            ("APIGW_REMOTE_WRITE_PASSWORD", "a-long-password"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.remote_write.unwrap().auth, RemoteWriteAuth::Basic);

        for (vars, want) in [
            (
                vec![("APIGW_REMOTE_WRITE_URL", "https://u:pw@h/w")],
                "user name or password",
            ),
            (
                vec![
                    ("APIGW_REMOTE_WRITE_URL", "http://10.0.0.5/w"),
                    ("APIGW_REMOTE_WRITE_AUTH", "role"),
                ],
                "clear text",
            ),
            (
                vec![
                    ("APIGW_REMOTE_WRITE_URL", "https://h/w"),
                    ("APIGW_REMOTE_WRITE_USERNAME", "u"),
                ],
                "needs APIGW_REMOTE_WRITE_USERNAME and",
            ),
            (
                vec![
                    ("APIGW_REMOTE_WRITE_URL", "https://h/w"),
                    ("APIGW_REMOTE_WRITE_USERNAME", "u"),
                    ("APIGW_REMOTE_WRITE_PASSWORD", "short"),
                ],
                "shorter than",
            ),
            (
                vec![
                    ("APIGW_REMOTE_WRITE_URL", "https://h/w"),
                    ("APIGW_REMOTE_WRITE_LABELS", "instance=x"),
                ],
                "already carry",
            ),
            (
                vec![
                    ("APIGW_REMOTE_WRITE_URL", "https://h/w"),
                    ("APIGW_REMOTE_WRITE_LABELS", "__name__=x"),
                ],
                "leading __",
            ),
            (vec![("APIGW_REMOTE_WRITE_URL", "ftp://h/w")], "not ftp://"),
            (
                vec![("APIGW_REMOTE_WRITE_PASSWORD", "a-long-password")],
                "is not",
            ),
            (vec![("APIGW_PUSH_TRIGGERS", "cron")], "timer, event, http"),
            (vec![("APIGW_CMS_GROUP_ID", "g-1")], "APIGW_CMS_GROUP_ID"),
            (vec![("APIGW_CMS_METRICS", "yes")], "APIGW_CMS_METRICS"),
            (vec![("APIGW_PUSH_BUDGET_MS", "0")], "APIGW_PUSH_BUDGET_MS"),
        ] {
            let (_, p) = settings(&vars);
            assert!(p.iter().any(|m| m.contains(want)), "{vars:?}: {p:?}");
        }
    }
}
