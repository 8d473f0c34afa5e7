//! mm-tenant: the tenant module — tenants and their lifecycle, branding, which modules each tenant
//! has switched on and their validated config, the module registry with its specs and industry
//! templates, and the mini-program boot config (`GetAppConfig`).
//!
//! It must not reach into any other module's tables or crates: other modules are known to it only
//! through their specs (data), and it serves them only through its own contract.

mod convert;
pub mod domain;
mod entity;
pub mod error;
mod grpc;
pub mod registry;
mod repo;
pub mod service;

pub use registry::Registry;
pub use service::TenantApp;
