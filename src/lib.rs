//! apigw-vpc-probe: calls APIs published on Alibaba Cloud API Gateway through the group's VPC
//! second-level domain from a Function Compute custom runtime, and reports per-phase latency and
//! a diagnosis of every failure.
//!
//! The data path, one module each: [`event`] (what an invocation asks for) → [`target`] (what
//! to call) → [`policy`] (may we) → `resolve` → `connect` → `call` (timed by `timing`) →
//! [`report`], orchestrated by [`probe`]. What is particular to API Gateway (its domains,
//! stages, signature and answers) is in [`apigw`]; the FC custom runtime around it in
//! [`runtime`]; the `apigw-vpc-probe` binary adds the command line.
//!
//! As a library: build a [`Prober`] from [`Settings`], give it an [`Invocation`] (a
//! [`Selection`] of [`TargetSpec`]s) and read the [`Report`] — see [`Prober`] for an example.
//! [`apigw::sign()`] signs any `http::Request` for API Gateway's app authentication with an
//! [`apigw::AppSecret`]. Targets a program gives itself are trusted like the configuration; the
//! allow-list and the signing rules of [`policy`] apply to [`Origin::Request`] targets, which
//! the runtime uses for what its callers send.

pub mod apigw;
mod call;
mod certs;
pub mod config;
mod connect;
pub mod crosscheck;
pub mod error;
pub mod event;
pub mod expect;
mod logline;
mod metrics;
mod named;
pub mod openapi;
pub mod policy;
pub mod probe;
#[cfg(test)]
mod properties;
pub mod push;
pub mod redact;
pub mod report;
mod resolve;
pub mod runtime;
pub mod scope;
pub mod secret;
pub mod target;
mod timing;

pub use config::Settings;
pub use crosscheck::{CrossCheck, FunctionIdentity};
pub use error::{ErrorClass, ProbeError};
pub use event::Selection;
pub use named::UnknownValue;
pub use probe::{Invocation, Prober};
pub use report::Report;
pub use target::{Origin, TargetSpec};
