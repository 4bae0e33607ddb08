//! The FC custom runtime through the real binary (`serve`), over real sockets on 127.0.0.1:
//! routes, FC's status signalling, log markers and request ids, secrets, limits, concurrency,
//! and shutdown.

mod support;

use std::time::{Duration, Instant};

use apigw_standin::launch::Launch;
use apigw_vpc_probe::report::Trigger;
use serde_json::Value;
use support::{
    backend, class, closed_addr, fixture, get, invoke, post, silent_backend, Answer, Server,
};

/// `APIGW_TARGETS` with a target `ok` (answers 200) and a target `down` (connection refused).
fn targets(ok: std::net::SocketAddr) -> String {
    format!(
        r#"[{{"name":"ok","url":"http://{ok}/web/cloudapi"}},{{"name":"down","url":"http://{}/"}}]"#,
        closed_addr()
    )
}

fn ok_only(ok: std::net::SocketAddr) -> String {
    format!(r#"[{{"name":"ok","url":"http://{ok}/web/cloudapi"}}]"#)
}

/// The request's `FC … Start/End` marker lines, once its End marker is out: the End marker is
/// written after the access log line (the markers wrap the access log), so waiting for the
/// access log alone can read stdout before it.
fn marker_lines(server: &Server, request_id: &str) -> Vec<String> {
    server.wait_for_line(&format!("the end marker of {request_id}"), |l| {
        l.starts_with("FC ") && l.contains(&format!(" End RequestId: {request_id}"))
    });
    server
        .stdout()
        .into_iter()
        .filter(|l| l.starts_with("FC ") && l.contains(request_id))
        .collect()
}

#[tokio::test]
async fn healthz_is_cheap_and_sets_no_fc_owned_headers() {
    let server = Server::start(&[]);
    let a = get(&server.url("/healthz"), &[]).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json(), serde_json::json!({"status": "ok"}));
    assert!(a.header("x-fc-status").is_none(), "not an event invocation");
    a.assert_allowed_headers();
}

#[tokio::test]
async fn listens_on_fc_custom_listen_port() {
    // Port 0: the kernel's choice, read back from the `listening` line. FC_SERVER_PORT
    // would have meant port 1.
    let server = Server::launch(
        Launch::new(support::FUNCTION).arg("serve"),
        &[("FC_CUSTOM_LISTEN_PORT", "0"), ("FC_SERVER_PORT", "1")],
    );
    let listen = server.listen();
    assert!(listen.ip().is_unspecified(), "{listen}: on all addresses");
    assert!(![0, 1, 9000].contains(&listen.port()), "{listen}");
    let a = get(&server.url("/healthz"), &[]).await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn console_event_probes_configured_targets_between_markers() {
    let ok = backend().await;
    let server = Server::start(&[("APIGW_TARGETS", &ok_only(ok.addr()))]);
    let a = invoke(&server, "req-console-1", fixture("console.json", None)).await;
    a.assert_allowed_headers();
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.header("x-fc-status"), Some("200"));
    let report = a.report();
    assert!(report.ok);
    assert_eq!(report.trigger, Trigger::Event);
    assert_eq!(report.request_id, "req-console-1");
    let function = report.function.as_ref().expect("the function's context");
    assert_eq!(function.name.as_deref(), Some("apigw-probe"));
    assert_eq!(function.region.as_deref(), Some("cn-shanghai"));
    assert_eq!(function.memory_mb, Some(512));
    assert_eq!(function.timeout_s, Some(30));
    assert_eq!(support::sample(&report).status, Some(200));

    server.wait_for_access_log("req-console-1");
    let markers = marker_lines(&server, "req-console-1");
    assert_eq!(
        markers,
        [
            "FC Invoke Start RequestId: req-console-1",
            "FC Invoke End RequestId: req-console-1"
        ]
    );
    // Every line of the request sits between its markers and carries its id.
    let out = server.stdout();
    let start = out.iter().position(|l| l.contains("Invoke Start")).unwrap();
    let end = out.iter().position(|l| l.contains("Invoke End")).unwrap();
    let access = out
        .iter()
        .position(|l| l.contains("\"message\":\"request\"") && l.contains("req-console-1"))
        .unwrap();
    assert!(start < access && access < end, "{out:#?}");
    let log: Value = serde_json::from_str(&out[access]).unwrap();
    assert_eq!(log["level"], "INFO");
    assert_eq!(log["method"], "POST");
    assert_eq!(log["path"], "/invoke");
    assert_eq!(log["status"], 200);
    assert!(log["duration_ms"].as_f64().is_some());
}

#[tokio::test]
async fn failed_target_is_a_function_error() {
    let ok = backend().await;
    let server = Server::start(&[("APIGW_TARGETS", &targets(ok.addr()))]);
    let a = invoke(&server, "req-failed-1", &b"{}"[..]).await;
    a.assert_allowed_headers();
    assert_eq!(a.status, 404);
    assert_eq!(a.header("x-fc-status"), Some("404"));
    let report = a.report();
    assert!(!report.ok);
    let [up, down] = &report.targets[..] else {
        panic!("two targets: {report:?}")
    };
    assert_eq!(down.name, "down");
    let down_class = down.error.as_ref().map(|e| e.class.name());
    assert_eq!(down_class.as_deref(), Some("tcp.refused"), "{report:?}");
    assert!(up.ok, "{report:?}");

    server.wait_for_access_log("req-failed-1");
    assert_eq!(
        marker_lines(&server, "req-failed-1")
            .last()
            .map(String::as_str),
        Some("FC Invoke End RequestId: req-failed-1, Error: Unhandled function error")
    );
    let warn = server
        .json_lines()
        .into_iter()
        .find(|v| v["level"] == "WARN" && v["span"]["request_id"] == "req-failed-1")
        .expect("a warn line for the failed target");
    assert_eq!(warn["error_classes"], "tcp.refused");
}

#[tokio::test]
async fn url_named_and_targets_events() {
    let backend = backend().await;
    let ok = backend.addr();
    let server = Server::start(&[
        ("APIGW_TARGETS", &ok_only(ok)),
        ("APIGW_ALLOW_HOSTS", "127.0.0.1"),
        // targets.json has a POST target.
        ("APIGW_REQUEST_METHODS", "POST"),
    ]);
    let a = invoke(&server, "req-url", fixture("url.json", Some(ok))).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let report = a.report();
    assert_eq!(report.targets.len(), 1);
    assert_eq!(report.targets[0].samples.len(), 2);
    assert!(report.targets[0].url.ends_with("/web/cloudapi?from=event"));

    let a = invoke(&server, "req-targets", fixture("targets.json", Some(ok))).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let names: Vec<String> = a.report().targets.into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["get", "post"]);

    let a = invoke(&server, "req-named", fixture("named.json", None)).await;
    assert_eq!(a.status, 200);
    assert_eq!(support::target(&a.report()).name, "ok");
}

#[tokio::test]
async fn forbidden_event_target_is_a_function_error() {
    let server = Server::start(&[]);
    let a = invoke(
        &server,
        "req-forbidden",
        fixture("forbidden-url.json", None),
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.header("x-fc-status"), Some("404"));
    assert_eq!(class(&a.report()), "target.forbidden");
}

#[tokio::test]
async fn timer_events_report_the_trigger() {
    let ok = backend().await;
    let server = Server::start(&[("APIGW_TARGETS", &targets(ok.addr()))]);
    for (file, trigger_name) in [
        ("timer-json-payload.json", "every-minute"),
        ("timer-name-payload.json", "by-name"),
    ] {
        let id = format!("req-{trigger_name}");
        let a = invoke(&server, &id, fixture(file, None)).await;
        assert_eq!(
            a.status,
            200,
            "{file}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let report = a.report();
        assert_eq!(report.trigger, Trigger::Timer, "{file}");
        let timer = report.timer.as_ref().expect("the timer's fields");
        assert_eq!(timer.trigger_name, trigger_name);
        // The payload selected the `ok` target only, not the failing `down`.
        assert_eq!(report.targets.len(), 1, "{file}");
        assert_eq!(report.targets[0].name, "ok");
    }
}

#[tokio::test]
async fn invalid_events_are_function_errors_and_the_server_keeps_serving() {
    let backend = backend().await;
    let ok = backend.addr();
    let server = Server::start(&[("APIGW_TARGETS", &ok_only(ok))]);
    for file in [
        "invalid-not-json.json",
        "invalid-array.json",
        "invalid-unknown-field.json",
        "invalid-field-type.json",
        "invalid-timer-payload.json",
        "invalid-unknown-target.json",
    ] {
        let id = format!("req-{}", file.trim_end_matches(".json"));
        let a = invoke(&server, &id, fixture(file, Some(ok))).await;
        a.assert_allowed_headers();
        assert_eq!(a.status, 404, "{file}");
        assert_eq!(a.header("x-fc-status"), Some("404"), "{file}");
        let body = a.json();
        assert_eq!(body["errorType"], "config.invalid", "{file}: {body}");
        assert_eq!(body["requestId"], id.as_str());
        assert!(!body["errorMessage"].as_str().unwrap().is_empty());
        assert!(body["hint"].as_str().unwrap().contains("APIGW_"));

        server.wait_for_access_log(&id);
        let warned = server.json_lines().into_iter().any(|v| {
            v["level"] == "WARN"
                && v["span"]["request_id"] == id.as_str()
                && v["error_class"] == "config.invalid"
        });
        assert!(warned, "no warn line for {file}");
        assert!(marker_lines(&server, &id)
            .last()
            .is_some_and(|l| l.ends_with(", Error: Unhandled function error")));
    }
    // Still serving, and still probing.
    assert_eq!(invoke(&server, "req-after", &b"{}"[..]).await.status, 200);
}

#[tokio::test]
async fn oversized_bodies_are_refused_and_the_server_keeps_serving() {
    let ok = backend().await;
    let server = Server::start(&[
        ("APIGW_TARGETS", &ok_only(ok.addr())),
        ("APIGW_MAX_EVENT_BYTES", "1024"),
    ]);
    // Big enough that the caller is still sending when the limit is hit: the server must read
    // the rest before answering, or the caller sees a reset instead of the error.
    let big = format!(
        r#"{{"target":"ok","pad":"{}"}}"#,
        "x".repeat(8 * 1024 * 1024)
    );

    let a = invoke(&server, "req-big", big.clone()).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.header("x-fc-status"), Some("404"));
    let body = a.json();
    assert_eq!(body["errorType"], "config.invalid");
    assert!(
        body["errorMessage"].as_str().unwrap().contains("1024"),
        "{body}"
    );
    assert!(body["hint"]
        .as_str()
        .unwrap()
        .contains("APIGW_MAX_EVENT_BYTES"));

    let a = post(&server.url("/probe"), &[], big).await;
    assert_eq!(a.status, 413);
    assert_eq!(a.json()["errorType"], "config.invalid");

    // Without a content-length (chunked), the limit is found while reading.
    let a = chunked_post(&server, "/probe", 4 * 1024 * 1024).await;
    assert!(a.starts_with("HTTP/1.1 413"), "{a}");

    assert_eq!(get(&server.url("/healthz"), &[]).await.status, 200);
    assert_eq!(invoke(&server, "req-small", &b"{}"[..]).await.status, 200);
}

/// Sends a chunked body of `len` bytes by hand and returns the raw response head.
async fn chunked_post(server: &Server, path: &str, len: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        server.addr()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'{'; 4096];
    let mut sent = 0;
    while sent < len {
        let piece = format!("{:x}\r\n", chunk.len());
        s.write_all(piece.as_bytes()).await.unwrap();
        s.write_all(&chunk).await.unwrap();
        s.write_all(b"\r\n").await.unwrap();
        sent += chunk.len();
    }
    s.write_all(b"0\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the answer in time")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn http_probe_statuses_and_server_timing() {
    let backend = backend().await;
    let ok = backend.addr();
    let server = Server::start(&[
        ("APIGW_TARGETS", &targets(ok)),
        ("APIGW_ALLOW_HOSTS", "127.0.0.1"),
    ]);

    let a = get(&server.url("/probe?target=ok"), &[]).await;
    a.assert_allowed_headers();
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert!(a.header("x-fc-status").is_none());
    assert_eq!(a.report().trigger, Trigger::Http);
    let timing = a.header("server-timing").expect("Server-Timing");
    assert!(
        timing.contains("connect;dur=") && timing.contains("total;dur="),
        "{timing}"
    );

    let a = get(&server.url("/probe?target=down"), &[]).await;
    assert_eq!(a.status, 502);
    assert_eq!(class(&a.report()), "tcp.refused");

    // Configured targets: one of them is down.
    assert_eq!(get(&server.url("/probe"), &[]).await.status, 502);

    let url = format!("http://{ok}/web/cloudapi");
    let q = format!(
        "/probe?url={}&samples=3&method=GET&stage=TEST&timeout_ms=2000",
        url::form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>()
    );
    let a = get(&server.url(&q), &[]).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(support::target(&a.report()).samples.len(), 3);

    let a = get(&server.url("/probe?url=http%3A%2F%2Fexample.com%2F"), &[]).await;
    assert_eq!(a.status, 403);
    assert_eq!(class(&a.report()), "target.forbidden");

    for bad in [
        "/probe?target=nope",
        "/probe?bogus=1",
        "/probe?url=http://x/&samples=lots",
    ] {
        let a = get(&server.url(bad), &[]).await;
        assert_eq!(a.status, 400, "{bad}");
        assert_eq!(a.json()["errorType"], "config.invalid", "{bad}");
    }

    let a = post(&server.url("/probe"), &[], fixture("url.json", Some(ok))).await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.report().trigger, Trigger::Http);
    let a = post(
        &server.url("/probe"),
        &[],
        fixture("invalid-array.json", None),
    )
    .await;
    assert_eq!(a.status, 400);
}

#[tokio::test]
async fn unknown_routes_are_json_404() {
    let server = Server::start(&[]);
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/invoke"),
        ("DELETE", "/probe"),
        ("PUT", "/x"),
    ] {
        let req = support::client().request(method.parse().unwrap(), server.url(path));
        let a = Answer::of(req.send().await.unwrap()).await;
        assert_eq!(a.status, 404, "{method} {path}");
        assert!(a.header("x-fc-status").is_none());
        assert_eq!(a.json()["errorType"], "route.not_found", "{method} {path}");
    }
}

#[tokio::test]
async fn lifecycle_hooks_and_control_path_fallback() {
    let server = Server::start(&[]);
    let a = post(
        &server.url("/initialize"),
        &[
            ("x-fc-request-id", "req-init"),
            ("x-fc-control-path", "/initialize"),
        ],
        "",
    )
    .await;
    assert_eq!(a.status, 200);
    server.wait_for_access_log("req-init");
    assert_eq!(
        marker_lines(&server, "req-init"),
        [
            "FC Initialize Start RequestId: req-init",
            "FC Initialize End RequestId: req-init"
        ]
    );
    assert_eq!(get(&server.url("/pre-stop"), &[]).await.status, 200);
    assert_eq!(get(&server.url("/pre-freeze"), &[]).await.status, 200);

    // An event invocation recognised by the header alone.
    let a = post(
        &server.url("/"),
        &[
            ("x-fc-request-id", "req-ctl"),
            ("x-fc-control-path", "/invoke"),
        ],
        "[]",
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.header("x-fc-status"), Some("404"));
    assert_eq!(a.json()["errorType"], "config.invalid");
    server.wait_for_access_log("req-ctl");
    assert_eq!(marker_lines(&server, "req-ctl").len(), 2);
}

#[tokio::test]
async fn request_without_id_gets_one_in_logs_and_body() {
    let server = Server::start(&[]);
    let a = post(&server.url("/invoke"), &[], "{\"foo\":1}").await;
    let id = a.json()["requestId"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "{id}");
    server.wait_for_access_log(&id);
    assert_eq!(marker_lines(&server, &id).len(), 2);
}

#[tokio::test]
async fn secrets_appear_in_no_response_and_no_log_line() {
    const SECRET: &str = "SeCrEt-9f3b1c7e";
    const TOKEN: &str = "StsToKeN-0a8d2e44";
    const AUTH: &str = "Bearer AuThZ-77c1d0";
    let backend = backend().await;
    let ok = backend.addr();
    let server = Server::start(&[
        ("APIGW_TARGETS", &targets(ok)),
        ("APIGW_ALLOW_HOSTS", "127.0.0.1"),
        ("RUST_LOG", "trace"),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenvid"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "EnvSecret-5b2a"),
    ]);
    let headers = [
        ("x-fc-request-id", "req-secret"),
        ("x-fc-access-key-id", "LTAIheaderid"),
        ("x-fc-access-key-secret", SECRET),
        ("x-fc-security-token", TOKEN),
        ("authorization", AUTH),
    ];
    let mut answers = vec![
        post(&server.url("/invoke"), &headers, "{}").await,
        post(&server.url("/invoke"), &headers, "{\"foo\":1}").await,
        post(
            &server.url("/invoke"),
            &headers,
            fixture("url.json", Some(ok)),
        )
        .await,
        get(&server.url("/probe?target=ok"), &headers).await,
        get(&server.url("/probe?bogus=1"), &headers).await,
        get(&server.url("/healthz"), &headers).await,
        get(&server.url("/nowhere"), &headers).await,
        post(&server.url("/initialize"), &headers, "").await,
    ];
    answers.push(post(&server.url("/probe"), &headers, "x".repeat(200 * 1024)).await);
    server.wait_for_access_log("req-secret");
    // Let the last lines arrive.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let needles = [SECRET, TOKEN, "AuThZ-77c1d0", "EnvSecret-5b2a"];
    for a in &answers {
        let mut text = String::from_utf8_lossy(&a.body).into_owned();
        for (k, v) in &a.headers {
            text.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("")));
        }
        for n in needles {
            assert!(!text.contains(n), "response carries {n}: {text}");
        }
    }
    let mut log = server.stdout();
    log.extend(server.stderr());
    assert!(log.len() > 10, "expected a verbose log: {log:#?}");
    for line in &log {
        for n in needles {
            assert!(!line.contains(n), "log line carries {n}: {line}");
        }
    }
}

#[tokio::test]
async fn stdout_is_json_lines_or_fc_markers() {
    let ok = backend().await;
    let server = Server::start(&[("APIGW_TARGETS", &targets(ok.addr()))]);
    invoke(&server, "req-a", &b"{}"[..]).await;
    invoke(&server, "req-b", &b"nope"[..]).await;
    get(&server.url("/probe"), &[]).await;
    server.wait_for_access_log("req-b");
    let out = server.stdout();
    assert!(out.len() >= 6, "{out:#?}");
    for line in &out {
        let is_marker = line.starts_with("FC Invoke Start RequestId: ")
            || line.starts_with("FC Invoke End RequestId: ");
        let is_json = serde_json::from_str::<Value>(line).is_ok_and(|v| v.is_object());
        assert!(is_marker || is_json, "stray stdout line: {line}");
    }
    // Lines written while serving a request name it.
    for v in server.json_lines() {
        if v["message"] == "request" {
            assert!(v["span"]["request_id"].is_string(), "{v}");
        }
    }
}

/// `APIGW_TARGETS` with one target that times out after 1.5 s on `slow`.
fn slow_target(slow: &apigw_standin::Backend) -> String {
    format!(
        r#"[{{"name":"slow","url":"http://{}/","timeout_ms":1500}}]"#,
        slow.addr()
    )
}

/// The threads of a running process (`Threads:` in /proc/<pid>/status).
fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
    line["Threads:".len()..].trim().parse().unwrap()
}

#[tokio::test]
async fn one_thread_serves_and_probes_still_run_side_by_side() {
    // Whatever CPUs the process may use: as on FC's `cpu: 0.1` instance, pinned to one CPU
    // (here by its affinity), and not pinned.
    let slow = silent_backend().await;
    let pinned = Launch::new("taskset").args([
        "-c",
        "0",
        support::FUNCTION,
        "serve",
        "--listen",
        "127.0.0.1:0",
    ]);
    let server = Server::launch(pinned, &[("APIGW_TARGETS", &slow_target(&slow))]);
    assert_eq!(threads(server.pid()), 1, "no worker threads on one CPU");
    slow_probes_run_side_by_side(&server, &slow).await;
    assert_eq!(threads(server.pid()), 1);

    let slow = silent_backend().await;
    let server = Server::start(&[("APIGW_TARGETS", &slow_target(&slow))]);
    assert_eq!(
        threads(server.pid()),
        1,
        "no worker threads on more CPUs either"
    );
    slow_probes_run_side_by_side(&server, &slow).await;
    assert_eq!(threads(server.pid()), 1);
}

/// Two 1.5 s probes of `slow` through `server` (its only target) run at once, and health
/// checks answer while they wait.
async fn slow_probes_run_side_by_side(server: &Server, slow: &apigw_standin::Backend) {
    let started = Instant::now();
    let first = tokio::spawn({
        let url = server.url("/invoke");
        async move { Answer::of(support::client().post(url).body("{}").send().await.unwrap()).await }
    });
    let second = tokio::spawn({
        let url = server.url("/probe");
        async move { Answer::of(support::client().get(url).send().await.unwrap()).await }
    });
    // Both probes are now waiting on the silent backend; health checks still answer at once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(get(&server.url("/healthz"), &[]).await.status, 200);
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
    }
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!(first.status, 404);
    assert_eq!(class(&first.report()), "http.timeout");
    assert_eq!(second.status, 502);
    assert_eq!(class(&second.report()), "http.timeout");
    assert_eq!(slow.connections(), 2, "both probes reached the backend");
    // The two 1.5 s probes ran side by side, not one after the other.
    assert!(
        started.elapsed() < Duration::from_millis(2900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let mut server = Server::start(&[]);
    assert_eq!(get(&server.url("/healthz"), &[]).await.status, 200);
    let pid = i32::try_from(server.pid()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("exited after SIGTERM");
    assert!(status.success(), "{status}");
    server.wait_for_line("stopping on SIGTERM", |l| l.contains("SIGTERM"));
}

#[test]
fn help_lists_serve_and_its_listen_flag() {
    let bin = env!("CARGO_BIN_EXE_apigw-vpc-probe");
    let out = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("serve"));
    let out = std::process::Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--listen") && text.contains("FC_CUSTOM_LISTEN_PORT"),
        "{text}"
    );
}

#[test]
fn port_in_use_fails_to_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_apigw-vpc-probe"))
        .args(["serve", "--listen", &listen])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cannot listen"));
}
