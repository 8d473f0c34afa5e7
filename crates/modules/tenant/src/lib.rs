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
pub mod migrations;
pub mod names;
pub mod payments;
pub mod registry;
mod repo;
pub mod service;

pub use registry::Registry;
pub use service::TenantApp;

use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::gate::{ArchivedFuture, TenantLedger};
use mm_kernel::module::{ModuleContext, ModuleDef, Mounted};
use mm_proto::minimodules::tenant::v1::module_service_server::{
    ModuleServiceServer, SERVICE_NAME as MODULE_SERVICE,
};
use mm_proto::minimodules::tenant::v1::tenant_service_server::SERVICE_NAME as TENANT_SERVICE;

/// The tenant module for the server's module list.
pub fn module() -> ModuleDef {
    ModuleDef {
        id: "tenant",
        spec: registry::SPEC,
        templates: registry::BUILTIN_TEMPLATES,
        mount: Some(mount),
        migrations: migrations::migrations,
        bff: None,
        demo: None,
        config_rules: None,
    }
}

fn mount(
    ctx: &ModuleContext,
    routes: &mut tonic::service::RoutesBuilder,
) -> anyhow::Result<Mounted> {
    let app = TenantApp::from_context(ctx)?;
    routes.add_service(grpc::TenantRoutes::new(app.clone(), ctx.max_message_bytes));
    routes.add_service(
        ModuleServiceServer::new(app).max_decoding_message_size(ctx.max_message_bytes),
    );
    Ok(vec![TENANT_SERVICE, MODULE_SERVICE])
}

/// The tenants table as the kernel gate's [`TenantLedger`]: every call of a tenant's users is
/// refused once the tenant is archived.
pub fn tenant_ledger(db: sea_orm::DatabaseConnection) -> Arc<dyn TenantLedger> {
    Arc::new(Tenants { db })
}

struct Tenants {
    db: sea_orm::DatabaseConnection,
}

impl TenantLedger for Tenants {
    fn is_archived(&self, tenant: TenantId) -> ArchivedFuture<'_> {
        Box::pin(async move {
            // Asked by the gate for every call of a tenant's users, before any handler.
            let scope = mm_kernel::SystemScope::named("tenant.gate").tenant(tenant);
            Ok(repo::find_tenant(&self.db, &scope)
                .await?
                .is_some_and(|row| {
                    domain::Status::from_stored(&row.status) == domain::Status::Archived
                }))
        })
    }
}
