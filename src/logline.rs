//! The flat log line: one JSON line per target per invocation, for SLS to index and alert on.
//!
//! The report is one nested document. SLS's JSON index cannot index fields inside JSON arrays
//! ("Fields cannot be contained in a JSON array", help.aliyun.com/document_detail/69357), and its
//! alerts read only the first 1,024 characters of a field (alibabacloud.com/help/en/sls/overview-16);
//! FC writes each stdout line into one field, `message`. So besides the report, after the clock
//! stopped, the runtime writes one line per target whose fields are all scalars and whose whole
//! line stays within [`LINE_LIMIT`] bytes.
//!
//! The line goes through the JSON subscriber (`runtime/log.rs`) and the request's redactor like
//! every other line: `message` is [`MESSAGE`] (what the SLS templates search for), the fields
//! below sit beside it (flattened), and the subscriber adds `timestamp`, `level`, `target` (the
//! module path, which is why the probed target's name is `target_name`) and `span.request_id`.
//! A field without a value is left out, never `null` or an empty string. The names are a
//! contract like the report's: README "Logs in SLS" lists them, and tests/sls.rs checks that
//! table and the templates in deploy/sls/ against the lines the binary prints.
//!
//! How the size is kept: every value is redacted first (so a cut can never keep half a secret);
//! free-text values longer than their own cap (`cap`) are cut and end in [`CUT_MARK`]; if the
//! whole line would still pass [`LINE_LIMIT`], `error` is shortened to what is left (left out
//! when that is under [`FLOOR`] bytes), then `gateway_request_id`, `target_name`, `request_id`,
//! `config_check`, `class` and `gateway_code` are cut, each to no less than [`FLOOR`] bytes. Numbers, booleans and the fixed words
//! (`trigger`, `failed_phase`, `scope`) are never cut.

use serde::Serialize;

use crate::redact::Redactor;
use crate::report::{self, FailedPhase, Sample, TargetReport, Trigger};

/// The line's `message`: what the saved searches and alert rules in deploy/sls/ search for.
pub(crate) const MESSAGE: &str = "target probed";

/// The longest line, in bytes, with the subscriber's own fields and the newline: under SLS's
/// 1,024 characters with room to spare for a longer timestamp or level.
pub(crate) const LINE_LIMIT: usize = 1000;

/// Ends a value that was cut.
pub(crate) const CUT_MARK: &str = "…";

/// The shortest a value other than `error` is cut to when the line must shrink, in bytes.
pub(crate) const FLOOR: usize = 16;

/// What the subscriber writes around the fields (see `runtime/log.rs`: flattened event, current
/// span, no span list), without the span's request id: the timestamp is as long as tracing's
/// (RFC 3339 with microseconds).
const ENVELOPE: &str = concat!(
    r#"{"timestamp":"2026-11-24T05:49:00.123456Z","level":"INFO","message":"target probed""#,
    r#","target":""#,
    module_path!(),
    r#"","span":{"request_id":"","name":"request"}}"#,
    "\n"
);

/// The caps of the free-text values, in bytes as written in JSON (without the quotes).
mod cap {
    /// `target_name`: configured names are short; names built from a URL may not be.
    pub(super) const TARGET_NAME: usize = 128;
    /// `request_id`: the runtime takes FC's id only up to 128 characters.
    pub(super) const REQUEST_ID: usize = 128;
    /// `class`: `gateway.` and a code of at most 16 characters is the longest.
    pub(super) const CLASS: usize = 64;
    /// `gateway_code`: at most 16 alphanumerics are taken from `X-Ca-Error-Code`.
    pub(super) const GATEWAY_CODE: usize = 32;
    /// `gateway_request_id`: API Gateway's are 36 characters; a hostile server's any length.
    pub(super) const GATEWAY_REQUEST_ID: usize = 128;
    /// `config_check`: a verdict word.
    pub(super) const CONFIG_CHECK: usize = 64;
    /// `error`: the message; the rest of the line's budget decides how much of it stays.
    pub(super) const ERROR: usize = 512;
}

/// One target's line. Field order is the order on the line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct TargetLine {
    target_name: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed_phase: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    trigger: &'static str,
    request_id: String,
    samples: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connect_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    send_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttfb_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transfer_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p90_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config_check: Option<String>,
}

impl TargetLine {
    /// The line for `target` of an invocation (`trigger`, `request_id`), fitted to
    /// [`LINE_LIMIT`]. `config_check` is the target's configuration cross-check verdict, when
    /// the report carries one (`targets[].config_check.verdict`); `None` leaves the field out.
    ///
    /// The phases, `status` and the gateway's fields are those of the sample that failed first,
    /// else of the first sample; `p50_ms`/`p90_ms`/`max_ms` summarize every sample that got a
    /// response (the report's `latency_ms`).
    pub(crate) fn new(
        trigger: Trigger,
        request_id: &str,
        target: &TargetReport,
        config_check: Option<&str>,
        redactor: &Redactor,
    ) -> Self {
        let text = |value: &str, cap: usize| -> String {
            let value = redactor.redact(value);
            cut(&value, cap).unwrap_or_else(|| value.into_owned())
        };
        let described: Option<&Sample> = target
            .samples
            .iter()
            .find(|s| s.error.is_some())
            .or(target.samples.first());
        let failed_phase = match (&target.error, described) {
            (None, _) => None,
            (Some(_), Some(s)) if s.error.is_some() => s.failed_phase,
            // Refused before any sample was taken (invalid or forbidden while planning).
            (Some(_), _) => Some(FailedPhase::Setup),
        };
        let phases = described.map(|s| s.phases_ms);
        let gateway = described.and_then(|s| s.gateway.as_ref());
        let mut line = Self {
            target_name: text(&target.name, cap::TARGET_NAME),
            ok: target.ok,
            class: target
                .error
                .as_ref()
                .map(|e| text(&e.class.name(), cap::CLASS)),
            failed_phase: failed_phase.map(FailedPhase::name),
            error: target.error.as_ref().map(|e| text(&e.message, cap::ERROR)),
            trigger: trigger_name(trigger),
            request_id: text(request_id, cap::REQUEST_ID),
            samples: (target.samples.len() + target.samples_omitted) as u64,
            dns_ms: phases.map(|p| p.dns),
            connect_ms: phases.map(|p| p.connect),
            tls_ms: phases.map(|p| p.tls),
            send_ms: phases.map(|p| p.send),
            ttfb_ms: phases.map(|p| p.ttfb),
            transfer_ms: phases.map(|p| p.transfer),
            total_ms: phases.map(|p| p.total),
            scope: target
                .dns
                .as_ref()
                .and_then(|d| d.scope)
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(str::to_owned)),
            status: described.and_then(|s| s.status).map(u64::from),
            gateway_code: gateway
                .and_then(|g| g.error_code.as_deref())
                .map(|c| text(c, cap::GATEWAY_CODE)),
            gateway_request_id: gateway
                .and_then(|g| g.request_id.as_deref())
                .map(|id| text(id, cap::GATEWAY_REQUEST_ID)),
            p50_ms: target.latency_ms.map(|l| l.p50),
            p90_ms: target.latency_ms.map(|l| l.p90),
            max_ms: target.latency_ms.map(|l| l.max),
            config_check: config_check.map(|v| text(v, cap::CONFIG_CHECK)),
        };
        line.fit(LINE_LIMIT);
        line
    }

    /// The bytes the subscriber will write for this line, newline included (the span's request
    /// id is the invocation's, which `request_id` also holds unless it was cut).
    pub(crate) fn line_bytes(&self) -> usize {
        // The fields without their braces, after the comma that follows `message`.
        let fields = report::json_size(self) - 2 + 1;
        ENVELOPE.len() + json_len(&self.request_id) + fields
    }

    /// Shortens the free-text values, in the order the module documents, until the line fits
    /// `limit`.
    fn fit(&mut self, limit: usize) {
        let excess = |l: &Self| l.line_bytes().saturating_sub(limit);
        // The message first, down to nothing: a stub of it would say nothing.
        let over = excess(self);
        if over > 0 {
            if let Some(error) = &mut self.error {
                match json_len(error).checked_sub(over) {
                    Some(keep) if keep >= FLOOR => {
                        if let Some(shorter) = cut(error, keep) {
                            *error = shorter;
                        }
                    }
                    _ => self.error = None,
                }
            }
        }
        type Field = fn(&mut TargetLine) -> Option<&mut String>;
        let order: [Field; 6] = [
            |l| l.gateway_request_id.as_mut(),
            |l| Some(&mut l.target_name),
            |l| Some(&mut l.request_id),
            |l| l.config_check.as_mut(),
            |l| l.class.as_mut(),
            |l| l.gateway_code.as_mut(),
        ];
        for field in order {
            let over = excess(self);
            if over == 0 {
                return;
            }
            let Some(value) = field(self) else { continue };
            let len = json_len(value);
            if len <= FLOOR {
                continue;
            }
            if let Some(shorter) = cut(value, len.saturating_sub(over).max(FLOOR)) {
                *value = shorter;
            }
        }
    }

    /// Writes the line (after the clock stopped: writing it is not part of what is measured).
    pub(crate) fn emit(&self) {
        tracing::info!(
            target_name = self.target_name.as_str(),
            ok = self.ok,
            class = self.class.as_deref(),
            failed_phase = self.failed_phase,
            error = self.error.as_deref(),
            trigger = self.trigger,
            request_id = self.request_id.as_str(),
            samples = self.samples,
            dns_ms = self.dns_ms,
            connect_ms = self.connect_ms,
            tls_ms = self.tls_ms,
            send_ms = self.send_ms,
            ttfb_ms = self.ttfb_ms,
            transfer_ms = self.transfer_ms,
            total_ms = self.total_ms,
            scope = self.scope.as_deref(),
            status = self.status,
            gateway_code = self.gateway_code.as_deref(),
            gateway_request_id = self.gateway_request_id.as_deref(),
            p50_ms = self.p50_ms,
            p90_ms = self.p90_ms,
            max_ms = self.max_ms,
            config_check = self.config_check.as_deref(),
            "{MESSAGE}"
        );
    }
}

fn trigger_name(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::Event => "event",
        Trigger::Http => "http",
        Trigger::Timer => "timer",
        Trigger::Cli => "cli",
    }
}

/// How many bytes `c` takes inside a JSON string as serde_json writes it.
fn json_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// How many bytes `s` takes inside a JSON string (without the quotes).
fn json_len(s: &str) -> usize {
    s.chars().map(json_char_len).sum()
}

/// `s` cut to at most `max` bytes as written in JSON, [`CUT_MARK`] included; `None` when it
/// fits as it is.
fn cut(s: &str, max: usize) -> Option<String> {
    if json_len(s) <= max {
        return None;
    }
    let room = max.saturating_sub(CUT_MARK.len());
    let mut used = 0;
    let mut out = String::new();
    for c in s.chars() {
        used += json_char_len(c);
        if used > room {
            break;
        }
        out.push(c);
    }
    out.push_str(CUT_MARK);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorClass, ProbeError};
    use crate::report::{DnsReport, DnsSource, GatewayInfo, Latency, Phases};
    use crate::scope::Scope;

    fn phases(total: f64) -> Phases {
        Phases {
            dns: 123_456.789,
            connect: 123_456.789,
            tls: 123_456.789,
            send: 123_456.789,
            ttfb: 123_456.789,
            transfer: 123_456.789,
            total,
        }
    }

    /// A failed target whose every value is as long as a hostile server or caller can make it.
    fn hostile() -> TargetReport {
        let long = "x\"\u{1}é".repeat(2_000);
        let sample = Sample {
            status: Some(403),
            phases_ms: phases(740_740.734),
            gateway: Some(GatewayInfo {
                request_id: Some(long.clone()),
                error_code: Some("A".repeat(16)),
                error_message: Some(long.clone()),
            }),
            failed_phase: Some(FailedPhase::Answer),
            error: Some(ProbeError {
                class: ErrorClass::Gateway("A".repeat(16)),
                message: long.clone(),
                hint: long.clone(),
            }),
            ..Sample::default()
        };
        TargetReport {
            name: long.clone(),
            url: long.clone(),
            auth: None,
            config_check: None,
            addresses: Vec::new(),
            flaky: false,
            ok: false,
            dns: Some(DnsReport {
                host: long.clone(),
                addresses: vec!["10.0.0.1".into()],
                scope: Some(Scope::AlibabaService),
                servers: Vec::new(),
                ms: 1.0,
                source: DnsSource::Resolver,
            }),
            samples: vec![sample.clone(); 20],
            samples_omitted: 99_980,
            latency_ms: Latency::of(&[740_740.734; 3]),
            warnings: Vec::new(),
            error: sample.error.clone(),
        }
    }

    fn parsed(line: &TargetLine) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(line).unwrap() {
            serde_json::Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn the_envelope_is_the_line_the_subscriber_writes() {
        assert!(ENVELOPE.contains(&format!(r#""message":"{MESSAGE}""#)));
        assert!(ENVELOPE.contains(r#""target":"apigw_vpc_probe::logline""#));
    }

    #[test]
    fn cut_counts_json_escapes_and_marks_the_cut() {
        assert_eq!(cut("abc", 3), None);
        assert_eq!(cut("abcdef", 5).as_deref(), Some("ab…"));
        // `"` takes two bytes, a control character six.
        assert_eq!(cut("\"\"\"\"", 7).as_deref(), Some("\"\"…"));
        assert_eq!(cut("\u{1}\u{1}", 8).as_deref(), Some("…"));
        assert_eq!(cut("\u{1}\u{1}", 9).as_deref(), Some("\u{1}…"));
        assert_eq!(json_len("é\n\u{1}"), 2 + 2 + 6);
        for max in 3..40 {
            let c = cut(&"\"é\u{1}z".repeat(20), max).unwrap();
            assert!(json_len(&c) <= max, "{max}: {c:?}");
        }
    }

    #[test]
    fn a_hostile_target_fits_the_limit_with_every_value_cut_and_marked() {
        let id = "r".repeat(128);
        let line = TargetLine::new(
            Trigger::Timer,
            &id,
            &hostile(),
            Some(&"v".repeat(500)),
            &Redactor::default(),
        );
        assert!(line.line_bytes() <= LINE_LIMIT, "{}", line.line_bytes());
        let fields = parsed(&line);
        for v in fields.values() {
            assert!(!v.is_array() && !v.is_object() && !v.is_null(), "{v}");
        }
        // What must stay: the class in full, the fixed words, the numbers.
        assert_eq!(fields["class"], "gateway.AAAAAAAAAAAAAAAA");
        assert_eq!(fields["gateway_code"], "AAAAAAAAAAAAAAAA");
        assert_eq!(fields["failed_phase"], "answer");
        assert_eq!(fields["scope"], "alibaba-service");
        assert_eq!(fields["samples"], 100_000);
        assert_eq!(fields["status"], 403);
        assert_eq!(fields["total_ms"], 740_740.734);
        for (name, cap) in [
            ("target_name", cap::TARGET_NAME),
            ("gateway_request_id", cap::GATEWAY_REQUEST_ID),
            ("config_check", cap::CONFIG_CHECK),
        ] {
            let v = fields[name].as_str().unwrap();
            assert!(v.ends_with(CUT_MARK) && json_len(v) <= cap, "{name}: {v:?}");
        }
        println!("{}", serde_json::to_string(&line).unwrap());
    }

    #[test]
    fn the_error_gives_way_first_and_a_short_line_keeps_everything() {
        let mut target = hostile();
        target.name = "api".into();
        for s in &mut target.samples {
            s.gateway = Some(GatewayInfo {
                request_id: Some("3A1F0D2C-0000-4000-8000-000000000001".into()),
                error_code: Some("A403IS".into()),
                error_message: None,
            });
        }
        let line = TargetLine::new(Trigger::Http, "1-abc", &target, None, &Redactor::default());
        let fields = parsed(&line);
        assert!(line.line_bytes() <= LINE_LIMIT);
        assert_eq!(fields["target_name"], "api");
        assert_eq!(
            fields["gateway_request_id"],
            "3A1F0D2C-0000-4000-8000-000000000001"
        );
        assert!(!fields.contains_key("config_check"));
        let error = fields["error"].as_str().unwrap();
        assert!(error.ends_with(CUT_MARK), "{error}");
        // The error took what was left (less at most one escaped character and the mark).
        assert!(line.line_bytes() > LINE_LIMIT - 9, "{}", line.line_bytes());

        target.error = Some(ProbeError::config("short"));
        let line = TargetLine::new(Trigger::Http, "1-abc", &target, None, &Redactor::default());
        assert_eq!(parsed(&line)["error"], "short");
    }

    #[test]
    fn the_config_check_hook_prints_the_verdict_when_there_is_one() {
        let target = TargetReport::failed_early("t".into(), "u".into(), ProbeError::forbidden("f"));
        let r = Redactor::default();
        let with = TargetLine::new(
            Trigger::Event,
            "id",
            &target,
            Some("vpc-not-authorized"),
            &r,
        );
        assert_eq!(parsed(&with)["config_check"], "vpc-not-authorized");
        let without = TargetLine::new(Trigger::Event, "id", &target, None, &r);
        assert!(!parsed(&without).contains_key("config_check"));
        // A target refused while planning: no sample, failed in setup.
        let fields = parsed(&without);
        assert_eq!(fields["failed_phase"], "setup");
        assert_eq!(fields["class"], "target.forbidden");
        assert!(!fields.contains_key("total_ms"), "{fields:?}");
    }

    #[test]
    fn values_are_redacted_before_they_are_cut() {
        let secret = "s3cret-value-0123456789";
        let r = Redactor::default();
        r.add(secret);
        let mut target = hostile();
        let message = format!("{}{secret}", "m".repeat(40));
        target.error = Some(ProbeError::config(&message));
        // The name's cut (at 125 bytes and the mark) falls inside the secret.
        target.name = format!("{}{secret}", "n".repeat(110));
        let line = TargetLine::new(Trigger::Event, "id", &target, None, &r);
        let text = serde_json::to_string(&line).unwrap();
        // No prefix of the secret longer than what ordinary text could hold survives.
        assert!(!text.contains(&secret[..8]), "{text}");
    }

    #[test]
    fn an_ok_target_describes_its_first_sample() {
        let sample = |total: f64| Sample {
            ok: true,
            status: Some(200),
            phases_ms: Phases {
                total,
                ..Phases::default()
            },
            ..Sample::default()
        };
        let target = TargetReport {
            ok: true,
            error: None,
            samples: vec![sample(1.5), sample(2.5)],
            latency_ms: Latency::of(&[1.5, 2.5]),
            ..TargetReport::failed_early("t".into(), "u".into(), ProbeError::config("x"))
        };
        let line = TargetLine::new(Trigger::Cli, "id", &target, None, &Redactor::default());
        let fields = parsed(&line);
        assert_eq!(fields["total_ms"], 1.5);
        assert_eq!(fields["max_ms"], 2.5);
        assert_eq!(fields["samples"], 2);
        for absent in ["class", "failed_phase", "error", "gateway_code"] {
            assert!(!fields.contains_key(absent), "{absent}: {fields:?}");
        }
    }
}
