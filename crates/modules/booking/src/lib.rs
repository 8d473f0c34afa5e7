//! mm-booking: bookable services, the staff and rooms that perform them with their weekly hours,
//! breaks and time off, available slots computed in the tenant's time zone, and reservations
//! (hold → confirm → completed / no-show; cancel and reschedule within the tenant's policy
//! windows; holds expire), with deposits through WeChat Pay (`pay.rs`, over the payments
//! module's contract: paying confirms the hold; cancelling refunds) and reminders as WeChat subscribe messages through an outbox
//! (`outbox.rs`: one row per message, retried with backoff, never sent twice).
//!
//! Invariant: capacity is enforced by the database, never by a read-then-write in Rust. Every
//! reservation takes one place in each grid cell it covers (`booking_slot_counts`, a conditional
//! `taken < capacity` update) in the transaction that writes it; places are given back only by the
//! transaction whose conditional status change ends the reservation's hold on them.
//!
//! It must not read or write another module's tables: the tenant module (is booking on, its
//! config), payments (deposits) and identity (sending a message) are reached only through their
//! contracts (`upstream.rs`).

pub mod bff;
mod convert;
pub mod domain;
mod entity;
pub mod error;
mod grpc;
pub mod migrations;
pub mod names;
mod outbox;
pub mod pay;
mod repo;
pub mod service;
mod sweeper;
mod upstream;

use std::time::Duration;

use mm_kernel::module::{ModuleContext, ModuleDef, Mounted};
use mm_proto::minimodules::booking::v1::booking_payment_events_server::{
    self, BookingPaymentEventsServer,
};
use mm_proto::minimodules::booking::v1::booking_service_server::{self, BookingServiceServer};
pub use service::BookingApp;

/// The module spec.
pub const SPEC: &str = include_str!("../module.json");

/// The booking module for the server's module list.
pub fn module() -> ModuleDef {
    ModuleDef {
        id: "booking",
        spec: SPEC,
        templates: &[],
        mount: Some(mount),
        migrations: migrations::migrations,
        bff: Some(bff::def()),
        demo: None,
        config_rules: Some(domain::config_rules),
    }
}

impl BookingApp {
    /// The service over a module context (for the server's mount and for seeding).
    pub fn from_context(ctx: &ModuleContext) -> anyhow::Result<Self> {
        Ok(Self {
            db: ctx.db.clone(),
            upstream: upstream::Upstream::new(ctx.platform.clone(), ctx.keys.clone(), &ctx.cache),
            retry_base_ms: ctx.settings.jobs.retry_base_ms,
            clock: ctx.clock.clone(),
            cache: ctx.cache.clone(),
            gate: ctx.gate.clone(),
            holds: std::sync::Arc::new(mm_kernel::group::Group::new("booking.hold")),
            bookable: mm_kernel::held::Held::new(&ctx.cache, service::BOOKABLE_HELD_FOR, 10_000),
        })
    }

    /// Runs one hold expiry pass now (tests and operators; the server also sweeps on a timer).
    pub async fn sweep_expired_holds(&self) -> anyhow::Result<usize> {
        sweeper::sweep(self).await
    }
}

fn mount(
    ctx: &ModuleContext,
    routes: &mut tonic::service::RoutesBuilder,
) -> anyhow::Result<Mounted> {
    let app = BookingApp::from_context(ctx)?;
    let sweeping = app.clone();
    ctx.jobs.every(
        sweeper::JOB,
        Duration::from_millis(ctx.settings.jobs.sweep_interval_ms.max(50)),
        move || {
            let app = sweeping.clone();
            async move { sweeper::pass(&app).await }
        },
    );
    routes.add_service(
        BookingServiceServer::new(app.clone()).max_decoding_message_size(ctx.max_message_bytes),
    );
    // What the payments module reports about the deposits' payments.
    routes.add_service(
        BookingPaymentEventsServer::new(app).max_decoding_message_size(ctx.max_message_bytes),
    );
    Ok(vec![
        booking_service_server::SERVICE_NAME,
        booking_payment_events_server::SERVICE_NAME,
    ])
}
