//! Function Compute 3.0 (2023-03-30, ROA): the function's own configuration (spec
//! control-plane.md §4.1). `GetFunction`'s body is the `Function` object itself, no wrapper,
//! keys in camelCase \[sdk\]; the function's VPC is read from here, not from user configuration.

use std::collections::BTreeMap;
use std::time::Instant;

use super::client::{Answer, Call, Client};
use super::endpoint::Product;
use super::error::OpenApiError;
use super::json::json_model;
use super::sign::percent_encode;

json_model! {
    /// `GetFunction`'s body: the fields the diagnosis uses and good evidence.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Function {
        /// `functionName`.
        #[json("functionName")]
        pub function_name: Option<String>,
        /// `functionId`.
        #[json("functionId")]
        pub function_id: Option<String>,
        /// `functionArn`: `acs:fc:<region>:<accountId>:functions/<name>`.
        #[json("functionArn")]
        pub function_arn: Option<String>,
        /// `runtime`, e.g. `custom.debian10`.
        #[json("runtime")]
        pub runtime: Option<String>,
        /// `role`: the RAM role FC assumes for the function's credentials.
        #[json("role")]
        pub role: Option<String>,
        /// `internetAccess`: "Default value: true" \[sdk\], so absent means true; see
        /// [`Function::internet_access`].
        #[json("internetAccess")]
        pub internet_access: Option<bool>,
        /// `vpcConfig`: absent or with an empty `vpcId` when the function is not in a VPC.
        #[json("vpcConfig")]
        pub vpc_config: Option<VpcConfig>,
        /// `disableInjectCredentials`: `None` / `Env` / `Request` / `All`.
        #[json("disableInjectCredentials")]
        pub disable_inject_credentials: Option<String>,
        /// `state` (value set \[unverified\]).
        #[json("state")]
        pub state: Option<String>,
        /// `stateReason`.
        #[json("stateReason")]
        pub state_reason: Option<String>,
        /// `lastUpdateStatus`: `Successful` / `Failed` / `InProgress`.
        #[json("lastUpdateStatus")]
        pub last_update_status: Option<String>,
        /// `timeout` (seconds).
        #[json("timeout")]
        pub timeout: Option<i64>,
        /// `memorySize` (MB).
        #[json("memorySize")]
        pub memory_size: Option<i64>,
        /// `customDNS`.
        #[json("customDNS")]
        pub custom_dns: Option<CustomDns>,
        /// `environmentVariables` (names only are good evidence; values may be secrets, so the
        /// diagnosis must not report them).
        #[json("environmentVariables", nullable)]
        pub environment_variables: BTreeMap<String, String>,
    }
}

impl Function {
    /// `internetAccess`, with the documented default (true) when absent.
    pub fn internet_access(&self) -> bool {
        self.internet_access.unwrap_or(true)
    }

    /// The VPC id when the function is in a VPC (a non-empty `vpcConfig.vpcId`).
    pub fn vpc_id(&self) -> Option<&str> {
        self.vpc_config
            .as_ref()
            .and_then(|c| c.vpc_id.as_deref())
            .filter(|id| !id.is_empty())
    }
}

json_model! {
    /// `vpcConfig`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct VpcConfig {
        /// `vpcId`.
        #[json("vpcId")]
        pub vpc_id: Option<String>,
        /// `vSwitchIds`.
        #[json("vSwitchIds", nullable)]
        pub v_switch_ids: Vec<String>,
        /// `securityGroupId`.
        #[json("securityGroupId")]
        pub security_group_id: Option<String>,
        /// `role`: the role FC assumes to attach to the VPC.
        #[json("role")]
        pub role: Option<String>,
    }
}

json_model! {
    /// `customDNS`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct CustomDns {
        /// `nameServers`.
        #[json("nameServers", nullable)]
        pub name_servers: Vec<String>,
        /// `searches`.
        #[json("searches", nullable)]
        pub searches: Vec<String>,
    }
}

impl Client {
    /// `fc:GetFunction`: `GET /2023-03-30/functions/{functionName}?qualifier=…` at the
    /// function's region.
    pub async fn get_function(
        &self,
        region: &str,
        function_name: &str,
        qualifier: Option<&str>,
        deadline: Instant,
    ) -> Result<Answer<Function>, OpenApiError> {
        let mut query = Vec::new();
        super::param(&mut query, "qualifier", qualifier);
        let call = Call {
            product: Product::Fc,
            region,
            action: "GetFunction",
            method: "GET",
            // One path segment: a `/` in the name is encoded, not a separator.
            path: format!(
                "/{}/functions/{}",
                Product::Fc.version(),
                percent_encode(function_name)
            ),
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
    fn get_function() {
        let f: Function = fixture(include_str!(
            "../../tests/fixtures/openapi/GetFunction.json"
        ));
        assert_eq!(f.function_name.as_deref(), Some("apigw-vpc-probe"));
        assert_eq!(f.internet_access, Some(false));
        assert!(!f.internet_access());
        assert_eq!(f.vpc_id(), Some("vpc-***"));
        let vpc = f.vpc_config.as_ref().unwrap();
        assert_eq!(vpc.v_switch_ids, ["vsw-bp1ozpcrdc6r****"]);
        assert_eq!(
            vpc.security_group_id.as_deref(),
            Some("sg-bp18hj1wtxgy3b0***")
        );
        assert_eq!(
            f.role.as_deref(),
            Some("acs:ram::188077086902****:role/apigw-probe-role")
        );
        assert_eq!(f.disable_inject_credentials.as_deref(), Some("None"));
        assert_eq!((f.timeout, f.memory_size), (Some(60), Some(512)));
        assert_eq!(
            f.environment_variables.get("RUST_LOG").map(String::as_str),
            Some("info")
        );
    }

    #[test]
    fn not_in_a_vpc_and_defaults() {
        let f: Function = crate::openapi::json::from_str(r#"{"functionName":"f"}"#).unwrap();
        assert!(f.vpc_id().is_none());
        assert!(f.internet_access(), "documented default");
        let f: Function =
            crate::openapi::json::from_str(r#"{"vpcConfig":{"vpcId":"","vSwitchIds":null}}"#)
                .unwrap();
        assert!(f.vpc_id().is_none());
    }
}
