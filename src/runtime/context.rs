//! The request context: what FC tells the function about itself in `x-fc-*` headers, with the
//! instance's environment as the fallback.
//!
//! FC strips `x-fc-*` headers sent by outside callers, so these are FC's own values; they are
//! still only used for reporting and budgets, never for authorization.

use std::time::Duration;

use hyper::header::HeaderMap;

pub(crate) use crate::openapi::credentials::Credentials;
use crate::report::FunctionInfo;

/// Longest request id taken from `x-fc-request-id`; FC's are about 40 characters.
const MAX_REQUEST_ID_LEN: usize = 128;

/// What the instance's environment says (read once at start-up): the fallback for headers FC
/// did not send.
#[derive(Clone, Debug, Default)]
pub(crate) struct InstanceEnv {
    /// `FC_FUNCTION_NAME`.
    pub function_name: Option<String>,
    /// `FC_REGION`.
    pub region: Option<String>,
    /// `FC_ACCOUNT_ID`.
    pub account_id: Option<String>,
    /// `FC_FUNCTION_MEMORY_SIZE` (MB).
    pub memory_mb: Option<u32>,
    /// `FC_FUNCTION_VERSION` (debian11+), else `FC_VER_ID` (debian10).
    pub version: Option<String>,
    /// `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN`.
    pub credentials: Option<Credentials>,
}

impl InstanceEnv {
    /// Reads the process environment (no other I/O).
    pub(crate) fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads through `get` (the environment, or a map in tests).
    pub(crate) fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        Self {
            function_name: get("FC_FUNCTION_NAME"),
            region: get("FC_REGION"),
            account_id: get("FC_ACCOUNT_ID"),
            memory_mb: get("FC_FUNCTION_MEMORY_SIZE").and_then(|v| v.trim().parse().ok()),
            version: get("FC_FUNCTION_VERSION").or_else(|| get("FC_VER_ID")),
            credentials: Credentials::from_lookup(get),
        }
    }
}

/// One request's context.
#[derive(Clone, Debug)]
pub(crate) struct RequestContext {
    /// `x-fc-request-id`, else a generated id.
    pub request_id: String,
    /// Name, region, qualifier, memory and timeout, for the report.
    pub function: FunctionInfo,
    /// `x-fc-function-timeout` (seconds): the budget the prober has to fit in.
    pub function_timeout: Option<Duration>,
    /// From `x-fc-access-key-*` / `x-fc-security-token`, else the environment (for the
    /// configuration cross-check).
    pub credentials: Option<Credentials>,
    /// `x-fc-account-id`, else `FC_ACCOUNT_ID` (names FC's internal OpenAPI endpoint).
    pub account_id: Option<String>,
}

impl RequestContext {
    /// Builds the context of a request whose id was already chosen (see [`request_id`]).
    pub(crate) fn new(request_id: String, headers: &HeaderMap, env: &InstanceEnv) -> Self {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let timeout_s: Option<u32> = get("x-fc-function-timeout").and_then(|v| parse_seconds(&v));
        let function = FunctionInfo {
            name: get("x-fc-function-name").or_else(|| env.function_name.clone()),
            region: get("x-fc-region").or_else(|| env.region.clone()),
            qualifier: get("x-fc-qualifier"),
            version: get("x-fc-version-id").or_else(|| env.version.clone()),
            memory_mb: get("x-fc-function-memory")
                .and_then(|v| v.parse().ok())
                .or(env.memory_mb),
            timeout_s,
            // Filled in by the prober with the deadline it applied.
            budget_ms: 0.0,
        };
        let credentials = request_credentials(headers, env);
        Self {
            request_id,
            function,
            function_timeout: timeout_s.map(|s| Duration::from_secs(u64::from(s))),
            credentials,
            account_id: get("x-fc-account-id").or_else(|| env.account_id.clone()),
        }
    }
}

/// The function role's credentials for one request: FC's `x-fc-access-key-*` /
/// `x-fc-security-token` headers, else the environment's.
pub(crate) fn request_credentials(headers: &HeaderMap, env: &InstanceEnv) -> Option<Credentials> {
    Credentials::from_fc_headers(headers).or_else(|| env.credentials.clone())
}

/// `x-fc-function-timeout`: whole seconds; a fraction is rounded down (the budget errs short).
fn parse_seconds(v: &str) -> Option<u32> {
    v.parse::<u32>().ok().or_else(|| {
        v.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < f64::from(u32::MAX))
            .map(|s| s as u32)
    })
}

/// The request id: `x-fc-request-id` when it is a plausible id, else a new one.
///
/// The id is written into every log line and the FC markers, so anything that could break a
/// line or a JSON string (or is implausibly long) is replaced rather than trusted.
pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-fc-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|id| is_plausible_id(id))
        .map_or_else(generate_request_id, str::to_owned)
}

fn is_plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// A random (UUID v4) id for requests without one (local runs, tests).
pub(crate) fn generate_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn reads_fc_headers() {
        let h = headers(&[
            ("x-fc-request-id", "1-6560-abc"),
            ("x-fc-function-name", "probe"),
            ("x-fc-region", "cn-shanghai"),
            ("x-fc-function-memory", "512"),
            ("x-fc-function-timeout", "3"),
            ("x-fc-qualifier", "LATEST"),
            ("x-fc-version-id", "2"),
        ]);
        let ctx = RequestContext::new(request_id(&h), &h, &InstanceEnv::default());
        assert_eq!(ctx.request_id, "1-6560-abc");
        assert_eq!(ctx.function.name.as_deref(), Some("probe"));
        assert_eq!(ctx.function.region.as_deref(), Some("cn-shanghai"));
        assert_eq!(ctx.function.memory_mb, Some(512));
        assert_eq!(ctx.function.timeout_s, Some(3));
        assert_eq!(ctx.function.qualifier.as_deref(), Some("LATEST"));
        assert_eq!(ctx.function.version.as_deref(), Some("2"));
        assert_eq!(ctx.function_timeout, Some(Duration::from_secs(3)));
        assert!(ctx.credentials.is_none());
    }

    #[test]
    fn environment_is_the_fallback() {
        let env = InstanceEnv::from_lookup(|k| match k {
            "FC_FUNCTION_NAME" => Some("envfn".into()),
            "FC_FUNCTION_MEMORY_SIZE" => Some("1024".into()),
            "FC_VER_ID" => Some("7".into()),
            "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("LTAIenv".into()),
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("envsecret".into()),
            _ => None,
        });
        let h = headers(&[("x-fc-function-name", "hdrfn")]);
        let ctx = RequestContext::new("r".into(), &h, &env);
        assert_eq!(ctx.function.name.as_deref(), Some("hdrfn"));
        assert_eq!(ctx.function.memory_mb, Some(1024));
        assert_eq!(ctx.function.version.as_deref(), Some("7"));
        let creds = ctx.credentials.unwrap();
        assert_eq!(creds.access_key_id(), "LTAIenv");
        assert_eq!(creds.access_key_secret(), "envsecret");

        // Header credentials win over the environment's, as a whole.
        let h = headers(&[
            ("x-fc-access-key-id", "LTAIhdr"),
            ("x-fc-access-key-secret", "hdrsecret"),
            ("x-fc-security-token", "hdrtoken"),
        ]);
        let creds = RequestContext::new("r".into(), &h, &env)
            .credentials
            .unwrap();
        assert_eq!(creds.access_key_secret(), "hdrsecret");
        assert_eq!(creds.security_token(), Some("hdrtoken"));
    }

    #[test]
    fn debug_redacts_secrets() {
        let creds = Credentials::new(
            Some("LTAIid".into()),
            Some("s3cr3t".into()),
            Some("t0k3n".into()),
        )
        .unwrap();
        let ctx = RequestContext {
            request_id: "r".into(),
            function: FunctionInfo::default(),
            function_timeout: None,
            credentials: Some(creds),
            account_id: None,
        };
        let text = format!("{ctx:?}");
        assert!(text.contains("LTAIid"), "{text}");
        assert!(
            !text.contains("s3cr3t") && !text.contains("t0k3n"),
            "{text}"
        );
    }

    #[test]
    fn implausible_request_ids_are_replaced() {
        for bad in ["", "a b", "x\"y", &"a".repeat(200)] {
            let h = headers(&[("x-fc-request-id", bad)]);
            let id = request_id(&h);
            assert_ne!(id, bad);
            assert_eq!(id.len(), 36, "{id}");
        }
        assert_ne!(generate_request_id(), generate_request_id());
    }

    #[test]
    fn fractional_timeout_rounds_down() {
        assert_eq!(parse_seconds("2.9"), Some(2));
        assert_eq!(parse_seconds("-1"), None);
        assert_eq!(parse_seconds("soon"), None);
    }
}
