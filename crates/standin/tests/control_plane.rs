//! The stand-in's one world over real sockets, without the Python SDKs: a change to the world
//! shows in the DNS, the gateway and the control plane at once; faults delay, hang and close;
//! the admin endpoint changes the world at run time; `apigw-standin control-plane` runs it as a
//! process.
//!
//! Requests here are signed with the stand-in's own V3 functions: these tests are about the
//! world, not the signature (the vectors and the official client check that).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use apigw_standin::control_plane::verify::{
    canonical_query, canonical_request, format_date, hex_sha256, string_to_sign, v3_signature,
};
use apigw_standin::control_plane::world::api_id;
use apigw_standin::{
    vpc_domain, Fault, StandIn, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_APPCODE,
    DEMO_APP_ID, DEMO_FUNCTION, DEMO_GROUP, DEMO_INSTANCE, DEMO_REGION, DEMO_VPC, OTHER_VPC,
};
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A request to the control plane.
struct Call<'a> {
    /// The Host header (default: the address).
    host: Option<&'a str>,
    method: &'a str,
    path: &'a str,
    action: &'a str,
    version: &'a str,
    query: &'a [(&'a str, &'a str)],
    timeout: Duration,
}

impl Default for Call<'_> {
    fn default() -> Self {
        Self {
            host: None,
            method: "POST",
            path: "/",
            action: "",
            version: "2016-07-14",
            query: &[],
            timeout: Duration::from_secs(10),
        }
    }
}

/// `c`, V3-signed with the demo's long-term key, sent to the control plane at `addr`.
async fn call(addr: SocketAddr, c: Call<'_>) -> Result<(u16, Value), reqwest::Error> {
    let Call {
        host,
        method,
        path,
        action,
        version,
        query,
        timeout,
    } = c;
    let host = host.map_or_else(|| addr.to_string(), str::to_owned);
    let pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let q = canonical_query(&pairs);
    let headers = [
        ("host", host.clone()),
        ("x-acs-action", action.to_owned()),
        ("x-acs-content-sha256", hex_sha256(b"")),
        ("x-acs-date", format_date(SystemTime::now())),
        (
            "x-acs-signature-nonce",
            uuid::Uuid::new_v4().simple().to_string(),
        ),
        ("x-acs-version", version.to_owned()),
    ];
    let owned: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let canonical = canonical_request(method, path, &q, &owned, &hex_sha256(b""));
    let sig = v3_signature(DEMO_ACCESS_KEY_SECRET, &string_to_sign(&canonical));
    let names: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    let url = if q.is_empty() {
        format!("http://{addr}{path}")
    } else {
        format!("http://{addr}{path}?{q}")
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .expect("client");
    let mut req = client.request(method.parse().expect("method"), url);
    for (k, v) in &headers {
        req = req.header(*k, v);
    }
    let resp = req
        .header(
            "authorization",
            format!(
                "ACS3-HMAC-SHA256 Credential={DEMO_ACCESS_KEY_ID},SignedHeaders={},Signature={sig}",
                names.join(";")
            ),
        )
        .send()
        .await?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    Ok((status, body))
}

async fn rpc(addr: SocketAddr, action: &str, query: &[(&str, &str)]) -> (u16, Value) {
    call(
        addr,
        Call {
            action,
            query,
            ..Call::default()
        },
    )
    .await
    .expect("the control plane answered")
}

/// The DNS server's response code and addresses for `name`.
async fn resolve(dns: SocketAddr, name: &str) -> (ResponseCode, Vec<String>) {
    let mut m = Message::query();
    m.add_query(Query::query(
        Name::from_ascii(format!("{name}.")).unwrap(),
        RecordType::A,
    ));
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&m.to_vec().unwrap(), dns).await.unwrap();
    let mut buf = [0u8; 1500];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
        .await
        .expect("a DNS answer")
        .unwrap();
    let r = Message::from_vec(&buf[..n]).unwrap();
    let addrs = r.answers.iter().map(|a| a.data.to_string()).collect();
    (r.metadata.response_code, addrs)
}

/// The gateway's answer to GET `path` on the demo domain: status and X-Ca-Error-Code.
async fn gateway(s: &StandIn, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .resolve(&s.domain(), s.gateway_addr())
        .build()
        .unwrap();
    let mut req = client.get(s.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("the gateway answered");
    let code = resp
        .headers()
        .get("x-ca-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (resp.status().as_u16(), code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_world_for_dns_gateway_and_control_plane() {
    let s = StandIn::start(LOCAL).await.expect("stand-in");
    let cp = s.control_plane_addr();
    let domain = vpc_domain(DEMO_GROUP, DEMO_REGION);

    assert_eq!(
        resolve(s.dns_addr(), &domain).await,
        (ResponseCode::NoError, vec!["127.0.0.1".to_owned()])
    );
    assert_eq!(
        gateway(&s, "/web/cloudapi", &[]).await,
        (200, String::new())
    );
    let (st, body) = rpc(cp, "DescribeApiGroup", &[("GroupId", DEMO_GROUP)]).await;
    assert_eq!(
        (st, body["VpcDomain"].as_str()),
        (200, Some(domain.as_str()))
    );

    // The VPC domain off: NXDOMAIN, the gateway no longer serves the name, VpcDomain empty.
    s.disable_vpc_domain(DEMO_GROUP).unwrap();
    assert_eq!(
        resolve(s.dns_addr(), &domain).await.0,
        ResponseCode::NXDomain
    );
    assert_eq!(
        gateway(&s, "/web/cloudapi", &[]).await,
        (404, "I404DO".into())
    );
    let (_, body) = rpc(cp, "DescribeApiGroup", &[("GroupId", DEMO_GROUP)]).await;
    assert_eq!(body["VpcDomain"], "");
    s.enable_vpc_domain(DEMO_GROUP).unwrap();
    assert_eq!(
        resolve(s.dns_addr(), &domain).await.0,
        ResponseCode::NoError
    );
    assert_eq!(gateway(&s, "/web/cloudapi", &[]).await.0, 200);

    // The API taken offline in RELEASE: I404NF there, still served in TEST, and
    // DescribeDeployedApis agrees.
    let cloudapi = api_id(DEMO_GROUP, "GET", "/web/cloudapi");
    s.world()
        .update(|w| w.undeploy(&cloudapi, "RELEASE"))
        .unwrap();
    assert_eq!(
        gateway(&s, "/web/cloudapi", &[]).await,
        (404, "I404NF".into())
    );
    assert_eq!(
        gateway(&s, "/web/cloudapi", &[("x-ca-stage", "TEST")])
            .await
            .0,
        200
    );
    let (_, body) = rpc(
        cp,
        "DescribeDeployedApis",
        &[("GroupId", DEMO_GROUP), ("ApiId", &cloudapi)],
    )
    .await;
    assert_eq!(body["TotalCount"], 1);
    assert_eq!(
        body["DeployedApis"]["DeployedApiItem"][0]["StageName"],
        "TEST"
    );

    // The app's authorization revoked in RELEASE: A403PR there, still fine in TEST.
    let appcode = format!("APPCODE {DEMO_APPCODE}");
    let auth = [("authorization", appcode.as_str())];
    assert_eq!(gateway(&s, "/web/signed", &auth).await.0, 200);
    let signed = api_id(DEMO_GROUP, "GET", "/web/signed");
    s.world()
        .update(|w| w.revoke(DEMO_APP_ID, &signed, "RELEASE"))
        .unwrap();
    assert_eq!(
        gateway(&s, "/web/signed", &auth).await,
        (403, "A403PR".into())
    );
    let test_auth = [("authorization", appcode.as_str()), ("x-ca-stage", "TEST")];
    assert_eq!(gateway(&s, "/web/signed", &test_auth).await.0, 200);
    let (_, body) = rpc(
        cp,
        "DescribeAuthorizedApps",
        &[("ApiId", &signed), ("StageName", "RELEASE")],
    )
    .await;
    assert_eq!(body["TotalCount"], 0);

    // Another inbound VPC bound.
    s.bind_inbound_vpc(DEMO_INSTANCE, OTHER_VPC).unwrap();
    let (_, body) = rpc(cp, "DescribeInstances", &[("InstanceId", DEMO_INSTANCE)]).await;
    assert_eq!(
        body["Instances"]["InstanceAttribute"][0]["UserVpcId"],
        OTHER_VPC
    );
    s.unbind_inbound_vpc(DEMO_INSTANCE).unwrap();
    let (_, body) = rpc(cp, "DescribeInstances", &[("InstanceId", DEMO_INSTANCE)]).await;
    let i = &body["Instances"]["InstanceAttribute"][0];
    assert_eq!(
        (i["UserVpcId"].as_str(), i["VpcIntranetEnable"].as_bool()),
        (Some(""), Some(false))
    );

    // A denial for the key.
    s.deny(DEMO_ACCESS_KEY_ID, "apigateway:DescribeApiGroup")
        .unwrap();
    let (st, body) = rpc(cp, "DescribeApiGroup", &[("GroupId", DEMO_GROUP)]).await;
    assert_eq!((st, body["Code"].as_str()), (403, Some("Forbidden.RAM")));
    assert_eq!(
        body["AccessDeniedDetail"]["AuthAction"],
        "apigateway:DescribeApiGroup"
    );
    assert_eq!(body["AccessDeniedDetail"]["AuthPrincipalType"], "SubUser");

    // Unknown names are errors, not silent no-ops.
    assert!(s.disable_vpc_domain("no-such-group").is_err());
    assert!(s.bind_inbound_vpc(DEMO_INSTANCE, "vpc-nowhere").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_host_selects_the_region() {
    let s = StandIn::start(LOCAL).await.expect("stand-in");
    let cp = s.control_plane_addr();
    let port = cp.port();
    let ask = |region: &str| {
        let host = format!("apigateway-vpc.{region}.aliyuncs.com:{port}");
        async move {
            call(
                cp,
                Call {
                    host: Some(&host),
                    action: "DescribeApiGroup",
                    query: &[("GroupId", DEMO_GROUP)],
                    ..Call::default()
                },
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(ask(DEMO_REGION).await.0, 200);
    // The group is in cn-shanghai: at cn-hangzhou's endpoint it does not exist.
    let (st, body) = ask("cn-hangzhou").await;
    assert_eq!((st, body["Code"].as_str()), (404, Some("NotFoundApiGroup")));
    assert_eq!(body["HostId"], "apigateway-vpc.cn-hangzhou.aliyuncs.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_delay_hang_close_and_count() {
    let s = StandIn::start(LOCAL).await.expect("stand-in");
    let cp = s.control_plane_addr();
    let instances = [("InstanceId", DEMO_INSTANCE)];

    s.inject(
        "DescribeInstances",
        Fault::delay(Duration::from_millis(400)),
    );
    let t = Instant::now();
    assert_eq!(rpc(cp, "DescribeInstances", &instances).await.0, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );

    s.inject("DescribeApiGroup", Fault::hang());
    let t = Instant::now();
    let r = call(
        cp,
        Call {
            action: "DescribeApiGroup",
            query: &[("GroupId", DEMO_GROUP)],
            timeout: Duration::from_millis(500),
            ..Call::default()
        },
    )
    .await;
    assert!(r.as_ref().is_err_and(reqwest::Error::is_timeout), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(5));

    s.inject("GetFunction", Fault::close());
    let path = format!("/2023-03-30/functions/{DEMO_FUNCTION}");
    let r = call(
        cp,
        Call {
            method: "GET",
            path: &path,
            action: "GetFunction",
            version: "2023-03-30",
            query: &[("qualifier", "LATEST")],
            ..Call::default()
        },
    )
    .await;
    assert!(r.as_ref().is_err_and(|e| !e.is_timeout()), "{r:?}");

    s.control_plane.clear_faults();
    s.inject("*", Fault::error("ServiceUnavailable").times(2));
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(rpc(cp, "DescribeInstances", &instances).await.0);
    }
    assert_eq!(got, [503, 503, 200]);

    // Throttling carries x-acs-retry-after (milliseconds, as the official SDK reads it).
    s.inject(
        "DescribeInstances",
        Fault::error("Throttling.User").times(1),
    );
    let (st, body) = rpc(cp, "DescribeInstances", &instances).await;
    assert_eq!((st, body["Code"].as_str()), (400, Some("Throttling.User")));

    // Served requests are logged with their outcome.
    let log = s.control_plane.requests();
    let codes: Vec<Option<&str>> = log.iter().map(|r| r.code.as_deref()).collect();
    assert!(codes.contains(&Some("ServiceUnavailable")));
    assert!(codes.contains(&Some("Throttling.User")));
}

async fn admin(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = client.request(method, format!("{base}{path}"));
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let resp = req.send().await.expect("admin answered");
    let st = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    (st, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_endpoint_changes_the_world_at_run_time() {
    let s = StandIn::start(LOCAL).await.expect("stand-in");
    let base = s.control_plane_url();
    let domain = vpc_domain(DEMO_GROUP, DEMO_REGION);
    use reqwest::Method as M;

    let (st, world) = admin(&base, M::GET, "/_standin/world", None).await;
    assert_eq!(st, 200);
    assert_eq!(world["instances"][DEMO_INSTANCE]["userVpcId"], DEMO_VPC);

    let patch = json!({"groups": {DEMO_GROUP: {"vpcDomainEnabled": false}},
                       "instances": {DEMO_INSTANCE: {"userVpcId": OTHER_VPC}}});
    let (st, world) = admin(&base, M::POST, "/_standin/world", Some(patch)).await;
    assert_eq!(st, 200, "{world}");
    assert_eq!(
        resolve(s.dns_addr(), &domain).await.0,
        ResponseCode::NXDomain
    );
    let (_, body) = rpc(s.control_plane_addr(), "DescribeInstances", &[]).await;
    assert_eq!(
        body["Instances"]["InstanceAttribute"][0]["UserVpcId"],
        OTHER_VPC
    );

    // A patch that does not make a world is refused, naming what is wrong; nothing changes.
    let (st, err) = admin(
        &base,
        M::POST,
        "/_standin/world",
        Some(json!({"groups": {DEMO_GROUP: {"vpcDomainEnabeld": true}}})),
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        err["error"].as_str().unwrap().contains("vpcDomainEnabeld"),
        "{err}"
    );
    assert_eq!(
        resolve(s.dns_addr(), &domain).await.0,
        ResponseCode::NXDomain
    );

    // Faults and the clock.
    let (st, _) = admin(
        &base,
        M::POST,
        "/_standin/faults",
        Some(json!({"action": "DescribeInstances", "error": "Throttling.User", "retryAfterMs": 2500})),
    )
    .await;
    assert_eq!(st, 200);
    let (st, body) = rpc(s.control_plane_addr(), "DescribeInstances", &[]).await;
    assert_eq!((st, body["Code"].as_str()), (400, Some("Throttling.User")));
    admin(&base, M::DELETE, "/_standin/faults", None).await;
    assert_eq!(
        rpc(s.control_plane_addr(), "DescribeInstances", &[])
            .await
            .0,
        200
    );

    let (st, now) = admin(
        &base,
        M::POST,
        "/_standin/clock",
        Some(json!({"now": "2030-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(
        (st, now["now"].as_str()),
        (200, Some("2030-01-01T00:00:00Z"))
    );
    let (st, body) = rpc(s.control_plane_addr(), "DescribeInstances", &[]).await;
    assert_eq!(
        (st, body["Code"].as_str()),
        (400, Some("InvalidTimeStamp.Expired"))
    );
    admin(
        &base,
        M::POST,
        "/_standin/clock",
        Some(json!({"reset": true})),
    )
    .await;

    let (st, log) = admin(&base, M::GET, "/_standin/requests", None).await;
    assert_eq!(st, 200);
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "InvalidTimeStamp.Expired"));
    assert_eq!(admin(&base, M::GET, "/_standin/nothing", None).await.0, 404);

    // A whole world replaced.
    let mut w = s.world().snapshot().to_json();
    w["groups"][DEMO_GROUP]["vpcDomainEnabled"] = json!(true);
    assert_eq!(
        admin(&base, M::PUT, "/_standin/world", Some(w)).await.0,
        200
    );
    assert_eq!(
        resolve(s.dns_addr(), &domain).await.0,
        ResponseCode::NoError
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_plane_as_a_process() {
    let bin = env!("CARGO_BIN_EXE_apigw-standin");
    let dir = tempfile::tempdir().unwrap();
    let printed = std::process::Command::new(bin)
        .args(["control-plane", "--print-world"])
        .output()
        .expect("print the demo world");
    assert!(printed.status.success());
    let mut world: Value = serde_json::from_slice(&printed.stdout).expect("the world is JSON");
    world["groups"][DEMO_GROUP]["vpcDomainAddresses"] = json!(["10.1.0.10"]);
    let file = dir.path().join("world.json");
    std::fs::write(&file, world.to_string()).unwrap();

    let mut child = tokio::process::Command::new(bin)
        .args([
            "control-plane",
            "--listen",
            "127.0.0.1:0",
            "--dns",
            "127.0.0.1:0",
            "--world",
        ])
        .arg(&file)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the control plane");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("it printed its address")
        .unwrap()
        .unwrap();
    let started: Value = serde_json::from_str(&line).expect("one JSON line");
    let keys: Vec<&str> = started
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys[..2], ["standin", "listen"], "{line}");
    assert_eq!(started["standin"], "control-plane");
    let cp: SocketAddr = started["listen"].as_str().unwrap().parse().unwrap();
    let dns: SocketAddr = started["dns"].as_str().unwrap().parse().unwrap();
    let domain = vpc_domain(DEMO_GROUP, DEMO_REGION);

    assert_eq!(
        resolve(dns, &domain).await,
        (ResponseCode::NoError, vec!["10.1.0.10".to_owned()])
    );
    let (st, body) = rpc(cp, "DescribeApiGroup", &[("GroupId", DEMO_GROUP)]).await;
    assert_eq!(
        (st, body["VpcDomain"].as_str()),
        (200, Some(domain.as_str()))
    );

    let (st, _) = admin(
        &format!("http://{cp}"),
        reqwest::Method::POST,
        "/_standin/world",
        Some(json!({"groups": {DEMO_GROUP: {"vpcDomainEnabled": false}}})),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(resolve(dns, &domain).await.0, ResponseCode::NXDomain);
    let (_, body) = rpc(cp, "DescribeApiGroup", &[("GroupId", DEMO_GROUP)]).await;
    assert_eq!(body["VpcDomain"], "");

    // A world file that is not one: a usage error naming the field.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"groups": {"g": {"vpcDomainEnabeld": true}}}"#).unwrap();
    let out = std::process::Command::new(bin)
        .args(["control-plane", "--listen", "127.0.0.1:0", "--world"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("vpcDomainEnabeld"));
}
