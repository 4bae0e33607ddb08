//! Holding secrets: what a caller of the function can make it send, and that no secret leaves
//! the process by any output path. The real binary (`serve`, `probe`) over real sockets on
//! loopback, against the stand-in backend, whose `/echo` sends back what it received.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use apigw_vpc_probe::standin::Backend;
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
