//! Holding secrets: what a caller of the function can make it send, and that no secret leaves
//! the process by any output path. The real binary (`serve`, `probe`) over real sockets on
//! loopback, against the stand-in backend, whose `/echo` sends back what it received.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use apigw_standin::Backend;
use serde_json::{json, Value};
use support::{get, invoke, Server};

const APP_KEY: &str = "204999001";
const APP_SECRET: &str = "app-SECRET-4b1f9e";
const APPCODE: &str = "appcode-5e0c2a71d9";

/// An echoing backend on `ip` (any 127.x address is on loopback).
async fn echo_backend(ip: [u8; 4]) -> Backend {
    Backend::start(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), 0))
        .await
        .expect("backend")
}

/// The headers the backend received, from a sample's echoed body.
fn echoed_headers(sample: &Value) -> Value {
    let body = sample["body"]
        .as_str()
        .unwrap_or_else(|| panic!("no body: {sample}"));
    let echoed: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    echoed["headers"].clone()
}

/// `GET /probe?...` with the query built from `pairs`.
async fn probe_query(server: &Server, pairs: &[(&str, &str)]) -> support::Answer {
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    get(&server.url(&format!("/probe?{query}")), &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_targets_carry_credentials_only_to_configured_hosts() {
    let configured = echo_backend([127, 0, 0, 1]).await;
    let other = echo_backend([127, 0, 0, 2]).await;
    let targets = json!([{
        "name": "echo",
        "url": format!("http://{}/echo", configured.addr()),
        "auth": "appcode",
    }])
    .to_string();
    let env = [
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_ALLOW_HOSTS", "127.0.0.1,127.0.0.2"),
        ("APIGW_APP_KEY", APP_KEY),
        ("APIGW_APP_SECRET", APP_SECRET),
        ("APIGW_APPCODE", APPCODE),
    ];
    let server = Server::start(&env);
    let other_url = format!("http://{}/echo", other.addr());

    // Another allow-listed host: neither the AppCode nor the signature reach it, whatever the
    // event asks, and the report says why.
    for (i, auth) in [Some("appcode"), Some("app"), None].into_iter().enumerate() {
        let mut event = json!({"url": other_url, "return_body": true});
        if let Some(auth) = auth {
            event["auth"] = json!(auth);
        }
        let a = invoke(&server, &format!("sign-other-{i}"), event.to_string()).await;
        let report = a.json();
        let t = &report["targets"][0];
        assert_eq!(t["ok"], true, "{report}");
        assert_eq!(
            t["auth"], "none (host not configured for signing)",
            "{auth:?}"
        );
        let headers = echoed_headers(&t["samples"][0]);
        for h in [
            "authorization",
            "x-ca-key",
            "x-ca-signature",
            "x-ca-timestamp",
        ] {
            assert!(
                headers.get(h).is_none(),
                "{auth:?}: {h} was sent: {headers}"
            );
        }
    }
    // The same through the HTTP trigger.
    let a = probe_query(
        &server,
        &[
            ("url", &other_url),
            ("auth", "appcode"),
            ("return_body", "true"),
        ],
    )
    .await;
    let t = &a.json()["targets"][0];
    assert_eq!(t["auth"], "none (host not configured for signing)");
    assert!(echoed_headers(&t["samples"][0])
        .get("authorization")
        .is_none());

    // The configured target's host, another path: the AppCode is sent.
    let event = json!({
        "url": format!("http://{}/echo?from=event", configured.addr()),
        "auth": "appcode",
        "return_body": true,
    });
    let report = invoke(&server, "sign-configured", event.to_string())
        .await
        .json();
    let t = &report["targets"][0];
    assert_eq!(t["auth"], "appcode", "{report}");
    let headers = echoed_headers(&t["samples"][0]);
    assert!(
        headers["authorization"]
            .as_str()
            .is_some_and(|v| v.starts_with("APPCODE ")),
        "{headers}"
    );
    // Configured targets are the operator's own and say how they authenticated.
    let report = invoke(&server, "sign-config", "{}").await.json();
    assert_eq!(report["targets"][0]["auth"], "appcode", "{report}");

    // APIGW_SIGN_HOSTS names more hosts explicitly.
    let server = Server::start(&[env.as_slice(), &[("APIGW_SIGN_HOSTS", "127.0.0.2")]].concat());
    let event = json!({"url": other_url, "return_body": true});
    let report = invoke(&server, "sign-listed", event.to_string())
        .await
        .json();
    let t = &report["targets"][0];
    assert_eq!(t["auth"], "app", "{report}");
    let headers = echoed_headers(&t["samples"][0]);
    assert_eq!(headers["x-ca-key"], APP_KEY, "{headers}");
    assert!(headers.get("x-ca-signature").is_some(), "{headers}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_targets_use_get_and_head_unless_widened() {
    let backend = echo_backend([127, 0, 0, 1]).await;
    let url = format!("http://{}/echo", backend.addr());
    let targets = json!([{"name": "post", "url": url, "method": "POST"}]).to_string();
    let env = [
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_ALLOW_HOSTS", "127.0.0.1"),
    ];
    let server = Server::start(&env);
    for method in ["GET", "HEAD"] {
        let event = json!({"url": url, "method": method});
        let report = invoke(&server, &format!("m-{method}"), event.to_string())
            .await
            .json();
        assert_eq!(report["targets"][0]["ok"], true, "{method}: {report}");
    }
    for (i, method) in ["DELETE", "POST", "put"].into_iter().enumerate() {
        let event = json!({"url": url, "method": method, "body": "x"});
        let a = invoke(&server, &format!("m-refused-{i}"), event.to_string()).await;
        assert_eq!(a.status, 404);
        let t = &a.json()["targets"][0];
        assert_eq!(t["error"]["class"], "target.forbidden", "{t}");
        assert!(
            t["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&method.to_ascii_uppercase()),
            "{t}"
        );
        assert!(
            t["error"]["hint"]
                .as_str()
                .unwrap()
                .contains("APIGW_REQUEST_METHODS"),
            "{t}"
        );
        assert_eq!(t["samples"], json!([]), "nothing was sent: {t}");
    }
    // The HTTP trigger: refused is 403.
    let a = probe_query(&server, &[("url", &url), ("method", "DELETE")]).await;
    assert_eq!(a.status, 403, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json()["targets"][0]["error"]["class"], "target.forbidden");
    // A configured target keeps its method.
    let report = invoke(&server, "m-config", "{}").await.json();
    assert_eq!(report["targets"][0]["ok"], true, "{report}");

    // APIGW_REQUEST_METHODS widens the set.
    let server = Server::start(&[env.as_slice(), &[("APIGW_REQUEST_METHODS", "POST")]].concat());
    let event = json!({"url": url, "method": "POST", "body": "x", "return_body": true});
    let report = invoke(&server, "m-widened", event.to_string()).await.json();
    let t = &report["targets"][0];
    assert_eq!(t["ok"], true, "{report}");
    let echoed: Value = serde_json::from_str(t["samples"][0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["method"], "POST");
    let event = json!({"url": url, "method": "DELETE"});
    let report = invoke(&server, "m-still-refused", event.to_string())
        .await
        .json();
    assert_eq!(report["targets"][0]["error"]["class"], "target.forbidden");
}

// Secret values with characters that JSON escapes (`"`, `\`) or URLs encode (`/`, `+`, `=`).
const SECRET_APP: &str = "app-\"SECRET\"\\4b1f9e/+";
const SECRET_CODE: &str = "appcode-\"q\\uote\"-5e0c2a71";
const ROLE_SECRET: &str = "Role/Secret+Key=9f3b1c7e";
const ROLE_TOKEN: &str = "StsToken/ab+cd==0a8d2e44";
/// An AppCode in a configured URL's query, as written there (`%2B` is `+`).
const URL_CODE: &str = "url%2Bcode-7d3e9a01";
const URL_CODE_DECODED: &str = "url+code-7d3e9a01";

/// Each secret in the spellings it could take in an output: as is, JSON-escaped once and
/// twice (a body holding JSON, inside a report), percent-encoded.
fn needles() -> Vec<String> {
    let json = |s: &str| {
        let q = serde_json::to_string(s).unwrap();
        q[1..q.len() - 1].to_owned()
    };
    let mut out = Vec::new();
    for s in [
        SECRET_APP,
        SECRET_CODE,
        ROLE_SECRET,
        ROLE_TOKEN,
        URL_CODE,
        URL_CODE_DECODED,
    ] {
        out.push(s.to_owned());
        out.push(json(s));
        out.push(json(&json(s)));
        out.push(url::form_urlencoded::byte_serialize(s.as_bytes()).collect());
    }
    out.sort();
    out.dedup();
    out
}

fn assert_clean(what: &str, text: &str) {
    for n in needles() {
        assert!(!text.contains(&n), "{what} carries {n:?}:\n{text}");
    }
}

fn answer_text(a: &support::Answer) -> String {
    let mut text = String::from_utf8_lossy(&a.body).into_owned();
    for (k, v) in &a.headers {
        text.push_str(&format!("\n{k}: {}", String::from_utf8_lossy(v.as_bytes())));
    }
    text
}

/// The function's environment: three targets against the echoing backend, configured as an
/// operator would, that send every secret: the AppCode (`auth: appcode`), a signature
/// (`auth: app`), an AppCode in the URL. The AppSecret and the role's credentials are never
/// sent by the function itself; headers the operator wrote stand in for any way a value could
/// come back, so that each one passes through every output path.
fn leaky_env(backend: SocketAddr) -> Vec<(&'static str, String)> {
    let echo = format!("http://{backend}/echo");
    let targets = json!([
        {
            "name": "code", "url": format!("{echo}?status=403"), "auth": "appcode",
            "return_body": true,
            "headers": {"X-Echo-App": SECRET_APP, "X-Echo-Role": ROLE_SECRET, "X-Echo-Token": ROLE_TOKEN},
        },
        {
            "name": "signed", "url": format!("{echo}?status=403"), "auth": "app",
            "return_body": true, "samples": 2, "show_string_to_sign": true,
        },
        {
            "name": "url-code", "url": format!("{echo}?AppCode={URL_CODE}&status=500"),
            "auth": "none", "return_body": true, "show_string_to_sign": true,
        },
    ]);
    vec![
        ("APIGW_TARGETS", targets.to_string()),
        ("APIGW_APP_KEY", APP_KEY.to_owned()),
        ("APIGW_APP_SECRET", SECRET_APP.to_owned()),
        ("APIGW_APPCODE", SECRET_CODE.to_owned()),
        ("RUST_LOG", "trace".to_owned()),
    ]
}

fn as_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// What the report shows where the secrets were: masks.
fn assert_masked(report: &Value) {
    let target = |name: &str| {
        report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no target {name}: {report}"))
            .clone()
    };
    let code = target("code");
    let echoed = echoed_headers(&code["samples"][0]);
    assert_eq!(echoed["authorization"], "APPCODE ***", "{code}");
    assert_eq!(echoed["x-echo-app"], "***");
    let request_id = code["samples"][0]["gateway"]["request_id"]
        .as_str()
        .unwrap();
    assert!(
        request_id.contains("authorization=APPCODE ***"),
        "{request_id}"
    );
    let message = code["error"]["message"].as_str().unwrap();
    assert!(message.contains("x-echo-role=***"), "{message}");

    // Each signature, in the body, the gateway's headers and the error message.
    let signed = target("signed");
    let samples = signed["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 2, "{signed}");
    assert!(samples[0]["body"].is_string(), "{signed}");
    for s in samples {
        // Bodies may be kept for the first sample only.
        if s["body"].is_string() {
            assert_eq!(echoed_headers(s)["x-ca-signature"], "***", "{s}");
        }
        let id = s["gateway"]["request_id"].as_str().unwrap();
        assert!(id.contains("x-ca-signature=***"), "{id}");
    }
    let message = signed["error"]["message"].as_str().unwrap();
    assert!(message.contains("x-ca-signature=***"), "{message}");

    let url_code = target("url-code");
    assert!(
        url_code["url"].as_str().unwrap().contains("AppCode=***&"),
        "{url_code}"
    );
    assert!(
        url_code["samples"][0]["string_to_sign"].is_null(),
        "not signed: {url_code}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_leaves_by_any_output_path() {
    let backend = echo_backend([127, 0, 0, 1]).await;
    let env = leaky_env(backend.addr());
    let server = Server::start(&as_refs(&env));
    // FC's headers with the role's credentials for this request.
    let fc = [
        ("x-fc-access-key-id", "LTAIrole"),
        ("x-fc-access-key-secret", ROLE_SECRET),
        ("x-fc-security-token", ROLE_TOKEN),
    ];

    // The report of POST /invoke.
    let mut headers = fc.to_vec();
    headers.push(("x-fc-request-id", "leak-invoke"));
    let a = support::post(&server.url("/invoke"), &headers, "{}").await;
    assert_eq!(a.status, 404, "targets answer 403/500");
    assert_masked(&a.json());
    assert_clean("the /invoke report", &answer_text(&a));

    // The HTTP trigger: all targets, and one by name.
    for path in ["/probe", "/probe?target=signed"] {
        let a = get(&server.url(path), &fc).await;
        assert_eq!(a.status, 502, "{path}");
        assert_clean(path, &answer_text(&a));
    }
    let a = get(&server.url("/probe"), &fc).await;
    assert_masked(&a.json());

    // Error answers: configuration mistakes that would quote the AppCode in every answer. A
    // JSON setting that does not parse is described without its values; a list entry is
    // quoted, and redacted.
    let broken = json!([{
        "url": format!("http://{}/echo", backend.addr()),
        "headers": format!("Authorization: APPCODE {SECRET_CODE}"),
    }])
    .to_string();
    let broken_server = Server::start(&[
        ("APIGW_TARGETS", broken.as_str()),
        ("APIGW_APPCODE", SECRET_CODE),
        ("APIGW_DNS_SERVERS", SECRET_CODE),
    ]);
    for a in [
        support::invoke(&broken_server, "leak-error", "{}").await,
        get(&broken_server.url("/probe"), &[]).await,
    ] {
        assert_eq!(
            a.json()["errorType"],
            "config.invalid",
            "{}",
            answer_text(&a)
        );
        let message = a.json()["errorMessage"].as_str().unwrap().to_owned();
        assert!(
            message.contains("invalid type: string, expected a map"),
            "{message}"
        );
        assert!(
            message.contains("APIGW_DNS_SERVERS entry \"***\""),
            "{message}"
        );
        assert_clean("a config.invalid answer", &answer_text(&a));
    }

    // A configured APIGW_URL with its AppCode in the query: not in the url, the name, the log.
    let url_server = Server::start(&[
        (
            "APIGW_URL",
            format!("http://{}/echo?AppCode={URL_CODE}", backend.addr()).as_str(),
        ),
        ("RUST_LOG", "trace"),
    ]);
    let a = support::invoke(&url_server, "leak-url", "{}").await;
    let t = &a.json()["targets"][0];
    assert_eq!(t["ok"], true, "{t}");
    assert!(
        t["url"].as_str().unwrap().ends_with("/echo?AppCode=***"),
        "{t}"
    );
    assert_clean("the APIGW_URL report", &answer_text(&a));

    // Every log line (RUST_LOG=trace), also the failed targets' messages.
    server.wait_for_access_log("leak-invoke");
    url_server.wait_for_access_log("leak-url");
    broken_server.wait_for_access_log("leak-error");
    let failed = server.wait_for_line("the failed target's line", |l| {
        l.contains("target probed") && l.contains("x-echo-role=***")
    });
    assert!(
        failed.contains("leak-invoke") || failed.contains("request_id"),
        "{failed}"
    );
    for s in [&server, &url_server, &broken_server] {
        let mut log = s.stdout();
        log.extend(s.stderr());
        assert_clean("the log", &log.join("\n"));
    }

    // The command line: summary and --json, with the shell's own credentials.
    let mut cli_env = as_refs(&env);
    cli_env.extend([
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIshell"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ROLE_SECRET),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", ROLE_TOKEN),
    ]);
    for json_flag in [true, false] {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_apigw-vpc-probe"));
        cmd.arg("probe").env_clear().envs(cli_env.iter().copied());
        if json_flag {
            cmd.arg("--json");
        }
        let out = cmd.output().await.expect("run the CLI");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let text = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{text}");
        if json_flag {
            assert_masked(&serde_json::from_str(&stdout).expect("the JSON report"));
        } else {
            assert!(text.contains("authorization=APPCODE ***"), "{text}");
        }
        assert_clean(
            if json_flag {
                "probe --json"
            } else {
                "the summary"
            },
            &text,
        );
    }
    // The command line's own error message.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_apigw-vpc-probe"))
        .args(["probe", "--json"])
        .env_clear()
        .envs([
            ("APIGW_TARGETS", broken.as_str()),
            ("APIGW_APPCODE", SECRET_CODE),
        ])
        .output()
        .await
        .expect("run the CLI");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("config.invalid"), "{text}");
    assert_clean("the CLI's error", &text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_errors_do_not_reveal_the_configuration() {
    let backend = echo_backend([127, 0, 0, 1]).await;
    let targets = json!([
        {"name": "payroll-internal-7f3", "url": format!("http://{}/echo", backend.addr())},
    ])
    .to_string();
    let allow = "*.hidden-zone.example,127.0.0.1";
    let env = [
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_ALLOW_HOSTS", allow),
    ];
    let server = Server::start(&env);
    let answers = [
        invoke(
            &server,
            "conf-host",
            r#"{"url": "http://elsewhere.example/"}"#,
        )
        .await,
        probe_query(&server, &[("url", "http://elsewhere.example/")]).await,
        invoke(&server, "conf-name", r#"{"target": "nope"}"#).await,
        probe_query(&server, &[("target", "nope")]).await,
    ];
    for (i, a) in answers.iter().enumerate() {
        let text = answer_text(a);
        assert!(
            !text.contains("hidden-zone"),
            "#{i} quotes APIGW_ALLOW_HOSTS: {text}"
        );
        assert!(
            !text.contains("payroll-internal"),
            "#{i} lists the targets: {text}"
        );
    }
    // The class and a hint that says what to change.
    let report = answers[0].json();
    let e = &report["targets"][0]["error"];
    assert_eq!(e["class"], "target.forbidden", "{report}");
    assert!(
        e["hint"].as_str().unwrap().contains("APIGW_ALLOW_HOSTS"),
        "{e}"
    );
    let e = answers[2].json();
    assert_eq!(e["errorType"], "config.invalid", "{e}");
    assert!(e["hint"].as_str().unwrap().contains("APIGW_TARGETS"), "{e}");
    // The operator finds the details in the log, under the request's id.
    server.wait_for_access_log("conf-name");
    let log = server.json_lines();
    let warned = |request_id: &str, detail: &str| {
        log.iter().any(|v| {
            v["level"] == "WARN"
                && v["span"]["request_id"] == request_id
                && v.to_string().contains(detail)
        })
    };
    assert!(warned("conf-host", "hidden-zone"), "{log:#?}");
    assert!(warned("conf-name", "payroll-internal-7f3"), "{log:#?}");

    // The command line is the operator's own shell: it lists the names.
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_apigw-vpc-probe"));
    cmd.args(["probe", "--target", "nope"])
        .env_clear()
        .envs(env.iter().copied());
    let out = cmd.output().await.expect("run the CLI");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("payroll-internal-7f3"), "{text}");

    // The secret file's path: the variable is named, the path only logged.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ops-vault-mount").join("app-secret");
    let path = path.to_str().unwrap();
    let server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_APP_KEY", APP_KEY),
        ("APIGW_APP_SECRET_FILE", path),
    ]);
    for a in [
        invoke(&server, "conf-file", "{}").await,
        get(&server.url("/probe"), &[]).await,
    ] {
        let text = answer_text(&a);
        assert_eq!(a.json()["errorType"], "config.invalid", "{text}");
        assert!(text.contains("APIGW_APP_SECRET_FILE"), "{text}");
        assert!(!text.contains("ops-vault-mount"), "{text}");
    }
    let line = server.wait_for_line("the secret file's warning", |l| {
        l.contains("APIGW_APP_SECRET_FILE cannot be read")
    });
    assert!(line.contains(path), "{line}");

    // The CA file likewise, read at start-up: a plain-http target fails too, as for any
    // setting that is not valid.
    let ca = dir.path().join("pki-mount-9c1").join("ca.pem");
    let ca = ca.to_str().unwrap();
    let server = Server::start(&[("APIGW_TARGETS", targets.as_str()), ("APIGW_CA_FILE", ca)]);
    let line = server.wait_for_line("the CA file's warning", |l| {
        l.contains("APIGW_CA_FILE cannot be used")
    });
    assert!(line.contains(ca), "{line}");
    for a in [
        invoke(&server, "conf-ca", "{}").await,
        get(&server.url("/probe"), &[]).await,
    ] {
        let text = answer_text(&a);
        assert_eq!(a.json()["errorType"], "config.invalid", "{text}");
        assert!(text.contains("APIGW_CA_FILE cannot be read"), "{text}");
        assert!(!text.contains("pki-mount-9c1"), "{text}");
    }
}

#[tokio::test]
async fn a_password_in_a_url_is_never_repeated() {
    // Refused from the configuration and from a caller alike, and the refusal shows the URL
    // with `…@` for its userinfo: the password reaches neither the answer nor the log.
    const PASSWORD: &str = "pw-7d2e91c4";
    let backend = echo_backend([127, 0, 0, 1]).await;
    let url = format!("http://ops:{PASSWORD}@{}/echo", backend.addr());
    let shown = format!("http://…@{}/echo", backend.addr());
    let server = Server::start(&[
        ("APIGW_URL", url.as_str()),
        ("APIGW_ALLOW_HOSTS", "127.0.0.1"),
    ]);
    let answers = [
        invoke(&server, "url-password", "{}").await,
        probe_query(&server, &[("url", url.as_str())]).await,
    ];
    for a in &answers {
        let text = answer_text(a);
        assert!(text.contains("credentials in the URL"), "{text}");
        assert!(text.contains(&shown), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");
    }
    assert_eq!(answers[1].status, 400, "{}", answer_text(&answers[1]));
    server.wait_for_access_log("url-password");
    let log = server.json_lines();
    assert!(
        log.iter().any(|v| v["target_name"] == shown.as_str()),
        "{log:#?}"
    );
    assert!(
        log.iter().all(|v| !v.to_string().contains(PASSWORD)),
        "{log:#?}"
    );
}

#[tokio::test]
async fn settings_that_do_not_parse_are_logged_at_start_without_their_values() {
    // A header written as curl's -H takes it: APIGW_TARGETS does not parse, so the redaction
    // knows none of its values, and serde would quote the token.
    const TOKEN: &str = "tok-e81f6a02c9";
    let targets = format!(
        r#"[{{"url": "http://127.0.0.1:9/x", "headers": "Authorization: Bearer {TOKEN}"}}]"#
    );
    let server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_TIMEOUT_MS", "soon"),
    ]);
    let line = server.wait_for_line("the settings' warning", |l| {
        l.contains("the APIGW_* settings are not valid")
    });
    assert!(line.contains("APIGW_TIMEOUT_MS"), "{line}");
    assert!(
        line.contains(
            "APIGW_TARGETS is not a JSON array of targets: invalid type: string, expected a map"
        ),
        "{line}"
    );
    let answer = answer_text(&invoke(&server, "bad-settings", "{}").await);
    assert!(
        answer.contains("invalid type: string, expected a map"),
        "{answer}"
    );
    for text in [line, answer] {
        assert!(!text.contains(TOKEN), "{text}");
    }
}
