//! The OpenAPI client (src/openapi/): the V3 signer against every vector of the spec, the
//! requests the client really sends checked by a verifier built on Alibaba's own
//! `alibabacloud_openapi_util` (tests/py/acs3_verifier.py, over a loopback socket), and the
//! client's handling of errors, retries, endpoints and deadlines against loopback servers.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use apigw_vpc_probe::config::Settings;
use apigw_vpc_probe::openapi::cbn::{ChildInstancesQuery, RouteServicesQuery};
use apigw_vpc_probe::openapi::cloudapi::{AuthorizedAppsQuery, DeployedApisQuery};
use apigw_vpc_probe::openapi::sign::{
    canonical_query, canonical_request, sha256_hex, sign, SignInput, EMPTY_BODY_SHA256,
};
use apigw_vpc_probe::openapi::vpc::RouteEntryQuery;
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
const AK_ID: &str = "LTAI5tTestAccessKeyId";
const AK_SECRET: &str = "TestAccessKeySecret-ak-0002";

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

fn ak() -> Credentials {
    Credentials::new(Some(AK_ID.into()), Some(AK_SECRET.into()), None).unwrap()
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
async fn a_client_built_in_a_redaction_scope_teaches_it_the_credentials() {
    let r = apigw_vpc_probe::redact::Redactor::default();
    let (ep, _) = scripted(vec![canned(200, serde_json::json!({}))]).await;
    apigw_vpc_probe::redact::scope(r.clone(), async {
        let _client = client_for(Product::Fc, vec![ep], 3000);
    })
    .await;
    assert!(r.holds(STS_SECRET) && r.holds(STS_TOKEN));
    assert_eq!(r.redact(&format!("a {STS_TOKEN} b")), "a *** b");
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
    // Refused connection first (nothing listens there), then a good endpoint. The port stays
    // bound, without listening, for the whole test: a port freed at once was taken by one of
    // the scripted servers below, which then answered where a refusal was expected.
    let closed_port = apigw_standin::ClosedPort::on([127, 0, 0, 1].into()).unwrap();
    let closed =
        Endpoint::parse_override(&format!("http://{}", closed_port.addr()), false).unwrap();
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

    // An OpenAPI answer (a denial, a body of an unexpected shape) is the answer: the next
    // endpoint is not asked.
    let odd = serde_json::json!({"RequestId": "R-odd", "VpcId": 7});
    let (answers, _) = scripted(vec![canned(200, odd)]).await;
    let (never, never_seen) = scripted(vec![canned(200, serde_json::json!({}))]).await;
    let e = client_for(Product::Vpc, vec![answers, never], 3000)
        .describe_vpc_attribute("cn-hangzhou", "vpc-x", soon())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.request_id.as_deref()),
        (ErrorKind::Other, Some("R-odd"))
    );
    assert!(never_seen.lock().unwrap().is_empty());
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

// ---------------------------------------------------------------------------------------------
// The reference verifier (Alibaba's alibabacloud_openapi_util) over a loopback socket.

/// The verifier as a child process; killed when dropped.
struct Verifier {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
}

impl Verifier {
    fn start(python: &PathBuf, keys: &Value) -> Self {
        let mut child = Command::new(python)
            .arg(format!("{ROOT}/tests/py/acs3_verifier.py"))
            .arg(keys.to_string())
            .arg(format!("{ROOT}/tests/fixtures/openapi"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the verifier");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the verifier prints its port");
        let port = first
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("not a port line: {first}"));
        Self {
            child,
            port,
            lines: rx,
        }
    }

    /// The next request's log entry.
    fn next(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a log line per request");
        serde_json::from_str(&line).expect("a JSON log line")
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keys() -> Value {
    serde_json::json!({
        STS_ID: {"secret": STS_SECRET, "token": STS_TOKEN},
        AK_ID: {"secret": AK_SECRET, "token": null},
    })
}

/// A client whose every product goes to `http://127.0.0.1:<port>`.
fn loopback_client(port: u16, creds: Credentials) -> Client {
    let url = format!("http://127.0.0.1:{port}");
    let vars: Vec<(&str, String)> = Product::ALL
        .iter()
        .map(|p| (p.override_variable(), url.clone()))
        .collect();
    let s = settings(&vars);
    let endpoints = Endpoints::new(&s.openapi, Some("cn-hangzhou"), Some("1234567890"));
    Client::new(&s, endpoints, creds)
}

/// Every typed call, and the generic RPC with the encoding edge cases (§1.8), for one set of
/// credentials; returns how many requests were made.
async fn every_call(client: &Client, v: &Verifier, token: bool) -> usize {
    let r = "cn-hangzhou";
    let check = |action: &str| {
        let e = v.next();
        assert_eq!(e["code"], Value::Null, "{action} refused: {e}");
        assert_eq!(e["action"], action, "{e}");
        assert_eq!(e["token_signed"], token, "{e}");
        let signed: Vec<&str> = e["signed_headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect();
        // The mandatory set and nothing else (user-agent and accept go unsigned).
        let mut expected = vec!["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date"];
        if token {
            expected.push("x-acs-security-token");
        }
        expected.extend(["x-acs-signature-nonce", "x-acs-version"]);
        assert_eq!(signed, expected, "{action}");
        e
    };

    let a = client
        .describe_api_group(r, "523e8dc7bbe04613b5b1d726c2a7889d", soon())
        .await
        .unwrap();
    assert_eq!(
        a.value.instance_id.as_deref(),
        Some("apigateway-cn-v6419k43xxxxx")
    );
    assert_eq!(
        a.request_id.as_deref(),
        Some("03442A3D-3B7D-434C-8A95-A5FEB989B519")
    );
    assert_eq!(a.action, "apigateway:DescribeApiGroup");
    assert!(a.endpoint.starts_with("http://127.0.0.1:"));
    let e = check("DescribeApiGroup");
    assert_eq!(
        (e["method"].as_str(), e["path"].as_str()),
        (Some("POST"), Some("/"))
    );
    assert_eq!(e["query"]["GroupId"], "523e8dc7bbe04613b5b1d726c2a7889d");

    let a = client
        .describe_instances(r, "apigateway-cn-v6419k43xxxxx", soon())
        .await
        .unwrap();
    assert_eq!(
        a.value.instances.instance_attribute[0].vpc_intranet_enable,
        Some(true)
    );
    check("DescribeInstances");

    let q = DeployedApisQuery {
        group_id: "523e8dc7bbe04613b5b1d726c2a7889d".into(),
        stage_name: Some("RELEASE".into()),
        api_path: Some("/v1/items/[id] x*y~z".into()),
        api_method: Some("GET".into()),
        page_size: Some(100),
        ..Default::default()
    };
    let a = client.describe_deployed_apis(r, &q, soon()).await.unwrap();
    assert_eq!(a.value.deployed_apis.deployed_api_item.len(), 1);
    let e = check("DescribeDeployedApis");
    assert_eq!(e["query"]["ApiPath"], "/v1/items/[id] x*y~z");
    assert_eq!(e["query"]["PageSize"], "100");

    let a = client
        .describe_api(r, Some("g"), "8afff6c8c4c6447abb035812e4d66b65", soon())
        .await
        .unwrap();
    assert_eq!(a.value.auth_type.as_deref(), Some("APP"));
    check("DescribeApi");

    let a = client
        .describe_app_attributes(r, "204212345", soon())
        .await
        .unwrap();
    assert_eq!(a.value.apps.app_attribute[0].app_id, Some(20112314518278));
    check("DescribeAppAttributes");

    let q = AuthorizedAppsQuery {
        api_id: "c076144d7878437b8f82fb85890ce6a0".into(),
        stage_name: Some("RELEASE".into()),
        app_id: Some(20112314518278),
        ..Default::default()
    };
    let a = client
        .describe_authorized_apps(r, &q, soon())
        .await
        .unwrap();
    assert_eq!(
        a.value.authorized_apps.authorized_app[0].app_id,
        Some(20112314518278)
    );
    let e = check("DescribeAuthorizedApps");
    assert_eq!(e["query"]["AppId"], "20112314518278");

    let a = client
        .describe_authorized_apis(r, 20112314518278, Some(2), soon())
        .await
        .unwrap();
    assert_eq!(a.value.authorized_apis.authorized_api.len(), 1);
    check("DescribeAuthorizedApis");

    let a = client
        .describe_api_group_vpc_whitelist(r, "g", soon())
        .await
        .unwrap();
    assert_eq!(a.value.vpc_ids(), ["vpc-bp11w979o2s9rcr962w25"]);
    check("DescribeApiGroupVpcWhitelist");

    let a = client
        .get_function(r, "apigw-vpc-probe", Some("LATEST"), soon())
        .await
        .unwrap();
    assert_eq!(a.value.vpc_id(), Some("vpc-***"));
    assert_eq!(a.action, "fc:GetFunction");
    // FC's body has no RequestId: the x-fc-request-id header gives it.
    assert!(
        a.request_id.as_deref().is_some_and(|id| id.len() == 36),
        "{:?}",
        a.request_id
    );
    let e = check("GetFunction");
    assert_eq!(e["method"], "GET");
    assert_eq!(e["path"], "/2023-03-30/functions/apigw-vpc-probe");
    assert_eq!(e["query"]["qualifier"], "LATEST");

    let a = client
        .describe_vswitch_attributes(r, "vsw-bp1abcdefghijk0000", soon())
        .await
        .unwrap();
    assert_eq!(
        a.value.route_table.route_table_id.as_deref(),
        Some("vtb-bp145q7glnuzdv****")
    );
    let e = check("DescribeVSwitchAttributes");
    assert_eq!(e["query"]["RegionId"], "cn-hangzhou");

    let a = client
        .describe_vpc_attribute(r, "vpc-bp1functionvpc0000", soon())
        .await
        .unwrap();
    assert_eq!(a.value.associated_cens.associated_cen.len(), 1);
    check("DescribeVpcAttribute");

    let q = RouteEntryQuery {
        route_table_id: "vtb-bp145q7glnuzdv****".into(),
        destination_cidr_block: Some("100.104.255.128/26".into()),
        max_result: Some(100),
        ..Default::default()
    };
    let a = client
        .describe_route_entry_list(r, &q, soon())
        .await
        .unwrap();
    assert_eq!(a.value.route_entrys.route_entry.len(), 1);
    let e = check("DescribeRouteEntryList");
    assert_eq!(e["query"]["DestinationCidrBlock"], "100.104.255.128/26");

    let q = ChildInstancesQuery {
        cen_id: "cen-7qthudw0ll6jmc0000".into(),
        child_instance_region_id: Some("cn-shanghai".into()),
        child_instance_type: Some("VPC".into()),
        ..Default::default()
    };
    let a = client
        .describe_cen_attached_child_instances(&q, soon())
        .await
        .unwrap();
    assert_eq!(a.value.child_instances.child_instance.len(), 2);
    assert_eq!(a.action, "cen:DescribeCenAttachedChildInstances");
    check("DescribeCenAttachedChildInstances");

    let q = RouteServicesQuery {
        cen_id: "cen-7qthudw0ll6jmc0000".into(),
        host: Some("100.104.255.128/26".into()),
        host_region_id: Some("cn-shanghai".into()),
        host_vpc_id: Some("vpc-uf6boundvpc0000".into()),
        access_region_id: Some("cn-hangzhou".into()),
        ..Default::default()
    };
    let a = client
        .describe_route_services_in_cen(&q, soon())
        .await
        .unwrap();
    assert_eq!(
        a.value.route_service_entries.route_service_entry[0]
            .status
            .as_deref(),
        Some("Active")
    );
    let e = check("DescribeRouteServicesInCen");
    assert_eq!(e["query"]["Host"], "100.104.255.128/26");

    // The encoding edge cases of §1.8 through the generic RPC call: what the server decodes is
    // exactly what was sent, and Alibaba's util (which encodes again) agrees on the signature.
    let edge = "a b*c~d(e)!'f+g=h&i/é测%20;,:@$";
    let params: Vec<(String, String)> = vec![
        (
            "MetricList.1.MetricName".into(),
            "probe_duration_seconds".into(),
        ),
        (
            "MetricList.1.Dimensions".into(),
            format!("{{\"target\":\"{edge}\"}}"),
        ),
        ("MetricList.1.Values".into(), "{\"value\":10.5}".into()),
        ("MetricList.10.MetricName".into(), "sorts_before_2".into()),
        ("MetricList.2.MetricName".into(), "x".into()),
        ("Empty".into(), String::new()),
    ];
    let a = client
        .rpc::<Value>(Product::Cms, r, "PutCustomMetric", params.clone(), soon())
        .await
        .unwrap();
    assert!(a.request_id.is_some());
    assert_eq!(a.action, "cms:PutCustomMetric");
    let e = check("PutCustomMetric");
    for (k, v) in &params {
        assert_eq!(e["query"][k], v.as_str(), "{k}");
    }
    15
}

#[tokio::test]
async fn alibabas_util_accepts_what_the_client_sends() {
    let Some(python) = py_sdk() else { return };
    let v = Verifier::start(&python, &keys());
    // With the STS token (signed) and with a plain AccessKey (no token header at all).
    assert_eq!(
        every_call(&loopback_client(v.port, sts()), &v, true).await,
        15
    );
    assert_eq!(
        every_call(&loopback_client(v.port, ak()), &v, false).await,
        15
    );
}

#[tokio::test]
async fn a_wrong_secret_is_credentials_invalid_and_the_echo_is_cut() {
    let Some(python) = py_sdk() else { return };
    let v = Verifier::start(&python, &keys());
    let wrong = Credentials::new(
        Some(STS_ID.into()),
        Some("not-the-secret-0000".into()),
        Some(STS_TOKEN.into()),
    )
    .unwrap();
    let e = loopback_client(v.port, wrong)
        .describe_api_group("cn-hangzhou", "g", soon())
        .await
        .unwrap_err();
    assert_eq!(v.next()["code"], "SignatureDoesNotMatch");
    assert_eq!(e.kind, ErrorKind::CredentialsInvalid);
    assert_eq!(e.code.as_deref(), Some("SignatureDoesNotMatch"));
    assert_eq!(e.status, Some(400));
    assert!(e.request_id.is_some());
    assert!(
        e.message
            .starts_with("Specified signature is not matched with our calculation."),
        "{}",
        e.message
    );
    // The verifier echoed its canonical request, with the token and the parameters: none of it
    // is kept, in the message, Display or JSON.
    for text in [
        e.message.clone(),
        e.to_string(),
        serde_json::to_string(&e).unwrap(),
    ] {
        assert!(!text.contains(STS_TOKEN), "{text}");
        assert!(!text.contains("x-acs-security-token"), "{text}");
        assert!(!text.contains("ACS3-HMAC-SHA256"), "{text}");
        assert!(!text.contains("not-the-secret"), "{text}");
    }

    // An unknown key and a token that does not belong to the key are refused too.
    let unknown =
        Credentials::new(Some("LTAIunknown".into()), Some("x-secret-1".into()), None).unwrap();
    let e = loopback_client(v.port, unknown)
        .describe_vpc_attribute("cn-hangzhou", "vpc-x", soon())
        .await
        .unwrap_err();
    assert_eq!(v.next()["code"], "InvalidAccessKeyId.NotFound");
    assert_eq!(
        (e.kind, e.status),
        (ErrorKind::CredentialsInvalid, Some(404))
    );
    let mismatched = Credentials::new(
        Some(STS_ID.into()),
        Some(STS_SECRET.into()),
        Some("other-token".into()),
    )
    .unwrap();
    let e = loopback_client(v.port, mismatched)
        .get_function("cn-hangzhou", "f", None, soon())
        .await
        .unwrap_err();
    assert_eq!(
        v.next()["code"],
        "InvalidSecurityToken.MismatchWithAccessKey"
    );
    assert_eq!(e.kind, ErrorKind::CredentialsInvalid);
}

/// Sends a request signed by the Rust signer over a plain socket, with `tamper` applied to the
/// query after signing; returns the HTTP status.
fn raw_signed_request(port: u16, tamper: impl Fn(&mut Vec<(String, String)>)) -> u16 {
    let host = format!("127.0.0.1:{port}");
    let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let headers: Vec<(String, String)> = [
        ("host", host.as_str()),
        ("x-acs-action", "DescribeApiGroup"),
        ("x-acs-version", "2016-07-14"),
        ("x-acs-date", date.as_str()),
        ("x-acs-signature-nonce", nonce.as_str()),
        ("x-acs-content-sha256", EMPTY_BODY_SHA256),
        ("x-acs-security-token", STS_TOKEN),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut query = vec![(
        "GroupId".to_owned(),
        "523e8dc7bbe04613b5b1d726c2a7889d".to_owned(),
    )];
    let signed = sign(
        &SignInput {
            method: "POST",
            canonical_uri: "/",
            query: &query,
            headers: &headers,
            content_sha256: EMPTY_BODY_SHA256,
        },
        STS_ID,
        STS_SECRET,
    );
    tamper(&mut query);
    let mut request = format!("POST /?{} HTTP/1.1\r\n", canonical_query(&query));
    for (k, v) in &headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str(&format!(
        "authorization: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        signed.authorization
    ));
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

#[test]
fn a_tampered_request_is_refused() {
    let Some(python) = py_sdk() else { return };
    let v = Verifier::start(&python, &keys());
    // The same raw sender, untouched: accepted (so the refusal below is the tampering's).
    assert_eq!(raw_signed_request(v.port, |_| {}), 200);
    assert_eq!(v.next()["code"], Value::Null);
    // A parameter changed after signing.
    assert_eq!(
        raw_signed_request(v.port, |q| q[0].1 = "another-group".into()),
        400
    );
    let e = v.next();
    assert_eq!(e["code"], "SignatureDoesNotMatch", "{e}");
    assert_eq!(e["query"]["GroupId"], "another-group");
    // A parameter added after signing.
    assert_eq!(
        raw_signed_request(v.port, |q| q.push(("Extra".into(), "1".into()))),
        400
    );
    assert_eq!(v.next()["code"], "SignatureDoesNotMatch");
}
