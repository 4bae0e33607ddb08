//! `apigw-vpc-probe probe`: the same probe from any shell (an ECS in the VPC, a laptop), built
//! on the library's public surface like any other program using it; `apigw-vpc-probe check`:
//! the probe and the configuration cross-check, with the credentials of an Alibaba Cloud CLI
//! profile or the environment.
//! Exit code 0 when every target is ok, 1 when a target failed, 2 for usage or configuration
//! errors.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use apigw_vpc_probe::config::Settings;
use apigw_vpc_probe::crosscheck::{CrossCheck, FunctionIdentity, Mode};
use apigw_vpc_probe::error::{ErrorClass, ProbeError};
use apigw_vpc_probe::event::Selection;
use apigw_vpc_probe::expect::ExpectFlags;
use apigw_vpc_probe::openapi::{CliProfile, Credentials, Network};
use apigw_vpc_probe::probe::{Invocation, Prober};
use apigw_vpc_probe::redact::{self, Redactor};
use apigw_vpc_probe::report::{Report, Trigger};
use apigw_vpc_probe::target::{AddressMode, Retry, TargetSpec};

use crate::args::{CheckArgs, ProbeArgs};

/// Exit code: every target ok.
pub(crate) const EXIT_OK: i32 = 0;
/// Exit code: a target failed.
pub(crate) const EXIT_FAILED: i32 = 1;
/// Exit code: usage or configuration error.
pub(crate) const EXIT_USAGE: i32 = 2;
/// Exit code: the report could not be written (a full disk, a closed file): the caller must
/// not take a cut report for a verdict.
pub(crate) const EXIT_OUTPUT: i32 = 3;

/// Runs the `probe` subcommand; returns the exit code.
pub(crate) async fn probe(args: ProbeArgs) -> i32 {
    execute(args, None).await
}

/// Runs the `check` subcommand: the probe and the cross-check of every target; returns the exit
/// code.
pub(crate) async fn check(args: CheckArgs) -> i32 {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let (credentials, profile_region) = match check_credentials(args.profile.as_deref(), &env) {
        Ok(found) => found,
        Err(message) => {
            // The message names the file and the profile, never a value from it.
            eprintln!("error config.invalid: {message}");
            return EXIT_USAGE;
        }
    };
    let function = FunctionIdentity {
        region: args
            .region
            .or(profile_region)
            .or_else(|| env("FC_REGION"))
            .or_else(|| env("ALIBABA_CLOUD_REGION_ID")),
        account_id: env("FC_ACCOUNT_ID"),
        name: args.function.or_else(|| env("FC_FUNCTION_NAME")),
        qualifier: args.qualifier,
    };
    let cross = CrossCheck {
        credentials,
        function,
        mode: Some(Mode::Always),
    };
    execute(args.probe, Some(cross)).await
}

/// The credentials of `check`: the named profile, else the environment, else the CLI file's
/// current profile (when there is a file), else none; with the profile's region.
fn check_credentials(
    profile: Option<&str>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<(Option<Credentials>, Option<String>), String> {
    let path = CliProfile::default_path();
    let load = |name: Option<&str>| -> Result<(Option<Credentials>, Option<String>), String> {
        let path = path
            .as_deref()
            .ok_or("HOME is not set, so ~/.aliyun/config.json cannot be found")?;
        let p = CliProfile::load(path, name).map_err(|e| e.message)?;
        Ok((Some(p.credentials), p.region))
    };
    if profile.is_some() {
        return load(profile);
    }
    if let Some(c) = Credentials::from_lookup(env) {
        return Ok((Some(c), None));
    }
    match &path {
        Some(p) if p.is_file() => load(None),
        _ => Ok((None, None)),
    }
}

async fn execute(args: ProbeArgs, cross: Option<CrossCheck>) -> i32 {
    let mut settings = Settings::from_env();
    if cross.is_some() && std::env::var_os("APIGW_OPENAPI_NETWORK").is_none() {
        // A shell is rarely inside the function's VPC, where the VPC endpoints answer.
        settings.openapi.network = Network::Public;
    }
    // What is printed passes through one redactor: the configured secrets and the signatures
    // made during the run.
    // The shell's own AccessKey, if it has one, is no more for printing than the function's.
    let redactor = Redactor::from_environment(&settings);
    if let Some(c) = cross.as_ref().and_then(|c| c.credentials.as_ref()) {
        c.register(&redactor);
    }
    match redact::scope(redactor.clone(), run(args, settings, cross)).await {
        Ok((report, json)) => {
            let written = if json {
                serde_json::to_value(&report)
                    .map_err(std::io::Error::other)
                    .and_then(|mut v| {
                        redactor.redact_json(&mut v);
                        write_stdout(&format!("{v:#}\n"))
                    })
            } else {
                write_stdout(&redactor.redact(&report.summary()))
            };
            match written {
                Ok(()) => exit_code(&report),
                Err(e) => {
                    eprintln!("error: cannot write the report: {e}");
                    EXIT_OUTPUT
                }
            }
        }
        Err(e) => {
            let text = format!("error {}: {}\nhint: {}", e.class, e.message, e.hint);
            eprintln!("{}", redactor.redact(&text));
            EXIT_USAGE
        }
    }
}

/// Writes `text` to stdout and flushes it. A reader that went away (`… | head`) is not an
/// error of ours: the exit status stays what the command decided, where `print!` would panic
/// (Rust ignores SIGPIPE, so the write fails with `EPIPE`).
pub(crate) fn write_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// 0 ok, 2 when a target's own configuration is invalid, else 1.
pub(crate) fn exit_code(report: &Report) -> i32 {
    if report.ok {
        EXIT_OK
    } else if report.targets.iter().all(|t| {
        t.error
            .as_ref()
            .is_some_and(|e| e.class == ErrorClass::ConfigInvalid)
    }) {
        EXIT_USAGE
    } else {
        EXIT_FAILED
    }
}

async fn run(
    args: ProbeArgs,
    mut settings: Settings,
    cross: Option<CrossCheck>,
) -> Result<(Report, bool), ProbeError> {
    if let Some(key) = &args.app_key {
        settings.credentials.app_key = Some(key.clone());
        if settings.credentials.app_secret.is_none() {
            return Err(ProbeError::config(
                "--app-key needs the AppSecret in APIGW_APP_SECRET or APIGW_APP_SECRET_FILE",
            ));
        }
    }
    let settings = Arc::new(settings);
    let resolve = args
        .resolve
        .iter()
        .map(|r| parse_resolve(r))
        .collect::<Result<Vec<_>, _>>()?;
    let selection = match (&args.url, &args.target) {
        (Some(url), _) => Selection::Specs(vec![spec_from_args(url, &args)?]),
        (None, Some(name)) => Selection::Named(name.clone()),
        (None, None) => Selection::Configured,
    };
    let mut inv = Invocation::new(Trigger::Cli, cli_request_id(), selection);
    inv.resolve = resolve;
    inv.cross_check = cross;
    let report = Prober::new(settings).run(inv).await?;
    Ok((report, args.json))
}

fn spec_from_args(url: &str, args: &ProbeArgs) -> Result<TargetSpec, ProbeError> {
    let mut headers = BTreeMap::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| ProbeError::config(format!("header {h:?} is not 'Name: value'")))?;
        headers.insert(name.trim().to_owned(), value.trim().to_owned());
    }
    Ok(TargetSpec {
        url: Some(url.to_owned()),
        method: Some(args.method),
        headers,
        body: args.data.clone(),
        stage: args.stage,
        samples: Some(args.samples),
        timeout_ms: args.timeout,
        expect: ExpectFlags {
            status: args.expect_status.clone(),
            headers: args.expect_header.clone(),
            body: args.expect_body.clone(),
            json: args.expect_json.clone(),
            max_ms: args.max_ms,
            cert_days_min: args.cert_days_min,
        }
        .build()?,
        addresses: args.all_addresses.then_some(AddressMode::All),
        retry: args.retry.map(|count| Retry {
            count,
            interval_ms: args.retry_interval,
        }),
        return_body: if args.body {
            apigw_vpc_probe::target::ReturnBody::All
        } else {
            apigw_vpc_probe::target::ReturnBody::None
        },
        auth: args.auth,
        signature_method: args.signature_method,
        show_string_to_sign: args.show_string_to_sign,
        ..TargetSpec::default()
    })
}

/// `host:port:addr` (addr may be `[v6]`). The host is read as a URL's host is (lowercase,
/// IDNA), so that it compares with the target's; a trailing dot stays, as in curl.
fn parse_resolve(s: &str) -> Result<(String, u16, IpAddr), ProbeError> {
    let bad = || ProbeError::config(format!("--resolve {s:?} is not HOST:PORT:ADDR"));
    let (host, rest) = s.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let port = port.parse::<u16>().map_err(|_| bad())?;
    let addr = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    let host = url::Host::parse(host).map_err(|_| bad())?.to_string();
    Ok((host, port, addr))
}

fn cli_request_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cli-{}-{:x}", std::process::id(), nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resolve_like_curl() {
        let (h, p, a) = parse_resolve("x.alicloudapi.com:80:10.0.0.7").unwrap();
        assert_eq!(
            (h.as_str(), p, a),
            ("x.alicloudapi.com", 80, "10.0.0.7".parse().unwrap())
        );
        let (_, _, a) = parse_resolve("h:443:[::1]").unwrap();
        assert_eq!(a, "::1".parse::<IpAddr>().unwrap());
        // Read as a URL's host: lowercase, IDNA; a trailing dot is kept (another name).
        let (h, _, _) = parse_resolve("Bücher.Example.:80:10.0.0.7").unwrap();
        assert_eq!(h, "xn--bcher-kva.example.");
        let url = url::Url::parse("http://BÜCHER.example./").unwrap();
        assert_eq!(url.host_str(), Some(h.as_str()));
        for bad in [
            "h:80",
            "h:x:1.2.3.4",
            ":80:1.2.3.4",
            "h:80:nope",
            "a b:80:1.2.3.4",
        ] {
            assert!(parse_resolve(bad).is_err(), "{bad}");
        }
    }
}
