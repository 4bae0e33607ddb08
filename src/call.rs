//! The HTTP/1.1 exchange on an open connection, with the instants the phases are derived from:
//! request written, first response byte, body complete.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::{ErrorClass, HintContext, ProbeError};

/// How much of a response body is kept (every byte is counted).
pub const KEEP_BODY_BYTES: usize = 64 * 1024;

/// Instants seen on the wire.
#[derive(Clone, Copy, Debug, Default)]
struct WireMarks {
    last_write: Option<Instant>,
    first_read: Option<Instant>,
    /// The last write before the first byte came back: "request written".
    sent: Option<Instant>,
}

/// An I/O wrapper that timestamps writes and the first byte read, so that `send` and `ttfb`
/// are measured on the socket rather than around hyper's futures.
pub struct Timed<IO> {
    io: IO,
    marks: Arc<Mutex<WireMarks>>,
}

impl<IO> Timed<IO> {
    /// Stamps a write that moved bytes; "request written" is the last one before the answer.
    fn wrote(&self, poll: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            let now = Instant::now();
            self.mark(|m| m.last_write = Some(now));
        }
        poll
    }

    fn mark(&self, f: impl FnOnce(&mut WireMarks)) {
        if let Ok(mut m) = self.marks.lock() {
            f(&mut m);
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Timed<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let now = Instant::now();
            self.mark(|m| {
                if m.first_read.is_none() {
                    m.first_read = Some(now);
                    m.sent = m.last_write;
                }
            });
        }
        poll
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Timed<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(poll)
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

/// What the exchange saw, complete or not: the prober derives phases from these.
#[derive(Debug, Default)]
pub struct Progress {
    pub sent: Option<Instant>,
    pub first_byte: Option<Instant>,
    pub head: Option<(u16, HeaderMap)>,
    pub bytes: u64,
    pub body: Vec<u8>,
    pub done: Option<Instant>,
}

/// An exchange in flight. The prober drives [`Exchange::send`] and [`Exchange::body`] under its
/// own deadlines, and reads [`Exchange::progress`] whatever happened.
pub struct Exchange {
    marks: Arc<Mutex<WireMarks>>,
    driver: Option<tokio::task::JoinHandle<()>>,
    response: Option<Response<Incoming>>,
    progress: Progress,
    keep_body: bool,
}

impl Exchange {
    /// An exchange that has not started; keeps the first 64 KiB of the body if `keep_body`.
    pub fn new(keep_body: bool) -> Self {
        Self {
            marks: Arc::new(Mutex::new(WireMarks::default())),
            driver: None,
            response: None,
            progress: Progress::default(),
            keep_body,
        }
    }

    /// Starts HTTP/1.1 on `io` and sends `request`; returns once the response head arrived.
    /// Cancel-safe for the caller's timeout: the marks stay in `self`.
    pub async fn send<IO>(
        &mut self,
        io: IO,
        request: Request<Full<Bytes>>,
        ctx: &HintContext,
    ) -> Result<(), ProbeError>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let timed = Timed {
            io,
            marks: self.marks.clone(),
        };
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(timed))
            .await
            .map_err(|e| hyper_error(&e, "before the request was sent", ctx))?;
        // The connection task moves the bytes; it is aborted with the exchange, so every
        // sample closes its own connection.
        self.driver = Some(tokio::spawn(async move {
            let _ = conn.await;
        }));
        let resp = sender
            .send_request(request)
            .await
            .map_err(|e| hyper_error(&e, "before a response arrived", ctx))?;
        self.progress.head = Some((resp.status().as_u16(), resp.headers().clone()));
        self.response = Some(resp);
        Ok(())
    }

    /// Reads the body to the end, counting every byte and keeping the first 64 KiB if asked.
    pub async fn body(&mut self, ctx: &HintContext) -> Result<(), ProbeError> {
        let Some(resp) = self.response.take() else {
            return Ok(());
        };
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    if let Some(data) = frame.data_ref() {
                        self.progress.bytes += data.len() as u64;
                        if self.keep_body && self.progress.body.len() < KEEP_BODY_BYTES {
                            let room = KEEP_BODY_BYTES - self.progress.body.len();
                            self.progress
                                .body
                                .extend_from_slice(&data[..data.len().min(room)]);
                        }
                    }
                }
                Err(e) => {
                    return Err(hyper_error(&e, "while the body was read", ctx));
                }
            }
        }
        self.progress.done = Some(Instant::now());
        Ok(())
    }

    fn sync_marks(&mut self) {
        if let Ok(m) = self.marks.lock() {
            self.progress.sent = m.sent.or(m.last_write);
            self.progress.first_byte = m.first_read;
        }
    }

    /// What was seen so far.
    pub fn finish(mut self) -> Progress {
        self.sync_marks();
        std::mem::take(&mut self.progress)
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        if let Some(driver) = &self.driver {
            driver.abort();
        }
    }
}

/// Maps a hyper error: a reset is the network's doing, the rest is the peer's HTTP.
fn hyper_error(e: &hyper::Error, when: &str, ctx: &HintContext) -> ProbeError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            let class = match io.kind() {
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => ErrorClass::TcpReset,
                io::ErrorKind::ConnectionAborted => ErrorClass::TcpReset,
                _ => ErrorClass::HttpProtocol,
            };
            return ProbeError::new(class, format!("connection failed {when}: {io}"), ctx);
        }
        source = s.source();
    }
    let message = if e.is_incomplete_message() {
        format!("the server closed the connection {when}")
    } else if e.is_parse() {
        format!("the response is not valid HTTP/1.1 ({e})")
    } else {
        format!("HTTP exchange failed {when}: {e}")
    };
    ProbeError::new(ErrorClass::HttpProtocol, message, ctx)
}
