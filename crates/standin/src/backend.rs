//! The backend (the ECS behind the gateway in the seed's setup): `/web/cloudapi`, plus routes
//! that misbehave on purpose for the tests.
//!
//! | route | answer |
//! |---|---|
//! | `/web/cloudapi` | 200 JSON `{"message": "hello from the backend", ...}` |
//! | `/delay/<ms>` | waits `ms` before the response head, then 200 |
//! | `/status/<code>` | that status |
//! | `/bytes/<n>` | `n` bytes of body (at most 16 MiB) |
//! | `/zeros/<n>` | `n` NUL bytes of body (at most 16 MiB): six bytes each in a JSON report |
//! | `/echo` | 200 JSON of the request as received (method, path, query, headers) |
//! | `/echo` | JSON of the request as received (method, path, query, headers); its credentials (`Authorization`, `X-Ca-Signature`, `X-Echo-*` headers) and query also in `X-Ca-Request-Id` and `X-Ca-Error-Message`, as a hostile or careless server would send them back; status 200, or `?status=<code>` |
//! | `/reset` | a response head promising 100000 bytes, 1000 of them, then a TCP reset |
//! | `/early-hints/<ms>` | `103 Early Hints` at once, the final `200` `ms` later |
//! | `/json` | 200 [`JSON_DOC`] as `application/json`, with `X-Api-Version: 2` |
//! | `/html` | 200 [`HTML_DOC`] as `text/html` (a body that is not JSON) |
//! | `/headers?<name>=<value>&…` | 200 with each query parameter as a response header |
//! | `/flaky/<key>/<n>` | the first `n` requests for `key` are reset before any answer (`tcp.reset`), later ones get 200 `{"attempt": <i>}` |
//!
//! [`Backend::silent`] is a backend that accepts connections and never answers; every backend
//! counts the connections it accepted ([`Backend::connections`]). [`Backend::start_tls`] serves
//! the HTTP routes over TLS (the routes answered on the socket, `/reset`, `/early-hints` and
//! `/flaky`, are plain-TCP only).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::http::{accept_loop, json, serve_conn, AbortOnDrop, Reply};

const MAX_BYTES: usize = 16 * 1024 * 1024;
const MAX_DELAY_MS: u64 = 60_000;

/// The body of `/json`.
pub const JSON_DOC: &str =
    r#"{"data":[{"id":7,"name":"probe","tags":["a","b"]}],"ok":true,"version":"2.3.1"}"#;

/// The body of `/html`: an error page, as a proxy in front of a JSON API would send.
pub const HTML_DOC: &str = "<html><body><h1>502 Bad Gateway</h1></body></html>";

/// Requests seen per `/flaky/<key>/…` key.
type FlakyCounts = Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>;

/// A running backend; stops when dropped.
pub struct Backend {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    _task: AbortOnDrop,
}

impl Backend {
    /// Serves the routes above on `listen`.
    pub async fn start(listen: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        let handler = Arc::new(handle);
        let flaky = FlakyCounts::default();
        let task = accept_loop(listener, move |stream, peer| {
            accepted.fetch_add(1, Ordering::SeqCst);
            let handler = handler.clone();
            let flaky = flaky.clone();
            async move {
                match raw_route(&stream).await {
                    Some(Raw::Reset) => reset_mid_body(stream).await,
                    Some(Raw::EarlyHints(delay)) => early_hints(stream, delay).await,
                    Some(Raw::Flaky(key, failures)) => {
                        let seen = {
                            let mut counts = flaky
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            let n = counts.entry(key).or_insert(0);
                            *n += 1;
                            *n
                        };
                        if seen <= failures {
                            reset_before_answer(stream).await;
                        } else {
                            let attempt =
                                Arc::new(move |_req: Request<Incoming>, _peer| async move {
                                    json(200, &json!({ "attempt": seen }), &[])
                                });
                            serve_conn(stream, peer, attempt).await;
                        }
                    }
                    None => serve_conn(stream, peer, handler).await,
                }
            }
        });
        Ok(Self {
            addr,
            connections,
            _task: task,
        })
    }

    /// Serves the HTTP routes above over TLS with `tls` on `listen` (`make bench`'s https
    /// backend: the server's TLS versions and certificate are the caller's). A handshake that
    /// fails closes its connection.
    pub async fn start_tls(listen: SocketAddr, tls: Arc<rustls::ServerConfig>) -> io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        let handler = Arc::new(handle);
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        let task = accept_loop(listener, move |stream, peer| {
            accepted.fetch_add(1, Ordering::SeqCst);
            let handler = handler.clone();
            let acceptor = acceptor.clone();
            async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve_conn(tls, peer, handler).await;
                }
            }
        });
        Ok(Self {
            addr,
            connections,
            _task: task,
        })
    }

    /// A backend that accepts connections on `listen` and never reads from or answers them:
    /// they stay open until the backend is dropped (a hung server; the caller's timeout ends
    /// the wait).
    pub async fn silent(listen: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        // The connections are held by the accepting task itself, so that dropping the backend
        // (which aborts the task) closes them all.
        let task = AbortOnDrop(tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                if let Ok((stream, _)) = listener.accept().await {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    held.push(stream);
                }
            }
        }));
        Ok(Self {
            addr,
            connections,
            _task: task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Routes answered below HTTP, on the socket (hyper's server cannot misbehave this way).
enum Raw {
    /// `/reset`.
    Reset,
    /// `/early-hints/<ms>`.
    EarlyHints(Duration),
    /// `/flaky/<key>/<n>`: the key and how many of its requests fail.
    Flaky(String, u32),
}

/// Peeks at the request line for a route answered on the socket.
async fn raw_route(stream: &TcpStream) -> Option<Raw> {
    let mut buf = [0u8; 256];
    for _ in 0..200 {
        match stream.peek(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => {
                let head = &buf[..n];
                if let Some(end) = head.windows(2).position(|w| w == b"\r\n") {
                    let line = String::from_utf8_lossy(&head[..end]);
                    let path = line.split(' ').nth(1)?;
                    if path == "/reset" {
                        return Some(Raw::Reset);
                    }
                    if let Some(rest) = path.strip_prefix("/flaky/") {
                        let (key, n) = rest.rsplit_once('/')?;
                        return Some(Raw::Flaky(key.to_owned(), n.parse().ok()?));
                    }
                    let ms = path.strip_prefix("/early-hints/")?.parse::<u64>().ok()?;
                    return Some(Raw::EarlyHints(Duration::from_millis(ms.min(MAX_DELAY_MS))));
                }
                if n == buf.len() {
                    return None;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    None
}

/// `103 Early Hints` at once, the final response `delay` later (a request without a body).
async fn early_hints(mut stream: TcpStream, delay: Duration) {
    // Read the whole head first: closing a socket with unread data would send a reset.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let _ = stream
        .write_all(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        .await;
    let _ = stream.flush().await;
    tokio::time::sleep(delay).await;
    let _ = stream
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        .await;
    let _ = stream.shutdown().await;
}

/// Reads the request head, then resets the connection without a byte of answer.
async fn reset_before_answer(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn reset_mid_body(mut stream: TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n";
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(&[b'x'; 1000]).await;
    let _ = stream.flush().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    // SO_LINGER 0: closing sends RST instead of FIN.
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn handle(req: Request<Incoming>, _peer: SocketAddr) -> Reply {
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').splitn(2, '/').collect();
    match segments.as_slice() {
        ["web", "cloudapi"] => json(
            200,
            &json!({"message": "hello from the backend", "path": path}),
            &[],
        ),
        ["json"] => {
            let mut resp = Reply::new(Full::new(Bytes::from_static(JSON_DOC.as_bytes())));
            let h = resp.headers_mut();
            h.insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            h.insert(
                "x-api-version",
                hyper::header::HeaderValue::from_static("2"),
            );
            resp
        }
        ["html"] => {
            let mut resp = Reply::new(Full::new(Bytes::from_static(HTML_DOC.as_bytes())));
            resp.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            resp
        }
        ["headers"] => {
            let query = req.uri().query().unwrap_or_default();
            let headers: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let refs: Vec<(&str, String)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            json(200, &json!({ "headers": headers.len() }), &refs)
        }
        ["delay", ms] => match ms.parse::<u64>() {
            Ok(ms) => {
                tokio::time::sleep(Duration::from_millis(ms.min(MAX_DELAY_MS))).await;
                json(200, &json!({"delayed_ms": ms}), &[])
            }
            Err(_) => json(400, &json!({"error": "delay in ms"}), &[]),
        },
        ["status", code] => match code.parse::<u16>() {
            Ok(code) if (200..600).contains(&code) => json(code, &json!({"status": code}), &[]),
            _ => json(400, &json!({"error": "status code"}), &[]),
        },
        ["bytes", n] => match n.parse::<usize>() {
            Ok(n) => {
                let mut resp = Reply::new(Full::new(Bytes::from(vec![b'x'; n.min(MAX_BYTES)])));
                resp.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("application/octet-stream"),
                );
                resp
            }
            Err(_) => json(400, &json!({"error": "byte count"}), &[]),
        },
        ["zeros", n] => match n.parse::<usize>() {
            Ok(n) => Reply::new(Full::new(Bytes::from(vec![0u8; n.min(MAX_BYTES)]))),
            Err(_) => json(400, &json!({"error": "byte count"}), &[]),
        },
        ["echo"] => {
            let headers: serde_json::Map<String, serde_json::Value> = req
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        json!(String::from_utf8_lossy(v.as_bytes())),
                    )
                })
                .collect();
            let query = req.uri().query().unwrap_or_default();
            let status = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "status")
                .and_then(|(_, v)| v.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .unwrap_or(200);
            let mut echoed: Vec<String> = req
                .headers()
                .iter()
                .filter(|(k, _)| {
                    let k = k.as_str();
                    k == "authorization" || k == "x-ca-signature" || k.starts_with("x-echo-")
                })
                .map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v.as_bytes())))
                .collect();
            echoed.push(format!("query={query}"));
            let echoed = echoed.join("; ");
            json(
                status,
                &json!({
                    "method": req.method().as_str(),
                    "path": path,
                    "query": req.uri().query(),
                    "headers": headers,
                }),
                &[
                    ("x-ca-request-id", echoed.clone()),
                    ("x-ca-error-message", format!("echo: {echoed}")),
                ],
            )
        }
        _ => json(404, &json!({"error": "no such route on the backend"}), &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClosedPort;

    const LOOPBACK: ([u8; 4], u16) = ([127, 0, 0, 1], 0);

    #[tokio::test]
    async fn a_silent_backend_counts_connections_and_never_answers() {
        let backend = Backend::silent(LOOPBACK.into()).await.unwrap();
        let mut s = TcpStream::connect(backend.addr()).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await;
        assert!(read.is_err(), "it answered: {read:?}");
        assert_eq!(backend.connections(), 1);
        // Dropping the backend closes what it held.
        drop(backend);
        let read = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    }

    #[tokio::test]
    async fn early_hints_come_before_the_final_answer() {
        let backend = Backend::start(LOOPBACK.into()).await.unwrap();
        let mut s = TcpStream::connect(backend.addr()).await.unwrap();
        s.write_all(b"GET /early-hints/200 HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 103 Early Hints\r\n"));
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(190));
        let text = String::from_utf8_lossy(&rest);
        assert!(
            text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("ok"),
            "{text}"
        );
        assert_eq!(backend.connections(), 1);
    }

    async fn get(addr: SocketAddr, path: &str) -> io::Result<String> {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[tokio::test]
    async fn flaky_fails_n_times_per_key_then_answers() {
        let backend = Backend::start(LOOPBACK.into()).await.unwrap();
        for _ in 0..2 {
            let e = get(backend.addr(), "/flaky/k1/2").await;
            assert!(
                matches!(&e, Err(e) if e.kind() == io::ErrorKind::ConnectionReset)
                    || matches!(&e, Ok(t) if t.is_empty()),
                "{e:?}"
            );
        }
        let ok = get(backend.addr(), "/flaky/k1/2").await.unwrap();
        assert!(
            ok.starts_with("HTTP/1.1 200") && ok.ends_with(r#"{"attempt":3}"#),
            "{ok}"
        );
        // Another key counts on its own.
        assert!(get(backend.addr(), "/flaky/k2/0")
            .await
            .unwrap()
            .starts_with("HTTP/1.1 200"));
    }

    #[tokio::test]
    async fn json_html_and_chosen_headers() {
        let backend = Backend::start(LOOPBACK.into()).await.unwrap();
        let json = get(backend.addr(), "/json").await.unwrap();
        assert!(
            json.contains("x-api-version: 2") && json.ends_with(JSON_DOC),
            "{json}"
        );
        let html = get(backend.addr(), "/html").await.unwrap();
        assert!(
            html.contains("text/html") && html.ends_with(HTML_DOC),
            "{html}"
        );
        let h = get(backend.addr(), "/headers?x-one=1&X-Two=b%20c")
            .await
            .unwrap();
        assert!(
            h.contains("x-one: 1\r\n") && h.contains("x-two: b c\r\n"),
            "{h}"
        );
    }

    #[tokio::test]
    async fn a_closed_port_refuses_and_stays_taken() {
        let closed = ClosedPort::on([127, 0, 0, 1].into()).unwrap();
        let err = TcpStream::connect(closed.addr()).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
        let err = std::net::TcpListener::bind(closed.addr()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    }
}
