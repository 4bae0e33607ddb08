//! What the function may call, through the real binary: forbidden address forms, loopback and
//! the instance's own addresses for targets from requests, `Host` headers, `--resolve` entries
//! and AppCode query names (issue 9). Anything that could send a packet towards a forbidden
//! address runs inside an isolated network namespace (`netns`).

mod netns;
mod support;

use support::{class, probe_cli};

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
            assert_eq!(class(&report), "target.forbidden", "{url}: {report}");
            assert_eq!(code, 1, "{url}");
            let t = &report["targets"][0];
            let message = t["error"]["message"].as_str().unwrap_or("");
            assert!(message.contains(said), "{url}: {message}");
            assert!(!message.contains("link-local") || said.contains("link-local"));
            assert!(t["samples"][0]["remote"].is_null(), "{url} was dialled");
        }
        assert_eq!(
            netns::packets("forbidden"),
            0,
            "a packet went towards a forbidden address"
        );
    });
}
