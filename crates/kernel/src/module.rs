//! What a business module hands the server: its spec (JSON, checked when loaded), any industry
//! templates it owns, and a function that mounts its gRPC services. The server's module list is a
//! list of these, one line per module.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::JwtKeys;
use crate::cache::Cache;
use crate::config::Settings;

/// Everything a module's services may use.
#[derive(Clone, Debug)]
pub struct ModuleContext {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Tenant-keyed cache.
    pub cache: Arc<Cache>,
    /// Every module spec of this installation (the tenant module builds its registry from them).
    pub specs: Arc<Vec<&'static str>>,
    /// Every industry template of this installation.
    pub templates: Arc<Vec<&'static str>>,
    /// Largest message a service decodes.
    pub max_message_bytes: usize,
    /// All settings, read-only.
    pub settings: Arc<Settings>,
    /// Token signing keys.
    pub keys: Arc<JwtKeys>,
    /// Key encrypting secrets at rest (32 bytes).
    pub secret_key: Arc<[u8; 32]>,
    /// Base URL of WeChat's APIs (the real ones or a local fake).
    pub wechat_base_url: String,
    /// Base URL of WeChat Pay's APIs (the real ones or the local fake).
    pub wechat_pay_base_url: String,
    /// Public base URL of the HTTP side, for URLs handed to third parties (payment notifications).
    pub public_base_url: String,
    /// gRPC channel to the platform's services (this process, or `bff.upstream` in a mesh), for
    /// a module that calls another module's contract.
    pub platform: tonic::transport::Channel,
}

/// The services a module mounted, by full gRPC name, for health reporting.
pub type Mounted = Vec<&'static str>;

/// Mounts a module's services on the router; returns their names.
pub type MountFn =
    fn(&ModuleContext, &mut tonic::service::RoutesBuilder) -> anyhow::Result<Mounted>;

/// One business module as the server sees it.
#[derive(Clone, Copy, Debug)]
pub struct ModuleDef {
    /// The module id, matching its spec.
    pub id: &'static str,
    /// The module spec (module.json).
    pub spec: &'static str,
    /// Industry templates the module contributes.
    pub templates: &'static [&'static str],
    /// Mounts its services; `None` for a module whose spec is published before its service ships.
    pub mount: Option<MountFn>,
}
