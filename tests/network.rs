//! Connect-level failures and forbidden addresses, through the real binary, inside an isolated
//! network namespace (see `netns`): nothing here can reach a real network.

mod netns;
mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use apigw_standin::{self as standin, Backend, Behaviour, DnsServer, Zone};
use apigw_vpc_probe::scope::Scope;
use support::{class, error, probe_cli as probe_async, target};

/// A DNS server on loopback (inside the namespace) answering `names` (several addresses of a
/// name separated by commas).
async fn dns(names: &[(&str, &str)]) -> DnsServer {
    let zone = Zone::default();
    for (name, ips) in names {
        let ips = ips.split(',').map(|ip| ip.parse().unwrap()).collect();
        zone.set(name, Behaviour::Answer(ips));
    }
    DnsServer::start(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0), zone)
        .await
        .expect("dns")
}

#[test]
fn metadata_and_link_local_urls_are_refused_without_a_packet() {
    netns::isolated(|| async {
        for url in [
            "http://100.100.100.200/latest/meta-data/",
            "http://169.254.169.254/",
            "http://[::ffff:100.100.100.200]/",
        ] {
            let (code, report) = probe_async(&[url], &[]).await;
            assert_eq!(class(&report), "target.forbidden", "{url}: {report:?}");
            assert_eq!(code, 1);
            // Refused before resolution: no DNS, no sample, nothing dialled.
            let t = target(&report);
            assert!(t.dns.is_none(), "{url}: {report:?}");
            assert!(t.samples.is_empty(), "{url}: {report:?}");
        }
        assert_eq!(
            netns::packets("forbidden"),
            0,
            "a packet went towards a forbidden address"
        );
    });
}

#[test]
fn dropped_syn_is_a_connect_timeout_naming_the_phase() {
    netns::isolated(|| async {
        let url = format!("http://{}:80/web/cloudapi", netns::BLACKHOLE);
        let started = std::time::Instant::now();
        let (code, report) = probe_async(&[&url], &[("APIGW_CONNECT_TIMEOUT_MS", "400")]).await;
        assert_eq!(code, 1);
        assert_eq!(class(&report), "tcp.timeout", "{report:?}");
        let message = &error(&report).message;
        assert!(message.contains("connect"), "{message}");
        let connect = support::sample(&report).phases_ms.connect;
        assert!((390.0..2000.0).contains(&connect), "connect {connect}");
        assert!(started.elapsed().as_secs() < 5);
        // The control for the test above: the counter does see connection attempts.
        assert!(netns::packets("blackhole") >= 1);
    });
}

#[test]
fn missing_route_is_unreachable() {
    netns::isolated(|| async {
        let url = format!("http://{}/", netns::UNREACHABLE);
        let (code, report) = probe_async(&[&url], &[]).await;
        assert_eq!(code, 1);
        assert_eq!(class(&report), "tcp.unreachable", "{report:?}");
        assert!(error(&report).hint.contains("route"), "{report:?}");
    });
}

#[test]
fn allowed_names_that_resolve_to_forbidden_addresses_are_refused_without_a_packet() {
    netns::isolated(|| async {
        let dns = dns(&[
            ("meta.alicloudapi.com", "100.100.100.200"),
            ("ll.alicloudapi.com", "169.254.169.254"),
        ])
        .await;
        let server = dns.addr().to_string();
        for host in ["meta.alicloudapi.com", "ll.alicloudapi.com"] {
            let url = format!("http://{host}/latest/meta-data/");
            let (code, report) = probe_async(&[&url], &[("APIGW_DNS_SERVERS", &server)]).await;
            assert_eq!(code, 1);
            assert_eq!(class(&report), "target.forbidden", "{report:?}");
            // Resolved, then refused: the address is reported, and nothing was dialled.
            let t = target(&report);
            let dns = t.dns.as_ref().expect("the DNS answer");
            assert_eq!(dns.addresses.len(), 1, "{report:?}");
            assert!(t.samples.iter().all(|s| s.remote.is_none()), "{report:?}");
        }
        assert_eq!(netns::packets("forbidden"), 0);
    });
}

#[test]
fn event_and_trigger_targets_are_held_to_the_allow_list() {
    netns::isolated(|| async {
        let dns = dns(&[("meta.alicloudapi.com", "100.100.100.200")]).await;
        let server = dns.addr().to_string();
        let function = support::Server::start(&[("APIGW_DNS_SERVERS", &server)]);
        // An allowed name that resolves to the metadata service.
        let answer = support::invoke(
            &function,
            "ev-1",
            r#"{"url":"http://meta.alicloudapi.com/"}"#,
        )
        .await;
        assert_eq!(answer.status, 404);
        assert_eq!(answer.header("x-fc-status"), Some("404"));
        assert_eq!(class(&answer.report()), "target.forbidden");
        // Hosts outside APIGW_ALLOW_HOSTS, from the event and from the HTTP trigger.
        let blackhole = format!("http://{}/", netns::BLACKHOLE);
        let event = serde_json::json!({"url": blackhole}).to_string();
        let answer = support::invoke(&function, "ev-2", event).await;
        assert_eq!(class(&answer.report()), "target.forbidden");
        for url in [
            blackhole.as_str(),
            "http://100.100.100.200/",
            "http://meta.alicloudapi.com/",
        ] {
            let probe =
                url::Url::parse_with_params(&function.url("/probe"), [("url", url)]).unwrap();
            let answer = support::get(probe.as_str(), &[]).await;
            assert_eq!(answer.status, 403, "{url}");
            assert_eq!(class(&answer.report()), "target.forbidden", "{url}");
        }
        assert_eq!(
            netns::packets("forbidden"),
            0,
            "a packet went to a forbidden address"
        );
        assert_eq!(
            netns::packets("blackhole"),
            0,
            "a refused target was dialled"
        );
    });
}

#[test]
fn a_public_answer_for_a_vpc_domain_is_a_warning() {
    netns::isolated(|| async {
        let domain = standin::vpc_domain(standin::DEMO_GROUP, standin::DEMO_REGION);
        // Routed into the namespace's veth pair: nothing leaves the namespace.
        let dns = dns(&[(&domain, "47.100.1.1")]).await;
        let server = dns.addr().to_string();
        let url = format!("http://{domain}/web/cloudapi");
        let (_, report) = probe_async(
            &[&url],
            &[
                ("APIGW_DNS_SERVERS", &server),
                ("APIGW_CONNECT_TIMEOUT_MS", "200"),
            ],
        )
        .await;
        let t = target(&report);
        assert_eq!(t.dns.as_ref().and_then(|d| d.scope), Some(Scope::Public));
        assert!(
            t.warnings.iter().any(|w| w.contains("leave the VPC")),
            "{report:?}"
        );
    });
}

#[test]
fn timeout_hint_names_cen_across_regions() {
    netns::isolated(|| async {
        let domain = standin::vpc_domain(standin::DEMO_GROUP, "cn-shanghai");
        let dns = dns(&[(&domain, netns::BLACKHOLE)]).await;
        let server = dns.addr().to_string();
        let url = format!("http://{domain}/web/cloudapi");
        let mut hints = Vec::new();
        for region in ["cn-shanghai", "cn-zhangjiakou"] {
            let (_, report) = probe_async(
                &[&url],
                &[
                    ("APIGW_DNS_SERVERS", &server),
                    ("APIGW_CONNECT_TIMEOUT_MS", "200"),
                    ("FC_REGION", region),
                    // The group's region: must not hide that the function is elsewhere.
                    ("APIGW_REGION", "cn-shanghai"),
                ],
            )
            .await;
            assert_eq!(class(&report), "tcp.timeout", "{report:?}");
            hints.push(error(&report).hint.clone());
        }
        assert!(hints[0].contains("inbound VPC"), "{}", hints[0]);
        assert!(
            hints[1].contains("CEN") && hints[1].contains("cn-zhangjiakou"),
            "{}",
            hints[1]
        );
    });
}

#[test]
fn backend_security_group_dropping_the_gateway_is_d504co() {
    netns::isolated(|| async {
        use apigw_standin::{Gateway, GatewayConfig};
        let domain = standin::vpc_domain(standin::DEMO_GROUP, standin::DEMO_REGION);
        let backend: SocketAddr = format!("{}:8080", netns::BLACKHOLE).parse().unwrap();
        let config = GatewayConfig {
            backend_connect_timeout: std::time::Duration::from_millis(200),
            ..GatewayConfig::demo_cloudapi(backend)
        };
        let gw = Gateway::start(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0), config)
            .await
            .unwrap();
        let url = format!("http://{domain}:{}/web/cloudapi", gw.addr().port());
        let resolve = format!("{domain}:{}:127.0.0.1", gw.addr().port());
        let (code, report) = probe_async(&[&url, "--resolve", &resolve], &[]).await;
        assert_eq!(code, 1);
        assert_eq!(class(&report), "gateway.D504CO", "{report:?}");
        assert!(
            netns::packets("blackhole") >= 1,
            "the gateway tried the backend"
        );
    });
}

#[test]
fn every_address_of_a_name_is_probed_and_the_dead_one_named() {
    netns::isolated(|| async {
        // One backend on every loopback address of the namespace; the third address drops
        // everything, like a dead member of a gateway's VIP set.
        let backend = Backend::start(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0))
            .await
            .expect("backend");
        netns::drop_to("127.0.0.3");
        let host = "vip.alicloudapi.com";
        let dns = dns(&[(host, "127.0.0.1,127.0.0.2,127.0.0.3")]).await;
        let server = dns.addr().to_string();
        let env = [
            ("APIGW_DNS_SERVERS", server.as_str()),
            ("APIGW_CONNECT_TIMEOUT_MS", "300"),
        ];
        let url = format!("http://{host}:{}/web/cloudapi", backend.addr().port());

        // One address per sample: the dead member goes unnoticed.
        let (code, report) = probe_async(&[&url, "-n", "2"], &env).await;
        assert_eq!(code, 0, "{report:?}");
        assert_eq!(netns::packets("dropped"), 0);

        // Every address, two rounds: the target fails and names the dead one.
        let started = std::time::Instant::now();
        let (code, report) = probe_async(&[&url, "-n", "2", "--all-addresses"], &env).await;
        assert_eq!(code, 1, "{report:?}");
        // The addresses of a round are called at once: a round takes the slowest one's time.
        assert!(
            started.elapsed().as_millis() < 2000,
            "{:?}",
            started.elapsed()
        );
        let t = target(&report);
        assert_eq!(class(&report), "tcp.timeout", "{report:?}");
        let message = &error(&report).message;
        assert!(
            message.starts_with("1 of 3 addresses failed (127.0.0.3); 127.0.0.3:"),
            "{message}"
        );
        assert_eq!(t.samples.len(), 6, "{report:?}");
        assert_eq!(t.addresses.len(), 3, "{report:?}");
        for a in &t.addresses {
            let dead = a.address == "127.0.0.3";
            assert_eq!(a.ok, !dead, "{a:?}");
            assert_eq!(
                (a.samples, a.failed),
                (2, if dead { 2 } else { 0 }),
                "{a:?}"
            );
            assert_eq!(a.latency_ms.is_some(), !dead, "{a:?}");
        }
        for s in &t.samples {
            let dead = s
                .remote
                .as_deref()
                .is_some_and(|r| r.starts_with("127.0.0.3:"));
            assert_eq!(s.ok, !dead, "{s:?}");
            // Each call is timed whole: the round's lookup, then its own connection.
            let p = &s.phases_ms;
            assert!(p.dns > 0.0, "{s:?}");
            let sum: f64 = p.named().iter().map(|(_, ms)| ms).sum();
            assert!((sum - p.total).abs() < 0.01, "{p:?}");
        }
        assert!(
            netns::packets("dropped") >= 2,
            "the dead address was dialled"
        );
    });
}
