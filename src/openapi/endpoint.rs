//! Where each product's OpenAPI calls go, and the settings that change it.
//!
//! A function with `internetAccess: false` reaches only its VPC, and from a VPC the OpenAPI
//! VPC endpoints of the VPC's own region (`<product>-vpc.<region>.aliyuncs.com`) and the central
//! VPC endpoints (`<product>.vpc-proxy.aliyuncs.com`), through the system route 100.64.0.0/10,
//! without NAT (spec control-plane.md §2.1–2.2: the endpoint forms \[doc\], "VPC endpoints can
//! only be accessed from within an Alibaba Cloud VPC" \[doc\], the reachability \[inferred\]). So
//! by default a call goes to the product's VPC endpoint when there is one for the call's region
//! and the function runs in that region, and to the public endpoint otherwise:
//!
//! - **cross-region → public**: "the region of the VPC-connected ECS instance must be the same
//!   as that of the endpoint. Cross-region operations are not supported" \[doc §2.1\]. The
//!   public endpoint then needs the function's internet access or a NAT gateway \[inferred\];
//!   without either the call fails as unreachable, which the caller reports as unknown, never
//!   as evidence against the data plane.
//! - **outside FC** (no function region known, e.g. the command line on a laptop) → public: a
//!   VPC endpoint is reachable only from inside a VPC \[doc\].
//! - **CEN (CBN 2017-09-12)** is central: `cen.vpc-proxy.aliyuncs.com` from a VPC (whatever the
//!   regions), `cbn.aliyuncs.com` publicly \[doc §2.1\].
//! - **FC 3.0**: the "internal endpoint" `<accountId>.<region>-internal.fc.aliyuncs.com` \[doc\];
//!   whether it serves the 2023-03-30 API from a VPC is \[unverified\] (§12.6), so the public
//!   `fcv3.<region>.aliyuncs.com` (the SDK's endpoint map \[sdk\]) follows it, and without the
//!   account id only the public one is known.
//! - **API Gateway regions without a listed VPC endpoint** (cn-wulanchabu, cn-heyuan,
//!   cn-guangzhou, ap-northeast-2, ap-southeast-7 in the stored tables \[doc §2.1\]) → public.
//!   Whether they truly have none is not known for sure, so for any region not on that list the
//!   VPC endpoint is tried first and the public one follows ([`Network::Auto`]).
//!
//! Both answers to "can this function reach X" are designed for: with [`Network::Auto`] (the
//! default) the VPC endpoint comes first and the public one follows when the VPC one cannot be
//! reached (see `client.rs` for exactly when); `APIGW_OPENAPI_NETWORK=vpc` or `public` keeps
//! to one kind. `APIGW_OPENAPI_ENDPOINT_<PRODUCT>` replaces a product's endpoints with one URL
//! (tests, private endpoints, proxies).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use url::Url;

/// An OpenAPI product the client calls, with its API version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    /// API Gateway (CloudAPI) 2016-07-14, RPC.
    ApiGateway,
    /// Function Compute 3.0 (2023-03-30), ROA.
    Fc,
    /// VPC 2016-04-28, RPC.
    Vpc,
    /// Cloud Enterprise Network (CBN) 2017-09-12, RPC, central endpoint.
    Cbn,
    /// CloudMonitor (CMS) 2019-01-01, RPC (for `PutCustomMetric`).
    Cms,
}

impl Product {
    /// Every product, in the order of the override variables.
    pub const ALL: [Product; 5] = [
        Product::ApiGateway,
        Product::Fc,
        Product::Vpc,
        Product::Cbn,
        Product::Cms,
    ];

    /// The API version sent in `x-acs-version`.
    pub fn version(self) -> &'static str {
        match self {
            Self::ApiGateway => "2016-07-14",
            Self::Fc => "2023-03-30",
            Self::Vpc => "2016-04-28",
            Self::Cbn => "2017-09-12",
            Self::Cms => "2019-01-01",
        }
    }

    /// The RAM service code of its actions (`apigateway:DescribeApiGroup`, `cen:…`): spec §7
    /// \[doc\]; `cms` \[inferred by the same convention\].
    pub fn ram_code(self) -> &'static str {
        match self {
            Self::ApiGateway => "apigateway",
            Self::Fc => "fc",
            Self::Vpc => "vpc",
            Self::Cbn => "cen",
            Self::Cms => "cms",
        }
    }

    /// The variable that overrides its endpoint.
    pub fn override_variable(self) -> &'static str {
        match self {
            Self::ApiGateway => "APIGW_OPENAPI_ENDPOINT_APIGATEWAY",
            Self::Fc => "APIGW_OPENAPI_ENDPOINT_FC",
            Self::Vpc => "APIGW_OPENAPI_ENDPOINT_VPC",
            Self::Cbn => "APIGW_OPENAPI_ENDPOINT_CBN",
            Self::Cms => "APIGW_OPENAPI_ENDPOINT_CMS",
        }
    }

    /// True when its endpoints do not depend on the region (CBN).
    pub fn is_central(self) -> bool {
        self == Self::Cbn
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ApiGateway => "API Gateway",
            Self::Fc => "Function Compute",
            Self::Vpc => "VPC",
            Self::Cbn => "CEN",
            Self::Cms => "CloudMonitor",
        })
    }
}

/// Which endpoints the client may use (`APIGW_OPENAPI_NETWORK`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// The VPC endpoint first when there is one for the call, then the public one.
    #[default]
    Auto,
    /// VPC endpoints only: a call without one fails as unreachable without being sent.
    Vpc,
    /// Public endpoints only.
    Public,
}

/// API Gateway regions for which the stored endpoint tables list no VPC endpoint (spec §2.1
/// \[doc\]); their calls go to the public endpoint.
const APIGATEWAY_WITHOUT_VPC_ENDPOINT: &[&str] = &[
    "cn-wulanchabu",
    "cn-heyuan",
    "cn-guangzhou",
    "ap-northeast-2",
    "ap-southeast-7",
];

/// The OpenAPI client's settings (part of [`crate::config::Settings`]).
#[derive(Clone, Debug)]
pub struct OpenApiSettings {
    /// `APIGW_OPENAPI_ENDPOINT_APIGATEWAY`, `_FC`, `_VPC`, `_CBN`, `_CMS`: one URL
    /// (`https://host[:port]`) that replaces all of that product's endpoints. Default: none.
    /// (Code may list several for a product: they are tried in order, like the defaults.)
    pub overrides: Vec<(Product, Endpoint)>,
    /// `APIGW_OPENAPI_NETWORK`: `auto`, `vpc` or `public`. Default `auto`.
    pub network: Network,
    /// `APIGW_OPENAPI_ALLOW_HTTP`: `1` lets an override use `http://` for a host that is not a
    /// loopback address. Default off: signed calls carry the STS token.
    pub allow_http: bool,
    /// `APIGW_OPENAPI_TIMEOUT_MS`: the limit of one call to one endpoint (DNS, connect, TLS,
    /// response), within the caller's deadline. Default 3000.
    pub timeout: Duration,
}

impl Default for OpenApiSettings {
    fn default() -> Self {
        Self::from_lookup(&|_: &str| None, &mut Vec::new())
    }
}

impl OpenApiSettings {
    /// Reads the settings through `get`; problems are added to `problems` (each makes every
    /// invocation `config.invalid`, as for the other settings).
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let allow_http = match get("APIGW_OPENAPI_ALLOW_HTTP").as_deref().map(str::trim) {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => {
                problems.push("APIGW_OPENAPI_ALLOW_HTTP must be 1 or 0".into());
                false
            }
        };
        let network = match get("APIGW_OPENAPI_NETWORK").as_deref().map(str::trim) {
            None => Network::Auto,
            Some(v) if v.eq_ignore_ascii_case("auto") => Network::Auto,
            Some(v) if v.eq_ignore_ascii_case("vpc") => Network::Vpc,
            Some(v) if v.eq_ignore_ascii_case("public") => Network::Public,
            Some(_) => {
                problems.push("APIGW_OPENAPI_NETWORK must be auto, vpc or public".into());
                Network::Auto
            }
        };
        let timeout = match get("APIGW_OPENAPI_TIMEOUT_MS").map(|v| v.trim().parse::<u64>()) {
            None => Duration::from_millis(3000),
            Some(Ok(v)) if v > 0 => Duration::from_millis(v),
            Some(_) => {
                problems.push(
                    "APIGW_OPENAPI_TIMEOUT_MS must be a positive number of milliseconds".into(),
                );
                Duration::from_millis(3000)
            }
        };
        let mut overrides = Vec::new();
        for product in Product::ALL {
            let name = product.override_variable();
            if let Some(value) = get(name) {
                match Endpoint::parse_override(value.trim(), allow_http) {
                    Ok(endpoint) => overrides.push((product, endpoint)),
                    Err(why) => problems.push(format!("{name} {why}")),
                }
            }
        }
        Self {
            overrides,
            network,
            allow_http,
            timeout,
        }
    }
}

/// How an endpoint was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointKind {
    /// A VPC endpoint (regional `-vpc`, central `vpc-proxy`, or FC's internal one).
    Vpc,
    /// A public endpoint.
    Public,
    /// From `APIGW_OPENAPI_ENDPOINT_<PRODUCT>`.
    Override,
}

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// TLS, with the crate's rustls configuration.
    Https,
    /// Clear text: only for loopback overrides or with `APIGW_OPENAPI_ALLOW_HTTP=1`.
    Http,
}

/// One place to send calls to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` except for an allowed `http` override.
    pub scheme: Scheme,
    /// The host name or IP address (IPv6 without brackets).
    pub host: String,
    /// The TCP port (443 / 80 unless an override names another).
    pub port: u16,
    /// How it was chosen.
    pub kind: EndpointKind,
}

impl Endpoint {
    /// An https endpoint on port 443.
    fn https(host: String, kind: EndpointKind) -> Self {
        Self {
            scheme: Scheme::Https,
            host,
            port: 443,
            kind,
        }
    }

    /// Parses an override: `https://host[:port]` (an optional `/` path, nothing else), or
    /// `http://` for a loopback address or with `allow_http`. The error completes
    /// "`<VARIABLE>` …".
    pub fn parse_override(value: &str, allow_http: bool) -> Result<Self, String> {
        let url = Url::parse(value).map_err(|e| format!("is not a URL ({e}): {value:?}"))?;
        let scheme = match url.scheme() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            other => return Err(format!("must be an https:// URL, not {other}://")),
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(format!("has no host: {value:?}")),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password".into());
        }
        if !(url.path() == "/" || url.path().is_empty())
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(format!(
                "must be only scheme, host and port (no path, query or fragment): {value:?}"
            ));
        }
        let loopback = host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
            || host.eq_ignore_ascii_case("localhost");
        if scheme == Scheme::Http && !loopback && !allow_http {
            return Err(format!(
                "uses http:// for {host}, which is not a loopback address: signed calls carry the STS token, so use https://, or set APIGW_OPENAPI_ALLOW_HTTP=1 to allow clear text"
            ));
        }
        let port = url.port_or_known_default().unwrap_or(match scheme {
            Scheme::Https => 443,
            Scheme::Http => 80,
        });
        Ok(Self {
            scheme,
            host,
            port,
            kind: EndpointKind::Override,
        })
    }

    /// The `Host` header (and the signed `host`): the host, with `:port` when it is not the
    /// scheme's default (the SDK signs the port it sends \[computed §1.6\]).
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = match self.scheme {
            Scheme::Https => 443,
            Scheme::Http => 80,
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

impl fmt::Display for Endpoint {
    /// `https://host[:port]`, as shown in evidence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        write!(f, "{scheme}://{}", self.host_header())
    }
}

/// The endpoint choice for one client: the settings plus what is known about the function.
#[derive(Clone, Debug)]
pub struct Endpoints {
    overrides: Vec<(Product, Endpoint)>,
    network: Network,
    function_region: Option<String>,
    account_id: Option<String>,
}

impl Endpoints {
    /// Endpoints for a function in `function_region` (FC's `x-fc-region` / `FC_REGION`; `None`
    /// outside FC) of account `account_id` (`x-fc-account-id` / `FC_ACCOUNT_ID`; needed for FC's
    /// internal endpoint).
    pub fn new(
        settings: &OpenApiSettings,
        function_region: Option<&str>,
        account_id: Option<&str>,
    ) -> Self {
        let clean = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Self {
            overrides: settings.overrides.clone(),
            network: settings.network,
            function_region: clean(function_region),
            account_id: clean(account_id),
        }
    }

    /// The function's region, if known.
    pub fn function_region(&self) -> Option<&str> {
        self.function_region.as_deref()
    }

    /// The endpoints to try, in order, for a call of `product` about `region` (ignored for
    /// CEN): its overrides if it has any, else the VPC endpoint and the public one as the
    /// module doc says. Empty when the network setting leaves none (e.g. `vpc` for a
    /// cross-region call).
    pub fn candidates(&self, product: Product, region: &str) -> Vec<Endpoint> {
        let overridden: Vec<Endpoint> = self
            .overrides
            .iter()
            .filter(|(p, _)| *p == product)
            .map(|(_, e)| e.clone())
            .collect();
        if !overridden.is_empty() {
            return overridden;
        }
        let vpc = self.vpc_endpoint(product, region);
        let public = Some(public_endpoint(product, region));
        let (first, second) = match self.network {
            Network::Auto => (vpc, public),
            Network::Vpc => (vpc, None),
            Network::Public => (public, None),
        };
        first.into_iter().chain(second).collect()
    }

    /// The VPC endpoint for a call, when the function can use one (module doc).
    fn vpc_endpoint(&self, product: Product, region: &str) -> Option<Endpoint> {
        let in_region = self.function_region.as_deref() == Some(region);
        let host = match product {
            // Central: reachable from a VPC in any region [doc §2.1]; outside FC, public.
            Product::Cbn => {
                self.function_region.as_ref()?;
                "cen.vpc-proxy.aliyuncs.com".to_owned()
            }
            _ if !in_region => return None,
            Product::ApiGateway if APIGATEWAY_WITHOUT_VPC_ENDPOINT.contains(&region) => {
                return None
            }
            Product::ApiGateway => format!("apigateway-vpc.{region}.aliyuncs.com"),
            Product::Vpc => format!("vpc-vpc.{region}.aliyuncs.com"),
            // [doc] FC 3.0 endpoints page; serving 2023-03-30 from a VPC is [unverified].
            Product::Fc => format!(
                "{}.{region}-internal.fc.aliyuncs.com",
                self.account_id.as_deref()?
            ),
            // [doc] CloudMonitor "Endpoints" (alibabacloud.com/help/en/cms/developer-reference/
            // request-methods): public metrics.<region>, VPC cms-vpc.<region>.
            Product::Cms => format!("cms-vpc.{region}.aliyuncs.com"),
        };
        Some(Endpoint::https(host, EndpointKind::Vpc))
    }
}

/// The public endpoint of `product` for `region`: \[doc §2.1\] for API Gateway, VPC and CEN;
/// `fcv3.<region>` from the FC SDK's endpoint map \[sdk\]; `metrics.<region>` for CloudMonitor
/// \[doc, sdk\].
fn public_endpoint(product: Product, region: &str) -> Endpoint {
    let host = match product {
        Product::ApiGateway => format!("apigateway.{region}.aliyuncs.com"),
        Product::Fc => format!("fcv3.{region}.aliyuncs.com"),
        Product::Vpc => format!("vpc.{region}.aliyuncs.com"),
        Product::Cbn => "cbn.aliyuncs.com".to_owned(),
        Product::Cms => format!("metrics.{region}.aliyuncs.com"),
    };
    Endpoint::https(host, EndpointKind::Public)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> (OpenApiSettings, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut problems = Vec::new();
        let s = OpenApiSettings::from_lookup(&|k: &str| map.get(k).cloned(), &mut problems);
        (s, problems)
    }

    fn hosts(e: &Endpoints, p: Product, region: &str) -> Vec<String> {
        e.candidates(p, region)
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn defaults() {
        let (s, problems) = settings(&[]);
        assert!(problems.is_empty());
        assert_eq!(s.network, Network::Auto);
        assert_eq!(s.timeout, Duration::from_millis(3000));
        assert!(!s.allow_http && s.overrides.is_empty());
    }

    #[test]
    fn same_region_vpc_first_then_public() {
        let (s, _) = settings(&[]);
        let e = Endpoints::new(&s, Some("cn-hangzhou"), Some("1234567890"));
        assert_eq!(
            hosts(&e, Product::ApiGateway, "cn-hangzhou"),
            [
                "https://apigateway-vpc.cn-hangzhou.aliyuncs.com",
                "https://apigateway.cn-hangzhou.aliyuncs.com"
            ]
        );
        assert_eq!(
            hosts(&e, Product::Vpc, "cn-hangzhou"),
            [
                "https://vpc-vpc.cn-hangzhou.aliyuncs.com",
                "https://vpc.cn-hangzhou.aliyuncs.com"
            ]
        );
        assert_eq!(
            hosts(&e, Product::Fc, "cn-hangzhou"),
            [
                "https://1234567890.cn-hangzhou-internal.fc.aliyuncs.com",
                "https://fcv3.cn-hangzhou.aliyuncs.com"
            ]
        );
        assert_eq!(
            hosts(&e, Product::Cbn, "ignored"),
            [
                "https://cen.vpc-proxy.aliyuncs.com",
                "https://cbn.aliyuncs.com"
            ]
        );
        assert_eq!(
            hosts(&e, Product::Cms, "cn-hangzhou"),
            [
                "https://cms-vpc.cn-hangzhou.aliyuncs.com",
                "https://metrics.cn-hangzhou.aliyuncs.com"
            ]
        );
        assert_eq!(
            e.candidates(Product::Vpc, "cn-hangzhou")[0].kind,
            EndpointKind::Vpc
        );
    }

    #[test]
    fn exceptions_go_public() {
        let (s, _) = settings(&[]);
        // Cross-region: the VPC endpoint of another region cannot be used.
        let e = Endpoints::new(&s, Some("cn-shanghai"), None);
        assert_eq!(
            hosts(&e, Product::ApiGateway, "cn-hangzhou"),
            ["https://apigateway.cn-hangzhou.aliyuncs.com"]
        );
        // CEN's central VPC endpoint serves every region.
        assert_eq!(hosts(&e, Product::Cbn, "x").len(), 2);
        // FC without the account id: only the public endpoint is known.
        assert_eq!(
            hosts(&e, Product::Fc, "cn-shanghai"),
            ["https://fcv3.cn-shanghai.aliyuncs.com"]
        );
        // A region without a listed API Gateway VPC endpoint.
        let e = Endpoints::new(&s, Some("cn-guangzhou"), None);
        assert_eq!(
            hosts(&e, Product::ApiGateway, "cn-guangzhou"),
            ["https://apigateway.cn-guangzhou.aliyuncs.com"]
        );
        // Outside FC: public only, CEN too.
        let e = Endpoints::new(&s, None, None);
        assert_eq!(hosts(&e, Product::Cbn, "x"), ["https://cbn.aliyuncs.com"]);
        assert_eq!(hosts(&e, Product::Vpc, "cn-hangzhou").len(), 1);
    }

    #[test]
    fn network_setting_keeps_to_one_kind() {
        let (s, _) = settings(&[("APIGW_OPENAPI_NETWORK", "vpc")]);
        let e = Endpoints::new(&s, Some("cn-shanghai"), None);
        assert_eq!(
            hosts(&e, Product::Vpc, "cn-shanghai"),
            ["https://vpc-vpc.cn-shanghai.aliyuncs.com"]
        );
        assert!(hosts(&e, Product::Vpc, "cn-hangzhou").is_empty());
        let (s, _) = settings(&[("APIGW_OPENAPI_NETWORK", "Public")]);
        let e = Endpoints::new(&s, Some("cn-shanghai"), None);
        assert_eq!(
            hosts(&e, Product::Vpc, "cn-shanghai"),
            ["https://vpc.cn-shanghai.aliyuncs.com"]
        );
        let (_, problems) = settings(&[("APIGW_OPENAPI_NETWORK", "internet")]);
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn overrides_replace_a_product() {
        let (s, problems) = settings(&[
            ("APIGW_OPENAPI_ENDPOINT_FC", "http://127.0.0.1:18080"),
            (
                "APIGW_OPENAPI_ENDPOINT_CBN",
                "https://cen.example.test:8443/",
            ),
            ("APIGW_OPENAPI_ENDPOINT_CMS", "http://[::1]:9000"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        let e = Endpoints::new(&s, Some("cn-hangzhou"), Some("1"));
        let fc = e.candidates(Product::Fc, "cn-hangzhou");
        assert_eq!(fc.len(), 1);
        assert_eq!(fc[0].kind, EndpointKind::Override);
        assert_eq!(fc[0].host_header(), "127.0.0.1:18080");
        assert_eq!(
            hosts(&e, Product::Cbn, "x"),
            ["https://cen.example.test:8443"]
        );
        assert_eq!(hosts(&e, Product::Cms, "x"), ["http://[::1]:9000"]);
        // The others keep their defaults.
        assert_eq!(hosts(&e, Product::Vpc, "cn-hangzhou").len(), 2);
    }

    #[test]
    fn bad_overrides_are_configuration_problems() {
        let (s, problems) = settings(&[
            ("APIGW_OPENAPI_ENDPOINT_APIGATEWAY", "http://10.0.0.5:8080"),
            (
                "APIGW_OPENAPI_ENDPOINT_VPC",
                "vpc-vpc.cn-hangzhou.aliyuncs.com",
            ),
            ("APIGW_OPENAPI_ENDPOINT_CBN", "https://cbn.example/prefix"),
            ("APIGW_OPENAPI_ENDPOINT_FC", "ftp://x"),
            ("APIGW_OPENAPI_ENDPOINT_CMS", "https://user:pw@x"),
            ("APIGW_OPENAPI_TIMEOUT_MS", "0"),
        ]);
        assert_eq!(problems.len(), 6, "{problems:?}");
        let http = problems
            .iter()
            .find(|p| p.starts_with("APIGW_OPENAPI_ENDPOINT_APIGATEWAY uses http://"))
            .expect("the http problem");
        assert!(http.contains("APIGW_OPENAPI_ALLOW_HTTP=1"), "{http}");
        assert!(!problems.iter().any(|p| p.contains("pw")), "{problems:?}");
        assert!(s.overrides.is_empty());
        // With the opt-in, clear text to any host.
        let (s, problems) = settings(&[
            ("APIGW_OPENAPI_ENDPOINT_APIGATEWAY", "http://10.0.0.5:8080"),
            ("APIGW_OPENAPI_ALLOW_HTTP", "1"),
        ]);
        assert!(problems.is_empty());
        assert_eq!(s.overrides[0].1.scheme, Scheme::Http);
    }
}
