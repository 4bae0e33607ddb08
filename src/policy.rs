//! What the function may call: the allow-list for targets that come from requests, and the
//! addresses that are never dialled. This is what keeps the function from becoming an open proxy
//! into the VPC.

use std::net::{IpAddr, Ipv4Addr};

use crate::error::ProbeError;
use crate::target::{Origin, Target};

/// The methods targets from requests may always use; `APIGW_REQUEST_METHODS` adds more. A probe
/// needs nothing else, and a caller should not make the function send `DELETE` into the VPC.
pub const REQUEST_METHODS: [hyper::Method; 2] = [hyper::Method::GET, hyper::Method::HEAD];

/// The metadata service: holds the instance's credentials.
pub const METADATA_SERVICE: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 200);

/// Host patterns from `APIGW_ALLOW_HOSTS` (comma-separated). Default `*.alicloudapi.com`.
///
/// A pattern is an exact host name, `*.suffix` (any name below `suffix`, at any depth), or `*`
/// (any host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowList {
    patterns: Vec<String>,
}

impl Default for AllowList {
    fn default() -> Self {
        Self::parse("*.alicloudapi.com")
    }
}

impl AllowList {
    /// Parses a comma-separated list; empty entries are ignored, case does not matter.
    pub fn parse(list: &str) -> Self {
        Self {
            patterns: list
                .split(',')
                .map(|p| p.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
        }
    }

    /// True when `host` matches a pattern.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.patterns.iter().any(|p| match p.strip_prefix("*.") {
            _ if p == "*" => true,
            Some(suffix) => host
                .strip_suffix(suffix)
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            None => *p == host,
        })
    }

    /// The patterns, for messages.
    pub fn describe(&self) -> String {
        self.patterns.join(",")
    }
}

/// Hosts that targets from requests may be signed for or send the AppCode to: the hosts of the
/// configured targets (`APIGW_URL`, `APIGW_GROUP_ID`, `APIGW_TARGETS`) and the patterns of
/// `APIGW_SIGN_HOSTS` (default: none). Any other request target is sent without credentials,
/// so that a caller cannot make the function hand its signature or AppCode to a host of the
/// caller's choosing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningHosts {
    /// Hosts of the configured targets, lower case, without a trailing dot.
    configured: Vec<String>,
    /// `APIGW_SIGN_HOSTS`.
    patterns: AllowList,
}

impl Default for SigningHosts {
    /// No host: request targets are never signed.
    fn default() -> Self {
        Self::new(std::iter::empty::<&str>(), AllowList::parse(""))
    }
}

impl SigningHosts {
    /// The configured targets' hosts (any port) and the `APIGW_SIGN_HOSTS` patterns.
    pub fn new<'a>(configured: impl IntoIterator<Item = &'a str>, patterns: AllowList) -> Self {
        let mut configured: Vec<String> = configured
            .into_iter()
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            .collect();
        configured.sort();
        configured.dedup();
        Self {
            configured,
            patterns,
        }
    }

    /// True when a request target for `host` may carry the app's credentials.
    pub fn allows(&self, host: &str) -> bool {
        let folded = host.trim_end_matches('.').to_ascii_lowercase();
        self.configured.contains(&folded) || self.patterns.allows(host)
    }
}

/// True for addresses that are never dialled, whatever the configuration says.
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4 == METADATA_SERVICE || v4.is_link_local() || v4.is_unspecified(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_forbidden_address(IpAddr::V4(v4)),
            None => (v6.segments()[0] & 0xffc0) == 0xfe80 || v6.is_unspecified(),
        },
    }
}

/// Checks a target before any packet is sent: the allow-list for request targets, and a literal
/// address that is forbidden for everyone.
///
/// The caller learns the class and what to change, not the list: it is the operator's, and it
/// maps the VPC for whoever may invoke the function. The log line has it.
pub fn check_target(target: &Target, allow: &AllowList) -> Result<(), ProbeError> {
    if target.origin == Origin::Request {
        if !allow.allows(&target.host) {
            tracing::warn!(
                host = %target.host,
                allow_hosts = %allow.describe(),
                "request target refused: its host is not in APIGW_ALLOW_HOSTS"
            );
            return Err(ProbeError::forbidden(format!(
                "host {} is not allowed for targets from an event or HTTP request (APIGW_ALLOW_HOSTS)",
                target.host
            )));
        }
        for (name, value) in &target.headers {
            if name == hyper::header::HOST {
                let host = value.to_str().unwrap_or_default();
                let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
                if !allow.allows(host) {
                    tracing::warn!(
                        host,
                        allow_hosts = %allow.describe(),
                        "request target refused: its Host header is not in APIGW_ALLOW_HOSTS"
                    );
                    return Err(ProbeError::forbidden(format!(
                        "Host header {host} is not allowed (APIGW_ALLOW_HOSTS)"
                    )));
                }
            }
        }
    }
    if let Some(ip) = target.address_override {
        check_address(&target.host, ip)?;
    }
    Ok(())
}

/// Checks the method of a target from a request against `allowed` (`GET`, `HEAD` and
/// `APIGW_REQUEST_METHODS`); configured and CLI targets may use any method.
pub fn check_method(target: &Target, allowed: &[hyper::Method]) -> Result<(), ProbeError> {
    if target.origin != Origin::Request || allowed.contains(&target.method) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(hyper::Method::as_str).collect();
    Err(ProbeError {
        class: crate::error::ErrorClass::TargetForbidden,
        message: format!(
            "method {} is not allowed for targets from an event or HTTP request (allowed: {})",
            target.method,
            names.join(", ")
        ),
        hint: "Targets from an event or HTTP request may use GET and HEAD; list other methods \
            in the function's APIGW_REQUEST_METHODS (comma-separated, e.g. POST), or configure \
            the target in APIGW_TARGETS, whose method is not restricted."
            .into(),
    })
}

/// Checks a resolved (or given) address just before it would be dialled.
pub fn check_address(host: &str, ip: IpAddr) -> Result<(), ProbeError> {
    if is_forbidden_address(ip) {
        let what = if ip == IpAddr::V4(METADATA_SERVICE) {
            "the metadata service"
        } else {
            "a link-local address"
        };
        return Err(ProbeError::forbidden(format!(
            "{host} resolves to {ip}, {what}: never probed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_allows_alicloudapi_subdomains_only() {
        let a = AllowList::default();
        assert!(a.allows("0123-cn-shanghai-vpc.alicloudapi.com"));
        assert!(a.allows("X.ALICLOUDAPI.COM."));
        assert!(!a.allows("alicloudapi.com"));
        assert!(!a.allows("evilalicloudapi.com"));
        assert!(!a.allows("alicloudapi.com.evil.net"));
        assert!(!a.allows("10.0.0.1"));
    }

    #[test]
    fn exact_and_star_patterns() {
        let a = AllowList::parse(" api.internal , *.example.com,");
        assert!(a.allows("api.internal"));
        assert!(!a.allows("x.api.internal"));
        assert!(a.allows("a.b.example.com"));
        assert!(AllowList::parse("*").allows("anything"));
        assert!(!AllowList::parse("").allows("anything"));
    }

    #[test]
    fn signing_hosts_are_configured_hosts_and_sign_patterns() {
        let none = SigningHosts::default();
        assert!(!none.allows("x.alicloudapi.com"));
        let s = SigningHosts::new(
            ["G-cn-shanghai-vpc.alicloudapi.com.", "10.0.0.1"],
            AllowList::parse("*.internal.example"),
        );
        assert!(s.allows("g-cn-shanghai-vpc.alicloudapi.com"));
        assert!(s.allows("G-CN-SHANGHAI-VPC.alicloudapi.com."));
        assert!(s.allows("10.0.0.1"));
        assert!(s.allows("api.internal.example"));
        assert!(!s.allows("other-cn-shanghai-vpc.alicloudapi.com"));
        assert!(!s.allows("10.0.0.2"));
        assert!(!s.allows("internal.example"));
    }

    #[test]
    fn request_targets_use_the_allowed_methods_only() {
        use crate::target::{TargetDefaults, TargetSpec};
        let defaults = TargetDefaults {
            region: None,
            timeout: std::time::Duration::from_secs(1),
            max_samples: 1,
            credentials: Default::default(),
            signing_hosts: Default::default(),
        };
        let target = |method: &str, origin| {
            TargetSpec {
                method: Some(method.into()),
                ..TargetSpec::from_url("http://x.alicloudapi.com/")
            }
            .build(&defaults, origin)
            .unwrap()
        };
        for m in ["GET", "head"] {
            assert!(check_method(&target(m, Origin::Request), &REQUEST_METHODS).is_ok());
        }
        let e = check_method(&target("DELETE", Origin::Request), &REQUEST_METHODS).unwrap_err();
        assert_eq!(e.class, crate::error::ErrorClass::TargetForbidden);
        assert!(e.message.contains("DELETE"), "{e}");
        assert!(e.hint.contains("APIGW_REQUEST_METHODS"), "{}", e.hint);
        let widened = [REQUEST_METHODS.as_slice(), &[hyper::Method::POST]].concat();
        assert!(check_method(&target("POST", Origin::Request), &widened).is_ok());
        for origin in [Origin::Config, Origin::Cli] {
            assert!(check_method(&target("DELETE", origin), &REQUEST_METHODS).is_ok());
        }
    }

    #[test]
    fn metadata_and_link_local_are_forbidden() {
        for a in [
            "100.100.100.200",
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "::ffff:100.100.100.200",
            "0.0.0.0",
        ] {
            assert!(is_forbidden_address(a.parse().unwrap()), "{a}");
        }
        for a in ["100.100.2.136", "10.0.0.1", "127.0.0.1", "100.104.254.1"] {
            assert!(!is_forbidden_address(a.parse().unwrap()), "{a}");
        }
    }
}
