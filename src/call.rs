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
pub(crate) const KEEP_BODY_BYTES: usize = 64 * 1024;

/// hyper's read buffer, which bounds a response head: 64 KiB instead of hyper's ~400 KiB, so
/// that a server sending huge headers to ten concurrent invocations of ten targets cannot make
/// the function hold 40 MB of them. API Gateway's heads are a few hundred bytes.
const MAX_BUF_BYTES: usize = 64 * 1024;

/// Instants seen on the wire.
#[derive(Clone, Copy, Debug, Default)]
struct WireMarks {
    last_write: Option<Instant>,
    /// The first byte of the final (non-1xx) response: what ends `ttfb`.
    first_read: Option<Instant>,
    /// The last write before that byte came back: "request written".
    sent: Option<Instant>,
    heads: HeadScan,
}

/// Just enough of HTTP/1.1 to tell interim (1xx) response heads from the final one: the first
/// byte of the final response ends `ttfb`, interim ones (`100 Continue`, `103 Early Hints`) are
/// only counted. Once the final response began, reads are no longer looked at.
#[derive(Clone, Copy, Debug, Default)]
struct HeadScan {
    state: ScanState,
    /// When the first byte of the response head being read arrived.
    head_start: Option<Instant>,
    /// `HTTP/1.1 NNN`: the status line's first 12 bytes.
    status_line: [u8; 12],
    status_len: usize,
    interim: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ScanState {
    /// Reading the start of a response's status line.
    #[default]
    Status,
    /// Inside an interim head: how much of its closing `\r\n\r\n` has been seen.
    Interim(u8),
    /// The final response has begun.
    Final,
}

impl WireMarks {
    /// Looks at bytes read at `now`.
    fn read(&mut self, bytes: &[u8], now: Instant) {
        for &b in bytes {
            let scan = &mut self.heads;
            match scan.state {
                ScanState::Final => return,
                ScanState::Status => {
                    if scan.status_len == 0 {
                        scan.head_start = Some(now);
                    }
                    scan.status_line[scan.status_len] = b;
                    scan.status_len += 1;
                    if scan.status_len == scan.status_line.len() {
                        let line = &scan.status_line;
                        // `101 Switching Protocols` ends HTTP on this connection: final too.
                        let interim = line.starts_with(b"HTTP/1.")
                            && line[9] == b'1'
                            && &line[9..12] != b"101";
                        if interim {
                            scan.interim += 1;
                            scan.state = ScanState::Interim(0);
                        } else {
                            self.final_head();
                        }
                    }
                }
                ScanState::Interim(seen) => {
                    let seen = match (seen, b) {
                        (0 | 2, b'\r') => seen + 1,
                        (1, b'\n') => 2,
                        (3, b'\n') => 4,
                        (_, b'\r') => 1,
                        _ => 0,
                    };
                    scan.state = if seen == 4 {
                        scan.status_len = 0;
                        ScanState::Status
                    } else {
                        ScanState::Interim(seen)
                    };
                }
            }
        }
    }

    /// The final response began (or the peer sent something that is not an interim head).
    fn final_head(&mut self) {
        self.heads.state = ScanState::Final;
        self.first_read = self.heads.head_start;
        self.sent = self.last_write;
    }

    /// At the end: a head cut short before its status code still marks its first byte.
    fn settle(&mut self) {
        if self.first_read.is_none()
            && self.heads.state == ScanState::Status
            && self.heads.head_start.is_some()
        {
            self.final_head();
        }
    }
}

/// An I/O wrapper that timestamps writes and the first byte of the final response, so that
/// `send` and `ttfb` are measured on the socket rather than around hyper's futures.
pub(crate) struct Timed<IO> {
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
            let read = &buf.filled()[before..];
            self.mark(|m| m.read(read, now));
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
pub(crate) struct Progress {
    pub sent: Option<Instant>,
    /// The first byte of the final (non-1xx) response.
    pub first_byte: Option<Instant>,
    /// Interim (1xx) responses that came before it.
    pub interim: u32,
    pub head: Option<(u16, HeaderMap)>,
    /// The final response's protocol version.
    pub version: Option<hyper::Version>,
    pub bytes: u64,
    pub body: Vec<u8>,
    pub done: Option<Instant>,
}

/// An exchange in flight. The prober drives [`Exchange::send`] and [`Exchange::body`] under its
/// own deadlines, and reads [`Exchange::progress`] whatever happened.
pub(crate) struct Exchange {
    marks: Arc<Mutex<WireMarks>>,
    driver: Option<tokio::task::JoinHandle<()>>,
    response: Option<Response<Incoming>>,
    progress: Progress,
    keep_body: bool,
}

impl Exchange {
    /// An exchange that has not started; keeps the first 64 KiB of the body if `keep_body`.
    pub(crate) fn new(keep_body: bool) -> Self {
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
    pub(crate) async fn send<IO>(
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
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .max_buf_size(MAX_BUF_BYTES)
            .handshake(TokioIo::new(timed))
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
        self.progress.version = Some(resp.version());
        self.response = Some(resp);
        Ok(())
    }

    /// Reads the body to the end, counting every byte and keeping the first 64 KiB if asked.
    pub(crate) async fn body(&mut self, ctx: &HintContext) -> Result<(), ProbeError> {
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
        if let Ok(mut m) = self.marks.lock() {
            m.settle();
            self.progress.sent = m.sent.or(m.last_write);
            self.progress.first_byte = m.first_read;
            self.progress.interim = m.heads.interim;
        }
    }

    /// What was seen so far.
    pub(crate) fn finish(mut self) -> Progress {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn interim_heads_do_not_end_ttfb() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut m = WireMarks {
            last_write: Some(at(1)),
            ..WireMarks::default()
        };
        // An interim head split across reads, a second one, then the final head.
        m.read(b"HTTP/1.1 100 Con", at(2));
        m.read(b"tinue\r\n\r", at(3));
        m.read(b"\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", at(4));
        assert_eq!(m.first_read, None);
        m.last_write = Some(at(5));
        m.read(b"HTTP/1.1 20", at(10));
        assert_eq!(m.first_read, None, "the status code is not complete yet");
        m.read(b"0 OK\r\nContent-Length: 0\r\n\r\n", at(11));
        assert_eq!(m.first_read, Some(at(10)));
        assert_eq!(m.sent, Some(at(5)));
        assert_eq!(m.heads.interim, 2);
        // Later reads (the body) change nothing.
        m.read(b"HTTP/1.1 100 x\r\n\r\n", at(12));
        assert_eq!((m.first_read, m.heads.interim), (Some(at(10)), 2));
    }

    #[test]
    fn a_final_head_or_garbage_ends_ttfb_at_its_first_byte() {
        let t0 = Instant::now();
        let mut m = WireMarks::default();
        m.read(b"HTTP/1.1 404 Not Found\r\n", t0);
        assert_eq!((m.first_read, m.heads.interim), (Some(t0), 0));
        let mut m = WireMarks::default();
        m.read(b"SSH-2.0-OpenSSH_9.2\r\n", t0);
        assert_eq!(m.first_read, Some(t0));
        // Cut short before the status code: its first byte still counts at the end.
        let mut m = WireMarks::default();
        m.read(b"HTTP/1", t0);
        m.settle();
        assert_eq!(m.first_read, Some(t0));
    }
}
