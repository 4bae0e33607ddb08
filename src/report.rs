//! The report: one JSON document, `schema: 1`. Field names are a contract: extend, never rename.
//!
//! Every type here also deserializes, so that a program (or a test) can read a report back;
//! serializing what was read gives the same JSON.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

pub use crate::crosscheck::Verdict;
use crate::error::{ErrorClass, ProbeError};
use crate::scope::Scope;

/// The report's schema version.
pub const SCHEMA: u32 = 1;

/// How the function was asked to probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// `POST /invoke`: console "Test", SDK, other event triggers.
    Event,
    /// An HTTP trigger request (`/probe`).
    Http,
    /// A timer trigger's event.
    Timer,
    /// The command line.
    Cli,
}

/// The whole report of one invocation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// `1`: the version of this document's shape (fields are added, never renamed).
    pub schema: u32,
    /// True when every target is ok.
    pub ok: bool,
    /// How the invocation came in: `event`, `http`, `timer` or `cli`.
    pub trigger: Trigger,
    /// FC's request id (`x-fc-request-id`), or one made up by the command line.
    pub request_id: String,
    /// RFC 3339, UTC, milliseconds.
    pub started_at: String,
    /// The invocation's wall time in milliseconds (the log lines are written after it stopped).
    pub duration_ms: f64,
    /// The function's context from FC's headers (absent on the CLI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionInfo>,
    /// The timer trigger's fields, for timer invocations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timer: Option<TimerInfo>,
    /// One entry per target, in the order asked for.
    pub targets: Vec<TargetReport>,
    /// Present when the report was cut to fit `APIGW_MAX_REPORT_BYTES`: what was left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncation>,
    /// The metrics pushed after the probe (`APIGW_REMOTE_WRITE_URL`, `APIGW_CMS_METRICS`):
    /// one entry per sink. Absent when no sink is configured or this trigger does not push
    /// (`APIGW_PUSH_TRIGGERS`). A failed push never changes `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushReport>,
}

/// The pushes of one invocation (README "Pushed metrics").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PushReport {
    /// Prometheus remote write (`APIGW_REMOTE_WRITE_URL`); absent when not configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_write: Option<SinkReport>,
    /// CloudMonitor custom metrics (`APIGW_CMS_METRICS=on`); absent when off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cms: Option<SinkReport>,
}

/// What one sink was sent and how it answered. Every key is always written (`null` when empty).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SinkReport {
    /// True when everything meant for the sink was sent and accepted.
    pub ok: bool,
    /// Where it went: the remote write URL as `scheme://host[:port]/path` (no query, no
    /// credentials); for CloudMonitor the endpoint that answered (`https://host[:port]`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Series (remote write) or `MetricList` entries (CloudMonitor) the sink accepted.
    pub sent: usize,
    /// Series or entries not sent because they broke a documented rule (`push.invalid`).
    pub dropped: usize,
    /// Requests made: remote write's, its retry included; CloudMonitor's `PutCustomMetric`
    /// calls (the OpenAPI client may retry a call once, not counted here).
    pub requests: usize,
    /// The HTTP status of the last answer; `null` without one.
    #[serde(default)]
    pub status: Option<u16>,
    /// The last answer's request id (CloudMonitor's `RequestId`).
    #[serde(default)]
    pub request_id: Option<String>,
    /// How long the push took, in milliseconds (within `APIGW_PUSH_BUDGET_MS` and the
    /// invocation's deadline).
    pub duration_ms: f64,
    /// Why it failed; `null` when `ok`.
    #[serde(default)]
    pub error: Option<PushError>,
}

/// A failed push: a stable class, what happened and what to change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushError {
    /// `push.invalid`, `push.refused`, `push.denied`, `push.throttled`, `push.server`,
    /// `push.unreachable`, `push.timeout` or `push.unconfigured` (README "Pushed metrics").
    pub class: crate::push::PushClass,
    /// What happened (a receiver's message is cut to 300 characters and masked).
    pub message: String,
    /// What to change.
    pub hint: String,
    /// The server's error code (CloudMonitor's `Code`), when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// What a report left out to fit its size limit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truncation {
    /// The limit (`APIGW_MAX_REPORT_BYTES`).
    pub limit_bytes: usize,
    /// The size of the whole report, as JSON, before it was cut.
    pub full_bytes: usize,
    /// Response bodies removed.
    pub bodies: usize,
    /// Strings to sign removed.
    pub strings_to_sign: usize,
    /// Samples removed (each target keeps its first and its first failing sample, unless even
    /// that does not fit); the target's `samples_omitted` says how many of its own.
    pub samples: usize,
    /// Earlier attempts of retried samples removed (before any sample is); each sample's
    /// `attempts_omitted` says how many of its own.
    #[serde(default)]
    pub attempts: usize,
}

/// What FC told the function about itself. Never holds credentials.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FunctionInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `x-fc-function-name`, else `FC_FUNCTION_NAME`.
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `x-fc-region`, else `FC_REGION`.
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `x-fc-qualifier` (`LATEST`, a version or an alias).
    pub qualifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `x-fc-version-id`, else `FC_FUNCTION_VERSION` / `FC_VER_ID`.
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `x-fc-function-memory` in MB, else `FC_FUNCTION_MEMORY_SIZE`.
    pub memory_mb: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `x-fc-function-timeout` in seconds.
    pub timeout_s: Option<u32>,
    /// The probe deadline that was applied, in milliseconds.
    pub budget_ms: f64,
}

/// The timer trigger's event fields.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimerInfo {
    #[serde(rename = "triggerName")]
    /// The trigger's name.
    pub trigger_name: String,
    #[serde(rename = "triggerTime")]
    /// When FC fired it (RFC 3339).
    pub trigger_time: String,
}

/// The result for one target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TargetReport {
    /// The target's name (configured, or its host and path).
    pub name: String,
    /// Its URL (without the query for a target refused before it was built).
    pub url: String,
    /// How the calls authenticated: `app`, `appcode`, `none`, or `none (host not configured
    /// for signing)` for a target from a request that asked for credentials on a host the
    /// operator did not configure. Absent when the target failed before it was built.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// True when every sample was taken and passed (with `retry`: its last attempt passed), and
    /// the samples' percentiles are within `expect.p90_ms` / `expect.p99_ms`.
    pub ok: bool,
    /// True when a sample passed only on a retry, after an attempt failed with a transport class:
    /// alerts can tell "flaky" (`ok` and `flaky`) from "down" (not `ok`). Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
    /// Absent when the target failed before resolution (invalid, forbidden).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsReport>,
    /// The samples taken, in order. With `addresses: "all"` each sample is one call to one
    /// address (`remote`): the first round's calls in the order of `dns.addresses`, then the
    /// second round's, and so on.
    pub samples: Vec<Sample>,
    /// Samples taken but left out of `samples` to fit the report's size limit.
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub samples_omitted: usize,
    /// Over the samples that got a response; absent when none did.
    pub latency_ms: Option<Latency>,
    /// With `addresses: "all"`: one entry per address called, in the order of `dns.addresses`
    /// (the target fails when one of them fails). Absent with `addresses: "first"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<AddressReport>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// What is worth knowing without being a failure (e.g. a VPC domain resolving to a public address).
    pub warnings: Vec<String>,
    /// The first failure of the target, if any. When the configuration cross-check verified
    /// the cause (`config_check`), its hint names that setting instead of the class's guess.
    pub error: Option<ProbeError>,
    /// The configuration cross-check (`APIGW_CONFIG_CHECK`): what the control plane says about
    /// the settings this failure depends on. Absent when the check is off, for targets that
    /// passed (unless `always`), and for failures no setting explains (`config.invalid`,
    /// `target.forbidden`, `target.loop`, `budget.exceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_check: Option<ConfigCheck>,
}

/// The configuration cross-check of one target (`crate::crosscheck`): the function's role asks
/// Alibaba Cloud's OpenAPI for the settings the failure class depends on, and names the one
/// that is wrong with both values. Every key is always written (`null` / `[]` when empty).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigCheck {
    /// The stable verdict name, e.g. `instance.inbound_vpc_mismatch`, `consistent` (every
    /// checked setting agrees), `permission.denied` (a check could not run): README
    /// "Configuration cross-check" lists them.
    pub verdict: Verdict,
    /// The setting the verdict names, in console and API terms, e.g. `API Gateway instance
    /// apigateway-sh-… → VPC access (bound inbound VPC, UserVpcId)`; `null` when it names none.
    #[serde(default)]
    pub setting: Option<String>,
    /// The value the setting must have for the call to work.
    #[serde(default)]
    pub expected: Option<String>,
    /// The value the control plane (or the probe) reported.
    #[serde(default)]
    pub actual: Option<String>,
    /// What to change: the console path and the API that changes it; for `consistent`, where
    /// to look next; for the unknowns, what to grant or fix so that the check can run.
    pub hint: String,
    /// The answers that show the verdict (no secrets: ids, names and values only).
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Every check of the procedure, in order: `pass`, `fail`, `skipped` (not needed for this
    /// failure, or after the first failing check) or `unknown` (see `unknown`).
    #[serde(default)]
    pub checks: Vec<Check>,
    /// The checks that could not run, with why.
    #[serde(default)]
    pub unknown: Vec<Unknown>,
    /// How long the cross-check took, in milliseconds (within its own budget,
    /// `APIGW_CONFIG_CHECK_BUDGET_MS`, and the invocation's deadline).
    pub duration_ms: f64,
}

/// One answer behind a verdict: where a value was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The call, as its RAM action (`apigateway:DescribeInstances`, `fc:GetFunction`), or
    /// `probe` for what the probe itself saw (the DNS answer, the header it sent).
    pub call: String,
    /// The endpoint that answered (`https://host[:port]`); for `probe`, the DNS servers or the
    /// address called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The answer's request id (quote it in a ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The field, as a path in the answer: `Instances.InstanceAttribute[0].UserVpcId`,
    /// `vpcConfig.vpcId`.
    pub field: String,
    /// Its value, as text (`(absent)` for a field the answer left out).
    pub value: String,
}

/// One check of the procedure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The check's id: the spec's step and what it checks, e.g. `S4.inbound_vpc`.
    pub id: String,
    /// `pass`, `fail`, `skipped` or `unknown`.
    pub status: CheckStatus,
    /// Why it was skipped, or a short note on what it found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// The setting agrees with what the probe needs.
    Pass,
    /// The setting is wrong: the verdict names it.
    Fail,
    /// Not run: not needed for this failure class, or an earlier check failed.
    Skipped,
    /// The call it needs could not be made or answered (listed in `unknown`).
    Unknown,
}

/// A check that could not run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unknown {
    /// The check's id (as in `checks`).
    pub step: String,
    /// Why, as a stable name: the OpenAPI error's kind (`permission_denied`, `unreachable`,
    /// `deadline_exceeded`, `throttled`, `service_unavailable`, `not_found`, `other`), or
    /// `function_unknown` (no function name or region to ask about).
    pub reason: String,
    /// What happened (the server's message is cut before any echoed string to sign).
    pub message: String,
    /// For `permission_denied`: the RAM action to grant the function's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The server's error code, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The server's request id, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// How the host was resolved.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DnsReport {
    /// The name that was resolved.
    pub host: String,
    /// Every address of the answer (or the given one).
    pub addresses: Vec<String>,
    /// Where the addresses are: `vpc-private`, `alibaba-service`, `loopback`, `link-local`, `public`; absent without addresses.
    pub scope: Option<Scope>,
    /// The servers asked (`ip:port`); empty when no query was made.
    pub servers: Vec<String>,
    /// How long the lookup took, in milliseconds.
    pub ms: f64,
    /// `resolver`, `literal` (IP in the URL) or `override` (CLI `--resolve`).
    pub source: DnsSource,
}

/// Where a target's addresses came from (`dns.source` in the report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsSource {
    /// Asked the DNS servers (`servers`).
    Resolver,
    /// An IP address written in the URL: no query.
    Literal,
    /// The command line's `--resolve`: no query.
    Override,
}

impl DnsSource {
    /// The name used in the report: `resolver`, `literal` or `override`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Resolver => "resolver",
            Self::Literal => "literal",
            Self::Override => "override",
        }
    }
}

/// The calls to one address of a target probed with `addresses: "all"`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AddressReport {
    /// The address (as in `dns.addresses`).
    pub address: String,
    /// True when every call to it passed.
    pub ok: bool,
    /// Calls made to it (one per round of samples).
    pub samples: u32,
    /// Calls to it that failed.
    pub failed: u32,
    /// Over its calls that got a response; absent when none did.
    pub latency_ms: Option<Latency>,
    /// Its first failure, if any.
    pub error: Option<ProbeError>,
}

/// The TLS session of a sample (`https://` targets whose handshake completed). The names
/// follow blackbox_exporter's metrics: `version` is `probe_tls_version_info`'s label,
/// `earliest_expiry_unix` is `probe_ssl_earliest_cert_expiry`, and the certificate's
/// `sha256`, `subject`, `issuer`, `sans` and `serial` are `probe_ssl_last_chain_info`'s labels.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// `TLS 1.2` or `TLS 1.3`.
    pub version: String,
    /// The cipher suite's IANA name (`TLS_AES_128_GCM_SHA256`,
    /// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`).
    pub cipher_suite: String,
    /// The protocol agreed on with ALPN (`http/1.1`); absent when the server chose none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// The server's own certificate; absent when it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertInfo>,
    /// How many certificates the server presented (its own and the intermediates).
    pub chain_length: u32,
    /// The earliest `not_after` of the presented certificates, RFC 3339 UTC; absent when none
    /// could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest_expiry: Option<String>,
    /// The same in seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earliest_expiry_unix: Option<i64>,
}

/// What a certificate says about itself (the server's, in [`TlsInfo`]). Texts from the
/// certificate are cut to 256 characters, and at most 64 SANs are listed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    /// The subject, RFC 4514 (`CN=api.example.com,O=Example`).
    pub subject: String,
    /// The issuer, RFC 4514.
    pub issuer: String,
    /// The subject alternative names: DNS names as written, IP addresses as text.
    pub sans: Vec<String>,
    /// The serial number, lowercase hex.
    pub serial: String,
    /// Valid from, RFC 3339 UTC.
    pub not_before: String,
    /// Valid until, RFC 3339 UTC.
    pub not_after: String,
    /// `not_after` in seconds since the Unix epoch.
    pub not_after_unix: i64,
    /// Whole days from the sample to `not_after` (negative once expired).
    pub days_left: i64,
    /// SHA-256 of the certificate's DER, lowercase hex.
    pub sha256: String,
}

/// One call.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Sample {
    /// True when the exchange completed and the answer passed.
    pub ok: bool,
    /// The address dialled, `ip:port`.
    pub remote: Option<String>,
    /// The response status, when a response head arrived.
    pub status: Option<u16>,
    /// Response body bytes received (all of them, also past the kept 64 KiB).
    pub bytes: u64,
    /// Interim (1xx) responses before the final one (`100 Continue`, `103 Early Hints`); they
    /// do not end `ttfb`. Absent when there were none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interim_responses: u32,
    /// The final response's protocol as its status line gave it (`HTTP/1.1`, `HTTP/1.0`);
    /// absent without a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_version: Option<String>,
    /// The final response's `Content-Length` header; absent when it had none (a chunked or
    /// close-delimited body: `bytes` still counts it) or there was no response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_length: Option<u64>,
    /// The phases, in milliseconds with microsecond precision; they add up to `total`.
    pub phases_ms: Phases,
    /// What API Gateway said about the call (`X-Ca-*` response headers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayInfo>,
    /// The TLS session, for `https://` targets whose handshake completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    /// The response body (at most 64 KiB, lossy UTF-8) when the target asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// True when `body` is shorter than what was received: cut at 64 KiB, by the invocation's
    /// body budget (`APIGW_BODY_BUDGET_BYTES`), or dropped to fit the report's size limit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub body_truncated: bool,
    /// The client's string to sign, when the target asks for it (it holds no secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_to_sign: Option<String>,
    /// Where the sample failed: a phase, `answer` or `setup` (see [`FailedPhase`]). Absent
    /// when it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_phase: Option<FailedPhase>,
    /// With `retry`: the earlier attempts of this sample, which failed with a transport class
    /// and were tried again, in order (each with its phases and error); this sample is the
    /// last attempt. Absent when the first attempt was the last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Sample>,
    /// Earlier attempts left out of `attempts` to fit the report's size limit.
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub attempts_omitted: usize,
    /// True when this sample passed after failed `attempts`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
    /// Why the sample failed, if it did.
    pub error: Option<ProbeError>,
}

/// Where a sample failed (`failed_phase` in the report and in the log line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailedPhase {
    /// Resolving the name.
    Dns,
    /// The TCP handshake (also a refused address: it is checked before dialling).
    Connect,
    /// The TLS handshake.
    Tls,
    /// Writing the request.
    Send,
    /// Waiting for the first byte of the final response.
    Ttfb,
    /// Reading the response body.
    Transfer,
    /// The exchange completed and the answer failed the check: an unexpected status, an API
    /// Gateway error code (`http.status`, `gateway.<CODE>`, `target.loop`).
    Answer,
    /// Before any network work: the request could not be built, no resolver or TLS
    /// configuration, or the target was refused while the invocation was planned.
    Setup,
}

impl FailedPhase {
    /// The name used in the report and the log line: `dns`, `connect`, `tls`, `send`, `ttfb`,
    /// `transfer`, `answer` or `setup`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Send => "send",
            Self::Ttfb => "ttfb",
            Self::Transfer => "transfer",
            Self::Answer => "answer",
            Self::Setup => "setup",
        }
    }
}

/// API Gateway's response headers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayInfo {
    /// `X-Ca-Request-Id`: quote it in a ticket.
    pub request_id: Option<String>,
    /// `X-Ca-Error-Code`, when it looks like a code (the gateway refused the call itself).
    pub error_code: Option<String>,
    /// `X-Ca-Error-Message` (cut to 512 characters, secrets masked).
    pub error_message: Option<String>,
}

/// Phase durations in milliseconds. `dns + connect + tls + send + ttfb + transfer == total`.
///
/// `send` (connection ready → request written) extends the original five phases so that they
/// still add up; `ttfb` is request written → first response byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// Resolving the name (0 for an IP literal or `--resolve`).
    pub dns: f64,
    /// The TCP handshake.
    pub connect: f64,
    /// The TLS handshake (0 for `http://`).
    pub tls: f64,
    /// Connection ready → request written.
    pub send: f64,
    /// Request written → first byte of the final response.
    pub ttfb: f64,
    /// First byte → body complete.
    pub transfer: f64,
    /// The whole sample.
    pub total: f64,
}

impl Phases {
    /// The phases in order with their names (without `total`).
    pub fn named(&self) -> [(&'static str, f64); 6] {
        [
            ("dns", self.dns),
            ("connect", self.connect),
            ("tls", self.tls),
            ("send", self.send),
            ("ttfb", self.ttfb),
            ("transfer", self.transfer),
        ]
    }
}

/// Latency summary in milliseconds (nearest-rank percentiles).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// The fastest.
    pub min: f64,
    /// The median (nearest rank).
    pub p50: f64,
    /// The 90th percentile (nearest rank).
    pub p90: f64,
    /// The 99th percentile (nearest rank).
    pub p99: f64,
    /// The slowest.
    pub max: f64,
}

impl Latency {
    /// Summarizes `values`; `None` when empty.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let idx = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[idx.clamp(1, v.len()) - 1]
        };
        Some(Self {
            min: v[0],
            p50: rank(50.0),
            p90: rank(90.0),
            p99: rank(99.0),
            max: v[v.len() - 1],
        })
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_usize(n: &usize) -> bool {
    *n == 0
}

/// The size of a character in JSON text, as serde_json escapes it.
fn json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if u32::from(c) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// What the response bodies of one invocation may take in its report, shared by its targets
/// (which run concurrently) and counted in JSON bytes: ten targets of twenty samples of NUL
/// bytes once made a 79 MB report.
#[derive(Debug)]
pub struct BodyBudget {
    left: AtomicUsize,
}

impl BodyBudget {
    /// A budget of `bytes` JSON bytes.
    pub fn new(bytes: usize) -> Self {
        Self {
            left: AtomicUsize::new(bytes),
        }
    }

    /// True when nothing is left: bodies are then not even kept while reading.
    pub fn is_spent(&self) -> bool {
        self.left.load(Ordering::Relaxed) == 0
    }

    /// `text` cut to what is left of the budget; `true` when cut.
    pub fn take(&self, text: &str) -> (String, bool) {
        let need: usize = text.chars().map(json_len).sum();
        let before = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                Some(left - need.min(left))
            })
            .unwrap_or(0);
        let granted = need.min(before);
        if granted == need {
            return (text.to_owned(), false);
        }
        let (mut used, mut end) = (0, 0);
        for (i, c) in text.char_indices() {
            let len = json_len(c);
            if used + len > granted {
                break;
            }
            used += len;
            end = i + c.len_utf8();
        }
        // A character that did not fit whole leaves a few bytes for the next body.
        self.left.fetch_add(granted - used, Ordering::Relaxed);
        (text[..end].to_owned(), true)
    }
}

/// Counts what serde_json writes, without keeping it.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of `value` as compact JSON.
pub fn json_size(value: &impl Serialize) -> usize {
    let mut count = ByteCount(0);
    // Writing into a counter cannot fail, and our types always serialize.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Milliseconds with microsecond precision, as reported everywhere.
pub fn ms(d: Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

/// RFC 3339 in UTC with milliseconds.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The samples a cut keeps: the first and the first failing one, of the target or, with
/// `addresses: "all"`, of each address (so that every address keeps its evidence).
fn samples_to_keep(t: &TargetReport) -> Vec<usize> {
    let group = |s: &Sample| match t.addresses.is_empty() {
        true => None,
        false => s.remote.clone(),
    };
    let mut keep: Vec<usize> = Vec::new();
    let mut first_seen = Vec::new();
    let mut failing_seen = Vec::new();
    for (i, s) in t.samples.iter().enumerate() {
        let g = group(s);
        if !first_seen.contains(&g) {
            first_seen.push(g.clone());
            keep.push(i);
        } else if s.error.is_some() && !failing_seen.contains(&g) {
            keep.push(i);
        }
        if s.error.is_some() && !failing_seen.contains(&g) {
            failing_seen.push(g);
        }
    }
    keep
}

impl TargetReport {
    /// A target that failed before any network work (invalid or forbidden).
    pub fn failed_early(name: String, url: String, error: ProbeError) -> Self {
        Self {
            name,
            url,
            auth: None,
            ok: false,
            flaky: false,
            dns: None,
            samples: Vec::new(),
            samples_omitted: 0,
            latency_ms: None,
            addresses: Vec::new(),
            warnings: Vec::new(),
            error: Some(error),
            config_check: None,
        }
    }

    /// The TLS facts of the target's latest sample that has them (what a metrics exporter
    /// shows as the target's `probe_tls_version_info`, `probe_ssl_earliest_cert_expiry` and
    /// `probe_ssl_last_chain_info`); `None` for `http://` targets and when no handshake
    /// completed.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.samples.iter().rev().find_map(|s| s.tls.as_ref())
    }
}

impl Report {
    /// Cuts the report to at most `limit` bytes of JSON, in the order that loses the least:
    /// bodies, strings to sign, the earlier attempts of retried samples, then all but each
    /// target's first and first failing sample (with `addresses: "all"`: each address's), then
    /// every sample. The `truncated` marker says what went.
    pub fn fit(&mut self, limit: usize) {
        let full_bytes = json_size(self);
        if full_bytes <= limit {
            return;
        }
        let mut cut = Truncation {
            limit_bytes: limit,
            full_bytes,
            ..Truncation::default()
        };
        for s in self.targets.iter_mut().flat_map(|t| t.samples.iter_mut()) {
            if s.body.take().is_some() {
                s.body_truncated = true;
                cut.bodies += 1;
            }
        }
        self.truncated = Some(cut.clone());
        if json_size(self) > limit {
            for s in self.targets.iter_mut().flat_map(|t| t.samples.iter_mut()) {
                if s.string_to_sign.take().is_some() {
                    cut.strings_to_sign += 1;
                }
            }
            self.truncated = Some(cut.clone());
        }
        if json_size(self) > limit {
            for s in self.targets.iter_mut().flat_map(|t| t.samples.iter_mut()) {
                let n = std::mem::take(&mut s.attempts).len();
                s.attempts_omitted += n;
                cut.attempts += n;
            }
            self.truncated = Some(cut.clone());
        }
        if json_size(self) > limit {
            for t in &mut self.targets {
                let keep = samples_to_keep(t);
                let before = t.samples.len();
                let mut index = 0;
                t.samples.retain(|_| {
                    let kept = keep.contains(&index);
                    index += 1;
                    kept
                });
                t.samples_omitted += before - t.samples.len();
                cut.samples += before - t.samples.len();
            }
            self.truncated = Some(cut.clone());
        }
        if json_size(self) > limit {
            for t in &mut self.targets {
                t.samples_omitted += t.samples.len();
                cut.samples += t.samples.len();
                t.samples.clear();
            }
            self.truncated = Some(cut);
        }
    }

    /// True when any target was refused by policy.
    pub fn any_forbidden(&self) -> bool {
        self.targets.iter().any(|t| {
            t.error
                .as_ref()
                .is_some_and(|e| e.class == ErrorClass::TargetForbidden)
        })
    }

    /// The `Server-Timing` header value: each target's first sample's phases, tagged with the
    /// target's position so that several targets stay apart.
    pub fn server_timing(&self) -> String {
        let mut out = String::new();
        for (i, t) in self.targets.iter().enumerate() {
            let Some(s) = t.samples.first() else { continue };
            let prefix = if self.targets.len() > 1 {
                format!("t{i}-")
            } else {
                String::new()
            };
            for (name, v) in s
                .phases_ms
                .named()
                .into_iter()
                .chain([("total", s.phases_ms.total)])
            {
                if !out.is_empty() {
                    out.push_str(", ");
                }
                let _ = write!(out, "{prefix}{name};dur={v:.3}");
            }
        }
        out
    }

    /// A human-readable summary for terminals.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for t in &self.targets {
            let _ = writeln!(
                out,
                "{} {}  {}",
                if t.ok { "OK  " } else { "FAIL" },
                t.name,
                t.url
            );
            if let Some(d) = &t.dns {
                let scope = d
                    .scope
                    .map(|s| serde_json::to_value(s).map(|v| v.as_str().unwrap_or("").to_owned()))
                    .and_then(Result::ok)
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "     dns  {} -> {} [{}] via {} ({:.3} ms)",
                    d.host,
                    if d.addresses.is_empty() {
                        "-".to_owned()
                    } else {
                        d.addresses.join(", ")
                    },
                    scope,
                    if d.servers.is_empty() {
                        d.source.name().to_owned()
                    } else {
                        d.servers.join(", ")
                    },
                    d.ms
                );
            }
            for (i, s) in t.samples.iter().enumerate() {
                for (n, a) in s.attempts.iter().enumerate() {
                    sample_line(&mut out, &format!("{}.{}", i + 1, n + 1), a);
                    if let Some(e) = &a.error {
                        let _ = writeln!(out, "          failed {}, tried again", e.class);
                    }
                }
                sample_line(&mut out, &(i + 1).to_string(), s);
                if s.flaky {
                    let _ = writeln!(
                        out,
                        "          flaky: passed on attempt {}",
                        s.attempts.len() + s.attempts_omitted + 1
                    );
                }
            }
            if let Some(tls) = t.tls() {
                let _ = write!(out, "     tls  {}  {}", tls.version, tls.cipher_suite);
                if let Some(c) = &tls.certificate {
                    let _ = write!(
                        out,
                        "  {}  issued by {}  expires {} ({} days)",
                        c.subject, c.issuer, c.not_after, c.days_left
                    );
                }
                let _ = writeln!(out);
            }
            for a in &t.addresses {
                let _ = writeln!(
                    out,
                    "     address {}  {}  {}/{} failed{}",
                    a.address,
                    if a.ok { "ok" } else { "FAIL" },
                    a.failed,
                    a.samples,
                    a.error
                        .as_ref()
                        .map(|e| format!("  {}", e.class))
                        .unwrap_or_default()
                );
            }
            for s in &t.samples {
                if let Some(sts) = &s.string_to_sign {
                    let _ = writeln!(out, "     string to sign:");
                    for line in sts.split('\n') {
                        let _ = writeln!(out, "       | {line}");
                    }
                }
            }
            if let Some(l) = &t.latency_ms {
                let _ = writeln!(
                    out,
                    "     latency ms  min {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
                    l.min, l.p50, l.p90, l.p99, l.max
                );
            }
            for w in &t.warnings {
                let _ = writeln!(out, "     warning: {w}");
            }
            if let Some(e) = &t.error {
                let _ = writeln!(out, "     error {}: {}", e.class, e.message);
                let _ = writeln!(out, "     hint: {}", e.hint);
            }
            if let Some(check) = &t.config_check {
                out.push_str(&check.summary());
            }
        }
        out
    }
}

/// One line of the summary for a sample (or an attempt of one), labelled `#label`.
fn sample_line(out: &mut String, label: &str, s: &Sample) {
    let p = &s.phases_ms;
    let _ = writeln!(
        out,
        "     #{:<2} {} {:>4}  dns {:.3}  connect {:.3}  tls {:.3}  send {:.3}  ttfb {:.3}  transfer {:.3}  total {:.3} ms  {} B{}",
        label,
        s.remote.as_deref().unwrap_or("-"),
        s.status.map_or("-".to_owned(), |c| c.to_string()),
        p.dns,
        p.connect,
        p.tls,
        p.send,
        p.ttfb,
        p.transfer,
        p.total,
        s.bytes,
        s.gateway
            .as_ref()
            .and_then(|g| g.request_id.as_deref())
            .map(|id| format!("  X-Ca-Request-Id {id}"))
            .unwrap_or_default(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let l = Latency::of(&v).unwrap();
        assert_eq!(
            (l.min, l.p50, l.p90, l.p99, l.max),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
        let l = Latency::of(&[5.0]).unwrap();
        assert_eq!((l.min, l.p50, l.p99, l.max), (5.0, 5.0, 5.0, 5.0));
        assert!(Latency::of(&[]).is_none());
    }

    #[test]
    fn body_budget_counts_json_escapes_and_is_shared() {
        let budget = BodyBudget::new(100);
        // NUL is six bytes in JSON: 16 of them fit in 100.
        let (text, cut) = budget.take(&"\0".repeat(40));
        assert!(cut);
        assert_eq!(text.len(), 16);
        assert_eq!(json_size(&text), 2 + 96, "{text:?}");
        // 4 bytes are left: "a" (1) fits, the quote (2) fits, "b" (1) fits, then nothing.
        let (text, cut) = budget.take("a\"bcd");
        assert_eq!((text.as_str(), cut), ("a\"b", true));
        assert!(budget.is_spent());
        assert_eq!(budget.take("z"), (String::new(), true));

        // A character that does not fit whole is given back for the next body.
        let budget = BodyBudget::new(5);
        assert_eq!(budget.take("ab\0"), ("ab".to_owned(), true));
        assert_eq!(budget.take("xyz"), ("xyz".to_owned(), false));
        assert!(budget.is_spent());
    }

    fn sample(body: usize, failed: bool) -> Sample {
        Sample {
            body: Some("x".repeat(body)),
            string_to_sign: Some("GET\n\n\n\n\n/p".into()),
            error: failed.then(|| ProbeError::config("failed")),
            ..Sample::default()
        }
    }

    fn report(samples: Vec<Sample>) -> Report {
        Report {
            schema: SCHEMA,
            ok: false,
            trigger: Trigger::Cli,
            request_id: "r".into(),
            started_at: "t".into(),
            duration_ms: 1.0,
            function: None,
            timer: None,
            targets: vec![TargetReport {
                samples,
                ..TargetReport::failed_early("t".into(), "u".into(), ProbeError::config("x"))
            }],
            truncated: None,
            push: None,
        }
    }

    #[test]
    fn fit_cuts_bodies_then_samples_and_says_so() {
        let mut r = report(vec![sample(100, false); 3]);
        let size = json_size(&r);
        r.fit(size);
        assert_eq!(r.truncated, None, "a report within the limit is left alone");

        let mut r = report(vec![sample(10_000, false); 3]);
        r.fit(2_000);
        let cut = r.truncated.clone().unwrap();
        assert_eq!((cut.bodies, cut.samples), (3, 0));
        assert!(json_size(&r) <= 2_000);
        assert!(r.targets[0].samples.iter().all(|s| s.body_truncated));

        let mut many = vec![sample(10, false); 200];
        many[150] = sample(10, true);
        let mut r = report(many);
        r.fit(4_000);
        let cut = r.truncated.clone().unwrap();
        assert_eq!(cut.samples, 198, "{cut:?}");
        assert_eq!(r.targets[0].samples_omitted, 198);
        assert!(
            r.targets[0].samples[1].error.is_some(),
            "the failing sample stays"
        );
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            text.len() <= 4_000 && text.contains("\"truncated\""),
            "{text}"
        );
    }

    #[test]
    fn fit_cuts_attempts_before_samples_and_keeps_each_address_evidence() {
        let failed = |remote: &str| Sample {
            remote: Some(remote.into()),
            error: Some(ProbeError::new(
                ErrorClass::TcpTimeout,
                "x".repeat(200),
                &crate::error::HintContext::default(),
            )),
            ..Sample::default()
        };
        let retried = Sample {
            attempts: vec![failed("10.0.0.1:80"); 3],
            ..failed("10.0.0.1:80")
        };
        let mut r = report(vec![retried.clone(); 4]);
        let without_attempts = {
            let mut r = r.clone();
            for s in &mut r.targets[0].samples {
                s.attempts.clear();
                s.attempts_omitted = 3;
            }
            json_size(&r) + 200
        };
        r.fit(without_attempts);
        let cut = r.truncated.clone().unwrap();
        assert_eq!((cut.attempts, cut.samples), (12, 0), "{cut:?}");
        assert!(r.targets[0].samples.iter().all(|s| s.attempts_omitted == 3));
        assert!(json_size(&r) <= without_attempts);

        // addresses "all": every address keeps its first and its first failing sample.
        let ok = |remote: &str| Sample {
            remote: Some(remote.into()),
            ok: true,
            ..Sample::default()
        };
        let mut samples = Vec::new();
        for _ in 0..20 {
            samples.extend([ok("10.0.0.1:80"), ok("10.0.0.2:80"), failed("10.0.0.3:80")]);
        }
        samples[4] = failed("10.0.0.2:80");
        let mut r = report(samples);
        r.targets[0].addresses = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
            .map(|a| AddressReport {
                address: a.into(),
                ok: true,
                samples: 20,
                failed: 0,
                latency_ms: None,
                error: None,
            })
            .to_vec();
        r.fit(6_000);
        let kept: Vec<(String, bool)> = r.targets[0]
            .samples
            .iter()
            .map(|s| (s.remote.clone().unwrap(), s.error.is_some()))
            .collect();
        assert_eq!(
            kept,
            [
                ("10.0.0.1:80".to_owned(), false),
                ("10.0.0.2:80".to_owned(), false),
                ("10.0.0.3:80".to_owned(), true),
                ("10.0.0.2:80".to_owned(), true),
            ]
        );
        assert_eq!(r.targets[0].samples_omitted, 56);
    }

    #[test]
    fn ms_keeps_microseconds() {
        assert_eq!(ms(Duration::from_micros(1234)), 1.234);
    }

    #[test]
    fn rfc3339_is_utc_with_millis() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20.123Z");
    }

    /// A report with every field set, and one with every optional field left out.
    fn full_and_bare() -> (Report, Report) {
        let phases = Phases {
            dns: 1.5,
            connect: 0.25,
            tls: 0.0,
            send: 0.125,
            ttfb: 3.0,
            transfer: 0.5,
            total: 5.375,
        };
        let ok = Sample {
            ok: true,
            remote: Some("10.0.0.5:80".into()),
            status: Some(200),
            bytes: 70_000,
            interim_responses: 1,
            http_version: Some("HTTP/1.1".into()),
            content_length: Some(70_000),
            phases_ms: phases,
            gateway: Some(GatewayInfo {
                request_id: Some("3A1F0D2C-0000-4000-8000-000000000001".into()),
                error_code: None,
                error_message: None,
            }),
            tls: Some(TlsInfo {
                version: "TLS 1.3".into(),
                cipher_suite: "TLS_AES_128_GCM_SHA256".into(),
                alpn: Some("http/1.1".into()),
                certificate: Some(CertInfo {
                    subject: "CN=g-cn-shanghai-vpc.alicloudapi.com".into(),
                    issuer: "CN=test CA".into(),
                    sans: vec![
                        "g-cn-shanghai-vpc.alicloudapi.com".into(),
                        "10.0.0.5".into(),
                    ],
                    serial: "1a2b".into(),
                    not_before: "2026-01-01T00:00:00Z".into(),
                    not_after: "2027-01-01T00:00:00Z".into(),
                    not_after_unix: 1_798_761_600,
                    days_left: 38,
                    sha256: "ab".repeat(32),
                }),
                chain_length: 2,
                earliest_expiry: Some("2027-01-01T00:00:00Z".into()),
                earliest_expiry_unix: Some(1_798_761_600),
            }),
            body: Some("{\"a\":\"\\u0000\"}".into()),
            body_truncated: true,
            string_to_sign: Some("GET\n\n\n\n\nx-ca-key:1\n/web/cloudapi".into()),
            failed_phase: None,
            attempts: vec![Sample {
                remote: Some("10.0.0.5:80".into()),
                error: Some(ProbeError {
                    class: ErrorClass::TcpTimeout,
                    message: "m".into(),
                    hint: "h".into(),
                }),
                ..Sample::default()
            }],
            attempts_omitted: 1,
            flaky: true,
            error: None,
        };
        let refused = Sample {
            ok: false,
            status: Some(403),
            gateway: Some(GatewayInfo {
                request_id: Some("id".into()),
                error_code: Some("A403IS".into()),
                error_message: Some("Invalid Signature".into()),
            }),
            failed_phase: Some(FailedPhase::Answer),
            error: Some(ProbeError {
                class: ErrorClass::Gateway("A403IS".into()),
                message: "m".into(),
                hint: "h".into(),
            }),
            ..Sample::default()
        };
        let full = Report {
            schema: SCHEMA,
            ok: false,
            trigger: Trigger::Timer,
            request_id: "req-1".into(),
            started_at: "2026-11-24T05:49:00.123Z".into(),
            duration_ms: 12.25,
            function: Some(FunctionInfo {
                name: Some("apigw-vpc-probe".into()),
                region: Some("cn-shanghai".into()),
                qualifier: Some("LATEST".into()),
                version: Some("1".into()),
                memory_mb: Some(128),
                timeout_s: Some(30),
                budget_ms: 29_500.0,
            }),
            timer: Some(TimerInfo {
                trigger_name: "every-minute".into(),
                trigger_time: "2026-11-24T05:49:00Z".into(),
            }),
            targets: vec![
                TargetReport {
                    name: "signed".into(),
                    url: "http://g-cn-shanghai-vpc.alicloudapi.com/web/cloudapi".into(),
                    ok: false,
                    dns: Some(DnsReport {
                        host: "g-cn-shanghai-vpc.alicloudapi.com".into(),
                        addresses: vec!["10.0.0.5".into()],
                        scope: Some(Scope::VpcPrivate),
                        servers: vec!["100.100.2.136:53".into()],
                        ms: 1.5,
                        source: DnsSource::Resolver,
                    }),
                    samples: vec![ok, refused],
                    samples_omitted: 3,
                    auth: Some("none (host not configured for signing)".into()),
                    flaky: true,
                    latency_ms: Latency::of(&[5.375, 2.0]),
                    addresses: vec![AddressReport {
                        address: "10.0.0.5".into(),
                        ok: false,
                        samples: 2,
                        failed: 1,
                        latency_ms: Latency::of(&[5.375]),
                        error: Some(ProbeError::config("y")),
                    }],
                    warnings: vec!["w".into()],
                    error: Some(ProbeError::config("x")),
                    config_check: None,
                },
                TargetReport {
                    dns: Some(DnsReport {
                        host: "h".into(),
                        addresses: vec!["127.0.0.1".into()],
                        scope: None,
                        servers: Vec::new(),
                        ms: 0.0,
                        source: DnsSource::Override,
                    }),
                    ..TargetReport::failed_early("t".into(), "u".into(), ProbeError::forbidden("f"))
                },
            ],
            truncated: Some(Truncation {
                limit_bytes: 1,
                full_bytes: 2,
                bodies: 3,
                strings_to_sign: 4,
                samples: 5,
                attempts: 6,
            }),
            push: Some(PushReport {
                remote_write: Some(SinkReport {
                    ok: true,
                    endpoint: Some("https://prom.example/api/v1/write".into()),
                    sent: 25,
                    dropped: 0,
                    requests: 1,
                    status: Some(204),
                    request_id: None,
                    duration_ms: 12.5,
                    error: None,
                }),
                cms: Some(SinkReport {
                    ok: false,
                    endpoint: Some("https://metrics.cn-shanghai.aliyuncs.com".into()),
                    sent: 0,
                    dropped: 1,
                    requests: 2,
                    status: Some(400),
                    request_id: Some("r".into()),
                    duration_ms: 3.25,
                    error: Some(PushError {
                        class: crate::push::PushClass::Refused,
                        message: "m".into(),
                        hint: "h".into(),
                        code: Some("InvalidParameter".into()),
                    }),
                }),
            }),
        };
        let bare = report(vec![Sample::default()]);
        (full, bare)
    }

    #[test]
    fn a_report_reads_back_to_the_same_json() {
        let (full, bare) = full_and_bare();
        for r in [full, bare] {
            let text = serde_json::to_string(&r).unwrap();
            let back: Report = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), text);
        }
    }

    #[test]
    fn the_json_keeps_its_field_names_and_value_forms() {
        let (full, bare) = full_and_bare();
        let v = serde_json::to_value(&full).unwrap();
        let keys = |v: &serde_json::Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(
            keys(&v),
            [
                "schema",
                "ok",
                "trigger",
                "request_id",
                "started_at",
                "duration_ms",
                "function",
                "timer",
                "targets",
                "truncated",
                "push"
            ]
        );
        assert_eq!(v["trigger"], "timer");
        assert_eq!(keys(&v["push"]), ["remote_write", "cms"]);
        let sink = [
            "ok",
            "endpoint",
            "sent",
            "dropped",
            "requests",
            "status",
            "request_id",
            "duration_ms",
            "error",
        ];
        assert_eq!(keys(&v["push"]["remote_write"]), sink);
        assert!(v["push"]["remote_write"]["error"].is_null());
        assert_eq!(keys(&v["push"]["cms"]), sink);
        assert_eq!(
            keys(&v["push"]["cms"]["error"]),
            ["class", "message", "hint", "code"]
        );
        assert_eq!(v["push"]["cms"]["error"]["class"], "push.refused");
        assert_eq!(
            keys(&v["function"]),
            [
                "name",
                "region",
                "qualifier",
                "version",
                "memory_mb",
                "timeout_s",
                "budget_ms"
            ]
        );
        assert_eq!(keys(&v["timer"]), ["triggerName", "triggerTime"]);
        let t = &v["targets"][0];
        assert_eq!(
            keys(t),
            [
                "name",
                "url",
                "auth",
                "ok",
                "flaky",
                "dns",
                "samples",
                "samples_omitted",
                "latency_ms",
                "addresses",
                "warnings",
                "error"
            ]
        );
        assert_eq!(
            keys(&t["addresses"][0]),
            ["address", "ok", "samples", "failed", "latency_ms", "error"]
        );
        assert_eq!(
            keys(&t["dns"]),
            ["host", "addresses", "scope", "servers", "ms", "source"]
        );
        assert_eq!(t["dns"]["source"], "resolver");
        assert_eq!(t["dns"]["scope"], "vpc-private");
        assert_eq!(v["targets"][1]["dns"]["source"], "override");
        assert_eq!(
            keys(&t["samples"][0]),
            [
                "ok",
                "remote",
                "status",
                "bytes",
                "interim_responses",
                "http_version",
                "content_length",
                "phases_ms",
                "gateway",
                "tls",
                "body",
                "body_truncated",
                "string_to_sign",
                "attempts",
                "attempts_omitted",
                "flaky",
                "error"
            ]
        );
        let tls = &t["samples"][0]["tls"];
        assert_eq!(
            keys(tls),
            [
                "version",
                "cipher_suite",
                "alpn",
                "certificate",
                "chain_length",
                "earliest_expiry",
                "earliest_expiry_unix"
            ]
        );
        assert_eq!(
            keys(&tls["certificate"]),
            [
                "subject",
                "issuer",
                "sans",
                "serial",
                "not_before",
                "not_after",
                "not_after_unix",
                "days_left",
                "sha256"
            ]
        );
        assert_eq!(
            t["samples"][0]["attempts"][0]["error"]["class"],
            "tcp.timeout"
        );
        assert_eq!(t["samples"][0]["flaky"], true);
        assert_eq!(
            keys(&t["samples"][0]["phases_ms"]),
            ["dns", "connect", "tls", "send", "ttfb", "transfer", "total"]
        );
        assert_eq!(
            keys(&t["samples"][0]["gateway"]),
            ["request_id", "error_code", "error_message"]
        );
        assert_eq!(t["samples"][1]["error"]["class"], "gateway.A403IS");
        assert_eq!(t["samples"][1]["failed_phase"], "answer");
        let failed = keys(&t["samples"][1]);
        assert_eq!(failed[failed.len() - 2..], ["failed_phase", "error"]);
        assert_eq!(keys(&t["latency_ms"]), ["min", "p50", "p90", "p99", "max"]);
        assert_eq!(keys(&t["error"]), ["class", "message", "hint"]);
        assert_eq!(
            keys(&v["truncated"]),
            [
                "limit_bytes",
                "full_bytes",
                "bodies",
                "strings_to_sign",
                "samples",
                "attempts"
            ]
        );
        // Left out when empty, zero or absent; `null` where the contract says so.
        let v = serde_json::to_value(&bare).unwrap();
        assert_eq!(
            keys(&v),
            [
                "schema",
                "ok",
                "trigger",
                "request_id",
                "started_at",
                "duration_ms",
                "targets"
            ]
        );
        assert_eq!(
            keys(&v["targets"][0]),
            ["name", "url", "ok", "samples", "latency_ms", "error"]
        );
        assert!(v["targets"][0]["latency_ms"].is_null());
        assert_eq!(
            keys(&v["targets"][0]["samples"][0]),
            ["ok", "remote", "status", "bytes", "phases_ms", "error"]
        );
    }
}
