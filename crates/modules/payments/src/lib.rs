//! mm-payments: WeChat Pay for every module that takes money (ordering's orders, booking's
//! deposits, whatever pays next). A paying module owns its record and its rules; this module owns
//! the money's side: the JSAPI prepay and the `wx.requestPayment` signature, queries for late
//! notifications, refunds, closing unpaid payments, and THE one notification route WeChat Pay
//! posts to, all over the tenant's one merchant account (kept by the tenant module, opened here:
//! `merchant.rs`). What happens to a payment's money is reported to the paying module at the
//! listener it named when it started the payment: a unary method of its own contract taking
//! `minimodules.payments.v1.PaymentEvent` and answering `PaymentEventAck`, called with a
//! `ROLE_SERVICE` token for the payment's tenant.
//!
//! It must not read or write another module's tables: the tenant and identity modules and the
//! listeners are reached only through their contracts (`upstream.rs`, `merchant.rs`).

pub mod bff;
pub mod domain;
mod entity;
pub mod error;
mod grpc;
pub mod merchant;
pub mod migrations;
pub mod names;
mod repo;
pub mod service;
mod upstream;

use mm_kernel::module::{ModuleContext, ModuleDef, Mounted};
use mm_proto::minimodules::payments::v1::payment_service_server::{
    PaymentServiceServer, SERVICE_NAME,
};
pub use service::PaymentsApp;

/// The module spec.
pub const SPEC: &str = include_str!("../module.json");

/// The payments module for the server's module list.
pub fn module() -> ModuleDef {
    ModuleDef {
        id: "payments",
        spec: SPEC,
        templates: &[],
        mount: Some(mount),
        migrations: migrations::migrations,
        bff: Some(bff::def()),
        demo: None,
        config_rules: None,
    }
}

fn mount(
    ctx: &ModuleContext,
    routes: &mut tonic::service::RoutesBuilder,
) -> anyhow::Result<Mounted> {
    let app = PaymentsApp::from_context(ctx)?;
    routes.add_service(
        PaymentServiceServer::new(app).max_decoding_message_size(ctx.max_message_bytes),
    );
    Ok(vec![SERVICE_NAME])
}
