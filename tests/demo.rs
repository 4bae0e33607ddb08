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
        // The failure's configuration cross-check names the setting with both values.
        "config check group.vpc_domain_disabled",
        "setting  API group vpc_domain_off (9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b) → VPC second-level domain",
        "expected enabled: 9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b-cn-shanghai-vpc.alicloudapi.com",
        "actual   not enabled (VpcDomain empty)",
        "hint: Verified by the configuration cross-check (group.vpc_domain_disabled)",
        "\"verdict\": \"group.vpc_domain_disabled\"",
        "\"call\": \"apigateway:DescribeApiGroup\"",
        "== done",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    for secret in [
        apigw_standin::DEMO_APP_SECRET,
        apigw_standin::DEMO_STS_ACCESS_KEY_SECRET,
        apigw_standin::DEMO_STS_SECURITY_TOKEN,
    ] {
        assert!(!text.contains(secret), "the demo printed {secret:?}");
    }
}
