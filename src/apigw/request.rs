//! The request as API Gateway must receive it: the original `Host` of the group's domain while
//! the resolved address is dialled, the stage in `X-Ca-Stage`, and the app's authentication
//! (the signature over the request exactly as sent, or the AppCode).

use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::HeaderValue;
use hyper::Request;

use super::sign::{self, Canonical};
use crate::error::ProbeError;
use crate::target::{bracket, Auth, Target};

/// The `User-Agent` of every call.
pub const USER_AGENT: &str = concat!("apigw-vpc-probe/", env!("CARGO_PKG_VERSION"));

/// Sent with every probe request, and refused when it comes in (`508`, `target.loop`): a
/// target that leads back to this function ends after one hop instead of probing itself
/// without end. Not an `X-Ca-*` header, so it is not signed.
pub const PROBE_HOP_HEADER: &str = "x-apigw-probe-hop";

/// The request as sent: origin-form URI, the original `Host`, the stage, the target's headers,
/// then the authentication; with the string to sign when the request is signed.
pub(crate) fn build_request(
    target: &Target,
) -> Result<(Request<Full<Bytes>>, Option<String>), ProbeError> {
    let path = match target.url.query() {
        Some(q) => format!("{}?{q}", target.url.path()),
        None => target.url.path().to_owned(),
    };
    let default_port = if target.https { 443 } else { 80 };
    let host = match (target.port, &target.address_override) {
        (p, _) if p == default_port => bracket(&target.host),
        (p, _) => format!("{}:{p}", bracket(&target.host)),
    };
    let mut builder = Request::builder()
        .method(target.method.clone())
        .uri(path)
        .header(hyper::header::HOST, host)
        .header(hyper::header::USER_AGENT, USER_AGENT)
        .header(hyper::header::ACCEPT, "*/*")
        // One connection per sample: say so, so the server closes cleanly.
        .header(hyper::header::CONNECTION, "close");
    if let Some(stage) = &target.stage {
        builder = builder.header("x-ca-stage", stage.name());
    }
    let mut request = builder
        .body(Full::new(target.body.clone()))
        .map_err(|e| ProbeError::config(format!("the request cannot be built: {e}")))?;
    for (name, value) in &target.headers {
        // The target's own headers win over the defaults above (e.g. Host, Accept).
        request.headers_mut().insert(name.clone(), value.clone());
    }
    // After the target's headers, which cannot take it away.
    request
        .headers_mut()
        .insert(PROBE_HOP_HEADER, HeaderValue::from_static("1"));
    if !target.body.is_empty() && !request.headers().contains_key(hyper::header::CONTENT_TYPE) {
        request.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
    }
    let string_to_sign = authenticate(&mut request, target)?;
    Ok((request, string_to_sign))
}

/// Adds the target's authentication: `Authorization: APPCODE …`, or the app signature over the
/// request as it will be sent (fresh timestamp and nonce per sample).
fn authenticate(
    request: &mut Request<Full<Bytes>>,
    target: &Target,
) -> Result<Option<String>, ProbeError> {
    let header = |v: &str| {
        HeaderValue::from_str(v)
            .map_err(|_| ProbeError::config("a credential is not a valid header value"))
    };
    let (key, secret, method) = match &target.auth {
        Auth::None => return Ok(None),
        Auth::AppCode(code) => {
            let mut value = header(&format!("APPCODE {}", code.expose()))?;
            value.set_sensitive(true);
            request
                .headers_mut()
                .insert(hyper::header::AUTHORIZATION, value);
            return Ok(None);
        }
        Auth::App {
            key,
            secret,
            method,
        } => (key, secret, *method),
    };
    let timestamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let content_type = request
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let is_form = content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded");
    {
        let h = request.headers_mut();
        h.insert("x-ca-key", header(key)?);
        h.insert("x-ca-timestamp", header(&timestamp.to_string())?);
        h.insert("x-ca-nonce", header(&uuid::Uuid::new_v4().to_string())?);
        h.insert(
            "x-ca-signature-method",
            HeaderValue::from_static(method.name()),
        );
        // Non-form bodies enter the signature through their MD5.
        if !target.body.is_empty() && !is_form {
            h.insert("content-md5", header(&sign::content_md5(&target.body))?);
        }
    }
    // Sign every X-Ca-* header sent (the stage among them), as Alibaba's SDKs do.
    let mut names: Vec<String> = request
        .headers()
        .keys()
        .map(|n| n.as_str().to_owned())
        .filter(|n| {
            n.starts_with("x-ca-") && n != "x-ca-signature" && n != "x-ca-signature-headers"
        })
        .collect();
    names.sort();
    names.dedup();
    let headers = request.headers();
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let path = percent_encoding::percent_decode_str(target.url.path()).decode_utf8_lossy();
    let query: Vec<(String, String)> = target.url.query_pairs().into_owned().collect();
    let form: Vec<(String, String)> = if is_form {
        url::form_urlencoded::parse(&target.body)
            .into_owned()
            .collect()
    } else {
        Vec::new()
    };
    let canonical = Canonical {
        method: target.method.as_str(),
        accept: get("accept"),
        content_md5: get("content-md5"),
        content_type: get("content-type"),
        date: get("date"),
        signed_headers: names
            .iter()
            .map(|n| (n.as_str(), get(n).unwrap_or("")))
            .collect(),
        path: &path,
        query: query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        form: form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
    };
    let string_to_sign = canonical.string_to_sign();
    let signature = sign::signature(method, secret.expose().as_bytes(), &string_to_sign);
    // A signature replays against the gateway for 15 minutes: never in any output.
    crate::redact::note(&signature);
    let signed = header(&names.join(","))?;
    let h = request.headers_mut();
    h.insert("x-ca-signature-headers", signed);
    h.insert("x-ca-signature", header(&signature)?);
    Ok(Some(string_to_sign))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Origin, TargetDefaults, TargetSpec};
    use std::time::Duration;

    fn target(url: &str) -> Target {
        TargetSpec {
            stage: Some(crate::apigw::Stage::Test),
            headers: [("x-custom".to_owned(), "1".to_owned())].into(),
            ..TargetSpec::from_url(url)
        }
        .build(
            &TargetDefaults {
                region: None,
                timeout: Duration::from_secs(1),
                max_samples: 5,
                credentials: Default::default(),
                signing_hosts: Default::default(),
            },
            Origin::Config,
        )
        .unwrap()
    }

    #[test]
    fn request_keeps_the_original_host_and_sends_the_stage() {
        let (r, sts) = build_request(&target(
            "http://g-cn-shanghai-vpc.alicloudapi.com/web/x?a=1",
        ))
        .unwrap();
        assert!(sts.is_none(), "no auth configured, nothing signed");
        assert_eq!(r.uri(), "/web/x?a=1");
        assert_eq!(r.headers()["host"], "g-cn-shanghai-vpc.alicloudapi.com");
        assert_eq!(r.headers()["x-ca-stage"], "TEST");
        assert_eq!(r.headers()["x-custom"], "1");
        let (r, _) = build_request(&target("https://h.example:8443/")).unwrap();
        assert_eq!(r.headers()["host"], "h.example:8443");
    }

    #[test]
    fn app_signature_covers_the_request_as_sent() {
        let mut t = target("http://g.alicloudapi.com/v1/items?b=2&a=%E4%B8%AD");
        t.method = hyper::Method::POST;
        t.body = Bytes::from_static(b"{\"n\":1}");
        t.auth = Auth::App {
            key: "203753385".into(),
            secret: crate::secret::Secret::new("s3cr3t").unwrap(),
            method: sign::SignatureMethod::HmacSha256,
        };
        let (r, sts) = build_request(&t).unwrap();
        let sts = sts.unwrap();
        let h = r.headers();
        assert_eq!(h["x-ca-key"], "203753385");
        assert_eq!(
            h["x-ca-signature-headers"],
            "x-ca-key,x-ca-nonce,x-ca-signature-method,x-ca-stage,x-ca-timestamp"
        );
        assert_eq!(h["content-md5"], sign::content_md5(b"{\"n\":1}").as_str());
        assert!(sts.ends_with("\n/v1/items?a=中&b=2"), "{sts}");
        assert!(sts.contains("x-ca-stage:TEST\n"), "{sts}");
        assert!(!sts.contains("s3cr3t"));
        let expected = sign::signature(sign::SignatureMethod::HmacSha256, b"s3cr3t", &sts);
        assert_eq!(h["x-ca-signature"], expected.as_str());
        // Fresh nonce per request.
        let (r2, _) = build_request(&t).unwrap();
        assert_ne!(r2.headers()["x-ca-nonce"], h["x-ca-nonce"]);
    }

    #[test]
    fn every_request_carries_the_hop_header_outside_the_signature() {
        let mut t = target("http://g.alicloudapi.com/");
        // A target cannot take it away.
        t.headers.push((
            hyper::header::HeaderName::from_static(PROBE_HOP_HEADER),
            HeaderValue::from_static("0"),
        ));
        t.auth = Auth::App {
            key: "203753385".into(),
            secret: crate::secret::Secret::new("s3cr3t").unwrap(),
            method: sign::SignatureMethod::HmacSha256,
        };
        let (r, sts) = build_request(&t).unwrap();
        assert_eq!(r.headers()[PROBE_HOP_HEADER], "1");
        let signed = r.headers()["x-ca-signature-headers"].to_str().unwrap();
        assert!(!signed.contains("hop"), "{signed}");
        assert!(!sts.unwrap().to_ascii_lowercase().contains("hop"));
    }

    #[test]
    fn appcode_goes_in_authorization() {
        let mut t = target("http://g.alicloudapi.com/");
        t.auth = Auth::AppCode(crate::secret::Secret::new("c0de").unwrap());
        let (r, sts) = build_request(&t).unwrap();
        assert_eq!(r.headers()["authorization"], "APPCODE c0de");
        assert!(r.headers()["authorization"].is_sensitive());
        assert!(sts.is_none());
    }
}
