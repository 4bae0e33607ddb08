//! Which answer an `Accept` header asks for: the JSON report, the text format 0.0.4 or
//! OpenMetrics (prometheus/docs `content_negotiation.md`).
//!
//! Prometheus sends a list with q-values, e.g. 2.42's
//! `application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`;
//! curl sends `*/*` and a browser `text/html,…,*/*;q=0.8`, and both keep getting JSON. Metrics
//! are chosen when a metrics type is named (not only matched by a wildcard) with a q-value
//! above 0 and at least that of JSON; OpenMetrics when its q-value beats the text format's,
//! else the text format 0.0.4, the last resort the negotiation spec prescribes.

use super::encode::Format;

/// What to answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The JSON report.
    Json,
    /// Metrics in this format.
    Metrics(Format),
}

/// The answer to a request with this `Accept` header. `metrics` is true when the request asked
/// for metrics otherwise (`module` on `/probe`, or the `/metrics` route): then only the format
/// is chosen.
pub(crate) fn choose(accept: Option<&str>, metrics: bool) -> Answer {
    let (mut text, mut openmetrics, mut json) = (0.0_f32, 0.0_f32, 0.0_f32);
    for range in accept.unwrap_or("").split(',') {
        let Some(r) = MediaRange::parse(range) else {
            continue;
        };
        match r.kind() {
            Some(Kind::Text) => text = text.max(r.q),
            Some(Kind::OpenMetrics) => openmetrics = openmetrics.max(r.q),
            Some(Kind::Json) => json = json.max(r.q),
            None => {}
        }
    }
    let best = text.max(openmetrics);
    if !metrics && (best <= 0.0 || best < json) {
        return Answer::Json;
    }
    if openmetrics > 0.0 && openmetrics > text {
        Answer::Metrics(Format::OpenMetrics)
    } else {
        Answer::Metrics(Format::Text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    OpenMetrics,
    Json,
}

/// One entry of an `Accept` header.
#[derive(Debug)]
struct MediaRange {
    /// `type/subtype`, ASCII lowercase.
    media: String,
    /// The `version` parameter, if any.
    version: Option<String>,
    /// The q-value (1 when absent).
    q: f32,
}

impl MediaRange {
    /// `None` for an empty entry or a q-value that is not one (such an entry counts for
    /// nothing rather than for everything).
    fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split(';');
        let media = parts.next()?.trim().to_ascii_lowercase();
        if media.is_empty() {
            return None;
        }
        let (mut version, mut q) = (None, 1.0);
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "q" => {
                    q = value
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))?;
                }
                "version" => version = Some(value.to_owned()),
                _ => {}
            }
        }
        Some(Self { media, version, q })
    }

    /// What the entry names: a metrics format only by its own type and a version we write
    /// (the text format 1.0.0 only differs in allowing UTF-8 names, which ours never need);
    /// JSON also by wildcards.
    fn kind(&self) -> Option<Kind> {
        let version = self.version.as_deref();
        match self.media.as_str() {
            "text/plain" if matches!(version, None | Some("0.0.4" | "1.0.0")) => Some(Kind::Text),
            "application/openmetrics-text" if matches!(version, None | Some("0.0.1" | "1.0.0")) => {
                Some(Kind::OpenMetrics)
            }
            "application/json" | "application/*" | "*/*" => Some(Kind::Json),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMETHEUS_2: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    const PROMETHEUS_3: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
    const PROMETHEUS_TEXT_ONLY: &str = "text/plain;version=0.0.4;q=0.2,*/*;q=0.1";

    #[test]
    fn prometheus_gets_metrics_and_everyone_else_json() {
        let om = Answer::Metrics(Format::OpenMetrics);
        let text = Answer::Metrics(Format::Text);
        assert_eq!(choose(Some(PROMETHEUS_2), false), om);
        assert_eq!(choose(Some(PROMETHEUS_3), false), om);
        assert_eq!(choose(Some(PROMETHEUS_TEXT_ONLY), false), text);
        assert_eq!(choose(Some("text/plain"), false), text);
        assert_eq!(choose(Some("application/openmetrics-text"), false), om);
        for accept in [
            None,
            Some(""),
            Some("*/*"),
            Some("application/json"),
            Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Some("application/json, text/plain;q=0.5"),
            Some("text/plain;q=0"),
            Some("text/plain;version=9.9.9"),
            Some("application/openmetrics-text;version=2.0.0"),
        ] {
            assert_eq!(choose(accept, false), Answer::Json, "{accept:?}");
        }
    }

    #[test]
    fn q_values_decide_between_the_formats() {
        let om = Answer::Metrics(Format::OpenMetrics);
        let text = Answer::Metrics(Format::Text);
        assert_eq!(
            choose(
                Some("text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.8"),
                false
            ),
            text
        );
        assert_eq!(
            choose(
                Some("text/plain; q=0.3, application/openmetrics-text; version=\"1.0.0\"; Q=0.31"),
                false
            ),
            om
        );
        // A tie goes to the text format, as does a q-value that is not one.
        assert_eq!(
            choose(Some("application/openmetrics-text, text/plain"), false),
            text
        );
        assert_eq!(
            choose(
                Some("application/openmetrics-text;q=2, text/plain;q=0.1"),
                false
            ),
            text
        );
        // OpenMetrics refused outright.
        assert_eq!(
            choose(
                Some("application/openmetrics-text;q=0, text/plain;q=0.1"),
                false
            ),
            text
        );
    }

    #[test]
    fn asked_for_metrics_the_text_format_is_the_last_resort() {
        let text = Answer::Metrics(Format::Text);
        for accept in [
            None,
            Some("*/*"),
            Some("application/json"),
            Some("text/plain;q=0"),
        ] {
            assert_eq!(choose(accept, true), text, "{accept:?}");
        }
        assert_eq!(
            choose(Some(PROMETHEUS_2), true),
            Answer::Metrics(Format::OpenMetrics)
        );
    }
}
