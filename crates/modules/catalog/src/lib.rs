//! mm-catalog: categories, products and their SKUs (spec combinations, each with its own price in
//! integer fen and its own stock or "unlimited"), managed by staff, and the published menu the
//! mini-program reads — cached per tenant under a menu version that every write bumps.
//!
//! It must not reach into other modules' tables; ordering will take stock through this module's
//! contract.

pub mod bff;
mod convert;
pub mod demo;
pub mod domain;
mod entity;
pub mod error;
mod grpc;
pub mod migrations;
mod names;
mod repo;
pub mod service;

use mm_kernel::module::{ModuleContext, ModuleDef, Mounted};
use mm_proto::minimodules::catalog::v1::catalog_service_server::{
    CatalogServiceServer, SERVICE_NAME,
};
pub use service::CatalogApp;

/// The module spec.
pub const SPEC: &str = include_str!("../module.json");

/// The catalog module for the server's module list.
pub fn module() -> ModuleDef {
    ModuleDef {
        id: "catalog",
        spec: SPEC,
        templates: &[],
        mount: Some(mount),
        migrations: migrations::migrations,
        bff: Some(bff::def()),
        demo: Some(demo::seed),
        config_rules: None,
    }
}

fn mount(
    ctx: &ModuleContext,
    routes: &mut tonic::service::RoutesBuilder,
) -> anyhow::Result<Mounted> {
    let app = CatalogApp::new(ctx.db.clone(), ctx.cache.clone());
    routes.add_service(
        CatalogServiceServer::new(app).max_decoding_message_size(ctx.max_message_bytes),
    );
    Ok(vec![SERVICE_NAME])
}
