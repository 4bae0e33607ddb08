//! Resolving the target's host the way the function's VPC sees it: the system configuration
//! (`/etc/resolv.conf`, which FC points at 100.100.2.136/138) unless `APIGW_DNS_SERVERS` names
//! other servers.
//!
//! A small stub resolver doing what the probe used of hickory-resolver (about 300 KB of the
//! binary with its cache): `/etc/hosts` first, then A and, when A gives no address, AAAA, asked
//! of every server at once over UDP (TCP when the answer is truncated), the first NOERROR or
//! NXDOMAIN taken. Nothing is cached.

mod conf;
mod wire;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::error::{ErrorClass, HintContext, ProbeError};

use conf::Hosts;
use wire::{Question, Rcode, Reject, Response, TYPE_A, TYPE_AAAA};

/// A resolver and the servers it asks.
pub(crate) struct Resolver {
    servers: Vec<SocketAddr>,
    /// `servers` as `ip:port`, for the report.
    names: Vec<String>,
    /// `names` joined, for the messages (built once, not per lookup).
    listed: String,
    hosts: Hosts,
    timeout: Duration,
}

/// The addresses of a host (the caller times the phase).
#[derive(Clone, Debug)]
pub(crate) struct Resolution {
    pub addresses: Vec<IpAddr>,
}

/// Why one question got no usable answer.
#[derive(Debug)]
enum Failure {
    /// The name cannot be asked (an empty or overlong label).
    BadName(String),
    /// No answer in time.
    Timeout,
    /// A server could not be reached (its address and the error).
    Io(String),
    /// A server's answer over TCP could not be read.
    Malformed(String),
    /// A server answered with this code (not NOERROR).
    Rcode(Rcode),
}

impl Failure {
    /// How much the failure tells: with several servers the most telling one is reported (an
    /// answer's code over an unreadable answer over an unreachable server over silence).
    fn weight(&self) -> u8 {
        match self {
            Self::Timeout => 0,
            Self::Io(_) => 1,
            Self::BadName(_) | Self::Malformed(_) => 2,
            Self::Rcode(_) => 3,
        }
    }
}

/// The servers of the system's `/etc/resolv.conf`, given what reading it gave: none or an
/// unreadable file is a configuration error naming the setting that replaces it.
fn system_servers(read: std::io::Result<String>) -> Result<Vec<SocketAddr>, ProbeError> {
    let found = read
        .map(|text| conf::nameservers(&text))
        .map_err(|e| e.to_string())
        .and_then(|found| {
            if found.is_empty() {
                Err("no nameserver line".to_owned())
            } else {
                Ok(found)
            }
        });
    found.map_err(|e| {
        ProbeError::config(format!(
            "cannot read the system DNS configuration (/etc/resolv.conf): {e}; set APIGW_DNS_SERVERS"
        ))
    })
}

impl Resolver {
    /// Builds a resolver for `servers`, or from `/etc/resolv.conf` when `servers` is empty;
    /// reads `/etc/hosts`.
    ///
    /// Answers are never cached: every sample asks the server, so the `dns` phase measures the
    /// VPC's DNS each time, as a fresh process (the seed's curl) would.
    pub(crate) fn new(servers: &[SocketAddr], timeout: Duration) -> Result<Self, ProbeError> {
        let servers = if servers.is_empty() {
            system_servers(std::fs::read_to_string("/etc/resolv.conf"))?
        } else {
            servers.to_vec()
        };
        let hosts = std::fs::read_to_string("/etc/hosts")
            .map(|text| Hosts::parse(&text))
            .unwrap_or_default();
        let names: Vec<String> = servers.iter().map(SocketAddr::to_string).collect();
        Ok(Self {
            listed: names.join(", "),
            names,
            servers,
            hosts,
            timeout,
        })
    }

    /// The servers asked, as `ip:port`.
    pub(crate) fn servers(&self) -> &[String] {
        &self.names
    }

    /// Resolves `host` to its addresses. The caller bounds the time with its own deadline.
    pub(crate) async fn resolve(
        &self,
        host: &str,
        ctx: &HintContext,
    ) -> Result<Resolution, ProbeError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(Resolution {
                addresses: vec![ip],
            });
        }
        // The name is absolute: search domains from resolv.conf must not turn the VPC domain
        // into something else. A first; AAAA when A gives no address, whatever the reason.
        let outcome = match self.lookup(host, TYPE_A).await {
            Ok(addresses) if !addresses.is_empty() => Ok(addresses),
            _ => self.lookup(host, TYPE_AAAA).await,
        };
        match classify(host, &self.listed, outcome) {
            Ok(addresses) => Ok(Resolution { addresses }),
            Err((class, message)) => Err(ProbeError::new(class, message, ctx)),
        }
    }

    /// The addresses of one type: from `/etc/hosts`, the special-use names (RFC 6761), or the
    /// servers. `Ok` is NOERROR (possibly without addresses).
    async fn lookup(&self, host: &str, qtype: u16) -> Result<Vec<IpAddr>, Failure> {
        let v4 = qtype == TYPE_A;
        let listed = self.hosts.lookup(host, v4);
        if !listed.is_empty() {
            return Ok(listed);
        }
        match special_use(host) {
            Some(Special::Loopback) => {
                return Ok(vec![if v4 {
                    IpAddr::V4(Ipv4Addr::LOCALHOST)
                } else {
                    IpAddr::V6(Ipv6Addr::LOCALHOST)
                }])
            }
            Some(Special::NxDomain) => return Err(Failure::Rcode(Rcode::NxDomain)),
            None => {}
        }
        let question = Question::new(host, qtype).map_err(|e| Failure::BadName(e.to_owned()))?;
        let mut asks: FuturesUnordered<_> = self
            .servers
            .iter()
            .map(|&server| self.exchange(server, &question))
            .collect();
        let mut worst: Option<Failure> = None;
        while let Some(result) = asks.next().await {
            let failure = match result {
                Ok(r) if r.rcode == Rcode::NoError => return Ok(r.addresses),
                Ok(r) => Failure::Rcode(r.rcode),
                Err(f) => f,
            };
            if matches!(failure, Failure::Rcode(Rcode::NxDomain)) {
                return Err(failure);
            }
            if worst.as_ref().is_none_or(|w| failure.weight() > w.weight()) {
                worst = Some(failure);
            }
        }
        Err(worst.unwrap_or(Failure::Timeout))
    }

    /// One question to one server within the timeout: UDP, and TCP if the answer is truncated.
    async fn exchange(&self, server: SocketAddr, question: &Question) -> Result<Response, Failure> {
        let io = |e: io::Error| Failure::Io(format!("{server}: {e}"));
        let exchange = async {
            let id = random_id();
            let query = question.query(id);
            let response = udp(server, &query, id, question).await.map_err(io)?;
            if !response.truncated {
                return Ok(response);
            }
            let answer = tcp(server, &query).await.map_err(io)?;
            wire::parse_response(&answer, id, question).map_err(|reject| {
                Failure::Malformed(match reject {
                    Reject::NotOurs => format!("{server} answered another question over TCP"),
                    Reject::Malformed => format!("{server} sent a malformed answer over TCP"),
                })
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(Failure::Timeout))
    }
}

/// The addresses, or the class and message (naming the host and the servers) of the outcome of
/// the last question asked.
fn classify(
    host: &str,
    servers: &str,
    outcome: Result<Vec<IpAddr>, Failure>,
) -> Result<Vec<IpAddr>, (ErrorClass, String)> {
    Err(match outcome {
        Ok(addresses) if !addresses.is_empty() => return Ok(addresses),
        Ok(_) => (
            ErrorClass::DnsNoRecords,
            format!("{host} exists but has no address record ({servers})"),
        ),
        Err(Failure::Rcode(Rcode::NxDomain)) => (
            ErrorClass::DnsNxdomain,
            format!("{host} does not exist (NXDOMAIN from {servers})"),
        ),
        Err(Failure::Rcode(code)) => (
            if code == Rcode::Refused {
                ErrorClass::DnsRefused
            } else {
                ErrorClass::DnsServfail
            },
            format!("{servers} answered {} for {host}", code.name()),
        ),
        Err(Failure::Timeout) => (
            ErrorClass::DnsTimeout,
            format!("no answer for {host} from {servers} in time"),
        ),
        Err(Failure::Io(e)) => (
            ErrorClass::DnsTimeout,
            format!("the DNS servers ({servers}) could not be reached for {host}: {e}"),
        ),
        Err(Failure::BadName(e) | Failure::Malformed(e)) => (
            ErrorClass::DnsServfail,
            format!("resolving {host} via {servers} failed: {e}"),
        ),
    })
}

/// Sends `query` from a fresh socket connected to `server` (only its datagrams arrive) and waits
/// for the response to it: datagrams with another ID or question, or unreadable, are ignored.
async fn udp(
    server: SocketAddr,
    query: &[u8],
    id: u16,
    question: &Question,
) -> io::Result<Response> {
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    socket.send(query).await?;
    // 512 octets is the most a server sends without EDNS; more room costs nothing.
    let mut buf = vec![0u8; 4096];
    loop {
        let n = socket.recv(&mut buf).await?;
        if let Ok(response) = wire::parse_response(buf.get(..n).unwrap_or_default(), id, question) {
            return Ok(response);
        }
    }
}

/// Sends `query` over TCP (each message prefixed by its length) and reads one message back.
async fn tcp(server: SocketAddr, query: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(server).await?;
    let len = u16::try_from(query.len()).map_err(io::Error::other)?;
    let mut out = Vec::with_capacity(2 + query.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(query);
    stream.write_all(&out).await?;
    let len = stream.read_u16().await?;
    let mut answer = vec![0u8; usize::from(len)];
    stream.read_exact(&mut answer).await?;
    Ok(answer)
}

/// A random query ID: a spoofed answer must guess it (with the source port).
fn random_id() -> u16 {
    let rng = ring::rand::SystemRandom::new();
    match ring::rand::generate::<[u8; 2]>(&rng) {
        Ok(bytes) => u16::from_be_bytes(bytes.expose()),
        // The system's generator does not fail on Linux; the clock's nanoseconds otherwise.
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u16),
    }
}

/// How the special-use names of RFC 6761 are answered without asking a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Special {
    /// `localhost` and its subdomains: the loopback address.
    Loopback,
    /// `invalid` and `onion` (RFC 7686) and their subdomains: NXDOMAIN.
    NxDomain,
}

fn special_use(host: &str) -> Option<Special> {
    let host = host.strip_suffix('.').unwrap_or(host).as_bytes();
    let in_zone = |zone: &str| {
        let zone = zone.as_bytes();
        host.eq_ignore_ascii_case(zone)
            || host.len() > zone.len()
                && host[host.len() - zone.len() - 1] == b'.'
                && host[host.len() - zone.len()..].eq_ignore_ascii_case(zone)
    };
    if in_zone("localhost") {
        Some(Special::Loopback)
    } else if in_zone("invalid") || in_zone("onion") {
        Some(Special::NxDomain)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::net::TcpListener;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The query's type (the question's last 4 octets are type and class).
    fn qtype(query: &[u8]) -> u16 {
        let at = query.len() - 4;
        u16::from_be_bytes([query[at], query[at + 1]])
    }

    /// A response to `query`: `rcode`, TC if `truncated`, and a record of the query's type for
    /// each of `addresses` that fits it, owned by the question's name.
    fn reply(query: &[u8], rcode: u16, truncated: bool, addresses: &[IpAddr]) -> Vec<u8> {
        let mut out = query.to_vec();
        let flags = 0x8180 | rcode | if truncated { 0x0200 } else { 0 };
        out[2..4].copy_from_slice(&flags.to_be_bytes());
        let mut count = 0u16;
        for a in addresses {
            let (rtype, rdata) = match a {
                IpAddr::V4(v4) => (TYPE_A, v4.octets().to_vec()),
                IpAddr::V6(v6) => (TYPE_AAAA, v6.octets().to_vec()),
            };
            if rtype != qtype(query) {
                continue;
            }
            out.extend_from_slice(&[0xc0, 12]);
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(&rdata);
            count += 1;
        }
        out[6..8].copy_from_slice(&count.to_be_bytes());
        out
    }

    /// A UDP server answering each query with the datagrams `script` makes of it.
    async fn udp_server(
        script: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static,
    ) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
                for datagram in script(&buf[..n]) {
                    let _ = socket.send_to(&datagram, peer).await;
                }
            }
        });
        (addr, task)
    }

    fn resolver(servers: &[SocketAddr], timeout_ms: u64) -> Resolver {
        let mut r = Resolver::new(servers, Duration::from_millis(timeout_ms)).unwrap();
        r.hosts = Hosts::default();
        r
    }

    async fn resolve(r: &Resolver, host: &str) -> Result<Vec<IpAddr>, (String, String)> {
        let ctx = HintContext::for_host(host, None);
        r.resolve(host, &ctx)
            .await
            .map(|res| res.addresses)
            .map_err(|e| (e.class.name().into_owned(), e.message))
    }

    #[tokio::test]
    async fn ignores_forged_answers_and_asks_aaaa_when_a_has_none() {
        let (addr, _task) = udp_server(|query| {
            let mut forged_id = reply(query, 0, false, &[ip("6.6.6.6"), ip("::6")]);
            forged_id[0] ^= 0xff;
            let mut other_name = reply(query, 0, false, &[ip("6.6.6.7"), ip("::7")]);
            other_name[13] ^= 0x20 | 0x01;
            let genuine = reply(query, 0, false, &[ip("fd00::5"), ip("fd00::6")]);
            vec![forged_id, other_name, b"junk".to_vec(), genuine]
        })
        .await;
        let r = resolver(&[addr], 2000);
        assert_eq!(r.servers(), [addr.to_string()]);
        // A: NOERROR without an A record; AAAA: both, in order.
        assert_eq!(
            resolve(&r, "api.example").await.unwrap(),
            [ip("fd00::5"), ip("fd00::6")]
        );
    }

    #[tokio::test]
    async fn a_truncated_answer_is_asked_again_over_tcp() {
        // UDP and TCP on the same port.
        let (udp_addr, _udp) =
            udp_server(|query| vec![reply(query, 0, true, &[ip("10.0.0.1")])]).await;
        let Ok(listener) = TcpListener::bind(udp_addr).await else {
            return; // the port is taken for TCP: nothing to test on this run
        };
        let tcp_queries = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = tcp_queries.clone();
        let _tcp = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let len = stream.read_u16().await.unwrap();
                let mut query = vec![0u8; usize::from(len)];
                stream.read_exact(&mut query).await.unwrap();
                let answer = reply(&query, 0, false, &[ip("10.0.0.1"), ip("10.0.0.2")]);
                stream.write_u16(answer.len() as u16).await.unwrap();
                stream.write_all(&answer).await.unwrap();
            }
        });
        let r = resolver(&[udp_addr], 2000);
        assert_eq!(
            resolve(&r, "api.example").await.unwrap(),
            [ip("10.0.0.1"), ip("10.0.0.2")]
        );
        assert_eq!(tcp_queries.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_first_answer_wins_and_else_the_most_telling_failure() {
        let (refusing, _a) = udp_server(|query| vec![reply(query, 5, false, &[])]).await;
        let (answering, _b) =
            udp_server(|query| vec![reply(query, 0, false, &[ip("10.1.1.1")])]).await;
        let (silent, _c) = udp_server(|_| Vec::new()).await;
        let (nx, _d) = udp_server(|query| vec![reply(query, 3, false, &[])]).await;

        let r = resolver(&[refusing, answering], 2000);
        assert_eq!(resolve(&r, "api.example").await.unwrap(), [ip("10.1.1.1")]);

        let r = resolver(&[silent, refusing], 300);
        let (class, message) = resolve(&r, "api.example").await.unwrap_err();
        assert_eq!(class, "dns.refused");
        assert_eq!(
            message,
            format!("{silent}, {refusing} answered Query Refused for api.example")
        );

        // NXDOMAIN is an answer: taken without waiting for the silent server.
        let r = resolver(&[silent, nx], 5000);
        let started = std::time::Instant::now();
        let (class, message) = resolve(&r, "gone.example").await.unwrap_err();
        assert_eq!(class, "dns.nxdomain");
        assert!(message.contains("gone.example does not exist"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(4));

        let r = resolver(&[silent], 200);
        let (class, message) = resolve(&r, "api.example").await.unwrap_err();
        assert_eq!(class, "dns.timeout");
        assert_eq!(
            message,
            format!("no answer for api.example from {silent} in time")
        );
    }

    #[tokio::test]
    async fn hosts_and_special_names_are_answered_without_a_query() {
        let (silent, _task) = udp_server(|_| Vec::new()).await;
        let mut r = resolver(&[silent], 100);
        r.hosts = Hosts::parse("10.9.8.7 api.example\nfd00::9 v6only.example\n");
        assert_eq!(resolve(&r, "API.example.").await.unwrap(), [ip("10.9.8.7")]);
        // A is not listed: asked (and silent), then AAAA from the file.
        assert_eq!(
            resolve(&r, "v6only.example").await.unwrap(),
            [ip("fd00::9")]
        );
        assert_eq!(resolve(&r, "localhost").await.unwrap(), [ip("127.0.0.1")]);
        assert_eq!(
            resolve(&r, "a.b.localhost.").await.unwrap(),
            [ip("127.0.0.1")]
        );
        assert_eq!(resolve(&r, "10.0.0.1").await.unwrap(), [ip("10.0.0.1")]);
        assert_eq!(
            resolve(&r, "x.invalid").await.unwrap_err().0,
            "dns.nxdomain"
        );
        assert_eq!(
            resolve(&r, "notlocalhost").await.unwrap_err().0,
            "dns.timeout"
        );
    }

    #[test]
    fn special_use_names() {
        assert_eq!(special_use("LocalHost."), Some(Special::Loopback));
        assert_eq!(special_use("api.localhost"), Some(Special::Loopback));
        assert_eq!(special_use("localhost.example"), None);
        assert_eq!(special_use("xlocalhost"), None);
        assert_eq!(special_use("a.onion"), Some(Special::NxDomain));
        assert_eq!(special_use("invalid"), Some(Special::NxDomain));
        assert_eq!(special_use("é.invalid"), Some(Special::NxDomain));
        assert_eq!(special_use("api.example"), None);
    }

    #[test]
    fn each_outcome_has_its_class_and_message() {
        let classify = |outcome| classify("api.example", "10.0.0.2:53, 10.0.0.3:53", outcome);
        assert_eq!(classify(Ok(vec![ip("10.0.0.1")])), Ok(vec![ip("10.0.0.1")]));
        let err = |outcome| classify(outcome).unwrap_err();
        assert_eq!(
            err(Ok(Vec::new())),
            (
                ErrorClass::DnsNoRecords,
                "api.example exists but has no address record (10.0.0.2:53, 10.0.0.3:53)"
                    .to_owned()
            )
        );
        assert_eq!(
            err(Err(Failure::Rcode(Rcode::NxDomain))),
            (
                ErrorClass::DnsNxdomain,
                "api.example does not exist (NXDOMAIN from 10.0.0.2:53, 10.0.0.3:53)".to_owned()
            )
        );
        assert_eq!(
            err(Err(Failure::Rcode(Rcode::Refused))).0,
            ErrorClass::DnsRefused
        );
        assert_eq!(
            err(Err(Failure::Rcode(Rcode::ServFail))),
            (
                ErrorClass::DnsServfail,
                "10.0.0.2:53, 10.0.0.3:53 answered Server Failure for api.example".to_owned()
            )
        );
        for code in [Rcode::FormErr, Rcode::NotImp, Rcode::Other(9)] {
            assert_eq!(err(Err(Failure::Rcode(code))).0, ErrorClass::DnsServfail);
        }
        assert_eq!(err(Err(Failure::Timeout)).0, ErrorClass::DnsTimeout);
        let (class, message) = err(Err(Failure::Io("10.0.0.2:53: refused".to_owned())));
        assert_eq!(class, ErrorClass::DnsTimeout);
        assert!(message.contains("could not be reached for api.example: 10.0.0.2:53: refused"));
        assert_eq!(
            err(Err(Failure::BadName("empty label in the name".to_owned()))).0,
            ErrorClass::DnsServfail
        );
    }

    #[test]
    fn the_system_configuration_is_required_without_servers() {
        let read = |text: &str| Ok(text.to_owned());
        assert_eq!(
            system_servers(read("search vpc\nnameserver 100.100.2.136\n")).unwrap(),
            ["100.100.2.136:53".parse::<SocketAddr>().unwrap()]
        );
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        for (what, outcome) in [
            ("no nameserver line", system_servers(read("search vpc\n"))),
            ("entity not found", system_servers(Err(missing))),
        ] {
            let e = outcome.unwrap_err();
            assert_eq!(e.class, ErrorClass::ConfigInvalid, "{e:?}");
            assert!(e.message.contains(what), "{}", e.message);
            assert!(e.message.contains("set APIGW_DNS_SERVERS"), "{}", e.message);
        }
    }
}
