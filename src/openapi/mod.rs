//! The client side of Alibaba Cloud's OpenAPI, for the configuration cross-check (issue 11).
//! Spec: `control-plane.md` (§1 signing).
//!
//! - [`sign`]: signature V3 (`ACS3-HMAC-SHA256`), checked against the spec's vectors
//!   (`tests/fixtures/acs3-vectors.json`, `tests/openapi.rs`).

pub mod sign;
