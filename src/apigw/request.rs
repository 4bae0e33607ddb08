//! The request as API Gateway must receive it: the original `Host` of the group's domain while
//! the resolved address is dialled, the stage in `X-Ca-Stage`, and the app's authentication
//! (the signature over the request exactly as sent, or the AppCode).

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::HeaderValue;
use hyper::Request;

use super::sign;
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
    let (request, string_to_sign) = signed_request(target)?;
    Ok((request.map(Full::new), string_to_sign))
}

/// At most this many headers are added to a target's own, before the signature's: the five
/// below, the hop header and `Content-Type`.
const HEADERS_ADDED: usize = 7;

/// [`build_request`] with the body as bytes, which the signature reads.
fn signed_request(target: &Target) -> Result<(Request<Bytes>, Option<String>), ProbeError> {
    let path = match target.url.query() {
        Some(q) => format!("{}?{q}", target.url.path()),
        None => target.url.path().to_owned(),
    };
    let default_port = if target.https { 443 } else { 80 };
    let host = match (target.port, &target.address_override) {
        (p, _) if p == default_port => bracket(&target.host),
        (p, _) => format!("{}:{p}", bracket(&target.host)),
    };
    let mut builder = Request::builder().method(target.method.clone()).uri(path);
    if let Some(headers) = builder.headers_mut() {
        // Room for every header of the request at once: a map that grows rehashes every header
        // it holds. No more: a request's map lives as long as its invocation.
        let signed = matches!(target.auth, Auth::App { .. });
        headers.reserve(
            target.headers.len() + HEADERS_ADDED + if signed { sign::HEADERS_ADDED } else { 0 },
        );
    }
    builder = builder
        .header(hyper::header::HOST, host)
        .header(hyper::header::USER_AGENT, USER_AGENT)
        .header(hyper::header::ACCEPT, "*/*")
        // One connection per sample: say so, so the server closes cleanly.
        .header(hyper::header::CONNECTION, "close");
    if let Some(stage) = &target.stage {
        builder = builder.header("x-ca-stage", stage.name());
    }
    let mut request = builder
        .body(target.body.clone())
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
    request: &mut Request<Bytes>,
    target: &Target,
) -> Result<Option<String>, ProbeError> {
    match &target.auth {
        Auth::None => Ok(None),
        Auth::AppCode(code) => {
            let mut value = HeaderValue::from_str(&format!("APPCODE {}", code.expose()))
                .map_err(|_| ProbeError::config("the AppCode is not a valid header value"))?;
            value.set_sensitive(true);
            request
                .headers_mut()
                .insert(hyper::header::AUTHORIZATION, value);
            Ok(None)
        }
        Auth::App {
            key,
            secret,
            method,
        } => {
            let signed = sign::sign(request, key, secret, *method)?;
            // A signature replays against the gateway for 15 minutes: never in any output.
            crate::redact::note(&signed.signature);
            Ok(Some(signed.string_to_sign))
        }
    }
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
            secret: sign::AppSecret::new("s3cr3t").unwrap(),
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
            secret: sign::AppSecret::new("s3cr3t").unwrap(),
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
