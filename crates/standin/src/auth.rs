//! The stand-in gateway's side of app authentication: it checks signatures and AppCodes the way
//! API Gateway does.
//!
//! Written from the specification (`../shared/spec/apigw.md`), separately from the client's
//! `sign` module, on purpose: the two share the test vectors, not the code, so a mistake in one
//! shows up as a mismatch instead of hiding in both.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use base64::Engine as _;
use hyper::header::HeaderMap;
use hyper::Method;

/// How far X-Ca-Timestamp may be from the gateway's clock, and how long a nonce is remembered.
pub const WINDOW_MS: u64 = 15 * 60 * 1000;

/// An app registered on the gateway.
#[derive(Clone, Debug)]
pub struct App {
    pub key: String,
    pub secret: String,
    pub appcode: Option<String>,
}

/// How an API authenticates its callers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// Anonymous.
    #[default]
    None,
    /// App authentication: a signature by one of `authorized` apps, or (if `appcode`) their
    /// AppCode.
    App {
        authorized: Vec<String>,
        appcode: bool,
    },
}

/// A refusal: status, `X-Ca-Error-Code`, `X-Ca-Error-Message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        status,
        code,
        message: message.into(),
    }
}

/// Nonces seen within the window.
#[derive(Debug, Default)]
pub struct Nonces(Mutex<HashMap<String, u64>>);

impl Nonces {
    /// Records `nonce` at `now_ms`; false if it was already used within the window.
    fn first_use(&self, nonce: &str, now_ms: u64) -> bool {
        let Ok(mut seen) = self.0.lock() else {
            return false;
        };
        seen.retain(|_, at| now_ms.saturating_sub(*at) < WINDOW_MS);
        if seen.contains_key(nonce) {
            return false;
        }
        seen.insert(nonce.to_owned(), now_ms);
        true
    }
}

/// The request as the gateway received it.
pub struct Received<'a> {
    pub method: &'a Method,
    /// Path and query as on the request line (percent-encoded).
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Checks the caller of an API with `auth` against the registered `apps`.
pub fn check(
    auth: &Auth,
    apps: &[App],
    nonces: &Nonces,
    req: &Received<'_>,
    now_ms: u64,
) -> Result<(), Refusal> {
    let Auth::App {
        authorized,
        appcode,
    } = auth
    else {
        return Ok(());
    };
    let authorization = header(req.headers, "authorization");
    if let Some(code) = authorization.strip_prefix("APPCODE ") {
        if !appcode {
            return Err(refuse(
                403,
                "A403AC",
                "AppCode authentication is not enabled for this API",
            ));
        }
        let app = apps
            .iter()
            .find(|a| a.appcode.as_deref() == Some(code.trim()))
            .ok_or_else(|| refuse(400, "A400AC", "Invalid AppCode"))?;
        return authorize(app, authorized);
    }

    let key = header(req.headers, "x-ca-key");
    if key.is_empty() {
        return Err(refuse(401, "A401MK", "Missing AppKey"));
    }
    let app = apps
        .iter()
        .find(|a| a.key == key)
        .ok_or_else(|| refuse(400, "A400IK", "Invalid AppKey"))?;
    let signature = header(req.headers, "x-ca-signature");
    if signature.is_empty() {
        return Err(refuse(400, "A400ES", "Empty Signature"));
    }
    let timestamp: u64 = header(req.headers, "x-ca-timestamp")
        .parse()
        .map_err(|_| refuse(400, "A400IT", "Invalid Timestamp"))?;
    if now_ms.abs_diff(timestamp) > WINDOW_MS {
        return Err(refuse(400, "A400IT", "Timestamp Expired"));
    }
    let nonce = header(req.headers, "x-ca-nonce");
    if nonce.is_empty() {
        return Err(refuse(400, "A400IN", "Invalid Nonce"));
    }
    let md5 = header(req.headers, "content-md5");
    if !md5.is_empty() && md5 != body_md5(req.body) {
        return Err(refuse(400, "A400MD", "Invalid Content-MD5"));
    }
    let method = header(req.headers, "x-ca-signature-method");
    let hmac = match method {
        "" | "HmacSHA256" => ring::hmac::HMAC_SHA256,
        "HmacSHA1" => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        _ => return Err(refuse(400, "A400SM", "Invalid Signature Method")),
    };
    let server_sts = string_to_sign(req);
    if !signature_matches(hmac, &app.secret, &server_sts, signature) {
        // API Gateway's documented format: the string it signed in backticks, each newline
        // written as '#'.
        return Err(refuse(
            403,
            "A403IS",
            format!(
                "Invalid Signature, Server StringToSign:`{}`",
                server_sts.replace('\n', "#")
            ),
        ));
    }
    if !nonces.first_use(nonce, now_ms) {
        return Err(refuse(400, "A400NU", "Nonce Used"));
    }
    authorize(app, authorized)
}

/// True when `signature` is the HMAC of `sts` with `secret`.
pub fn signature_matches(
    alg: ring::hmac::Algorithm,
    secret: &str,
    sts: &str,
    signature: &str,
) -> bool {
    let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(signature) else {
        return false;
    };
    let key = ring::hmac::Key::new(alg, secret.as_bytes());
    ring::hmac::verify(&key, sts.as_bytes(), &tag).is_ok()
}

fn authorize(app: &App, authorized: &[String]) -> Result<(), Refusal> {
    if authorized.contains(&app.key) {
        Ok(())
    } else {
        Err(refuse(403, "A403PR", "Unauthorized"))
    }
}

fn body_md5(body: &[u8]) -> String {
    use md5::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body))
}

/// The string the gateway signs for `req`, built from what arrived on the wire.
pub fn string_to_sign(req: &Received<'_>) -> String {
    let h = req.headers;
    let mut out = String::new();
    for field in [
        req.method.as_str(),
        header(h, "accept"),
        header(h, "content-md5"),
        header(h, "content-type"),
        header(h, "date"),
    ] {
        out.push_str(field);
        out.push('\n');
    }
    let mut names: Vec<String> = header(h, "x-ca-signature-headers")
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    names.sort_unstable();
    for name in names {
        out.push_str(&format!("{name}:{}\n", header(h, &name)));
    }

    let (raw_path, raw_query) = req
        .path_and_query
        .split_once('?')
        .unwrap_or((req.path_and_query, ""));
    out.push_str(&percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy());

    // Query first (first value of a key kept), then the form body overriding it.
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        params
            .entry(k.into_owned())
            .or_insert_with(|| v.into_owned());
    }
    let is_form = header(h, "content-type")
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded");
    if is_form {
        let mut form: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in url::form_urlencoded::parse(req.body) {
            form.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        params.extend(form);
    }
    let joined: Vec<String> = params
        .into_iter()
        .map(|(k, v)| if v.is_empty() { k } else { format!("{k}={v}") })
        .collect();
    if !joined.is_empty() {
        out.push('?');
        out.push_str(&joined.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn nonce_is_refused_the_second_time_within_the_window() {
        let n = Nonces::default();
        assert!(n.first_use("a", 1000));
        assert!(!n.first_use("a", 2000));
        assert!(n.first_use("a", 1000 + WINDOW_MS + 1));
    }

    #[test]
    fn appcode_and_authorization() {
        let apps = vec![App {
            key: "k".into(),
            secret: "s".into(),
            appcode: Some("c0de".into()),
        }];
        let auth = Auth::App {
            authorized: vec!["k".into()],
            appcode: true,
        };
        let h = headers(&[("authorization", "APPCODE c0de")]);
        let req = Received {
            method: &Method::GET,
            path_and_query: "/x",
            headers: &h,
            body: b"",
        };
        assert_eq!(check(&auth, &apps, &Nonces::default(), &req, 0), Ok(()));
        let other = Auth::App {
            authorized: vec!["someone-else".into()],
            appcode: true,
        };
        let err = check(&other, &apps, &Nonces::default(), &req, 0).unwrap_err();
        assert_eq!(err.code, "A403PR");
        let h = headers(&[("authorization", "APPCODE wrong")]);
        let req = Received { headers: &h, ..req };
        assert_eq!(
            check(&auth, &apps, &Nonces::default(), &req, 0)
                .unwrap_err()
                .code,
            "A400AC"
        );
    }
}
