//! The configuration cross-check (issue 11): when a target fails, ask Alibaba Cloud's OpenAPI,
//! with the function's own role, for the settings the failure depends on, and name the one that
//! is wrong with both values and the answers that show it (`config_check` in the report).
//!
//! Spec: `control-plane.md` §10 (the procedure; its steps S0–S7 are the ids of the report's
//! `checks`), §3–6 (the actions and fields), §7 (the RAM policy: `deploy/ram-policy.json`), §12
//! (what is unverified). The calls are the [`crate::openapi`] client's.
//!
//! **When** (`APIGW_CONFIG_CHECK`): `on-failure` checks the targets that failed, `always` every
//! target (on a passing one the verdict is for information: `ok` and `error` stay as they are),
//! `off` none. Unset, it is `on-failure` when the invocation has role credentials and `off`
//! otherwise; set explicitly, a missing credential is the verdict `credentials.missing`.
//! Targets that failed before the network (`config.invalid`, `target.forbidden`), that reached
//! the function itself (`target.loop`) or ran out of time (`budget.exceeded`) are not checked.
//!
//! **Which steps**: only those the failure class needs (§10.2's table; `plan.rs`): a DNS
//! failure the function (S1), the group and its VPC domain (S3) and a shared instance across
//! regions (S4); a TCP failure the function, its vSwitches (S2), the group, the instance's
//! inbound VPC (S4), the group's VPC whitelist (S5) and, across regions, CEN (S6); a gateway
//! error code the group (S3) and the API (S7a published, S7b protocol, S7c app). The first
//! check that fails is the verdict and the checks after it are `skipped`; a check whose call
//! cannot be made is `unknown` (with the RAM action to grant, for a denial) and the others
//! still run.
//!
//! **Budget**: the check runs after the target's probe, within
//! `APIGW_CONFIG_CHECK_BUDGET_MS` (default 5000) of the probe's end and never past the
//! invocation's deadline (each call within `APIGW_OPENAPI_TIMEOUT_MS`); an endpoint that did
//! not answer is not asked again in the same check. The probe keeps its whole budget: the check
//! uses what is left, so it never changes the probe's result, and a slow control plane never
//! delays the answer past the deadline (the check then ends with `unknown` steps).
//!
//! **Identity**: the function's region, account, name and qualifier come from FC
//! (`x-fc-region`, `x-fc-account-id`, `x-fc-function-name`, `x-fc-qualifier`, else
//! `FC_REGION`, `FC_ACCOUNT_ID`, `FC_FUNCTION_NAME`); its VPC from `GetFunction`, never from
//! the function's own configuration.

mod plan;
mod procedure;
mod summary;
mod verdict;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::apigw::Stage;
use crate::config::Settings;
use crate::error::ErrorClass;
use crate::named::named_enum;
use crate::openapi::{Client, Credentials, Endpoints, Transport};
use crate::report::TargetReport;
use crate::target::{Auth, Target};

pub use verdict::Verdict;

named_enum! {
    /// When the cross-check runs (`APIGW_CONFIG_CHECK`).
    pub enum Mode as "APIGW_CONFIG_CHECK" {
        /// For targets that failed (the default when the invocation has role credentials).
        OnFailure = "on-failure",
        /// For every target; on a passing one the verdict is for information only.
        Always = "always",
        /// Never.
        Off = "off",
    }
}

/// The cross-check's settings (part of [`Settings`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckSettings {
    /// `APIGW_CONFIG_CHECK`: `on-failure`, `always` or `off`. Default (`None`): `on-failure`
    /// when the invocation has role credentials, else `off`.
    pub mode: Option<Mode>,
    /// `APIGW_CONFIG_CHECK_BUDGET_MS`: the most one target's cross-check may take after its
    /// probe (it never runs past the invocation's deadline either). Default 5000.
    pub budget: Duration,
}

impl Default for CheckSettings {
    fn default() -> Self {
        Self {
            mode: None,
            budget: Duration::from_millis(5000),
        }
    }
}

impl CheckSettings {
    /// Reads `APIGW_CONFIG_CHECK` and `APIGW_CONFIG_CHECK_BUDGET_MS` through `get`; problems
    /// are added to `problems` (each makes every invocation `config.invalid`).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut s = Self::default();
        if let Some(v) = get("APIGW_CONFIG_CHECK") {
            match v.parse::<Mode>() {
                Ok(m) => s.mode = Some(m),
                Err(e) => problems.push(e.to_string()),
            }
        }
        if let Some(v) = get("APIGW_CONFIG_CHECK_BUDGET_MS") {
            match v.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => s.budget = Duration::from_millis(ms),
                _ => problems.push(
                    "APIGW_CONFIG_CHECK_BUDGET_MS must be a positive number of milliseconds".into(),
                ),
            }
        }
        s
    }
}

/// The function the check asks about: FC's `x-fc-*` headers, else its `FC_*` variables (the
/// command line: `--region`, `--function`, `--qualifier`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionIdentity {
    /// `x-fc-region` / `FC_REGION`: where `GetFunction` and the VPC calls go, and what the
    /// gateway's region is compared with.
    pub region: Option<String>,
    /// `x-fc-account-id` / `FC_ACCOUNT_ID`: names FC's internal endpoint.
    pub account_id: Option<String>,
    /// `x-fc-function-name` / `FC_FUNCTION_NAME`.
    pub name: Option<String>,
    /// `x-fc-qualifier` (`LATEST`, a version or an alias); none: FC's default.
    pub qualifier: Option<String>,
}

/// What one invocation brings to the cross-check: the role's credentials and the function's
/// identity. Without it ([`crate::Invocation`]'s `cross_check` left `None`) nothing is checked.
#[derive(Clone, Debug, Default)]
pub struct CrossCheck {
    /// The credentials to sign with: FC's per-invocation `x-fc-access-key-*` /
    /// `x-fc-security-token`, else `ALIBABA_CLOUD_*`, or a CLI profile. None: the verdict is
    /// `credentials.missing` when the check is asked for explicitly.
    pub credentials: Option<Credentials>,
    /// The function to compare the gateway's settings with.
    pub function: FunctionIdentity,
    /// Overrides `APIGW_CONFIG_CHECK` for this invocation (the `check` command: `always`).
    pub mode: Option<Mode>,
}

impl CrossCheck {
    /// The mode that applies: this invocation's, else the setting, else `on-failure` with
    /// credentials and `off` without.
    pub fn effective_mode(&self, settings: &CheckSettings) -> Mode {
        self.mode
            .or(settings.mode)
            .unwrap_or(match self.credentials {
                Some(_) => Mode::OnFailure,
                None => Mode::Off,
            })
    }
}

/// What the check needs to know about a target, taken before it is probed (the probe consumes
/// the target).
#[derive(Clone, Debug)]
pub(crate) struct Subject {
    /// The host the gateway routes on: a `Host` header the target sets, else the URL's.
    pub host: String,
    /// The URL's path.
    pub path: String,
    /// The method.
    pub method: String,
    /// True for `https://`.
    pub https: bool,
    /// The stage sent in `X-Ca-Stage` (none: the gateway serves RELEASE).
    pub stage: Option<Stage>,
    /// The AppKey sent (`X-Ca-Key`).
    pub app_key: Option<String>,
    /// True when the target authenticated with an AppCode.
    pub appcode: bool,
}

impl Subject {
    pub(crate) fn of(target: &Target) -> Self {
        let host = target
            .headers
            .iter()
            .find(|(name, _)| *name == hyper::header::HOST)
            .and_then(|(_, v)| v.to_str().ok())
            .and_then(|v| crate::target::parse_host_header(v).ok())
            .map_or_else(|| target.host.clone(), |(host, _)| host.to_owned());
        let (app_key, appcode) = match (&target.auth, target.signing_refused) {
            (_, true) | (Auth::None, _) => (None, false),
            (Auth::App { key, .. }, false) => (Some(key.clone()), false),
            (Auth::AppCode(_), false) => (None, true),
        };
        Self {
            host: host.trim_end_matches('.').to_ascii_lowercase(),
            path: target.url.path().to_owned(),
            method: target.method.as_str().to_owned(),
            https: target.https,
            stage: target.stage,
            app_key,
            appcode,
        }
    }

    /// The stage the gateway served: the one sent, else RELEASE.
    pub(crate) fn stage_name(&self) -> &'static str {
        self.stage.unwrap_or(Stage::Release).name()
    }
}

/// Runs the cross-check of one probed target when the mode asks for it, and puts the result
/// in `report.config_check` (and the verified cause in `report.error.hint`). The transport is
/// built only then: its TLS roots and resolver are most of a first invocation's own work, and
/// most invocations succeed.
pub(crate) async fn run(
    settings: &Settings,
    transport: &OnceLock<Transport>,
    cross: &CrossCheck,
    subject: &Subject,
    report: &mut TargetReport,
    invocation_deadline: Instant,
) {
    let wanted = match cross.effective_mode(&settings.config_check) {
        Mode::Off => false,
        Mode::OnFailure => !report.ok,
        Mode::Always => true,
    };
    let class = report.error.as_ref().map(|e| e.class.clone());
    if !wanted || class.as_ref().is_some_and(|c| !checked(c)) {
        return;
    }
    let started = Instant::now();
    let deadline = (started + settings.config_check.budget).min(invocation_deadline);
    let client = cross.credentials.clone().map(|creds| {
        let endpoints = Endpoints::new(
            &settings.openapi,
            cross.function.region.as_deref(),
            cross.function.account_id.as_deref(),
        );
        let transport = transport.get_or_init(|| Transport::new(settings));
        Client::with_transport(transport.clone(), endpoints, creds)
    });
    let check = procedure::check(procedure::Inputs {
        subject,
        report,
        function: &cross.function,
        client,
        deadline,
        started,
    })
    .await;
    tracing::info!(
        target_name = %report.name,
        verdict = check.verdict.name(),
        setting = check.setting.as_deref().unwrap_or(""),
        unknown = check.unknown.len(),
        config_check_ms = check.duration_ms,
        "configuration checked"
    );
    if check.verdict.names_cause() {
        if let Some(error) = &mut report.error {
            error.hint = check.error_hint();
        }
    }
    report.config_check = Some(check);
}

/// Whether a failure of `class` is worth checking: not those that never reached the network,
/// reached the function itself or had no time left.
fn checked(class: &ErrorClass) -> bool {
    !matches!(
        class,
        ErrorClass::ConfigInvalid
            | ErrorClass::TargetForbidden
            | ErrorClass::TargetLoop
            | ErrorClass::BudgetExceeded
    )
}

impl crate::report::ConfigCheck {
    /// The target's `error.hint` once the verdict names the cause: the setting with both
    /// values, then what to change.
    pub fn error_hint(&self) -> String {
        let mut out = format!(
            "Verified by the configuration cross-check ({})",
            self.verdict
        );
        if let Some(setting) = &self.setting {
            out.push_str(&format!(": {setting}"));
            match (&self.actual, &self.expected) {
                (Some(a), Some(e)) => out.push_str(&format!(" is {a}, expected {e}")),
                (Some(a), None) => out.push_str(&format!(" is {a}")),
                (None, Some(e)) => out.push_str(&format!(", expected {e}")),
                (None, None) => {}
            }
        }
        out.push_str(". ");
        out.push_str(&self.hint);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> (CheckSettings, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut problems = Vec::new();
        let s = CheckSettings::from_lookup(&|k: &str| map.get(k).cloned(), &mut problems);
        (s, problems)
    }

    #[test]
    fn settings_and_their_defaults() {
        let (s, p) = settings(&[]);
        assert!(p.is_empty());
        assert_eq!(s, CheckSettings::default());
        assert_eq!(s.budget, Duration::from_millis(5000));
        let (s, p) = settings(&[
            ("APIGW_CONFIG_CHECK", "Always"),
            ("APIGW_CONFIG_CHECK_BUDGET_MS", "1500"),
        ]);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            (s.mode, s.budget),
            (Some(Mode::Always), Duration::from_millis(1500))
        );
        let (_, p) = settings(&[
            ("APIGW_CONFIG_CHECK", "sometimes"),
            ("APIGW_CONFIG_CHECK_BUDGET_MS", "0"),
        ]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("APIGW_CONFIG_CHECK") && p[0].contains("on-failure"));
    }

    /// A target with a `config_check` whose every field is set (and one whose optional ones
    /// are not) reads back to the same JSON, with the documented names.
    #[test]
    fn a_config_check_reads_back_to_the_same_json() {
        use crate::error::ProbeError;
        use crate::report::{Check, CheckStatus, ConfigCheck, Evidence, Unknown};
        let full = ConfigCheck {
            verdict: Verdict::InstanceInboundVpcMismatch,
            setting: Some("API Gateway instance i → VPC access".into()),
            expected: Some("vpc-a".into()),
            actual: Some("vpc-b".into()),
            hint: "bind vpc-a".into(),
            evidence: vec![
                Evidence {
                    call: "apigateway:DescribeInstances".into(),
                    endpoint: Some("https://apigateway-vpc.cn-shanghai.aliyuncs.com".into()),
                    request_id: Some("CEB6EC62-B6C7-5082-A45A-45A204724AC2".into()),
                    field: "Instances.InstanceAttribute[0].UserVpcId".into(),
                    value: "vpc-b".into(),
                },
                Evidence {
                    call: "probe".into(),
                    endpoint: None,
                    request_id: None,
                    field: "X-Ca-Stage".into(),
                    value: String::new(),
                },
            ],
            checks: vec![
                Check {
                    id: "S4.inbound_vpc".into(),
                    status: CheckStatus::Fail,
                    detail: None,
                },
                Check {
                    id: "S6.route_service".into(),
                    status: CheckStatus::Skipped,
                    detail: Some("same region".into()),
                },
            ],
            unknown: vec![Unknown {
                step: "S5.vpc_whitelist".into(),
                reason: "permission_denied".into(),
                message: "denied".into(),
                action: Some("apigateway:DescribeApiGroupVpcWhitelist".into()),
                code: Some("Forbidden.RAM".into()),
                request_id: Some("r".into()),
            }],
            duration_ms: 12.5,
        };
        let bare = ConfigCheck {
            verdict: Verdict::Consistent,
            setting: None,
            expected: None,
            actual: None,
            hint: "h".into(),
            evidence: Vec::new(),
            checks: Vec::new(),
            unknown: Vec::new(),
            duration_ms: 0.0,
        };
        for check in [full, bare] {
            let target = TargetReport {
                config_check: Some(check.clone()),
                ..TargetReport::failed_early("t".into(), "u".into(), ProbeError::config("x"))
            };
            let text = serde_json::to_string(&target).unwrap();
            let back: TargetReport = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), text);
            assert_eq!(back.config_check.as_ref(), Some(&check));
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let keys = |v: &serde_json::Value| -> Vec<String> {
                v.as_object().unwrap().keys().cloned().collect()
            };
            // Every key of the check is always written.
            assert_eq!(
                keys(&v["config_check"]),
                [
                    "verdict",
                    "setting",
                    "expected",
                    "actual",
                    "hint",
                    "evidence",
                    "checks",
                    "unknown",
                    "duration_ms"
                ]
            );
            if check.verdict == Verdict::InstanceInboundVpcMismatch {
                let c = &v["config_check"];
                assert_eq!(c["verdict"], "instance.inbound_vpc_mismatch");
                assert_eq!(
                    keys(&c["evidence"][0]),
                    ["call", "endpoint", "request_id", "field", "value"]
                );
                assert_eq!(keys(&c["evidence"][1]), ["call", "field", "value"]);
                assert_eq!(keys(&c["checks"][1]), ["id", "status", "detail"]);
                assert_eq!(c["checks"][0]["status"], "fail");
                assert_eq!(
                    keys(&c["unknown"][0]),
                    ["step", "reason", "message", "action", "code", "request_id"]
                );
            }
        }
        // Absent when there is none: a report without the check keeps its old shape.
        let plain = TargetReport::failed_early("t".into(), "u".into(), ProbeError::config("x"));
        let v = serde_json::to_value(&plain).unwrap();
        assert!(v.get("config_check").is_none());
    }

    #[test]
    fn the_error_hint_names_the_setting_and_both_values() {
        let check = crate::report::ConfigCheck {
            verdict: Verdict::InstanceInboundVpcMismatch,
            setting: Some("instance i → VPC access".into()),
            expected: Some("vpc-a".into()),
            actual: Some("vpc-b".into()),
            hint: "Bind vpc-a.".into(),
            evidence: Vec::new(),
            checks: Vec::new(),
            unknown: Vec::new(),
            duration_ms: 0.0,
        };
        assert_eq!(
            check.error_hint(),
            "Verified by the configuration cross-check (instance.inbound_vpc_mismatch): instance i → VPC access is vpc-b, expected vpc-a. Bind vpc-a."
        );
        assert!(check.summary().contains("expected  vpc-a"));
    }

    #[test]
    fn the_default_mode_follows_the_credentials() {
        let none = CrossCheck::default();
        let with = CrossCheck {
            credentials: Credentials::new(Some("STS.a".into()), Some("secret-1".into()), None),
            ..CrossCheck::default()
        };
        let unset = CheckSettings::default();
        assert_eq!(none.effective_mode(&unset), Mode::Off);
        assert_eq!(with.effective_mode(&unset), Mode::OnFailure);
        let set = CheckSettings {
            mode: Some(Mode::OnFailure),
            ..unset.clone()
        };
        assert_eq!(none.effective_mode(&set), Mode::OnFailure);
        let forced = CrossCheck {
            mode: Some(Mode::Always),
            ..none
        };
        assert_eq!(forced.effective_mode(&set), Mode::Always);
    }
}
