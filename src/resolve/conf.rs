//! The system's resolver configuration: the `nameserver` lines of `/etc/resolv.conf` and the
//! names of `/etc/hosts`.

use std::net::{IpAddr, SocketAddr};

/// The servers of the `nameserver` lines (port 53), in order. An IPv6 zone (`%eth0`) is
/// dropped; lines that do not parse are skipped.
pub(super) fn nameservers(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let line = line.split(['#', ';']).next().unwrap_or_default();
            let mut words = line.split_whitespace();
            if words.next() != Some("nameserver") {
                return None;
            }
            let addr = words.next()?;
            let addr = addr.split('%').next().unwrap_or(addr);
            addr.parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .collect()
}

/// The static names of a hosts file: `address name...` lines, `#` comments.
#[derive(Clone, Debug, Default)]
pub(super) struct Hosts {
    /// Each name (lowercase, without a trailing dot) with one address, in the file's order.
    entries: Vec<(String, IpAddr)>,
}

impl Hosts {
    /// Reads a hosts file's text.
    pub(super) fn parse(text: &str) -> Self {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            let mut words = line.split_whitespace();
            let Some(Ok(ip)) = words.next().map(str::parse::<IpAddr>) else {
                continue;
            };
            for name in words {
                let name = name.strip_suffix('.').unwrap_or(name);
                entries.push((name.to_ascii_lowercase(), ip));
            }
        }
        Self { entries }
    }

    /// The addresses of `name` of one family (IPv4 when `v4`), in the file's order.
    pub(super) fn lookup(&self, name: &str, v4: bool) -> Vec<IpAddr> {
        let name = name.strip_suffix('.').unwrap_or(name);
        self.entries
            .iter()
            .filter(|(n, ip)| ip.is_ipv4() == v4 && n.eq_ignore_ascii_case(name))
            .map(|(_, ip)| *ip)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_nameserver_lines() {
        let conf = "# written by FC\n\
            search cn-hangzhou.example\n\
            nameserver 100.100.2.136\n\
            ; a comment\n\
            nameserver  100.100.2.138 # the second\n\
            nameserver fe80::1%eth0\n\
            nameserver not-an-address\n\
            #nameserver 1.1.1.1\n\
            options timeout:2 attempts:3\n\
            nameserver ::1\n";
        let got: Vec<String> = nameservers(conf).iter().map(|s| s.to_string()).collect();
        assert_eq!(
            got,
            [
                "100.100.2.136:53",
                "100.100.2.138:53",
                "[fe80::1]:53",
                "[::1]:53"
            ]
        );
        assert!(nameservers("search example\noptions ndots:5\n").is_empty());
    }

    #[test]
    fn reads_the_hosts_file() {
        let hosts = Hosts::parse(
            "127.0.0.1 localhost\n\
             ::1 localhost ip6-localhost\n\
             # 10.9.9.9 commented.example\n\
             10.0.0.5 Api.Example. api-alias # the gateway\n\
             10.0.0.6\tapi.example\n\
             not-an-ip broken.example\n",
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(hosts.lookup("localhost", true), [ip("127.0.0.1")]);
        assert_eq!(hosts.lookup("localhost.", false), [ip("::1")]);
        assert_eq!(
            hosts.lookup("API.example.", true),
            [ip("10.0.0.5"), ip("10.0.0.6")]
        );
        assert!(hosts.lookup("api.example", false).is_empty());
        assert_eq!(hosts.lookup("api-alias", true), [ip("10.0.0.5")]);
        assert!(hosts.lookup("commented.example", true).is_empty());
        assert!(hosts.lookup("broken.example", true).is_empty());
        assert!(hosts.lookup("ip6-localhost", true).is_empty());
    }
}
