//! CloudMonitor custom metrics (`APIGW_CMS_METRICS=on`): `PutCustomMetric` (CMS 2019-01-01)
//! through the OpenAPI client, signed with the role's credentials (V3), at the function's
//! region (`cms-vpc.<region>`, then `metrics.<region>`; `APIGW_OPENAPI_ENDPOINT_CMS`).
//!
//! Of the `/probe` answer's series ([`crate::metrics::probe::target_families`]), three per
//! target, as raw data (`Type` 0) — each a billed entry, so not the whole set:
//! - `probe_success` (1 or 0), dimension `target`;
//! - `probe_duration_seconds` (the samples' total time), dimension `target`;
//! - `probe_failure_info` (1), dimensions `target`, `class` and `phase`, only on failure.
//!
//! Every entry is checked against the documented rules ([`MetricEntry::check`]) first: one that
//! breaks them (a target name CloudMonitor would change: longer than 64 bytes, or with a
//! character other than letters, digits, `.`, `-`, `_`, `/`, `\`) is not sent and makes the
//! sink `push.invalid`; the others are. At most [`MAX_ENTRIES_PER_CALL`] entries go in one call;
//! more are split over several calls, one after the other (CloudMonitor limits calls per
//! second), stopping at the first that fails.

use std::time::Instant;

use super::{error, sink, Job, PushClass};
use crate::metrics::probe::target_families;
use crate::openapi::cms::{MetricEntry, MAX_ENTRIES_PER_CALL};
use crate::openapi::{Client, Endpoints, ErrorKind, OpenApiError};
use crate::report::{PushError, Report, SinkReport};

/// The families pushed (by sample name).
const PUSHED: &[&str] = &[
    "probe_success",
    "probe_duration_seconds",
    "probe_failure_info",
];

/// The entries for `report`, in target order.
pub(crate) fn entries(report: &Report, group_id: u64, time_ms: i64) -> Vec<MetricEntry> {
    let time_ms = u64::try_from(time_ms).unwrap_or(0);
    let mut out = Vec::new();
    for t in &report.targets {
        for family in target_families(t, None) {
            for p in family.points() {
                if !PUSHED.contains(&p.name.as_str()) {
                    continue;
                }
                let mut dimensions = vec![("target".to_owned(), t.name.clone())];
                dimensions.extend(p.labels.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
                out.push(MetricEntry {
                    group_id,
                    metric_name: p.name.clone(),
                    dimensions,
                    value: p.value,
                    time_ms,
                });
            }
        }
    }
    out
}

/// The push error of a failed call.
fn call_error(e: &OpenApiError) -> PushError {
    let (class, hint) = match e.kind {
        ErrorKind::PermissionDenied => (
            PushClass::Denied,
            "Grant the function's role cms:PutCustomMetric (a RAM policy with that action on \
             resource *).",
        ),
        ErrorKind::CredentialsInvalid => (
            PushClass::Denied,
            "CloudMonitor refused the role's credentials (code above): check the function's \
             role and the instance's clock.",
        ),
        ErrorKind::Throttled => (
            PushClass::Throttled,
            "CloudMonitor throttles PutCustomMetric (200 calls/s in Beijing, Shanghai, \
             Hangzhou; 100 in Zhangjiakou, Shenzhen; 50 elsewhere, for the account): push from \
             fewer functions or less often.",
        ),
        ErrorKind::ServiceUnavailable => (
            PushClass::Server,
            "CloudMonitor failed (also on the retry); the next run pushes again.",
        ),
        ErrorKind::Unreachable => (
            PushClass::Unreachable,
            "The function cannot reach CloudMonitor: from a VPC without internet access, \
             cms-vpc.<region>.aliyuncs.com must resolve and be reachable (or set \
             APIGW_OPENAPI_ENDPOINT_CMS).",
        ),
        ErrorKind::DeadlineExceeded => (
            PushClass::Timeout,
            "No answer within the push's share of the deadline: raise APIGW_PUSH_BUDGET_MS \
             (and the function's timeout).",
        ),
        ErrorKind::NotFound | ErrorKind::Other => (
            PushClass::Refused,
            "CloudMonitor refused the entries (its message above); report it with the request \
             id if the entries follow the documented rules.",
        ),
    };
    let mut message = e.message.clone();
    if let Some(endpoint) = &e.endpoint {
        message = format!("{} at {endpoint}: {message}", e.action);
    }
    PushError {
        class,
        message,
        hint: hint.into(),
        code: e.code.clone(),
    }
}

/// Pushes `report`'s entries to CloudMonitor before `deadline`.
pub(crate) async fn push(job: &Job<'_>) -> SinkReport {
    let started = Instant::now();
    let mut out = sink(None);
    let result = send(job, &mut out).await;
    out.error = match result {
        Err(e) => Some(e),
        Ok(invalid) => invalid,
    };
    out.ok = out.error.is_none();
    out.duration_ms = crate::report::ms(started.elapsed());
    out
}

/// Sends the valid entries; `Ok` with the `push.invalid` error when some were left out.
async fn send(job: &Job<'_>, out: &mut SinkReport) -> Result<Option<PushError>, PushError> {
    let Job {
        settings,
        transport,
        ctx,
        report,
        time_ms,
        deadline,
    } = *job;
    let (Some(credentials), Some(region)) = (&ctx.credentials, &ctx.region) else {
        return Err(error(
            PushClass::Unconfigured,
            match ctx.credentials {
                None => "APIGW_CMS_METRICS=on, and the invocation has no role credentials",
                Some(_) => "APIGW_CMS_METRICS=on, and the function's region is not known",
            },
            "Give the function a role with cms:PutCustomMetric (FC sends its STS credentials \
             and x-fc-region with each invocation).",
        ));
    };
    let mut valid = Vec::new();
    let mut invalid: Option<PushError> = None;
    for e in entries(report, settings.push.cms_group_id, time_ms) {
        match e.check() {
            Ok(()) => valid.push(e),
            Err(why) => {
                out.dropped += 1;
                invalid.get_or_insert_with(|| {
                    error(
                        PushClass::Invalid,
                        format!("not sent to CloudMonitor: {why}"),
                        "Rename the target: CloudMonitor dimension values are 1-64 letters, \
                         digits, '.', '-', '_', '/' and '\\'.",
                    )
                });
            }
        }
    }
    if let Some(e) = &mut invalid {
        if out.dropped > 1 {
            e.message = format!("{} (and {} more entries)", e.message, out.dropped - 1);
        }
    }
    let endpoints = Endpoints::new(&settings.openapi, Some(region), ctx.account_id.as_deref());
    let client = Client::with_transport(transport.clone(), endpoints, credentials.clone());
    for chunk in valid.chunks(MAX_ENTRIES_PER_CALL) {
        out.requests += 1;
        match client.put_custom_metric(region, chunk, deadline).await {
            Ok(answer) => {
                out.sent += chunk.len();
                out.status = Some(200);
                out.endpoint = Some(answer.endpoint);
                out.request_id = answer.request_id;
            }
            Err(e) => {
                out.status = e.status;
                out.endpoint = e.endpoint.clone().or(out.endpoint.take());
                out.request_id = e.request_id.clone();
                return Err(call_error(&e));
            }
        }
    }
    Ok(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorClass;

    #[test]
    fn three_families_per_target_and_the_failure_with_its_class() {
        let report = super::super::tests::report(&["api"], &[("web", ErrorClass::TcpRefused)]);
        let e = entries(&report, 7, 1_700_000_000_000);
        let names: Vec<(&str, &str)> = e
            .iter()
            .map(|e| (e.dimensions[0].1.as_str(), e.metric_name.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("api", "probe_success"),
                ("api", "probe_duration_seconds"),
                ("web", "probe_success"),
                ("web", "probe_duration_seconds"),
                ("web", "probe_failure_info"),
            ]
        );
        let failure = &e[4];
        assert_eq!(
            failure.dimensions,
            [
                ("target".to_owned(), "web".to_owned()),
                ("class".to_owned(), "tcp.refused".to_owned()),
                ("phase".to_owned(), "setup".to_owned()),
            ]
        );
        assert!(e.iter().all(|e| e.group_id == 7 && e.check().is_ok()));
        assert_eq!(e[2].value, 0.0);
        assert_eq!(e[0].value, 1.0);
    }

    #[test]
    fn kinds_map_to_classes() {
        for (kind, class) in [
            (ErrorKind::PermissionDenied, PushClass::Denied),
            (ErrorKind::CredentialsInvalid, PushClass::Denied),
            (ErrorKind::Throttled, PushClass::Throttled),
            (ErrorKind::ServiceUnavailable, PushClass::Server),
            (ErrorKind::Unreachable, PushClass::Unreachable),
            (ErrorKind::DeadlineExceeded, PushClass::Timeout),
            (ErrorKind::Other, PushClass::Refused),
        ] {
            let e = OpenApiError::new(kind, "cms:PutCustomMetric", "m");
            assert_eq!(call_error(&e).class, class, "{kind}");
        }
    }
}
