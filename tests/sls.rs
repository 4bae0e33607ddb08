//! The flat log line SLS indexes and alerts on (README "Logs in SLS"): the real binary against
//! the stand-in, its stdout read line by line. One line per target per invocation, no arrays,
//! within 1,000 bytes even for a hostile server, no secret; the README's field table and the
//! templates in deploy/sls/ checked against the lines the binary prints, and the templates
//! against the official SLS SDK's request models.

mod support;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use apigw_standin::{self as standin, StandIn};
use serde_json::{json, Map, Value};
use support::{invoke, Server};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The line's `message` (src/logline.rs).
const MESSAGE: &str = "target probed";

/// The longest line, newline included (src/logline.rs `LINE_LIMIT`).
const LINE_LIMIT: usize = 1000;

/// FC's own columns of the logstore that the templates may use beside `message`.
const FC_COLUMNS: &[&str] = &["functionName", "qualifier", "versionId", "instanceID"];

async fn stand_in() -> StandIn {
    StandIn::start(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .expect("stand-in")
}

/// The flat lines of the invocation `request_id` (waits for its access-log line first: the
/// target lines are written before the answer).
fn lines_of(server: &Server, request_id: &str) -> Vec<(String, Map<String, Value>)> {
    server.wait_for_access_log(request_id);
    server
        .stdout()
        .into_iter()
        .filter_map(|text| {
            let v: Value = serde_json::from_str(&text).ok()?;
            let map = v.as_object()?.clone();
            (map.get("message")? == MESSAGE && map.get("request_id")? == request_id)
                .then_some((text, map))
        })
        .collect()
}

/// Every value is a scalar but tracing's `span` (an object of scalars); nothing is an array.
fn assert_flat(text: &str, line: &Map<String, Value>) {
    assert!(!text.contains('['), "a [ in {text}");
    for (k, v) in line {
        match (k.as_str(), v) {
            ("span", Value::Object(span)) => {
                assert!(
                    span.values().all(|v| v.is_string() || v.is_number()),
                    "{text}"
                )
            }
            (_, Value::Array(_) | Value::Object(_) | Value::Null) => panic!("{k} in {text}"),
            _ => {}
        }
    }
    // The newline is the line's last byte.
    let bytes = text.len() + 1;
    assert!(bytes <= LINE_LIMIT, "{bytes} bytes: {text}");
}

/// A healthy target (three samples), a gateway error (I404NF: the API is not on RELEASE), a
/// name that does not exist and a closed port, invoked twice as FC would.
async fn probe_four_targets() -> (StandIn, Server, Vec<Vec<(String, Map<String, Value>)>>) {
    let s = stand_in().await;
    let nxdomain = format!(
        "http://{}:{}/web/cloudapi",
        standin::vpc_domain(standin::DISABLED_GROUP, standin::DEMO_REGION),
        s.gateway_addr().port()
    );
    let closed = format!("http://{}/web/cloudapi", support::closed_addr());
    let targets = json!([
        {"name": "healthy", "url": s.url("/web/cloudapi"), "samples": 3},
        {"name": "preview", "url": s.url("/web/preview")},
        {"name": "nxdomain", "url": nxdomain},
        {"name": "closed", "url": closed, "auth": "none"},
    ])
    .to_string();
    let dns = s.dns_addr().to_string();
    let server = Server::start(&[
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_DNS_SERVERS", dns.as_str()),
        ("APIGW_APP_KEY", standin::DEMO_APP_KEY),
        ("APIGW_APP_SECRET", standin::DEMO_APP_SECRET),
        ("APIGW_ALLOW_HOSTS", "*.alicloudapi.com,127.0.0.1"),
        // The cross-check asked for without credentials: each failed target's verdict is
        // credentials.missing, which the line carries.
        ("APIGW_CONFIG_CHECK", "on-failure"),
    ]);
    let mut runs = Vec::new();
    for id in ["sls-run-1", "sls-run-2"] {
        let answer = invoke(&server, id, "{}").await;
        assert_eq!(answer.status, 404, "a target failed");
        runs.push(lines_of(&server, id));
    }
    (s, server, runs)
}

fn by_name<'a>(lines: &'a [(String, Map<String, Value>)], name: &str) -> &'a Map<String, Value> {
    &lines
        .iter()
        .find(|(_, l)| l["target_name"] == name)
        .unwrap_or_else(|| panic!("no line for {name}: {lines:#?}"))
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_flat_line_per_target_per_invocation() {
    let (_s, _server, runs) = probe_four_targets().await;
    for (run, id) in runs.iter().zip(["sls-run-1", "sls-run-2"]) {
        let names: Vec<&Value> = run.iter().map(|(_, l)| &l["target_name"]).collect();
        assert_eq!(
            names,
            ["healthy", "preview", "nxdomain", "closed"],
            "one line per target, in the report's order: {run:#?}"
        );
        for (text, line) in run {
            assert_flat(text, line);
            assert_eq!(line["span"]["request_id"], id, "{text}");
            assert_eq!(line["trigger"], "event", "{text}");
        }

        let healthy = by_name(run, "healthy");
        assert!(
            healthy.get("config_check").is_none(),
            "a passing target: no cross-check"
        );
        assert_eq!(
            by_name(run, "nxdomain")["config_check"],
            "credentials.missing",
            "the failed target's cross-check verdict"
        );
        assert_eq!(healthy["ok"], true);
        assert_eq!(healthy["samples"], 3);
        assert_eq!(healthy["status"], 200);
        assert_eq!(healthy["scope"], "loopback");
        assert!(healthy["gateway_request_id"].as_str().unwrap().len() >= 16);
        for k in ["class", "failed_phase", "error", "gateway_code"] {
            assert!(!healthy.contains_key(k), "{k} on an ok line: {healthy:?}");
        }
        let phases = [
            "dns_ms",
            "connect_ms",
            "tls_ms",
            "send_ms",
            "ttfb_ms",
            "transfer_ms",
        ];
        let sum: f64 = phases.iter().map(|p| healthy[*p].as_f64().unwrap()).sum();
        let total = healthy["total_ms"].as_f64().unwrap();
        assert!(total > 0.0 && (sum - total).abs() < 0.01, "{healthy:?}");
        let (p50, p90, max) = (
            healthy["p50_ms"].as_f64().unwrap(),
            healthy["p90_ms"].as_f64().unwrap(),
            healthy["max_ms"].as_f64().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p90 && p90 <= max, "{healthy:?}");

        let preview = by_name(run, "preview");
        assert_eq!(preview["ok"], false);
        assert_eq!(preview["class"], "gateway.I404NF");
        assert_eq!(preview["failed_phase"], "answer");
        assert_eq!(preview["gateway_code"], "I404NF");
        assert_eq!(preview["status"], 404);
        assert!(preview["gateway_request_id"].is_string(), "{preview:?}");
        assert!(
            preview["error"].as_str().unwrap().contains("I404NF"),
            "{preview:?}"
        );

        let nxdomain = by_name(run, "nxdomain");
        assert_eq!(nxdomain["class"], "dns.nxdomain");
        assert_eq!(nxdomain["failed_phase"], "dns");
        assert!(!nxdomain.contains_key("status") && !nxdomain.contains_key("scope"));
        assert!(!nxdomain.contains_key("p50_ms"), "no sample answered");

        let closed = by_name(run, "closed");
        assert_eq!(closed["class"], "tcp.refused");
        assert_eq!(closed["failed_phase"], "connect");
        assert!(closed["connect_ms"].as_f64().is_some());
    }
}

/// A value of `n` characters an id may hold (`x-fc-request-id`: alphanumerics and `-_.:`).
fn long_id(n: usize) -> String {
    "1-6560a1b2-"
        .chars()
        .chain(std::iter::repeat('a'))
        .take(n)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_server_cannot_make_the_line_long_or_leak_a_secret() {
    // An AppCode in a configured URL is a secret. The echoing backend sends the query back in
    // X-Ca-Request-Id and X-Ca-Error-Message (README "The local stand-in"): after a padding of
    // `pad` characters, so that the cut of `gateway_request_id` falls before, inside and after
    // it, and before a tail that makes both headers long.
    let secret = "zQ9urlcode7d3e9a01b2c4f6";
    let backend = support::backend().await;
    let target = |name: String, pad: usize, tail: usize| {
        json!({
            "name": name,
            "url": format!(
                "http://{}/echo?status=403&pad={}&AppCode={secret}&tail={}",
                backend.addr(),
                "p".repeat(pad),
                "t".repeat(tail)
            ),
            "auth": "none",
        })
    };
    // Long everything: the name, FC's request id (as long as the runtime takes one), both
    // gateway headers (cut to 512 characters in the report, after redaction).
    let hostile = (0..3).map(|i| target(format!("{}{i}", "n".repeat(300)), 60, 4000));
    // Short names, and headers the report keeps whole (under 512 characters): the secret at
    // every distance from the line's cut.
    let shifting = (0..10).map(|i| target(format!("t{i}"), 59 + 4 * i, 250));
    let hostile = Value::Array(hostile.collect());
    let shifting = Value::Array(shifting.collect());
    let mut cut_at_the_secret = 0;
    for (targets, id) in [(hostile, long_id(128)), (shifting, long_id(40))] {
        let targets = targets.to_string();
        let server = Server::start(&[("APIGW_TARGETS", targets.as_str())]);
        let answer = invoke(&server, &id, "{}").await;
        assert_eq!(answer.status, 404);
        let lines = lines_of(&server, &id);
        assert!(lines.len() >= 3, "{lines:#?}");
        for (text, line) in &lines {
            assert_flat(text, line);
            assert_eq!(line["class"], "http.status", "{text}");
            assert_eq!(line["failed_phase"], "answer", "{text}");
            assert_eq!(line["status"], 403, "{text}");
            // The long value is cut and says so; the line took what it needed, not less.
            assert!(
                line["gateway_request_id"].as_str().unwrap().ends_with('…'),
                "{text}"
            );
            assert!(
                !text.contains(&secret[..6]),
                "a piece of the secret: {text}"
            );
            cut_at_the_secret += usize::from(text.contains("AppCode=*"));
            println!("{} bytes with the newline", text.len() + 1);
        }
        if id.len() == 128 {
            for (text, line) in &lines {
                assert!(
                    line["target_name"].as_str().unwrap().ends_with('…'),
                    "{text}"
                );
                assert!(
                    text.len() > LINE_LIMIT - 100,
                    "cut more than needed: {text}"
                );
            }
        } else {
            assert!(
                lines.iter().all(|(_, l)| l["error"].is_string()),
                "{lines:#?}"
            );
        }
        // The report and every other line keep it out too.
        let log = server.stdout().join("\n");
        assert!(!log.contains(secret), "{log}");
    }
    assert!(cut_at_the_secret > 3, "the masked AppCode was never kept");
}

/// The keys of every flat line the four targets printed.
async fn printed_keys() -> BTreeSet<String> {
    let (_s, _server, runs) = probe_four_targets().await;
    runs.iter()
        .flatten()
        .flat_map(|(_, l)| l.keys().cloned())
        .collect()
}

/// The first column of README's field table under "Logs in SLS".
fn readme_fields() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).expect("README.md");
    let marker = "<!-- sls-fields:";
    let start = readme
        .find(marker)
        .expect("README has the sls-fields table");
    readme[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .flat_map(|row| {
            // A cell may name several fields: `p50_ms`, `p90_ms`, `max_ms`.
            let cell = row.split('|').nth(1).unwrap_or_default();
            cell.split(',')
                .map(|name| name.trim().trim_matches('`').to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_documents_exactly_the_fields_the_line_prints() {
    let printed = printed_keys().await;
    let documented = readme_fields();
    assert_eq!(documented, printed, "README table vs printed lines");
}

/// The templates in deploy/sls/, parsed.
fn templates() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(format!("{ROOT}/deploy/sls")).expect("deploy/sls") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("template");
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((path.file_name().unwrap().to_string_lossy().into_owned(), v));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 5, "{out:?}");
    out
}

/// The `message.<field>` paths a search or SQL statement reads.
fn fields_in_query(query: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in query.match_indices("message.") {
        // `message.message` is the line's own `message`; a preceding letter makes another name.
        if query[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = query[i + "message.".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        out.insert(name);
    }
    out
}

#[test]
fn the_query_parser_finds_search_and_sql_fields() {
    let q = r#"message.message: "target probed" and message.ok: false | select "message.class" as c, mymessage.x, approx_percentile("message.total_ms", 0.95)"#;
    let found: Vec<String> = fields_in_query(q).into_iter().collect();
    assert_eq!(found, ["class", "message", "ok", "total_ms"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_the_templates_index_or_query_is_one_the_line_prints() {
    let printed = printed_keys().await;
    let known = |f: &str| printed.contains(f);
    let mut queried = BTreeSet::new();
    let mut indexed = BTreeSet::new();
    for (file, t) in templates() {
        assert!(
            t["sources"].as_array().is_some_and(|s| !s.is_empty()),
            "{file} names no sources"
        );
        let body = &t["body"];
        let mut queries: Vec<&str> = Vec::new();
        match t["action"].as_str() {
            Some("CreateIndex") => {
                let keys = body["keys"].as_object().expect("keys");
                for k in keys.keys().filter(|k| *k != "message") {
                    assert!(FC_COLUMNS.contains(&k.as_str()), "{file}: {k} is not FC's");
                }
                for k in body["keys"]["message"]["json_keys"]
                    .as_object()
                    .expect("json_keys")
                    .keys()
                {
                    assert!(known(k), "{file} indexes message.{k}, which no line prints");
                    indexed.insert(k.clone());
                }
            }
            Some("CreateSavedSearch") => queries.push(body["searchQuery"].as_str().unwrap()),
            Some("CreateAlert") => {
                for q in body["configuration"]["queryList"].as_array().unwrap() {
                    queries.push(q["query"].as_str().unwrap());
                }
            }
            other => panic!("{file}: action {other:?}"),
        }
        for q in queries {
            assert!(
                q.starts_with(&format!("message.message: \"{MESSAGE}\"")),
                "{file}: {q}"
            );
            let fields = fields_in_query(q);
            assert!(fields.len() > 2, "{file}: {q}");
            for f in fields {
                assert!(
                    known(&f),
                    "{file} queries message.{f}, which no line prints"
                );
                queried.insert(f);
            }
            for column in ["functionName"] {
                if q.contains(column) {
                    assert!(FC_COLUMNS.contains(&column));
                }
            }
        }
    }
    // SQL reads only indexed keys: every queried field has its own typed key.
    let unindexed: Vec<_> = queried.difference(&indexed).collect();
    assert!(
        unindexed.is_empty(),
        "queried but not indexed: {unindexed:?}"
    );
}

/// The venv's python: `$PY_SDK` when set (then missing is a failure), else
/// `target/py-sdk/bin/python` if present, else `None` (the caller skips).
fn py_sdk() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PY_SDK").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(p.exists(), "PY_SDK={} does not exist", p.display());
        return Some(p);
    }
    let p = PathBuf::from(ROOT).join("target/py-sdk/bin/python");
    if p.exists() {
        return Some(p);
    }
    println!("SKIPPED (python sdk): run make py-sdk");
    None
}

#[test]
fn the_templates_are_bodies_the_official_sls_sdk_sends() {
    let Some(python) = py_sdk() else { return };
    let out = std::process::Command::new(python)
        .arg(format!("{ROOT}/tests/py/check_sls_templates.py"))
        .arg(format!("{ROOT}/deploy/sls"))
        .output()
        .expect("run python");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        templates().len(),
        "{text}"
    );
}
