//! VPC 2016-04-28 (RPC): the function's vSwitch, VPC and route table (spec control-plane.md
//! §5). Field names are the spec's, exactly, list wrappers included (`RouteEntrys`, sic).

use std::time::Instant;

use super::client::{Answer, Call, Client};
use super::endpoint::Product;
use super::error::OpenApiError;
use super::json::{json_model, FromJson};
use super::param;

json_model! {
    /// `DescribeVSwitchAttributes` (§5.1).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct VSwitchAttributes {
        /// `VSwitchId`.
        #[json("VSwitchId")]
        pub v_switch_id: Option<String>,
        /// `VpcId`: must be the function's `vpcConfig.vpcId`.
        #[json("VpcId")]
        pub vpc_id: Option<String>,
        /// `Status`: `Pending` / `Available`.
        #[json("Status")]
        pub status: Option<String>,
        /// `CidrBlock`.
        #[json("CidrBlock")]
        pub cidr_block: Option<String>,
        /// `ZoneId`.
        #[json("ZoneId")]
        pub zone_id: Option<String>,
        /// `OwnerId`.
        #[json("OwnerId")]
        pub owner_id: Option<i64>,
        /// `AvailableIpAddressCount`.
        #[json("AvailableIpAddressCount")]
        pub available_ip_address_count: Option<i64>,
        /// `RouteTable`: the table the route check reads.
        #[json("RouteTable", nullable)]
        pub route_table: RouteTable,
    }
}

json_model! {
    /// `RouteTable`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct RouteTable {
        /// `RouteTableId`.
        #[json("RouteTableId")]
        pub route_table_id: Option<String>,
        /// `RouteTableType`: `System` / `Custom`.
        #[json("RouteTableType")]
        pub route_table_type: Option<String>,
    }
}

json_model! {
    /// `DescribeVpcAttribute` (§5.2).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct VpcAttribute {
        /// `VpcId`.
        #[json("VpcId")]
        pub vpc_id: Option<String>,
        /// `VpcName`.
        #[json("VpcName")]
        pub vpc_name: Option<String>,
        /// `RegionId`.
        #[json("RegionId")]
        pub region_id: Option<String>,
        /// `Status`.
        #[json("Status")]
        pub status: Option<String>,
        /// `CidrBlock`.
        #[json("CidrBlock")]
        pub cidr_block: Option<String>,
        /// `VRouterId`.
        #[json("VRouterId")]
        pub v_router_id: Option<String>,
        /// `SecondaryCidrBlocks.SecondaryCidrBlock[]`.
        #[json("SecondaryCidrBlocks", nullable)]
        pub secondary_cidr_blocks: SecondaryCidrBlocks,
        /// `UserCidrs.UserCidr[]`.
        #[json("UserCidrs", nullable)]
        pub user_cidrs: UserCidrs,
        /// `VSwitchIds.VSwitchId[]`.
        #[json("VSwitchIds", nullable)]
        pub v_switch_ids: VSwitchIds,
        /// `AssociatedCens.AssociatedCen[]`: how the function finds its CEN.
        #[json("AssociatedCens", nullable)]
        pub associated_cens: AssociatedCens,
    }
}

json_model! {
    /// `SecondaryCidrBlocks`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct SecondaryCidrBlocks {
        /// `SecondaryCidrBlock[]`.
        #[json("SecondaryCidrBlock", nullable)]
        pub secondary_cidr_block: Vec<String>,
    }
}

json_model! {
    /// `UserCidrs`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct UserCidrs {
        /// `UserCidr[]`.
        #[json("UserCidr", nullable)]
        pub user_cidr: Vec<String>,
    }
}

json_model! {
    /// `VSwitchIds`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct VSwitchIds {
        /// `VSwitchId[]`.
        #[json("VSwitchId", nullable)]
        pub v_switch_id: Vec<String>,
    }
}

json_model! {
    /// `AssociatedCens`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AssociatedCens {
        /// `AssociatedCen[]`.
        #[json("AssociatedCen", nullable)]
        pub associated_cen: Vec<AssociatedCen>,
    }
}

json_model! {
    /// `AssociatedCens.AssociatedCen[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct AssociatedCen {
        /// `CenId`.
        #[json("CenId")]
        pub cen_id: Option<String>,
        /// `CenOwnerId`.
        #[json("CenOwnerId")]
        pub cen_owner_id: Option<i64>,
        /// `CenStatus` (value set \[unverified\]; `Attached` expected).
        #[json("CenStatus")]
        pub cen_status: Option<String>,
    }
}

json_model! {
    /// `DescribeRouteEntryList` (§5.3).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct RouteEntryList {
        /// `RouteEntrys.RouteEntry[]` (the wrapper is spelled `RouteEntrys`).
        #[json("RouteEntrys", nullable)]
        pub route_entrys: RouteEntrys,
        /// `NextToken`: absent on the last page.
        #[json("NextToken")]
        pub next_token: Option<String>,
    }
}

json_model! {
    /// `RouteEntrys`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct RouteEntrys {
        /// `RouteEntry[]`.
        #[json("RouteEntry", nullable)]
        pub route_entry: Vec<RouteEntry>,
    }
}

json_model! {
    /// `RouteEntrys.RouteEntry[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct RouteEntry {
        /// `RouteEntryId`.
        #[json("RouteEntryId")]
        pub route_entry_id: Option<String>,
        /// `RouteEntryName`.
        #[json("RouteEntryName")]
        pub route_entry_name: Option<String>,
        /// `RouteTableId`.
        #[json("RouteTableId")]
        pub route_table_id: Option<String>,
        /// `DestinationCidrBlock`.
        #[json("DestinationCidrBlock")]
        pub destination_cidr_block: Option<String>,
        /// `Type`: `Custom` / `System` / `BGP` / `CEN` / `ECR`.
        #[json("Type")]
        pub r#type: Option<String>,
        /// `Status`: `Pending` / `Available` / `Modifying` / `Deleting`.
        #[json("Status")]
        pub status: Option<String>,
        /// `IpVersion`.
        #[json("IpVersion")]
        pub ip_version: Option<String>,
        /// `Origin`: `RoutePropagation` / `SystemCreate` / `CustomCreate`.
        #[json("Origin")]
        pub origin: Option<String>,
        /// `ServiceType`.
        #[json("ServiceType")]
        pub service_type: Option<String>,
        /// `NextHops.NextHop[]`.
        #[json("NextHops", nullable)]
        pub next_hops: NextHops,
    }
}

json_model! {
    /// `NextHops`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct NextHops {
        /// `NextHop[]`.
        #[json("NextHop", nullable)]
        pub next_hop: Vec<NextHop>,
    }
}

json_model! {
    /// `NextHops.NextHop[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct NextHop {
        /// `NextHopId`.
        #[json("NextHopId")]
        pub next_hop_id: Option<String>,
        /// `NextHopType`: `Instance`, `NatGateway`, `Attachment`, `CenBasic`…
        #[json("NextHopType")]
        pub next_hop_type: Option<String>,
        /// `NextHopRegionId`.
        #[json("NextHopRegionId")]
        pub next_hop_region_id: Option<String>,
        /// `Enabled` (an integer).
        #[json("Enabled")]
        pub enabled: Option<i64>,
        /// `Weight`.
        #[json("Weight")]
        pub weight: Option<i64>,
        /// `NextHopRelatedInfo`.
        #[json("NextHopRelatedInfo")]
        pub next_hop_related_info: Option<NextHopRelatedInfo>,
    }
}

json_model! {
    /// `NextHopRelatedInfo`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct NextHopRelatedInfo {
        /// `InstanceId`.
        #[json("InstanceId")]
        pub instance_id: Option<String>,
        /// `InstanceType`: `VPC` / `VBR` / `PCONN`.
        #[json("InstanceType")]
        pub instance_type: Option<String>,
        /// `RegionId`.
        #[json("RegionId")]
        pub region_id: Option<String>,
    }
}

/// What `DescribeRouteEntryList` asks for (`RegionId` and `RouteTableId` are required).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteEntryQuery {
    /// `RouteTableId`.
    pub route_table_id: String,
    /// `DestinationCidrBlock`.
    pub destination_cidr_block: Option<String>,
    /// `RouteEntryType`.
    pub route_entry_type: Option<String>,
    /// `NextToken` of the previous page.
    pub next_token: Option<String>,
    /// `MaxResult` (1–100, default 10).
    pub max_result: Option<u32>,
}

impl Client {
    /// `vpc:DescribeVSwitchAttributes(VSwitchId, RegionId)`.
    pub async fn describe_vswitch_attributes(
        &self,
        region: &str,
        vswitch_id: &str,
        deadline: Instant,
    ) -> Result<Answer<VSwitchAttributes>, OpenApiError> {
        let params = vec![
            ("RegionId".into(), region.into()),
            ("VSwitchId".into(), vswitch_id.into()),
        ];
        self.vpc(region, "DescribeVSwitchAttributes", params, deadline)
            .await
    }

    /// `vpc:DescribeVpcAttribute(VpcId, RegionId)`.
    pub async fn describe_vpc_attribute(
        &self,
        region: &str,
        vpc_id: &str,
        deadline: Instant,
    ) -> Result<Answer<VpcAttribute>, OpenApiError> {
        let params = vec![
            ("RegionId".into(), region.into()),
            ("VpcId".into(), vpc_id.into()),
        ];
        self.vpc(region, "DescribeVpcAttribute", params, deadline)
            .await
    }

    /// `vpc:DescribeRouteEntryList`: one page (follow `NextToken` for the next).
    pub async fn describe_route_entry_list(
        &self,
        region: &str,
        query: &RouteEntryQuery,
        deadline: Instant,
    ) -> Result<Answer<RouteEntryList>, OpenApiError> {
        let mut params = vec![
            ("RegionId".into(), region.into()),
            ("RouteTableId".into(), query.route_table_id.clone()),
        ];
        param(
            &mut params,
            "DestinationCidrBlock",
            query.destination_cidr_block.as_ref(),
        );
        param(
            &mut params,
            "RouteEntryType",
            query.route_entry_type.as_ref(),
        );
        param(&mut params, "NextToken", query.next_token.as_ref());
        param(&mut params, "MaxResult", query.max_result);
        self.vpc(region, "DescribeRouteEntryList", params, deadline)
            .await
    }

    async fn vpc<T: FromJson + Send + 'static>(
        &self,
        region: &str,
        action: &'static str,
        query: Vec<(String, String)>,
        deadline: Instant,
    ) -> Result<Answer<T>, OpenApiError> {
        let call = Call {
            product: Product::Vpc,
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
    fn describe_vswitch_attributes() {
        let v: VSwitchAttributes = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeVSwitchAttributes.json"
        ));
        assert_eq!(v.vpc_id.as_deref(), Some("vpc-257gq642n****"));
        assert_eq!(v.status.as_deref(), Some("Pending"));
        assert_eq!(v.cidr_block.as_deref(), Some("192.168.0.1/24"));
        assert_eq!(
            v.route_table.route_table_id.as_deref(),
            Some("vtb-bp145q7glnuzdv****")
        );
        assert_eq!(v.route_table.route_table_type.as_deref(), Some("System"));
        // As printed in the doc (an integer, kept as one).
        assert_eq!(v.owner_id, Some(287683832402436800));
        assert_eq!(v.available_ip_address_count, Some(12));
    }

    #[test]
    fn describe_vpc_attribute() {
        let v: VpcAttribute = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeVpcAttribute.json"
        ));
        let cen = &v.associated_cens.associated_cen[0];
        assert_eq!(cen.cen_id.as_deref(), Some("cen-7qthudw0ll6jmc0000"));
        assert_eq!(cen.cen_owner_id, Some(253460731706911258));
        assert_eq!(cen.cen_status.as_deref(), Some("Attached"));
        assert_eq!(v.v_switch_ids.v_switch_id, ["vsw-bp1abcdefghijk0000"]);
        assert_eq!(
            v.secondary_cidr_blocks.secondary_cidr_block,
            ["192.169.0.0/16"]
        );
        assert!(v.user_cidrs.user_cidr.is_empty());
        // A VPC in no CEN: no AssociatedCens at all.
        let v: VpcAttribute = crate::openapi::json::from_str(r#"{"VpcId":"vpc-x"}"#).unwrap();
        assert!(v.associated_cens.associated_cen.is_empty());
    }

    #[test]
    fn describe_route_entry_list() {
        let r: RouteEntryList = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeRouteEntryList.json"
        ));
        assert_eq!(
            r.next_token.as_deref(),
            Some("FFmyTO70tTpLG6I3FmYAXGKPd****")
        );
        let e = &r.route_entrys.route_entry[0];
        assert_eq!(e.destination_cidr_block.as_deref(), Some("192.168.2.0/24"));
        assert_eq!(e.r#type.as_deref(), Some("Custom"));
        assert_eq!(e.origin.as_deref(), Some("RoutePropagation"));
        let hop = &e.next_hops.next_hop[0];
        assert_eq!(hop.next_hop_type.as_deref(), Some("Instance"));
        assert_eq!((hop.enabled, hop.weight), (Some(1), Some(100)));
        assert_eq!(
            hop.next_hop_related_info
                .as_ref()
                .unwrap()
                .instance_type
                .as_deref(),
            Some("VPC")
        );
        // The wrapper is RouteEntrys: a RouteEntries wrapper is not read.
        let r: RouteEntryList =
            crate::openapi::json::from_str(r#"{"RouteEntries":{"RouteEntry":[{}]}}"#).unwrap();
        assert!(r.route_entrys.route_entry.is_empty());
    }
}
