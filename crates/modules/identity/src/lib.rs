//! mm-identity: who people are and how they prove it — customers from WeChat (code2session),
//! staff and admins with argon2id passwords, platform operators; short-lived access tokens with
//! rotating refresh tokens stored hashed (reuse ends the session); login throttling and lockout;
//! each tenant's WeChat credentials, the secret encrypted at rest; and the audit log's read side.
//!
//! It must not reach into other modules' tables: it knows a tenant only by the id in a token, a
//! resource name, or its own appid registry.

mod convert;
pub mod demo;
pub mod domain;
mod entity;
pub mod error;
mod grpc;
pub mod migrations;
pub mod names;
mod repo;
pub mod service;
pub mod wechat;

use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::cache::{LedgerFuture, RevokedSinceFuture, SessionLedger};
use mm_kernel::module::{ModuleContext, ModuleDef, Mounted};
use mm_proto::minimodules::identity::v1::auth_service_server::{
    AuthServiceServer, SERVICE_NAME as AUTH_SERVICE,
};
use mm_proto::minimodules::identity::v1::user_service_server::{
    SERVICE_NAME as USER_SERVICE, UserServiceServer,
};
use sea_orm::DatabaseConnection;
pub use service::IdentityApp;

/// The module spec.
pub const SPEC: &str = include_str!("../module.json");

/// The identity module for the server's module list.
pub fn module() -> ModuleDef {
    ModuleDef {
        id: "identity",
        spec: SPEC,
        templates: &[],
        mount: Some(mount),
        migrations: migrations::migrations,
        bff: None,
        demo: Some(demo::seed),
        config_rules: None,
    }
}

fn mount(
    ctx: &ModuleContext,
    routes: &mut tonic::service::RoutesBuilder,
) -> anyhow::Result<Mounted> {
    let app = IdentityApp::from_context(ctx)?;
    routes.add_service(
        AuthServiceServer::new(app.clone()).max_decoding_message_size(ctx.max_message_bytes),
    );
    routes
        .add_service(UserServiceServer::new(app).max_decoding_message_size(ctx.max_message_bytes));
    Ok(vec![AUTH_SERVICE, USER_SERVICE])
}

/// The sessions table as the cache's [`SessionLedger`]: the access layer asks it whether a session
/// was revoked when Redis cannot answer.
pub fn session_ledger(db: DatabaseConnection) -> Arc<dyn SessionLedger> {
    Arc::new(Sessions { db })
}

struct Sessions {
    db: DatabaseConnection,
}

impl SessionLedger for Sessions {
    fn is_revoked<'a>(&'a self, tenant: Option<TenantId>, session: &'a str) -> LedgerFuture<'a> {
        Box::pin(async move {
            let scope =
                tenant.map_or_else(|| mm_kernel::audit::PLATFORM.to_string(), |t| t.to_string());
            Ok(!repo::session_live(&self.db, &scope, session).await?)
        })
    }

    fn revoked_since(&self, since: chrono::DateTime<chrono::Utc>) -> RevokedSinceFuture<'_> {
        Box::pin(async move { Ok(repo::sessions_revoked_since(&self.db, since).await?) })
    }
}
