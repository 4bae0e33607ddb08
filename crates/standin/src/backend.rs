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

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::http::{accept_loop, json, serve_conn, AbortOnDrop, Reply};

const MAX_BYTES: usize = 16 * 1024 * 1024;
const MAX_DELAY_MS: u64 = 60_000;

/// A running backend; stops when dropped.
pub struct Backend {
    addr: SocketAddr,
    _task: AbortOnDrop,
}

impl Backend {
    pub async fn start(listen: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let handler = Arc::new(handle);
        let task = accept_loop(listener, move |stream, peer| {
            let handler = handler.clone();
            async move {
                if wants_reset(&stream).await {
                    reset_mid_body(stream).await;
                } else {
                    serve_conn(stream, peer, handler).await;
                }
            }
        });
        Ok(Self { addr, _task: task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Peeks at the request line: `/reset` is answered below HTTP, on the socket.
async fn wants_reset(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 256];
    for _ in 0..200 {
        match stream.peek(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                let head = &buf[..n];
                if let Some(end) = head.windows(2).position(|w| w == b"\r\n") {
                    let line = String::from_utf8_lossy(&head[..end]);
                    return line.split(' ').nth(1) == Some("/reset");
                }
                if n == buf.len() {
                    return false;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    false
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
