//! The OpenAPI client (src/openapi/): the V3 signer against every vector of the spec, the
//! response fixtures against the official SDKs' models, and the client's handling of errors,
//! retries, endpoints and deadlines against loopback servers.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apigw_vpc_probe::config::Settings;
use apigw_vpc_probe::openapi::sign::{canonical_request, sha256_hex, sign, SignInput};
use apigw_vpc_probe::openapi::{
    Client, Credentials, Endpoint, EndpointKind, Endpoints, ErrorKind, OpenApiSettings, Product,
    Scheme,
};
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

// ---------------------------------------------------------------------------------------------
// The spec's vectors.

fn vectors() -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/tests/fixtures/acs3-vectors.json"))
        .expect("tests/fixtures/acs3-vectors.json");
    serde_json::from_str(&text).expect("vectors JSON")
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_owned()))
        .collect()
}

#[test]
fn signer_reproduces_every_v3_vector_of_the_spec() {
    let all = vectors();
    assert!(all["source"]
        .as_str()
        .unwrap()
        .contains("control-plane.md §1.9"));
    let v3 = all["v3"].as_array().unwrap();
    assert_eq!(v3.len(), 8, "every V3 vector of §1.9");
    for v in v3 {
        let id = v["id"].as_str().unwrap();
        let body = v["body"].as_str().unwrap();
        let content_sha256 = v["x_acs_content_sha256"].as_str().unwrap();
        assert_eq!(
            sha256_hex(body.as_bytes()),
            content_sha256,
            "{id}: body hash"
        );
        let mut headers = pairs(&v["headers"]);
        headers.push(("x-acs-content-sha256".into(), content_sha256.into()));
        let query = pairs(&v["query"]);
        let input = SignInput {
            method: v["method"].as_str().unwrap(),
            canonical_uri: v["uri"].as_str().unwrap(),
            query: &query,
            headers: &headers,
            content_sha256,
        };
        let canonical = canonical_request(&input);
        assert_eq!(canonical, v["canonical_request"].as_str().unwrap(), "{id}");
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            v["hashed_canonical_request"].as_str().unwrap(),
            "{id}"
        );
        let signed = sign(
            &input,
            v["access_key_id"].as_str().unwrap(),
            v["access_key_secret"].as_str().unwrap(),
        );
        assert_eq!(signed.signature, v["signature"].as_str().unwrap(), "{id}");
        assert_eq!(
            signed.authorization,
            v["authorization"].as_str().unwrap(),
            "{id}"
        );
    }
}

#[test]
fn signer_matches_the_python_and_go_utils_on_their_unit_test_vector() {
    let t = &vectors()["sdk_unit_test"];
    let query = pairs(&t["query"]);
    let headers: Vec<(String, String)> = t["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap().into(), h[1].as_str().unwrap().into()))
        .collect();
    for case in t["cases"].as_array().unwrap() {
        let input = SignInput {
            method: case["method"].as_str().unwrap(),
            canonical_uri: t["uri"].as_str().unwrap(),
            query: &query,
            headers: &headers,
            content_sha256: t["x_acs_content_sha256"].as_str().unwrap(),
        };
        let signed = sign(
            &input,
            t["access_key_id"].as_str().unwrap(),
            t["access_key_secret"].as_str().unwrap(),
        );
        let matches = signed.signature == case["signature"].as_str().unwrap();
        // Java keeps one value of the repeated header; we join them as Python and Go do.
        assert_eq!(
            matches,
            case["expected_to_match"].as_bool().unwrap(),
            "{}",
            case["language"]
        );
        if matches {
            assert!(canonical_request(&input).contains(&format!(
                "\n{}\n",
                case["canonical_headers"].as_str().unwrap()
            )));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// The venv's python: `$PY_SDK` when set (then missing is a failure), else
/// `target/py-sdk/bin/python` if present, else `None` (the caller skips).
fn py_sdk() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PY_SDK").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.exists(), "PY_SDK={} does not exist", p.display());
        return Some(p);
    }
    let p = PathBuf::from(ROOT).join("target/py-sdk/bin/python");
    if p.exists() {
        return Some(p);
    }
    println!("SKIPPED (python sdk): run make py-sdk");
    None
}

const STS_ID: &str = "STS.NTest1AccessKeyId";
const STS_SECRET: &str = "TestAccessKeySecret-sts-0001";
// The spec's token with `/+=` (§1.8): a header, signed, never URL-encoded.
const STS_TOKEN: &str = "CAIS-test-security-token/with+chars=";

fn settings(vars: &[(&str, String)]) -> Settings {
    let map: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .chain([("APIGW_DNS_SERVERS".to_owned(), "127.0.0.1:1".to_owned())])
        .collect();
    let s = Settings::from_lookup(|k| map.get(k).cloned());
    assert!(s.problems.is_empty(), "{:?}", s.problems);
    s
}

fn sts() -> Credentials {
    Credentials::new(
        Some(STS_ID.into()),
        Some(STS_SECRET.into()),
        Some(STS_TOKEN.into()),
    )
    .unwrap()
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

// ---------------------------------------------------------------------------------------------
// Errors, retries, endpoints and deadlines, against a scripted loopback server.

/// One scripted answer: after `delay`, `status` with `headers` and `body` (or no answer at all
/// when `status` is 0: the connection is held open).
#[derive(Clone)]
struct Canned {
    delay: Duration,
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn canned(status: u16, body: Value) -> Canned {
    Canned {
        delay: Duration::ZERO,
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

/// A loopback server answering each connection with the next scripted answer (the last one
/// repeats); returns its endpoint and the request heads it saw.
async fn scripted(answers: Vec<Canned>) -> (Endpoint, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                break;
            };
            let answer = answers[n.min(answers.len() - 1)].clone();
            n += 1;
            let log = log.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => head.extend_from_slice(&buf[..k]),
                    }
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                tokio::time::sleep(answer.delay).await;
                if answer.status == 0 {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                }
                let mut out = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                    answer.status,
                    answer.body.len()
                );
                for (k, v) in &answer.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&answer.body);
                let _ = socket.write_all(out.as_bytes()).await;
            });
        }
    });
    let endpoint = Endpoint::parse_override(&format!("http://127.0.0.1:{port}"), false).unwrap();
    (endpoint, seen)
}

/// A client whose `product` calls go to `endpoints`, in order.
fn client_for(product: Product, endpoints: Vec<Endpoint>, timeout_ms: u64) -> Client {
    let s = settings(&[("APIGW_OPENAPI_TIMEOUT_MS", timeout_ms.to_string())]);
    let openapi = OpenApiSettings {
        overrides: endpoints.into_iter().map(|e| (product, e)).collect(),
        ..s.openapi.clone()
    };
    let e = Endpoints::new(&openapi, Some("cn-hangzhou"), None);
    let transport = apigw_vpc_probe::openapi::Transport::new(&s);
    Client::with_transport(transport, e, sts())
}

fn envelope(code: &str, message: &str) -> Value {
    serde_json::json!({
        "RequestId": "7DC0013A-0000-0000-0000-000000000001",
        "HostId": "apigateway.cn-hangzhou.aliyuncs.com",
        "Code": code,
        "Message": message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}"),
    })
}

#[tokio::test]
async fn documented_error_bodies_become_typed_errors() {
    let errors: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/tests/fixtures/openapi/errors.json")).unwrap(),
    )
    .unwrap();
    let cases = [
        (
            403,
            errors["forbidden_ram"].clone(),
            ErrorKind::PermissionDenied,
            "Forbidden.RAM",
        ),
        (
            400,
            errors["signature_does_not_match"].clone(),
            ErrorKind::CredentialsInvalid,
            "SignatureDoesNotMatch",
        ),
        (
            404,
            errors["rpc"].clone(),
            ErrorKind::Other,
            "InvalidOperation.NotSupportedEndpoint",
        ),
        (
            400,
            envelope("NotFoundApiGroup", "The specified group is not found."),
            ErrorKind::NotFound,
            "NotFoundApiGroup",
        ),
        (
            400,
            envelope(
                "InvalidSecurityToken.Expired",
                "Specified SecurityToken is expired.",
            ),
            ErrorKind::CredentialsInvalid,
            "InvalidSecurityToken.Expired",
        ),
    ];
    for (status, body, kind, code) in cases {
        let (ep, _) = scripted(vec![canned(status, body.clone())]).await;
        let e = client_for(Product::ApiGateway, vec![ep.clone()], 3000)
            .describe_api_group("cn-hangzhou", "g", soon())
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_deref(), e.status),
            (kind, Some(code), Some(status)),
            "{e}"
        );
        assert_eq!(e.request_id.as_deref(), body["RequestId"].as_str());
        assert_eq!(e.recommend.as_deref(), body["Recommend"].as_str());
        assert_eq!(e.endpoint.as_deref(), Some(ep.to_string().as_str()));
        assert!(
            !e.message.contains("server string to sign"),
            "{}",
            e.message
        );
        if kind == ErrorKind::PermissionDenied {
            assert_eq!(e.ram_action(), Some("apigateway:DescribeApiGroup"));
        }
    }
    // FC 3.0's {"Code","Message","RequestId"}, with an AccessDeniedDetail naming the action.
    let (ep, _) = scripted(vec![canned(404, errors["fc"].clone())]).await;
    let e = client_for(Product::Fc, vec![ep], 3000)
        .get_function("cn-hangzhou", "nope", None, soon())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::NotFound, Some("FunctionNotFound"))
    );
    assert_eq!(
        e.request_id.as_deref(),
        Some("1-64e70cf1-5cbef92ea8fc8c42899cf5d1")
    );
    let mut denied = envelope("NoPermission", "You are not authorized to do this action.");
    denied["AccessDeniedDetail"] = serde_json::json!({"AuthAction": "vpc:DescribeVpcAttribute", "PolicyType": "AccountLevelIdentityBasedPolicy"});
    let (ep, _) = scripted(vec![canned(403, denied)]).await;
    let e = client_for(Product::Vpc, vec![ep], 3000)
        .describe_vpc_attribute("cn-hangzhou", "vpc-x", soon())
        .await
        .unwrap_err();
    assert_eq!(e.ram_action(), Some("vpc:DescribeVpcAttribute"));
    assert_eq!(e.denied_action.as_deref(), Some("vpc:DescribeVpcAttribute"));
}

#[tokio::test]
async fn the_message_never_keeps_the_token_or_the_secret() {
    // A server that echoes the credentials in a message (not the string-to-sign form).
    let body = envelope(
        "InvalidParameter",
        &format!("bad request from {STS_ID} with token {STS_TOKEN} and {STS_SECRET}"),
    );
    let (ep, seen) = scripted(vec![canned(400, body)]).await;
    let e = client_for(Product::ApiGateway, vec![ep], 3000)
        .describe_api_group("cn-hangzhou", "g", soon())
        .await
        .unwrap_err();
    let text = format!("{e} {e:?} {}", serde_json::to_string(&e).unwrap());
    assert!(
        !text.contains(STS_TOKEN) && !text.contains(STS_SECRET),
        "{text}"
    );
    assert!(text.contains("with token *** and ***"), "{text}");
    // The request did carry them, in the signed headers only.
    let head = seen.lock().unwrap()[0].clone();
    assert!(
        head.contains(&format!("x-acs-security-token: {STS_TOKEN}")),
        "{head}"
    );
    assert!(head.contains("authorization: ACS3-HMAC-SHA256 Credential=STS.NTest1AccessKeyId,SignedHeaders=host;x-acs-action;"), "{head}");
    assert!(head.contains("user-agent: apigw-vpc-probe/"), "{head}");
    assert!(!head.contains(STS_SECRET), "{head}");
}

#[tokio::test]
async fn throttling_is_retried_once_when_the_wait_fits_the_deadline() {
    let ok = canned(200, serde_json::json!({"RequestId": "R-OK", "VpcIds": ""}));
    let mut throttled = canned(
        400,
        envelope(
            "Throttling.User",
            "Request was denied due to user flow control.",
        ),
    );
    throttled.headers.push(("x-acs-retry-after", "300".into()));

    // The wait (300 ms) fits: one retry, with a fresh nonce.
    let (ep, seen) = scripted(vec![throttled.clone(), ok.clone()]).await;
    let started = Instant::now();
    let a = client_for(Product::ApiGateway, vec![ep], 3000)
        .describe_api_group_vpc_whitelist("cn-hangzhou", "g", soon())
        .await
        .unwrap();
    assert_eq!(a.request_id.as_deref(), Some("R-OK"));
    assert!(started.elapsed() >= Duration::from_millis(300));
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 2);
    let nonce = |h: &str| {
        h.lines()
            .find(|l| l.starts_with("x-acs-signature-nonce"))
            .map(str::to_owned)
    };
    assert_ne!(nonce(&heads[0]), nonce(&heads[1]));

    // It does not fit a 400 ms deadline: the throttled answer is returned at once.
    let (ep, seen) = scripted(vec![throttled, ok]).await;
    let started = Instant::now();
    let e = client_for(Product::ApiGateway, vec![ep], 3000)
        .describe_api_group_vpc_whitelist(
            "cn-hangzhou",
            "g",
            Instant::now() + Duration::from_millis(400),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.retry_after, Some(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_millis(300));
    assert_eq!(seen.lock().unwrap().len(), 1);

    // Throttling without x-acs-retry-after is not retried.
    let (ep, seen) = scripted(vec![canned(400, envelope("Throttling.Api", "slow down"))]).await;
    let e = client_for(Product::ApiGateway, vec![ep], 3000)
        .describe_api_group_vpc_whitelist("cn-hangzhou", "g", soon())
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.retry_after), (ErrorKind::Throttled, None));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn service_unavailable_is_retried_once() {
    let unavailable = canned(
        503,
        envelope(
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        ),
    );
    let (ep, seen) = scripted(vec![
        unavailable.clone(),
        canned(200, serde_json::json!({"RequestId": "R2"})),
    ])
    .await;
    let a = client_for(Product::Vpc, vec![ep], 3000)
        .rpc::<Value>(
            Product::Vpc,
            "cn-hangzhou",
            "DescribeVpcAttribute",
            vec![],
            soon(),
        )
        .await
        .unwrap();
    assert_eq!(a.request_id.as_deref(), Some("R2"));
    assert_eq!(seen.lock().unwrap().len(), 2);
    // Twice unavailable: the second answer is the error.
    let (ep, seen) = scripted(vec![unavailable]).await;
    let e = client_for(Product::Vpc, vec![ep], 3000)
        .describe_vpc_attribute("cn-hangzhou", "vpc-x", soon())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.status),
        (ErrorKind::ServiceUnavailable, Some(503))
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn the_next_endpoint_is_tried_only_without_an_openapi_answer() {
    let ok = canned(
        200,
        serde_json::json!({"RequestId": "R-second", "VpcId": "vpc-x"}),
    );
    // Refused connection first (nothing listens there), then a good endpoint.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        Endpoint::parse_override(&format!("http://127.0.0.1:{port}"), false).unwrap()
    };
    let (good, _) = scripted(vec![ok.clone()]).await;
    let a = client_for(Product::Vpc, vec![closed.clone(), good.clone()], 3000)
        .describe_vpc_attribute("cn-hangzhou", "vpc-x", soon())
        .await
        .unwrap();
    assert_eq!(
        (a.request_id.as_deref(), a.endpoint),
        (Some("R-second"), good.to_string())
    );

    // An answer that is not an OpenAPI error (an HTML 404 of something else): next endpoint.
    let mut html = canned(404, Value::Null);
    html.body = "<html>not here</html>".into();
    let (wrong, _) = scripted(vec![html]).await;
    let (good, _) = scripted(vec![ok]).await;
    let a = client_for(Product::Vpc, vec![wrong, good], 3000)
        .describe_vpc_attribute("cn-hangzhou", "vpc-x", soon())
        .await
        .unwrap();
    assert_eq!(a.request_id.as_deref(), Some("R-second"));

    // An OpenAPI answer (a denial) is the answer: the next endpoint is not asked.
    let (denies, _) = scripted(vec![canned(403, envelope("Forbidden.RAM", "no"))]).await;
    let (never, never_seen) = scripted(vec![canned(200, serde_json::json!({}))]).await;
    let e = client_for(Product::Vpc, vec![denies, never], 3000)
        .describe_vpc_attribute("cn-hangzhou", "vpc-x", soon())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    assert!(never_seen.lock().unwrap().is_empty());

    // All unreachable: unreachable, naming what was tried.
    let e = client_for(Product::Vpc, vec![closed.clone(), closed], 3000)
        .describe_vpc_attribute("cn-hangzhou", "vpc-x", soon())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unreachable);
    assert!(e.message.contains("tried before"), "{}", e.message);
}

#[tokio::test]
async fn a_silent_endpoint_times_out_and_the_deadline_is_kept() {
    let mut silent = canned(0, Value::Null);
    silent.delay = Duration::from_secs(30);
    // The call's own timeout (300 ms) comes first: unreachable.
    let (ep, _) = scripted(vec![silent.clone()]).await;
    let started = Instant::now();
    let e = client_for(Product::ApiGateway, vec![ep], 300)
        .describe_api_group("cn-hangzhou", "g", soon())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unreachable, "{e}");
    assert!(
        e.message.contains("APIGW_OPENAPI_TIMEOUT_MS (300 ms)"),
        "{}",
        e.message
    );
    assert!(started.elapsed() < Duration::from_millis(1500));

    // The caller's deadline (250 ms) comes first, across two silent endpoints: deadline.
    let (a, _) = scripted(vec![silent.clone()]).await;
    let (b, _) = scripted(vec![silent]).await;
    let started = Instant::now();
    let e = client_for(Product::ApiGateway, vec![a, b], 3000)
        .describe_api_group(
            "cn-hangzhou",
            "g",
            Instant::now() + Duration::from_millis(250),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::DeadlineExceeded, "{e}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(240) && took < Duration::from_millis(1000),
        "{took:?}"
    );

    // A deadline already past: nothing is sent.
    let (ep, seen) = scripted(vec![canned(200, serde_json::json!({}))]).await;
    let e = client_for(Product::ApiGateway, vec![ep], 3000)
        .describe_api_group("cn-hangzhou", "g", Instant::now())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::DeadlineExceeded);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn answers_that_are_not_the_documented_shape_are_errors() {
    // AppId must stay an integer; a string is not the documented shape.
    let body = serde_json::json!({"RequestId": "R", "Apps": {"AppAttribute": [{"AppId": "123"}]}});
    let (ep, _) = scripted(vec![canned(200, body)]).await;
    let e = client_for(Product::ApiGateway, vec![ep], 3000)
        .describe_app_attributes("cn-hangzhou", "key", soon())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.request_id.as_deref()),
        (ErrorKind::Other, Some("R"))
    );
    assert!(
        e.message.contains("not the documented shape"),
        "{}",
        e.message
    );
    // Not JSON at all.
    let mut text = canned(200, Value::Null);
    text.body = "OK".into();
    let (ep, _) = scripted(vec![text]).await;
    let e = client_for(Product::ApiGateway, vec![ep], 3000)
        .describe_app_attributes("cn-hangzhou", "key", soon())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Other);
    assert!(e.message.contains("not JSON"), "{}", e.message);
}

#[test]
fn no_endpoint_for_a_vpc_only_cross_region_call_is_unreachable_without_a_packet() {
    let s = settings(&[("APIGW_OPENAPI_NETWORK", "vpc".into())]);
    let e = Endpoints::new(&s.openapi, Some("cn-shanghai"), None);
    assert!(e.candidates(Product::ApiGateway, "cn-hangzhou").is_empty());
    let client = Client::new(&s, e, sts());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(client.describe_api_group("cn-hangzhou", "g", soon()))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unreachable);
    assert!(
        err.message.contains("APIGW_OPENAPI_NETWORK=vpc"),
        "{}",
        err.message
    );
    // The default endpoints are https on 443.
    let e = Endpoints::new(&settings(&[]).openapi, Some("cn-hangzhou"), None);
    let first = &e.candidates(Product::Vpc, "cn-hangzhou")[0];
    assert_eq!(
        (first.scheme, first.port, first.kind),
        (Scheme::Https, 443, EndpointKind::Vpc)
    );
}

#[test]
fn response_fixtures_have_the_official_sdks_key_names() {
    let Some(python) = py_sdk() else { return };
    let out = Command::new(python)
        .arg(format!("{ROOT}/tests/py/check_fixtures.py"))
        .arg(format!("{ROOT}/tests/fixtures/openapi"))
        .output()
        .expect("run check_fixtures.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        14,
        "{text}"
    );
}
