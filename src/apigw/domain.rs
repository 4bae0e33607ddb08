//! Where an API lives: the group's domains and the stage.

use crate::error::HintContext;
use crate::named::named_enum;

named_enum! {
    /// The stage an API is published to, sent as `X-Ca-Stage`. Without the header API Gateway
    /// serves `RELEASE`.
    pub enum Stage as "stage" {
        /// Online ("线上"), the default.
        Release = "RELEASE",
        /// Test.
        Test = "TEST",
        /// Pre-release.
        Pre = "PRE",
    }
}

/// The parts of an API Gateway group domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApigwDomain {
    /// The group id: lowercase hexadecimal, 32 characters or, in some documented groups, 31
    /// (control-plane.md §10.1: `27d50c0f2e54b359919923d908bb015` \[doc\]).
    pub group: String,
    /// The region id, e.g. `cn-shanghai`.
    pub region: String,
    /// `-vpc` second-level domain.
    pub vpc: bool,
}

/// Reads `<group>-<region>[-vpc|-intranet].alicloudapi.com`; `None` for other hosts.
pub fn apigw_domain(host: &str) -> Option<ApigwDomain> {
    let label = host
        .trim_end_matches('.')
        .strip_suffix(".alicloudapi.com")?
        .to_ascii_lowercase();
    if label.contains('.') {
        return None;
    }
    // The group id has no dash; the region has (cn-shanghai, ap-southeast-1).
    let (group, rest) = label.split_once('-')?;
    if !is_group_id(group) {
        return None;
    }
    let (region, vpc) = match rest.strip_suffix("-vpc") {
        Some(region) => (region, true),
        None => (rest.strip_suffix("-intranet").unwrap_or(rest), false),
    };
    if region.is_empty() {
        return None;
    }
    Some(ApigwDomain {
        group: group.to_owned(),
        region: region.to_owned(),
        vpc,
    })
}

/// True for an API group id: 31 or 32 hexadecimal characters (both lengths are documented,
/// control-plane.md §10.1 \[doc\]).
pub fn is_group_id(id: &str) -> bool {
    matches!(id.len(), 31 | 32) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The URL of a group's API on its VPC second-level domain.
pub fn vpc_url(group: &str, region: &str, path: &str) -> String {
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    format!("http://{group}-{region}-vpc.alicloudapi.com{path}")
}

impl HintContext {
    /// The context for `host`: its region and whether it is a VPC second-level domain, read out
    /// of an API Gateway domain name.
    pub fn for_host(host: &str, function_region: Option<&str>) -> Self {
        let domain = apigw_domain(host);
        Self {
            host: host.to_owned(),
            vpc_domain: domain.as_ref().is_some_and(|d| d.vpc),
            domain_region: domain.map(|d| d.region),
            function_region: function_region.map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn reads_vpc_domains() {
        let d = apigw_domain(&format!("{GROUP}-cn-shanghai-vpc.alicloudapi.com")).unwrap();
        assert_eq!(d.region, "cn-shanghai");
        assert!(d.vpc);
        let d = apigw_domain(&format!("{GROUP}-ap-southeast-1.alicloudapi.com")).unwrap();
        assert_eq!(d.region, "ap-southeast-1");
        assert!(!d.vpc);
        assert!(apigw_domain("example.alicloudapi.com").is_none());
        // A 31-character group id, as in the documented `SubDomain` example (control-plane.md
        // §3.1, §10.1).
        let d = apigw_domain("27d50c0f2e54b359919923d908bb015-cn-hangzhou-vpc.alicloudapi.com")
            .unwrap();
        assert_eq!(
            (d.group.as_str(), d.region.as_str(), d.vpc),
            ("27d50c0f2e54b359919923d908bb015", "cn-hangzhou", true)
        );
        let d =
            apigw_domain("27d50c0f2e54b359919923d908bb015-cn-hangzhou.alicloudapi.com").unwrap();
        assert!(!d.vpc);
        // 30 or 33 characters, or not hexadecimal: not a group.
        assert!(
            apigw_domain(&format!("{}-cn-hangzhou-vpc.alicloudapi.com", &GROUP[..30])).is_none()
        );
        assert!(apigw_domain(&format!("{GROUP}0-cn-hangzhou-vpc.alicloudapi.com")).is_none());
        assert!(
            apigw_domain("0123456789abcdef0123456789abcdeg-cn-hangzhou-vpc.alicloudapi.com")
                .is_none()
        );
        assert!(apigw_domain("example.com").is_none());
    }

    #[test]
    fn hint_context_reads_the_domain() {
        let ctx = HintContext::for_host(
            &format!("{GROUP}-cn-shanghai-vpc.alicloudapi.com"),
            Some("cn-beijing"),
        );
        assert!(ctx.vpc_domain && ctx.cross_region());
        let ctx = HintContext::for_host("api.example.com", Some("cn-beijing"));
        assert!(!ctx.vpc_domain && !ctx.cross_region());
    }
}
