//! The two text formats Prometheus scrapes: the classic text format 0.0.4 (prometheus/docs
//! `exposition_formats.md`) and OpenMetrics 1.0.0 (`open_metrics_spec.md`).
//!
//! Both: one `# HELP` and one `# TYPE` per family, then its samples; label values escape `\`,
//! `"` and a newline; `NaN`, `+Inf`, `-Inf` for the special values; no timestamps (the scrape's
//! time is the sample's). They differ in the names in `# TYPE` (OpenMetrics names the family,
//! without a counter's `_total` or an info's `_info`), in the `info` type, in HELP escaping
//! (OpenMetrics escapes `"` too) and in the end: OpenMetrics MUST end with `# EOF`.

use std::fmt::Write as _;

use super::{Exposition, Family, Kind};

/// An exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Prometheus text format 0.0.4: what blackbox_exporter answers.
    Text,
    /// OpenMetrics text 1.0.0.
    OpenMetrics,
}

/// The text format's content type, exactly (Prometheus 3 refuses a scrape without a valid one).
pub(crate) const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// OpenMetrics' content type, exactly as its spec writes it.
pub(crate) const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Format {
    /// The `Content-Type` of an answer in this format.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Text => TEXT_CONTENT_TYPE,
            Self::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }
}

/// Writes `exposition` in `format`.
pub(crate) fn encode(exposition: &Exposition, format: Format) -> String {
    let mut out = String::with_capacity(4096);
    for family in exposition.families() {
        family_into(&mut out, family, format);
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

fn family_into(out: &mut String, f: &Family, format: Format) {
    let sample_name = f.sample_name();
    match format {
        Format::Text => {
            let kind = match f.kind {
                Kind::Gauge | Kind::Info => "gauge",
                Kind::Counter => "counter",
                Kind::Summary => "summary",
            };
            let _ = writeln!(out, "# HELP {sample_name} {}", escape_help(f.help, false));
            let _ = writeln!(out, "# TYPE {sample_name} {kind}");
        }
        Format::OpenMetrics => {
            let kind = match f.kind {
                Kind::Gauge => "gauge",
                Kind::Info => "info",
                Kind::Counter => "counter",
                Kind::Summary => "summary",
            };
            let _ = writeln!(out, "# TYPE {} {kind}", f.name);
            let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help, true));
        }
    }
    for p in f.points() {
        out.push_str(&p.name);
        if !p.labels.is_empty() {
            out.push('{');
            for (i, (name, value)) in p.labels.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{name}=\"{}\"", escape_label_value(value));
            }
            out.push('}');
        }
        out.push(' ');
        out.push_str(&number(p.value));
        out.push('\n');
    }
}

/// A label value in double quotes: `\` → `\\`, `"` → `\"`, a newline → `\n` (both formats).
fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A HELP text: `\` → `\\` and a newline → `\n`; OpenMetrics also `"` → `\"`.
fn escape_help(v: &str, openmetrics: bool) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if openmetrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// A value as both formats read it: the shortest decimal that reads back to the same `f64`
/// (`0.00123`, `200`, `-1`), `NaN`, `+Inf` or `-Inf`.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposition() -> Exposition {
        let mut e = Exposition::default();
        e.push(
            Family::gauge("probe_http_duration_seconds", "Duration by phase")
                .with(vec![("phase", "connect".into())], 0.00044)
                .with(vec![("phase", "tls".into())], 0.0),
        );
        e.push(
            Family::info("probe_failure", "Why \"it\" failed\\ once\nper probe")
                .with(vec![("class", "a\\b\"c\nd".into())], 1.0),
        );
        let mut c = Family::counter("apigw_probe_invocations", "Invocations");
        c.push("", vec![("trigger", "http".into())], 3.0);
        e.push(c);
        let mut s = Family::summary("apigw_probe_latency_seconds", "Latency");
        s.push("", vec![("quantile", "0.5".into())], 0.002);
        s.push("_sum", Vec::new(), 0.01);
        s.push("_count", Vec::new(), 5.0);
        e.push(s);
        e.push(Family::gauge("probe_success", "Success").with(Vec::new(), 1.0));
        e
    }

    #[test]
    fn text_format_writes_help_and_type_once_per_family() {
        let text = encode(&exposition(), Format::Text);
        assert_eq!(
            text,
            "# HELP apigw_probe_invocations_total Invocations\n\
             # TYPE apigw_probe_invocations_total counter\n\
             apigw_probe_invocations_total{trigger=\"http\"} 3\n\
             # HELP apigw_probe_latency_seconds Latency\n\
             # TYPE apigw_probe_latency_seconds summary\n\
             apigw_probe_latency_seconds{quantile=\"0.5\"} 0.002\n\
             apigw_probe_latency_seconds_sum 0.01\n\
             apigw_probe_latency_seconds_count 5\n\
             # HELP probe_failure_info Why \"it\" failed\\\\ once\\nper probe\n\
             # TYPE probe_failure_info gauge\n\
             probe_failure_info{class=\"a\\\\b\\\"c\\nd\"} 1\n\
             # HELP probe_http_duration_seconds Duration by phase\n\
             # TYPE probe_http_duration_seconds gauge\n\
             probe_http_duration_seconds{phase=\"connect\"} 0.00044\n\
             probe_http_duration_seconds{phase=\"tls\"} 0\n\
             # HELP probe_success Success\n\
             # TYPE probe_success gauge\n\
             probe_success 1\n"
        );
        for name in [
            "apigw_probe_invocations_total",
            "probe_failure_info",
            "probe_success",
        ] {
            assert_eq!(
                text.matches(&format!("# HELP {name} ")).count(),
                1,
                "{name}"
            );
            assert_eq!(
                text.matches(&format!("# TYPE {name} ")).count(),
                1,
                "{name}"
            );
        }
        assert!(!text.contains("# EOF"));
    }

    #[test]
    fn openmetrics_names_families_types_info_and_ends_with_eof() {
        let text = encode(&exposition(), Format::OpenMetrics);
        assert!(text.ends_with("\n# EOF\n"), "{text}");
        assert_eq!(text.matches("# EOF").count(), 1);
        assert!(text.contains(
            "# TYPE apigw_probe_invocations counter\n\
             # HELP apigw_probe_invocations Invocations\n\
             apigw_probe_invocations_total{trigger=\"http\"} 3\n"
        ));
        assert!(text.contains(
            "# TYPE probe_failure info\n\
             # HELP probe_failure Why \\\"it\\\" failed\\\\ once\\nper probe\n\
             probe_failure_info{class=\"a\\\\b\\\"c\\nd\"} 1\n"
        ));
        assert!(text.contains("# TYPE apigw_probe_latency_seconds summary\n"));
        // Nothing else starts with `#` (OpenMetrics allows no comments).
        for line in text.lines().filter(|l| l.starts_with('#')) {
            assert!(
                line.starts_with("# TYPE ") || line.starts_with("# HELP ") || line == "# EOF",
                "{line}"
            );
        }
    }

    #[test]
    fn an_empty_exposition_is_empty_text_or_just_eof() {
        assert_eq!(encode(&Exposition::default(), Format::Text), "");
        assert_eq!(
            encode(&Exposition::default(), Format::OpenMetrics),
            "# EOF\n"
        );
    }

    #[test]
    fn numbers_read_back_and_name_the_special_values() {
        assert_eq!(number(200.0), "200");
        assert_eq!(number(-1.0), "-1");
        assert_eq!(number(0.001234), "0.001234");
        assert_eq!(number(1e-7), "0.0000001");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        for v in [0.1 + 0.2, 1.0 / 3.0, 3.0e9, 4_294_967_295.0] {
            assert_eq!(number(v).parse::<f64>().unwrap(), v);
        }
    }

    #[test]
    fn content_types_are_exact() {
        assert_eq!(
            Format::Text.content_type(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(
            Format::OpenMetrics.content_type(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
    }
}
