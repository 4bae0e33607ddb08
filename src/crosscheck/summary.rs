//! The cross-check in the command line's summary.

use std::fmt::Write as _;

use crate::report::{CheckStatus, ConfigCheck};

impl ConfigCheck {
    /// The check as lines of the terminal summary, indented under its target.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "     config check: {}  ({:.3} ms)",
            self.verdict, self.duration_ms
        );
        for (label, value) in [
            ("setting", &self.setting),
            ("expected", &self.expected),
            ("actual", &self.actual),
        ] {
            if let Some(v) = value {
                let _ = writeln!(out, "       {label:<9} {v}");
            }
        }
        let _ = writeln!(out, "       hint      {}", self.hint);
        for e in &self.evidence {
            let value = if e.value.is_empty() { "\"\"" } else { &e.value };
            let mut line = format!("       evidence  {} {} = {value}", e.call, e.field);
            if let Some(endpoint) = &e.endpoint {
                let _ = write!(line, "  ({endpoint}");
                if let Some(id) = &e.request_id {
                    let _ = write!(line, ", RequestId {id}");
                }
                line.push(')');
            }
            let _ = writeln!(out, "{line}");
        }
        let ran: Vec<String> = self
            .checks
            .iter()
            .filter(|c| c.status != CheckStatus::Skipped)
            .map(|c| {
                let status = serde_json::to_value(c.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                format!("{} {status}", c.id)
            })
            .collect();
        if !ran.is_empty() {
            let _ = writeln!(out, "       checks    {}", ran.join(", "));
        }
        for u in &self.unknown {
            let grant = u
                .action
                .as_deref()
                .map(|a| format!(" (grant {a})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "       unknown   {} {}{grant}: {}",
                u.step, u.reason, u.message
            );
        }
        out
    }
}
