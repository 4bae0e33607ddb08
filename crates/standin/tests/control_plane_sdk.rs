//! The stand-in control plane driven by the reference implementation: Alibaba Cloud's official
//! Python client (`alibabacloud_tea_openapi` `Client.call_api`) signs every request over a real
//! socket, and the product SDKs' response models parse every answer
//! (`tests/py/drive_control_plane.py`). Each answer must survive the model unchanged (every key
//! known to the model, every wrapper right), with the model's declared types, and carry the
//! world's values at the model's attribute paths.
//!
//! Needs the SDKs' venv: `$PY_SDK` when set (then its absence is a failure), else
//! `target/py-sdk/bin/python` if present, else the tests print `SKIPPED (python sdk): run make
//! py-sdk` and pass.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use apigw_standin::control_plane::world::{api_id, Cen, CenAttachment, RouteEntry, RouteService};
use apigw_standin::control_plane::{seed, ControlPlane, WorldHandle};
use apigw_standin::{
    vpc_domain, StandIn, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, DEMO_ACCOUNT_ID, DEMO_APP_ID,
    DEMO_APP_KEY, DEMO_FUNCTION, DEMO_GROUP, DEMO_INSTANCE, DEMO_REGION, DEMO_ROUTE_TABLE,
    DEMO_STS_ACCESS_KEY_ID, DEMO_STS_ACCESS_KEY_SECRET, DEMO_STS_SECURITY_TOKEN, DEMO_VPC,
    DEMO_VSWITCH, OTHER_APP_ID, OTHER_VPC,
};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

const CEN: &str = "cen-standindemo00000001";
const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The SDKs' python, or None (skip) when it is not installed and `$PY_SDK` is not set.
fn python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PY_SDK") {
        let p = PathBuf::from(p);
        assert!(p.exists(), "PY_SDK={} does not exist", p.display());
        return Some(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/py-sdk/bin/python");
    if p.exists() {
        Some(p)
    } else {
        println!("SKIPPED (python sdk): run make py-sdk");
        None
    }
}

/// Runs the driver with `spec`; one result per step.
async fn drive(py: &PathBuf, spec: &Value) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/drive_control_plane.py");
    let mut child = tokio::process::Command::new(py)
        .arg(script)
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env("NO_PROXY", "*")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start python");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(spec.to_string().as_bytes())
        .await
        .expect("write the spec");
    drop(stdin);
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        child.wait_with_output(),
    )
    .await
    .expect("the driver finished within 120 s")
    .expect("the driver ran");
    assert!(
        out.status.success(),
        "driver failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "driver output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn sts() -> Value {
    json!({"access_key_id": DEMO_STS_ACCESS_KEY_ID, "access_key_secret": DEMO_STS_ACCESS_KEY_SECRET,
           "security_token": DEMO_STS_SECURITY_TOKEN})
}

fn rpc(name: &str, action: &str, version: &str, query: Value, model: &str, expect: Value) -> Value {
    json!({"name": name, "action": action, "version": version, "style": "RPC", "method": "POST",
           "pathname": "/", "query": query, "model": model, "expect": expect})
}

fn cloudapi(action: &str, query: Value, expect: Value) -> Value {
    rpc(
        action,
        action,
        "2016-07-14",
        query,
        &format!("alibabacloud_cloudapi20160714.models:{action}ResponseBody"),
        expect,
    )
}

fn vpc(action: &str, query: Value, expect: Value) -> Value {
    rpc(
        action,
        action,
        "2016-04-28",
        query,
        &format!("alibabacloud_vpc20160428.models:{action}ResponseBody"),
        expect,
    )
}

fn cbn(action: &str, query: Value, expect: Value) -> Value {
    rpc(
        action,
        action,
        "2017-09-12",
        query,
        &format!("alibabacloud_cbn20170912.models:{action}ResponseBody"),
        expect,
    )
}

fn get_function(name: &str, expect: Value) -> Value {
    json!({"name": "GetFunction", "action": "GetFunction", "version": "2023-03-30", "style": "ROA",
           "method": "GET", "pathname": format!("/2023-03-30/functions/{name}"),
           "query": {"qualifier": "LATEST"}, "model": "alibabacloud_fc20230330.models:Function",
           "expect": expect})
}

/// A successful answer that the model took whole, with its types and the expected values.
fn assert_parsed(r: &Value) {
    let name = r["name"].as_str().unwrap_or("?");
    assert_eq!(r["ok"], true, "{name} was refused: {r}");
    assert_eq!(r["status"], 200, "{name}");
    for list in ["not_roundtripped", "type_errors", "mismatches"] {
        assert_eq!(
            r[list],
            json!([]),
            "{name}: {list}: {}\nanswer: {}",
            r[list],
            r["body"]
        );
    }
}

fn refused<'a>(results: &'a [Value], name: &str) -> &'a Value {
    let r = results
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no result {name}"));
    assert_eq!(r["ok"], false, "{name} should have been refused: {r}");
    r
}

/// The demo's world plus what the demo does not need but the answers should show: a custom
/// domain, a group whitelist, a CEN with both VPCs and a route service, a custom route.
fn enrich(world: &WorldHandle) {
    world
        .update(|w| {
            let g = w.groups.get_mut(DEMO_GROUP).expect("demo group");
            g.custom_domains.push("api.demo.example".into());
            g.vpc_whitelist = vec![DEMO_VPC.into(), OTHER_VPC.into()];
            w.cens.insert(
                CEN.into(),
                Cen {
                    name: "demo-cen".into(),
                    attachments: [DEMO_VPC, OTHER_VPC]
                        .iter()
                        .map(|v| CenAttachment {
                            instance_id: (*v).into(),
                            instance_type: "VPC".into(),
                            region: DEMO_REGION.into(),
                            owner_id: None,
                            status: "Attached".into(),
                        })
                        .collect(),
                    route_services: vec![RouteService {
                        host: "100.104.255.128/26".into(),
                        host_region_id: DEMO_REGION.into(),
                        host_vpc_id: DEMO_VPC.into(),
                        access_region_id: "cn-hangzhou".into(),
                        status: "Active".into(),
                        cidrs: Vec::new(),
                        description: "API Gateway VIPs".into(),
                    }],
                },
            );
            w.route_tables
                .get_mut(DEMO_ROUTE_TABLE)
                .expect("demo route table")
                .entries
                .push(RouteEntry {
                    id: "rte-uf6democustom".into(),
                    destination_cidr_block: "100.104.255.128/26".into(),
                    entry_type: "Custom".into(),
                    next_hop_type: "Instance".into(),
                    next_hop_id: "i-uf6firewall0001".into(),
                    next_hop_region_id: String::new(),
                    status: "Available".into(),
                    name: "to-firewall".into(),
                    description: String::new(),
                });
            Ok(())
        })
        .expect("enrich the world");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_through_the_official_client() {
    let Some(py) = python() else { return };
    let s = StandIn::start(LOCAL).await.expect("stand-in");
    enrich(s.world());
    let cloudapi_id = api_id(DEMO_GROUP, "GET", "/web/cloudapi");
    let preview_id = api_id(DEMO_GROUP, "GET", "/web/preview");
    let signed_id = api_id(DEMO_GROUP, "GET", "/web/signed");
    let other_app_api = api_id(DEMO_GROUP, "GET", "/web/other-app");
    let region = DEMO_REGION;
    let mut steps = vec![
        cloudapi(
            "DescribeApiGroup",
            json!({"GroupId": DEMO_GROUP}),
            json!({"group_id": DEMO_GROUP, "vpc_domain": vpc_domain(DEMO_GROUP, region),
                   "instance_id": DEMO_INSTANCE, "instance_type": "VPC_DEDICATED",
                   "region_id": region, "traffic_limit": 500,
                   "stage_items.stage_info[0].stage_name": "RELEASE",
                   "custom_domains.domain_item[0].domain_name": "api.demo.example"}),
        ),
        cloudapi(
            "DescribeInstances",
            json!({"InstanceId": DEMO_INSTANCE}),
            json!({"total_count": 1, "instances.instance_attribute[0].user_vpc_id": DEMO_VPC,
                   "instances.instance_attribute[0].user_vswitch_id": DEMO_VSWITCH,
                   "instances.instance_attribute[0].vpc_intranet_enable": true,
                   "instances.instance_attribute[0].vpc_owner_id": DEMO_ACCOUNT_ID,
                   "instances.instance_attribute[0].instance_type": "VPC_DEDICATED",
                   "instances.instance_attribute[0].status": "RUNNING",
                   "instances.instance_attribute[0].vpc_egress_address": "100.104.254.0/26"}),
        ),
        cloudapi(
            "DescribeDeployedApis",
            json!({"GroupId": DEMO_GROUP, "StageName": "TEST", "ApiPath": "/web/preview"}),
            json!({"total_count": 1, "page_number": 1, "page_size": 10,
                   "deployed_apis.deployed_api_item[0].api_id": preview_id,
                   "deployed_apis.deployed_api_item[0].stage_name": "TEST",
                   "deployed_apis.deployed_api_item[0].api_method": "GET"}),
        ),
        cloudapi(
            "DescribeDeployedApi",
            json!({"ApiId": cloudapi_id, "StageName": "RELEASE", "GroupId": DEMO_GROUP}),
            json!({"api_id": cloudapi_id, "stage_name": "RELEASE", "auth_type": "ANONYMOUS",
                   "request_config.request_path": "/web/cloudapi",
                   "request_config.request_protocol": "HTTP,HTTPS",
                   "service_config.service_timeout": 10000, "disable_internet": false}),
        ),
        cloudapi(
            "DescribeApi",
            json!({"ApiId": preview_id, "GroupId": DEMO_GROUP}),
            json!({"api_id": preview_id,
                   "deployed_infos.deployed_info[0].stage_name": "RELEASE",
                   "deployed_infos.deployed_info[0].deployed_status": "NONDEPLOYED",
                   "deployed_infos.deployed_info[2].stage_name": "TEST",
                   "deployed_infos.deployed_info[2].deployed_status": "DEPLOYED",
                   "request_config.request_http_method": "GET"}),
        ),
        cloudapi(
            "DescribeAppAttributes",
            json!({"AppKey": DEMO_APP_KEY}),
            json!({"total_count": 1, "apps.app_attribute[0].app_id": DEMO_APP_ID,
                   "apps.app_attribute[0].disabled": false}),
        ),
        cloudapi(
            "DescribeAuthorizedApps",
            json!({"ApiId": signed_id, "StageName": "RELEASE", "GroupId": DEMO_GROUP}),
            json!({"total_count": 1, "authorized_apps.authorized_app[0].app_id": DEMO_APP_ID,
                   "authorized_apps.authorized_app[0].stage_name": "RELEASE",
                   "authorized_apps.authorized_app[0].auth_vaild_time": "2099-12-31T23:59:59Z"}),
        ),
        cloudapi(
            "DescribeAuthorizedApis",
            json!({"AppId": OTHER_APP_ID.to_string()}),
            json!({"total_count": 1, "authorized_apis.authorized_api[0].api_id": other_app_api,
                   "authorized_apis.authorized_api[0].stage_name": "RELEASE"}),
        ),
        cloudapi(
            "DescribeApiGroupVpcWhitelist",
            json!({"GroupId": DEMO_GROUP}),
            json!({"vpc_ids": format!("{DEMO_VPC},{OTHER_VPC}")}),
        ),
        get_function(
            DEMO_FUNCTION,
            json!({"function_name": DEMO_FUNCTION, "vpc_config.vpc_id": DEMO_VPC,
                   "vpc_config.v_switch_ids": [DEMO_VSWITCH], "internet_access": false,
                   "role": format!("acs:ram::{DEMO_ACCOUNT_ID}:role/apigw-probe-role"),
                   "memory_size": 128, "cpu": 0.125,
                   "function_arn": format!("acs:fc:{region}:{DEMO_ACCOUNT_ID}:functions/{DEMO_FUNCTION}")}),
        ),
        vpc(
            "DescribeVSwitchAttributes",
            json!({"VSwitchId": DEMO_VSWITCH, "RegionId": region}),
            json!({"v_switch_id": DEMO_VSWITCH, "vpc_id": DEMO_VPC, "cidr_block": "192.168.1.0/24",
                   "status": "Available", "owner_id": DEMO_ACCOUNT_ID,
                   "route_table.route_table_id": DEMO_ROUTE_TABLE}),
        ),
        vpc(
            "DescribeVpcAttribute",
            json!({"VpcId": DEMO_VPC, "RegionId": region}),
            json!({"vpc_id": DEMO_VPC, "v_switch_ids.v_switch_id": [DEMO_VSWITCH],
                   "associated_cens.associated_cen[0].cen_id": CEN,
                   "associated_cens.associated_cen[0].cen_status": "Attached",
                   "associated_cens.associated_cen[0].cen_owner_id": DEMO_ACCOUNT_ID}),
        ),
        vpc(
            "DescribeRouteTableList",
            json!({"VpcId": DEMO_VPC, "RegionId": region}),
            json!({"total_count": 1,
                   "router_table_list.router_table_list_type[0].route_table_id": DEMO_ROUTE_TABLE,
                   "router_table_list.router_table_list_type[0].v_switch_ids.v_switch_id": [DEMO_VSWITCH]}),
        ),
        vpc(
            "DescribeRouteEntryList",
            json!({"RegionId": region, "RouteTableId": DEMO_ROUTE_TABLE, "MaxResult": "2"}),
            json!({"total_count": 3, "next_token": "2",
                   "route_entrys.route_entry[1].destination_cidr_block": "100.64.0.0/10",
                   "route_entrys.route_entry[1].type": "System"}),
        ),
        {
            let mut page2 = vpc(
                "DescribeRouteEntryList",
                json!({"RegionId": region, "RouteTableId": DEMO_ROUTE_TABLE, "MaxResult": "2", "NextToken": "2"}),
                json!({"total_count": 3,
                       "route_entrys.route_entry[0].destination_cidr_block": "100.104.255.128/26",
                       "route_entrys.route_entry[0].next_hops.next_hop[0].next_hop_id": "i-uf6firewall0001",
                       "route_entrys.route_entry[0].next_hops.next_hop[0].enabled": 1}),
            );
            page2["name"] = json!("DescribeRouteEntryList page 2");
            page2
        },
        cbn(
            "DescribeCenAttachedChildInstances",
            json!({"CenId": CEN, "ChildInstanceRegionId": region}),
            json!({"total_count": 2,
                   "child_instances.child_instance[0].child_instance_id": DEMO_VPC,
                   "child_instances.child_instance[0].child_instance_owner_id": DEMO_ACCOUNT_ID}),
        ),
        cbn(
            "DescribeRouteServicesInCen",
            json!({"CenId": CEN, "HostRegionId": region, "HostVpcId": DEMO_VPC, "AccessRegionId": "cn-hangzhou"}),
            json!({"total_count": 1,
                   "route_service_entries.route_service_entry[0].status": "Active",
                   "route_service_entries.route_service_entry[0].cidrs.cidr": ["100.104.255.128/26"]}),
        ),
        rpc(
            "PutCustomMetric",
            "PutCustomMetric",
            "2019-01-01",
            json!({"MetricList.1.MetricName": "probe_latency_ms", "MetricList.1.GroupId": "0",
                   "MetricList.1.Dimensions": r#"{"target":"cloudapi"}"#,
                   "MetricList.1.Values": r#"{"value":12.5}"#,
                   "MetricList.1.Time": "1700000000000", "MetricList.1.Type": "0"}),
            "alibabacloud_cms20190101.models:PutCustomMetricResponseBody",
            json!({"code": "200"}),
        ),
    ];
    // Parameters in a form body instead of the query.
    let mut form = cloudapi(
        "DescribeApiGroup",
        json!({}),
        json!({"group_id": DEMO_GROUP, "vpc_domain": vpc_domain(DEMO_GROUP, region)}),
    );
    form["name"] = json!("DescribeApiGroup (form body)");
    form["body"] = json!({"GroupId": DEMO_GROUP});
    steps.push(form);
    // A long-term AccessKey, no token.
    let mut ak = cloudapi(
        "DescribeInstances",
        json!({"InstanceId": DEMO_INSTANCE}),
        json!({"instances.instance_attribute[0].user_vpc_id": DEMO_VPC}),
    );
    ak["name"] = json!("DescribeInstances (long-term AccessKey)");
    ak["credentials"] =
        json!({"access_key_id": DEMO_ACCESS_KEY_ID, "access_key_secret": DEMO_ACCESS_KEY_SECRET});
    steps.push(ak);
    // The legacy V2 signature.
    let mut v2 = cloudapi(
        "DescribeInstances",
        json!({"InstanceId": DEMO_INSTANCE}),
        json!({"instances.instance_attribute[0].user_vpc_id": DEMO_VPC}),
    );
    v2["name"] = json!("DescribeInstances (V2)");
    v2["signature_algorithm"] = json!("v2");
    steps.push(v2);

    let endpoint = s.control_plane_addr().to_string();
    let spec =
        json!({"endpoint": endpoint, "protocol": "http", "credentials": sts(), "steps": steps});
    let results = drive(&py, &spec).await;
    assert_eq!(results.len(), steps.len());
    for r in &results {
        assert_parsed(r);
    }

    // What the control plane saw: every request verified, the FC function read by name.
    let served = s.control_plane.requests();
    assert_eq!(served.len(), steps.len());
    assert!(served.iter().all(|r| r.status == 200 && r.code.is_none()));
    let get_fn = served.iter().find(|r| r.action == "GetFunction").unwrap();
    assert_eq!(get_fn.params["functionName"], DEMO_FUNCTION);
    assert_eq!(get_fn.params["qualifier"], "LATEST");
    assert!(served
        .iter()
        .all(|r| !r.params.contains_key("SecurityToken")));
    // The metric arrived as sent.
    let metrics = s.control_plane.metrics();
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0]["MetricName"], "probe_latency_ms");
    assert_eq!(metrics[0]["Values"]["value"], 12.5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_world_changes_what_the_official_client_reads() {
    let Some(py) = python() else { return };
    let s = StandIn::start(LOCAL).await.expect("stand-in");
    s.disable_vpc_domain(DEMO_GROUP).expect("disable");
    s.bind_inbound_vpc(DEMO_INSTANCE, OTHER_VPC).expect("bind");
    s.world()
        .update(|w| w.undeploy(&api_id(DEMO_GROUP, "GET", "/web/cloudapi"), "RELEASE"))
        .expect("undeploy");
    let steps = vec![
        cloudapi(
            "DescribeApiGroup",
            json!({"GroupId": DEMO_GROUP}),
            json!({"vpc_domain": ""}),
        ),
        cloudapi(
            "DescribeInstances",
            json!({"InstanceId": DEMO_INSTANCE}),
            json!({"instances.instance_attribute[0].user_vpc_id": OTHER_VPC,
                   "instances.instance_attribute[0].user_vswitch_id": apigw_standin::OTHER_VSWITCH}),
        ),
        cloudapi(
            "DescribeDeployedApis",
            json!({"GroupId": DEMO_GROUP, "StageName": "RELEASE", "ApiPath": "/web/cloudapi", "ApiMethod": "GET"}),
            json!({"total_count": 0}),
        ),
    ];
    let spec = json!({"endpoint": s.control_plane_addr().to_string(), "protocol": "http",
                      "credentials": sts(), "steps": steps});
    for r in drive(&py, &spec).await {
        assert_parsed(&r);
    }
    // The other answer to the open question: no VpcDomain key at all.
    s.world()
        .update(|w| {
            w.quirks.disabled_vpc_domain = "absent".into();
            Ok(())
        })
        .expect("quirk");
    let spec = json!({"endpoint": s.control_plane_addr().to_string(), "protocol": "http",
                      "credentials": sts(), "steps": [cloudapi("DescribeApiGroup", json!({"GroupId": DEMO_GROUP}), json!({}))]});
    let r = &drive(&py, &spec).await[0];
    assert_parsed(r);
    assert!(r["body"].get("VpcDomain").is_none(), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_through_the_official_client() {
    let Some(py) = python() else { return };
    let s = StandIn::start(LOCAL).await.expect("stand-in");
    let group = || {
        cloudapi(
            "DescribeApiGroup",
            json!({"GroupId": DEMO_GROUP}),
            json!({}),
        )
    };
    let named = |mut step: Value, name: &str| {
        step["name"] = json!(name);
        step
    };
    let admin = |name: &str, method: &str, path: &str, body: Value| json!({"name": name, "admin": {"method": method, "path": path, "body": body}});
    let past = "2020-01-01T00:00:00Z";
    let steps = vec![
        {
            let mut w = named(group(), "wrong secret");
            w["credentials"] = json!({"access_key_id": DEMO_STS_ACCESS_KEY_ID,
                                      "access_key_secret": "not-the-secret",
                                      "security_token": DEMO_STS_SECURITY_TOKEN});
            w
        },
        {
            let mut w = named(group(), "unknown key");
            w["credentials"] =
                json!({"access_key_id": "LTAI5tNobodyKnowsMe", "access_key_secret": "x"});
            w
        },
        {
            let mut w = named(group(), "wrong token");
            w["credentials"] = json!({"access_key_id": DEMO_STS_ACCESS_KEY_ID,
                                      "access_key_secret": DEMO_STS_ACCESS_KEY_SECRET,
                                      "security_token": "CAIS.someone-elses"});
            w
        },
        {
            let mut w = named(group(), "nonce first use");
            w["nonce"] = json!("0123456789abcdef0123456789abcdef");
            w
        },
        {
            let mut w = named(group(), "nonce replayed");
            w["nonce"] = json!("0123456789abcdef0123456789abcdef");
            w
        },
        admin(
            "clock +20 min",
            "POST",
            "/_standin/clock",
            json!({"shiftSeconds": 1200}),
        ),
        named(group(), "old date"),
        admin(
            "clock reset",
            "POST",
            "/_standin/clock",
            json!({"reset": true}),
        ),
        admin(
            "token expires",
            "POST",
            "/_standin/world",
            json!({"accessKeys": {DEMO_STS_ACCESS_KEY_ID: {"expiration": past}}}),
        ),
        named(group(), "expired token"),
        admin(
            "token renewed, DescribeInstances and GetFunction denied",
            "POST",
            "/_standin/world",
            json!({"accessKeys": {DEMO_STS_ACCESS_KEY_ID: {"expiration": "2099-01-01T00:00:00Z",
                   "deny": ["apigateway:DescribeInstances", "fc:GetFunction"]}}}),
        ),
        named(
            cloudapi(
                "DescribeInstances",
                json!({"InstanceId": DEMO_INSTANCE}),
                json!({}),
            ),
            "denied",
        ),
        named(group(), "allowed"),
        named(get_function(DEMO_FUNCTION, json!({})), "fc denied"),
        admin(
            "throttle once",
            "POST",
            "/_standin/faults",
            json!({"action": "DescribeApiGroup", "error": "Throttling.User", "times": 1}),
        ),
        named(group(), "throttled"),
        named(group(), "after the throttling"),
        admin(
            "outage",
            "POST",
            "/_standin/faults",
            json!({"action": "*", "error": "ServiceUnavailable"}),
        ),
        named(group(), "unavailable"),
        admin("outage over", "DELETE", "/_standin/faults", Value::Null),
        admin(
            "denials lifted",
            "POST",
            "/_standin/world",
            json!({"accessKeys": {DEMO_STS_ACCESS_KEY_ID: {"deny": []}}}),
        ),
        named(
            cloudapi(
                "DescribeApiGroup",
                json!({"GroupId": "0123456789abcdef0123456789abcdef"}),
                json!({}),
            ),
            "unknown group",
        ),
        named(
            vpc(
                "DescribeVSwitchAttributes",
                json!({"VSwitchId": "vsw-nothere"}),
                json!({}),
            ),
            "unknown vswitch",
        ),
        named(
            get_function("not-a-function", json!({})),
            "unknown function",
        ),
        named(
            vpc(
                "DescribeRouteEntryList",
                json!({"RouteTableId": DEMO_ROUTE_TABLE}),
                json!({}),
            ),
            "missing region",
        ),
    ];
    let spec = json!({"endpoint": s.control_plane_addr().to_string(), "protocol": "http",
                      "credentials": sts(), "steps": steps});
    let results = drive(&py, &spec).await;
    let code = |name: &str| {
        let r = refused(&results, name);
        (
            r["status"].as_u64().unwrap_or(0),
            r["code"].as_str().unwrap_or("").to_owned(),
        )
    };
    // The envelope's keys (the SDK adds `statusCode` to what it parsed).
    let envelope_keys = |name: &str| {
        let r = refused(&results, name);
        let mut keys: Vec<String> = r["data"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "statusCode")
            .cloned()
            .collect();
        keys.sort();
        keys
    };

    assert_eq!(code("wrong secret"), (400, "SignatureDoesNotMatch".into()));
    let msg = refused(&results, "wrong secret")["data"]["Message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains("server string to sign is:POST\n/\nGroupId="),
        "{msg}"
    );
    // The echoed canonical request carries the signed token: what a client must redact.
    assert!(msg.contains(DEMO_STS_SECURITY_TOKEN), "{msg}");
    assert_eq!(
        envelope_keys("wrong secret"),
        ["Code", "HostId", "Message", "Recommend", "RequestId"]
    );
    assert_eq!(
        code("unknown key"),
        (404, "InvalidAccessKeyId.NotFound".into())
    );
    assert_eq!(
        code("wrong token"),
        (400, "InvalidSecurityToken.MismatchWithAccessKey".into())
    );
    let first = results
        .iter()
        .find(|r| r["name"] == "nonce first use")
        .unwrap();
    assert_eq!(first["ok"], true, "{first}");
    assert_eq!(code("nonce replayed"), (400, "SignatureNonceUsed".into()));
    assert_eq!(code("old date"), (400, "InvalidTimeStamp.Expired".into()));
    assert_eq!(
        code("expired token"),
        (400, "InvalidSecurityToken.Expired".into())
    );
    assert_eq!(code("denied"), (403, "Forbidden.RAM".into()));
    let denied = refused(&results, "denied");
    assert_eq!(
        denied["access_denied_detail"]["AuthAction"],
        "apigateway:DescribeInstances"
    );
    assert_eq!(
        denied["access_denied_detail"]["AuthPrincipalType"],
        "AssumedRoleUser"
    );
    assert_eq!(
        results.iter().find(|r| r["name"] == "allowed").unwrap()["ok"],
        true
    );
    assert_eq!(code("fc denied"), (403, "AccessDenied".into()));
    assert_eq!(envelope_keys("fc denied"), ["Code", "Message", "RequestId"]);
    assert_eq!(
        envelope_keys("unknown function"),
        ["Code", "Message", "RequestId"]
    );
    let throttled = refused(&results, "throttled");
    assert_eq!(throttled["exception"], "ThrottlingException");
    assert_eq!(throttled["code"], "Throttling.User");
    assert_eq!(throttled["retry_after"], 1000);
    assert_eq!(
        results
            .iter()
            .find(|r| r["name"] == "after the throttling")
            .unwrap()["ok"],
        true
    );
    assert_eq!(code("unavailable"), (503, "ServiceUnavailable".into()));
    assert_eq!(
        refused(&results, "unavailable")["exception"],
        "ServerException"
    );
    assert_eq!(code("unknown group"), (404, "NotFoundApiGroup".into()));
    assert_eq!(
        code("unknown vswitch"),
        (400, "InvalidVSwitchId.NotFound".into())
    );
    assert_eq!(code("unknown function"), (404, "FunctionNotFound".into()));
    assert_eq!(code("missing region"), (400, "MissingRegionId".into()));

    // No secret reached the request log.
    let log = serde_json::to_string(&s.control_plane.requests()).unwrap();
    for secret in [
        DEMO_STS_ACCESS_KEY_SECRET,
        DEMO_STS_SECURITY_TOKEN,
        "not-the-secret",
    ] {
        assert!(!log.contains(secret), "{secret} in the request log");
    }
}

/// A test CA and a certificate for 127.0.0.1 signed by it.
fn test_pki() -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "apigw-standin test CA");
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("leaf params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .expect("server config");
    (ca_cert.pem(), Arc::new(server))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_test_ca() {
    let Some(py) = python() else { return };
    let (ca, tls) = test_pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).expect("write the CA");
    let world = WorldHandle::new(seed::demo_world(vec![LOCAL], None, None));
    let cp = ControlPlane::start_tls(SocketAddr::new(LOCAL, 0), world, tls)
        .await
        .expect("control plane");
    assert!(cp.url().starts_with("https://127.0.0.1:"));
    let steps = vec![cloudapi(
        "DescribeInstances",
        json!({"InstanceId": DEMO_INSTANCE}),
        json!({"instances.instance_attribute[0].user_vpc_id": DEMO_VPC}),
    )];
    let spec = json!({"endpoint": cp.addr().to_string(), "protocol": "https",
                      "ca": ca_file.to_str().unwrap(), "credentials": sts(), "steps": steps});
    for r in drive(&py, &spec).await {
        assert_parsed(&r);
    }
    assert_eq!(cp.requests().len(), 1);
}
