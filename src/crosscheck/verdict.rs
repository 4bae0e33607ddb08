//! The verdicts: stable names, like the error classes (alarms and dashboards match on them;
//! extend the list, never rename an entry).

use crate::named::named_enum;

named_enum! {
    /// What the cross-check found: the setting that is wrong, or why it could not tell.
    pub enum Verdict as "verdict" {
        /// S0: the function has no role credentials (FC sends none without a `role`, or with
        /// `disableInjectCredentials`), and the command line found none either.
        CredentialsMissing = "credentials.missing",
        /// S0: the control plane refused the credentials (unknown, disabled or expired key,
        /// wrong token or secret).
        CredentialsInvalid = "credentials.invalid",
        /// S1: `GetFunction` shows no `vpcConfig` (or an empty `vpcId`): the function is not
        /// in a VPC, so the VPC domain neither resolves nor is reachable.
        FunctionNotInVpc = "function.not_in_vpc",
        /// S2: a vSwitch of the function's `vpcConfig` belongs to another VPC (or no longer
        /// exists).
        FunctionVswitchNotInVpc = "function.vswitch_not_in_vpc",
        /// S2: a vSwitch of the function is not `Available`.
        FunctionVswitchNotAvailable = "function.vswitch_not_available",
        /// S3: no such group in the host's region for this account (`NotFoundApiGroup`).
        GroupNotFound = "group.not_found",
        /// S3: the group is deleted (`Status=DELETE`).
        GroupDeleted = "group.deleted",
        /// S3: the group is locked (`BillingStatus` or `IllegalStatus` `LOCKED`).
        GroupLocked = "group.locked",
        /// S3: the group's VPC second-level domain is not enabled (`VpcDomain` empty or absent,
        /// or, where the control plane still names it, the VPC DNS answers NXDOMAIN for it).
        GroupVpcDomainDisabled = "group.vpc_domain_disabled",
        /// S3: the host called is not the group's VPC domain nor one of its custom domains.
        GroupHostNotGroupDomain = "group.host_not_group_domain",
        /// The host names no API group (`<group>-<region>[-vpc].alicloudapi.com`), so there is
        /// no group to check.
        GroupUnknown = "group.unknown",
        /// S4: the group is on a shared instance in another region than the function: shared
        /// instances serve VPCs of their own region only.
        InstanceSharedCrossRegion = "instance.shared_cross_region",
        /// S4: the instance is not `RUNNING`.
        InstanceNotRunning = "instance.not_running",
        /// S4: the dedicated instance has no inbound VPC bound (`VpcIntranetEnable=false` or
        /// an empty `UserVpcId`).
        InstanceInboundVpcNotBound = "instance.inbound_vpc_not_bound",
        /// S4: the dedicated instance's bound inbound VPC is not the function's (same region).
        InstanceInboundVpcMismatch = "instance.inbound_vpc_mismatch",
        /// S5: the group's VPC whitelist names neither the function's VPC nor the bound VPC.
        GroupVpcWhitelistBlocks = "group.vpc_whitelist_blocks",
        /// S6: across regions, the function's VPC is attached to no CEN.
        CenFunctionVpcNotAttached = "cen.function_vpc_not_attached",
        /// S6: across regions, the instance's bound VPC is not attached to the function VPC's
        /// CEN.
        CenGatewayVpcNotAttached = "cen.gateway_vpc_not_attached",
        /// S6: across regions, no `Active` CEN cloud-service route covers the addresses the VPC
        /// domain resolved to.
        CenRouteServiceMissing = "cen.route_service_missing",
        /// S6: the CEN cloud-service route exists but is still `Creating`.
        CenRouteServicePending = "cen.route_service_pending",
        /// S6: across regions, the function's route table has no route for the gateway's
        /// addresses more specific than the system route 100.64.0.0/10 (or none at all).
        CenRouteNotInVpcTable = "cen.route_not_in_vpc_table",
        /// S6: a custom route of the function's route table sends the gateway's addresses to
        /// another next hop.
        VpcRouteOverridden = "vpc.route_overridden",
        /// S7a: the API (path and method) is published in no stage.
        ApiNotPublishedToStage = "api.not_published_to_stage",
        /// S7a: the API is published, but not in the stage the target sends.
        ApiStageMismatch = "api.stage_mismatch",
        /// S7a: the API is published, but the path called lacks the group's `BasePath`.
        ApiBasepathMissing = "api.basepath_missing",
        /// S7a: an API with that path is published, with another method.
        ApiMethodMismatch = "api.method_mismatch",
        /// S7b: the API's protocol setting does not allow the scheme called.
        ApiProtocolNotAllowed = "api.protocol_not_allowed",
        /// S7c: no app with the target's AppKey in this account and region.
        AppUnknown = "app.unknown",
        /// S7c: the app is disabled.
        AppDisabled = "app.disabled",
        /// S7c: the app is not authorized for the API in the stage called.
        AppNotAuthorized = "app.not_authorized",
        /// The backend answered (no `X-Ca-Error-Code`): the gateway's configuration let the
        /// call through, no setting to check.
        BackendStatus = "backend.status",
        /// A check could not run because the role lacks a permission (`unknown` names the RAM
        /// action to grant), and no other check failed.
        PermissionDenied = "permission.denied",
        /// A check could not run because the control plane did not answer in time, and no other
        /// check failed.
        ControlPlaneUnreachable = "control_plane.unreachable",
        /// A check could not run because the control plane answered an error (throttled,
        /// unavailable, clock skew, an unexpected answer), and no other check failed.
        ControlPlaneError = "control_plane.error",
        /// Every checked setting agrees: the cause is elsewhere (the hint says where to look).
        Consistent = "consistent",
    }
}

impl Verdict {
    /// True when the verdict names a setting that explains the probe's failure (then the
    /// target's `error.hint` names it). False for `consistent`, `backend.status`, the
    /// credentials and the verdicts of a check that could not finish.
    pub fn names_cause(self) -> bool {
        !matches!(
            self,
            Self::CredentialsMissing
                | Self::CredentialsInvalid
                | Self::GroupUnknown
                | Self::BackendStatus
                | Self::PermissionDenied
                | Self::ControlPlaneUnreachable
                | Self::ControlPlaneError
                | Self::Consistent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_dotted_and_parse_back() {
        let mut names: Vec<&str> = Verdict::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Verdict::ALL.len());
        for v in Verdict::ALL {
            assert_eq!(v.name().parse::<Verdict>(), Ok(*v));
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(serde_json::from_str::<Verdict>(&json).unwrap(), *v);
            assert!(v.name() == "consistent" || v.name().contains('.'), "{v}");
        }
        // The names, exactly.
        for name in [
            "credentials.missing",
            "credentials.invalid",
            "function.not_in_vpc",
            "function.vswitch_not_in_vpc",
            "group.not_found",
            "group.vpc_domain_disabled",
            "group.host_not_group_domain",
            "instance.shared_cross_region",
            "instance.inbound_vpc_not_bound",
            "instance.inbound_vpc_mismatch",
            "group.vpc_whitelist_blocks",
            "cen.function_vpc_not_attached",
            "cen.gateway_vpc_not_attached",
            "cen.route_service_missing",
            "api.not_published_to_stage",
            "api.stage_mismatch",
            "api.protocol_not_allowed",
            "app.unknown",
            "app.not_authorized",
            "permission.denied",
            "control_plane.unreachable",
            "control_plane.error",
            "consistent",
        ] {
            assert!(Verdict::NAMES.contains(&name), "{name}");
        }
    }
}
