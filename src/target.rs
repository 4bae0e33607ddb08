//! Targets: what to call. A [`TargetSpec`] is what a user writes (env, event, CLI); a [`Target`]
//! is the checked, complete form the prober works with.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::apigw::{vpc_url, AppSecret, SignatureMethod, Stage};
use crate::error::ProbeError;
use crate::expect::{JsonCheck, Pattern};
use crate::named::named_enum;
use crate::policy::SigningHosts;
use crate::secret::Secret;

/// Where a target came from. Only trusted origins may name any host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The function's own environment (`APIGW_*`), written by whoever deployed it.
    Config,
    /// The calling program: the command line (the user's own shell) or a program using this
    /// library. Trusted like the configuration.
    Cli,
    /// An event or an HTTP-trigger request: checked against `APIGW_ALLOW_HOSTS`.
    Request,
}

/// What an answer must be for a sample to pass: its status, and optionally its headers, body,
/// JSON values, latency and certificate (checked in [`crate::expect`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Accepted statuses. Default: any 2xx.
    #[serde(default)]
    pub status: Vec<u16>,
    /// Response headers that must be present with a value matching the regex (name → regex;
    /// an empty regex: present). Default: none.
    #[serde(default)]
    pub headers: BTreeMap<String, Pattern>,
    /// Response headers that must be absent. Default: none.
    #[serde(default)]
    pub headers_absent: Vec<String>,
    /// A regex the body must match (on the first 64 KiB kept). Default: none.
    #[serde(default)]
    pub body: Option<Pattern>,
    /// A regex the body must not match (on the first 64 KiB kept: a longer body passes with a
    /// warning when that part does not match). Default: none.
    #[serde(default)]
    pub body_not: Option<Pattern>,
    /// Values in the JSON body, by RFC 6901 pointer (a body that is not JSON, or longer than the
    /// 64 KiB kept, fails as `assert.not_json`). Default: none.
    #[serde(default)]
    pub json: Vec<JsonCheck>,
    /// A sample slower than this (total, milliseconds) fails. Default: no limit.
    #[serde(default)]
    pub max_ms: Option<u64>,
    /// The target fails when the samples' p90 (nearest rank, over those that got a response)
    /// is slower than this. Default: no limit.
    #[serde(default)]
    pub p90_ms: Option<u64>,
    /// The same for the p99. Default: no limit.
    #[serde(default)]
    pub p99_ms: Option<u64>,
    /// Fewest whole days a certificate the server presents may have left (`tls.expiring`
    /// below); `0` turns the check off. Default: 14 for `https://`
    /// ([`crate::expect::CERT_DAYS_MIN`]), none for `http://`.
    #[serde(default)]
    pub cert_days_min: Option<u32>,
}

impl Expect {
    /// True when `status` is accepted.
    pub fn accepts(&self, status: u16) -> bool {
        if self.status.is_empty() {
            (200..300).contains(&status)
        } else {
            self.status.contains(&status)
        }
    }

    /// How the accepted statuses read in a message.
    pub fn describe(&self) -> String {
        if self.status.is_empty() {
            "2xx".into()
        } else {
            let list: Vec<String> = self.status.iter().map(u16::to_string).collect();
            list.join(", ")
        }
    }

    /// The days-left minimum in force: the one given (none when 0), else
    /// [`crate::expect::CERT_DAYS_MIN`] for `https://`.
    pub fn cert_days_min(&self, https: bool) -> Option<u32> {
        match self.cert_days_min {
            Some(0) => None,
            Some(days) => Some(days),
            None => https.then_some(crate::expect::CERT_DAYS_MIN),
        }
    }

    /// True when an assertion reads the body (it is then kept, up to 64 KiB, also when the
    /// report does not return it).
    pub fn reads_body(&self) -> bool {
        self.body.is_some() || self.body_not.is_some() || !self.json.is_empty()
    }

    /// Checks what deserialization cannot: header names and the number of entries.
    fn check(&self) -> Result<(), ProbeError> {
        let max = crate::expect::MAX_ASSERTIONS;
        for (field, n) in [
            ("headers", self.headers.len()),
            ("headers_absent", self.headers_absent.len()),
            ("json", self.json.len()),
        ] {
            if n > max {
                return Err(ProbeError::config(format!(
                    "expect.{field} has {n} entries; at most {max}"
                )));
            }
        }
        for name in self.headers.keys().chain(&self.headers_absent) {
            crate::expect::check_header_name(name)?;
        }
        Ok(())
    }
}

/// The most retries of a sample (`retry.count`).
pub const MAX_RETRIES: u32 = 5;
/// The longest wait between two attempts (`retry.interval_ms`).
pub const MAX_RETRY_INTERVAL_MS: u64 = 10_000;
/// The wait between two attempts when `retry` gives none.
pub const DEFAULT_RETRY_INTERVAL_MS: u64 = 1_000;

/// How a sample that failed with a transport class is tried again (`retry`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts after the first, at most [`MAX_RETRIES`] (5). Default 0.
    #[serde(default)]
    pub count: u32,
    /// Milliseconds between the end of a failed attempt and the next, at most
    /// [`MAX_RETRY_INTERVAL_MS`] (10000). Default [`DEFAULT_RETRY_INTERVAL_MS`] (1000).
    #[serde(default)]
    pub interval_ms: Option<u64>,
}

impl Retry {
    /// The wait between two attempts.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.unwrap_or(DEFAULT_RETRY_INTERVAL_MS))
    }

    fn check(&self) -> Result<(), ProbeError> {
        if self.count > MAX_RETRIES {
            return Err(ProbeError::config(format!(
                "retry.count must be at most {MAX_RETRIES}, not {}",
                self.count
            )));
        }
        match self.interval_ms {
            Some(ms) if ms > MAX_RETRY_INTERVAL_MS => Err(ProbeError::config(format!(
                "retry.interval_ms must be at most {MAX_RETRY_INTERVAL_MS}, not {ms}"
            ))),
            _ => Ok(()),
        }
    }
}

named_enum! {
    /// Which resolved addresses a sample calls.
    #[derive(Default)]
    pub enum AddressMode as "addresses" {
        /// The first IPv4 address of the answer (else the first): one call per sample.
        #[default]
        First = "first",
        /// Every address of the answer, at once: one call per address per sample.
        All = "all",
    }
}

/// Which samples' response bodies a target returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReturnBody {
    /// None (the body is still read to the end and counted).
    #[default]
    None,
    /// The first sample's: what a user looking at an answer needs, at a twentieth of the size.
    First,
    /// Every sample's.
    All,
}

impl ReturnBody {
    /// Parses `true`/`false`/`first`/`all` (and `1`/`0`, an empty query value meaning `true`).
    pub fn parse(v: &str) -> Option<Self> {
        Some(match v.trim().to_ascii_lowercase().as_str() {
            "" | "1" | "true" | "first" => Self::First,
            "0" | "false" | "none" => Self::None,
            "all" => Self::All,
            _ => return None,
        })
    }

    /// True when sample number `index` (from 0) keeps its body.
    pub fn keeps(self, index: u32) -> bool {
        match self {
            Self::None => false,
            Self::First => index == 0,
            Self::All => true,
        }
    }
}

impl<'de> Deserialize<'de> for ReturnBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ReturnBody;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true, false, \"first\" or \"all\"")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<ReturnBody, E> {
                Ok(if v {
                    ReturnBody::First
                } else {
                    ReturnBody::None
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ReturnBody, E> {
                match v {
                    "first" => Ok(ReturnBody::First),
                    "all" => Ok(ReturnBody::All),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A target as written in `APIGW_TARGETS`, an event, or built from CLI flags.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// Name used in the report and to select the target (`{"target": "<name>"}`).
    /// Default: the URL's host and path.
    pub name: Option<String>,
    /// Full URL. Alternative to `group` + `region` + `path`.
    pub url: Option<String>,
    /// API group id: builds `http://<group>-<region>-vpc.alicloudapi.com<path>`.
    pub group: Option<String>,
    /// Region of the group. Default: `APIGW_REGION`, else the function's region.
    pub region: Option<String>,
    /// Path (with query) of the API. Default `/`.
    pub path: Option<String>,
    /// HTTP method. Default `GET`.
    pub method: Option<HttpMethod>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Request body.
    pub body: Option<String>,
    /// API Gateway stage, sent as `X-Ca-Stage` (`RELEASE`, `TEST`, `PRE`). Default: none sent,
    /// which the gateway treats as RELEASE.
    pub stage: Option<Stage>,
    /// Calls to make, each on a fresh connection. Default 1.
    pub samples: Option<u32>,
    /// Time limit for one sample, all phases. Default `APIGW_TIMEOUT_MS`.
    pub timeout_ms: Option<u64>,
    /// What the answer must be: `status` (default any 2xx), `headers`, `headers_absent`,
    /// `body`, `body_not`, `json`, `max_ms`, `p90_ms`, `p99_ms`, `cert_days_min` (see
    /// [`Expect`]).
    pub expect: Option<Expect>,
    /// Which resolved addresses each sample calls: `first` (default) or `all`.
    pub addresses: Option<AddressMode>,
    /// `{"count": N, "interval_ms": M}`: try a sample again after a transport failure
    /// (`dns.timeout`, `dns.servfail`, `tcp.*`, `tls.timeout`, `http.timeout`). Default: no
    /// retry.
    pub retry: Option<Retry>,
    /// Which samples' response bodies go into the report: `false` (default), `true` or
    /// `"first"` (the first sample's), `"all"` (every sample's). Each body is cut to 64 KiB,
    /// and all bodies of an invocation share `APIGW_BODY_BUDGET_BYTES`.
    #[serde(default)]
    pub return_body: ReturnBody,
    /// `app` (signature), `appcode` or `none`. Default: `app` when `APIGW_APP_KEY` is set,
    /// else `none`. The secrets themselves come only from the environment.
    pub auth: Option<AuthKind>,
    /// `HmacSHA256` (default) or `HmacSHA1`, for `auth: app`.
    pub signature_method: Option<SignatureMethod>,
    /// Put the client's string to sign in each sample (it holds no secret). Default false.
    #[serde(default)]
    pub show_string_to_sign: bool,
}

/// The app's credentials for API Gateway, from the environment.
#[derive(Clone, Debug, Default)]
pub struct AppCredentials {
    /// `APIGW_APP_KEY`.
    pub app_key: Option<String>,
    /// `APIGW_APP_SECRET`, or the first line of `APIGW_APP_SECRET_FILE`.
    pub app_secret: Option<AppSecret>,
    /// `APIGW_APPCODE`.
    pub appcode: Option<Secret>,
}

/// How a target authenticates to API Gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No authentication headers.
    None,
    /// App signature (`X-Ca-Key`, `X-Ca-Signature`, …).
    App {
        /// The AppKey (`X-Ca-Key`).
        key: String,
        /// The AppSecret.
        secret: AppSecret,
        /// The HMAC.
        method: SignatureMethod,
    },
    /// Simple authentication: `Authorization: APPCODE <code>`.
    AppCode(Secret),
}

/// Limits and defaults that apply when a spec becomes a target.
#[derive(Clone, Debug)]
pub struct TargetDefaults {
    /// Region used for `group` targets without one.
    pub region: Option<String>,
    /// Per-sample time limit when the spec has none.
    pub timeout: Duration,
    /// Largest accepted `samples`.
    pub max_samples: u32,
    /// The app's credentials for `auth`.
    pub credentials: AppCredentials,
    /// Hosts that targets from requests may be signed for; any other request target is sent
    /// without credentials. Default: none.
    pub signing_hosts: SigningHosts,
}

/// A checked target.
#[derive(Clone, Debug)]
pub struct Target {
    /// Its name in the report (default: host and path).
    pub name: String,
    /// The URL as checked.
    pub url: Url,
    /// The host to resolve and to send as `Host` and TLS SNI.
    pub host: String,
    /// The port to dial (the URL's, or its scheme's default).
    pub port: u16,
    /// True for `https://`.
    pub https: bool,
    /// The HTTP method.
    pub method: hyper::Method,
    /// Extra request headers, as given.
    pub headers: Vec<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
    /// The request body.
    pub body: bytes::Bytes,
    /// The stage sent as `X-Ca-Stage`, if any.
    pub stage: Option<Stage>,
    /// Samples to take, each on a fresh connection.
    pub samples: u32,
    /// Time limit of one sample.
    pub timeout: Duration,
    /// What the answer must be.
    pub expect: Expect,
    /// Which resolved addresses each sample calls.
    pub addresses: AddressMode,
    /// How samples are tried again after a transport failure.
    pub retry: Retry,
    /// Which samples' bodies go into the report.
    pub return_body: ReturnBody,
    /// The authentication, with the credentials it needs.
    pub auth: Auth,
    /// True when the target asked for `app` or `appcode` but comes from a request and names a
    /// host not configured for signing ([`SigningHosts`]): it is sent without credentials.
    pub signing_refused: bool,
    /// Put the string to sign in each sample.
    pub show_string_to_sign: bool,
    /// Where the target came from (decides the policy it is held to).
    pub origin: Origin,
    /// Dial this address instead of resolving (CLI `--resolve`, or an IP-literal URL).
    pub address_override: Option<IpAddr>,
}

/// `host` as it goes into a `host:port` pair: an IPv6 address in brackets.
pub fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// `url` as messages and the entries of refused targets show it: up to its query, with `?…`
/// standing for what was cut, and `…@` for a userinfo (`user:password@`). Either can carry a
/// credential (an `AppCode` in the query, a password before the host), and these texts are
/// repeated in answers and logs.
pub fn shown_url(url: &str) -> String {
    // As the URL standard reads an authority: from after `://` to the first `/`, `?`, `#` or
    // `\`; its last `@` ends the userinfo.
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#', '\\'])
        .map_or(url.len(), |i| start + i);
    let url = match url[start..end].rfind('@') {
        Some(at) => format!("{}…{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    };
    match url.split_once('?') {
        Some((head, _)) => format!("{head}?…"),
        None => url,
    }
}

/// Reads a `Host` header value: one host name or IP address, optionally `:port` (an IPv6
/// address in brackets). Returns the host (without brackets) and the port; the error says what
/// is wrong, to follow "it …".
pub fn parse_host_header(value: &str) -> Result<(&str, Option<u16>), String> {
    if value.is_empty() {
        return Err("is empty".into());
    }
    // The characters that would make one header name several hosts, or smuggle a path or
    // credentials past the allow-list, each named.
    for (c, problem) in [
        (',', "is a list (',')"),
        ('@', "has userinfo ('@')"),
        ('/', "has a path ('/')"),
        ('\\', "has a backslash"),
        ('?', "has a query ('?')"),
        ('#', "has a fragment ('#')"),
        (';', "has a ';'"),
    ] {
        if value.contains(c) {
            return Err(problem.into());
        }
    }
    if value.chars().any(char::is_whitespace) {
        return Err("has whitespace".into());
    }
    if value.chars().any(char::is_control) {
        return Err("has a control character".into());
    }
    let (host, port) = match value.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']').ok_or("has a '[' without ']'")?;
            if inside.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!(
                    "has {inside:?} in brackets, which is not an IPv6 address"
                ));
            }
            match after {
                "" => (inside, None),
                _ => (
                    inside,
                    Some(
                        after
                            .strip_prefix(':')
                            .ok_or("has text after ']' that is not :port")?,
                    ),
                ),
            }
        }
        None => match value.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                return Err("has more than one ':' (an IPv6 address goes in brackets)".into())
            }
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        },
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err(format!("has port {p:?}, not a number from 1 to 65535")),
        },
    };
    if value.starts_with('[') {
        return Ok((host, port));
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() {
        return Err("has no host name".into());
    }
    if name.len() > 253 {
        return Err("is longer than 253 characters".into());
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("has an empty label ('..' or a leading '.')".into());
        }
        if label.len() > 63 {
            return Err("has a label longer than 63 characters".into());
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!("has {c:?}, which a host name cannot have"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "has a label that starts or ends with '-' ({label:?})"
            ));
        }
    }
    Ok((host, port))
}

impl TargetSpec {
    /// A spec for a plain URL.
    pub fn from_url(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            ..Self::default()
        }
    }

    /// Checks the spec and completes it with defaults. Does not apply the allow-list: see
    /// [`crate::policy`].
    pub fn build(self, defaults: &TargetDefaults, origin: Origin) -> Result<Target, ProbeError> {
        let raw_url = match (&self.url, &self.group) {
            (Some(_), Some(_)) => {
                return Err(ProbeError::config(
                    "a target has both \"url\" and \"group\": give one of them",
                ))
            }
            (Some(url), None) => url.clone(),
            (None, Some(group)) => {
                if !crate::apigw::is_group_id(group) {
                    return Err(ProbeError::config(format!(
                        "group {group:?} is not an API group id (31 or 32 hexadecimal characters)"
                    )));
                }
                let region = self
                    .region
                    .clone()
                    .or_else(|| defaults.region.clone())
                    .ok_or_else(|| {
                        ProbeError::config(
                            "a group target needs a region: set \"region\", APIGW_REGION or FC_REGION",
                        )
                    })?;
                if region.is_empty()
                    || !region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    return Err(ProbeError::config(format!(
                        "region {region:?} is not a region id like cn-shanghai"
                    )));
                }
                vpc_url(group, &region, self.path.as_deref().unwrap_or("/"))
            }
            (None, None) => {
                return Err(ProbeError::config(
                    "a target needs \"url\" or \"group\" (with \"path\")",
                ))
            }
        };
        if self.url.is_some() && (self.region.is_some() || self.path.is_some()) {
            return Err(ProbeError::config(
                "\"region\" and \"path\" go with \"group\"; with \"url\" put them in the URL",
            ));
        }
        // Messages show the URL without its query and userinfo, which may hold a credential.
        let shown = shown_url(&raw_url);
        let url = Url::parse(&raw_url)
            .map_err(|e| ProbeError::config(format!("URL {shown:?} is not valid: {e}")))?;
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(ProbeError::config(format!(
                    "URL scheme {other:?} is not supported: use http:// or https://"
                )))
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ProbeError::config(
                "credentials in the URL are not accepted: configure authentication instead",
            ));
        }
        let (host, address_override) = match url.host() {
            Some(url::Host::Domain(d)) => (d.to_owned(), None),
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
            None => return Err(ProbeError::config(format!("URL {shown:?} has no host"))),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });

        let method = self.method.unwrap_or_default().as_hyper();

        let mut host_headers = self
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("host"));
        if let Some((_, value)) = host_headers.next() {
            if host_headers.next().is_some() {
                return Err(ProbeError::config(
                    "a target has more than one Host header (names differing only in case): give one",
                ));
            }
            parse_host_header(value).map_err(|problem| {
                ProbeError::config(format!(
                    "Host header {value:?} is not a single host name: it {problem}"
                ))
            })?;
        }
        let mut headers = Vec::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let name = hyper::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ProbeError::config(format!("header name {name:?} is not valid")))?;
            let value = hyper::header::HeaderValue::from_str(value).map_err(|_| {
                ProbeError::config(format!("the value of header {name} is not valid"))
            })?;
            headers.push((name, value));
        }

        let samples = self.samples.unwrap_or(1);
        if samples == 0 || samples > defaults.max_samples {
            return Err(ProbeError::config(format!(
                "samples must be between 1 and {} (APIGW_MAX_SAMPLES), not {samples}",
                defaults.max_samples
            )));
        }
        let timeout = match self.timeout_ms {
            Some(0) => return Err(ProbeError::config("timeout_ms must be more than 0")),
            Some(ms) => Duration::from_millis(ms),
            None => defaults.timeout,
        };
        let expect = self.expect.clone().unwrap_or_default();
        expect.check()?;
        let retry = self.retry.unwrap_or_default();
        retry.check()?;
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| format!("{}{}", host, url.path()));
        // A request target gets the app's credentials only for a host the operator configured;
        // the fields are still checked, so a typo is config.invalid wherever the host is.
        let (kind, signature_method) = self.asked_auth(&defaults.credentials)?;
        let signing_refused = origin == Origin::Request
            && kind != AuthKind::None
            && !defaults.signing_hosts.allows(&host);
        let auth = if signing_refused {
            Auth::None
        } else {
            kind.with(&defaults.credentials, signature_method)?
        };

        Ok(Target {
            name,
            host,
            port,
            https,
            method,
            headers,
            body: bytes::Bytes::from(self.body.unwrap_or_default()),
            stage: self.stage,
            samples,
            timeout,
            expect,
            addresses: self.addresses.unwrap_or_default(),
            retry,
            return_body: self.return_body,
            auth,
            signing_refused,
            show_string_to_sign: self.show_string_to_sign,
            origin,
            address_override,
            url,
        })
    }
}

named_enum! {
    /// The authentication a spec asks for, before the credentials are looked up.
    pub enum AuthKind as "auth" {
        /// No authentication headers.
        None = "none",
        /// The app signature (`X-Ca-Key`, `X-Ca-Signature`, …).
        App = "app",
        /// Simple authentication: `Authorization: APPCODE <code>`.
        AppCode = "appcode",
    }
}

named_enum! {
    /// The HTTP methods a target may use (those API Gateway defines APIs with).
    #[derive(Default)]
    pub enum HttpMethod as "method" {
        /// `GET`, the default.
        #[default]
        Get = "GET",
        /// `HEAD`.
        Head = "HEAD",
        /// `POST`.
        Post = "POST",
        /// `PUT`.
        Put = "PUT",
        /// `DELETE`.
        Delete = "DELETE",
        /// `PATCH`.
        Patch = "PATCH",
        /// `OPTIONS`.
        Options = "OPTIONS",
    }
}

impl HttpMethod {
    /// The method as hyper sends it.
    pub fn as_hyper(self) -> hyper::Method {
        match self {
            Self::Get => hyper::Method::GET,
            Self::Head => hyper::Method::HEAD,
            Self::Post => hyper::Method::POST,
            Self::Put => hyper::Method::PUT,
            Self::Delete => hyper::Method::DELETE,
            Self::Patch => hyper::Method::PATCH,
            Self::Options => hyper::Method::OPTIONS,
        }
    }
}

impl AuthKind {
    /// The authentication completed with the configured credentials.
    fn with(self, creds: &AppCredentials, method: SignatureMethod) -> Result<Auth, ProbeError> {
        match self {
            Self::None => Ok(Auth::None),
            Self::App => match (&creds.app_key, &creds.app_secret) {
                (Some(key), Some(secret)) => Ok(Auth::App {
                    key: key.clone(),
                    secret: secret.clone(),
                    method,
                }),
                _ => Err(ProbeError::config(
                    "auth \"app\" needs APIGW_APP_KEY and APIGW_APP_SECRET (or APIGW_APP_SECRET_FILE) in the function's environment",
                )),
            },
            Self::AppCode => creds.appcode.clone().map(Auth::AppCode).ok_or_else(|| {
                ProbeError::config("auth \"appcode\" needs APIGW_APPCODE in the function's environment")
            }),
        }
    }
}

impl Target {
    /// How the target authenticates, for the report: `app`, `appcode`, `none`, or
    /// `none (host not configured for signing)` when a request target's `auth` was refused.
    pub fn auth_label(&self) -> &'static str {
        match (&self.auth, self.signing_refused) {
            (Auth::App { .. }, _) => "app",
            (Auth::AppCode(_), _) => "appcode",
            (Auth::None, true) => "none (host not configured for signing)",
            (Auth::None, false) => "none",
        }
    }
}

impl TargetSpec {
    /// The authentication the spec asks for (`app` by default when an AppKey is configured)
    /// and its signature method; checks both fields.
    fn asked_auth(
        &self,
        creds: &AppCredentials,
    ) -> Result<(AuthKind, SignatureMethod), ProbeError> {
        let method = self.signature_method.unwrap_or_default();
        let kind = match self.auth {
            Some(kind) => kind,
            None if creds.app_key.is_some() => AuthKind::App,
            None => AuthKind::None,
        };
        Ok((kind, method))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP: &str = "0123456789abcdef0123456789abcdef";

    fn defaults() -> TargetDefaults {
        TargetDefaults {
            region: Some("cn-shanghai".into()),
            timeout: Duration::from_secs(5),
            max_samples: 20,
            credentials: AppCredentials::default(),
            signing_hosts: SigningHosts::default(),
        }
    }

    #[test]
    fn auth_defaults_to_app_when_a_key_is_configured() {
        let mut d = defaults();
        let spec = TargetSpec::from_url("http://x/");
        assert_eq!(
            spec.clone().build(&d, Origin::Config).unwrap().auth,
            Auth::None
        );
        d.credentials = AppCredentials {
            app_key: Some("k".into()),
            app_secret: AppSecret::new("s"),
            appcode: None,
        };
        let t = spec.clone().build(&d, Origin::Config).unwrap();
        assert!(
            matches!(t.auth, Auth::App { ref key, method: SignatureMethod::HmacSha256, .. } if key == "k")
        );
        let appcode = TargetSpec {
            auth: Some(AuthKind::AppCode),
            ..spec.clone()
        };
        let err = appcode.build(&d, Origin::Config).unwrap_err();
        assert!(err.message.contains("APIGW_APPCODE"), "{err}");
        // Values outside a field's names are refused when the spec is read, not built.
        for (json, refusal) in [
            (
                r#"{"signature_method": "md5"}"#,
                "signature_method \"md5\" is not one of",
            ),
            (
                r#"{"stage": "PROD"}"#,
                "stage \"PROD\" is not one of RELEASE, TEST, PRE",
            ),
            (r#"{"method": "GE T"}"#, "method \"GE T\" is not one of GET"),
            (
                r#"{"auth": "key"}"#,
                "auth \"key\" is not one of none, app, appcode",
            ),
        ] {
            let e = serde_json::from_str::<TargetSpec>(json).unwrap_err();
            assert!(e.to_string().contains(refusal), "{json}: {e}");
        }
    }

    #[test]
    fn builds_url_from_group() {
        let spec = TargetSpec {
            group: Some(GROUP.into()),
            path: Some("/web/cloudapi".into()),
            ..Default::default()
        };
        let t = spec.build(&defaults(), Origin::Config).unwrap();
        assert_eq!(
            t.url.as_str(),
            format!("http://{GROUP}-cn-shanghai-vpc.alicloudapi.com/web/cloudapi")
        );
        assert_eq!(t.port, 80);
        assert!(!t.https);
        assert_eq!(t.samples, 1);
        // Group ids of 31 characters exist too (control-plane.md §10.1); 30 is none.
        for (group, ok) in [(&GROUP[..31], true), (&GROUP[..30], false)] {
            let spec = TargetSpec {
                group: Some(group.into()),
                ..Default::default()
            };
            assert_eq!(
                spec.build(&defaults(), Origin::Config).is_ok(),
                ok,
                "{group}"
            );
        }
    }

    #[test]
    fn rejects_bad_specs_with_config_invalid() {
        let bad = [
            TargetSpec::default(),
            TargetSpec::from_url("ftp://x/"),
            TargetSpec::from_url("not a url"),
            TargetSpec::from_url("http://user:pw@x/"),
            TargetSpec {
                samples: Some(0),
                ..TargetSpec::from_url("http://x/")
            },
            TargetSpec {
                samples: Some(1000),
                ..TargetSpec::from_url("http://x/")
            },
            TargetSpec {
                group: Some("nothex".into()),
                ..Default::default()
            },
        ];
        for spec in bad {
            let err = spec
                .clone()
                .build(&defaults(), Origin::Request)
                .unwrap_err();
            assert_eq!(
                err.class,
                crate::error::ErrorClass::ConfigInvalid,
                "{spec:?}"
            );
        }
    }

    #[test]
    fn invalid_url_messages_leave_the_query_out() {
        let e = TargetSpec::from_url("http://%/x?AppCode=c0de&k=v")
            .build(&defaults(), Origin::Request)
            .unwrap_err();
        assert!(e.message.contains("\"http://%/x?…\""), "{e}");
        assert!(!e.message.contains("c0de"), "{e}");
    }

    #[test]
    fn shown_urls_leave_the_query_and_the_userinfo_out() {
        for (url, shown) in [
            ("http://h/p", "http://h/p"),
            ("http://h/p?AppCode=c0de", "http://h/p?…"),
            ("http://u:c0de@h:80/p", "http://…@h:80/p"),
            ("https://u:c0de@h", "https://…@h"),
            ("http://u:c0de@h?x=1", "http://…@h?…"),
            // `@` in the path or the query is not a userinfo's.
            ("http://h/a@b?c@d", "http://h/a@b?…"),
            ("http://h?AppCode=a@b", "http://h?…"),
            ("http://h\\a@b", "http://h\\a@b"),
            ("http://a@b:c0de@h/p", "http://…@h/p"),
            ("no scheme@h/p", "…@h/p"),
            ("", ""),
        ] {
            assert_eq!(shown_url(url), shown, "{url}");
        }
        let e = TargetSpec::from_url("http://user:c0de@h/x")
            .build(&defaults(), Origin::Request)
            .unwrap_err();
        assert!(e.message.contains("credentials in the URL"), "{e}");
        let failed = crate::event::check_request_targets(
            &[TargetSpec::from_url("http://user:c0de@h/x")],
            &crate::Settings::default(),
        )
        .unwrap_err();
        assert!(failed.message.contains("\"http://…@h/x\""), "{failed}");
        assert!(!failed.message.contains("c0de"), "{failed}");
    }

    #[test]
    fn ip_literal_sets_override() {
        let t = TargetSpec::from_url("http://10.0.0.5:8080/x")
            .build(&defaults(), Origin::Cli)
            .unwrap();
        assert_eq!(t.address_override, Some("10.0.0.5".parse().unwrap()));
        assert_eq!(t.port, 8080);
    }

    #[test]
    fn retry_addresses_and_expect_are_bounded_when_built() {
        let build = |json: &str| {
            let mut spec: TargetSpec = serde_json::from_str(json).unwrap();
            spec.url = Some("https://x.alicloudapi.com/".into());
            spec.build(&defaults(), Origin::Request)
        };
        let t = build(r#"{"retry": {"count": 2}, "addresses": "all"}"#).unwrap();
        assert_eq!(t.retry.count, 2);
        assert_eq!(
            t.retry.interval(),
            Duration::from_millis(DEFAULT_RETRY_INTERVAL_MS)
        );
        assert_eq!(t.addresses, AddressMode::All);
        assert_eq!(
            t.expect.cert_days_min(t.https),
            Some(crate::expect::CERT_DAYS_MIN)
        );
        let t = build(r#"{}"#).unwrap();
        assert_eq!((t.retry.count, t.addresses), (0, AddressMode::First));
        for (json, refusal) in [
            (
                r#"{"retry": {"count": 6}}"#,
                "retry.count must be at most 5",
            ),
            (
                r#"{"retry": {"count": 1, "interval_ms": 10001}}"#,
                "retry.interval_ms must be at most 10000",
            ),
            (
                r#"{"expect": {"headers_absent": ["bad name"]}}"#,
                "not a valid header name",
            ),
            (
                r#"{"expect": {"headers": {"x:y": "a"}}}"#,
                "not a valid header name",
            ),
        ] {
            let e = build(json).unwrap_err();
            assert_eq!(e.class, crate::error::ErrorClass::ConfigInvalid, "{json}");
            assert!(e.message.contains(refusal), "{json}: {e}");
        }
        let many: Vec<String> = (0..17).map(|i| format!("\"x-{i}\"")).collect();
        let e = build(&format!(
            r#"{{"expect": {{"headers_absent": [{}]}}}}"#,
            many.join(",")
        ))
        .unwrap_err();
        assert!(e.message.contains("at most 16"), "{e}");
        for (json, refusal) in [
            (
                r#"{"addresses": "every"}"#,
                "addresses \"every\" is not one of first, all",
            ),
            (r#"{"retry": {"count": 1, "every": 2}}"#, "unknown field"),
            (r#"{"expect": {"body": "("}}"#, "is not valid"),
        ] {
            let e = serde_json::from_str::<TargetSpec>(json).unwrap_err();
            assert!(e.to_string().contains(refusal), "{json}: {e}");
        }
    }

    #[test]
    fn expect_defaults_to_2xx() {
        let e = Expect::default();
        assert!(e.accepts(204));
        assert!(!e.accepts(302));
        let e = Expect {
            status: vec![404],
            ..Expect::default()
        };
        assert!(e.accepts(404));
        assert!(!e.accepts(200));
    }

    #[test]
    fn host_headers_are_one_host_and_an_optional_port() {
        for (value, host, port) in [
            ("a.alicloudapi.com", "a.alicloudapi.com", None),
            ("A.AliCloudApi.com.", "A.AliCloudApi.com.", None),
            ("a.alicloudapi.com:8080", "a.alicloudapi.com", Some(8080)),
            ("10.0.0.1:80", "10.0.0.1", Some(80)),
            ("[::1]", "::1", None),
            ("[fd00::1]:443", "fd00::1", Some(443)),
            ("svc_1.internal", "svc_1.internal", None),
        ] {
            assert_eq!(parse_host_header(value), Ok((host, port)), "{value}");
        }
        for (value, problem) in [
            ("evil.com, ok.alicloudapi.com", "is a list"),
            ("evil.com,ok.alicloudapi.com", "is a list"),
            ("a/b.alicloudapi.com", "has a path"),
            ("a\\b.alicloudapi.com", "backslash"),
            ("ok.alicloudapi.com evil.com", "has whitespace"),
            (" ok.alicloudapi.com", "has whitespace"),
            ("ok.alicloudapi.com\t", "has whitespace"),
            ("ok.alicloudapi.com;evil.com", "has a ';'"),
            ("", "is empty"),
            ("a@b.alicloudapi.com", "has userinfo"),
            ("user:pw@ok.alicloudapi.com", "has userinfo"),
            ("ok.alicloudapi.com?x", "has a query"),
            ("ok.alicloudapi.com#x", "has a fragment"),
            ("ok.alicloudapi.com\u{7f}", "control character"),
            ("ok.alicloudapi.com:", "has port \"\""),
            ("ok.alicloudapi.com:0", "has port \"0\""),
            ("ok.alicloudapi.com:65536", "has port"),
            ("ok.alicloudapi.com:+80", "has port"),
            ("ok.alicloudapi.com:80:81", "more than one ':'"),
            ("::1", "more than one ':'"),
            ("[::1", "without ']'"),
            ("[nope]", "not an IPv6 address"),
            ("[::1]x", "not :port"),
            (":80", "no host name"),
            (".", "no host name"),
            ("a..alicloudapi.com", "empty label"),
            (".a.alicloudapi.com", "empty label"),
            ("-a.alicloudapi.com", "starts or ends with '-'"),
            ("a*.alicloudapi.com", "'*'"),
            ("bücher.alicloudapi.com", "'ü'"),
        ] {
            let err = parse_host_header(value).unwrap_err();
            assert!(err.contains(problem), "{value:?}: {err}");
            let spec = TargetSpec {
                headers: [("Host".to_owned(), value.to_owned())].into(),
                ..TargetSpec::from_url("http://ok.alicloudapi.com/")
            };
            let e = spec.build(&defaults(), Origin::Request).unwrap_err();
            assert_eq!(
                e.class,
                crate::error::ErrorClass::ConfigInvalid,
                "{value:?}"
            );
            assert!(e.message.contains(problem), "{value:?}: {e}");
            assert!(e.message.starts_with("Host header"), "{e}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(parse_host_header(&long).unwrap_err().contains("63"));
        let two = TargetSpec {
            headers: [
                ("Host".to_owned(), "a.alicloudapi.com".to_owned()),
                ("host".to_owned(), "evil.com".to_owned()),
            ]
            .into(),
            ..TargetSpec::from_url("http://ok.alicloudapi.com/")
        };
        let e = two.build(&defaults(), Origin::Config).unwrap_err();
        assert!(e.message.contains("more than one Host header"), "{e}");
    }
}
