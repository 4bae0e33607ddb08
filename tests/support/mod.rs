//! Helpers for the runtime tests: the real binary as a child process (stdout and stderr
//! captured line by line), tiny local backends to probe, and event fixtures.
//!
//! Everything listens on and talks to 127.0.0.1 only.

#![allow(dead_code)] // Each test file uses a different part.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a server gets to accept TCP connections after it was started.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// The runtime under test.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

fn capture(stream: impl Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

impl Server {
    /// `serve --listen 127.0.0.1:<free port>` with `env` added to a clean FC-like environment.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        Self::spawn(&["serve", "--listen", &listen], env, port)
    }

    /// Starts the binary with `args` and waits until `port` accepts connections, as FC does.
    pub fn spawn(args: &[&str], env: &[(&str, &str)], port: u16) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-vpc-probe"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the binary");
        let stdout = capture(child.stdout.take().expect("stdout"));
        let stderr = capture(child.stderr.take().expect("stderr"));
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut server = Self {
            child,
            addr,
            stdout,
            stderr,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the server exited ({status}) before listening; stdout {:?} stderr {:?}",
                    self.stdout(),
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the server did not accept connections within {READY_WITHIN:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until a stdout line satisfies `pred` and returns it.
    pub fn wait_for_line(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(l) = self.stdout().into_iter().find(|l| pred(l)) {
                return l;
            }
            assert!(
                Instant::now() < deadline,
                "no stdout line {what}; stdout: {:#?}",
                self.stdout()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
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

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// A backend that answers every request `200 ok` (reads the head and a `content-length` body).
pub fn ok_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind backend");
    let addr = listener.local_addr().expect("backend addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || answer_ok(stream));
        }
    });
    addr
}

fn answer_ok(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = stream.read_exact(&mut body);
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    );
}

/// A backend that accepts connections and never answers.
pub fn silent_backend() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind backend");
    let addr = listener.local_addr().expect("backend addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    addr
}

/// An address where nothing listens (connections are refused).
pub fn closed_addr() -> SocketAddr {
    ([127, 0, 0, 1], free_port()).into()
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
pub async fn probe_cli(args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_apigw-vpc-probe"))
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

/// The first target's error class in a report ("" when none).
pub fn class(report: &Value) -> String {
    report["targets"][0]["error"]["class"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// A test CA and a server certificate for `names`, signed by it.
pub struct TestPki {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

impl TestPki {
    pub fn new(names: &[&str]) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "apigw-vpc-probe test CA");
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .expect("leaf params");
        let leaf_key = KeyPair::generate().expect("leaf key");
        let leaf = leaf_params
            .signed_by(&leaf_key, &issuer)
            .expect("leaf cert");
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let server = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .expect("server config");
        Self {
            ca_pem: ca_cert.pem(),
            server: Arc::new(server),
        }
    }
}
