//! The socket under each connection. It notes when the first byte of a request arrives, so
//! that the whole request (head and body) can be held to `APIGW_REQUEST_READ_TIMEOUT_MS` from
//! that byte on, and it answers `408` itself when a head is still incomplete at that deadline:
//! hyper has no request to answer yet, and its own header timeout closes without a word.
//!
//! [`ReadClock`] is what the socket and the connection's requests share: the service marks
//! where a request begins and ends, and asks for the connection to be closed after a reply.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::header::HeaderMap;
use hyper::Method;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Sleep;

use super::body;
use super::layers;
use super::routes::Route;

/// How much of a request line is kept to tell `/invoke` apart (FC's 404 contract) when its
/// head times out.
const KEPT_LINE_BYTES: usize = 64;

/// When the current request began, shared by the socket and the service of one connection.
#[derive(Debug, Default)]
pub(crate) struct ReadClock {
    state: Mutex<State>,
    close: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// The service has the request (its head was parsed).
    in_request: bool,
    /// The first byte of the next request, read while no request was with the service.
    head_started: Option<Instant>,
    /// The first bytes of that request, for its request line.
    line: Vec<u8>,
}

impl ReadClock {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The service got a request: returns when its first byte arrived (now, when it was read
    /// together with an earlier request). The request ends when the guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> (Instant, RequestGuard) {
        let started = self.with(|s| {
            s.in_request = true;
            s.line.clear();
            s.head_started.take()
        });
        (
            started.unwrap_or_else(Instant::now),
            RequestGuard(self.clone()),
        )
    }

    /// Closes the connection once the reply in flight is written.
    pub(crate) fn request_close(&self) {
        self.close.notify_one();
    }

    /// Completes when [`Self::request_close`] was called.
    pub(crate) async fn close_requested(&self) {
        self.close.notified().await;
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A poisoned lock only means a panic elsewhere mid-update; the state is still usable.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// Notes bytes read from the socket.
    fn read(&self, bytes: &[u8]) {
        self.with(|s| {
            if s.in_request {
                return;
            }
            // Blank lines before a request line are allowed (RFC 9112 §2.2): not a request yet.
            let bytes = if s.line.is_empty() {
                let start = bytes.iter().position(|b| !matches!(b, b'\r' | b'\n'));
                &bytes[start.unwrap_or(bytes.len())..]
            } else {
                bytes
            };
            if bytes.is_empty() {
                return;
            }
            s.head_started.get_or_insert_with(Instant::now);
            let room = KEPT_LINE_BYTES.saturating_sub(s.line.len());
            s.line.extend_from_slice(&bytes[..room.min(bytes.len())]);
        });
    }

    /// When the head being read must be complete, if one is being read.
    fn head_deadline(&self, timeout: Duration) -> Option<Instant> {
        self.with(|s| match (s.in_request, s.head_started) {
            (false, Some(t)) => t.checked_add(timeout),
            _ => None,
        })
    }

    fn route(&self) -> Route {
        self.with(|s| {
            let line = String::from_utf8_lossy(&s.line);
            let mut parts = line.split(' ');
            let method = parts
                .next()
                .and_then(|m| Method::from_bytes(m.as_bytes()).ok());
            let path = parts.next().unwrap_or("");
            match method {
                Some(m) => Route::of(&m, path, &HeaderMap::new()),
                None => Route::NotFound,
            }
        })
    }
}

/// Ends the request on the [`ReadClock`] when dropped (also when hyper drops the service
/// future because the caller went away).
#[derive(Debug)]
pub(crate) struct RequestGuard(Arc<ReadClock>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.with(|s| s.in_request = false);
    }
}

/// The connection's socket, as hyper sees it.
pub(crate) struct GuardedSocket {
    io: TcpStream,
    clock: Arc<ReadClock>,
    timeout: Duration,
    timer: Option<(Instant, Pin<Box<Sleep>>)>,
    /// The 408 being written (bytes and how many are written) once the head timed out.
    answer: Option<(Bytes, usize)>,
}

impl GuardedSocket {
    /// `timeout`: `APIGW_REQUEST_READ_TIMEOUT_MS`.
    pub(crate) fn new(io: TcpStream, clock: Arc<ReadClock>, timeout: Duration) -> Self {
        Self {
            io,
            clock,
            timeout,
            timer: None,
            answer: None,
        }
    }

    /// True when the head's deadline passed; arms the timer (with `cx`) while it has not.
    fn head_expired(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(due) = self.clock.head_deadline(self.timeout) else {
            self.timer = None;
            return false;
        };
        match &mut self.timer {
            Some((at, sleep)) if *at == due => sleep.as_mut().poll(cx).is_ready(),
            _ => {
                let mut sleep = Box::pin(tokio::time::sleep_until(due.into()));
                let expired = sleep.as_mut().poll(cx).is_ready();
                self.timer = Some((due, sleep));
                expired
            }
        }
    }

    /// Writes the 408, then reports the end of the stream so that hyper closes the connection.
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((bytes, written)) = &mut self.answer else {
            return Poll::Ready(Ok(()));
        };
        while *written < bytes.len() {
            match Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => break,
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The answer to a head that did not arrive in time, as bytes on the wire: FC's error body,
/// with 404 + `x-fc-status` for `/invoke` as for every other error there.
fn head_timeout_answer(route: Route, timeout: Duration) -> Bytes {
    let request_id = uuid::Uuid::new_v4().to_string();
    let span = layers::request_span(&request_id);
    let _entered = span.enter();
    let message = format!(
        "the request head was not complete within {} ms of its first byte \
         (APIGW_REQUEST_READ_TIMEOUT_MS)",
        timeout.as_millis()
    );
    tracing::warn!(
        route = route.name(),
        timeout_ms = timeout.as_millis() as u64,
        "request head not received in time; answered 408 and closed the connection"
    );
    let reply = body::timeout_reply(&message, &request_id);
    let reply = if route.is_event_invocation() {
        reply.into_event_invocation()
    } else {
        reply
    };
    let status = reply.status;
    let payload = reply.body.clone();
    let response = reply.into_response();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    for (name, value) in response.headers() {
        out.push_str(name.as_str());
        out.push_str(": ");
        out.push_str(value.to_str().unwrap_or(""));
        out.push_str("\r\n");
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", payload.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&payload);
    Bytes::from(bytes)
}

impl AsyncRead for GuardedSocket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.answer.is_some() {
            return this.poll_answer(cx);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.clock.read(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.head_expired(cx) => {
                this.timer = None;
                this.answer = Some((head_timeout_answer(this.clock.route(), this.timeout), 0));
                this.poll_answer(cx)
            }
            other => other,
        }
    }
}

impl AsyncWrite for GuardedSocket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_starts_at_the_first_request_byte_and_not_in_a_request() {
        let clock = ReadClock::new();
        let timeout = Duration::from_secs(1);
        clock.read(b"\r\n");
        assert_eq!(
            clock.head_deadline(timeout),
            None,
            "blank lines are no request"
        );
        clock.read(b"POST /invoke HTTP/1.1\r\n");
        assert!(clock.head_deadline(timeout).is_some());
        assert_eq!(clock.route(), Route::Invoke);
        let (_, guard) = clock.begin();
        // Body bytes belong to the request the service has.
        clock.read(b"{}");
        assert_eq!(clock.head_deadline(timeout), None);
        drop(guard);
        assert_eq!(clock.head_deadline(timeout), None);
        clock.read(b"GET /probe HTTP/1.1\r\n");
        assert_eq!(clock.route(), Route::Probe);
        let (started, _guard) = clock.begin();
        assert!(started <= Instant::now());
    }

    #[test]
    fn the_head_timeout_answer_keeps_fcs_contract_for_invoke() {
        let text = |b: Bytes| String::from_utf8_lossy(&b).into_owned();
        let invoke = text(head_timeout_answer(Route::Invoke, Duration::from_millis(5)));
        assert!(invoke.starts_with("HTTP/1.1 404 "), "{invoke}");
        assert!(invoke.contains("x-fc-status: 404\r\n"), "{invoke}");
        let probe = text(head_timeout_answer(Route::Probe, Duration::from_millis(5)));
        assert!(
            probe.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{probe}"
        );
        let (head, json) = probe.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", json.len())),
            "{head}"
        );
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["errorType"], "request.timeout");
        assert!(v["errorMessage"].as_str().unwrap().contains("5 ms"), "{v}");
        assert_eq!(v["requestId"].as_str().unwrap().len(), 36);
    }
}
