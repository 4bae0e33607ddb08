//! The deployment: the static release binary, the package FC unpacks into `/code`, and the
//! Serverless Devs descriptions (`s.yaml`, `s.cross-region.yaml`) checked against the fc3
//! component's schema.
//!
//! These tests read what `make package` wrote (`dist/code`, `dist/apigw-vpc-probe.zip`) and
//! render the yaml files with the real Serverless Devs CLI (`s preview`, installed by `make
//! s-cli`). `make test` builds both first and sets `DEPLOY_TESTS=required`, so there a missing
//! piece fails; a bare `cargo test` says `SKIPPED (deploy): …` instead.
//!
//! Real tools, real sockets on 127.0.0.1 only: `readelf`/`file` on the binary, `unzip` for the
//! package, the packaged `bootstrap` started as FC starts it, a local DNS server for its probe.

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use apigw_standin::launch::{Launch, Process};
use apigw_standin::{DnsServer, Zone};
use apigw_vpc_probe::report::Trigger;

/// The files FC must find in `/code`, all executable.
const PACKAGE_FILES: [&str; 2] = ["apigw-vpc-probe", "bootstrap"];
const GROUP: &str = "0123456789abcdef0123456789abcdef";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn code_dir() -> PathBuf {
    root().join("dist/code")
}

fn package_zip() -> PathBuf {
    root().join("dist/apigw-vpc-probe.zip")
}

/// Whether `make test` asked for these tests (then nothing may be skipped).
fn required() -> bool {
    std::env::var("DEPLOY_TESTS").is_ok_and(|v| v == "required")
}

/// Skips (or, under `make test`, fails) when `what` is missing.
fn skip(what: &str) {
    let msg = format!("SKIPPED (deploy): {what}; `make test` builds it (make package, make s-cli)");
    assert!(!required(), "{msg}");
    eprintln!("{msg}");
}

/// The package, or `None` after saying why the test skips.
fn package() -> Option<(PathBuf, PathBuf)> {
    let (dir, zip) = (code_dir(), package_zip());
    if dir.join("apigw-vpc-probe").is_file() && zip.is_file() {
        Some((dir, zip))
    } else {
        skip("no package in dist/ (make package)");
        None
    }
}

/// The Serverless Devs CLI: `$S_CLI`, else the one `make s-cli` installs.
fn s_cli() -> Option<PathBuf> {
    let path = std::env::var_os("S_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/s-cli/node_modules/.bin/s"));
    if path.is_file() {
        Some(path)
    } else {
        skip(&format!("no Serverless Devs CLI at {}", path.display()));
        None
    }
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tool(name: &str, args: &[&str], file: &Path) -> String {
    let (ok, stdout, stderr) = run(Command::new(name).args(args).arg(file));
    assert!(ok, "{name} {args:?} {} failed: {stderr}", file.display());
    stdout
}

// ---------------------------------------------------------------------------------------------
// The binary

/// What `readelf` and `file` say about how a binary is linked.
struct Linking {
    interpreter: bool,
    needed: Vec<String>,
    glibc_versions: bool,
    /// Relative relocations packed as RELR (`.cargo/config.toml`), not one RELA entry each.
    relr: bool,
    file: String,
}

fn linking(bin: &Path) -> Linking {
    let program_headers = tool("readelf", &["-lW"], bin);
    let dynamic = tool("readelf", &["-dW"], bin);
    let versions = tool("readelf", &["-VW", "--dyn-syms"], bin);
    Linking {
        interpreter: program_headers
            .lines()
            .any(|l| l.trim_start().starts_with("INTERP")),
        needed: dynamic
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .map(str::to_owned)
            .collect(),
        glibc_versions: versions.contains("GLIBC_"),
        relr: dynamic.lines().any(|l| l.contains("(RELR)")),
        file: tool("file", &["-b"], bin),
    }
}

/// What only the stand-in holds: its demo credentials, its backend's answer and its help text.
fn stand_in_strings() -> Vec<&'static str> {
    vec![
        apigw_standin::DEMO_APP_SECRET,
        apigw_standin::DEMO_APPCODE,
        apigw_standin::OTHER_APP_SECRET,
        apigw_standin::DEMO_ACCESS_KEY_SECRET,
        apigw_standin::DEMO_STS_ACCESS_KEY_SECRET,
        apigw_standin::DEMO_STS_SECURITY_TOKEN,
        "hello from the backend",
        "The stand-in of DNS, API Gateway and a backend",
        "Invalid Signature, Server StringToSign",
    ]
}

/// `grep -aF`: a debug build scans a 100 MB binary too slowly itself.
fn contains(file: &Path, needle: &str) -> bool {
    let status = Command::new("grep")
        .args(["-q", "-a", "-F", "--", needle])
        .arg(file)
        .status()
        .expect("run grep");
    status.success()
}

#[test]
fn the_function_binary_holds_none_of_the_stand_in() {
    // The stand-in's binary does hold them: the check can see strings in a binary.
    let function = PathBuf::from(env!("CARGO_BIN_EXE_apigw-vpc-probe"));
    let standin = function.with_file_name("apigw-standin");
    for s in stand_in_strings() {
        assert!(contains(&standin, s), "the stand-in binary lacks {s:?}");
    }
    let mut binaries = vec![function];
    if let Some((dir, _)) = package() {
        binaries.push(dir.join("apigw-vpc-probe"));
    }
    for bin in binaries {
        for s in stand_in_strings() {
            assert!(!contains(&bin, s), "{} holds {s:?}", bin.display());
        }
    }
}

#[test]
fn the_release_binary_is_static_x86_64_and_stripped() {
    let Some((dir, _)) = package() else { return };
    let bin = dir.join("apigw-vpc-probe");

    let header = tool("readelf", &["-hW"], &bin);
    assert!(header.contains("ELF64"), "{header}");
    assert!(header.contains("X86-64"), "{header}");

    let l = linking(&bin);
    assert!(!l.interpreter, "the binary asks for a program interpreter");
    assert!(
        l.needed.is_empty(),
        "shared libraries needed: {:?}",
        l.needed
    );
    assert!(
        !l.glibc_versions,
        "the binary requires glibc symbol versions"
    );
    assert!(
        l.file.contains("stripped") && !l.file.contains("not stripped"),
        "file says: {}",
        l.file
    );
    // Still position independent (ASLR), its relocations packed: the run below applies them.
    assert!(
        l.file.contains("static-pie linked"),
        "file says: {}",
        l.file
    );
    assert!(l.relr, "the relocations are not packed as RELR");

    // The same checks see the difference on the test build, linked against this machine's glibc.
    let dynamic = linking(Path::new(env!("CARGO_BIN_EXE_apigw-vpc-probe")));
    assert!(dynamic.interpreter && !dynamic.needed.is_empty() && dynamic.glibc_versions);
    assert!(
        !dynamic.relr,
        "the test build is not linked with pack-relative-relocs"
    );

    // It runs with nothing from the environment (no PATH, no locale, no libraries).
    let (ok, stdout, stderr) = run(Command::new(&bin).arg("--version").env_clear());
    assert!(ok, "{stderr}");
    assert_eq!(
        stdout.trim(),
        format!("apigw-vpc-probe {}", env!("CARGO_PKG_VERSION"))
    );

    // mimalloc was built with .cargo/config.toml's arena size (its verbose start says so).
    let (ok, _, stderr) = run(Command::new(&bin)
        .arg("--version")
        .env_clear()
        .env("MIMALLOC_VERBOSE", "1"));
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("option 'arena_reserve': 65536 KiB"),
        "mimalloc's options: {stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// The package

/// One entry of a zip's central directory.
#[derive(Debug)]
struct ZipEntry {
    name: String,
    /// Upper byte of "version made by": 3 is Unix, the only host whose modes FC applies.
    host: u8,
    /// Unix mode from the external attributes.
    mode: u32,
    size: u32,
}

fn u16_at(b: &[u8], i: usize) -> usize {
    usize::from(u16::from_le_bytes([b[i], b[i + 1]]))
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Reads the central directory (APPNOTE 4.3.12, 4.3.16).
fn zip_entries(zip: &[u8]) -> Vec<ZipEntry> {
    let eocd = (0..=zip.len().saturating_sub(22))
        .rev()
        .find(|&i| zip[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("end of central directory record");
    let count = u16_at(zip, eocd + 10);
    let mut at = u32_at(zip, eocd + 16) as usize;
    let mut entries = Vec::new();
    for _ in 0..count {
        assert_eq!(zip[at..at + 4], [0x50, 0x4b, 0x01, 0x02], "central header");
        let name_len = u16_at(zip, at + 28);
        let extra_len = u16_at(zip, at + 30);
        let comment_len = u16_at(zip, at + 32);
        entries.push(ZipEntry {
            name: String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).expect("name"),
            host: zip[at + 5],
            mode: u32_at(zip, at + 38) >> 16,
            size: u32_at(zip, at + 24),
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    entries
}

/// Unzips the package into a fresh directory standing in for `/code`.
fn unpack(zip: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, _, stderr) = run(Command::new("unzip")
        .arg("-q")
        .arg(zip)
        .arg("-d")
        .arg(dir.path()));
    assert!(ok, "unzip failed: {stderr}");
    dir
}

#[test]
fn the_zip_holds_exactly_bootstrap_and_the_binary_executable() {
    let Some((dir, zip)) = package() else { return };
    let entries = zip_entries(&std::fs::read(&zip).expect("read the zip"));
    let mut names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, PACKAGE_FILES, "at the root of the zip: {entries:?}");
    for e in &entries {
        assert_eq!(e.host, 3, "{} was not stored with Unix attributes", e.name);
        assert_eq!(
            e.mode & 0o170000,
            0o100000,
            "{} is not a regular file",
            e.name
        );
        assert_eq!(e.mode & 0o777, 0o755, "{} mode {:o}", e.name, e.mode);
    }

    let unpacked = unpack(&zip);
    for name in PACKAGE_FILES {
        let got = unpacked.path().join(name);
        let meta = std::fs::metadata(&got).expect("unpacked file");
        assert_eq!(
            meta.permissions().mode() & 0o111,
            0o111,
            "{name} not executable"
        );
        let bytes = std::fs::read(&got).expect("read unpacked");
        assert_eq!(
            bytes,
            std::fs::read(dir.join(name)).expect("read dist/code"),
            "{name} in the zip differs from dist/code"
        );
        let entry = entries.iter().find(|e| e.name == name).expect("entry");
        assert_eq!(entry.size as usize, bytes.len());
    }
    let bootstrap = std::fs::read_to_string(unpacked.path().join("bootstrap")).expect("bootstrap");
    assert_eq!(
        bootstrap,
        std::fs::read_to_string(root().join("bootstrap")).expect("the repository's bootstrap")
    );
    assert!(bootstrap.starts_with("#!/bin/sh\n"), "{bootstrap}");
    let last = bootstrap.lines().rev().find(|l| !l.trim().is_empty());
    assert!(
        last.is_some_and(|l| l.starts_with("exec ") && l.contains("apigw-vpc-probe\" serve")),
        "bootstrap must end by exec-ing the binary's serve: {last:?}"
    );
}

/// The environment FC gives a custom.debian10 instance (besides credentials), nothing else: no
/// PATH, no HOME. The port is 0: the kernel chooses, and the instance's `listening` line says
/// which.
fn fc_environment(code: &Path) -> Vec<(String, String)> {
    [
        ("FC_CUSTOM_LISTEN_PORT", "0".into()),
        ("FC_SERVER_PORT", "0".into()),
        ("FC_REGION", "cn-hangzhou".into()),
        ("FC_ACCOUNT_ID", "1234567890123456".into()),
        ("FC_FUNCTION_NAME", "apigw-vpc-probe".into()),
        ("FC_FUNCTION_HANDLER", "index.handler".into()),
        ("FC_FUNCTION_MEMORY_SIZE", "128".into()),
        ("FC_FUNC_CODE_PATH", code.display().to_string()),
        ("FC_INSTANCE_ID", "c-6741ad3c-18d1f3e0a7b14d5c9e2f".into()),
        ("FC_VER_ID", "LATEST".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The packaged bootstrap, started as FC starts it (with the stand-in's launcher, which reads
/// the address from its `listening` line); its process group is killed when dropped, so that
/// a server a shell left behind goes too.
struct Instance(Process);

impl Instance {
    fn start(code: &Path, env: &[(String, String)]) -> Self {
        let process = Launch::new(code.join("bootstrap"))
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(code)
            .own_process_group()
            .start()
            .unwrap_or_else(|e| panic!("the bootstrap did not start: {e}"));
        Self(process)
    }

    fn url(&self, path: &str) -> String {
        self.0.url(path)
    }

    /// Everything it printed so far, stdout then stderr.
    fn output(&self) -> Vec<String> {
        let mut lines = self.0.stdout();
        lines.extend(self.0.stderr());
        lines
    }

    /// SIGTERM, then the exit status (None: still running after `within`).
    fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        self.0.terminate().expect("SIGTERM");
        self.0.wait_exit(within)
    }
}

async fn invoke(
    instance: &Instance,
    request_id: &str,
    timeout_s: u64,
    event: Vec<u8>,
) -> support::Answer {
    let timeout = timeout_s.to_string();
    support::post(
        &instance.url("/invoke"),
        &[
            ("x-fc-request-id", request_id),
            ("x-fc-control-path", "/invoke"),
            ("content-type", "application/octet-stream"),
            ("x-fc-function-name", "apigw-vpc-probe"),
            ("x-fc-region", "cn-hangzhou"),
            ("x-fc-function-memory", "128"),
            ("x-fc-function-timeout", &timeout),
        ],
        event,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_from_the_unpacked_zip_serves_fc_with_only_fc_variables() {
    let Some((_, zip)) = package() else { return };
    let code = unpack(&zip);
    let mut instance = Instance::start(code.path(), &fc_environment(code.path()));
    assert!(
        instance.0.listen().ip().is_unspecified(),
        "FC's port on every address"
    );

    // exec: the process FC started is the server itself, no shell left behind.
    let pid = instance.0.pid();
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("/proc/pid/exe");
    assert_eq!(
        exe,
        code.path()
            .join("apigw-vpc-probe")
            .canonicalize()
            .expect("canonical path"),
    );
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    let args: Vec<&[u8]> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .collect();
    assert_eq!(args.last(), Some(&&b"serve"[..]), "{args:?}");

    let health = support::get(&instance.url("/healthz"), &[]).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), json!({"status": "ok"}));

    // No APIGW_* setting: the invocation is answered, as a function error FC can count.
    let answer = invoke(&instance, "deploy-empty-env-1", 30, b"{}".to_vec()).await;
    assert_eq!(
        answer.status,
        404,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.header("x-fc-status"), Some("404"));
    answer.assert_allowed_headers();
    let body = answer.json();
    assert_eq!(body["errorType"], "config.invalid", "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap_or("")
            .contains("APIGW_TARGETS"),
        "{body}"
    );
    assert_eq!(body["requestId"], "deploy-empty-env-1");
    // The server's stdout is read by another thread: wait for the line rather than race it.
    let marker = "FC Invoke Start RequestId: deploy-empty-env-1";
    let seen = instance
        .0
        .wait_for_line(Duration::from_secs(2), |l| l == marker);
    assert!(seen.is_some(), "{:?}", instance.output());

    // SIGTERM reaches the server (not a shell), which stops cleanly.
    let status = instance.terminate(Duration::from_secs(15));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{status:?}");
}

// ---------------------------------------------------------------------------------------------
// s.yaml and s.cross-region.yaml

/// Sample values for the variables the yaml files read; `s` substitutes the user's at deploy
/// time.
fn sample_env(region: &str) -> BTreeMap<&'static str, String> {
    [
        ("REGION", region.to_owned()),
        ("VPC_ID", format!("vpc-{region}-sample")),
        (
            "VSWITCH_IDS",
            r#"["vsw-sample-a","vsw-sample-b"]"#.to_owned(),
        ),
        ("SECURITY_GROUP_ID", "sg-sample".to_owned()),
        (
            "ROLE_ARN",
            "acs:ram::1234567890123456:role/apigw-vpc-probe".to_owned(),
        ),
        ("APIGW_GROUP_ID", GROUP.to_owned()),
        ("APIGW_PATH", "/web/cloudapi".to_owned()),
        ("APIGW_REGION", "cn-shanghai".to_owned()),
        ("APIGW_APP_KEY", "204000000".to_owned()),
        ("APIGW_APP_SECRET", "sample-app-secret-7c1e".to_owned()),
    ]
    .into_iter()
    .collect()
}

/// `s preview` of `file`: the yaml as Serverless Devs renders it for deploying, or its error.
fn render(s: &Path, file: &str, env: &BTreeMap<&str, String>) -> Result<Value, String> {
    let home = tempfile::tempdir().expect("temp HOME for s");
    let (ok, stdout, stderr) = run(Command::new(s)
        .args(["preview", "--silent", "-o", "json", "-t", file])
        .current_dir(root())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .envs(env.iter().map(|(k, v)| (*k, v))));
    if !ok {
        return Err(format!("{stdout}{stderr}"));
    }
    serde_json::from_str(&stdout).map_err(|e| format!("s preview printed no JSON ({e}): {stdout}"))
}

fn render_ok(s: &Path, file: &str, env: &BTreeMap<&str, String>) -> Value {
    render(s, file, env).unwrap_or_else(|e| panic!("s preview -t {file}: {e}"))
}

/// The yaml files of the repository: `s.yaml` and every `s.*.yaml`.
fn yaml_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root())
        .expect("read the repository")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("s.") && (n.ends_with(".yaml") || n.ends_with(".yml")))
        .collect();
    files.sort();
    files
}

/// The fc3 resources of a rendered file: (name, props).
fn fc3_resources(rendered: &Value) -> Vec<(String, Value)> {
    rendered["resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["component"] == "fc3")
        .map(|(name, r)| (name.clone(), r["props"].clone()))
        .collect()
}

fn the_function(rendered: &Value) -> Value {
    let resources = fc3_resources(rendered);
    assert_eq!(resources.len(), 1, "one fc3 function: {resources:?}");
    resources[0].1.clone()
}

fn schema() -> Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures/fc3-schema.json"))
        .expect("tests/fixtures/fc3-schema.json");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// Errors of `instance` against the draft-07 `schema`, one line each.
fn schema_errors(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::draft7::new(schema).expect("a valid draft-07 schema");
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// The schema of one definition (`#/definitions/<name>`), for checking a trigger's config
/// against its own type: the schema's `triggerConfig` is an `anyOf` of every trigger type.
fn definition(schema: &Value, name: &str) -> Value {
    assert!(
        schema["definitions"][name].is_object(),
        "no definition {name}"
    );
    json!({
        "$schema": schema["$schema"],
        "definitions": schema["definitions"],
        "$ref": format!("#/definitions/{name}"),
    })
}

fn trigger_definition(trigger_type: &str) -> &'static str {
    match trigger_type {
        "http" => "IHttpTriggerConfig",
        "timer" => "ITimerTriggerConfig",
        other => panic!("no check for {other} triggers"),
    }
}

/// Everything the schema says about the props, plus each trigger against its type's
/// definition, with every field that definition requires present.
fn check_props(schema: &Value, props: &Value) -> Vec<String> {
    let mut errors = schema_errors(schema, props);
    for (i, trigger) in props["triggers"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let kind = trigger["triggerType"].as_str().unwrap_or("");
        let def = trigger_definition(kind);
        let config = &trigger["triggerConfig"];
        for e in schema_errors(&definition(schema, def), config) {
            errors.push(format!("/triggers/{i}/triggerConfig ({def}){e}"));
        }
        for field in schema["definitions"][def]["required"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let field = field.as_str().expect("required names");
            if config.get(field).is_none() {
                errors.push(format!("/triggers/{i}/triggerConfig lacks {field}"));
            }
        }
    }
    errors
}

#[test]
fn every_s_yaml_parses_and_validates_against_the_fc3_schema() {
    let Some(s) = s_cli() else { return };
    let files = yaml_files();
    assert!(
        files.contains(&"s.yaml".to_owned()) && files.contains(&"s.cross-region.yaml".to_owned()),
        "{files:?}"
    );
    let schema = schema();
    for file in &files {
        let text = std::fs::read_to_string(root().join(file)).expect("read yaml");
        let raw: Value = serde_norway::from_str(&text)
            .unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}"));
        assert!(raw.is_object(), "{file}: {raw}");

        let rendered = render_ok(&s, file, &sample_env("cn-hangzhou"));
        assert_eq!(rendered["edition"], "3.0.0", "{file}");
        let props = the_function(&rendered);
        let errors = check_props(&schema, &props);
        assert!(
            errors.is_empty(),
            "{file} against the fc3 schema:\n{}",
            errors.join("\n")
        );
        let kinds: Vec<&str> = props["triggers"]
            .as_array()
            .expect("triggers")
            .iter()
            .map(|t| t["triggerType"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(kinds, ["http", "timer"], "{file}");
    }
}

#[test]
fn the_schema_check_rejects_what_fc3_would_reject() {
    let Some(s) = s_cli() else { return };
    let schema = schema();
    let good = the_function(&render_ok(&s, "s.yaml", &sample_env("cn-hangzhou")));
    assert!(check_props(&schema, &good).is_empty());

    let broken = |change: &dyn Fn(&mut Value)| {
        let mut props = good.clone();
        change(&mut props);
        check_props(&schema, &props)
    };
    // A custom runtime needs code (the schema's if/then on runtime).
    assert!(!broken(&|p| {
        p.as_object_mut().unwrap().remove("code");
    })
    .is_empty());
    assert!(!broken(&|p| p["memorySize"] = json!(100)).is_empty());
    assert!(!broken(&|p| p["runtime"] = json!("custom.debian9")).is_empty());
    assert!(!broken(&|p| p["region"] = json!("cn-nowhere")).is_empty());
    assert!(!broken(&|p| p["environmentVariables"]["APIGW_STAGE"] = json!(1)).is_empty());
    assert!(!broken(&|p| p["vpcConfig"]["vSwitchIds"] = json!("vsw-a")).is_empty());
    // A trigger missing a field its own type requires, which the anyOf alone would let through.
    assert!(!broken(&|p| {
        p["triggers"][1]["triggerConfig"]
            .as_object_mut()
            .unwrap()
            .remove("enable");
    })
    .is_empty());
    assert!(!broken(&|p| {
        p["triggers"][0]["triggerConfig"]
            .as_object_mut()
            .unwrap()
            .remove("methods");
    })
    .is_empty());
    assert!(!broken(&|p| p["triggers"][0]["triggerConfig"]["authType"] = json!("open")).is_empty());
}

fn makefile_var(name: &str) -> String {
    let text = std::fs::read_to_string(root().join("Makefile")).expect("Makefile");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} := ")))
        .unwrap_or_else(|| panic!("no `{name} := …` in the Makefile"))
        .trim()
        .to_owned()
}

fn targets_of(props: &Value) -> Vec<Value> {
    let json = props["environmentVariables"]["APIGW_TARGETS"]
        .as_str()
        .expect("APIGW_TARGETS");
    serde_json::from_str(json).expect("APIGW_TARGETS is a JSON array")
}

fn trigger<'a>(props: &'a Value, kind: &str) -> &'a Value {
    props["triggers"]
        .as_array()
        .expect("triggers")
        .iter()
        .find(|t| t["triggerType"] == kind)
        .unwrap_or_else(|| panic!("no {kind} trigger"))
}

#[test]
fn the_yaml_agrees_with_the_package_and_the_binary() {
    let Some(s) = s_cli() else { return };
    for file in yaml_files() {
        let props = the_function(&render_ok(&s, &file, &sample_env("cn-hangzhou")));

        // Code: the directory `make package` writes, holding what the command runs.
        let code_dir = makefile_var("CODE_DIR");
        assert_eq!(props["code"], format!("./{code_dir}"), "{file}");
        assert_eq!(code_dir, "dist/code");
        let crc = &props["customRuntimeConfig"];
        assert_eq!(crc["command"], json!(["/code/bootstrap"]), "{file}");
        // …which `make package` puts at the root of the code directory (FC's /code).
        let makefile = std::fs::read_to_string(root().join("Makefile")).expect("Makefile");
        assert!(makefile.contains("install -m 0755 bootstrap $(CODE_DIR)/bootstrap"));
        assert!(crc.get("args").is_none_or(|a| a == &json!([])), "{file}");
        // Port: what FC passes in FC_CUSTOM_LISTEN_PORT, and the binary's own default.
        let default_port = apigw_vpc_probe::runtime::DEFAULT_PORT;
        assert_eq!(crc["port"], json!(default_port), "{file}");
        assert_eq!(crc["healthCheckConfig"]["httpGetUrl"], "/healthz", "{file}");

        assert_eq!(props["runtime"], "custom.debian10", "{file}");
        assert_eq!(props["memorySize"], 128, "{file}");
        assert!(props["instanceConcurrency"].as_u64() > Some(1), "{file}");
        assert_eq!(props["logConfig"], "auto", "{file}");
        for key in ["vpcId", "vSwitchIds", "securityGroupId"] {
            assert!(
                props["vpcConfig"].get(key).is_some(),
                "{file}: vpcConfig.{key}"
            );
        }
        assert!(props["role"]
            .as_str()
            .is_some_and(|r| r.starts_with("acs:ram::")));

        // The timeout leaves room for the probe: every configured target's samples at the
        // per-sample limit, within the budget (timeout minus the margin).
        let settings = apigw_vpc_probe::config::Settings::default();
        let timeout_ms = props["timeout"].as_u64().expect("timeout") * 1000;
        let budget_ms = timeout_ms - settings.budget_margin.as_millis() as u64;
        let targets = targets_of(&props);
        let needed_ms: u64 = targets
            .iter()
            .map(|t| {
                t["samples"].as_u64().unwrap_or(1) * settings.sample_timeout.as_millis() as u64
            })
            .sum();
        assert!(
            needed_ms <= budget_ms,
            "{file}: {needed_ms} ms of samples, budget {budget_ms} ms"
        );
        assert!(
            timeout_ms < 60_000,
            "{file}: a run must end before the timer's next minute"
        );

        // Triggers: HTTP signed by default; timer every minute, enabled, naming a target.
        let http = &trigger(&props, "http")["triggerConfig"];
        assert_eq!(http["authType"], "function", "{file}");
        assert!(http["methods"]
            .as_array()
            .expect("methods")
            .contains(&json!("GET")));
        let timer = &trigger(&props, "timer")["triggerConfig"];
        assert_eq!(timer["cronExpression"], "@every 1m", "{file}");
        assert_eq!(timer["enable"], true, "{file}");
        let payload: Value = serde_json::from_str(timer["payload"].as_str().expect("payload"))
            .expect("the timer payload is JSON");
        let names: Vec<&Value> = targets.iter().map(|t| &t["name"]).collect();
        assert!(
            names.contains(&&payload["target"]),
            "{file}: {payload} names none of {names:?}"
        );
    }
}

#[test]
fn account_values_come_from_the_environment_and_the_secret_only_into_the_function() {
    let Some(s) = s_cli() else { return };
    let hz = sample_env("cn-hangzhou");
    let mut bj = sample_env("cn-beijing");
    bj.insert("SECURITY_GROUP_ID", "sg-other".into());
    bj.insert("ROLE_ARN", "acs:ram::999:role/other".into());
    bj.insert("VSWITCH_IDS", r#"["vsw-other"]"#.into());
    bj.insert("APIGW_GROUP_ID", "fedcba9876543210fedcba9876543210".into());
    bj.insert("APIGW_PATH", "/other".into());
    bj.insert("APIGW_STAGE", "TEST".into());

    for file in yaml_files() {
        let (a, b) = (
            the_function(&render_ok(&s, &file, &hz)),
            the_function(&render_ok(&s, &file, &bj)),
        );
        assert_eq!(a["region"], "cn-hangzhou");
        assert_eq!(b["region"], "cn-beijing");
        assert_eq!(b["vpcConfig"]["vpcId"], "vpc-cn-beijing-sample");
        assert_eq!(b["vpcConfig"]["vSwitchIds"], json!(["vsw-other"]));
        assert_eq!(
            a["vpcConfig"]["vSwitchIds"],
            json!(["vsw-sample-a", "vsw-sample-b"])
        );
        assert_eq!(b["vpcConfig"]["securityGroupId"], "sg-other");
        assert_eq!(b["role"], "acs:ram::999:role/other");
        let (ta, tb) = (&targets_of(&a)[0], &targets_of(&b)[0]);
        assert_eq!(ta["group"], GROUP);
        assert_eq!(tb["group"], "fedcba9876543210fedcba9876543210");
        assert_eq!(
            (&ta["path"], &tb["path"]),
            (&json!("/web/cloudapi"), &json!("/other"))
        );
        assert_eq!(
            (&ta["stage"], &tb["stage"]),
            (&json!("RELEASE"), &json!("TEST"))
        );
        assert_eq!(b["environmentVariables"]["APIGW_APP_KEY"], "204000000");

        // The AppSecret: once, as the function's environment variable, nowhere else.
        let rendered = render_ok(&s, &file, &hz).to_string();
        assert_eq!(
            rendered.matches("sample-app-secret-7c1e").count(),
            1,
            "{file}"
        );
        assert_eq!(
            a["environmentVariables"]["APIGW_APP_SECRET"],
            "sample-app-secret-7c1e"
        );

        // Without a required variable `s` refuses to render (nothing falls back to a literal).
        for required in [
            "REGION",
            "VPC_ID",
            "VSWITCH_IDS",
            "SECURITY_GROUP_ID",
            "ROLE_ARN",
        ] {
            let mut env = hz.clone();
            env.remove(required);
            assert!(
                render(&s, &file, &env).is_err(),
                "{file} renders without {required}"
            );
        }
        // Anonymous HTTP access only when asked for.
        let mut anonymous = hz.clone();
        anonymous.insert("HTTP_AUTH_TYPE", "anonymous".into());
        let props = the_function(&render_ok(&s, &file, &anonymous));
        assert_eq!(
            trigger(&props, "http")["triggerConfig"]["authType"],
            "anonymous"
        );
    }

    // The two scenarios differ only in the API group's region.
    let same = the_function(&render_ok(&s, "s.yaml", &hz));
    let cross = the_function(&render_ok(&s, "s.cross-region.yaml", &hz));
    assert_eq!(targets_of(&same)[0]["region"], "cn-hangzhou");
    assert_eq!(targets_of(&cross)[0]["region"], "cn-shanghai");
    let mut cross_as_same = cross.clone();
    cross_as_same["environmentVariables"]["APIGW_TARGETS"] =
        same["environmentVariables"]["APIGW_TARGETS"].clone();
    assert_eq!(cross_as_same, same);
    let mut no_apigw_region = hz.clone();
    no_apigw_region.remove("APIGW_REGION");
    assert!(render(&s, "s.cross-region.yaml", &no_apigw_region).is_err());
}

/// The timer event FC sends for `trigger`.
fn timer_event(trigger: &Value) -> Vec<u8> {
    json!({
        "triggerTime": "2026-11-24T05:49:00Z",
        "triggerName": trigger["triggerName"],
        "payload": trigger["triggerConfig"]["payload"],
    })
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_packaged_function_runs_the_yaml_timer_probe_with_the_yaml_environment() {
    let Some(s) = s_cli() else { return };
    let Some((_, zip)) = package() else { return };
    let code = unpack(&zip);
    // The VPC's DNS stand-in: no name exists, as before the group's VPC domain is enabled.
    let dns = DnsServer::start("127.0.0.1:0".parse().unwrap(), Zone::default())
        .await
        .expect("DNS stand-in");

    for (file, region) in [
        ("s.yaml", "cn-hangzhou"),
        ("s.cross-region.yaml", "cn-shanghai"),
    ] {
        let props = the_function(&render_ok(&s, file, &sample_env("cn-hangzhou")));
        let mut env = fc_environment(code.path());
        for (k, v) in props["environmentVariables"]
            .as_object()
            .expect("environment")
        {
            env.push((k.clone(), v.as_str().expect("string values").to_owned()));
        }
        // Only for the test: the DNS stand-in instead of the VPC's 100.100.2.136/138.
        env.push(("APIGW_DNS_SERVERS".into(), dns.addr().to_string()));
        let instance = Instance::start(code.path(), &env);

        let timer = trigger(&props, "timer");
        let timeout_s = props["timeout"].as_u64().expect("timeout");
        let queries_before = dns.queries();
        let answer = invoke(&instance, "deploy-timer-1", timeout_s, timer_event(timer)).await;
        let report = answer.report();
        // The target failed, so FC must count a function error (the alarm's signal).
        assert_eq!(answer.status, 404, "{file}: {report:?}");
        assert_eq!(answer.header("x-fc-status"), Some("404"));
        assert_eq!(report.schema, 1, "{file}: {report:?}");
        assert_eq!(report.trigger, Trigger::Timer, "{file}: {report:?}");
        let function_timeout = report.function.as_ref().and_then(|f| f.timeout_s);
        assert_eq!(
            function_timeout.map(u64::from),
            Some(timeout_s),
            "{report:?}"
        );
        let target = support::target(&report);
        assert_eq!(target.name, "api", "{file}: {report:?}");
        assert_eq!(
            target.url,
            format!("http://{GROUP}-{region}-vpc.alicloudapi.com/web/cloudapi"),
            "{file}"
        );
        assert_eq!(
            support::class(&report),
            "dns.nxdomain",
            "{file}: {report:?}"
        );
        assert_eq!(target.samples.len(), 3, "{file}");
        assert!(
            dns.queries() >= queries_before + 3,
            "{file}: the probe asked the DNS stand-in"
        );
        // The AppSecret from the environment is never echoed.
        assert!(!String::from_utf8_lossy(&answer.body).contains("sample-app-secret-7c1e"));
        assert!(!instance
            .output()
            .iter()
            .any(|l| l.contains("sample-app-secret-7c1e")));
    }
}

#[test]
fn the_schema_fixture_is_the_shared_spec() {
    let shared = Path::new("/work/shared/spec/fc3-schema.json");
    let Ok(mut f) = std::fs::File::open(shared) else {
        eprintln!(
            "SKIPPED (deploy): {} is not on this machine",
            shared.display()
        );
        return;
    };
    let mut theirs = String::new();
    f.read_to_string(&mut theirs)
        .expect("read the shared schema");
    let ours = std::fs::read_to_string(root().join("tests/fixtures/fc3-schema.json"))
        .expect("tests/fixtures/fc3-schema.json");
    assert!(
        ours == theirs,
        "tests/fixtures/fc3-schema.json differs from {}",
        shared.display()
    );
    let source = std::fs::read_to_string(root().join("tests/fixtures/fc3-schema.SOURCE"))
        .expect("tests/fixtures/fc3-schema.SOURCE");
    assert!(source.contains("devsapp/fc3"), "{source}");
}
