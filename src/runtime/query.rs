//! `GET /probe` query strings → a [`Selection`].
//!
//! - no query: the configured targets;
//! - `target=<name>`: one configured target;
//! - `url=<url>` or `group=<id>` (+ `region`, `path`) with any of `name`, `method`, `stage`,
//!   `samples`, `timeout_ms`, `return_body`, `auth`, `signature_method`, the assertions of the
//!   command line's flags (`expect_status`, `expect_header`, `expect_body`, `expect_json`,
//!   `max_ms`, `cert_days_min`), `addresses`, `retry` and `retry_interval_ms`: one target
//!   written in the request.
//!
//! blackbox_exporter's form, `module=<module>&target=<url or configured name>` (and
//! `debug=true` for the JSON report), is read by [`parse`] into [`ProbeQuery::Module`]; the
//! handler then answers metrics.
//!
//! Unknown or repeated parameters are refused, like unknown fields in an event: a typo should
//! not silently probe something else. Only the list-like ones repeat ([`REPEATABLE`]).

use url::form_urlencoded;

use crate::error::ProbeError;
use crate::event::Selection;
use crate::expect::ExpectFlags;
use crate::named::UnknownValue;
use crate::target::{Retry, ReturnBody, TargetSpec};

/// The parameters `/probe` accepts.
pub(crate) const PARAMS: &[&str] = &[
    "target",
    "url",
    "group",
    "region",
    "path",
    "name",
    "method",
    "stage",
    "samples",
    "timeout_ms",
    "return_body",
    "auth",
    "signature_method",
    "expect_status",
    "expect_header",
    "expect_body",
    "expect_json",
    "max_ms",
    "cert_days_min",
    "addresses",
    "retry",
    "retry_interval_ms",
];

/// The parameters of blackbox_exporter's form.
pub(crate) const MODULE_PARAMS: &[&str] = &["module", "target", "debug"];

/// A `/probe` query.
#[derive(Debug)]
pub(crate) enum ProbeQuery {
    /// The configured targets, one by name, or one written in the query.
    Selection(Selection),
    /// blackbox_exporter's form.
    Module {
        /// The module's name (`http_2xx` when the parameter is empty, as in blackbox).
        module: String,
        /// `target`: a URL or a configured target's name; `None` when missing.
        target: Option<String>,
        /// `debug=true`: answer the JSON report instead of metrics.
        debug: bool,
    },
}

/// Parses a query string (without the `?`) in either form.
pub(crate) fn parse(query: Option<&str>) -> Result<ProbeQuery, ProbeError> {
    let pairs = pairs(query)?;
    if !pairs.iter().any(|(k, _)| k == "module") {
        return Ok(ProbeQuery::Selection(selection_of(pairs)?));
    }
    let mut module = String::new();
    let (mut target, mut debug) = (None, false);
    for (k, v) in pairs {
        match k.as_str() {
            "module" => module = v,
            "target" => target = Some(v).filter(|t| !t.trim().is_empty()),
            "debug" => {
                debug = match v.as_str() {
                    "true" => true,
                    "false" | "" => false,
                    _ => {
                        return Err(ProbeError::config(format!(
                            "debug must be true or false, not {v:?}"
                        )))
                    }
                }
            }
            _ => {
                return Err(ProbeError::config(format!(
                    "query parameter {k:?} does not go with \"module\"; accepted with it: {}",
                    MODULE_PARAMS.join(", ")
                )))
            }
        }
    }
    if module.trim().is_empty() {
        module = crate::config::DEFAULT_MODULE.to_owned();
    }
    Ok(ProbeQuery::Module {
        module,
        target,
        debug,
    })
}

/// The parameters that may be given more than once, one entry each.
pub(crate) const REPEATABLE: &[&str] = &["expect_status", "expect_header", "expect_json"];

/// Parses a query string (without the `?`) of the first form.
pub(crate) fn selection(query: Option<&str>) -> Result<Selection, ProbeError> {
    selection_of(pairs(query)?)
}

/// The query's parameters, refusing secret names, repeated and unknown ones.
fn pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ProbeError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if crate::event::is_secret_name(&k) {
            return Err(ProbeError::config(format!(
                "query parameter {k:?} names a secret: secrets are accepted only from the function's environment (APIGW_APP_SECRET, APIGW_APP_SECRET_FILE, APIGW_APPCODE), never from a request"
            )));
        }
        if !PARAMS.contains(&k.as_ref()) && !MODULE_PARAMS.contains(&k.as_ref()) {
            return Err(ProbeError::config(format!(
                "query parameter {k:?} is not known; accepted: {}, or {} (blackbox_exporter's form)",
                PARAMS.join(", "),
                MODULE_PARAMS.join(", ")
            )));
        }
        if pairs.iter().any(|(seen, _)| *seen == k) && !REPEATABLE.contains(&k.as_ref()) {
            return Err(ProbeError::config(format!(
                "query parameter {k:?} is given more than once"
            )));
        }
        pairs.push((k.into_owned(), v.into_owned()));
    }
    Ok(pairs)
}

fn selection_of(pairs: Vec<(String, String)>) -> Result<Selection, ProbeError> {
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !PARAMS.contains(&k.as_str())) {
        return Err(ProbeError::config(format!(
            "query parameter {k:?} goes with \"module\" only (blackbox_exporter's form: module, target, debug)"
        )));
    }
    if pairs.is_empty() {
        return Ok(Selection::Configured);
    }
    let take = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    if let Some(name) = take("target") {
        if pairs.len() > 1 {
            return Err(ProbeError::config(
                "\"target\" selects a configured target as it is; other parameters go with \"url\" or \"group\"",
            ));
        }
        return Ok(Selection::Named(name));
    }
    let spec = TargetSpec {
        name: take("name"),
        url: take("url"),
        group: take("group"),
        region: take("region"),
        path: take("path"),
        method: parsed(take("method"))?,
        stage: parsed(take("stage"))?,
        samples: take("samples").map(|v| number("samples", &v)).transpose()?,
        timeout_ms: take("timeout_ms")
            .map(|v| number("timeout_ms", &v))
            .transpose()?,
        return_body: take("return_body")
            .map(|v| {
                ReturnBody::parse(&v).ok_or_else(|| {
                    ProbeError::config(format!(
                        "return_body must be true, false, first or all, not {v:?}"
                    ))
                })
            })
            .transpose()?
            .unwrap_or_default(),
        auth: parsed(take("auth"))?,
        signature_method: parsed(take("signature_method"))?,
        expect: ExpectFlags {
            status: all("expect_status")
                .iter()
                .map(|v| number("expect_status", v))
                .collect::<Result<_, _>>()?,
            headers: all("expect_header"),
            body: take("expect_body"),
            json: all("expect_json"),
            max_ms: take("max_ms").map(|v| number("max_ms", &v)).transpose()?,
            cert_days_min: take("cert_days_min")
                .map(|v| number("cert_days_min", &v))
                .transpose()?,
        }
        .build()?,
        addresses: parsed(take("addresses"))?,
        retry: match (take("retry"), take("retry_interval_ms")) {
            (None, None) => None,
            (count, interval) => Some(Retry {
                count: count.map(|v| number("retry", &v)).transpose()?.unwrap_or(0),
                interval_ms: interval
                    .map(|v| number("retry_interval_ms", &v))
                    .transpose()?,
            }),
        },
        ..TargetSpec::default()
    };
    if spec.url.is_none() && spec.group.is_none() {
        return Err(ProbeError::config(
            "give \"target\", \"url\" or \"group\" (or no parameters for the configured targets)",
        ));
    }
    Ok(Selection::Specs(vec![spec]))
}

/// A named field's value parsed (`stage=TEST`); the refusal names the accepted values.
fn parsed<T: std::str::FromStr<Err = UnknownValue>>(
    value: Option<String>,
) -> Result<Option<T>, ProbeError> {
    Ok(value.map(|v| v.parse()).transpose()?)
}

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, ProbeError> {
    v.trim()
        .parse()
        .map_err(|_| ProbeError::config(format!("{name} must be a whole number, not {v:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_query_means_configured() {
        assert!(matches!(selection(None), Ok(Selection::Configured)));
        assert!(matches!(selection(Some("")), Ok(Selection::Configured)));
    }

    #[test]
    fn target_names_a_configured_target() {
        let s = selection(Some("target=api%20one")).unwrap();
        assert!(matches!(s, Selection::Named(ref n) if n == "api one"));
        assert!(selection(Some("target=a&samples=2")).is_err());
    }

    #[test]
    fn url_takes_target_fields() {
        let s = selection(Some(
            "url=http%3A%2F%2Fa.alicloudapi.com%2Fx%3Fq%3D1&samples=3&method=post&stage=TEST&timeout_ms=800&return_body",
        ))
        .unwrap();
        let Selection::Specs(specs) = s else {
            panic!("{s:?}")
        };
        let t = &specs[0];
        assert_eq!(t.url.as_deref(), Some("http://a.alicloudapi.com/x?q=1"));
        assert_eq!(t.samples, Some(3));
        assert_eq!(t.method, Some(crate::target::HttpMethod::Post));
        assert_eq!(t.stage, Some(crate::apigw::Stage::Test));
        assert_eq!(t.timeout_ms, Some(800));
        assert_eq!(t.return_body, ReturnBody::First);
    }

    #[test]
    fn secrets_in_the_query_are_refused() {
        for q in [
            "url=http://a.alicloudapi.com/&appcode=x",
            "url=http://a.alicloudapi.com/&app_secret=x",
            "url=http://a.alicloudapi.com/&app%43ode=x",
            "url=http://a.alicloudapi.com/&App%09Code=x",
            "url=http://a.alicloudapi.com/&+AppCode+=x",
        ] {
            let e = selection(Some(q)).unwrap_err();
            assert_eq!(e.class, crate::error::ErrorClass::ConfigInvalid);
            assert!(e.message.contains("names a secret"), "{q}: {e}");
            assert!(!e.message.contains("=x"), "{e}");
        }
        let Selection::Specs(specs) =
            selection(Some("url=http://a.alicloudapi.com/&auth=none")).unwrap()
        else {
            panic!("a url selection")
        };
        assert_eq!(specs[0].auth, Some(crate::target::AuthKind::None));
    }

    #[test]
    fn module_selects_blackbox_s_form() {
        let q = parse(Some(
            "module=signed&target=http%3A%2F%2Fa.alicloudapi.com%2Fx%3Fq%3D1",
        ))
        .unwrap();
        let ProbeQuery::Module {
            module,
            target,
            debug,
        } = q
        else {
            panic!("{q:?}")
        };
        assert_eq!(module, "signed");
        assert_eq!(target.as_deref(), Some("http://a.alicloudapi.com/x?q=1"));
        assert!(!debug);
        let Ok(ProbeQuery::Module {
            module,
            target,
            debug,
        }) = parse(Some("target=api&module=&debug=true"))
        else {
            panic!("module form")
        };
        assert_eq!(
            (module.as_str(), target.as_deref(), debug),
            ("http_2xx", Some("api"), true)
        );
        let Ok(ProbeQuery::Module { target, .. }) = parse(Some("module=m&target=")) else {
            panic!("module form")
        };
        assert_eq!(target, None, "an empty target is a missing one");
        assert!(matches!(
            parse(Some("target=api")),
            Ok(ProbeQuery::Selection(Selection::Named(_)))
        ));
        for q in [
            "module=m&samples=3",
            "module=m&url=http://x/",
            "module=m&debug=yes",
            "module=m&module=n",
            "module=m&appcode=x",
            "debug=true&target=api",
        ] {
            let e = parse(Some(q)).unwrap_err();
            assert_eq!(e.class, crate::error::ErrorClass::ConfigInvalid, "{q}");
        }
    }

    #[test]
    fn assertions_addresses_and_retry_as_the_command_line_has_them() {
        let s = selection(Some(
            "url=http://a.alicloudapi.com/&expect_status=200&expect_status=204\
             &expect_header=Content-Type%3A%20%5Eapplication%2Fjson&expect_header=X-Ca-Request-Id%3A\
             &expect_body=hello&expect_json=%2Fdata%2F0%2Fid%3D7&expect_json=%2Fok\
             &max_ms=250&cert_days_min=30&addresses=all&retry=2&retry_interval_ms=100",
        ))
        .unwrap();
        let Selection::Specs(specs) = s else {
            panic!("{s:?}")
        };
        let e = specs[0].expect.clone().expect("expect");
        assert_eq!(e.status, [200, 204]);
        assert_eq!(e.headers.len(), 2);
        assert_eq!(e.headers["Content-Type"].as_str(), "^application/json");
        assert_eq!(e.body.as_ref().map(|p| p.as_str()), Some("hello"));
        assert_eq!(e.json.len(), 2);
        assert_eq!((e.max_ms, e.cert_days_min), (Some(250), Some(30)));
        assert_eq!(specs[0].addresses, Some(crate::target::AddressMode::All));
        assert_eq!(
            specs[0].retry,
            Some(Retry {
                count: 2,
                interval_ms: Some(100)
            })
        );
        // Invalid regexes and pointers are refused as the query is read.
        for q in [
            "url=http://x/&expect_body=(",
            "url=http://x/&expect_header=X-A%3A%20(",
            "url=http://x/&expect_json=data%3D1",
            "url=http://x/&addresses=some",
            "url=http://x/&max_ms=soon",
            "url=http://x/&expect_body=a&expect_body=b",
        ] {
            let e = selection(Some(q)).unwrap_err();
            assert_eq!(e.class, crate::error::ErrorClass::ConfigInvalid, "{q}");
        }
    }

    #[test]
    fn refuses_unknown_repeated_and_malformed_parameters() {
        for q in [
            "urll=http://x/",
            "url=http://x/&url=http://y/",
            "url=http://x/&samples=many",
            "url=http://x/&samples=-1",
            "url=http://x/&return_body=maybe",
            "samples=2",
        ] {
            let e = selection(Some(q)).unwrap_err();
            assert_eq!(e.class, crate::error::ErrorClass::ConfigInvalid, "{q}");
        }
    }
}
