//! Events: what an invocation asks for, and how that becomes a list of targets.
//!
//! Accepted event bodies (`POST /invoke`, `POST /probe`):
//! - empty or `{}`: the configured targets;
//! - `{"target": "<name>"}`: one configured target by name;
//! - `{"url": "...", ...}`: one target (any target field may sit beside `url`);
//! - `{"targets": [ {target}, ... ]}`;
//! - a timer event `{"triggerTime", "triggerName", "payload"}` whose `payload` string is one of
//!   the above as JSON, a configured target's name, or empty.

use serde::Deserialize;
use serde_json::Value;

use crate::config::Settings;
use crate::error::{ErrorClass, ProbeError};
use crate::policy::{self, SigningHosts};
use crate::report::{TargetReport, TimerInfo};
use crate::target::{self, Origin, Target, TargetDefaults, TargetSpec};

/// Which targets an invocation asks for.
#[derive(Clone, Debug)]
pub enum Selection {
    /// The configured targets.
    Configured,
    /// One configured target by name.
    Named(String),
    /// Targets written in the request itself.
    Specs(Vec<TargetSpec>),
}

/// A parsed event.
#[derive(Clone, Debug)]
pub struct Event {
    /// Which targets to probe.
    pub selection: Selection,
    /// Present for timer-trigger events.
    pub timer: Option<TimerInfo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimerEvent {
    #[serde(rename = "triggerTime")]
    trigger_time: String,
    #[serde(rename = "triggerName")]
    trigger_name: String,
    #[serde(default)]
    payload: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedEvent {
    target: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsEvent {
    targets: Vec<TargetSpec>,
}

impl Event {
    /// Parses an event body.
    pub fn parse(body: &[u8]) -> Result<Self, ProbeError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| ProbeError::config("the event is not UTF-8 text"))?;
        if text.trim().is_empty() {
            return Ok(Self {
                selection: Selection::Configured,
                timer: None,
            });
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ProbeError::config(format!("the event is not JSON: {e}")))?;
        let is_timer = value
            .as_object()
            .is_some_and(|o| o.contains_key("triggerTime") && o.contains_key("triggerName"));
        if is_timer {
            let timer: TimerEvent = serde_json::from_value(value)
                .map_err(|e| ProbeError::config(format!("the timer event is not valid: {e}")))?;
            let payload = timer.payload.unwrap_or_default();
            let selection = Self::parse_payload(&payload)?;
            return Ok(Self {
                selection,
                timer: Some(TimerInfo {
                    trigger_name: timer.trigger_name,
                    trigger_time: timer.trigger_time,
                }),
            });
        }
        Ok(Self {
            selection: Self::selection(value)?,
            timer: None,
        })
    }

    /// A timer payload: JSON like an event, a target name, or empty.
    fn parse_payload(payload: &str) -> Result<Selection, ProbeError> {
        let p = payload.trim();
        if p.is_empty() {
            return Ok(Selection::Configured);
        }
        if p.starts_with('{') {
            let value: Value = serde_json::from_str(p).map_err(|e| {
                ProbeError::config(format!("the timer payload is not valid JSON: {e}"))
            })?;
            return Self::selection(value);
        }
        Ok(Selection::Named(p.to_owned()))
    }

    fn selection(value: Value) -> Result<Selection, ProbeError> {
        let Value::Object(obj) = value else {
            return Err(ProbeError::config(
                "the event must be a JSON object such as {}, {\"target\": \"name\"}, {\"url\": \"...\"} or {\"targets\": [...]}",
            ));
        };
        if obj.is_empty() {
            return Ok(Selection::Configured);
        }
        reject_secrets(&obj)?;
        if let Some(Value::Array(targets)) = obj.get("targets") {
            for t in targets {
                if let Value::Object(t) = t {
                    reject_secrets(t)?;
                }
            }
        }
        let invalid =
            |e: serde_json::Error| ProbeError::config(format!("the event is not valid: {e}"));
        if obj.contains_key("targets") {
            let t: TargetsEvent = serde_json::from_value(Value::Object(obj)).map_err(invalid)?;
            return Ok(Selection::Specs(t.targets));
        }
        if obj.contains_key("target") {
            let n: NamedEvent = serde_json::from_value(Value::Object(obj)).map_err(invalid)?;
            return Ok(Selection::Named(n.target));
        }
        if obj.contains_key("url") || obj.contains_key("group") {
            let spec: TargetSpec = serde_json::from_value(Value::Object(obj)).map_err(invalid)?;
            return Ok(Selection::Specs(vec![spec]));
        }
        let keys: Vec<&String> = obj.keys().collect();
        Err(ProbeError::config(format!(
            "the event has none of \"target\", \"url\", \"group\", \"targets\" (it has {keys:?})"
        )))
    }
}

/// Field names that would carry a secret. Secrets come only from the function's environment:
/// an event can be written by anyone who may invoke the function, and events are logged.
const SECRET_FIELDS: &[&str] = &[
    "secret",
    "appsecret",
    "appcode",
    "accesskeysecret",
    "securitytoken",
    "password",
];

/// A name as a lenient server may read it, for comparing with secret names: percent-decoded,
/// without whitespace or control characters, ASCII lowercase (`App%09Code` → `appcode`).
pub fn fold_name(name: &str) -> String {
    percent_encoding::percent_decode_str(name)
        .decode_utf8_lossy()
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// True when a field or parameter name, folded and without separators (`app_secret`,
/// `App-Secret`), is one of the secret field names (`appsecret`, `appcode`, `password`, …).
pub fn is_secret_name(name: &str) -> bool {
    let folded: String = fold_name(name)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    SECRET_FIELDS.contains(&folded.as_str())
}

/// True when a query string (after the `?`) has a parameter whose name folds to `appcode`.
fn query_has_appcode(query: &str) -> bool {
    // `;` is a parameter separator to some servers, and a lenient one may skip a stray `?`:
    // read both as separators too.
    let query = query.replace([';', '?'], "&");
    url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| fold_name(&name) == "appcode")
}

fn reject_secrets(obj: &serde_json::Map<String, Value>) -> Result<(), ProbeError> {
    for key in obj.keys() {
        if is_secret_name(key) {
            return Err(ProbeError::config(format!(
                "the event has a field {key:?}: secrets are accepted only from the function's environment (APIGW_APP_SECRET, APIGW_APP_SECRET_FILE, APIGW_APPCODE), never from an event"
            )));
        }
    }
    Ok(())
}

/// A target from a request must not carry credentials either: no `Authorization` header and no
/// `AppCode` query parameter.
fn reject_request_secrets(spec: &TargetSpec) -> Result<(), ProbeError> {
    if spec
        .headers
        .keys()
        .any(|h| h.eq_ignore_ascii_case("authorization"))
    {
        return Err(ProbeError::config(
            "a target from an event or HTTP request may not set Authorization: configure APIGW_APPCODE or the app's key and secret in the function's environment",
        ));
    }
    // The raw strings, before any parsing: an invalid URL's error message would echo it.
    let has_appcode = [spec.url.as_deref(), spec.path.as_deref()]
        .into_iter()
        .flatten()
        .filter_map(|s| s.split_once('?'))
        .any(|(_, query)| query_has_appcode(query));
    if has_appcode {
        return Err(ProbeError::config(
            "a target from an event or HTTP request may not carry an AppCode in its query string: configure APIGW_APPCODE",
        ));
    }
    Ok(())
}

/// A target ready to probe, or the report of why it cannot be.
pub type Planned = Result<Target, Box<TargetReport>>;

/// The configured targets, built once when the function starts (pure work, no I/O): events
/// that name them (`{}`, `{"target": …}`, timer payloads) then only copy them.
#[derive(Clone, Debug, Default)]
pub struct Configured {
    targets: Vec<(Option<String>, Planned)>,
    /// Their hosts and `APIGW_SIGN_HOSTS`: the only hosts a target from a request is signed for.
    signing: SigningHosts,
}

impl Configured {
    /// Builds the configured targets of `settings` (no I/O).
    pub fn build(settings: &Settings) -> Self {
        let none = SigningHosts::default();
        let targets: Vec<(Option<String>, Planned)> = settings
            .targets
            .iter()
            .map(|spec| {
                let name = spec.name.clone();
                (
                    name,
                    build_one(spec.clone(), settings, Origin::Config, &none),
                )
            })
            .collect();
        let hosts = targets
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok())
            .map(|t| t.host.as_str());
        let signing = SigningHosts::new(hosts, settings.sign_hosts.clone());
        Self { targets, signing }
    }
}

/// The targets to probe, in order. A target that cannot be built or is not allowed becomes a
/// failed entry of the report instead of failing the whole invocation, so that the others still
/// run; an invocation-level problem (unknown name, too many targets) is an error.
pub fn plan(
    selection: Selection,
    settings: &Settings,
    configured: &Configured,
    request_origin: Origin,
) -> Result<Vec<Planned>, ProbeError> {
    settings.check()?;
    let planned: Vec<Planned> = match selection {
        Selection::Configured => {
            if configured.targets.is_empty() {
                return Err(ProbeError::config(
                    "no targets are configured: set APIGW_URL, APIGW_GROUP_ID + APIGW_PATH, or APIGW_TARGETS, or name a url in the event",
                ));
            }
            configured.targets.iter().map(|(_, p)| p.clone()).collect()
        }
        Selection::Named(name) => {
            let found = configured
                .targets
                .iter()
                .find(|(n, _)| n.as_deref() == Some(name.as_str()))
                .map(|(_, p)| p.clone())
                .ok_or_else(|| {
                    let known: Vec<&str> = configured
                        .targets
                        .iter()
                        .filter_map(|(n, _)| n.as_deref())
                        .collect();
                    unknown_name(&name, &known, request_origin)
                })?;
            vec![found]
        }
        Selection::Specs(specs) => {
            if specs.is_empty() {
                return Err(ProbeError::config("the event lists no targets"));
            }
            if specs.len() > settings.max_targets {
                return Err(ProbeError::config(format!(
                    "{} targets asked for; at most {} per invocation (APIGW_MAX_TARGETS)",
                    specs.len(),
                    settings.max_targets
                )));
            }
            specs
                .into_iter()
                .map(|spec| build_one(spec, settings, request_origin, &configured.signing))
                .collect()
        }
    };
    Ok(planned)
}

/// The first target written in a request that is not valid (what [`plan`] would turn into a
/// failed entry of the report), as an error naming it by position. The HTTP trigger answers
/// `400` with it and probes none of the targets, valid or not (validity does not depend on
/// the signing hosts, so none are needed here). Forbidden targets are not
/// errors here: they stay entries of the report (`403`) and the others are probed.
pub fn check_request_targets(specs: &[TargetSpec], settings: &Settings) -> Result<(), ProbeError> {
    for (i, spec) in specs.iter().enumerate() {
        let Err(failed) = build_one(
            spec.clone(),
            settings,
            Origin::Request,
            &SigningHosts::default(),
        ) else {
            continue;
        };
        if let Some(e) = failed
            .error
            .filter(|e| e.class == ErrorClass::ConfigInvalid)
        {
            // The name is the caller's own input; cut it so that the answer stays small.
            let name: String = failed.name.chars().take(100).collect();
            return Err(ProbeError {
                message: format!(
                    "target {} of {} ({name:?}): {}",
                    i + 1,
                    specs.len(),
                    e.message
                ),
                ..e
            });
        }
    }
    Ok(())
}

/// The error for a name no configured target has. The command line (the operator's own shell)
/// lists the configured names; a request's caller gets a hint instead, and the log the names:
/// they are the operator's, not the caller's.
fn unknown_name(name: &str, known: &[&str], origin: Origin) -> ProbeError {
    if origin == Origin::Cli {
        return ProbeError::config(format!(
            "no configured target is named {name:?} (configured: {known:?})"
        ));
    }
    tracing::warn!(
        name,
        configured = ?known,
        "the request names no configured target"
    );
    ProbeError {
        class: crate::error::ErrorClass::ConfigInvalid,
        message: format!("no configured target is named {name:?}"),
        hint: "Name one of the targets configured in the function's APIGW_TARGETS (the \
            function's log lists them under this request id), or send {} (no query on /probe) \
            to probe all of them."
            .into(),
    }
}

/// Checks and builds one spec: secrets refused from requests, the allow-list applied, and
/// credentials only for the hosts in `signing`.
fn build_one(
    spec: TargetSpec,
    settings: &Settings,
    origin: Origin,
    signing: &SigningHosts,
) -> Planned {
    // A refused target's entry shows its URL without the query and userinfo, which may be why
    // it was refused (an AppCode, a password) and is repeated in answers and logs.
    let url = spec
        .url
        .as_deref()
        .map(target::shown_url)
        .unwrap_or_default();
    let name = spec.name.clone().unwrap_or_else(|| {
        if url.is_empty() {
            "target".into()
        } else {
            url.clone()
        }
    });
    let checked = if origin == Origin::Request {
        reject_request_secrets(&spec)
    } else {
        Ok(())
    };
    checked
        .and_then(|()| {
            let defaults = TargetDefaults {
                signing_hosts: signing.clone(),
                ..settings.target_defaults()
            };
            spec.build(&defaults, origin)
        })
        .and_then(|t| policy::check_target(&t, &settings.allow_hosts).map(|()| t))
        .and_then(|t| policy::check_method(&t, &settings.request_methods).map(|()| t))
        .map_err(|e| Box::new(TargetReport::failed_early(name, url, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_braces_mean_configured() {
        for body in ["", "  ", "{}"] {
            let e = Event::parse(body.as_bytes()).unwrap();
            assert!(matches!(e.selection, Selection::Configured));
            assert!(e.timer.is_none());
        }
    }

    #[test]
    fn timer_payload_forms() {
        let e = Event::parse(
            br#"{"triggerTime":"2026-11-24T05:49:00Z","triggerName":"probe","payload":"{\"target\":\"a\"}"}"#,
        )
        .unwrap();
        assert!(matches!(e.selection, Selection::Named(ref n) if n == "a"));
        assert_eq!(e.timer.unwrap().trigger_name, "probe");
        let e = Event::parse(br#"{"triggerTime":"t","triggerName":"p","payload":"b"}"#).unwrap();
        assert!(matches!(e.selection, Selection::Named(ref n) if n == "b"));
        let e = Event::parse(br#"{"triggerTime":"t","triggerName":"p","payload":""}"#).unwrap();
        assert!(matches!(e.selection, Selection::Configured));
    }

    #[test]
    fn url_event_takes_target_fields() {
        let e = Event::parse(br#"{"url":"http://a.alicloudapi.com/x","samples":3}"#).unwrap();
        let Selection::Specs(specs) = e.selection else {
            panic!()
        };
        assert_eq!(specs[0].samples, Some(3));
    }

    #[test]
    fn bad_events_are_config_invalid() {
        for body in [
            &b"[1]"[..],
            b"nope",
            b"{\"foo\":1}",
            b"{\"url\":5}",
            b"\xff\xfe",
            b"{\"targets\":[{\"url\":\"x\",\"bogus\":1}]}",
        ] {
            let err = Event::parse(body).unwrap_err();
            assert_eq!(err.class, crate::error::ErrorClass::ConfigInvalid);
        }
    }

    #[test]
    fn secrets_in_events_are_refused() {
        for body in [
            &br#"{"url":"http://a.alicloudapi.com/","app_secret":"x"}"#[..],
            br#"{"targets":[{"url":"http://a.alicloudapi.com/","AppCode":"x"}]}"#,
            br#"{"triggerTime":"t","triggerName":"n","payload":"{\"url\":\"http://a.alicloudapi.com/\",\"appSecret\":\"x\"}"}"#,
        ] {
            let err = Event::parse(body).unwrap_err();
            assert!(err.message.contains("environment"), "{err}");
            assert!(!err.message.contains("\"x\""), "{err}");
        }
        let settings = Settings::default();
        for spec in [
            TargetSpec {
                headers: [("Authorization".to_owned(), "APPCODE c".to_owned())].into(),
                ..TargetSpec::from_url("http://a.alicloudapi.com/")
            },
            TargetSpec::from_url("http://a.alicloudapi.com/x?AppCode=c"),
        ] {
            let planned = plan(
                Selection::Specs(vec![spec]),
                &settings,
                &Configured::build(&settings),
                Origin::Request,
            )
            .unwrap();
            let err = planned[0].as_ref().unwrap_err().error.clone().unwrap();
            assert_eq!(err.class, crate::error::ErrorClass::ConfigInvalid);
            assert!(!err.message.contains("APPCODE c"));
        }
    }

    /// Plans one request target in `settings` and returns its auth and label.
    fn request_auth(settings: &Settings, spec: TargetSpec) -> (crate::target::Auth, &'static str) {
        let planned = plan(
            Selection::Specs(vec![spec]),
            settings,
            &Configured::build(settings),
            Origin::Request,
        )
        .unwrap();
        let t = planned[0].as_ref().unwrap();
        (t.auth.clone(), t.auth_label())
    }

    #[test]
    fn request_targets_are_signed_only_for_configured_hosts() {
        use crate::target::Auth;
        let settings = Settings::from_lookup(|k| match k {
            "APIGW_URL" => Some("http://g-cn-shanghai-vpc.alicloudapi.com/web/a".into()),
            "APIGW_APP_KEY" => Some("204000000".into()),
            "APIGW_APP_SECRET" => Some("app-secret-value-1".into()),
            "APIGW_APPCODE" => Some("appcode-value-0123".into()),
            "APIGW_SIGN_HOSTS" => Some("*.signed.alicloudapi.com".into()),
            _ => None,
        });
        let with_auth = |url: &str, auth: Option<&str>| TargetSpec {
            auth: auth.map(|a| a.parse().unwrap()),
            ..TargetSpec::from_url(url)
        };
        // The configured target's host (any path), by default and when asked.
        let (auth, label) = request_auth(
            &settings,
            with_auth("http://G-cn-shanghai-vpc.alicloudapi.com/web/b", None),
        );
        assert!(matches!(auth, Auth::App { .. }), "{auth:?}");
        assert_eq!(label, "app");
        let (auth, label) = request_auth(
            &settings,
            with_auth("http://g-cn-shanghai-vpc.alicloudapi.com/", Some("appcode")),
        );
        assert!(matches!(auth, Auth::AppCode(_)));
        assert_eq!(label, "appcode");
        // APIGW_SIGN_HOSTS.
        let (auth, _) = request_auth(
            &settings,
            with_auth("http://x.signed.alicloudapi.com/", Some("appcode")),
        );
        assert!(matches!(auth, Auth::AppCode(_)));
        // Any other allowed host: no credentials, whatever was asked, and the report says so.
        for asked in [None, Some("app"), Some("appcode")] {
            let (auth, label) =
                request_auth(&settings, with_auth("http://echo.alicloudapi.com/", asked));
            assert_eq!(auth, Auth::None, "{asked:?}");
            assert_eq!(label, "none (host not configured for signing)");
        }
        let (_, label) = request_auth(
            &settings,
            with_auth("http://echo.alicloudapi.com/", Some("none")),
        );
        assert_eq!(label, "none");
        // A bad auth value is still config.invalid, on any host: refused as the event is read.
        let err =
            Event::parse(br#"{"url": "http://echo.alicloudapi.com/", "auth": "key"}"#).unwrap_err();
        assert_eq!(err.class, crate::error::ErrorClass::ConfigInvalid);
        // The command line is the operator's own: signed wherever it points.
        let planned = plan(
            Selection::Specs(vec![with_auth(
                "http://echo.alicloudapi.com/",
                Some("appcode"),
            )]),
            &settings,
            &Configured::build(&settings),
            Origin::Cli,
        )
        .unwrap();
        assert!(matches!(
            planned[0].as_ref().unwrap().auth,
            Auth::AppCode(_)
        ));
    }

    #[test]
    fn without_configured_targets_no_request_target_is_signed() {
        let settings = Settings::from_lookup(|k| match k {
            "APIGW_APPCODE" => Some("appcode-value-0123".into()),
            _ => None,
        });
        let spec = TargetSpec {
            auth: Some(crate::target::AuthKind::AppCode),
            ..TargetSpec::from_url("http://g-cn-shanghai-vpc.alicloudapi.com/")
        };
        let (auth, label) = request_auth(&settings, spec);
        assert_eq!(auth, crate::target::Auth::None);
        assert_eq!(label, "none (host not configured for signing)");
    }

    #[test]
    fn the_first_invalid_request_target_is_named_and_forbidden_ones_pass() {
        let settings = Settings::default();
        let ok = TargetSpec::from_url("http://a.alicloudapi.com/");
        let forbidden = TargetSpec::from_url("http://example.com/");
        assert!(check_request_targets(&[ok.clone(), forbidden.clone()], &settings).is_ok());
        let bad = TargetSpec {
            samples: Some(0),
            ..TargetSpec::from_url("http://b.alicloudapi.com/")
        };
        let e = check_request_targets(&[ok, forbidden, bad], &settings).unwrap_err();
        assert_eq!(e.class, ErrorClass::ConfigInvalid);
        assert!(e.message.starts_with("target 3 of 3 ("), "{e}");
        assert!(e.message.contains("samples"), "{e}");
    }

    #[test]
    fn plan_applies_allow_list_to_request_targets_only() {
        let settings = Settings::from_lookup(|k| match k {
            "APIGW_TARGETS" => Some(r#"[{"name":"inner","url":"http://10.0.0.1/"}]"#.into()),
            _ => None,
        });
        let planned = plan(
            Selection::Configured,
            &settings,
            &Configured::build(&settings),
            Origin::Request,
        )
        .unwrap();
        assert!(planned[0].is_ok(), "configured targets are trusted");
        let planned = plan(
            Selection::Specs(vec![TargetSpec::from_url("http://10.0.0.1/")]),
            &settings,
            &Configured::build(&settings),
            Origin::Request,
        )
        .unwrap();
        let err = planned[0].as_ref().unwrap_err().error.clone().unwrap();
        assert_eq!(err.class, crate::error::ErrorClass::TargetForbidden);
        assert!(plan(
            Selection::Named("nope".into()),
            &settings,
            &Configured::build(&settings),
            Origin::Request
        )
        .is_err());
    }

    #[test]
    fn appcode_query_names_are_compared_decoded() {
        let settings = Settings::default();
        let planned_error = |spec: TargetSpec| {
            let planned = plan(
                Selection::Specs(vec![spec]),
                &settings,
                &Configured::build(&settings),
                Origin::Request,
            )
            .unwrap();
            planned[0].as_ref().err().and_then(|r| r.error.clone())
        };
        for query in [
            "AppCode=c0de",
            "APPCODE=c0de",
            "app%43ode=c0de",
            "App%09Code=c0de",
            "App\tCode=c0de",
            "%20appcode%20=c0de",
            "+AppCode+=c0de",
            "app+code=c0de",
            "App%0aCode=c0de",
            "a=1;AppCode=c0de",
            "a=1&app%2543ode=c0de",
            "?AppCode=c0de",
            "a=1?AppCode=c0de",
        ] {
            for spec in [
                TargetSpec::from_url(format!("http://a.alicloudapi.com/x?{query}")),
                TargetSpec {
                    group: Some("0123456789abcdef0123456789abcdef".into()),
                    region: Some("cn-shanghai".into()),
                    path: Some(format!("/x?{query}")),
                    ..TargetSpec::default()
                },
            ] {
                let err = planned_error(spec).unwrap_or_else(|| panic!("{query} was accepted"));
                assert_eq!(
                    err.class,
                    crate::error::ErrorClass::ConfigInvalid,
                    "{query}"
                );
                assert!(err.message.contains("AppCode"), "{query}: {err}");
                assert!(!err.message.contains("c0de"), "{query}: {err}");
            }
        }
        for query in ["appcodes=1", "code=1", "app=code", "x=AppCode"] {
            let spec = TargetSpec::from_url(format!("http://a.alicloudapi.com/x?{query}"));
            assert!(planned_error(spec).is_none(), "{query}");
        }
    }

    #[test]
    fn secret_field_names_are_folded_the_same_way() {
        for key in [
            "app%53ecret",
            "App Secret",
            "APP_SECRET",
            "app\tcode",
            "App%09Code",
            "password",
        ] {
            assert!(is_secret_name(key), "{key}");
            let body = serde_json::json!({"url": "http://a.alicloudapi.com/", key: "s3cret"});
            let err = Event::parse(body.to_string().as_bytes()).unwrap_err();
            assert!(err.message.contains("environment"), "{key}: {err}");
            assert!(!err.message.contains("s3cret"), "{err}");
        }
        assert!(!is_secret_name("secrets_manager"));
        assert!(!is_secret_name("url"));
    }
}
