//! mm-marketing: coupons, points and member levels. Shops create coupon templates (amount off, percent off with a cap,
//! 满减 thresholds, a free item; fixed dates or days after claiming; a total and a per-customer
//! limit; a scope of products, categories and modules), customers claim them in the coupon
//! centre, staff issue them, and new members get the shop's welcome coupon. At checkout the
//! module serves ordering's discount contract (`OrderDiscounts`, named in the spec under
//! "serves"): it quotes the best coupon, locks the chosen one to the order so no coupon is used
//! twice, and marks it used, or gives it back, as the order is paid, called off or refunded.
//!
//! It must not read or write another module's tables: ordering calls it through the contract,
//! and the tenant module's config through `mm_kernel::module_config`.

pub mod bff;
mod booking;
mod checkout;
mod convert;
pub mod domain;
mod entity;
pub mod error;
mod grpc;
mod memo;
pub mod migrations;
pub mod names;
mod points;
pub mod promotions;
mod repo;
pub mod service;

use mm_kernel::module::{ModuleContext, ModuleDef, Mounted};
use mm_proto::minimodules::marketing::v1::booking_discounts_server::{
    self, BookingDiscountsServer,
};
use mm_proto::minimodules::marketing::v1::coupon_service_server::{self, CouponServiceServer};
use mm_proto::minimodules::marketing::v1::member_service_server::{self, MemberServiceServer};
use mm_proto::minimodules::marketing::v1::order_discounts_server::{self, OrderDiscountsServer};
use mm_proto::minimodules::marketing::v1::promotion_service_server::{
    self, PromotionServiceServer,
};
pub use service::MarketingApp;

/// The module spec.
pub const SPEC: &str = include_str!("../module.json");

/// The marketing module for the server's module list.
pub fn module() -> ModuleDef {
    ModuleDef {
        id: "marketing",
        spec: SPEC,
        templates: &[],
        mount: Some(mount),
        migrations: migrations::migrations,
        bff: Some(bff::def()),
        demo: Some(demo),
        config_rules: Some(domain::config_rules),
    }
}

fn demo<'a>(
    ctx: &'a ModuleContext,
    shop: &'a mm_kernel::module::DemoShop,
) -> futures::future::BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        MarketingApp::from_context(ctx)
            .seed_demo(shop.tenant)
            .await
            .map_err(|e| anyhow::anyhow!("marketing demo: {e}"))
    })
}

fn mount(
    ctx: &ModuleContext,
    routes: &mut tonic::service::RoutesBuilder,
) -> anyhow::Result<Mounted> {
    let app = MarketingApp::from_context(ctx);
    routes.add_service(
        CouponServiceServer::new(app.clone()).max_decoding_message_size(ctx.max_message_bytes),
    );
    routes.add_service(
        MemberServiceServer::new(app.clone()).max_decoding_message_size(ctx.max_message_bytes),
    );
    routes.add_service(
        PromotionServiceServer::new(app.clone()).max_decoding_message_size(ctx.max_message_bytes),
    );
    routes.add_service(
        BookingDiscountsServer::new(app.clone()).max_decoding_message_size(ctx.max_message_bytes),
    );
    routes.add_service(
        OrderDiscountsServer::new(app).max_decoding_message_size(ctx.max_message_bytes),
    );
    Ok(vec![
        coupon_service_server::SERVICE_NAME,
        member_service_server::SERVICE_NAME,
        promotion_service_server::SERVICE_NAME,
        order_discounts_server::SERVICE_NAME,
        booking_discounts_server::SERVICE_NAME,
    ])
}
