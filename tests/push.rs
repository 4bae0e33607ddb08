//! Pushed metrics over the real binary, invoked as FC invokes a timer: CloudMonitor's
//! `PutCustomMetric` against the stand-in control plane (which verifies the V3 signature and
//! checks the documented rules), and remote write to a receiver written here that records
//! what it gets and answers what a test tells it (the real Prometheus receiver is in
//! tests/metrics.rs). A push never changes `ok`, never runs past the invocation's deadline,
//! and no credential byte reaches the answer or the log.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apigw_standin::{
    self as standin, Fault, StandIn, DEMO_STS_ACCESS_KEY_ID, DEMO_STS_ACCESS_KEY_SECRET,
    DEMO_STS_SECURITY_TOKEN,
};
use apigw_vpc_probe::report::{Report, SinkReport};
use base64::Engine as _;
use prost::Message;
use serde_json::{json, Value};
use support::{Answer, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The remote write 1.0 messages, as the spec's `remote.proto` / `types.proto` define them
/// (written again here, so that the test reads the wire, not the function's own types).
#[derive(Clone, PartialEq, Message)]
struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, Message)]
struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    samples: Vec<PSample>,
}

#[derive(Clone, PartialEq, Message)]
struct Label {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

#[derive(Clone, PartialEq, Message)]
struct PSample {
    #[prost(double, tag = "1")]
    value: f64,
    #[prost(int64, tag = "2")]
    timestamp: i64,
}

/// One request the receiver got: headers (lower-case names) and the body.
#[derive(Clone, Debug)]
struct Received {
    head: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.head
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn write_request(&self) -> WriteRequest {
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&self.body)
            .expect("snappy block format");
        WriteRequest::decode(raw.as_slice()).expect("a WriteRequest")
    }
}

/// How the receiver answers.
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    /// This status, and a body echoing the request's `Authorization` (a receiver that echoes
    /// what it got is the case the redaction must cover).
    Status(u16),
    /// Accepts and never answers.
    Silent,
}

/// A remote write receiver on 127.0.0.1: HTTP/1.1, one request per connection.
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Answers with `behaviours` in turn, the last one for every request after.
    async fn start(behaviours: &[Behaviour]) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Mutex::new(behaviours.to_vec()));
        let (g, b) = (got.clone(), behaviour);
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (g, b) = (g.clone(), b.clone());
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut conn).await else {
                        return;
                    };
                    let auth = req.header("authorization").unwrap_or("").to_owned();
                    g.lock().unwrap().push(req);
                    let now = {
                        let mut list = b.lock().unwrap();
                        if list.len() > 1 {
                            list.remove(0)
                        } else {
                            list[0]
                        }
                    };
                    match now {
                        Behaviour::Silent => {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                        }
                        Behaviour::Status(status) => {
                            let decoded = auth
                                .strip_prefix("Basic ")
                                .and_then(|b| {
                                    base64::engine::general_purpose::STANDARD.decode(b).ok()
                                })
                                .map(|b| String::from_utf8_lossy(&b).into_owned())
                                .unwrap_or_default();
                            let body = if status < 300 {
                                String::new()
                            } else {
                                format!("refused {auth} ({decoded})")
                            };
                            let answer = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            );
                            let _ = conn.write_all(answer.as_bytes()).await;
                        }
                    }
                });
            }
        });
        Self { addr, got }
    }

    fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

async fn read_request(conn: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head_text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut head = Vec::new();
    for line in head_text.lines().skip(1) {
        if let Some((n, v)) = line.split_once(':') {
            head.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    head.push((
        ":request-line".into(),
        head_text.lines().next().unwrap_or("").to_owned(),
    ));
    let length: usize = head
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received { head, body })
}

/// FC's headers of a timer invocation, with the role's STS credentials.
fn fc_headers(request_id: &str, timeout_s: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-fc-request-id", request_id.to_owned()),
        ("x-fc-control-path", "/invoke".into()),
        ("content-type", "application/octet-stream".into()),
        ("x-fc-function-name", standin::DEMO_FUNCTION.into()),
        ("x-fc-region", standin::DEMO_REGION.into()),
        ("x-fc-function-timeout", timeout_s.into()),
        ("x-fc-function-memory", "128".into()),
        ("x-fc-account-id", standin::DEMO_ACCOUNT_ID.to_string()),
        ("x-fc-access-key-id", DEMO_STS_ACCESS_KEY_ID.into()),
        ("x-fc-access-key-secret", DEMO_STS_ACCESS_KEY_SECRET.into()),
        ("x-fc-security-token", DEMO_STS_SECURITY_TOKEN.into()),
    ]
}

/// A timer invocation (FC's timer event), and how long the answer took.
async fn timer(server: &Server, request_id: &str, timeout_s: &str) -> (Answer, Duration) {
    let headers = fc_headers(request_id, timeout_s);
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let event = json!({"triggerTime": "2026-11-29T07:00:00Z", "triggerName": "every-minute"});
    let started = Instant::now();
    let a = support::post(&server.url("/invoke"), &h, event.to_string()).await;
    (a, started.elapsed())
}

fn cms(report: &Report) -> &SinkReport {
    report
        .push
        .as_ref()
        .and_then(|p| p.cms.as_ref())
        .unwrap_or_else(|| panic!("no push.cms in {report:?}"))
}

fn remote_write(report: &Report) -> &SinkReport {
    report
        .push
        .as_ref()
        .and_then(|p| p.remote_write.as_ref())
        .unwrap_or_else(|| panic!("no push.remote_write in {report:?}"))
}

fn closed_url(s: &StandIn, path: &str) -> String {
    format!("http://{}{path}", s.closed_addr())
}

/// The function probing the stand-in's gateway and pushing to CloudMonitor at the stand-in's
/// control plane.
fn cms_server(s: &StandIn, targets: &Value, more: &[(&str, &str)]) -> Server {
    let targets = targets.to_string();
    let dns = s.dns_addr().to_string();
    let cp = s.control_plane_url();
    let mut env = vec![
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_DNS_SERVERS", dns.as_str()),
        ("APIGW_CMS_METRICS", "on"),
        ("APIGW_CMS_GROUP_ID", "42"),
        ("APIGW_OPENAPI_ENDPOINT_CMS", cp.as_str()),
        ("APIGW_CONFIG_CHECK", "off"),
    ];
    env.extend_from_slice(more);
    Server::start(&env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudmonitor_gets_the_entries_signed_split_and_checked() {
    let s = StandIn::start(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap();
    // 2 entries for the passing target, 3 for each failing one: 23 valid entries, more than
    // one call takes (21); and a target whose name CloudMonitor would change.
    let mut targets =
        vec![json!({"name": "cloudapi", "url": s.url("/web/cloudapi"), "stage": "RELEASE"})];
    for i in 1..=7 {
        targets.push(json!({"name": format!("down-{i}"), "url": closed_url(&s, "/")}));
    }
    targets.push(json!({"name": "bad name=1", "url": closed_url(&s, "/")}));
    let server = cms_server(&s, &json!(targets), &[]);

    let (a, _) = timer(&server, "cms-1", "30").await;
    let report = a.report();
    assert!(!report.ok);
    let sink = cms(&report);
    assert_eq!(sink.sent, 23, "{sink:?}");
    assert_eq!(sink.dropped, 3, "{sink:?}");
    assert_eq!(sink.requests, 2, "21 + 2 entries: {sink:?}");
    assert!(!sink.ok);
    let e = sink.error.as_ref().unwrap();
    assert_eq!(e.class.name(), "push.invalid", "{e:?}");
    assert!(e.message.contains("bad name=1"), "{e:?}");
    assert_eq!(sink.status, Some(200));
    assert!(sink.request_id.is_some());
    assert_eq!(
        sink.endpoint.as_deref(),
        Some(s.control_plane_url().as_str())
    );
    assert!(report.push.as_ref().unwrap().remote_write.is_none());

    // What CloudMonitor received: validated by the stand-in, keyed as documented.
    let got = s.control_plane.metrics();
    assert_eq!(got.len(), 23, "{got:#?}");
    let find = |name: &str, target: &str| {
        got.iter()
            .find(|m| m["MetricName"] == name && m["Dimensions"]["target"] == target)
            .unwrap_or_else(|| panic!("{name} {target} in {got:#?}"))
    };
    assert_eq!(find("probe_success", "cloudapi")["Values"]["value"], 1.0);
    assert_eq!(find("probe_success", "down-3")["Values"]["value"], 0.0);
    let failure = find("probe_failure_info", "down-3");
    assert_eq!(failure["Dimensions"]["class"], "tcp.refused", "{failure}");
    assert_eq!(failure["Dimensions"]["phase"], "connect", "{failure}");
    assert_eq!(failure["GroupId"], 42);
    assert_eq!(failure["Type"], 0);
    let time: u64 = failure["Time"].as_str().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(now - time < 60_000, "milliseconds, now-ish: {time}");
    assert!(
        find("probe_duration_seconds", "cloudapi")["Values"]["value"]
            .as_f64()
            .is_some_and(|v| v > 0.0)
    );
    assert!(!got
        .iter()
        .any(|m| m["Dimensions"]["target"] == "bad name=1"));

    // Signed with the role's STS key, and the signature verified (a wrong one is refused).
    let calls: Vec<_> = s
        .control_plane
        .requests()
        .into_iter()
        .filter(|r| r.action == "PutCustomMetric")
        .collect();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    for c in &calls {
        assert_eq!(c.access_key_id, DEMO_STS_ACCESS_KEY_ID, "{c:?}");
        assert_eq!(c.status, 200, "{c:?}");
        assert_eq!(c.version, "2019-01-01");
    }
    // deploy/ram-policy-cms.json grants exactly what the push called (the check is off).
    let called: std::collections::BTreeSet<String> = s
        .control_plane
        .requests()
        .iter()
        .map(|r| {
            assert_eq!(r.version, "2019-01-01", "CloudMonitor's: {r:?}");
            format!("cms:{}", r.action)
        })
        .collect();
    assert_eq!(support::policy_actions("ram-policy-cms.json"), called);
    let line = server.wait_for_line("the cms push line", |l| {
        l.contains("\"sink\":\"cms\"") && l.contains("push failed")
    });
    assert!(line.contains("push.invalid"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudmonitor_faults_are_reported_with_their_class_and_never_change_ok() {
    let s = StandIn::start(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap();
    let targets = json!([{"name": "cloudapi", "url": s.url("/web/cloudapi"), "stage": "RELEASE"}]);
    let server = cms_server(&s, &targets, &[]);

    let (a, _) = timer(&server, "cms-ok", "30").await;
    assert_eq!(a.status, 200);
    let report = a.report();
    assert!(report.ok && cms(&report).ok, "{report:?}");
    assert!(cms(&report).error.is_none());

    // Throttled, also on the retry the OpenAPI client makes: push.throttled, the answer 200.
    s.inject(
        "PutCustomMetric",
        Fault::from_json(&json!({"error": "Throttling.User", "retryAfterMs": 50})).unwrap(),
    );
    let (a, _) = timer(&server, "cms-throttled", "30").await;
    assert_eq!(a.status, 200, "a push failure never fails the invocation");
    let report = a.report();
    assert!(report.ok);
    let sink = cms(&report);
    let e = sink.error.as_ref().unwrap();
    assert_eq!(e.class.name(), "push.throttled", "{sink:?}");
    assert_eq!(e.code.as_deref(), Some("Throttling.User"));
    assert!(!e.hint.is_empty());
    assert_eq!(sink.sent, 0);
    s.control_plane.clear_faults();

    // A RAM denial: push.denied, Forbidden.RAM, the action to grant in the hint.
    s.deny(DEMO_STS_ACCESS_KEY_ID, "cms:PutCustomMetric")
        .unwrap();
    let (a, _) = timer(&server, "cms-denied", "30").await;
    let report = a.report();
    assert!(report.ok);
    let e = cms(&report).error.clone().unwrap();
    assert_eq!(e.class.name(), "push.denied", "{e:?}");
    assert_eq!(e.code.as_deref(), Some("Forbidden.RAM"));
    assert!(e.hint.contains("cms:PutCustomMetric"), "{e:?}");
    assert_eq!(cms(&report).status, Some(403));

    // Without role credentials: push.unconfigured, nothing sent.
    let h = [
        ("x-fc-request-id", "cms-nocreds"),
        ("x-fc-control-path", "/invoke"),
        ("x-fc-region", "cn-shanghai"),
    ];
    let event = json!({"triggerTime": "2026-11-29T07:00:00Z", "triggerName": "t"});
    let a = support::post(&server.url("/invoke"), &h, event.to_string()).await;
    let e = cms(&a.report()).error.clone().unwrap();
    assert_eq!(e.class.name(), "push.unconfigured", "{e:?}");

    let log = server.stdout().join("\n");
    assert!(
        log.contains("push.denied") && log.contains("push.throttled"),
        "{log}"
    );
}

/// A sink that never answers or cannot be reached: the answer still comes within the
/// invocation's deadline, `ok` as the probe found it; a probe that runs out of time still gets
/// its failure pushed, because the push's share was kept back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_or_unreachable_sink_keeps_the_deadline_and_never_changes_ok() {
    let s = StandIn::start(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap();
    let silent = Receiver::start(&[Behaviour::Silent]).await;
    let targets = json!([{"name": "cloudapi", "url": s.url("/web/cloudapi"), "stage": "RELEASE"}])
        .to_string();
    let dns = s.dns_addr().to_string();
    let silent_url = silent.url();
    let server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_DNS_SERVERS", dns.as_str()),
        ("APIGW_REMOTE_WRITE_URL", silent_url.as_str()),
        ("APIGW_DEADLINE_MS", "3000"),
        // More than half the deadline: the share is capped at half (1500 ms).
        ("APIGW_PUSH_BUDGET_MS", "10000"),
    ]);
    let (a, took) = timer(&server, "slow-sink", "30").await;
    assert_eq!(a.status, 200);
    let report = a.report();
    assert!(report.ok, "{report:?}");
    let rw = remote_write(&report);
    assert_eq!(
        rw.error.as_ref().unwrap().class.name(),
        "push.timeout",
        "{rw:?}"
    );
    assert!(!rw.ok);
    assert!(took < Duration::from_millis(3000 + 700), "{took:?}");
    // The push may use APIGW_PUSH_BUDGET_MS (10 s here), but never what is past the deadline
    // (3 s from the invocation's start, so less from the push's). The timer ends it on a later
    // millisecond tick, and a loaded machine wakes it later still: a CI run read 3001.6 ms
    // after a probe of a few ms. The slack is far below what the 10 s budget would show.
    const TIMER_SLACK_MS: f64 = 100.0;
    assert!(
        rw.duration_ms >= 1000.0 && rw.duration_ms < 3000.0 + TIMER_SLACK_MS,
        "{rw:?}"
    );
    assert_eq!(silent.received().len(), 1);

    // Nothing listens: push.unreachable, at once.
    let closed = closed_url(&s, "/api/v1/write");
    let server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_DNS_SERVERS", dns.as_str()),
        ("APIGW_REMOTE_WRITE_URL", closed.as_str()),
    ]);
    let (a, took) = timer(&server, "closed-sink", "30").await;
    let report = a.report();
    assert!(report.ok);
    let rw = remote_write(&report);
    assert_eq!(
        rw.error.as_ref().unwrap().class.name(),
        "push.unreachable",
        "{rw:?}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(
        rw.error.as_ref().unwrap().message.contains("refused"),
        "{rw:?}"
    );

    // A target that never answers: the probe stops at the deadline less the push's share
    // (budget.exceeded), and that failure is pushed within the deadline.
    let backend = support::silent_backend().await;
    let receiver = Receiver::start(&[Behaviour::Status(204)]).await;
    let hanging =
        json!([{"name": "hangs", "url": format!("http://{}/", backend.addr())}]).to_string();
    let url = receiver.url();
    let server = Server::start(&[
        ("APIGW_TARGETS", hanging.as_str()),
        ("APIGW_REMOTE_WRITE_URL", url.as_str()),
        ("APIGW_DEADLINE_MS", "3000"),
        ("APIGW_TIMEOUT_MS", "20000"),
        ("APIGW_PUSH_BUDGET_MS", "1000"),
    ]);
    let (a, took) = timer(&server, "hanging-target", "30").await;
    let report = a.report();
    assert!(!report.ok);
    assert_eq!(support::class(&report), "budget.exceeded", "{report:?}");
    assert!(remote_write(&report).ok, "{report:?}");
    assert!(took < Duration::from_millis(3000 + 700), "{took:?}");
    let total = support::sample(&report).phases_ms.total;
    assert!(
        total < 2300.0,
        "the probe kept the push's share back: {total}"
    );
    let pushed = receiver.received()[0].write_request();
    let failure = pushed
        .timeseries
        .iter()
        .find(|t| {
            t.labels
                .iter()
                .any(|l| l.name == "__name__" && l.value == "probe_failure_info")
        })
        .expect("probe_failure_info pushed");
    assert!(
        failure
            .labels
            .iter()
            .any(|l| l.name == "class" && l.value == "budget.exceeded"),
        "{failure:?}"
    );
}

/// `role`: BasicAuth with the AccessKeyId as the user and the secret, `$` and the STS token as
/// the password (SLS MetricStore); the request as remote write 1.0 says; a receiver that
/// echoes the credentials in its refusal gets them masked in the answer and the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_role_auth_wire_format_and_no_credential_in_any_output() {
    let s = StandIn::start(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap();
    let receiver = Receiver::start(&[Behaviour::Status(204), Behaviour::Status(401)]).await;
    let targets = json!([
        {"name": "cloudapi", "url": s.url("/web/cloudapi"), "stage": "RELEASE"},
        {"name": "down", "url": closed_url(&s, "/")},
    ])
    .to_string();
    let dns = s.dns_addr().to_string();
    let url = receiver.url();
    let server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_DNS_SERVERS", dns.as_str()),
        ("APIGW_REMOTE_WRITE_URL", url.as_str()),
        ("APIGW_REMOTE_WRITE_AUTH", "role"),
        ("APIGW_REMOTE_WRITE_JOB", "vpc-probe"),
    ]);
    let (a, _) = timer(&server, "role-1", "30").await;
    let report = a.report();
    let rw = remote_write(&report);
    assert!(rw.ok, "{rw:?}");
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{DEMO_STS_ACCESS_KEY_ID}:{DEMO_STS_ACCESS_KEY_SECRET}${DEMO_STS_SECURITY_TOKEN}"
        ))
    );
    assert_eq!(r.header("authorization"), Some(want.as_str()));
    assert_eq!(
        r.header(":request-line"),
        Some("POST /api/v1/write HTTP/1.1")
    );
    assert_eq!(r.header("content-encoding"), Some("snappy"));
    assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(r.header("x-prometheus-remote-write-version"), Some("0.1.0"));
    assert!(r
        .header("user-agent")
        .is_some_and(|u| u.starts_with("apigw-vpc-probe/")));
    let w = r.write_request();
    assert_eq!(w.timeseries.len(), rw.sent);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for t in &w.timeseries {
        let names: Vec<&str> = t.labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names[0], "__name__", "{names:?}");
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert!(t
            .labels
            .iter()
            .any(|l| l.name == "job" && l.value == "vpc-probe"));
        assert_eq!(t.samples.len(), 1);
        assert!((now - t.samples[0].timestamp).abs() < 60_000, "ms: {t:?}");
    }
    let value = |name: &str, instance: &str| {
        w.timeseries
            .iter()
            .find(|t| {
                t.labels
                    .iter()
                    .any(|l| l.name == "__name__" && l.value == name)
                    && t.labels
                        .iter()
                        .any(|l| l.name == "instance" && l.value == instance)
            })
            .map(|t| t.samples[0].value)
    };
    assert_eq!(value("probe_success", "cloudapi"), Some(1.0));
    assert_eq!(value("probe_success", "down"), Some(0.0));
    assert_eq!(value("probe_failure_info", "down"), Some(1.0));
    assert_eq!(value("probe_failure_info", "cloudapi"), None);

    // The receiver refuses and echoes the header and its decoded credentials.
    let (a, _) = timer(&server, "role-2", "30").await;
    let report = a.report();
    let e = remote_write(&report).error.clone().unwrap();
    assert_eq!(e.class.name(), "push.denied", "{e:?}");
    assert!(
        e.message.contains("401") && e.message.contains("refused"),
        "{e:?}"
    );
    let encoded = want.trim_start_matches("Basic ");
    let log = server.stdout().join("\n") + &server.stderr().join("\n");
    for secret in [DEMO_STS_ACCESS_KEY_SECRET, DEMO_STS_SECURITY_TOKEN, encoded] {
        assert!(
            !a.body.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in the answer"
        );
        assert!(!log.contains(secret), "{secret} in the log");
    }
    assert!(log.contains("push.denied"), "{log}");
}

/// `basic`: the configured password never appears in the answer or the log, also when the
/// receiver echoes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_basic_password_stays_out_of_every_output() {
    let receiver = Receiver::start(&[Behaviour::Status(403)]).await;
    let backend = support::backend().await;
    let targets =
        json!([{"name": "web", "url": format!("http://{}/web/cloudapi", backend.addr())}])
            .to_string();
    let url = receiver.url();
    let password = "remote-write-password-7f3a";
    let server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_REMOTE_WRITE_URL", url.as_str()),
        ("APIGW_REMOTE_WRITE_USERNAME", "prober"),
        ("APIGW_REMOTE_WRITE_PASSWORD", password),
    ]);
    let (a, _) = timer(&server, "basic-1", "30").await;
    let report = a.report();
    assert!(report.ok, "{report:?}");
    let e = remote_write(&report).error.clone().unwrap();
    assert_eq!(e.class.name(), "push.denied");
    let got = receiver.received();
    let auth = got[0].header("authorization").unwrap().to_owned();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth.trim_start_matches("Basic "))
        .unwrap();
    assert_eq!(decoded, format!("prober:{password}").as_bytes());
    let encoded = auth.trim_start_matches("Basic ").to_owned();
    let log = server.stdout().join("\n") + &server.stderr().join("\n");
    for secret in [password, encoded.as_str()] {
        assert!(
            !a.body.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in the answer"
        );
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

/// The venv's python: `$PY_SDK` when set (then missing is a failure), else
/// `target/py-sdk/bin/python` if present, else `None` (the caller skips).
fn py_sdk() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("PY_SDK").filter(|p| !p.is_empty()) {
        let p = std::path::PathBuf::from(p);
        assert!(p.exists(), "PY_SDK={} does not exist", p.display());
        return Some(p);
    }
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py-sdk/bin/python");
    if p.exists() {
        return Some(p);
    }
    println!("SKIPPED (python sdk): run make py-sdk");
    None
}

/// The function's `PutCustomMetric` parameters are exactly those the official SDK
/// (`alibabacloud_cms20190101`) sends for the same entries: names, numbering and values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_custom_metric_parameters_match_the_official_sdk() {
    let Some(python) = py_sdk() else {
        return;
    };
    let s = StandIn::start(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap();
    let targets = json!([
        {"name": "cloudapi", "url": s.url("/web/cloudapi"), "stage": "RELEASE"},
        {"name": "down", "url": closed_url(&s, "/")},
    ]);
    let server = cms_server(&s, &targets, &[]);
    let (a, _) = timer(&server, "cms-sdk", "30").await;
    assert!(cms(&a.report()).ok, "{}", String::from_utf8_lossy(&a.body));
    let ours = s
        .control_plane
        .requests()
        .into_iter()
        .find(|r| r.action == "PutCustomMetric")
        .expect("a PutCustomMetric call")
        .params;
    assert_eq!(
        ours.len(),
        5 * 6,
        "5 entries of 6 fields, nothing else: {ours:#?}"
    );

    let mut child = std::process::Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/py/cms_put_custom_metric.py"
        ))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(serde_json::to_string(&ours).unwrap().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sdk: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sdk, ours);
}
