//! apigw-vpc-probe: calls APIs published on Alibaba Cloud API Gateway through the group's VPC
//! second-level domain from a Function Compute custom runtime, and reports per-phase latency and
//! a diagnosis of every failure.
//!
//! The data path, one module each: [`event`] (what an invocation asks for) → [`target`] (what
//! to call) → [`policy`] (may we) → [`resolve`] → [`connect`] → [`call`] → [`report`].

pub mod config;
pub mod error;
pub mod event;
pub mod policy;
pub mod probe;
pub mod report;
pub mod scope;
pub mod target;
