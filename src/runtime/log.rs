//! Logging for the runtime: JSON lines on stdout, which FC ships to the function's SLS logstore.
//!
//! - One JSON object per line, with the fields of the current span (the request span carries
//!   `request_id`, so every line written while serving a request names it).
//! - Level from `RUST_LOG`: a level (`debug`), or comma-separated `target=level` directives
//!   (`warn,apigw_vpc_probe=debug`); `tracing_subscriber`'s `Targets` filter, which has no regex
//!   engine (`EnvFilter`'s span and field directives, which this function never needed, cost
//!   ~100 KB of binary). Default `info`.
//! - FC's own markers (`FC Invoke Start RequestId: …`) are plain text, not JSON: the console and
//!   SLS look for them verbatim. [`fc_marker`] writes them.
//! - A panic becomes one JSON `error` line (with the request id when it happens in a request)
//!   instead of the default multi-line text on stderr.
//!
//! Nothing here ever logs request headers or bodies; callers pass only the fields they mean to.
//! Every line still passes through the request's redactor ([`crate::redact`]) on its way out.

use std::io::Write;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The level used when `RUST_LOG` is unset or empty.
pub(crate) const DEFAULT_FILTER: &str = "info";

/// Installs the JSON subscriber and the panic hook. Call once, at start-up, before serving.
///
/// A second call (tests that start two servers in one process) leaves the first subscriber in
/// place.
pub(crate) fn init() {
    let (filter, bad_filter) = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<Targets>() {
            Ok(f) => (f, None),
            // A typo in RUST_LOG must not stop the function from starting: fall back and say so.
            Err(e) => (default_filter(), Some(e.to_string())),
        },
        _ => (default_filter(), None),
    };
    let installed = tracing_subscriber::fmt()
        .json()
        .with_writer(RedactedStdout)
        .with_ansi(false)
        .with_current_span(true)
        // The request span is the only span; the list would repeat it on every line.
        .with_span_list(false)
        .flatten_event(true)
        .finish()
        .with(filter)
        .try_init()
        .is_ok();
    if installed {
        install_panic_hook();
    }
    if let Some(e) = bad_filter {
        tracing::warn!(error = %e, default = DEFAULT_FILTER, "RUST_LOG is not valid; using the default");
    }
}

/// [`DEFAULT_FILTER`] as a filter.
fn default_filter() -> Targets {
    Targets::new().with_default(tracing::Level::INFO)
}

/// Writes one of FC's plain-text marker lines to stdout, e.g.
/// `FC Invoke Start RequestId: 1-6560…`.
///
/// Written in one locked `write_all` so that it never interleaves with a JSON line of another
/// request, and flushed at once so that it sits between that request's lines in SLS.
pub(crate) fn fc_marker(line: std::fmt::Arguments<'_>) {
    let mut text = crate::redact::current()
        .redact(&line.to_string())
        .into_owned();
    text.push('\n');
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // Nowhere to report a failed write to stdout: the log itself is what failed.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Stdout for the JSON lines, through the redactor of the request that writes them (else the
/// process's): each event is collected whole, redacted string by string, and written in one
/// locked `write_all`.
struct RedactedStdout;

impl<'a> MakeWriter<'a> for RedactedStdout {
    type Writer = RedactedLine;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLine(Vec::new())
    }
}

/// One event's line on its way to stdout (written when dropped, after the formatter's
/// `write_all`).
struct RedactedLine(Vec<u8>);

impl Write for RedactedLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let redactor = crate::redact::current();
        let line = redactor.redact_json_bytes(&self.0);
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        // Nowhere to report a failed write to stdout: the log itself is what failed.
        let _ = out.write_all(&line);
        let _ = out.flush();
    }
}

/// Replaces the default panic output (text on stderr) with one JSON `error` line. The hook runs
/// on the panicking thread inside the request's span, so the line carries the request id.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(panic = message, location = %location, "panicked");
    }));
}
