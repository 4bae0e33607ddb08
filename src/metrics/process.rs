//! The process's own counters, for `GET /metrics` of a long-running `serve` (an ECS instance,
//! a Kubernetes pod; on FC every instance counts for itself and lives minutes).
//!
//! Process-wide statics, so that any part of the crate can count without holding the runtime:
//!
//! - [`count_invocation`]: the runtime, per `/invoke` and `/probe` request;
//! - [`count_results`]: the runtime, per target of each report;
//! - [`count_control_plane_call`]: the OpenAPI client, once per call (`Client::call`, after
//!   its endpoint fallback and retry): the configuration cross-check and the metric pushes are
//!   counted there without doing anything themselves.
//!
//! Every label value comes from a fixed set; classes of API Gateway codes are bounded (at most
//! [`MAX_GATEWAY_CLASSES`] distinct, then `gateway.other`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use super::probe::failure_class;
use super::{Exposition, Family};
use crate::openapi::{ErrorKind, Product};
use crate::report::{Report, Trigger};

/// How an invocation ended: the `outcome` label of `apigw_probe_invocations_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every target was ok.
    Ok,
    /// A target failed.
    Failed,
    /// Refused before probing (invalid event or query, unknown module, too large, too slow).
    BadInput,
    /// The runtime failed (a report that could not be written).
    Error,
}

const TRIGGERS: [(Trigger, &str); 4] = [
    (Trigger::Event, "event"),
    (Trigger::Http, "http"),
    (Trigger::Timer, "timer"),
    (Trigger::Cli, "cli"),
];
const OUTCOMES: [(Outcome, &str); 4] = [
    (Outcome::Ok, "ok"),
    (Outcome::Failed, "failed"),
    (Outcome::BadInput, "bad_input"),
    (Outcome::Error, "error"),
];
const PRODUCTS: [Product; 5] = [
    Product::ApiGateway,
    Product::Fc,
    Product::Vpc,
    Product::Cbn,
    Product::Cms,
];
/// `ok`, then the error kinds.
const CALL_OUTCOMES: [Option<ErrorKind>; 9] = [
    None,
    Some(ErrorKind::PermissionDenied),
    Some(ErrorKind::CredentialsInvalid),
    Some(ErrorKind::Throttled),
    Some(ErrorKind::ServiceUnavailable),
    Some(ErrorKind::NotFound),
    Some(ErrorKind::Unreachable),
    Some(ErrorKind::DeadlineExceeded),
    Some(ErrorKind::Other),
];

/// Most distinct `gateway.<CODE>` classes counted; later ones count as `gateway.other`.
pub(crate) const MAX_GATEWAY_CLASSES: usize = 32;

static INVOCATIONS: [[AtomicU64; 4]; 4] = [const { [const { AtomicU64::new(0) }; 4] }; 4];
static CONTROL_PLANE: [[AtomicU64; 9]; 5] = [const { [const { AtomicU64::new(0) }; 9] }; 5];
static RESULTS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());
static STARTED: OnceLock<f64> = OnceLock::new();

/// Notes the process's start time (`process_start_time_seconds`); the first call wins.
pub(crate) fn started() {
    STARTED.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    });
}

/// Counts one invocation.
pub(crate) fn count_invocation(trigger: Trigger, outcome: Outcome) {
    let t = TRIGGERS
        .iter()
        .position(|(t, _)| *t == trigger)
        .unwrap_or(0);
    let o = OUTCOMES
        .iter()
        .position(|(o, _)| *o == outcome)
        .unwrap_or(0);
    INVOCATIONS[t][o].fetch_add(1, Ordering::Relaxed);
}

/// Counts each target of `report` by its class (`ok` when it passed).
pub(crate) fn count_results(report: &Report) {
    let Ok(mut results) = RESULTS.lock() else {
        return;
    };
    for t in &report.targets {
        let mut class = t
            .error
            .as_ref()
            .map_or_else(|| "ok".to_owned(), |e| failure_class(&e.class));
        let gateway_classes = results.keys().filter(|k| k.starts_with("gateway.")).count();
        if class.starts_with("gateway.")
            && !results.contains_key(&class)
            && gateway_classes >= MAX_GATEWAY_CLASSES
        {
            class = "gateway.other".into();
        }
        *results.entry(class).or_default() += 1;
    }
}

/// Counts one OpenAPI call of `product` that ended with `error` (`None`: it succeeded).
pub(crate) fn count_control_plane_call(product: Product, error: Option<ErrorKind>) {
    let p = PRODUCTS.iter().position(|p| *p == product).unwrap_or(0);
    let o = CALL_OUTCOMES.iter().position(|o| *o == error).unwrap_or(0);
    CONTROL_PLANE[p][o].fetch_add(1, Ordering::Relaxed);
}

/// The counters as families: every trigger × outcome of invocations (0 included, so that
/// `rate()` has a series from the start), the classes and calls seen so far.
pub(crate) fn exposition() -> Exposition {
    let mut e = Exposition::default();
    let mut invocations = Family::counter(
        "apigw_probe_invocations",
        "Invocations (POST /invoke, GET|POST /probe) by trigger and outcome (ok, failed, bad_input, error)",
    );
    for (t, (_, trigger)) in TRIGGERS.iter().enumerate() {
        // The command line never runs inside `serve`.
        if *trigger == "cli" {
            continue;
        }
        for (o, (_, outcome)) in OUTCOMES.iter().enumerate() {
            invocations.push(
                "",
                vec![
                    ("trigger", (*trigger).into()),
                    ("outcome", (*outcome).into()),
                ],
                INVOCATIONS[t][o].load(Ordering::Relaxed) as f64,
            );
        }
    }
    e.push(invocations);

    let mut results = Family::counter(
        "apigw_probe_results",
        "Targets probed, by error class (ok when the target passed)",
    );
    if let Ok(map) = RESULTS.lock() {
        for (class, n) in map.iter() {
            results.push("", vec![("class", class.clone())], *n as f64);
        }
    }
    e.push(results);

    let mut calls = Family::counter(
        "apigw_probe_control_plane_calls",
        "Alibaba Cloud OpenAPI calls by product and outcome (ok, or the error kind)",
    );
    for (p, product) in PRODUCTS.iter().enumerate() {
        for (o, outcome) in CALL_OUTCOMES.iter().enumerate() {
            let n = CONTROL_PLANE[p][o].load(Ordering::Relaxed);
            if n > 0 {
                calls.push(
                    "",
                    vec![
                        ("product", product.ram_code().into()),
                        ("outcome", outcome.map_or("ok", ErrorKind::name).into()),
                    ],
                    n as f64,
                );
            }
        }
    }
    e.push(calls);

    e.push(
        Family::info("apigw_probe_build", "The running apigw-vpc-probe's version")
            .with(vec![("version", env!("CARGO_PKG_VERSION").into())], 1.0),
    );
    if let Some(t) = STARTED.get() {
        e.push(
            Family::gauge(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
            )
            .with(Vec::new(), *t),
        );
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorClass, ProbeError};
    use crate::report::TargetReport;

    fn value(e: &Exposition, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        e.families()
            .iter()
            .flat_map(|f| f.points().collect::<Vec<_>>())
            .find(|p| {
                p.name == name
                    && p.labels.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| p.labels.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|p| p.value)
    }

    fn report(classes: &[Option<ErrorClass>]) -> Report {
        Report {
            schema: crate::report::SCHEMA,
            ok: false,
            trigger: Trigger::Http,
            request_id: "r".into(),
            started_at: "t".into(),
            duration_ms: 1.0,
            function: None,
            timer: None,
            targets: classes
                .iter()
                .map(|c| {
                    let mut t =
                        TargetReport::failed_early("t".into(), "u".into(), ProbeError::config("x"));
                    t.error = c.clone().map(|class| ProbeError {
                        class,
                        message: "m".into(),
                        hint: "h".into(),
                    });
                    t
                })
                .collect(),
            truncated: None,
            push: None,
        }
    }

    // The counters are process-wide: one test, so that no other test's counts mix in.
    #[test]
    fn counters_count_with_bounded_labels() {
        let before = exposition();
        let inv = |e: &Exposition, t: &str, o: &str| {
            value(
                e,
                "apigw_probe_invocations_total",
                &[("trigger", t), ("outcome", o)],
            )
        };
        assert!(inv(&before, "timer", "error").is_some(), "pre-initialized");
        assert!(inv(&before, "cli", "ok").is_none());
        count_invocation(Trigger::Http, Outcome::Failed);
        count_invocation(Trigger::Http, Outcome::Failed);
        count_invocation(Trigger::Timer, Outcome::Ok);

        count_results(&report(&[
            None,
            Some(ErrorClass::DnsNxdomain),
            Some(ErrorClass::Gateway("I404NF".into())),
            Some(ErrorClass::Gateway("made-up".into())),
        ]));
        // A server sending a new well-formed code on every call: bounded.
        let flood: Vec<Option<ErrorClass>> = (0..100)
            .map(|i| Some(ErrorClass::Gateway(format!("X{i:03}ZZ"))))
            .collect();
        count_results(&report(&flood));

        count_control_plane_call(Product::ApiGateway, None);
        count_control_plane_call(Product::Cbn, Some(ErrorKind::PermissionDenied));

        let after = exposition();
        let delta = |t, o| inv(&after, t, o).unwrap() - inv(&before, t, o).unwrap();
        assert_eq!(delta("http", "failed"), 2.0);
        assert_eq!(delta("timer", "ok"), 1.0);
        assert_eq!(delta("event", "ok"), 0.0);
        let class = |c: &str| value(&after, "apigw_probe_results_total", &[("class", c)]);
        assert!(class("ok").unwrap() >= 1.0);
        assert!(class("dns.nxdomain").unwrap() >= 1.0);
        assert!(class("gateway.I404NF").unwrap() >= 1.0);
        assert!(class("gateway.other").unwrap() >= 1.0 + 100.0 - 31.0);
        let results = after
            .families()
            .into_iter()
            .find(|f| f.name == "apigw_probe_results")
            .unwrap()
            .clone();
        let gateway = results
            .series
            .iter()
            .filter(|s| s.labels[0].1.starts_with("gateway."))
            .count();
        assert!(gateway <= MAX_GATEWAY_CLASSES + 1, "{gateway}");
        assert!(
            value(
                &after,
                "apigw_probe_control_plane_calls_total",
                &[("product", "cen"), ("outcome", "permission_denied")]
            )
            .unwrap()
                >= 1.0
        );
        assert!(
            value(
                &after,
                "apigw_probe_control_plane_calls_total",
                &[("product", "apigateway"), ("outcome", "ok")]
            )
            .unwrap()
                >= 1.0
        );
        assert_eq!(
            value(
                &after,
                "apigw_probe_build_info",
                &[("version", env!("CARGO_PKG_VERSION"))]
            ),
            Some(1.0)
        );
    }
}
