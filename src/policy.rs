//! What the function may call: the allow-list for targets that come from requests, and the
//! addresses that are never dialled. This is what keeps the function from becoming an open proxy
//! into the VPC.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use crate::error::{ErrorClass, ProbeError};
use crate::target::{Origin, Target};

/// The methods targets from requests may always use; `APIGW_REQUEST_METHODS` adds more. A probe
/// needs nothing else, and a caller should not make the function send `DELETE` into the VPC.
pub const REQUEST_METHODS: [hyper::Method; 2] = [hyper::Method::GET, hyper::Method::HEAD];

/// The metadata service: holds the instance's credentials.
pub const METADATA_SERVICE: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 200);

/// Host patterns from `APIGW_ALLOW_HOSTS` (comma-separated). Default `*.alicloudapi.com`.
///
/// A pattern is an exact host name, `*.suffix` (any name below `suffix`, at any depth), or `*`
/// (any host). An entry that is an IP address (`127.0.0.1`, `::1`, `[::1]`) is also the only way
/// to let a target from a request reach a loopback address or one of the instance's own: see
/// [`check_address`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowList {
    patterns: Vec<String>,
    /// The entries that are IP addresses.
    addresses: Vec<IpAddr>,
}

impl Default for AllowList {
    fn default() -> Self {
        Self::parse("*.alicloudapi.com")
    }
}

impl AllowList {
    /// Parses a comma-separated list; empty entries are ignored, case does not matter.
    pub fn parse(list: &str) -> Self {
        let patterns: Vec<String> = list
            .split(',')
            .map(|p| p.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .collect();
        let addresses = patterns.iter().filter_map(|p| ip_literal(p)).collect();
        Self {
            patterns,
            addresses,
        }
    }

    /// True when `host` matches a pattern. An IP-literal host matches `*` or the same address.
    pub fn allows(&self, host: &str) -> bool {
        if let Some(ip) = ip_literal(host) {
            return self.patterns.iter().any(|p| p == "*") || self.names_address(ip);
        }
        // Compared without folding a copy: this runs for every request target, and again for
        // the signing hosts of every signed one. Patterns are lower case already.
        let host = host.trim_end_matches('.').as_bytes();
        self.patterns.iter().any(|p| match p.strip_prefix("*.") {
            _ if p == "*" => true,
            // At least one character and a dot before the suffix.
            Some(suffix) => {
                let head = host.len().saturating_sub(suffix.len());
                head >= 2
                    && host[head - 1] == b'.'
                    && host[head..].eq_ignore_ascii_case(suffix.as_bytes())
            }
            None => p.as_bytes().eq_ignore_ascii_case(host),
        })
    }

    /// True when an entry is exactly this address (a pattern such as `*` does not count).
    pub fn names_address(&self, ip: IpAddr) -> bool {
        self.addresses.contains(&ip)
    }

    /// The patterns, for messages.
    pub fn describe(&self) -> String {
        self.patterns.join(",")
    }
}

/// `host` as an IP address, with or without the brackets of a URL.
fn ip_literal(host: &str) -> Option<IpAddr> {
    let bare = match host.strip_prefix('[') {
        Some(rest) => rest.strip_suffix(']')?,
        None => host,
    };
    bare.parse().ok()
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
    /// 127.0.0.0/8 and `::1`.
    Loopback,
    /// An address of one of the instance's network interfaces.
    Own,
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
            Self::Loopback => "a loopback address",
            Self::Own => "an address of this instance",
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

    /// True for kinds that a target from a request may reach only when `APIGW_ALLOW_HOSTS`
    /// names the address itself: the function's own services and whatever listens on loopback.
    pub fn needs_literal_allow(self) -> bool {
        matches!(self, Self::Loopback | Self::Own)
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
    /// What the address is.
    pub kind: AddressKind,
    /// The IPv4 address it embeds and how, when the kind comes from that address.
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

/// Says what `ip` is; `own` lists the instance's own addresses (see [`own_addresses`]), or is
/// empty where they do not matter. An IPv6 address that embeds an IPv4 address (mapped,
/// compatible, NAT64, 6to4) is what the embedded address is, when that is more than
/// [`AddressKind::Other`].
pub fn classify(ip: IpAddr, own: &[IpAddr]) -> AddressClass {
    let plain = |kind| AddressClass {
        kind,
        embedded: None,
    };
    let v6 = match ip {
        IpAddr::V4(v4) => return plain(classify_v4(v4, own)),
        IpAddr::V6(v6) => v6,
    };
    if v6.is_unspecified() {
        return plain(AddressKind::Unspecified);
    }
    if (v6.segments()[0] & 0xffc0) == 0xfe80 {
        return plain(AddressKind::LinkLocal);
    }
    if v6.is_loopback() {
        return plain(AddressKind::Loopback);
    }
    let mut found: Option<AddressClass> = None;
    for (v4, how) in embedded_v4(v6) {
        let kind = classify_v4(v4, own);
        // Only the kernel turns an embedded 0.0.0.0/8 into this host (mapped form); for the
        // others it is just zeros, e.g. the /48 reading of a /96 local-use NAT64 address.
        let counts = match kind {
            AddressKind::Other => false,
            AddressKind::Unspecified => how == Embedding::Mapped,
            _ => true,
        };
        // The most serious reading wins: one that is never dialled over loopback or own.
        if counts && found.is_none_or(|f| kind.never_dialled() && !f.kind.never_dialled()) {
            found = Some(AddressClass {
                kind,
                embedded: Some((v4, how)),
            });
        }
    }
    match found {
        Some(class) if class.kind.never_dialled() => class,
        _ if own.contains(&ip) => plain(AddressKind::Own),
        Some(class) => class,
        None => plain(AddressKind::Other),
    }
}

fn classify_v4(v4: Ipv4Addr, own: &[IpAddr]) -> AddressKind {
    if v4 == METADATA_SERVICE {
        AddressKind::MetadataService
    } else if v4.is_link_local() {
        AddressKind::LinkLocal
    } else if v4.octets()[0] == 0 {
        AddressKind::Unspecified
    } else if v4.is_loopback() {
        AddressKind::Loopback
    } else if own.contains(&IpAddr::V4(v4)) {
        AddressKind::Own
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
        let bare = host.trim_end_matches('.');
        self.configured.iter().any(|c| c.eq_ignore_ascii_case(bare)) || self.patterns.allows(host)
    }
}

/// True for addresses that are never dialled, whatever the configuration says.
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    classify(ip, &[]).kind.never_dialled()
}

/// The addresses of the instance's network interfaces. Read on first use, not at start-up (an
/// invocation of configured targets never needs them), and kept: FC attaches the function's
/// VPC interface before the instance starts.
pub fn own_addresses() -> &'static [IpAddr] {
    static OWN: OnceLock<Vec<IpAddr>> = OnceLock::new();
    OWN.get_or_init(|| match interface_addresses() {
        Ok(list) => list,
        Err(e) => {
            // Loopback and unspecified addresses are still refused by their kind.
            tracing::warn!(error = %e, "cannot read the instance's interface addresses");
            Vec::new()
        }
    })
}

/// Every address of every interface, from getifaddrs(3).
fn interface_addresses() -> std::io::Result<Vec<IpAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut found = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a non-null node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*cur };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr points to a sockaddr whose family says which struct it is.
            let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
            if family == libc::AF_INET {
                // SAFETY: AF_INET: the sockaddr is a sockaddr_in.
                let sin = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in>() };
                found.push(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))));
            } else if family == libc::AF_INET6 {
                // SAFETY: AF_INET6: the sockaddr is a sockaddr_in6.
                let sin6 = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in6>() };
                found.push(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)));
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: `head` came from getifaddrs and is freed once; no reference into it outlives this.
    unsafe { libc::freeifaddrs(head) };
    Ok(found)
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
                // Checked by TargetSpec::build; read the same way here, never more loosely.
                let value = value.to_str().unwrap_or_default();
                let (host, _) = crate::target::parse_host_header(value).map_err(|problem| {
                    ProbeError::config(format!(
                        "Host header {value:?} is not a single host name: it {problem}"
                    ))
                })?;
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
        check_address(&target.host, ip, target.origin, allow)?;
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

/// Checks a resolved (or given) address just before it would be dialled. Some addresses are
/// never dialled; for a target from a request, loopback and the instance's own addresses are
/// dialled only when `allow` names the address itself.
pub fn check_address(
    host: &str,
    ip: IpAddr,
    origin: Origin,
    allow: &AllowList,
) -> Result<(), ProbeError> {
    let own = match origin {
        Origin::Request => own_addresses(),
        Origin::Config | Origin::Cli => &[],
    };
    let class = classify(ip, own);
    let what = class.describe();
    let is = if is_literal(host, ip) {
        format!("{ip} is {what}")
    } else {
        format!("{host} resolves to {ip}, {what}")
    };
    if class.kind.never_dialled() {
        return Err(ProbeError::forbidden(format!("{is}: never probed")));
    }
    if origin == Origin::Request && class.kind.needs_literal_allow() && !allow.names_address(ip) {
        return Err(ProbeError {
            class: ErrorClass::TargetForbidden,
            message: format!(
                "{is}: not probed for a target from an event or HTTP request unless APIGW_ALLOW_HOSTS names {ip} itself"
            ),
            hint: "Loopback and the instance's own addresses are refused for targets from an \
                event or an HTTP request: configure the target in APIGW_TARGETS, or add the \
                address itself (e.g. 127.0.0.1; a pattern such as * does not count) to \
                APIGW_ALLOW_HOSTS."
                .into(),
        });
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
        assert!(!a.allows(".alicloudapi.com"));
        assert!(a.allows("a.alicloudapi.com"));
        assert!(!a.allows("a.alicloudapi.co"));
        assert!(!a.allows("evilalicloudapi.com"));
        assert!(!a.allows("alicloudapi.com.evil.net"));
        assert!(!a.allows("10.0.0.1"));
    }

    #[test]
    fn exact_and_star_patterns() {
        let a = AllowList::parse(" api.internal , *.example.com,");
        assert!(a.allows("api.internal"));
        assert!(a.allows("API.Internal."));
        assert!(!a.allows("api.internal2"));
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
                method: Some(method.parse().unwrap()),
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
                classify(ip, &[]),
                AddressClass {
                    kind,
                    embedded: Some((v4, how))
                },
                "{a}"
            );
            let e = check_address(
                "h.alicloudapi.com",
                ip,
                Origin::Config,
                &AllowList::default(),
            )
            .unwrap_err();
            assert_eq!(e.class, crate::error::ErrorClass::TargetForbidden, "{a}");
        }
    }

    #[test]
    fn each_refusal_names_what_the_address_is() {
        let said = |host: &str, ip: &str| {
            check_address(
                host,
                ip.parse().unwrap(),
                Origin::Config,
                &AllowList::default(),
            )
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

    #[test]
    fn loopback_and_own_addresses_are_kinds_of_their_own() {
        use AddressKind::*;
        let own: Vec<IpAddr> = vec!["10.1.2.3".parse().unwrap(), "fd00::5".parse().unwrap()];
        for (a, kind, embedded) in [
            ("127.0.0.1", Loopback, None),
            ("127.9.9.9", Loopback, None),
            ("::1", Loopback, None),
            ("::ffff:127.0.0.1", Loopback, Some(Embedding::Mapped)),
            ("64:ff9b::7f00:1", Loopback, Some(Embedding::Nat64)),
            ("10.1.2.3", Own, None),
            ("fd00::5", Own, None),
            ("::ffff:10.1.2.3", Own, Some(Embedding::Mapped)),
            ("10.1.2.4", Other, None),
        ] {
            let c = classify(a.parse().unwrap(), &own);
            assert_eq!(c.kind, kind, "{a}");
            assert_eq!(c.embedded.map(|(_, how)| how), embedded, "{a}");
            assert!(!kind.never_dialled(), "{a}");
        }
        // Without the list, an own address is an ordinary one.
        assert_eq!(classify("10.1.2.3".parse().unwrap(), &[]).kind, Other);
        // The reading that is never dialled wins over a loopback one (local-use NAT64: the /48
        // reading is 127.0.0.1, the /96 one the metadata service).
        let c = classify("64:ff9b:1:7f00:0:100:6464:64c8".parse().unwrap(), &[]);
        assert_eq!(c.kind, MetadataService, "{c:?}");
    }

    #[test]
    fn request_targets_reach_loopback_only_when_the_allow_list_names_the_address() {
        let check = |ip: &str, origin, list: &str| {
            check_address(
                "h.alicloudapi.com",
                ip.parse().unwrap(),
                origin,
                &AllowList::parse(list),
            )
        };
        for list in [
            "*.alicloudapi.com",
            "*",
            "*.alicloudapi.com,127.0.0.2,localhost",
        ] {
            let e = check("127.0.0.1", Origin::Request, list).unwrap_err();
            assert_eq!(e.class, crate::error::ErrorClass::TargetForbidden, "{list}");
            assert!(e.message.contains("a loopback address"), "{e}");
            assert!(e.hint.contains("APIGW_ALLOW_HOSTS"), "{e:?}");
            assert!(!e.message.contains(list), "the list is not shown: {e}");
        }
        assert!(check("127.0.0.1", Origin::Request, "*.alicloudapi.com,127.0.0.1").is_ok());
        assert!(check("::1", Origin::Request, "*").is_err());
        assert!(check("::1", Origin::Request, "[::1]").is_ok());
        assert!(check("::1", Origin::Request, "::1").is_ok());
        assert!(check("::ffff:127.0.0.1", Origin::Request, "127.0.0.1").is_err());
        // The operator's own targets stay unrestricted; never-dialled addresses stay refused
        // even when named.
        assert!(check("127.0.0.1", Origin::Config, "").is_ok());
        assert!(check("::1", Origin::Cli, "").is_ok());
        assert!(check("100.100.100.200", Origin::Request, "100.100.100.200").is_err());
        assert!(check("0.0.0.0", Origin::Request, "0.0.0.0").is_err());
    }

    #[test]
    fn own_addresses_come_from_the_interfaces() {
        let own = interface_addresses().unwrap();
        assert!(
            own.iter().any(IpAddr::is_loopback),
            "loopback is an interface: {own:?}"
        );
        assert_eq!(own_addresses(), own.as_slice());
    }

    #[test]
    fn ip_entries_match_ip_hosts_exactly() {
        let a = AllowList::parse("*.alicloudapi.com, 127.0.0.1 ,[::1]");
        assert!(a.allows("127.0.0.1"));
        assert!(a.allows("::1"));
        assert!(a.allows("[::1]"));
        assert!(!a.allows("127.0.0.2"));
        assert!(a.names_address("::1".parse().unwrap()));
        assert!(!AllowList::default().allows("127.0.0.1"));
        assert!(AllowList::parse("*").allows("127.0.0.1"));
        assert!(!AllowList::parse("*").names_address("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn a_request_targets_host_header_must_itself_be_allowed() {
        let defaults = crate::target::TargetDefaults {
            region: None,
            timeout: std::time::Duration::from_secs(1),
            max_samples: 1,
            credentials: Default::default(),
            signing_hosts: Default::default(),
        };
        let with_host = |host: &str, origin| {
            crate::target::TargetSpec {
                headers: [("Host".to_owned(), host.to_owned())].into(),
                ..crate::target::TargetSpec::from_url("http://ok.alicloudapi.com/")
            }
            .build(&defaults, origin)
            .unwrap()
        };
        let allow = AllowList::default();
        for host in [
            "ok.alicloudapi.com:8080",
            "x.alicloudapi.com",
            "X.ALICLOUDAPI.COM.",
        ] {
            assert!(
                check_target(&with_host(host, Origin::Request), &allow).is_ok(),
                "{host}"
            );
        }
        for host in [
            "evil.com",
            "evil.com:443",
            "alicloudapi.com",
            "[::1]:80",
            "127.0.0.1",
        ] {
            let e = check_target(&with_host(host, Origin::Request), &allow).unwrap_err();
            assert_eq!(e.class, crate::error::ErrorClass::TargetForbidden, "{host}");
        }
        assert!(check_target(&with_host("evil.com", Origin::Config), &allow).is_ok());
    }
}
