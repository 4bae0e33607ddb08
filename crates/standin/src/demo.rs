//! `apigw-standin demo` (`make demo`): the seed's setup on this machine, in one command.
//!
//! Starts the stand-in (a DNS server answering the group's VPC domain, an API-Gateway-like
//! server, a backend serving `/web/cloudapi`), starts the function itself (its binary's `serve`,
//! as FC's bootstrap would) and invokes it the three ways FC does: a console "Test" event, an
//! HTTP trigger request, and a timer trigger event. One configured target is meant to fail, so
//! that an error with its hint is on screen, and with it the configuration cross-check: the
//! function is given FC's credential headers (the stand-in's demo STS key) and the stand-in's
//! control plane as its OpenAPI endpoints, and names the setting that is wrong with both
//! values.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::launch::{Launch, Process};
use crate::StandIn;

/// Runs the demo against the function binary at `function` (default: `apigw-vpc-probe` next to
/// the running binary); returns the process exit code (0 when every invocation behaved as
/// expected).
pub async fn run(function: Option<PathBuf>) -> i32 {
    let function = match function.map_or_else(sibling_function, Ok) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("demo failed: {e}");
            return 1;
        }
    };
    match demo(&function).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("demo failed: {e}");
            1
        }
    }
}

async fn demo(function_bin: &Path) -> Result<(), String> {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let stand_in = StandIn::start(loopback)
        .await
        .map_err(|e| format!("cannot start the stand-in: {e}"))?;
    let domain = stand_in.domain();
    let disabled = format!(
        "{}-{}-vpc.alicloudapi.com",
        crate::DISABLED_GROUP,
        crate::DEMO_REGION
    );
    let port = stand_in.gateway_addr().port();
    println!("== the stand-in of the seed's setup");
    println!("   VPC DNS (100.100.2.136 in FC)  {}", stand_in.dns_addr());
    println!(
        "   API Gateway, dedicated instance {}  group domain {domain}",
        stand_in.gateway_addr()
    );
    println!(
        "   backend ECS                     {}  serves /web/cloudapi",
        stand_in.backend_addr()
    );
    println!("   {disabled}: a group whose VPC second-level domain is not enabled");
    println!(
        "   control plane (OpenAPI)         {}  answers from the same world",
        stand_in.control_plane_url()
    );

    println!(
        "   app {} authorized for /web/signed (signature or AppCode)",
        crate::DEMO_APP_KEY
    );

    let targets = json!([
        {"name": "cloudapi", "url": stand_in.url("/web/cloudapi"), "stage": "RELEASE"},
        {"name": "signed", "url": stand_in.url("/web/signed"), "auth": "app"},
        {"name": "vpc-domain-disabled", "url": format!("http://{disabled}:{port}/web/cloudapi")},
    ])
    .to_string();
    let dns = stand_in.dns_addr();
    let control_plane = stand_in.control_plane_url();
    let function = start_function(
        function_bin,
        dns,
        &control_plane,
        &targets,
        crate::DEMO_APP_SECRET,
    )
    .await?;
    let base = format!("http://{}", function.addr());

    let client = reqwest::Client::new();
    let fc = |base: &str, path: &str, id: &str| {
        client
            .post(format!("{base}{path}"))
            .header("x-fc-request-id", id)
            .header("x-fc-function-name", "apigw-vpc-probe")
            .header("x-fc-region", crate::DEMO_REGION)
            .header("x-fc-function-timeout", "30")
            .header("x-fc-function-memory", "128")
            .header("x-fc-account-id", crate::DEMO_ACCOUNT_ID.to_string())
            .header("x-fc-qualifier", "LATEST")
            // The role's STS credentials, as FC sends them with every invocation (the
            // stand-in's, not real ones): the function's configuration cross-check signs with
            // them.
            .header("x-fc-access-key-id", crate::DEMO_STS_ACCESS_KEY_ID)
            .header("x-fc-access-key-secret", crate::DEMO_STS_ACCESS_KEY_SECRET)
            .header("x-fc-security-token", crate::DEMO_STS_SECURITY_TOKEN)
            .header("x-fc-control-path", path)
            .header("content-type", "application/octet-stream")
    };

    section("1. console \"Test\" event: POST /invoke {}  (all configured targets, one signed; one fails)");
    let resp = fc(&base, "/invoke", "demo-console-1")
        .body("{}")
        .send()
        .await;
    let console = show(resp).await?;

    section(&format!(
        "2. HTTP trigger: GET /probe?url=…&samples=3  ({domain} is allowed by APIGW_ALLOW_HOSTS)"
    ));
    let probe_url = url::Url::parse_with_params(
        &format!("{base}/probe"),
        [
            ("url", stand_in.url("/web/cloudapi")),
            ("samples", "3".into()),
        ],
    )
    .map_err(|e| format!("cannot build the trigger URL: {e}"))?;
    let resp = client
        .get(probe_url)
        .header("x-fc-request-id", "demo-http-2")
        .header("x-fc-control-path", "/http-invoke")
        .send()
        .await;
    let http = show(resp).await?;

    section("3. timer trigger: POST /invoke {\"triggerTime\", \"triggerName\", \"payload\"}");
    let timer_event = json!({
        "triggerTime": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
        "triggerName": "probe-every-minute",
        "payload": "{\"target\": \"signed\"}",
    });
    let resp = fc(&base, "/invoke", "demo-timer-3")
        .body(timer_event.to_string())
        .send()
        .await;
    let timer = show(resp).await?;

    drop(function);

    section("4. the same function deployed with a wrong APIGW_APP_SECRET: POST /invoke {\"target\": \"signed\"}");
    let wrong = start_function(
        function_bin,
        dns,
        &control_plane,
        &targets,
        "not-the-app-secret",
    )
    .await?;
    let wrong_base = format!("http://{}", wrong.addr());
    let resp = fc(&wrong_base, "/invoke", "demo-wrong-secret-4")
        .body(r#"{"target": "signed"}"#)
        .send()
        .await;
    let wrong_secret = show(resp).await?;
    drop(wrong);
    drop(stand_in);

    let verdict = console.2.clone();
    let expected = [
        ("console event", console, 404, false),
        ("HTTP trigger", http, 200, true),
        ("timer event", timer, 200, true),
        ("wrong secret", wrong_secret, 404, false),
    ];
    let mut problems = Vec::new();
    for (what, (status, ok, _), want_status, want_ok) in expected {
        if status != want_status || ok != Some(want_ok) {
            problems.push(format!("{what}: status {status}, expected {want_status}"));
        }
    }
    if verdict.as_deref() != Some("group.vpc_domain_disabled") {
        problems.push(format!(
            "the console event's failure was cross-checked as {verdict:?}, expected group.vpc_domain_disabled"
        ));
    }
    println!();
    if problems.is_empty() {
        println!("== done: the console event failed as it should (a group without a VPC domain, which the cross-check confirmed through the control plane), the HTTP trigger and the signed timer probe succeeded, and the wrong AppSecret was diagnosed.");
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn section(title: &str) {
    println!("\n== {title}");
}

/// Prints the answer as FC would pass it on: status, `x-fc-status`, `Server-Timing`, a line per
/// target (with its configuration cross-check), then the report itself. Returns the status, the
/// report's `ok`, and the first failed target's cross-check verdict.
async fn show(
    resp: Result<reqwest::Response, reqwest::Error>,
) -> Result<(u16, Option<bool>, Option<String>), String> {
    let resp = resp.map_err(|e| format!("the function did not answer: {e}"))?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    println!(
        "   HTTP {status}  x-fc-status: {}",
        header("x-fc-status").as_deref().unwrap_or("-")
    );
    if let Some(timing) = header("server-timing") {
        println!("   Server-Timing: {timing}");
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    let report: Value = serde_json::from_slice(&body).map_err(|e| {
        format!(
            "the answer is not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    })?;
    for t in report["targets"].as_array().into_iter().flatten() {
        let verdict = if t["ok"].as_bool() == Some(true) {
            "OK  "
        } else {
            "FAIL"
        };
        let p50 = t["latency_ms"]["p50"]
            .as_f64()
            .map(|v| format!("  p50 {v:.3} ms"))
            .unwrap_or_default();
        println!("   {verdict} {}{p50}", t["name"].as_str().unwrap_or("?"));
        if let Some(class) = t["error"]["class"].as_str() {
            println!(
                "        error {class}: {}",
                t["error"]["message"].as_str().unwrap_or("")
            );
            println!(
                "        hint: {}",
                t["error"]["hint"].as_str().unwrap_or("")
            );
        }
        let check = &t["config_check"];
        if let Some(verdict) = check["verdict"].as_str() {
            println!("        config check {verdict}");
            for field in ["setting", "expected", "actual"] {
                if let Some(v) = check[field].as_str() {
                    println!("          {field:<9}{v}");
                }
            }
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    let verdict = report["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["ok"].as_bool() == Some(false))
        .and_then(|t| t["config_check"]["verdict"].as_str())
        .map(str::to_owned);
    Ok((status, report["ok"].as_bool(), verdict))
}

/// `apigw-vpc-probe` in the directory of the running binary: cargo builds both there.
fn sibling_function() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let path = exe.with_file_name("apigw-vpc-probe");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the function's binary is not at {} (build it with `cargo build`, or pass --function)",
            path.display()
        ))
    }
}

/// Starts the function's `serve` as FC's bootstrap would, with the function's environment, on a
/// port the kernel chooses (the address is read from its `listening` line).
async fn start_function(
    exe: &Path,
    dns: SocketAddr,
    control_plane: &str,
    targets: &str,
    app_secret: &str,
) -> Result<Process, String> {
    let mut launch = Launch::function(exe);
    // In FC these are the VPC endpoints of the function's region; here the stand-in's.
    for product in ["APIGATEWAY", "FC", "VPC", "CBN"] {
        launch = launch.env(format!("APIGW_OPENAPI_ENDPOINT_{product}"), control_plane);
    }
    let launch = launch
        .env("FC_REGION", crate::DEMO_REGION)
        .env("FC_FUNCTION_NAME", "apigw-vpc-probe")
        .env("APIGW_DNS_SERVERS", dns.to_string())
        .env("APIGW_TARGETS", targets)
        .env("APIGW_APP_KEY", crate::DEMO_APP_KEY)
        .env("APIGW_APP_SECRET", app_secret)
        // The stand-in answers on loopback, which targets from requests may reach only when the
        // allow-list names it (in FC the domain resolves to the gateway's VPC address).
        .env("APIGW_ALLOW_HOSTS", "*.alicloudapi.com,127.0.0.1")
        .env("RUST_LOG", "info")
        // The function's own stdout is what FC ships to SLS: show it, marked as such.
        .echo("   │ function log: ");
    tokio::task::spawn_blocking(move || launch.start())
        .await
        .map_err(|e| format!("cannot start the function: {e}"))?
        .map_err(|e| format!("cannot start the function: {e}"))
}
