//! Bounded memory, whatever the event: the worst small event FC can deliver, ten at once (as
//! s.yaml's `instanceConcurrency: 10` allows on a 128 MB function), through the real binary.

mod support;

use std::net::SocketAddr;

use apigw_standin::Backend;
use apigw_vpc_probe::report::{Report, Sample};
use serde_json::{json, Value};
use support::{invoke, Server};

/// The function's `memorySize` in s.yaml.
const FUNCTION_MEMORY_BYTES: u64 = 128 * 1024 * 1024;

/// Peak resident memory of a process (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kib * 1024
}

/// Ten targets of twenty samples, each returning a body of 64 KiB of NUL bytes (six bytes
/// each once escaped in JSON): 1.2 KB of event that once made a 79 MB report.
fn worst_event(backend: SocketAddr, return_body: Value) -> String {
    let target = json!({
        "url": format!("http://{backend}/zeros/65536"),
        "samples": 20,
        "return_body": return_body,
    });
    json!({ "targets": vec![target; 10] }).to_string()
}

/// The samples with a body in a report, and what the bodies take as JSON.
fn bodies(report: &Report) -> (Vec<&Sample>, usize) {
    let with_body: Vec<&Sample> = report
        .targets
        .iter()
        .flat_map(|t| &t.samples)
        .filter(|s| s.body.is_some())
        .collect();
    let json_bytes = with_body
        .iter()
        .filter_map(|s| s.body.as_ref())
        .map(|b| serde_json::to_string(b).unwrap().len() - 2)
        .sum();
    (with_body, json_bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_worst_case_events_at_once_stay_far_below_the_function_memory() {
    let backend = Backend::start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("backend");
    let server = Server::start(&[("APIGW_ALLOW_HOSTS", "127.0.0.1")]);

    let calls = (0..10).map(|i| {
        // Half ask for every sample's body, half for the default (the first sample's).
        let return_body = if i % 2 == 0 {
            json!("all")
        } else {
            json!(true)
        };
        let event = worst_event(backend.addr(), return_body.clone());
        assert!(event.len() < 1500, "a small event: {} bytes", event.len());
        let server = &server;
        async move {
            let answer = invoke(server, &format!("req-mem-{i}"), event).await;
            (return_body, answer)
        }
    });
    let answers = futures_util::future::join_all(calls).await;

    for (return_body, answer) in &answers {
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert!(
            answer.body.len() <= 1024 * 1024,
            "the report is within APIGW_MAX_REPORT_BYTES: {} bytes",
            answer.body.len()
        );
        let report = answer.report();
        assert!(report.ok);
        assert_eq!(report.targets.len(), 10);
        assert!(report
            .targets
            .iter()
            .all(|t| t.samples.len() + t.samples_omitted == 20));
        let (with_body, json_bytes) = bodies(&report);
        assert!(
            json_bytes <= 256 * 1024,
            "bodies take {json_bytes} JSON bytes, over the 256 KiB budget"
        );
        if *return_body == json!(true) {
            assert_eq!(
                with_body.len(),
                10,
                "one body per target: the first sample's"
            );
        } else {
            assert!(with_body.len() >= 10, "{} bodies", with_body.len());
        }
        // Every body that is there is cut and says so (64 KiB of NULs never fits whole).
        assert!(with_body.iter().all(|s| s.body_truncated));
        assert!(with_body
            .iter()
            .any(|s| s.body.as_ref().is_some_and(|b| !b.is_empty())));
    }

    let peak = peak_rss(server.pid());
    eprintln!("peak RSS of the function: {} KiB", peak / 1024);
    assert!(
        peak < FUNCTION_MEMORY_BYTES / 2,
        "peak RSS {} MiB: not under half the function's 128 MB",
        peak / (1024 * 1024)
    );
}
