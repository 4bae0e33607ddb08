//! Settings from the environment. Every variable is documented with its default here and in the
//! README. Names never start with `FC_` (reserved by Function Compute).
//!
//! A bad value does not stop the function from starting (FC would only say "FunctionNotStarted"):
//! it is kept in [`Settings::problems`] and every invocation answers `config.invalid` naming it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::apigw::{AppSecret, Stage};
use crate::error::ProbeError;
use crate::openapi::OpenApiSettings;
use crate::policy::{self, AllowList, SigningHosts};
use crate::redact;
use crate::secret::Secret;
use crate::target::{AppCredentials, HttpMethod, TargetDefaults, TargetSpec};

/// All settings, read once at start-up: the environment, and the files it names
/// (`APIGW_APP_SECRET_FILE`, `APIGW_CA_FILE`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// The configured targets: `APIGW_TARGETS`, else `APIGW_URL`, else `APIGW_GROUP_ID` +
    /// `APIGW_PATH` (+ `APIGW_REGION`, `APIGW_METHOD`, `APIGW_STAGE`). Default: none.
    pub targets: Vec<TargetSpec>,
    /// `APIGW_ALLOW_HOSTS`: host patterns for targets from events and HTTP requests.
    /// Default `*.alicloudapi.com`.
    pub allow_hosts: AllowList,
    /// `APIGW_SIGN_HOSTS`: host patterns (as in `APIGW_ALLOW_HOSTS`) that targets from events and
    /// HTTP requests may be signed for or send the AppCode to, beside the hosts of the
    /// configured targets. Default: none.
    pub sign_hosts: AllowList,
    /// Methods that targets from events and HTTP requests may use: `GET` and `HEAD`, and those
    /// listed in `APIGW_REQUEST_METHODS` (comma-separated). Default: `GET`, `HEAD`.
    pub request_methods: Vec<hyper::Method>,
    /// `APIGW_DNS_SERVERS`: `ip[:port]` list that replaces `/etc/resolv.conf`. Default: none
    /// (the system configuration, which FC points at 100.100.2.136/138).
    pub dns_servers: Vec<SocketAddr>,
    /// `APIGW_CA_FILE`: a PEM file of extra CA certificates for https targets. Default: none
    /// (the Mozilla roots built into the binary).
    pub ca_file: Option<PathBuf>,
    /// The certificates of `ca_file`, read and checked here once (an unreadable file, one
    /// without a certificate or with one that does not parse is a problem). Default: none.
    pub(crate) ca_roots: rustls::RootCertStore,
    /// `APIGW_REGION`, else `FC_REGION`: region for group targets. Default: none.
    pub region: Option<String>,
    /// `FC_REGION`: the function's own region, which hints compare with the domain's region
    /// (a different one means the path crosses regions over CEN). Default: none.
    pub function_region: Option<String>,
    /// `APIGW_TIMEOUT_MS`: time limit for one sample, all phases. Default 5000.
    pub sample_timeout: Duration,
    /// `APIGW_DNS_TIMEOUT_MS`: limit for resolving. Default 2000.
    pub dns_timeout: Duration,
    /// `APIGW_CONNECT_TIMEOUT_MS`: limit for the TCP handshake. Default 3000.
    pub connect_timeout: Duration,
    /// `APIGW_TLS_TIMEOUT_MS`: limit for the TLS handshake. Default 3000.
    pub tls_timeout: Duration,
    /// `APIGW_DEADLINE_MS`: limit for a whole invocation. Default 60000. The effective deadline
    /// is the smaller of this and FC's `x-fc-function-timeout` minus `APIGW_BUDGET_MARGIN_MS`.
    pub deadline: Duration,
    /// `APIGW_BUDGET_MARGIN_MS`: time kept back from FC's function timeout to write the report.
    /// Default 500.
    pub budget_margin: Duration,
    /// `APIGW_MAX_SAMPLES`: largest `samples` per target. Default 20.
    pub max_samples: u32,
    /// `APIGW_MAX_TARGETS`: most targets per invocation. Default 10.
    pub max_targets: usize,
    /// `APIGW_MAX_EVENT_BYTES`: largest accepted event or request body. Default 131072
    /// (FC's asynchronous and timer payload limit).
    pub max_event_bytes: usize,
    /// `APIGW_BODY_BUDGET_BYTES`: what all response bodies returned by one invocation
    /// (`return_body`) may take in the report, counted as written in JSON (a NUL byte counts
    /// 6: `\u0000`). Default 262144 (256 KiB). Bodies past it are cut and marked.
    pub body_budget: usize,
    /// `APIGW_MAX_REPORT_BYTES`: the largest report an invocation answers with; a larger one is
    /// cut (bodies first, then strings to sign, then all but the first and the failing sample
    /// of each target) and carries a `truncated` marker. Default 1048576 (1 MiB), far below
    /// FC's 32 MB limit for a synchronous invocation's payload, so that ten concurrent
    /// invocations stay small next to a 128 MB function.
    pub max_report_bytes: usize,
    /// `APIGW_APP_KEY`, `APIGW_APP_SECRET` (else the first line of `APIGW_APP_SECRET_FILE`) and
    /// `APIGW_APPCODE`: the app's credentials for API Gateway. Default: none, and then targets
    /// are called without authentication unless they ask for it.
    pub credentials: AppCredentials,
    /// The OpenAPI client's settings (the configuration cross-check): endpoint overrides
    /// `APIGW_OPENAPI_ENDPOINT_APIGATEWAY`, `_FC`, `_VPC`, `_CBN`, `_CMS` (default: none, the
    /// VPC endpoints first), `APIGW_OPENAPI_NETWORK` (default `auto`), `APIGW_OPENAPI_ALLOW_HTTP`
    /// (default off) and `APIGW_OPENAPI_TIMEOUT_MS` (default 3000); see
    /// [`crate::openapi::OpenApiSettings`].
    pub openapi: OpenApiSettings,
    /// The configuration cross-check's settings: `APIGW_CONFIG_CHECK` (default: `on-failure`
    /// when the invocation has role credentials, else `off`) and `APIGW_CONFIG_CHECK_BUDGET_MS`
    /// (default 5000); see [`crate::crosscheck::CheckSettings`].
    pub config_check: crate::crosscheck::CheckSettings,
    /// `APIGW_MODULES`: named sets of target options for `GET /probe?module=<name>&target=<url>`
    /// (blackbox_exporter's modules: the URL comes from `target`, with the rules of a target
    /// from a request): a JSON object of objects holding target fields other than `name`,
    /// `url`, `group`, `region` and `path`, without an `Authorization` header. Default: one
    /// module, `http_2xx` (`{}`: GET, one sample, any 2xx, the default authentication), which
    /// stays unless `APIGW_MODULES` defines its own `http_2xx`.
    pub modules: BTreeMap<String, TargetSpec>,
    /// The pushed metrics' settings: `APIGW_REMOTE_WRITE_*` (default: no remote write),
    /// `APIGW_CMS_METRICS` (default `off`), `APIGW_CMS_GROUP_ID` (default 0),
    /// `APIGW_PUSH_TRIGGERS` (default `timer`) and `APIGW_PUSH_BUDGET_MS` (default 2000); see
    /// [`crate::push::PushSettings`].
    pub push: crate::push::PushSettings,
    /// Problems found in the variables above; non-empty means every invocation fails with
    /// `config.invalid`.
    pub problems: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self::from_lookup(|_| None)
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut problems = Vec::new();
        let mut millis = |name: &str, default: u64| -> Duration {
            match get(name).map(|v| v.trim().parse::<u64>()) {
                None => Duration::from_millis(default),
                Some(Ok(v)) if v > 0 => Duration::from_millis(v),
                Some(_) => {
                    problems.push(format!("{name} must be a positive number of milliseconds"));
                    Duration::from_millis(default)
                }
            }
        };
        let sample_timeout = millis("APIGW_TIMEOUT_MS", 5000);
        let dns_timeout = millis("APIGW_DNS_TIMEOUT_MS", 2000);
        let connect_timeout = millis("APIGW_CONNECT_TIMEOUT_MS", 3000);
        let tls_timeout = millis("APIGW_TLS_TIMEOUT_MS", 3000);
        let deadline = millis("APIGW_DEADLINE_MS", 60_000);
        let budget_margin = match get("APIGW_BUDGET_MARGIN_MS").map(|v| v.trim().parse::<u64>()) {
            None => Duration::from_millis(500),
            Some(Ok(v)) => Duration::from_millis(v),
            Some(Err(_)) => {
                problems.push("APIGW_BUDGET_MARGIN_MS must be a number of milliseconds".into());
                Duration::from_millis(500)
            }
        };
        let mut count = |name: &str, default: u64| -> u64 {
            match get(name).map(|v| v.trim().parse::<u64>()) {
                None => default,
                Some(Ok(v)) if v > 0 => v,
                Some(_) => {
                    problems.push(format!("{name} must be a positive whole number"));
                    default
                }
            }
        };
        let max_samples = count("APIGW_MAX_SAMPLES", 20).min(u64::from(u32::MAX)) as u32;
        let max_targets = count("APIGW_MAX_TARGETS", 10) as usize;
        let max_event_bytes = count("APIGW_MAX_EVENT_BYTES", 128 * 1024) as usize;
        let body_budget = count("APIGW_BODY_BUDGET_BYTES", 256 * 1024) as usize;
        let max_report_bytes = count("APIGW_MAX_REPORT_BYTES", 1024 * 1024) as usize;

        let function_region = get("FC_REGION");
        let region = get("APIGW_REGION").or_else(|| function_region.clone());
        let allow_hosts = get("APIGW_ALLOW_HOSTS")
            .map(|v| AllowList::parse(&v))
            .unwrap_or_default();
        let sign_hosts = AllowList::parse(&get("APIGW_SIGN_HOSTS").unwrap_or_default());
        let mut request_methods = policy::REQUEST_METHODS.to_vec();
        for item in get("APIGW_REQUEST_METHODS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
        {
            match hyper::Method::from_bytes(item.to_ascii_uppercase().as_bytes()) {
                Ok(m) if !request_methods.contains(&m) => request_methods.push(m),
                Ok(_) => {}
                Err(_) => problems.push(format!(
                    "APIGW_REQUEST_METHODS entry {item:?} is not an HTTP method"
                )),
            }
        }

        let mut dns_servers = Vec::new();
        if let Some(list) = get("APIGW_DNS_SERVERS") {
            for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match parse_server(item) {
                    Some(addr) => dns_servers.push(addr),
                    None => problems.push(format!(
                        "APIGW_DNS_SERVERS entry {item:?} is not ip or ip:port"
                    )),
                }
            }
        }

        let app_secret = match (get("APIGW_APP_SECRET"), get("APIGW_APP_SECRET_FILE")) {
            (Some(secret), _) => Secret::new(secret.trim()),
            (None, Some(path)) => match std::fs::read_to_string(path.trim()) {
                Ok(text) => Secret::new(text.lines().next().unwrap_or("").trim()),
                Err(e) => {
                    // The answer to every invocation names the variable, not the file: its path
                    // is the operator's (the log has it), and never its content.
                    tracing::warn!(path = %path.trim(), error = %e, "APIGW_APP_SECRET_FILE cannot be read");
                    problems.push(format!("APIGW_APP_SECRET_FILE cannot be read: {e}"));
                    None
                }
            },
            (None, None) => None,
        };
        let credentials = AppCredentials {
            app_key: get("APIGW_APP_KEY").map(|k| k.trim().to_owned()),
            app_secret: app_secret.map(AppSecret::from),
            appcode: get("APIGW_APPCODE").and_then(|c| Secret::new(c.trim())),
        };
        if credentials.app_key.is_some() != credentials.app_secret.is_some() {
            problems.push(
                "APIGW_APP_KEY and APIGW_APP_SECRET (or APIGW_APP_SECRET_FILE) go together: set both"
                    .into(),
            );
        }

        let ca_file = get("APIGW_CA_FILE").map(|p| PathBuf::from(p.trim()));
        let ca_roots = match &ca_file {
            None => rustls::RootCertStore::empty(),
            Some(path) => crate::connect::ca_file_roots(path).unwrap_or_else(|e| {
                // As for the secret file: every answer names the variable, the log the path.
                tracing::warn!(path = %path.display(), error = %e, "APIGW_CA_FILE cannot be used");
                problems.push(e);
                rustls::RootCertStore::empty()
            }),
        };

        let openapi = OpenApiSettings::from_lookup(&get, &mut problems);
        let config_check = crate::crosscheck::CheckSettings::from_lookup(&get, &mut problems);
        let push = crate::push::PushSettings::from_lookup(&get, &mut problems);

        let modules = modules(get("APIGW_MODULES").as_deref(), &mut problems);
        let targets = match configured_targets(&get) {
            Ok(t) => t,
            Err(e) => {
                problems.push(e);
                Vec::new()
            }
        };
        // A secret this short cannot be masked in output without masking ordinary text, so the
        // function does not send or sign with it (see `redact`).
        let short = |value: &str| value.chars().count() < redact::MIN_SECRET_LEN;
        let too_short = [
            (
                "APIGW_APP_SECRET (or APIGW_APP_SECRET_FILE)",
                credentials.app_secret.as_ref().map(AppSecret::expose),
            ),
            (
                "APIGW_APPCODE",
                credentials.appcode.as_ref().map(Secret::expose),
            ),
        ];
        for (name, secret) in too_short {
            if secret.is_some_and(short) {
                problems.push(format!(
                    "{name} is shorter than {} characters; API Gateway's are 32",
                    redact::MIN_SECRET_LEN
                ));
            }
        }
        if redact::configured_target_secrets(&targets)
            .iter()
            .any(|v| short(v))
        {
            problems.push(format!(
                "an AppCode or Authorization value in the configured targets is shorter than {} characters",
                redact::MIN_SECRET_LEN
            ));
        }

        Self {
            targets,
            allow_hosts,
            sign_hosts,
            request_methods,
            dns_servers,
            ca_file,
            ca_roots,
            region,
            function_region,
            sample_timeout,
            dns_timeout,
            connect_timeout,
            tls_timeout,
            deadline,
            budget_margin,
            max_samples,
            max_targets,
            max_event_bytes,
            body_budget,
            max_report_bytes,
            credentials,
            openapi,
            config_check,
            modules,
            push,
            problems,
        }
    }

    /// `config.invalid` when the environment had problems.
    pub fn check(&self) -> Result<(), ProbeError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ProbeError::config(format!(
                "the function's environment is not valid: {}",
                self.problems.join("; ")
            )))
        }
    }

    /// Defaults for turning specs into targets.
    pub fn target_defaults(&self) -> TargetDefaults {
        TargetDefaults {
            region: self.region.clone(),
            timeout: self.sample_timeout,
            max_samples: self.max_samples,
            credentials: self.credentials.clone(),
            // Filled in from the configured targets for targets from requests (see
            // `event::plan`); configured and CLI targets do not look at it.
            signing_hosts: SigningHosts::default(),
        }
    }
}

/// The module every function has unless `APIGW_MODULES` redefines it: blackbox_exporter's
/// default module name, so that a scrape config without `params: {module: …}` works as well.
pub const DEFAULT_MODULE: &str = "http_2xx";

/// `APIGW_MODULES` read and checked (a module names how to probe, never what, and carries no
/// credentials: its target comes from the request and may be any allowed host).
fn modules(json: Option<&str>, problems: &mut Vec<String>) -> BTreeMap<String, TargetSpec> {
    let mut modules = BTreeMap::from([(DEFAULT_MODULE.to_owned(), TargetSpec::default())]);
    let Some(json) = json else {
        return modules;
    };
    let given: BTreeMap<String, TargetSpec> = match serde_json::from_str(json) {
        Ok(m) => m,
        Err(e) => {
            problems.push(format!(
                "APIGW_MODULES is not a JSON object of modules (target fields without url): {}",
                json_problem(&e)
            ));
            return modules;
        }
    };
    for (name, spec) in given {
        let fixed = [
            ("name", spec.name.is_some()),
            ("url", spec.url.is_some()),
            ("group", spec.group.is_some()),
            ("region", spec.region.is_some()),
            ("path", spec.path.is_some()),
        ];
        if let Some((field, _)) = fixed.iter().find(|(_, set)| *set) {
            problems.push(format!(
                "APIGW_MODULES: module {name:?} sets {field:?}: a module says how to probe, the \
                 target comes from the request's `target`"
            ));
            continue;
        }
        if spec
            .headers
            .keys()
            .any(|h| h.eq_ignore_ascii_case("authorization"))
        {
            problems.push(format!(
                "APIGW_MODULES: module {name:?} sets Authorization: a module's target comes from \
                 the request; use auth (app, appcode) with APIGW_APP_KEY/APIGW_APPCODE"
            ));
            continue;
        }
        modules.insert(name, spec);
    }
    modules
}

/// What is wrong with a setting's JSON, quoting none of its values. serde quotes the value it
/// did not expect (`invalid type: string "Bearer …", expected a map`), and so do the fields' own
/// messages (`auth "…" is not one of none, app, appcode`); a header written as a string is a
/// credential, and the setting did not parse, so the redaction knows none of its values. The
/// kind of value, what was expected, field names and where are kept.
fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if e.classify() != serde_json::error::Category::Data {
        return text; // syntax and end-of-input messages quote nothing
    }
    // serde_json ends the message with " at line L column C".
    let (message, at) = text
        .rsplit_once(" at line ")
        .map_or((text.as_str(), String::new()), |(m, l)| {
            (m, format!(" at line {l}"))
        });
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // The expectation is the program's text; the value before it may hold anything,
            // ", expected " too, hence the last one.
            let (unexpected, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, "?"));
            // `string "…"`, `integer `5``, `map`: the kind is the first word.
            let kind = unexpected.split([' ', '`', '"']).next().unwrap_or_default();
            return format!("{prefix}{kind}, expected {expected}{at}");
        }
    }
    // The fields' own messages quote the value as `{:?}` writes it. serde writes field names
    // in backquotes (`unknown field `headerz``); those stay.
    format!("{}{at}", without_quoted(message))
}

/// `text` with each `"…"` string (`{:?}`'s, escapes included) written as `"…"`.
fn without_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '"' {
            let mut escaped = false;
            for c in chars.by_ref() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => break,
                    _ => {}
                }
            }
            out.push_str("…\"");
        }
    }
    out
}

/// `ip` or `ip:port` (IPv6 as `[ip]:port`); port 53 by default.
fn parse_server(s: &str) -> Option<SocketAddr> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr);
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 53))
}

fn configured_targets(get: &impl Fn(&str) -> Option<String>) -> Result<Vec<TargetSpec>, String> {
    if let Some(json) = get("APIGW_TARGETS") {
        let specs: Vec<TargetSpec> = serde_json::from_str(&json).map_err(|e| {
            format!(
                "APIGW_TARGETS is not a JSON array of targets: {}",
                json_problem(&e)
            )
        })?;
        return Ok(specs);
    }
    let method = get("APIGW_METHOD")
        .map(|m| m.parse::<HttpMethod>())
        .transpose()
        .map_err(|e| format!("APIGW_METHOD: {e}"))?;
    let stage = get("APIGW_STAGE")
        .map(|m| m.parse::<Stage>())
        .transpose()
        .map_err(|e| format!("APIGW_STAGE: {e}"))?;
    let common = |spec: TargetSpec| TargetSpec {
        method,
        stage,
        ..spec
    };
    if let Some(url) = get("APIGW_URL") {
        return Ok(vec![common(TargetSpec::from_url(url))]);
    }
    if let Some(group) = get("APIGW_GROUP_ID") {
        return Ok(vec![common(TargetSpec {
            group: Some(group),
            region: get("APIGW_REGION"),
            path: Some(get("APIGW_PATH").unwrap_or_else(|| "/".into())),
            ..TargetSpec::default()
        })]);
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn a_json_setting_that_does_not_parse_is_described_without_its_values() {
        let problem = |name: &str, json: &str| {
            let s = settings(&[(name, json)]);
            assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
            s.problems[0].clone()
        };
        // A header written as curl's -H takes it: the token must not be quoted.
        let p = problem(
            "APIGW_TARGETS",
            r#"[{"url": "http://h/x", "headers": "Authorization: Bearer tok-91c7, expected x"}]"#,
        );
        assert_eq!(
            p,
            "APIGW_TARGETS is not a JSON array of targets: invalid type: string, expected a map \
             at line 1 column 78"
        );
        let p = problem("APIGW_MODULES", r#"{"m": {"samples": "tok-91c7"}}"#);
        assert!(
            p.starts_with("APIGW_MODULES is not a JSON object of modules"),
            "{p}"
        );
        assert!(
            p.contains("invalid type: string, expected u32 at line 1 column"),
            "{p}"
        );
        assert!(!p.contains("tok-91c7"), "{p}");
        let p = problem("APIGW_TARGETS", r#"[{"url": "http://h/x", "samples": -1}]"#);
        assert!(p.contains("invalid value: integer, expected u32"), "{p}");
        // The fields' own messages: the value, escaped quotes and all, is left out.
        let p = problem(
            "APIGW_TARGETS",
            r#"[{"url": "http://h/x", "auth": "APPCODE \"tok-91c7\" x"}]"#,
        );
        assert!(
            p.contains(r#"auth "…" is not one of none, app, appcode at line 1 column"#),
            "{p}"
        );
        assert!(!p.contains("tok-91c7"), "{p}");
        // What quotes no value is kept whole: the field's name, a syntax error.
        let p = problem("APIGW_TARGETS", r#"[{"url": "http://h/x", "headerz": {}}]"#);
        assert!(
            p.contains("unknown field `headerz`, expected one of"),
            "{p}"
        );
        let p = problem("APIGW_TARGETS", r#"[{"url": "#);
        assert!(
            p.contains("EOF while parsing a value at line 1 column 9"),
            "{p}"
        );
    }

    #[test]
    fn defaults_are_documented_values() {
        let s = settings(&[]);
        assert!(s.targets.is_empty());
        assert_eq!(s.sample_timeout, Duration::from_millis(5000));
        assert_eq!(s.deadline, Duration::from_secs(60));
        assert_eq!(s.budget_margin, Duration::from_millis(500));
        assert_eq!(s.max_samples, 20);
        assert_eq!(s.body_budget, 256 * 1024);
        assert_eq!(s.max_report_bytes, 1024 * 1024);
        assert!(s.allow_hosts.allows("x.alicloudapi.com"));
        assert!(!s.sign_hosts.allows("x.alicloudapi.com"));
        assert_eq!(s.request_methods, [hyper::Method::GET, hyper::Method::HEAD]);
        assert!(s.problems.is_empty());
    }

    #[test]
    fn group_target_uses_fc_region() {
        let s = settings(&[
            ("APIGW_GROUP_ID", "0123456789abcdef0123456789abcdef"),
            ("APIGW_PATH", "/web/cloudapi"),
            ("APIGW_STAGE", "TEST"),
            ("FC_REGION", "cn-shanghai"),
        ]);
        let t = s.targets[0]
            .clone()
            .build(&s.target_defaults(), crate::target::Origin::Config)
            .unwrap();
        assert_eq!(
            t.url.as_str(),
            "http://0123456789abcdef0123456789abcdef-cn-shanghai-vpc.alicloudapi.com/web/cloudapi"
        );
        assert_eq!(t.stage, Some(crate::apigw::Stage::Test));
    }

    #[test]
    fn targets_json_wins_and_bad_values_are_problems() {
        let s = settings(&[
            (
                "APIGW_TARGETS",
                r#"[{"name":"a","url":"http://a.alicloudapi.com/"}]"#,
            ),
            ("APIGW_URL", "http://ignored/"),
        ]);
        assert_eq!(s.targets[0].name.as_deref(), Some("a"));
        let s = settings(&[
            ("APIGW_TARGETS", "[{"),
            ("APIGW_TIMEOUT_MS", "soon"),
            ("APIGW_DNS_SERVERS", "127.0.0.1:5353, nope"),
        ]);
        assert_eq!(s.problems.len(), 3, "{:?}", s.problems);
        assert_eq!(s.dns_servers, vec!["127.0.0.1:5353".parse().unwrap()]);
        assert_eq!(
            s.check().unwrap_err().class,
            crate::error::ErrorClass::ConfigInvalid
        );
    }

    #[test]
    fn request_methods_widen_get_and_head() {
        let s = settings(&[("APIGW_REQUEST_METHODS", " post, GET ,options")]);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(
            s.request_methods,
            [
                hyper::Method::GET,
                hyper::Method::HEAD,
                hyper::Method::POST,
                hyper::Method::OPTIONS
            ]
        );
        let s = settings(&[("APIGW_REQUEST_METHODS", "GE T")]);
        assert!(
            s.problems[0].contains("APIGW_REQUEST_METHODS"),
            "{:?}",
            s.problems
        );
    }

    #[test]
    fn an_unreadable_secret_file_is_named_by_its_variable_not_its_path() {
        let s = settings(&[
            ("APIGW_APP_KEY", "204000000"),
            (
                "APIGW_APP_SECRET_FILE",
                "/nonexistent/hidden-dir/app-secret",
            ),
        ]);
        let text = s.problems.join("; ");
        assert!(
            text.contains("APIGW_APP_SECRET_FILE cannot be read"),
            "{text}"
        );
        assert!(!text.contains("hidden-dir"), "{text}");
    }

    #[test]
    fn secrets_too_short_to_redact_are_refused() {
        let s = settings(&[
            ("APIGW_APP_KEY", "204000000"),
            ("APIGW_APP_SECRET", "short"),
            ("APIGW_APPCODE", "0000"),
            ("APIGW_URL", "http://a.alicloudapi.com/?AppCode=abc"),
        ]);
        assert_eq!(s.problems.len(), 3, "{:?}", s.problems);
        let text = s.problems.join(" ");
        assert!(!text.contains("short\"") && !text.contains("0000") && !text.contains("abc"));
        let s = settings(&[
            ("APIGW_APP_KEY", "204000000"),
            ("APIGW_APP_SECRET", "long-enough"),
            ("APIGW_APPCODE", "0123456789abcdef0123456789abcdef"),
        ]);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
    }

    #[test]
    fn modules_default_to_http_2xx_and_refuse_targets_and_credentials() {
        let s = settings(&[]);
        assert_eq!(s.modules.keys().collect::<Vec<_>>(), [DEFAULT_MODULE]);
        let s = settings(&[(
            "APIGW_MODULES",
            r#"{"signed": {"auth": "app", "stage": "TEST", "samples": 3, "expect": {"status": [200]}}}"#,
        )]);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.modules.keys().collect::<Vec<_>>(), ["http_2xx", "signed"]);
        assert_eq!(s.modules["signed"].samples, Some(3));
        let s = settings(&[("APIGW_MODULES", r#"{"http_2xx": {"method": "HEAD"}}"#)]);
        assert_eq!(
            s.modules["http_2xx"].method,
            Some(crate::target::HttpMethod::Head)
        );
        for bad in [
            r#"{"m": {"url": "http://a.alicloudapi.com/"}}"#,
            r#"{"m": {"headers": {"authorization": "APPCODE 0123456789"}}}"#,
            r#"{"m": {"appcode": "x"}}"#,
            r#"[{"samples": 2}]"#,
        ] {
            let s = settings(&[("APIGW_MODULES", bad)]);
            assert_eq!(s.problems.len(), 1, "{bad}: {:?}", s.problems);
            assert!(s.problems[0].contains("APIGW_MODULES"), "{:?}", s.problems);
            assert!(!s.problems[0].contains("0123456789"), "{:?}", s.problems);
            assert!(!s.modules.contains_key("m"));
        }
    }

    #[test]
    fn the_ca_file_is_read_and_checked_once_at_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().expect("key");
        let ca = params.self_signed(&key).expect("the CA");
        std::fs::write(path("ca.pem"), ca.pem()).expect("write");
        std::fs::write(path("notes.txt"), "no PEM here\n").expect("write");
        std::fs::write(
            path("bad.pem"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .expect("write");

        let good = settings(&[("APIGW_CA_FILE", &format!(" {} ", path("ca.pem")))]);
        assert!(good.problems.is_empty(), "{:?}", good.problems);
        assert_eq!(good.ca_roots.len(), 1);
        assert!(settings(&[]).ca_roots.is_empty());

        for (file, says) in [
            ("missing.pem", "cannot be read as PEM certificates"),
            ("notes.txt", "holds no PEM certificate"),
            ("bad.pem", "a certificate in APIGW_CA_FILE is not valid"),
        ] {
            let s = settings(&[("APIGW_CA_FILE", &path(file))]);
            assert_eq!(s.problems.len(), 1, "{file}: {:?}", s.problems);
            assert!(s.problems[0].contains(says), "{file}: {:?}", s.problems);
            // The answer names the variable; the path is the operator's (the log has it).
            assert!(!s.problems[0].contains(file), "{file}: {:?}", s.problems);
            assert!(s.ca_roots.is_empty());
            let err = s
                .check()
                .expect_err("every invocation answers config.invalid");
            assert_eq!(err.class, crate::error::ErrorClass::ConfigInvalid);
        }
    }

    #[test]
    fn dns_server_default_port_is_53() {
        let s = settings(&[("APIGW_DNS_SERVERS", "100.100.2.136,[::1]:5300")]);
        assert_eq!(
            s.dns_servers,
            vec![
                "100.100.2.136:53".parse().unwrap(),
                "[::1]:5300".parse().unwrap()
            ]
        );
    }
}
