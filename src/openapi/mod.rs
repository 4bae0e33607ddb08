//! The client side of Alibaba Cloud's OpenAPI, for the configuration cross-check (issue 11):
//! the calls that read the settings a failed probe may be caused by, signed with the function
//! role's credentials. Spec: `control-plane.md` (§1 signing, §2 endpoints, §3–6 the actions and
//! their fields, §8 errors).
//!
//! - [`sign`]: signature V3 (`ACS3-HMAC-SHA256`), checked against the spec's vectors
//!   (`tests/fixtures/acs3-vectors.json`) and against Alibaba's own `alibabacloud_openapi_util`
//!   (`tests/openapi.rs`).
//! - [`credentials`]: the role's STS credentials from FC's headers or the environment, or a
//!   profile of the Alibaba Cloud CLI.
//! - [`endpoint`]: which endpoint each product's calls go to (VPC endpoints by default), the
//!   `APIGW_OPENAPI_*` settings.
//! - [`client`]: sending a call within the caller's deadline; [`error`]: the typed failure.
//! - [`cloudapi`], [`fc`], [`vpc`], [`cbn`]: one async function per action the diagnosis uses,
//!   each on [`Client`], returning the spec's fields (exact names and list wrappers) in an
//!   [`Answer`] that also carries the request id and the endpoint, for evidence.
//! - [`cms`]: CloudMonitor's `PutCustomMetric`, for the pushed metrics (`crate::push`), with the
//!   documented rules checked before sending.
//!
//! ```no_run
//! # async fn demo(settings: apigw_vpc_probe::config::Settings,
//! #               creds: apigw_vpc_probe::openapi::Credentials) {
//! use std::time::{Duration, Instant};
//! use apigw_vpc_probe::openapi::{Client, Endpoints};
//!
//! let endpoints = Endpoints::new(&settings.openapi, Some("cn-hangzhou"), Some("1234567890"));
//! let client = Client::new(&settings, endpoints, creds);
//! let deadline = Instant::now() + Duration::from_secs(5);
//! match client.describe_api_group("cn-hangzhou", "523e8dc7bbe04613b5b1d726c2a7889d", deadline).await {
//!     Ok(answer) => println!("VpcDomain {:?} (RequestId {:?})", answer.value.vpc_domain, answer.request_id),
//!     Err(e) => println!("{e}"), // e.kind: permission_denied (grant e.action), not_found, …
//! }
//! # }
//! ```

// `OpenApiError` is a flat struct of a dozen fields (about 200 bytes), returned at most a few
// times per invocation next to a network round trip: boxing it would cost readability for no
// measurable gain.
#![allow(clippy::result_large_err)]

pub mod cbn;
pub mod client;
pub mod cloudapi;
pub mod cms;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod fc;
pub mod json;
pub mod sign;
pub mod vpc;

pub use client::{Answer, Client, Transport};
pub use credentials::{CliProfile, Credentials, CredentialsError};
pub use endpoint::{Endpoint, EndpointKind, Endpoints, Network, OpenApiSettings, Product, Scheme};
pub use error::{ErrorKind, OpenApiError};

/// Adds `name=value` to RPC parameters when there is a value.
pub(crate) fn param(params: &mut Vec<(String, String)>, name: &str, value: Option<impl ToString>) {
    if let Some(v) = value {
        params.push((name.to_owned(), v.to_string()));
    }
}

/// The `body` of a response fixture copied from the spec (each names its source).
#[cfg(test)]
pub(crate) fn fixture<T: json::FromJson>(text: &str) -> T {
    let v: serde_json::Value = serde_json::from_str(text).expect("fixture JSON");
    assert!(
        v["source"]
            .as_str()
            .is_some_and(|s| s.contains("control-plane.md")),
        "a fixture names its source"
    );
    T::from_json(&v["body"]).expect("fixture body")
}
