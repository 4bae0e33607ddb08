//! One redaction path for everything that leaves the process: the runtime's answers (reports and
//! error bodies of `/invoke`, `/probe` and every other route), every log line, and the command
//! line's summary, `--json` report and error messages.
//!
//! A [`Redactor`] holds the secret values: the configured ones (`APIGW_APP_SECRET` or the first
//! line of `APIGW_APP_SECRET_FILE`, `APIGW_APPCODE`, an `AppCode` query parameter or an
//! `Authorization` header in a configured target, the function role's `ALIBABA_CLOUD_*`
//! credentials) and, per request, the role credentials FC sends in `x-fc-access-key-secret` /
//! `x-fc-security-token` and the `X-Ca-Signature` values computed while serving it. Every
//! occurrence becomes [`MASK`], wherever it is: a body kept with `return_body`, a gateway header,
//! an error message, a URL, a target's name.
//!
//! A value can come back in another spelling than it was sent in, so each one is matched in the
//! forms [`forms`] lists: as is; percent-encoded as a URL or a form would carry it (upper and
//! lower case hex); JSON-escaped as serde_json writes it, with `\/`, and with `\uXXXX` for
//! every non-ASCII character; and each of those once more JSON-escaped, which is how a string
//! holding it reads inside a serialized report. JSON output is redacted string by string (parse,
//! replace, serialize), never by replacing bytes in the serialized text, where a match could
//! start inside an escape sequence and break the document. Overlapping occurrences (of one value
//! or of two) are masked as one run.
//!
//! A cut must not leave half a secret. Gateway headers are redacted before their cut at 512
//! characters; a body is cut at 64 KiB while it is read, so where it was, [`Redactor::redact_cut`]
//! also masks a tail that begins a secret's form (at least [`MIN_PARTIAL`] bytes of it). Only
//! there: an ordinary string may well end like the start of a secret (`appcode`, `appcode-…`).
//! Code that cuts text from the network must do the same.
//!
//! Values shorter than [`MIN_SECRET_LEN`] are not matched: masking them would mask ordinary text
//! (and the pattern of masks would spell them). The function does not sign with or send such a
//! value either: a shorter AppSecret or AppCode is `config.invalid` (see `config.rs`); API
//! Gateway's are 32 characters, FC's role credentials 30 and more.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::future::Future;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::apigw::AppSecret;
use crate::config::Settings;
use crate::secret::Secret;
use crate::target::TargetSpec;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Shortest value that is redacted, and shortest AppSecret or AppCode the function accepts.
pub const MIN_SECRET_LEN: usize = 8;

/// Shortest start of a secret's form that is masked at the end of a string (a cut secret).
pub const MIN_PARTIAL: usize = 4;

/// Characters a URL's query keeps encoded (the `url` crate's query set).
const QUERY: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>');
/// Characters a URL's path keeps encoded.
const PATH: &AsciiSet = &QUERY.add(b'?').add(b'`').add(b'{').add(b'}');
/// The query set of special schemes, which also encodes `'`.
const SPECIAL_QUERY: &AsciiSet = &QUERY.add(b'\'');

/// The secret values to mask, in every form they are matched in. Cloning shares the values;
/// [`Redactor::child`] adds a layer of its own (one request's values) on top.
#[derive(Clone)]
pub struct Redactor {
    /// The parents' layers first, this redactor's own last (the one [`Redactor::add`] fills).
    layers: Vec<Arc<Mutex<Layer>>>,
}

impl Default for Redactor {
    /// No value yet, and a layer of its own for [`Redactor::add`].
    fn default() -> Self {
        Self {
            layers: vec![Arc::default()],
        }
    }
}

#[derive(Default)]
struct Layer {
    /// The values as added, without duplicates.
    values: Vec<String>,
    /// Every form of every value, built on first need after the values changed: a layer
    /// searched by its anchors (a request's signature) needs them only where an anchor is found.
    forms: Option<BTreeSet<String>>,
    /// Built on first use after the values changed, then shared until they change again.
    matcher: Option<Arc<Matcher>>,
}

impl Layer {
    /// Every form of every value (see [`forms`]).
    fn forms(&mut self) -> &BTreeSet<String> {
        self.forms.get_or_insert_with(|| all_forms(&self.values))
    }
}

/// The [`forms`] of every value, without duplicates.
fn all_forms(values: &[String]) -> BTreeSet<String> {
    values.iter().flat_map(|v| forms(v)).collect()
}

/// Shortest anchor worth a search of its own.
const MIN_ANCHOR: usize = 6;

/// Finds the forms of one layer's values, value by value.
struct Matcher {
    values: Vec<ValueMatcher>,
}

/// One value: a text that does not hold its anchor holds none of its forms. A request's
/// signature has a dozen forms; most texts (log lines, URLs, reports) hold none, and one
/// search per value instead of one per form is most of what signing costs a probe. A value
/// without an anchor is searched form by form.
struct ValueMatcher {
    value: String,
    anchor: Option<memchr::memmem::Finder<'static>>,
    /// Built on first use: where the anchor is first found, or at the first search without one.
    forms: OnceLock<Vec<memchr::memmem::Finder<'static>>>,
}

impl Matcher {
    fn build(values: &[String]) -> Self {
        let values = values
            .iter()
            .map(|v| ValueMatcher {
                value: v.clone(),
                anchor: anchor(v).map(finder),
                forms: OnceLock::new(),
            })
            .collect();
        Self { values }
    }

    /// The values whose forms may be in `text` (their anchor is, or they have none).
    fn candidates<'a>(&'a self, text: &'a [u8]) -> impl Iterator<Item = &'a ValueMatcher> + 'a {
        self.values
            .iter()
            .filter(|v| v.anchor.as_ref().is_none_or(|a| a.find(text).is_some()))
    }

    /// Every occurrence of every form, overlapping ones too, as byte ranges.
    fn find_all(&self, text: &[u8], out: &mut Vec<Range<usize>>) {
        for f in self.candidates(text).flat_map(ValueMatcher::finders) {
            out.extend(f.find_iter(text).map(|at| at..at + f.needle().len()));
        }
    }

    fn is_match(&self, text: &[u8]) -> bool {
        self.candidates(text)
            .flat_map(ValueMatcher::finders)
            .any(|f| f.find(text).is_some())
    }
}

impl ValueMatcher {
    fn finders(&self) -> &[memchr::memmem::Finder<'static>] {
        self.forms
            .get_or_init(|| forms(&self.value).iter().map(|f| finder(f)).collect())
    }
}

fn finder(needle: &str) -> memchr::memmem::Finder<'static> {
    memchr::memmem::Finder::new(needle.as_bytes()).into_owned()
}

/// A part of `value` that every one of its [`forms`] contains: its longest run of ASCII letters
/// and digits, which no percent-encoding or JSON escape changes — except the two characters
/// after a `%`, which a lower-hex form may change, so those end a run. `None` when the longest
/// run is shorter than [`MIN_ANCHOR`].
pub(crate) fn anchor(value: &str) -> Option<&str> {
    let mut best = 0..0;
    let mut start = 0;
    // How many of the next bytes still follow a `%` closely enough to be its hex digits.
    let mut after_percent = 0u8;
    for (i, &b) in value.as_bytes().iter().enumerate() {
        let in_run = after_percent == 0 && b.is_ascii_alphanumeric();
        after_percent = if b == b'%' {
            2
        } else {
            after_percent.saturating_sub(1)
        };
        if !in_run {
            if i - start > best.len() {
                best = start..i;
            }
            start = i + 1;
        }
    }
    if value.len() - start > best.len() {
        best = start..value.len();
    }
    (best.len() >= MIN_ANCHOR).then(|| &value[best])
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values: only how many are held.
        let values: usize = self.layers.iter().map(|l| lock(l).values.len()).sum();
        write!(f, "Redactor({values} values)")
    }
}

fn lock(layer: &Mutex<Layer>) -> std::sync::MutexGuard<'_, Layer> {
    // The data stays consistent if a holder panicked: a set of strings and a cache.
    layer.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Redactor {
    /// The configured secrets: the app's AppSecret and AppCode, the remote write password, and the AppCodes and
    /// `Authorization` values written in the configured targets.
    pub fn from_settings(settings: &Settings) -> Self {
        let r = Self::default();
        let creds = &settings.credentials;
        let app_secret = creds.app_secret.as_ref().map(AppSecret::expose);
        let appcode = creds.appcode.as_ref().map(Secret::expose);
        for secret in [app_secret, appcode].into_iter().flatten() {
            r.add(secret);
        }
        for value in configured_target_secrets(&settings.targets) {
            r.add(&value);
        }
        if let Some(p) = settings
            .push
            .remote_write
            .as_ref()
            .and_then(|rw| rw.password.as_ref())
        {
            r.add(p.expose());
        }
        r
    }

    /// [`Redactor::from_settings`] and the process's own Alibaba Cloud credentials
    /// (`ALIBABA_CLOUD_ACCESS_KEY_SECRET`, `ALIBABA_CLOUD_SECURITY_TOKEN`): what a program
    /// printing reports (the command line, a library caller) must keep out of its output.
    pub fn from_environment(settings: &Settings) -> Self {
        let r = Self::from_settings(settings);
        if let Some(c) = crate::runtime::context::InstanceEnv::from_env().credentials {
            r.add(c.access_key_secret());
            r.add(c.security_token().unwrap_or_default());
        }
        r
    }

    /// A redactor with this one's values (also those added to it later), whose own additions
    /// (one request's) stay its own.
    pub fn child(&self) -> Self {
        let mut layers = self.layers.clone();
        layers.push(Arc::default());
        Self { layers }
    }

    /// Adds a secret value (ignored when shorter than [`MIN_SECRET_LEN`]).
    pub fn add(&self, value: &str) {
        if value.chars().count() < MIN_SECRET_LEN {
            return;
        }
        let Some(own) = self.layers.last() else {
            return;
        };
        let mut layer = lock(own);
        if layer.values.iter().any(|v| v == value) {
            return;
        }
        // Only the value now: its anchor and forms are built when something needs them.
        layer.values.push(value.to_owned());
        layer.forms = None;
        layer.matcher = None;
    }

    /// True when `value` (as given) is held.
    pub fn holds(&self, value: &str) -> bool {
        self.layers.iter().any(|l| lock(l).forms().contains(value))
    }

    /// True when no value is held.
    pub fn is_empty(&self) -> bool {
        self.layers.iter().all(|l| lock(l).values.is_empty())
    }

    /// `text` with every form of every value replaced by [`MASK`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let ranges = self.find_all(text.as_bytes());
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for r in ranges {
            // Forms are UTF-8, so a match starts and ends on character boundaries.
            out.push_str(&text[at..r.start]);
            out.push_str(MASK);
            at = r.end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// A text that was cut short: as [`Redactor::redact`], and a tail that begins a form (the
    /// part of a secret left before the cut) masked too.
    pub fn redact_cut(&self, text: &str) -> String {
        let whole = self.redact(text);
        let forms: Vec<String> = self
            .layers
            .iter()
            .flat_map(|l| lock(l).forms().iter().cloned().collect::<Vec<_>>())
            .collect();
        match cut_tail(&forms, &whole) {
            Some(keep) => format!("{}{MASK}", &whole[..keep]),
            None => whole.into_owned(),
        }
    }

    /// Redacts every string (and object key) of a JSON value in place.
    pub fn redact_json(&self, value: &mut Value) {
        if self.is_empty() {
            return;
        }
        walk(self, value);
    }

    /// A serialized JSON document (or several, one per line, as log lines are), redacted string
    /// by string; text that is not JSON is redacted as text. The bytes are returned unchanged
    /// when they hold no form of a secret.
    pub fn redact_json_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        // Every string of the document is in the bytes JSON-escaped, and the forms include the
        // escaped spelling of each form, so no match here means no string holds a form.
        let mut any = false;
        self.each_matcher(bytes.len(), |m| any = any || m.is_match(bytes));
        if !any {
            return Cow::Borrowed(bytes);
        }
        let mut out = Vec::with_capacity(bytes.len());
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(mut v) => {
                    walk(self, &mut v);
                    // Serializing a `Value` cannot fail (its map keys are strings).
                    out.extend(serde_json::to_vec(&v).unwrap_or_default());
                }
                Err(_) => out.extend(self.redact(&String::from_utf8_lossy(line)).as_bytes()),
            }
        }
        Cow::Owned(out)
    }

    /// Calls `f` with the matcher of each layer that may have a form in a text of `len` bytes,
    /// built where the forms changed since the last use (without collecting them: this runs for
    /// every string of every log line).
    fn each_matcher(&self, len: usize, mut f: impl FnMut(&Matcher)) {
        for l in &self.layers {
            let matcher = {
                let mut layer = lock(l);
                // No form is shorter than its value (every encoding only lengthens it), so a
                // text shorter than every value holds none (a request id, a status, a class are
                // shorter than a signature). A layer without values holds none either.
                let shortest = layer.values.iter().map(String::len).min();
                if shortest.is_none_or(|shortest| len < shortest) {
                    continue;
                }
                if layer.matcher.is_none() {
                    layer.matcher = Some(Arc::new(Matcher::build(&layer.values)));
                }
                layer.matcher.clone()
            };
            if let Some(m) = matcher {
                f(&m);
            }
        }
    }

    /// The ranges to mask in `text`: every occurrence of every form, overlapping ones merged.
    fn find_all(&self, text: &[u8]) -> Vec<Range<usize>> {
        let mut ranges = Vec::new();
        // Every form is at least as long as its value, and no value is shorter than this: most
        // of a log line's fields are (a status, a phase, a class).
        if text.len() < MIN_SECRET_LEN {
            return ranges;
        }
        self.each_matcher(text.len(), |m| m.find_all(text, &mut ranges));
        if ranges.len() < 2 {
            return ranges;
        }
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }
}

/// Where a cut secret starts at the end of `text`: the earliest position from which the rest
/// of `text` (at least [`MIN_PARTIAL`] bytes) begins a form.
fn cut_tail(forms: &[String], text: &str) -> Option<usize> {
    let longest = forms.iter().map(String::len).max()?;
    let from = text.len().saturating_sub(longest);
    (from..text.len().saturating_sub(MIN_PARTIAL - 1))
        .filter(|&at| text.is_char_boundary(at))
        .find(|&at| {
            let rest = &text.as_bytes()[at..];
            forms.iter().any(|f| f.as_bytes().starts_with(rest))
        })
}

fn walk(r: &Redactor, value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(redacted) = r.redact(s) {
                *s = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(r, v)),
        Value::Object(map) => {
            let keys_hold_secrets = map.keys().any(|k| matches!(r.redact(k), Cow::Owned(_)));
            if keys_hold_secrets {
                let old = std::mem::take(map);
                for (k, v) in old {
                    map.insert(r.redact(&k).into_owned(), v);
                }
            }
            map.values_mut().for_each(|v| walk(r, v));
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The spellings `value` is matched in (see the module's documentation).
pub fn forms(value: &str) -> BTreeSet<String> {
    if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return base64_forms(value);
    }
    // Each spelling built once: most sets leave most values as they are (a signature has
    // three distinct spellings among the ten encodings), and a request's signature is added
    // on every signed probe.
    let mut plain: BTreeSet<String> = BTreeSet::new();
    plain.insert(value.to_owned());
    let mut add_encoded = |encoded: Cow<'_, str>| {
        if encoded.contains('%') {
            plain.insert(lower_hex(&encoded));
        }
        if !plain.contains(encoded.as_ref()) {
            plain.insert(encoded.into_owned());
        }
    };
    for set in [NON_ALPHANUMERIC, QUERY, PATH, SPECIAL_QUERY] {
        add_encoded(utf8_percent_encode(value, set).into());
    }
    add_encoded(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());

    let mut out = BTreeSet::new();
    for p in &plain {
        let json = json_escape(p);
        if json.contains('/') {
            out.insert(json.replace('/', "\\/"));
        }
        // For ASCII both `\uXXXX` spellings are `json` itself.
        if !p.is_ascii() {
            out.insert(json_ascii(p, false));
            out.insert(json_ascii(p, true));
        }
        if json != *p {
            out.insert(p.clone());
        }
        out.insert(json);
    }
    // How each of these reads inside a serialized JSON string.
    let escaped: Vec<String> = out
        .iter()
        .filter(|f| needs_json_escape(f))
        .map(|f| json_escape(f))
        .collect();
    out.extend(escaped);
    out.retain(|f| !f.is_empty());
    out
}

/// [`forms`] of a value in the base64 alphabet, as every signature and most keys are, built
/// directly: as is; with `+`, `/` and `=` percent-encoded in upper and lower case hex (every
/// encoding either leaves the three alone or writes them so); and where it holds a `/`, with
/// `\/` for it, and that once more JSON-escaped (`\\/`). Nothing else in the alphabet is ever
/// escaped. The general path gives the same set (`forms_are_the_forms_as_first_written`).
fn base64_forms(value: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if value.is_empty() {
        return out;
    }
    let encode = |[plus, slash, equals]: [&str; 3]| {
        let mut s = String::with_capacity(value.len() * 3);
        let mut rest = value;
        while let Some(at) = rest.find(['+', '/', '=']) {
            s.push_str(&rest[..at]);
            s.push_str(match rest.as_bytes()[at] {
                b'+' => plus,
                b'/' => slash,
                _ => equals,
            });
            rest = &rest[at + 1..];
        }
        s.push_str(rest);
        s
    };
    if value.contains(['+', '/', '=']) {
        out.insert(encode(["%2B", "%2F", "%3D"]));
        out.insert(encode(["%2b", "%2f", "%3d"]));
    }
    if value.contains('/') {
        out.insert(value.replace('/', "\\/"));
        out.insert(value.replace('/', "\\\\/"));
    }
    out.insert(value.to_owned());
    out
}

/// serde_json escapes `"`, `\\` and control characters only: most values have none.
fn needs_json_escape(s: &str) -> bool {
    s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

/// `s` as serde_json writes it inside a string, without the quotes.
fn json_escape(s: &str) -> String {
    if !needs_json_escape(s) {
        return s.to_owned();
    }
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned()
}

/// `s` JSON-escaped with every non-ASCII character as `\uXXXX` (as Python's `json.dumps`
/// writes it), in upper or lower case hex.
fn json_ascii(s: &str, upper: bool) -> String {
    let escaped = json_escape(s);
    if escaped.is_ascii() {
        // The common case (keys, tokens, signatures): nothing to spell as `\uXXXX`.
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len());
    for c in escaped.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                if upper {
                    out.push_str(&format!("\\u{unit:04X}"));
                } else {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

/// `%2B` → `%2b`: percent-escapes in lower case, as some clients write them.
fn lower_hex(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // Runs without `%` copied whole; the two characters after each `%` lowered.
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let mut end = 0;
        for c in rest.chars().take(2) {
            out.push(c.to_ascii_lowercase());
            end += c.len_utf8();
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The secrets written into configured targets: `AppCode` query parameters (decoded, and as
/// written in the URL) and `Authorization` header values (and the code after `APPCODE `).
pub fn configured_target_secrets(specs: &[TargetSpec]) -> Vec<String> {
    let mut out = Vec::new();
    for spec in specs {
        for text in [spec.url.as_deref(), spec.path.as_deref()]
            .into_iter()
            .flatten()
        {
            let Some((_, query)) = text.split_once('?') else {
                continue;
            };
            let query = query.split('#').next().unwrap_or_default();
            for pair in query.split('&') {
                let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
                let name: String = url::form_urlencoded::parse(name.as_bytes())
                    .next()
                    .map(|(k, _)| k.into_owned())
                    .unwrap_or_default();
                let folded: String = name
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase();
                if folded == "appcode" && !raw.is_empty() {
                    out.push(raw.to_owned());
                    let decoded: String =
                        url::form_urlencoded::parse(format!("v={raw}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default();
                    out.push(decoded);
                }
            }
        }
        for (name, value) in &spec.headers {
            if name.eq_ignore_ascii_case("authorization") {
                out.push(value.trim().to_owned());
                if let Some((scheme, code)) = value.trim().split_once(' ') {
                    if scheme.eq_ignore_ascii_case("appcode") {
                        out.push(code.trim().to_owned());
                    }
                }
            }
        }
    }
    out.retain(|v| !v.is_empty());
    out.sort();
    out.dedup();
    out
}

tokio::task_local! {
    /// The redactor of the request (or CLI run) being served.
    static CURRENT: Redactor;
}

static GLOBAL: OnceLock<Redactor> = OnceLock::new();

/// Sets the process's redactor: the configured secrets, for log lines written outside a
/// request. The first call wins.
pub fn set_global(r: Redactor) {
    let _ = GLOBAL.set(r);
}

/// The redactor of the current request or run, else the process's.
pub fn current() -> Redactor {
    CURRENT
        .try_with(Redactor::clone)
        .unwrap_or_else(|_| GLOBAL.get().cloned().unwrap_or_default())
}

/// Runs `f` with `r` as the [`current`] redactor: values [`note`]d while it runs are added to
/// `r`, and log lines it writes are redacted with `r`.
// A plain fn, not an `async fn`: an async fn keeps its argument `f` and the scope future that
// owns it side by side, twice a request's future (9 KB more per invocation in flight).
pub fn scope<F: Future>(r: Redactor, f: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(r, f)
}

/// Adds a value computed while serving (a signature) to the current request's redactor. Outside
/// a [`scope`] nothing is added: then nothing is written out through a redactor either.
pub fn note(value: &str) {
    let _ = CURRENT.try_with(|r| r.add(value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redactor(values: &[&str]) -> Redactor {
        let r = Redactor::default();
        for v in values {
            r.add(v);
        }
        r
    }

    #[test]
    fn masks_every_occurrence_and_leaves_other_text() {
        let r = redactor(&["s3cr3t-value"]);
        assert_eq!(
            r.redact("a s3cr3t-value b s3cr3t-value"),
            format!("a {MASK} b {MASK}")
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert!(matches!(Redactor::default().redact("x"), Cow::Borrowed(_)));
    }

    #[test]
    fn short_values_are_not_matched() {
        let r = redactor(&["1234567", ""]);
        assert!(r.is_empty());
        assert_eq!(r.redact("1234567"), "1234567");
    }

    #[test]
    fn json_escaped_and_percent_encoded_forms_are_masked() {
        let secret = "q\"uo\\te/+ =\tä€";
        let r = redactor(&[secret]);
        let escaped = serde_json::to_string(secret).unwrap();
        let escaped = &escaped[1..escaped.len() - 1];
        let ascii = json_ascii(secret, false);
        let percent = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for spelled in [
            secret.to_owned(),
            escaped.to_owned(),
            escaped.replace('/', "\\/"),
            ascii.clone(),
            json_ascii(secret, true),
            percent.clone(),
            lower_hex(&percent),
            form.clone(),
        ] {
            let text = format!("<{spelled}>");
            assert_eq!(r.redact(&text), format!("<{MASK}>"), "{spelled}");
        }
        // A body that holds an escaped form, serialized once more into a report.
        let report = json!({"body": format!("{{\"h\":\"{escaped}\"}}"), "url": format!("http://x/?a={form}")});
        let text = serde_json::to_vec(&report).unwrap();
        let out = r.redact_json_bytes(&text);
        let out = String::from_utf8(out.into_owned()).unwrap();
        let v: Value = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(v["body"], format!("{{\"h\":\"{MASK}\"}}"));
        assert_eq!(v["url"], format!("http://x/?a={MASK}"));
        for needle in [secret, escaped, &ascii, &percent, &form] {
            assert!(!out.contains(needle), "{needle} in {out}");
        }
    }

    #[test]
    fn base64_signatures_are_masked_in_urls_too() {
        let sig = "Zm9v+YmFy/YmF6PQ==";
        let r = redactor(&[sig]);
        for text in [
            format!("X-Ca-Signature: {sig}"),
            "sig=Zm9v%2BYmFy%2FYmF6PQ%3D%3D".to_owned(),
            "sig=Zm9v%2bYmFy%2fYmF6PQ%3d%3d".to_owned(),
            "{\"s\":\"Zm9v+YmFy\\/YmF6PQ==\"}".to_owned(),
        ] {
            let out = r.redact(&text);
            assert!(
                out.contains(MASK) && !out.contains("YmF6"),
                "{text} -> {out}"
            );
        }
    }

    /// [`forms`] as first written: every encoding built and inserted, escapes through serde.
    fn forms_as_first_written(value: &str) -> BTreeSet<String> {
        let escape = |s: &str| {
            let q = serde_json::to_string(s).unwrap();
            q[1..q.len() - 1].to_owned()
        };
        let ascii = |s: &str, upper: bool| {
            escape(s)
                .chars()
                .map(|c| match c.is_ascii() {
                    true => c.to_string(),
                    false => c
                        .encode_utf16(&mut [0; 2])
                        .iter()
                        .map(|u| match upper {
                            true => format!("\\u{u:04X}"),
                            false => format!("\\u{u:04x}"),
                        })
                        .collect(),
                })
                .collect::<String>()
        };
        let mut plain = BTreeSet::from([value.to_owned()]);
        for set in [NON_ALPHANUMERIC, QUERY, PATH, SPECIAL_QUERY] {
            let encoded = utf8_percent_encode(value, set).to_string();
            plain.insert(lower_hex(&encoded));
            plain.insert(encoded);
        }
        let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        plain.insert(lower_hex(&form));
        plain.insert(form);
        let mut out = BTreeSet::new();
        for p in &plain {
            out.insert(escape(p).replace('/', "\\/"));
            out.insert(ascii(p, false));
            out.insert(ascii(p, true));
            out.insert(escape(p));
            out.insert(p.clone());
        }
        let escaped: Vec<String> = out.iter().map(|f| escape(f)).collect();
        out.extend(escaped);
        out.retain(|f| !f.is_empty());
        out
    }

    #[test]
    fn forms_are_the_forms_as_first_written() {
        use proptest::prelude::*;
        let chars = proptest::collection::vec(
            prop_oneof![
                Just('%'),
                Just('+'),
                Just('/'),
                Just('='),
                Just('"'),
                Just('\\'),
                Just(' '),
                Just('\n'),
                Just('é'),
                Just('中'),
                Just('#'),
                Just('\''),
                Just('~'),
                proptest::char::range('0', '9'),
                proptest::char::range('A', 'F'),
                proptest::char::range('a', 'z'),
            ],
            0..40,
        );
        let mut runner = proptest::test_runner::TestRunner::new_with_rng(
            proptest::test_runner::Config {
                cases: 3000,
                failure_persistence: None,
                ..Default::default()
            },
            proptest::test_runner::TestRng::deterministic_rng(
                proptest::test_runner::RngAlgorithm::ChaCha,
            ),
        );
        runner
            .run(&chars, |chars| {
                let value: String = chars.into_iter().collect();
                prop_assert_eq!(forms(&value), forms_as_first_written(&value));
                Ok(())
            })
            .unwrap();
        // The base64 alphabet takes its own path.
        runner
            .run(&"[A-Za-z0-9+/=]{0,60}", |value| {
                prop_assert_eq!(forms(&value), forms_as_first_written(&value));
                Ok(())
            })
            .unwrap();
        for value in [
            "Zm9v+YmFy/YmF6PQ==",
            "x%ABCDefgh12+/=",
            "a\"b\\c/d é中",
            "",
            "abc",
        ] {
            assert_eq!(forms(value), forms_as_first_written(value), "{value}");
        }
    }

    #[test]
    fn anchored_values_are_masked_in_every_form_and_texts_without_the_anchor_pass() {
        // `%AB…` has a lower-hex form that changes the letters after the `%`: the anchor must
        // be a run those do not belong to.
        let value = "x%ABCDefgh12+/=";
        assert_eq!(anchor(value), Some("CDefgh12"));
        assert_eq!(anchor("%%ABCDEFGHI"), Some("CDEFGHI"));
        assert_eq!(anchor("abcdefg%41ghijkl"), Some("abcdefg"));
        assert_eq!(anchor("abcdef%41ghijklmn"), Some("ghijklmn"));
        assert_eq!(anchor("ab-cdefghij"), Some("cdefghij"));
        assert_eq!(anchor("abcde-fghij"), None);
        // The two characters after a `%` are lowered, a `%` among them starts nothing.
        assert_eq!(lower_hex("x%2F%%AB%C3%A9"), "x%2f%%aB%c3%a9");
        let r = redactor(&[value]);
        for form in forms(value) {
            let text = format!("before {form} after");
            assert_eq!(r.redact(&text), format!("before {MASK} after"), "{form}");
        }
        assert_eq!(r.redact("no anchor here"), "no anchor here");
        // Two anchored values in one layer: either one's text is masked.
        r.add("QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert_eq!(
            r.redact("a QWxhZGRpbjpvcGVuIHNlc2FtZQ== b"),
            format!("a {MASK} b")
        );
        assert_eq!(r.redact("c x%ABCDefgh12+/= d"), format!("c {MASK} d"));
        // A value without an anchor turns the layer's anchors off, not its matching.
        r.add("a.b-c.d_e");
        assert_eq!(r.redact("[a.b-c.d_e]"), format!("[{MASK}]"));
        assert_eq!(r.redact("c x%ABCDefgh12+/= d"), format!("c {MASK} d"));
    }

    #[test]
    fn a_secret_cut_at_the_end_of_a_cut_text_is_masked() {
        let r = redactor(&["abcdefghijklmnop"]);
        assert_eq!(r.redact_cut("body: abcdefg"), format!("body: {MASK}"));
        assert_eq!(
            r.redact_cut("abcdefghijklmnop, abcdefghij"),
            format!("{MASK}, {MASK}")
        );
        // Too short a start to tell from ordinary text.
        assert_eq!(r.redact_cut("body: abc"), "body: abc");
        // Only at the end: a cut keeps the beginning of a text.
        assert_eq!(r.redact_cut("abcdefg body"), "abcdefg body");
        // A text that was not cut may end like a secret begins.
        assert_eq!(r.redact("auth: abcdefg"), "auth: abcdefg");
        let mut v = json!({"auth": "abcdefg"});
        r.redact_json(&mut v);
        assert_eq!(v["auth"], "abcdefg");
    }

    #[test]
    fn json_lines_stay_json_and_keys_are_masked() {
        let r = redactor(&["n-secret-value"]);
        // A match in the serialized text that starts inside an escape (`\n` + "-secret-value")
        // is not the secret: the document is left valid.
        let line = json!({"a": "x\n-secret-value", "n-secret-value": "k"}).to_string();
        let text = format!("{line}\n{line}\nplain n-secret-value\n");
        let out = r.redact_json_bytes(text.as_bytes()).into_owned();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.split('\n').collect();
        assert_eq!(lines.len(), 4, "{out}");
        for l in &lines[..2] {
            let v: Value = serde_json::from_str(l).expect("JSON");
            assert_eq!(v["a"], "x\n-secret-value");
            assert_eq!(v[MASK], "k");
        }
        assert_eq!(lines[2], format!("plain {MASK}"));
    }

    #[test]
    fn many_values_with_and_without_anchors_are_all_found() {
        // Without anchors (no run of 6 letters and digits), searched form by form ...
        let values: Vec<String> = (0..40).map(|i| format!("sig-{i:03}-Zm9v+/=")).collect();
        assert_eq!(anchor(&values[0]), None);
        let r = Redactor::default();
        for (i, v) in values.iter().enumerate() {
            r.add(v);
            // Overlapping and adjacent occurrences become one mask.
            let text = format!("a {v}{v} b sig-{i:03}-Zm9v%2B%2F%3D");
            assert_eq!(r.redact(&text), format!("a {MASK} b {MASK}"), "{i} values");
        }
        assert!(r.holds(&values[7]));
        assert!(!r.holds("sig-999-Zm9v+/="));
        // ... and with anchors, more than a few in one layer: each value only where its own
        // anchor is, so a text holding one value's anchor but another's form is still masked.
        let anchored: Vec<String> = (0..12).map(|i| format!("Secret{i:02}Value/x")).collect();
        let r = Redactor::default();
        anchored.iter().for_each(|v| r.add(v));
        assert_eq!(anchor(&anchored[3]), Some("Secret03Value"));
        let text = format!("{} and {}", anchored[3], anchored[11].replace('/', "%2F"));
        assert_eq!(r.redact(&text), format!("{MASK} and {MASK}"));
        assert_eq!(r.redact("Secret03Value alone"), "Secret03Value alone");
    }

    #[test]
    fn a_text_as_long_as_the_shortest_value_is_searched() {
        let long = "Hk3Vq9ZpL0sT4wXy8BnM2cRfJ6dGaE1uIoPq7Yt5Ws=";
        let r = redactor(&[long]);
        let child = r.child();
        child.add(long);
        child.add("short-12");
        child.add("short-secret");
        // Shorter than the long value, as long as the shortest one or a little longer: masked.
        assert_eq!(child.redact("short-12"), "***");
        assert_eq!(child.redact("[short-12]"), "[***]");
        assert_eq!(child.redact("(short-secret)"), "(***)");
        assert_eq!(child.redact(&format!("a {long}")), "a ***");
        assert_eq!(r.redact(&format!("{long}!")), "***!");
    }

    #[test]
    fn children_keep_their_additions() {
        let base = redactor(&["configured-secret"]);
        let child = base.child();
        child.add("per-request-signature");
        assert_eq!(child.redact("configured-secret"), MASK);
        assert_eq!(child.redact("per-request-signature"), MASK);
        assert_eq!(
            base.redact("per-request-signature"),
            "per-request-signature"
        );
        // What the parent learns later, its children know too (FC's role credentials).
        base.add("later-role-secret");
        assert_eq!(child.redact("later-role-secret"), MASK);
        assert!(!format!("{child:?}").contains("secret"));
    }

    #[test]
    fn forms_built_late_are_those_of_every_value_held_then() {
        // The forms are built on first need: after a search (which built the matcher from one
        // value), a second value must be found in its own spellings, and `holds` must know
        // both values' spellings, not only the values as added.
        let r = redactor(&["first/secret+value"]);
        assert_eq!(r.redact("a first/secret+value b"), format!("a {MASK} b"));
        assert!(r.holds("first%2Fsecret%2Bvalue"));
        r.add("second/secret+value");
        let encoded = "second%2Fsecret%2Bvalue";
        assert_eq!(r.redact(&format!("?q={encoded}")), format!("?q={MASK}"));
        assert_eq!(
            r.redact(r#"{"v":"second\/secret+value"}"#),
            r#"{"v":"***"}"#
        );
        assert!(r.holds(encoded));
        assert!(r.holds("first%2fsecret%2bvalue"));
        assert!(!r.holds("second"));
        // Adding a value again changes nothing.
        r.add("second/secret+value");
        assert_eq!(format!("{r:?}"), "Redactor(2 values)");
    }

    #[tokio::test]
    async fn note_adds_to_the_current_scope_only() {
        let r = Redactor::default();
        scope(r.clone(), async {
            note("signature-in-scope");
            assert_eq!(current().redact("signature-in-scope"), MASK);
        })
        .await;
        assert_eq!(r.redact("signature-in-scope"), MASK);
        note("signature-outside");
        assert_eq!(current().redact("signature-outside"), "signature-outside");
    }

    #[test]
    fn finds_secrets_written_into_configured_targets() {
        let specs: Vec<TargetSpec> = serde_json::from_value(json!([
            {"url": "http://a/x?q=1&AppCode=url%2Bcode-7d3e9a01#f"},
            {"group": "0123456789abcdef0123456789abcdef", "path": "/p?app%43ode=path-code-1234"},
            {"url": "http://b/", "headers": {"authorization": "APPCODE header-code-5678"}},
        ]))
        .unwrap();
        let found = configured_target_secrets(&specs);
        for v in [
            "url%2Bcode-7d3e9a01",
            "url+code-7d3e9a01",
            "path-code-1234",
            "APPCODE header-code-5678",
            "header-code-5678",
        ] {
            assert!(found.contains(&v.to_owned()), "{v} not in {found:?}");
        }
        assert!(!found.contains(&"1".to_owned()));
    }
}
