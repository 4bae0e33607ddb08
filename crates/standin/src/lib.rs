//! A local stand-in of the seed's setup: the VPC's DNS, API Gateway's dedicated instance, and
//! the backend. A crate of its own so that none of it ships in the function's binary: used by
//! the function's integration tests (a dev-dependency), by `make demo`, and (one part per
//! network namespace) by the lab, through the `apigw-standin` binary.
//!
//! It shares no code with the function's client side: its signature check (`auth`) is written
//! from API Gateway's documentation independently of the client's signer, so each checks the
//! other.

pub mod auth;
pub mod backend;
pub mod demo;
pub mod dns;
pub mod gateway;
mod http;
pub mod launch;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hyper::Method;

pub use auth::{App, Auth};
pub use backend::Backend;
pub use dns::{Behaviour, DnsServer, Zone};
pub use gateway::{Api, Gateway, GatewayConfig, Group, Protocols};
pub use launch::{Launch, LaunchError, Process};

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
    /// The backend of `/web/broken`, which refuses connections.
    closed: ClosedPort,
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
        let closed = ClosedPort::on(bind)?;
        let mut apis = vec![
            Api::new(Method::GET, "/web/cloudapi", &["RELEASE", "TEST"], b),
            Api {
                backend_path: "/web/cloudapi".into(),
                ..Api::new(Method::GET, "/web/preview", &["TEST"], b)
            },
            Api {
                backend_path: "/web/cloudapi".into(),
                ..Api::new(Method::GET, "/web/broken", &["RELEASE"], closed.addr())
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
            closed,
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

    /// Where `/web/broken`'s backend would be: nothing listens there.
    pub fn closed_addr(&self) -> SocketAddr {
        self.closed.addr()
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

/// An address where nothing listens, for as long as this value lives: a socket bound to a port
/// the kernel chose, never listening. Connections to it are refused, and no other socket can
/// take the port meanwhile (as one could a port that was bound and released).
#[derive(Debug)]
pub struct ClosedPort {
    addr: SocketAddr,
    _socket: tokio::net::TcpSocket,
}

impl ClosedPort {
    /// A closed port on `ip`.
    pub fn on(ip: IpAddr) -> io::Result<Self> {
        let socket = match ip {
            IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(ip, 0))?;
        Ok(Self {
            addr: socket.local_addr()?,
            _socket: socket,
        })
    }

    /// `ip:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
