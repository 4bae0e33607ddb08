//! What a synthetic monitor checks beyond the status (issue 13), through the real binary against
//! the stand-in on loopback: assertions on headers, body, JSON and latency; the TLS facts of
//! servers with certificates from the tests' CA (5 and 400 days left; TLS 1.2 and 1.3 only);
//! retries of a backend that fails once, and of one that always fails. Every address of a name,
//! one of which drops packets, is in tests/network.rs (it needs a network namespace).

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use apigw_standin::{self as standin, Gateway, GatewayConfig};
use apigw_vpc_probe::report::Report;
use support::{class, error, probe_cli, sample, target, TestPki};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// `probe --json URL ARGS…` against `backend`'s `path`.
async fn probe(backend: SocketAddr, path: &str, args: &[&str]) -> (i32, Report) {
    let url = format!("http://{backend}{path}");
    let mut all = vec![url.as_str()];
    all.extend_from_slice(args);
    probe_cli(&all, &[]).await
}

/// The configured target `t` (`APIGW_TARGETS`, one object) probed with `probe --target t`.
async fn probe_target(spec: serde_json::Value) -> (i32, Report) {
    let mut spec = spec;
    spec["name"] = "t".into();
    let targets = serde_json::json!([spec]).to_string();
    probe_cli(&["--target", "t"], &[("APIGW_TARGETS", &targets)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_body_and_json_assertions_pass_on_the_right_answer() {
    let backend = support::backend().await;
    let (code, report) = probe(
        backend.addr(),
        "/json",
        &[
            "--expect-header",
            "X-Api-Version: ^2$",
            "--expect-header",
            "content-type: ^application/json",
            "--expect-body",
            r#""ok":true"#,
            "--expect-json",
            "/data/0/id=7",
            "--expect-json",
            "/version=2.3.1",
            "--expect-json",
            "/data/0/tags",
        ],
    )
    .await;
    assert_eq!(code, 0, "{report:?}");
    assert!(sample(&report).ok);
    // Kept for the assertions, not returned: the report has no body without --body.
    assert_eq!(sample(&report).body, None);

    let (code, report) = probe_target(serde_json::json!({
        "url": format!("http://{}/json", backend.addr()),
        "expect": {
            "headers_absent": ["X-Powered-By"],
            "body_not": "(?i)error",
            "json": [
                {"pointer": "/data/0/name", "matches": "^pro"},
                {"pointer": "/data/0/id", "equals": 7.0},
                {"pointer": "/missing", "exists": false}
            ]
        }
    }))
    .await;
    assert_eq!(code, 0, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failed_assertion_is_its_own_class_with_expected_and_actual() {
    let backend = support::backend().await;
    let cases: Vec<(&str, Vec<&str>, &str, Vec<&str>)> = vec![
        (
            "/json",
            vec!["--expect-header", "X-Api-Version: ^3$"],
            "assert.header",
            vec!["X-Api-Version is \"2\"", "/^3$/"],
        ),
        (
            "/json",
            vec!["--expect-header", "X-Ca-Request-Id:"],
            "assert.header",
            vec!["X-Ca-Request-Id is missing"],
        ),
        (
            "/json",
            vec!["--expect-body", "goodbye"],
            "assert.body",
            vec!["does not match /goodbye/", "it begins \"{\\\"data\\\""],
        ),
        (
            "/json",
            vec!["--expect-json", "/data/0/id=8"],
            "assert.json",
            vec![r#""/data/0/id" is 7; expected 8"#],
        ),
        (
            "/html",
            vec!["--expect-json", "/ok=true"],
            "assert.not_json",
            vec!["not JSON", "<html>"],
        ),
    ];
    for (path, args, want, says) in cases {
        let (code, report) = probe(backend.addr(), path, &args).await;
        assert_eq!(code, 1, "{args:?}: {report:?}");
        assert_eq!(class(&report), want, "{args:?}: {report:?}");
        let s = sample(&report);
        assert_eq!(s.status, Some(200), "the status passed: {report:?}");
        assert!(!s.ok);
        let e = error(&report);
        for part in says {
            assert!(
                e.message.contains(part),
                "{args:?}: {} lacks {part}",
                e.message
            );
        }
        assert!(e.hint.contains("expect"), "{}", e.hint);
    }

    let (_, report) = probe_target(serde_json::json!({
        "url": format!("http://{}/headers?X-Powered-By=php", backend.addr()),
        "expect": {"headers_absent": ["x-powered-by"]}
    }))
    .await;
    assert_eq!(class(&report), "assert.header", "{report:?}");
    assert!(
        error(&report).message.contains("present (\"php\")"),
        "{report:?}"
    );

    let (_, report) = probe_target(serde_json::json!({
        "url": format!("http://{}/html", backend.addr()),
        "expect": {"body_not": "Bad Gateway"}
    }))
    .await;
    assert_eq!(class(&report), "assert.body", "{report:?}");
    assert!(
        error(&report).message.contains("expect.body_not"),
        "{report:?}"
    );

    // Several failures: the first is the class, the others are named.
    let (_, report) = probe(
        backend.addr(),
        "/json",
        &[
            "--expect-header",
            "X-Api-Version: ^3$",
            "--expect-body",
            "nope",
        ],
    )
    .await;
    assert_eq!(class(&report), "assert.header");
    assert!(
        error(&report)
            .message
            .contains("(and 1 more failed: assert.body)"),
        "{report:?}"
    );

    // An answer whose status already failed is not judged further.
    let (_, report) = probe(backend.addr(), "/status/503", &["--expect-body", "nope"]).await;
    assert_eq!(class(&report), "http.status", "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_longer_than_what_is_kept() {
    let backend = support::backend().await;
    // 200000 bytes of 'x': the first 64 KiB are kept for the assertions.
    let (code, report) = probe(backend.addr(), "/bytes/200000", &["--expect-body", "^x+$"]).await;
    assert_eq!(code, 0, "{report:?}");
    let (_, report) = probe(backend.addr(), "/bytes/200000", &["--expect-body", "y"]).await;
    assert_eq!(class(&report), "assert.body");
    assert!(
        error(&report)
            .message
            .contains("the first 65536 bytes of the 200000-byte body"),
        "{report:?}"
    );
    let (code, report) = probe_target(serde_json::json!({
        "url": format!("http://{}/bytes/200000", backend.addr()),
        "expect": {"body_not": "y"}
    }))
    .await;
    assert_eq!(code, 0, "{report:?}");
    assert!(
        target(&report)
            .warnings
            .iter()
            .any(|w| w.contains("expect.body_not was checked on the first 65536 bytes")),
        "{report:?}"
    );
    let (_, report) = probe(backend.addr(), "/bytes/200000", &["--expect-json", "/a"]).await;
    assert_eq!(class(&report), "assert.not_json", "{report:?}");
    assert!(error(&report)
        .message
        .contains("longer than the 65536 bytes kept"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_limits_per_sample_and_over_the_samples() {
    let backend = support::backend().await;
    let (code, report) = probe(backend.addr(), "/delay/300", &["--max-ms", "100"]).await;
    assert_eq!(code, 1);
    assert_eq!(class(&report), "assert.latency", "{report:?}");
    let s = sample(&report);
    assert_eq!(s.status, Some(200));
    assert!(s.phases_ms.total >= 300.0, "{report:?}");
    assert!(
        error(&report).message.contains("expect.max_ms is 100"),
        "{report:?}"
    );
    let (code, report) = probe(backend.addr(), "/delay/50", &["--max-ms", "5000"]).await;
    assert_eq!(code, 0, "{report:?}");

    // p90 over three samples: each passes, the target does not.
    let (code, report) = probe_target(serde_json::json!({
        "url": format!("http://{}/delay/120", backend.addr()),
        "samples": 3,
        "expect": {"p90_ms": 100}
    }))
    .await;
    assert_eq!(code, 1, "{report:?}");
    let t = target(&report);
    assert!(t.samples.iter().all(|s| s.ok), "{report:?}");
    assert_eq!(class(&report), "assert.latency");
    assert!(
        error(&report).message.contains("p90 of the 3 samples"),
        "{report:?}"
    );
    let (code, _) = probe_target(serde_json::json!({
        "url": format!("http://{}/delay/10", backend.addr()),
        "samples": 3,
        "expect": {"p90_ms": 2000, "p99_ms": 2000}
    }))
    .await;
    assert_eq!(code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_fails_once_is_ok_and_flaky_with_a_retry() {
    let backend = support::backend().await;
    // Without a retry the reset is the answer.
    let (code, report) = probe(backend.addr(), "/flaky/no-retry/1", &[]).await;
    assert_eq!(code, 1);
    assert_eq!(class(&report), "tcp.reset", "{report:?}");

    let (code, report) = probe(
        backend.addr(),
        "/flaky/retried/1",
        &["--retry", "2", "--retry-interval", "50"],
    )
    .await;
    assert_eq!(code, 0, "{report:?}");
    let t = target(&report);
    assert!(t.ok && t.flaky, "{report:?}");
    let s = sample(&report);
    assert!(s.ok && s.flaky);
    assert_eq!(s.attempts.len(), 1, "{report:?}");
    let first = &s.attempts[0];
    assert!(!first.ok);
    assert_eq!(first.error.as_ref().unwrap().class.name(), "tcp.reset");
    assert!(first.phases_ms.total > 0.0);
    // Each attempt is a call of its own: the backend saw two connections.
    assert_eq!(backend.connections(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_always_fails_keeps_every_attempt_and_the_class_of_the_last() {
    let backend = support::backend().await;
    let started = Instant::now();
    let (code, report) = probe(
        backend.addr(),
        "/reset",
        &["--retry", "2", "--retry-interval", "100"],
    )
    .await;
    assert_eq!(code, 1);
    let t = target(&report);
    assert!(!t.ok && !t.flaky, "{report:?}");
    assert_eq!(class(&report), "tcp.reset");
    let s = sample(&report);
    assert_eq!(s.attempts.len(), 2, "{report:?}");
    for a in &s.attempts {
        assert_eq!(a.error.as_ref().unwrap().class.name(), "tcp.reset");
    }
    assert_eq!(backend.connections(), 3);
    assert!(
        started.elapsed().as_millis() >= 200,
        "the interval was waited"
    );

    // An answer is never tried again: a 503 stays one call.
    let (code, report) = probe(backend.addr(), "/status/503", &["--retry", "3"]).await;
    assert_eq!(code, 1);
    assert_eq!(class(&report), "http.status");
    assert!(sample(&report).attempts.is_empty(), "{report:?}");
    assert_eq!(backend.connections(), 4);

    // No retry past the invocation's deadline: the interval does not fit.
    let (_, report) = probe_cli(
        &[
            &format!("http://{}/reset", backend.addr()),
            "--retry",
            "3",
            "--retry-interval",
            "5000",
        ],
        &[("APIGW_DEADLINE_MS", "1000")],
    )
    .await;
    assert_eq!(class(&report), "tcp.reset");
    assert!(sample(&report).attempts.is_empty(), "{report:?}");
    assert!(
        error(&report).message.contains("not tried again"),
        "{report:?}"
    );
}

/// A TLS gateway for the demo group (and the custom domain `api.example.test`) with a certificate
/// from a fresh test CA for those names, `days_left` days left, speaking only `version`.
async fn tls_gateway(
    backend: SocketAddr,
    days_left: u64,
    version: &'static rustls::SupportedProtocolVersion,
) -> (Gateway, tempfile::TempDir, std::path::PathBuf) {
    let domain = standin::vpc_domain(standin::DEMO_GROUP, standin::DEMO_REGION);
    let mut config = GatewayConfig::demo_cloudapi(backend);
    config.groups[0].domains.push("api.example.test".into());
    let pki = TestPki::issue(&[&domain, "api.example.test"], days_left, &[version]);
    let gw = Gateway::start_tls(SocketAddr::new(LOCAL, 0), config, pki.server.clone())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    (gw, dir, ca)
}

/// `probe --json https://HOST:PORT/web/cloudapi --resolve …` trusting the gateway's CA.
async fn probe_tls(gw: &Gateway, host: &str, ca: &std::path::Path, args: &[&str]) -> (i32, Report) {
    let port = gw.addr().port();
    let url = format!("https://{host}:{port}/web/cloudapi");
    let resolve = format!("{host}:{port}:127.0.0.1");
    let mut all = vec![url.as_str(), "--resolve", resolve.as_str()];
    all.extend_from_slice(args);
    probe_cli(&all, &[("APIGW_CA_FILE", ca.to_str().unwrap())]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_facts_of_a_tls13_server_with_400_days_left() {
    let backend = support::backend().await;
    let domain = standin::vpc_domain(standin::DEMO_GROUP, standin::DEMO_REGION);
    let (gw, _dir, ca) = tls_gateway(backend.addr(), 400, &rustls::version::TLS13).await;
    let (code, report) = probe_tls(&gw, &domain, &ca, &["-n", "2"]).await;
    assert_eq!(code, 0, "{report:?}");
    for s in &target(&report).samples {
        let tls = s.tls.as_ref().expect("TLS facts on every sample");
        assert_eq!(tls.version, "TLS 1.3");
        // Offered first, as browsers and Go do; the stand-in's rustls follows the client's order.
        assert_eq!(tls.cipher_suite, "TLS_AES_128_GCM_SHA256", "{tls:?}");
        assert_eq!(tls.alpn.as_deref(), Some("http/1.1"), "{tls:?}");
        assert_eq!(tls.chain_length, 1);
        let c = tls.certificate.as_ref().expect("the certificate");
        assert_eq!(c.subject, format!("CN={domain}"));
        assert_eq!(c.issuer, "CN=apigw-vpc-probe test CA");
        assert_eq!(c.sans, [domain.as_str(), "api.example.test"]);
        assert_eq!(c.days_left, 400, "{c:?}");
        assert_eq!(c.sha256.len(), 64);
        assert!(c
            .sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(tls.earliest_expiry_unix, Some(c.not_after_unix));
        assert_eq!(tls.earliest_expiry.as_deref(), Some(c.not_after.as_str()));
        assert!(
            c.not_after.ends_with('Z') && c.not_before < c.not_after,
            "{c:?}"
        );
    }
    assert_eq!(
        target(&report).tls(),
        target(&report).samples[1].tls.as_ref()
    );
    // Each sample measured a whole handshake: none resumed the first one's session (the
    // server keeps sessions, as rustls' servers do by default).
    assert_eq!(gw.tls_handshakes(), (2, 0));
    let plain = format!("http://{}/web/cloudapi", backend.addr());
    let (_, report) = probe_cli(&[&plain], &[]).await;
    assert!(sample(&report).tls.is_none(), "no TLS facts over http://");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls12_server_with_5_days_left_is_tls_expiring() {
    let backend = support::backend().await;
    let domain = standin::vpc_domain(standin::DEMO_GROUP, standin::DEMO_REGION);
    let (gw, _dir, ca) = tls_gateway(backend.addr(), 5, &rustls::version::TLS12).await;

    // The default minimum (14 days) applies to https.
    let (code, report) = probe_tls(&gw, "api.example.test", &ca, &[]).await;
    assert_eq!(code, 1, "{report:?}");
    assert_eq!(class(&report), "tls.expiring", "{report:?}");
    let s = sample(&report);
    assert_eq!(s.status, Some(200), "the call itself passed: {report:?}");
    let tls = s.tls.as_ref().expect("TLS facts");
    assert_eq!(tls.version, "TLS 1.2");
    assert!(
        tls.cipher_suite.starts_with("TLS_ECDHE_")
            && tls.cipher_suite.ends_with("_WITH_AES_128_GCM_SHA256"),
        "{tls:?}"
    );
    assert_eq!(tls.certificate.as_ref().unwrap().days_left, 5);
    let e = error(&report);
    assert!(e.message.contains("5 days left"), "{}", e.message);
    assert!(
        e.message.contains("expect.cert_days_min is 14"),
        "{}",
        e.message
    );
    assert!(e.hint.contains("custom domain"), "{}", e.hint);

    // The group's own alicloudapi.com domain: the certificate is Alibaba's.
    let (_, report) = probe_tls(&gw, &domain, &ca, &[]).await;
    assert_eq!(class(&report), "tls.expiring");
    assert!(
        error(&report).hint.contains("Alibaba Cloud's own"),
        "{report:?}"
    );

    // A lower minimum, or none.
    for days in ["5", "0"] {
        let (code, report) =
            probe_tls(&gw, "api.example.test", &ca, &["--cert-days-min", days]).await;
        assert_eq!(code, 0, "--cert-days-min {days}: {report:?}");
    }
    let (_, report) = probe_tls(&gw, "api.example.test", &ca, &["--cert-days-min", "6"]).await;
    assert_eq!(class(&report), "tls.expiring");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_trigger_takes_the_same_assertions_and_refuses_invalid_ones_before_probing() {
    let backend = support::backend().await;
    let function = support::Server::start(&[("APIGW_ALLOW_HOSTS", "127.0.0.1")]);
    let json_url = format!("http://{}/json", backend.addr());
    let probe_url = |params: &[(&str, &str)]| {
        let mut all = vec![("url", json_url.as_str())];
        all.extend_from_slice(params);
        url::Url::parse_with_params(&function.url("/probe"), all).unwrap()
    };
    let answer = support::get(
        probe_url(&[
            ("expect_header", "X-Api-Version: ^2$"),
            ("expect_json", "/data/0/id=7"),
            ("expect_body", "probe"),
            ("max_ms", "5000"),
        ])
        .as_str(),
        &[],
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let answer = support::get(probe_url(&[("expect_json", "/data/0/id=8")]).as_str(), &[]).await;
    assert_eq!(answer.status, 502);
    assert_eq!(class(&answer.report()), "assert.json");
    let before = backend.connections();
    for bad in [
        ("expect_body", "("),
        ("expect_json", "data/0/id=7"),
        ("expect_header", "X-A: [z-a]"),
    ] {
        let answer = support::get(probe_url(&[bad]).as_str(), &[]).await;
        assert_eq!(answer.status, 400, "{bad:?}");
        assert_eq!(answer.json()["errorType"], "config.invalid", "{bad:?}");
    }
    assert_eq!(backend.connections(), before, "an invalid assertion probed");

    // An event's target: an invalid pointer is config.invalid naming it.
    let event = serde_json::json!({
        "url": json_url,
        "expect": {"json": [{"pointer": "data", "equals": 7}]}
    });
    let answer = support::invoke(&function, "ev-assert", event.to_string()).await;
    assert_eq!(answer.status, 404);
    let body = answer.json();
    assert_eq!(body["errorType"], "config.invalid", "{body}");
    let message = body["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("must start with '/'"), "{body}");
    assert_eq!(backend.connections(), before, "an invalid assertion probed");
}

#[test]
fn the_readme_example_of_a_checked_target_is_valid() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme.find("### Checks").expect("the Checks section")..];
    let start = section.find("```json\n").expect("its example") + "```json\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let example = example.replace('…', standin::DEMO_GROUP);
    let spec: apigw_vpc_probe::TargetSpec =
        serde_json::from_str(&example).unwrap_or_else(|e| panic!("{e}: {example}"));
    let expect = spec.expect.expect("expect");
    assert_eq!((expect.json.len(), expect.headers.len()), (3, 2));
    assert_eq!(spec.retry.map(|r| r.count), Some(2));
}
