//! Use cases of the booking module. Capacity is a database invariant: a reservation and the
//! places it takes on its resource's grid cells (`repo::take_cells`) are written in one
//! transaction, and every change that gives places back first wins a conditional status update in
//! that same transaction, so a place is returned exactly once however many instances race.
//!
//! Every use case takes the [`TenantScope`] the caller was authorized for (the gRPC layer gets it
//! from `ctx.authorize_tenant`), and every database access runs in a transaction that scope
//! opened (on PostgreSQL, row-level security lets nothing else through). No transaction is held
//! across a call to another module (WeChat Pay included: it is the payments module's).

mod discounts;
mod reserving;
mod resources;
mod slots;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use mm_kernel::error::{FieldViolation, RequestError, check_request_id};
use mm_kernel::{RequestContext, Role, TenantScope};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::domain::{
    self, Action, Actor, Cells, Config, DayHours, Deposit, Period, PolicyRefusal, ServiceShape,
    Status,
};
use crate::entity::{reservations, services, staff, time_offs};
use crate::error::{BookingError, Result, SlotCause};
use crate::outbox;
use crate::repo;
use crate::upstream::Upstream;
use mm_proto::minimodules::booking::v1 as pb;
use sea_orm::{ColumnTrait as _, QueryFilter as _};

pub use discounts::EVENT as DISCOUNT_EVENT;

/// How many local days one availability query may span.
pub const MAX_SLOT_DAYS: i64 = 31;

/// The booking module's application service.
#[derive(Clone, Debug)]
pub struct BookingApp {
    pub(crate) db: DatabaseConnection,
    pub(crate) upstream: Upstream,
    /// First retry wait of a failed message (`jobs.retry_base_ms`).
    pub(crate) retry_base_ms: u64,
    /// "Now" for slots, hold deadlines and the jobs that act on them.
    pub(crate) clock: mm_kernel::clock::Clock,
    /// Carries reservation events to every replica's calendars (`WatchReservations`).
    pub(crate) cache: std::sync::Arc<mm_kernel::cache::Cache>,
    /// Asked before every live event a watcher is sent.
    pub(crate) gate: std::sync::Arc<mm_kernel::gate::Gate>,
    /// Holds written with the shop's other holds of the moment (`mm_kernel::group`).
    pub(crate) holds: std::sync::Arc<mm_kernel::group::Group>,
    /// What a customer's hold is checked against, per service and resource (see [`Bookable`]).
    pub(crate) bookable: mm_kernel::held::Held<std::sync::Arc<Bookable>>,
}

/// A service and one of its resources as a customer's hold checks them, with the resource's
/// time off (its own and the shop's) that ends after `from`: held in memory, so that a hold is
/// one grouped write and no read. Any change to the tenant's services, resources or time off
/// drops it in every instance (`Cache::invalidate`); it also lapses after [`BOOKABLE_HELD_FOR`].
#[derive(Debug)]
pub struct Bookable {
    pub(crate) service: services::Model,
    pub(crate) staff: staff::Model,
    pub(crate) offs: Vec<time_offs::Model>,
    pub(crate) from: DateTime<Utc>,
}

/// How long a [`Bookable`] is held at most: the bound on a change whose announcement was lost.
pub const BOOKABLE_HELD_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// The most time off a held [`Bookable`] carries; a resource with more is read per hold.
pub(crate) const BOOKABLE_OFFS: usize = 200;

/// The pub/sub topic of reservation events.
pub const TOPIC: &str = "booking.reservation";

/// A service's editable fields, parsed.
#[derive(Debug, Clone)]
pub struct ServiceInput {
    /// Name.
    pub display_name: String,
    /// Text.
    pub description: String,
    /// Minutes.
    pub duration_minutes: i32,
    /// Fen.
    pub price_fen: i64,
    /// Places per slot.
    pub capacity: i32,
    /// Minutes after.
    pub buffer_minutes: i32,
    /// Fen.
    pub deposit_fen: i64,
    /// Bookable.
    pub active: bool,
}

/// A resource's editable fields, parsed.
#[derive(Debug, Clone)]
pub struct StaffInput {
    /// Name.
    pub display_name: String,
    /// "person" or "room".
    pub kind: &'static str,
    /// Services performed; empty for all.
    pub service_ids: Vec<String>,
    /// Weekly schedule.
    pub weekly_hours: Vec<DayHours>,
    /// Bookable.
    pub active: bool,
}

/// A time off, parsed.
#[derive(Debug, Clone)]
pub struct TimeOffInput {
    /// Resource, or empty for the whole shop.
    pub staff_id: String,
    /// When.
    pub period: Period,
    /// Why.
    pub reason: String,
}

/// A slot with places left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotView {
    /// Service.
    pub service_id: String,
    /// Resource.
    pub staff_id: String,
    /// Start.
    pub start: DateTime<Utc>,
    /// End of the service.
    pub end: DateTime<Utc>,
    /// Places left.
    pub remaining: i32,
}

/// What a booking asks for.
#[derive(Debug, Clone)]
pub struct Booking {
    /// Service.
    pub service_id: String,
    /// Resource.
    pub staff_id: String,
    /// Start.
    pub start: DateTime<Utc>,
    /// Idempotency key (required of customers).
    pub request_id: String,
    /// Note.
    pub note: String,
    /// Walk-ins: who.
    pub contact_name: String,
    /// Walk-ins: phone.
    pub contact_phone: String,
    /// The customer agreed to a reminder.
    pub remind: bool,
    /// A coupon for the deposit (its name); empty for the best one.
    pub coupon: String,
    /// No coupon for the deposit.
    pub no_coupon: bool,
}

/// The caller as an actor, and the customer id when a customer.
fn actor(ctx: &RequestContext) -> Result<(Actor, Option<String>)> {
    let p = ctx.principal()?;
    Ok(match p.role {
        Role::Customer => (Actor::Customer, Some(p.subject.clone())),
        Role::Staff | Role::Admin | Role::Operator => (Actor::Staff, None),
        _ => {
            return Err(RequestError::PermissionDenied("not a booking actor".into()).into());
        }
    })
}

fn invalid(v: Vec<FieldViolation>) -> Result<()> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(RequestError::Invalid(v).into())
    }
}

fn not_found(kind: &'static str, id: &str) -> BookingError {
    BookingError::NotFound {
        kind,
        id: id.to_string(),
    }
}

fn shape(s: &services::Model) -> ServiceShape {
    ServiceShape {
        duration_minutes: i64::from(s.duration_minutes),
        buffer_minutes: i64::from(s.buffer_minutes),
    }
}

/// The weekly hours stored with a resource.
pub(crate) fn hours_of(s: &staff::Model) -> Vec<DayHours> {
    serde_json::from_str(&s.weekly_hours).unwrap_or_default()
}

/// The service ids stored with a resource (empty: all).
pub(crate) fn services_of(s: &staff::Model) -> Vec<String> {
    serde_json::from_str(&s.service_ids).unwrap_or_default()
}

fn performs(s: &staff::Model, service_id: &str) -> bool {
    let ids = services_of(s);
    ids.is_empty() || ids.iter().any(|i| i == service_id)
}

fn periods(rows: &[time_offs::Model], staff_id: &str) -> Vec<Period> {
    rows.iter()
        .filter(|o| o.staff_id.is_empty() || o.staff_id == staff_id)
        .map(|o| Period {
            start: o.starts_at,
            end: o.ends_at,
        })
        .collect()
}

fn refusal(r: PolicyRefusal) -> BookingError {
    match r {
        PolicyRefusal::CancelWindow { hours } => BookingError::CancelWindowPassed { hours },
        PolicyRefusal::RescheduleWindow { hours } => BookingError::RescheduleWindowPassed { hours },
        PolicyRefusal::NotStartedYet => BookingError::NotStartedYet,
    }
}

fn status_of(row: &reservations::Model) -> Result<Status> {
    Status::parse(&row.status)
        .ok_or_else(|| anyhow::anyhow!("unknown stored status {:?}", row.status).into())
}

fn cells_of(row: &reservations::Model) -> Cells {
    Cells {
        start: row.cell_start,
        count: i64::from(row.cell_count),
        minutes: i64::from(row.cell_minutes),
    }
}

impl BookingApp {
    /// The tenant's offset for local labels (the default zone if the config cannot be read: the
    /// use case itself already succeeded).
    pub(crate) async fn offset(&self, tenant: mm_kernel::TenantId) -> chrono::FixedOffset {
        self.upstream
            .config(tenant)
            .await
            .unwrap_or_default()
            .offset()
    }

    /// Tells the shop's live calendars what happened to a reservation. Best effort: a calendar
    /// that missed it still reloads on its own.
    pub(crate) async fn publish(
        &self,
        row: &crate::entity::reservations::Model,
        kind: mm_proto::minimodules::booking::v1::ReservationEventKind,
    ) {
        use prost::Message as _;
        let offset = self.offset(row.tenant_id).await;
        let event = mm_proto::minimodules::booking::v1::ReservationEvent {
            kind: kind as i32,
            reservation: Some(crate::convert::reservation(row, offset)),
        };
        self.cache
            .publish(&row.tenant_id, TOPIC, event.encode_to_vec().into())
            .await;
    }

    /// The caller as an actor and the config of the tenant it was authorized for (`scope`);
    /// MODULE_DISABLED when booking is off.
    /// The tenant's booking config, defaults applied, for anyone who may book or serve there.
    pub async fn settings(&self, ctx: &RequestContext, scope: &TenantScope) -> Result<Config> {
        Ok(self.enter(ctx, scope).await?.0)
    }

    async fn enter(&self, ctx: &RequestContext, scope: &TenantScope) -> Result<(Config, Actor)> {
        let (actor, _) = actor(ctx)?;
        let cfg = self.upstream.config(scope.tenant()).await?;
        Ok((cfg, actor))
    }
}
