//! Metrics as data: the series derived from a [`Report`](crate::report::Report) (and the
//! process's own counters), kept apart from how they are written, so that the `/probe` and
//! `/metrics` answers and a pusher (remote write, CloudMonitor) all start from the same
//! [`Family`] values.
//!
//! - [`probe`]: a report's families: blackbox_exporter's own (same names, types, HELP texts and
//!   label values) and ours under the `apigw_probe_` prefix, plus `probe_failure_info`.
//! - [`tls`]: the place for blackbox's TLS families, waiting for TLS facts in the report.
//! - [`process`]: the process's counters (`GET /metrics`).
//! - [`encode`]: the Prometheus text format 0.0.4 and OpenMetrics 1.0.0 writers.
//! - [`negotiate`]: which of JSON, text 0.0.4 or OpenMetrics an `Accept` header asks for.
//!
//! No exposition crate: `prometheus-client` appends "." to every HELP text, so blackbox's exact
//! texts cannot be produced with it, and its registry cannot be read back as data for a pusher
//! (Cargo.toml says more).

pub(crate) mod encode;
pub(crate) mod negotiate;
pub(crate) mod probe;
pub(crate) mod process;
pub(crate) mod tls;

/// A metric family's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A monotonic count; its samples are named `<family>_total`.
    Counter,
    /// Labels carrying facts, value 1; its samples are named `<family>_info`. OpenMetrics types
    /// it `info`; the text format 0.0.4, which has no such type, `gauge` (as blackbox does).
    Info,
    /// Precomputed quantiles (`quantile` label) with `_sum` and `_count` samples.
    Summary,
}

/// One sample of a family: a name suffix (`""`, `"_sum"`, `"_count"`), labels and a value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    /// Added to the family's sample name: `""`, or `_sum` / `_count` for a summary.
    pub suffix: &'static str,
    /// Label names and values, in the order they are written. Names come from this module
    /// (fixed); values from fixed sets, except a `target` label added for a report of several
    /// targets.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
}

/// A metric family: name, HELP text, type and its series.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Family {
    /// The family's name as OpenMetrics writes it in `# TYPE`: without `_total` for a counter
    /// and without `_info` for an info family ([`Family::sample_name`] adds them).
    pub name: &'static str,
    /// The HELP text, unescaped.
    pub help: &'static str,
    /// The type.
    pub kind: Kind,
    /// The samples.
    pub series: Vec<Series>,
}

/// A labelled value as a pusher sends it: the full sample name, its labels and the value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Point<'a> {
    /// The sample's name (`probe_success`, `apigw_probe_invocations_total`, `…_sum`).
    pub name: String,
    /// Its labels.
    pub labels: &'a [(&'static str, String)],
    /// Its value.
    pub value: f64,
}

impl Family {
    fn new(kind: Kind, name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            kind,
            series: Vec::new(),
        }
    }

    /// A gauge family without series yet.
    pub(crate) fn gauge(name: &'static str, help: &'static str) -> Self {
        Self::new(Kind::Gauge, name, help)
    }

    /// A counter family named without its `_total` suffix.
    pub(crate) fn counter(name: &'static str, help: &'static str) -> Self {
        debug_assert!(!name.ends_with("_total"), "{name}: named without _total");
        Self::new(Kind::Counter, name, help)
    }

    /// An info family named without its `_info` suffix.
    pub(crate) fn info(name: &'static str, help: &'static str) -> Self {
        debug_assert!(!name.ends_with("_info"), "{name}: named without _info");
        Self::new(Kind::Info, name, help)
    }

    /// A summary family.
    pub(crate) fn summary(name: &'static str, help: &'static str) -> Self {
        Self::new(Kind::Summary, name, help)
    }

    /// Adds a series without a suffix.
    pub(crate) fn with(mut self, labels: Vec<(&'static str, String)>, value: f64) -> Self {
        self.push("", labels, value);
        self
    }

    /// Adds a series.
    pub(crate) fn push(
        &mut self,
        suffix: &'static str,
        labels: Vec<(&'static str, String)>,
        value: f64,
    ) {
        self.series.push(Series {
            suffix,
            labels,
            value,
        });
    }

    /// The name its samples carry (before a summary's `_sum`/`_count`): `<name>_total` for a
    /// counter, `<name>_info` for an info family, else the name. The text format 0.0.4 uses it
    /// in `# HELP` and `# TYPE` too, as client_golang does.
    pub(crate) fn sample_name(&self) -> String {
        match self.kind {
            Kind::Counter => format!("{}_total", self.name),
            Kind::Info => format!("{}_info", self.name),
            Kind::Gauge | Kind::Summary => self.name.to_owned(),
        }
    }

    /// Every sample as a pusher sends it.
    pub(crate) fn points(&self) -> impl Iterator<Item = Point<'_>> {
        let base = self.sample_name();
        self.series.iter().map(move |s| Point {
            name: format!("{base}{}", s.suffix),
            labels: &s.labels,
            value: s.value,
        })
    }
}

/// Families merged by name, so that each is written once with all its series: what one answer
/// (or one push) holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Exposition {
    families: Vec<Family>,
}

impl Exposition {
    /// Adds `family`, appending its series to a family of the same name already there.
    pub(crate) fn push(&mut self, family: Family) {
        match self.families.iter_mut().find(|f| f.name == family.name) {
            Some(f) => f.series.extend(family.series),
            None => self.families.push(family),
        }
    }

    /// Adds every family of `families`.
    pub(crate) fn extend(&mut self, families: impl IntoIterator<Item = Family>) {
        for f in families {
            self.push(f);
        }
    }

    /// The families with at least one series, sorted by the name they are written under (as
    /// client_golang's `Gather` sorts them; blackbox's answers come out in this order).
    pub(crate) fn families(&self) -> Vec<&Family> {
        let mut out: Vec<&Family> = self
            .families
            .iter()
            .filter(|f| !f.series.is_empty())
            .collect();
        out.sort_by_key(|f| f.sample_name());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_names_follow_the_type() {
        assert_eq!(Family::gauge("a_seconds", "h").sample_name(), "a_seconds");
        assert_eq!(Family::counter("a", "h").sample_name(), "a_total");
        assert_eq!(Family::info("a", "h").sample_name(), "a_info");
        let mut s = Family::summary("lat", "h");
        s.push("", vec![("quantile", "0.5".into())], 1.0);
        s.push("_count", Vec::new(), 3.0);
        let names: Vec<String> = s.points().map(|p| p.name).collect();
        assert_eq!(names, ["lat", "lat_count"]);
    }

    #[test]
    fn an_exposition_merges_families_by_name_and_sorts_them() {
        let mut e = Exposition::default();
        e.push(Family::gauge("z", "h").with(vec![("target", "a".into())], 1.0));
        e.push(Family::counter("b", "h"));
        e.push(Family::gauge("c_total_like", "h").with(Vec::new(), 0.0));
        e.push(Family::gauge("z", "h").with(vec![("target", "b".into())], 2.0));
        let families = e.families();
        let names: Vec<&str> = families.iter().map(|f| f.name).collect();
        assert_eq!(names, ["c_total_like", "z"], "empty families are left out");
        assert_eq!(families[1].series.len(), 2);
    }
}
