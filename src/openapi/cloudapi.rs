//! API Gateway (CloudAPI 2016-07-14, RPC): the group, its instance, publishing and app
//! authorization (spec control-plane.md §3). Field names are the spec's, exactly
//! (`#[json("…")]`, see [`json_model!`](super::json)), list wrappers included; only the fields
//! the diagnosis uses or that make good evidence are read, the others are ignored, and a missing
//! one is `None` (field sets change between SDK releases, §3). Integers stay integers (`AppId`,
//! `VpcOwnerId`, `TotalCount`).
//!
//! The region selects the endpoint; CloudAPI's read actions take no `RegionId` (§1.3 \[sdk\]).

use std::time::Instant;

use super::client::{Answer, Call, Client};
use super::endpoint::Product;
use super::error::OpenApiError;
use super::json::{json_model, FromJson};
use super::param;

json_model! {
    /// `DescribeApiGroup` (§3.1). There is no `VpcIntranetEnable` here: an empty `VpcDomain`
    /// is the evidence for a disabled VPC domain \[inferred\].
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct ApiGroup {
        /// `GroupId`.
        #[json("GroupId")]
        pub group_id: Option<String>,
        /// `GroupName`.
        #[json("GroupName")]
        pub group_name: Option<String>,
        /// `Status`: `NORMAL` / `DELETE`.
        #[json("Status")]
        pub status: Option<String>,
        /// `BillingStatus`: `NORMAL` / `LOCKED`.
        #[json("BillingStatus")]
        pub billing_status: Option<String>,
        /// `IllegalStatus`: `NORMAL` / `LOCKED`.
        #[json("IllegalStatus")]
        pub illegal_status: Option<String>,
        /// `RegionId`.
        #[json("RegionId")]
        pub region_id: Option<String>,
        /// `SubDomain`: the public second-level domain.
        #[json("SubDomain")]
        pub sub_domain: Option<String>,
        /// `VpcDomain`: the VPC second-level domain `<gid>-<region>-vpc.alicloudapi.com`.
        #[json("VpcDomain")]
        pub vpc_domain: Option<String>,
        /// `VpcSlbIntranetDomain`: the gateway's self-call domain.
        #[json("VpcSlbIntranetDomain")]
        pub vpc_slb_intranet_domain: Option<String>,
        /// `ClassicVpcSubDomain` (older models only).
        #[json("ClassicVpcSubDomain")]
        pub classic_vpc_sub_domain: Option<String>,
        /// `InstanceId`: the instance serving the group.
        #[json("InstanceId")]
        pub instance_id: Option<String>,
        /// `InstanceType`: `CLASSIC_SHARED` / `VPC_SHARED` / `VPC_DEDICATED`.
        #[json("InstanceType")]
        pub instance_type: Option<String>,
        /// `DedicatedInstanceType`: `vpc_connect` / `normal`.
        #[json("DedicatedInstanceType")]
        pub dedicated_instance_type: Option<String>,
        /// `InstanceVipList` (older models only).
        #[json("InstanceVipList")]
        pub instance_vip_list: Option<String>,
        /// `BasePath`: prepended to the APIs' paths.
        #[json("BasePath")]
        pub base_path: Option<String>,
        /// `HttpsPolicy`.
        #[json("HttpsPolicy")]
        pub https_policy: Option<String>,
        /// `DisableInnerDomain`.
        #[json("DisableInnerDomain")]
        pub disable_inner_domain: Option<bool>,
        /// `StageItems.StageInfo[]`.
        #[json("StageItems", nullable)]
        pub stage_items: StageItems,
        /// `CustomDomains.DomainItem[]`.
        #[json("CustomDomains", nullable)]
        pub custom_domains: CustomDomains,
    }
}

json_model! {
    /// `StageItems`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct StageItems {
        /// `StageInfo[]`.
        #[json("StageInfo", nullable)]
        pub stage_info: Vec<StageInfo>,
    }
}

json_model! {
    /// `StageItems.StageInfo[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct StageInfo {
        /// `StageId`.
        #[json("StageId")]
        pub stage_id: Option<String>,
        /// `StageName`.
        #[json("StageName")]
        pub stage_name: Option<String>,
    }
}

json_model! {
    /// `CustomDomains`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct CustomDomains {
        /// `DomainItem[]`.
        #[json("DomainItem", nullable)]
        pub domain_item: Vec<DomainItem>,
    }
}

json_model! {
    /// `CustomDomains.DomainItem[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct DomainItem {
        /// `DomainName`.
        #[json("DomainName")]
        pub domain_name: Option<String>,
        /// `BindStageName`.
        #[json("BindStageName")]
        pub bind_stage_name: Option<String>,
        /// `DomainBindingStatus`.
        #[json("DomainBindingStatus")]
        pub domain_binding_status: Option<String>,
    }
}

json_model! {
    /// `DescribeInstances` (§3.2).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Instances {
        /// `Instances.InstanceAttribute[]`.
        #[json("Instances", nullable)]
        pub instances: InstanceList,
        /// `TotalCount`.
        #[json("TotalCount")]
        pub total_count: Option<i64>,
        /// `PageNumber`.
        #[json("PageNumber")]
        pub page_number: Option<i64>,
        /// `PageSize`.
        #[json("PageSize")]
        pub page_size: Option<i64>,
    }
}

json_model! {
    /// `Instances`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct InstanceList {
        /// `InstanceAttribute[]`.
        #[json("InstanceAttribute", nullable)]
        pub instance_attribute: Vec<InstanceAttribute>,
    }
}

json_model! {
    /// `Instances.InstanceAttribute[]`: an instance, with its inbound VPC ("bind the user's VPC",
    /// §3.3: read here, written with `ModifyInstanceVpcAttributeForConsole`).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct InstanceAttribute {
        /// `InstanceId`.
        #[json("InstanceId")]
        pub instance_id: Option<String>,
        /// `InstanceName`.
        #[json("InstanceName")]
        pub instance_name: Option<String>,
        /// `RegionId`.
        #[json("RegionId")]
        pub region_id: Option<String>,
        /// `ZoneId`.
        #[json("ZoneId")]
        pub zone_id: Option<String>,
        /// `InstanceType`: `VPC_SHARED` / `VPC_DEDICATED`.
        #[json("InstanceType")]
        pub instance_type: Option<String>,
        /// `Status`, e.g. `RUNNING`.
        #[json("Status")]
        pub status: Option<String>,
        /// `DedicatedInstanceType`: `vpc_connect` / `normal`.
        #[json("DedicatedInstanceType")]
        pub dedicated_instance_type: Option<String>,
        /// `VpcIntranetEnable`: the inbound-VPC switch.
        #[json("VpcIntranetEnable")]
        pub vpc_intranet_enable: Option<bool>,
        /// `UserVpcId`: the bound inbound VPC.
        #[json("UserVpcId")]
        pub user_vpc_id: Option<String>,
        /// `UserVswitchId`: the vSwitch used for the binding.
        #[json("UserVswitchId")]
        pub user_vswitch_id: Option<String>,
        /// `VpcOwnerId`: the account owning that VPC.
        #[json("VpcOwnerId")]
        pub vpc_owner_id: Option<i64>,
        /// `VpcSlbIntranetEnable`.
        #[json("VpcSlbIntranetEnable")]
        pub vpc_slb_intranet_enable: Option<bool>,
        /// `VpcEgressAddress`: egress CIDR towards backends.
        #[json("VpcEgressAddress")]
        pub vpc_egress_address: Option<String>,
        /// `NewVpcEgressAddress`.
        #[json("NewVpcEgressAddress")]
        pub new_vpc_egress_address: Option<String>,
        /// `IntranetSegments`: a JSON array in a string; see
        /// [`InstanceAttribute::intranet_segments`].
        #[json("IntranetSegments")]
        pub intranet_segments: Option<String>,
        /// `AclStatus`: `on` / `off`.
        #[json("AclStatus")]
        pub acl_status: Option<String>,
        /// `AclType`: `white` / `black`.
        #[json("AclType")]
        pub acl_type: Option<String>,
        /// `AclId`.
        #[json("AclId")]
        pub acl_id: Option<String>,
        /// `ConnectVpcId` (`vpc_connect` instances).
        #[json("ConnectVpcId")]
        pub connect_vpc_id: Option<String>,
        /// `InstanceCidrBlock` (`vpc_connect` instances).
        #[json("InstanceCidrBlock")]
        pub instance_cidr_block: Option<String>,
        /// `PrivateDnsList.PrivateDns[]`.
        #[json("PrivateDnsList", nullable)]
        pub private_dns_list: PrivateDnsList,
    }
}

json_model! {
    /// `PrivateDnsList`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct PrivateDnsList {
        /// `PrivateDns[]`.
        #[json("PrivateDns", nullable)]
        pub private_dns: Vec<String>,
    }
}

impl InstanceAttribute {
    /// `IntranetSegments` as a list of CIDRs. The value is a JSON array in a string, and the
    /// doc's example escapes its quotes twice (§3.2): unescape until it parses as a JSON
    /// array, else split on commas \[inferred\].
    pub fn intranet_segments(&self) -> Vec<String> {
        parse_string_list(self.intranet_segments.as_deref().unwrap_or(""))
    }
}

/// A list written as a JSON array in a string (possibly escaped more than once), or as
/// comma-separated items.
fn parse_string_list(value: &str) -> Vec<String> {
    let mut text = value.trim().to_owned();
    for _ in 0..4 {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(&text) {
            return list.into_iter().map(|s| s.trim().to_owned()).collect();
        }
        let unescaped = text.replace("\\\"", "\"").replace("\\\\", "\\");
        if unescaped == text {
            break;
        }
        text = unescaped;
    }
    text.trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\\').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

json_model! {
    /// `DescribeDeployedApis` (§3.4).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct DeployedApis {
        /// `DeployedApis.DeployedApiItem[]`.
        #[json("DeployedApis", nullable)]
        pub deployed_apis: DeployedApiList,
        /// `TotalCount`.
        #[json("TotalCount")]
        pub total_count: Option<i64>,
        /// `PageNumber`.
        #[json("PageNumber")]
        pub page_number: Option<i64>,
        /// `PageSize`.
        #[json("PageSize")]
        pub page_size: Option<i64>,
    }
}

json_model! {
    /// `DeployedApis`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct DeployedApiList {
        /// `DeployedApiItem[]`.
        #[json("DeployedApiItem", nullable)]
        pub deployed_api_item: Vec<DeployedApiItem>,
    }
}

json_model! {
    /// `DeployedApis.DeployedApiItem[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct DeployedApiItem {
        /// `ApiId`.
        #[json("ApiId")]
        pub api_id: Option<String>,
        /// `ApiName`.
        #[json("ApiName")]
        pub api_name: Option<String>,
        /// `ApiPath` (a template such as `/items/[id]`).
        #[json("ApiPath")]
        pub api_path: Option<String>,
        /// `ApiMethod`.
        #[json("ApiMethod")]
        pub api_method: Option<String>,
        /// `StageName`.
        #[json("StageName")]
        pub stage_name: Option<String>,
        /// `GroupId`.
        #[json("GroupId")]
        pub group_id: Option<String>,
        /// `RegionId`.
        #[json("RegionId")]
        pub region_id: Option<String>,
        /// `Visibility`.
        #[json("Visibility")]
        pub visibility: Option<String>,
        /// `DeployedTime`.
        #[json("DeployedTime")]
        pub deployed_time: Option<String>,
    }
}

/// What `DescribeDeployedApis` asks for (`GroupId` is required; `PageSize` at most 100).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeployedApisQuery {
    /// `GroupId`.
    pub group_id: String,
    /// `StageName`: `RELEASE`, `TEST` (or `PRE`).
    pub stage_name: Option<String>,
    /// `ApiId`.
    pub api_id: Option<String>,
    /// `ApiPath`.
    pub api_path: Option<String>,
    /// `ApiMethod`.
    pub api_method: Option<String>,
    /// `PageNumber` (from 1).
    pub page_number: Option<u32>,
    /// `PageSize` (default 10, at most 100).
    pub page_size: Option<u32>,
}

json_model! {
    /// `DescribeApi` (§3.5): the definition and the per-stage deploy state.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct ApiDefinition {
        /// `ApiId`.
        #[json("ApiId")]
        pub api_id: Option<String>,
        /// `ApiName`.
        #[json("ApiName")]
        pub api_name: Option<String>,
        /// `GroupId`.
        #[json("GroupId")]
        pub group_id: Option<String>,
        /// `Visibility`.
        #[json("Visibility")]
        pub visibility: Option<String>,
        /// `AuthType`: `APP` / `ANONYMOUS` / `APPOPENID`.
        #[json("AuthType")]
        pub auth_type: Option<String>,
        /// `AppCodeAuthType`: `DEFAULT` / `DISABLE` / `HEADER` / `HEADER_QUERY`.
        #[json("AppCodeAuthType")]
        pub app_code_auth_type: Option<String>,
        /// `AllowSignatureMethod`.
        #[json("AllowSignatureMethod")]
        pub allow_signature_method: Option<String>,
        /// `ForceNonceCheck`.
        #[json("ForceNonceCheck")]
        pub force_nonce_check: Option<bool>,
        /// `DisableInternet`: internal-network calls only.
        #[json("DisableInternet")]
        pub disable_internet: Option<bool>,
        /// `RequestConfig`.
        #[json("RequestConfig", nullable)]
        pub request_config: RequestConfig,
        /// `DeployedInfos.DeployedInfo[]`.
        #[json("DeployedInfos", nullable)]
        pub deployed_infos: DeployedInfos,
    }
}

json_model! {
    /// `RequestConfig`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct RequestConfig {
        /// `RequestProtocol`: `HTTP`, `HTTPS` or `HTTP,HTTPS`.
        #[json("RequestProtocol")]
        pub request_protocol: Option<String>,
        /// `RequestHttpMethod`.
        #[json("RequestHttpMethod")]
        pub request_http_method: Option<String>,
        /// `RequestPath` (a template).
        #[json("RequestPath")]
        pub request_path: Option<String>,
        /// `RequestMode`.
        #[json("RequestMode")]
        pub request_mode: Option<String>,
    }
}

json_model! {
    /// `DeployedInfos`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct DeployedInfos {
        /// `DeployedInfo[]`.
        #[json("DeployedInfo", nullable)]
        pub deployed_info: Vec<DeployedInfo>,
    }
}

json_model! {
    /// `DeployedInfos.DeployedInfo[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct DeployedInfo {
        /// `StageName`.
        #[json("StageName")]
        pub stage_name: Option<String>,
        /// `EffectiveVersion`.
        #[json("EffectiveVersion")]
        pub effective_version: Option<String>,
        /// `DeployedStatus`: `DEPLOYED` / `NONDEPLOYED`.
        #[json("DeployedStatus")]
        pub deployed_status: Option<String>,
    }
}

json_model! {
    /// `DescribeAppAttributes` (§3.6): maps an AppKey to an app.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AppAttributes {
        /// `Apps.AppAttribute[]`.
        #[json("Apps", nullable)]
        pub apps: AppList,
        /// `TotalCount`.
        #[json("TotalCount")]
        pub total_count: Option<i64>,
    }
}

json_model! {
    /// `Apps`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AppList {
        /// `AppAttribute[]`.
        #[json("AppAttribute", nullable)]
        pub app_attribute: Vec<AppAttribute>,
    }
}

json_model! {
    /// `Apps.AppAttribute[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AppAttribute {
        /// `AppId` (an integer).
        #[json("AppId")]
        pub app_id: Option<i64>,
        /// `AppName`.
        #[json("AppName")]
        pub app_name: Option<String>,
        /// `Disabled`.
        #[json("Disabled")]
        pub disabled: Option<bool>,
        /// `Description`.
        #[json("Description")]
        pub description: Option<String>,
    }
}

json_model! {
    /// `DescribeAuthorizedApps` (§3.6).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AuthorizedApps {
        /// `AuthorizedApps.AuthorizedApp[]`.
        #[json("AuthorizedApps", nullable)]
        pub authorized_apps: AuthorizedAppList,
        /// `TotalCount`.
        #[json("TotalCount")]
        pub total_count: Option<i64>,
        /// `PageNumber`.
        #[json("PageNumber")]
        pub page_number: Option<i64>,
        /// `PageSize`.
        #[json("PageSize")]
        pub page_size: Option<i64>,
    }
}

json_model! {
    /// `AuthorizedApps`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AuthorizedAppList {
        /// `AuthorizedApp[]`.
        #[json("AuthorizedApp", nullable)]
        pub authorized_app: Vec<AuthorizedApp>,
    }
}

json_model! {
    /// `AuthorizedApps.AuthorizedApp[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AuthorizedApp {
        /// `AppId` (an integer).
        #[json("AppId")]
        pub app_id: Option<i64>,
        /// `AppName`.
        #[json("AppName")]
        pub app_name: Option<String>,
        /// `StageName`.
        #[json("StageName")]
        pub stage_name: Option<String>,
        /// `Operator`.
        #[json("Operator")]
        pub operator: Option<String>,
        /// `AuthorizationSource`.
        #[json("AuthorizationSource")]
        pub authorization_source: Option<String>,
        /// `AuthorizedTime`.
        #[json("AuthorizedTime")]
        pub authorized_time: Option<String>,
        /// `AuthVaildTime` (sic): when the authorization expires.
        #[json("AuthVaildTime")]
        pub auth_vaild_time: Option<String>,
    }
}

/// What `DescribeAuthorizedApps` asks for (`ApiId` is required).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizedAppsQuery {
    /// `ApiId`.
    pub api_id: String,
    /// `GroupId`.
    pub group_id: Option<String>,
    /// `StageName`: `RELEASE` / `PRE` / `TEST`.
    pub stage_name: Option<String>,
    /// `AppId`.
    pub app_id: Option<i64>,
    /// `PageNumber`.
    pub page_number: Option<u32>,
    /// `PageSize`.
    pub page_size: Option<u32>,
}

json_model! {
    /// `DescribeAuthorizedApis` (§3.6): the APIs an app may call.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AuthorizedApis {
        /// `AuthorizedApis.AuthorizedApi[]`.
        #[json("AuthorizedApis", nullable)]
        pub authorized_apis: AuthorizedApiList,
        /// `TotalCount`.
        #[json("TotalCount")]
        pub total_count: Option<i64>,
    }
}

json_model! {
    /// `AuthorizedApis`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AuthorizedApiList {
        /// `AuthorizedApi[]`.
        #[json("AuthorizedApi", nullable)]
        pub authorized_api: Vec<AuthorizedApi>,
    }
}

json_model! {
    /// `AuthorizedApis.AuthorizedApi[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AuthorizedApi {
        /// `ApiId`.
        #[json("ApiId")]
        pub api_id: Option<String>,
        /// `ApiName`.
        #[json("ApiName")]
        pub api_name: Option<String>,
        /// `GroupId`.
        #[json("GroupId")]
        pub group_id: Option<String>,
        /// `StageName`.
        #[json("StageName")]
        pub stage_name: Option<String>,
        /// `AuthVaildTime` (sic).
        #[json("AuthVaildTime")]
        pub auth_vaild_time: Option<String>,
    }
}

json_model! {
    /// `DescribeApiGroupVpcWhitelist` (§3.7).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct ApiGroupVpcWhitelist {
        /// `VpcIds`: a string; see [`ApiGroupVpcWhitelist::vpc_ids`].
        #[json("VpcIds")]
        pub vpc_ids: Option<String>,
    }
}

impl ApiGroupVpcWhitelist {
    /// The VPC ids. The separator of several is not documented: commas (and, to be safe, the
    /// JSON-array form) \[inferred\].
    pub fn vpc_ids(&self) -> Vec<String> {
        parse_string_list(self.vpc_ids.as_deref().unwrap_or(""))
    }
}

impl Client {
    /// `apigateway:DescribeApiGroup(GroupId)` at the group's region.
    pub async fn describe_api_group(
        &self,
        region: &str,
        group_id: &str,
        deadline: Instant,
    ) -> Result<Answer<ApiGroup>, OpenApiError> {
        let params = vec![("GroupId".into(), group_id.into())];
        self.cloudapi(region, "DescribeApiGroup", params, deadline)
            .await
    }

    /// `apigateway:DescribeInstances(InstanceId)` at the instance's region.
    pub async fn describe_instances(
        &self,
        region: &str,
        instance_id: &str,
        deadline: Instant,
    ) -> Result<Answer<Instances>, OpenApiError> {
        let params = vec![("InstanceId".into(), instance_id.into())];
        self.cloudapi(region, "DescribeInstances", params, deadline)
            .await
    }

    /// `apigateway:DescribeDeployedApis`: one page of the APIs published to a stage.
    pub async fn describe_deployed_apis(
        &self,
        region: &str,
        query: &DeployedApisQuery,
        deadline: Instant,
    ) -> Result<Answer<DeployedApis>, OpenApiError> {
        let mut params = vec![("GroupId".into(), query.group_id.clone())];
        param(&mut params, "StageName", query.stage_name.as_ref());
        param(&mut params, "ApiId", query.api_id.as_ref());
        param(&mut params, "ApiPath", query.api_path.as_ref());
        param(&mut params, "ApiMethod", query.api_method.as_ref());
        param(&mut params, "PageNumber", query.page_number);
        param(&mut params, "PageSize", query.page_size);
        self.cloudapi(region, "DescribeDeployedApis", params, deadline)
            .await
    }

    /// `apigateway:DescribeApi(ApiId, GroupId)`.
    pub async fn describe_api(
        &self,
        region: &str,
        group_id: Option<&str>,
        api_id: &str,
        deadline: Instant,
    ) -> Result<Answer<ApiDefinition>, OpenApiError> {
        let mut params = vec![("ApiId".into(), api_id.into())];
        param(&mut params, "GroupId", group_id);
        self.cloudapi(region, "DescribeApi", params, deadline).await
    }

    /// `apigateway:DescribeAppAttributes(AppKey)`: the app behind an AppKey.
    pub async fn describe_app_attributes(
        &self,
        region: &str,
        app_key: &str,
        deadline: Instant,
    ) -> Result<Answer<AppAttributes>, OpenApiError> {
        let params = vec![("AppKey".into(), app_key.into())];
        self.cloudapi(region, "DescribeAppAttributes", params, deadline)
            .await
    }

    /// `apigateway:DescribeAuthorizedApps`: the apps authorized for an API (in a stage).
    pub async fn describe_authorized_apps(
        &self,
        region: &str,
        query: &AuthorizedAppsQuery,
        deadline: Instant,
    ) -> Result<Answer<AuthorizedApps>, OpenApiError> {
        let mut params = vec![("ApiId".into(), query.api_id.clone())];
        param(&mut params, "GroupId", query.group_id.as_ref());
        param(&mut params, "StageName", query.stage_name.as_ref());
        param(&mut params, "AppId", query.app_id);
        param(&mut params, "PageNumber", query.page_number);
        param(&mut params, "PageSize", query.page_size);
        self.cloudapi(region, "DescribeAuthorizedApps", params, deadline)
            .await
    }

    /// `apigateway:DescribeAuthorizedApis(AppId)`: the APIs an app may call, one page.
    pub async fn describe_authorized_apis(
        &self,
        region: &str,
        app_id: i64,
        page_number: Option<u32>,
        deadline: Instant,
    ) -> Result<Answer<AuthorizedApis>, OpenApiError> {
        let mut params = vec![("AppId".into(), app_id.to_string())];
        param(&mut params, "PageNumber", page_number);
        self.cloudapi(region, "DescribeAuthorizedApis", params, deadline)
            .await
    }

    /// `apigateway:DescribeApiGroupVpcWhitelist(GroupId)`.
    pub async fn describe_api_group_vpc_whitelist(
        &self,
        region: &str,
        group_id: &str,
        deadline: Instant,
    ) -> Result<Answer<ApiGroupVpcWhitelist>, OpenApiError> {
        let params = vec![("GroupId".into(), group_id.into())];
        self.cloudapi(region, "DescribeApiGroupVpcWhitelist", params, deadline)
            .await
    }

    async fn cloudapi<T: FromJson + Send + 'static>(
        &self,
        region: &str,
        action: &'static str,
        query: Vec<(String, String)>,
        deadline: Instant,
    ) -> Result<Answer<T>, OpenApiError> {
        let call = Call {
            product: Product::ApiGateway,
            region,
            action,
            method: "POST",
            path: "/".into(),
            query,
        };
        self.call(call, deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi::fixture;

    #[test]
    fn describe_api_group() {
        let g: ApiGroup = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeApiGroup.json"
        ));
        assert_eq!(
            g.group_id.as_deref(),
            Some("523e8dc7bbe04613b5b1d726c2a7889d")
        );
        assert_eq!(
            g.vpc_domain.as_deref(),
            Some("e4****7151954***acbd9f7****1058a-ap-southeast-1-vpc.alicloudapi.com")
        );
        assert_eq!(
            g.instance_id.as_deref(),
            Some("apigateway-cn-v6419k43xxxxx")
        );
        assert_eq!(g.instance_type.as_deref(), Some("VPC_SHARED"));
        assert_eq!(g.base_path.as_deref(), Some("/qqq"));
        assert_eq!(
            g.stage_items.stage_info[0].stage_name.as_deref(),
            Some("RELEASE")
        );
        assert_eq!(
            g.custom_domains.domain_item[0].domain_name.as_deref(),
            Some("api.demo.com")
        );
        // Missing lists and nulls are empty, not errors.
        let g: ApiGroup =
            crate::openapi::json::from_str(r#"{"GroupId":"g","StageItems":null}"#).unwrap();
        assert!(g.stage_items.stage_info.is_empty() && g.vpc_domain.is_none());
    }

    #[test]
    fn describe_instances() {
        let r: Instances = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeInstances.json"
        ));
        assert_eq!(r.total_count, Some(1));
        let i = &r.instances.instance_attribute[0];
        assert_eq!(i.vpc_intranet_enable, Some(true));
        assert_eq!(i.user_vpc_id.as_deref(), Some("vpc-t***hx****yu9****t0g4"));
        assert_eq!(
            i.user_vswitch_id.as_deref(),
            Some("vsw-t4***eh****d7q****i2f")
        );
        assert_eq!(i.vpc_owner_id, Some(0));
        assert_eq!(i.instance_type.as_deref(), Some("VPC_SHARED"));
        assert_eq!(i.private_dns_list.private_dns, ["www.private.com"]);
        // The doc's doubly escaped JSON array.
        assert_eq!(i.intranet_segments(), ["172.36.0.0/16", "172.31.16.0/20"]);
    }

    #[test]
    fn string_lists_in_every_form() {
        assert_eq!(parse_string_list(r#"["a/1","b/2"]"#), ["a/1", "b/2"]);
        assert_eq!(parse_string_list(r#"[\"a/1\"]"#), ["a/1"]);
        assert_eq!(parse_string_list("vpc-a, vpc-b"), ["vpc-a", "vpc-b"]);
        assert!(parse_string_list("").is_empty());
        assert!(parse_string_list("[]").is_empty());
    }

    #[test]
    fn describe_deployed_apis_and_api() {
        let r: DeployedApis = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeDeployedApis.json"
        ));
        let item = &r.deployed_apis.deployed_api_item[0];
        assert_eq!(item.api_path.as_deref(), Some("/v1/items"));
        assert_eq!(item.api_method.as_deref(), Some("GET"));
        assert_eq!(item.stage_name.as_deref(), Some("RELEASE"));
        assert_eq!(
            (r.page_number, r.page_size, r.total_count),
            (Some(1), Some(10), Some(1))
        );

        let a: ApiDefinition = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeApi.json"
        ));
        assert_eq!(a.request_config.request_protocol.as_deref(), Some("HTTP"));
        assert_eq!(
            a.request_config.request_path.as_deref(),
            Some("/api/billing/test/[type]")
        );
        assert_eq!(
            a.deployed_infos.deployed_info[0].deployed_status.as_deref(),
            Some("DEPLOYED")
        );
        assert_eq!(
            (a.force_nonce_check, a.disable_internet),
            (Some(true), Some(false))
        );
    }

    #[test]
    fn apps_and_authorizations() {
        let r: AuthorizedApps = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeAuthorizedApps.json"
        ));
        let app = &r.authorized_apps.authorized_app[0];
        assert_eq!(app.app_id, Some(20112314518278));
        assert_eq!(app.auth_vaild_time.as_deref(), Some("2026-07-28T13:13:12Z"));
        let r: AppAttributes = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeAppAttributes.json"
        ));
        assert_eq!(r.apps.app_attribute[0].app_id, Some(20112314518278));
        assert_eq!(r.apps.app_attribute[0].disabled, Some(false));
        let r: AuthorizedApis = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeAuthorizedApis.json"
        ));
        assert_eq!(
            r.authorized_apis.authorized_api[0].stage_name.as_deref(),
            Some("RELEASE")
        );
        // An AppId written as a string is not the documented shape.
        let e = crate::openapi::json::from_str::<AppAttribute>(r#"{"AppId":"20112314518278"}"#)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`AppId`: expected an integer, found a string"
        );
    }

    #[test]
    fn vpc_whitelist() {
        let w: ApiGroupVpcWhitelist = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeApiGroupVpcWhitelist.json"
        ));
        assert_eq!(w.vpc_ids(), ["vpc-bp11w979o2s9rcr962w25"]);
        assert!(ApiGroupVpcWhitelist::default().vpc_ids().is_empty());
    }
}
