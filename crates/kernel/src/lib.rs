//! mm-kernel: the platform code every module shares — typed settings, telemetry, the access layer
//! that verifies tokens and enforces each RPC's declared roles, the request context, the tenant-keyed
//! cache with cross-instance invalidation, database connection, paging and the one place domain
//! errors become gRPC statuses.
//!
//! It must not know any business module: modules depend on the kernel, never the other way round.

pub mod access;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod context;
pub mod db;
pub mod error;
pub mod extensions;
pub mod fault;
pub mod framing;
pub mod gate;
pub mod group;
pub mod held;
pub mod ids;
pub mod json;
pub mod leader;
pub mod metrics;
pub mod module;
pub mod module_config;
pub mod names;
pub mod paging;
pub mod payments;
pub mod platform;
pub mod scope;
pub mod secrets;
pub mod telemetry;
pub mod watch;

pub use context::{Principal, RequestContext};
pub use error::{DomainError, FieldViolation, RequestError};
pub use ids::TenantId;
pub use mm_proto::Role;
pub use scope::{Scoped, ScopedTxn, SystemScope, TenantScope};
