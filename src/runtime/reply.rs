//! What a handler answers, before it becomes an HTTP response.
//!
//! A [`Reply`] can only carry the headers this runtime is allowed to set (`content-type`,
//! `x-fc-status`, `server-timing`, `retry-after`, `x-apigw-probe-hop`): FC owns every other
//! `x-fc-*` header and `connection`,
//! `content-length`, `date`, `keep-alive`, `server`, and no request header is ever copied into a
//! response. The [`Outcome`] tells the layers (FC markers, access log) how the request went
//! without them parsing the body.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde_json::json;

use crate::error::ProbeError;
use crate::redact::Redactor;
use crate::report::Report;

/// FC's error signal for event invocations.
pub(crate) const X_FC_STATUS: HeaderName = HeaderName::from_static("x-fc-status");
const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");
const RETRY_AFTER: HeaderName = HeaderName::from_static("retry-after");

/// How a request went, for the layers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Served; every target (if any) was ok.
    Ok,
    /// The probe ran and these error classes failed targets.
    TargetsFailed(Vec<String>),
    /// The input was refused before probing; the error class.
    BadInput(String),
    /// No such route.
    NotFound,
    /// The handler panicked.
    Panicked,
    /// The runtime failed (a bug), e.g. a report that could not be written.
    Internal,
    /// Refused because the server already serves `APIGW_MAX_CONNECTIONS` connections.
    Busy,
}

impl Outcome {
    /// How a request that probed went: ok, or the classes that failed targets.
    pub(crate) fn of(report: &Report) -> Self {
        if report.ok {
            Self::Ok
        } else {
            Self::TargetsFailed(
                report
                    .targets
                    .iter()
                    .filter_map(|t| t.error.as_ref())
                    .map(|e| e.class.name().into_owned())
                    .collect(),
            )
        }
    }
}

/// A handler's answer.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    /// `x-fc-status`: set on event invocations only.
    pub fc_status: Option<StatusCode>,
    /// `Server-Timing` header value.
    pub server_timing: Option<String>,
    /// `Retry-After` in seconds, for refusals that pass.
    pub retry_after: Option<u32>,
    /// Marks the refusal of a probe's own request (`x-apigw-probe-hop: refused`), so that the
    /// prober that sent it can tell this loop from any other 508.
    pub hop_refused: bool,
    /// The body: JSON, unless `content_type` says otherwise.
    pub body: Bytes,
    /// `None` for JSON; else the body's content type (metrics).
    pub content_type: Option<&'static str>,
    pub outcome: Outcome,
    /// Close the connection once this reply is written (what is left of the request on it
    /// cannot be trusted to be the next request). Carried to the server as [`CloseConnection`].
    pub close: bool,
}

/// A response extension that asks the server to close the connection after the response.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CloseConnection;

impl Reply {
    /// A JSON reply.
    pub(crate) fn json(status: StatusCode, body: &serde_json::Value, outcome: Outcome) -> Self {
        Self {
            status,
            fc_status: None,
            server_timing: None,
            retry_after: None,
            hop_refused: false,
            // Serializing a `Value` cannot fail (its map keys are strings).
            body: Bytes::from(body.to_string()),
            content_type: None,
            outcome,
            close: false,
        }
    }

    /// A text reply (metrics) of `content_type`.
    pub(crate) fn text(
        status: StatusCode,
        content_type: &'static str,
        body: String,
        outcome: Outcome,
    ) -> Self {
        Self {
            content_type: Some(content_type),
            body: Bytes::from(body),
            ..Self::json(status, &serde_json::Value::Null, outcome)
        }
    }

    /// FC's error body: `{"errorType", "errorMessage", "hint", "requestId"}`.
    pub(crate) fn error(
        status: StatusCode,
        error_type: &str,
        message: &str,
        hint: &str,
        request_id: &str,
        outcome: Outcome,
    ) -> Self {
        Self::json(
            status,
            &json!({
                "errorType": error_type,
                "errorMessage": message,
                "hint": hint,
                "requestId": request_id,
            }),
            outcome,
        )
    }

    /// Invalid input, as FC's error body.
    pub(crate) fn bad_input(status: StatusCode, e: &ProbeError, request_id: &str) -> Self {
        let class = e.class.name().into_owned();
        Self::error(
            status,
            &class,
            &e.message,
            &e.hint,
            request_id,
            Outcome::BadInput(class.clone()),
        )
    }

    /// A report, with `Server-Timing`.
    pub(crate) fn report(status: StatusCode, report: &Report) -> Self {
        let outcome = Outcome::of(report);
        match serde_json::to_vec(report) {
            Ok(body) => {
                let timing = report.server_timing();
                Self {
                    status,
                    fc_status: None,
                    server_timing: (!timing.is_empty()).then_some(timing),
                    retry_after: None,
                    hop_refused: false,
                    body: Bytes::from(body),
                    content_type: None,
                    outcome,
                    close: false,
                }
            }
            Err(e) => Self::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "runtime.internal",
                &format!("the report could not be written as JSON: {e}"),
                "This is a bug in apigw-vpc-probe; please report it with the function's log.",
                &report.request_id,
                Outcome::Internal,
            ),
        }
    }

    /// For event invocations: FC reads success or failure from the status and `x-fc-status`,
    /// and only 200 and 404 carry a meaning (404 = function error).
    pub(crate) fn into_event_invocation(mut self) -> Self {
        let status = if self.status == StatusCode::OK {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        self.status = status;
        self.fc_status = Some(status);
        self
    }

    /// The reply with every secret `r` holds masked in its body (a JSON body string by string,
    /// so that it stays valid JSON; a text body as text: its only free-form values are label
    /// values, escaped as JSON escapes them).
    pub(crate) fn redacted(mut self, r: &Redactor) -> Self {
        if self.content_type.is_some() {
            let text = String::from_utf8_lossy(&self.body);
            if let std::borrow::Cow::Owned(body) = r.redact(&text) {
                self.body = Bytes::from(body);
            }
            return self;
        }
        if let std::borrow::Cow::Owned(body) = r.redact_json_bytes(&self.body) {
            self.body = Bytes::from(body);
        }
        self
    }

    /// True when FC should count this as a function error.
    pub(crate) fn is_function_error(&self) -> bool {
        self.outcome != Outcome::Ok
    }

    /// The HTTP response.
    pub(crate) fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        if self.close {
            response.extensions_mut().insert(CloseConnection);
        }
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(
                self.content_type
                    .unwrap_or("application/json; charset=utf-8"),
            ),
        );
        if let Some(s) = self.fc_status {
            headers.insert(X_FC_STATUS, HeaderValue::from(s.as_u16()));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.hop_refused {
            headers.insert(
                HeaderName::from_static(crate::apigw::PROBE_HOP_HEADER),
                HeaderValue::from_static("refused"),
            );
        }
        // The timing is built from numbers and fixed names; a value that still does not fit in
        // a header is dropped rather than failing the response.
        if let Some(v) = self
            .server_timing
            .and_then(|t| HeaderValue::from_str(&t).ok())
        {
            headers.insert(SERVER_TIMING, v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_invocations_only_know_200_and_404() {
        let r = Reply::bad_input(StatusCode::BAD_REQUEST, &ProbeError::config("x"), "r")
            .into_event_invocation();
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.fc_status, Some(StatusCode::NOT_FOUND));
        assert!(r.is_function_error());
        let resp = r.into_response();
        assert_eq!(resp.headers()["x-fc-status"], "404");
    }

    #[test]
    fn only_allowed_headers_are_set() {
        let mut r =
            Reply::error(StatusCode::OK, "t", "m", "h", "r", Outcome::Ok).into_event_invocation();
        r.retry_after = Some(1);
        r.hop_refused = true;
        let resp = r.into_response();
        assert_eq!(resp.headers()["x-apigw-probe-hop"], "refused");
        for name in resp.headers().keys() {
            assert!(
                [
                    "content-type",
                    "x-fc-status",
                    "server-timing",
                    "retry-after",
                    "x-apigw-probe-hop"
                ]
                .contains(&name.as_str()),
                "{name}"
            );
        }
    }

    #[test]
    fn redacted_masks_the_body_and_keeps_it_json() {
        let r = Redactor::default();
        r.add("s3cr3t\"value");
        let e = ProbeError::config("the gateway said s3cr3t\"value");
        let reply = Reply::bad_input(StatusCode::BAD_REQUEST, &e, "r").redacted(&r);
        let v: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(v["errorMessage"], "the gateway said ***");
        assert!(!String::from_utf8_lossy(&reply.body).contains("s3cr3t"));
    }

    #[test]
    fn a_text_reply_keeps_its_content_type_and_is_redacted_as_text() {
        let r = Redactor::default();
        r.add("s3cr3t-value");
        let reply = Reply::text(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            "probe_success{target=\"s3cr3t-value\"} 1\n".into(),
            Outcome::Ok,
        )
        .redacted(&r);
        assert_eq!(
            String::from_utf8_lossy(&reply.body),
            "probe_success{target=\"***\"} 1\n"
        );
        let resp = reply.into_response();
        assert_eq!(
            resp.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
    }

    #[test]
    fn error_body_has_fc_fields() {
        let r = Reply::bad_input(StatusCode::BAD_REQUEST, &ProbeError::config("bad"), "req-1");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["errorType"], "config.invalid");
        assert_eq!(v["errorMessage"], "bad");
        assert_eq!(v["requestId"], "req-1");
        assert!(v["hint"].as_str().unwrap().contains("APIGW_"));
        assert_eq!(r.outcome, Outcome::BadInput("config.invalid".into()));
    }
}
