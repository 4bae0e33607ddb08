//! The procedure of control-plane.md §10.2: the checks of a failure's [`Family`], in order,
//! each from one or two read-only calls; the first that fails is the verdict.
//!
//! Where the spec is \[unverified\], both answers are handled:
//! - a disabled group's `VpcDomain` (§12.1): empty and absent both read as "not enabled"; and
//!   should the control plane still name the domain while the VPC DNS answers NXDOMAIN for it
//!   (with the function in a VPC and nothing else wrong), that is read as "not enabled" too;
//! - `DescribeDeployedApis` without `StageName` (the SDK marks it optional): asked once for
//!   every stage; should the service require it, each stage is asked for;
//! - the value sets of `Status`/`CenStatus` (§12.5): only `Available`, `Active`, `Creating`
//!   and `RUNNING` are relied on, as documented;
//! - the meaning of the group's VPC whitelist (§12.4): a non-empty list that names neither the
//!   function's VPC nor the bound one is read as blocking.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::IpAddr;
use std::time::Instant;

use super::plan::{Family, Step};
use super::{FunctionIdentity, Subject, Verdict};
use crate::apigw::apigw_domain;
use crate::openapi::cbn::{ChildInstancesQuery, RouteServicesQuery};
use crate::openapi::cloudapi::{
    ApiGroup, AuthorizedAppsQuery, DeployedApiItem, DeployedApisQuery, InstanceAttribute,
};
use crate::openapi::vpc::RouteEntryQuery;
use crate::openapi::{Answer, Client, ErrorKind, OpenApiError, Product};
use crate::report::{self, Check, CheckStatus, ConfigCheck, Evidence, TargetReport, Unknown};

/// Most vSwitches, CENs, route tables or pages looked at: a function has a few vSwitches, a VPC
/// one or two CENs; beyond this the check would not fit its budget anyway.
const MAX_ITEMS: usize = 4;

/// The page size asked for (CloudAPI's maximum is 100, CBN's and VPC's 50).
const PAGE: u32 = 50;

/// What the procedure works from.
pub(crate) struct Inputs<'a> {
    pub subject: &'a Subject,
    pub report: &'a TargetReport,
    pub function: &'a FunctionIdentity,
    /// None: no credentials.
    pub client: Option<Client>,
    pub deadline: Instant,
    pub started: Instant,
}

/// The first verified fail.
struct Finding {
    verdict: Verdict,
    setting: Option<String>,
    expected: Option<String>,
    actual: Option<String>,
    hint: String,
}

/// The endpoint and request id of an answer.
#[derive(Clone)]
struct Meta {
    endpoint: String,
    request_id: Option<String>,
}

impl<T> From<&Answer<T>> for Meta {
    fn from(a: &Answer<T>) -> Self {
        Self {
            endpoint: a.endpoint.clone(),
            request_id: a.request_id.clone(),
        }
    }
}

/// The outcome of one call.
enum Asked<T> {
    Answer(Answer<T>),
    /// The resource the call names does not exist: the caller decides what that means.
    NotFound(OpenApiError),
    /// Recorded as unknown (or as the credentials' failure).
    Failed,
}

struct Run<'a> {
    inp: Inputs<'a>,
    family: Family,
    status: Vec<(Step, CheckStatus, Option<String>)>,
    evidence: Vec<Evidence>,
    unknown: Vec<Unknown>,
    finding: Option<Finding>,
    /// Products whose endpoint did not answer: not asked again.
    dead: BTreeSet<Product>,
    /// The gateway's group id and region, from the host.
    group_id: Option<String>,
    gateway_region: Option<String>,
    // What earlier checks learnt.
    function_vpc: Option<String>,
    vswitches: Vec<String>,
    route_tables: Vec<(String, String)>,
    group: Option<ApiGroup>,
    instance: Option<InstanceAttribute>,
    bound_vpc: Option<String>,
    cens: Vec<String>,
    deployed: Option<Vec<DeployedApiItem>>,
    /// Where the group, the published APIs and the route entries were read (for evidence).
    group_meta: Option<Meta>,
    deployed_meta: Option<Meta>,
    routes_meta: Option<Meta>,
    api: Option<DeployedApiItem>,
    app: Option<(i64, String)>,
}

/// Runs the procedure for one target.
pub(crate) async fn check(inp: Inputs<'_>) -> ConfigCheck {
    let family = Family::of(inp.report.error.as_ref().map(|e| &e.class));
    let needed = family.steps();
    let status = Step::ALL
        .iter()
        .map(|s| {
            let detail =
                (!needed.contains(s)).then(|| format!("not needed for {}", family.describe()));
            (*s, CheckStatus::Skipped, detail)
        })
        .collect();
    let domain = apigw_domain(&inp.subject.host);
    let mut run = Run {
        family,
        status,
        evidence: Vec::new(),
        unknown: Vec::new(),
        finding: None,
        dead: BTreeSet::new(),
        group_id: domain.as_ref().map(|d| d.group.clone()),
        gateway_region: domain.map(|d| d.region),
        function_vpc: None,
        vswitches: Vec::new(),
        route_tables: Vec::new(),
        group: None,
        instance: None,
        bound_vpc: None,
        cens: Vec::new(),
        deployed: None,
        group_meta: None,
        deployed_meta: None,
        routes_meta: None,
        api: None,
        app: None,
        inp,
    };
    run.go().await;
    run.finish()
}

impl Run<'_> {
    fn needs(&self, step: Step) -> bool {
        self.family.steps().contains(&step)
    }

    fn stopped(&self) -> bool {
        self.finding.is_some()
    }

    fn set(&mut self, step: Step, status: CheckStatus, detail: Option<String>) {
        if let Some(entry) = self.status.iter_mut().find(|(s, _, _)| *s == step) {
            entry.1 = status;
            entry.2 = detail;
        }
    }

    fn pass(&mut self, step: Step, detail: impl Into<String>) {
        self.set(step, CheckStatus::Pass, Some(detail.into()));
    }

    fn skip(&mut self, step: Step, why: impl Into<String>) {
        self.set(step, CheckStatus::Skipped, Some(why.into()));
    }

    fn fail(&mut self, step: Step, finding: Finding) {
        self.set(step, CheckStatus::Fail, Some(finding.verdict.name().into()));
        if self.finding.is_none() {
            self.finding = Some(finding);
        }
    }

    fn unknown(&mut self, step: Step, reason: &str, message: String) {
        self.set(step, CheckStatus::Unknown, None);
        self.unknown.push(Unknown {
            step: step.id().into(),
            reason: reason.into(),
            message,
            action: None,
            code: None,
            request_id: None,
        });
    }

    /// Evidence from an answer.
    fn saw<T>(&mut self, answer: &Answer<T>, field: impl Into<String>, value: impl Into<String>) {
        self.evidence.push(Evidence {
            call: answer.action.clone(),
            endpoint: Some(answer.endpoint.clone()),
            request_id: answer.request_id.clone(),
            field: field.into(),
            value: value.into(),
        });
    }

    /// Evidence from an answer read earlier.
    fn saw_at(
        &mut self,
        meta: Option<Meta>,
        call: &str,
        field: impl Into<String>,
        value: impl Into<String>,
    ) {
        let (endpoint, request_id) =
            meta.map_or((None, None), |m| (Some(m.endpoint), m.request_id));
        self.evidence.push(Evidence {
            call: call.into(),
            endpoint,
            request_id,
            field: field.into(),
            value: value.into(),
        });
    }

    /// Evidence from the published APIs.
    fn deployed_evidence(&mut self, item: &DeployedApiItem, index: usize) {
        let value = format!(
            "{} ({} {}, ApiId {})",
            item.stage_name.clone().unwrap_or_default(),
            item.api_method.clone().unwrap_or_default(),
            item.api_path.clone().unwrap_or_default(),
            item.api_id.clone().unwrap_or_default()
        );
        self.saw_at(
            self.deployed_meta.clone(),
            "apigateway:DescribeDeployedApis",
            format!("DeployedApis.DeployedApiItem[{index}].StageName"),
            value,
        );
    }

    /// Evidence from the probe itself.
    fn probe_saw(&mut self, endpoint: Option<String>, field: &str, value: impl Into<String>) {
        self.evidence.push(Evidence {
            call: "probe".into(),
            endpoint,
            request_id: None,
            field: field.into(),
            value: value.into(),
        });
    }

    /// Makes one call for `step`, unless its endpoint already failed to answer or no time is
    /// left; a failure is recorded (unknown, or the credentials' verdict).
    async fn ask<T>(
        &mut self,
        step: Step,
        product: Product,
        action: &str,
        call: impl Future<Output = Result<Answer<T>, OpenApiError>>,
    ) -> Asked<T> {
        let action = format!("{}:{action}", product.ram_code());
        if Instant::now() >= self.inp.deadline {
            self.unknown(
                step,
                ErrorKind::DeadlineExceeded.name(),
                format!("{action} not called: the cross-check's budget was spent"),
            );
            return Asked::Failed;
        }
        if self.dead.contains(&product) {
            self.unknown(
                step,
                ErrorKind::Unreachable.name(),
                format!("{action} not called: {product}'s endpoint did not answer an earlier call"),
            );
            return Asked::Failed;
        }
        match call.await {
            Ok(answer) => Asked::Answer(answer),
            Err(e) if e.kind == ErrorKind::NotFound => Asked::NotFound(e),
            Err(e) => {
                self.call_failed(step, product, e);
                Asked::Failed
            }
        }
    }

    /// [`Self::ask`] where a missing resource is only something the check could not learn:
    /// recorded as unknown, like any other failed call (`None`).
    async fn ask_found<T>(
        &mut self,
        step: Step,
        product: Product,
        action: &str,
        call: impl Future<Output = Result<Answer<T>, OpenApiError>>,
    ) -> Option<Answer<T>> {
        match self.ask(step, product, action, call).await {
            Asked::Answer(a) => Some(a),
            Asked::NotFound(e) => {
                self.unknown(step, ErrorKind::NotFound.name(), e.to_string());
                None
            }
            Asked::Failed => None,
        }
    }

    fn call_failed(&mut self, step: Step, product: Product, e: OpenApiError) {
        let code = e.code.clone().unwrap_or_default();
        // A clock skew or a reused nonce is not the credentials' fault.
        let credentials = e.kind == ErrorKind::CredentialsInvalid
            && !code.starts_with("InvalidTimeStamp")
            && code != "SignatureNonceUsed";
        if credentials {
            self.evidence.push(Evidence {
                call: e.action.clone(),
                endpoint: e.endpoint.clone(),
                request_id: e.request_id.clone(),
                field: "Code".into(),
                value: code.clone(),
            });
            self.set(
                step,
                CheckStatus::Skipped,
                Some("the credentials were refused".into()),
            );
            self.fail(
                Step::Credentials,
                Finding {
                    verdict: Verdict::CredentialsInvalid,
                    setting: Some(
                        "the function role's credentials (x-fc-access-key-id, x-fc-access-key-secret, x-fc-security-token; on the command line the profile or ALIBABA_CLOUD_*)"
                            .into(),
                    ),
                    expected: Some("credentials the control plane accepts".into()),
                    actual: Some(format!("{code}: {}", e.message)),
                    hint: "FC refreshes the role's STS credentials with every invocation: a refusal means the role was changed or deleted while the instance ran, or (on the command line) that the profile's AccessKey is wrong, disabled or expired; check the function's role in the FC console (Configuration → Permissions) and the AccessKey in the RAM console, then invoke again.".into(),
                },
            );
            return;
        }
        if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::DeadlineExceeded) {
            self.dead.insert(product);
        }
        self.set(step, CheckStatus::Unknown, None);
        self.unknown.push(Unknown {
            step: step.id().into(),
            reason: e.kind.name().into(),
            action: e.ram_action().map(str::to_owned),
            message: e.to_string(),
            code: e.code.clone(),
            request_id: e.request_id.clone(),
        });
    }

    async fn go(&mut self) {
        if self.family == Family::Backend {
            return;
        }
        if self.inp.client.is_none() {
            self.fail(
                Step::Credentials,
                Finding {
                    verdict: Verdict::CredentialsMissing,
                    setting: Some("the function's role (role) and disableInjectCredentials".into()),
                    expected: Some("the role's STS credentials in FC's x-fc-access-key-id, x-fc-access-key-secret and x-fc-security-token headers (or ALIBABA_CLOUD_ACCESS_KEY_ID, …)".into()),
                    actual: Some("none".into()),
                    hint: "FC console → the function → Configuration → Permissions: set a role trusted by fc.aliyuncs.com with the read-only policy deploy/ram-policy.json, and keep disableInjectCredentials at None (UpdateFunction role, disableInjectCredentials); on the command line use --profile or the ALIBABA_CLOUD_* variables; or set APIGW_CONFIG_CHECK=off.".into(),
                },
            );
            return;
        }
        self.pass(Step::Credentials, "credentials present");
        // In the spec's order; the first finding ends the check (later steps stay skipped).
        for step in [
            Step::FunctionVpc,
            Step::Vswitch,
            Step::Group,
            Step::Instance,
            Step::Whitelist,
            Step::FunctionVpcCen,
            Step::App,
            Step::Published,
            Step::Protocol,
            Step::Authorization,
        ] {
            if self.stopped() {
                break;
            }
            if !self.needs(step) {
                continue;
            }
            match step {
                Step::FunctionVpc => self.function_vpc().await,
                Step::Vswitch => self.vswitches().await,
                Step::Group => self.group().await,
                Step::Instance => self.instance().await,
                Step::Whitelist => self.whitelist().await,
                Step::FunctionVpcCen => self.cen().await,
                Step::App => self.app().await,
                Step::Published => self.published().await,
                Step::Protocol => self.protocol().await,
                Step::Authorization => self.authorization().await,
                // The other steps run inside the checks above: the group's (VPC domain, host),
                // the instance's (inbound VPC), CEN's (the gateway's VPC, route service, tables).
                _ => {}
            }
        }
        if !self.stopped() {
            self.vpc_domain_by_dns();
        }
    }

    fn client(&self) -> Client {
        // `go` returns before any call without one.
        self.inp
            .client
            .clone()
            .unwrap_or_else(|| unreachable!("checked in go()"))
    }

    fn function_name(&self) -> String {
        self.inp.function.name.clone().unwrap_or_default()
    }

    /// S1: the function's `vpcConfig`.
    async fn function_vpc(&mut self) {
        let f = self.inp.function;
        let (Some(region), Some(name)) = (f.region.clone(), f.name.clone()) else {
            self.unknown(
                Step::FunctionVpc,
                "function_unknown",
                "the function's name and region are not known (FC sends x-fc-function-name and x-fc-region; on the command line pass --function and --region)".into(),
            );
            return;
        };
        let client = self.client();
        let call = client.get_function(&region, &name, f.qualifier.as_deref(), self.inp.deadline);
        let Some(answer) = self
            .ask_found(Step::FunctionVpc, Product::Fc, "GetFunction", call)
            .await
        else {
            return;
        };
        let vpc = answer.value.vpc_config.as_ref();
        match answer.value.vpc_id() {
            Some(id) => {
                let id = id.to_owned();
                self.saw(&answer, "vpcConfig.vpcId", id.clone());
                self.vswitches = vpc.map(|v| v.v_switch_ids.clone()).unwrap_or_default();
                self.saw(&answer, "vpcConfig.vSwitchIds", self.vswitches.join(","));
                self.pass(Step::FunctionVpc, format!("in {id}"));
                self.function_vpc = Some(id);
            }
            None => {
                let (field, value) = match vpc {
                    None => ("vpcConfig", "(absent)".to_owned()),
                    Some(v) => (
                        "vpcConfig.vpcId",
                        v.vpc_id.clone().unwrap_or_else(|| "(absent)".into()),
                    ),
                };
                self.saw(&answer, field, value);
                let expected = match self.family {
                    Family::DnsName | Family::DnsServer => {
                        "a VPC (the VPC second-level domain and the VPC DNS 100.100.2.136/138 answer only inside a VPC)"
                    }
                    _ => "a VPC (the dedicated instance's bound inbound VPC, or one connected to it by CEN)",
                };
                self.fail(
                    Step::FunctionVpc,
                    Finding {
                        verdict: Verdict::FunctionNotInVpc,
                        setting: Some(format!(
                            "Function Compute function {name} → Configuration → Network → VPC access (vpcConfig)"
                        )),
                        expected: Some(expected.into()),
                        actual: Some("not in a VPC (no vpcConfig.vpcId)".into()),
                        hint: format!(
                            "FC console → {name} → Configuration → Network: allow VPC access and choose the VPC bound to the API Gateway instance, one of its vSwitches and a security group; or UpdateFunction({name}, vpcConfig: {{vpcId, vSwitchIds, securityGroupId}})."
                        ),
                    },
                );
            }
        }
    }

    /// S2: every vSwitch of the function is in its VPC and available.
    async fn vswitches(&mut self) {
        let Some(vpc) = self.function_vpc.clone() else {
            self.skip(Step::Vswitch, "needs the function's VPC (S1.function_vpc)");
            return;
        };
        let region = self.inp.function.region.clone().unwrap_or_default();
        let name = self.function_name();
        let setting = format!(
            "Function Compute function {name} → Configuration → Network → vSwitches (vpcConfig.vSwitchIds)"
        );
        let hint = format!(
            "FC console → {name} → Configuration → Network: choose vSwitches of {vpc} (available ones); or UpdateFunction({name}, vpcConfig.vSwitchIds)."
        );
        if self.vswitches.is_empty() {
            self.fail(
                Step::Vswitch,
                Finding {
                    verdict: Verdict::FunctionVswitchNotInVpc,
                    setting: Some(setting),
                    expected: Some(format!("a vSwitch of {vpc}")),
                    actual: Some("none".into()),
                    hint,
                },
            );
            return;
        }
        let mut checked = Vec::new();
        for vsw in self.vswitches.clone().into_iter().take(MAX_ITEMS) {
            let client = self.client();
            let call = client.describe_vswitch_attributes(&region, &vsw, self.inp.deadline);
            let answer = match self
                .ask(
                    Step::Vswitch,
                    Product::Vpc,
                    "DescribeVSwitchAttributes",
                    call,
                )
                .await
            {
                Asked::Answer(a) => a,
                Asked::NotFound(e) => {
                    self.evidence.push(Evidence {
                        call: e.action.clone(),
                        endpoint: e.endpoint.clone(),
                        request_id: e.request_id.clone(),
                        field: "Code".into(),
                        value: e.code.clone().unwrap_or_default(),
                    });
                    self.fail(
                        Step::Vswitch,
                        Finding {
                            verdict: Verdict::FunctionVswitchNotInVpc,
                            setting: Some(setting),
                            expected: Some(format!("{vsw} in {vpc}")),
                            actual: Some(format!("{vsw} does not exist in {region}")),
                            hint,
                        },
                    );
                    return;
                }
                Asked::Failed => return,
            };
            let v = &answer.value;
            let in_vpc = v.vpc_id.clone().unwrap_or_default();
            self.saw(&answer, "VpcId", in_vpc.clone());
            if in_vpc != vpc {
                self.fail(
                    Step::Vswitch,
                    Finding {
                        verdict: Verdict::FunctionVswitchNotInVpc,
                        setting: Some(setting),
                        expected: Some(format!("{vsw} in {vpc}")),
                        actual: Some(format!("{vsw} in {in_vpc}")),
                        hint,
                    },
                );
                return;
            }
            let status = v.status.clone().unwrap_or_default();
            if !status.is_empty() && status != "Available" {
                self.saw(&answer, "Status", status.clone());
                self.fail(
                    Step::Vswitch,
                    Finding {
                        verdict: Verdict::FunctionVswitchNotAvailable,
                        setting: Some(setting),
                        expected: Some(format!("{vsw} Available")),
                        actual: Some(format!("{vsw} {status}")),
                        hint,
                    },
                );
                return;
            }
            if let Some(table) = v.route_table.route_table_id.clone() {
                self.route_tables.push((vsw.clone(), table));
            }
            checked.push(format!(
                "{vsw} ({})",
                v.cidr_block.clone().unwrap_or_default()
            ));
        }
        self.pass(Step::Vswitch, format!("in {vpc}: {}", checked.join(", ")));
    }

    /// S3: the group, its VPC domain and the host.
    async fn group(&mut self) {
        let (Some(gid), Some(region)) = (self.group_id.clone(), self.gateway_region.clone()) else {
            let host = self.inp.subject.host.clone();
            self.skip(Step::Group, "the host names no API group");
            self.fail(
                Step::Host,
                Finding {
                    verdict: Verdict::GroupUnknown,
                    setting: Some("the target's host".into()),
                    expected: Some("an API group's domain, <groupId>-<region>-vpc.alicloudapi.com".into()),
                    actual: Some(host),
                    hint: "The cross-check reads the group id and region from the host name: probe the group's VPC second-level domain (or give the target \"group\" and \"region\"); a custom domain names no group.".into(),
                },
            );
            return;
        };
        let client = self.client();
        let call = client.describe_api_group(&region, &gid, self.inp.deadline);
        let answer = match self
            .ask(Step::Group, Product::ApiGateway, "DescribeApiGroup", call)
            .await
        {
            Asked::Answer(a) => a,
            Asked::NotFound(e) => {
                self.evidence.push(Evidence {
                    call: e.action.clone(),
                    endpoint: e.endpoint.clone(),
                    request_id: e.request_id.clone(),
                    field: "Code".into(),
                    value: e.code.clone().unwrap_or_default(),
                });
                self.fail(
                    Step::Group,
                    Finding {
                        verdict: Verdict::GroupNotFound,
                        setting: Some(format!("the API group id and region in the host ({gid}, {region})")),
                        expected: Some(format!("an API group {gid} in {region} of the role's account")),
                        actual: Some(format!("{}: no such group", e.code.unwrap_or_default())),
                        hint: format!(
                            "Check the host against API Gateway console → Groups (region {region}): the group id, its region, and that the group belongs to the account of the function's role (another account's group is not visible to it)."
                        ),
                    },
                );
                return;
            }
            Asked::Failed => {
                for step in [Step::VpcDomain, Step::Host] {
                    if self.needs(step) {
                        self.skip(step, "needs the group (S3.group)");
                    }
                }
                return;
            }
        };
        let g = answer.value.clone();
        self.group_meta = Some(Meta::from(&answer));
        let name = g.group_name.clone().unwrap_or_default();
        let label = if name.is_empty() {
            gid.clone()
        } else {
            format!("{name} ({gid})")
        };
        let status = g.status.clone().unwrap_or_default();
        let locked = [
            ("BillingStatus", g.billing_status.clone()),
            ("IllegalStatus", g.illegal_status.clone()),
        ]
        .into_iter()
        .find(|(_, v)| v.as_deref() == Some("LOCKED"));
        if status == "DELETE" {
            self.saw(&answer, "Status", status);
            self.fail(
                Step::Group,
                Finding {
                    verdict: Verdict::GroupDeleted,
                    setting: Some(format!("API group {label} → status")),
                    expected: Some("NORMAL".into()),
                    actual: Some("DELETE".into()),
                    hint: "The group is deleted: probe a group that exists (API Gateway console → Groups).".into(),
                },
            );
            return;
        }
        if let Some((field, _)) = locked {
            self.saw(&answer, field, "LOCKED");
            self.fail(
                Step::Group,
                Finding {
                    verdict: Verdict::GroupLocked,
                    setting: Some(format!("API group {label} → {field}")),
                    expected: Some("NORMAL".into()),
                    actual: Some("LOCKED".into()),
                    hint: "The group is locked (BillingStatus: an overdue payment; IllegalStatus: content found not valid): settle the account or contact support.".into(),
                },
            );
            return;
        }
        self.saw(
            &answer,
            "InstanceId",
            g.instance_id.clone().unwrap_or_default(),
        );
        self.pass(
            Step::Group,
            format!("{label} on {}", g.instance_id.clone().unwrap_or_default()),
        );
        let expected_domain = format!("{gid}-{region}-vpc.alicloudapi.com");
        let vpc_domain = g
            .vpc_domain
            .as_deref()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty());
        if self.needs(Step::VpcDomain) {
            match &vpc_domain {
                Some(d) => {
                    self.saw(&answer, "VpcDomain", d.clone());
                    self.pass(Step::VpcDomain, format!("VpcDomain {d}"));
                }
                None => {
                    let (value, actual) = match &g.vpc_domain {
                        None => ("(absent)", "not enabled (no VpcDomain)"),
                        Some(_) => ("", "not enabled (VpcDomain empty)"),
                    };
                    self.saw(&answer, "VpcDomain", value);
                    self.fail(
                        Step::VpcDomain,
                        vpc_domain_finding(&label, &gid, &expected_domain, actual),
                    );
                    return;
                }
            }
        }
        if self.needs(Step::Host) {
            let host = self.inp.subject.host.clone();
            let mut domains: Vec<String> = g
                .custom_domains
                .domain_item
                .iter()
                .filter_map(|d| d.domain_name.as_deref())
                .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
                .collect();
            // While the VPC domain is off, its name is still the group's (S3.vpc_domain says
            // whether it is enabled).
            domains.insert(0, vpc_domain.clone().unwrap_or(expected_domain.clone()));
            if domains.contains(&host) {
                self.pass(Step::Host, format!("{host} is a domain of the group"));
            } else {
                if !self.needs(Step::VpcDomain) {
                    self.saw(&answer, "VpcDomain", vpc_domain.clone().unwrap_or_default());
                }
                let public = g
                    .sub_domain
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(&host));
                let what = if public {
                    "the group's public second-level domain (SubDomain), which resolves to a public address a VPC-only function does not reach"
                } else {
                    "not a domain of the group"
                };
                self.fail(
                    Step::Host,
                    Finding {
                        verdict: Verdict::GroupHostNotGroupDomain,
                        setting: Some("the target's host (URL, or its Host header)".into()),
                        expected: Some(domains[0].clone()),
                        actual: Some(host.clone()),
                        hint: format!(
                            "Call the group's VPC second-level domain {} (or a custom domain bound to the group): {host} is {what}.",
                            domains[0]
                        ),
                    },
                );
                return;
            }
        }
        self.group = Some(g);
    }

    /// The other reading of §12.1: the control plane names the VPC domain, the function is in a
    /// VPC, every other check passed, and yet the VPC DNS answers NXDOMAIN for that very name.
    fn vpc_domain_by_dns(&mut self) {
        let Some(g) = &self.group else { return };
        let nxdomain = self
            .inp
            .report
            .error
            .as_ref()
            .is_some_and(|e| e.class == crate::error::ErrorClass::DnsNxdomain);
        let host = self.inp.subject.host.clone();
        let named = g
            .vpc_domain
            .as_deref()
            .is_some_and(|d| d.trim_end_matches('.').eq_ignore_ascii_case(&host));
        if !(nxdomain && named && self.function_vpc.is_some() && self.unknown.is_empty()) {
            return;
        }
        let gid = self.group_id.clone().unwrap_or_default();
        let name = g.group_name.clone().unwrap_or_default();
        let label = if name.is_empty() {
            gid.clone()
        } else {
            format!("{name} ({gid})")
        };
        let servers = self
            .inp
            .report
            .dns
            .as_ref()
            .map(|d| d.servers.join(", "))
            .filter(|s| !s.is_empty());
        self.probe_saw(servers.clone(), "dns", format!("NXDOMAIN for {host}"));
        let mut finding = vpc_domain_finding(
            &label,
            &gid,
            &host,
            &format!(
                "not resolvable: the VPC DNS ({}) answers NXDOMAIN although VpcDomain names it",
                servers.as_deref().unwrap_or("the function's resolver")
            ),
        );
        // Read from the DNS answer [inferred, control-plane.md §12.1]: the servers asked must be
        // the VPC's for that reading to hold.
        finding.hint.push_str(" If the servers asked are not the VPC's (100.100.2.136/138), fix the function's customDNS instead.");
        self.fail(Step::VpcDomain, finding);
    }

    /// S4: the instance's type and region, status, and bound inbound VPC.
    async fn instance(&mut self) {
        let Some(g) = self.group.clone() else {
            self.skip(Step::Instance, "needs the group (S3.group)");
            if self.needs(Step::InboundVpc) {
                self.skip(Step::InboundVpc, "needs the group (S3.group)");
            }
            return;
        };
        let Some(iid) = g.instance_id.clone().filter(|i| !i.is_empty()) else {
            self.skip(Step::Instance, "the group names no instance");
            return;
        };
        let region = self.gateway_region.clone().unwrap_or_default();
        let client = self.client();
        let call = client.describe_instances(&region, &iid, self.inp.deadline);
        let answer = match self
            .ask(
                Step::Instance,
                Product::ApiGateway,
                "DescribeInstances",
                call,
            )
            .await
        {
            Asked::Answer(a) => a,
            Asked::NotFound(e) => {
                self.unknown(Step::Instance, ErrorKind::NotFound.name(), e.to_string());
                return;
            }
            Asked::Failed => {
                if self.needs(Step::InboundVpc) {
                    self.skip(Step::InboundVpc, "needs the instance (S4.instance)");
                }
                return;
            }
        };
        let Some((index, i)) = answer
            .value
            .instances
            .instance_attribute
            .iter()
            .enumerate()
            .find(|(_, i)| i.instance_id.as_deref() == Some(iid.as_str()))
            .map(|(n, i)| (n, i.clone()))
        else {
            self.unknown(
                Step::Instance,
                ErrorKind::NotFound.name(),
                format!("DescribeInstances does not list the group's instance {iid}"),
            );
            return;
        };
        let at = |field: &str| format!("Instances.InstanceAttribute[{index}].{field}");
        let ty = i.instance_type.clone().unwrap_or_default();
        let status = i.status.clone().unwrap_or_default();
        let f = self.inp.function.region.clone();
        self.saw(&answer, at("InstanceType"), ty.clone());
        if !status.is_empty() && status != "RUNNING" {
            self.saw(&answer, at("Status"), status.clone());
            self.fail(
                Step::Instance,
                Finding {
                    verdict: Verdict::InstanceNotRunning,
                    setting: Some(format!("API Gateway instance {iid} → status")),
                    expected: Some("RUNNING".into()),
                    actual: Some(status),
                    hint: format!("API Gateway console → Instances → {iid}: the instance is not running (expired, being changed or released); renew or wait for it, or move the group to a running instance."),
                },
            );
            return;
        }
        let shared = ty.ends_with("_SHARED");
        let cross = f.as_ref().is_some_and(|f| *f != region);
        if shared && cross {
            let f = f.unwrap_or_default();
            self.fail(
                Step::Instance,
                Finding {
                    verdict: Verdict::InstanceSharedCrossRegion,
                    setting: Some(format!("API group {} → instance ({iid}, {ty}, {region})", self.group_id.clone().unwrap_or_default())),
                    expected: Some(format!("a dedicated instance (VPC_DEDICATED) in {region} whose bound inbound VPC is connected to the function's VPC in {f} by CEN, or the function in {region}")),
                    actual: Some(format!("shared instance {iid} in {region}, the function in {f}")),
                    hint: format!("A shared instance serves the VPCs of its own region only, and FC reaches API Gateway internally only through a dedicated instance: in API Gateway console → Groups → the group → Change Instance, move it to a dedicated instance in {region}, bind a VPC of {region} to that instance and connect it to the function's VPC by CEN; or deploy the function in {region}."),
                },
            );
            return;
        }
        let detail = match (shared, f.is_some()) {
            (true, _) => format!("{ty}, same region: FC's internal access is documented for dedicated instances only"),
            (false, true) => format!("{ty} {status}"),
            (false, false) => format!("{ty} {status} (the function's region is not known)"),
        };
        self.pass(Step::Instance, detail);
        self.instance = Some(i.clone());
        if !self.needs(Step::InboundVpc) {
            return;
        }
        if shared {
            self.skip(
                Step::InboundVpc,
                "a shared instance serves every VPC of its region",
            );
            return;
        }
        let bound = i.user_vpc_id.clone().filter(|v| !v.is_empty());
        let enabled = i.vpc_intranet_enable.unwrap_or(false);
        let fn_vpc = self.function_vpc.clone();
        let setting = format!("API Gateway instance {iid} → VPC access (bind the user's VPC: VpcIntranetEnable, UserVpcId)");
        let fn_vsw = self
            .vswitches
            .first()
            .cloned()
            .unwrap_or_else(|| "<vSwitch>".into());
        let bind_hint = |vpc: &str| {
            format!("API Gateway console → Instances → {iid} → Bind to the user's VPC (to the right of Entry Address): choose {vpc} and one of its vSwitches; or ModifyInstanceVpcAttributeForConsole(InstanceId={iid}, VpcId={vpc}, VswitchId={fn_vsw}). A dedicated instance admits one VPC of its region.")
        };
        if !enabled || bound.is_none() {
            self.saw(&answer, at("VpcIntranetEnable"), enabled.to_string());
            self.saw(&answer, at("UserVpcId"), bound.clone().unwrap_or_default());
            let expected = match (cross, &fn_vpc) {
                (false, Some(v)) => v.clone(),
                (false, None) => "the function's VPC".into(),
                (true, _) => format!("a VPC of {region}, connected to the function's VPC by CEN"),
            };
            let hint_vpc = if cross {
                format!("a VPC of {region}")
            } else {
                expected.clone()
            };
            self.fail(
                Step::InboundVpc,
                Finding {
                    verdict: Verdict::InstanceInboundVpcNotBound,
                    setting: Some(setting),
                    expected: Some(expected),
                    actual: Some(format!(
                        "none bound (VpcIntranetEnable={enabled}, UserVpcId empty)"
                    )),
                    hint: bind_hint(&hint_vpc),
                },
            );
            return;
        }
        let bound = bound.unwrap_or_default();
        self.saw(&answer, at("UserVpcId"), bound.clone());
        self.bound_vpc = Some(bound.clone());
        if cross {
            self.pass(
                Step::InboundVpc,
                format!(
                    "bound {bound}; across regions it must reach the function's VPC over CEN (S6)"
                ),
            );
            return;
        }
        match fn_vpc {
            None => self.skip(
                Step::InboundVpc,
                "needs the function's VPC (S1.function_vpc)",
            ),
            Some(v) if v == bound => self.pass(
                Step::InboundVpc,
                format!("bound {bound}, the function's VPC"),
            ),
            Some(v) => {
                self.fail(
                    Step::InboundVpc,
                    Finding {
                        verdict: Verdict::InstanceInboundVpcMismatch,
                        setting: Some(setting),
                        expected: Some(v.clone()),
                        actual: Some(bound),
                        hint: bind_hint(&v),
                    },
                );
            }
        }
    }

    /// S5: the group's VPC whitelist.
    async fn whitelist(&mut self) {
        let (Some(gid), Some(region)) = (self.group_id.clone(), self.gateway_region.clone()) else {
            self.skip(Step::Whitelist, "the host names no API group");
            return;
        };
        if self.group.is_none() {
            self.skip(Step::Whitelist, "needs the group (S3.group)");
            return;
        }
        let mut mine: Vec<String> = [self.function_vpc.clone(), self.bound_vpc.clone()]
            .into_iter()
            .flatten()
            .collect();
        mine.dedup();
        if mine.is_empty() {
            self.skip(
                Step::Whitelist,
                "needs the function's or the bound VPC (S1, S4)",
            );
            return;
        }
        let client = self.client();
        let call = client.describe_api_group_vpc_whitelist(&region, &gid, self.inp.deadline);
        let Some(answer) = self
            .ask_found(
                Step::Whitelist,
                Product::ApiGateway,
                "DescribeApiGroupVpcWhitelist",
                call,
            )
            .await
        else {
            return;
        };
        let ids = answer.value.vpc_ids();
        let raw = answer.value.vpc_ids.clone().unwrap_or_default();
        if ids.is_empty() {
            self.pass(Step::Whitelist, "no VPC whitelist");
            return;
        }
        self.saw(&answer, "VpcIds", raw.clone());
        if ids.iter().any(|id| mine.contains(id)) {
            self.pass(Step::Whitelist, format!("whitelist {raw} names the caller"));
            return;
        }
        let caller = self.function_vpc.clone().unwrap_or_else(|| mine[0].clone());
        self.fail(
            Step::Whitelist,
            Finding {
                verdict: Verdict::GroupVpcWhitelistBlocks,
                setting: Some(format!("API group {gid} → VPC whitelist (VpcIds)")),
                expected: Some(format!("a list that names {} (or no list)", mine.join(" or "))),
                actual: Some(raw.clone()),
                hint: format!("Add the function's VPC to the group's VPC whitelist: ModifyApiGroupVpcWhitelist(GroupId={gid}, VpcIds={raw},{caller}), or empty it. (The whitelist's exact effect on callers is inferred from its description, control-plane.md §12.4.)"),
            },
        );
    }

    /// S6: across regions, CEN joins the function's VPC and the bound one, with a route for
    /// the gateway's addresses.
    async fn cen(&mut self) {
        let steps = [
            Step::FunctionVpcCen,
            Step::GatewayVpcCen,
            Step::RouteService,
            Step::RouteTable,
        ];
        let (f, g) = (
            self.inp.function.region.clone(),
            self.gateway_region.clone(),
        );
        let (Some(f), Some(g)) = (f, g) else {
            for s in steps {
                self.skip(s, "the function's or the gateway's region is not known");
            }
            return;
        };
        if f == g {
            for s in steps {
                self.skip(s, "same region: CEN is not on the path");
            }
            return;
        }
        let (Some(fn_vpc), Some(bound)) = (self.function_vpc.clone(), self.bound_vpc.clone())
        else {
            for s in steps {
                self.skip(
                    s,
                    "needs the function's VPC (S1) and the instance's bound VPC (S4)",
                );
            }
            return;
        };
        // The function VPC's CENs.
        let client = self.client();
        let call = client.describe_vpc_attribute(&f, &fn_vpc, self.inp.deadline);
        let answer = match self
            .ask(
                Step::FunctionVpcCen,
                Product::Vpc,
                "DescribeVpcAttribute",
                call,
            )
            .await
        {
            Asked::Answer(a) => a,
            Asked::NotFound(e) => {
                self.unknown(
                    Step::FunctionVpcCen,
                    ErrorKind::NotFound.name(),
                    e.to_string(),
                );
                return;
            }
            Asked::Failed => {
                for s in &steps[1..] {
                    self.skip(*s, "needs the function VPC's CEN (S6.function_vpc_cen)");
                }
                return;
            }
        };
        let cens: Vec<String> = answer
            .value
            .associated_cens
            .associated_cen
            .iter()
            .filter_map(|c| c.cen_id.clone())
            .take(MAX_ITEMS)
            .collect();
        self.saw(
            &answer,
            "AssociatedCens.AssociatedCen[].CenId",
            cens.join(","),
        );
        if cens.is_empty() {
            self.fail(
                Step::FunctionVpcCen,
                Finding {
                    verdict: Verdict::CenFunctionVpcNotAttached,
                    setting: Some(format!("CEN → attached networks (the function's VPC {fn_vpc}, {f})")),
                    expected: Some(format!("{fn_vpc} attached to a CEN instance together with {bound} ({g})")),
                    actual: Some(format!("{fn_vpc} is attached to no CEN instance")),
                    hint: format!("CEN console → the CEN instance → Networks → Attach: {fn_vpc} ({f}) and {bound} ({g}) (AttachCenChildInstance), with a bandwidth package between the two regions."),
                },
            );
            return;
        }
        self.pass(
            Step::FunctionVpcCen,
            format!("{fn_vpc} attached to {}", cens.join(", ")),
        );
        self.cens = cens.clone();

        // The bound VPC in one of them.
        let mut attached_in: Option<String> = None;
        let mut seen_there = Vec::new();
        for cen in &cens {
            let client = self.client();
            let q = ChildInstancesQuery {
                cen_id: cen.clone(),
                child_instance_region_id: Some(g.clone()),
                child_instance_type: Some("VPC".into()),
                page_number: None,
                page_size: Some(PAGE),
            };
            let call = client.describe_cen_attached_child_instances(&q, self.inp.deadline);
            let Some(answer) = self
                .ask_found(
                    Step::GatewayVpcCen,
                    Product::Cbn,
                    "DescribeCenAttachedChildInstances",
                    call,
                )
                .await
            else {
                return;
            };
            let ids: Vec<String> = answer
                .value
                .child_instances
                .child_instance
                .iter()
                .filter_map(|c| c.child_instance_id.clone())
                .collect();
            self.saw(
                &answer,
                "ChildInstances.ChildInstance[].ChildInstanceId",
                ids.join(","),
            );
            if ids.contains(&bound) {
                attached_in = Some(cen.clone());
                break;
            }
            seen_there.extend(ids);
        }
        let Some(cen) = attached_in else {
            let mut hint = format!("CEN console → {} → Networks → Attach {bound} ({g}) (AttachCenChildInstance), and make sure a bandwidth package connects {f} and {g}", cens[0]);
            // A VPC of the gateway's region that CEN already joins to the function's works as
            // well as the bound one: binding it to the instance is the other fix.
            let iid = self.instance.as_ref().and_then(|i| i.instance_id.clone());
            if let (Some(other), Some(iid)) = (seen_there.first(), iid) {
                hint.push_str(&format!("; or bind {other} to the instance instead: API Gateway console → Instances → {iid} → Bind to the user's VPC, or ModifyInstanceVpcAttributeForConsole(InstanceId={iid}, VpcId={other}, VswitchId=<a vSwitch of {other}>); the instance then admits {other} only"));
            }
            hint.push('.');
            self.fail(
                Step::GatewayVpcCen,
                Finding {
                    verdict: Verdict::CenGatewayVpcNotAttached,
                    setting: Some(format!(
                        "CEN {} → attached networks in {g}",
                        cens.join(", ")
                    )),
                    expected: Some(format!("{bound} (the instance's bound VPC, {g}) attached")),
                    actual: Some(if seen_there.is_empty() {
                        format!("no VPC of {g} attached")
                    } else {
                        format!("attached in {g}: {}", seen_there.join(", "))
                    }),
                    hint,
                },
            );
            return;
        };
        self.pass(Step::GatewayVpcCen, format!("{bound} attached to {cen}"));

        // The cloud-service route for the gateway's addresses.
        let ips: Vec<IpAddr> = self
            .inp
            .report
            .dns
            .as_ref()
            .map(|d| d.addresses.iter().filter_map(|a| a.parse().ok()).collect())
            .unwrap_or_default();
        let client = self.client();
        let q = RouteServicesQuery {
            cen_id: cen.clone(),
            host: None,
            host_region_id: Some(g.clone()),
            host_vpc_id: Some(bound.clone()),
            access_region_id: Some(f.clone()),
            page_number: None,
            page_size: Some(PAGE),
        };
        let call = client.describe_route_services_in_cen(&q, self.inp.deadline);
        let Some(answer) = self
            .ask_found(
                Step::RouteService,
                Product::Cbn,
                "DescribeRouteServicesInCen",
                call,
            )
            .await
        else {
            return;
        };
        let entries: Vec<_> = answer
            .value
            .route_service_entries
            .route_service_entry
            .iter()
            .filter(|e| {
                e.host_region_id.as_deref().is_none_or(|r| r == g)
                    && e.host_vpc_id.as_deref().is_none_or(|v| v == bound)
                    && e.access_region_id.as_deref().is_none_or(|r| r == f)
            })
            .cloned()
            .collect();
        let cidrs_of = |e: &crate::openapi::cbn::RouteServiceEntry| -> Vec<String> {
            if e.cidrs.cidr.is_empty() {
                e.host.clone().into_iter().collect()
            } else {
                e.cidrs.cidr.clone()
            }
        };
        let covers = |e: &crate::openapi::cbn::RouteServiceEntry| {
            let cidrs = cidrs_of(e);
            ips.iter()
                .all(|ip| cidrs.iter().any(|c| cidr_contains(c, *ip)))
        };
        let all: Vec<String> = entries
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    cidrs_of(e).join(","),
                    e.status.clone().unwrap_or_default()
                )
            })
            .collect();
        self.saw(
            &answer,
            "RouteServiceEntries.RouteServiceEntry[].Cidrs",
            all.join("; "),
        );
        let addresses = if ips.is_empty() {
            "the gateway's addresses".to_owned()
        } else {
            ips.iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let host_param = ips
            .first()
            .map_or("<the instance's address range>".to_owned(), |ip| {
                format!("{ip}/32")
            });
        let setting = format!(
            "CEN {cen} → cloud service route (ResolveAndRouteServiceInCen) for {addresses}"
        );
        let expected = format!("an Active entry Host={host_param} HostRegionId={g} HostVpcId={bound} AccessRegionIds={f}");
        if entries
            .iter()
            .any(|e| e.status.as_deref() == Some("Active") && covers(e))
        {
            self.pass(
                Step::RouteService,
                format!("an Active route service covers {addresses}"),
            );
        } else if entries
            .iter()
            .any(|e| e.status.as_deref() == Some("Creating") && covers(e))
        {
            self.fail(
                Step::RouteService,
                Finding {
                    verdict: Verdict::CenRouteServicePending,
                    setting: Some(setting),
                    expected: Some(expected),
                    actual: Some("the entry is still Creating".into()),
                    hint: "ResolveAndRouteServiceInCen is asynchronous: wait until DescribeRouteServicesInCen shows it Active, then probe again.".into(),
                },
            );
            return;
        } else {
            self.fail(
                Step::RouteService,
                Finding {
                    verdict: Verdict::CenRouteServiceMissing,
                    setting: Some(setting),
                    expected: Some(expected),
                    actual: Some(if all.is_empty() {
                        "none".into()
                    } else {
                        format!("entries that do not cover {addresses}: {}", all.join("; "))
                    }),
                    hint: format!("Add the cloud-service route: ResolveAndRouteServiceInCen(CenId={cen}, Host={host_param} (or the instance's whole address range), HostRegionId={g}, HostVpcId={bound}, AccessRegionIds.1={f}). Whether this is self-service for VPC-to-VPC access is not documented (control-plane.md §12.3; the seed needed a support ticket)."),
                },
            );
            return;
        }

        // The function's route table sends those addresses towards CEN.
        if ips.is_empty() {
            self.skip(
                Step::RouteTable,
                "no address to route (the name did not resolve)",
            );
            return;
        }
        let tables: Vec<(String, String)> =
            self.route_tables.iter().take(MAX_ITEMS).cloned().collect();
        if tables.is_empty() {
            self.skip(
                Step::RouteTable,
                "needs the vSwitches' route tables (S2.vswitch)",
            );
            return;
        }
        for (vsw, table) in tables {
            let Some(entries) = self.route_entries(&f, &table).await else {
                return;
            };
            for ip in &ips {
                let best = entries
                    .iter()
                    .filter(|e| e.status.as_deref().is_none_or(|s| s == "Available"))
                    .filter_map(|e| {
                        let cidr = e.destination_cidr_block.as_deref()?;
                        let len = prefix_len(cidr)?;
                        cidr_contains(cidr, *ip).then_some((len, e))
                    })
                    .max_by_key(|(len, _)| *len);
                let setting = format!("VPC route table {table} (of the function's vSwitch {vsw}) → the route for {ip}");
                let expected =
                    format!("a route for {ip} more specific than 100.64.0.0/10, towards CEN");
                let hint = format!("Publish the gateway's address range from {bound}'s route table to CEN and let {fn_vpc} learn it (CEN console → the instance → Route Info), or check that the cloud-service route reaches {fn_vpc}'s table.");
                match best {
                    Some((len, e)) if len > 10 => {
                        let ty = e.r#type.clone().unwrap_or_default();
                        let hop = e.next_hops.next_hop.first();
                        let hop_type = hop
                            .and_then(|h| h.next_hop_type.clone())
                            .unwrap_or_default();
                        let hop_id = hop.and_then(|h| h.next_hop_id.clone()).unwrap_or_default();
                        let cidr = e.destination_cidr_block.clone().unwrap_or_default();
                        self.saw_at(
                            self.routes_meta.clone(),
                            "vpc:DescribeRouteEntryList",
                            format!("RouteEntrys.RouteEntry[{cidr}].Type"),
                            format!("{ty} → {hop_type} {hop_id}"),
                        );
                        let towards_cen =
                            ty == "CEN" || matches!(hop_type.as_str(), "Attachment" | "CenBasic");
                        if ty == "Custom" && !towards_cen {
                            self.fail(
                                Step::RouteTable,
                                Finding {
                                    verdict: Verdict::VpcRouteOverridden,
                                    setting: Some(setting),
                                    expected: Some(expected),
                                    actual: Some(format!("custom route {cidr} → {hop_type} {hop_id}")),
                                    hint: format!("A custom route sends {ip} elsewhere: remove or narrow {cidr} in {table} (VPC console → Route Tables → {table}), so that the CEN route wins."),
                                },
                            );
                            return;
                        }
                    }
                    other => {
                        let actual = match other {
                            Some((_, e)) => format!(
                                "only {} ({})",
                                e.destination_cidr_block.clone().unwrap_or_default(),
                                e.r#type.clone().unwrap_or_default()
                            ),
                            None => "no route covers it".into(),
                        };
                        self.saw_at(
                            self.routes_meta.clone(),
                            "vpc:DescribeRouteEntryList",
                            format!("RouteEntrys.RouteEntry (longest match for {ip})"),
                            actual.clone(),
                        );
                        self.fail(
                            Step::RouteTable,
                            Finding {
                                verdict: Verdict::CenRouteNotInVpcTable,
                                setting: Some(setting),
                                expected: Some(expected),
                                actual: Some(actual),
                                hint,
                            },
                        );
                        return;
                    }
                }
            }
        }
        self.pass(Step::RouteTable, format!("{addresses} routed towards CEN"));
    }

    /// A route table's entries (a few pages at most).
    async fn route_entries(
        &mut self,
        region: &str,
        table: &str,
    ) -> Option<Vec<crate::openapi::vpc::RouteEntry>> {
        let mut entries = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_ITEMS {
            let client = self.client();
            let q = RouteEntryQuery {
                route_table_id: table.to_owned(),
                destination_cidr_block: None,
                route_entry_type: None,
                next_token: token.clone(),
                max_result: Some(PAGE),
            };
            let call = client.describe_route_entry_list(region, &q, self.inp.deadline);
            let a = self
                .ask_found(
                    Step::RouteTable,
                    Product::Vpc,
                    "DescribeRouteEntryList",
                    call,
                )
                .await?;
            self.routes_meta = Some(Meta::from(&a));
            entries.extend(a.value.route_entrys.route_entry);
            token = a.value.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        Some(entries)
    }

    /// The group's published APIs, in every stage (asked once per check).
    async fn deployed(&mut self, step: Step) -> Option<Vec<DeployedApiItem>> {
        if let Some(d) = &self.deployed {
            return Some(d.clone());
        }
        let gid = self.group_id.clone()?;
        let region = self.gateway_region.clone()?;
        let mut items = Vec::new();
        // Without StageName first (the SDK marks it optional); stage by stage should the
        // service require it [unverified].
        let mut stages: Vec<Option<&str>> = vec![None];
        let mut i = 0;
        while i < stages.len() {
            let stage = stages[i];
            i += 1;
            for page in 1..=MAX_ITEMS as u32 {
                let client = self.client();
                let q = DeployedApisQuery {
                    group_id: gid.clone(),
                    stage_name: stage.map(str::to_owned),
                    api_id: None,
                    api_path: None,
                    api_method: None,
                    page_number: Some(page),
                    page_size: Some(100),
                };
                let call = client.describe_deployed_apis(&region, &q, self.inp.deadline);
                let needs_stage =
                    |e: &OpenApiError| e.code.as_deref().is_some_and(|c| c.contains("StageName"));
                let answer = match client_call(call).await {
                    Ok(a) => {
                        self.deployed_meta.get_or_insert_with(|| Meta::from(&a));
                        a
                    }
                    Err(e) if stage.is_none() && needs_stage(&e) => {
                        stages.extend([Some("RELEASE"), Some("TEST"), Some("PRE")]);
                        break;
                    }
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        self.unknown(step, ErrorKind::NotFound.name(), e.to_string());
                        return None;
                    }
                    Err(e) => {
                        self.call_failed(step, Product::ApiGateway, e);
                        return None;
                    }
                };
                let total = answer.value.total_count.unwrap_or(0).max(0) as usize;
                let got = answer.value.deployed_apis.deployed_api_item.len();
                items.extend(answer.value.deployed_apis.deployed_api_item);
                if got == 0 || page as usize * 100 >= total {
                    break;
                }
            }
        }
        self.deployed = Some(items.clone());
        Some(items)
    }

    /// S7a: the API called is published in the stage sent.
    async fn published(&mut self) {
        if self.group.is_none() {
            self.skip(Step::Published, "needs the group (S3.group)");
            return;
        }
        if self.dead.contains(&Product::ApiGateway) || Instant::now() >= self.inp.deadline {
            self.unknown(Step::Published, ErrorKind::Unreachable.name(), "apigateway:DescribeDeployedApis not called: no time or no answer from the endpoint".into());
            return;
        }
        let Some(items) = self.deployed(Step::Published).await else {
            return;
        };
        let s = self.inp.subject;
        let base = self
            .group
            .as_ref()
            .and_then(|g| g.base_path.clone())
            .filter(|b| !b.is_empty() && b != "/");
        let stage = s.stage_name();
        let found = find_api(&items, base.as_deref(), &s.path, &s.method, stage);
        let gid = self.group_id.clone().unwrap_or_default();
        let what = format!("{} {}", s.method, s.path);
        let index = |item: &DeployedApiItem| items.iter().position(|i| i == item).unwrap_or(0);
        match found {
            Found::InStage(item) => {
                self.deployed_evidence(&item, index(&item));
                self.pass(
                    Step::Published,
                    format!(
                        "{what} published in {stage} ({})",
                        item.api_name.clone().unwrap_or_default()
                    ),
                );
                self.api = Some(item);
            }
            Found::OtherStages(found) => {
                let stages: Vec<String> =
                    found.iter().filter_map(|i| i.stage_name.clone()).collect();
                for item in &found {
                    self.deployed_evidence(item, index(item));
                }
                let sent = match s.stage {
                    Some(st) => st.name().to_owned(),
                    None => "RELEASE (no X-Ca-Stage: the gateway's default)".to_owned(),
                };
                self.probe_saw(None, "X-Ca-Stage", sent.clone());
                let api = found[0].api_name.clone().unwrap_or_default();
                self.fail(
                    Step::Published,
                    Finding {
                        verdict: Verdict::ApiStageMismatch,
                        setting: Some("the stage the target calls (X-Ca-Stage: the target's \"stage\", APIGW_STAGE, --stage)".into()),
                        expected: Some(stages.join(" or ")),
                        actual: Some(sent),
                        hint: format!("{what} ({api}) is published only in {}: send X-Ca-Stage: {} (the target's \"stage\"), or publish it to {stage} (API Gateway console → APIs → {api} → Publish; DeployApi(GroupId={gid}, ApiId={}, StageName={stage})).", stages.join(", "), stages[0], found[0].api_id.clone().unwrap_or_default()),
                    },
                );
            }
            Found::OtherMethod(found) => {
                let methods: Vec<String> = found
                    .iter()
                    .filter_map(|i| i.api_method.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                for item in &found {
                    self.deployed_evidence(item, index(item));
                }
                self.fail(
                    Step::Published,
                    Finding {
                        verdict: Verdict::ApiMethodMismatch,
                        setting: Some(
                            "the method the target calls with (the target's \"method\", -X)".into(),
                        ),
                        expected: Some(methods.join(" or ")),
                        actual: Some(s.method.clone()),
                        hint: format!(
                            "The API at {} is published for {}, not {}: call it with that method.",
                            s.path,
                            methods.join(", "),
                            s.method
                        ),
                    },
                );
            }
            Found::BasepathMissing(item, base) => {
                self.deployed_evidence(&item, index(&item));
                self.saw_at(
                    self.group_meta.clone(),
                    "apigateway:DescribeApiGroup",
                    "BasePath",
                    base.clone(),
                );
                let full = format!("{}{}", base.trim_end_matches('/'), s.path);
                self.fail(
                    Step::Published,
                    Finding {
                        verdict: Verdict::ApiBasepathMissing,
                        setting: Some(format!(
                            "the path the target calls (the group's BasePath is {base})"
                        )),
                        expected: Some(full.clone()),
                        actual: Some(s.path.clone()),
                        hint: format!(
                            "The group's BasePath {base} comes before every API path: call {full}."
                        ),
                    },
                );
            }
            Found::Nowhere => {
                self.saw_at(
                    self.deployed_meta.clone(),
                    "apigateway:DescribeDeployedApis",
                    format!(
                        "DeployedApis.DeployedApiItem[ApiPath={}, ApiMethod={}]",
                        s.path, s.method
                    ),
                    "(none in any stage)",
                );
                self.fail(
                    Step::Published,
                    Finding {
                        verdict: Verdict::ApiNotPublishedToStage,
                        setting: Some(format!("API {what} of group {gid} → publishing (DeployApi) in {stage}")),
                        expected: Some(format!("{what} published in {stage}")),
                        actual: Some("published in no stage (or no API has this path and method)".into()),
                        hint: format!("API Gateway console → APIs → the API → Publish → {stage} (线上 for RELEASE); or DeployApi(GroupId={gid}, ApiId, StageName={stage}). Check also the path and method against the API's definition."),
                    },
                );
            }
        }
    }

    /// S7b: the API's protocol allows the scheme called.
    async fn protocol(&mut self) {
        let Some(api) = self.api.clone() else {
            self.skip(Step::Protocol, "needs the API (S7a.published)");
            return;
        };
        let (Some(api_id), Some(region)) = (api.api_id.clone(), self.gateway_region.clone()) else {
            self.skip(Step::Protocol, "the published API has no id");
            return;
        };
        let gid = self.group_id.clone();
        let client = self.client();
        let call = client.describe_api(&region, gid.as_deref(), &api_id, self.inp.deadline);
        let Some(answer) = self
            .ask_found(Step::Protocol, Product::ApiGateway, "DescribeApi", call)
            .await
        else {
            return;
        };
        let allowed = answer
            .value
            .request_config
            .request_protocol
            .clone()
            .unwrap_or_default();
        self.saw(&answer, "RequestConfig.RequestProtocol", allowed.clone());
        let scheme = if self.inp.subject.https {
            "HTTPS"
        } else {
            "HTTP"
        };
        let ok = allowed
            .split(',')
            .any(|p| p.trim().eq_ignore_ascii_case(scheme));
        if ok || allowed.is_empty() {
            self.pass(Step::Protocol, format!("{allowed} allows {scheme}"));
            return;
        }
        let name = api.api_name.clone().unwrap_or_default();
        let s = self.inp.subject;
        self.probe_saw(None, "scheme", scheme);
        let other = if self.inp.subject.https {
            "http://"
        } else {
            "https://"
        };
        self.fail(
            Step::Protocol,
            Finding {
                verdict: Verdict::ApiProtocolNotAllowed,
                setting: Some(format!("API {name} ({} {}) → protocol (RequestConfig.RequestProtocol)", s.method, s.path)),
                expected: Some(format!("{scheme} (the scheme the target calls with) among the allowed protocols")),
                actual: Some(allowed.clone()),
                hint: format!("API Gateway console → APIs → {name} → Edit → Basic request definition → Protocol: add {scheme} and publish again (ModifyApi RequestConfig.RequestProtocol, then DeployApi); or call the API with {other}."),
            },
        );
    }

    /// S7c: the AppKey's app exists and is enabled.
    async fn app(&mut self) {
        let s = self.inp.subject;
        let Some(key) = s.app_key.clone() else {
            let why = if s.appcode {
                "the target authenticates with an AppCode, which is a secret and is not sent to the control plane"
            } else {
                "the target sends no AppKey"
            };
            self.skip(Step::App, why);
            self.skip(Step::Authorization, why);
            return;
        };
        let Some(region) = self.gateway_region.clone() else {
            self.skip(Step::App, "the host names no API group");
            return;
        };
        let client = self.client();
        let call = client.describe_app_attributes(&region, &key, self.inp.deadline);
        let answer = match self
            .ask(
                Step::App,
                Product::ApiGateway,
                "DescribeAppAttributes",
                call,
            )
            .await
        {
            Asked::Answer(a) => a,
            Asked::NotFound(_) => {
                // The same as an empty list.
                self.fail(Step::App, app_unknown(&key, &region));
                return;
            }
            Asked::Failed => return,
        };
        let Some(app) = answer.value.apps.app_attribute.first().cloned() else {
            self.saw(&answer, "Apps.AppAttribute", "[]");
            self.fail(Step::App, app_unknown(&key, &region));
            return;
        };
        let id = app.app_id.unwrap_or_default();
        let name = app.app_name.clone().unwrap_or_default();
        self.saw(&answer, "Apps.AppAttribute[0].AppId", id.to_string());
        if app.disabled == Some(true) {
            self.saw(&answer, "Apps.AppAttribute[0].Disabled", "true");
            self.fail(
                Step::App,
                Finding {
                    verdict: Verdict::AppDisabled,
                    setting: Some(format!("app {name} (AppId {id}) → status")),
                    expected: Some("enabled".into()),
                    actual: Some("disabled".into()),
                    hint: format!("API Gateway console → Apps → {name}: enable the app, or use another app's AppKey and AppSecret."),
                },
            );
            return;
        }
        self.pass(
            Step::App,
            format!("AppKey {key} is app {name} (AppId {id})"),
        );
        self.app = Some((id, name));
    }

    /// S7c: the app is authorized for the API in the stage called.
    async fn authorization(&mut self) {
        let Some((app_id, app_name)) = self.app.clone() else {
            if self
                .status
                .iter()
                .any(|(s, st, _)| *s == Step::App && *st != CheckStatus::Skipped)
            {
                self.skip(Step::Authorization, "needs the app (S7c.app)");
            }
            return;
        };
        let Some(api) = self.api.clone() else {
            self.skip(
                Step::Authorization,
                "needs the API published in the stage called (S7a.published)",
            );
            return;
        };
        let (Some(api_id), Some(region)) = (api.api_id.clone(), self.gateway_region.clone()) else {
            return;
        };
        let stage = self.inp.subject.stage_name();
        let client = self.client();
        let q = AuthorizedAppsQuery {
            api_id: api_id.clone(),
            group_id: self.group_id.clone(),
            stage_name: Some(stage.into()),
            app_id: Some(app_id),
            page_number: None,
            page_size: Some(100),
        };
        let call = client.describe_authorized_apps(&region, &q, self.inp.deadline);
        let Some(answer) = self
            .ask_found(
                Step::Authorization,
                Product::ApiGateway,
                "DescribeAuthorizedApps",
                call,
            )
            .await
        else {
            return;
        };
        let stages: Vec<String> = answer
            .value
            .authorized_apps
            .authorized_app
            .iter()
            .filter(|a| a.app_id == Some(app_id))
            .filter_map(|a| a.stage_name.clone())
            .collect();
        self.saw(
            &answer,
            format!("AuthorizedApps.AuthorizedApp[AppId={app_id}].StageName"),
            if stages.is_empty() {
                "(none)".into()
            } else {
                stages.join(",")
            },
        );
        if stages.iter().any(|s| s == stage) {
            self.pass(
                Step::Authorization,
                format!("app {app_id} authorized in {stage}"),
            );
            return;
        }
        let api_name = api.api_name.clone().unwrap_or_default();
        let gid = self.group_id.clone().unwrap_or_default();
        let s = self.inp.subject;
        self.fail(
            Step::Authorization,
            Finding {
                verdict: Verdict::AppNotAuthorized,
                setting: Some(format!("app {app_name} (AppId {app_id}) → authorization for API {api_name} ({} {}) in {stage}", s.method, s.path)),
                expected: Some(format!("authorized in {stage}")),
                actual: Some("not authorized in this stage".into()),
                hint: format!("API Gateway console → APIs → {api_name} → Authorize: stage {stage}, app {app_name}; or SetAppsAuthorities(GroupId={gid}, ApiId={api_id}, AppIds={app_id}, StageName={stage})."),
            },
        );
    }

    /// The report's `config_check`.
    fn finish(self) -> ConfigCheck {
        let checks = self
            .status
            .iter()
            .map(|(step, status, detail)| {
                let detail = match (status, detail, &self.finding) {
                    // After the first failure, what did not run was not needed any more.
                    (CheckStatus::Skipped, None, Some(_)) => Some("an earlier check failed".into()),
                    (_, d, _) => d.clone(),
                };
                Check {
                    id: step.id().into(),
                    status: *status,
                    detail,
                }
            })
            .collect();
        let duration_ms = report::ms(self.inp.started.elapsed());
        let (verdict, setting, expected, actual, hint) = match self.finding {
            Some(f) => (f.verdict, f.setting, f.expected, f.actual, f.hint),
            None => settle(&self.family, &self.unknown, &self.dead),
        };
        ConfigCheck {
            verdict,
            setting,
            expected,
            actual,
            hint,
            evidence: self.evidence,
            checks,
            unknown: self.unknown,
            duration_ms,
        }
    }
}

/// Awaits a client call (a named step for the borrow checker).
async fn client_call<T>(
    call: impl Future<Output = Result<Answer<T>, OpenApiError>>,
) -> Result<Answer<T>, OpenApiError> {
    call.await
}

type Settled = (
    Verdict,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// The verdict when no check failed: why some could not run, else `consistent`.
fn settle(family: &Family, unknown: &[Unknown], dead: &BTreeSet<Product>) -> Settled {
    let by = |reasons: &[&str]| {
        unknown
            .iter()
            .filter(|u| reasons.contains(&u.reason.as_str()))
            .collect::<Vec<_>>()
    };
    let denied = by(&["permission_denied"]);
    if !denied.is_empty() {
        let actions: Vec<String> = denied
            .iter()
            .filter_map(|u| u.action.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        return (
            Verdict::PermissionDenied,
            Some("the function role's RAM policy".into()),
            Some(format!("allows {}", actions.join(", "))),
            Some("denied".into()),
            format!("Grant the function's role the read-only actions it lacks ({}): RAM console → Roles → the role → Grant Permission with deploy/ram-policy.json (it lists every action the cross-check calls), or AttachPolicyToRole.", actions.join(", ")),
        );
    }
    let silent = by(&["unreachable", "deadline_exceeded"]);
    if !silent.is_empty() {
        let products: Vec<String> = dead.iter().map(ToString::to_string).collect();
        return (
            Verdict::ControlPlaneUnreachable,
            Some("the OpenAPI endpoints (APIGW_OPENAPI_NETWORK, APIGW_OPENAPI_ENDPOINT_*)".into()),
            Some("an answer within the cross-check's budget (APIGW_CONFIG_CHECK_BUDGET_MS, each call APIGW_OPENAPI_TIMEOUT_MS)".into()),
            Some(if products.is_empty() {
                "no time left for the calls".into()
            } else {
                format!("no answer from {}", products.join(", "))
            }),
            "From a function without internet access only the VPC endpoints of its own region (and CEN's central one) are reachable: for another region's calls give the function internet access or a NAT gateway, or name reachable endpoints with APIGW_OPENAPI_ENDPOINT_*; a slow control plane needs a larger APIGW_CONFIG_CHECK_BUDGET_MS or function timeout. The probe's own result stands.".into(),
        );
    }
    let failed: Vec<&Unknown> = unknown
        .iter()
        .filter(|u| u.reason != "function_unknown")
        .collect();
    if let Some(first) = failed.first() {
        let code = first.code.clone().unwrap_or_default();
        let advice = if code.starts_with("InvalidTimeStamp") {
            "The clocks differ by more than 15 minutes: check the time of the machine that signs."
        } else if first.reason == "throttled" {
            "The control plane throttled the calls: the next invocation checks again."
        } else if first.reason == "service_unavailable" {
            "The control plane failed for a moment: the next invocation checks again."
        } else {
            "See the unknown checks' messages; the probe's own result stands."
        };
        return (
            Verdict::ControlPlaneError,
            Some("the control plane's answer".into()),
            None,
            Some(format!("{}: {}", first.step, first.message)),
            advice.into(),
        );
    }
    let hint = match family {
        Family::Backend => "The backend answered (the response has no X-Ca-Error-Code): the gateway's configuration let the call through; look at the backend service, or list the statuses you expect in the target's expect.status.",
        Family::DnsName => "The group's VPC domain is enabled and the function is in a VPC: check that the function asks the VPC's DNS (customDNS, if set, must keep 100.100.2.136 and 100.100.2.138) and that no PrivateZone zone for alicloudapi.com hides the name.",
        Family::DnsServer => "The function is in a VPC: its DNS servers must be the VPC's (customDNS, if set, must keep 100.100.2.136 and 100.100.2.138).",
        Family::Network => "The checked settings agree: look at the function's security group (outbound to the gateway's address and port), the vSwitch's network ACL, the instance's access control (AclStatus), and across regions the CEN bandwidth package between the two regions.",
        Family::Reached => "The gateway was reached and its group is in order: look at the group's certificate and HTTPS policy for TLS failures, and at the API's backend for timeouts.",
        Family::ApiNotFound => "The API is published in the stage called: check that the path matches the API's path template exactly (and the group's BasePath).",
        Family::Protocol | Family::Domain | Family::Gateway(_) => "The checked settings agree: the gateway error's hint says what else to look at.",
        Family::App => "The app exists and is authorized for the API in this stage: if the gateway says the signature does not match, the AppSecret (APIGW_APP_SECRET) is not the app's.",
        Family::Audit => "Every checked setting agrees.",
    };
    let verdict = if *family == Family::Backend {
        Verdict::BackendStatus
    } else {
        Verdict::Consistent
    };
    (verdict, None, None, None, hint.into())
}

fn vpc_domain_finding(label: &str, gid: &str, domain: &str, actual: &str) -> Finding {
    Finding {
        verdict: Verdict::GroupVpcDomainDisabled,
        setting: Some(format!("API group {label} → VPC second-level domain (内网VPC二级域名)")),
        expected: Some(format!("enabled: {domain}")),
        actual: Some(actual.into()),
        hint: format!("API Gateway console → Groups → {label} → Group details: enable the VPC second-level domain (内网VPC二级域名); or ModifyIntranetDomainPolicy(GroupId={gid}, VpcIntranetEnable=true)."),
    }
}

fn app_unknown(key: &str, region: &str) -> Finding {
    Finding {
        verdict: Verdict::AppUnknown,
        setting: Some("the target's AppKey (APIGW_APP_KEY, X-Ca-Key)".into()),
        expected: Some(format!("the AppKey of an app of this account in {region}")),
        actual: Some(format!("{key}: no such app")),
        hint: format!("Set APIGW_APP_KEY to the AppKey of an app in API Gateway console → Apps (region {region}), and APIGW_APP_SECRET to its AppSecret. An app of another account is not visible to the function's role."),
    }
}

/// Where the API called is published.
#[derive(Debug, PartialEq)]
enum Found {
    /// Path and method, in the stage called.
    InStage(DeployedApiItem),
    /// Path and method, in other stages only.
    OtherStages(Vec<DeployedApiItem>),
    /// The path, with other methods only.
    OtherMethod(Vec<DeployedApiItem>),
    /// Path and method once the group's BasePath is put before the path.
    BasepathMissing(DeployedApiItem, String),
    /// Nowhere.
    Nowhere,
}

fn find_api(
    items: &[DeployedApiItem],
    base: Option<&str>,
    path: &str,
    method: &str,
    stage: &str,
) -> Found {
    // The request path is the BasePath followed by the API's path.
    let inner = match base {
        Some(b) => path
            .strip_prefix(b.trim_end_matches('/'))
            .filter(|p| p.starts_with('/')),
        None => Some(path),
    };
    let matching = |p: &str| -> Vec<&DeployedApiItem> {
        items
            .iter()
            .filter(|i| i.api_path.as_deref().is_some_and(|t| path_matches(t, p)))
            .collect()
    };
    let same_method = |v: &[&DeployedApiItem]| -> Vec<DeployedApiItem> {
        v.iter()
            .filter(|i| {
                i.api_method
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(method))
            })
            .map(|i| (*i).clone())
            .collect()
    };
    if let Some(inner) = inner {
        let by_path = matching(inner);
        let by_method = same_method(&by_path);
        if let Some(item) = by_method
            .iter()
            .find(|i| i.stage_name.as_deref() == Some(stage))
        {
            return Found::InStage(item.clone());
        }
        if !by_method.is_empty() {
            return Found::OtherStages(by_method);
        }
        if !by_path.is_empty() {
            return Found::OtherMethod(by_path.into_iter().cloned().collect());
        }
    }
    if let Some(b) = base {
        if inner.is_none() {
            if let Some(item) = same_method(&matching(path)).into_iter().next() {
                return Found::BasepathMissing(item, b.to_owned());
            }
        }
    }
    Found::Nowhere
}

/// Whether a request path matches an API's path template: equal, a `[param]` (or `{param}`)
/// segment matching any one segment, a trailing `*` matching any rest.
fn path_matches(template: &str, path: &str) -> bool {
    if let Some(prefix) = template.strip_suffix('*') {
        return path.starts_with(prefix);
    }
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter().zip(&p).all(|(t, p)| {
            t == p
                || (((t.starts_with('[') && t.ends_with(']'))
                    || (t.starts_with('{') && t.ends_with('}')))
                    && !p.is_empty())
        })
}

/// The prefix length of `a.b.c.d/n` (or an IPv6 CIDR); a bare address is a host route.
fn prefix_len(cidr: &str) -> Option<u8> {
    let (addr, len) = cidr.split_once('/').unwrap_or((cidr, ""));
    let ip: IpAddr = addr.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = if len.is_empty() {
        max
    } else {
        len.trim().parse().ok()?
    };
    (len <= max).then_some(len)
}

/// Whether `cidr` covers `ip`.
fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let Some(len) = prefix_len(cidr) else {
        return false;
    };
    let Ok(net) = cidr
        .split('/')
        .next()
        .unwrap_or("")
        .trim()
        .parse::<IpAddr>()
    else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, method: &str, stage: &str) -> DeployedApiItem {
        crate::openapi::json::FromJson::from_json(&serde_json::json!({
            "ApiId": format!("id-{method}-{path}"), "ApiName": "n", "ApiPath": path,
            "ApiMethod": method, "StageName": stage,
        }))
        .unwrap()
    }

    #[test]
    fn cidrs_and_prefixes() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(cidr_contains("100.64.0.0/10", ip("100.104.112.10")));
        assert!(!cidr_contains("100.64.0.0/10", ip("100.128.0.1")));
        assert!(cidr_contains("100.104.255.128/26", ip("100.104.255.130")));
        assert!(!cidr_contains("100.104.255.128/26", ip("100.104.255.200")));
        assert!(cidr_contains("127.0.0.1", ip("127.0.0.1")));
        assert!(cidr_contains("0.0.0.0/0", ip("8.8.8.8")));
        assert!(cidr_contains("fd00::/8", ip("fd12::1")));
        assert!(!cidr_contains("fd00::/8", ip("10.0.0.1")));
        assert!(!cidr_contains("nonsense", ip("10.0.0.1")));
        assert_eq!(prefix_len("10.0.0.0/33"), None);
        assert_eq!(prefix_len("192.168.0.0/16"), Some(16));
    }

    #[test]
    fn paths_match_templates() {
        assert!(path_matches("/web/cloudapi", "/web/cloudapi"));
        assert!(!path_matches("/web/cloudapi", "/web/cloudapi/x"));
        assert!(path_matches(
            "/api/billing/test/[type]",
            "/api/billing/test/monthly"
        ));
        assert!(!path_matches(
            "/api/billing/test/[type]",
            "/api/billing/test"
        ));
        assert!(path_matches("/delay/*", "/delay/300"));
        assert!(path_matches("/items/{id}", "/items/7"));
    }

    #[test]
    fn finding_the_api_names_stage_method_and_basepath() {
        let items = vec![
            item("/web/cloudapi", "GET", "RELEASE"),
            item("/web/cloudapi", "GET", "TEST"),
            item("/web/preview", "GET", "TEST"),
            item("/web/post-only", "POST", "RELEASE"),
        ];
        assert!(matches!(
            find_api(&items, None, "/web/cloudapi", "GET", "RELEASE"),
            Found::InStage(_)
        ));
        match find_api(&items, None, "/web/preview", "GET", "RELEASE") {
            Found::OtherStages(v) => assert_eq!(v[0].stage_name.as_deref(), Some("TEST")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            find_api(&items, None, "/web/post-only", "GET", "RELEASE"),
            Found::OtherMethod(_)
        ));
        assert_eq!(
            find_api(&items, None, "/web/none", "GET", "RELEASE"),
            Found::Nowhere
        );
        // With a BasePath: the path called must start with it.
        assert!(matches!(
            find_api(&items, Some("/v1"), "/v1/web/cloudapi", "GET", "RELEASE"),
            Found::InStage(_)
        ));
        match find_api(&items, Some("/v1"), "/web/cloudapi", "GET", "RELEASE") {
            Found::BasepathMissing(_, base) => assert_eq!(base, "/v1"),
            other => panic!("{other:?}"),
        }
    }
}
