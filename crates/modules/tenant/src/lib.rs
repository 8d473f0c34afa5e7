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
pub mod payments;
pub mod registry;
mod repo;
pub mod service;

pub use registry::Registry;
pub use service::TenantApp;

use mm_kernel::module::{ModuleContext, ModuleDef, Mounted};
use mm_proto::minimodules::tenant::v1::module_service_server::{
    ModuleServiceServer, SERVICE_NAME as MODULE_SERVICE,
};
use mm_proto::minimodules::tenant::v1::tenant_service_server::{
    SERVICE_NAME as TENANT_SERVICE, TenantServiceServer,
};

/// The tenant module for the server's module list.
pub fn module() -> ModuleDef {
    ModuleDef {
        id: "tenant",
        spec: registry::SPEC,
        templates: registry::BUILTIN_TEMPLATES,
        mount: Some(mount),
    }
}

fn mount(
    ctx: &ModuleContext,
    routes: &mut tonic::service::RoutesBuilder,
) -> anyhow::Result<Mounted> {
    let app = TenantApp::from_context(ctx)?;
    routes.add_service(
        TenantServiceServer::new(app.clone()).max_decoding_message_size(ctx.max_message_bytes),
    );
    routes.add_service(
        ModuleServiceServer::new(app).max_decoding_message_size(ctx.max_message_bytes),
    );
    Ok(vec![TENANT_SERVICE, MODULE_SERVICE])
}
