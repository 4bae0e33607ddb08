//! Property tests over what a caller controls: event parsing (`Event::parse`), `/probe` query
//! parsing (`runtime::query::selection`) and URL policy (`TargetSpec::build`,
//! `policy::check_target`, `policy::check_address`), plus the regression cases of issue 9 from
//! `tests/fixtures/regressions/`. A unit-test module, so that it reaches the crate's internal
//! parsing and policy functions, which are not public API.
//!
//! Why proptest and not `cargo fuzz`: cargo-fuzz needs nightly flags (`-Zsanitizer`). On this
//! machine's stable 1.95 it does build with `RUSTC_BOOTSTRAP=1`, but installing it and building
//! the instrumented target took about 9 CPU-minutes on top of `make test`, through an escape
//! hatch meant for the compiler's own build. Here every property runs a fixed number of cases
//! with a fixed seed, inside `cargo test`, in a few seconds.
//!
//! Properties: nothing panics; whatever is refused is `config.invalid` or `target.forbidden`
//! with a hint; a request target that passes the policy never dials a forbidden, loopback or own
//! address unless the allow-list names that address; a secret value in the input never appears
//! in a message.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::Settings;
use crate::error::{ErrorClass, ProbeError};
use crate::event::{self, Configured, Event, Selection};
use crate::policy::{self, AddressKind, AllowList};
use crate::runtime::query;
use crate::target::{Origin, TargetDefaults, TargetSpec};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

/// The value every generated secret carries: it must never come back in a message.
const MARKER: &str = "S3cr3tMarker";

/// A runner with a fixed seed and case count, so the run is bounded and repeatable; failures
/// are reported, not written next to the sources (the regressions live in the fixtures).
fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[9; 32]))
}

/// IPv4 addresses the policy cares about, and some it does not.
fn interesting_v4() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        Just(Ipv4Addr::new(100, 100, 100, 200)),
        any::<u16>().prop_map(|n| Ipv4Addr::new(169, 254, (n >> 8) as u8, n as u8)),
        any::<[u8; 3]>().prop_map(|[a, b, c]| Ipv4Addr::new(127, a, b, c)),
        any::<[u8; 3]>().prop_map(|[a, b, c]| Ipv4Addr::new(0, a, b, c)),
        Just(Ipv4Addr::UNSPECIFIED),
        Just(Ipv4Addr::new(100, 104, 112, 10)),
        Just(Ipv4Addr::new(10, 0, 0, 1)),
        any::<[u8; 4]>().prop_map(Ipv4Addr::from),
    ]
}

/// How an address is written: plain IPv4, or an IPv6 form that carries it.
#[derive(Clone, Copy, Debug)]
enum Form {
    Plain,
    Mapped,
    Compatible,
    Nat64,
    Nat64Local96,
    SixToFour,
}

fn write(v4: Ipv4Addr, form: Form) -> IpAddr {
    let [a, b, c, d] = v4.octets();
    let (hi, lo) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
    IpAddr::V6(match form {
        Form::Plain => return IpAddr::V4(v4),
        Form::Mapped => v4.to_ipv6_mapped(),
        Form::Compatible => Ipv6Addr::new(0, 0, 0, 0, 0, 0, hi, lo),
        Form::Nat64 => Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo),
        Form::Nat64Local96 => Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, hi, lo),
        Form::SixToFour => Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1),
    })
}

/// An address with what an independent reading says of it: (never dialled, needs a literal
/// allow-list entry for request targets). Own addresses are left to the policy's unit tests:
/// here only addresses whose meaning does not depend on the machine.
fn address() -> impl Strategy<Value = (IpAddr, bool, bool)> {
    let form = prop_oneof![
        Just(Form::Plain),
        Just(Form::Mapped),
        Just(Form::Compatible),
        Just(Form::Nat64),
        Just(Form::Nat64Local96),
        Just(Form::SixToFour),
    ];
    let written = (interesting_v4(), form).prop_map(|(v4, form)| {
        let ip = write(v4, form);
        let [a, b, ..] = v4.octets();
        let metadata_or_ll = v4 == Ipv4Addr::new(100, 100, 100, 200) || (a == 169 && b == 254);
        // The kernel reads 0.0.0.0/8 as this host only as IPv4 or IPv4-mapped; `::` itself is
        // the unspecified IPv6 address.
        let unspecified = a == 0 && matches!(form, Form::Plain | Form::Mapped)
            || ip == IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        let loopback = a == 127 || ip == IpAddr::V6(Ipv6Addr::LOCALHOST);
        (ip, metadata_or_ll || unspecified, loopback)
    });
    let other_v6 = any::<[u16; 8]>()
        .prop_filter("not an embedding or special prefix", |s| {
            !(s[0] == 0 || s[0] == 0x64 || s[0] == 0x2002 || s[0] & 0xffc0 == 0xfe80)
        })
        .prop_map(|s| {
            (
                IpAddr::V6(Ipv6Addr::new(
                    s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
                )),
                false,
                false,
            )
        });
    let special_v6 = prop_oneof![
        Just((IpAddr::V6(Ipv6Addr::UNSPECIFIED), true, false)),
        Just((IpAddr::V6(Ipv6Addr::LOCALHOST), false, true)),
        any::<u64>().prop_map(|n| {
            let ll = Ipv6Addr::from((0xfe80u128 << 112) | u128::from(n));
            (IpAddr::V6(ll), true, false)
        }),
    ];
    prop_oneof![6 => written, 1 => other_v6, 1 => special_v6]
}

/// Allow-lists, some naming loopback addresses literally.
fn allow_list() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*.alicloudapi.com".to_owned()),
        Just("*".to_owned()),
        Just("*,127.0.0.1".to_owned()),
        Just("*.alicloudapi.com,127.0.0.1,::1".to_owned()),
        Just("*,[::1],0.0.0.0,100.100.100.200".to_owned()),
    ]
}

/// Host names: allowed, not allowed, and the tricky ones.
fn host_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,8}\\.alicloudapi\\.com",
        "[a-z0-9-]{1,8}\\.[a-z]{2,4}",
        Just("alicloudapi.com".to_owned()),
        Just("evil.com, ok.alicloudapi.com".to_owned()),
        Just("a/b.alicloudapi.com".to_owned()),
        Just("a@b.alicloudapi.com".to_owned()),
        Just("ok.alicloudapi.com;x".to_owned()),
        Just("ok.alicloudapi.com.".to_owned()),
        Just(String::new()),
        "[ -~]{0,24}",
        "\\PC{0,12}",
    ]
}

/// Query parameter names that are AppCode however written, and others.
fn query_name() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        prop_oneof![
            Just("AppCode"),
            Just("APPCODE"),
            Just("app%43ode"),
            Just("App%09Code"),
            Just("App\tCode"),
            Just("%20appcode%20"),
            Just("+AppCode+"),
            Just("app+code"),
            Just("App%0aCode"),
            Just("a=1;AppCode"),
        ]
        .prop_map(|n| (n.to_owned(), true)),
        "[a-z]{1,8}".prop_map(|n| {
            let secret = n == "appcode";
            (n, secret)
        }),
    ]
}

/// A URL from the pieces above: an IP literal or a name, a port, a path and a query that may
/// carry the marker as an AppCode.
fn url() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        address().prop_map(|(ip, ..)| match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        }),
        host_name(),
    ];
    (
        prop_oneof![
            Just("http".to_owned()),
            Just("https".to_owned()),
            Just("ftp".to_owned()),
            "[a-z]{1,5}",
        ],
        host,
        proptest::option::of(any::<u16>()),
        "(/[a-zA-Z0-9%._~-]{0,6}){0,3}",
        proptest::option::of(query_name()),
    )
        .prop_map(|(scheme, host, port, path, query)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let query = match query {
                Some((name, secret)) => format!("?{name}={}", value(secret)),
                None => String::new(),
            };
            format!("{scheme}://{host}{port}{path}{query}")
        })
}

/// The marker as the value of a secret-named parameter; any other parameter's value may be
/// echoed (e.g. "samples must be a whole number, not …").
fn value(secret: bool) -> &'static str {
    if secret {
        MARKER
    } else {
        "v"
    }
}

fn defaults() -> TargetDefaults {
    TargetDefaults {
        region: Some("cn-shanghai".into()),
        timeout: std::time::Duration::from_secs(1),
        max_samples: 5,
        credentials: Default::default(),
        signing_hosts: Default::default(),
    }
}

/// A refusal is one of the two classes the policy and parsing use, says something, hints, and
/// does not echo a secret.
fn check_refusal(e: &ProbeError) -> Result<(), TestCaseError> {
    check_class(e)?;
    prop_assert!(!e.message.contains(MARKER), "secret echoed: {e:?}");
    prop_assert!(!e.hint.contains(MARKER), "secret echoed: {e:?}");
    Ok(())
}

/// The class and the hint of a refusal (for steps that are not the secrets' gate).
fn check_class(e: &ProbeError) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(
            e.class,
            ErrorClass::ConfigInvalid | ErrorClass::TargetForbidden
        ),
        "class {}",
        e.class
    );
    prop_assert!(!e.message.is_empty() && !e.hint.is_empty(), "{e:?}");
    Ok(())
}

/// What must hold of a request target that passed: its literal address (if any) may be dialled.
fn check_passed(ip: Option<IpAddr>, allow: &AllowList) -> Result<(), TestCaseError> {
    if let Some(ip) = ip {
        let class = policy::classify(ip, policy::own_addresses());
        prop_assert!(!class.kind.never_dialled(), "{ip} passed");
        prop_assert!(
            !matches!(class.kind, AddressKind::Loopback | AddressKind::Own)
                || allow.names_address(ip),
            "{ip} passed without a literal entry"
        );
    }
    Ok(())
}

#[test]
fn check_address_agrees_with_an_independent_reading() {
    runner(2000)
        .run(
            &(address(), allow_list(), "[a-z.]{1,12}"),
            |((ip, never, loopback), list, host)| {
                let allow = AllowList::parse(&list);
                let named = allow.names_address(ip);
                for origin in [Origin::Request, Origin::Config, Origin::Cli] {
                    let got = policy::check_address(&host, ip, origin, &allow);
                    let refused = never || (origin == Origin::Request && loopback && !named);
                    // An address of this machine is refused beyond the independent reading, which
                    // knows nothing of it: then the address (or the IPv4 one it carries) must be
                    // one of the interfaces'.
                    let own = policy::own_addresses();
                    let class = policy::classify(ip, own);
                    if origin == Origin::Request && class.kind == AddressKind::Own {
                        let carried = class.embedded.map(|(v4, _)| IpAddr::V4(v4));
                        prop_assert!(
                            own.contains(&ip) || carried.is_some_and(|c| own.contains(&c))
                        );
                        prop_assert!(got.is_err() || named);
                    } else {
                        prop_assert_eq!(got.is_err(), refused, "{} {:?} {}", ip, origin, list);
                    }
                    if let Err(e) = &got {
                        prop_assert_eq!(&e.class, &ErrorClass::TargetForbidden);
                        check_refusal(e)?;
                        prop_assert!(e.message.contains(&ip.to_string()), "{e:?}");
                    }
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn url_policy_never_lets_a_request_target_reach_what_it_must_not() {
    let headers = proptest::option::of(host_name());
    runner(1500)
        .run(
            &(url(), allow_list(), headers, address()),
            |(url, list, host_header, (resolved, ..))| {
                let allow = AllowList::parse(&list);
                let mut spec = TargetSpec::from_url(url.clone());
                if let Some(h) = &host_header {
                    spec.headers.insert("Host".into(), h.clone());
                }
                // Building is not where secrets are refused (the event path below is): only the
                // class is checked here.
                let built = spec.build(&defaults(), Origin::Request);
                let target = match built {
                    Ok(t) => t,
                    Err(e) => {
                        check_class(&e)?;
                        return plan_event(&event_body(&url, host_header), &list);
                    }
                };
                match policy::check_target(&target, &allow) {
                    Err(e) => check_class(&e)?,
                    Ok(()) => {
                        prop_assert!(allow.allows(&target.host), "{url} passed");
                        check_passed(target.address_override, &allow)?;
                        if let Some(h) = &host_header {
                            let (name, _) = crate::target::parse_host_header(h)
                                .map_err(|e| TestCaseError::fail(format!("{h:?}: {e}")))?;
                            prop_assert!(allow.allows(name), "Host {h:?} passed");
                            prop_assert!(
                                !h.contains([',', '/', '@', ';', ' ']),
                                "Host {h:?} passed"
                            );
                        }
                    }
                }
                // What a name resolves to is checked at dial time the same way.
                if policy::check_address(&target.host, resolved, Origin::Request, &allow).is_ok() {
                    check_passed(Some(resolved), &allow)?;
                }
                // The event path adds the secret rules: an AppCode in the query is refused.
                plan_event(&event_body(&url, host_header), &list)
            },
        )
        .unwrap();
}

/// `{"url": …}`, with a `Host` header when there is one.
fn event_body(url: &str, host_header: Option<String>) -> Vec<u8> {
    let body = match host_header {
        Some(h) => json!({ "url": url, "headers": {"Host": h} }),
        None => json!({ "url": url }),
    };
    body.to_string().into_bytes()
}

/// Parses and plans an event as a request would; checks every planned target.
fn plan_event(body: &[u8], list: &str) -> Result<(), TestCaseError> {
    let event = match Event::parse(body) {
        Ok(e) => e,
        Err(e) => return check_refusal(&e),
    };
    plan_selection(event.selection, list)
}

fn plan_selection(selection: Selection, list: &str) -> Result<(), TestCaseError> {
    let settings = Settings::from_lookup(|k| (k == "APIGW_ALLOW_HOSTS").then(|| list.to_owned()));
    let planned = match event::plan(
        selection,
        &settings,
        &Configured::build(&settings),
        Origin::Request,
    ) {
        Ok(p) => p,
        Err(e) => return check_refusal(&e),
    };
    for p in planned {
        match p {
            Ok(t) => {
                // The marker is only ever the value of an AppCode parameter (however written).
                prop_assert!(
                    !t.url.as_str().contains(MARKER),
                    "an AppCode in {} passed",
                    t.url
                );
                check_passed(t.address_override, &settings.allow_hosts)?;
            }
            Err(report) => {
                let e = report.error.clone().expect("a failed target has an error");
                check_refusal(&e)?;
            }
        }
    }
    Ok(())
}

/// Events: arbitrary bytes, and JSON built from the fields an event has, with secrets in them.
#[test]
fn event_parsing_never_panics_and_never_echoes_a_secret() {
    runner(1000)
        .run(&proptest::collection::vec(any::<u8>(), 0..256), |bytes| {
            if let Err(e) = Event::parse(&bytes) {
                check_refusal(&e)?;
            }
            Ok(())
        })
        .unwrap();

    let secret_key = prop_oneof![
        Just("app_secret"),
        Just("AppCode"),
        Just("app%53ecret"),
        Just("App Code"),
        Just("password"),
        Just("securityToken"),
    ];
    let field = prop_oneof![
        url().prop_map(|u| ("url".to_owned(), json!(u))),
        Just(("samples".to_owned(), json!(2))),
        any::<i64>().prop_map(|n| ("samples".to_owned(), json!(n))),
        Just(("target".to_owned(), json!("api"))),
        "[a-z_]{1,10}".prop_map(|k| (k, json!(1))),
        secret_key.prop_map(|k| (k.to_owned(), json!(MARKER))),
        host_name().prop_map(|h| ("headers".to_owned(), json!({"Host": h}))),
        Just((
            "group".to_owned(),
            json!("0123456789abcdef0123456789abcdef")
        )),
        query_name().prop_map(|(n, secret)| (
            "path".to_owned(),
            json!(format!("/x?{n}={}", value(secret)))
        )),
    ];
    let object = proptest::collection::vec(field, 0..5).prop_map(|fields| {
        Value::Object(
            fields
                .into_iter()
                .collect::<serde_json::Map<String, Value>>(),
        )
    });
    let event = prop_oneof![
        object.clone(),
        proptest::collection::vec(object.clone(), 0..4).prop_map(|t| json!({ "targets": t })),
        object.prop_map(|o| json!({
            "triggerTime": "2026-11-24T05:49:00Z",
            "triggerName": "t",
            "payload": o.to_string(),
        })),
    ];
    runner(1000)
        .run(&(event, allow_list()), |(event, list)| {
            let text = event.to_string();
            plan_event(text.as_bytes(), &list)
        })
        .unwrap();
}

/// `/probe` queries: arbitrary text, and queries built from the known parameters, secret names
/// and encoded URLs.
#[test]
fn query_parsing_never_panics_and_never_echoes_a_secret() {
    runner(1000)
        .run(&"\\PC{0,64}", |q| {
            if let Err(e) = query::selection(Some(&q)) {
                check_refusal(&e)?;
            }
            Ok(())
        })
        .unwrap();

    let param = prop_oneof![
        url().prop_map(|u| format!(
            "url={}",
            url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>()
        )),
        proptest::sample::select(query::PARAMS).prop_map(|p| format!("{p}=1")),
        query_name().prop_map(|(n, secret)| format!("{n}={}", value(secret))),
        Just("samples=3".to_owned()),
        Just("return_body".to_owned()),
    ];
    runner(1000)
        .run(
            &(proptest::collection::vec(param, 0..5), allow_list()),
            |(params, list)| {
                let q = params.join("&");
                match query::selection(Some(&q)) {
                    Err(e) => check_refusal(&e),
                    Ok(selection) => plan_selection(selection, &list),
                }
            },
        )
        .unwrap();
}

/// The regression cases of issue 9, one file per rule under `tests/fixtures/regressions/`.
fn regressions(file: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/regressions/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        v["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("issue 9")),
        "{path} names its source"
    );
    assert!(
        v["cases"].as_array().is_some_and(|c| !c.is_empty()),
        "{path}"
    );
    v
}

fn str_of<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {case}"))
}

/// `expect` ("ok", or the class) and `says` (a substring of the message) against a result.
fn check_expected(case: &Value, got: Result<(), ProbeError>) {
    match (str_of(case, "expect"), got) {
        ("ok" | "applies", Ok(())) => {}
        (want, Err(e)) if want == e.class.name() => {
            let says = str_of(case, "says");
            assert!(e.message.contains(says), "{case}: {}", e.message);
            assert!(!e.hint.is_empty(), "{case}");
        }
        (want, got) => panic!("{case}: expected {want}, got {got:?}"),
    }
}

/// The redactor searches a value's anchor before its forms (`redact::anchor`): a form without
/// the anchor would be a secret left in the output.
#[test]
fn every_form_of_a_secret_contains_its_anchor() {
    let value = proptest::collection::vec(
        prop_oneof![
            1 => Just('%'),
            1 => Just('+'),
            1 => Just('/'),
            1 => Just('='),
            1 => Just('"'),
            1 => Just('\\'),
            1 => Just(' '),
            1 => Just('\n'),
            1 => Just('é'),
            1 => Just('中'),
            10 => proptest::char::range('0', '9'),
            10 => proptest::char::range('A', 'F'),
            20 => proptest::char::range('a', 'z'),
        ],
        8..48,
    )
    .prop_map(|chars| chars.into_iter().collect::<String>());
    let anchored = std::sync::atomic::AtomicUsize::new(0);
    runner(2000)
        .run(&value, |value| {
            if let Some(anchor) = crate::redact::anchor(&value) {
                anchored.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                for form in crate::redact::forms(&value) {
                    prop_assert!(
                        form.contains(anchor),
                        "{value:?}: {form:?} lacks {anchor:?}"
                    );
                }
                let r = crate::redact::Redactor::default();
                r.add(&value);
                let text = format!("<{value}>");
                prop_assert_eq!(r.redact(&text), format!("<{}>", crate::redact::MASK));
            }
            Ok(())
        })
        .unwrap();
    // The property must have been tried on anchored values, not only skipped.
    assert!(anchored.into_inner() > 500);
}

#[test]
fn regressions_addresses() {
    for case in regressions("addresses.json")["cases"].as_array().unwrap() {
        let address = str_of(case, "address");
        let ip: IpAddr = address.parse().unwrap_or_else(|e| panic!("{case}: {e}"));
        let origin = match str_of(case, "origin") {
            "request" => Origin::Request,
            "config" => Origin::Config,
            "cli" => Origin::Cli,
            other => panic!("origin {other}"),
        };
        let allow = AllowList::parse(str_of(case, "allow"));
        check_expected(case, policy::check_address(address, ip, origin, &allow));
    }
}

#[test]
fn regressions_host_headers() {
    for case in regressions("host-headers.json")["cases"]
        .as_array()
        .unwrap()
    {
        let mut spec = TargetSpec::from_url("http://ok.alicloudapi.com/");
        spec.headers
            .insert("Host".into(), str_of(case, "host").to_owned());
        let got = spec
            .build(&defaults(), Origin::Request)
            .and_then(|t| policy::check_target(&t, &AllowList::default()));
        check_expected(case, got);
    }
}

#[test]
fn regressions_appcode_names() {
    let file = regressions("appcode-names.json");
    let secret = str_of(&file, "secret");
    let settings = Settings::default();
    for case in file["cases"].as_array().unwrap() {
        let selection = if let Some(q) = case["query"].as_str() {
            query::selection(Some(q))
        } else {
            Event::parse(case["event"].to_string().as_bytes()).map(|e| e.selection)
        };
        let error = match selection {
            Err(e) => e,
            Ok(selection) => {
                let planned = event::plan(
                    selection,
                    &settings,
                    &Configured::build(&settings),
                    Origin::Request,
                )
                .unwrap_or_else(|e| panic!("{case}: {e}"));
                let failed = planned[0]
                    .as_ref()
                    .err()
                    .unwrap_or_else(|| panic!("{case} was accepted"));
                failed.error.clone().unwrap()
            }
        };
        assert_eq!(error.class, ErrorClass::ConfigInvalid, "{case}: {error}");
        assert!(
            error.message.contains(str_of(case, "says")),
            "{case}: {error}"
        );
        assert!(!error.message.contains(secret), "{case}: {error}");
        assert!(!error.hint.contains(secret), "{case}: {error}");
    }
}

#[tokio::test]
async fn regressions_resolve() {
    use crate::probe::{Invocation, Prober};
    use crate::report::Trigger;
    let prober = Prober::new(std::sync::Arc::new(Settings::default()));
    for case in regressions("resolve.json")["cases"].as_array().unwrap() {
        let url = str_of(case, "url");
        let entry = &case["resolve"];
        let (host, port, addr) = (
            entry[0].as_str().unwrap().to_owned(),
            entry[1].as_u64().unwrap() as u16,
            entry[2].as_str().unwrap().parse().unwrap(),
        );
        let mut inv = Invocation::new(
            Trigger::Cli,
            "regression",
            Selection::Specs(vec![TargetSpec::from_url(url)]),
        );
        inv.origin = Origin::Cli;
        inv.resolve = vec![(host, port, addr)];
        let got = prober.run(inv).await.map(|report| {
            // Applied: the address came from the entry, not from DNS.
            assert_eq!(
                report.targets[0].dns.as_ref().map(|d| d.source),
                Some(crate::report::DnsSource::Override),
                "{case}"
            );
        });
        check_expected(case, got);
    }
}
