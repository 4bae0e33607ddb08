//! Address scopes: where a resolved address would send the traffic.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The network an address belongs to, as seen from a function in a VPC.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// RFC 1918 (and IPv6 unique-local): inside the VPC.
    VpcPrivate,
    /// 100.64.0.0/10: Alibaba Cloud's service range (API Gateway, DNS, metadata).
    AlibabaService,
    /// 127.0.0.0/8 and ::1.
    Loopback,
    /// 169.254.0.0/16 and fe80::/10.
    LinkLocal,
    /// Anything else: traffic would leave the VPC.
    Public,
}

impl Scope {
    /// Classifies one address.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                if v4.is_loopback() {
                    Self::Loopback
                } else if v4.is_private() {
                    Self::VpcPrivate
                } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                    Self::AlibabaService
                } else if v4.is_link_local() {
                    Self::LinkLocal
                } else {
                    Self::Public
                }
            }
            IpAddr::V6(v6) => {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return Self::of(IpAddr::V4(v4));
                }
                let first = v6.segments()[0];
                if v6.is_loopback() {
                    Self::Loopback
                } else if first & 0xfe00 == 0xfc00 {
                    Self::VpcPrivate
                } else if first & 0xffc0 == 0xfe80 {
                    Self::LinkLocal
                } else {
                    Self::Public
                }
            }
        }
    }

    /// The scope of a set of addresses: the widest one, so that one public address is not hidden.
    pub fn of_all(addrs: &[IpAddr]) -> Option<Self> {
        addrs
            .iter()
            .map(|ip| Self::of(*ip))
            .max_by_key(|s| s.rank())
    }

    fn rank(self) -> u8 {
        match self {
            Self::Loopback => 0,
            Self::VpcPrivate => 1,
            Self::AlibabaService => 2,
            Self::LinkLocal => 3,
            Self::Public => 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: &str) -> Scope {
        Scope::of(a.parse().unwrap())
    }

    #[test]
    fn classifies_the_ranges() {
        assert_eq!(s("10.1.2.3"), Scope::VpcPrivate);
        assert_eq!(s("172.16.0.1"), Scope::VpcPrivate);
        assert_eq!(s("192.168.9.9"), Scope::VpcPrivate);
        assert_eq!(s("100.64.0.1"), Scope::AlibabaService);
        assert_eq!(s("100.127.255.255"), Scope::AlibabaService);
        assert_eq!(s("100.128.0.1"), Scope::Public);
        assert_eq!(s("100.100.2.136"), Scope::AlibabaService);
        assert_eq!(s("127.0.0.1"), Scope::Loopback);
        assert_eq!(s("169.254.1.1"), Scope::LinkLocal);
        assert_eq!(s("47.100.1.1"), Scope::Public);
        assert_eq!(s("fd00::1"), Scope::VpcPrivate);
        assert_eq!(s("::ffff:10.0.0.1"), Scope::VpcPrivate);
    }

    #[test]
    fn widest_scope_wins() {
        let addrs = ["10.0.0.1".parse().unwrap(), "47.100.1.1".parse().unwrap()];
        assert_eq!(Scope::of_all(&addrs), Some(Scope::Public));
        assert_eq!(Scope::of_all(&[]), None);
    }
}
