//! A local stand-in of the seed's setup: the VPC's DNS, API Gateway's dedicated instance, and
//! the backend. Used by `apigw-vpc-probe demo`, by the integration tests, and (one part per
//! network namespace) by the lab, through `apigw-vpc-probe standin …`.

pub mod auth;
pub mod backend;
pub mod dns;
pub mod gateway;
mod http;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hyper::Method;

pub use auth::{App, Auth};
pub use backend::Backend;
pub use dns::{Behaviour, DnsServer, Zone};
pub use gateway::{Api, Gateway, GatewayConfig, Group, Protocols};

/// The demo's API group id.
pub const DEMO_GROUP: &str = "5f0a3c9d2b7e4a6f8c1d0e2b3a4c5d6e";
/// The demo's region.
pub const DEMO_REGION: &str = "cn-shanghai";
/// A group whose VPC second-level domain is not enabled: its name does not resolve.
pub const DISABLED_GROUP: &str = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
/// The demo app, authorized for the signed APIs. Its secret is a stand-in's, not a credential.
pub const DEMO_APP_KEY: &str = "204180520";
/// The demo app's AppSecret.
pub const DEMO_APP_SECRET: &str = "stand-in-app-secret-0f3b";
/// The demo app's AppCode.
pub const DEMO_APPCODE: &str = "3e5d0c8a9b7f4e21a6c4d2b0f8e6a4c2";
/// A second app, registered but not authorized for the demo's signed APIs.
pub const OTHER_APP_KEY: &str = "204180521";
/// Its AppSecret.
pub const OTHER_APP_SECRET: &str = "stand-in-other-secret-7a21";

/// The VPC second-level domain of `group` in `region`.
pub fn vpc_domain(group: &str, region: &str) -> String {
    format!("{group}-{region}-vpc.alicloudapi.com")
}

/// The whole stand-in on one address: DNS, gateway and backend on ephemeral ports.
pub struct StandIn {
    pub dns: DnsServer,
    pub gateway: Gateway,
    pub backend: Backend,
}

impl StandIn {
    /// Starts the demo's setup on `bind`:
    /// - DNS: the demo group's VPC domain → `bind`; the disabled group's → NXDOMAIN.
    /// - Gateway: the demo group with `GET /web/cloudapi` (RELEASE, TEST), `GET /web/preview`
    ///   (TEST only), `GET /web/broken` (a backend that is not there: D504CO), and on RELEASE
    ///   for GET and POST the backend's test routes `/delay/*`, `/status/*`, `/bytes/*`,
    ///   `/echo`, `/reset`.
    pub async fn start(bind: IpAddr) -> io::Result<Self> {
        let backend = Backend::start(SocketAddr::new(bind, 0)).await?;
        let b = backend.addr();
        let closed = closed_port(bind)?;
        let mut apis = vec![
            Api::new(Method::GET, "/web/cloudapi", &["RELEASE", "TEST"], b),
            Api {
                backend_path: "/web/cloudapi".into(),
                ..Api::new(Method::GET, "/web/preview", &["TEST"], b)
            },
            Api {
                backend_path: "/web/cloudapi".into(),
                ..Api::new(Method::GET, "/web/broken", &["RELEASE"], closed)
            },
        ];
        for method in [Method::GET, Method::POST] {
            for path in ["/delay/*", "/status/*", "/bytes/*", "/echo", "/reset"] {
                apis.push(Api::new(method.clone(), path, &["RELEASE"], b));
            }
            // App authentication: signature or AppCode of the demo app.
            apis.push(Api {
                auth: Auth::App {
                    authorized: vec![DEMO_APP_KEY.into()],
                    appcode: true,
                },
                backend_path: "/web/cloudapi".into(),
                ..Api::new(method.clone(), "/web/signed", &["RELEASE", "TEST"], b)
            });
        }
        apis.extend([
            // Authorized for another app only: A403PR for the demo app.
            Api {
                auth: Auth::App {
                    authorized: vec![OTHER_APP_KEY.into()],
                    appcode: false,
                },
                backend_path: "/web/cloudapi".into(),
                ..Api::new(Method::GET, "/web/other-app", &["RELEASE"], b)
            },
            // HTTPS only: I403PT over http.
            Api {
                protocols: Protocols {
                    http: false,
                    https: true,
                },
                backend_path: "/web/cloudapi".into(),
                ..Api::new(Method::GET, "/web/https-only", &["RELEASE"], b)
            },
            // One call per second: T429FC for the second.
            Api {
                max_per_second: Some(1),
                backend_path: "/web/cloudapi".into(),
                ..Api::new(Method::GET, "/web/throttled", &["RELEASE"], b)
            },
            // A backend slower than the API's backend timeout: D504TO.
            Api {
                backend_timeout: Some(Duration::from_millis(300)),
                backend_path: "/delay/2000".into(),
                ..Api::new(Method::GET, "/web/slow", &["RELEASE"], b)
            },
        ]);
        let domain = vpc_domain(DEMO_GROUP, DEMO_REGION);
        let config = GatewayConfig {
            groups: vec![Group {
                id: DEMO_GROUP.into(),
                domains: vec![domain.clone()],
                apis,
            }],
            apps: demo_apps(),
            ..GatewayConfig::default()
        };
        let gateway = Gateway::start(SocketAddr::new(bind, 0), config).await?;
        let zone = Zone::default();
        zone.set(&domain, Behaviour::Answer(vec![bind]));
        zone.set(
            &vpc_domain(DISABLED_GROUP, DEMO_REGION),
            Behaviour::NxDomain,
        );
        let dns = DnsServer::start(SocketAddr::new(bind, 0), zone).await?;
        Ok(Self {
            dns,
            gateway,
            backend,
        })
    }

    /// The demo group's VPC second-level domain.
    pub fn domain(&self) -> String {
        vpc_domain(DEMO_GROUP, DEMO_REGION)
    }

    /// `http://<domain>:<gateway port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!(
            "http://{}:{}{path}",
            self.domain(),
            self.gateway.addr().port()
        )
    }

    pub fn dns_addr(&self) -> SocketAddr {
        self.dns.addr()
    }

    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway.addr()
    }

    pub fn backend_addr(&self) -> SocketAddr {
        self.backend.addr()
    }
}

/// The apps registered on the demo's gateway.
pub fn demo_apps() -> Vec<App> {
    vec![
        App {
            key: DEMO_APP_KEY.into(),
            secret: DEMO_APP_SECRET.into(),
            appcode: Some(DEMO_APPCODE.into()),
        },
        App {
            key: OTHER_APP_KEY.into(),
            secret: OTHER_APP_SECRET.into(),
            appcode: None,
        },
    ]
}

/// An address on `bind` where nothing listens (bound, then released).
fn closed_port(bind: IpAddr) -> io::Result<SocketAddr> {
    std::net::TcpListener::bind(SocketAddr::new(bind, 0))?.local_addr()
}

/// Parts of the stand-in, one per process, for the network-namespace lab.
#[derive(Debug, clap::Subcommand)]
pub enum StandinCommand {
    /// DNS, gateway and backend together (the demo's setup); prints their addresses as JSON.
    All {
        /// Address to bind all three to.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
    },
    /// The DNS server.
    Dns {
        #[arg(long, default_value = "127.0.0.1:5353")]
        listen: SocketAddr,
        /// NAME=IP answer (repeatable).
        #[arg(long, value_name = "NAME=IP")]
        record: Vec<String>,
        /// A name answered NXDOMAIN (the default for unknown names too).
        #[arg(long)]
        nxdomain: Vec<String>,
        /// A name answered SERVFAIL.
        #[arg(long)]
        servfail: Vec<String>,
        /// A name never answered.
        #[arg(long)]
        drop: Vec<String>,
    },
    /// The API-Gateway-like server.
    Gateway {
        #[arg(long, default_value = "0.0.0.0:80")]
        listen: SocketAddr,
        /// The group id.
        #[arg(long, default_value = DEMO_GROUP)]
        group: String,
        /// The region (for the default domain).
        #[arg(long, default_value = DEMO_REGION)]
        region: String,
        /// A domain of the group (repeatable; default the group's VPC domain).
        #[arg(long)]
        domain: Vec<String>,
        /// METHOD:PATH:STAGE[,STAGE]=http://HOST:PORT/BACKEND_PATH (repeatable).
        #[arg(long, value_name = "API")]
        api: Vec<String>,
        /// An API like --api that requires app authentication by the --app apps (repeatable).
        #[arg(long, value_name = "API")]
        signed_api: Vec<String>,
        /// An app registered on the gateway: KEY=SECRET (repeatable). Stand-in credentials only.
        #[arg(long, value_name = "KEY=SECRET")]
        app: Vec<String>,
        /// How long the backend may take, in milliseconds.
        #[arg(long, default_value_t = 10_000)]
        backend_timeout_ms: u64,
        /// How long connecting to the backend may take (then D504CO), in milliseconds.
        #[arg(long, default_value_t = 3_000)]
        backend_connect_timeout_ms: u64,
    },
    /// The backend.
    Backend {
        #[arg(long, default_value = "0.0.0.0:8080")]
        listen: SocketAddr,
    },
}

/// Runs one `standin` command until Ctrl-C or SIGTERM.
pub async fn run(cmd: StandinCommand) -> Result<(), String> {
    let started = |what: &str, addr: SocketAddr| {
        println!(
            "{}",
            serde_json::json!({"standin": what, "listen": addr.to_string()})
        );
    };
    match cmd {
        StandinCommand::All { bind } => {
            let s = StandIn::start(bind).await.map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::json!({
                    "dns": s.dns_addr().to_string(),
                    "gateway": s.gateway_addr().to_string(),
                    "backend": s.backend_addr().to_string(),
                    "domain": s.domain(),
                    "url": s.url("/web/cloudapi"),
                })
            );
            wait_for_signal().await;
        }
        StandinCommand::Dns {
            listen,
            record,
            nxdomain,
            servfail,
            drop,
        } => {
            let zone = Zone::default();
            for r in &record {
                let (name, ip) = r
                    .split_once('=')
                    .and_then(|(n, ip)| Some((n, ip.parse::<IpAddr>().ok()?)))
                    .ok_or_else(|| format!("--record {r:?} is not NAME=IP"))?;
                zone.set(name, Behaviour::Answer(vec![ip]));
            }
            for (names, b) in [
                (&nxdomain, Behaviour::NxDomain),
                (&servfail, Behaviour::ServFail),
                (&drop, Behaviour::Drop),
            ] {
                for n in names {
                    zone.set(n, b.clone());
                }
            }
            let dns = DnsServer::start(listen, zone)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            started("dns", dns.addr());
            wait_for_signal().await;
        }
        StandinCommand::Gateway {
            listen,
            group,
            region,
            domain,
            api,
            signed_api,
            app,
            backend_timeout_ms,
            backend_connect_timeout_ms,
        } => {
            let domains = if domain.is_empty() {
                vec![vpc_domain(&group, &region)]
            } else {
                domain
            };
            let apps = app
                .iter()
                .map(|a| {
                    a.split_once('=')
                        .map(|(key, secret)| App {
                            key: key.into(),
                            secret: secret.into(),
                            appcode: None,
                        })
                        .ok_or_else(|| "--app is KEY=SECRET".to_owned())
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut apis = api
                .iter()
                .map(|a| parse_api(a))
                .collect::<Result<Vec<_>, _>>()?;
            for a in &signed_api {
                apis.push(Api {
                    auth: Auth::App {
                        authorized: apps.iter().map(|a| a.key.clone()).collect(),
                        appcode: false,
                    },
                    ..parse_api(a)?
                });
            }
            let config = GatewayConfig {
                groups: vec![Group {
                    id: group,
                    domains,
                    apis,
                }],
                apps,
                backend_timeout: Duration::from_millis(backend_timeout_ms),
                backend_connect_timeout: Duration::from_millis(backend_connect_timeout_ms),
            };
            let gw = Gateway::start(listen, config)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            started("gateway", gw.addr());
            wait_for_signal().await;
        }
        StandinCommand::Backend { listen } => {
            let b = Backend::start(listen)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            started("backend", b.addr());
            wait_for_signal().await;
        }
    }
    Ok(())
}

/// `METHOD:PATH:STAGE[,STAGE]=http://HOST:PORT/BACKEND_PATH`.
fn parse_api(s: &str) -> Result<Api, String> {
    let bad = || format!("--api {s:?} is not METHOD:PATH:STAGES=http://HOST:PORT/PATH");
    let (route, backend) = s.split_once('=').ok_or_else(bad)?;
    let mut parts = route.splitn(3, ':');
    let (Some(method), Some(path), Some(stages)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| bad())?;
    let url = url::Url::parse(backend).map_err(|_| bad())?;
    let host = url.host_str().ok_or_else(bad)?;
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| bad())?;
    let addr = SocketAddr::new(ip, url.port_or_known_default().unwrap_or(80));
    let stages: Vec<&str> = stages.split(',').collect();
    if stages.iter().any(|s| !gateway::STAGES.contains(s)) {
        return Err(bad());
    }
    Ok(Api {
        backend_path: url.path().to_owned(),
        ..Api::new(method, path, &stages, addr)
    })
}

async fn wait_for_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_api_flags() {
        let api =
            parse_api("GET:/web/cloudapi:RELEASE,TEST=http://10.1.0.10:8080/web/cloudapi").unwrap();
        assert_eq!(api.method, Method::GET);
        assert_eq!(api.backend, "10.1.0.10:8080".parse().unwrap());
        assert_eq!(api.stages, vec!["RELEASE", "TEST"]);
        assert_eq!(api.backend_path, "/web/cloudapi");
        assert!(parse_api("GET:/x:PROD=http://1.2.3.4/").is_err());
        assert!(parse_api("nonsense").is_err());
    }
}
