//! Alibaba Cloud OpenAPI signature V3, `ACS3-HMAC-SHA256` (spec control-plane.md §1.2, from
//! "V3 request structure and signature",
//! <https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature>).
//!
//! ```text
//! CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n
//!                    SignedHeaders \n hex(sha256(body))
//! StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
//! Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))   (raw secret, no "&")
//! ```
//!
//! Only V3 is implemented: the docs call V2 (HMAC-SHA1) discontinued and say every API that
//! takes V2 also takes V3 (§1.10). The canonical request holds the STS token (a signed header),
//! so it is never kept past signing, printed or returned: [`Signed`] carries only what goes on
//! the wire.

use std::collections::BTreeMap;

use ring::{digest, hmac};

/// The algorithm name, the first word of `Authorization` and of the string to sign.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// `hex(sha256(""))`: the `x-acs-content-sha256` of every call without a body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// RFC 3986 encoding as the V3 doc specifies (§1.2): `A-Z a-z 0-9 - _ . ~` stay, every other
/// byte of the UTF-8 form becomes `%XX` with upper-case hex (so a space is `%20`, never `+`,
/// and `*` is `%2A`). Used for query names and values and for ROA path segments.
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// The canonical query string: names and values encoded, sorted by the encoded name (byte
/// order, so `X.10` sorts before `X.2`), `name=value` joined by `&`; an empty value keeps its
/// `=` (`empty=`). It is also the query the request is sent with, so what is signed is what is
/// sent.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// `hex(sha256(bytes))`: `x-acs-content-sha256` for a body, and the hashed canonical request.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, bytes).as_ref())
}

/// True for the headers V3 signs: `host`, `content-type` and every `x-acs-*` (the mandatory
/// set of the doc and of the Go and Java SDKs). Others (`user-agent`, `accept`) are sent
/// unsigned, as those SDKs do; the server verifies over the list in `SignedHeaders` (§1.6).
pub fn is_signed_header(lower_name: &str) -> bool {
    lower_name == "host" || lower_name == "content-type" || lower_name.starts_with("x-acs-")
}

/// What to sign: everything the canonical request is built from.
pub struct SignInput<'a> {
    /// `GET`, `POST`… (upper case).
    pub method: &'a str,
    /// The path as sent, already encoded: `/` for RPC, e.g. `/2023-03-30/functions/name` for
    /// ROA.
    pub canonical_uri: &'a str,
    /// The query parameters, not encoded.
    pub query: &'a [(String, String)],
    /// The request's headers (any case); those [`is_signed_header`] picks are signed. Each
    /// name must appear once: duplicates are a caller bug the SDKs disagree on (§1.2).
    pub headers: &'a [(String, String)],
    /// `hex(sha256(body))`, the value of `x-acs-content-sha256`.
    pub content_sha256: &'a str,
}

impl std::fmt::Debug for SignInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header names only: the values include the STS token.
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("SignInput")
            .field("method", &self.method)
            .field("canonical_uri", &self.canonical_uri)
            .field("headers", &names)
            .finish_non_exhaustive()
    }
}

/// The result of signing: the `Authorization` value and the list it signed.
pub struct Signed {
    /// `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`. Sent, never logged.
    pub authorization: String,
    /// The signed header names, `;`-joined (`host;x-acs-action;…`).
    pub signed_headers: String,
    /// The hex signature.
    pub signature: String,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signature is a bearer of the request: not printed.
        f.debug_struct("Signed")
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

/// The canonical headers block (each `name:value\n`, names lower case and sorted, values
/// trimmed) and the `SignedHeaders` list. A name given twice gets its values sorted and joined
/// with `,`, as the Python and Go utils do (the Java util keeps one; §1.9): the client never
/// sends one twice, this only makes the corner deterministic.
fn canonical_headers(headers: &[(String, String)]) -> (String, String) {
    let mut picked: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (k, v) in headers {
        let name = k.to_ascii_lowercase();
        if is_signed_header(&name) {
            picked.entry(name).or_default().push(v.trim());
        }
    }
    let mut block = String::new();
    for (name, values) in &mut picked {
        values.sort_unstable();
        block.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let names = picked
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(";");
    (block, names)
}

/// The canonical request (§1.2). It contains the security token: for signing and for tests
/// against the spec's vectors only.
pub fn canonical_request(input: &SignInput<'_>) -> String {
    let (headers, signed) = canonical_headers(input.headers);
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        input.canonical_uri,
        canonical_query(input.query),
        headers,
        signed,
        input.content_sha256
    )
}

/// Signs `input` with the AccessKey pair.
pub fn sign(input: &SignInput<'_>, access_key_id: &str, access_key_secret: &str) -> Signed {
    let (_, signed_headers) = canonical_headers(input.headers);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}",
        sha256_hex(canonical_request(input).as_bytes())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, access_key_secret.as_bytes());
    let signature = hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    Signed {
        authorization: format!(
            "{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
        ),
        signed_headers,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_follows_rfc3986_as_the_doc_says() {
        // §1.8: space, *, ~, !'(), +, =, &, /, UTF-8.
        assert_eq!(percent_encode("a b*c~d"), "a%20b%2Ac~d");
        assert_eq!(percent_encode("!'()"), "%21%27%28%29");
        assert_eq!(percent_encode("+=&/"), "%2B%3D%26%2F");
        assert_eq!(percent_encode("é测"), "%C3%A9%E6%B5%8B");
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
    }

    #[test]
    fn query_sorts_after_encoding_and_keeps_empty_values() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            canonical_query(&q(&[("test", "ok"), ("empty", "")])),
            "empty=&test=ok"
        );
        assert_eq!(
            canonical_query(&q(&[("X.2", "b"), ("X.10", "a"), ("X.1", "c")])),
            "X.1=c&X.10=a&X.2=b"
        );
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn only_the_mandatory_headers_are_signed() {
        let headers: Vec<(String, String)> = [
            ("Host", "h"),
            ("User-Agent", "u"),
            ("accept", "application/json"),
            ("X-Acs-Action", " A "),
            ("content-type", "application/json"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (block, names) = canonical_headers(&headers);
        assert_eq!(names, "content-type;host;x-acs-action");
        assert_eq!(
            block,
            "content-type:application/json\nhost:h\nx-acs-action:A\n"
        );
    }

    #[test]
    fn debug_hides_the_signature() {
        let s = sign(
            &SignInput {
                method: "GET",
                canonical_uri: "/",
                query: &[],
                headers: &[("host".into(), "h".into())],
                content_sha256: EMPTY_BODY_SHA256,
            },
            "id",
            "secret",
        );
        assert!(!format!("{s:?}").contains(&s.signature));
        assert_eq!(sha256_hex(b""), EMPTY_BODY_SHA256);
    }
}
