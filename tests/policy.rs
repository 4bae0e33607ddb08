//! What the function may call, through the real binary: forbidden address forms, loopback and
//! the instance's own addresses for targets from requests, `Host` headers, `--resolve` entries
//! and AppCode query names (issue 9). Anything that could send a packet towards a forbidden
//! address runs inside an isolated network namespace (`netns`).

mod netns;
mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use apigw_standin::{Backend, Behaviour, DnsServer, Zone};
use apigw_vpc_probe::report::{DnsSource, Report};
use serde_json::Value;
use support::{class, error, probe_cli, sample, target, Server};

/// The stand-in's backend on `ip`; it counts the connections it accepted.
async fn backend(ip: IpAddr) -> Backend {
    Backend::start(SocketAddr::new(ip, 0))
        .await
        .expect("the stand-in backend")
}

/// The stand-in DNS server on loopback, answering each name with its address.
async fn dns(names: &[(&str, IpAddr)]) -> DnsServer {
    let zone = Zone::default();
    for (name, ip) in names {
        zone.set(name, Behaviour::Answer(vec![*ip]));
    }
    DnsServer::start(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0), zone)
        .await
        .expect("dns")
}

/// `GET /probe?url=<url>` (the HTTP trigger).
async fn trigger(function: &Server, url: &str) -> support::Answer {
    let probe = url::Url::parse_with_params(&function.url("/probe"), [("url", url)]).unwrap();
    support::get(probe.as_str(), &[]).await
}

fn message(report: &Report) -> &str {
    &error(report).message
}

/// IPv6 forms that embed the metadata service or a link-local address: refused before any
/// packet, and the message says what the address is.
#[test]
fn ipv6_forms_embedding_a_forbidden_address_are_refused_without_a_packet() {
    netns::isolated(|| async {
        for (url, said) in [
            (
                "http://[::ffff:100.100.100.200]/",
                "the metadata service (100.100.100.200, embedded in an IPv4-mapped IPv6 address)",
            ),
            (
                "http://[::100.100.100.200]/",
                "the metadata service (100.100.100.200, embedded in an IPv4-compatible IPv6 address)",
            ),
            (
                "http://[64:ff9b::100.100.100.200]/",
                "the metadata service (100.100.100.200, embedded in a NAT64 IPv6 address (64:ff9b::/96))",
            ),
            (
                "http://[64:ff9b:1::a9fe:a9fe]/",
                "a link-local address (169.254.169.254, embedded in a local-use NAT64 IPv6 address",
            ),
            (
                "http://[2002:a9fe:a9fe::1]/",
                "a link-local address (169.254.169.254, embedded in a 6to4 IPv6 address (2002::/16))",
            ),
            ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
            ("http://[::]/", ":: is an unspecified address"),
        ] {
            let (code, report) = probe_cli(&[url], &[]).await;
            assert_eq!(class(&report), "target.forbidden", "{url}: {report:?}");
            assert_eq!(code, 1, "{url}");
            let message = message(&report);
            assert!(message.contains(said), "{url}: {message}");
            assert!(!message.contains("link-local") || said.contains("link-local"));
            // Refused before resolution: no DNS, no sample.
            let t = target(&report);
            assert!(t.dns.is_none() && t.samples.is_empty(), "{url} was dialled: {report:?}");
        }
        assert_eq!(
            netns::packets("forbidden"),
            0,
            "a packet went towards a forbidden address"
        );
    });
}

/// Loopback for targets from requests: refused, before any connection, unless
/// `APIGW_ALLOW_HOSTS` names 127.0.0.1 itself; a pattern (`*`) does not count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_refused_to_request_targets_unless_named_literally() {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let seen = backend(loopback).await;
    let backend = seen.addr();
    let dns = dns(&[("lo.alicloudapi.com", loopback)]).await;
    let dns_addr = dns.addr().to_string();
    let literal = format!("http://{backend}/web/cloudapi");
    let named = format!("http://lo.alicloudapi.com:{}/web/cloudapi", backend.port());

    for list in ["*.alicloudapi.com", "*"] {
        let function = Server::start(&[
            ("APIGW_DNS_SERVERS", &dns_addr),
            ("APIGW_ALLOW_HOSTS", list),
        ]);
        for (id, url) in [("lit", &literal), ("named", &named)] {
            let event = serde_json::json!({ "url": url }).to_string();
            let answer = support::invoke(&function, &format!("{id}-{list}"), event).await;
            let report = answer.report();
            assert_eq!(answer.status, 404, "{list} {url}: {report:?}");
            assert_eq!(
                class(&report),
                "target.forbidden",
                "{list} {url}: {report:?}"
            );
            let answer = trigger(&function, url).await;
            assert_eq!(answer.status, 403, "{list} {url}");
            assert_eq!(class(&answer.report()), "target.forbidden", "{list} {url}");
        }
        // Past the allow-list (`*`), the refusal names the loopback address.
        if list == "*" {
            let event = serde_json::json!({ "url": literal }).to_string();
            let report = support::invoke(&function, "lit-msg", event).await.report();
            assert!(
                message(&report).contains("127.0.0.1 is a loopback address"),
                "{report:?}"
            );
        }
        let event = serde_json::json!({ "url": named }).to_string();
        let report = support::invoke(&function, "named-msg", event)
            .await
            .report();
        assert!(
            message(&report)
                .contains("lo.alicloudapi.com resolves to 127.0.0.1, a loopback address"),
            "{report:?}"
        );
        let dns = target(&report).dns.as_ref().expect("the DNS answer");
        assert_eq!(dns.addresses, ["127.0.0.1"]);
    }
    assert_eq!(seen.connections(), 0, "a refused target was dialled");

    // Named literally, both pass: the event and the HTTP trigger.
    let function = Server::start(&[
        ("APIGW_DNS_SERVERS", &dns_addr),
        ("APIGW_ALLOW_HOSTS", "*.alicloudapi.com,127.0.0.1"),
    ]);
    for url in [&literal, &named] {
        let event = serde_json::json!({ "url": url }).to_string();
        let answer = support::invoke(&function, "allowed", event).await;
        assert_eq!(answer.status, 200, "{url}: {:?}", answer.report());
        assert_eq!(trigger(&function, url).await.status, 200, "{url}");
    }
    assert_eq!(seen.connections(), 4);

    // The operator's own targets and the command line stay unrestricted.
    let (code, report) = probe_cli(&[&literal], &[]).await;
    assert_eq!(code, 0, "{report:?}");
}

/// The instance's own addresses (here the namespace's 10.200.0.1) are refused to request
/// targets like loopback, as a literal URL and as a DNS answer.
#[test]
fn own_addresses_are_refused_to_request_targets_unless_named_literally() {
    netns::isolated(|| async {
        let own: IpAddr = "10.200.0.1".parse().unwrap();
        let seen = backend(own).await;
        let backend = seen.addr();
        let dns = dns(&[("self.alicloudapi.com", own)]).await;
        let dns_addr = dns.addr().to_string();
        let literal = format!("http://{backend}/web/cloudapi");
        let named = format!(
            "http://self.alicloudapi.com:{}/web/cloudapi",
            backend.port()
        );
        let function =
            Server::start(&[("APIGW_DNS_SERVERS", &dns_addr), ("APIGW_ALLOW_HOSTS", "*")]);
        for (url, said) in [
            (&literal, "10.200.0.1 is an address of this instance"),
            (
                &named,
                "self.alicloudapi.com resolves to 10.200.0.1, an address of this instance",
            ),
        ] {
            let event = serde_json::json!({ "url": url }).to_string();
            let report = support::invoke(&function, "own", event).await.report();
            assert_eq!(class(&report), "target.forbidden", "{url}: {report:?}");
            assert!(message(&report).contains(said), "{report:?}");
        }
        assert_eq!(seen.connections(), 0, "a refused target was dialled");
        drop(function);

        let function = Server::start(&[
            ("APIGW_DNS_SERVERS", &dns_addr),
            ("APIGW_ALLOW_HOSTS", "*,10.200.0.1"),
        ]);
        for url in [&literal, &named] {
            let event = serde_json::json!({ "url": url }).to_string();
            let answer = support::invoke(&function, "own-ok", event).await;
            assert_eq!(answer.status, 200, "{url}: {:?}", answer.report());
        }
        assert_eq!(seen.connections(), 2);
    });
}

/// A `Host` header in a target must be one valid host name (optionally `:port`), and for a
/// target from a request an allowed one: a list, a path, whitespace, `;`, an empty value or
/// userinfo is `config.invalid` naming the problem, and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_headers_are_one_valid_allowed_host() {
    let backend = backend(IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
    let function = Server::start(&[("APIGW_ALLOW_HOSTS", "*.alicloudapi.com,127.0.0.1")]);
    // The backend's /echo answers with the request it received.
    let url = format!("http://{}/echo", backend.addr());
    let event = |host: &str| {
        serde_json::json!({"url": url, "headers": {"Host": host}, "return_body": true}).to_string()
    };
    for (host, problem) in [
        ("evil.com, ok.alicloudapi.com", "is a list (',')"),
        ("a/b.alicloudapi.com", "has a path ('/')"),
        ("ok.alicloudapi.com evil.com", "has whitespace"),
        ("ok.alicloudapi.com;evil.com", "has a ';'"),
        ("", "is empty"),
        ("a@b.alicloudapi.com", "has userinfo ('@')"),
    ] {
        let answer = support::invoke(&function, "host", event(host)).await;
        let report = answer.report();
        assert_eq!(answer.status, 404, "{host:?}: {report:?}");
        assert_eq!(class(&report), "config.invalid", "{host:?}: {report:?}");
        assert!(message(&report).contains(problem), "{host:?}: {report:?}");
        assert!(message(&report).starts_with("Host header"), "{report:?}");
        // The same through the HTTP trigger: 400, FC's error body, nothing probed.
        let answer = support::post(&function.url("/probe"), &[], event(host)).await;
        assert_eq!(answer.status, 400, "{host:?}");
        assert_eq!(answer.json()["errorType"], "config.invalid", "{host:?}");
    }
    // Valid but not allowed.
    let report = support::invoke(&function, "host", event("evil.com"))
        .await
        .report();
    assert_eq!(class(&report), "target.forbidden", "{report:?}");
    assert_eq!(backend.connections(), 0, "a refused target was dialled");

    // One allowed host with a port is sent as given.
    let answer = support::invoke(&function, "host", event("ok.alicloudapi.com:8080")).await;
    let report = answer.report();
    assert_eq!(answer.status, 200, "{report:?}");
    assert_eq!(backend.connections(), 1);
    let echoed: Value =
        serde_json::from_str(sample(&report).body.as_deref().expect("the echo")).unwrap();
    assert_eq!(
        echoed["headers"]["host"], "ok.alicloudapi.com:8080",
        "{echoed}"
    );
}

/// `apigw-vpc-probe probe ARGS` with `env`: exit code, stdout, stderr.
async fn probe_raw(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_apigw-vpc-probe"))
        .arg("probe")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run the binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `--resolve` entry that applies to no target (another port, another host, a trailing dot
/// on one side only) is a usage error naming the entry, not silently ignored; a trailing dot on
/// both sides matches, as in curl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_entries_that_apply_to_no_target_are_errors() {
    let backend = backend(IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
    let port = backend.addr().port();
    // A DNS server that knows no name: a target the entry misses fails in DNS, never elsewhere.
    let dns = dns(&[]).await;
    let env = [("APIGW_DNS_SERVERS", dns.addr().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = format!("http://h.alicloudapi.com:{port}/web/cloudapi");
    let dotted = format!("http://h.alicloudapi.com.:{port}/web/cloudapi");
    for (url, entry) in [
        (&url, format!("h.alicloudapi.com.:{port}:127.0.0.1")),
        (&dotted, format!("h.alicloudapi.com:{port}:127.0.0.1")),
        (&url, format!("h.alicloudapi.com:{}:127.0.0.1", port + 1)),
        (&url, format!("other.alicloudapi.com:{port}:127.0.0.1")),
    ] {
        let (code, stdout, stderr) = probe_raw(&[url, "--resolve", &entry], &env).await;
        assert_eq!(code, 2, "{url} --resolve {entry}: {stdout}{stderr}");
        assert!(stderr.contains("config.invalid"), "{stderr}");
        assert!(
            stderr.contains(&format!("--resolve {entry} applies to no target")),
            "{stderr}"
        );
        assert!(stderr.contains("trailing dot"), "{stderr}");
    }
    // One entry that applies beside one that does not: still an error.
    let good = format!("h.alicloudapi.com:{port}:127.0.0.1");
    let bad = format!("h.alicloudapi.com:{}:127.0.0.1", port + 1);
    let (code, _, stderr) = probe_raw(&[&url, "--resolve", &good, "--resolve", &bad], &env).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&bad), "{stderr}");
    assert_eq!(backend.connections(), 0);
    assert_eq!(dns.queries(), 0, "nothing was probed");

    // Entries that apply: the same host and port, the trailing dot on both sides or neither,
    // in any case.
    for (url, entry) in [
        (&url, good.clone()),
        (&dotted, format!("h.alicloudapi.com.:{port}:127.0.0.1")),
        (&url, format!("H.AliCloudAPI.com:{port}:127.0.0.1")),
    ] {
        let (code, stdout, stderr) = probe_raw(&[url, "--resolve", &entry, "--json"], &env).await;
        assert_eq!(code, 0, "{url} --resolve {entry}: {stdout}{stderr}");
        let report = support::parse_report(stdout.as_bytes());
        let dns = target(&report).dns.as_ref().expect("dns");
        assert_eq!(dns.source, DnsSource::Override, "{report:?}");
    }
    assert_eq!(backend.connections(), 3);
}

/// An AppCode in a request target's query is refused whatever way its name is written:
/// percent-encoded, with a tab or spaces, in another case, in a group target's path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appcode_query_names_are_refused_however_written() {
    // A DNS server that knows no name: anything accepted fails in DNS, nothing leaves.
    let dns = dns(&[]).await;
    let dns_addr = dns.addr().to_string();
    let function = Server::start(&[("APIGW_DNS_SERVERS", &dns_addr)]);
    let value = "c0de-9f1e";
    let group = "0123456789abcdef0123456789abcdef";
    let mut events = Vec::new();
    for name in [
        "App%09Code",
        "app%43ode",
        "appcode%20",
        "+APPCODE",
        "App\tCode",
    ] {
        let query = format!("{name}={value}");
        events.push(serde_json::json!({"url": format!("http://ok.alicloudapi.com/x?{query}")}));
        events.push(serde_json::json!({
            "group": group, "region": "cn-shanghai", "path": format!("/x?{query}")
        }));
    }
    for event in events {
        let report = support::invoke(&function, "appcode", event.to_string())
            .await
            .report();
        assert_eq!(class(&report), "config.invalid", "{event}: {report:?}");
        let said = message(&report);
        assert!(said.contains("may not carry an AppCode"), "{event}: {said}");
        assert!(!said.contains(value), "{said}");
    }
    // The HTTP trigger: in the target's URL, and as a parameter of /probe itself.
    let answer = trigger(
        &function,
        &format!("http://ok.alicloudapi.com/x?App%09Code={value}"),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.json());
    assert_eq!(
        answer.json()["errorType"],
        "config.invalid",
        "{}",
        answer.json()
    );
    assert!(
        !answer.json().to_string().contains(value),
        "{}",
        answer.json()
    );
    for query in [format!("App%09Code={value}"), format!("app%43ode={value}")] {
        let answer = support::get(&function.url(&format!("/probe?{query}")), &[]).await;
        assert_eq!(answer.status, 400, "{query}");
        let body = answer.json();
        assert_eq!(body["errorType"], "config.invalid", "{body}");
        assert!(
            body["errorMessage"]
                .as_str()
                .unwrap_or("")
                .contains("names a secret"),
            "{body}"
        );
        assert!(!body.to_string().contains(value), "{body}");
    }
    assert_eq!(dns.queries(), 0, "a refused target was resolved");
}
