//! Error injection per action, so tests can stage throttling, outages and a slow or silent
//! control plane: fail always or N times with a code, answer late, never answer, or close the
//! connection without an answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::errors::ApiError;

/// What an injected fault does to a request that passed the signature check.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Answer normally (after the fault's delay).
    Answer,
    /// Answer with this error.
    Error(ApiError),
    /// Never answer: the connection stays open until the client gives up.
    Hang,
    /// Close the connection without an answer.
    Close,
}

/// A fault for one action (or `*`: every action).
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub outcome: Outcome,
    /// Wait this long first.
    pub delay: Duration,
    /// Apply to this many requests, then stop (None: every request).
    pub times: Option<u32>,
}

impl Fault {
    /// Answer with `code`, its documented status and message (e.g. `Throttling.User`, which
    /// carries `x-acs-retry-after`; `ServiceUnavailable` is 503).
    pub fn error(code: &str) -> Self {
        Self::from_error(ApiError::known(code))
    }

    /// Answer with this exact error.
    pub fn from_error(e: ApiError) -> Self {
        Self {
            outcome: Outcome::Error(e),
            delay: Duration::ZERO,
            times: None,
        }
    }

    /// Answer normally, `d` late.
    pub fn delay(d: Duration) -> Self {
        Self {
            outcome: Outcome::Answer,
            delay: d,
            times: None,
        }
    }

    /// Never answer.
    pub fn hang() -> Self {
        Self {
            outcome: Outcome::Hang,
            delay: Duration::ZERO,
            times: None,
        }
    }

    /// Close the connection without answering.
    pub fn close() -> Self {
        Self {
            outcome: Outcome::Close,
            delay: Duration::ZERO,
            times: None,
        }
    }

    /// Only the next `n` requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Wait `d` before the outcome.
    pub fn after(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }

    /// From the admin endpoint's JSON: `{"error": "Throttling.User", "status": 429,
    /// "message": "…", "retryAfterMs": 2000}` or `{"delayMs": 500}` or `{"hang": true}` or
    /// `{"close": true}`, each optionally with `"delayMs"` and `"times"`.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let ms = |k: &str| v.get(k).and_then(Value::as_u64);
        let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let mut f = if let Some(code) = v.get("error").and_then(Value::as_str) {
            let mut e = ApiError::known(code);
            if let Some(s) = v.get("status").and_then(Value::as_u64) {
                e.status = u16::try_from(s)
                    .ok()
                    .filter(|s| (400..600).contains(s))
                    .ok_or("status must be 400 to 599")?;
            }
            if let Some(m) = v.get("message").and_then(Value::as_str) {
                e.message = m.to_owned();
            }
            if let Some(r) = ms("retryAfterMs") {
                e.retry_after_ms = Some(r);
            }
            Self::from_error(e)
        } else if flag("hang") {
            Self::hang()
        } else if flag("close") {
            Self::close()
        } else if ms("delayMs").is_some() {
            Self::delay(Duration::ZERO)
        } else {
            return Err("a fault needs one of error, hang, close or delayMs".into());
        };
        if let Some(d) = ms("delayMs") {
            f.delay = Duration::from_millis(d);
        }
        if let Some(t) = v.get("times") {
            f.times = Some(
                t.as_u64()
                    .and_then(|t| u32::try_from(t).ok())
                    .ok_or("times must be a non-negative integer")?,
            );
        }
        Ok(f)
    }
}

/// The faults in force, by action name (`*` for every action).
#[derive(Debug, Default)]
pub struct Faults(Mutex<HashMap<String, Fault>>);

impl Faults {
    pub fn set(&self, action: &str, fault: Fault) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(action.to_owned(), fault);
        }
    }

    pub fn clear(&self, action: Option<&str>) {
        if let Ok(mut m) = self.0.lock() {
            match action {
                Some(a) => {
                    m.remove(a);
                }
                None => m.clear(),
            }
        }
    }

    /// The fault for `action` (its own before `*`), counted as used once.
    pub fn take(&self, action: &str) -> Option<Fault> {
        let mut m = self.0.lock().ok()?;
        let key = if m.contains_key(action) { action } else { "*" };
        let f = m.get_mut(key)?;
        let fault = f.clone();
        if let Some(n) = f.times.as_mut() {
            if *n == 0 {
                m.remove(key);
                return None;
            }
            *n -= 1;
            if *n == 0 {
                m.remove(key);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn n_times_then_normal() {
        let f = Faults::default();
        f.set(
            "DescribeInstances",
            Fault::error("Throttling.User").times(2),
        );
        assert!(f.take("DescribeInstances").is_some());
        assert!(f.take("DescribeInstances").is_some());
        assert!(f.take("DescribeInstances").is_none());
        f.set("*", Fault::error("ServiceUnavailable"));
        assert!(f.take("GetFunction").is_some());
        assert!(f.take("GetFunction").is_some());
        f.clear(None);
        assert!(f.take("GetFunction").is_none());
    }

    #[test]
    fn json_form() {
        let f =
            Fault::from_json(&json!({"error": "Throttling.User", "retryAfterMs": 250, "times": 1}))
                .unwrap();
        let Outcome::Error(e) = &f.outcome else {
            panic!()
        };
        assert_eq!(
            (e.status, e.retry_after_ms, f.times),
            (400, Some(250), Some(1))
        );
        let d = Fault::from_json(&json!({"delayMs": 300})).unwrap();
        assert_eq!(
            (d.outcome.clone(), d.delay),
            (Outcome::Answer, Duration::from_millis(300))
        );
        assert_eq!(
            Fault::from_json(&json!({"hang": true})).unwrap().outcome,
            Outcome::Hang
        );
        assert!(Fault::from_json(&json!({})).is_err());
        assert!(Fault::from_json(&json!({"error": "X", "status": 200})).is_err());
    }
}
