//! Assertions on an answer beyond its status (a target's `expect`): response headers, the body,
//! values in a JSON body, latency, and the days left on the server's certificates.
//!
//! The prober calls `check` after API Gateway's answer was judged (`apigw::answer`: the
//! status, the gateway's own codes), and `check_percentiles` once a target's samples are in. Each failed assertion is its own class with the expected and the actual value in its
//! message. The actual values are the server's and can hold anything, a reflected credential
//! among them: they pass through the redactor before they are cut to [`SHOWN_CHARS`].
//!
//! The regexes ([`Pattern`]) and JSON pointers ([`Pointer`]) are checked when the target is
//! read (an event, `APIGW_TARGETS`, a query, a flag): an invalid one is `config.invalid` then,
//! never a surprise while probing.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use hyper::header::HeaderMap;
use regex_automata::dfa::{dense, regex::Regex};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_automata::Input;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::call::KEEP_BODY_BYTES;
use crate::error::{ErrorClass, HintContext, ProbeError};
use crate::report::{Latency, TlsInfo};
use crate::target::Expect;

/// The longest regex or JSON pointer accepted: they may come from requests.
pub const MAX_PATTERN_CHARS: usize = 1024;

/// The most entries in each of `expect.headers`, `expect.headers_absent` and `expect.json`.
pub const MAX_ASSERTIONS: usize = 16;

/// `expect.cert_days_min` of an `https://` target that does not set it.
pub const CERT_DAYS_MIN: u32 = 14;

/// What a message shows of an actual value (characters, after redaction).
pub const SHOWN_CHARS: usize = 200;

/// The size a regex's automaton may take (forward and reverse DFA each, and its NFA): ample
/// for what an assertion needs, and a bound on what one from a request costs to build (a few
/// milliseconds) and to hold.
const REGEX_SIZE_LIMIT: usize = 128 * 1024;

/// A regular expression of an assertion: Rust's regex syntax, compiled to a DFA
/// (regex-automata, the regex crate's engine, already in the binary for the log filter) and
/// matched on bytes in linear time. `.`, `\w`, `\d`, `\s` and `(?i)` are ASCII; a non-ASCII
/// literal matches its UTF-8. A regex longer than [`MAX_PATTERN_CHARS`] or whose automaton
/// would be larger than 128 KiB is refused.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    regex: Arc<Regex>,
}

impl Pattern {
    /// Compiles `source`; the error says what is wrong with it.
    pub fn new(source: &str) -> Result<Self, String> {
        if source.chars().count() > MAX_PATTERN_CHARS {
            return Err(format!(
                "the regex is longer than {MAX_PATTERN_CHARS} characters"
            ));
        }
        let shown: String = source.chars().take(100).collect();
        let regex = Regex::builder()
            .syntax(
                syntax::Config::new()
                    .unicode(false)
                    .utf8(false)
                    .nest_limit(64),
            )
            .thompson(thompson::Config::new().nfa_size_limit(Some(REGEX_SIZE_LIMIT)))
            .dense(
                dense::Config::new()
                    .dfa_size_limit(Some(REGEX_SIZE_LIMIT))
                    .determinize_size_limit(Some(2 * REGEX_SIZE_LIMIT)),
            )
            .build(source)
            .map_err(|e| {
                let why = e.to_string();
                if why.contains("size limit") {
                    format!(
                        "regex {shown:?} is too complex: its automaton would exceed 128 KiB; write a simpler one"
                    )
                } else {
                    // The syntax error's last line says what is wrong; the lines before it
                    // repeat the pattern.
                    let why = why.lines().last().unwrap_or_default().to_owned();
                    format!("regex {shown:?} is not valid: {why}")
                }
            })?;
        Ok(Self {
            source: source.to_owned(),
            regex: Arc::new(regex),
        })
    }

    /// The regex as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the regex matches somewhere in `text`.
    pub fn is_match(&self, text: &[u8]) -> bool {
        self.find(text).is_some()
    }

    /// Where the regex first matches in `text`. (The DFA has no quit bytes, so a search
    /// cannot fail; if one did, it would count as no match.)
    fn find(&self, text: &[u8]) -> Option<std::ops::Range<usize>> {
        self.regex
            .try_search(&Input::new(text))
            .ok()
            .flatten()
            .map(|m| m.range())
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.source)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.source)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl FromStr for Pattern {
    type Err = ProbeError;

    fn from_str(s: &str) -> Result<Self, ProbeError> {
        Self::new(s).map_err(ProbeError::config)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// An RFC 6901 JSON Pointer (`/data/0/id`; `~1` for `/` and `~0` for `~` in a key; the empty
/// pointer is the whole document).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    /// Checks `text`; the error says what is wrong with it.
    pub fn new(text: &str) -> Result<Self, String> {
        let shown: String = text.chars().take(100).collect();
        if text.chars().count() > MAX_PATTERN_CHARS {
            return Err(format!(
                "JSON pointer {shown:?}… is longer than {MAX_PATTERN_CHARS} characters"
            ));
        }
        if !text.is_empty() && !text.starts_with('/') {
            return Err(format!(
                "JSON pointer {shown:?} must start with '/' (RFC 6901), e.g. /data/0/id"
            ));
        }
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err(format!(
                    "JSON pointer {shown:?} has a '~' that is not ~0 ('~') or ~1 ('/') (RFC 6901)"
                ));
            }
        }
        Ok(Self(text.to_owned()))
    }

    /// The pointer as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value it points at in `doc`.
    pub fn get<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        doc.pointer(&self.0)
    }
}

impl FromStr for Pointer {
    type Err = ProbeError;

    fn from_str(s: &str) -> Result<Self, ProbeError> {
        Self::new(s).map_err(ProbeError::config)
    }
}

impl<'de> Deserialize<'de> for Pointer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// One entry of `expect.json`: `{"pointer": "/data/0/id", "equals": 7}`,
/// `{"pointer": …, "matches": "^ok"}` or `{"pointer": …, "exists": false}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawJsonCheck")]
pub struct JsonCheck {
    /// Where the value is.
    pub pointer: Pointer,
    /// What it must be.
    pub test: JsonTest,
}

/// What a value in the JSON body must be.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonTest {
    /// Equal to this JSON value (numbers by value: `1` equals `1.0`).
    Equals(Value),
    /// A string matching this regex; any other value is matched as its JSON text.
    Matches(Pattern),
    /// Present (`true`) or absent (`false`).
    Exists(bool),
}

// serde_json's numbers are never NaN, so its values are equal to themselves.
impl Eq for JsonTest {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJsonCheck {
    pointer: Pointer,
    // `Some(Null)` for `"equals": null`, `None` when absent.
    #[serde(default, deserialize_with = "present")]
    equals: Option<Value>,
    #[serde(default)]
    matches: Option<Pattern>,
    #[serde(default)]
    exists: Option<bool>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl TryFrom<RawJsonCheck> for JsonCheck {
    type Error = String;

    fn try_from(raw: RawJsonCheck) -> Result<Self, String> {
        let test = match (raw.equals, raw.matches, raw.exists) {
            (Some(v), None, None) => JsonTest::Equals(v),
            (None, Some(p), None) => JsonTest::Matches(p),
            (None, None, Some(e)) => JsonTest::Exists(e),
            _ => {
                return Err(format!(
                    "expect.json entry for {:?} needs exactly one of \"equals\", \"matches\", \"exists\"",
                    raw.pointer.as_str()
                ))
            }
        };
        Ok(Self {
            pointer: raw.pointer,
            test,
        })
    }
}

impl JsonCheck {
    /// Reads `POINTER=JSON` (the command line's `--expect-json`, the query's `expect_json`):
    /// the value at POINTER must equal JSON; a value that is not JSON is taken as a string
    /// (`/status=ok` is `"ok"`). `POINTER` alone: the value must exist. The pointer ends at the
    /// first `=`, so a key with `=` needs `expect.json` in a target object.
    pub fn parse_flag(text: &str) -> Result<Self, ProbeError> {
        let Some((pointer, value)) = text.split_once('=') else {
            return Ok(Self {
                pointer: text.parse()?,
                test: JsonTest::Exists(true),
            });
        };
        if value.is_empty() {
            return Err(ProbeError::config(format!(
                "expect-json {:?} has no value after '=': write POINTER=JSON, or POINTER alone for \"exists\"",
                shorten(text)
            )));
        }
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
        Ok(Self {
            pointer: pointer.parse()?,
            test: JsonTest::Equals(value),
        })
    }
}

/// Reads `Name: regex` (the command line's `--expect-header`, the query's `expect_header`): the
/// header must be present and one of its values match the regex (an empty regex: present).
pub fn parse_header_flag(text: &str) -> Result<(String, Pattern), ProbeError> {
    let (name, regex) = text.split_once(':').ok_or_else(|| {
        ProbeError::config(format!(
            "expect-header {:?} is not 'Name: regex'",
            shorten(text)
        ))
    })?;
    let name = name.trim();
    check_header_name(name)?;
    Ok((name.to_owned(), regex.trim_start().parse()?))
}

/// The assertions the command line's flags (`--expect-status`, `--expect-header`,
/// `--expect-body`, `--expect-json`, `--max-ms`, `--cert-days-min`) and the HTTP trigger's
/// query (`expect_status`, `expect_header`, …) set, as written.
#[derive(Clone, Debug, Default)]
pub struct ExpectFlags {
    /// Accepted statuses.
    pub status: Vec<u16>,
    /// `Name: regex` each.
    pub headers: Vec<String>,
    /// The body's regex.
    pub body: Option<String>,
    /// `POINTER=JSON` (or `POINTER`) each.
    pub json: Vec<String>,
    /// `expect.max_ms`.
    pub max_ms: Option<u64>,
    /// `expect.cert_days_min`.
    pub cert_days_min: Option<u32>,
}

impl ExpectFlags {
    /// The target's `expect`; `None` when no flag was given (the defaults).
    pub fn build(self) -> Result<Option<Expect>, ProbeError> {
        let mut expect = Expect {
            status: self.status,
            body: self.body.as_deref().map(str::parse).transpose()?,
            max_ms: self.max_ms,
            cert_days_min: self.cert_days_min,
            ..Expect::default()
        };
        for h in &self.headers {
            let (name, pattern) = parse_header_flag(h)?;
            expect.headers.insert(name, pattern);
        }
        for j in &self.json {
            expect.json.push(JsonCheck::parse_flag(j)?);
        }
        Ok((expect != Expect::default()).then_some(expect))
    }
}

/// A header name an assertion may name.
pub(crate) fn check_header_name(name: &str) -> Result<(), ProbeError> {
    hyper::header::HeaderName::from_bytes(name.as_bytes())
        .map(|_| ())
        .map_err(|_| {
            ProbeError::config(format!(
                "expect header name {:?} is not a valid header name",
                shorten(name)
            ))
        })
}

fn shorten(text: &str) -> String {
    text.chars().take(100).collect()
}

/// What the assertions of one sample look at.
pub(crate) struct Answer<'a> {
    /// The response headers.
    pub headers: &'a HeaderMap,
    /// The body as kept: at most [`KEEP_BODY_BYTES`].
    pub body: &'a [u8],
    /// Every body byte received.
    pub bytes: u64,
    /// The sample's total, in milliseconds.
    pub total_ms: f64,
    /// The TLS session, for `https://`.
    pub tls: Option<&'a TlsInfo>,
}

/// The outcome of a sample's assertions.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// The failed assertions, in the order of [`check`].
    pub errors: Vec<ProbeError>,
    /// What could not be checked whole, for the target's warnings.
    pub warnings: Vec<String>,
}

/// Checks a sample's answer against `expect`, in this order: headers, absent headers, body,
/// refused body, JSON values, `max_ms`, then the certificates' days left (`https` only).
pub(crate) fn check(
    expect: &Expect,
    https: bool,
    answer: &Answer<'_>,
    ctx: &HintContext,
) -> Checked {
    let mut out = Checked::default();
    let mut fail = |class: ErrorClass, message: String| {
        out.errors.push(ProbeError::new(class, message, ctx));
    };

    for (name, pattern) in &expect.headers {
        let values = answer.headers.get_all(name.as_str());
        if values.iter().next().is_none() {
            fail(
                ErrorClass::AssertHeader,
                format!("response header {name} is missing; expected it to match {pattern}"),
            );
        } else if !values.iter().any(|v| pattern.is_match(v.as_bytes())) {
            let values: Vec<String> = values
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            fail(
                ErrorClass::AssertHeader,
                format!(
                    "response header {name} is {}; expected it to match {pattern}",
                    shown(&values.join(", "))
                ),
            );
        }
    }
    for name in &expect.headers_absent {
        if let Some(v) = answer.headers.get(name.as_str()) {
            fail(
                ErrorClass::AssertHeader,
                format!(
                    "response header {name} is present ({}); expected it absent",
                    shown(&String::from_utf8_lossy(v.as_bytes()))
                ),
            );
        }
    }

    let cut = answer.bytes > answer.body.len() as u64;
    let text = String::from_utf8_lossy(answer.body);
    let kept = || {
        format!(
            "the first {} bytes of the {}-byte body (the rest is read and counted, not kept)",
            answer.body.len(),
            answer.bytes
        )
    };
    if let Some(pattern) = &expect.body {
        if !pattern.is_match(answer.body) {
            let what = if cut { kept() } else { "the body".to_owned() };
            fail(
                ErrorClass::AssertBody,
                format!(
                    "{what} does not match {pattern}; it begins {}",
                    shown(&text)
                ),
            );
        }
    }
    if let Some(pattern) = &expect.body_not {
        match pattern.find(answer.body) {
            Some(m) => fail(
                ErrorClass::AssertBody,
                format!(
                    "the body matches {pattern} ({} at byte {}), which expect.body_not refuses",
                    shown(&String::from_utf8_lossy(&answer.body[m.clone()])),
                    m.start
                ),
            ),
            None if cut => out
                .warnings
                .push(format!("expect.body_not was checked on {} only", kept())),
            None => {}
        }
    }
    if !expect.json.is_empty() {
        check_json(&expect.json, answer, cut, &text, &mut fail);
    }

    if let Some(max) = expect.max_ms {
        if answer.total_ms > max as f64 {
            fail(
                ErrorClass::AssertLatency,
                format!(
                    "the sample took {:.3} ms; expect.max_ms is {max}",
                    answer.total_ms
                ),
            );
        }
    }

    if let (Some(min), Some(tls)) = (expect.cert_days_min(https), answer.tls) {
        if let Some(message) = expiring(tls, min, SystemTime::now()) {
            fail(ErrorClass::TlsExpiring, message);
        }
    }
    out
}

/// The `expect.json` entries against the body.
fn check_json(
    checks: &[JsonCheck],
    answer: &Answer<'_>,
    cut: bool,
    text: &str,
    fail: &mut impl FnMut(ErrorClass, String),
) {
    if cut {
        return fail(
            ErrorClass::AssertNotJson,
            format!(
                "the body ({} bytes) is longer than the {KEEP_BODY_BYTES} bytes kept, so expect.json cannot read it as JSON",
                answer.bytes
            ),
        );
    }
    let doc: Value = match serde_json::from_slice(answer.body) {
        Ok(doc) => doc,
        Err(e) => {
            let begins = match text.is_empty() {
                true => "the body is empty".to_owned(),
                false => format!("it begins {}", shown(text)),
            };
            return fail(
                ErrorClass::AssertNotJson,
                format!("expect.json needs a JSON body, and the body is not JSON ({e}); {begins}"),
            );
        }
    };
    for check in checks {
        let at = check.pointer.as_str();
        let found = check.pointer.get(&doc);
        let problem = match (&check.test, found) {
            (JsonTest::Exists(false), Some(v)) => Some(format!(
                "{at:?} is present ({}); expected it absent",
                shown_json(v)
            )),
            (JsonTest::Exists(false), None) => None,
            (test, None) => Some(format!("{at:?} is missing; expected {}", describe(test))),
            (JsonTest::Exists(true), Some(_)) => None,
            (JsonTest::Equals(want), Some(v)) => (!json_equal(want, v)).then(|| {
                format!(
                    "{at:?} is {}; expected {}",
                    shown_json(v),
                    describe(&check.test)
                )
            }),
            (JsonTest::Matches(pattern), Some(v)) => {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (!pattern.is_match(text.as_bytes())).then(|| {
                    format!(
                        "{at:?} is {}; expected it to match {pattern}",
                        shown_json(v)
                    )
                })
            }
        };
        if let Some(problem) = problem {
            fail(
                ErrorClass::AssertJson,
                format!("in the JSON body, {problem}"),
            );
        }
    }
}

/// How a test reads in a message.
fn describe(test: &JsonTest) -> String {
    match test {
        JsonTest::Equals(v) => shown_json(v),
        JsonTest::Matches(p) => format!("a value matching {p}"),
        JsonTest::Exists(true) => "it present".to_owned(),
        JsonTest::Exists(false) => "it absent".to_owned(),
    }
}

/// JSON equality with numbers compared by value (`1` and `1.0` are equal; large integers
/// exactly).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// The message when a presented certificate expires in fewer than `min` whole days.
fn expiring(tls: &TlsInfo, min: u32, now: SystemTime) -> Option<String> {
    let earliest = tls.earliest_expiry_unix?;
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = (earliest - now).div_euclid(86_400);
    if days >= i64::from(min) {
        return None;
    }
    let when = tls.earliest_expiry.as_deref().unwrap_or("?");
    let which = match &tls.certificate {
        Some(c) if c.not_after_unix == earliest => format!("the server's certificate ({})", c.subject),
        Some(c) => format!(
            "a certificate of the chain the server presented (before its own, {}, which expires {})",
            c.subject, c.not_after
        ),
        None => "a certificate the server presented".to_owned(),
    };
    let left = match days {
        d if d < 0 => "has expired".to_owned(),
        1 => "1 day left".to_owned(),
        d => format!("{d} days left"),
    };
    Some(format!(
        "{which} expires {when} ({left}); expect.cert_days_min is {min}"
    ))
}

/// Checks the target's percentiles (over the samples that got a response) against
/// `expect.p90_ms` and `expect.p99_ms`.
pub(crate) fn check_percentiles(
    expect: &Expect,
    latency: Option<&Latency>,
    answered: usize,
    ctx: &HintContext,
) -> Option<ProbeError> {
    let latency = latency?;
    [("p90", latency.p90, expect.p90_ms), ("p99", latency.p99, expect.p99_ms)]
        .into_iter()
        .find_map(|(name, value, limit)| {
            let limit = limit?;
            (value > limit as f64).then(|| {
                ProbeError::new(
                    ErrorClass::AssertLatency,
                    format!(
                        "{name} of the {answered} samples that got a response is {value:.3} ms; expect.{name}_ms is {limit}"
                    ),
                    ctx,
                )
            })
        })
}

/// `text` for a message: quoted, secrets masked, cut to [`SHOWN_CHARS`] characters (a cut
/// secret masked too).
fn shown(text: &str) -> String {
    let (text, cut) = bounded(text);
    format!("{text:?}{}", if cut { "…" } else { "" })
}

/// A JSON value for a message: as JSON text (a string keeps its quotes), bounded as [`shown`].
fn shown_json(value: &Value) -> String {
    let (text, cut) = bounded(&value.to_string());
    format!("{text}{}", if cut { "…" } else { "" })
}

/// `text` redacted, then cut to [`SHOWN_CHARS`] characters with a cut secret masked; `true`
/// when cut.
fn bounded(text: &str) -> (String, bool) {
    let redactor = crate::redact::current();
    let whole = redactor.redact(text);
    if whole.chars().nth(SHOWN_CHARS).is_none() {
        return (whole.into_owned(), false);
    }
    let cut: String = whole.chars().take(SHOWN_CHARS).collect();
    (redactor.redact_cut(&cut), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::CertInfo;
    use hyper::header::HeaderValue;

    fn expect(json: &str) -> Expect {
        serde_json::from_str(json).unwrap()
    }

    fn answer<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> Answer<'a> {
        Answer {
            headers,
            body,
            bytes: body.len() as u64,
            total_ms: 12.5,
            tls: None,
        }
    }

    fn classes(c: &Checked) -> Vec<String> {
        c.errors
            .iter()
            .map(|e| e.class.name().into_owned())
            .collect()
    }

    #[test]
    fn invalid_regexes_and_pointers_are_refused_when_read() {
        for (json, refusal) in [
            (r#"{"body": "("}"#, "regex \"(\" is not valid"),
            (r#"{"headers": {"x-a": "[z-a]"}}"#, "is not valid"),
            (
                r#"{"json": [{"pointer": "data", "exists": true}]}"#,
                "must start with '/'",
            ),
            (r#"{"json": [{"pointer": "/a~2", "exists": true}]}"#, "~0"),
            (
                r#"{"json": [{"pointer": "/a", "equals": 1, "exists": true}]}"#,
                "exactly one of",
            ),
            (r#"{"json": [{"pointer": "/a"}]}"#, "exactly one of"),
            (
                r#"{"json": [{"pointer": "/a", "matches": "("}]}"#,
                "is not valid",
            ),
            (
                r#"{"json": [{"pointer": "/a", "exist": true}]}"#,
                "unknown field",
            ),
        ] {
            let e = serde_json::from_str::<Expect>(json).unwrap_err();
            assert!(e.to_string().contains(refusal), "{json}: {e}");
        }
        let long = format!(r#"{{"body": "{}"}}"#, "a".repeat(MAX_PATTERN_CHARS + 1));
        let e = serde_json::from_str::<Expect>(&long).unwrap_err();
        assert!(e.to_string().contains("longer than"), "{e}");
        // A regex whose automaton would be too large is refused, quickly.
        let started = std::time::Instant::now();
        let e = Pattern::new("(a|b)*a(a|b){20}").unwrap_err();
        assert!(e.contains("too complex"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // `"equals": null` is a test for null, not a missing test.
        let e = expect(r#"{"json": [{"pointer": "/a", "equals": null}]}"#);
        assert_eq!(e.json[0].test, JsonTest::Equals(Value::Null));
    }

    #[test]
    fn patterns_match_bytes_anywhere_with_ascii_classes() {
        let p = |s: &str| Pattern::new(s).unwrap();
        assert!(p("hello").is_match(b"say hello there"));
        assert!(!p("^hello").is_match(b"say hello"));
        assert!(p("(?i)ERROR").is_match(b"an error page"));
        assert!(p(r"\d{3}-\w+").is_match(b"id 123-abc"));
        assert!(p("café").is_match("un café".as_bytes()));
        assert!(p(r#""ok":\s*true"#).is_match(br#"{"ok": true}"#));
        // Linear time on a body of the kept size, also for a regex with many states.
        let body = vec![b'x'; KEEP_BODY_BYTES];
        let started = std::time::Instant::now();
        assert!(!p("x{1,300}y").is_match(&body));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn flags_read_pointer_equals_json_and_name_colon_regex() {
        let c = JsonCheck::parse_flag("/data/0/id=7").unwrap();
        assert_eq!(
            (c.pointer.as_str(), &c.test),
            ("/data/0/id", &JsonTest::Equals(7.into()))
        );
        let c = JsonCheck::parse_flag("/status=ok").unwrap();
        assert_eq!(c.test, JsonTest::Equals("ok".into()));
        let c = JsonCheck::parse_flag(r#"/a={"b":[1]}"#).unwrap();
        assert_eq!(c.test, JsonTest::Equals(serde_json::json!({"b": [1]})));
        let c = JsonCheck::parse_flag("/a").unwrap();
        assert_eq!(c.test, JsonTest::Exists(true));
        for bad in ["/a=", "a=1", "/a~=1"] {
            let e = JsonCheck::parse_flag(bad).unwrap_err();
            assert_eq!(e.class, ErrorClass::ConfigInvalid, "{bad}");
        }
        let (name, p) = parse_header_flag("Content-Type: ^application/json").unwrap();
        assert_eq!(
            (name.as_str(), p.as_str()),
            ("Content-Type", "^application/json")
        );
        let (_, p) = parse_header_flag("X-Ca-Request-Id:").unwrap();
        assert!(p.is_match(b"anything"));
        for bad in ["no colon", "Bad Name: x", "X-A: ("] {
            let e = parse_header_flag(bad).unwrap_err();
            assert_eq!(e.class, ErrorClass::ConfigInvalid, "{bad}");
        }
    }

    #[test]
    fn headers_present_matching_and_absent() {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.append("x-tag", HeaderValue::from_static("a"));
        h.append("x-tag", HeaderValue::from_static("b"));
        let e = expect(
            r#"{"headers": {"Content-Type": "^application/json$", "x-tag": "^b$"}, "headers_absent": ["x-powered-by"]}"#,
        );
        let ctx = HintContext::default();
        assert!(check(&e, false, &answer(&h, b""), &ctx).errors.is_empty());

        let e = expect(
            r#"{"headers": {"content-type": "^text/html", "x-missing": ""}, "headers_absent": ["X-Tag"]}"#,
        );
        let c = check(&e, false, &answer(&h, b""), &ctx);
        assert_eq!(classes(&c), ["assert.header"; 3]);
        assert!(
            c.errors[0].message.contains("\"application/json\""),
            "{}",
            c.errors[0]
        );
        assert!(
            c.errors[0].message.contains("/^text/html/"),
            "{}",
            c.errors[0]
        );
        assert!(
            c.errors[1].message.contains("x-missing is missing"),
            "{}",
            c.errors[1]
        );
        assert!(
            c.errors[2].message.contains("present (\"a\")"),
            "{}",
            c.errors[2]
        );
        assert!(
            c.errors[0].hint.contains("expect.headers"),
            "{}",
            c.errors[0].hint
        );
    }

    #[test]
    fn body_and_body_not_and_a_cut_body() {
        let h = HeaderMap::new();
        let ctx = HintContext::default();
        let e = expect(r#"{"body": "hello from", "body_not": "(?i)error"}"#);
        let ok = br#"{"message": "hello from the backend"}"#;
        assert!(check(&e, false, &answer(&h, ok), &ctx).errors.is_empty());
        let c = check(&e, false, &answer(&h, b"<html>Error 500</html>"), &ctx);
        assert_eq!(classes(&c), ["assert.body", "assert.body"]);
        assert!(
            c.errors[0].message.contains("does not match /hello from/"),
            "{}",
            c.errors[0]
        );
        assert!(
            c.errors[0].message.contains("<html>Error 500"),
            "{}",
            c.errors[0]
        );
        assert!(
            c.errors[1].message.contains("\"Error\" at byte 6"),
            "{}",
            c.errors[1]
        );

        // A body longer than what is kept: `body` and `body_not` see the kept part only.
        let mut cut = answer(&h, b"xxxx");
        cut.bytes = 100_000;
        let c = check(&expect(r#"{"body": "y"}"#), false, &cut, &ctx);
        assert!(
            c.errors[0]
                .message
                .contains("first 4 bytes of the 100000-byte body"),
            "{}",
            c.errors[0]
        );
        let c = check(&expect(r#"{"body_not": "y"}"#), false, &cut, &ctx);
        assert!(c.errors.is_empty());
        assert!(
            c.warnings[0].contains("checked on the first 4 bytes"),
            "{:?}",
            c.warnings
        );
        let c = check(
            &expect(r#"{"json": [{"pointer": "", "exists": true}]}"#),
            false,
            &cut,
            &ctx,
        );
        assert_eq!(classes(&c), ["assert.not_json"]);
        assert!(
            c.errors[0].message.contains("longer than"),
            "{}",
            c.errors[0]
        );
    }

    #[test]
    fn json_values_by_pointer() {
        let h = HeaderMap::new();
        let ctx = HintContext::default();
        let body = br#"{"data": [{"id": 7, "name": "a/b", "n": 1.0}], "ok": true, "x~y": null}"#;
        let e = expect(
            r#"{"json": [
                {"pointer": "/data/0/id", "equals": 7},
                {"pointer": "/data/0/n", "equals": 1},
                {"pointer": "/data/0/name", "matches": "^a/"},
                {"pointer": "/data/0/id", "matches": "^7$"},
                {"pointer": "/ok", "exists": true},
                {"pointer": "/x~0y", "equals": null},
                {"pointer": "/missing", "exists": false}
            ]}"#,
        );
        let c = check(&e, false, &answer(&h, body), &ctx);
        assert!(c.errors.is_empty(), "{:?}", c.errors);

        let e = expect(
            r#"{"json": [
                {"pointer": "/data/0/id", "equals": "7"},
                {"pointer": "/data/1", "exists": true},
                {"pointer": "/ok", "exists": false},
                {"pointer": "/data/0/name", "matches": "^b"}
            ]}"#,
        );
        let c = check(&e, false, &answer(&h, body), &ctx);
        assert_eq!(classes(&c), ["assert.json"; 4]);
        assert!(
            c.errors[0]
                .message
                .contains(r#""/data/0/id" is 7; expected "7""#),
            "{}",
            c.errors[0]
        );
        assert!(
            c.errors[1].message.contains("\"/data/1\" is missing"),
            "{}",
            c.errors[1]
        );
        assert!(
            c.errors[2].message.contains("expected it absent"),
            "{}",
            c.errors[2]
        );

        for (body, says) in [
            (&b"<html>"[..], "it begins \"<html>\""),
            (b"", "the body is empty"),
        ] {
            let c = check(&e, false, &answer(&h, body), &ctx);
            assert_eq!(classes(&c), ["assert.not_json"]);
            assert!(c.errors[0].message.contains(says), "{}", c.errors[0]);
        }
    }

    #[tokio::test]
    async fn actual_values_are_redacted_and_cut() {
        let redactor = crate::redact::Redactor::default();
        redactor.add("s3cret-appcode-value");
        let h = HeaderMap::new();
        let body = format!("{}s3cret-appcode-value", "x".repeat(190));
        let e = expect(r#"{"body": "^nothing"}"#);
        let c = crate::redact::scope(redactor, async {
            check(
                &e,
                false,
                &answer(&h, body.as_bytes()),
                &HintContext::default(),
            )
        })
        .await;
        let m = &c.errors[0].message;
        assert!(!m.contains("s3cret"), "{m}");
        assert!(m.contains("***"), "{m}");
        // Cut after redaction: a long body shows its first SHOWN_CHARS characters.
        let long = "y".repeat(5000);
        let c = check(
            &e,
            false,
            &answer(&h, long.as_bytes()),
            &HintContext::default(),
        );
        assert!(c.errors[0].message.len() < 400, "{}", c.errors[0]);
    }

    #[test]
    fn latency_limits() {
        let h = HeaderMap::new();
        let ctx = HintContext::default();
        let c = check(&expect(r#"{"max_ms": 10}"#), false, &answer(&h, b""), &ctx);
        assert_eq!(classes(&c), ["assert.latency"]);
        assert!(
            c.errors[0]
                .message
                .contains("12.500 ms; expect.max_ms is 10"),
            "{}",
            c.errors[0]
        );
        assert!(
            check(&expect(r#"{"max_ms": 13}"#), false, &answer(&h, b""), &ctx)
                .errors
                .is_empty()
        );

        let l = Latency::of(&[1.0, 2.0, 50.0]).unwrap();
        let e = expect(r#"{"p90_ms": 40, "p99_ms": 100}"#);
        let err = check_percentiles(&e, Some(&l), 3, &ctx).unwrap();
        assert_eq!(err.class, ErrorClass::AssertLatency);
        assert!(err.message.contains("p90 of the 3 samples"), "{err}");
        assert!(check_percentiles(&expect(r#"{"p99_ms": 60}"#), Some(&l), 3, &ctx).is_none());
        assert!(check_percentiles(&e, None, 0, &ctx).is_none());
    }

    #[test]
    fn certificates_expiring_within_the_minimum() {
        let now = SystemTime::now();
        let unix = now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        let tls = |leaf_days: i64, chain_days: i64| TlsInfo {
            certificate: Some(CertInfo {
                subject: "CN=api.example.com".into(),
                not_after: "leaf-date".into(),
                not_after_unix: unix + leaf_days * 86_400 + 60,
                ..CertInfo::default()
            }),
            earliest_expiry: Some("earliest-date".into()),
            earliest_expiry_unix: Some(unix + leaf_days.min(chain_days) * 86_400 + 60),
            ..TlsInfo::default()
        };
        assert_eq!(expiring(&tls(14, 400), 14, now), None);
        let m = expiring(&tls(13, 400), 14, now).unwrap();
        assert!(
            m.contains("the server's certificate (CN=api.example.com)"),
            "{m}"
        );
        assert!(
            m.contains("13 days left") && m.contains("cert_days_min is 14"),
            "{m}"
        );
        let m = expiring(&tls(400, 5), 14, now).unwrap();
        assert!(
            m.contains("a certificate of the chain") && m.contains("5 days left"),
            "{m}"
        );
        let m = expiring(&tls(-2, 400), 1, now).unwrap();
        assert!(m.contains("has expired"), "{m}");

        // Defaults: 14 days for https, nothing for http; 0 turns the check off.
        let h = HeaderMap::new();
        let info = tls(5, 400);
        let mut a = answer(&h, b"");
        a.tls = Some(&info);
        let ctx = HintContext::default();
        assert_eq!(
            classes(&check(&Expect::default(), true, &a, &ctx)),
            ["tls.expiring"]
        );
        assert!(check(&expect(r#"{"cert_days_min": 0}"#), true, &a, &ctx)
            .errors
            .is_empty());
        assert!(check(&expect(r#"{"cert_days_min": 3}"#), true, &a, &ctx)
            .errors
            .is_empty());
        let alibaba = HintContext {
            host: "g-cn-shanghai.alicloudapi.com".into(),
            ..HintContext::default()
        };
        let c = check(&Expect::default(), true, &a, &alibaba);
        assert!(
            c.errors[0].hint.contains("Alibaba Cloud's own"),
            "{}",
            c.errors[0].hint
        );
        assert!(check(&Expect::default(), true, &a, &ctx).errors[0]
            .hint
            .contains("custom domain"));
    }
}
