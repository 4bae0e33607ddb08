//! The client side of Alibaba Cloud's OpenAPI, for the configuration cross-check (issue 11).
//! Spec: `control-plane.md` (§1 signing, §2 endpoints, §4.2 credentials).
//!
//! - [`sign`]: signature V3 (`ACS3-HMAC-SHA256`), checked against the spec's vectors
//!   (`tests/fixtures/acs3-vectors.json`, `tests/openapi.rs`).
//! - [`credentials`]: the role's STS credentials from FC's headers or the environment, or a
//!   profile of the Alibaba Cloud CLI.
//! - [`endpoint`]: which endpoint each product's calls go to (VPC endpoints by default), the
//!   `APIGW_OPENAPI_*` settings.

pub mod credentials;
pub mod endpoint;
pub mod sign;

pub use credentials::{CliProfile, Credentials, CredentialsError};
pub use endpoint::{Endpoint, EndpointKind, Endpoints, Network, OpenApiSettings, Product, Scheme};
