//! The control plane's error answers: the documented codes, statuses and messages, and the two
//! envelopes (control-plane.md §8): RPC products `{"RequestId","HostId","Code","Message",
//! "Recommend"}`, FC 3.0 `{"Code","Message","RequestId"}`.

use serde_json::{json, Map, Value};

/// An error answer before it is put in its product's envelope.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// `x-acs-retry-after` in milliseconds (throttling), the unit the official SDK reads it in.
    pub retry_after_ms: Option<u64>,
    /// `AccessDeniedDetail` of a RAM denial.
    pub access_denied: Option<Box<Value>>,
}

/// Default `x-acs-retry-after` of an injected throttling error, in milliseconds.
pub const DEFAULT_RETRY_AFTER_MS: u64 = 1000;

/// The codes the stand-in answers, with their status and message. Statuses and messages are
/// the documented ones where control-plane.md §8 (and §3–5) gives them; the ones it marks 4xx or
/// does not give are this stand-in's choice (its CONTROL-PLANE.md lists which).
const KNOWN: &[(&str, u16, &str)] = &[
    ("Forbidden.RAM", 403, "User not authorized to operate on the specified resource, or this API doesn't support RAM."),
    ("NoPermission", 403, "You are not authorized to do this action."),
    ("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found."),
    ("InvalidAccessKeyId.Inactive", 400, "Specified access key is disabled."),
    ("SignatureDoesNotMatch", 400, "Specified signature is not matched with our calculation."),
    ("IncompleteSignature", 400, "The request signature does not conform to Aliyun standards."),
    ("InvalidSecurityToken.Expired", 400, "Specified SecurityToken is expired."),
    ("InvalidSecurityToken.Malformed", 400, "Specified SecurityToken is malformed."),
    ("InvalidSecurityToken.MismatchWithAccessKey", 400, "Specified SecurityToken mismatch with the AccessKey."),
    ("MissingSecurityToken", 400, "SecurityToken is mandatory for this action."),
    ("InvalidTimeStamp.Expired", 400, "Specified time stamp or date value is expired."),
    ("InvalidTimeStamp.Format", 400, "Specified time stamp or date value is not well formatted."),
    ("SignatureNonceUsed", 400, "Specified signature nonce was used already."),
    ("Throttling.User", 400, "Request was denied due to user flow control."),
    ("Throttling.Api", 400, "Request was denied due to api flow control."),
    ("Throttling", 400, "Request was denied due to flow control."),
    ("ServiceUnavailable", 503, "The request has failed due to a temporary failure of the server."),
    ("InternalError", 500, "The request processing has failed due to some unknown error, exception or failure."),
    ("InvalidAction.NotFound", 404, "Specified api is not found, please check your url and method."),
    ("InvalidParameter", 400, "The specified parameter is invalid."),
    ("NotFoundApiGroup", 404, "Cannot find the ApiGroup according to the specified GroupId."),
    ("NotFoundApi", 404, "Cannot find the API according to the specified ApiId."),
    ("NotFoundApp", 404, "Cannot find the app according to the specified AppId."),
    ("NotFoundStage", 404, "Cannot find the stage according to the specified StageName."),
    ("InvalidVSwitchId.NotFound", 400, "Specified VSwitch can not found."),
    ("InvalidVpcId.NotFound", 404, "Specified VPC can not found."),
    ("InvalidRouteTable.NotFound", 400, "Specified route table can not found."),
    ("ParameterCenInstanceId", 400, "The specified CenId is invalid."),
    ("FunctionNotFound", 404, "function not found"),
    ("AliasNotFound", 404, "alias not found"),
    ("VersionNotFound", 404, "version not found"),
    ("AccessDenied", 403, "The current user does not have the permission to perform this operation."),
];

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            retry_after_ms: None,
            access_denied: None,
        }
    }

    /// `code` with its documented status and message (400 and a generic message for a code the
    /// stand-in does not know). Throttling codes carry `x-acs-retry-after`.
    pub fn known(code: &str) -> Self {
        let (status, message) = KNOWN
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or((400, "The request was refused."), |(_, s, m)| (*s, *m));
        let mut e = Self::new(status, code, message);
        if code.starts_with("Throttling") {
            e.retry_after_ms = Some(DEFAULT_RETRY_AFTER_MS);
        }
        e
    }

    /// `code`'s documented status and message, the message followed by `detail`.
    pub fn with_detail(code: &str, detail: &str) -> Self {
        let mut e = Self::known(code);
        e.message = format!("{} {detail}", e.message);
        e
    }

    /// A required parameter is missing: `Missing<Param>`, "<Param> is mandatory for this
    /// action." (the documented pattern).
    pub fn missing(param: &str) -> Self {
        let name: String = param.chars().filter(char::is_ascii_alphanumeric).collect();
        Self::new(
            400,
            format!("Missing{name}"),
            format!("{param} is mandatory for this action."),
        )
    }

    /// A parameter's value is not valid.
    pub fn invalid(param: &str, why: &str) -> Self {
        Self::new(
            400,
            "InvalidParameter",
            format!("The specified parameter {param} is invalid: {why}"),
        )
    }

    /// The RPC envelope: `RequestId`, `HostId`, `Code`, `Message`, `Recommend` (and
    /// `AccessDeniedDetail` for a RAM denial).
    pub fn rpc_body(&self, request_id: &str, host_id: &str, product: &str) -> Value {
        let mut m = Map::new();
        m.insert("RequestId".into(), json!(request_id));
        m.insert("HostId".into(), json!(host_id));
        m.insert("Code".into(), json!(self.code));
        m.insert("Message".into(), json!(self.message));
        m.insert(
            "Recommend".into(),
            json!(format!(
                "https://api.aliyun.com/troubleshoot?q={}&product={product}&requestId={request_id}",
                self.code
            )),
        );
        if let Some(d) = &self.access_denied {
            m.insert("AccessDeniedDetail".into(), (**d).clone());
        }
        Value::Object(m)
    }

    /// FC 3.0's envelope: `Code`, `Message`, `RequestId`.
    pub fn fc_body(&self, request_id: &str) -> Value {
        json!({"Code": self.code, "Message": self.message, "RequestId": request_id})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_codes_and_envelopes() {
        let e = ApiError::known("ServiceUnavailable");
        assert_eq!(e.status, 503);
        let t = ApiError::known("Throttling.User");
        assert_eq!(t.retry_after_ms, Some(DEFAULT_RETRY_AFTER_MS));
        let body = ApiError::known("NotFoundApiGroup").rpc_body(
            "RID",
            "apigateway.cn-shanghai.aliyuncs.com",
            "CloudAPI",
        );
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["RequestId", "HostId", "Code", "Message", "Recommend"]
        );
        assert_eq!(
            ApiError::known("FunctionNotFound").fc_body("1-x"),
            json!({"Code": "FunctionNotFound", "Message": "function not found", "RequestId": "1-x"})
        );
        assert_eq!(ApiError::missing("RegionId").code, "MissingRegionId");
        assert_eq!(ApiError::known("SomethingElse").status, 400);
    }
}
