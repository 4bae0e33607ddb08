//! The actions the stand-in control plane answers, from the world, in the documented shapes:
//! the field names, their casing and the XML-derived list wrappers of control-plane.md §3–6
//! (checked against the official SDKs' response models in `tests/control_plane.rs`), integers
//! as integers.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::errors::ApiError;
use super::world::{ApiDef, ApiGroup, World};

/// When every resource of the stand-in was created, modified and deployed.
const CREATED: &str = "2025-01-01T00:00:00Z";
/// Until when an app authorization is valid.
const AUTH_VALID_UNTIL: &str = "2099-12-31T23:59:59Z";

/// The products the control plane serves, by API version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    /// API Gateway (CloudAPI 2016-07-14, RPC).
    CloudApi,
    /// VPC 2016-04-28 (RPC).
    Vpc,
    /// CEN (CBN 2017-09-12, RPC).
    Cbn,
    /// Function Compute 3.0 (2023-03-30, ROA).
    Fc,
    /// CloudMonitor (CMS 2019-01-01, RPC).
    Cms,
}

impl Product {
    pub fn from_version(version: &str) -> Option<Self> {
        Some(match version {
            "2016-07-14" => Self::CloudApi,
            "2016-04-28" => Self::Vpc,
            "2017-09-12" => Self::Cbn,
            "2023-03-30" => Self::Fc,
            "2019-01-01" => Self::Cms,
            _ => return None,
        })
    }

    pub fn version(self) -> &'static str {
        match self {
            Self::CloudApi => "2016-07-14",
            Self::Vpc => "2016-04-28",
            Self::Cbn => "2017-09-12",
            Self::Fc => "2023-03-30",
            Self::Cms => "2019-01-01",
        }
    }

    /// The RAM code of its actions (`apigateway:DescribeInstances`).
    pub fn ram_code(self) -> &'static str {
        match self {
            Self::CloudApi => "apigateway",
            Self::Vpc => "vpc",
            Self::Cbn => "cen",
            Self::Fc => "fc",
            Self::Cms => "cms",
        }
    }

    /// The product name in an error's `Recommend` link.
    pub fn name(self) -> &'static str {
        match self {
            Self::CloudApi => "CloudAPI",
            Self::Vpc => "Vpc",
            Self::Cbn => "Cbn",
            Self::Fc => "FC",
            Self::Cms => "Cms",
        }
    }

    /// The actions it answers.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Self::CloudApi => &[
                "DescribeApiGroup",
                "DescribeInstances",
                "DescribeDeployedApis",
                "DescribeDeployedApi",
                "DescribeApi",
                "DescribeAppAttributes",
                "DescribeAuthorizedApps",
                "DescribeAuthorizedApis",
                "DescribeApiGroupVpcWhitelist",
            ],
            Self::Vpc => &[
                "DescribeVSwitchAttributes",
                "DescribeVpcAttribute",
                "DescribeRouteTableList",
                "DescribeRouteEntryList",
            ],
            Self::Cbn => &[
                "DescribeCenAttachedChildInstances",
                "DescribeRouteServicesInCen",
            ],
            Self::Fc => &["GetFunction"],
            Self::Cms => &["PutCustomMetric"],
        }
    }
}

/// A request's parameters: the query's, then the form body's.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// The first value of `name`, if given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::missing(name))
    }

    fn int(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| ApiError::invalid(name, "not an integer"))
            })
            .transpose()
    }

    /// `Prefix.N` values in N order (`DestCidrBlockList.1`, `.2`, …).
    fn list(&self, prefix: &str) -> Vec<&str> {
        let mut items: Vec<(u64, &str)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(prefix)?.strip_prefix('.')?.parse().ok()?;
                Some((n, v.as_str()))
            })
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }
}

/// What an action needs besides its parameters.
pub struct Ctx<'a> {
    pub world: &'a World,
    pub request_id: &'a str,
    /// The region the request addresses (its `RegionId`, else its endpoint's host); `None`:
    /// every region (a loopback endpoint names none).
    pub region: Option<String>,
}

impl Ctx<'_> {
    fn in_region(&self, region: &str) -> bool {
        self.region.as_deref().is_none_or(|r| r == region)
    }
}

/// Answers `action` of `product` (known to be one of its actions).
pub fn answer(
    product: Product,
    action: &str,
    p: &Params,
    ctx: &Ctx<'_>,
) -> Result<Value, ApiError> {
    match (product, action) {
        (Product::CloudApi, "DescribeApiGroup") => describe_api_group(p, ctx),
        (Product::CloudApi, "DescribeInstances") => describe_instances(p, ctx),
        (Product::CloudApi, "DescribeDeployedApis") => describe_deployed_apis(p, ctx),
        (Product::CloudApi, "DescribeDeployedApi") => describe_deployed_api(p, ctx),
        (Product::CloudApi, "DescribeApi") => describe_api(p, ctx),
        (Product::CloudApi, "DescribeAppAttributes") => describe_app_attributes(p, ctx),
        (Product::CloudApi, "DescribeAuthorizedApps") => describe_authorized_apps(p, ctx),
        (Product::CloudApi, "DescribeAuthorizedApis") => describe_authorized_apis(p, ctx),
        (Product::CloudApi, "DescribeApiGroupVpcWhitelist") => describe_whitelist(p, ctx),
        (Product::Vpc, "DescribeVSwitchAttributes") => describe_vswitch(p, ctx),
        (Product::Vpc, "DescribeVpcAttribute") => describe_vpc(p, ctx),
        (Product::Vpc, "DescribeRouteTableList") => describe_route_tables(p, ctx),
        (Product::Vpc, "DescribeRouteEntryList") => describe_route_entries(p, ctx),
        (Product::Cbn, "DescribeCenAttachedChildInstances") => describe_cen_children(p, ctx),
        (Product::Cbn, "DescribeRouteServicesInCen") => describe_route_services(p, ctx),
        (Product::Cms, "PutCustomMetric") => {
            metric_list(p)?;
            Ok(json!({"Code": "200", "RequestId": ctx.request_id}))
        }
        _ => Err(ApiError::known("InvalidAction.NotFound")),
    }
}

/// `PageNumber` (from 1) and `PageSize` (default 10, at most `max`): the page of `items`, with
/// the paging fields every list answer carries.
fn page(
    items: Vec<Value>,
    p: &Params,
    max: u64,
    ctx: &Ctx<'_>,
) -> Result<(Vec<Value>, Map<String, Value>), ApiError> {
    let number = p.int("PageNumber")?.unwrap_or(1);
    let size = p.int("PageSize")?.unwrap_or(10);
    if number < 1 {
        return Err(ApiError::invalid("PageNumber", "must be at least 1"));
    }
    if !(1..=max).contains(&size) {
        return Err(ApiError::invalid(
            "PageSize",
            &format!("must be 1 to {max}"),
        ));
    }
    let total = items.len();
    let skip = usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    let items: Vec<Value> = items.into_iter().skip(skip).take(take).collect();
    let mut m = Map::new();
    m.insert("RequestId".into(), json!(ctx.request_id));
    m.insert("PageNumber".into(), json!(number));
    m.insert("PageSize".into(), json!(size));
    m.insert("TotalCount".into(), json!(total));
    Ok((items, m))
}

fn list_answer(
    items: Vec<Value>,
    p: &Params,
    max: u64,
    ctx: &Ctx<'_>,
    wrapper: &str,
    item: &str,
) -> Result<Value, ApiError> {
    let (items, mut m) = page(items, p, max, ctx)?;
    m.insert(wrapper.into(), json!({ item: items }));
    Ok(Value::Object(m))
}

fn stage_id(group: &str, stage: &str) -> String {
    super::world::api_id(group, "stage", stage)
}

fn group_in_region<'w>(gid: &str, ctx: &Ctx<'w>) -> Result<&'w ApiGroup, ApiError> {
    ctx.world
        .groups
        .get(gid)
        .filter(|g| ctx.in_region(&g.region))
        .ok_or_else(|| ApiError::known("NotFoundApiGroup"))
}

fn describe_api_group(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let gid = p.required("GroupId")?;
    let g = group_in_region(gid, ctx)?;
    let instance = ctx.world.instances.get(&g.instance_id);
    let instance_type = instance.map_or("VPC_DEDICATED", |i| i.instance_type.as_str());
    let mut m = Map::new();
    m.insert("RequestId".into(), json!(ctx.request_id));
    m.insert("GroupId".into(), json!(gid));
    m.insert("GroupName".into(), json!(g.name));
    m.insert("Description".into(), json!(""));
    m.insert("Status".into(), json!(g.status));
    m.insert("BillingStatus".into(), json!(g.billing_status));
    m.insert("IllegalStatus".into(), json!(g.illegal_status));
    m.insert("RegionId".into(), json!(g.region));
    m.insert("BasePath".into(), json!(g.base_path));
    m.insert(
        "SubDomain".into(),
        json!(format!("{gid}-{}.alicloudapi.com", g.region)),
    );
    match ctx.world.vpc_domain_of(gid) {
        Some(d) => {
            m.insert("VpcDomain".into(), json!(d));
        }
        None if ctx.world.quirks.disabled_vpc_domain == "absent" => {}
        None => {
            m.insert("VpcDomain".into(), json!(""));
        }
    }
    m.insert(
        "VpcSlbIntranetDomain".into(),
        json!(format!("{gid}-{}-intranet.alicloudapi.com", g.region)),
    );
    m.insert("InstanceId".into(), json!(g.instance_id));
    m.insert("InstanceType".into(), json!(instance_type));
    if instance_type == "VPC_DEDICATED" {
        m.insert("DedicatedInstanceType".into(), json!("normal"));
    }
    m.insert("HttpsPolicy".into(), json!("HTTPS2_TLS1_0"));
    m.insert("TrafficLimit".into(), json!(500));
    m.insert("DisableInnerDomain".into(), json!(false));
    m.insert("CreatedTime".into(), json!(CREATED));
    m.insert("ModifiedTime".into(), json!(CREATED));
    let stages: Vec<Value> = g
        .stages
        .iter()
        .map(|s| json!({"StageId": stage_id(gid, s), "StageName": s, "Description": ""}))
        .collect();
    m.insert("StageItems".into(), json!({ "StageInfo": stages }));
    let domains: Vec<Value> = g
        .custom_domains
        .iter()
        .map(|d| {
            json!({"DomainName": d, "BindStageName": "RELEASE", "DomainBindingStatus": "BINDING",
                   "DomainCNAMEStatus": "RESOLVED", "DomainLegalStatus": "NORMAL"})
        })
        .collect();
    m.insert("CustomDomains".into(), json!({ "DomainItem": domains }));
    Ok(Value::Object(m))
}

fn describe_instances(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id = p.get("InstanceId");
    let ty = p.get("InstanceType");
    let items: Vec<Value> = ctx
        .world
        .instances
        .iter()
        .filter(|(iid, i)| {
            id.is_none_or(|want| want == iid.as_str())
                && ty.is_none_or(|t| t == i.instance_type)
                && ctx.in_region(&i.region)
        })
        .map(|(iid, i)| {
            let mut m = Map::new();
            m.insert("InstanceId".into(), json!(iid));
            m.insert("InstanceName".into(), json!(i.name));
            m.insert("RegionId".into(), json!(i.region));
            m.insert("ZoneId".into(), json!(i.zone_id));
            m.insert("ZoneLocalName".into(), json!(i.zone_id));
            m.insert("InstanceType".into(), json!(i.instance_type));
            if i.instance_type == "VPC_DEDICATED" {
                m.insert("DedicatedInstanceType".into(), json!("normal"));
            }
            m.insert("Status".into(), json!(i.status));
            m.insert("VpcIntranetEnable".into(), json!(i.vpc_intranet_enable));
            m.insert("UserVpcId".into(), json!(i.user_vpc_id));
            m.insert("UserVswitchId".into(), json!(i.user_vswitch_id));
            m.insert("VpcOwnerId".into(), json!(i.vpc_owner_id));
            m.insert("VpcSlbIntranetEnable".into(), json!(true));
            m.insert("VpcEgressAddress".into(), json!(i.vpc_egress_address));
            m.insert("InternetEgressAddress".into(), json!(i.internet_egress_address));
            if !i.intranet_segments.is_empty() {
                m.insert(
                    "IntranetSegments".into(),
                    json!(serde_json::to_string(&i.intranet_segments).unwrap_or_default()),
                );
            }
            m.insert("AclStatus".into(), json!(i.acl_status));
            m.insert("InstanceSpec".into(), json!("api.s1.small"));
            m.insert("InstanceRpsLimit".into(), json!(2500));
            m.insert("InstanceChargeType".into(), json!("PostPaid"));
            m.insert("HttpsPolicies".into(), json!("HTTPS2_TLS1_0"));
            m.insert("SupportIpv6".into(), json!(false));
            m.insert("EgressIpv6Enable".into(), json!(false));
            m.insert("CreatedTime".into(), json!(CREATED));
            m.insert("PrivateDnsList".into(), json!({"PrivateDns": []}));
            m.insert(
                "InstanceSpecAttributes".into(),
                json!({"SpecAttribute": [{"LocalName": "Maximum requests per second", "Value": "2500"}]}),
            );
            m.insert("Tags".into(), json!({"TagInfo": []}));
            Value::Object(m)
        })
        .collect();
    list_answer(items, p, 100, ctx, "Instances", "InstanceAttribute")
}

fn group_name(world: &World, gid: &str) -> String {
    world
        .groups
        .get(gid)
        .map(|g| g.name.clone())
        .unwrap_or_default()
}

fn group_region(world: &World, gid: &str) -> String {
    world
        .groups
        .get(gid)
        .map(|g| g.region.clone())
        .unwrap_or_default()
}

fn describe_deployed_apis(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let w = ctx.world;
    let mut items = Vec::new();
    for (id, a) in &w.apis {
        let region = group_region(w, &a.group_id);
        let keep = p.get("GroupId").is_none_or(|g| g == a.group_id)
            && p.get("ApiId").is_none_or(|x| x == id)
            && p.get("ApiName").is_none_or(|n| a.name.contains(n))
            && p.get("ApiPath").is_none_or(|x| x == a.path)
            && p.get("ApiMethod")
                .is_none_or(|m| m.eq_ignore_ascii_case(&a.method))
            && w.groups.contains_key(&a.group_id)
            && ctx.in_region(&region);
        if !keep {
            continue;
        }
        for stage in &a.deployed {
            if p.get("StageName").is_some_and(|s| s != stage) {
                continue;
            }
            items.push(json!({
                "RegionId": region, "GroupId": a.group_id, "GroupName": group_name(w, &a.group_id),
                "ApiId": id, "ApiName": a.name, "ApiPath": a.path, "ApiMethod": a.method,
                "StageName": stage, "Visibility": "PRIVATE", "Description": a.description,
                "DeployedTime": CREATED,
            }));
        }
    }
    list_answer(items, p, 100, ctx, "DeployedApis", "DeployedApiItem")
}

fn api_in_scope<'w>(p: &Params, ctx: &Ctx<'w>) -> Result<(&'w str, &'w ApiDef), ApiError> {
    let id = p.required("ApiId")?;
    let (id, a) = ctx
        .world
        .apis
        .get_key_value(id)
        .ok_or_else(|| ApiError::known("NotFoundApi"))?;
    let in_scope = p.get("GroupId").is_none_or(|g| g == a.group_id)
        && ctx.in_region(&group_region(ctx.world, &a.group_id));
    if !in_scope {
        return Err(ApiError::known("NotFoundApi"));
    }
    Ok((id.as_str(), a))
}

fn request_config(a: &ApiDef, escape: bool) -> Value {
    let mut m = json!({
        "RequestProtocol": a.protocols.join(","), "RequestHttpMethod": a.method,
        "RequestPath": a.path, "RequestMode": "PASSTHROUGH", "BodyFormat": "",
        "PostBodyDescription": "",
    });
    if escape {
        m["EscapePathParam"] = json!(false);
    }
    m
}

fn service_config(a: &ApiDef) -> Value {
    json!({
        "ServiceProtocol": "HTTP",
        "ServiceAddress": a.backend.map(|b| format!("http://{b}")).unwrap_or_default(),
        "ServicePath": a.backend_path.clone().unwrap_or_else(|| a.path.trim_end_matches('*').to_owned()),
        "ServiceHttpMethod": a.method,
        "ServiceTimeout": a.backend_timeout_ms.unwrap_or(10_000),
        "ServiceVpcEnable": "FALSE",
        "Mock": "FALSE",
    })
}

fn describe_deployed_api(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let stage = p.required("StageName")?;
    let (id, a) = api_in_scope(p, ctx)?;
    if !a.deployed.iter().any(|s| s == stage) {
        return Err(ApiError::with_detail(
            "NotFoundApi",
            &format!("The API is not deployed in the stage {stage}."),
        ));
    }
    let w = ctx.world;
    Ok(json!({
        "RequestId": ctx.request_id, "RegionId": group_region(w, &a.group_id),
        "GroupId": a.group_id, "GroupName": group_name(w, &a.group_id), "ApiId": id,
        "ApiName": a.name, "StageName": stage, "Description": a.description,
        "DeployedTime": CREATED, "Visibility": "PRIVATE", "AuthType": a.auth_type,
        "AllowSignatureMethod": "HmacSHA256", "DisableInternet": a.disable_internet,
        "ForceNonceCheck": false, "ResultType": "JSON", "ResultSample": "", "FailResultSample": "",
        "RequestConfig": request_config(a, false), "ServiceConfig": service_config(a),
        "RequestParameters": {"RequestParameter": []}, "SystemParameters": {"SystemParameter": []},
        "ErrorCodeSamples": {"ErrorCodeSample": []},
    }))
}

fn describe_api(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (id, a) = api_in_scope(p, ctx)?;
    let w = ctx.world;
    let stages = w
        .groups
        .get(&a.group_id)
        .map(|g| g.stages.clone())
        .unwrap_or_default();
    let infos: Vec<Value> = stages
        .iter()
        .map(|s| {
            let deployed = a.deployed.contains(s);
            json!({"StageName": s, "EffectiveVersion": if deployed { "1" } else { "" },
                   "DeployedStatus": if deployed { "DEPLOYED" } else { "NONDEPLOYED" }})
        })
        .collect();
    Ok(json!({
        "RequestId": ctx.request_id, "RegionId": group_region(w, &a.group_id),
        "GroupId": a.group_id, "GroupName": group_name(w, &a.group_id), "ApiId": id,
        "ApiName": a.name, "Description": a.description, "Visibility": "PRIVATE",
        "AuthType": a.auth_type,
        "AppCodeAuthType": if a.app_code { "HEADER_QUERY" } else { "DISABLE" },
        "AllowSignatureMethod": "HmacSHA256", "ForceNonceCheck": false,
        "DisableInternet": a.disable_internet, "ResultType": "JSON", "WebSocketApiType": "COMMON",
        "CreatedTime": CREATED, "ModifiedTime": CREATED,
        "RequestConfig": request_config(a, true), "ServiceConfig": service_config(a),
        "DeployedInfos": {"DeployedInfo": infos},
        "RequestParameters": {"RequestParameter": []}, "SystemParameters": {"SystemParameter": []},
    }))
}

fn describe_app_attributes(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let items: Vec<Value> = ctx
        .world
        .apps
        .iter()
        .filter(|(id, a)| {
            p.get("AppKey").is_none_or(|k| k == a.app_key)
                && p.get("AppId").is_none_or(|x| x == id.as_str())
                && p.get("AppName").is_none_or(|n| a.name.contains(n))
                && p.get("AppCode")
                    .is_none_or(|c| a.app_code.as_deref() == Some(c))
        })
        .map(|(id, a)| {
            json!({"AppId": id.parse::<u64>().unwrap_or_default(), "AppName": a.name,
                   "Description": a.description, "Disabled": a.disabled, "CreatedTime": CREATED,
                   "ModifiedTime": CREATED, "Extend": "", "Tags": {"TagInfo": []}})
        })
        .collect();
    list_answer(items, p, 100, ctx, "Apps", "AppAttribute")
}

fn stage_alias(stage: &str) -> &'static str {
    match stage {
        "RELEASE" => "线上",
        "PRE" => "预发",
        _ => "测试",
    }
}

fn describe_authorized_apps(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (api_id, _) = api_in_scope(p, ctx)?;
    let mut items = Vec::new();
    for (id, app) in &ctx.world.apps {
        if p.get("AppId").is_some_and(|x| x != id)
            || p.get("AppName").is_some_and(|n| !app.name.contains(n))
        {
            continue;
        }
        for z in &app.authorizations {
            if z.api_id != api_id || p.get("StageName").is_some_and(|s| s != z.stage) {
                continue;
            }
            items.push(json!({
                "AppId": id.parse::<u64>().unwrap_or_default(), "AppName": app.name,
                "StageName": z.stage, "StageAlias": stage_alias(&z.stage), "Operator": "PROVIDER",
                "AuthorizationSource": "CONSOLE", "AuthorizedTime": CREATED,
                "AuthVaildTime": AUTH_VALID_UNTIL, "Description": "",
                "AppDescription": app.description, "Tag": {"TagInfo": []},
            }));
        }
    }
    list_answer(items, p, 100, ctx, "AuthorizedApps", "AuthorizedApp")
}

fn describe_authorized_apis(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let app_id = p.required("AppId")?;
    let w = ctx.world;
    let app = w
        .apps
        .get(app_id)
        .ok_or_else(|| ApiError::known("NotFoundApp"))?;
    let items: Vec<Value> = app
        .authorizations
        .iter()
        .filter_map(|z| {
            let a = w.apis.get(&z.api_id)?;
            let region = group_region(w, &a.group_id);
            ctx.in_region(&region).then(|| {
                json!({
                    "ApiId": z.api_id, "ApiName": a.name, "GroupId": a.group_id,
                    "GroupName": group_name(w, &a.group_id), "RegionId": region,
                    "StageName": z.stage, "AuthorizedTime": CREATED,
                    "AuthVaildTime": AUTH_VALID_UNTIL, "AuthorizationSource": "CONSOLE",
                    "Operator": "PROVIDER", "Description": a.description,
                })
            })
        })
        .collect();
    list_answer(items, p, 100, ctx, "AuthorizedApis", "AuthorizedApi")
}

fn describe_whitelist(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let g = group_in_region(p.required("GroupId")?, ctx)?;
    Ok(json!({"RequestId": ctx.request_id, "VpcIds": g.vpc_whitelist.join(",")}))
}

fn describe_vswitch(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id = p.required("VSwitchId")?;
    let v = ctx
        .world
        .vswitches
        .get(id)
        .filter(|v| ctx.in_region(&v.region))
        .ok_or_else(|| ApiError::known("InvalidVSwitchId.NotFound"))?;
    let table_type = ctx
        .world
        .route_tables
        .get(&v.route_table_id)
        .map_or("System", |t| t.route_table_type.as_str());
    Ok(json!({
        "RequestId": ctx.request_id, "VSwitchId": id, "VSwitchName": v.name, "VpcId": v.vpc_id,
        "Status": v.status, "CidrBlock": v.cidr_block, "ZoneId": v.zone_id,
        "AvailableIpAddressCount": v.available_ip_address_count, "Description": "",
        "CreationTime": CREATED, "IsDefault": false, "NetworkAclId": "",
        "OwnerId": ctx.world.account_id, "EnabledIpv6": false,
        "RouteTable": {"RouteTableId": v.route_table_id, "RouteTableType": table_type},
        "Tags": {"Tag": []},
    }))
}

fn describe_vpc(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id = p.required("VpcId")?;
    let w = ctx.world;
    let v = w
        .vpcs
        .get(id)
        .filter(|v| ctx.in_region(&v.region))
        .ok_or_else(|| ApiError::known("InvalidVpcId.NotFound"))?;
    let vswitches: Vec<&String> = w
        .vswitches
        .iter()
        .filter(|(_, s)| s.vpc_id == id)
        .map(|(sid, _)| sid)
        .collect();
    let cens: Vec<Value> = w
        .cens_of(id)
        .into_iter()
        .map(|(cen, a)| json!({"CenId": cen, "CenOwnerId": w.account_id, "CenStatus": a.status}))
        .collect();
    Ok(json!({
        "RequestId": ctx.request_id, "VpcId": id, "VpcName": v.name, "RegionId": v.region,
        "Status": "Available", "CidrBlock": v.cidr_block, "VRouterId": v.v_router_id,
        "Description": "", "IsDefault": false, "OwnerId": w.account_id, "CreationTime": CREATED,
        "ClassicLinkEnabled": false, "EnabledIpv6": false,
        "VSwitchIds": {"VSwitchId": vswitches},
        "SecondaryCidrBlocks": {"SecondaryCidrBlock": []}, "UserCidrs": {"UserCidr": []},
        "AssociatedCens": {"AssociatedCen": cens},
        "CloudResources": {"CloudResourceSetType": []}, "Tags": {"Tag": []},
    }))
}

fn describe_route_tables(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let w = ctx.world;
    let items: Vec<Value> = w
        .route_tables
        .iter()
        .filter(|(id, t)| {
            p.get("RouteTableId").is_none_or(|x| x == id.as_str())
                && p.get("VpcId").is_none_or(|x| x == t.vpc_id)
                && p.get("RouteTableType")
                    .is_none_or(|x| x == t.route_table_type)
                && ctx.in_region(&t.region)
        })
        .map(|(id, t)| {
            let vswitches: Vec<&String> = w
                .vswitches
                .iter()
                .filter(|(_, s)| s.route_table_id == *id)
                .map(|(sid, _)| sid)
                .collect();
            let router = w
                .vpcs
                .get(&t.vpc_id)
                .map(|v| v.v_router_id.clone())
                .unwrap_or_default();
            json!({
                "RouteTableId": id, "RouteTableName": t.name, "RouteTableType": t.route_table_type,
                "VpcId": t.vpc_id, "VSwitchIds": {"VSwitchId": vswitches},
                "AssociateType": "VSwitch", "RouterId": router, "RouterType": "VRouter",
                "Status": "Available", "CreationTime": CREATED, "Description": "",
                "OwnerId": w.account_id, "Tags": {"Tag": []}, "GatewayIds": {"GatewayIds": []},
            })
        })
        .collect();
    list_answer(items, p, 50, ctx, "RouterTableList", "RouterTableListType")
}

fn describe_route_entries(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    p.required("RegionId")?;
    let table_id = p.required("RouteTableId")?;
    let w = ctx.world;
    let table = w
        .route_tables
        .get(table_id)
        .filter(|t| ctx.in_region(&t.region))
        .ok_or_else(|| ApiError::known("InvalidRouteTable.NotFound"))?;
    let dests = p.list("DestCidrBlockList");
    if dests.len() > 20 {
        return Err(ApiError::invalid("DestCidrBlockList", "at most 20 entries"));
    }
    let max = p.int("MaxResult")?.unwrap_or(10);
    if !(1..=100).contains(&max) {
        return Err(ApiError::invalid("MaxResult", "must be 1 to 100"));
    }
    let start: usize = match p.get("NextToken") {
        None => 0,
        Some(t) => t.parse().map_err(|_| {
            ApiError::new(
                400,
                "IllegalParam.NextToken",
                "The specified NextToken is invalid.",
            )
        })?,
    };
    let matching: Vec<Value> = table
        .entries
        .iter()
        .filter(|e| {
            p.get("DestinationCidrBlock").is_none_or(|d| d == e.destination_cidr_block)
                && (dests.is_empty() || dests.contains(&e.destination_cidr_block.as_str()))
                && p.get("RouteEntryType").is_none_or(|t| t == e.entry_type)
                && p.get("NextHopType").is_none_or(|t| t == e.next_hop_type)
                && p.get("NextHopId").is_none_or(|t| t == e.next_hop_id)
                && p.get("RouteEntryId").is_none_or(|t| t == e.id)
                && p.get("RouteEntryName").is_none_or(|t| t == e.name)
                && p.get("IpVersion").is_none_or(|v| v.eq_ignore_ascii_case("IPv4"))
        })
        .map(|e| {
            let hops: Vec<Value> = if e.next_hop_type.is_empty() {
                Vec::new()
            } else {
                vec![json!({
                    "NextHopType": e.next_hop_type, "NextHopId": e.next_hop_id,
                    "NextHopRegionId": if e.next_hop_region_id.is_empty() { &table.region } else { &e.next_hop_region_id },
                    "Enabled": 1,
                })]
            };
            json!({
                "RouteEntryId": e.id, "RouteEntryName": e.name, "RouteTableId": table_id,
                "DestinationCidrBlock": e.destination_cidr_block, "Type": e.entry_type,
                "Status": e.status, "IpVersion": "IPv4", "Description": e.description,
                "GmtModified": CREATED,
                "Origin": if e.entry_type == "System" { "SystemCreate" } else { "CustomCreate" },
                "NextHops": {"NextHop": hops},
            })
        })
        .collect();
    let total = matching.len();
    let end = start.saturating_add(usize::try_from(max).unwrap_or(usize::MAX));
    let page: Vec<Value> = matching.into_iter().skip(start).take(end - start).collect();
    let mut m = Map::new();
    m.insert("RequestId".into(), json!(ctx.request_id));
    m.insert("TotalCount".into(), json!(total));
    if end < total {
        m.insert("NextToken".into(), json!(end.to_string()));
    }
    m.insert("RouteEntrys".into(), json!({ "RouteEntry": page }));
    Ok(Value::Object(m))
}

fn cen<'w>(p: &Params, ctx: &Ctx<'w>) -> Result<(&'w str, &'w super::world::Cen), ApiError> {
    let id = p.required("CenId")?;
    ctx.world
        .cens
        .get_key_value(id)
        .map(|(k, v)| (k.as_str(), v))
        .ok_or_else(|| ApiError::known("ParameterCenInstanceId"))
}

fn describe_cen_children(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (id, c) = cen(p, ctx)?;
    let items: Vec<Value> = c
        .attachments
        .iter()
        .filter(|a| {
            p.get("ChildInstanceRegionId").is_none_or(|r| r == a.region)
                && p.get("ChildInstanceType")
                    .is_none_or(|t| t == a.instance_type)
        })
        .map(|a| {
            json!({
                "CenId": id, "ChildInstanceId": a.instance_id, "ChildInstanceType": a.instance_type,
                "ChildInstanceRegionId": a.region,
                "ChildInstanceOwnerId": a.owner_id.unwrap_or(ctx.world.account_id),
                "Status": a.status, "ChildInstanceAttachTime": CREATED,
            })
        })
        .collect();
    list_answer(items, p, 50, ctx, "ChildInstances", "ChildInstance")
}

fn describe_route_services(p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (id, c) = cen(p, ctx)?;
    let items: Vec<Value> = c
        .route_services
        .iter()
        .filter(|r| {
            p.get("Host").is_none_or(|h| h == r.host)
                && p.get("HostRegionId").is_none_or(|x| x == r.host_region_id)
                && p.get("HostVpcId").is_none_or(|x| x == r.host_vpc_id)
                && p.get("AccessRegionId")
                    .is_none_or(|x| x == r.access_region_id)
        })
        .map(|r| {
            let cidrs = if r.cidrs.is_empty() {
                vec![r.host.clone()]
            } else {
                r.cidrs.clone()
            };
            json!({
                "CenId": id, "Host": r.host, "HostRegionId": r.host_region_id,
                "HostVpcId": r.host_vpc_id, "AccessRegionId": r.access_region_id,
                "Status": r.status, "Description": r.description, "Cidrs": {"Cidr": cidrs},
            })
        })
        .collect();
    list_answer(
        items,
        p,
        50,
        ctx,
        "RouteServiceEntries",
        "RouteServiceEntry",
    )
}

/// FC 3.0 `GetFunction`: the body is the `Function` object itself, camelCase, no wrapper
/// (control-plane.md §4.1). `qualifier` defaults to `LATEST`.
pub fn get_function(name: &str, p: &Params, ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let w = ctx.world;
    let f = w
        .functions
        .get(name)
        .filter(|f| ctx.in_region(&f.region))
        .ok_or_else(|| ApiError::known("FunctionNotFound"))?;
    let qualifier = p.get("qualifier").unwrap_or("LATEST");
    if !f.qualifiers.iter().any(|q| q == qualifier) {
        let code = if qualifier.bytes().all(|b| b.is_ascii_digit()) {
            "VersionNotFound"
        } else {
            "AliasNotFound"
        };
        return Err(ApiError::known(code));
    }
    let id = super::world::api_id(&f.region, "function", name);
    let mut m = Map::new();
    m.insert("functionName".into(), json!(name));
    m.insert(
        "functionId".into(),
        json!(format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..]
        )),
    );
    m.insert(
        "functionArn".into(),
        json!(format!(
            "acs:fc:{}:{}:functions/{name}",
            f.region, w.account_id
        )),
    );
    m.insert("description".into(), json!(""));
    m.insert("runtime".into(), json!(f.runtime));
    m.insert("handler".into(), json!("index.handler"));
    m.insert("role".into(), json!(f.role));
    m.insert("internetAccess".into(), json!(f.internet_access));
    match &f.vpc_config {
        Some(v) => {
            m.insert(
                "vpcConfig".into(),
                json!({"vpcId": v.vpc_id, "vSwitchIds": v.v_switch_ids, "securityGroupId": v.security_group_id}),
            );
        }
        None if w.quirks.function_without_vpc == "absent" => {}
        None => {
            m.insert(
                "vpcConfig".into(),
                json!({"vpcId": "", "vSwitchIds": [], "securityGroupId": ""}),
            );
        }
    }
    m.insert(
        "disableInjectCredentials".into(),
        json!(f.disable_inject_credentials),
    );
    m.insert(
        "customRuntimeConfig".into(),
        json!({"command": ["/code/bootstrap"], "args": [], "port": 9000}),
    );
    m.insert("state".into(), json!("Active"));
    m.insert("lastUpdateStatus".into(), json!("Successful"));
    m.insert("timeout".into(), json!(f.timeout));
    m.insert("memorySize".into(), json!(f.memory_size));
    m.insert("cpu".into(), json!(f64::from(f.memory_size) / 1024.0));
    m.insert("diskSize".into(), json!(512));
    m.insert("instanceConcurrency".into(), json!(1));
    m.insert("environmentVariables".into(), json!({}));
    m.insert("layers".into(), json!([]));
    m.insert("tags".into(), json!([]));
    m.insert("createdTime".into(), json!(CREATED));
    m.insert("lastModifiedTime".into(), json!(CREATED));
    Ok(Value::Object(m))
}

/// At most this many `MetricList` entries per `PutCustomMetric` call (its API page: 1–21).
pub const MAX_METRICS_PER_CALL: usize = 21;

fn metric_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn metric_time_ok(t: &str) -> bool {
    // Milliseconds since the epoch, or `20171012T132456.888+0800`.
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let b = t.as_bytes();
    b.len() == 24
        && b[8] == b'T'
        && b[15] == b'.'
        && (b[19] == b'+' || b[19] == b'-')
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 8 | 15 | 19) || c.is_ascii_digit())
}

/// `PutCustomMetric`'s `MetricList.N.*`, checked against observability.md §3.2: 1–21
/// entries, `MetricName` `[A-Za-z][A-Za-z0-9_]*`, `Dimensions` a JSON object of strings
/// without `=`, `&` or `,`, `Values` a JSON object of numbers, `Time` in milliseconds or
/// `yyyyMMddTHHmmss.SSS+zzzz`, `Type` 0 (raw) or 1 (aggregated). Names and values longer than
/// 64 bytes are truncated by CloudMonitor, not refused. Returns the entries as JSON.
pub fn metric_list(p: &Params) -> Result<Vec<Value>, ApiError> {
    let mut entries: BTreeMap<u64, BTreeMap<&str, &str>> = BTreeMap::new();
    for (k, v) in &p.0 {
        let Some(rest) = k.strip_prefix("MetricList.") else {
            continue;
        };
        let Some((n, field)) = rest.split_once('.') else {
            return Err(ApiError::invalid(k, "expected MetricList.N.Field"));
        };
        let n: u64 = n
            .parse()
            .map_err(|_| ApiError::invalid(k, "N is not an integer"))?;
        entries.entry(n).or_default().insert(field, v.as_str());
    }
    if entries.is_empty() {
        return Err(ApiError::missing("MetricList"));
    }
    if entries.len() > MAX_METRICS_PER_CALL {
        return Err(ApiError::invalid(
            "MetricList",
            &format!("at most {MAX_METRICS_PER_CALL} entries per call"),
        ));
    }
    let mut out = Vec::new();
    for (n, e) in entries {
        let field = |name: &str| -> Result<&str, ApiError> {
            e.get(name)
                .copied()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ApiError::missing(&format!("MetricList.{n}.{name}")))
        };
        let name = field("MetricName")?;
        if !metric_name_ok(name) {
            return Err(ApiError::invalid(
                &format!("MetricList.{n}.MetricName"),
                "letters, digits and _ only, starting with a letter",
            ));
        }
        let dims: Map<String, Value> =
            serde_json::from_str(field("Dimensions")?).map_err(|_| {
                ApiError::invalid(&format!("MetricList.{n}.Dimensions"), "not a JSON object")
            })?;
        for (k, v) in &dims {
            let Some(v) = v.as_str() else {
                return Err(ApiError::invalid(
                    &format!("MetricList.{n}.Dimensions"),
                    "values must be strings",
                ));
            };
            if k.contains(['=', '&', ',']) || v.contains(['=', '&', ',']) {
                return Err(ApiError::invalid(
                    &format!("MetricList.{n}.Dimensions"),
                    "names and values may not contain = & ,",
                ));
            }
        }
        let values: Map<String, Value> = serde_json::from_str(field("Values")?).map_err(|_| {
            ApiError::invalid(&format!("MetricList.{n}.Values"), "not a JSON object")
        })?;
        if values.is_empty() || !values.values().all(Value::is_number) {
            return Err(ApiError::invalid(
                &format!("MetricList.{n}.Values"),
                "a non-empty object of numbers, e.g. {\"value\":10.5}",
            ));
        }
        let time = field("Time")?;
        if !metric_time_ok(time) {
            return Err(ApiError::invalid(
                &format!("MetricList.{n}.Time"),
                "milliseconds since the epoch or yyyyMMddTHHmmss.SSS+zzzz",
            ));
        }
        let ty: u8 = match field("Type")? {
            "0" => 0,
            "1" => 1,
            _ => {
                return Err(ApiError::invalid(
                    &format!("MetricList.{n}.Type"),
                    "0 (raw) or 1 (aggregated)",
                ))
            }
        };
        let int_field = |name: &str| -> Result<Option<u64>, ApiError> {
            e.get(name)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    v.parse::<u64>().map_err(|_| {
                        ApiError::invalid(&format!("MetricList.{n}.{name}"), "not an integer")
                    })
                })
                .transpose()
        };
        let mut m = json!({"MetricName": name, "GroupId": int_field("GroupId")?.unwrap_or(0),
                           "Dimensions": dims, "Values": values, "Time": time, "Type": ty});
        if let Some(period) = int_field("Period")? {
            m["Period"] = json!(period);
        }
        out.push(m);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn metric_rules() {
        let ok = [
            ("MetricList.1.MetricName", "probe_ok"),
            ("MetricList.1.Dimensions", r#"{"target":"cloudapi"}"#),
            ("MetricList.1.Values", r#"{"value":1}"#),
            ("MetricList.1.Time", "1700000000000"),
            ("MetricList.1.Type", "0"),
        ];
        let got = metric_list(&params(&ok)).unwrap();
        assert_eq!(got[0]["MetricName"], "probe_ok");
        assert_eq!(got[0]["GroupId"], 0);
        let with = |k: &str, v: &str| {
            let mut p: Vec<(&str, &str)> = ok.iter().copied().filter(|(n, _)| *n != k).collect();
            p.push((k, v));
            metric_list(&params(&p))
        };
        assert!(with("MetricList.1.MetricName", "1bad").is_err());
        assert!(with("MetricList.1.Dimensions", r#"{"a":"x=y"}"#).is_err());
        assert!(with("MetricList.1.Values", r#"{"value":"ten"}"#).is_err());
        assert!(with("MetricList.1.Time", "yesterday").is_err());
        assert!(with("MetricList.1.Time", "20171012T132456.888+0800").is_ok());
        assert!(with("MetricList.1.Type", "2").is_err());
        assert_eq!(
            metric_list(&params(&[])).unwrap_err().code,
            "MissingMetricList"
        );
        let many: Vec<(String, String)> = (1..=22)
            .flat_map(|n| {
                ok.iter()
                    .map(move |(k, v)| (k.replace(".1.", &format!(".{n}.")), (*v).to_owned()))
            })
            .collect();
        assert!(metric_list(&Params(many)).is_err());
    }
}
