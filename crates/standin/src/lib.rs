//! A local stand-in of the seed's setup: the VPC's DNS, API Gateway's dedicated instance, and
//! the backend. A crate of its own so that none of it ships in the function's binary: used by
//! the function's integration tests (a dev-dependency), by `make demo`, and (one part per
//! network namespace) by the lab, through the `apigw-standin` binary.
//!
//! It shares no code with the function's client side: its signature check (`auth`) is written
//! from API Gateway's documentation independently of the client's signer, so each checks the
//! other. The same holds for the control plane's OpenAPI signature check
//! (`control_plane::verify`) and the function's OpenAPI client.
//!
//! The DNS zone, the gateway and the control plane share one [`World`]: a change to it (a
//! disabled VPC domain, another bound inbound VPC, an API taken offline, a RAM denial) shows
//! in all three at once.

pub mod auth;
pub mod backend;
pub mod control_plane;
pub mod demo;
pub mod dns;
pub mod gateway;
mod http;
pub mod launch;

use std::io;
use std::net::{IpAddr, SocketAddr};

pub use auth::{App, Auth};
pub use backend::Backend;
pub use control_plane::{ControlPlane, Fault, World, WorldError, WorldHandle};
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
/// The demo app's AppId (an integer, as the control plane answers it).
pub const DEMO_APP_ID: u64 = 110_011_001;
/// The other app's AppId.
pub const OTHER_APP_ID: u64 = 110_011_002;

/// The demo's account (`OwnerId`, `VpcOwnerId`, ARNs).
pub const DEMO_ACCOUNT_ID: u64 = 1_234_567_890_123_456;
/// The demo's dedicated API Gateway instance, which serves both demo groups.
pub const DEMO_INSTANCE: &str = "apigateway-sh-5f0a3c9d2b7e";
/// The function, as FC and the control plane name it.
pub const DEMO_FUNCTION: &str = "apigw-vpc-probe";
/// The function's VPC, bound as the instance's inbound VPC.
pub const DEMO_VPC: &str = "vpc-uf6demofunction00001";
/// The function's vSwitch in [`DEMO_VPC`].
pub const DEMO_VSWITCH: &str = "vsw-uf6demofunction00001";
/// The route table of [`DEMO_VSWITCH`].
pub const DEMO_ROUTE_TABLE: &str = "vtb-uf6demofunction00001";
/// The function's security group.
pub const DEMO_SECURITY_GROUP: &str = "sg-uf6demofunction00001";
/// Another VPC in the region (another consumer's), to bind instead of the function's.
pub const OTHER_VPC: &str = "vpc-uf6otherconsumer0001";
/// Its vSwitch.
pub const OTHER_VSWITCH: &str = "vsw-uf6otherconsumer0001";
/// Its route table.
pub const OTHER_ROUTE_TABLE: &str = "vtb-uf6otherconsumer0001";
/// The function role's STS AccessKeyId, as FC passes it in `x-fc-access-key-id`. Stand-in
/// credentials, not real ones.
pub const DEMO_STS_ACCESS_KEY_ID: &str = "STS.NUstandinDemoRole01";
/// Its AccessKeySecret.
pub const DEMO_STS_ACCESS_KEY_SECRET: &str = "stand-in-sts-secret-5b9e";
/// Its SecurityToken (with `/+=`, which must survive as a signed header).
pub const DEMO_STS_SECURITY_TOKEN: &str = "CAIS.stand-in/demo+token=";
/// A long-term AccessKey (an operator's, for the `check` command).
pub const DEMO_ACCESS_KEY_ID: &str = "LTAI5tStandInDemoUser01";
/// Its AccessKeySecret.
pub const DEMO_ACCESS_KEY_SECRET: &str = "stand-in-ak-secret-c4d2";

/// The VPC second-level domain of `group` in `region`.
pub fn vpc_domain(group: &str, region: &str) -> String {
    format!("{group}-{region}-vpc.alicloudapi.com")
}

/// The whole stand-in on one address: DNS, gateway, backend and control plane on ephemeral
/// ports, all projections of one [`World`].
pub struct StandIn {
    pub dns: DnsServer,
    pub gateway: Gateway,
    pub backend: Backend,
    /// The backend of `/web/broken`, which refuses connections.
    closed: ClosedPort,
    /// The control plane (OpenAPI of CloudAPI, VPC, CBN, FC, CMS), answering from the same world.
    pub control_plane: ControlPlane,
}

impl StandIn {
    /// Starts the demo's setup on `bind` (the world of [`control_plane::seed::demo_world`]):
    /// - DNS: the demo group's VPC domain → `bind`; the disabled group's → NXDOMAIN.
    /// - Gateway: the demo group with `GET /web/cloudapi` (RELEASE, TEST), `GET /web/preview`
    ///   (TEST only), `GET /web/broken` (a backend that is not there: D504CO), and on RELEASE
    ///   for GET and POST the backend's test routes `/delay/*`, `/status/*`, `/bytes/*`,
    ///   `/echo`, `/reset`.
    /// - Control plane: the same group, instance (bound to the function's VPC), APIs and apps,
    ///   the function `apigw-vpc-probe` in [`DEMO_VPC`], and the AccessKeys
    ///   [`DEMO_STS_ACCESS_KEY_ID`] and [`DEMO_ACCESS_KEY_ID`].
    pub async fn start(bind: IpAddr) -> io::Result<Self> {
        let backend = Backend::start(SocketAddr::new(bind, 0)).await?;
        let closed = ClosedPort::on(bind)?;
        let world = WorldHandle::new(control_plane::seed::demo_world(
            vec![bind],
            Some(backend.addr()),
            Some(closed.addr()),
        ));
        let gateway =
            Gateway::start(SocketAddr::new(bind, 0), world.snapshot().gateway_config()).await?;
        let set_gateway = gateway.config_setter();
        world.subscribe(move |w| set_gateway(w.gateway_config()));
        let dns = DnsServer::start(SocketAddr::new(bind, 0), Zone::default()).await?;
        let zone = dns.zone().clone();
        world.subscribe(move |w| w.sync_zone(&zone));
        let control_plane = ControlPlane::start(SocketAddr::new(bind, 0), world).await?;
        Ok(Self {
            dns,
            gateway,
            backend,
            closed,
            control_plane,
        })
    }

    /// The world the DNS, the gateway and the control plane answer from.
    pub fn world(&self) -> &WorldHandle {
        self.control_plane.world()
    }

    /// Turns the group's VPC second-level domain off: the DNS answers NXDOMAIN for it, the
    /// gateway no longer serves it, `DescribeApiGroup` has an empty `VpcDomain`.
    pub fn disable_vpc_domain(&self, group: &str) -> Result<(), WorldError> {
        self.world().update(|w| w.disable_vpc_domain(group))
    }

    /// Turns it back on.
    pub fn enable_vpc_domain(&self, group: &str) -> Result<(), WorldError> {
        self.world().update(|w| w.enable_vpc_domain(group))
    }

    /// Binds `vpc` as the instance's inbound VPC (`UserVpcId`).
    pub fn bind_inbound_vpc(&self, instance: &str, vpc: &str) -> Result<(), WorldError> {
        self.world().update(|w| w.bind_inbound_vpc(instance, vpc))
    }

    /// Removes the instance's inbound VPC.
    pub fn unbind_inbound_vpc(&self, instance: &str) -> Result<(), WorldError> {
        self.world().update(|w| w.unbind_inbound_vpc(instance))
    }

    /// Denies the RAM action (`apigateway:DescribeInstances`, or a bare action name) to the
    /// AccessKey: the control plane answers `Forbidden.RAM`.
    pub fn deny(&self, access_key_id: &str, action: &str) -> Result<(), WorldError> {
        self.world().update(|w| w.deny(access_key_id, action))
    }

    /// Makes the control plane answer `action` (`*`: every action) with `fault`.
    pub fn inject(&self, action: &str, fault: Fault) {
        self.control_plane.inject(action, fault);
    }

    /// The control plane's endpoint, `http://ADDR`.
    pub fn control_plane_url(&self) -> String {
        self.control_plane.url()
    }

    pub fn control_plane_addr(&self) -> SocketAddr {
        self.control_plane.addr()
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
