//! API Gateway's app signature, client side: the string to sign and the HMAC over it.
//!
//! ```text
//! METHOD \n Accept \n Content-MD5 \n Content-Type \n Date \n Headers PathAndParameters
//! ```
//! `Headers` is `name:value\n` for each name in `X-Ca-Signature-Headers`, sorted by byte order;
//! `PathAndParameters` is the path, then `?` and the query parameters merged with the form body's,
//! sorted by key, `key=value` (bare `key` when empty), values not percent-encoded, the first of a
//! repeated key kept, a form value winning over a query value.
//!
//! The stand-in gateway verifies with its own implementation (`standin::auth`): the two share
//! only this specification and the test vectors, so a bug in one cannot hide in the other.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;

use crate::error::ProbeError;
use crate::named::named_enum;
use crate::secret::Secret;

named_enum! {
    /// The HMAC of the signature (`X-Ca-Signature-Method`).
    #[derive(Default)]
    pub enum SignatureMethod as "signature_method" {
        /// `HmacSHA256`: the default.
        #[default]
        HmacSha256 = "HmacSHA256",
        /// `HmacSHA1`: on request only.
        HmacSha1 = "HmacSHA1",
    }
}

impl SignatureMethod {
    fn algorithm(self) -> ring::hmac::Algorithm {
        match self {
            Self::HmacSha256 => ring::hmac::HMAC_SHA256,
            Self::HmacSha1 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        }
    }
}

/// The AppSecret as signing uses it: the HMAC key of each method is derived on first use and
/// kept, shared by every clone (deriving it hashes the padded secret, a cost every signed probe
/// would pay again). `Debug` is redacted, as [`Secret`]'s.
#[derive(Clone)]
pub struct AppSecret(Arc<Keyed>);

struct Keyed {
    secret: Secret,
    /// By [`SignatureMethod`]: HmacSHA256, HmacSHA1.
    keys: [OnceLock<ring::hmac::Key>; 2],
}

impl AppSecret {
    /// The secret, for signing with; `None` when it is empty.
    pub fn new(value: impl Into<String>) -> Option<Self> {
        Secret::new(value).map(Self::from)
    }

    /// The value, for redaction and checks only.
    pub fn expose(&self) -> &str {
        self.0.secret.expose()
    }

    /// The HMAC key for `method`.
    fn key(&self, method: SignatureMethod) -> &ring::hmac::Key {
        let slot = match method {
            SignatureMethod::HmacSha256 => &self.0.keys[0],
            SignatureMethod::HmacSha1 => &self.0.keys[1],
        };
        slot.get_or_init(|| ring::hmac::Key::new(method.algorithm(), self.expose().as_bytes()))
    }
}

impl From<Secret> for AppSecret {
    fn from(secret: Secret) -> Self {
        Self(Arc::new(Keyed {
            secret,
            keys: Default::default(),
        }))
    }
}

impl PartialEq for AppSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.secret == other.0.secret
    }
}

impl Eq for AppSecret {}

impl std::fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AppSecret").field(&self.0.secret).finish()
    }
}

/// The parts of a request that enter the string to sign.
#[derive(Clone, Debug, Default)]
pub struct Canonical<'a> {
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// `Accept`, if sent.
    pub accept: Option<&'a str>,
    /// `Content-MD5`, if sent (bodies that are not forms).
    pub content_md5: Option<&'a str>,
    /// `Content-Type`, if sent.
    pub content_type: Option<&'a str>,
    /// `Date`, if sent.
    pub date: Option<&'a str>,
    /// The signed headers, names as listed in `X-Ca-Signature-Headers`, with their values.
    pub signed_headers: Vec<(&'a str, &'a str)>,
    /// The path, decoded.
    pub path: &'a str,
    /// Query parameters, decoded, in request order.
    pub query: Vec<(&'a str, &'a str)>,
    /// Form body parameters (`application/x-www-form-urlencoded`), decoded, in body order.
    pub form: Vec<(&'a str, &'a str)>,
}

impl Canonical<'_> {
    /// The string to sign.
    pub fn string_to_sign(&self) -> String {
        let mut out = String::with_capacity(256);
        for part in [
            Some(self.method),
            self.accept,
            self.content_md5,
            self.content_type,
            self.date,
        ] {
            out.push_str(part.unwrap_or(""));
            out.push('\n');
        }
        let mut headers: Vec<&(&str, &str)> = self.signed_headers.iter().collect();
        headers.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (name, value) in headers {
            out.push_str(name);
            out.push(':');
            out.push_str(value);
            out.push('\n');
        }
        out.push_str(self.path);
        // First value of a repeated key wins; then the form overrides the query.
        let mut params: BTreeMap<&str, &str> = BTreeMap::new();
        for (k, v) in &self.query {
            params.entry(k).or_insert(v);
        }
        let mut form_seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (k, v) in &self.form {
            form_seen.entry(k).or_insert(v);
        }
        params.extend(form_seen);
        let mut first = true;
        for (k, v) in params {
            out.push(if first { '?' } else { '&' });
            first = false;
            out.push_str(k);
            if !v.is_empty() {
                out.push('=');
                out.push_str(v);
            }
        }
        out
    }
}

/// At most this many headers are added by [`sign`]: `X-Ca-Key`, `-Timestamp`, `-Nonce`,
/// `-Signature-Method`, `-Signature-Headers`, `-Signature` and `Content-MD5`.
pub(crate) const HEADERS_ADDED: usize = 7;

/// What [`sign`] added to a request: the string it signed (it holds no secret; compare it with
/// the one an `A403IS` answer carries) and the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    /// The string to sign, `\n` between its lines.
    pub string_to_sign: String,
    /// `X-Ca-Signature`. Not a secret, but it replays against the gateway for 15 minutes:
    /// keep it out of logs (`Debug` hides it).
    pub signature: String,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("string_to_sign", &self.string_to_sign)
            .field("signature", &"<hidden>")
            .finish()
    }
}

/// Signs `request` for API Gateway's app authentication, as Alibaba's SDKs do: adds
/// `X-Ca-Key`, `X-Ca-Timestamp` (now, in milliseconds), `X-Ca-Nonce` (a new UUID),
/// `X-Ca-Signature-Method`, `Content-MD5` for a body that is not a form, and then
/// `X-Ca-Signature-Headers` (every `X-Ca-*` header of the request, e.g. `X-Ca-Stage`) and
/// `X-Ca-Signature` over the request exactly as it stands: method, `Accept`, `Content-MD5`,
/// `Content-Type`, `Date`, the signed headers, the path and the query and form parameters,
/// decoded. Set every header and the body before signing; change nothing after.
///
/// There is no Rust SDK for API Gateway: this is one, checked against Alibaba's published
/// vectors and against API Gateway's own answers.
///
/// ```
/// use apigw_vpc_probe::apigw::{sign, AppSecret, SignatureMethod};
///
/// let mut request = hyper::Request::builder()
///     .method("POST")
///     .uri("/web/items?b=2&a=%E4%B8%AD")
///     .header("host", "0123456789abcdef0123456789abcdef-cn-shanghai-vpc.alicloudapi.com")
///     .header("content-type", "application/json")
///     .header("x-ca-stage", "RELEASE")
///     .body(br#"{"n":1}"#.to_vec())?;
/// let secret = AppSecret::new("the-app-secret").ok_or("empty")?;
/// let signed = sign(&mut request, "203753385", &secret, SignatureMethod::HmacSha256)?;
///
/// let h = request.headers();
/// assert_eq!(h["x-ca-key"], "203753385");
/// assert_eq!(h["x-ca-signature-method"], "HmacSHA256");
/// assert!(h["x-ca-signature-headers"].to_str()?.contains("x-ca-stage"));
/// assert_eq!(h["x-ca-signature"], signed.signature.as_str());
/// // Parameters are signed decoded and sorted; the secret is in neither output.
/// assert!(signed.string_to_sign.ends_with("\n/web/items?a=中&b=2"));
/// assert!(!signed.string_to_sign.contains("the-app-secret"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign<B: AsRef<[u8]>>(
    request: &mut hyper::Request<B>,
    app_key: &str,
    app_secret: &AppSecret,
    method: SignatureMethod,
) -> Result<Signed, ProbeError> {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        // Milliseconds fit a u64 for the next 500 million years.
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let mut nonce = uuid::Uuid::encode_buffer();
    let nonce = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut nonce);
    sign_with(request, app_key, app_secret, method, timestamp, nonce)
}

/// [`sign`] with a given timestamp and nonce.
fn sign_with<B: AsRef<[u8]>>(
    request: &mut hyper::Request<B>,
    app_key: &str,
    app_secret: &AppSecret,
    method: SignatureMethod,
    timestamp_ms: u64,
    nonce: &str,
) -> Result<Signed, ProbeError> {
    use hyper::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, DATE};
    // Names as constants: a `&str` name is parsed (and matched against the standard headers)
    // on every insert and lookup, a cost of its own on each signed probe.
    const X_CA_KEY: HeaderName = HeaderName::from_static("x-ca-key");
    const X_CA_TIMESTAMP: HeaderName = HeaderName::from_static("x-ca-timestamp");
    const X_CA_NONCE: HeaderName = HeaderName::from_static("x-ca-nonce");
    const X_CA_SIGNATURE_METHOD: HeaderName = HeaderName::from_static("x-ca-signature-method");
    const X_CA_SIGNATURE_HEADERS: HeaderName = HeaderName::from_static("x-ca-signature-headers");
    const X_CA_SIGNATURE: HeaderName = HeaderName::from_static("x-ca-signature");
    const CONTENT_MD5: HeaderName = HeaderName::from_static("content-md5");
    const FORM: &str = "application/x-www-form-urlencoded";
    let header = |v: &str| {
        HeaderValue::from_str(v)
            .map_err(|_| ProbeError::config("a credential is not a valid header value"))
    };
    // Room for the headers signing adds: growing the map rehashes every header in it.
    request.headers_mut().reserve(HEADERS_ADDED);
    let body = request.body().as_ref();
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.get(..FORM.len()))
        .is_some_and(|t| t.eq_ignore_ascii_case(FORM));
    let form: Vec<(String, String)> = if is_form {
        url::form_urlencoded::parse(body).into_owned().collect()
    } else {
        Vec::new()
    };
    let md5 = (!body.is_empty() && !is_form).then(|| content_md5(body));
    {
        let h = request.headers_mut();
        h.insert(X_CA_KEY, header(app_key)?);
        h.insert(X_CA_TIMESTAMP, HeaderValue::from(timestamp_ms));
        h.insert(X_CA_NONCE, header(nonce)?);
        h.insert(
            X_CA_SIGNATURE_METHOD,
            HeaderValue::from_static(method.name()),
        );
        // Non-form bodies enter the signature through their MD5.
        if let Some(md5) = &md5 {
            h.insert(CONTENT_MD5, header(md5)?);
        }
    }
    // Sign every X-Ca-* header sent (the stage among them), as Alibaba's SDKs do: names and
    // values in one pass over the map, sorted by name; of a repeated name, the first value
    // (a stable sort keeps the map's order, `dedup` the first).
    let headers = request.headers();
    let mut signed: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(n, _)| {
            n.as_str().starts_with("x-ca-")
                && **n != X_CA_SIGNATURE
                && **n != X_CA_SIGNATURE_HEADERS
        })
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or("")))
        .collect();
    signed.sort_by(|a, b| a.0.cmp(b.0));
    signed.dedup_by(|a, b| a.0 == b.0);
    let get = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let uri = request.uri();
    let path = percent_encoding::percent_decode_str(uri.path()).decode_utf8_lossy();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let mut signed_names = String::with_capacity(signed.iter().map(|(n, _)| n.len() + 1).sum());
    for (name, _) in &signed {
        if !signed_names.is_empty() {
            signed_names.push(',');
        }
        signed_names.push_str(name);
    }
    let canonical = Canonical {
        method: request.method().as_str(),
        accept: get(&ACCEPT),
        content_md5: get(&CONTENT_MD5),
        content_type: get(&CONTENT_TYPE),
        date: get(&DATE),
        signed_headers: signed,
        path: &path,
        query: query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        form: form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
    };
    let string_to_sign = canonical.string_to_sign();
    let signature = encode_tag(app_secret.key(method), &string_to_sign);
    let signed_names = header(&signed_names)?;
    let h = request.headers_mut();
    h.insert(X_CA_SIGNATURE_HEADERS, signed_names);
    h.insert(X_CA_SIGNATURE, header(&signature)?);
    Ok(Signed {
        string_to_sign,
        signature,
    })
}

/// `base64(HMAC(secret, string_to_sign))`.
pub fn signature(method: SignatureMethod, secret: &[u8], string_to_sign: &str) -> String {
    encode_tag(
        &ring::hmac::Key::new(method.algorithm(), secret),
        string_to_sign,
    )
}

/// `base64(HMAC(key, string_to_sign))`.
fn encode_tag(key: &ring::hmac::Key, string_to_sign: &str) -> String {
    let tag = ring::hmac::sign(key, string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// `Content-MD5`: `base64(md5(body))`.
pub fn content_md5(body: &[u8]) -> String {
    use md5::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body))
}

/// The gateway's string to sign, as an `A403IS` message carries it: after `StringToSign:`,
/// wrapped in backticks in the documented form (``Server StringToSign:`GET#…` ``) or bare in
/// older answers, with each `\n` written as `#`. Returned in that `#` form: a `#` inside a
/// value cannot be told from a newline, so [`compare_with_gateway`] matches line by line.
pub fn gateway_string_to_sign(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("StringToSign:")?;
    let rest = rest.trim();
    Some(
        rest.strip_prefix('`')
            .and_then(|r| r.strip_suffix('`'))
            .unwrap_or(rest),
    )
}

/// How the client's string to sign compares with the one in the gateway's `A403IS` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// Byte for byte the same: the signature differs only through the secret.
    Identical,
    /// The first line that differs, both sides (long lines shortened for display).
    Differs(String),
}

/// Longest line quoted in a difference; the comparison itself always uses whole strings.
const SHOWN_LINE_CHARS: usize = 200;

/// Compares the client's whole string to sign with the gateway's (`None` when the message
/// carries none).
pub fn compare_with_gateway(client: &str, gateway_message: &str) -> Option<Comparison> {
    let mut rest = gateway_string_to_sign(gateway_message)?;
    let lines: Vec<&str> = client.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        let matches = match rest.strip_prefix(line) {
            Some("") if last => return Some(Comparison::Identical),
            Some(after) if !last => after.strip_prefix('#'),
            _ => None,
        };
        match matches {
            Some(after) => rest = after,
            None => {
                let server = if last {
                    rest
                } else {
                    rest.split('#').next().unwrap_or("")
                };
                return Some(Comparison::Differs(format!(
                    "line {} ({}) differs: client {:?}, gateway {:?}",
                    i + 1,
                    line_label(i, &lines),
                    shorten(line),
                    shorten(server)
                )));
            }
        }
    }
    Some(Comparison::Identical)
}

/// Where the gateway's string to sign differs from the client's: the first differing line,
/// both sides. `None` when the message carries no string to sign or the two agree (then the
/// secret is what differs).
pub fn first_difference(client: &str, gateway_message: &str) -> Option<String> {
    match compare_with_gateway(client, gateway_message)? {
        Comparison::Identical => None,
        Comparison::Differs(d) => Some(d),
    }
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(SHOWN_LINE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

fn line_label(i: usize, lines: &[&str]) -> &'static str {
    match i {
        0 => "HTTP method",
        1 => "Accept",
        2 => "Content-MD5",
        3 => "Content-Type",
        4 => "Date",
        _ if i + 1 >= lines.len() => "path and parameters",
        _ => "signed header",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parameters_and_no_signed_headers() {
        let c = Canonical {
            method: "GET",
            path: "/p",
            ..Canonical::default()
        };
        assert_eq!(c.string_to_sign(), "GET\n\n\n\n\n/p");
    }

    #[test]
    fn empty_values_repeats_and_form_override() {
        let c = Canonical {
            method: "POST",
            content_type: Some("application/x-www-form-urlencoded"),
            signed_headers: vec![("x-ca-key", "k"), ("x-b", "")],
            path: "/f",
            query: vec![("a", "q"), ("z", ""), ("a", "second"), ("0", "0")],
            form: vec![("a", "form"), ("b", "false"), ("b", "x"), ("名", "值")],
            ..Canonical::default()
        };
        assert_eq!(
            c.string_to_sign(),
            "POST\n\n\napplication/x-www-form-urlencoded\n\nx-b:\nx-ca-key:k\n/f?0=0&a=form&b=false&z&名=值"
        );
    }

    #[test]
    fn names_the_first_differing_line() {
        let client = "GET\napplication/json\n\n\n\nx-ca-key:k\n/a?x=1";
        let msg =
            "Invalid Signature, Server StringToSign:GET#application/json####x-ca-key:k#/a?x=2";
        let d = first_difference(client, msg).unwrap();
        assert!(d.contains("line 7 (path and parameters)"), "{d}");
        assert!(d.contains("/a?x=1") && d.contains("/a?x=2"), "{d}");
        let same =
            "Invalid Signature, Server StringToSign:GET#application/json####x-ca-key:k#/a?x=1";
        assert_eq!(first_difference(client, same), None);
        assert_eq!(first_difference(client, "Invalid Signature"), None);
    }

    #[test]
    fn reads_the_documented_backtick_form_and_compares_whole_strings() {
        let client = "GET\napplication/json\n\n\n\nx-ca-key:k\n/a?x=1";
        let quoted =
            "Invalid Signature, Server StringToSign:`GET#application/json####x-ca-key:k#/a?x=1`";
        assert_eq!(
            compare_with_gateway(client, quoted),
            Some(Comparison::Identical)
        );
        let other =
            "Invalid Signature, Server StringToSign:`GET#application/json####x-ca-key:k#/a?x=2`";
        let Some(Comparison::Differs(d)) = compare_with_gateway(client, other) else {
            panic!("a difference")
        };
        assert!(d.contains("\"/a?x=2\""), "{d}");
        // A difference past any display limit is still found, and shown shortened.
        let long = format!("/p?{}", "a".repeat(3000));
        let client = format!("GET\n\n\n\n\n{long}");
        let same = format!("Server StringToSign:`GET#####{long}`");
        assert_eq!(
            compare_with_gateway(&client, &same),
            Some(Comparison::Identical)
        );
        let differs = format!("Server StringToSign:`GET#####{long}b`");
        let Some(Comparison::Differs(d)) = compare_with_gateway(&client, &differs) else {
            panic!("a difference at the end of a long line")
        };
        assert!(d.contains("path and parameters") && d.len() < 600, "{d}");
        // '#' inside a value is not a line break.
        let client = "GET\n\n\n\n\nx-ca-k:a#b\n/p";
        let msg = "StringToSign:`GET#####x-ca-k:a#b#/p`";
        assert_eq!(
            compare_with_gateway(client, msg),
            Some(Comparison::Identical)
        );
    }

    /// [`sign_with`] with the vectors' app, secret, timestamp and nonce.
    fn sign_as_the_vectors(request: &mut hyper::Request<Vec<u8>>) -> Signed {
        sign_with(
            request,
            "203753385",
            &AppSecret::new("my-app-secret").unwrap(),
            SignatureMethod::HmacSha256,
            1700000000000,
            "11111111-2222-3333-4444-555555555555",
        )
        .unwrap()
    }

    #[test]
    fn sign_reproduces_a_vector_on_a_request() {
        // tests/fixtures/apigw-sign-vectors.json, "computed-post-json-md5": a JSON body (its
        // Content-MD5 is computed by sign), a stage, a bare query parameter.
        let mut request = hyper::Request::builder()
            .method("POST")
            .uri("/v1/orders?debug")
            .header("accept", "application/json")
            .header("content-type", "application/json; charset=UTF-8")
            .header("x-ca-stage", "TEST")
            .body("{\"name\":\"测试\",\"n\":1}".as_bytes().to_vec())
            .unwrap();
        let signed = sign_as_the_vectors(&mut request);
        assert_eq!(
            signed.signature,
            "SqurPtLdUrTsfeZARH/J/SM1Upi/RcDuzbfdu2GTXrg="
        );
        let h = request.headers();
        assert_eq!(h["content-md5"], "dcvqrZJAKqaMoPgoiRDm1A==");
        assert_eq!(
            h["x-ca-signature-headers"],
            "x-ca-key,x-ca-nonce,x-ca-signature-method,x-ca-stage,x-ca-timestamp"
        );
        assert!(!format!("{signed:?}").contains(&signed.signature));
    }

    #[test]
    fn a_form_body_is_signed_by_its_parameters_and_a_repeated_header_by_its_first_value() {
        let mut request = hyper::Request::builder()
            .method("POST")
            .uri("/p?c=3")
            .header(
                "content-type",
                "Application/X-WWW-Form-URLencoded; charset=UTF-8",
            )
            .header("x-ca-custom", "1")
            .header("x-ca-custom", "2")
            .header("x-ca-another", "a")
            .body(b"b=2&a=1".to_vec())
            .unwrap();
        let signed = sign_as_the_vectors(&mut request);
        let h = request.headers();
        assert!(h.get("content-md5").is_none(), "a form has no Content-MD5");
        assert_eq!(
            h["x-ca-signature-headers"],
            "x-ca-another,x-ca-custom,x-ca-key,x-ca-nonce,x-ca-signature-method,x-ca-timestamp"
        );
        assert_eq!(
            signed.string_to_sign,
            "POST\n\n\nApplication/X-WWW-Form-URLencoded; charset=UTF-8\n\n\
             x-ca-another:a\nx-ca-custom:1\nx-ca-key:203753385\n\
             x-ca-nonce:11111111-2222-3333-4444-555555555555\n\
             x-ca-signature-method:HmacSHA256\nx-ca-timestamp:1700000000000\n/p?a=1&b=2&c=3"
        );
    }

    #[test]
    fn an_app_secret_keeps_one_key_per_method_for_every_clone() {
        let secret = AppSecret::new("my-app-secret").unwrap();
        let clone = secret.clone();
        for method in [
            SignatureMethod::HmacSha256,
            SignatureMethod::HmacSha1,
            SignatureMethod::HmacSha256,
        ] {
            for s in [&secret, &clone] {
                let mut request = hyper::Request::builder()
                    .uri("/p")
                    .body(Vec::new())
                    .unwrap();
                let signed = sign(&mut request, "203753385", s, method).unwrap();
                assert_eq!(
                    signed.signature,
                    signature(method, b"my-app-secret", &signed.string_to_sign),
                    "{method:?}"
                );
            }
        }
        assert!(Arc::ptr_eq(&secret.0, &clone.0));
        assert_eq!(secret, AppSecret::new("my-app-secret").unwrap());
        assert!(!format!("{secret:?}").contains("my-app-secret"));
    }

    #[test]
    fn hmac_sha1_and_md5_known_answers() {
        // RFC 2202 test case 2 and RFC 1321's "abc".
        assert_eq!(
            signature(
                SignatureMethod::HmacSha1,
                b"Jefe",
                "what do ya want for nothing?"
            ),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
        assert_eq!(content_md5(b"abc"), "kAFQmDzST7DWlj99KOF/cg==");
        assert_eq!("hmacsha1".parse(), Ok(SignatureMethod::HmacSha1));
        assert!("md5".parse::<SignatureMethod>().is_err());
    }
}
