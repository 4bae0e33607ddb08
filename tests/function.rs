//! The function as FC runs it (the real binary's `serve`) against the stand-in: the three ways
//! FC invokes it, the time budget, and concurrent invocations.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use apigw_standin::StandIn;
use apigw_vpc_probe::report::Trigger;
use serde_json::json;
use support::{class, Server};

async fn setup() -> (StandIn, Server) {
    let s = StandIn::start(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .expect("stand-in");
    let targets = json!([
        {"name": "cloudapi", "url": s.url("/web/cloudapi"), "stage": "RELEASE"},
        {"name": "slow", "url": s.url("/delay/3000")},
        {"name": "slow400", "url": s.url("/delay/400")},
        {"name": "preview", "url": s.url("/web/preview")},
    ])
    .to_string();
    let dns = s.dns_addr().to_string();
    let server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_DNS_SERVERS", dns.as_str()),
        ("FC_REGION", "cn-shanghai"),
        // The HTTP trigger's URL resolves to the stand-in on loopback: named literally.
        ("APIGW_ALLOW_HOSTS", "*.alicloudapi.com,127.0.0.1"),
    ]);
    (s, server)
}

fn fc_headers<'a>(id: &'a str, timeout_s: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("x-fc-request-id", id),
        ("x-fc-control-path", "/invoke"),
        ("x-fc-function-timeout", timeout_s),
        ("x-fc-region", "cn-shanghai"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_timer_and_http_trigger_invocations() {
    let (s, server) = setup().await;
    // Console "Test" with a named target.
    let answer = support::invoke(&server, "console-1", r#"{"target":"cloudapi"}"#).await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.header("x-fc-status"), Some("200"));
    let report = answer.report();
    assert_eq!(report.trigger, Trigger::Event);
    assert_eq!(report.request_id, "console-1");
    let region = report.function.as_ref().and_then(|f| f.region.as_deref());
    assert_eq!(region, Some("cn-shanghai"));
    assert!(support::target(&report).ok, "{report:?}");
    answer.assert_allowed_headers();

    // Timer trigger whose payload names a target that is not published to RELEASE.
    let timer = json!({
        "triggerTime": "2026-11-24T05:49:00Z",
        "triggerName": "probe-every-minute",
        "payload": "{\"target\": \"preview\"}",
    });
    let answer = support::invoke(&server, "timer-1", timer.to_string()).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.header("x-fc-status"), Some("404"));
    let report = answer.report();
    assert_eq!(report.trigger, Trigger::Timer);
    let timer = report.timer.as_ref().expect("the timer's fields");
    assert_eq!(timer.trigger_name, "probe-every-minute");
    assert_eq!(timer.trigger_time, "2026-11-24T05:49:00Z");
    assert_eq!(class(&report), "gateway.I404NF");

    // HTTP trigger with an allow-listed URL and samples.
    let url = url::Url::parse_with_params(
        &server.url("/probe"),
        [("url", s.url("/web/cloudapi")), ("samples", "3".into())],
    )
    .unwrap();
    let answer = support::get(url.as_str(), &[("x-fc-control-path", "/http-invoke")]).await;
    assert_eq!(answer.status, 200);
    let report = answer.report();
    assert_eq!(report.trigger, Trigger::Http);
    assert_eq!(support::target(&report).samples.len(), 3);
    let timing = answer.header("server-timing").unwrap();
    assert!(
        timing.contains("ttfb;dur=") && timing.contains("total;dur="),
        "{timing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_past_the_function_timeout_is_budget_exceeded() {
    let (_s, server) = setup().await;
    let started = Instant::now();
    // FC gives 1 s; the margin (500 ms) leaves a 500 ms budget for a 3 s backend.
    let answer = support::post(
        &server.url("/invoke"),
        &fc_headers("budget-1", "1"),
        r#"{"target":"slow"}"#,
    )
    .await;
    let elapsed = started.elapsed();
    assert_eq!(answer.status, 404);
    let report = answer.report();
    assert_eq!(class(&report), "budget.exceeded", "{report:?}");
    let budget = report.function.as_ref().map(|f| f.budget_ms);
    assert_eq!(budget, Some(500.0));
    assert!(
        elapsed < Duration::from_millis(1000),
        "answered after {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_do_not_wait_for_each_other() {
    let (_s, server) = setup().await;
    let started = Instant::now();
    let calls = (0..8).map(|i| {
        let url = server.url("/invoke");
        async move {
            let id = format!("conc-{i}");
            support::post(&url, &fc_headers(&id, "30"), r#"{"target":"slow400"}"#).await
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    let elapsed = started.elapsed();
    for a in &answers {
        assert_eq!(a.status, 200);
    }
    let ids: std::collections::HashSet<String> =
        answers.iter().map(|a| a.report().request_id).collect();
    assert_eq!(ids.len(), 8, "each answer carries its own request id");
    // Eight 400 ms probes one after the other would take 3.2 s.
    assert!(elapsed < Duration::from_millis(2000), "took {elapsed:?}");
}
