//! The command line: the subcommands, their options, `--help` and the usage errors, written by
//! hand on lexopt's tokenizer (which splits `--opt=value`, `-Xvalue` and `--`, and nothing more).
//! clap did this before, for 225,344 bytes of the musl binary; the rules it enforced are here as
//! plain code: values that are one of a field's names (case-insensitive), numbers, at most one
//! URL, `--target` without a URL, `--retry-interval` only with `--retry`.
//!
//! Each subcommand reads only its own options: `serve`, which FC runs on every cold start, looks
//! at one static table row and builds nothing for `probe` and `check`.
//!
//! What `--help` says comes from one place each: an option's text is its field's doc comment
//! (the `documented!` structs), its spelling, value name, default and possible values its row
//! in the option tables, which the parser reads too.

use std::ffi::{OsStr, OsString};
use std::fmt::{self, Write as _};
use std::net::SocketAddr;
use std::str::FromStr;

use apigw_vpc_probe::apigw::{SignatureMethod, Stage};
use apigw_vpc_probe::runtime::ServeArgs;
use apigw_vpc_probe::target::{AuthKind, HttpMethod};
use apigw_vpc_probe::UnknownValue;
use lexopt::{Arg, Parser};

/// The program's name in `--version` (its usage lines name the binary as it was run, as clap did).
const NAME: &str = "apigw-vpc-probe";

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Run a subcommand.
    Run(Command),
    /// Print this (`--help`, `--version`) on stdout and exit 0.
    Print(String),
}

/// A subcommand and its arguments.
#[derive(Debug)]
pub(crate) enum Command {
    Serve(ServeArgs),
    Probe(Box<ProbeArgs>),
    Check(Box<CheckArgs>),
}

/// The subcommands: name and about (the first line of its `--help`, and its line in the
/// program's).
const COMMANDS: &[(&str, &str)] = &[
    (
        "serve",
        "Serve Function Compute's requests: the custom runtime that bootstrap runs",
    ),
    ("probe", "Call an API and report phases and errors"),
    (
        "check",
        "Call an API, then cross-check the configuration it depends on through Alibaba Cloud's \
         OpenAPI, and report both",
    ),
];

/// Fields' names and doc lines (a struct's, in the order of its fields).
type Docs = &'static [(&'static str, &'static [&'static str])];

/// Declares an argument struct whose fields' doc comments are also their `--help` texts:
/// `DOCS` pairs each field's name with its doc lines, so each text is written once.
macro_rules! documented {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[doc = $doc:literal])* $fvis:vis $field:ident: $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[doc = $doc])* $fvis $field: $ty, )*
        }

        impl $name {
            const DOCS: Docs =
                &[$( (stringify!($field), &[$($doc),*]) ),*];
        }
    };
}

documented! {
    /// The arguments of `probe`. `Default` is the empty struct: the defaults of `--method` and
    /// `--samples` are their rows' in [`PROBE_OPTIONS`], which the parser applies.
    #[derive(Debug, Default)]
    pub(crate) struct ProbeArgs {
        /// URL to call, e.g. http://<group>-cn-shanghai-vpc.alicloudapi.com/web/cloudapi.
        /// Without it: the configured targets (APIGW_URL, APIGW_GROUP_ID, APIGW_TARGETS).
        pub url: Option<String>,
        /// Probe the configured target with this name instead of a URL.
        pub target: Option<String>,
        /// HTTP method.
        pub method: HttpMethod,
        /// Extra header 'Name: value' (repeatable).
        pub headers: Vec<String>,
        /// Request body.
        pub data: Option<String>,
        /// API Gateway stage sent as X-Ca-Stage: RELEASE, TEST or PRE.
        pub stage: Option<Stage>,
        /// Number of calls, each on a fresh connection.
        pub samples: u32,
        /// Time limit of one call in milliseconds (default APIGW_TIMEOUT_MS, 5000).
        pub timeout: Option<u64>,
        /// Dial ADDR for HOST:PORT instead of resolving, as curl's --resolve (repeatable). HOST
        /// as in the URL (a trailing dot makes another name), PORT the URL's; an entry that
        /// applies to no target is an error.
        pub resolve: Vec<String>,
        /// Statuses that count as success (repeatable; default any 2xx).
        pub expect_status: Vec<u16>,
        /// A response header that must be present with a value matching REGEX (repeatable; an
        /// empty REGEX: present).
        pub expect_header: Vec<String>,
        /// A regex the body must match (on the first 64 KiB).
        pub expect_body: Option<String>,
        /// A value in the JSON body (repeatable): the RFC 6901 POINTER's value must equal JSON (a
        /// value that is not JSON is a string); POINTER alone: it must exist.
        pub expect_json: Vec<String>,
        /// A sample slower than this (total, ms) fails as assert.latency.
        pub max_ms: Option<u64>,
        /// Fewest days a certificate the server presents may have left (default 14 for https;
        /// 0: no check).
        pub cert_days_min: Option<u32>,
        /// Call every address the name resolves to, in each sample (addresses "all").
        pub all_addresses: bool,
        /// Try a sample again, up to N times, when it fails with a transport class (dns.timeout,
        /// dns.servfail, tcp.*, tls.timeout, http.timeout; at most 5).
        pub retry: Option<u32>,
        /// Milliseconds between two attempts (default 1000, at most 10000).
        pub retry_interval: Option<u64>,
        /// Print the JSON report instead of the summary.
        pub json: bool,
        /// Include each sample's response body (first 64 KiB each, APIGW_BODY_BUDGET_BYTES in
        /// all) in the report.
        pub body: bool,
        /// Authentication: app (signature; the secret from APIGW_APP_SECRET or
        /// APIGW_APP_SECRET_FILE), appcode (from APIGW_APPCODE) or none. Default: app when an
        /// AppKey is configured.
        pub auth: Option<AuthKind>,
        /// AppKey for the signature (default APIGW_APP_KEY). The secret is never a flag.
        pub app_key: Option<String>,
        /// HmacSHA256 (default) or HmacSHA1.
        pub signature_method: Option<SignatureMethod>,
        /// Print the client's string to sign (it holds no secret), for comparing with the
        /// gateway's.
        pub show_string_to_sign: bool,
    }
}

documented! {
    /// The arguments of `check`: `probe`'s and the cross-check's.
    #[derive(Debug, Default)]
    pub(crate) struct CheckArgs {
        pub probe: ProbeArgs,
        /// Profile of the Alibaba Cloud CLI's configuration (~/.aliyun/config.json) to sign with.
        pub profile: Option<String>,
        /// The function's region, compared with the gateway's (default: the profile's region_id,
        /// else FC_REGION).
        pub region: Option<String>,
        /// The function whose VPC the gateway must admit (default FC_FUNCTION_NAME); without it the
        /// checks of the function's VPC are unknown.
        pub function: Option<String>,
        /// The function's qualifier (LATEST, a version or an alias).
        pub qualifier: Option<String>,
    }
}

/// One option: how it is written and what `--help` shows besides its field's doc comment.
#[derive(Debug)]
struct Opt {
    long: &'static str,
    short: Option<char>,
    /// The value's name (`--timeout <MS>`); none for a flag.
    value: Option<&'static str>,
    /// The field whose doc comment is the help, when it is not `long` with `_` for `-`.
    field: Option<&'static str>,
    /// Applied before the arguments are read, and shown as `[default: …]`.
    default: Option<&'static str>,
    /// Shown as `[possible values: …]` (the parser takes them from the field's type).
    possible: &'static [&'static str],
}

impl Opt {
    const fn flag(long: &'static str) -> Self {
        Opt {
            long,
            short: None,
            value: None,
            field: None,
            default: None,
            possible: &[],
        }
    }

    const fn value(long: &'static str, name: &'static str) -> Self {
        Opt {
            value: Some(name),
            ..Opt::flag(long)
        }
    }

    const fn short(self, short: char) -> Self {
        Opt {
            short: Some(short),
            ..self
        }
    }

    const fn field(self, field: &'static str) -> Self {
        Opt {
            field: Some(field),
            ..self
        }
    }

    const fn default(self, default: &'static str) -> Self {
        Opt {
            default: Some(default),
            ..self
        }
    }

    const fn possible(self, possible: &'static [&'static str]) -> Self {
        Opt { possible, ..self }
    }

    /// As usage errors name it: `--timeout <MS>`, `--json`.
    fn spec(&self) -> String {
        match self.value {
            Some(name) => format!("--{} <{name}>", self.long),
            None => format!("--{}", self.long),
        }
    }
}

/// `serve`'s options. Its help text is here: `ServeArgs` is the library's, documented for Rust
/// callers.
const SERVE_OPTIONS: &[Opt] = &[Opt::value("listen", "ADDR")];
const SERVE_DOCS: Docs = &[(
    "listen",
    &["Listen on this address instead (e.g. 127.0.0.1:9000 for local tests)."],
)];
const SERVE_AFTER_HELP: &str = "Listens on 0.0.0.0:$FC_CUSTOM_LISTEN_PORT, else \
    $FC_SERVER_PORT, else 9000. Settings (APIGW_*) are read from the environment; logs are JSON \
    lines on stdout, level from RUST_LOG (default info). Stops on SIGTERM or SIGINT.";

/// `probe`'s options (and `check`'s), in `--help`'s order.
const PROBE_OPTIONS: &[Opt] = &[
    Opt::value("target", "TARGET"),
    Opt::value("method", "METHOD")
        .short('X')
        .default("GET")
        .possible(HttpMethod::NAMES),
    Opt::value("header", "NAME: VALUE")
        .short('H')
        .field("headers"),
    Opt::value("data", "DATA").short('d'),
    Opt::value("stage", "STAGE").possible(Stage::NAMES),
    Opt::value("samples", "SAMPLES").short('n').default("1"),
    Opt::value("timeout", "MS"),
    Opt::value("resolve", "HOST:PORT:ADDR"),
    Opt::value("expect-status", "CODE"),
    Opt::value("expect-header", "NAME: REGEX"),
    Opt::value("expect-body", "REGEX"),
    Opt::value("expect-json", "POINTER=JSON"),
    Opt::value("max-ms", "MS"),
    Opt::value("cert-days-min", "DAYS"),
    Opt::flag("all-addresses"),
    Opt::value("retry", "N"),
    Opt::value("retry-interval", "MS"),
    Opt::flag("json"),
    Opt::flag("body"),
    Opt::value("auth", "AUTH").possible(AuthKind::NAMES),
    Opt::value("app-key", "KEY"),
    Opt::value("signature-method", "SIGNATURE_METHOD").possible(SignatureMethod::NAMES),
    Opt::flag("show-string-to-sign"),
];
const PROBE_AFTER_HELP: &str = "Settings such as APIGW_DNS_SERVERS, APIGW_CA_FILE and \
    APIGW_TIMEOUT_MS are read from the environment as in the function.\n\nExit status: 0 ok, 1 a \
    target failed, 2 usage or configuration error, 3 the report could not be written.";

/// `check`'s own options, after `probe`'s.
const CHECK_OPTIONS: &[Opt] = &[
    Opt::value("profile", "NAME"),
    Opt::value("region", "REGION"),
    Opt::value("function", "NAME"),
    Opt::value("qualifier", "QUALIFIER"),
];
const CHECK_AFTER_HELP: &str = "Credentials: --profile NAME from the Alibaba Cloud CLI's \
    ~/.aliyun/config.json (modes AK and StsToken), else ALIBABA_CLOUD_ACCESS_KEY_ID / \
    ALIBABA_CLOUD_ACCESS_KEY_SECRET / ALIBABA_CLOUD_SECURITY_TOKEN, else the file's current \
    profile. The role needs the read-only policy deploy/ram-policy.json. OpenAPI endpoints: the \
    public ones unless APIGW_OPENAPI_NETWORK or APIGW_OPENAPI_ENDPOINT_* say otherwise.\n\nExit \
    status: 0 ok, 1 a target failed, 2 usage or configuration error, 3 the report could not be \
    written.";

/// A usage error: printed on stderr, with the usage line, before exiting with
/// [`crate::cli::EXIT_USAGE`].
#[derive(Debug)]
pub(crate) struct UsageError {
    message: String,
    usage: String,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "error: {}\n\nUsage: {}\n\nFor more information, try '--help'.",
            self.message, self.usage
        )
    }
}

/// Why reading a subcommand's arguments stopped early.
#[derive(Debug)]
enum Stop {
    /// `-h`/`--help`.
    Help,
    /// A usage error's message.
    Error(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Error(message)
    }
}

/// Parses the command line (`Parser::from_env()` in `main`).
pub(crate) fn parse(mut p: Parser) -> Result<Parsed, UsageError> {
    // As clap did: usage lines name the binary as it was run.
    let bin = p
        .bin_name()
        .and_then(|b| std::path::Path::new(b).file_name())
        .map_or_else(|| NAME.to_owned(), |b| b.to_string_lossy().into_owned());
    let top_error = |message: String| UsageError {
        message,
        usage: format!("{bin} <COMMAND>"),
    };
    let name = match p.next() {
        Ok(Some(Arg::Value(name))) => name,
        Ok(Some(Arg::Short('h') | Arg::Long("help"))) => return Ok(Parsed::Print(help(&bin))),
        Ok(Some(Arg::Short('V') | Arg::Long("version"))) => {
            return Ok(Parsed::Print(format!(
                "{NAME} {}\n",
                env!("CARGO_PKG_VERSION")
            )))
        }
        Ok(Some(Arg::Short(c))) => return Err(top_error(unexpected(&format!("-{c}")))),
        Ok(Some(Arg::Long(l))) => return Err(top_error(unexpected(&format!("--{l}")))),
        Ok(None) => {
            return Err(top_error(format!(
                "'{NAME}' requires a subcommand but one was not provided\n  \
                 [subcommands: serve, probe, check, help]"
            )))
        }
        Err(e) => return Err(top_error(e.to_string())),
    };
    let outcome = match name.to_str() {
        Some("serve") => parse_serve(&mut p).map(Command::Serve),
        Some("probe") => parse_probe(&mut p).map(|a| Command::Probe(Box::new(a))),
        Some("check") => parse_check(&mut p).map(|a| Command::Check(Box::new(a))),
        Some("help") => return help_command(&mut p, &bin).map_err(top_error),
        _ => {
            return Err(top_error(format!(
                "unrecognized subcommand '{}'",
                name.to_string_lossy()
            )))
        }
    };
    // `name` is one of the three subcommands here.
    let name = name.to_string_lossy();
    match outcome {
        Ok(command) => Ok(Parsed::Run(command)),
        Err(Stop::Help) => Ok(Parsed::Print(subcommand_help(&bin, &name))),
        Err(Stop::Error(message)) => Err(UsageError {
            message,
            usage: subcommand_usage(&bin, &name),
        }),
    }
}

/// `help [COMMAND]`: the program's help, or a subcommand's.
fn help_command(p: &mut Parser, bin: &str) -> Result<Parsed, String> {
    let name = match p.next().map_err(|e| e.to_string())? {
        None => None,
        Some(Arg::Value(v)) => Some(v),
        Some(arg) => return Err(unexpected(&arg_text(arg))),
    };
    if let Some(extra) = p.next().map_err(|e| e.to_string())? {
        return Err(unexpected(&arg_text(extra)));
    }
    Ok(Parsed::Print(
        match name.as_deref().and_then(OsStr::to_str) {
            None | Some("help") => help(bin),
            Some(name) if COMMANDS.iter().any(|(n, _)| *n == name) => subcommand_help(bin, name),
            Some(_) => {
                let name = name.unwrap_or_default();
                return Err(format!(
                    "unrecognized subcommand '{}'",
                    name.to_string_lossy()
                ));
            }
        },
    ))
}

fn parse_serve(p: &mut Parser) -> Result<ServeArgs, Stop> {
    let mut listen = None;
    while let Some(given) = next(p, &[SERVE_OPTIONS])? {
        match given {
            Given::Option(opt, Some(v)) if opt.long == "listen" => {
                listen = Some(parsed::<SocketAddr>(opt, &v)?);
            }
            Given::Option(opt, _) => return Err(unexpected(&format!("--{}", opt.long)).into()),
            Given::Positional(v) => return Err(unexpected(&v).into()),
        }
    }
    Ok(ServeArgs { listen })
}

fn parse_probe(p: &mut Parser) -> Result<ProbeArgs, Stop> {
    let mut a = probe_defaults()?;
    while let Some(given) = next(p, &[PROBE_OPTIONS])? {
        match given {
            Given::Option(opt, value) => probe_option(&mut a, opt, value)?,
            Given::Positional(url) => set_url(&mut a, url)?,
        }
    }
    probe_rules(&a)?;
    Ok(a)
}

fn parse_check(p: &mut Parser) -> Result<CheckArgs, Stop> {
    let mut a = CheckArgs {
        probe: probe_defaults()?,
        ..CheckArgs::default()
    };
    while let Some(given) = next(p, &[PROBE_OPTIONS, CHECK_OPTIONS])? {
        match given {
            Given::Option(opt, value) => check_option(&mut a, opt, value)?,
            Given::Positional(url) => set_url(&mut a.probe, url)?,
        }
    }
    probe_rules(&a.probe)?;
    Ok(a)
}

/// `ProbeArgs` with the defaults of [`PROBE_OPTIONS`], parsed as if given.
fn probe_defaults() -> Result<ProbeArgs, String> {
    let mut a = ProbeArgs::default();
    for opt in PROBE_OPTIONS {
        if let Some(default) = opt.default {
            probe_option(&mut a, opt, Some(default.to_owned()))?;
        }
    }
    Ok(a)
}

/// Stores one of [`PROBE_OPTIONS`]; a repeatable option adds to its list, another given twice
/// keeps the last value (flags refuse a second time), as with clap.
fn probe_option(a: &mut ProbeArgs, opt: &Opt, value: Option<String>) -> Result<(), String> {
    match (opt.long, value) {
        ("target", Some(v)) => a.target = Some(v),
        ("method", Some(v)) => a.method = named(opt, &v)?,
        ("header", Some(v)) => a.headers.push(v),
        ("data", Some(v)) => a.data = Some(v),
        ("stage", Some(v)) => a.stage = Some(named(opt, &v)?),
        ("samples", Some(v)) => a.samples = number(opt, &v)?,
        ("timeout", Some(v)) => a.timeout = Some(number(opt, &v)?),
        ("resolve", Some(v)) => a.resolve.push(v),
        ("expect-status", Some(v)) => a.expect_status.push(number(opt, &v)?),
        ("expect-header", Some(v)) => a.expect_header.push(v),
        ("expect-body", Some(v)) => a.expect_body = Some(v),
        ("expect-json", Some(v)) => a.expect_json.push(v),
        ("max-ms", Some(v)) => a.max_ms = Some(number(opt, &v)?),
        ("cert-days-min", Some(v)) => a.cert_days_min = Some(number(opt, &v)?),
        ("all-addresses", None) => once(&mut a.all_addresses, opt)?,
        ("retry", Some(v)) => a.retry = Some(number(opt, &v)?),
        ("retry-interval", Some(v)) => a.retry_interval = Some(number(opt, &v)?),
        ("json", None) => once(&mut a.json, opt)?,
        ("body", None) => once(&mut a.body, opt)?,
        ("auth", Some(v)) => a.auth = Some(named(opt, &v)?),
        ("app-key", Some(v)) => a.app_key = Some(v),
        ("signature-method", Some(v)) => a.signature_method = Some(named(opt, &v)?),
        ("show-string-to-sign", None) => once(&mut a.show_string_to_sign, opt)?,
        // Not `probe`'s (a table row this match misses: the tests see none).
        _ => return Err(unexpected(&format!("--{}", opt.long))),
    }
    Ok(())
}

/// Stores one of [`CHECK_OPTIONS`], or of [`PROBE_OPTIONS`] through [`probe_option`].
fn check_option(a: &mut CheckArgs, opt: &Opt, value: Option<String>) -> Result<(), String> {
    match (opt.long, value) {
        ("profile", Some(v)) => a.profile = Some(v),
        ("region", Some(v)) => a.region = Some(v),
        ("function", Some(v)) => a.function = Some(v),
        ("qualifier", Some(v)) => a.qualifier = Some(v),
        (_, value) => probe_option(&mut a.probe, opt, value)?,
    }
    Ok(())
}

/// The one positional argument of `probe` and `check`.
fn set_url(a: &mut ProbeArgs, url: String) -> Result<(), String> {
    if a.url.is_some() {
        return Err(unexpected(&url));
    }
    a.url = Some(url);
    Ok(())
}

/// The rules between `probe`'s arguments, checked once all are read.
fn probe_rules(a: &ProbeArgs) -> Result<(), String> {
    if a.target.is_some() && a.url.is_some() {
        return Err("the argument '--target <TARGET>' cannot be used with '[URL]'".to_owned());
    }
    if a.retry_interval.is_some() && a.retry.is_none() {
        return Err(
            "the following required arguments were not provided:\n  --retry <N>".to_owned(),
        );
    }
    Ok(())
}

/// One argument of a subcommand: an option of its tables with its value (none for a flag), or a
/// positional.
enum Given {
    Option(&'static Opt, Option<String>),
    Positional(String),
}

/// The next argument of a subcommand whose options are `tables`; `None` at the end.
fn next(p: &mut Parser, tables: &[&'static [Opt]]) -> Result<Option<Given>, Stop> {
    let find = |is: &dyn Fn(&Opt) -> bool| tables.iter().copied().flatten().find(|o| is(o));
    let opt = match p.next().map_err(lexopt_error)? {
        None => return Ok(None),
        Some(Arg::Short('h') | Arg::Long("help")) => return Err(Stop::Help),
        Some(Arg::Value(v)) => return Ok(Some(Given::Positional(utf8(v)?))),
        Some(Arg::Short(c)) => {
            find(&|o| o.short == Some(c)).ok_or_else(|| unexpected(&format!("-{c}")))?
        }
        Some(Arg::Long(l)) => {
            find(&|o| o.long == l).ok_or_else(|| unexpected(&format!("--{l}")))?
        }
    };
    let value = match opt.value {
        None => None,
        Some(_) => Some(value(p, opt)?),
    };
    Ok(Some(Given::Option(opt, value)))
}

/// An option's value: attached (`--opt=v`, `-Xv`) or the next argument, unless that looks like an
/// option (`--data --json` is a missing value, as with clap, not a body "--json"; `--data=--json`
/// is one).
fn value(p: &mut Parser, opt: &Opt) -> Result<String, String> {
    let missing = || {
        format!(
            "a value is required for '{}' but none was supplied",
            opt.spec()
        )
    };
    let v = match p.optional_value() {
        Some(v) => v,
        None => match p.value() {
            Ok(v) if !(v.len() > 1 && v.as_encoded_bytes().starts_with(b"-")) => v,
            _ => return Err(missing()),
        },
    };
    utf8(v)
}

fn utf8(v: OsString) -> Result<String, String> {
    v.into_string()
        .map_err(|_| "invalid UTF-8 was detected in one or more arguments".to_owned())
}

/// A flag, refused the second time (clap's rule).
fn once(flag: &mut bool, opt: &Opt) -> Result<(), String> {
    if *flag {
        return Err(format!(
            "the argument '{}' cannot be used multiple times",
            opt.spec()
        ));
    }
    *flag = true;
    Ok(())
}

/// One of a field's names (any case), or an error listing them.
fn named<T: FromStr<Err = UnknownValue>>(opt: &Opt, v: &str) -> Result<T, String> {
    v.parse().map_err(|e: UnknownValue| {
        format!(
            "invalid value '{v}' for '{}'\n  [possible values: {}]",
            opt.spec(),
            e.accepted.join(", ")
        )
    })
}

/// A value parsed by its type's `FromStr`, whose error says why not.
fn parsed<T: FromStr<Err: fmt::Display>>(opt: &Opt, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|e| format!("invalid value '{v}' for '{}': {e}", opt.spec()))
}

/// The unsigned types of the options' numbers, with their ranges for the errors.
trait Unsigned: TryFrom<i128> {
    const MAX: u64;
}

impl Unsigned for u16 {
    const MAX: u64 = u16::MAX as u64;
}

impl Unsigned for u32 {
    const MAX: u64 = u32::MAX as u64;
}

impl Unsigned for u64 {
    const MAX: u64 = u64::MAX;
}

/// An unsigned number; out of range (`-1`, `70000` for a status) it says the range.
fn number<T: Unsigned>(opt: &Opt, v: &str) -> Result<T, String> {
    let n: i128 = parsed(opt, v)?;
    T::try_from(n).map_err(|_| {
        format!(
            "invalid value '{v}' for '{}': {n} is not in 0..={}",
            opt.spec(),
            T::MAX
        )
    })
}

fn unexpected(arg: &str) -> String {
    format!("unexpected argument '{arg}' found")
}

fn arg_text(arg: Arg<'_>) -> String {
    match arg {
        Arg::Short(c) => format!("-{c}"),
        Arg::Long(l) => format!("--{l}"),
        Arg::Value(v) => v.to_string_lossy().into_owned(),
    }
}

/// lexopt's errors, in clap's words. `next` only fails on a value given to a flag.
fn lexopt_error(e: lexopt::Error) -> String {
    match e {
        lexopt::Error::UnexpectedValue { option, value } => format!(
            "unexpected value '{}' for '{option}' found; no more were expected",
            value.to_string_lossy()
        ),
        e => e.to_string(),
    }
}

fn subcommand_usage(bin: &str, name: &str) -> String {
    match name {
        "serve" => format!("{bin} serve [OPTIONS]"),
        _ => format!("{bin} {name} [OPTIONS] [URL]"),
    }
}

/// The program's `--help`.
fn help(bin: &str) -> String {
    let mut out = format!(
        "{}\n\nUsage: {bin} <COMMAND>\n\nCommands:\n",
        env!("CARGO_PKG_DESCRIPTION")
    );
    let help_line = (
        "help",
        "Print this message or the help of the given subcommand(s)",
    );
    for (name, about) in COMMANDS.iter().chain([&help_line]) {
        let _ = writeln!(out, "  {name:<5}  {about}");
    }
    out.push_str("\nOptions:\n  -h, --help     Print help\n  -V, --version  Print version\n");
    out
}

/// A subcommand's `--help`, in clap's layout: each option and its text on one line when all fit
/// in 100 columns, else the text on the next line.
fn subcommand_help(bin: &str, name: &str) -> String {
    let about = COMMANDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, about)| about);
    let (tables, docs, after): (&[&[Opt]], &[Docs], _) = match name {
        "serve" => (&[SERVE_OPTIONS], &[SERVE_DOCS], SERVE_AFTER_HELP),
        "probe" => (&[PROBE_OPTIONS], &[ProbeArgs::DOCS], PROBE_AFTER_HELP),
        _ => (
            &[PROBE_OPTIONS, CHECK_OPTIONS],
            &[ProbeArgs::DOCS, CheckArgs::DOCS],
            CHECK_AFTER_HELP,
        ),
    };
    let mut out = format!("{about}\n\nUsage: {}\n\n", subcommand_usage(bin, name));
    if name != "serve" {
        let _ = write!(out, "Arguments:\n  [URL]  {}\n\n", doc(docs, "url"));
    }
    let mut rows: Vec<(String, String)> = Vec::new();
    for opt in tables.iter().flat_map(|t| t.iter()) {
        let short = opt.short.map_or("    ".to_owned(), |c| format!("-{c}, "));
        let value = opt.value.map(|v| format!(" <{v}>")).unwrap_or_default();
        let field = opt
            .field
            .map_or_else(|| opt.long.replace('-', "_"), str::to_owned);
        let mut text = doc(docs, &field);
        if let Some(default) = opt.default {
            let _ = write!(text, " [default: {default}]");
        }
        if !opt.possible.is_empty() {
            let _ = write!(text, " [possible values: {}]", opt.possible.join(", "));
        }
        rows.push((format!("  {short}--{}{value}", opt.long), text));
    }
    rows.push(("  -h, --help".to_owned(), "Print help".to_owned()));
    let width = rows.iter().map(|(spec, _)| spec.len()).max().unwrap_or(0);
    let one_line = rows.iter().all(|(_, text)| width + 2 + text.len() <= 100);
    out.push_str("Options:\n");
    for (spec, text) in rows {
        let _ = if one_line {
            writeln!(out, "{spec:<width$}  {text}")
        } else {
            writeln!(out, "{spec}\n          {text}")
        };
    }
    let _ = writeln!(out, "\n{after}");
    out
}

/// A field's doc comment as one line, without its final period (as clap showed it).
fn doc(docs: &[Docs], field: &str) -> String {
    let lines = docs
        .iter()
        .flat_map(|d| d.iter())
        .find(|(name, _)| *name == field)
        .map_or(&[][..], |(_, lines)| lines);
    let mut text = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if text.ends_with('.') {
        text.pop();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> Result<Parsed, UsageError> {
        parse(Parser::from_iter(
            std::iter::once(NAME).chain(args.iter().copied()),
        ))
    }

    fn probe(args: &[&str]) -> ProbeArgs {
        let mut all = vec!["probe"];
        all.extend_from_slice(args);
        match parse_args(&all) {
            Ok(Parsed::Run(Command::Probe(a))) => *a,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn check(args: &[&str]) -> CheckArgs {
        let mut all = vec!["check"];
        all.extend_from_slice(args);
        match parse_args(&all) {
            Ok(Parsed::Run(Command::Check(a))) => *a,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    /// The usage error's whole text.
    fn error(args: &[&str]) -> String {
        match parse_args(args) {
            Err(e) => e.to_string(),
            Ok(other) => panic!("{args:?} parsed: {other:?}"),
        }
    }

    fn printed(args: &[&str]) -> String {
        match parse_args(args) {
            Ok(Parsed::Print(text)) => text,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn check_takes_probes_arguments() {
        let a = check(&["-X", "post", "http://a.example/x"]);
        assert_eq!(a.probe.method, HttpMethod::Post);
        assert_eq!(a.probe.url.as_deref(), Some("http://a.example/x"));
        let a = check(&[
            "--profile",
            "p",
            "--region=cn-hangzhou",
            "--function",
            "f",
            "--qualifier",
            "LATEST",
            "--json",
        ]);
        assert_eq!(
            (a.profile, a.region, a.function, a.qualifier),
            (
                Some("p".into()),
                Some("cn-hangzhou".into()),
                Some("f".into()),
                Some("LATEST".into())
            )
        );
        assert!(a.probe.json);
        // `check`'s own options are not `probe`'s.
        assert!(error(&["probe", "--profile", "p"]).contains("unexpected argument '--profile'"));
    }

    #[test]
    fn unknown_options_are_errors() {
        let e = error(&["probe", "--bogus"]);
        assert_eq!(
            e,
            "error: unexpected argument '--bogus' found\n\nUsage: apigw-vpc-probe probe \
             [OPTIONS] [URL]\n\nFor more information, try '--help'."
        );
        assert!(error(&["check", "-Z"]).contains("unexpected argument '-Z' found"));
        assert!(error(&["probe", "--version"]).contains("'--version'"));
    }

    #[test]
    fn defaults_are_the_tables() {
        let a = probe(&[]);
        assert_eq!(a.method, HttpMethod::Get);
        assert_eq!(a.samples, 1);
        assert_eq!(
            (a.url, a.target, a.timeout, a.retry),
            (None, None, None, None)
        );
        assert!(a.headers.is_empty() && !a.json && !a.body && !a.all_addresses);
        // What help shows is what the parser applies.
        let help = printed(&["probe", "--help"]);
        assert!(help.contains(&format!(
            "HTTP method [default: {}]",
            HttpMethod::Get.name()
        )));
        assert!(help.contains("each on a fresh connection [default: 1]"));
    }

    #[test]
    fn values_come_attached_or_separate() {
        for args in [
            &["-X", "put"][..],
            &["-Xput"],
            &["-X=put"],
            &["--method", "PUT"],
            &["--method=Put"],
        ] {
            assert_eq!(probe(args).method, HttpMethod::Put, "{args:?}");
        }
        assert_eq!(probe(&["--data=a=b"]).data.as_deref(), Some("a=b"));
        assert_eq!(probe(&["-d", "-"]).data.as_deref(), Some("-"));
        // Given twice, the last value counts.
        assert_eq!(probe(&["--timeout", "1", "--timeout=2"]).timeout, Some(2));
    }

    #[test]
    fn repeatable_options_collect() {
        let a = probe(&[
            "-H",
            "A: 1",
            "--header=B: 2",
            "-HC: 3",
            "--expect-status",
            "200",
            "--expect-status=204",
            "--resolve",
            "h:80:10.0.0.1",
            "--expect-header",
            "X:",
            "--expect-json",
            "/a=1",
            "--expect-json",
            "/b",
        ]);
        assert_eq!(a.headers, ["A: 1", "B: 2", "C: 3"]);
        assert_eq!(a.expect_status, [200, 204]);
        assert_eq!(a.resolve, ["h:80:10.0.0.1"]);
        assert_eq!(a.expect_header, ["X:"]);
        assert_eq!(a.expect_json, ["/a=1", "/b"]);
    }

    #[test]
    fn one_url_and_double_dash() {
        assert_eq!(probe(&["--", "-odd"]).url.as_deref(), Some("-odd"));
        assert!(error(&["probe", "http://a", "http://b"])
            .starts_with("error: unexpected argument 'http://b' found\n"));
        assert!(error(&["check", "--", "a", "b"]).contains("unexpected argument 'b'"));
    }

    #[test]
    fn target_conflicts_with_a_url() {
        assert_eq!(probe(&["--target", "t"]).target.as_deref(), Some("t"));
        let e = error(&["probe", "--target", "t", "http://a"]);
        assert!(
            e.starts_with("error: the argument '--target <TARGET>' cannot be used with '[URL]'"),
            "{e}"
        );
        assert!(error(&["check", "http://a", "--target=t"]).contains("cannot be used with"));
    }

    #[test]
    fn retry_interval_requires_retry() {
        let e = error(&["probe", "--retry-interval", "5", "http://a"]);
        assert!(
            e.contains("the following required arguments were not provided:\n  --retry <N>"),
            "{e}"
        );
        assert!(error(&["check", "--retry-interval=5"]).contains("--retry <N>"));
        let a = probe(&["--retry", "2", "--retry-interval", "5"]);
        assert_eq!((a.retry, a.retry_interval), (Some(2), Some(5)));
    }

    #[test]
    fn numbers_are_checked() {
        let a = probe(&["-n", "3", "--max-ms=10", "--cert-days-min", "0"]);
        assert_eq!(
            (a.samples, a.max_ms, a.cert_days_min),
            (3, Some(10), Some(0))
        );
        assert_eq!(
            error(&["probe", "-n", "abc"]).lines().next(),
            Some("error: invalid value 'abc' for '--samples <SAMPLES>': invalid digit found in string")
        );
        assert!(error(&["probe", "-n=-1"]).contains("-1 is not in 0..=4294967295"));
        assert!(error(&["probe", "--expect-status", "70000"]).contains(
            "invalid value '70000' for '--expect-status <CODE>': 70000 is not in 0..=65535"
        ));
        assert!(
            error(&["probe", "--timeout", ""]).contains("invalid value '' for '--timeout <MS>'")
        );
    }

    #[test]
    fn named_values_ignore_case_and_list_the_names() {
        let a = probe(&[
            "--stage",
            "test",
            "--auth",
            "APPCODE",
            "--signature-method",
            "hmacsha1",
        ]);
        assert_eq!(a.stage, Some(Stage::Test));
        assert_eq!(a.auth, Some(AuthKind::AppCode));
        assert_eq!(a.signature_method, Some(SignatureMethod::HmacSha1));
        let e = error(&["probe", "-X", "foo"]);
        assert!(
            e.starts_with(
                "error: invalid value 'foo' for '--method <METHOD>'\n  [possible values: GET, \
                 HEAD, POST, PUT, DELETE, PATCH, OPTIONS]\n"
            ),
            "{e}"
        );
        assert!(error(&["check", "--stage=x"]).contains("[possible values: RELEASE, TEST, PRE]"));
    }

    #[test]
    fn missing_values() {
        assert!(error(&["probe", "--timeout"]).starts_with(
            "error: a value is required for '--timeout <MS>' but none was supplied\n"
        ));
        // A value that looks like an option is none, unless attached.
        assert!(error(&["probe", "--data", "--json"]).contains("for '--data <DATA>'"));
        assert!(error(&["probe", "-n", "-1"]).contains("for '--samples <SAMPLES>'"));
        assert_eq!(probe(&["--data=--json"]).data.as_deref(), Some("--json"));
        assert!(error(&["serve", "--listen"]).contains("for '--listen <ADDR>'"));
    }

    #[test]
    fn flags_take_no_value_and_come_once() {
        assert!(error(&["probe", "--json=yes"])
            .contains("unexpected value 'yes' for '--json' found; no more were expected"));
        assert!(error(&["probe", "--json", "--json"])
            .contains("the argument '--json' cannot be used multiple times"));
    }

    #[test]
    fn serve_reads_only_listen() {
        match parse_args(&["serve", "--listen", "127.0.0.1:9000"]) {
            Ok(Parsed::Run(Command::Serve(a))) => {
                assert_eq!(a.listen, Some("127.0.0.1:9000".parse().unwrap()));
            }
            other => panic!("{other:?}"),
        }
        match parse_args(&["serve"]) {
            Ok(Parsed::Run(Command::Serve(a))) => assert_eq!(a.listen, None),
            other => panic!("{other:?}"),
        }
        let e = error(&["serve", "--listen", "nope"]);
        assert!(
            e.starts_with(
                "error: invalid value 'nope' for '--listen <ADDR>': invalid socket address syntax"
            ),
            "{e}"
        );
        assert!(e.contains("\nUsage: apigw-vpc-probe serve [OPTIONS]\n"));
        assert!(error(&["serve", "--method", "GET"]).contains("'--method'"));
        assert!(error(&["serve", "extra"]).contains("unexpected argument 'extra'"));
    }

    #[test]
    fn subcommand_is_required_and_known() {
        let e = error(&[]);
        assert!(
            e.starts_with("error: 'apigw-vpc-probe' requires a subcommand"),
            "{e}"
        );
        assert!(e.contains("\nUsage: apigw-vpc-probe <COMMAND>\n"));
        assert!(error(&["frob"]).starts_with("error: unrecognized subcommand 'frob'"));
        assert!(error(&["help", "frob"]).starts_with("error: unrecognized subcommand 'frob'"));
        assert!(error(&["--bogus"]).contains("unexpected argument '--bogus'"));
    }

    #[test]
    fn non_utf8_is_refused() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0xff]);
        let p = Parser::from_iter([OsString::from(NAME), "probe".into(), bad.clone()]);
        let e = parse(p).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("invalid UTF-8"), "{e}");
        let p = Parser::from_iter([NAME.into(), "probe".into(), "--data".into(), bad]);
        assert!(parse(p).is_err());
    }

    #[test]
    fn version_and_help() {
        let version = format!("apigw-vpc-probe {}\n", env!("CARGO_PKG_VERSION"));
        assert_eq!(printed(&["--version"]), version);
        assert_eq!(printed(&["-V"]), version);
        let top = printed(&["--help"]);
        assert_eq!(printed(&["-h"]), top);
        assert_eq!(printed(&["help"]), top);
        assert!(top.starts_with(env!("CARGO_PKG_DESCRIPTION")));
        assert!(top.contains("\nUsage: apigw-vpc-probe <COMMAND>\n"));
        for (name, about) in COMMANDS {
            assert!(top.contains(&format!("  {name:<5}  {about}\n")), "{top}");
            let help = printed(&[name, "--help"]);
            assert_eq!(printed(&[name, "-h"]), help);
            assert_eq!(printed(&["help", name]), help);
            assert!(help.starts_with(&format!("{about}\n\nUsage: apigw-vpc-probe {name} ")));
        }
        // Help wins wherever it stands among valid arguments.
        assert!(
            printed(&["probe", "http://a", "-n", "2", "--help"]).contains("--show-string-to-sign")
        );
        let serve = printed(&["serve", "--help"]);
        assert!(
            serve.contains(
                "      --listen <ADDR>  Listen on this address instead (e.g. 127.0.0.1:9000 for \
             local tests)\n  -h, --help           Print help\n"
            ),
            "{serve}"
        );
        assert!(serve.ends_with(&format!("\n{SERVE_AFTER_HELP}\n")));
    }

    #[test]
    fn help_shows_every_option_with_its_doc() {
        let probe_help = printed(&["probe", "--help"]);
        let check_help = printed(&["check", "--help"]);
        assert!(probe_help.contains(
            "  [URL]  URL to call, e.g. http://<group>-cn-shanghai-vpc.alicloudapi.com/web/cloudapi. \
             Without it: the configured targets (APIGW_URL, APIGW_GROUP_ID, APIGW_TARGETS)\n"
        ));
        assert!(probe_help.contains(
            "  -X, --method <METHOD>\n          HTTP method [default: GET] [possible values: GET, \
             HEAD, POST, PUT, DELETE, PATCH, OPTIONS]\n"
        ), "{probe_help}");
        assert!(probe_help.contains(
            "      --show-string-to-sign\n          Print the client's string to sign (it holds no \
             secret), for comparing with the gateway's\n"
        ));
        assert!(probe_help.ends_with(&format!("\n{PROBE_AFTER_HELP}\n")));
        assert!(check_help.ends_with(&format!("\n{CHECK_AFTER_HELP}\n")));
        assert!(!probe_help.contains("--profile"));
        // Every field but the URL and `check`'s `probe` has a row, shown with its doc comment.
        for (docs, help, tables) in [
            (ProbeArgs::DOCS, &probe_help, &[PROBE_OPTIONS][..]),
            (
                CheckArgs::DOCS,
                &check_help,
                &[PROBE_OPTIONS, CHECK_OPTIONS],
            ),
        ] {
            for (field, lines) in docs {
                if ["url", "probe"].contains(field) {
                    continue;
                }
                let opt = tables
                    .iter()
                    .copied()
                    .flatten()
                    .find(|o| o.field.unwrap_or(o.long).replace('-', "_") == *field)
                    .unwrap_or_else(|| panic!("no option for {field}"));
                assert!(!lines.is_empty(), "{field}");
                let row = format!("{}\n          {}", opt.spec(), doc(&[docs], field));
                assert!(help.contains(&row), "{row}");
            }
        }
    }

    #[test]
    fn every_table_row_parses() {
        for opt in PROBE_OPTIONS.iter().chain(CHECK_OPTIONS) {
            let value = match (opt.value, opt.possible.first()) {
                (None, _) => None,
                (Some(_), Some(name)) => Some(*name),
                (Some(_), None) => Some("7"),
            };
            let long = format!("--{}", opt.long);
            let short = opt.short.map(|c| format!("-{c}"));
            for flag in std::iter::once(&long).chain(&short) {
                // `--retry-interval` needs `--retry`.
                let mut args = vec!["check", flag];
                args.extend(value);
                args.extend(["--retry", "1"]);
                assert!(
                    matches!(parse_args(&args), Ok(Parsed::Run(Command::Check(_)))),
                    "{args:?}"
                );
            }
        }
    }
}
