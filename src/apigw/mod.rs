//! Everything the function knows of Alibaba Cloud API Gateway, in one place:
//! - [`domain`]: the group's domains (`<group>-<region>-vpc.alicloudapi.com`) and the stage;
//! - [`mod@sign`]: the app signature (`X-Ca-Signature`), reproducing Alibaba's published vectors;
//! - `request`: the request as the gateway must receive it (the original `Host`, the stage,
//!   the signature or the AppCode);
//! - `answer` and [`diagnose`]: the gateway's answer judged, and its error codes turned into
//!   the setting to change.
//!
//! The rest of the crate is generic probing (resolve, connect, time, report); this module is
//! what makes it a probe of API Gateway.

pub(crate) mod answer;
pub mod diagnose;
pub mod domain;
pub(crate) mod request;
pub mod sign;

pub use domain::{apigw_domain, is_group_id, vpc_url, ApigwDomain, Stage};
pub use request::{PROBE_HOP_HEADER, USER_AGENT};
pub use sign::{sign, AppSecret, SignatureMethod, Signed};
