//! `make demo` is one of the README's two commands: it must run to the end on this machine.

use std::path::PathBuf;

/// The stand-in's binary, which cargo builds next to the function's (the workspace's default
/// members include it).
fn standin_bin() -> PathBuf {
    let function = PathBuf::from(env!("CARGO_BIN_EXE_apigw-vpc-probe"));
    let standin = function.with_file_name("apigw-standin");
    assert!(
        standin.is_file(),
        "{} is missing: run the tests from the workspace root (cargo test), which builds it",
        standin.display()
    );
    standin
}

#[test]
fn demo_runs_the_three_invocations_and_the_wrong_secret_diagnosis() {
    let out = std::process::Command::new(standin_bin())
        .arg("demo")
        .arg("--function")
        .arg(env!("CARGO_BIN_EXE_apigw-vpc-probe"))
        .output()
        .expect("run the demo");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "FC Invoke Start RequestId: demo-console-1",
        "FC Invoke End RequestId: demo-console-1, Error: Unhandled function error",
        "error dns.nxdomain",
        "HTTP 200  x-fc-status: 200",
        "Server-Timing: dns;dur=",
        "error gateway.A403IS",
        "the strings to sign are identical",
        "== done",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains(apigw_standin::DEMO_APP_SECRET));
}
