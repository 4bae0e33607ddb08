//! Reading a request body within `APIGW_MAX_EVENT_BYTES` and the read timeouts.
//!
//! Two limits hold a body: the pause between two pieces of it (`APIGW_BODY_READ_TIMEOUT_MS`),
//! which ends a stalled client early, and the whole request's deadline from its first byte
//! (`APIGW_REQUEST_READ_TIMEOUT_MS`), which ends a client that trickles a byte now and then
//! and so never pauses long enough for the first.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::StatusCode;

use super::reply::{Outcome, Reply};

/// Most bytes read and thrown away after a body went over the limit: FC's synchronous body
/// limit (32 MB), so any body FC forwards is drained.
const DRAIN_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// Longest time spent draining an oversized body.
const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// The runtime's error type for a request that did not arrive in time.
pub(crate) const TIMEOUT_ERROR: &str = "request.timeout";
const TIMEOUT_HINT: &str = "Send the whole request at once: the function stops waiting for a \
    request that has not arrived APIGW_REQUEST_READ_TIMEOUT_MS after its first byte, or whose \
    body pauses for APIGW_BODY_READ_TIMEOUT_MS; raise them if a legitimate caller is that slow.";

/// How long one request may take to arrive.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadLimits {
    /// When the whole request must have arrived: its first byte + `request_timeout`.
    pub deadline: Instant,
    /// `APIGW_REQUEST_READ_TIMEOUT_MS`, for messages.
    pub request_timeout: Duration,
    /// `APIGW_BODY_READ_TIMEOUT_MS`: the longest wait for the next piece of the body.
    pub body_timeout: Duration,
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than the limit.
    TooLarge { limit: usize },
    /// The connection failed while reading.
    Read(String),
    /// No piece of the body arrived for `APIGW_BODY_READ_TIMEOUT_MS`.
    Stalled { after: Duration },
    /// The request was not complete at its deadline.
    Late { timeout: Duration },
}

/// Reads the whole body if it is at most `limit` bytes and arrives within `limits`.
///
/// An oversized body is drained (up to 32 MB, for 10 s at most) before the error is returned:
/// a server that answers while the caller is still sending and then closes the socket makes the
/// kernel reset the connection, and the caller would see a broken connection instead of the 413.
pub(crate) async fn read_limited(
    body: &mut Incoming,
    limit: usize,
    limits: &ReadLimits,
) -> Result<Bytes, BodyError> {
    // Refuse at once when the declared length says so; counting catches the rest (chunked).
    let declared_too_large = body.size_hint().lower() > limit as u64;
    if !declared_too_large {
        let mut data = Vec::with_capacity(body.size_hint().lower() as usize);
        loop {
            match next_frame(body, limits).await? {
                None => return Ok(Bytes::from(data)),
                Some(frame) => {
                    if let Some(chunk) = frame.data_ref() {
                        if data.len() + chunk.len() > limit {
                            break;
                        }
                        data.extend_from_slice(chunk);
                    }
                }
            }
        }
    }
    let _ = tokio::time::timeout(DRAIN_MAX_TIME, drain(body, DRAIN_MAX_BYTES, limits)).await;
    Err(BodyError::TooLarge { limit })
}

/// Reads and drops a body that the route does not use (at most `limit` bytes), so that its
/// bytes are not taken for the start of the connection's next request.
pub(crate) async fn discard(body: &mut Incoming, limit: usize, limits: &ReadLimits) {
    if !body.is_end_stream() {
        drain(body, limit as u64, limits).await;
    }
}

/// The next frame, within the pause limit and the request's deadline.
async fn next_frame(
    body: &mut Incoming,
    limits: &ReadLimits,
) -> Result<Option<Frame<Bytes>>, BodyError> {
    let pause_ends = Instant::now().checked_add(limits.body_timeout);
    let (until, stalled) = match pause_ends {
        Some(t) if t < limits.deadline => (t, true),
        _ => (limits.deadline, false),
    };
    match tokio::time::timeout_at(until.into(), body.frame()).await {
        Ok(None) => Ok(None),
        Ok(Some(Ok(frame))) => Ok(Some(frame)),
        Ok(Some(Err(e))) => Err(BodyError::Read(e.to_string())),
        Err(_) if stalled => Err(BodyError::Stalled {
            after: limits.body_timeout,
        }),
        Err(_) => Err(BodyError::Late {
            timeout: limits.request_timeout,
        }),
    }
}

async fn drain(body: &mut Incoming, max: u64, limits: &ReadLimits) {
    let mut seen: u64 = 0;
    while let Ok(Some(frame)) = next_frame(body, limits).await {
        if let Some(data) = frame.data_ref() {
            seen += data.len() as u64;
        }
        if seen > max {
            break;
        }
    }
}

impl BodyError {
    /// What a timeout says, for the answer and the log; `None` for the other errors.
    pub(crate) fn timeout_message(&self) -> Option<String> {
        match self {
            Self::Stalled { after } => Some(format!(
                "no part of the request body arrived for {} ms (APIGW_BODY_READ_TIMEOUT_MS)",
                after.as_millis()
            )),
            Self::Late { timeout } => Some(format!(
                "the request was not complete within {} ms of its first byte \
                 (APIGW_REQUEST_READ_TIMEOUT_MS)",
                timeout.as_millis()
            )),
            Self::TooLarge { .. } | Self::Read(_) => None,
        }
    }
}

/// `408` with FC's error body for a request that did not arrive in time; the connection is
/// closed after it (what is left of the request would be read as the next one).
pub(crate) fn timeout_reply(message: &str, request_id: &str) -> Reply {
    let mut reply = Reply::error(
        StatusCode::REQUEST_TIMEOUT,
        TIMEOUT_ERROR,
        message,
        TIMEOUT_HINT,
        request_id,
        Outcome::BadInput(TIMEOUT_ERROR.into()),
    );
    reply.close = true;
    reply
}
