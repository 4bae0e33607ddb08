//! Failure classes: a stable name, a message that says what happened, and a hint that says
//! which setting to change.
//!
//! The class names are part of the report's contract (alarms and dashboards match on them):
//! extend the list, never rename an entry.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a target (or one sample of it) failed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The configuration or the event is not valid.
    ConfigInvalid,
    /// The target is not allowed (allow-list, metadata service, link-local).
    TargetForbidden,
    /// The name does not exist (NXDOMAIN).
    DnsNxdomain,
    /// The name exists but has no A/AAAA record.
    DnsNoRecords,
    /// The DNS server answered SERVFAIL (or another server-side failure code).
    DnsServfail,
    /// The DNS server refused the query.
    DnsRefused,
    /// No DNS server answered in time, or none could be reached.
    DnsTimeout,
    /// The address answered the SYN with a reset: nothing listens on that port.
    TcpRefused,
    /// No answer to the SYN: packets are dropped on the way.
    TcpTimeout,
    /// The kernel has no route to the address (or an ICMP unreachable came back).
    TcpUnreachable,
    /// The connection was reset after it was established.
    TcpReset,
    /// The TLS handshake failed for a reason other than the certificate.
    TlsHandshake,
    /// The server's certificate is not trusted or does not name the host.
    TlsCertificate,
    /// The TLS handshake did not complete in time.
    TlsTimeout,
    /// No response (or no complete body) in time.
    HttpTimeout,
    /// The server spoke something that is not valid HTTP/1.1, or closed early.
    HttpProtocol,
    /// The response status is not one the target expects (and the gateway did not flag it).
    HttpStatus,
    /// The invocation's time budget ran out before this work could finish.
    BudgetExceeded,
    /// API Gateway rejected the call itself: the code from `X-Ca-Error-Code`, e.g. `A403IS`.
    Gateway(String),
    /// The target is this function (or another apigw-vpc-probe): the probe's own request came
    /// back (`X-Apigw-Probe-Hop`) and was refused, instead of probing itself without end.
    TargetLoop,
    /// A response header is missing or does not match `expect.headers`, or one of
    /// `expect.headers_absent` is there.
    AssertHeader,
    /// The body does not match `expect.body`, or matches `expect.body_not`.
    AssertBody,
    /// A value in the JSON body is not what `expect.json` says.
    AssertJson,
    /// `expect.json` needs a JSON body and the body is not JSON.
    AssertNotJson,
    /// A sample took longer than `expect.max_ms`, or the samples' p90/p99 exceed
    /// `expect.p90_ms` / `expect.p99_ms`.
    AssertLatency,
    /// A certificate the server presented expires in fewer days than `expect.cert_days_min`.
    TlsExpiring,
}

impl ErrorClass {
    /// The stable, dotted name used in reports and logs.
    pub fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::ConfigInvalid => "config.invalid",
            Self::TargetForbidden => "target.forbidden",
            Self::DnsNxdomain => "dns.nxdomain",
            Self::DnsNoRecords => "dns.no_records",
            Self::DnsServfail => "dns.servfail",
            Self::DnsRefused => "dns.refused",
            Self::DnsTimeout => "dns.timeout",
            Self::TcpRefused => "tcp.refused",
            Self::TcpTimeout => "tcp.timeout",
            Self::TcpUnreachable => "tcp.unreachable",
            Self::TcpReset => "tcp.reset",
            Self::TlsHandshake => "tls.handshake",
            Self::TlsCertificate => "tls.certificate",
            Self::TlsTimeout => "tls.timeout",
            Self::HttpTimeout => "http.timeout",
            Self::HttpProtocol => "http.protocol",
            Self::HttpStatus => "http.status",
            Self::BudgetExceeded => "budget.exceeded",
            Self::TargetLoop => "target.loop",
            Self::AssertHeader => "assert.header",
            Self::AssertBody => "assert.body",
            Self::AssertJson => "assert.json",
            Self::AssertNotJson => "assert.not_json",
            Self::AssertLatency => "assert.latency",
            Self::TlsExpiring => "tls.expiring",
            Self::Gateway(code) => return Cow::Owned(format!("gateway.{code}")),
        })
    }

    /// Every class with a fixed name, for documentation and tests.
    pub const FIXED: &'static [ErrorClass] = &[
        Self::ConfigInvalid,
        Self::TargetForbidden,
        Self::DnsNxdomain,
        Self::DnsNoRecords,
        Self::DnsServfail,
        Self::DnsRefused,
        Self::DnsTimeout,
        Self::TcpRefused,
        Self::TcpTimeout,
        Self::TcpUnreachable,
        Self::TcpReset,
        Self::TlsHandshake,
        Self::TlsCertificate,
        Self::TlsTimeout,
        Self::HttpTimeout,
        Self::HttpProtocol,
        Self::HttpStatus,
        Self::BudgetExceeded,
        Self::TargetLoop,
        Self::AssertHeader,
        Self::AssertBody,
        Self::AssertJson,
        Self::AssertNotJson,
        Self::AssertLatency,
        Self::TlsExpiring,
    ];

    /// True for the classes of the network path, which `retry` tries again: timeouts of DNS,
    /// TLS and HTTP, a failing DNS server, and every TCP failure. Never an answer the server
    /// gave (`http.status`, `gateway.*`, `assert.*`): trying again would only hide it.
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            Self::DnsTimeout
                | Self::DnsServfail
                | Self::TcpRefused
                | Self::TcpTimeout
                | Self::TcpUnreachable
                | Self::TcpReset
                | Self::TlsTimeout
                | Self::HttpTimeout
        )
    }
}

impl ErrorClass {
    /// The class with the dotted `name` (`tcp.refused`, `gateway.A403IS`); `None` for a name
    /// no class has.
    pub fn from_name(name: &str) -> Option<Self> {
        if let Some(code) = name.strip_prefix("gateway.") {
            return (!code.is_empty()).then(|| Self::Gateway(code.to_owned()));
        }
        Self::FIXED.iter().find(|c| c.name() == name).cloned()
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Serialize for ErrorClass {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for ErrorClass {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error class {name:?}")))
    }
}

/// What the hints may take into account about the target and the function. Plain data:
/// [`crate::apigw`] reads it out of a host name (`HintContext::for_host`), so that this module
/// depends on nothing of the pipeline.
#[derive(Clone, Debug, Default)]
pub struct HintContext {
    /// The host the target names.
    pub host: String,
    /// True when the host is a group's VPC second-level domain.
    pub vpc_domain: bool,
    /// The region in the host name (`<group>-<region>-vpc.alicloudapi.com`), if it has one.
    pub domain_region: Option<String>,
    /// The function's own region (`FC_REGION` / `x-fc-region`), if known.
    pub function_region: Option<String>,
}

impl HintContext {
    /// True when the function and the API Gateway domain are known to be in different regions.
    pub fn cross_region(&self) -> bool {
        matches!((&self.domain_region, &self.function_region), (Some(d), Some(f)) if d != f)
    }
}

/// One failure, as it appears in the report: `{"class", "message", "hint"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeError {
    /// The stable class name (`tcp.timeout`, `gateway.I404NF`, …).
    pub class: ErrorClass,
    /// What happened, with the values that show it.
    pub message: String,
    /// What to change: the setting, in console terms.
    pub hint: String,
}

impl ProbeError {
    /// An error whose hint is derived from the class and the context.
    pub fn new(class: ErrorClass, message: impl Into<String>, ctx: &HintContext) -> Self {
        let hint = hint(&class, ctx);
        Self {
            class,
            message: message.into(),
            hint,
        }
    }

    /// A `config.invalid` error: the hint is always about the input that was given.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::ConfigInvalid, message, &HintContext::default())
    }

    /// A `target.forbidden` error.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(
            ErrorClass::TargetForbidden,
            message,
            &HintContext::default(),
        )
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.message)
    }
}

impl std::error::Error for ProbeError {}

/// The hint for a class: what the user most likely has to change, in console terms.
pub fn hint(class: &ErrorClass, ctx: &HintContext) -> String {
    use ErrorClass::*;
    let vpc = ctx.vpc_domain;
    let cross = ctx.cross_region();
    match class {
        ConfigInvalid => "Fix the event or the APIGW_* environment variables; see the README's \
            configuration table for the accepted fields."
            .into(),
        TargetForbidden => "Only hosts matching APIGW_ALLOW_HOSTS (default *.alicloudapi.com) may \
            come from an event or an HTTP request, with GET or HEAD (APIGW_REQUEST_METHODS adds \
            methods); the metadata service (100.100.100.200), link-local and unspecified \
            addresses (also embedded in IPv6) are never probed, and loopback or the instance's \
            own addresses only when APIGW_ALLOW_HOSTS names them. Configure the target in \
            APIGW_TARGETS or widen those settings."
            .into(),
        DnsNxdomain if vpc => "The VPC second-level domain does not resolve: in the API Gateway \
            console open the group and enable its VPC second-level domain (内网VPC二级域名), check \
            the group id and region in the host name, and check the function has VPC access \
            (vpcConfig) so that it asks the VPC's DNS (100.100.2.136/138)."
            .into(),
        DnsNxdomain => "The name does not exist: check the host name in the URL, and that the \
            function's DNS (VPC DNS 100.100.2.136/138, or customDNS) serves this zone."
            .into(),
        DnsNoRecords => {
            "The name exists but has no address record: check the DNS zone (PrivateZone \
            records, or the group's domain binding in API Gateway)."
                .into()
        }
        DnsServfail => "The DNS server failed to answer: check the function's DNS servers \
            (customDNS must keep 100.100.2.136 and 100.100.2.138) and any PrivateZone forwarding \
            rule for this zone."
            .into(),
        DnsRefused => "The DNS server refused the query: the function's DNS servers (customDNS) \
            must be ones that serve the VPC, i.e. 100.100.2.136 and 100.100.2.138."
            .into(),
        DnsTimeout => "No DNS server answered: the function needs VPC access (vpcConfig) to reach \
            the VPC DNS 100.100.2.136/138, and customDNS, if set, must keep those servers."
            .into(),
        TcpRefused => "The address answered but nothing listens on that port: check the port in \
            the URL (the VPC domain serves HTTP on 80 and HTTPS on 443) and that the name resolves \
            to the gateway instance."
            .into(),
        TcpTimeout | TcpUnreachable if cross => format!(
            "The gateway (region {}) is not reachable from this function (region {}): the \
             function's VPC must be attached to the CEN instance together with the dedicated \
             instance's authorized inbound VPC, with a bandwidth package between the two regions \
             and a CEN route for the gateway's address range; the function's vSwitch must be in \
             the attached VPC.",
            ctx.domain_region.as_deref().unwrap_or("?"),
            ctx.function_region.as_deref().unwrap_or("?")
        ),
        TcpTimeout => "Packets are dropped before the gateway answers: the function's VPC must be \
            the dedicated instance's authorized inbound VPC (入访VPC) and the function's vSwitch \
            must be in that VPC; across regions, CEN must route to the gateway's range; check the \
            function's security group allows outbound traffic."
            .into(),
        TcpUnreachable => "There is no route to the gateway: give the function VPC access \
            (vpcConfig with a vSwitch in the gateway's authorized inbound VPC), or across regions \
            add the CEN route for the gateway's address range."
            .into(),
        TcpReset => "The connection was reset: check the gateway instance's inbound access \
            settings and any proxy or security device between the function and the gateway."
            .into(),
        TlsHandshake => "The TLS handshake failed: check the group's HTTPS settings (SSL \
            certificate bound to the domain, TLS policy) or call the VPC domain over http://."
            .into(),
        TlsCertificate => "The certificate is not trusted for this host: bind a certificate for \
            this domain to the group, or set APIGW_CA_FILE to the PEM of a private CA; the VPC \
            second-level domain is usually called over http://."
            .into(),
        TlsTimeout => "The TLS handshake did not complete in time: check that the port serves TLS \
            (https:// on 443) and that the path does not drop large packets."
            .into(),
        HttpTimeout => "The gateway accepted the connection but did not answer in time: check the \
            API's backend timeout and the backend's health, or raise the target's timeout_ms."
            .into(),
        HttpProtocol => "The answer was not valid HTTP: check the port and scheme (http:// vs \
            https://) of the URL."
            .into(),
        HttpStatus => "The status came from the backend (no X-Ca-Error-Code): check the backend \
            service, or list the statuses you expect in the target's expect.status."
            .into(),
        BudgetExceeded => "The function's time budget ran out: raise the function's timeout, \
            lower the samples or timeout_ms of the targets, or probe fewer targets per call."
            .into(),
        TargetLoop => "The target leads back to apigw-vpc-probe itself (its HTTP trigger, or an \
            API whose backend is the function), which refuses requests from a probe \
            (X-Apigw-Probe-Hop) rather than probing itself without end: probe the API's own \
            domain or backend instead."
            .into(),
        AssertHeader => "The response headers are not what the target's expect.headers / \
            expect.headers_absent say: check which API and stage answered (X-Ca-Request-Id), the \
            API's response settings in API Gateway and the backend, or correct the expectation."
            .into(),
        AssertBody => "The body is not what the target's expect.body / expect.body_not say: the \
            call reached an API that answers something else (another API, stage or backend \
            version, an error page), or the expectation is out of date."
            .into(),
        AssertJson => "A value in the JSON body differs from the target's expect.json: check the \
            backend's answer for this API and stage, or correct the pointer or the expected value."
            .into(),
        AssertNotJson => "expect.json needs a JSON body but the answer is not JSON (an HTML error \
            page, a proxy's answer, an empty body, or a body longer than the 64 KiB kept): check \
            what answered, or drop expect.json for this API."
            .into(),
        AssertLatency => "The call was slower than the target's expect.max_ms / p90_ms / p99_ms: \
            the phases show where the time went (connect: the network to the gateway; ttfb: the \
            gateway and the backend); check the backend's load and the path, or raise the limit."
            .into(),
        TlsExpiring if ctx.host.ends_with(".alicloudapi.com") => "The certificate of an \
            alicloudapi.com domain is Alibaba Cloud's own, not the group's: report it to Alibaba \
            Cloud support, or lower the target's expect.cert_days_min (0 turns the check off)."
            .into(),
        TlsExpiring => "Renew the certificate and bind the new one to the group's custom domain \
            (API Gateway console: the group → custom domains → select certificate), or to \
            whatever serves this host; lower the target's expect.cert_days_min (0 turns the check \
            off) only if the renewal is already planned."
            .into(),
        // The code's own hint comes with the error from `apigw::answer` (the diagnoses are API
        // Gateway knowledge); this is what a bare class can say.
        Gateway(code) => format!(
            "API Gateway rejected the call itself with {code}: look the code up in API \
             Gateway's error code table and check the API's, the group's or the app's settings."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_are_stable_and_unique() {
        let names: Vec<_> = ErrorClass::FIXED.iter().map(|c| c.name()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        assert_eq!(ErrorClass::DnsNxdomain.name(), "dns.nxdomain");
        assert_eq!(
            ErrorClass::Gateway("A403IS".into()).name(),
            "gateway.A403IS"
        );
    }

    #[test]
    fn class_names_parse_back() {
        for class in ErrorClass::FIXED {
            assert_eq!(ErrorClass::from_name(&class.name()).as_ref(), Some(class));
            let json = serde_json::to_string(class).unwrap();
            assert_eq!(&serde_json::from_str::<ErrorClass>(&json).unwrap(), class);
        }
        let gateway = ErrorClass::Gateway("A403IS".into());
        assert_eq!(
            serde_json::from_str::<ErrorClass>("\"gateway.A403IS\"").unwrap(),
            gateway
        );
        for unknown in ["dns.nope", "gateway.", "", "TCP.REFUSED"] {
            assert_eq!(ErrorClass::from_name(unknown), None, "{unknown}");
        }
        let e = serde_json::from_str::<ErrorClass>("\"dns.nope\"").unwrap_err();
        assert!(
            e.to_string().contains("unknown error class \"dns.nope\""),
            "{e}"
        );
    }

    #[test]
    fn only_transport_classes_are_tried_again() {
        let transport: Vec<_> = ErrorClass::FIXED
            .iter()
            .filter(|c| c.is_transport())
            .map(|c| c.name())
            .collect();
        assert_eq!(
            transport,
            [
                "dns.servfail",
                "dns.timeout",
                "tcp.refused",
                "tcp.timeout",
                "tcp.unreachable",
                "tcp.reset",
                "tls.timeout",
                "http.timeout"
            ]
        );
        assert!(!ErrorClass::Gateway("D504CO".into()).is_transport());
    }

    #[test]
    fn every_class_has_a_hint() {
        let ctx = HintContext {
            host: "x".into(),
            ..HintContext::default()
        };
        for class in ErrorClass::FIXED {
            assert!(hint(class, &ctx).len() > 20, "{class}");
        }
    }

    /// A group's VPC domain in cn-shanghai, called from `function_region`.
    fn vpc_domain_context(function_region: Option<&str>) -> HintContext {
        HintContext {
            host: "0123456789abcdef0123456789abcdef-cn-shanghai-vpc.alicloudapi.com".into(),
            vpc_domain: true,
            domain_region: Some("cn-shanghai".into()),
            function_region: function_region.map(str::to_owned),
        }
    }

    #[test]
    fn nxdomain_on_vpc_domain_names_the_vpc_domain_switch() {
        let ctx = vpc_domain_context(Some("cn-shanghai"));
        let h = hint(&ErrorClass::DnsNxdomain, &ctx);
        assert!(h.contains("VPC second-level domain"), "{h}");
    }

    #[test]
    fn timeout_hint_differs_across_regions() {
        let same = hint(
            &ErrorClass::TcpTimeout,
            &vpc_domain_context(Some("cn-shanghai")),
        );
        let cross = hint(
            &ErrorClass::TcpTimeout,
            &vpc_domain_context(Some("cn-zhangjiakou")),
        );
        assert_ne!(same, cross);
        assert!(cross.contains("CEN"), "{cross}");
        assert!(same.contains("inbound VPC"), "{same}");
    }

    #[test]
    fn serializes_as_class_message_hint() {
        let e = ProbeError::config("bad");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["class"], "config.invalid");
        assert_eq!(v["message"], "bad");
        assert!(v["hint"].as_str().unwrap().contains("APIGW_"));
    }
}
