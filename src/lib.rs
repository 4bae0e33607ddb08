//! apigw-vpc-probe: calls APIs published on Alibaba Cloud API Gateway through the group's VPC
//! second-level domain from a Function Compute custom runtime, and reports per-phase latency and
//! a diagnosis of every failure.
//!
//! The data path, one module each: [`event`] (what an invocation asks for) → [`target`] (what
//! to call) → [`policy`] (may we) → [`resolve`] → [`connect`] → [`call`] (timed by [`timing`])
//! → [`report`], orchestrated by [`probe`]. What is particular to API Gateway (its domains,
//! stages, signature and answers) is in [`apigw`]; the FC custom runtime around it in
//! [`runtime`].

pub mod apigw;
pub mod call;
pub mod config;
pub mod connect;
pub mod error;
pub mod event;
mod named;
pub mod policy;
pub mod probe;
pub mod redact;
pub mod report;
pub mod resolve;
pub mod runtime;
pub mod scope;
pub mod secret;
pub mod target;
pub mod timing;
