//! A report's metric families.
//!
//! **blackbox_exporter's**, with its exact names, types (all gauges), HELP texts and label
//! values (`tests/fixtures/metrics/blackbox-families.json`, copied from its source), for what
//! both measure. A target's samples are one probe: `probe_success` is the target's `ok`,
//! `probe_duration_seconds` the time all its samples took; the families that describe one
//! request (phases, status, lengths, version, TLS, address) describe its first failing sample,
//! else its first — the sample whose error the target reports. Our phases map onto blackbox's:
//! `dns` → `resolve`, `send` + `ttfb` → `processing` (blackbox counts writing the request in
//! it), the others by name. We never follow redirects, so `probe_http_redirects` is 0.
//!
//! **Ours**, under the prefix `apigw_probe_`, for what blackbox lacks: the six phases apart,
//! the DNS scope, API Gateway's error code, sample counts, and latency quantiles over the
//! samples when there are several. And `probe_failure_info{class,phase}`, 1 on failure: the
//! name blackbox's maintainers proposed (PR #1139, draft PR #1334, which however has free-text
//! `reason` labels); ours carries only values from fixed sets ([`failure_class`], and the
//! report's `failed_phase`, recorded where the sample failed).
//!
//! No label holds an address, a request id, a message or a URL: a report of one target has
//! none but those fixed values; a report of several adds `target` (the target's name) to every
//! series so that they stay apart.

use std::net::{IpAddr, SocketAddr};

use super::{tls, Exposition, Family};
use crate::error::ErrorClass;
use crate::report::{FailedPhase, Report, Sample, TargetReport};
use crate::scope::Scope;

/// Most gateway codes a label takes: API Gateway's are a letter, three digits (the HTTP status)
/// and two letters (`I404NF`, `A403IS`, `D504CO`).
fn is_gateway_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 6
        && b[0].is_ascii_uppercase()
        && b[1..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_uppercase)
}

/// A class as a label value: its name, with API Gateway's code only when it has the documented
/// shape (`gateway.I404NF`); any other code is `gateway.other`, so that a server sending made-up
/// codes cannot make series without end.
pub(crate) fn failure_class(class: &ErrorClass) -> String {
    match class {
        ErrorClass::Gateway(code) if !is_gateway_code(code) => "gateway.other".into(),
        c => c.name().into_owned(),
    }
}

/// The sample the per-request families describe: the first failing one, else the first.
fn described(t: &TargetReport) -> Option<&Sample> {
    t.samples
        .iter()
        .find(|s| s.error.is_some())
        .or_else(|| t.samples.first())
}

/// blackbox's `probe_ip_addr_hash`: FNV-32a of the address's 4 bytes (IPv4, also IPv4-mapped
/// IPv6, as Go's `To4`) or 16 bytes.
fn ip_hash(ip: IpAddr) -> f64 {
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    let bytes: Vec<u8> = match (v4, ip) {
        (Some(v4), _) => v4.octets().to_vec(),
        (None, IpAddr::V6(v6)) => v6.octets().to_vec(),
        (None, IpAddr::V4(v4)) => v4.octets().to_vec(),
    };
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    f64::from(h)
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::VpcPrivate => "vpc-private",
        Scope::AlibabaService => "alibaba-service",
        Scope::Loopback => "loopback",
        Scope::LinkLocal => "link-local",
        _ => "public",
    }
}

const SECONDS: f64 = 1000.0;

/// One target's families. `timeout_s` is the invocation's budget (`probe_timeout_seconds`),
/// when known.
pub(crate) fn target_families(t: &TargetReport, timeout_s: Option<f64>) -> Vec<Family> {
    let none = Vec::new;
    let sample = described(t);
    let default = Sample::default();
    let s = sample.unwrap_or(&default);
    let p = &s.phases_ms;
    let answered = s.status.is_some();
    let remote: Option<IpAddr> = s
        .remote
        .as_deref()
        .and_then(|r| r.parse::<SocketAddr>().ok())
        .map(|a| a.ip());
    let duration: f64 = t.samples.iter().map(|s| s.phases_ms.total).sum();

    let mut out = vec![
        Family::gauge(
            "probe_success",
            "Displays whether or not the probe was a success",
        )
        .with(none(), f64::from(u8::from(t.ok))),
        Family::gauge(
            "probe_duration_seconds",
            "Returns how long the probe took to complete in seconds",
        )
        .with(none(), duration / SECONDS),
        Family::gauge(
            "probe_dns_lookup_time_seconds",
            "Returns the time taken for probe dns lookup in seconds",
        )
        .with(none(), p.dns / SECONDS),
        Family::gauge(
            "probe_ip_protocol",
            "Specifies whether probe ip protocol is IP4 or IP6",
        )
        .with(
            none(),
            match remote {
                Some(IpAddr::V4(_)) => 4.0,
                Some(IpAddr::V6(_)) => 6.0,
                None => 0.0,
            },
        ),
        Family::gauge(
            "probe_ip_addr_hash",
            "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
        )
        .with(none(), remote.map_or(0.0, ip_hash)),
        Family::gauge(
            "probe_http_duration_seconds",
            "Duration of http request by phase, summed over all redirects",
        )
        .with(vec![("phase", "resolve".into())], p.dns / SECONDS)
        .with(vec![("phase", "connect".into())], p.connect / SECONDS)
        .with(vec![("phase", "tls".into())], p.tls / SECONDS)
        .with(
            vec![("phase", "processing".into())],
            (p.send + p.ttfb) / SECONDS,
        )
        .with(vec![("phase", "transfer".into())], p.transfer / SECONDS),
        Family::gauge("probe_http_status_code", "Response HTTP status code")
            .with(none(), s.status.map_or(0.0, f64::from)),
        // Go's `resp.ContentLength`: -1 for a response without the header, 0 without one.
        Family::gauge(
            "probe_http_content_length",
            "Length of http content response",
        )
        .with(
            none(),
            match (answered, s.content_length) {
                (true, Some(n)) => n as f64,
                (true, None) => -1.0,
                (false, _) => 0.0,
            },
        ),
        Family::gauge(
            "probe_http_uncompressed_body_length",
            "Length of uncompressed response body",
        )
        .with(none(), s.bytes as f64),
        Family::gauge("probe_http_redirects", "The number of redirects").with(none(), 0.0),
        Family::gauge(
            "probe_http_ssl",
            "Indicates if SSL was used for the final redirect",
        )
        .with(
            none(),
            f64::from(u8::from(answered && t.url.starts_with("https://"))),
        ),
        Family::gauge(
            "probe_http_version",
            "Returns the version of HTTP of the probe response",
        )
        .with(
            none(),
            s.http_version
                .as_deref()
                .and_then(|v| v.trim_start_matches("HTTP/").parse::<f64>().ok())
                .unwrap_or(0.0),
        ),
    ];
    if let Some(timeout) = timeout_s {
        out.push(
            Family::gauge(
                "probe_timeout_seconds",
                "Returns how long the probe timeout is in seconds",
            )
            .with(none(), timeout),
        );
    }
    if let Some(facts) = sample.and_then(tls::facts) {
        out.extend(tls::families(&facts));
    }

    // Ours.
    if let Some(e) = &t.error {
        let phase = match sample {
            Some(s) => s.failed_phase.unwrap_or(FailedPhase::Setup),
            None => FailedPhase::Setup,
        };
        out.push(
            Family::info(
                "probe_failure",
                "Why the probe failed: its apigw-vpc-probe error class and the phase it stopped in (present only on failure)",
            )
            .with(
                vec![
                    ("class", failure_class(&e.class)),
                    ("phase", phase.name().into()),
                ],
                1.0,
            ),
        );
    }
    let mut phases = Family::gauge(
        "apigw_probe_phase_duration_seconds",
        "Duration of each phase of the described sample (dns, connect, tls, send, ttfb, transfer); they add up to its total",
    );
    for (name, ms) in p.named() {
        phases.push("", vec![("phase", name.into())], ms / SECONDS);
    }
    out.push(phases);
    if let Some(scope) = t.dns.as_ref().and_then(|d| d.scope) {
        out.push(
            Family::info(
                "apigw_probe_dns_scope",
                "Where the resolved addresses are: vpc-private, alibaba-service, loopback, link-local or public",
            )
            .with(vec![("scope", scope_name(scope).into())], 1.0),
        );
    }
    if let Some(code) = s.gateway.as_ref().and_then(|g| g.error_code.as_deref()) {
        let code = if is_gateway_code(code) { code } else { "other" };
        out.push(
            Family::info(
                "apigw_probe_gateway_error",
                "API Gateway's X-Ca-Error-Code on the described sample's answer (other for a code not shaped like one)",
            )
            .with(vec![("code", code.into())], 1.0),
        );
    }
    let taken = t.samples.len() + t.samples_omitted;
    let failed = t.samples.iter().filter(|s| !s.ok).count();
    out.push(
        Family::gauge("apigw_probe_samples", "Samples taken of the target")
            .with(none(), taken as f64),
    );
    out.push(
        Family::gauge(
            "apigw_probe_samples_failed",
            "Samples of the target that failed",
        )
        .with(none(), failed as f64),
    );
    if taken > 1 {
        if let Some(l) = &t.latency_ms {
            let answered: Vec<f64> = t
                .samples
                .iter()
                .filter(|s| s.status.is_some())
                .map(|s| s.phases_ms.total)
                .collect();
            let mut q = Family::summary(
                "apigw_probe_latency_seconds",
                "Total time of the samples that got a response: nearest-rank quantiles (0 is the fastest, 1 the slowest)",
            );
            for (quantile, ms) in [
                ("0", l.min),
                ("0.5", l.p50),
                ("0.9", l.p90),
                ("0.99", l.p99),
                ("1", l.max),
            ] {
                q.push("", vec![("quantile", quantile.into())], ms / SECONDS);
            }
            q.push("_sum", none(), answered.iter().sum::<f64>() / SECONDS);
            q.push("_count", none(), answered.len() as f64);
            out.push(q);
        }
    }
    out
}

/// Every target's families of `report`; with more than one target, each series carries the
/// target's name as `target`.
pub(crate) fn report_exposition(report: &Report) -> Exposition {
    let timeout = report.function.as_ref().map(|f| f.budget_ms / SECONDS);
    let several = report.targets.len() > 1;
    let mut out = Exposition::default();
    for t in &report.targets {
        let mut families = target_families(t, timeout);
        if several {
            for f in &mut families {
                for s in &mut f.series {
                    s.labels.insert(0, ("target", t.name.clone()));
                }
            }
        }
        out.extend(families);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ProbeError;
    use crate::metrics::encode::{encode, Format};
    use crate::report::{DnsReport, DnsSource, GatewayInfo, Latency, Phases, Trigger};
    use std::collections::BTreeMap;

    const FIXTURE: &str = include_str!("../../tests/fixtures/metrics/blackbox-families.json");

    fn phases(dns: f64, connect: f64, tls: f64, send: f64, ttfb: f64, transfer: f64) -> Phases {
        Phases {
            dns,
            connect,
            tls,
            send,
            ttfb,
            transfer,
            total: dns + connect + tls + send + ttfb + transfer,
        }
    }

    fn ok_sample(total_ms: f64) -> Sample {
        Sample {
            ok: true,
            remote: Some("10.0.3.7:443".into()),
            status: Some(200),
            bytes: 59,
            http_version: Some("HTTP/1.1".into()),
            content_length: Some(59),
            phases_ms: phases(1.0, 0.5, 2.0, 0.25, total_ms - 4.0, 0.25),
            gateway: Some(GatewayInfo {
                request_id: Some("D9249D89-787C-4147-921A-86730D8C3835".into()),
                ..GatewayInfo::default()
            }),
            ..Sample::default()
        }
    }

    fn target(samples: Vec<Sample>) -> TargetReport {
        let answered: Vec<f64> = samples
            .iter()
            .filter(|s| s.status.is_some())
            .map(|s| s.phases_ms.total)
            .collect();
        let error = samples.iter().find_map(|s| s.error.clone());
        TargetReport {
            name: "api".into(),
            url: "https://g-cn-shanghai-vpc.alicloudapi.com/web/cloudapi".into(),
            auth: Some("app".into()),
            config_check: None,
            addresses: Vec::new(),
            flaky: false,
            ok: error.is_none(),
            dns: Some(DnsReport {
                host: "g-cn-shanghai-vpc.alicloudapi.com".into(),
                addresses: vec!["10.0.3.7".into()],
                scope: Some(Scope::VpcPrivate),
                servers: vec!["100.100.2.136:53".into()],
                ms: 1.0,
                source: DnsSource::Resolver,
            }),
            samples,
            samples_omitted: 0,
            latency_ms: Latency::of(&answered),
            warnings: Vec::new(),
            error,
        }
    }

    fn values(families: &[Family]) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for f in families {
            for p in f.points() {
                let labels: Vec<String> =
                    p.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.insert(format!("{}{{{}}}", p.name, labels.join(",")), p.value);
            }
        }
        out
    }

    #[test]
    fn blackbox_families_have_its_names_types_help_and_label_values() {
        let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        let mut ok = target(vec![ok_sample(10.0)]);
        ok.samples[0].status = Some(200);
        let mut families = target_families(&ok, Some(29.5));
        families.extend(tls::families(&tls::TlsFacts {
            version: Some("TLS 1.3".into()),
            cipher: Some("TLS_AES_128_GCM_SHA256".into()),
            earliest_cert_expiry: Some(1.0),
            last_chain_expiry: Some(1.0),
            leaf: Some(tls::LeafInfo::default()),
        }));
        let mut checked = 0;
        for want in fixture["families"].as_array().unwrap() {
            let name = want["name"].as_str().unwrap();
            let f = families
                .iter()
                .find(|f| f.sample_name() == name)
                .unwrap_or_else(|| panic!("no family {name}"));
            assert_eq!(f.kind, crate::metrics::Kind::Gauge, "{name}");
            assert_eq!(want["type"], "gauge");
            assert_eq!(f.help, want["help"].as_str().unwrap(), "{name}");
            let labels: Vec<&str> = want["labels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            for s in &f.series {
                let names: Vec<&str> = s.labels.iter().map(|(k, _)| *k).collect();
                assert_eq!(names, labels, "{name}");
            }
            if let Some(allowed) = want.get("label_values") {
                for (label, values) in allowed.as_object().unwrap() {
                    let values: Vec<&str> = values
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    for s in &f.series {
                        let v = &s.labels.iter().find(|(k, _)| k == label).unwrap().1;
                        assert!(values.contains(&v.as_str()), "{name}{{{label}={v}}}");
                    }
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 18);
        // Every probe_* family is blackbox's, but probe_failure_info (ours, documented).
        let known: Vec<&str> = fixture["families"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        let mut failing = target(vec![ok_sample(10.0)]);
        failing.samples[0].error = Some(ProbeError::config("x"));
        failing.error = Some(ProbeError::config("x"));
        for f in target_families(&failing, None) {
            let name = f.sample_name();
            assert!(
                name.starts_with("apigw_probe_")
                    || name == "probe_failure_info"
                    || known.contains(&name.as_str()),
                "{name}"
            );
        }
    }

    #[test]
    fn a_healthy_target_maps_our_phases_onto_blackbox_s() {
        let t = target(vec![ok_sample(10.0)]);
        let v = values(&target_families(&t, Some(29.5)));
        let close = |k: &str, want: f64| {
            let got = v[k];
            assert!((got - want).abs() < 1e-12, "{k} = {got}, want {want}");
        };
        close("probe_success{}", 1.0);
        close("probe_duration_seconds{}", 0.010);
        close("probe_timeout_seconds{}", 29.5);
        close("probe_dns_lookup_time_seconds{}", 0.001);
        close("probe_http_duration_seconds{phase=resolve}", 0.001);
        close("probe_http_duration_seconds{phase=connect}", 0.0005);
        close("probe_http_duration_seconds{phase=tls}", 0.002);
        close("probe_http_duration_seconds{phase=processing}", 0.00625);
        close("probe_http_duration_seconds{phase=transfer}", 0.00025);
        close("apigw_probe_phase_duration_seconds{phase=send}", 0.00025);
        close("apigw_probe_phase_duration_seconds{phase=ttfb}", 0.006);
        close("probe_http_status_code{}", 200.0);
        close("probe_http_content_length{}", 59.0);
        close("probe_http_uncompressed_body_length{}", 59.0);
        close("probe_http_version{}", 1.1);
        close("probe_http_ssl{}", 1.0);
        close("probe_http_redirects{}", 0.0);
        close("probe_ip_protocol{}", 4.0);
        close("apigw_probe_dns_scope_info{scope=vpc-private}", 1.0);
        close("apigw_probe_samples{}", 1.0);
        close("apigw_probe_samples_failed{}", 0.0);
        assert!(
            !v.keys().any(|k| k.starts_with("probe_failure_info")),
            "{v:?}"
        );
        assert!(
            !v.keys().any(|k| k.starts_with("apigw_probe_latency")),
            "one sample"
        );
        assert!(!v.keys().any(|k| k.starts_with("apigw_probe_gateway_error")));
    }

    #[test]
    fn ip_hash_is_fnv32a_of_the_address_bytes_as_go_writes_them() {
        // FNV-1a 32 of the bytes 127 0 0 1, and of ::1's 16 bytes; a mapped address hashes
        // as its IPv4 address (Go's To4).
        assert_eq!(
            ip_hash("127.0.0.1".parse().unwrap()),
            f64::from(0xdaaf_40ed_u32)
        );
        assert_eq!(
            ip_hash("::ffff:127.0.0.1".parse().unwrap()),
            ip_hash("127.0.0.1".parse().unwrap())
        );
        assert_ne!(
            ip_hash("::1".parse().unwrap()),
            ip_hash("127.0.0.1".parse().unwrap())
        );
    }

    /// The samples of a text-format answer: `name{labels}` → value.
    fn parse_text(text: &str) -> BTreeMap<String, f64> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').unwrap();
                (k.to_owned(), v.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn the_answers_match_what_blackbox_exporter_answered_for_the_same_exchange() {
        let blackbox = parse_text(include_str!(
            "../../tests/fixtures/metrics/blackbox-0.23-probe.txt"
        ));
        // The same exchange as ours: HTTP/1.0, 372 bytes with Content-Length, from 127.0.0.1.
        let mut t = target(vec![Sample {
            remote: Some("127.0.0.1:18777".into()),
            http_version: Some("HTTP/1.0".into()),
            content_length: Some(372),
            bytes: 372,
            ..ok_sample(10.0)
        }]);
        t.url = "http://127.0.0.1:18777/".into();
        let ours = parse_text(&encode(&report_exposition(&report(vec![t])), Format::Text));
        for (key, value) in &blackbox {
            if key == "probe_failed_due_to_regex" {
                continue; // no regular expressions here
            }
            let mine = ours
                .get(key)
                .unwrap_or_else(|| panic!("{key} missing: {ours:?}"));
            let timing = key.contains("seconds");
            if !timing {
                assert_eq!(mine, value, "{key}");
            }
        }

        let blackbox = parse_text(include_str!(
            "../../tests/fixtures/metrics/blackbox-0.23-refused.txt"
        ));
        let mut refused = Sample {
            remote: Some("127.0.0.1:1".into()),
            phases_ms: phases(0.02, 0.3, 0.0, 0.0, 0.0, 0.0),
            failed_phase: Some(FailedPhase::Connect),
            ..Sample::default()
        };
        refused.error = Some(ProbeError {
            class: ErrorClass::TcpRefused,
            message: "m".into(),
            hint: "h".into(),
        });
        let mut t = target(vec![refused]);
        t.url = "http://127.0.0.1:1/".into();
        let ours = parse_text(&encode(&report_exposition(&report(vec![t])), Format::Text));
        for (key, value) in &blackbox {
            if key == "probe_failed_due_to_regex" || key.contains("seconds") {
                continue;
            }
            assert_eq!(ours.get(key), Some(value), "{key}");
        }
        assert_eq!(
            ours["probe_failure_info{class=\"tcp.refused\",phase=\"connect\"}"],
            1.0
        );
    }

    #[test]
    fn a_failing_target_says_its_class_and_phase_with_fixed_values_only() {
        // Three samples: the third timed out connecting.
        let mut timeout = Sample {
            phases_ms: phases(1.0, 3000.0, 0.0, 0.0, 0.0, 0.0),
            remote: Some("10.0.3.7:80".into()),
            failed_phase: Some(FailedPhase::Connect),
            ..Sample::default()
        };
        timeout.error = Some(ProbeError {
            class: ErrorClass::TcpTimeout,
            message: "connect to 10.0.3.7:80 timed out".into(),
            hint: "h".into(),
        });
        let t = target(vec![ok_sample(10.0), ok_sample(20.0), timeout]);
        let families = target_families(&t, None);
        let v = values(&families);
        assert_eq!(v["probe_success{}"], 0.0);
        assert_eq!(
            v["probe_failure_info{class=tcp.timeout,phase=connect}"],
            1.0
        );
        assert_eq!(
            v["probe_http_status_code{}"], 0.0,
            "the failing sample is described"
        );
        assert_eq!(v["probe_http_content_length{}"], 0.0);
        assert_eq!(v["probe_http_ssl{}"], 0.0);
        assert_eq!(v["apigw_probe_samples{}"], 3.0);
        assert_eq!(v["apigw_probe_samples_failed{}"], 1.0);
        assert!((v["probe_duration_seconds{}"] - 3.031).abs() < 1e-9);
        // Quantiles over the two samples that got a response.
        assert_eq!(v["apigw_probe_latency_seconds{quantile=0}"], 0.010);
        assert_eq!(v["apigw_probe_latency_seconds{quantile=1}"], 0.020);
        assert_eq!(v["apigw_probe_latency_seconds_count{}"], 2.0);
        assert!((v["apigw_probe_latency_seconds_sum{}"] - 0.030).abs() < 1e-12);
        // No address, message or request id anywhere.
        let text = encode(&report_exposition(&report(vec![t])), Format::Text);
        for leak in ["10.0.3.7", "timed out", "D9249D89", "alicloudapi"] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }

    #[test]
    fn gateway_codes_are_labels_only_when_shaped_like_one() {
        assert_eq!(
            failure_class(&ErrorClass::Gateway("I404NF".into())),
            "gateway.I404NF"
        );
        for forged in ["I404NFX", "i404nf", "X12345", "AAAAAA", "A40BCD", "404NF1"] {
            assert_eq!(
                failure_class(&ErrorClass::Gateway(forged.into())),
                "gateway.other",
                "{forged}"
            );
        }
        assert_eq!(failure_class(&ErrorClass::DnsNxdomain), "dns.nxdomain");

        let mut refused = Sample {
            status: Some(403),
            gateway: Some(GatewayInfo {
                request_id: Some("r".into()),
                error_code: Some("Z999ZZZZ".into()),
                error_message: Some("made up".into()),
            }),
            failed_phase: Some(FailedPhase::Answer),
            ..Sample::default()
        };
        refused.error = Some(ProbeError {
            class: ErrorClass::Gateway("Z999ZZZZ".into()),
            message: "m".into(),
            hint: "h".into(),
        });
        let v = values(&target_families(&target(vec![refused]), None));
        assert_eq!(
            v["probe_failure_info{class=gateway.other,phase=answer}"],
            1.0
        );
        assert_eq!(v["apigw_probe_gateway_error_info{code=other}"], 1.0);
        assert_eq!(
            v["probe_http_content_length{}"], -1.0,
            "a response without the header"
        );
    }

    fn report(targets: Vec<TargetReport>) -> Report {
        Report {
            schema: crate::report::SCHEMA,
            ok: targets.iter().all(|t| t.ok),
            trigger: Trigger::Http,
            request_id: "r".into(),
            started_at: "t".into(),
            duration_ms: 1.0,
            function: None,
            timer: None,
            targets,
            truncated: None,
            push: None,
        }
    }

    #[test]
    fn a_target_failed_before_any_sample_is_setup() {
        let t =
            TargetReport::failed_early("x".into(), "http://x/".into(), ProbeError::forbidden("no"));
        let v = values(&target_families(&t, None));
        assert_eq!(
            v["probe_failure_info{class=target.forbidden,phase=setup}"],
            1.0
        );
        assert_eq!(v["probe_success{}"], 0.0);
        assert_eq!(v["probe_http_duration_seconds{phase=resolve}"], 0.0);
    }

    #[test]
    fn several_targets_are_told_apart_by_a_target_label() {
        let mut b = target(vec![ok_sample(5.0)]);
        b.name = "b".into();
        let r = report(vec![target(vec![ok_sample(10.0)]), b]);
        let e = report_exposition(&r);
        let text = encode(&e, Format::Text);
        assert_eq!(text.matches("# TYPE probe_success gauge").count(), 1);
        assert!(text.contains("probe_success{target=\"api\"} 1\n"), "{text}");
        assert!(text.contains("probe_success{target=\"b\"} 1\n"), "{text}");
        assert!(text.contains("probe_http_duration_seconds{target=\"b\",phase=\"processing\"}"));
        // A single target: no target label.
        let text = encode(
            &report_exposition(&report(vec![target(vec![ok_sample(1.0)])])),
            Format::Text,
        );
        assert!(text.contains("\nprobe_success 1\n"), "{text}");
    }
}
