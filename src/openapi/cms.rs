//! CloudMonitor (CMS 2019-01-01, RPC): `PutCustomMetric`, custom metrics reported by the
//! function (issue 12's pushed metrics). Spec: observability.md §3.2; the parameter docs of
//! Alibaba's official SDK (`alibabacloud_cms20190101`, `PutCustomMetricRequestMetricList`).
//!
//! The rules a [`MetricEntry`] is checked against before it is sent ([`MetricEntry::check`]),
//! so that a broken one is refused here with a message rather than changed by CloudMonitor:
//! - 1 to [`MAX_ENTRIES_PER_CALL`] entries per call (the API page: "Valid values of N: 1 to
//!   21"; the user guide's "100 entries per report" is the larger, not the binding, limit);
//! - `MetricName`: letters, digits and `_`, starting with a letter (CloudMonitor replaces
//!   other characters with `_` and a leading non-letter with `A`);
//! - `Dimensions`: a JSON object of strings; each key and value 1 to 64 bytes (CloudMonitor
//!   truncates longer ones, which could merge two targets' series) without `=`, `&` or `,`
//!   (CloudMonitor replaces them with `_`); the SDK's text narrows values to letters, digits,
//!   `.`, `-`, `_`, `/` and `\`, which is what is accepted here;
//! - `Values`: `{"value": <number>}` for raw data (`Type` 0, the only type sent here), a
//!   finite number;
//! - `Time`: milliseconds since the epoch; `GroupId`: the application group, 0 for none.

use std::time::Instant;

use super::client::{Answer, Client};
use super::endpoint::Product;
use super::error::{ErrorKind, OpenApiError};
use super::json::json_model;

/// Most `MetricList` entries in one `PutCustomMetric` call.
pub const MAX_ENTRIES_PER_CALL: usize = 21;

/// Longest metric name, dimension key or value, in bytes.
pub const MAX_NAME_BYTES: usize = 64;

/// One `MetricList.N` entry of raw data (`Type` 0).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricEntry {
    /// `GroupId`: the application group, 0 for none.
    pub group_id: u64,
    /// `MetricName`.
    pub metric_name: String,
    /// `Dimensions`, in the order written (the SDK: "must be passed in order").
    pub dimensions: Vec<(String, String)>,
    /// `Values`: `{"value": …}`.
    pub value: f64,
    /// `Time`: milliseconds since the epoch.
    pub time_ms: u64,
}

fn metric_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A dimension key or value as the SDK documents them: 1–64 bytes of letters, digits, `.`,
/// `-`, `_`, `/` and `\`.
pub fn dimension_ok(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_NAME_BYTES
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'\\'))
}

impl MetricEntry {
    /// Checks the documented rules (module doc); the error says which one, about what.
    pub fn check(&self) -> Result<(), String> {
        if !metric_name_ok(&self.metric_name) || self.metric_name.len() > MAX_NAME_BYTES {
            return Err(format!(
                "the metric name {:?} is not 1-64 letters, digits and _ starting with a letter",
                self.metric_name
            ));
        }
        if self.dimensions.is_empty() {
            return Err(format!("{} has no dimension", self.metric_name));
        }
        for (k, v) in &self.dimensions {
            for text in [k, v] {
                if !dimension_ok(text) {
                    return Err(format!(
                        "the dimension {k}={:?} of {} is not 1-64 bytes of letters, digits, \
                         '.', '-', '_', '/' and '\\' (CloudMonitor would replace = & , with _ \
                         and cut it at 64 bytes)",
                        v.chars().take(80).collect::<String>(),
                        self.metric_name
                    ));
                }
            }
        }
        if !self.value.is_finite() {
            return Err(format!("{} has no finite value", self.metric_name));
        }
        Ok(())
    }

    /// `MetricList.{n}.*` parameters.
    fn params(&self, n: usize, out: &mut Vec<(String, String)>) {
        let dimensions: serde_json::Map<String, serde_json::Value> = self
            .dimensions
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let value = serde_json::json!({ "value": self.value });
        for (field, text) in [
            ("MetricName", self.metric_name.clone()),
            ("GroupId", self.group_id.to_string()),
            (
                "Dimensions",
                serde_json::Value::Object(dimensions).to_string(),
            ),
            ("Values", value.to_string()),
            ("Time", self.time_ms.to_string()),
            ("Type", "0".to_owned()),
        ] {
            out.push((format!("MetricList.{n}.{field}"), text));
        }
    }
}

json_model! {
    /// `PutCustomMetric`'s answer: `Code` is `"200"` on success.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct PutCustomMetricAnswer {
        /// `Code`: `"200"` on success.
        #[json("Code")]
        pub code: Option<String>,
        /// `Message`.
        #[json("Message")]
        pub message: Option<String>,
    }
}

impl Client {
    /// `cms:PutCustomMetric` at the function's region: 1 to [`MAX_ENTRIES_PER_CALL`] entries,
    /// each checked first (a broken one fails the call here, kind `other`, nothing sent). An
    /// answer whose `Code` is not `"200"` is an error too (CloudMonitor's 2019-01-01 answers
    /// carry the outcome in the body).
    pub async fn put_custom_metric(
        &self,
        region: &str,
        entries: &[MetricEntry],
        deadline: Instant,
    ) -> Result<Answer<PutCustomMetricAnswer>, OpenApiError> {
        const ACTION: &str = "cms:PutCustomMetric";
        if entries.is_empty() || entries.len() > MAX_ENTRIES_PER_CALL {
            return Err(OpenApiError::new(
                ErrorKind::Other,
                ACTION,
                format!(
                    "{} entries: a call takes 1 to {MAX_ENTRIES_PER_CALL}",
                    entries.len()
                ),
            ));
        }
        let mut params = Vec::with_capacity(entries.len() * 6);
        for (i, e) in entries.iter().enumerate() {
            e.check()
                .map_err(|m| OpenApiError::new(ErrorKind::Other, ACTION, m))?;
            e.params(i + 1, &mut params);
        }
        let answer: Answer<PutCustomMetricAnswer> = self
            .rpc(Product::Cms, region, "PutCustomMetric", params, deadline)
            .await?;
        match answer.value.code.as_deref() {
            None | Some("200") => Ok(answer),
            Some(code) => {
                let mut e = OpenApiError::new(
                    super::error::classify(Some(code), 400),
                    ACTION,
                    answer
                        .value
                        .message
                        .clone()
                        .unwrap_or_else(|| format!("Code {code}")),
                );
                e.code = Some(code.to_owned());
                e.request_id = answer.request_id.clone();
                e.endpoint = Some(answer.endpoint.clone());
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> MetricEntry {
        MetricEntry {
            group_id: 0,
            metric_name: "apigw_probe_success".into(),
            dimensions: vec![("target".into(), "cloudapi".into())],
            value: 1.0,
            time_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn the_documented_rules() {
        assert!(entry().check().is_ok());
        let with = |f: &dyn Fn(&mut MetricEntry)| {
            let mut e = entry();
            f(&mut e);
            e.check()
        };
        assert!(with(&|e| e.metric_name = "1probe".into()).is_err());
        assert!(with(&|e| e.metric_name = "probe-ok".into()).is_err());
        assert!(with(&|e| e.metric_name = "a".repeat(65)).is_err());
        for bad in ["a=b", "a&b", "a,b", "", "a b", "é"] {
            let err = with(&|e| e.dimensions[0].1 = bad.into()).unwrap_err();
            assert!(err.contains("dimension target"), "{err}");
        }
        assert!(with(&|e| e.dimensions[0].1 = "x".repeat(65)).is_err());
        assert!(with(&|e| e.dimensions[0].1 = "x".repeat(64)).is_ok());
        assert!(with(&|e| e.dimensions[0].1 = "g.cn-sh/web\\x_1".into()).is_ok());
        assert!(with(&|e| e.dimensions[0].0 = "a=b".into()).is_err());
        assert!(with(&|e| e.dimensions.clear()).is_err());
        assert!(with(&|e| e.value = f64::NAN).is_err());
    }

    #[test]
    fn parameters_as_the_sdk_writes_them() {
        let mut e = entry();
        e.dimensions.push(("class".into(), "tcp.timeout".into()));
        let mut p = Vec::new();
        e.params(2, &mut p);
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("MetricList.2.MetricName"), Some("apigw_probe_success"));
        assert_eq!(get("MetricList.2.GroupId"), Some("0"));
        assert_eq!(
            get("MetricList.2.Dimensions"),
            Some(r#"{"target":"cloudapi","class":"tcp.timeout"}"#),
            "in order"
        );
        assert_eq!(get("MetricList.2.Values"), Some(r#"{"value":1.0}"#));
        assert_eq!(get("MetricList.2.Time"), Some("1700000000000"));
        assert_eq!(get("MetricList.2.Type"), Some("0"));
    }
}
