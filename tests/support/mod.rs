//! Helpers for the integration tests: the real binary as a child process (started by the
//! stand-in's launcher, on a port the kernel chose, stdout and stderr captured line by line),
//! the stand-in's backends to probe, event fixtures, and reports read as typed values.
//!
//! Everything listens on and talks to 127.0.0.1 only.

// Shared by several test crates, each using a part: `pub` here is for them, not an API.
#![allow(unreachable_pub)]
#![allow(dead_code)] // Each test file uses a different part.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use apigw_standin::launch::{Launch, Process};
use apigw_standin::{Backend, ClosedPort};
use apigw_vpc_probe::error::ProbeError;
use apigw_vpc_probe::report::{Report, Sample, TargetReport};
use serde_json::Value;

/// The function's binary.
pub const FUNCTION: &str = env!("CARGO_BIN_EXE_apigw-vpc-probe");

/// How long a line the tests wait for may take to appear.
const LINE_WITHIN: Duration = Duration::from_secs(10);

/// The runtime under test (the stand-in's launcher's [`Process`], with helpers for its log).
pub struct Server(Process);

impl Deref for Server {
    type Target = Process;
    fn deref(&self) -> &Process {
        &self.0
    }
}

impl DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Process {
        &mut self.0
    }
}

impl Server {
    /// `serve --listen 127.0.0.1:0` with `env` added to a clean environment.
    pub fn start(env: &[(&str, &str)]) -> Self {
        Self::launch(Launch::function(FUNCTION), env)
    }

    /// Starts `launch` (the function's binary with other arguments) with `env` added to a clean
    /// environment, and waits for its `listening` line.
    pub fn launch(launch: Launch, env: &[(&str, &str)]) -> Self {
        let process = launch
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .start()
            .unwrap_or_else(|e| panic!("the function did not start: {e}"));
        Self(process)
    }

    /// Waits until a stdout line satisfies `pred` and returns it.
    pub fn wait_for_line(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.0.wait_for_line(LINE_WITHIN, pred).unwrap_or_else(|| {
            panic!(
                "no stdout line {what} within {LINE_WITHIN:?}; stdout: {:#?}",
                self.stdout()
            )
        })
    }

    /// The JSON log lines (stdout lines that parse as JSON objects).
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(Value::is_object)
            .collect()
    }

    /// Waits for the access-log line of the request with `request_id`.
    pub fn wait_for_access_log(&self, request_id: &str) -> Value {
        let line = self.wait_for_line(&format!("logging request {request_id}"), |l| {
            serde_json::from_str::<Value>(l)
                .is_ok_and(|v| v["message"] == "request" && v["span"]["request_id"] == request_id)
        });
        serde_json::from_str(&line).unwrap()
    }
}

/// An HTTP client for 127.0.0.1 (no proxy, bounded time).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A response, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub async fn of(resp: reqwest::Response) -> Self {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.expect("read the body").to_vec();
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as a report; panics, showing the body, when it is not one (an error body
    /// `{"errorType", …}` is read with [`Answer::json`]).
    pub fn report(&self) -> Report {
        parse_report(&self.body)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// FC's rule: no `x-fc-*` header but `x-fc-status`, and none of the headers FC owns.
    pub fn assert_allowed_headers(&self) {
        for name in self.headers.keys() {
            let n = name.as_str();
            assert!(
                !n.starts_with("x-fc-") || n == "x-fc-status",
                "response sets {n}"
            );
            assert!(
                !["date", "server", "keep-alive", "connection"].contains(&n),
                "response sets {n}"
            );
        }
    }
}

pub async fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = client().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    Answer::of(req.send().await.expect("GET")).await
}

pub async fn post(url: &str, headers: &[(&str, &str)], body: impl Into<reqwest::Body>) -> Answer {
    let mut req = client().post(url).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    Answer::of(req.send().await.expect("POST")).await
}

/// `POST /invoke` as FC sends it.
pub async fn invoke(server: &Server, request_id: &str, event: impl Into<reqwest::Body>) -> Answer {
    post(
        &server.url("/invoke"),
        &[
            ("x-fc-request-id", request_id),
            ("x-fc-control-path", "/invoke"),
            ("content-type", "application/octet-stream"),
            ("x-fc-function-name", "apigw-probe"),
            ("x-fc-region", "cn-shanghai"),
            ("x-fc-function-memory", "512"),
            ("x-fc-function-timeout", "30"),
        ],
        event,
    )
    .await
}

/// The stand-in's backend on 127.0.0.1 (`/web/cloudapi`, `/echo`, `/delay/<ms>`, …; see
/// `apigw_standin::backend`); stops when dropped.
pub async fn backend() -> Backend {
    Backend::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("the stand-in backend")
}

/// The stand-in's silent backend on 127.0.0.1: accepts connections, never answers.
pub async fn silent_backend() -> Backend {
    Backend::silent(([127, 0, 0, 1], 0).into())
        .await
        .expect("the stand-in's silent backend")
}

/// An address on 127.0.0.1 where nothing listens (connections are refused), held so for the
/// whole test run: no other socket can take the port meanwhile.
pub fn closed_addr() -> SocketAddr {
    static CLOSED: OnceLock<ClosedPort> = OnceLock::new();
    CLOSED
        .get_or_init(|| ClosedPort::on([127, 0, 0, 1].into()).expect("a closed port"))
        .addr()
}

/// An event fixture from `tests/fixtures/events/`, with `{{OK}}` replaced by `ok`'s address.
pub fn fixture(name: &str, ok: Option<SocketAddr>) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match ok {
        Some(addr) => String::from_utf8_lossy(&text)
            .replace("{{OK}}", &addr.to_string())
            .into_bytes(),
        None => text,
    }
}

/// Runs `apigw-vpc-probe probe --json ARGS` with `env` added; returns the exit code and the
/// report. Async, so that servers on the caller's runtime keep answering meanwhile.
pub async fn probe_cli(args: &[&str], env: &[(&str, &str)]) -> (i32, Report) {
    let out = tokio::process::Command::new(FUNCTION)
        .arg("probe")
        .arg("--json")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run the binary");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// Reads a report; panics, showing the text, when it is not one.
pub fn parse_report(bytes: &[u8]) -> Report {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not a report ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// The report's first target; panics, showing the report, when there is none.
pub fn target(report: &Report) -> &TargetReport {
    report
        .targets
        .first()
        .unwrap_or_else(|| panic!("no target in {report:#?}"))
}

/// The first target's first sample; panics, showing the report, when there is none.
pub fn sample(report: &Report) -> &Sample {
    target(report)
        .samples
        .first()
        .unwrap_or_else(|| panic!("no sample in {report:#?}"))
}

/// The first target's error; panics, showing the report, when it has none.
pub fn error(report: &Report) -> &ProbeError {
    target(report)
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("the first target has no error: {report:#?}"))
}

/// The first target's error class, as its dotted name (`tcp.refused`); panics when it has none.
pub fn class(report: &Report) -> String {
    error(report).class.name().into_owned()
}

/// A test CA and a server certificate for `names`, signed by it.
pub struct TestPki {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

impl TestPki {
    pub fn new(names: &[&str]) -> Self {
        Self::issue(names, 3650, rustls::ALL_VERSIONS)
    }

    /// A CA and a server certificate for `names` valid from yesterday for `days_left` more
    /// days, served with only the TLS `versions` given.
    pub fn issue(
        names: &[&str],
        days_left: u64,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "apigw-vpc-probe test CA");
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
        let issuer = Issuer::new(ca_params, ca_key);
        let mut leaf_params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .expect("leaf params");
        if let Some(name) = names.first() {
            leaf_params
                .distinguished_name
                .push(rcgen::DnType::CommonName, *name);
        }
        let now = std::time::SystemTime::now();
        let day = Duration::from_secs(86_400);
        leaf_params.not_before = (now - day).into();
        // An hour more than the days asked for, so that the whole days left are `days_left`.
        leaf_params.not_after = (now + day * days_left as u32 + Duration::from_secs(3600)).into();
        let leaf_key = KeyPair::generate().expect("leaf key");
        let leaf = leaf_params
            .signed_by(&leaf_key, &issuer)
            .expect("leaf cert");
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let mut server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(versions)
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .expect("server config");
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            ca_pem: ca_cert.pem(),
            server: Arc::new(server),
        }
    }
}

/// The actions a RAM policy under `deploy/` grants (`"product:Action"`), every statement an
/// `Allow`: what the tests compare with the calls the function made.
pub fn policy_actions(file: &str) -> std::collections::BTreeSet<String> {
    let path = format!("{}/deploy/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let policy: Value = serde_json::from_str(&text).expect("the policy is JSON");
    let mut granted = std::collections::BTreeSet::new();
    for statement in policy["Statement"].as_array().expect("Statement") {
        assert_eq!(statement["Effect"], "Allow", "{path}");
        match &statement["Action"] {
            Value::String(a) => {
                granted.insert(a.clone());
            }
            v => granted.extend(
                v.as_array()
                    .expect("Action: a string or a list")
                    .iter()
                    .map(|a| a.as_str().expect("an action").to_owned()),
            ),
        }
    }
    granted
}
