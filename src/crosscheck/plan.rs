//! Which checks a failure needs (control-plane.md §10.2, "Which steps each failure class
//! needs"), and the ids the report gives them.

use crate::error::ErrorClass;

/// One check of the procedure. The id is the spec's step (S0–S7) and what it looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    /// S0: the role's credentials are there and accepted.
    Credentials,
    /// S1: `fc:GetFunction` → `vpcConfig`.
    FunctionVpc,
    /// S2: `vpc:DescribeVSwitchAttributes` for each of the function's vSwitches.
    Vswitch,
    /// S3: `apigateway:DescribeApiGroup`: the group exists and is usable.
    Group,
    /// S3: its VPC second-level domain is enabled.
    VpcDomain,
    /// S3: the host called is one of its domains.
    Host,
    /// S4: `apigateway:DescribeInstances`: the instance's type, region and status.
    Instance,
    /// S4: the dedicated instance's bound inbound VPC.
    InboundVpc,
    /// S5: `apigateway:DescribeApiGroupVpcWhitelist`.
    Whitelist,
    /// S6: `vpc:DescribeVpcAttribute` → the function VPC's CEN.
    FunctionVpcCen,
    /// S6: `cen:DescribeCenAttachedChildInstances` → the bound VPC in the same CEN.
    GatewayVpcCen,
    /// S6: `cen:DescribeRouteServicesInCen` → a cloud-service route for the gateway's addresses.
    RouteService,
    /// S6: `vpc:DescribeRouteEntryList` → the function's route table sends them to CEN.
    RouteTable,
    /// S7a: `apigateway:DescribeDeployedApis` → the API is published in the stage called.
    Published,
    /// S7b: `apigateway:DescribeApi` → its protocol allows the scheme called.
    Protocol,
    /// S7c: `apigateway:DescribeAppAttributes` → the AppKey's app exists and is enabled.
    App,
    /// S7c: `apigateway:DescribeAuthorizedApps` → the app is authorized for the API and stage.
    Authorization,
}

impl Step {
    /// Every check, in the order they run and are reported.
    pub(crate) const ALL: [Step; 17] = [
        Step::Credentials,
        Step::FunctionVpc,
        Step::Vswitch,
        Step::Group,
        Step::VpcDomain,
        Step::Host,
        Step::Instance,
        Step::InboundVpc,
        Step::Whitelist,
        Step::FunctionVpcCen,
        Step::GatewayVpcCen,
        Step::RouteService,
        Step::RouteTable,
        Step::Published,
        Step::Protocol,
        Step::App,
        Step::Authorization,
    ];

    /// The id in the report's `checks` and `unknown`.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Step::Credentials => "S0.credentials",
            Step::FunctionVpc => "S1.function_vpc",
            Step::Vswitch => "S2.vswitch",
            Step::Group => "S3.group",
            Step::VpcDomain => "S3.vpc_domain",
            Step::Host => "S3.host",
            Step::Instance => "S4.instance",
            Step::InboundVpc => "S4.inbound_vpc",
            Step::Whitelist => "S5.vpc_whitelist",
            Step::FunctionVpcCen => "S6.function_vpc_cen",
            Step::GatewayVpcCen => "S6.gateway_vpc_cen",
            Step::RouteService => "S6.route_service",
            Step::RouteTable => "S6.route_table",
            Step::Published => "S7a.published",
            Step::Protocol => "S7b.protocol",
            Step::App => "S7c.app",
            Step::Authorization => "S7c.authorization",
        }
    }
}

/// What kind of failure is checked: decides the steps and, when every setting agrees, where to
/// look next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// `dns.nxdomain`, `dns.no_records`: the name does not resolve.
    DnsName,
    /// `dns.timeout`, `dns.servfail`, `dns.refused`: the DNS servers failed.
    DnsServer,
    /// `tcp.*`: the packets do not reach the gateway (or nothing answers there).
    Network,
    /// `tls.*`, `http.timeout`, `http.protocol`: the gateway was reached.
    Reached,
    /// `gateway.I404NF` (also legacy "Invalid Url"): no API matched.
    ApiNotFound,
    /// `gateway.I403PT`: the protocol.
    Protocol,
    /// `gateway.A…`: the app (AppKey, authorization, signature).
    App,
    /// `gateway.I404DO`: the Host is no domain of a group.
    Domain,
    /// Another gateway code.
    Gateway(String),
    /// `http.status`: the backend answered.
    Backend,
    /// `always` on a target that passed: the network path's settings, as an audit.
    Audit,
}

impl Family {
    /// The family of a failure (`None`: a passing target).
    pub(crate) fn of(class: Option<&ErrorClass>) -> Self {
        use ErrorClass::*;
        let Some(class) = class else {
            return Family::Audit;
        };
        match class {
            DnsNxdomain | DnsNoRecords => Family::DnsName,
            DnsTimeout | DnsServfail | DnsRefused => Family::DnsServer,
            TcpRefused | TcpTimeout | TcpUnreachable | TcpReset => Family::Network,
            HttpStatus => Family::Backend,
            Gateway(code) => match code.as_str() {
                "I404NF" => Family::ApiNotFound,
                "I403PT" => Family::Protocol,
                "I404DO" => Family::Domain,
                c if c.starts_with('A') => Family::App,
                c => Family::Gateway(c.to_owned()),
            },
            _ => Family::Reached,
        }
    }

    /// The checks it needs, in order.
    pub(crate) fn steps(&self) -> &'static [Step] {
        use Step::*;
        match self {
            Family::DnsName => &[Credentials, FunctionVpc, Group, VpcDomain, Host, Instance],
            Family::DnsServer => &[Credentials, FunctionVpc],
            Family::Network | Family::Audit => &[
                Credentials,
                FunctionVpc,
                Vswitch,
                Group,
                Host,
                Instance,
                InboundVpc,
                Whitelist,
                FunctionVpcCen,
                GatewayVpcCen,
                RouteService,
                RouteTable,
            ],
            Family::Reached | Family::Gateway(_) => &[Credentials, Group, Host],
            Family::Domain => &[Credentials, Group, VpcDomain, Host],
            Family::ApiNotFound => &[Credentials, Group, Host, Published],
            Family::Protocol => &[Credentials, Group, Host, Published, Protocol],
            Family::App => &[Credentials, Group, Host, App, Published, Authorization],
            Family::Backend => &[],
        }
    }

    /// The class's words for "not needed for …".
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Family::DnsName => "a name that does not resolve",
            Family::DnsServer => "a DNS server failure",
            Family::Network => "a connection failure",
            Family::Reached => "a failure after the gateway was reached",
            Family::ApiNotFound => "I404NF",
            Family::Protocol => "I403PT",
            Family::App => "an app error",
            Family::Domain => "I404DO",
            Family::Gateway(_) => "this gateway error",
            Family::Backend => "a status from the backend",
            Family::Audit => "a passing target",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_in_step_order() {
        let ids: Vec<&str> = Step::ALL.iter().map(|s| s.id()).collect();
        let mut sorted = ids.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        let mut ordered = Step::ALL.to_vec();
        ordered.sort();
        assert_eq!(ordered, Step::ALL);
    }

    #[test]
    fn classes_map_to_the_spec_table() {
        use ErrorClass::*;
        let steps = |c: ErrorClass| Family::of(Some(&c)).steps().to_vec();
        // DNS_NXDOMAIN: S0 → S1 → S3 → S4 (shared, cross-region).
        assert_eq!(
            steps(DnsNxdomain),
            [
                Step::Credentials,
                Step::FunctionVpc,
                Step::Group,
                Step::VpcDomain,
                Step::Host,
                Step::Instance
            ]
        );
        // TCP_TIMEOUT: S0 → S1 → S2 → S4 → S5 → S6 (S3 for the instance id).
        let tcp = steps(TcpTimeout);
        assert!(tcp.contains(&Step::Vswitch) && tcp.contains(&Step::RouteService));
        assert!(!tcp.contains(&Step::Published));
        // HTTP with X-Ca-Error-Code: S0 → S3 → S7x.
        assert_eq!(
            steps(Gateway("I404NF".into())).last(),
            Some(&Step::Published)
        );
        assert_eq!(
            steps(Gateway("I403PT".into())).last(),
            Some(&Step::Protocol)
        );
        assert_eq!(
            steps(Gateway("A403PR".into())).last(),
            Some(&Step::Authorization)
        );
        // HTTP without: nothing to check.
        assert!(steps(HttpStatus).is_empty());
    }
}
