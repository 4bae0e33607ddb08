//! Cloud Enterprise Network (CBN 2017-09-12, RPC, central endpoint): is the function's VPC and
//! the gateway's bound VPC in the CEN, and is there a "cloud service" route for the gateway's
//! range (spec control-plane.md §6.1–6.2). RAM actions are `cen:<Action>` (§6).

use std::time::Instant;

use super::client::{Answer, Call, Client};
use super::endpoint::Product;
use super::error::OpenApiError;
use super::json::{json_model, FromJson};
use super::param;

json_model! {
    /// `DescribeCenAttachedChildInstances` (§6.1).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct CenChildInstances {
        /// `ChildInstances.ChildInstance[]`.
        #[json("ChildInstances", nullable)]
        pub child_instances: ChildInstanceList,
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
    /// `ChildInstances`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct ChildInstanceList {
        /// `ChildInstance[]`.
        #[json("ChildInstance", nullable)]
        pub child_instance: Vec<ChildInstance>,
    }
}

json_model! {
    /// `ChildInstances.ChildInstance[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct ChildInstance {
        /// `CenId`.
        #[json("CenId")]
        pub cen_id: Option<String>,
        /// `ChildInstanceId`, e.g. a VPC id.
        #[json("ChildInstanceId")]
        pub child_instance_id: Option<String>,
        /// `ChildInstanceType`: `VPC` / `VBR` / `CCN`.
        #[json("ChildInstanceType")]
        pub child_instance_type: Option<String>,
        /// `ChildInstanceRegionId`.
        #[json("ChildInstanceRegionId")]
        pub child_instance_region_id: Option<String>,
        /// `ChildInstanceOwnerId`.
        #[json("ChildInstanceOwnerId")]
        pub child_instance_owner_id: Option<i64>,
        /// `Status` (value set \[unverified\]; `Attached` expected).
        #[json("Status")]
        pub status: Option<String>,
        /// `ChildInstanceAttachTime`.
        #[json("ChildInstanceAttachTime")]
        pub child_instance_attach_time: Option<String>,
    }
}

/// What `DescribeCenAttachedChildInstances` asks for (`CenId` is required).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChildInstancesQuery {
    /// `CenId`.
    pub cen_id: String,
    /// `ChildInstanceRegionId`.
    pub child_instance_region_id: Option<String>,
    /// `ChildInstanceType`, e.g. `VPC`.
    pub child_instance_type: Option<String>,
    /// `PageNumber`.
    pub page_number: Option<u32>,
    /// `PageSize`.
    pub page_size: Option<u32>,
}

json_model! {
    /// `DescribeRouteServicesInCen` (§6.2).
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct RouteServices {
        /// `RouteServiceEntries.RouteServiceEntry[]`.
        #[json("RouteServiceEntries", nullable)]
        pub route_service_entries: RouteServiceEntries,
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
    /// `RouteServiceEntries`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct RouteServiceEntries {
        /// `RouteServiceEntry[]`.
        #[json("RouteServiceEntry", nullable)]
        pub route_service_entry: Vec<RouteServiceEntry>,
    }
}

json_model! {
    /// `RouteServiceEntries.RouteServiceEntry[]`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct RouteServiceEntry {
        /// `CenId`.
        #[json("CenId")]
        pub cen_id: Option<String>,
        /// `Host`: the domain, IP or CIDR the entry was made for.
        #[json("Host")]
        pub host: Option<String>,
        /// `HostRegionId`.
        #[json("HostRegionId")]
        pub host_region_id: Option<String>,
        /// `HostVpcId`.
        #[json("HostVpcId")]
        pub host_vpc_id: Option<String>,
        /// `AccessRegionId`.
        #[json("AccessRegionId")]
        pub access_region_id: Option<String>,
        /// `Status`: `Creating` / `Active` / `Deleting`.
        #[json("Status")]
        pub status: Option<String>,
        /// `Description`.
        #[json("Description")]
        pub description: Option<String>,
        /// `Cidrs.Cidr[]`: the host's addresses or CIDRs.
        #[json("Cidrs", nullable)]
        pub cidrs: Cidrs,
    }
}

json_model! {
    /// `Cidrs`.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Cidrs {
        /// `Cidr[]`.
        #[json("Cidr", nullable)]
        pub cidr: Vec<String>,
    }
}

/// What `DescribeRouteServicesInCen` asks for (`CenId` is required; `PageSize` 1–50).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteServicesQuery {
    /// `CenId`.
    pub cen_id: String,
    /// `Host`.
    pub host: Option<String>,
    /// `HostRegionId`.
    pub host_region_id: Option<String>,
    /// `HostVpcId`.
    pub host_vpc_id: Option<String>,
    /// `AccessRegionId`.
    pub access_region_id: Option<String>,
    /// `PageNumber`.
    pub page_number: Option<u32>,
    /// `PageSize`.
    pub page_size: Option<u32>,
}

impl Client {
    /// `cen:DescribeCenAttachedChildInstances`: one page of a CEN's attached instances.
    pub async fn describe_cen_attached_child_instances(
        &self,
        query: &ChildInstancesQuery,
        deadline: Instant,
    ) -> Result<Answer<CenChildInstances>, OpenApiError> {
        let mut params = vec![("CenId".into(), query.cen_id.clone())];
        param(
            &mut params,
            "ChildInstanceRegionId",
            query.child_instance_region_id.as_ref(),
        );
        param(
            &mut params,
            "ChildInstanceType",
            query.child_instance_type.as_ref(),
        );
        param(&mut params, "PageNumber", query.page_number);
        param(&mut params, "PageSize", query.page_size);
        self.cbn("DescribeCenAttachedChildInstances", params, deadline)
            .await
    }

    /// `cen:DescribeRouteServicesInCen`: one page of the CEN's cloud-service routes.
    pub async fn describe_route_services_in_cen(
        &self,
        query: &RouteServicesQuery,
        deadline: Instant,
    ) -> Result<Answer<RouteServices>, OpenApiError> {
        let mut params = vec![("CenId".into(), query.cen_id.clone())];
        param(&mut params, "Host", query.host.as_ref());
        param(&mut params, "HostRegionId", query.host_region_id.as_ref());
        param(&mut params, "HostVpcId", query.host_vpc_id.as_ref());
        param(
            &mut params,
            "AccessRegionId",
            query.access_region_id.as_ref(),
        );
        param(&mut params, "PageNumber", query.page_number);
        param(&mut params, "PageSize", query.page_size);
        self.cbn("DescribeRouteServicesInCen", params, deadline)
            .await
    }

    async fn cbn<T: FromJson + Send + 'static>(
        &self,
        action: &'static str,
        query: Vec<(String, String)>,
        deadline: Instant,
    ) -> Result<Answer<T>, OpenApiError> {
        let call = Call {
            product: Product::Cbn,
            // Central: the region plays no part in the endpoint.
            region: "",
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
    fn describe_cen_attached_child_instances() {
        let r: CenChildInstances = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeCenAttachedChildInstances.json"
        ));
        assert_eq!(r.total_count, Some(2));
        let c = &r.child_instances.child_instance[1];
        assert_eq!(c.child_instance_id.as_deref(), Some("vpc-uf6boundvpc0000"));
        assert_eq!(c.child_instance_region_id.as_deref(), Some("cn-shanghai"));
        assert_eq!(c.child_instance_owner_id, Some(253460731706911258));
        assert_eq!(c.status.as_deref(), Some("Attached"));
    }

    #[test]
    fn describe_route_services_in_cen() {
        let r: RouteServices = fixture(include_str!(
            "../../tests/fixtures/openapi/DescribeRouteServicesInCen.json"
        ));
        assert_eq!(r.total_count, Some(2));
        let e = &r.route_service_entries.route_service_entry[0];
        assert_eq!(e.status.as_deref(), Some("Active"));
        assert_eq!(e.host.as_deref(), Some("100.118.28.0/24"));
        assert_eq!(e.host_vpc_id.as_deref(), Some("vpc-bp1h8vbrbcgohcju5****"));
        assert_eq!(e.access_region_id.as_deref(), Some("cn-hangzhou"));
        assert_eq!(e.cidrs.cidr, ["100.118.28.0/24"]);
    }
}
