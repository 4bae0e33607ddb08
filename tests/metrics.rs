//! The Prometheus exposition over the real binary: `GET /probe?module=…&target=…` as a drop-in
//! for blackbox_exporter, content negotiation, `GET /metrics`; and a real Prometheus server
//! (Debian's `prometheus`, started here on loopback) scraping both with blackbox_exporter's
//! standard relabel block.
//!
//! The Prometheus tests need the `prometheus` binary (`make deps` installs it as root); without
//! it they say `SKIPPED (prometheus): …`, unless `PROMETHEUS_TESTS=required` (`make test`),
//! which makes its absence a failure.

mod support;

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use apigw_standin::{self as standin, StandIn};
use serde_json::{json, Value};
use support::{get, Answer, Server};

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// What Prometheus 3 sends by default (prometheus/docs content_negotiation.md).
const PROMETHEUS_3_ACCEPT: &str = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";

async fn setup() -> (StandIn, Server) {
    setup_with(&[]).await
}

/// [`setup`] with more of the function's environment.
async fn setup_with(env: &[(&str, &str)]) -> (StandIn, Server) {
    let s = StandIn::start(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .expect("stand-in");
    let targets = json!([
        {"name": "cloudapi", "url": s.url("/web/cloudapi"), "stage": "RELEASE"},
        {"name": "disabled", "url": disabled_url(&s)},
    ])
    .to_string();
    let modules = json!({
        "release3": {"stage": "RELEASE", "samples": 3},
        "post": {"method": "POST"},
        "signed": {"auth": "app"},
    })
    .to_string();
    let dns = s.dns_addr().to_string();
    let mut vars = vec![
        ("APIGW_TARGETS", targets.as_str()),
        ("APIGW_MODULES", modules.as_str()),
        ("APIGW_DNS_SERVERS", dns.as_str()),
        ("APIGW_APP_KEY", standin::DEMO_APP_KEY),
        ("APIGW_APP_SECRET", standin::DEMO_APP_SECRET),
        ("FC_REGION", "cn-shanghai"),
        // The stand-in's domains resolve to loopback: named literally.
        ("APIGW_ALLOW_HOSTS", "*.alicloudapi.com,127.0.0.1"),
    ];
    vars.extend_from_slice(env);
    let server = Server::start(&vars);
    (s, server)
}

/// The API on the group whose VPC domain is disabled: NXDOMAIN.
fn disabled_url(s: &StandIn) -> String {
    format!(
        "http://{}:{}/web/cloudapi",
        standin::vpc_domain(standin::DISABLED_GROUP, standin::DEMO_REGION),
        s.gateway_addr().port()
    )
}

fn probe_url(server: &Server, params: &[(&str, &str)]) -> String {
    url::Url::parse_with_params(&server.url("/probe"), params)
        .unwrap()
        .to_string()
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

/// The value of the sample line `series` (`name{labels}` as written), if there is one.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_with_a_module_answers_blackbox_s_metrics() {
    let (s, server) = setup().await;

    // Healthy, no Accept header: the text format 0.0.4, blackbox's answer.
    let healthy = s.url("/web/cloudapi");
    let a = get(
        &probe_url(&server, &[("module", "http_2xx"), ("target", &healthy)]),
        &[],
    )
    .await;
    let body = text(&a);
    assert_eq!(a.status, 200, "{body}");
    assert_eq!(a.header("content-type"), Some(TEXT));
    a.assert_allowed_headers();
    assert!(
        body.contains(
            "# HELP probe_success Displays whether or not the probe was a success\n\
             # TYPE probe_success gauge\nprobe_success 1\n"
        ),
        "{body}"
    );
    for series in [
        "probe_http_duration_seconds{phase=\"resolve\"}",
        "probe_http_duration_seconds{phase=\"connect\"}",
        "probe_http_duration_seconds{phase=\"tls\"}",
        "probe_http_duration_seconds{phase=\"processing\"}",
        "probe_http_duration_seconds{phase=\"transfer\"}",
        "apigw_probe_phase_duration_seconds{phase=\"send\"}",
        "apigw_probe_phase_duration_seconds{phase=\"ttfb\"}",
        "probe_duration_seconds",
        "probe_dns_lookup_time_seconds",
        "probe_timeout_seconds",
    ] {
        assert!(sample(&body, series).is_some(), "{series} in {body}");
    }
    assert_eq!(sample(&body, "probe_http_status_code"), Some(200.0));
    assert_eq!(sample(&body, "probe_http_version"), Some(1.1));
    assert_eq!(sample(&body, "probe_http_ssl"), Some(0.0));
    assert_eq!(sample(&body, "probe_ip_protocol"), Some(4.0));
    // FNV-32a of 127.0.0.1, as blackbox_exporter 0.23 answered it (tests/fixtures/metrics).
    assert_eq!(sample(&body, "probe_ip_addr_hash"), Some(3_668_918_509.0));
    assert_eq!(
        sample(&body, "apigw_probe_dns_scope_info{scope=\"loopback\"}"),
        Some(1.0)
    );
    let length = sample(&body, "probe_http_content_length").unwrap();
    assert_eq!(
        Some(length),
        sample(&body, "probe_http_uncompressed_body_length")
    );
    assert!(length > 0.0);
    assert!(!body.contains("probe_failure_info"), "{body}");
    assert!(!body.contains("# EOF"));

    // The disabled group: still a successful scrape, the failure in the series.
    let disabled = disabled_url(&s);
    let a = get(
        &probe_url(&server, &[("module", "http_2xx"), ("target", &disabled)]),
        &[],
    )
    .await;
    let body = text(&a);
    assert_eq!(a.status, 200, "{body}");
    assert_eq!(sample(&body, "probe_success"), Some(0.0));
    assert_eq!(
        sample(
            &body,
            "probe_failure_info{class=\"dns.nxdomain\",phase=\"dns\"}"
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(sample(&body, "probe_http_status_code"), Some(0.0));
    // No host name, address, message or request id in any label.
    for leak in [
        standin::DISABLED_GROUP,
        "127.0.0.1",
        "NXDOMAIN",
        "does not exist",
    ] {
        assert!(!body.contains(leak), "{leak} in {body}");
    }

    // A module with three samples: quantiles over them.
    let a = get(
        &probe_url(&server, &[("module", "release3"), ("target", &healthy)]),
        &[],
    )
    .await;
    let body = text(&a);
    assert_eq!(sample(&body, "apigw_probe_samples"), Some(3.0), "{body}");
    assert_eq!(
        sample(&body, "apigw_probe_latency_seconds_count"),
        Some(3.0)
    );
    let p50 = sample(&body, "apigw_probe_latency_seconds{quantile=\"0.5\"}").unwrap();
    let max = sample(&body, "apigw_probe_latency_seconds{quantile=\"1\"}").unwrap();
    assert!(p50 > 0.0 && p50 <= max, "{body}");

    // A configured target's name, and a bare host (blackbox adds http://).
    for target in [
        "cloudapi".to_owned(),
        healthy.trim_start_matches("http://").to_owned(),
    ] {
        let a = get(
            &probe_url(&server, &[("module", "http_2xx"), ("target", &target)]),
            &[],
        )
        .await;
        assert_eq!(sample(&text(&a), "probe_success"), Some(1.0), "{target}");
    }

    // OpenMetrics when Prometheus 3 asks for it.
    let a = get(
        &probe_url(&server, &[("module", "http_2xx"), ("target", &disabled)]),
        &[("accept", PROMETHEUS_3_ACCEPT)],
    )
    .await;
    let body = text(&a);
    assert_eq!(a.header("content-type"), Some(OPENMETRICS));
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(
        body.contains("# TYPE probe_failure info\n"),
        "OpenMetrics types it info: {body}"
    );
    assert!(body.contains("probe_failure_info{class=\"dns.nxdomain\",phase=\"dns\"} 1\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_refuses_what_blackbox_refuses_and_keeps_the_request_rules() {
    let (s, server) = setup().await;
    let healthy = s.url("/web/cloudapi");

    let a = get(
        &probe_url(&server, &[("module", "nope"), ("target", &healthy)]),
        &[],
    )
    .await;
    assert_eq!(a.status, 400);
    let v = a.json();
    assert_eq!(v["errorType"], "config.invalid");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .contains("unknown module \"nope\""),
        "{v}"
    );
    // The configured modules are the operator's: the log names them, the answer does not.
    assert!(!text(&a).contains("release3"), "{v}");
    server.wait_for_line("the module list in the log", |l| {
        l.contains("no configured module") && l.contains("release3")
    });

    let a = get(&probe_url(&server, &[("module", "http_2xx")]), &[]).await;
    assert_eq!(a.status, 400);
    assert!(
        text(&a).contains("target parameter is missing"),
        "{}",
        text(&a)
    );
    let a = get(
        &probe_url(
            &server,
            &[
                ("module", "http_2xx"),
                ("target", &healthy),
                ("samples", "3"),
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(a.status, 400, "{}", text(&a));
    let a = get(
        &probe_url(&server, &[("module", "http_2xx"), ("target", "ftp://x/")]),
        &[],
    )
    .await;
    assert_eq!(a.status, 400, "an invalid target: {}", text(&a));

    // A host the allow-list does not name: no packet, a failed probe.
    let a = get(
        &probe_url(
            &server,
            &[("module", "http_2xx"), ("target", "http://example.com/")],
        ),
        &[],
    )
    .await;
    let body = text(&a);
    assert_eq!(a.status, 200, "{body}");
    assert_eq!(
        sample(
            &body,
            "probe_failure_info{class=\"target.forbidden\",phase=\"setup\"}"
        ),
        Some(1.0),
        "{body}"
    );
    // A module's method is held to APIGW_REQUEST_METHODS like any request's.
    let a = get(
        &probe_url(&server, &[("module", "post"), ("target", &healthy)]),
        &[],
    )
    .await;
    assert_eq!(
        sample(
            &text(&a),
            "probe_failure_info{class=\"target.forbidden\",phase=\"setup\"}"
        ),
        Some(1.0),
        "{}",
        text(&a)
    );
    // A module asking for the signature signs only for configured hosts (any port).
    // debug=true shows the report.
    let a = get(
        &probe_url(
            &server,
            &[
                ("module", "signed"),
                ("target", "http://unconfigured.alicloudapi.com/web/cloudapi"),
                ("debug", "true"),
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let report = a.report();
    assert_eq!(
        support::target(&report).auth.as_deref(),
        Some("none (host not configured for signing)")
    );
    let a = get(
        &probe_url(
            &server,
            &[
                ("module", "signed"),
                ("target", &healthy),
                ("debug", "true"),
            ],
        ),
        &[],
    )
    .await;
    assert_eq!(support::target(&a.report()).auth.as_deref(), Some("app"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_alone_asks_for_metrics_and_curl_keeps_json() {
    let (s, server) = setup().await;
    let disabled = disabled_url(&s);
    let by_url = probe_url(&server, &[("url", &disabled)]);
    // curl's */*: the JSON report, 502 for the failed target.
    let a = get(&by_url, &[("accept", "*/*")]).await;
    assert_eq!(a.status, 502);
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(support::class(&a.report()), "dns.nxdomain");
    // The text format asked for: metrics, and the scrape itself succeeds.
    let a = get(
        &by_url,
        &[("accept", "text/plain;version=0.0.4;q=0.9,*/*;q=0.1")],
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some(TEXT));
    assert_eq!(sample(&text(&a), "probe_success"), Some(0.0));
    // The configured targets: each series names its target.
    let a = get(&server.url("/probe"), &[("accept", PROMETHEUS_3_ACCEPT)]).await;
    let body = text(&a);
    assert_eq!(a.header("content-type"), Some(OPENMETRICS));
    assert_eq!(
        body.matches("# TYPE probe_success gauge").count(),
        1,
        "{body}"
    );
    assert!(
        body.contains("probe_success{target=\"cloudapi\"} 1\n"),
        "{body}"
    );
    assert!(
        body.contains("probe_success{target=\"disabled\"} 0\n"),
        "{body}"
    );
    assert!(body.contains(
        "probe_failure_info{target=\"disabled\",class=\"dns.nxdomain\",phase=\"dns\"} 1\n"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_timeout_bounds_the_probe_as_in_blackbox() {
    let (s, server) = setup().await;
    let slow = s.url("/delay/3000");
    let started = Instant::now();
    let a = get(
        &probe_url(&server, &[("module", "http_2xx"), ("target", &slow)]),
        &[("x-prometheus-scrape-timeout-seconds", "1.5")],
    )
    .await;
    let elapsed = started.elapsed();
    let body = text(&a);
    assert_eq!(a.status, 200, "{body}");
    // The budget: the scrape timeout less APIGW_BUDGET_MARGIN_MS (500 ms, blackbox's offset).
    assert_eq!(sample(&body, "probe_timeout_seconds"), Some(1.0), "{body}");
    assert_eq!(
        sample(
            &body,
            "probe_failure_info{class=\"budget.exceeded\",phase=\"ttfb\"}"
        ),
        Some(1.0),
        "{body}"
    );
    assert!(
        elapsed < Duration::from_millis(1400),
        "answered after {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_metrics_count_invocations_and_results() {
    let (s, server) = setup().await;
    let disabled = disabled_url(&s);
    for _ in 0..2 {
        get(
            &probe_url(&server, &[("module", "http_2xx"), ("target", &disabled)]),
            &[],
        )
        .await;
    }
    get(
        &probe_url(&server, &[("module", "nope"), ("target", &disabled)]),
        &[],
    )
    .await;
    support::invoke(&server, "inv-1", r#"{"target":"cloudapi"}"#).await;

    let a = get(&server.url("/metrics"), &[]).await;
    let body = text(&a);
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some(TEXT));
    let count = |series: &str| sample(&body, series).unwrap_or_else(|| panic!("{series}: {body}"));
    assert_eq!(
        count("apigw_probe_invocations_total{trigger=\"http\",outcome=\"failed\"}"),
        2.0
    );
    assert_eq!(
        count("apigw_probe_invocations_total{trigger=\"http\",outcome=\"bad_input\"}"),
        1.0
    );
    assert_eq!(
        count("apigw_probe_invocations_total{trigger=\"event\",outcome=\"ok\"}"),
        1.0
    );
    assert_eq!(
        count("apigw_probe_invocations_total{trigger=\"timer\",outcome=\"ok\"}"),
        0.0
    );
    assert_eq!(
        count("apigw_probe_results_total{class=\"dns.nxdomain\"}"),
        2.0
    );
    assert_eq!(count("apigw_probe_results_total{class=\"ok\"}"), 1.0);
    assert!(count("process_start_time_seconds") > 1.7e9);
    assert_eq!(
        count(&format!(
            "apigw_probe_build_info{{version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )),
        1.0
    );
    let a = get(&server.url("/metrics"), &[("accept", PROMETHEUS_3_ACCEPT)]).await;
    assert_eq!(a.header("content-type"), Some(OPENMETRICS));
    let body = text(&a);
    assert!(
        body.contains("# TYPE apigw_probe_invocations counter\n"),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"));
}

/// `promtool check metrics` (Prometheus's own text-format parser and linter) on the text answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_the_text_format() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let (s, server) = setup().await;
    for url in [
        probe_url(
            &server,
            &[("module", "release3"), ("target", &s.url("/web/cloudapi"))],
        ),
        probe_url(
            &server,
            &[("module", "http_2xx"), ("target", &disabled_url(&s))],
        ),
        server.url("/metrics"),
    ] {
        let body = get(&url, &[]).await.body;
        let mut child = Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool");
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&body).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool check metrics {url}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&body)
        );
    }
}

/// A tool of the `prometheus` package: `$PROMETHEUS_BIN_DIR/<name>` or on PATH. Missing: a
/// failure with `PROMETHEUS_TESTS=required`, else `None` after saying the test skips.
fn tool(name: &str) -> Option<PathBuf> {
    let dirs = std::env::var_os("PROMETHEUS_BIN_DIR")
        .into_iter()
        .chain(std::env::var_os("PATH"))
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    for dir in dirs {
        let path = dir.join(name);
        if path.is_file() {
            return Some(path);
        }
    }
    assert!(
        std::env::var("PROMETHEUS_TESTS").as_deref() != Ok("required"),
        "{name} is missing and PROMETHEUS_TESTS=required: install Debian's prometheus package \
         (make deps, as root)"
    );
    eprintln!(
        "SKIPPED (prometheus): no {name} on PATH; `make deps` installs Debian's prometheus \
         package when run as root"
    );
    None
}

/// Prometheus holds exactly one `probe_failure_info{class="dns.nxdomain"}` series, of `instance`
/// in `job`, phase `dns`, value 1.
async fn assert_one_nxdomain_failure(prometheus: &Prometheus, instance: &str, job: &str) {
    let failures = prometheus
        .query("probe_failure_info{class=\"dns.nxdomain\"}")
        .await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    let (labels, value) = &failures[0];
    assert_eq!(*value, 1.0);
    assert_eq!(labels["instance"], instance);
    assert_eq!(labels["phase"], "dns");
    assert_eq!(labels["job"], job);
}

/// A Prometheus server on 127.0.0.1, on the port the kernel chose: it logs the address it
/// listens on (`msg="Listening on" address=127.0.0.1:NNNNN`), so nothing races for a port.
/// Stopped when dropped.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(binary: &PathBuf, config: &str) -> Self {
        Self::start_with(binary, config, &[])
    }

    /// [`Prometheus::start`] with more flags.
    fn start_with(binary: &PathBuf, config: &str, flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("a directory for Prometheus");
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let mut child = Command::new(binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg("--web.listen-address=127.0.0.1:0")
            .args(flags)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start prometheus");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("msg=\"Listening on\"") {
                    let addr = line
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("address="))
                        .and_then(|a| a.parse::<SocketAddr>().ok());
                    if let Some(addr) = addr {
                        let _ = tx.send(addr);
                    }
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!(
                    "prometheus did not say where it listens: {:#?}",
                    log.lock().unwrap()
                )
            });
        Self {
            child,
            addr,
            log,
            _dir: dir,
        }
    }

    /// Waits until it serves its API (it listens before its storage is open: 503 till then).
    async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("http://{}/-/ready", self.addr);
        while get(&url, &[]).await.status != 200 {
            assert!(Instant::now() < deadline, "not ready: {}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn api(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let url =
            url::Url::parse_with_params(&format!("http://{}{path}", self.addr), params).unwrap();
        let a = get(url.as_str(), &[]).await;
        let v = a.json();
        assert_eq!(v["status"], "success", "{path}: {v}");
        v["data"].clone()
    }

    /// The instant query's result as (labels, value).
    async fn query(&self, q: &str) -> Vec<(Value, f64)> {
        let data = self.api("/api/v1/query", &[("query", q)]).await;
        data["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let value = r["value"][1].as_str().unwrap().parse().unwrap();
                (r["metric"].clone(), value)
            })
            .collect()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_probe_through_blackbox_s_relabelling() {
    let Some(binary) = tool("prometheus") else {
        return;
    };
    let (s, server) = setup().await;
    let healthy = s.url("/web/cloudapi");
    let disabled = disabled_url(&s);
    let function = server.addr().to_string();
    // blackbox_exporter's README block, pointed at the function; plus its own /metrics.
    let config = format!(
        r#"global:
  scrape_interval: 2s
  scrape_timeout: 2s
scrape_configs:
  - job_name: apigw
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets: ['{healthy}', '{disabled}']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: '{function}'
  - job_name: apigw-self
    static_configs:
      - targets: ['{function}']
"#
    );
    let prometheus = Prometheus::start(&binary, &config);
    prometheus.ready().await;

    // Until each target was scraped once (and with no error).
    let deadline = Instant::now() + Duration::from_secs(60);
    let targets = loop {
        let data = prometheus.api("/api/v1/targets", &[]).await;
        let active = data["activeTargets"].as_array().unwrap().clone();
        let scraped = active.len() == 3
            && active.iter().all(|t| {
                t["health"] != "unknown"
                    && !t["lastScrape"].as_str().unwrap_or("").starts_with("0001")
            });
        if scraped {
            break active;
        }
        assert!(
            Instant::now() < deadline,
            "no scrape within 60 s: {data}\n{}",
            prometheus.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    for t in &targets {
        assert_eq!(t["health"], "up", "{t}");
        assert_eq!(t["lastError"], "", "{t}");
    }
    let scrape_urls: Vec<&str> = targets
        .iter()
        .filter_map(|t| t["scrapeUrl"].as_str())
        .collect();
    assert!(
        scrape_urls
            .iter()
            .any(|u| u.contains("/probe?module=http_2xx&target=")),
        "{scrape_urls:?}"
    );

    let up = prometheus.query("up").await;
    assert_eq!(up.len(), 3, "{up:?}");
    assert!(up.iter().all(|(_, v)| *v == 1.0), "{up:?}");

    let success = prometheus.query("probe_success").await;
    let by_instance = |instance: &str| {
        success
            .iter()
            .find(|(m, _)| m["instance"] == instance)
            .map(|(_, v)| *v)
    };
    assert_eq!(by_instance(&healthy), Some(1.0), "{success:?}");
    assert_eq!(by_instance(&disabled), Some(0.0), "{success:?}");

    assert_one_nxdomain_failure(&prometheus, &disabled, "apigw").await;

    // Prometheus 2.42 negotiated OpenMetrics: the family's type came through as `info`.
    let metadata = prometheus
        .api(
            "/api/v1/targets/metadata",
            &[
                ("match_target", "{job=\"apigw\"}"),
                ("metric", "probe_failure"),
            ],
        )
        .await;
    let types: Vec<&str> = metadata
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["type"].as_str())
        .collect();
    assert_eq!(types, ["info"], "{metadata}");
    // blackbox's own HELP text, as Prometheus keeps it.
    let metadata = prometheus
        .api(
            "/api/v1/targets/metadata",
            &[
                ("match_target", "{job=\"apigw\"}"),
                ("metric", "probe_success"),
            ],
        )
        .await;
    for m in metadata.as_array().unwrap() {
        assert_eq!(m["type"], "gauge", "{m}");
        assert_eq!(
            m["help"], "Displays whether or not the probe was a success",
            "{m}"
        );
    }
    assert_eq!(metadata.as_array().unwrap().len(), 2, "{metadata}");

    // Its own counters saw the scrapes.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = prometheus
            .query("apigw_probe_invocations_total{job=\"apigw-self\",trigger=\"http\",outcome=\"failed\"}")
            .await;
        if seen.first().is_some_and(|(_, v)| *v >= 1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "{seen:?}\n{}", prometheus.log());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let nxdomain = prometheus
        .query("apigw_probe_results_total{class=\"dns.nxdomain\"}")
        .await;
    assert!(
        nxdomain.first().is_some_and(|(_, v)| *v >= 1.0),
        "{nxdomain:?}"
    );
}

/// The timer pushes the same series through remote write 1.0 to a real Prometheus (its
/// receiver enabled), and they come back through its HTTP API: `probe_success` per target,
/// `probe_failure_info{class="dns.nxdomain"}` for the failing one, with the configured labels.
/// An event (not in `APIGW_PUSH_TRIGGERS`) pushes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timer_pushes_the_series_to_a_real_prometheus_by_remote_write() {
    let Some(binary) = tool("prometheus") else {
        return;
    };
    let prometheus = Prometheus::start_with(
        &binary,
        "global:\n  scrape_interval: 1m\n",
        &["--web.enable-remote-write-receiver"],
    );
    prometheus.ready().await;
    let write_url = format!("http://{}/api/v1/write", prometheus.addr);
    let (_s, server) = setup_with(&[
        ("APIGW_REMOTE_WRITE_URL", write_url.as_str()),
        ("APIGW_REMOTE_WRITE_LABELS", "region=cn-shanghai"),
    ])
    .await;

    let timer = json!({"triggerTime": "2026-11-29T07:00:00Z", "triggerName": "every-minute"});
    let a = support::invoke(&server, "push-timer-1", timer.to_string()).await;
    let report = a.report();
    assert!(!report.ok, "the disabled group fails");
    let rw = report
        .push
        .as_ref()
        .and_then(|p| p.remote_write.as_ref())
        .unwrap_or_else(|| panic!("no push block: {}", text(&a)));
    assert!(rw.ok, "{rw:?}\n{}", prometheus.log());
    assert_eq!(rw.status, Some(204), "{rw:?}");
    assert_eq!(rw.requests, 1);
    assert_eq!(rw.dropped, 0);
    assert!(rw.sent > 20, "{rw:?}");
    assert_eq!(
        rw.endpoint.as_deref(),
        Some(write_url.as_str()),
        "the URL as configured"
    );
    assert!(report.push.as_ref().unwrap().cms.is_none());

    let success = prometheus
        .query("probe_success{job=\"apigw-vpc-probe\"}")
        .await;
    let by_instance = |instance: &str| {
        success
            .iter()
            .find(|(m, _)| m["instance"] == instance)
            .map(|(m, v)| (m.clone(), *v))
    };
    let (labels, value) = by_instance("cloudapi").expect("cloudapi's probe_success");
    assert_eq!(value, 1.0, "{success:?}");
    assert_eq!(labels["region"], "cn-shanghai", "{labels}");
    assert_eq!(by_instance("disabled").map(|(_, v)| v), Some(0.0));
    assert_eq!(success.len(), 2, "{success:?}");

    assert_one_nxdomain_failure(&prometheus, "disabled", "apigw-vpc-probe").await;
    // The phases came too, under blackbox's names.
    let phases = prometheus
        .query("probe_http_duration_seconds{instance=\"cloudapi\"}")
        .await;
    assert_eq!(phases.len(), 5, "{phases:?}");

    // An event is not a trigger that pushes by default: no push block, nothing more written.
    let a = support::invoke(
        &server,
        "push-event-1",
        json!({"target": "cloudapi"}).to_string(),
    )
    .await;
    assert!(a.report().push.is_none(), "{}", text(&a));
    let line = server.wait_for_line("the timer's push line", |l| {
        l.contains("\"message\":\"metrics pushed\"")
    });
    assert!(line.contains("\"sink\":\"remote_write\""), "{line}");
    assert!(line.contains("push-timer-1"), "{line}");
}
