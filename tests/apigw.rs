//! Speaking API Gateway: the shared signature vectors through the stand-in's own verifier,
//! signed round trips through the stand-in, every gateway diagnosis end to end with its hint,
//! replay and clock-skew refusals, and secrets kept out of every output.

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::process::Output;

use apigw_standin::auth::{self, Received};
use apigw_standin::{self as standin, StandIn};
use apigw_vpc_probe::apigw::sign::{self, Canonical, SignatureMethod};
use apigw_vpc_probe::report::Report;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use support::{class, error, probe_cli};

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/apigw-sign-vectors.json"
    ))
    .expect("fixture");
    serde_json::from_str::<Value>(&text).expect("JSON")["vectors"]
        .as_array()
        .expect("vectors")
        .clone()
}

fn encode(pairs: &Value) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for p in pairs.as_array().into_iter().flatten() {
        ser.append_pair(p[0].as_str().unwrap(), p[1].as_str().unwrap());
    }
    ser.finish()
}

#[test]
fn stand_in_verifier_reproduces_every_vector() {
    for v in vectors() {
        let id = v["id"].as_str().unwrap();
        let mut headers = HeaderMap::new();
        for (k, val) in v["headers"].as_object().unwrap() {
            headers.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(val.as_str().unwrap()).unwrap(),
            );
        }
        headers.insert(
            "x-ca-signature-headers",
            HeaderValue::from_str(v["x_ca_signature_headers"].as_str().unwrap()).unwrap(),
        );
        let query = encode(&v["query"]);
        let path_and_query = if query.is_empty() {
            v["path"].as_str().unwrap().to_owned()
        } else {
            format!("{}?{query}", v["path"].as_str().unwrap())
        };
        let body = match (&v["form"], &v["body"]) {
            (Value::Array(_), _) => encode(&v["form"]).into_bytes(),
            (_, Value::String(b)) => b.clone().into_bytes(),
            _ => Vec::new(),
        };
        let method = hyper::Method::from_bytes(v["method"].as_str().unwrap().as_bytes()).unwrap();
        let received = Received {
            method: &method,
            path_and_query: &path_and_query,
            headers: &headers,
            body: &body,
        };
        let sts = auth::string_to_sign(&received);
        assert_eq!(sts, v["string_to_sign"].as_str().unwrap(), "{id}");
        let alg = match v["alg"].as_str().unwrap() {
            "HmacSHA1" => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            _ => ring::hmac::HMAC_SHA256,
        };
        assert!(
            auth::signature_matches(
                alg,
                v["secret"].as_str().unwrap(),
                &sts,
                v["signature"].as_str().unwrap()
            ),
            "{id}"
        );
        assert!(!auth::signature_matches(
            alg,
            "wrong",
            &sts,
            v["signature"].as_str().unwrap()
        ));
    }
}

/// Environment variables of one run.
type Env = Vec<(&'static str, String)>;

async fn stand_in() -> StandIn {
    StandIn::start(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .expect("stand-in")
}

fn app_env(s: &StandIn, secret: &str) -> Env {
    vec![
        ("APIGW_DNS_SERVERS", s.dns_addr().to_string()),
        ("APIGW_APP_KEY", standin::DEMO_APP_KEY.to_owned()),
        ("APIGW_APP_SECRET", secret.to_owned()),
        ("APIGW_APPCODE", standin::DEMO_APPCODE.to_owned()),
    ]
}

async fn probe(args: &[&str], env: &Env) -> (i32, Report) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    probe_cli(args, &env).await
}

/// Runs the CLI and returns everything it printed.
async fn probe_raw(args: &[&str], env: &Env) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_apigw-vpc-probe"))
        .arg("probe")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .expect("run")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_round_trips_through_the_stand_in() {
    let s = stand_in().await;
    let env = app_env(&s, standin::DEMO_APP_SECRET);
    let signed = s.url("/web/signed");
    let edge_query = format!(
        "{signed}?b=2&a=1&empty=&multi=first&multi=second&Z=upper&u=%E4%B8%AD&zero=0&f=false"
    );
    let form_query = format!("{signed}?a=from-query&q=1");
    let cases: Vec<Vec<&str>> = vec![
        vec![&signed],
        vec![&edge_query],
        vec![&signed, "--stage", "TEST"],
        vec![&signed, "--signature-method", "HmacSHA1"],
        vec![
            &signed,
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json; charset=UTF-8",
            "-d",
            r#"{"name":"测试","n":1}"#,
        ],
        vec![
            &form_query,
            "-X",
            "POST",
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
            "-d",
            "a=from-form&b=%E5%80%BC&empty=&a=second",
        ],
        vec![&signed, "--auth", "appcode"],
        vec![&signed, "-H", "X-Ca-Custom: value with spaces"],
    ];
    for args in cases {
        let (code, report) = probe(&args, &env).await;
        assert_eq!(code, 0, "{args:?}: {report:?}");
    }
    // Every call was signed with a fresh nonce: three samples in a row pass too.
    let (code, report) = probe(&[&signed, "-n", "3"], &env).await;
    assert_eq!(code, 0, "{report:?}");
    assert_eq!(support::target(&report).samples.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_a403is_and_says_which_side_differs() {
    let s = stand_in().await;
    let env = app_env(&s, "not-the-app-secret");
    let (code, report) = probe(&[&s.url("/web/signed")], &env).await;
    assert_eq!(code, 1);
    assert_eq!(class(&report), "gateway.A403IS", "{report:?}");
    let e = error(&report);
    assert!(
        e.message.contains("strings to sign are identical"),
        "{}",
        e.message
    );
    assert!(e.hint.contains("AppSecret"), "{}", e.hint);
    // The gateway's string to sign is quoted, never the secret.
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("not-the-app-secret"), "{text}");
    let gateway_message = support::sample(&report)
        .gateway
        .as_ref()
        .and_then(|g| g.error_message.as_deref())
        .expect("X-Ca-Error-Message");
    assert!(
        gateway_message.starts_with("Invalid Signature, Server StringToSign:`GET#"),
        "the stand-in sends the documented form, in backticks: {gateway_message}"
    );

    // A string to sign longer than any display limit is compared whole: still identical.
    let long_query = format!("{}?q={}", s.url("/web/signed"), "x".repeat(1500));
    let (code, report) = probe(&[&long_query], &env).await;
    assert_eq!(code, 1);
    let message = &error(&report).message;
    assert!(
        message.contains("strings to sign are identical"),
        "{message}"
    );

    // A client that signs something else than it sends: the comparison with the gateway's
    // own string to sign (its message, '#' for newlines) names the line.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let (status, message, client_sts) = raw_signed_over(&s, "n-x", now, "/web/other").await;
    assert_eq!(status, 403);
    let message = message.unwrap();
    assert!(
        message.starts_with("Invalid Signature, Server StringToSign:"),
        "{message}"
    );
    let diff = sign::first_difference(&client_sts, &message).unwrap();
    assert!(diff.contains("path and parameters"), "{diff}");
    assert!(
        diff.contains("/web/other") && diff.contains("/web/signed"),
        "{diff}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_gateway_refusal_is_diagnosed_with_its_hint() {
    let s = stand_in().await;
    let env = app_env(&s, standin::DEMO_APP_SECRET);
    let mut unknown_key = env.clone();
    unknown_key[1].1 = "999999".into();
    let mut wrong_code = env.clone();
    // As long as a real AppCode: shorter ones are refused as config.invalid.
    wrong_code[3].1 = "00000000000000000000000000000000".into();
    let other_host = format!(
        "other.alicloudapi.com:{}:127.0.0.1",
        s.gateway_addr().port()
    );
    let other_url = format!(
        "http://other.alicloudapi.com:{}/web/cloudapi",
        s.gateway_addr().port()
    );
    let signed = s.url("/web/signed");
    let cases: Vec<(Vec<String>, &Env, &str, &str)> = vec![
        (
            vec![signed.clone()],
            &unknown_key,
            "gateway.A400IK",
            "AppKey",
        ),
        (
            vec![signed.clone(), "--auth".into(), "appcode".into()],
            &wrong_code,
            "gateway.A400AC",
            "AppCode",
        ),
        (
            vec![s.url("/web/other-app")],
            &env,
            "gateway.A403PR",
            "authorize the app",
        ),
        (
            vec![signed.clone(), "--auth".into(), "none".into()],
            &env,
            "gateway.A401MK",
            "authorize the app",
        ),
        (
            vec![s.url("/web/https-only")],
            &env,
            "gateway.I403PT",
            "protocol",
        ),
        (
            vec![s.url("/web/throttled"), "-n".into(), "3".into()],
            &env,
            "gateway.T429FC",
            "throttl",
        ),
        (
            vec![s.url("/web/slow")],
            &env,
            "gateway.D504TO",
            "backend timeout",
        ),
        (
            vec![s.url("/web/broken")],
            &env,
            "gateway.D504CO",
            "egress range",
        ),
        (
            vec![s.url("/web/preview")],
            &env,
            "gateway.I404NF",
            "RELEASE",
        ),
        (
            vec![other_url, "--resolve".into(), other_host],
            &env,
            "gateway.I404DO",
            "VPC second-level domain",
        ),
        (
            vec![
                s.url("/web/cloudapi"),
                "-H".into(),
                "X-Ca-Stage: PROD".into(),
            ],
            &env,
            "gateway.I400SG",
            "RELEASE, TEST or PRE",
        ),
    ];
    for (args, env, want, hint_part) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, report) = probe(&args, env).await;
        assert_eq!(code, 1, "{args:?}");
        assert_eq!(class(&report), want, "{args:?}: {report:?}");
        let hint = &error(&report).hint;
        assert!(hint.contains(hint_part), "{want}: {hint}");
        let failed = support::target(&report)
            .samples
            .iter()
            .find(|s| s.error.is_some())
            .unwrap_or_else(|| panic!("no failed sample: {report:?}"));
        let gateway = failed.gateway.as_ref().expect("the gateway's headers");
        assert_eq!(
            gateway.error_code.as_deref(),
            Some(want.trim_start_matches("gateway."))
        );
        assert!(gateway.request_id.is_some());
    }
}

/// A request signed by hand, so the test controls the nonce and the timestamp.
async fn raw_signed(s: &StandIn, nonce: &str, timestamp_ms: u128) -> (u16, Option<String>) {
    let (status, message, _) = raw_signed_over(s, nonce, timestamp_ms, "/web/signed").await;
    (status, message)
}

/// Like [`raw_signed`], signing `signed_path` while requesting `/web/signed` (a client bug).
async fn raw_signed_over(
    s: &StandIn,
    nonce: &str,
    timestamp_ms: u128,
    signed_path: &str,
) -> (u16, Option<String>, String) {
    let path = "/web/signed";
    let timestamp = timestamp_ms.to_string();
    let signed_headers = vec![
        ("x-ca-key", standin::DEMO_APP_KEY),
        ("x-ca-nonce", nonce),
        ("x-ca-timestamp", timestamp.as_str()),
    ];
    let sts = Canonical {
        method: "GET",
        accept: Some("application/json"),
        signed_headers: signed_headers.clone(),
        path: signed_path,
        ..Canonical::default()
    }
    .string_to_sign();
    let signature = sign::signature(
        SignatureMethod::HmacSha256,
        standin::DEMO_APP_SECRET.as_bytes(),
        &sts,
    );
    let mut req = support::client()
        .get(format!("http://{}{path}", s.gateway_addr()))
        .header("host", s.domain())
        .header("accept", "application/json")
        .header("x-ca-signature", signature)
        .header(
            "x-ca-signature-headers",
            "x-ca-key,x-ca-nonce,x-ca-timestamp",
        );
    for (k, v) in signed_headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.expect("send");
    let message = resp
        .headers()
        .get("x-ca-error-message")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (resp.status().as_u16(), message, sts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_nonce_and_stale_timestamp_are_refused() {
    let s = stand_in().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert_eq!(raw_signed(&s, "n-1", now).await.0, 200);
    let (status, message) = raw_signed(&s, "n-1", now).await;
    assert_eq!((status, message.as_deref()), (400, Some("Nonce Used")));
    let (status, message) = raw_signed(&s, "n-2", now - 16 * 60 * 1000).await;
    assert_eq!(
        (status, message.as_deref()),
        (400, Some("Timestamp Expired"))
    );
    // The client's diagnosis of those answers names the cause.
    assert!(
        apigw_vpc_probe::apigw::diagnose::gateway_hint("A400NU", "Nonce Used").contains("replayed")
    );
    assert!(
        apigw_vpc_probe::apigw::diagnose::gateway_hint("A400IT", "Timestamp Expired")
            .contains("clock")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_appear_in_no_output() {
    let s = stand_in().await;
    let secret = "s3cr3t-APP-secret-value";
    let appcode = "c0de-APPCODE-value-9";
    let mut env = app_env(&s, secret);
    env[3].1 = appcode.into();
    let signed = s.url("/web/signed");
    for args in [
        vec![signed.as_str(), "--json", "--show-string-to-sign"],
        vec![signed.as_str(), "--show-string-to-sign"],
        vec![signed.as_str(), "--auth", "appcode", "--json"],
        vec![signed.as_str(), "--auth", "appcode"],
    ] {
        let out = probe_raw(&args, &env).await;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.is_empty());
        assert!(!text.contains(secret), "{args:?}: {text}");
        assert!(!text.contains(appcode), "{args:?}: {text}");
    }
    // The function: a signed call, a wrong AppCode and a secret sent in an event.
    let dns = s.dns_addr().to_string();
    let targets = serde_json::json!([
        {"name": "signed", "url": signed},
        {"name": "code", "url": s.url("/web/signed"), "auth": "appcode"},
    ])
    .to_string();
    let server = support::Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_DNS_SERVERS", dns.as_str()),
        ("APIGW_APP_KEY", standin::DEMO_APP_KEY),
        ("APIGW_APP_SECRET", secret),
        ("APIGW_APPCODE", appcode),
        ("RUST_LOG", "trace"),
    ]);
    let answer = support::invoke(&server, "sec-1", "{}").await;
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    assert!(!body.contains(secret) && !body.contains(appcode), "{body}");
    let event = format!(r#"{{"url":"{signed}","app_secret":"{secret}"}}"#);
    let answer = support::invoke(&server, "sec-2", event).await;
    // Not a report: the event is refused whole, with FC's error body.
    assert_eq!(answer.json()["errorType"], "config.invalid");
    assert!(answer.json().get("targets").is_none(), "{}", answer.json());
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    assert!(!body.contains(secret), "{body}");
    server.wait_for_access_log("sec-2");
    for line in server.stdout().iter().chain(server.stderr().iter()) {
        assert!(!line.contains(secret) && !line.contains(appcode), "{line}");
    }
}
