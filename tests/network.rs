//! Connect-level failures and forbidden addresses, through the real binary, inside an isolated
//! network namespace (see `netns`): nothing here can reach a real network.

mod netns;

use std::process::Command;

use serde_json::Value;

fn probe(args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_apigw-vpc-probe"))
        .arg("probe")
        .arg("--json")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run the binary");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn class(report: &Value) -> &str {
    report["targets"][0]["error"]["class"]
        .as_str()
        .unwrap_or("")
}

#[test]
fn metadata_and_link_local_urls_are_refused_without_a_packet() {
    netns::isolated(|| async {
        for url in [
            "http://100.100.100.200/latest/meta-data/",
            "http://169.254.169.254/",
            "http://[::ffff:100.100.100.200]/",
        ] {
            let (code, report) = probe(&[url], &[]);
            assert_eq!(class(&report), "target.forbidden", "{url}: {report}");
            assert_eq!(code, 1);
            assert!(report["targets"][0]["samples"][0]["remote"].is_null());
        }
        assert_eq!(
            netns::packets("forbidden"),
            0,
            "a packet went towards a forbidden address"
        );
    });
}

#[test]
fn dropped_syn_is_a_connect_timeout_naming_the_phase() {
    netns::isolated(|| async {
        let url = format!("http://{}:80/web/cloudapi", netns::BLACKHOLE);
        let started = std::time::Instant::now();
        let (code, report) = probe(&[&url], &[("APIGW_CONNECT_TIMEOUT_MS", "400")]);
        assert_eq!(code, 1);
        assert_eq!(class(&report), "tcp.timeout", "{report}");
        let message = report["targets"][0]["error"]["message"].as_str().unwrap();
        assert!(message.contains("connect"), "{message}");
        let phases = &report["targets"][0]["samples"][0]["phases_ms"];
        let connect = phases["connect"].as_f64().unwrap();
        assert!((390.0..2000.0).contains(&connect), "connect {connect}");
        assert!(started.elapsed().as_secs() < 5);
        // The control for the test above: the counter does see connection attempts.
        assert!(netns::packets("blackhole") >= 1);
    });
}

#[test]
fn missing_route_is_unreachable() {
    netns::isolated(|| async {
        let url = format!("http://{}/", netns::UNREACHABLE);
        let (code, report) = probe(&[&url], &[]);
        assert_eq!(code, 1);
        assert_eq!(class(&report), "tcp.unreachable", "{report}");
        assert!(report["targets"][0]["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("route"));
    });
}
