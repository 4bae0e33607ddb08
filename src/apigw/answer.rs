//! API Gateway's answer judged: the status against the target's expectation, the gateway's own
//! `X-Ca-*` headers, and its error codes turned into diagnoses (see [`super::diagnose`]).

use hyper::header::HeaderMap;

use super::request::PROBE_HOP_HEADER;
use super::{diagnose, sign};
use crate::call::Progress;
use crate::error::{ErrorClass, HintContext, ProbeError};
use crate::report::{GatewayInfo, Sample};
use crate::target::Target;

/// Checks the response against the target's expectation and fills status and gateway fields.
pub(crate) fn judge(
    target: &Target,
    progress: &Progress,
    sample: &Sample,
    string_to_sign: Option<&str>,
    ctx: &HintContext,
) -> Result<(), ProbeError> {
    let Some((status, headers)) = &progress.head else {
        return Err(ProbeError::new(
            ErrorClass::HttpProtocol,
            "no response head",
            ctx,
        ));
    };
    if target.expect.accepts(*status) {
        return Ok(());
    }
    if *status == 508 && headers.contains_key(PROBE_HOP_HEADER) {
        return Err(ProbeError::new(
            ErrorClass::TargetLoop,
            "the target answered 508 target.loop: it is apigw-vpc-probe itself, which refused \
             this probe's request (X-Apigw-Probe-Hop) instead of probing again",
            ctx,
        ));
    }
    let gateway = sample.gateway.clone().unwrap_or_default();
    // The whole message, not the report's shortened copy: an A403IS message carries the
    // gateway's whole string to sign, and a difference can sit past any display limit.
    let full_message = header_text(&progress.head, "x-ca-error-message");
    let message = gateway.error_message.clone().unwrap_or_default();
    // A legacy gateway sends only a message; the table maps some of them to codes.
    let code = gateway
        .error_code
        .clone()
        .or_else(|| diagnose::legacy_code(&message).map(str::to_owned));
    match code {
        Some(code) => {
            let mut text = format!("API Gateway answered {status} {code}: {message}");
            // The one thing users of every other SDK do by hand: find where the gateway's
            // string to sign and ours part.
            if code == "A403IS" {
                match string_to_sign.and_then(|sts| sign::compare_with_gateway(sts, full_message))
                {
                    Some(sign::Comparison::Differs(diff)) => {
                        text = format!("{text} — string to sign {diff}")
                    }
                    Some(sign::Comparison::Identical) => {
                        text = format!(
                            "{text} — the strings to sign are identical, so the AppSecret differs from the app's"
                        )
                    }
                    None => {}
                }
            }
            Err(ProbeError {
                hint: diagnose::gateway_hint(&code, &message),
                class: ErrorClass::Gateway(code),
                message: text,
            })
        }
        None if !message.is_empty() => Err(ProbeError {
            class: ErrorClass::HttpStatus,
            message: format!(
                "HTTP {status} from API Gateway: {message}; expected {}",
                target.expect.describe()
            ),
            hint: diagnose::gateway_hint("", &message),
        }),
        None => Err(ProbeError::new(
            ErrorClass::HttpStatus,
            format!(
                "HTTP {status} from the {} (no X-Ca-Error-Code); expected {}",
                if gateway.request_id.is_some() {
                    "backend, passed through by API Gateway"
                } else {
                    "server"
                },
                target.expect.describe()
            ),
            ctx,
        )),
    }
}

/// A response header as text (empty when absent or not visible ASCII).
fn header_text<'a>(head: &'a Option<(u16, HeaderMap)>, name: &str) -> &'a str {
    head.as_ref()
        .and_then(|(_, h)| h.get(name))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The `X-Ca-*` response headers. Error codes are kept only if they look like one (6
/// alphanumerics as documented, up to 16 tolerated), so a hostile server cannot forge classes.
pub(crate) fn gateway_info(headers: &HeaderMap) -> GatewayInfo {
    let get = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).map(|v| {
            if v.chars().nth(512).is_none() {
                return v.to_owned();
            }
            // Redacted before the cut, so that the cut cannot keep half a secret.
            let v = crate::redact::current().redact(v).into_owned();
            v.chars().take(512).collect::<String>()
        })
    };
    GatewayInfo {
        request_id: get("x-ca-request-id"),
        error_code: get("x-ca-error-code").filter(|c| {
            !c.is_empty() && c.len() <= 16 && c.bytes().all(|b| b.is_ascii_alphanumeric())
        }),
        error_message: get("x-ca-error-message"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Origin, TargetDefaults, TargetSpec};
    use hyper::header::HeaderValue;
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
    fn legacy_message_only_answers_map_to_gateway_classes() {
        let t = target("http://g.alicloudapi.com/");
        let ctx = HintContext::default();
        let judge_headers = |status: u16, pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            let progress = Progress {
                head: Some((status, h.clone())),
                ..Progress::default()
            };
            let sample = Sample {
                gateway: Some(gateway_info(&h)),
                ..Sample::default()
            };
            judge(&t, &progress, &sample, Some("GET\n"), &ctx).unwrap_err()
        };
        let e = judge_headers(400, &[("x-ca-error-message", "Invalid Domain")]);
        assert_eq!(e.class, ErrorClass::Gateway("I404DO".into()));
        let e = judge_headers(400, &[("x-ca-error-message", "Timestamp Expired")]);
        assert_eq!(e.class, ErrorClass::HttpStatus);
        assert!(e.message.contains("from API Gateway"), "{e}");
        assert!(e.hint.contains("clock"), "{e}");
        let e = judge_headers(502, &[("x-ca-request-id", "r")]);
        assert_eq!(e.class, ErrorClass::HttpStatus);
        assert!(e.message.contains("backend"), "{e}");
    }

    #[test]
    fn gateway_codes_must_look_like_codes() {
        let mut h = HeaderMap::new();
        h.insert("x-ca-request-id", HeaderValue::from_static("r-1"));
        h.insert("x-ca-error-code", HeaderValue::from_static("I404NF"));
        h.insert(
            "x-ca-error-message",
            HeaderValue::from_static("API not found"),
        );
        let g = gateway_info(&h);
        assert_eq!(g.error_code.as_deref(), Some("I404NF"));
        assert_eq!(g.request_id.as_deref(), Some("r-1"));
        h.insert("x-ca-error-code", HeaderValue::from_static("a.b c"));
        assert_eq!(gateway_info(&h).error_code, None);
    }
}
