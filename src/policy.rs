//! What the function may call: the allow-list for targets that come from requests, and the
//! addresses that are never dialled. This is what keeps the function from becoming an open proxy
//! into the VPC.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::ProbeError;
use crate::target::{Origin, Target};

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

/// What an address is, as far as the policy cares: the one answer that both the check and its
/// message use, so that a refusal always names the right reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressKind {
    /// 100.100.100.200: holds the instance's credentials.
    MetadataService,
    /// 169.254.0.0/16 and fe80::/10.
    LinkLocal,
    /// 0.0.0.0/8 and `::`: as a destination the kernel takes them for this host.
    Unspecified,
    /// Anything else.
    Other,
}

impl AddressKind {
    /// How the kind reads in a message.
    pub fn describe(self) -> &'static str {
        match self {
            Self::MetadataService => "the metadata service",
            Self::LinkLocal => "a link-local address",
            Self::Unspecified => "an unspecified address",
            Self::Other => "an ordinary address",
        }
    }

    /// True for kinds that are never dialled, whatever the target's origin.
    pub fn never_dialled(self) -> bool {
        matches!(
            self,
            Self::MetadataService | Self::LinkLocal | Self::Unspecified
        )
    }
}

/// How an IPv6 address carries an IPv4 address that a translator, a tunnel or the kernel itself
/// would end up dialling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Embedding {
    /// `::ffff:a.b.c.d`: the kernel dials the IPv4 address.
    Mapped,
    /// `::a.b.c.d` (deprecated, RFC 4291).
    Compatible,
    /// `64:ff9b::/96`, the NAT64 well-known prefix (RFC 6052).
    Nat64,
    /// `64:ff9b:1::/48`, the local-use NAT64 prefix (RFC 8215), at any RFC 6052 prefix length.
    Nat64Local,
    /// `2002::/16`: 6to4 (RFC 3056), the IPv4 address in bits 16 to 48.
    SixToFour,
}

impl Embedding {
    fn describe(self) -> &'static str {
        match self {
            Self::Mapped => "an IPv4-mapped IPv6 address",
            Self::Compatible => "an IPv4-compatible IPv6 address",
            Self::Nat64 => "a NAT64 IPv6 address (64:ff9b::/96)",
            Self::Nat64Local => "a local-use NAT64 IPv6 address (64:ff9b:1::/48)",
            Self::SixToFour => "a 6to4 IPv6 address (2002::/16)",
        }
    }
}

/// What [`classify`] says about an address: its kind, and the IPv4 address it embeds when the
/// kind comes from one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressClass {
    pub kind: AddressKind,
    pub embedded: Option<(Ipv4Addr, Embedding)>,
}

impl AddressClass {
    /// E.g. "the metadata service (100.100.100.200, embedded in an IPv4-mapped IPv6 address)".
    pub fn describe(&self) -> String {
        match self.embedded {
            None => self.kind.describe().to_owned(),
            Some((v4, how)) => format!(
                "{} ({v4}, embedded in {})",
                self.kind.describe(),
                how.describe()
            ),
        }
    }
}

/// Says what `ip` is. An IPv6 address that embeds an IPv4 address (mapped, compatible, NAT64,
/// 6to4) is what the embedded address is, when that is more than [`AddressKind::Other`].
pub fn classify(ip: IpAddr) -> AddressClass {
    let plain = |kind| AddressClass {
        kind,
        embedded: None,
    };
    let v6 = match ip {
        IpAddr::V4(v4) => return plain(classify_v4(v4)),
        IpAddr::V6(v6) => v6,
    };
    if v6.is_unspecified() {
        return plain(AddressKind::Unspecified);
    }
    if (v6.segments()[0] & 0xffc0) == 0xfe80 {
        return plain(AddressKind::LinkLocal);
    }
    for (v4, how) in embedded_v4(v6) {
        let kind = classify_v4(v4);
        // Only the kernel turns an embedded 0.0.0.0/8 into this host (mapped form); for the
        // others it is just zeros, e.g. the /48 reading of a /96 local-use NAT64 address.
        let counts = match kind {
            AddressKind::Other => false,
            AddressKind::Unspecified => how == Embedding::Mapped,
            _ => true,
        };
        if counts {
            return AddressClass {
                kind,
                embedded: Some((v4, how)),
            };
        }
    }
    plain(AddressKind::Other)
}

fn classify_v4(v4: Ipv4Addr) -> AddressKind {
    if v4 == METADATA_SERVICE {
        AddressKind::MetadataService
    } else if v4.is_link_local() {
        AddressKind::LinkLocal
    } else if v4.octets()[0] == 0 {
        AddressKind::Unspecified
    } else {
        AddressKind::Other
    }
}

/// Every IPv4 address `v6` may carry, with how it carries it.
fn embedded_v4(v6: Ipv6Addr) -> Vec<(Ipv4Addr, Embedding)> {
    let s = v6.segments();
    let o = v6.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let mut found = Vec::new();
    if let Some(v4) = v6.to_ipv4_mapped() {
        found.push((v4, Embedding::Mapped));
    }
    // `::` and `::1` are the unspecified and loopback addresses, not IPv4-compatible ones.
    if s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1) {
        found.push((tail, Embedding::Compatible));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        found.push((tail, Embedding::Nat64));
    }
    if s[..3] == [0x64, 0xff9b, 1] {
        // RFC 6052 section 2.2: where the IPv4 address sits for each prefix length that fits in
        // this /48 (octet 8 is the reserved "u" octet). The operator picks the length, so every
        // position is checked.
        for v4 in [
            [o[6], o[7], o[9], o[10]],    // /48
            [o[7], o[9], o[10], o[11]],   // /56
            [o[9], o[10], o[11], o[12]],  // /64
            [o[12], o[13], o[14], o[15]], // /96
        ] {
            found.push((Ipv4Addr::from(v4), Embedding::Nat64Local));
        }
    }
    if s[0] == 0x2002 {
        found.push((Ipv4Addr::new(o[2], o[3], o[4], o[5]), Embedding::SixToFour));
    }
    found
}

/// True for addresses that are never dialled, whatever the configuration says.
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    classify(ip).kind.never_dialled()
}

/// Checks a target before any packet is sent: the allow-list for request targets, and a literal
/// address that is forbidden for everyone.
pub fn check_target(target: &Target, allow: &AllowList) -> Result<(), ProbeError> {
    if target.origin == Origin::Request {
        if !allow.allows(&target.host) {
            return Err(ProbeError::forbidden(format!(
                "host {} is not allowed for targets from an event or HTTP request (APIGW_ALLOW_HOSTS={})",
                target.host,
                allow.describe()
            )));
        }
        for (name, value) in &target.headers {
            if name == hyper::header::HOST {
                let host = value.to_str().unwrap_or_default();
                let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
                if !allow.allows(host) {
                    return Err(ProbeError::forbidden(format!(
                        "Host header {host} is not allowed (APIGW_ALLOW_HOSTS={})",
                        allow.describe()
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

/// Checks a resolved (or given) address just before it would be dialled.
pub fn check_address(host: &str, ip: IpAddr) -> Result<(), ProbeError> {
    let class = classify(ip);
    if class.kind.never_dialled() {
        let what = class.describe();
        return Err(ProbeError::forbidden(if is_literal(host, ip) {
            format!("{ip} is {what}: never probed")
        } else {
            format!("{host} resolves to {ip}, {what}: never probed")
        }));
    }
    Ok(())
}

/// True when `host` is `ip` written out (an IP-literal URL), so that a message does not say
/// "1.2.3.4 resolves to 1.2.3.4".
fn is_literal(host: &str, ip: IpAddr) -> bool {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|h| h == ip)
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
    fn metadata_and_link_local_are_forbidden() {
        for a in [
            "100.100.100.200",
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "::ffff:100.100.100.200",
            "0.0.0.0",
            "::",
        ] {
            assert!(is_forbidden_address(a.parse().unwrap()), "{a}");
        }
        for a in [
            "100.100.2.136",
            "10.0.0.1",
            "127.0.0.1",
            "100.104.254.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "2001:db8::1",
        ] {
            assert!(!is_forbidden_address(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn ipv6_forms_that_embed_a_forbidden_ipv4_address_are_forbidden() {
        use AddressKind::*;
        use Embedding::*;
        let meta = METADATA_SERVICE;
        let ll = Ipv4Addr::new(169, 254, 169, 254);
        for (a, kind, v4, how) in [
            ("::ffff:100.100.100.200", MetadataService, meta, Mapped),
            ("::100.100.100.200", MetadataService, meta, Compatible),
            ("64:ff9b::100.100.100.200", MetadataService, meta, Nat64),
            ("64:ff9b::a9fe:a9fe", LinkLocal, ll, Nat64),
            ("2002:6464:64c8::1", MetadataService, meta, SixToFour),
            ("2002:a9fe:a9fe:1:2:3:4:5", LinkLocal, ll, SixToFour),
            // 64:ff9b:1::/48 with a /96 prefix, and with a /48 one (octet 8 is "u").
            ("64:ff9b:1::6464:64c8", MetadataService, meta, Nat64Local),
            (
                "64:ff9b:1:6464:64:c800::",
                MetadataService,
                meta,
                Nat64Local,
            ),
            ("::ffff:0.0.0.0", Unspecified, Ipv4Addr::UNSPECIFIED, Mapped),
        ] {
            let ip: IpAddr = a.parse().unwrap();
            assert_eq!(
                classify(ip),
                AddressClass {
                    kind,
                    embedded: Some((v4, how))
                },
                "{a}"
            );
            let e = check_address("h.alicloudapi.com", ip).unwrap_err();
            assert_eq!(e.class, crate::error::ErrorClass::TargetForbidden, "{a}");
        }
    }

    #[test]
    fn each_refusal_names_what_the_address_is() {
        let said = |host: &str, ip: &str| {
            check_address(host, ip.parse().unwrap())
                .unwrap_err()
                .message
        };
        assert_eq!(
            said("::ffff:100.100.100.200", "::ffff:100.100.100.200"),
            "::ffff:100.100.100.200 is the metadata service (100.100.100.200, embedded in an IPv4-mapped IPv6 address): never probed"
        );
        assert_eq!(
            said("m.alicloudapi.com", "100.100.100.200"),
            "m.alicloudapi.com resolves to 100.100.100.200, the metadata service: never probed"
        );
        assert!(said("0.0.0.0", "0.0.0.0").contains("unspecified"));
        assert!(said("::", "::").contains("unspecified"));
        assert!(said("x", "169.254.0.1").contains("link-local"));
        assert!(said("x", "fe80::1").contains("link-local"));
        let nat64 = said("x", "64:ff9b::a9fe:a9fe");
        assert!(
            nat64.contains("a link-local address (169.254.169.254, embedded in a NAT64"),
            "{nat64}"
        );
        let six = said("x", "2002:6464:64c8::");
        assert!(
            six.contains("the metadata service (100.100.100.200, embedded in a 6to4"),
            "{six}"
        );
    }
}
