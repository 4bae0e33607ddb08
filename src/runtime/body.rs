//! Reading a request body within `APIGW_MAX_EVENT_BYTES`.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body, Incoming};

/// Most bytes read and thrown away after a body went over the limit: FC's synchronous body
/// limit (32 MB), so any body FC forwards is drained.
const DRAIN_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// Longest time spent draining an oversized body.
const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Longer than the limit.
    TooLarge { limit: usize },
    /// The connection failed while reading.
    Read(String),
}

/// Reads the whole body if it is at most `limit` bytes.
///
/// An oversized body is drained (up to 32 MB, for 10 s at most) before the error is returned:
/// a server that answers while the caller is still sending and then closes the socket makes the
/// kernel reset the connection, and the caller would see a broken connection instead of the 413.
pub async fn read_limited(body: &mut Incoming, limit: usize) -> Result<Bytes, BodyError> {
    // Refuse at once when the declared length says so; `Limited` catches the rest (chunked).
    let declared_too_large = body.size_hint().lower() > limit as u64;
    if !declared_too_large {
        match Limited::new(&mut *body, limit).collect().await {
            Ok(collected) => return Ok(collected.to_bytes()),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_none() => {
                return Err(BodyError::Read(e.to_string()))
            }
            Err(_) => {}
        }
    }
    let _ = tokio::time::timeout(DRAIN_MAX_TIME, drain(body)).await;
    Err(BodyError::TooLarge { limit })
}

async fn drain(body: &mut Incoming) {
    let mut seen: u64 = 0;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            seen += data.len() as u64;
        }
        if seen > DRAIN_MAX_BYTES {
            break;
        }
    }
}
