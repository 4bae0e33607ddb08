//! A failed OpenAPI call, with a stable kind.
//!
//! Error bodies are `{"RequestId","HostId","Code","Message","Recommend"}` for the RPC products
//! and `{"Code","Message","RequestId"}` for FC 3.0 (spec control-plane.md §8, §4.1 \[doc\]); FC
//! 2.0's `{"errorCode","errorMessage"}` is read too. The `SignatureDoesNotMatch` and
//! `IncompleteSignature` messages echo the server's string to sign (the AccessKeyId, every
//! parameter, and in V3 the canonical request with the signed `x-acs-security-token`): the
//! message is cut before " server string to sign is" whatever the code, and any occurrence of
//! the secret or the token is masked, so an error can be logged and reported as it is.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// Longest message kept from a server's error body.
const MAX_MESSAGE_CHARS: usize = 512;

/// What kind of failure, for the caller's verdicts (stable names: [`ErrorKind::name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The role may not call the action: `Forbidden.RAM`, `NoPermission`, `Forbidden.*`,
    /// CEN's `Unauthorized`, FC's `AccessDenied`. [`OpenApiError::action`] names the RAM
    /// action to grant.
    PermissionDenied,
    /// The credentials or the request's authenticity were refused: `InvalidAccessKeyId.*`,
    /// `InvalidSecurityToken.*` (expired, malformed, mismatched), `MissingSecurityToken`,
    /// `SignatureDoesNotMatch`, `IncompleteSignature`, `SignatureNonceUsed`,
    /// `InvalidTimeStamp.*` (clock skew), and FC 2.0's `InvalidAccessKeyID` /
    /// `SignatureNotMatch`. [`OpenApiError::code`] tells them apart.
    CredentialsInvalid,
    /// Flow control: `Throttling`, `Throttling.*`, FC's `ResourceThrottled`, or HTTP 429.
    Throttled,
    /// The service failed: `ServiceUnavailable`, `InternalError`, or a 5xx without a known code.
    ServiceUnavailable,
    /// The resource the call names does not exist (per action: `NotFoundApiGroup`,
    /// `NotFoundApi`, `NotFoundApp`, `InvalidVSwitchId.NotFound`, FC's `FunctionNotFound`…).
    NotFound,
    /// No answer: DNS, connect or TLS failed, the call's own timeout
    /// (`APIGW_OPENAPI_TIMEOUT_MS`) passed, or no endpoint was allowed (`APIGW_OPENAPI_NETWORK`).
    Unreachable,
    /// The caller's deadline came before the answer (or left no time to start).
    DeadlineExceeded,
    /// Anything else: another error code, a body that is not JSON or not the documented shape.
    Other,
}

impl ErrorKind {
    /// The stable name: `permission_denied`, `credentials_invalid`, `throttled`,
    /// `service_unavailable`, `not_found`, `unreachable`, `deadline_exceeded`, `other`.
    pub fn name(self) -> &'static str {
        match self {
            Self::PermissionDenied => "permission_denied",
            Self::CredentialsInvalid => "credentials_invalid",
            Self::Throttled => "throttled",
            Self::ServiceUnavailable => "service_unavailable",
            Self::NotFound => "not_found",
            Self::Unreachable => "unreachable",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed call. Holds no secret: the message is cut and masked (module doc), and neither the
/// request's `Authorization` nor its token is ever put in here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenApiError {
    /// The kind.
    pub kind: ErrorKind,
    /// The RAM action of the call, e.g. `apigateway:DescribeApiGroup`: what to grant when the
    /// kind is [`ErrorKind::PermissionDenied`].
    pub action: String,
    /// The endpoint the last attempt went to (`https://host[:port]`), if one was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The HTTP status, when an answer came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The error `Code` of the body, e.g. `Forbidden.RAM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What happened: the server's `Message` (cut, masked) or our own description.
    pub message: String,
    /// The server's `RequestId`, for a support ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The `Recommend` troubleshooting URL of the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommend: Option<String>,
    /// For a denial, `AccessDeniedDetail.AuthAction` when the server says which action it
    /// refused (it may differ from [`OpenApiError::action`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denied_action: Option<String>,
    /// `x-acs-retry-after` of a throttled answer.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "millis")]
    pub retry_after: Option<Duration>,
}

fn millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_u128(d.as_millis()),
        None => s.serialize_none(),
    }
}

impl OpenApiError {
    /// An error without an answer from the server.
    pub fn new(kind: ErrorKind, action: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            action: action.to_owned(),
            endpoint: None,
            status: None,
            code: None,
            message: message.into(),
            request_id: None,
            recommend: None,
            denied_action: None,
            retry_after: None,
        }
    }

    /// The RAM action to grant, for a permission denial.
    pub fn ram_action(&self) -> Option<&str> {
        (self.kind == ErrorKind::PermissionDenied).then_some(self.action.as_str())
    }
}

impl fmt::Display for OpenApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action, self.kind)?;
        if let Some(endpoint) = &self.endpoint {
            write!(f, " at {endpoint}")?;
        }
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " [RequestId {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for OpenApiError {}

/// The kind of an error `code` (with the HTTP `status` for codes not known here).
pub fn classify(code: Option<&str>, status: u16) -> ErrorKind {
    let Some(code) = code else {
        return match status {
            429 => ErrorKind::Throttled,
            500..=599 => ErrorKind::ServiceUnavailable,
            _ => ErrorKind::Other,
        };
    };
    let starts = |p: &str| code == p || code.starts_with(&format!("{p}."));
    // Order matters: InvalidAccessKeyId.NotFound is about the key, not a resource.
    if starts("InvalidAccessKeyId")
        || starts("InvalidSecurityToken")
        || starts("InvalidTimeStamp")
        || matches!(
            code,
            "MissingSecurityToken"
                | "SignatureDoesNotMatch"
                | "IncompleteSignature"
                | "SignatureNonceUsed"
                | "InvalidAccessKeyID"
                | "SignatureNotMatch"
        )
    {
        return ErrorKind::CredentialsInvalid;
    }
    if starts("Forbidden") || matches!(code, "NoPermission" | "Unauthorized" | "AccessDenied") {
        return ErrorKind::PermissionDenied;
    }
    if starts("Throttling") || code == "ResourceThrottled" {
        return ErrorKind::Throttled;
    }
    if matches!(
        code,
        "ServiceUnavailable" | "InternalError" | "InternalServerError" | "ServiceTimeout"
    ) {
        return ErrorKind::ServiceUnavailable;
    }
    // A wrong endpoint or version is not a missing resource (§8: InvalidApi.NotFound,
    // InvalidAction.NotFound, InvalidProduct.NotFound).
    if matches!(
        code,
        "InvalidApi.NotFound" | "InvalidAction.NotFound" | "InvalidProduct.NotFound"
    ) {
        return ErrorKind::Other;
    }
    // CloudAPI NotFoundApiGroup/NotFoundApi/NotFoundApp/NotFoundStage/NotFoundAuthorization/
    // NotFoundVpc [3p §8], VPC InvalidVSwitchId.NotFound / InvalidRouteTable.NotFound [doc],
    // InvalidVpcId.NotFound / InvalidCenId.NotFound [inferred by the same pattern], FC
    // FunctionNotFound [doc §4.1], and any other ….NotFound.
    if code.starts_with("NotFound") || code.ends_with(".NotFound") || code.ends_with("NotFound") {
        return ErrorKind::NotFound;
    }
    if (500..=599).contains(&status) {
        return ErrorKind::ServiceUnavailable;
    }
    ErrorKind::Other
}

/// A server message made safe to keep: cut before an echoed string to sign, with every
/// occurrence of `secrets` masked, on one line, at most 512 characters.
pub fn sanitize_message(message: &str, secrets: &[&str]) -> String {
    let lower = message.to_ascii_lowercase();
    let cut = ["server string to sign", "stringtosign", "string to sign"]
        .iter()
        .filter_map(|marker| lower.find(marker))
        .min()
        .unwrap_or(message.len());
    let mut kept = message[..cut].trim_end().to_owned();
    if cut < message.len() {
        kept.push_str(" (the server's string to sign is left out)");
    }
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        kept = kept.replace(secret, "***");
    }
    let one_line: String = kept
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_MESSAGE_CHARS)
        .collect();
    one_line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        use ErrorKind::*;
        let cases = [
            ("Forbidden.RAM", 403, PermissionDenied),
            ("NoPermission", 403, PermissionDenied),
            ("Forbidden.NoPermission", 403, PermissionDenied),
            ("Unauthorized", 400, PermissionDenied),
            ("AccessDenied", 403, PermissionDenied),
            ("InvalidAccessKeyId.NotFound", 404, CredentialsInvalid),
            ("InvalidAccessKeyId.Inactive", 400, CredentialsInvalid),
            ("InvalidSecurityToken.Expired", 400, CredentialsInvalid),
            (
                "InvalidSecurityToken.MismatchWithAccessKey",
                400,
                CredentialsInvalid,
            ),
            ("MissingSecurityToken", 400, CredentialsInvalid),
            ("SignatureDoesNotMatch", 400, CredentialsInvalid),
            ("IncompleteSignature", 400, CredentialsInvalid),
            ("InvalidTimeStamp.Expired", 400, CredentialsInvalid),
            ("SignatureNonceUsed", 400, CredentialsInvalid),
            ("Throttling.User", 400, Throttled),
            ("Throttling", 503, Throttled),
            ("ResourceThrottled", 503, Throttled),
            ("ServiceUnavailable", 503, ServiceUnavailable),
            ("InternalError", 500, ServiceUnavailable),
            ("NotFoundApiGroup", 400, NotFound),
            ("NotFoundApp", 400, NotFound),
            ("InvalidGroupId.NotFound", 400, NotFound),
            ("InvalidVSwitchId.NotFound", 400, NotFound),
            ("InvalidRouteTable.NotFound", 400, NotFound),
            ("FunctionNotFound", 404, NotFound),
            ("InvalidApi.NotFound", 404, Other),
            ("InvalidProduct.NotFound", 404, Other),
            ("InvalidParameter", 400, Other),
            ("SomethingNew", 502, ServiceUnavailable),
        ];
        for (code, status, kind) in cases {
            assert_eq!(classify(Some(code), status), kind, "{code}");
        }
        assert_eq!(classify(None, 429), Throttled);
        assert_eq!(classify(None, 503), ServiceUnavailable);
        assert_eq!(classify(None, 404), Other);
    }

    #[test]
    fn the_string_to_sign_and_secrets_are_cut() {
        let m = "Specified signature is not matched with our calculation. server string to sign is:ACS3-HMAC-SHA256\nabc token-xyz";
        let s = sanitize_message(m, &["token-xyz"]);
        assert_eq!(
            s,
            "Specified signature is not matched with our calculation. (the server's string to sign is left out)"
        );
        let s = sanitize_message(
            "bad token-xyz and secret-1\nnext",
            &["token-xyz", "secret-1", ""],
        );
        assert_eq!(s, "bad *** and *** next");
        assert_eq!(sanitize_message(&"x".repeat(2000), &[]).len(), 512);
    }

    #[test]
    fn display_and_json_name_the_action() {
        let mut e = OpenApiError::new(
            ErrorKind::PermissionDenied,
            "apigateway:DescribeApiGroup",
            "no",
        );
        e.code = Some("Forbidden.RAM".into());
        e.retry_after = Some(Duration::from_millis(1500));
        assert_eq!(e.ram_action(), Some("apigateway:DescribeApiGroup"));
        assert_eq!(
            e.to_string(),
            "apigateway:DescribeApiGroup permission_denied (Forbidden.RAM): no"
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "permission_denied");
        assert_eq!(json["retry_after"], 1500);
        assert!(json.get("endpoint").is_none());
    }
}
