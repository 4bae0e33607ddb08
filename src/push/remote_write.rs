//! Prometheus remote write 1.0 (prometheus/docs `specs/remote_write_spec.md`): one `POST` of a
//! protobuf `WriteRequest`, compressed with snappy's block format (not its framed format),
//! with `Content-Encoding: snappy`, `Content-Type: application/x-protobuf`,
//! `X-Prometheus-Remote-Write-Version: 0.1.0` and a `User-Agent`.
//!
//! The series are the `/probe` answer's ([`crate::metrics::probe::target_families`], one
//! target's families at a time), each with `job` (`APIGW_REMOTE_WRITE_JOB`), `instance` (the
//! target's name, as blackbox's relabelling makes the probed target the instance) and the
//! labels of `APIGW_REMOTE_WRITE_LABELS`; its labels sorted by name (byte order, which puts
//! `__name__` first for every label of ours), one sample each, stamped with the push's time in
//! milliseconds.
//!
//! **Answers**: a 2xx is success. A 5xx or a 429 is retried once, after a short pause (a 429's
//! `Retry-After` seconds when given), when the pause and another attempt fit the push's
//! deadline; a 4xx is not retried (the spec: the data would be refused again).

use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use prost::Message;

use super::{error, sink, Job, PushClass, PushContext, RemoteWriteAuth, RemoteWriteSettings};
use crate::metrics::probe::target_families;
use crate::openapi::Transport;
use crate::report::{Report, SinkReport};

/// Sent as `User-Agent`.
const USER_AGENT: &str = concat!("apigw-vpc-probe/", env!("CARGO_PKG_VERSION"));

/// Pause before the retry of a 5xx (and a 429 without `Retry-After`).
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Shortest time worth starting the retry with.
const MIN_ATTEMPT: Duration = Duration::from_millis(100);

/// Most characters of a receiver's answer kept in a message.
const MAX_MESSAGE_CHARS: usize = 300;

/// `prometheus.WriteRequest` (remote write 1.0: `types.proto`, `remote.proto`); field 2 is
/// reserved and the metadata (field 3) is optional, so neither is sent.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct WriteRequest {
    /// The series.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct TimeSeries {
    /// Sorted by name, `__name__` among them.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// One sample here.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Label {
    /// `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Any UTF-8 text, not empty.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// The series of `report` as remote write sends them, and how many were left out because a
/// label broke the spec's rules (a name not `[a-zA-Z_][a-zA-Z0-9_]*`, an empty value, a name
/// given twice), with the first such reason.
pub(crate) fn series(
    rw: &RemoteWriteSettings,
    report: &Report,
    time_ms: i64,
) -> (Vec<TimeSeries>, usize, Option<String>) {
    let timeout = report.function.as_ref().map(|f| f.budget_ms / 1000.0);
    let mut out = Vec::new();
    let (mut dropped, mut why) = (0, None);
    for t in &report.targets {
        for family in target_families(t, timeout) {
            for p in family.points() {
                let mut labels: Vec<Label> = [
                    ("__name__", p.name.as_str()),
                    ("job", rw.job.as_str()),
                    ("instance", t.name.as_str()),
                ]
                .into_iter()
                .chain(p.labels.iter().map(|(n, v)| (*n, v.as_str())))
                .chain(rw.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                .map(|(name, value)| Label {
                    name: name.to_owned(),
                    value: value.to_owned(),
                })
                .collect();
                labels.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
                let broken = labels
                    .iter()
                    .find(|l| !super::label_name_ok(&l.name) || l.value.is_empty())
                    .map(|l| format!("{} has the label {}={:?}", p.name, l.name, l.value))
                    .or_else(|| {
                        labels
                            .windows(2)
                            .find(|w| w[0].name == w[1].name)
                            .map(|w| format!("{} has the label {} twice", p.name, w[0].name))
                    });
                if let Some(reason) = broken {
                    dropped += 1;
                    why.get_or_insert(reason);
                    continue;
                }
                out.push(TimeSeries {
                    labels,
                    samples: vec![Sample {
                        value: p.value,
                        timestamp: time_ms,
                    }],
                });
            }
        }
    }
    (out, dropped, why)
}

/// The `Authorization` header's value, or the error that stops the push.
fn authorization(
    rw: &RemoteWriteSettings,
    ctx: &PushContext,
) -> Result<Option<String>, crate::report::PushError> {
    let (user, password) = match rw.auth {
        RemoteWriteAuth::None => return Ok(None),
        RemoteWriteAuth::Basic => match (&rw.username, &rw.password) {
            (Some(u), Some(p)) => (u.clone(), p.expose().to_owned()),
            // The settings refuse basic without both.
            _ => return Ok(None),
        },
        RemoteWriteAuth::Role => {
            let Some(c) = &ctx.credentials else {
                return Err(error(
                    PushClass::Unconfigured,
                    "APIGW_REMOTE_WRITE_AUTH=role, and the invocation has no role credentials",
                    "Give the function a role (FC then sends its STS credentials with each \
                     invocation), or use APIGW_REMOTE_WRITE_AUTH=basic.",
                ));
            };
            // SLS MetricStore: the AccessKeyId as the user, the secret with `$` and the STS
            // token appended as the password (observability spec §3.1).
            let password = match c.security_token() {
                Some(token) => format!("{}${token}", c.access_key_secret()),
                None => c.access_key_secret().to_owned(),
            };
            (c.access_key_id().to_owned(), password)
        }
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    // Should a receiver echo the header, the output redaction masks it.
    crate::redact::note(&encoded);
    Ok(Some(format!("Basic {encoded}")))
}

/// The class of a receiver's non-2xx answer.
fn class_of(status: u16) -> PushClass {
    match status {
        401 | 403 => PushClass::Denied,
        429 => PushClass::Throttled,
        500..=599 => PushClass::Server,
        _ => PushClass::Refused,
    }
}

fn hint(class: PushClass) -> &'static str {
    match class {
        PushClass::Denied => {
            "Check APIGW_REMOTE_WRITE_AUTH and the credentials: for SLS MetricStore use `role` \
             and grant the function's role log:PostLogStoreLogs on the MetricStore; for basic, \
             APIGW_REMOTE_WRITE_USERNAME and the password."
        }
        PushClass::Throttled => {
            "The receiver throttles: push less often (the timer's interval) or from fewer \
             functions, or raise the receiver's ingestion limit."
        }
        PushClass::Server => {
            "The receiver failed (also on the retry); check its health. The next run pushes \
             again."
        }
        PushClass::Unreachable => {
            "Check APIGW_REMOTE_WRITE_URL's host and port, the function's VPC routes and \
             security group to it (SLS: the -intranet endpoint from a VPC), and APIGW_CA_FILE \
             for a private CA."
        }
        PushClass::Timeout => {
            "The receiver did not answer in time: raise APIGW_PUSH_BUDGET_MS (and the function's \
             timeout), or check the receiver."
        }
        _ => {
            "Check APIGW_REMOTE_WRITE_URL (the receiver's write path, e.g. /api/v1/write, \
             Prometheus started with --web.enable-remote-write-receiver) and the receiver's \
             message."
        }
    }
}

/// Pushes `report`'s series to `rw` before `deadline`.
pub(crate) async fn push(rw: &RemoteWriteSettings, job: &Job<'_>) -> SinkReport {
    let Job {
        transport,
        ctx,
        report,
        time_ms,
        deadline,
        ..
    } = *job;
    let started = Instant::now();
    let mut out = sink(Some(rw.shown.clone()));
    let (series, dropped, why) = series(rw, report, time_ms);
    out.dropped = dropped;
    let result = send(
        rw,
        transport,
        ctx,
        series.len(),
        &series,
        deadline,
        &mut out,
    )
    .await;
    match result {
        Ok(()) => {
            out.sent = series.len();
            out.ok = dropped == 0;
            if let Some(why) = why {
                out.error = Some(error(
                    PushClass::Invalid,
                    format!("{dropped} series not sent: {why}"),
                    "Change the label (APIGW_REMOTE_WRITE_LABELS, or the target's name, which \
                     is the instance label) so that it follows the remote write spec.",
                ));
            }
        }
        Err(e) => out.error = Some(e),
    }
    out.duration_ms = crate::report::ms(started.elapsed());
    out
}

async fn send(
    rw: &RemoteWriteSettings,
    transport: &Transport,
    ctx: &PushContext,
    count: usize,
    series: &[TimeSeries],
    deadline: Instant,
    out: &mut SinkReport,
) -> Result<(), crate::report::PushError> {
    if count == 0 {
        return Ok(());
    }
    let authorization = authorization(rw, ctx)?;
    let body = WriteRequest {
        timeseries: series.to_vec(),
    }
    .encode_to_vec();
    let body = Bytes::from(snap::raw::Encoder::new().compress_vec(&body).map_err(|e| {
        error(
            PushClass::Invalid,
            format!("snappy: {e}"),
            "A bug: report it.",
        )
    })?);
    let mut retried = false;
    loop {
        out.requests += 1;
        let attempt = attempt(rw, transport, authorization.as_deref(), body.clone());
        let reply = match tokio::time::timeout_at(deadline.into(), attempt).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(message)) => {
                return Err(error(
                    PushClass::Unreachable,
                    message,
                    hint(PushClass::Unreachable),
                ))
            }
            Err(_) => {
                return Err(error(
                    PushClass::Timeout,
                    format!(
                        "no answer from {} within the push's share of the deadline",
                        rw.shown
                    ),
                    hint(PushClass::Timeout),
                ))
            }
        };
        out.status = Some(reply.status);
        if (200..300).contains(&reply.status) {
            return Ok(());
        }
        let class = class_of(reply.status);
        let retryable = matches!(class, PushClass::Server | PushClass::Throttled);
        let pause = reply
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(RETRY_PAUSE, Duration::from_secs);
        if retryable && !retried && Instant::now() + pause + MIN_ATTEMPT < deadline {
            retried = true;
            tokio::time::sleep(pause).await;
            continue;
        }
        let text: String = String::from_utf8_lossy(&reply.body)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(MAX_MESSAGE_CHARS)
            .collect();
        let text = crate::redact::current().redact_cut(text.trim());
        let mut message = format!("{} answered HTTP {}", rw.shown, reply.status);
        if !text.is_empty() {
            message.push_str(&format!(": {text}"));
        }
        if retried {
            message.push_str(" (also on the retry)");
        }
        return Err(error(class, message, hint(class)));
    }
}

/// One request: connect (the crate's resolver, TLS settings and address rules) and exchange.
async fn attempt(
    rw: &RemoteWriteSettings,
    transport: &Transport,
    authorization: Option<&str>,
    body: Bytes,
) -> Result<crate::openapi::client::Reply, String> {
    let io = transport.connect(&rw.endpoint).await.map_err(|(_, m)| m)?;
    let mut builder = hyper::Request::builder()
        .method("POST")
        .uri(rw.path.as_str())
        .header("host", rw.endpoint.host_header())
        .header("content-encoding", "snappy")
        .header("content-type", "application/x-protobuf")
        .header("x-prometheus-remote-write-version", "0.1.0")
        .header("user-agent", USER_AGENT);
    if let Some(a) = authorization {
        builder = builder.header("authorization", a);
    }
    let request = builder.body(Full::new(body)).map_err(|_| {
        // The parts are the settings' (checked) and the role's credentials; the message never
        // includes a value.
        "the request could not be built (the URL's path or a credential holds a character not \
         allowed in HTTP)"
            .to_owned()
    })?;
    crate::openapi::client::send(io, request, &rw.endpoint)
        .await
        .map_err(|(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(labels: &[(&str, &str)]) -> RemoteWriteSettings {
        RemoteWriteSettings {
            endpoint: crate::openapi::Endpoint {
                scheme: crate::openapi::Scheme::Http,
                host: "127.0.0.1".into(),
                port: 9090,
                kind: crate::openapi::EndpointKind::Override,
            },
            path: "/api/v1/write".into(),
            shown: "http://127.0.0.1:9090/api/v1/write".into(),
            auth: RemoteWriteAuth::None,
            username: None,
            password: None,
            job: "apigw-vpc-probe".into(),
            labels: labels
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn report(names: &[&str]) -> Report {
        super::super::tests::report(names, &[])
    }

    #[test]
    fn series_are_the_probe_families_with_sorted_labels_and_ms_timestamps() {
        let rw = settings(&[("region", "cn-shanghai"), ("Zone", "a")]);
        let (series, dropped, _) = series(&rw, &report(&["api", "web"]), 1_700_000_000_123);
        assert_eq!(dropped, 0);
        let expected: usize = report(&["api"])
            .targets
            .iter()
            .flat_map(|t| target_families(t, None))
            .map(|f| f.series.len())
            .sum();
        assert_eq!(series.len(), 2 * expected);
        for s in &series {
            let names: Vec<&str> = s.labels.iter().map(|l| l.name.as_str()).collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            assert_eq!(names, sorted, "byte order");
            assert!(names.contains(&"__name__") && names.contains(&"job"));
            assert_eq!(s.samples[0].timestamp, 1_700_000_000_123);
        }
        let success: Vec<&TimeSeries> = series
            .iter()
            .filter(|s| s.labels.iter().any(|l| l.value == "probe_success"))
            .collect();
        assert_eq!(success.len(), 2);
        let labels: Vec<(&str, &str)> = success[0]
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("Zone", "a"),
                ("__name__", "probe_success"),
                ("instance", "api"),
                ("job", "apigw-vpc-probe"),
                ("region", "cn-shanghai"),
            ]
        );
        assert_eq!(success[0].samples[0].value, 1.0);
    }

    #[test]
    fn the_wire_format_is_protobuf_then_snappy_block() {
        let rw = settings(&[]);
        let (series, _, _) = series(&rw, &report(&["api"]), 5);
        let bytes = WriteRequest {
            timeseries: series.clone(),
        }
        .encode_to_vec();
        // Field 1, length-delimited: 0x0a.
        assert_eq!(bytes[0], 0x0a);
        let compressed = snap::raw::Encoder::new().compress_vec(&bytes).unwrap();
        let back = snap::raw::Decoder::new()
            .decompress_vec(&compressed)
            .unwrap();
        assert_eq!(
            WriteRequest::decode(back.as_slice()).unwrap().timeseries,
            series
        );
    }

    #[test]
    fn a_broken_label_drops_the_series_and_says_why() {
        let rw = settings(&[]);
        let (series, dropped, why) = series(&rw, &report(&["api", ""]), 5);
        assert!(dropped > 0);
        assert_eq!(series.len(), dropped, "the good target's series stay");
        assert!(why.unwrap().contains("instance"));
    }

    #[test]
    fn role_basic_auth_is_the_key_id_and_secret_dollar_token() {
        let mut rw = settings(&[]);
        rw.auth = RemoteWriteAuth::Role;
        let ctx = PushContext {
            credentials: crate::openapi::Credentials::new(
                Some("STS.id".into()),
                Some("the-secret".into()),
                Some("the-token".into()),
            ),
            ..PushContext::default()
        };
        let header = authorization(&rw, &ctx).unwrap().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(decoded, b"STS.id:the-secret$the-token");
        let e = authorization(&rw, &PushContext::default()).unwrap_err();
        assert_eq!(e.class, PushClass::Unconfigured);
    }

    #[test]
    fn answers_map_to_classes() {
        assert_eq!(class_of(401), PushClass::Denied);
        assert_eq!(class_of(403), PushClass::Denied);
        assert_eq!(class_of(429), PushClass::Throttled);
        assert_eq!(class_of(503), PushClass::Server);
        assert_eq!(class_of(400), PushClass::Refused);
        assert_eq!(class_of(404), PushClass::Refused);
    }
}
