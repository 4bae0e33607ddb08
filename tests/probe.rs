//! The probe through the real binary (`probe --json`) against the stand-in on loopback: a real
//! DNS server, an API-Gateway-like server, a backend, TLS with a test CA.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use apigw_standin::{self as standin, Behaviour, Gateway, GatewayConfig, StandIn};
use apigw_vpc_probe::report::Report;
use apigw_vpc_probe::scope::Scope;
use serde_json::Value;
use support::{class, error, probe_cli, sample, target, TestPki};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn stand_in() -> StandIn {
    StandIn::start(LOCAL).await.expect("stand-in")
}

fn dns_env(s: &StandIn) -> String {
    s.dns_addr().to_string()
}

fn assert_phases_add_up(report: &Report) {
    let samples = &target(report).samples;
    assert!(!samples.is_empty(), "no samples: {report:?}");
    for s in samples {
        let p = &s.phases_ms;
        let sum: f64 = p.named().iter().map(|(_, ms)| ms).sum();
        assert!((sum - p.total).abs() < 0.01, "phases {p:?} do not add up");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolves_through_the_dns_server_and_calls_the_gateway() {
    let s = stand_in().await;
    let dns = dns_env(&s);
    let url = s.url("/web/cloudapi");
    let (code, report) = probe_cli(&[&url, "--samples", "3"], &[("APIGW_DNS_SERVERS", &dns)]).await;
    assert_eq!(code, 0, "{report:?}");
    let t = target(&report);
    assert!(t.ok);
    let d = t.dns.as_ref().expect("dns");
    assert_eq!(d.addresses, ["127.0.0.1"]);
    assert_eq!(d.scope, Some(Scope::Loopback));
    assert_eq!(d.servers, [dns.as_str()]);
    assert_eq!(t.samples.len(), 3);
    assert!(t.latency_ms.expect("latency").p50 > 0.0);
    // Every sample asks the DNS server again and opens its own connection.
    assert!(s.dns.queries() >= 3, "{} queries", s.dns.queries());
    let gateway = sample(&report)
        .gateway
        .as_ref()
        .expect("the gateway's headers");
    assert!(gateway.request_id.as_ref().expect("X-Ca-Request-Id").len() >= 32);
    assert_phases_add_up(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dns_failure_has_its_class() {
    let s = stand_in().await;
    let zone = s.dns.zone();
    let port = s.gateway_addr().port();
    zone.set("servfail.alicloudapi.com", Behaviour::ServFail);
    zone.set("refused.alicloudapi.com", Behaviour::Refused);
    zone.set("empty.alicloudapi.com", Behaviour::NoRecords);
    zone.set("silent.alicloudapi.com", Behaviour::Drop);
    let disabled = standin::vpc_domain(standin::DISABLED_GROUP, standin::DEMO_REGION);
    let dns = dns_env(&s);
    let env = [
        ("APIGW_DNS_SERVERS", dns.as_str()),
        ("APIGW_DNS_TIMEOUT_MS", "400"),
    ];
    for (host, want) in [
        (disabled.as_str(), "dns.nxdomain"),
        ("servfail.alicloudapi.com", "dns.servfail"),
        ("refused.alicloudapi.com", "dns.refused"),
        ("empty.alicloudapi.com", "dns.no_records"),
        ("silent.alicloudapi.com", "dns.timeout"),
    ] {
        let url = format!("http://{host}:{port}/web/cloudapi");
        let (code, report) = probe_cli(&[&url], &env).await;
        assert_eq!(code, 1, "{host}");
        assert_eq!(class(&report), want, "{host}: {report:?}");
        assert!(sample(&report).remote.is_none(), "no connection for {host}");
        assert_eq!(
            target(&report).dns.as_ref().expect("dns").servers,
            [dns.as_str()]
        );
    }
    // The VPC domain case names the switch to turn on.
    let url = format!("http://{disabled}:{port}/web/cloudapi");
    let (_, report) = probe_cli(&[&url], &env).await;
    let hint = &error(&report).hint;
    assert!(hint.contains("VPC second-level domain"), "{hint}");
    // The timeout is the dns phase's own limit.
    let url = format!("http://silent.alicloudapi.com:{port}/");
    let (_, report) = probe_cli(&[&url], &env).await;
    let dns_ms = sample(&report).phases_ms.dns;
    assert!((390.0..1500.0).contains(&dns_ms), "dns {dns_ms}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_errors_become_gateway_classes_and_backend_statuses_stay_http() {
    let s = stand_in().await;
    let dns = dns_env(&s);
    let env = [("APIGW_DNS_SERVERS", dns.as_str())];
    let other_host = format!(
        "{}:{}:127.0.0.1",
        "other.alicloudapi.com",
        s.gateway_addr().port()
    );
    let other_url = format!(
        "http://other.alicloudapi.com:{}/web/cloudapi",
        s.gateway_addr().port()
    );
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![s.url("/web/preview")], "gateway.I404NF"),
        (vec![s.url("/web/broken")], "gateway.D504CO"),
        (
            vec![other_url, "--resolve".into(), other_host],
            "gateway.I404DO",
        ),
        (
            vec![
                s.url("/web/cloudapi"),
                "-H".into(),
                "X-Ca-Stage: PROD".into(),
            ],
            "gateway.I400SG",
        ),
        (vec![s.url("/status/503")], "http.status"),
    ];
    for (args, want) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, report) = probe_cli(&args, &env).await;
        assert_eq!(code, 1, "{args:?}");
        assert_eq!(class(&report), want, "{args:?}: {report:?}");
        let g = sample(&report)
            .gateway
            .as_ref()
            .expect("the gateway's headers");
        assert!(g.request_id.is_some(), "{report:?}");
        if want == "http.status" {
            assert_eq!(g.error_code, None);
            let msg = &error(&report).message;
            assert!(msg.contains("backend"), "{msg}");
        } else {
            assert_eq!(
                g.error_code.as_deref(),
                Some(want.trim_start_matches("gateway."))
            );
        }
    }
    // The same API, published to TEST, answers when the stage is sent.
    let (code, report) = probe_cli(&[&s.url("/web/preview"), "--stage", "TEST"], &env).await;
    assert_eq!(code, 0, "{report:?}");
    // I404NF's hint names the stage.
    let (_, report) = probe_cli(&[&s.url("/web/preview")], &env).await;
    let hint = &error(&report).hint;
    assert!(hint.contains("stage"), "{hint}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_host_and_the_stage_reach_the_gateway() {
    let s = stand_in().await;
    let dns = dns_env(&s);
    let (code, report) = probe_cli(
        &[&s.url("/echo?q=1"), "--stage", "RELEASE", "--body"],
        &[("APIGW_DNS_SERVERS", &dns)],
    )
    .await;
    assert_eq!(code, 0, "{report:?}");
    let body = sample(&report).body.as_deref().expect("the body");
    let echoed: Value = serde_json::from_str(body).unwrap();
    let headers = &echoed["headers"];
    assert_eq!(headers["x-ca-stage"], "RELEASE");
    assert_eq!(echoed["query"], "q=1");
    // The backend sees the gateway's Host; the gateway routed on ours (else I404DO).
    assert_eq!(headers["host"], s.backend_addr().to_string());
    assert!(headers["user-agent"]
        .as_str()
        .unwrap()
        .starts_with("apigw-vpc-probe/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttfb_reflects_a_known_delay_and_phases_add_up() {
    let s = stand_in().await;
    let dns = dns_env(&s);
    let (code, report) = probe_cli(&[&s.url("/delay/300")], &[("APIGW_DNS_SERVERS", &dns)]).await;
    assert_eq!(code, 0, "{report:?}");
    let p = sample(&report).phases_ms;
    assert!((300.0..450.0).contains(&p.ttfb), "ttfb {}", p.ttfb);
    assert!(p.connect < 50.0);
    assert!(p.total >= p.ttfb);
    assert_phases_add_up(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answer_is_an_http_timeout_naming_ttfb() {
    let s = stand_in().await;
    let dns = dns_env(&s);
    let started = Instant::now();
    let (code, report) = probe_cli(
        &[&s.url("/delay/3000"), "--timeout", "400"],
        &[("APIGW_DNS_SERVERS", &dns)],
    )
    .await;
    assert_eq!(code, 1);
    assert_eq!(class(&report), "http.timeout", "{report:?}");
    let msg = &error(&report).message;
    assert!(msg.contains("ttfb"), "{msg}");
    assert!(started.elapsed().as_millis() < 2500);
    assert_phases_add_up(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_body_and_refused_connect() {
    let s = stand_in().await;
    let reset = format!("http://{}/reset", s.backend_addr());
    let (code, report) = probe_cli(&[&reset], &[]).await;
    assert_eq!(code, 1);
    assert_eq!(class(&report), "tcp.reset", "{report:?}");
    assert_eq!(
        sample(&report).status,
        Some(200),
        "the head arrived before the reset"
    );
    assert!(sample(&report).phases_ms.transfer > 0.0);

    let closed = support::closed_addr();
    let (code, report) = probe_cli(&[&format!("http://{closed}/")], &[]).await;
    assert_eq!(code, 1);
    assert_eq!(class(&report), "tcp.refused", "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_is_counted_whole_but_kept_to_64_kib() {
    let s = stand_in().await;
    let dns = dns_env(&s);
    let (code, report) = probe_cli(
        &[&s.url("/bytes/200000"), "--body"],
        &[("APIGW_DNS_SERVERS", &dns)],
    )
    .await;
    assert_eq!(code, 0, "{report:?}");
    assert_eq!(sample(&report).bytes, 200_000);
    assert_eq!(
        sample(&report).body.as_ref().map(String::len),
        Some(64 * 1024)
    );
    assert!(sample(&report).body_truncated);
    // Without --body, nothing of the body is in the report.
    let (_, report) = probe_cli(&[&s.url("/bytes/10")], &[("APIGW_DNS_SERVERS", &dns)]).await;
    assert_eq!(sample(&report).bytes, 10);
    assert_eq!(sample(&report).body, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_test_ca_an_unknown_ca_and_a_wrong_name() {
    let s = stand_in().await;
    let domain = s.domain();
    let config = GatewayConfig::demo_cloudapi(s.backend_addr());
    let dir = tempfile::tempdir().unwrap();
    let right = TestPki::new(&[&domain]);
    let wrong_name = TestPki::new(&["someone-else.example"]);
    let ca_file = dir.path().join("ca.pem");
    let wrong_ca_file = dir.path().join("wrong-name-ca.pem");
    std::fs::write(&ca_file, &right.ca_pem).unwrap();
    std::fs::write(&wrong_ca_file, &wrong_name.ca_pem).unwrap();
    let any = SocketAddr::new(LOCAL, 0);
    let good = Gateway::start_tls(any, config.clone(), right.server.clone())
        .await
        .unwrap();
    let bad = Gateway::start_tls(any, config, wrong_name.server.clone())
        .await
        .unwrap();
    let dns = dns_env(&s);
    let url = |gw: &Gateway| format!("https://{domain}:{}/web/cloudapi", gw.addr().port());
    let ca = ca_file.to_str().unwrap();

    let (code, report) = probe_cli(
        &[&url(&good)],
        &[("APIGW_DNS_SERVERS", &dns), ("APIGW_CA_FILE", ca)],
    )
    .await;
    assert_eq!(code, 0, "{report:?}");
    assert!(sample(&report).phases_ms.tls > 0.0);
    assert_phases_add_up(&report);

    // The built-in roots do not know the test CA.
    let (_, report) = probe_cli(&[&url(&good)], &[("APIGW_DNS_SERVERS", &dns)]).await;
    assert_eq!(class(&report), "tls.certificate", "{report:?}");

    // A trusted CA, but the certificate names another host.
    let (_, report) = probe_cli(
        &[&url(&bad)],
        &[
            ("APIGW_DNS_SERVERS", &dns),
            ("APIGW_CA_FILE", wrong_ca_file.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(class(&report), "tls.certificate", "{report:?}");
    let msg = &error(&report).message;
    assert!(msg.to_lowercase().contains("name"), "{msg}");

    // TLS spoken to a plain-HTTP port.
    let plain = format!("https://{domain}:{}/web/cloudapi", s.gateway_addr().port());
    let (_, report) = probe_cli(&[&plain], &[("APIGW_DNS_SERVERS", &dns)]).await;
    assert_eq!(class(&report), "tls.handshake", "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttfb_ends_at_the_final_response_not_an_interim_one() {
    let backend = support::backend().await;
    let url = format!("http://{}/early-hints/300", backend.addr());
    let (code, report) = probe_cli(&[&url], &[]).await;
    assert_eq!(code, 0, "{report:?}");
    let s = sample(&report);
    assert_eq!(s.status, Some(200), "{report:?}");
    assert_eq!(s.interim_responses, 1, "{report:?}");
    assert!(s.phases_ms.ttfb >= 300.0, "{report:?}");
    assert_phases_add_up(&report);
}

/// `probe … | head -1`: the reader goes away before the report is written. The probe's exit
/// status stands and nothing panics (Rust ignores SIGPIPE, so `print!` would panic on EPIPE).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_went_away_is_not_a_panic() {
    let backend = support::backend().await;
    // The backend waits 300 ms: the pipe is closed long before the report is written.
    let url = format!("http://{}/delay/300", backend.addr());
    for json in [true, false] {
        let mut cmd = tokio::process::Command::new(support::FUNCTION);
        cmd.arg("probe").arg(&url);
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let out = child.wait_with_output().await.expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "json {json}: {stderr}");
        assert!(stderr.is_empty(), "json {json}: {stderr}");
    }
}

#[tokio::test]
async fn a_report_that_cannot_be_written_is_its_own_exit_status() {
    let backend = support::backend().await;
    let url = format!("http://{}/echo", backend.addr());
    for json in [true, false] {
        // /dev/full: every write fails with ENOSPC, as on a full disk.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let mut cmd = tokio::process::Command::new(support::FUNCTION);
        cmd.arg("probe").arg(&url);
        if json {
            cmd.arg("--json");
        }
        // Not `output()`: tokio's sets stdout to a pipe.
        let child = cmd
            .stdout(full)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let out = child.wait_with_output().await.expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The probe itself passed; a cut report must not read as a verdict.
        assert_eq!(out.status.code(), Some(3), "json {json}: {stderr}");
        assert!(
            stderr.contains("cannot write the report"),
            "json {json}: {stderr}"
        );
    }
}
