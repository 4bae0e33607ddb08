//! apigw-vpc-probe: calls APIs published on Alibaba Cloud API Gateway through the group's VPC
//! second-level domain from a Function Compute custom runtime, and reports per-phase latency and
//! a diagnosis of every failure.
//!
//! The data path, one module each: [`event`] (what an invocation asks for) → [`target`] (what
//! to call) → [`policy`] (may we) → [`resolve`] → [`connect`] → [`call`] → [`report`].

pub mod call;
pub mod cli;
pub mod config;
pub mod connect;
pub mod diagnose;
pub mod error;
pub mod event;
pub mod log;
pub mod openapi;
pub mod policy;
pub mod probe;
pub mod redact;
pub mod report;
pub mod resolve;
pub mod runtime;
pub mod scope;
pub mod secret;
pub mod sign;
pub mod target;
