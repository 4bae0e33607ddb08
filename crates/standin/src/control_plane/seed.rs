//! The demo's world: the same setup as the stand-in's DNS and gateway (one group on a
//! dedicated instance in cn-shanghai, its APIs and apps, a group whose VPC domain is off), plus
//! what only the control plane knows: the function `apigw-vpc-probe` in a VPC whose vSwitch is
//! the instance's bound inbound VPC, a second VPC to bind instead, route tables, and the
//! AccessKeys the control plane accepts.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use super::world::{
    api_id, AccessKey, ApiDef, ApiGroup, AppDef, Authorization, Function, Instance, Quirks,
    RouteEntry, RouteTable, VSwitch, Vpc, VpcConfig, World,
};
use crate::{
    DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_ACCOUNT_ID, DEMO_APPCODE, DEMO_APP_ID,
    DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_FUNCTION, DEMO_GROUP, DEMO_INSTANCE, DEMO_REGION,
    DEMO_ROUTE_TABLE, DEMO_SECURITY_GROUP, DEMO_STS_ACCESS_KEY_ID, DEMO_STS_ACCESS_KEY_SECRET,
    DEMO_STS_SECURITY_TOKEN, DEMO_VPC, DEMO_VSWITCH, DISABLED_GROUP, OTHER_APP_ID, OTHER_APP_KEY,
    OTHER_APP_SECRET, OTHER_ROUTE_TABLE, OTHER_VPC, OTHER_VSWITCH,
};

/// How long the demo's STS credentials are valid: FC's 36 hours.
pub const STS_VALIDITY: Duration = Duration::from_secs(36 * 3600);

struct ApiSpec<'a> {
    method: &'a str,
    path: &'a str,
    stages: &'a [&'a str],
    backend: Option<SocketAddr>,
    backend_path: Option<&'a str>,
}

fn api(s: &ApiSpec<'_>) -> ApiDef {
    let name = format!(
        "{}{}",
        s.method.to_ascii_lowercase(),
        s.path.replace('/', "_").replace('*', "any")
    );
    ApiDef {
        group_id: DEMO_GROUP.into(),
        name,
        method: s.method.into(),
        path: s.path.into(),
        protocols: vec!["HTTP".into(), "HTTPS".into()],
        auth_type: "ANONYMOUS".into(),
        app_code: false,
        deployed: s.stages.iter().map(|x| (*x).to_owned()).collect(),
        disable_internet: false,
        description: String::new(),
        backend: s.backend,
        backend_path: s.backend_path.map(str::to_owned),
        backend_timeout_ms: None,
        max_per_second: None,
    }
}

/// The demo's world. `addresses`: what the demo group's VPC domain resolves to (the
/// gateway's); `backend`: the backend's address (None: the APIs have none, and a gateway
/// projected from the world serves none of them); `closed`: an address where nothing listens,
/// the backend of `/web/broken`.
pub fn demo_world(
    addresses: Vec<IpAddr>,
    backend: Option<SocketAddr>,
    closed: Option<SocketAddr>,
) -> World {
    let account = DEMO_ACCOUNT_ID;
    let mut apis = BTreeMap::new();
    let mut add = |def: ApiDef| {
        apis.insert(api_id(&def.group_id, &def.method, &def.path), def);
    };
    let cloudapi = Some("/web/cloudapi");
    add(api(&ApiSpec {
        method: "GET",
        path: "/web/cloudapi",
        stages: &["RELEASE", "TEST"],
        backend,
        backend_path: None,
    }));
    add(api(&ApiSpec {
        method: "GET",
        path: "/web/preview",
        stages: &["TEST"],
        backend,
        backend_path: cloudapi,
    }));
    add(api(&ApiSpec {
        method: "GET",
        path: "/web/broken",
        stages: &["RELEASE"],
        backend: closed,
        backend_path: cloudapi,
    }));
    let mut signed = Vec::new();
    for method in ["GET", "POST"] {
        for path in ["/delay/*", "/status/*", "/bytes/*", "/echo", "/reset"] {
            add(api(&ApiSpec {
                method,
                path,
                stages: &["RELEASE"],
                backend,
                backend_path: None,
            }));
        }
        add(ApiDef {
            auth_type: "APP".into(),
            app_code: true,
            ..api(&ApiSpec {
                method,
                path: "/web/signed",
                stages: &["RELEASE", "TEST"],
                backend,
                backend_path: cloudapi,
            })
        });
        signed.push(api_id(DEMO_GROUP, method, "/web/signed"));
    }
    add(ApiDef {
        auth_type: "APP".into(),
        ..api(&ApiSpec {
            method: "GET",
            path: "/web/other-app",
            stages: &["RELEASE"],
            backend,
            backend_path: cloudapi,
        })
    });
    add(ApiDef {
        protocols: vec!["HTTPS".into()],
        ..api(&ApiSpec {
            method: "GET",
            path: "/web/https-only",
            stages: &["RELEASE"],
            backend,
            backend_path: cloudapi,
        })
    });
    add(ApiDef {
        max_per_second: Some(1),
        ..api(&ApiSpec {
            method: "GET",
            path: "/web/throttled",
            stages: &["RELEASE"],
            backend,
            backend_path: cloudapi,
        })
    });
    add(ApiDef {
        backend_timeout_ms: Some(300),
        ..api(&ApiSpec {
            method: "GET",
            path: "/web/slow",
            stages: &["RELEASE"],
            backend,
            backend_path: Some("/delay/2000"),
        })
    });

    let demo_auth = signed
        .iter()
        .flat_map(|id| {
            ["RELEASE", "TEST"].map(|stage| Authorization {
                api_id: id.clone(),
                stage: stage.into(),
            })
        })
        .collect();
    let apps = BTreeMap::from([
        (
            DEMO_APP_ID.to_string(),
            AppDef {
                name: "apigw_vpc_probe".into(),
                app_key: DEMO_APP_KEY.into(),
                app_secret: DEMO_APP_SECRET.into(),
                app_code: Some(DEMO_APPCODE.into()),
                disabled: false,
                description: "the probe's app".into(),
                authorizations: demo_auth,
            },
        ),
        (
            OTHER_APP_ID.to_string(),
            AppDef {
                name: "other_consumer".into(),
                app_key: OTHER_APP_KEY.into(),
                app_secret: OTHER_APP_SECRET.into(),
                app_code: None,
                disabled: false,
                description: "another team's app".into(),
                authorizations: vec![Authorization {
                    api_id: api_id(DEMO_GROUP, "GET", "/web/other-app"),
                    stage: "RELEASE".into(),
                }],
            },
        ),
    ]);

    let group = |name: &str, enabled: bool| ApiGroup {
        name: name.into(),
        region: DEMO_REGION.into(),
        instance_id: DEMO_INSTANCE.into(),
        vpc_domain_enabled: enabled,
        vpc_domain_addresses: addresses.clone(),
        custom_domains: Vec::new(),
        base_path: "/".into(),
        status: "NORMAL".into(),
        billing_status: "NORMAL".into(),
        illegal_status: "NORMAL".into(),
        vpc_whitelist: Vec::new(),
        stages: vec!["RELEASE".into(), "PRE".into(), "TEST".into()],
    };
    let groups = BTreeMap::from([
        (DEMO_GROUP.to_owned(), group("apigw_vpc_probe_demo", true)),
        (DISABLED_GROUP.to_owned(), group("vpc_domain_off", false)),
    ]);

    let instances = BTreeMap::from([(
        DEMO_INSTANCE.to_owned(),
        Instance {
            name: "apigw-vpc-probe-demo".into(),
            region: DEMO_REGION.into(),
            zone_id: format!("{DEMO_REGION}-b"),
            instance_type: "VPC_DEDICATED".into(),
            status: "RUNNING".into(),
            vpc_intranet_enable: true,
            user_vpc_id: DEMO_VPC.into(),
            user_vswitch_id: DEMO_VSWITCH.into(),
            vpc_owner_id: account,
            vpc_egress_address: "100.104.254.0/26".into(),
            internet_egress_address: "203.0.113.10".into(),
            intranet_segments: Vec::new(),
            acl_status: "off".into(),
        },
    )]);

    let functions = BTreeMap::from([(
        DEMO_FUNCTION.to_owned(),
        Function {
            region: DEMO_REGION.into(),
            role: format!("acs:ram::{account}:role/apigw-probe-role"),
            internet_access: false,
            vpc_config: Some(VpcConfig {
                vpc_id: DEMO_VPC.into(),
                v_switch_ids: vec![DEMO_VSWITCH.into()],
                security_group_id: DEMO_SECURITY_GROUP.into(),
            }),
            qualifiers: vec!["LATEST".into()],
            runtime: "custom.debian10".into(),
            timeout: 60,
            memory_size: 128,
            disable_inject_credentials: "None".into(),
        },
    )]);

    let vpc = |name: &str, cidr: &str, router: &str| Vpc {
        region: DEMO_REGION.into(),
        name: name.into(),
        cidr_block: cidr.into(),
        v_router_id: router.into(),
    };
    let vpcs = BTreeMap::from([
        (
            DEMO_VPC.to_owned(),
            vpc("fc-vpc", "192.168.0.0/16", "vrt-uf6demofunction00001"),
        ),
        (
            OTHER_VPC.to_owned(),
            vpc(
                "other-consumer-vpc",
                "172.16.0.0/16",
                "vrt-uf6otherconsumer0001",
            ),
        ),
    ]);
    let vswitch = |vpc_id: &str, name: &str, cidr: &str, table: &str| VSwitch {
        vpc_id: vpc_id.into(),
        region: DEMO_REGION.into(),
        zone_id: format!("{DEMO_REGION}-b"),
        name: name.into(),
        cidr_block: cidr.into(),
        route_table_id: table.into(),
        status: "Available".into(),
        available_ip_address_count: 252,
    };
    let vswitches = BTreeMap::from([
        (
            DEMO_VSWITCH.to_owned(),
            vswitch(DEMO_VPC, "fc-vsw", "192.168.1.0/24", DEMO_ROUTE_TABLE),
        ),
        (
            OTHER_VSWITCH.to_owned(),
            vswitch(OTHER_VPC, "other-vsw", "172.16.1.0/24", OTHER_ROUTE_TABLE),
        ),
    ]);
    let system_route = |id: &str, cidr: &str| RouteEntry {
        id: id.into(),
        destination_cidr_block: cidr.into(),
        entry_type: "System".into(),
        next_hop_type: "local".into(),
        next_hop_id: String::new(),
        next_hop_region_id: String::new(),
        status: "Available".into(),
        name: String::new(),
        description: String::new(),
    };
    let table = |vpc_id: &str, local: &str, prefix: &str| RouteTable {
        vpc_id: vpc_id.into(),
        region: DEMO_REGION.into(),
        name: String::new(),
        route_table_type: "System".into(),
        entries: vec![
            system_route(&format!("rte-{prefix}local"), local),
            // "used for cloud product communication within the VPC" (control-plane.md §2.2).
            system_route(&format!("rte-{prefix}cloud"), "100.64.0.0/10"),
        ],
    };
    let route_tables = BTreeMap::from([
        (
            DEMO_ROUTE_TABLE.to_owned(),
            table(DEMO_VPC, "192.168.1.0/24", "uf6demo"),
        ),
        (
            OTHER_ROUTE_TABLE.to_owned(),
            table(OTHER_VPC, "172.16.1.0/24", "uf6other"),
        ),
    ]);

    let expires = super::verify::format_date(SystemTime::now() + STS_VALIDITY);
    let access_keys = BTreeMap::from([
        (
            DEMO_STS_ACCESS_KEY_ID.to_owned(),
            AccessKey {
                secret: DEMO_STS_ACCESS_KEY_SECRET.into(),
                security_token: Some(DEMO_STS_SECURITY_TOKEN.into()),
                expiration: Some(expires),
                disabled: false,
                deny: Vec::new(),
                principal: format!("apigw-probe-role/{DEMO_FUNCTION}"),
            },
        ),
        (
            DEMO_ACCESS_KEY_ID.to_owned(),
            AccessKey {
                secret: DEMO_ACCESS_KEY_SECRET.into(),
                security_token: None,
                expiration: None,
                disabled: false,
                deny: Vec::new(),
                principal: "probe-operator".into(),
            },
        ),
    ]);

    World {
        account_id: account,
        access_keys,
        groups,
        instances,
        apis,
        apps,
        functions,
        vpcs,
        vswitches,
        route_tables,
        cens: BTreeMap::new(),
        quirks: Quirks::default(),
    }
}
