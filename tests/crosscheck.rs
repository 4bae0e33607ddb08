//! The configuration cross-check through the real binary, against the stand-in: its DNS,
//! gateway and control plane answer from one world, so each case changes that world once (a
//! disabled VPC domain, another bound VPC, a RAM denial…), the probe fails the way the cloud
//! would make it fail, and the cross-check must name the setting with both values and the
//! evidence. Every case runs twice: through `serve` (`POST /invoke` with FC's `x-fc-*`
//! credential headers, the stand-in's demo STS key) and through `apigw-vpc-probe check` (an
//! Alibaba Cloud CLI profile file with the stand-in's long-term key). No credential byte may
//! appear in any output.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use apigw_standin::control_plane::world::{api_id, VpcConfig};
use apigw_standin::{
    ClosedPort, Fault, StandIn, World, WorldError, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET,
    DEMO_ACCOUNT_ID, DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_FUNCTION, DEMO_GROUP, DEMO_INSTANCE,
    DEMO_REGION, DEMO_ROUTE_TABLE, DEMO_STS_ACCESS_KEY_ID, DEMO_STS_ACCESS_KEY_SECRET,
    DEMO_STS_SECURITY_TOKEN, DEMO_VPC, DEMO_VSWITCH, DISABLED_GROUP, OTHER_APP_ID, OTHER_APP_KEY,
    OTHER_APP_SECRET, OTHER_VPC, OTHER_VSWITCH,
};
use apigw_vpc_probe::report::{CheckStatus, ConfigCheck, Report};
use serde_json::json;
use support::Server;

/// The function's region in the cross-region cases (the gateway stays in cn-shanghai).
const OTHER_REGION: &str = "cn-hangzhou";
/// A VPC of the gateway's region that CEN joins to the function's (not the instance's bound one).
const API_ACCESS_VPC: &str = "vpc-uf6apiaccess00000001";
/// A 31-character group id, as documented (control-plane.md §10.1).
const SHORT_GROUP: &str = "27d50c0f2e54b359919923d908bb015";

/// The stand-in, the world it started with, and a port where nothing listens.
struct Setup {
    standin: StandIn,
    seed: World,
    closed: ClosedPort,
    home: tempfile::TempDir,
}

impl Setup {
    async fn start() -> Self {
        let standin = StandIn::start([127, 0, 0, 1].into())
            .await
            .expect("the stand-in");
        let seed = standin.world().snapshot();
        let home = tempfile::tempdir().expect("a HOME for the CLI profile");
        std::fs::create_dir_all(home.path().join(".aliyun")).unwrap();
        std::fs::write(
            home.path().join(".aliyun/config.json"),
            json!({
                "current": "operator",
                "profiles": [
                    {"name": "operator", "mode": "AK", "access_key_id": DEMO_ACCESS_KEY_ID,
                     "access_key_secret": DEMO_ACCESS_KEY_SECRET, "region_id": DEMO_REGION},
                    {"name": "wrong", "mode": "AK", "access_key_id": DEMO_ACCESS_KEY_ID,
                     "access_key_secret": "not-the-operator-secret", "region_id": DEMO_REGION},
                ]
            })
            .to_string(),
        )
        .unwrap();
        Self {
            standin,
            seed,
            closed: ClosedPort::on([127, 0, 0, 1].into()).expect("a closed port"),
            home,
        }
    }

    /// The demo's world again, then `change`; no faults.
    fn stage(&self, change: impl FnOnce(&mut World) -> Result<(), WorldError>) {
        let seed = self.seed.clone();
        self.standin
            .world()
            .update(|w| {
                *w = seed;
                change(w)
            })
            .expect("a valid world");
        self.standin.control_plane.clear_faults();
        self.standin.control_plane.clear_requests();
    }

    /// The function's environment: the stand-in's DNS, every OpenAPI product at its control
    /// plane, targets from events allowed and signed on the stand-in's names.
    fn env(&self) -> Vec<(String, String)> {
        let cp = self.standin.control_plane_url();
        let mut env: Vec<(String, String)> = [
            ("APIGW_DNS_SERVERS", self.standin.dns_addr().to_string()),
            ("APIGW_ALLOW_HOSTS", "*.alicloudapi.com,127.0.0.1".into()),
            ("APIGW_SIGN_HOSTS", "*.alicloudapi.com".into()),
            ("APIGW_REQUEST_METHODS", "HEAD".into()),
            ("APIGW_CONNECT_TIMEOUT_MS", "1000".into()),
            ("RUST_LOG", "info".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for product in ["APIGATEWAY", "FC", "VPC", "CBN"] {
            env.push((format!("APIGW_OPENAPI_ENDPOINT_{product}"), cp.clone()));
        }
        env
    }

    fn url(&self, at: &At) -> String {
        let gw = self.standin.gateway_addr().port();
        match at {
            At::Gateway(host, path) => format!("http://{}:{gw}{path}", host.name()),
            At::Closed(host) => format!(
                "http://{}:{}/web/cloudapi",
                host.name(),
                self.closed.addr().port()
            ),
        }
    }
}

/// The host a case calls.
#[derive(Clone, Copy)]
enum Host {
    /// The demo group's VPC domain.
    Demo,
    /// The group whose VPC domain is off.
    Disabled,
    /// A group no world has.
    Unknown,
    /// The demo group's public second-level domain.
    Public,
    /// The 31-character group's VPC domain.
    Short,
    /// An address, not a group's domain.
    Loopback,
}

impl Host {
    fn name(self) -> String {
        match self {
            Host::Demo => format!("{DEMO_GROUP}-{DEMO_REGION}-vpc.alicloudapi.com"),
            Host::Disabled => format!("{DISABLED_GROUP}-{DEMO_REGION}-vpc.alicloudapi.com"),
            Host::Unknown => {
                format!("0123456789abcdef0123456789abcdef-{DEMO_REGION}-vpc.alicloudapi.com")
            }
            Host::Public => format!("{DEMO_GROUP}-{DEMO_REGION}.alicloudapi.com"),
            Host::Short => format!("{SHORT_GROUP}-{DEMO_REGION}-vpc.alicloudapi.com"),
            Host::Loopback => "127.0.0.1".into(),
        }
    }
}

/// Where a case's target points.
enum At {
    /// The gateway's port, this path.
    Gateway(Host, &'static str),
    /// A port where nothing listens: `tcp.refused`, the class whose checks are the network
    /// path's (the stand-in cannot drop packets on loopback; the network lab does).
    Closed(Host),
}

/// One staged failure and what the cross-check must say about it.
struct Case {
    name: &'static str,
    change: fn(&mut World) -> Result<(), WorldError>,
    at: At,
    stage: Option<&'static str>,
    method: Option<&'static str>,
    /// The function's region (the gateway is in cn-shanghai).
    region: &'static str,
    /// AppKey and AppSecret of the function (none: no signature).
    app: Option<(&'static str, &'static str)>,
    class: &'static str,
    verdict: &'static str,
    setting: &'static str,
    expected: &'static str,
    actual: &'static str,
    /// (call, field, value prefix) that must be among the evidence.
    evidence: (&'static str, &'static str, &'static str),
    /// What the check's hint must contain ("": not checked).
    hint: &'static str,
}

fn none(_: &mut World) -> Result<(), WorldError> {
    Ok(())
}

fn patch(w: &mut World, p: serde_json::Value) -> Result<(), WorldError> {
    *w = w.merge_patch(&p)?;
    Ok(())
}

/// The function in cn-hangzhou (its VPC, vSwitch and route table too), the instance bound to a
/// VPC of cn-shanghai: the cross-region scenario, before CEN.
fn cross_region(w: &mut World) -> Result<(), WorldError> {
    patch(
        w,
        json!({
            "functions": {DEMO_FUNCTION: {"region": OTHER_REGION}},
            "vpcs": {DEMO_VPC: {"region": OTHER_REGION}},
            "vswitches": {DEMO_VSWITCH: {"region": OTHER_REGION}},
            "routeTables": {DEMO_ROUTE_TABLE: {"region": OTHER_REGION}},
        }),
    )?;
    w.bind_inbound_vpc(DEMO_INSTANCE, OTHER_VPC)
}

fn cen(attached: &[(&str, &str)], services: serde_json::Value) -> serde_json::Value {
    let attachments: Vec<_> = attached
        .iter()
        .map(|(vpc, region)| json!({"instanceId": vpc, "region": region}))
        .collect();
    json!({"cens": {"cen-standin0demo0001": {"attachments": attachments, "routeServices": services}}})
}

fn route_service(status: &str) -> serde_json::Value {
    json!([{"host": "127.0.0.1/32", "hostRegionId": DEMO_REGION, "hostVpcId": OTHER_VPC,
            "accessRegionId": OTHER_REGION, "status": status}])
}

/// Cross-region, with CEN joining both VPCs and an Active route service for 127.0.0.1.
fn cross_region_with_cen(w: &mut World) -> Result<(), WorldError> {
    cross_region(w)?;
    patch(
        w,
        cen(
            &[(DEMO_VPC, OTHER_REGION), (OTHER_VPC, DEMO_REGION)],
            route_service("Active"),
        ),
    )
}

fn route(w: &mut World, entry: serde_json::Value) -> Result<(), WorldError> {
    let mut entries = serde_json::to_value(&w.route_tables[DEMO_ROUTE_TABLE].entries).unwrap();
    entries.as_array_mut().unwrap().push(entry);
    patch(
        w,
        json!({"routeTables": {DEMO_ROUTE_TABLE: {"entries": entries}}}),
    )
}

fn both_keys_denied(w: &mut World, action: &str) -> Result<(), WorldError> {
    w.deny(DEMO_STS_ACCESS_KEY_ID, action)?;
    w.deny(DEMO_ACCESS_KEY_ID, action)
}

fn cases() -> Vec<Case> {
    let base = Case {
        name: "",
        change: none,
        at: At::Closed(Host::Demo),
        stage: None,
        method: None,
        region: DEMO_REGION,
        app: None,
        class: "tcp.refused",
        verdict: "",
        setting: "",
        expected: "",
        actual: "",
        evidence: ("", "", ""),
        hint: "",
    };
    vec![
        Case {
            name: "the VPC domain is off: VpcDomain empty",
            at: At::Gateway(Host::Disabled, "/web/cloudapi"),
            class: "dns.nxdomain",
            verdict: "group.vpc_domain_disabled",
            setting: "VPC second-level domain (内网VPC二级域名)",
            expected: "enabled: 9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b-cn-shanghai-vpc.alicloudapi.com",
            actual: "not enabled (VpcDomain empty)",
            evidence: ("apigateway:DescribeApiGroup", "VpcDomain", ""),
            ..base_of(&base)
        },
        Case {
            name: "the VPC domain is off: VpcDomain absent (the other answer to §12.1)",
            change: |w| patch(w, json!({"quirks": {"disabledVpcDomain": "absent"}})),
            at: At::Gateway(Host::Disabled, "/web/cloudapi"),
            class: "dns.nxdomain",
            verdict: "group.vpc_domain_disabled",
            setting: "VPC second-level domain",
            expected: "enabled: 9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b-cn-shanghai-vpc.alicloudapi.com",
            actual: "not enabled (no VpcDomain)",
            evidence: ("apigateway:DescribeApiGroup", "VpcDomain", "(absent)"),
            ..base_of(&base)
        },
        Case {
            name: "the VPC domain is named but does not resolve (a third reading of §12.1)",
            change: |w| patch(w, json!({"groups": {DEMO_GROUP: {"vpcDomainAddresses": []}}})),
            at: At::Gateway(Host::Demo, "/web/cloudapi"),
            class: "dns.nxdomain",
            verdict: "group.vpc_domain_disabled",
            setting: "VPC second-level domain",
            expected: "enabled: 5f0a3c9d2b7e4a6f8c1d0e2b3a4c5d6e-cn-shanghai-vpc.alicloudapi.com",
            actual: "answers NXDOMAIN although VpcDomain names it",
            evidence: ("probe", "dns", "NXDOMAIN for 5f0a3c9d2b7e4a6f8c1d0e2b3a4c5d6e"),
            ..base_of(&base)
        },
        Case {
            name: "a 31-character group id is a group",
            change: |w| {
                let mut g = w.groups[DISABLED_GROUP].clone();
                g.name = "short_id".into();
                w.groups.insert(SHORT_GROUP.into(), g);
                Ok(())
            },
            at: At::Gateway(Host::Short, "/web/cloudapi"),
            class: "dns.nxdomain",
            verdict: "group.vpc_domain_disabled",
            setting: "API group short_id (27d50c0f2e54b359919923d908bb015)",
            expected: "enabled: 27d50c0f2e54b359919923d908bb015-cn-shanghai-vpc.alicloudapi.com",
            actual: "not enabled",
            evidence: ("apigateway:DescribeApiGroup", "VpcDomain", ""),
            ..base_of(&base)
        },
        Case {
            name: "the function is not in a VPC (vpcConfig empty)",
            change: |w| w.set_function_vpc(DEMO_FUNCTION, None),
            at: At::Gateway(Host::Disabled, "/web/cloudapi"),
            class: "dns.nxdomain",
            verdict: "function.not_in_vpc",
            setting: "function apigw-vpc-probe → Configuration → Network → VPC access (vpcConfig)",
            expected: "a VPC",
            actual: "not in a VPC",
            evidence: ("fc:GetFunction", "vpcConfig.vpcId", ""),
            ..base_of(&base)
        },
        Case {
            name: "the function is not in a VPC (vpcConfig absent)",
            change: |w| {
                w.set_function_vpc(DEMO_FUNCTION, None)?;
                patch(w, json!({"quirks": {"functionWithoutVpc": "absent"}}))
            },
            at: At::Closed(Host::Demo),
            verdict: "function.not_in_vpc",
            setting: "VPC access (vpcConfig)",
            expected: "a VPC",
            actual: "not in a VPC",
            evidence: ("fc:GetFunction", "vpcConfig", "(absent)"),
            ..base_of(&base)
        },
        Case {
            name: "a vSwitch of the function is in another VPC",
            change: |w| {
                w.set_function_vpc(
                    DEMO_FUNCTION,
                    Some(VpcConfig {
                        vpc_id: DEMO_VPC.into(),
                        v_switch_ids: vec![OTHER_VSWITCH.into()],
                        security_group_id: String::new(),
                    }),
                )
            },
            verdict: "function.vswitch_not_in_vpc",
            setting: "vSwitches (vpcConfig.vSwitchIds)",
            expected: "vsw-uf6otherconsumer0001 in vpc-uf6demofunction00001",
            actual: "vsw-uf6otherconsumer0001 in vpc-uf6otherconsumer0001",
            evidence: ("vpc:DescribeVSwitchAttributes", "VpcId", OTHER_VPC),
            ..base_of(&base)
        },
        Case {
            name: "a vSwitch of the function is not available",
            change: |w| patch(w, json!({"vswitches": {DEMO_VSWITCH: {"status": "Pending"}}})),
            verdict: "function.vswitch_not_available",
            setting: "vSwitches",
            expected: "vsw-uf6demofunction00001 Available",
            actual: "vsw-uf6demofunction00001 Pending",
            evidence: ("vpc:DescribeVSwitchAttributes", "Status", "Pending"),
            ..base_of(&base)
        },
        Case {
            name: "no such group",
            at: At::Gateway(Host::Unknown, "/web/cloudapi"),
            class: "dns.nxdomain",
            verdict: "group.not_found",
            setting: "the API group id and region in the host (0123456789abcdef0123456789abcdef, cn-shanghai)",
            expected: "an API group 0123456789abcdef0123456789abcdef in cn-shanghai",
            actual: "NotFoundApiGroup",
            evidence: ("apigateway:DescribeApiGroup", "Code", "NotFoundApiGroup"),
            ..base_of(&base)
        },
        Case {
            name: "the group is deleted",
            change: |w| patch(w, json!({"groups": {DEMO_GROUP: {"status": "DELETE"}}})),
            verdict: "group.deleted",
            setting: "status",
            expected: "NORMAL",
            actual: "DELETE",
            evidence: ("apigateway:DescribeApiGroup", "Status", "DELETE"),
            ..base_of(&base)
        },
        Case {
            name: "the group is locked",
            change: |w| patch(w, json!({"groups": {DEMO_GROUP: {"billingStatus": "LOCKED"}}})),
            verdict: "group.locked",
            setting: "BillingStatus",
            expected: "NORMAL",
            actual: "LOCKED",
            evidence: ("apigateway:DescribeApiGroup", "BillingStatus", "LOCKED"),
            ..base_of(&base)
        },
        Case {
            name: "the host is the group's public domain",
            at: At::Gateway(Host::Public, "/web/cloudapi"),
            class: "dns.nxdomain",
            verdict: "group.host_not_group_domain",
            setting: "the target's host",
            expected: "5f0a3c9d2b7e4a6f8c1d0e2b3a4c5d6e-cn-shanghai-vpc.alicloudapi.com",
            actual: "5f0a3c9d2b7e4a6f8c1d0e2b3a4c5d6e-cn-shanghai.alicloudapi.com",
            evidence: ("apigateway:DescribeApiGroup", "VpcDomain", "5f0a3c9d2b7e4a6f8c1d0e2b3a4c5d6e-cn-shanghai-vpc"),
            ..base_of(&base)
        },
        Case {
            name: "the host names no group",
            at: At::Closed(Host::Loopback),
            verdict: "group.unknown",
            setting: "the target's host",
            expected: "an API group's domain",
            actual: "127.0.0.1",
            evidence: ("fc:GetFunction", "vpcConfig.vpcId", DEMO_VPC),
            ..base_of(&base)
        },
        Case {
            name: "a shared instance in another region",
            change: |w| {
                patch(
                    w,
                    json!({"instances": {DEMO_INSTANCE: {"instanceType": "VPC_SHARED"}},
                           "groups": {DEMO_GROUP: {"vpcDomainAddresses": []}}}),
                )
            },
            at: At::Gateway(Host::Demo, "/web/cloudapi"),
            region: OTHER_REGION,
            class: "dns.nxdomain",
            verdict: "instance.shared_cross_region",
            setting: "instance (apigateway-sh-5f0a3c9d2b7e, VPC_SHARED, cn-shanghai)",
            expected: "a dedicated instance (VPC_DEDICATED) in cn-shanghai",
            actual: "shared instance apigateway-sh-5f0a3c9d2b7e in cn-shanghai, the function in cn-hangzhou",
            evidence: ("apigateway:DescribeInstances", "Instances.InstanceAttribute[0].InstanceType", "VPC_SHARED"),
            ..base_of(&base)
        },
        Case {
            name: "the instance is not running",
            change: |w| patch(w, json!({"instances": {DEMO_INSTANCE: {"status": "STOPPED"}}})),
            verdict: "instance.not_running",
            setting: "API Gateway instance apigateway-sh-5f0a3c9d2b7e → status",
            expected: "RUNNING",
            actual: "STOPPED",
            evidence: ("apigateway:DescribeInstances", "Instances.InstanceAttribute[0].Status", "STOPPED"),
            ..base_of(&base)
        },
        Case {
            name: "no inbound VPC bound",
            change: |w| w.unbind_inbound_vpc(DEMO_INSTANCE),
            verdict: "instance.inbound_vpc_not_bound",
            setting: "API Gateway instance apigateway-sh-5f0a3c9d2b7e → VPC access",
            expected: DEMO_VPC,
            actual: "none bound (VpcIntranetEnable=false, UserVpcId empty)",
            evidence: ("apigateway:DescribeInstances", "Instances.InstanceAttribute[0].UserVpcId", ""),
            ..base_of(&base)
        },
        Case {
            name: "another VPC bound",
            change: |w| w.bind_inbound_vpc(DEMO_INSTANCE, OTHER_VPC),
            verdict: "instance.inbound_vpc_mismatch",
            setting: "API Gateway instance apigateway-sh-5f0a3c9d2b7e → VPC access (bind the user's VPC: VpcIntranetEnable, UserVpcId)",
            expected: DEMO_VPC,
            actual: OTHER_VPC,
            evidence: ("apigateway:DescribeInstances", "Instances.InstanceAttribute[0].UserVpcId", OTHER_VPC),
            ..base_of(&base)
        },
        Case {
            name: "the group's VPC whitelist names another VPC",
            change: |w| patch(w, json!({"groups": {DEMO_GROUP: {"vpcWhitelist": ["vpc-uf6somebodyelse0001"]}}})),
            verdict: "group.vpc_whitelist_blocks",
            setting: "VPC whitelist (VpcIds)",
            expected: "a list that names vpc-uf6demofunction00001 (or no list)",
            actual: "vpc-uf6somebodyelse0001",
            evidence: ("apigateway:DescribeApiGroupVpcWhitelist", "VpcIds", "vpc-uf6somebodyelse0001"),
            ..base_of(&base)
        },
        Case {
            name: "across regions, the function's VPC is in no CEN",
            change: cross_region,
            region: OTHER_REGION,
            verdict: "cen.function_vpc_not_attached",
            setting: "CEN → attached networks (the function's VPC vpc-uf6demofunction00001, cn-hangzhou)",
            expected: "vpc-uf6demofunction00001 attached to a CEN instance together with vpc-uf6otherconsumer0001 (cn-shanghai)",
            actual: "vpc-uf6demofunction00001 is attached to no CEN instance",
            evidence: ("vpc:DescribeVpcAttribute", "AssociatedCens.AssociatedCen[].CenId", ""),
            ..base_of(&base)
        },
        Case {
            name: "across regions, the bound VPC is not in the function's CEN",
            change: |w| {
                cross_region(w)?;
                patch(w, cen(&[(DEMO_VPC, OTHER_REGION)], json!([])))
            },
            region: OTHER_REGION,
            verdict: "cen.gateway_vpc_not_attached",
            setting: "CEN cen-standin0demo0001 → attached networks in cn-shanghai",
            expected: "vpc-uf6otherconsumer0001 (the instance's bound VPC, cn-shanghai) attached",
            actual: "no VPC of cn-shanghai attached",
            evidence: ("cen:DescribeCenAttachedChildInstances", "ChildInstances.ChildInstance[].ChildInstanceId", ""),
            ..base_of(&base)
        },
        Case {
            // The network lab's case 4 across regions: CEN joins the function's VPC and a VPC
            // of the gateway's region, but the instance is bound to another one. Either fix
            // works, and the hint gives both.
            name: "across regions, the instance is bound to a VPC other than the one in CEN",
            change: |w| {
                cross_region(w)?;
                patch(w, json!({"vpcs": {API_ACCESS_VPC: {"region": DEMO_REGION}}}))?;
                patch(w, cen(&[(DEMO_VPC, OTHER_REGION), (API_ACCESS_VPC, DEMO_REGION)], json!([])))
            },
            region: OTHER_REGION,
            verdict: "cen.gateway_vpc_not_attached",
            setting: "CEN cen-standin0demo0001 → attached networks in cn-shanghai",
            expected: "vpc-uf6otherconsumer0001 (the instance's bound VPC, cn-shanghai) attached",
            actual: "attached in cn-shanghai: vpc-uf6apiaccess00000001",
            evidence: ("cen:DescribeCenAttachedChildInstances", "ChildInstances.ChildInstance[].ChildInstanceId", "vpc-uf6apiaccess00000001"),
            hint: "bind vpc-uf6apiaccess00000001 to the instance instead: API Gateway console → Instances → apigateway-sh-5f0a3c9d2b7e → Bind to the user's VPC, or ModifyInstanceVpcAttributeForConsole(InstanceId=apigateway-sh-5f0a3c9d2b7e, VpcId=vpc-uf6apiaccess00000001",
            ..base_of(&base)
        },
        Case {
            name: "across regions, no route service",
            change: |w| {
                cross_region(w)?;
                patch(w, cen(&[(DEMO_VPC, OTHER_REGION), (OTHER_VPC, DEMO_REGION)], json!([])))
            },
            region: OTHER_REGION,
            verdict: "cen.route_service_missing",
            setting: "CEN cen-standin0demo0001 → cloud service route (ResolveAndRouteServiceInCen) for 127.0.0.1",
            expected: "an Active entry Host=127.0.0.1/32 HostRegionId=cn-shanghai HostVpcId=vpc-uf6otherconsumer0001 AccessRegionIds=cn-hangzhou",
            actual: "none",
            evidence: ("cen:DescribeRouteServicesInCen", "RouteServiceEntries.RouteServiceEntry[].Cidrs", ""),
            ..base_of(&base)
        },
        Case {
            name: "across regions, the route service is still being created",
            change: |w| {
                cross_region(w)?;
                patch(
                    w,
                    cen(&[(DEMO_VPC, OTHER_REGION), (OTHER_VPC, DEMO_REGION)], route_service("Creating")),
                )
            },
            region: OTHER_REGION,
            verdict: "cen.route_service_pending",
            setting: "cloud service route",
            expected: "an Active entry Host=127.0.0.1/32",
            actual: "the entry is still Creating",
            evidence: ("cen:DescribeRouteServicesInCen", "RouteServiceEntries.RouteServiceEntry[].Cidrs", "127.0.0.1/32 Creating"),
            ..base_of(&base)
        },
        Case {
            name: "across regions, the function's route table has no route to CEN",
            change: cross_region_with_cen,
            region: OTHER_REGION,
            verdict: "cen.route_not_in_vpc_table",
            setting: "VPC route table vtb-uf6demofunction00001 (of the function's vSwitch vsw-uf6demofunction00001) → the route for 127.0.0.1",
            expected: "a route for 127.0.0.1 more specific than 100.64.0.0/10, towards CEN",
            actual: "no route covers it",
            evidence: ("vpc:DescribeRouteEntryList", "RouteEntrys.RouteEntry (longest match for 127.0.0.1)", "no route"),
            ..base_of(&base)
        },
        Case {
            name: "across regions, a custom route sends the gateway's address elsewhere",
            change: |w| {
                cross_region_with_cen(w)?;
                route(w, json!({"id": "rte-nat", "destinationCidrBlock": "127.0.0.0/24", "type": "Custom",
                                "nextHopType": "NatGateway", "nextHopId": "ngw-standin0001"}))
            },
            region: OTHER_REGION,
            verdict: "vpc.route_overridden",
            setting: "VPC route table vtb-uf6demofunction00001",
            expected: "towards CEN",
            actual: "custom route 127.0.0.0/24 → NatGateway ngw-standin0001",
            evidence: ("vpc:DescribeRouteEntryList", "RouteEntrys.RouteEntry[127.0.0.0/24].Type", "Custom → NatGateway"),
            ..base_of(&base)
        },
        Case {
            name: "across regions, everything in place",
            change: |w| {
                cross_region_with_cen(w)?;
                route(w, json!({"id": "rte-cen", "destinationCidrBlock": "127.0.0.1/32", "type": "CEN",
                                "nextHopType": "CenBasic", "nextHopId": "cen-standin0demo0001"}))
            },
            region: OTHER_REGION,
            verdict: "consistent",
            evidence: ("vpc:DescribeRouteEntryList", "RouteEntrys.RouteEntry[127.0.0.1/32].Type", "CEN"),
            ..base_of(&base)
        },
        Case {
            name: "same region, everything in place",
            verdict: "consistent",
            evidence: ("apigateway:DescribeInstances", "Instances.InstanceAttribute[0].UserVpcId", DEMO_VPC),
            ..base_of(&base)
        },
        Case {
            name: "the API is published in no stage",
            change: |w| {
                let id = api_id(DEMO_GROUP, "GET", "/web/cloudapi");
                w.undeploy(&id, "RELEASE")?;
                w.undeploy(&id, "TEST")
            },
            at: At::Gateway(Host::Demo, "/web/cloudapi"),
            class: "gateway.I404NF",
            verdict: "api.not_published_to_stage",
            setting: "API GET /web/cloudapi of group 5f0a3c9d2b7e4a6f8c1d0e2b3a4c5d6e → publishing (DeployApi) in RELEASE",
            expected: "GET /web/cloudapi published in RELEASE",
            actual: "published in no stage",
            evidence: ("apigateway:DescribeDeployedApis", "DeployedApis.DeployedApiItem[ApiPath=/web/cloudapi, ApiMethod=GET]", "(none in any stage)"),
            ..base_of(&base)
        },
        Case {
            name: "the group has a BasePath the target's path lacks",
            change: |w| patch(w, json!({"groups": {DEMO_GROUP: {"basePath": "/v1"}}})),
            at: At::Gateway(Host::Demo, "/web/cloudapi"),
            class: "gateway.I404NF",
            verdict: "api.basepath_missing",
            setting: "the path the target calls (the group's BasePath is /v1)",
            expected: "/v1/web/cloudapi",
            actual: "/web/cloudapi",
            evidence: ("apigateway:DescribeApiGroup", "BasePath", "/v1"),
            hint: "call /v1/web/cloudapi",
            ..base_of(&base)
        },
        Case {
            name: "the API is published in another stage",
            at: At::Gateway(Host::Demo, "/web/preview"),
            class: "gateway.I404NF",
            verdict: "api.stage_mismatch",
            setting: "the stage the target calls (X-Ca-Stage",
            expected: "TEST",
            actual: "RELEASE (no X-Ca-Stage: the gateway's default)",
            evidence: ("apigateway:DescribeDeployedApis", "DeployedApis.DeployedApiItem[", "TEST (GET /web/preview"),
            ..base_of(&base)
        },
        Case {
            name: "the API is published for another method",
            at: At::Gateway(Host::Demo, "/web/preview"),
            stage: Some("TEST"),
            method: Some("HEAD"),
            class: "gateway.I404NF",
            verdict: "api.method_mismatch",
            setting: "the method the target calls with",
            expected: "GET",
            actual: "HEAD",
            evidence: ("apigateway:DescribeDeployedApis", "DeployedApis.DeployedApiItem[", "TEST (GET /web/preview"),
            ..base_of(&base)
        },
        Case {
            name: "the API does not allow the scheme",
            at: At::Gateway(Host::Demo, "/web/https-only"),
            class: "gateway.I403PT",
            verdict: "api.protocol_not_allowed",
            setting: "API get_web_https-only (GET /web/https-only) → protocol (RequestConfig.RequestProtocol)",
            expected: "HTTP (the scheme the target calls with)",
            actual: "HTTPS",
            evidence: ("apigateway:DescribeApi", "RequestConfig.RequestProtocol", "HTTPS"),
            ..base_of(&base)
        },
        Case {
            name: "an AppKey no app has",
            at: At::Gateway(Host::Demo, "/web/signed"),
            app: Some(("204180599", "stand-in-unknown-app-secret")),
            class: "gateway.A400IK",
            verdict: "app.unknown",
            setting: "the target's AppKey (APIGW_APP_KEY, X-Ca-Key)",
            expected: "the AppKey of an app of this account in cn-shanghai",
            actual: "204180599: no such app",
            evidence: ("apigateway:DescribeAppAttributes", "Apps.AppAttribute", "[]"),
            ..base_of(&base)
        },
        Case {
            name: "the app is disabled",
            change: |w| patch(w, json!({"apps": {OTHER_APP_ID.to_string(): {"disabled": true}}})),
            at: At::Gateway(Host::Demo, "/web/signed"),
            app: Some((OTHER_APP_KEY, OTHER_APP_SECRET)),
            class: "gateway.A400IK",
            verdict: "app.disabled",
            setting: "app other_consumer (AppId 110011002) → status",
            expected: "enabled",
            actual: "disabled",
            evidence: ("apigateway:DescribeAppAttributes", "Apps.AppAttribute[0].Disabled", "true"),
            ..base_of(&base)
        },
        Case {
            name: "the app is not authorized for the API",
            at: At::Gateway(Host::Demo, "/web/signed"),
            app: Some((OTHER_APP_KEY, OTHER_APP_SECRET)),
            class: "gateway.A403PR",
            verdict: "app.not_authorized",
            setting: "app other_consumer (AppId 110011002) → authorization for API get_web_signed (GET /web/signed) in RELEASE",
            expected: "authorized in RELEASE",
            actual: "not authorized in this stage",
            evidence: ("apigateway:DescribeAuthorizedApps", "AuthorizedApps.AuthorizedApp[AppId=110011002].StageName", "(none)"),
            ..base_of(&base)
        },
        Case {
            name: "the app is authorized: the AppSecret is what differs",
            at: At::Gateway(Host::Demo, "/web/signed"),
            app: Some((DEMO_APP_KEY, "not-the-demo-app-secret")),
            class: "gateway.A403IS",
            verdict: "consistent",
            evidence: ("apigateway:DescribeAuthorizedApps", "AuthorizedApps.AuthorizedApp[AppId=110011001].StageName", "RELEASE"),
            ..base_of(&base)
        },
        Case {
            name: "the backend answered",
            at: At::Gateway(Host::Demo, "/status/503"),
            class: "http.status",
            verdict: "backend.status",
            ..base_of(&base)
        },
        Case {
            name: "the role may not read the instance",
            change: |w| both_keys_denied(w, "apigateway:DescribeInstances"),
            verdict: "permission.denied",
            setting: "the function role's RAM policy",
            expected: "allows apigateway:DescribeInstances",
            actual: "denied",
            evidence: ("apigateway:DescribeApiGroup", "InstanceId", DEMO_INSTANCE),
            ..base_of(&base)
        },
        Case {
            name: "the control plane fails",
            change: none,
            verdict: "control_plane.error",
            setting: "the control plane's answer",
            expected: "",
            actual: "S3.group: apigateway:DescribeApiGroup service_unavailable",
            evidence: ("fc:GetFunction", "vpcConfig.vpcId", DEMO_VPC),
            ..base_of(&base)
        },
    ]
}

/// `base` with its fields, for `..` (a `Case` is not `Clone`: it holds `fn`s and an enum).
fn base_of(base: &Case) -> Case {
    Case {
        name: base.name,
        change: base.change,
        at: match &base.at {
            At::Gateway(h, p) => At::Gateway(*h, p),
            At::Closed(h) => At::Closed(*h),
        },
        ..*base
    }
}

/// Secrets that must never be printed, and the marks of a request's signing.
fn assert_no_credentials(what: &str, text: &str) {
    for secret in [
        DEMO_STS_ACCESS_KEY_SECRET,
        DEMO_STS_SECURITY_TOKEN,
        "CAIS.stand-in%2Fdemo",
        DEMO_ACCESS_KEY_SECRET,
        "not-the-operator-secret",
        "not-the-demo-app-secret",
        "stand-in-unknown-app-secret",
        DEMO_APP_SECRET,
        OTHER_APP_SECRET,
        "ACS3-HMAC-SHA256 Credential",
        "SignedHeaders=",
        "string to sign is:",
    ] {
        assert!(!text.contains(secret), "{what} holds {secret:?}:\n{text}");
    }
}

fn assert_case(case: &Case, via: &str, report: &Report) {
    let t = support::target(report);
    let ctx = format!("{} (via {via}): {report:#?}", case.name);
    let error = t
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("no error: {ctx}"));
    assert_eq!(error.class.name(), case.class, "{ctx}");
    let c: &ConfigCheck = t
        .config_check
        .as_ref()
        .unwrap_or_else(|| panic!("no config_check: {ctx}"));
    assert_eq!(c.verdict.name(), case.verdict, "{ctx}");
    let has = |v: &Option<String>, want: &str, what: &str| {
        if want.is_empty() {
            return;
        }
        let v = v.as_deref().unwrap_or_else(|| panic!("no {what}: {ctx}"));
        assert!(v.contains(want), "{what} {v:?} lacks {want:?}: {ctx}");
    };
    has(&c.setting, case.setting, "setting");
    has(&c.expected, case.expected, "expected");
    has(&c.actual, case.actual, "actual");
    has(&Some(c.hint.clone()), case.hint, "hint");
    let (call, field, value) = case.evidence;
    if !call.is_empty() {
        assert!(
            c.evidence.iter().any(|e| e.call == call
                && e.field.starts_with(field)
                && e.value.starts_with(value)
                && (call == "probe" || e.endpoint.is_some())),
            "no evidence {call} {field} = {value}…: {ctx}"
        );
    }
    // An OpenAPI answer's evidence names the endpoint and the request id.
    for e in c.evidence.iter().filter(|e| e.call != "probe") {
        assert!(e.endpoint.is_some(), "evidence without an endpoint: {ctx}");
        assert!(
            e.request_id.is_some(),
            "evidence without a request id: {ctx}"
        );
    }
    assert!(!c.hint.is_empty(), "{ctx}");
    // The checks: the failing one is `fail`, none after it ran (except where the verdict is
    // read from the DNS answer once everything else passed).
    if c.verdict.names_cause() {
        let fail = c.checks.iter().position(|k| k.status == CheckStatus::Fail);
        let fail = fail.unwrap_or_else(|| panic!("no failing check: {ctx}"));
        assert_eq!(
            c.checks
                .iter()
                .filter(|k| k.status == CheckStatus::Fail)
                .count(),
            1,
            "{ctx}"
        );
        let from_dns = c
            .evidence
            .iter()
            .any(|e| e.call == "probe" && e.field == "dns");
        assert!(
            from_dns
                || c.checks[fail + 1..]
                    .iter()
                    .all(|k| matches!(k.status, CheckStatus::Skipped | CheckStatus::Unknown)),
            "a check ran after the first failure: {ctx}"
        );
        // The target's hint names the verified cause, with both values.
        assert!(
            error.hint.starts_with(&format!(
                "Verified by the configuration cross-check ({})",
                case.verdict
            )),
            "{ctx}"
        );
        if let (Some(e), Some(a)) = (&c.expected, &c.actual) {
            assert!(
                error.hint.contains(e.as_str()) && error.hint.contains(a.as_str()),
                "{ctx}"
            );
        }
        // …and the samples keep the class's own hint.
        assert!(
            !t.samples[0]
                .error
                .as_ref()
                .unwrap()
                .hint
                .starts_with("Verified"),
            "{ctx}"
        );
    } else {
        assert!(!error.hint.starts_with("Verified"), "{ctx}");
    }
    if c.verdict.name() == "permission.denied" {
        let u = &c.unknown[0];
        assert_eq!(
            (
                u.step.as_str(),
                u.reason.as_str(),
                u.action.as_deref(),
                u.code.as_deref()
            ),
            (
                "S4.instance",
                "permission_denied",
                Some("apigateway:DescribeInstances"),
                Some("Forbidden.RAM")
            ),
            "{ctx}"
        );
        assert!(u.request_id.is_some(), "{ctx}");
        assert!(
            c.hint.contains("apigateway:DescribeInstances")
                && c.hint.contains("deploy/ram-policy.json"),
            "{ctx}"
        );
        // The other checks still ran.
        let whitelist = c
            .checks
            .iter()
            .find(|k| k.id == "S5.vpc_whitelist")
            .unwrap();
        assert_eq!(whitelist.status, CheckStatus::Pass, "{ctx}");
    }
    assert!(!t.ok && !report.ok, "{ctx}");
}

/// The FC headers of an invocation in `region`, with the role's STS credentials.
fn fc_headers(
    request_id: &str,
    region: &str,
    timeout_s: &str,
    creds: bool,
) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = [
        ("x-fc-request-id", request_id),
        ("x-fc-control-path", "/invoke"),
        ("content-type", "application/octet-stream"),
        ("x-fc-function-name", DEMO_FUNCTION),
        ("x-fc-region", region),
        ("x-fc-qualifier", "LATEST"),
        ("x-fc-function-timeout", timeout_s),
        ("x-fc-function-memory", "128"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    h.push(("x-fc-account-id".into(), DEMO_ACCOUNT_ID.to_string()));
    if creds {
        h.push(("x-fc-access-key-id".into(), DEMO_STS_ACCESS_KEY_ID.into()));
        h.push((
            "x-fc-access-key-secret".into(),
            DEMO_STS_ACCESS_KEY_SECRET.into(),
        ));
        h.push(("x-fc-security-token".into(), DEMO_STS_SECURITY_TOKEN.into()));
    }
    h
}

async fn invoke(
    server: &Server,
    headers: &[(String, String)],
    event: serde_json::Value,
) -> (support::Answer, Duration) {
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let started = Instant::now();
    let a = support::post(&server.url("/invoke"), &h, event.to_string()).await;
    (a, started.elapsed())
}

fn event(setup: &Setup, case: &Case) -> serde_json::Value {
    let mut e = json!({"url": setup.url(&case.at)});
    if let Some(s) = case.stage {
        e["stage"] = json!(s);
    }
    if let Some(m) = case.method {
        e["method"] = json!(m);
    }
    if case.app.is_some() {
        e["auth"] = json!("app");
    }
    e
}

/// The function, started with `extra` besides the setup's environment.
fn function(setup: &Setup, extra: &[(&str, &str)]) -> Server {
    let mut env = setup.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start(&env)
}

/// Every staged case through `serve`, with FC's credential headers.
#[tokio::test(flavor = "multi_thread")]
async fn every_verdict_through_serve() {
    let setup = Setup::start().await;
    // One function per app configuration (the AppKey is the function's setting).
    let mut servers: BTreeMap<Option<&str>, Server> = BTreeMap::new();
    let mut called = std::collections::BTreeSet::new();
    for (n, case) in cases().iter().enumerate() {
        setup.stage(case.change);
        if case.verdict == "control_plane.error" {
            setup
                .standin
                .inject("DescribeApiGroup", Fault::error("ServiceUnavailable"));
        }
        let server = servers
            .entry(case.app.map(|a| a.0))
            .or_insert_with(|| match case.app {
                Some((key, secret)) => function(
                    &setup,
                    &[("APIGW_APP_KEY", key), ("APIGW_APP_SECRET", secret)],
                ),
                None => function(&setup, &[]),
            });
        let id = format!("cc-{n}");
        let (a, _) = invoke(
            server,
            &fc_headers(&id, case.region, "30", true),
            event(&setup, case),
        )
        .await;
        let text = String::from_utf8_lossy(&a.body).into_owned();
        assert_no_credentials(case.name, &text);
        assert_eq!(a.status, 404, "{}: {text}", case.name);
        assert_case(case, "serve", &a.report());
        // Only what the class needs is asked: a backend status asks nothing, a DNS failure
        // no vSwitch, a gateway error no function.
        let asked: Vec<String> = setup
            .standin
            .control_plane
            .requests()
            .into_iter()
            .map(|r| r.action)
            .collect();
        match case.class {
            "http.status" => assert!(asked.is_empty(), "{}: {asked:?}", case.name),
            "dns.nxdomain" => assert!(
                !asked.iter().any(|a| a == "DescribeVSwitchAttributes"),
                "{}: {asked:?}",
                case.name
            ),
            c if c.starts_with("gateway.") => assert!(
                !asked.iter().any(|a| a == "GetFunction"),
                "{}: {asked:?}",
                case.name
            ),
            _ => {}
        }
        for r in setup.standin.control_plane.requests() {
            let product = match r.version.as_str() {
                "2016-07-14" => "apigateway",
                "2016-04-28" => "vpc",
                "2017-09-12" => "cen",
                "2023-03-30" => "fc",
                other => panic!("a call of version {other}"),
            };
            called.insert(format!("{product}:{}", r.action));
        }
        // The requests were signed with the role's STS key from the headers.
        assert!(
            setup
                .standin
                .control_plane
                .requests()
                .iter()
                .all(|r| r.access_key_id == DEMO_STS_ACCESS_KEY_ID),
            "{}",
            case.name
        );
    }
    // deploy/ram-policy.json grants exactly the actions the cross-check called.
    assert_eq!(
        support::policy_actions("ram-policy.json"),
        called,
        "the policy's actions and the calls made"
    );
    for server in servers.values() {
        let log = server.stdout().join("\n");
        assert_no_credentials("the function's log", &log);
        assert!(log.contains("configuration checked"), "{log}");
    }
}

/// `apigw-vpc-probe check --json` with `env` and `args`; the exit code, the report, and
/// everything it printed.
async fn check_cli(setup: &Setup, args: &[&str], extra: &[(&str, &str)]) -> (i32, Report, String) {
    let mut cmd = tokio::process::Command::new(support::FUNCTION);
    cmd.arg("check").args(args).env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.env("HOME", setup.home.path());
    for (k, v) in setup.env() {
        cmd.env(k, v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run check");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let all = format!("{stdout}\n{stderr}");
    let report = if args.contains(&"--json") {
        support::parse_report(&out.stdout)
    } else {
        serde_json::from_value(json!({"schema": 1, "ok": false, "trigger": "cli", "request_id": "", "started_at": "", "duration_ms": 0.0, "targets": []})).unwrap()
    };
    (out.status.code().unwrap_or(-1), report, all)
}

/// Every staged case through the `check` command, with the CLI profile file.
#[tokio::test(flavor = "multi_thread")]
async fn every_verdict_through_the_check_command() {
    let setup = Setup::start().await;
    for case in cases() {
        setup.stage(case.change);
        if case.verdict == "control_plane.error" {
            setup
                .standin
                .inject("DescribeApiGroup", Fault::error("ServiceUnavailable"));
        }
        let url = setup.url(&case.at);
        let mut args = vec![
            "--json",
            url.as_str(),
            "--profile",
            "operator",
            "--region",
            case.region,
            "--function",
            DEMO_FUNCTION,
            "--qualifier",
            "LATEST",
        ];
        if let Some(s) = case.stage {
            args.extend(["--stage", s]);
        }
        if let Some(m) = case.method {
            args.extend(["-X", m]);
        }
        let mut extra = Vec::new();
        if let Some((key, secret)) = case.app {
            extra.extend([("APIGW_APP_KEY", key), ("APIGW_APP_SECRET", secret)]);
        }
        let (code, report, all) = check_cli(&setup, &args, &extra).await;
        assert_no_credentials(case.name, &all);
        assert_eq!(code, 1, "{}: {all}", case.name);
        assert_case(&case, "check", &report);
        assert!(
            setup
                .standin
                .control_plane
                .requests()
                .iter()
                .all(|r| r.access_key_id == DEMO_ACCESS_KEY_ID),
            "{}",
            case.name
        );
    }
}

/// The human summary of `check` names the verdict, the setting and both values.
#[tokio::test(flavor = "multi_thread")]
async fn the_check_command_prints_both_the_probe_and_the_verdict() {
    let setup = Setup::start().await;
    setup.stage(|w| w.bind_inbound_vpc(DEMO_INSTANCE, OTHER_VPC));
    let url = setup.url(&At::Closed(Host::Demo));
    let (code, _, all) = check_cli(
        &setup,
        &[&url, "--region", DEMO_REGION, "--function", DEMO_FUNCTION],
        &[],
    )
    .await;
    assert_eq!(code, 1, "{all}");
    assert_no_credentials("the summary", &all);
    for expected in [
        "FAIL ",
        "error tcp.refused",
        "hint: Verified by the configuration cross-check (instance.inbound_vpc_mismatch)",
        "config check: instance.inbound_vpc_mismatch",
        &format!("expected  {DEMO_VPC}"),
        &format!("actual    {OTHER_VPC}"),
        &format!("evidence  apigateway:DescribeInstances Instances.InstanceAttribute[0].UserVpcId = {OTHER_VPC}"),
        "checks    S0.credentials pass, S1.function_vpc pass",
        "S4.inbound_vpc fail",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }
    // The current profile is used without --profile; a profile whose secret is wrong is
    // refused by the control plane: credentials.invalid, its echoed string to sign left out.
    let (_, report, all) = check_cli(
        &setup,
        &[
            "--json",
            &url,
            "--region",
            DEMO_REGION,
            "--function",
            DEMO_FUNCTION,
        ],
        &[],
    )
    .await;
    assert_eq!(
        support::target(&report)
            .config_check
            .as_ref()
            .unwrap()
            .verdict
            .name(),
        "instance.inbound_vpc_mismatch",
        "{all}"
    );
    let (_, report, all) = check_cli(
        &setup,
        &[
            "--json",
            &url,
            "--profile",
            "wrong",
            "--region",
            DEMO_REGION,
            "--function",
            DEMO_FUNCTION,
        ],
        &[],
    )
    .await;
    assert_no_credentials("a refused profile's run", &all);
    let c = support::target(&report).config_check.clone().unwrap();
    assert_eq!(c.verdict.name(), "credentials.invalid", "{all}");
    assert!(
        c.actual.unwrap().starts_with("SignatureDoesNotMatch"),
        "{all}"
    );
    // Without --function the function's checks are unknown, and the rest still runs.
    let (_, report, all) = check_cli(&setup, &["--json", &url, "--profile", "operator"], &[]).await;
    let c = support::target(&report).config_check.clone().unwrap();
    assert_eq!(c.verdict.name(), "consistent", "{all}");
    assert_eq!(c.unknown[0].step, "S1.function_vpc", "{all}");
    assert_eq!(c.unknown[0].reason, "function_unknown", "{all}");
    // A profile that does not exist is a usage error naming it.
    let (code, _, all) = check_cli(&setup, &[&url, "--profile", "nope"], &[]).await;
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("no profile named \"nope\""), "{all}");
}

/// The credentials' verdicts, and the default of APIGW_CONFIG_CHECK: on with credentials, off
/// without; `on-failure` without credentials says `credentials.missing`.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_missing_expired_and_the_default_mode() {
    let setup = Setup::start().await;
    setup.stage(none);
    let disabled = At::Gateway(Host::Disabled, "/web/cloudapi");
    let e = json!({"url": setup.url(&disabled)});
    let default = function(&setup, &[]);
    let (a, _) = invoke(
        &default,
        &fc_headers("d-1", DEMO_REGION, "30", false),
        e.clone(),
    )
    .await;
    assert!(
        support::target(&a.report()).config_check.is_none(),
        "no credentials, no check by default"
    );
    let (a, _) = invoke(
        &default,
        &fc_headers("d-2", DEMO_REGION, "30", true),
        e.clone(),
    )
    .await;
    assert_eq!(
        support::target(&a.report())
            .config_check
            .as_ref()
            .unwrap()
            .verdict
            .name(),
        "group.vpc_domain_disabled"
    );

    let on = function(&setup, &[("APIGW_CONFIG_CHECK", "on-failure")]);
    setup.standin.control_plane.clear_requests();
    let (a, _) = invoke(&on, &fc_headers("m-1", DEMO_REGION, "30", false), e.clone()).await;
    let r = a.report();
    let c = support::target(&r).config_check.clone().unwrap();
    assert_eq!(c.verdict.name(), "credentials.missing", "{r:#?}");
    assert_eq!(c.actual.as_deref(), Some("none"));
    assert!(c.hint.contains("deploy/ram-policy.json"), "{}", c.hint);
    assert_eq!(c.checks[0].status, CheckStatus::Fail);
    assert!(
        setup.standin.control_plane.requests().is_empty(),
        "nothing asked without credentials"
    );
    // The class's own hint stays: missing credentials explain nothing about the probe.
    assert!(!support::error(&r).hint.starts_with("Verified"));

    // Expired STS credentials: refused by the first call.
    setup.stage(|w| {
        w.set_expiration(
            DEMO_STS_ACCESS_KEY_ID,
            SystemTime::now() - Duration::from_secs(3600),
        )
    });
    let (a, _) = invoke(&on, &fc_headers("x-1", DEMO_REGION, "30", true), e.clone()).await;
    assert_no_credentials("expired", &String::from_utf8_lossy(&a.body));
    let r = a.report();
    let c = support::target(&r).config_check.clone().unwrap();
    assert_eq!(c.verdict.name(), "credentials.invalid", "{r:#?}");
    assert!(
        c.actual
            .as_deref()
            .unwrap()
            .starts_with("InvalidSecurityToken.Expired"),
        "{c:#?}"
    );
    assert!(
        c.evidence
            .iter()
            .any(|e| e.call == "fc:GetFunction" && e.value == "InvalidSecurityToken.Expired"),
        "{c:#?}"
    );

    // A wrong secret in FC's headers: the server's echo of the string to sign (which holds the
    // signed token) never comes back.
    setup.stage(none);
    let mut h = fc_headers("w-1", DEMO_REGION, "30", true);
    for (k, v) in h.iter_mut() {
        if k == "x-fc-access-key-secret" {
            *v = "a-wrong-role-secret-000".into();
        }
    }
    let (a, _) = invoke(&on, &h, e.clone()).await;
    let text = String::from_utf8_lossy(&a.body).into_owned();
    assert_no_credentials("wrong secret", &text);
    assert!(!text.contains("a-wrong-role-secret-000"), "{text}");
    assert_eq!(
        support::target(&a.report())
            .config_check
            .as_ref()
            .unwrap()
            .verdict
            .name(),
        "credentials.invalid"
    );
    assert_no_credentials("log", &on.stdout().join("\n"));
    assert!(!on.stdout().join("\n").contains("a-wrong-role-secret-000"));

    // `off` checks nothing, credentials or not.
    let off = function(&setup, &[("APIGW_CONFIG_CHECK", "off")]);
    let (a, _) = invoke(&off, &fc_headers("o-1", DEMO_REGION, "30", true), e).await;
    assert!(support::target(&a.report()).config_check.is_none());
}

/// A closed control-plane port and a control plane that never answers: the answer comes within
/// the invocation's deadline, with the probe's own result, and the verdict says so.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_or_hanging_control_plane_never_delays_the_answer_past_the_deadline() {
    let setup = Setup::start().await;
    setup.stage(none);
    let e = json!({"url": setup.url(&At::Gateway(Host::Disabled, "/web/cloudapi"))});
    // FC's timeout 3 s, the margin 500 ms: a 2.5 s deadline.
    let deadline = Duration::from_millis(2500);

    // Nothing listens where the endpoints point.
    let closed = format!("http://{}", setup.closed.addr());
    let env: Vec<(&str, &str)> = [
        "APIGW_OPENAPI_ENDPOINT_APIGATEWAY",
        "APIGW_OPENAPI_ENDPOINT_FC",
        "APIGW_OPENAPI_ENDPOINT_VPC",
        "APIGW_OPENAPI_ENDPOINT_CBN",
    ]
    .into_iter()
    .map(|k| (k, closed.as_str()))
    .collect();
    let unreachable = function(&setup, &env);
    let (a, took) = invoke(
        &unreachable,
        &fc_headers("u-1", DEMO_REGION, "3", true),
        e.clone(),
    )
    .await;
    let r = a.report();
    assert!(
        took < deadline + Duration::from_millis(400),
        "answered after {took:?}"
    );
    assert_eq!(
        support::class(&r),
        "dns.nxdomain",
        "the probe's result stands: {r:#?}"
    );
    let c = support::target(&r).config_check.clone().unwrap();
    assert_eq!(c.verdict.name(), "control_plane.unreachable", "{r:#?}");
    assert!(
        c.unknown.iter().all(|u| u.reason == "unreachable"),
        "{c:#?}"
    );
    assert!(
        !support::error(&r).hint.starts_with("Verified"),
        "the class's hint stands"
    );

    // The control plane accepts and never answers: the check ends at the deadline.
    let hanging = function(&setup, &[]);
    setup.standin.inject("*", Fault::hang());
    let (a, took) = invoke(
        &hanging,
        &fc_headers("h-1", DEMO_REGION, "3", true),
        e.clone(),
    )
    .await;
    let r = a.report();
    assert!(
        took < deadline + Duration::from_millis(400),
        "answered after {took:?}"
    );
    assert!(
        took >= deadline - Duration::from_millis(300),
        "the check used the time it had: {took:?}"
    );
    assert_eq!(a.status, 404);
    assert_eq!(support::class(&r), "dns.nxdomain", "{r:#?}");
    let c = support::target(&r).config_check.clone().unwrap();
    assert_eq!(c.verdict.name(), "control_plane.unreachable", "{r:#?}");
    assert_eq!(c.unknown[0].step, "S1.function_vpc", "{c:#?}");
    assert_eq!(c.unknown[0].reason, "deadline_exceeded", "{c:#?}");
    // The endpoint that hung is not asked again: the other calls are unknown at once.
    assert!(
        c.unknown
            .iter()
            .skip(1)
            .all(|u| u.message.contains("not called")),
        "{c:#?}"
    );

    // Its own budget, APIGW_CONFIG_CHECK_BUDGET_MS, bounds it too, with a long FC timeout.
    let budgeted = function(&setup, &[("APIGW_CONFIG_CHECK_BUDGET_MS", "700")]);
    let (a, took) = invoke(&budgeted, &fc_headers("b-1", DEMO_REGION, "30", true), e).await;
    let r = a.report();
    assert!(
        took < Duration::from_millis(1500),
        "answered after {took:?}"
    );
    let c = support::target(&r).config_check.clone().unwrap();
    assert!(
        c.duration_ms >= 650.0 && c.duration_ms < 1000.0,
        "{}",
        c.duration_ms
    );

    // A passing probe stays a pass, whatever the control plane does (`always` checks it).
    let always = function(
        &setup,
        &[
            ("APIGW_CONFIG_CHECK", "always"),
            ("APIGW_CONFIG_CHECK_BUDGET_MS", "500"),
        ],
    );
    let ok = json!({"url": setup.url(&At::Gateway(Host::Demo, "/web/cloudapi"))});
    let (a, _) = invoke(
        &always,
        &fc_headers("p-1", DEMO_REGION, "30", true),
        ok.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let r = a.report();
    assert!(r.ok && support::target(&r).error.is_none(), "{r:#?}");
    assert_eq!(
        support::target(&r)
            .config_check
            .as_ref()
            .unwrap()
            .verdict
            .name(),
        "control_plane.unreachable"
    );
    // …and with a control plane that answers, a passing target's verdict is for information.
    setup.stage(|w| w.bind_inbound_vpc(DEMO_INSTANCE, OTHER_VPC));
    let (a, _) = invoke(&always, &fc_headers("p-2", DEMO_REGION, "30", true), ok).await;
    assert_eq!(a.status, 200);
    let r = a.report();
    assert!(r.ok, "{r:#?}");
    assert_eq!(
        support::target(&r)
            .config_check
            .as_ref()
            .unwrap()
            .verdict
            .name(),
        "instance.inbound_vpc_mismatch"
    );
}
