//! `apigw-standin`: the local stand-in of the seed's setup, one part per process (for network
//! namespaces) or all of it, and the demo that invokes the function against it.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use apigw_standin::control_plane::{self, seed};
use apigw_standin::{
    gateway, vpc_domain, Api, App, Auth, Backend, Behaviour, ControlPlane, DnsServer, Gateway,
    GatewayConfig, Group, StandIn, World, WorldHandle, Zone, DEMO_GROUP, DEMO_REGION,
};
use clap::Parser;
use hyper::Method;

/// The stand-in of DNS, API Gateway and a backend, for tests, the demo and the network lab.
#[derive(Debug, Parser)]
#[command(name = "apigw-standin", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run the seed's setup locally (DNS, API Gateway, backend), start the function's `serve`
    /// and invoke it the three ways FC does: console event, HTTP trigger, timer.
    Demo {
        /// The function's binary. Default: `apigw-vpc-probe` next to this binary (the same
        /// cargo target directory).
        #[arg(long, value_name = "PATH")]
        function: Option<PathBuf>,
    },
    #[command(flatten)]
    Part(Part),
}

/// Parts of the stand-in, one per process, for the network-namespace lab.
#[derive(Debug, clap::Subcommand)]
enum Part {
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
        /// Serve HTTPS with this certificate chain (PEM; needs --tls-key).
        #[arg(long, value_name = "PEM", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Only this TLS version (`1.2` or `1.3`; default both).
        #[arg(long, value_name = "VERSION", requires = "tls_cert")]
        tls_version: Option<String>,
    },
    /// The control plane (OpenAPI of CloudAPI, VPC, CBN, FC 3.0, CMS) answering from a world;
    /// `/_standin/world` changes it at run time (crates/standin/CONTROL-PLANE.md).
    ControlPlane {
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// The world as JSON (default: the demo's, its VPC domain answering the --gateway or
        /// --listen address, its APIs without backends).
        #[arg(long, value_name = "FILE.json")]
        world: Option<PathBuf>,
        /// Also serve the world's DNS zone (the groups' VPC domains) on this address.
        #[arg(long, value_name = "ADDR")]
        dns: Option<SocketAddr>,
        /// Also serve the world's gateway (its groups, and the APIs that have a backend).
        #[arg(long, value_name = "ADDR")]
        gateway: Option<SocketAddr>,
        /// Serve HTTPS with this certificate chain (PEM; needs --tls-key).
        #[arg(long, value_name = "PEM", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Admin requests from other hosts than loopback must carry it in
        /// x-standin-admin-token (without it they are refused).
        #[arg(long, value_name = "TOKEN")]
        admin_token: Option<String>,
        /// Print the world (the --world file, or the demo's) as JSON and exit.
        #[arg(long)]
        print_world: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Demo { function } => apigw_standin::demo::run(function).await,
            Command::Part(part) => match run(part).await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            },
        }
    });
    std::process::exit(code);
}

/// Runs one part (or all) of the stand-in until Ctrl-C or SIGTERM.
async fn run(part: Part) -> Result<(), String> {
    let started = |what: &str, addr: SocketAddr| {
        println!(
            "{}",
            serde_json::json!({"standin": what, "listen": addr.to_string()})
        );
    };
    match part {
        Part::All { bind } => {
            let s = StandIn::start(bind).await.map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::json!({
                    "dns": s.dns_addr().to_string(),
                    "gateway": s.gateway_addr().to_string(),
                    "backend": s.backend_addr().to_string(),
                    "control_plane": s.control_plane_addr().to_string(),
                    "domain": s.domain(),
                    "url": s.url("/web/cloudapi"),
                })
            );
            wait_for_signal().await;
        }
        Part::Dns {
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
        Part::Gateway {
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
        Part::Backend {
            listen,
            tls_cert,
            tls_key,
            tls_version,
        } => {
            let b = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => {
                    let tls = load_tls_versions(&cert, &key, tls_version.as_deref())?;
                    Backend::start_tls(listen, tls).await
                }
                _ => Backend::start(listen).await,
            }
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            started("backend", b.addr());
            wait_for_signal().await;
        }
        Part::ControlPlane {
            listen,
            world,
            dns,
            gateway,
            tls_cert,
            tls_key,
            admin_token,
            print_world,
        } => {
            let world = match world {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    let value: serde_json::Value = serde_json::from_str(&text)
                        .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
                    World::from_json(value).map_err(|e| format!("{}: {e}", path.display()))?
                }
                None => seed::demo_world(vec![gateway.unwrap_or(listen).ip()], None, None),
            };
            if print_world {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&world.to_json()).unwrap_or_default()
                );
                return Ok(());
            }
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(load_tls(&cert, &key)?),
                _ => None,
            };
            let handle = WorldHandle::new(world);
            let mut extra = serde_json::Map::new();
            let _dns = match dns {
                Some(addr) => {
                    let server = DnsServer::start(addr, Zone::default())
                        .await
                        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                    let zone = server.zone().clone();
                    handle.subscribe(move |w| w.sync_zone(&zone));
                    extra.insert("dns".into(), server.addr().to_string().into());
                    Some(server)
                }
                None => None,
            };
            let _gateway = match gateway {
                Some(addr) => {
                    let gw = Gateway::start(addr, handle.snapshot().gateway_config())
                        .await
                        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                    let set = gw.config_setter();
                    handle.subscribe(move |w| set(w.gateway_config()));
                    extra.insert("gateway".into(), gw.addr().to_string().into());
                    Some(gw)
                }
                None => None,
            };
            let cp = ControlPlane::start_with(
                listen,
                handle,
                control_plane::Options { tls, admin_token },
            )
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            let mut line = serde_json::json!({
                "standin": "control-plane",
                "listen": cp.addr().to_string(),
                "url": cp.url(),
            });
            if let Some(m) = line.as_object_mut() {
                m.extend(extra);
            }
            println!("{line}");
            wait_for_signal().await;
        }
    }
    Ok(())
}

/// A TLS server configuration from PEM files.
fn load_tls(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    load_tls_versions(cert, key, None)
}

/// A TLS server configuration from PEM files, offering only `version` (`1.2`, `1.3`) if given.
fn load_tls_versions(
    cert: &Path,
    key: &Path,
    version: Option<&str>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let versions: &[&rustls::SupportedProtocolVersion] = match version {
        None => rustls::DEFAULT_VERSIONS,
        Some("1.2") => &[&rustls::version::TLS12],
        Some("1.3") => &[&rustls::version::TLS13],
        Some(v) => return Err(format!("--tls-version {v:?} is not 1.2 or 1.3")),
    };
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the certificates in {}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read the private key in {}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .map_err(|e| format!("TLS: {e}"))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("TLS: {e}"))?;
    Ok(Arc::new(config))
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
