//! The stand-in's world: the configuration Alibaba Cloud's control plane would hold for the
//! seed's setup (API groups, the gateway instance, APIs and apps, the function, VPCs,
//! vSwitches, route tables, CEN, AccessKeys and their RAM denials).
//!
//! It is the one source of truth of the stand-in: the control plane answers from it, the DNS
//! zone and the gateway's configuration are projections of it ([`World::sync_zone`],
//! [`World::gateway_config`]), so disabling a group's VPC domain both removes the name from the
//! DNS and empties `VpcDomain`. Its JSON form (camelCase, objects keyed by resource id) is the
//! `--world` file of `apigw-standin control-plane` and what `/_standin/world` reads and patches;
//! `crates/standin/CONTROL-PLANE.md` documents it.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hyper::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{App, Auth};
use crate::dns::{Behaviour, Zone};
use crate::gateway::{Api, GatewayConfig, Group, Protocols};

fn yes() -> bool {
    true
}
fn slash() -> String {
    "/".into()
}
fn normal() -> String {
    "NORMAL".into()
}
fn stages() -> Vec<String> {
    vec!["RELEASE".into(), "PRE".into(), "TEST".into()]
}
fn dedicated() -> String {
    "VPC_DEDICATED".into()
}
fn running() -> String {
    "RUNNING".into()
}
fn off() -> String {
    "off".into()
}
fn both_protocols() -> Vec<String> {
    vec!["HTTP".into(), "HTTPS".into()]
}
fn anonymous() -> String {
    "ANONYMOUS".into()
}
fn latest() -> Vec<String> {
    vec!["LATEST".into()]
}
fn custom_runtime() -> String {
    "custom.debian10".into()
}
fn sixty() -> u32 {
    60
}
fn memory() -> u32 {
    128
}
fn none_str() -> String {
    "None".into()
}
fn available() -> String {
    "Available".into()
}
fn system() -> String {
    "System".into()
}
fn vpc_type() -> String {
    "VPC".into()
}
fn attached() -> String {
    "Attached".into()
}
fn active() -> String {
    "Active".into()
}
fn ip_count() -> u64 {
    252
}

/// The whole world. Every map is keyed by the resource's id (apps by their numeric AppId).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct World {
    /// The account that owns everything (`OwnerId`, `VpcOwnerId`, ARNs).
    #[serde(default)]
    pub account_id: u64,
    /// The AccessKeys the control plane accepts.
    #[serde(default)]
    pub access_keys: BTreeMap<String, AccessKey>,
    #[serde(default)]
    pub groups: BTreeMap<String, ApiGroup>,
    #[serde(default)]
    pub instances: BTreeMap<String, Instance>,
    #[serde(default)]
    pub apis: BTreeMap<String, ApiDef>,
    /// Keyed by the app's AppId (an integer, written as a string key).
    #[serde(default)]
    pub apps: BTreeMap<String, AppDef>,
    #[serde(default)]
    pub functions: BTreeMap<String, Function>,
    #[serde(default)]
    pub vpcs: BTreeMap<String, Vpc>,
    #[serde(default)]
    pub vswitches: BTreeMap<String, VSwitch>,
    #[serde(default)]
    pub route_tables: BTreeMap<String, RouteTable>,
    #[serde(default)]
    pub cens: BTreeMap<String, Cen>,
    /// Answers the spec leaves open (unverified there), so that a client can be tested against
    /// both.
    #[serde(default)]
    pub quirks: Quirks,
}

/// An AccessKey: long-term (`LTAI…`) or STS (`STS.…`, with its token and expiry).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessKey {
    pub secret: String,
    /// The STS token that must accompany the key (`x-acs-security-token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_token: Option<String>,
    /// When the STS credentials expire, `yyyy-MM-ddTHH:mm:ssZ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    /// RAM actions denied to the key: `apigateway:DescribeInstances`, a bare action name (any
    /// product), `apigateway:*`, or `*`. Everything else is allowed.
    #[serde(default)]
    pub deny: Vec<String>,
    /// The principal's display name in `AccessDeniedDetail`.
    #[serde(default)]
    pub principal: String,
}

/// An API group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiGroup {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub region: String,
    /// The instance that serves the group.
    #[serde(default)]
    pub instance_id: String,
    /// The group's VPC second-level domain switch (`ModifyIntranetDomainPolicy`). Off: the
    /// name is NXDOMAIN in the VPC DNS and `VpcDomain` is empty.
    #[serde(default = "yes")]
    pub vpc_domain_enabled: bool,
    /// What the VPC domain resolves to while enabled (the instance's VIPs).
    #[serde(default)]
    pub vpc_domain_addresses: Vec<IpAddr>,
    #[serde(default)]
    pub custom_domains: Vec<String>,
    #[serde(default = "slash")]
    pub base_path: String,
    /// `NORMAL` / `DELETE`.
    #[serde(default = "normal")]
    pub status: String,
    /// `NORMAL` / `LOCKED`.
    #[serde(default = "normal")]
    pub billing_status: String,
    /// `NORMAL` / `LOCKED`.
    #[serde(default = "normal")]
    pub illegal_status: String,
    /// `DescribeApiGroupVpcWhitelist`'s VPC ids (empty: no whitelist).
    #[serde(default)]
    pub vpc_whitelist: Vec<String>,
    #[serde(default = "stages")]
    pub stages: Vec<String>,
}

/// An API Gateway instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Instance {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub zone_id: String,
    /// `VPC_DEDICATED` / `VPC_SHARED`.
    #[serde(default = "dedicated")]
    pub instance_type: String,
    #[serde(default = "running")]
    pub status: String,
    /// The inbound-VPC switch ("bind the user's VPC").
    #[serde(default)]
    pub vpc_intranet_enable: bool,
    /// The bound inbound VPC.
    #[serde(default)]
    pub user_vpc_id: String,
    #[serde(default)]
    pub user_vswitch_id: String,
    /// The account that owns the bound VPC (0: none bound).
    #[serde(default)]
    pub vpc_owner_id: u64,
    #[serde(default)]
    pub vpc_egress_address: String,
    #[serde(default)]
    pub internet_egress_address: String,
    /// `IntranetSegments` (written as a JSON array inside a string in the answer).
    #[serde(default)]
    pub intranet_segments: Vec<String>,
    /// `on` / `off`.
    #[serde(default = "off")]
    pub acl_status: String,
}

/// An API of a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiDef {
    pub group_id: String,
    #[serde(default)]
    pub name: String,
    pub method: String,
    /// The request path; a trailing `*` matches by prefix (the stand-in gateway's rule).
    pub path: String,
    /// `HTTP` and/or `HTTPS`.
    #[serde(default = "both_protocols")]
    pub protocols: Vec<String>,
    /// `ANONYMOUS` / `APP`.
    #[serde(default = "anonymous")]
    pub auth_type: String,
    /// AppCode accepted besides the signature (`AppCodeAuthType` `HEADER_QUERY`).
    #[serde(default)]
    pub app_code: bool,
    /// The stages it is published to.
    #[serde(default)]
    pub deployed: Vec<String>,
    #[serde(default)]
    pub disable_internet: bool,
    #[serde(default)]
    pub description: String,
    /// The backend the stand-in gateway calls (none: the gateway does not serve the API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<SocketAddr>,
    /// The backend path (default: `path` without its `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_path: Option<String>,
    /// The API's backend timeout (default: the gateway's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_timeout_ms: Option<u64>,
    /// The API's throttling policy, calls per second (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_second: Option<u32>,
}

/// An app and where it is authorized.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppDef {
    #[serde(default)]
    pub name: String,
    pub app_key: String,
    pub app_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_code: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub authorizations: Vec<Authorization>,
}

/// An app's authorization for one API in one stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Authorization {
    pub api_id: String,
    pub stage: String,
}

/// A function (FC 3.0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Function {
    #[serde(default)]
    pub region: String,
    /// The function's RAM role ARN ("" when none).
    #[serde(default)]
    pub role: String,
    /// FC's default is true.
    #[serde(default = "yes")]
    pub internet_access: bool,
    /// None: the function is not in a VPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<VpcConfig>,
    /// Qualifiers `GetFunction` accepts.
    #[serde(default = "latest")]
    pub qualifiers: Vec<String>,
    #[serde(default = "custom_runtime")]
    pub runtime: String,
    #[serde(default = "sixty")]
    pub timeout: u32,
    #[serde(default = "memory")]
    pub memory_size: u32,
    /// `None` / `Env` / `Request` / `All`.
    #[serde(default = "none_str")]
    pub disable_inject_credentials: String,
}

/// A function's `vpcConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VpcConfig {
    pub vpc_id: String,
    #[serde(default)]
    pub v_switch_ids: Vec<String>,
    #[serde(default)]
    pub security_group_id: String,
}

/// A VPC. Its vSwitches and associated CENs are derived from `vswitches` and `cens`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Vpc {
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub cidr_block: String,
    #[serde(default)]
    pub v_router_id: String,
}

/// A vSwitch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VSwitch {
    pub vpc_id: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub zone_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub cidr_block: String,
    #[serde(default)]
    pub route_table_id: String,
    /// `Available` / `Pending`.
    #[serde(default = "available")]
    pub status: String,
    #[serde(default = "ip_count")]
    pub available_ip_address_count: u64,
}

/// A route table and its entries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteTable {
    pub vpc_id: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub name: String,
    /// `System` / `Custom`.
    #[serde(default = "system")]
    pub route_table_type: String,
    #[serde(default)]
    pub entries: Vec<RouteEntry>,
}

/// A route entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteEntry {
    pub id: String,
    pub destination_cidr_block: String,
    /// `System` / `Custom` / `CEN` / `BGP` / `ECR`.
    #[serde(rename = "type", default = "system")]
    pub entry_type: String,
    #[serde(default)]
    pub next_hop_type: String,
    #[serde(default)]
    pub next_hop_id: String,
    #[serde(default)]
    pub next_hop_region_id: String,
    #[serde(default = "available")]
    pub status: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A CEN instance (Basic Edition): attached networks and cloud-service route entries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cen {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub attachments: Vec<CenAttachment>,
    #[serde(default)]
    pub route_services: Vec<RouteService>,
}

/// A network attached to a CEN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CenAttachment {
    pub instance_id: String,
    #[serde(default = "vpc_type")]
    pub instance_type: String,
    #[serde(default)]
    pub region: String,
    /// Default: the world's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<u64>,
    #[serde(default = "attached")]
    pub status: String,
}

/// A cloud-service route (`ResolveAndRouteServiceInCen`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteService {
    pub host: String,
    pub host_region_id: String,
    pub host_vpc_id: String,
    pub access_region_id: String,
    /// `Active` / `Creating` / `Deleting`.
    #[serde(default = "active")]
    pub status: String,
    /// Default: `[host]`.
    #[serde(default)]
    pub cidrs: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// How to answer where the spec leaves open (unverified there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quirks {
    /// `DescribeApiGroup`'s `VpcDomain` while the VPC domain is off: `"empty"` (`""`, the
    /// default) or `"absent"` (no key) (control-plane.md §12 question 1).
    #[serde(default = "empty")]
    pub disabled_vpc_domain: String,
    /// `GetFunction`'s `vpcConfig` of a function outside any VPC: `"empty"` (`{"vpcId": "",
    /// "vSwitchIds": [], "securityGroupId": ""}`, the default) or `"absent"`.
    #[serde(default = "empty")]
    pub function_without_vpc: String,
}

fn empty() -> String {
    "empty".into()
}

impl Default for Quirks {
    fn default() -> Self {
        Self {
            disabled_vpc_domain: empty(),
            function_without_vpc: empty(),
        }
    }
}

/// A change to the world that names something the world does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorldError(pub String);

impl std::fmt::Display for WorldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WorldError {}

fn unknown(what: &str, id: &str) -> WorldError {
    WorldError(format!("the world has no {what} {id:?}"))
}

pub use crate::vpc_domain;

/// A stable ApiId for an API of `group` (32 hex digits, like API Gateway's).
pub fn api_id(group: &str, method: &str, path: &str) -> String {
    use md5::Digest as _;
    md5::Md5::digest(format!("{group} {method} {path}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl World {
    /// Reads a world from its JSON form and checks it ([`World::validate`]).
    pub fn from_json(value: Value) -> Result<Self, WorldError> {
        let w: World =
            serde_json::from_value(value).map_err(|e| WorldError(format!("invalid world: {e}")))?;
        w.validate()?;
        Ok(w)
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Checks what serde cannot: app keys are AppIds (integers), expirations are dates, stages
    /// and methods are known.
    pub fn validate(&self) -> Result<(), WorldError> {
        for id in self.apps.keys() {
            id.parse::<u64>().map_err(|_| {
                WorldError(format!("apps: the key {id:?} is not an AppId (an integer)"))
            })?;
        }
        for (id, k) in &self.access_keys {
            if let Some(exp) = &k.expiration {
                super::verify::parse_date(exp).ok_or_else(|| {
                    WorldError(format!(
                        "accessKeys.{id}.expiration: {exp:?} is not yyyy-MM-ddTHH:mm:ssZ"
                    ))
                })?;
            }
        }
        for (id, a) in &self.apis {
            Method::from_bytes(a.method.as_bytes()).map_err(|_| {
                WorldError(format!("apis.{id}.method: {:?} is not a method", a.method))
            })?;
            for s in &a.deployed {
                if !crate::gateway::STAGES.contains(&s.as_str()) {
                    return Err(WorldError(format!(
                        "apis.{id}.deployed: unknown stage {s:?}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Applies an RFC 7386 JSON merge patch (objects merge key by key, `null` deletes, anything
    /// else replaces) and checks the result.
    pub fn merge_patch(&self, patch: &Value) -> Result<Self, WorldError> {
        let mut doc = self.to_json();
        merge(&mut doc, patch);
        Self::from_json(doc)
    }

    /// The group's `VpcDomain`: its VPC second-level domain, or `None` while it is disabled.
    pub fn vpc_domain_of(&self, group_id: &str) -> Option<String> {
        let g = self.groups.get(group_id)?;
        g.vpc_domain_enabled
            .then(|| vpc_domain(group_id, &g.region))
    }

    /// The VPCs attached to CENs, as `(cen id, attachment)`.
    pub fn cens_of(&self, vpc_id: &str) -> Vec<(&str, &CenAttachment)> {
        self.cens
            .iter()
            .flat_map(|(id, c)| c.attachments.iter().map(move |a| (id.as_str(), a)))
            .filter(|(_, a)| a.instance_id == vpc_id)
            .collect()
    }

    /// Turns the group's VPC second-level domain off: NXDOMAIN in the DNS, `VpcDomain` empty.
    pub fn disable_vpc_domain(&mut self, group_id: &str) -> Result<(), WorldError> {
        self.group_mut(group_id)?.vpc_domain_enabled = false;
        Ok(())
    }

    /// Turns the group's VPC second-level domain on.
    pub fn enable_vpc_domain(&mut self, group_id: &str) -> Result<(), WorldError> {
        self.group_mut(group_id)?.vpc_domain_enabled = true;
        Ok(())
    }

    fn group_mut(&mut self, id: &str) -> Result<&mut ApiGroup, WorldError> {
        self.groups.get_mut(id).ok_or_else(|| unknown("group", id))
    }

    fn instance_mut(&mut self, id: &str) -> Result<&mut Instance, WorldError> {
        self.instances
            .get_mut(id)
            .ok_or_else(|| unknown("instance", id))
    }

    /// Binds `vpc_id` as the instance's inbound VPC (`ModifyInstanceVpcAttributeForConsole`),
    /// with the VPC's first vSwitch in the instance's region (or its first vSwitch).
    pub fn bind_inbound_vpc(&mut self, instance_id: &str, vpc_id: &str) -> Result<(), WorldError> {
        if !self.vpcs.contains_key(vpc_id) {
            return Err(unknown("VPC", vpc_id));
        }
        let region = self
            .instances
            .get(instance_id)
            .ok_or_else(|| unknown("instance", instance_id))?
            .region
            .clone();
        let vswitch = self
            .vswitches
            .iter()
            .filter(|(_, v)| v.vpc_id == vpc_id)
            .min_by_key(|(_, v)| v.region != region)
            .map(|(id, _)| id.clone())
            .unwrap_or_default();
        let owner = self.account_id;
        let i = self.instance_mut(instance_id)?;
        i.vpc_intranet_enable = true;
        i.user_vpc_id = vpc_id.to_owned();
        i.user_vswitch_id = vswitch;
        i.vpc_owner_id = owner;
        Ok(())
    }

    /// Removes the instance's inbound VPC (`DeleteVpcAccess=true`).
    pub fn unbind_inbound_vpc(&mut self, instance_id: &str) -> Result<(), WorldError> {
        let i = self.instance_mut(instance_id)?;
        i.vpc_intranet_enable = false;
        i.user_vpc_id.clear();
        i.user_vswitch_id.clear();
        i.vpc_owner_id = 0;
        Ok(())
    }

    /// Denies the RAM `action` (e.g. `apigateway:DescribeInstances`) to the AccessKey.
    pub fn deny(&mut self, access_key_id: &str, action: &str) -> Result<(), WorldError> {
        let k = self
            .access_keys
            .get_mut(access_key_id)
            .ok_or_else(|| unknown("AccessKey", access_key_id))?;
        if !k.deny.iter().any(|a| a == action) {
            k.deny.push(action.to_owned());
        }
        Ok(())
    }

    /// Lifts a denial set by [`World::deny`].
    pub fn allow(&mut self, access_key_id: &str, action: &str) -> Result<(), WorldError> {
        let k = self
            .access_keys
            .get_mut(access_key_id)
            .ok_or_else(|| unknown("AccessKey", access_key_id))?;
        k.deny.retain(|a| a != action);
        Ok(())
    }

    /// Sets when the AccessKey's STS credentials expire.
    pub fn set_expiration(
        &mut self,
        access_key_id: &str,
        at: SystemTime,
    ) -> Result<(), WorldError> {
        let k = self
            .access_keys
            .get_mut(access_key_id)
            .ok_or_else(|| unknown("AccessKey", access_key_id))?;
        k.expiration = Some(super::verify::format_date(at));
        Ok(())
    }

    /// Whether `action` of the RAM product `ram_code` is denied to the key.
    pub fn denied(&self, access_key_id: &str, ram_code: &str, action: &str) -> bool {
        let Some(k) = self.access_keys.get(access_key_id) else {
            return false;
        };
        let full = format!("{ram_code}:{action}");
        let product_all = format!("{ram_code}:*");
        k.deny
            .iter()
            .any(|d| d == "*" || *d == full || *d == product_all || d == action)
    }

    /// The ApiId of the API of `group` with `method` and `path`.
    pub fn find_api(&self, group_id: &str, method: &str, path: &str) -> Option<String> {
        self.apis
            .iter()
            .find(|(_, a)| {
                a.group_id == group_id && a.method.eq_ignore_ascii_case(method) && a.path == path
            })
            .map(|(id, _)| id.clone())
    }

    /// Publishes the API to `stage` (`DeployApi`).
    pub fn deploy(&mut self, api_id: &str, stage: &str) -> Result<(), WorldError> {
        let a = self
            .apis
            .get_mut(api_id)
            .ok_or_else(|| unknown("API", api_id))?;
        if !a.deployed.iter().any(|s| s == stage) {
            a.deployed.push(stage.to_owned());
        }
        Ok(())
    }

    /// Takes the API offline in `stage` (`AbolishApi`).
    pub fn undeploy(&mut self, api_id: &str, stage: &str) -> Result<(), WorldError> {
        let a = self
            .apis
            .get_mut(api_id)
            .ok_or_else(|| unknown("API", api_id))?;
        a.deployed.retain(|s| s != stage);
        Ok(())
    }

    /// Authorizes the app (by AppId) for the API in `stage`.
    pub fn authorize(&mut self, app_id: u64, api_id: &str, stage: &str) -> Result<(), WorldError> {
        let app = self
            .apps
            .get_mut(&app_id.to_string())
            .ok_or_else(|| unknown("app", &app_id.to_string()))?;
        let auth = Authorization {
            api_id: api_id.to_owned(),
            stage: stage.to_owned(),
        };
        if !app.authorizations.contains(&auth) {
            app.authorizations.push(auth);
        }
        Ok(())
    }

    /// Removes the app's authorization for the API in `stage`.
    pub fn revoke(&mut self, app_id: u64, api_id: &str, stage: &str) -> Result<(), WorldError> {
        let app = self
            .apps
            .get_mut(&app_id.to_string())
            .ok_or_else(|| unknown("app", &app_id.to_string()))?;
        app.authorizations
            .retain(|a| !(a.api_id == api_id && a.stage == stage));
        Ok(())
    }

    /// Sets (or, with `None`, removes) the function's `vpcConfig`.
    pub fn set_function_vpc(
        &mut self,
        function: &str,
        vpc: Option<VpcConfig>,
    ) -> Result<(), WorldError> {
        self.functions
            .get_mut(function)
            .ok_or_else(|| unknown("function", function))?
            .vpc_config = vpc;
        Ok(())
    }

    /// Points the stand-in DNS at the world: each group's VPC domain answers its addresses
    /// while enabled and NXDOMAIN while disabled. Other names in the zone are left alone.
    pub fn sync_zone(&self, zone: &Zone) {
        for (id, g) in &self.groups {
            let name = vpc_domain(id, &g.region);
            let behaviour = if g.vpc_domain_enabled && !g.vpc_domain_addresses.is_empty() {
                Behaviour::Answer(g.vpc_domain_addresses.clone())
            } else {
                Behaviour::NxDomain
            };
            zone.set(&name, behaviour);
        }
    }

    /// The stand-in gateway's configuration as the world defines it: each group on its enabled
    /// VPC domain and custom domains, each API that has a backend once per stage it is
    /// published to (app authentication by the apps authorized in that stage), and the apps
    /// that are not disabled. Exact paths are tried before prefixes, longer prefixes first.
    pub fn gateway_config(&self) -> GatewayConfig {
        let mut groups = Vec::new();
        for (gid, g) in &self.groups {
            let mut domains = g.custom_domains.clone();
            if g.vpc_domain_enabled {
                domains.insert(0, vpc_domain(gid, &g.region));
            }
            let mut apis = Vec::new();
            for (api_id, a) in self.apis.iter().filter(|(_, a)| a.group_id == *gid) {
                let (Some(backend), Ok(method)) =
                    (a.backend, Method::from_bytes(a.method.as_bytes()))
                else {
                    continue;
                };
                for stage in &a.deployed {
                    let auth = if a.auth_type.eq_ignore_ascii_case("APP") {
                        Auth::App {
                            authorized: self
                                .apps
                                .values()
                                .filter(|app| {
                                    app.authorizations
                                        .iter()
                                        .any(|z| z.api_id == *api_id && z.stage == *stage)
                                })
                                .map(|app| app.app_key.clone())
                                .collect(),
                            appcode: a.app_code,
                        }
                    } else {
                        Auth::None
                    };
                    // The group's BasePath comes before every API's path on the wire: a call
                    // without it finds no API (I404NF), as on API Gateway.
                    let path = format!("{}{}", g.base_path.trim_end_matches('/'), a.path);
                    let mut api = Api::new(method.clone(), &path, &[stage.as_str()], backend);
                    if let Some(p) = &a.backend_path {
                        api.backend_path = p.clone();
                    }
                    api.auth = auth;
                    api.protocols = Protocols {
                        http: a.protocols.iter().any(|p| p.eq_ignore_ascii_case("HTTP")),
                        https: a.protocols.iter().any(|p| p.eq_ignore_ascii_case("HTTPS")),
                    };
                    api.max_per_second = a.max_per_second;
                    api.backend_timeout = a.backend_timeout_ms.map(Duration::from_millis);
                    apis.push(api);
                }
            }
            apis.sort_by_key(|a: &Api| {
                let prefix = a.path.ends_with('*');
                (prefix, std::cmp::Reverse(a.path.len()))
            });
            groups.push(Group {
                id: gid.clone(),
                domains,
                apis,
            });
        }
        let apps = self
            .apps
            .values()
            .filter(|a| !a.disabled)
            .map(|a| App {
                key: a.app_key.clone(),
                secret: a.app_secret.clone(),
                appcode: a.app_code.clone(),
            })
            .collect();
        GatewayConfig {
            groups,
            apps,
            ..GatewayConfig::default()
        }
    }
}

/// RFC 7386.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

type Subscriber = Box<dyn Fn(&World) + Send + Sync>;

/// The world shared by the control plane, the DNS zone and the gateway: every change goes
/// through it and is passed on to its subscribers (the projections) at once.
#[derive(Clone)]
pub struct WorldHandle {
    inner: Arc<Inner>,
}

struct Inner {
    world: Mutex<World>,
    subscribers: Mutex<Vec<Subscriber>>,
}

impl WorldHandle {
    pub fn new(world: World) -> Self {
        Self {
            inner: Arc::new(Inner {
                world: Mutex::new(world),
                subscribers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A copy of the world as it is now.
    pub fn snapshot(&self) -> World {
        self.inner
            .world
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
    }

    /// Calls `f` with the world now and after every change (e.g. to keep a DNS zone in step).
    pub fn subscribe(&self, f: impl Fn(&World) + Send + Sync + 'static) {
        f(&self.snapshot());
        if let Ok(mut subs) = self.inner.subscribers.lock() {
            subs.push(Box::new(f));
        }
    }

    /// Changes the world with `f`; when it succeeds, the subscribers see the new world.
    pub fn update<R>(
        &self,
        f: impl FnOnce(&mut World) -> Result<R, WorldError>,
    ) -> Result<R, WorldError> {
        let (result, after) = {
            let mut w = self
                .inner
                .world
                .lock()
                .map_err(|_| WorldError("the world's lock is poisoned".into()))?;
            let mut draft = w.clone();
            let result = f(&mut draft)?;
            draft.validate()?;
            *w = draft.clone();
            (result, draft)
        };
        if let Ok(subs) = self.inner.subscribers.lock() {
            for s in subs.iter() {
                s(&after);
            }
        }
        Ok(result)
    }

    /// Replaces the whole world.
    pub fn replace(&self, world: World) -> Result<(), WorldError> {
        self.update(|w| {
            *w = world;
            Ok(())
        })
    }

    /// Applies an RFC 7386 merge patch to the world's JSON form.
    pub fn patch(&self, patch: &Value) -> Result<World, WorldError> {
        self.update(|w| {
            *w = w.merge_patch(patch)?;
            Ok(w.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn small() -> World {
        World::from_json(json!({
            "accountId": 7,
            "groups": {"g1": {"region": "cn-shanghai", "instanceId": "i1", "vpcDomainAddresses": ["10.0.0.1"]}},
            "instances": {"i1": {"region": "cn-shanghai"}},
            "vpcs": {"vpc-a": {"region": "cn-shanghai"}, "vpc-b": {"region": "cn-shanghai"}},
            "vswitches": {"vsw-b": {"vpcId": "vpc-b", "region": "cn-shanghai"}},
            "accessKeys": {"ak": {"secret": "s"}},
        }))
        .unwrap()
    }

    #[test]
    fn merge_patch_follows_rfc7386() {
        let w = small();
        let p = w
            .merge_patch(&json!({"groups": {"g1": {"vpcDomainEnabled": false, "customDomains": ["a.example"]}}, "vpcs": {"vpc-a": null}}))
            .unwrap();
        assert!(!p.groups["g1"].vpc_domain_enabled);
        assert_eq!(p.groups["g1"].custom_domains, ["a.example"]);
        assert!(!p.vpcs.contains_key("vpc-a"));
        assert_eq!(p.groups["g1"].region, "cn-shanghai");
        let err = w
            .merge_patch(&json!({"groups": {"g1": {"vpcDomainEnabeld": false}}}))
            .unwrap_err();
        assert!(err.0.contains("vpcDomainEnabeld"), "{err}");
        assert!(w
            .merge_patch(&json!({"apps": {"not-a-number": {"appKey": "k", "appSecret": "s"}}}))
            .is_err());
    }

    #[test]
    fn one_world_for_dns_and_gateway() {
        let h = WorldHandle::new(small());
        let zone = Zone::default();
        let z = zone.clone();
        h.subscribe(move |w| w.sync_zone(&z));
        let name = vpc_domain("g1", "cn-shanghai");
        assert_eq!(
            zone_lookup(&zone, &name),
            Behaviour::Answer(vec!["10.0.0.1".parse().unwrap()])
        );
        h.update(|w| w.disable_vpc_domain("g1")).unwrap();
        assert_eq!(zone_lookup(&zone, &name), Behaviour::NxDomain);
        assert_eq!(h.snapshot().vpc_domain_of("g1"), None);
        assert!(h.update(|w| w.disable_vpc_domain("nope")).is_err());

        h.update(|w| w.bind_inbound_vpc("i1", "vpc-b")).unwrap();
        let i = &h.snapshot().instances["i1"];
        assert_eq!(
            (
                i.user_vpc_id.as_str(),
                i.user_vswitch_id.as_str(),
                i.vpc_owner_id
            ),
            ("vpc-b", "vsw-b", 7)
        );
        assert!(i.vpc_intranet_enable);
    }

    #[test]
    fn the_gateway_serves_apis_under_their_groups_base_path() {
        let backend = "127.0.0.1:9".parse().unwrap();
        let mut w = super::super::seed::demo_world(vec![], Some(backend), None);
        let paths = |w: &World| -> Vec<String> {
            let config = w.gateway_config();
            let group = config.groups.iter().find(|g| g.id == crate::DEMO_GROUP);
            group.unwrap().apis.iter().map(|a| a.path.clone()).collect()
        };
        assert!(paths(&w).contains(&"/web/cloudapi".to_owned()));
        w.groups.get_mut(crate::DEMO_GROUP).unwrap().base_path = "/v1/".into();
        let with_base = paths(&w);
        assert!(
            with_base.contains(&"/v1/web/cloudapi".to_owned()),
            "{with_base:?}"
        );
        assert!(
            with_base.iter().all(|p| p.starts_with("/v1/")),
            "{with_base:?}"
        );
    }

    fn zone_lookup(zone: &Zone, name: &str) -> Behaviour {
        zone.get(name)
    }

    #[test]
    fn denials_match_ram_actions() {
        let mut w = small();
        w.deny("ak", "apigateway:DescribeInstances").unwrap();
        assert!(w.denied("ak", "apigateway", "DescribeInstances"));
        assert!(!w.denied("ak", "apigateway", "DescribeApiGroup"));
        w.deny("ak", "vpc:*").unwrap();
        assert!(w.denied("ak", "vpc", "DescribeVSwitchAttributes"));
        w.allow("ak", "vpc:*").unwrap();
        assert!(!w.denied("ak", "vpc", "DescribeVSwitchAttributes"));
    }
}
