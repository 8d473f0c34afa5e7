//! mm-ordering: orders placed by mini-program customers and worked by shop staff. Prices come
//! from the catalog (never from the client), stock is held through the catalog's reservation
//! contract under the order's id, every status change follows `domain::transition` for the
//! caller's role, unpaid orders expire and give their stock back, payments go through WeChat Pay
//! (the payments module's, which reports back on `OrderPaymentEvents`) or the counter, and staff
//! watch a live board fed through the cache's event channel (Redis pub/sub across instances).
//!
//! It must not read or write another module's tables: the catalog, tenant and payments modules
//! are reached only through their contracts (`upstream.rs`).

pub mod bff;
mod convert;
pub mod domain;
mod effects;
mod entity;
pub mod error;
mod grpc;
pub mod migrations;
mod names;
pub mod pay;
mod repo;
pub mod service;
mod sweeper;
mod upstream;

use std::time::Duration;

use mm_kernel::module::{ModuleContext, ModuleDef, Mounted};
use mm_proto::minimodules::ordering::v1::order_payment_events_server::{
    self, OrderPaymentEventsServer,
};
use mm_proto::minimodules::ordering::v1::order_service_server::{self, OrderServiceServer};
pub use service::OrderingApp;

/// The module spec.
pub const SPEC: &str = include_str!("../module.json");

/// The ordering module for the server's module list.
pub fn module() -> ModuleDef {
    ModuleDef {
        id: "ordering",
        spec: SPEC,
        templates: &[],
        mount: Some(mount),
        migrations: migrations::migrations,
        bff: Some(bff::def()),
        demo: None,
        config_rules: Some(domain::config_rules),
    }
}

impl OrderingApp {
    /// The service over a module context (for the server's mount and for seeding).
    pub fn from_context(ctx: &ModuleContext) -> anyhow::Result<Self> {
        Ok(Self {
            db: ctx.db.clone(),
            cache: ctx.cache.clone(),
            gate: ctx.gate.clone(),
            upstream: upstream::Upstream::new(ctx.platform.clone(), ctx.keys.clone(), &ctx.cache),
            jobs: ctx.settings.jobs.clone(),
            writes: Default::default(),
            clock: ctx.clock.clone(),
        })
    }
}

fn mount(
    ctx: &ModuleContext,
    routes: &mut tonic::service::RoutesBuilder,
) -> anyhow::Result<Mounted> {
    let app = OrderingApp::from_context(ctx)?;
    let sweeping = app.clone();
    ctx.jobs.every(
        sweeper::JOB,
        Duration::from_millis(ctx.settings.jobs.sweep_interval_ms.max(50)),
        move || {
            let app = sweeping.clone();
            async move { sweeper::sweep(&app).await }
        },
    );
    routes.add_service(
        OrderServiceServer::new(app.clone()).max_decoding_message_size(ctx.max_message_bytes),
    );
    // What the payments module reports about the orders' payments.
    routes.add_service(
        OrderPaymentEventsServer::new(app).max_decoding_message_size(ctx.max_message_bytes),
    );
    Ok(vec![
        order_service_server::SERVICE_NAME,
        order_payment_events_server::SERVICE_NAME,
    ])
}
