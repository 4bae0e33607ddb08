//! A smoke run of the benchmark runner (`bench/run.py`, what `make bench` runs): a few invocations
//! and accuracy samples against the real binary and its peers, so that the runner keeps working
//! as the function changes. The numbers are not checked here; `make bench` is where they count.

use std::path::Path;
use std::process::Command;

/// The tools the runner's peers need; `make bench` installs them.
const TOOLS: &[&str] = &["python3", "curl", "wrk", "prometheus-blackbox-exporter"];

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

#[test]
fn the_benchmark_runner_runs_and_writes_its_report() {
    let missing: Vec<&str> = TOOLS.iter().copied().filter(|t| !on_path(t)).collect();
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED (bench smoke): needs {} (make bench installs them)",
            missing.join(", ")
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("BENCHMARKS.md");
    let run = Command::new("python3")
        .arg(root.join("bench/run.py"))
        .args(["--bin", env!("CARGO_BIN_EXE_apigw-vpc-probe")])
        .args(["--quick", "--only", "invoke,accuracy", "--runs", "3"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs bench/run.py");
    assert!(
        run.status.success(),
        "bench/run.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = std::fs::read_to_string(&out).unwrap();
    for section in ["## Invocation", "## Accuracy", "## Size", "## Goals"] {
        assert!(report.contains(section), "{section} missing:\n{report}");
    }
    // Measured, not typed in: the table rows carry the run's sample counts, and `--runs` reaches
    // every step it names (the accuracy step once read its count before the override).
    assert!(report.contains("n=3)"), "{report}");
    let accuracy = report
        .split("## Accuracy")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_default();
    let rows: Vec<&str> = accuracy.lines().filter(|l| l.starts_with("| ")).skip(1).collect();
    assert_eq!(rows.len(), 4, "dns, connect, first byte, total:\n{accuracy}");
    for row in rows {
        assert_eq!(row.matches("n=3)").count(), 3, "ours, curl, blackbox with n=3: {row}");
    }
}
