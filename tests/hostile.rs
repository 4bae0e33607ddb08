//! The runtime server (the real binary's `serve`) under hostile or broken clients, over real
//! sockets on 127.0.0.1: requests that trickle in or stall, more connections than it takes,
//! a probe that calls the function itself, SIGTERM with requests still running, and invalid
//! targets written in an HTTP-trigger request.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{class, error, get, target, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response read off a raw connection.
#[derive(Debug)]
struct Raw {
    status: u16,
    head: String,
    body: Value,
    /// From the first byte sent until the server closed the connection.
    closed_after: Duration,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `head` at once, then `trickle` one byte every `every` (until the server stops
/// reading), and reads until the server closes the connection. `None` when it has not closed
/// it within `within`.
async fn send_slowly(
    server: &Server,
    head: &str,
    trickle: &[u8],
    every: Duration,
    within: Duration,
) -> Option<Raw> {
    let stream = TcpStream::connect(server.addr()).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let started = Instant::now();
    let head = head.to_owned();
    let trickle = trickle.to_vec();
    let writing = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for b in trickle {
            tokio::time::sleep(every).await;
            if writer.write_all(&[b]).await.is_err() {
                return;
            }
        }
        // Keep the write side open: the server, not the client, must end this.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    let mut out = Vec::new();
    let read = tokio::time::timeout(within, reader.read_to_end(&mut out)).await;
    writing.abort();
    let closed_after = started.elapsed();
    match read {
        Ok(Ok(_)) => {}
        // The client may still be trickling when the server answers and closes: its next byte
        // is then met with a reset, which ends the read after the answer arrived whole.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset && !out.is_empty() => {}
        Ok(Err(e)) => panic!("reading the answer failed ({e}) after {out:?}"),
        Err(_) => return None,
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("body not JSON ({e}): {text}"));
    Some(Raw {
        status,
        head: head.to_owned(),
        body,
        closed_after,
    })
}

fn post_head(path: &str, request_id: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: fc\r\nx-fc-request-id: {request_id}\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

fn markers(server: &Server, request_id: &str) -> Vec<String> {
    server
        .stdout()
        .into_iter()
        .filter(|l| l.starts_with("FC ") && l.contains(request_id))
        .collect()
}

/// A warn line of the request whose message contains `words`.
fn warned(server: &Server, request_id: &str, words: &str) -> bool {
    server.json_lines().iter().any(|v| {
        v["level"] == "WARN"
            && v["span"]["request_id"] == request_id
            && v["message"].as_str().is_some_and(|m| m.contains(words))
    })
}

// ---------------------------------------------------------------------------------------------
// Read timeouts

#[tokio::test]
async fn a_stalled_body_is_answered_408_and_the_connection_closed() {
    let server = Server::start(&[
        ("APIGW_BODY_READ_TIMEOUT_MS", "500"),
        ("APIGW_REQUEST_READ_TIMEOUT_MS", "5000"),
    ]);
    // 10 of the 100 bytes announced, then nothing.
    let head = format!("{}{{\"url\":\"h", post_head("/probe", "req-stalled", 100));
    let raw = send_slowly(&server, &head, b"", Duration::ZERO, Duration::from_secs(8))
        .await
        .expect("the server closes a stalled request");
    assert_eq!(raw.status, 408, "{raw:?}");
    assert_eq!(raw.body["errorType"], "request.timeout");
    assert_eq!(raw.body["requestId"], "req-stalled");
    let message = raw.body["errorMessage"].as_str().unwrap();
    assert!(message.contains("APIGW_BODY_READ_TIMEOUT_MS"), "{message}");
    assert!(raw.body["hint"].as_str().unwrap().contains("APIGW_"));
    assert!(raw.header("x-fc-status").is_none());
    // Cut at the pause limit, not at the request's deadline.
    assert!(
        raw.closed_after >= Duration::from_millis(450) && raw.closed_after < Duration::from_secs(3),
        "{:?}",
        raw.closed_after
    );
    server.wait_for_access_log("req-stalled");
    assert!(warned(&server, "req-stalled", "answered 408"));

    // The same on /invoke keeps FC's contract: 404 + x-fc-status, and both markers.
    let head = format!("{}{{", post_head("/invoke", "req-stalled-invoke", 50));
    let raw = send_slowly(&server, &head, b"", Duration::ZERO, Duration::from_secs(8))
        .await
        .expect("the server closes a stalled invocation");
    assert_eq!(raw.status, 404, "{raw:?}");
    assert_eq!(raw.header("x-fc-status"), Some("404"));
    assert_eq!(raw.body["errorType"], "request.timeout");
    server.wait_for_access_log("req-stalled-invoke");
    assert_eq!(
        markers(&server, "req-stalled-invoke"),
        [
            "FC Invoke Start RequestId: req-stalled-invoke",
            "FC Invoke End RequestId: req-stalled-invoke, Error: Unhandled function error"
        ]
    );
    assert_eq!(get(&server.url("/healthz"), &[]).await.status, 200);
}

#[tokio::test]
async fn a_trickled_body_is_cut_at_the_request_deadline() {
    // One byte every 200 ms never pauses for the 1 s body timeout: the 1.5 s deadline ends it.
    let server = Server::start(&[
        ("APIGW_BODY_READ_TIMEOUT_MS", "1000"),
        ("APIGW_REQUEST_READ_TIMEOUT_MS", "1500"),
    ]);
    let head = post_head("/probe", "req-trickle", 1000);
    let raw = send_slowly(
        &server,
        &head,
        &[b' '; 1000],
        Duration::from_millis(200),
        Duration::from_secs(10),
    )
    .await
    .expect("the server ends a trickled body");
    assert_eq!(raw.status, 408, "{raw:?}");
    let message = raw.body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("APIGW_REQUEST_READ_TIMEOUT_MS"),
        "{message}"
    );
    assert!(message.contains("1500 ms"), "{message}");
    assert!(
        raw.closed_after >= Duration::from_millis(1400)
            && raw.closed_after < Duration::from_secs(4),
        "{:?}",
        raw.closed_after
    );
    server.wait_for_access_log("req-trickle");
    assert!(warned(&server, "req-trickle", "answered 408"));
}

#[tokio::test]
async fn a_trickled_head_is_answered_408_and_the_connection_closed() {
    let server = Server::start(&[("APIGW_REQUEST_READ_TIMEOUT_MS", "1000")]);
    let raw = send_slowly(
        &server,
        "GET /probe HTTP/1.1\r\nHost: fc\r\n",
        b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        Duration::from_millis(200),
        Duration::from_secs(10),
    )
    .await
    .expect("the server ends a trickled head");
    assert_eq!(raw.status, 408, "{raw:?}");
    assert_eq!(raw.body["errorType"], "request.timeout");
    let message = raw.body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("head") && message.contains("1000 ms"),
        "{message}"
    );
    let id = raw.body["requestId"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "{id}");
    assert!(
        raw.closed_after >= Duration::from_millis(900) && raw.closed_after < Duration::from_secs(3),
        "{:?}",
        raw.closed_after
    );
    server.wait_for_line("the head timeout's warn line", |l| {
        l.contains("request head not received in time") && l.contains(&id)
    });

    // An invocation's head: FC's contract.
    let raw = send_slowly(
        &server,
        "POST /invoke HTTP/1.1\r\n",
        b"Host: fcfcfcfcfcfcfcfcfcfcfcfcfcfcfc",
        Duration::from_millis(200),
        Duration::from_secs(10),
    )
    .await
    .expect("the server ends a trickled invocation head");
    assert_eq!(raw.status, 404, "{raw:?}");
    assert_eq!(raw.header("x-fc-status"), Some("404"));
    assert_eq!(raw.body["errorType"], "request.timeout");
}

#[tokio::test]
async fn idle_kept_alive_connections_are_not_timed_out_as_slow_requests() {
    let server = Server::start(&[("APIGW_REQUEST_READ_TIMEOUT_MS", "500")]);
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    // A body on a route that does not read it, then a pause longer than the request timeout.
    for round in 0..2 {
        let req = "GET /healthz HTTP/1.1\r\nHost: fc\r\nContent-Length: 5\r\n\r\nhello";
        s.write_all(req.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(text.starts_with("HTTP/1.1 200"), "round {round}: {text}");
        assert!(
            text.ends_with("{\"status\":\"ok\"}"),
            "round {round}: {text}"
        );
        tokio::time::sleep(Duration::from_millis(900)).await;
    }
}

#[tokio::test]
async fn a_bad_read_timeout_setting_is_config_invalid_naming_it() {
    let server = Server::start(&[("APIGW_BODY_READ_TIMEOUT_MS", "soon")]);
    let a = support::invoke(&server, "req-bad-limit", &b"{}"[..]).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["errorType"], "config.invalid");
    let message = a.json()["errorMessage"].as_str().unwrap().to_owned();
    assert!(message.contains("APIGW_BODY_READ_TIMEOUT_MS"), "{message}");
    // Health checks still pass: the function runs, it only refuses to probe.
    assert_eq!(get(&server.url("/healthz"), &[]).await.status, 200);
}

// ---------------------------------------------------------------------------------------------
// Connection limit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_connection_limit_requests_get_503_at_once_and_healthz_200() {
    let ok = support::backend().await;
    let targets = format!(
        r#"[{{"name":"ok","url":"http://{}/web/cloudapi"}}]"#,
        ok.addr()
    );
    let server = Server::start(&[("APIGW_MAX_CONNECTIONS", "4"), ("APIGW_TARGETS", &targets)]);
    // `Connection: close`, so that the server has let this connection go before the test takes
    // every place: a pooled one closing later would free a place and let a request through.
    let before = support::post(
        &server.url("/invoke"),
        &[("x-fc-request-id", "req-before"), ("connection", "close")],
        "{}",
    )
    .await;
    assert_eq!(
        before.status,
        200,
        "{}",
        String::from_utf8_lossy(&before.body)
    );

    // The limit plus two: four idle connections take every place, two more stall in their
    // request head.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr()).await.unwrap();
        s.write_all(b"GET /probe HTTP/1.1\r\nHost: fc\r\n")
            .await
            .unwrap();
        held.push(s);
    }
    // Let the server accept them all.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let t = Instant::now();
    let a = get(&server.url("/probe?target=ok"), &[]).await;
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(a.status, 503, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["errorType"], "runtime.busy");
    assert!(a.json()["errorMessage"]
        .as_str()
        .unwrap()
        .contains("APIGW_MAX_CONNECTIONS"));
    assert_eq!(a.header("retry-after"), Some("1"));
    // The one header FC owns that is set is hyper's hop-by-hop `connection: close`: the
    // answer is the last on its connection.
    assert_eq!(a.header("connection"), Some("close"));
    for name in a.headers.keys() {
        assert!(
            [
                "content-type",
                "retry-after",
                "connection",
                "content-length"
            ]
            .contains(&name.as_str()),
            "{name}"
        );
    }

    // An invocation keeps FC's contract, with both markers.
    let t = Instant::now();
    let a = support::invoke(&server, "req-busy", "{}").await;
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(a.status, 404);
    assert_eq!(a.header("x-fc-status"), Some("404"));
    assert_eq!(a.json()["errorType"], "runtime.busy");
    assert_eq!(a.json()["requestId"], "req-busy");
    server.wait_for_access_log("req-busy");
    assert_eq!(
        markers(&server, "req-busy"),
        [
            "FC Invoke Start RequestId: req-busy",
            "FC Invoke End RequestId: req-busy, Error: Unhandled function error"
        ]
    );
    assert!(warned(&server, "req-busy", "connection limit reached"));

    // FC's health check still passes.
    for _ in 0..3 {
        let t = Instant::now();
        let a = get(&server.url("/healthz"), &[]).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.json(), serde_json::json!({"status": "ok"}));
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }

    // The slow ones go away: normal service resumes.
    drop(held);
    let t = Instant::now();
    loop {
        let a = support::invoke(&server, "req-after", "{}").await;
        if a.status == 200 {
            assert!(target(&a.report()).ok);
            break;
        }
        assert_eq!(a.json()["errorType"], "runtime.busy");
        assert!(t.elapsed() < Duration::from_secs(3), "still busy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Loop guard

/// The number of access-log lines for `/probe` requests.
fn probe_requests(server: &Server) -> usize {
    server
        .json_lines()
        .iter()
        .filter(|v| v["message"] == "request" && v["route"] == "probe")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_of_the_function_itself_is_refused_after_one_hop() {
    use apigw_standin::{Api, Behaviour, DnsServer, Gateway, GatewayConfig, Group, Zone};
    // An API whose backend is the function itself, on an allow-listed name the stand-in DNS
    // answers with 127.0.0.1: the configured target "self" calls that API's
    // /probe?target=self, which would probe "self" again, without end.
    let zone = Zone::default();
    zone.set(
        "loop.alicloudapi.com",
        Behaviour::Answer(vec![[127, 0, 0, 1].into()]),
    );
    let dns = DnsServer::start(([127, 0, 0, 1], 0).into(), zone)
        .await
        .expect("stand-in DNS");
    // The gateway's address goes into the function's settings before the function (its
    // backend) has one: bound first, served once the function listens.
    let gateway_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = gateway_listener.local_addr().unwrap().port();
    let inner = format!("http://loop.alicloudapi.com:{port}/probe?target=self");
    let targets = format!(r#"[{{"name":"self","url":"{inner}","timeout_ms":2000}}]"#);
    let dns_addr = dns.addr().to_string();
    let server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_DNS_SERVERS", dns_addr.as_str()),
        ("APIGW_ALLOW_HOSTS", "*.alicloudapi.com,127.0.0.1"),
    ]);
    let config = GatewayConfig {
        groups: vec![Group {
            id: apigw_standin::DEMO_GROUP.into(),
            domains: vec!["loop.alicloudapi.com".into()],
            apis: vec![Api::new(
                hyper::Method::GET,
                "/probe",
                &["RELEASE"],
                server.addr(),
            )],
        }],
        ..GatewayConfig::default()
    };
    let _gateway = Gateway::serve(gateway_listener, config).expect("the stand-in gateway");

    // A caller's request names the function's own address.
    let url =
        url::Url::parse_with_params(&server.url("/probe"), [("url", inner.as_str())]).unwrap();
    let a = get(url.as_str(), &[("x-fc-request-id", "req-outer")]).await;
    assert_eq!(a.status, 502, "{}", String::from_utf8_lossy(&a.body));
    let report = a.report();
    assert_eq!(class(&report), "target.loop", "{report:?}");
    assert!(
        error(&report).hint.contains("X-Apigw-Probe-Hop"),
        "{report:?}"
    );
    let samples = &target(&report).samples;
    assert_eq!(samples.len(), 1, "{report:?}");
    assert_eq!(samples[0].status, Some(508), "{report:?}");
    let sample_class = samples[0].error.as_ref().map(|e| e.class.name());
    assert_eq!(sample_class.as_deref(), Some("target.loop"));

    // The inner call was refused and logged; nothing probed further.
    server.wait_for_access_log("req-outer");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused: Vec<Value> = server
        .json_lines()
        .into_iter()
        .filter(|v| v["message"] == "request" && v["status"] == 508)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(server.json_lines().iter().any(|v| {
        v["level"] == "WARN" && v["error_class"] == "target.loop" && v["route"] == "probe"
    }));
    assert_eq!(
        probe_requests(&server),
        2,
        "the outer request and one inner hop"
    );

    // An event invocation carrying the header keeps FC's contract.
    let a = support::post(
        &server.url("/invoke"),
        &[
            ("x-fc-request-id", "req-hop-invoke"),
            ("x-apigw-probe-hop", "1"),
        ],
        "{}",
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.header("x-fc-status"), Some("404"));
    assert_eq!(a.json()["errorType"], "target.loop");
    assert_eq!(a.json()["requestId"], "req-hop-invoke");
}

// ---------------------------------------------------------------------------------------------
// SIGTERM with requests still running

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_after_the_grace_ends_running_probes_and_still_answers_them() {
    use apigw_standin::Backend;
    let backend = Backend::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("stand-in backend");
    let b = backend.addr();
    // "slow" waits 20 s for its first sample and has a second one to go; "fast" is done at once.
    let targets = format!(
        r#"[{{"name":"slow","url":"http://{b}/delay/20000","timeout_ms":25000,"samples":2}},
            {{"name":"fast","url":"http://{b}/web/cloudapi"}}]"#
    );
    let grace = Duration::from_millis(1000);
    let mut server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_SHUTDOWN_GRACE_MS", "1000"),
    ]);
    let call = tokio::spawn({
        let url = server.url("/invoke");
        async move {
            support::post(
                &url,
                &[
                    ("x-fc-request-id", "req-sigterm"),
                    ("x-fc-control-path", "/invoke"),
                    ("x-fc-function-timeout", "30"),
                ],
                "{}",
            )
            .await
        }
    });
    server.wait_for_line("the invocation's Start marker", |l| {
        l == "FC Invoke Start RequestId: req-sigterm"
    });
    // The slow sample is now waiting for its answer.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = i32::try_from(server.pid()).unwrap();
    let signalled = Instant::now();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);

    let answer = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the caller gets an answer after the grace")
        .unwrap();
    let answered = signalled.elapsed();
    assert!(
        answered >= grace,
        "answered after {answered:?}, before the grace ran out"
    );
    assert_eq!(
        answer.status,
        404,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.header("x-fc-status"), Some("404"));
    let report = answer.report();
    assert_eq!(report.request_id, "req-sigterm");
    let [slow, fast] = &report.targets[..] else {
        panic!("two targets: {report:?}")
    };
    assert_eq!(class(&report), "budget.exceeded", "{report:?}");
    let message = &error(&report).message;
    assert!(
        message.contains("stopping") && message.contains("ttfb"),
        "{message}"
    );
    // The sample under way, with its phases so far; the second one never started.
    assert_eq!(slow.samples.len(), 1, "{report:?}");
    assert!(slow.samples[0].phases_ms.ttfb >= 1000.0, "{report:?}");
    assert!(fast.ok, "{report:?}");

    let status = server
        .wait_exit(grace + Duration::from_secs(2))
        .expect("exited within the grace and a small margin");
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() < grace + Duration::from_secs(2),
        "{:?}",
        signalled.elapsed()
    );
    assert_eq!(
        markers(&server, "req-sigterm"),
        [
            "FC Invoke Start RequestId: req-sigterm",
            "FC Invoke End RequestId: req-sigterm, Error: Unhandled function error"
        ]
    );
    assert!(server
        .stdout()
        .iter()
        .any(|l| l.contains("shutdown grace period; stopping their probes")));
}

// ---------------------------------------------------------------------------------------------
// Invalid targets through the HTTP trigger

#[tokio::test]
async fn invalid_targets_in_an_http_trigger_request_are_400_and_nothing_is_probed() {
    let backend = support::backend().await;
    let server = Server::start(&[("APIGW_ALLOW_HOSTS", "127.0.0.1")]);
    let good = format!("http://{}/web/cloudapi", backend.addr());
    let query = |pairs: &[(&str, &str)]| {
        url::Url::parse_with_params(&server.url("/probe"), pairs)
            .unwrap()
            .to_string()
    };
    // The stage is refused as the query is read (a named value), the others as the target is
    // built (named by its position).
    for (pairs, words) in [
        (
            vec![("url", "ftp://x/")],
            "target 1 of 1 (\"ftp://x/\"): URL scheme",
        ),
        (vec![("url", "http://")], "target 1 of 1 ("),
        (vec![("url", good.as_str()), ("samples", "0")], "samples"),
        (
            vec![("url", good.as_str()), ("stage", "PROD")],
            "stage \"PROD\" is not one of RELEASE, TEST, PRE",
        ),
    ] {
        let a = get(&query(&pairs), &[]).await;
        assert_eq!(
            a.status,
            400,
            "{pairs:?}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let body = a.json();
        assert_eq!(body["errorType"], "config.invalid", "{pairs:?}");
        let message = body["errorMessage"].as_str().unwrap();
        assert!(message.contains(words), "{pairs:?}: {message}");
        assert!(body["hint"].as_str().unwrap().contains("APIGW_"), "{body}");
    }

    // A POST body with a valid and an invalid target: refused whole, the valid one not probed.
    let event = serde_json::json!({"targets": [
        {"name": "good", "url": good},
        {"name": "bad", "url": good, "samples": 0},
    ]});
    let a = support::post(&server.url("/probe"), &[], event.to_string()).await;
    assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));
    let message = a.json()["errorMessage"].as_str().unwrap().to_owned();
    assert!(message.starts_with("target 2 of 2 (\"bad\")"), "{message}");
    // A value no field accepts is refused as the event is read, naming the field.
    let event = serde_json::json!({"targets": [
        {"name": "good", "url": good},
        {"name": "bad", "url": good, "stage": "PROD"},
    ]});
    let a = support::post(&server.url("/probe"), &[], event.to_string()).await;
    assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));
    let message = a.json()["errorMessage"].as_str().unwrap().to_owned();
    assert!(
        message.contains("stage \"PROD\" is not one of"),
        "{message}"
    );
    assert_eq!(backend.connections(), 0, "nothing may be probed");

    // A forbidden target stays 403 with the report, and does not stop the valid one.
    let event = serde_json::json!({"targets": [
        {"name": "good", "url": good},
        {"name": "elsewhere", "url": "http://example.com/"},
    ]});
    let a = support::post(&server.url("/probe"), &[], event.to_string()).await;
    assert_eq!(a.status, 403, "{}", String::from_utf8_lossy(&a.body));
    let report = a.report();
    let [good, elsewhere] = &report.targets[..] else {
        panic!("two targets: {report:?}")
    };
    assert!(good.ok, "{report:?}");
    let refused = elsewhere.error.as_ref().map(|e| e.class.name());
    assert_eq!(refused.as_deref(), Some("target.forbidden"), "{report:?}");
    assert_eq!(backend.connections(), 1);
}
