//! Resolving the target's host with hickory, the way the function's VPC sees it: the system
//! configuration (`/etc/resolv.conf`, which FC points at 100.100.2.136/138) unless
//! `APIGW_DNS_SERVERS` names other servers.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::TokioResolver;

use crate::error::{ErrorClass, HintContext, ProbeError};

/// A resolver and the servers it asks.
pub(crate) struct Resolver {
    inner: TokioResolver,
    servers: Vec<String>,
}

/// The addresses of a host (the caller times the phase).
#[derive(Clone, Debug)]
pub(crate) struct Resolution {
    pub addresses: Vec<IpAddr>,
}

impl Resolver {
    /// Builds a resolver for `servers`, or from `/etc/resolv.conf` when `servers` is empty.
    ///
    /// Answers are never cached: every sample asks the server, so the `dns` phase measures the
    /// VPC's DNS each time, as a fresh process (the seed's curl) would.
    pub(crate) fn new(servers: &[SocketAddr], timeout: Duration) -> Result<Self, ProbeError> {
        let (config, mut opts) = if servers.is_empty() {
            hickory_resolver::system_conf::read_system_conf().map_err(|e| {
                ProbeError::config(format!(
                    "cannot read the system DNS configuration (/etc/resolv.conf): {e}; set APIGW_DNS_SERVERS"
                ))
            })?
        } else {
            let name_servers = servers
                .iter()
                .map(|addr| {
                    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                    for c in &mut ns.connections {
                        c.port = addr.port();
                    }
                    ns
                })
                .collect();
            (
                ResolverConfig::from_name_servers(name_servers),
                ResolverOpts::default(),
            )
        };
        opts.cache_size = 0;
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.ip_strategy = LookupIpStrategy::Ipv4thenIpv6;
        let servers = config
            .name_servers()
            .iter()
            .map(|ns| {
                let port = ns.connections.first().map_or(53, |c| c.port);
                SocketAddr::new(ns.ip, port).to_string()
            })
            .collect();
        let inner = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(opts)
            .build()
            .map_err(|e| ProbeError::config(format!("cannot build the DNS resolver: {e}")))?;
        Ok(Self { inner, servers })
    }

    /// The servers asked, as `ip:port`.
    pub(crate) fn servers(&self) -> &[String] {
        &self.servers
    }

    /// Resolves `host` to its addresses. The caller bounds the time with its own deadline.
    pub(crate) async fn resolve(
        &self,
        host: &str,
        ctx: &HintContext,
    ) -> Result<Resolution, ProbeError> {
        // A trailing dot makes the name absolute: search domains from resolv.conf must not turn
        // the VPC domain into something else.
        let fqdn = if host.ends_with('.') {
            host.to_owned()
        } else {
            format!("{host}.")
        };
        match self.inner.lookup_ip(fqdn.as_str()).await {
            Ok(lookup) => {
                let addresses: Vec<IpAddr> = lookup.iter().collect();
                if addresses.is_empty() {
                    return Err(ProbeError::new(
                        ErrorClass::DnsNoRecords,
                        format!("{host} has no A or AAAA record"),
                        ctx,
                    ));
                }
                Ok(Resolution { addresses })
            }
            Err(e) => Err(classify(host, &self.servers, &e, ctx)),
        }
    }
}

/// Maps hickory's error to a class and a message naming the host and servers.
fn classify(host: &str, servers: &[String], e: &NetError, ctx: &HintContext) -> ProbeError {
    let servers = servers.join(", ");
    let (class, message) = match e {
        NetError::Dns(DnsError::NoRecordsFound(nr)) => match nr.response_code {
            ResponseCode::NXDomain => (
                ErrorClass::DnsNxdomain,
                format!("{host} does not exist (NXDOMAIN from {servers})"),
            ),
            ResponseCode::NoError => (
                ErrorClass::DnsNoRecords,
                format!("{host} exists but has no address record ({servers})"),
            ),
            code => response_code_class(host, &servers, code),
        },
        NetError::Dns(DnsError::ResponseCode(code)) => response_code_class(host, &servers, *code),
        NetError::Timeout => (
            ErrorClass::DnsTimeout,
            format!("no answer for {host} from {servers} in time"),
        ),
        NetError::NoConnections => (
            ErrorClass::DnsTimeout,
            format!("none of the DNS servers ({servers}) could be reached for {host}"),
        ),
        NetError::Io(io) => (
            ErrorClass::DnsTimeout,
            format!("the DNS servers ({servers}) could not be reached for {host}: {io}"),
        ),
        other => (
            ErrorClass::DnsServfail,
            format!("resolving {host} via {servers} failed: {other}"),
        ),
    };
    ProbeError::new(class, message, ctx)
}

fn response_code_class(host: &str, servers: &str, code: ResponseCode) -> (ErrorClass, String) {
    let class = match code {
        ResponseCode::Refused => ErrorClass::DnsRefused,
        ResponseCode::NXDomain => ErrorClass::DnsNxdomain,
        _ => ErrorClass::DnsServfail,
    };
    (class, format!("{servers} answered {code} for {host}"))
}
