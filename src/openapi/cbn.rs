//! Cloud Enterprise Network (CBN 2017-09-12, RPC, central endpoint): is the function's VPC and
//! the gateway's bound VPC in the CEN, and is there a "cloud service" route for the gateway's
//! range (spec control-plane.md §6.1–6.2). RAM actions are `cen:<Action>` (§6).

use std::time::Instant;

use serde::Deserialize;

use super::client::{Answer, Call, Client};
use super::endpoint::Product;
use super::error::OpenApiError;
use super::{nullable, param};

/// `DescribeCenAttachedChildInstances` (§6.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct CenChildInstances {
    /// `ChildInstances.ChildInstance[]`.
    #[serde(rename = "ChildInstances", default, deserialize_with = "nullable")]
    pub child_instances: ChildInstanceList,
    /// `TotalCount`.
    #[serde(rename = "TotalCount")]
    pub total_count: Option<i64>,
    /// `PageNumber`.
    #[serde(rename = "PageNumber")]
    pub page_number: Option<i64>,
    /// `PageSize`.
    #[serde(rename = "PageSize")]
    pub page_size: Option<i64>,
}

/// `ChildInstances`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ChildInstanceList {
    /// `ChildInstance[]`.
    #[serde(rename = "ChildInstance", default, deserialize_with = "nullable")]
    pub child_instance: Vec<ChildInstance>,
}

/// `ChildInstances.ChildInstance[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ChildInstance {
    /// `CenId`.
    #[serde(rename = "CenId")]
    pub cen_id: Option<String>,
    /// `ChildInstanceId`, e.g. a VPC id.
    #[serde(rename = "ChildInstanceId")]
    pub child_instance_id: Option<String>,
    /// `ChildInstanceType`: `VPC` / `VBR` / `CCN`.
    #[serde(rename = "ChildInstanceType")]
    pub child_instance_type: Option<String>,
    /// `ChildInstanceRegionId`.
    #[serde(rename = "ChildInstanceRegionId")]
    pub child_instance_region_id: Option<String>,
    /// `ChildInstanceOwnerId`.
    #[serde(rename = "ChildInstanceOwnerId")]
    pub child_instance_owner_id: Option<i64>,
    /// `Status` (value set \[unverified\]; `Attached` expected).
    #[serde(rename = "Status")]
    pub status: Option<String>,
    /// `ChildInstanceAttachTime`.
    #[serde(rename = "ChildInstanceAttachTime")]
    pub child_instance_attach_time: Option<String>,
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

/// `DescribeRouteServicesInCen` (§6.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RouteServices {
    /// `RouteServiceEntries.RouteServiceEntry[]`.
    #[serde(rename = "RouteServiceEntries", default, deserialize_with = "nullable")]
    pub route_service_entries: RouteServiceEntries,
    /// `TotalCount`.
    #[serde(rename = "TotalCount")]
    pub total_count: Option<i64>,
    /// `PageNumber`.
    #[serde(rename = "PageNumber")]
    pub page_number: Option<i64>,
    /// `PageSize`.
    #[serde(rename = "PageSize")]
    pub page_size: Option<i64>,
}

/// `RouteServiceEntries`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RouteServiceEntries {
    /// `RouteServiceEntry[]`.
    #[serde(rename = "RouteServiceEntry", default, deserialize_with = "nullable")]
    pub route_service_entry: Vec<RouteServiceEntry>,
}

/// `RouteServiceEntries.RouteServiceEntry[]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RouteServiceEntry {
    /// `CenId`.
    #[serde(rename = "CenId")]
    pub cen_id: Option<String>,
    /// `Host`: the domain, IP or CIDR the entry was made for.
    #[serde(rename = "Host")]
    pub host: Option<String>,
    /// `HostRegionId`.
    #[serde(rename = "HostRegionId")]
    pub host_region_id: Option<String>,
    /// `HostVpcId`.
    #[serde(rename = "HostVpcId")]
    pub host_vpc_id: Option<String>,
    /// `AccessRegionId`.
    #[serde(rename = "AccessRegionId")]
    pub access_region_id: Option<String>,
    /// `Status`: `Creating` / `Active` / `Deleting`.
    #[serde(rename = "Status")]
    pub status: Option<String>,
    /// `Description`.
    #[serde(rename = "Description")]
    pub description: Option<String>,
    /// `Cidrs.Cidr[]`: the host's addresses or CIDRs.
    #[serde(rename = "Cidrs", default, deserialize_with = "nullable")]
    pub cidrs: Cidrs,
}

/// `Cidrs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Cidrs {
    /// `Cidr[]`.
    #[serde(rename = "Cidr", default, deserialize_with = "nullable")]
    pub cidr: Vec<String>,
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

    async fn cbn<T: serde::de::DeserializeOwned + Send + 'static>(
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
