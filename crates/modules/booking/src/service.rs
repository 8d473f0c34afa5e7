//! Use cases of the booking module. Capacity is a database invariant: a reservation and the
//! places it takes on its resource's grid cells (`repo::take_cells`) are written in one
//! transaction, and every change that gives places back first wins a conditional status update in
//! that same transaction, so a place is returned exactly once however many instances race.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use mm_kernel::error::{FieldViolation, RequestError};
use mm_kernel::{RequestContext, Role, TenantId};
use sea_orm::sea_query::Expr;
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::domain::{
    self, Action, Actor, Cells, Config, DayHours, Deposit, Period, PolicyRefusal, ServiceShape,
    Status,
};
use crate::entity::{reservations, services, staff, time_offs};
use crate::error::{BookingError, Result, SlotCause};
use crate::outbox;
use crate::repo;
use crate::upstream::Upstream;

/// How many local days one availability query may span.
pub const MAX_SLOT_DAYS: i64 = 31;

/// The booking module's application service.
#[derive(Clone, Debug)]
pub struct BookingApp {
    pub(crate) db: DatabaseConnection,
    pub(crate) upstream: Upstream,
    pub(crate) payments: mm_kernel::merchant::WechatPay,
    /// First retry wait of a failed message (`jobs.retry_base_ms`).
    pub(crate) retry_base_ms: u64,
}

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

/// Checks a client-chosen idempotency key.
pub fn check_request_id(id: &str, v: &mut Vec<FieldViolation>) {
    if !(8..=64).contains(&id.len())
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        v.push(FieldViolation::new(
            "request_id",
            "8 to 64 characters of letters, digits, '-' and '_'",
        ));
    }
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
    /// Authorizes the tenant and reads its config (MODULE_DISABLED when booking is off).
    async fn enter(&self, ctx: &RequestContext, tenant: TenantId) -> Result<(Config, Actor)> {
        ctx.authorize_tenant(&tenant)?;
        let (actor, _) = actor(ctx)?;
        let cfg = self.upstream.config(tenant).await?;
        Ok((cfg, actor))
    }

    // ---- services ----

    /// Creates a service.
    pub async fn create_service(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        input: ServiceInput,
    ) -> Result<services::Model> {
        self.enter(ctx, tenant).await?;
        let now = Utc::now();
        let row = services::Model {
            tenant_id: tenant.to_string(),
            service_id: uuid::Uuid::now_v7().to_string(),
            display_name: input.display_name,
            description: input.description,
            duration_minutes: input.duration_minutes,
            price_fen: input.price_fen,
            capacity: input.capacity,
            buffer_minutes: input.buffer_minutes,
            deposit_fen: input.deposit_fen,
            active: input.active,
            created_at: now,
            updated_at: now,
        };
        repo::insert_service(&self.db, row.clone()).await?;
        Ok(row)
    }

    /// One service; customers see active ones only.
    pub async fn get_service(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<services::Model> {
        let (_, actor) = self.enter(ctx, tenant).await?;
        repo::find_service(&self.db, tenant, id)
            .await?
            .filter(|s| s.active || actor == Actor::Staff)
            .ok_or_else(|| not_found("service", id))
    }

    /// A page of services.
    pub async fn list_services(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<services::Model>> {
        let (_, actor) = self.enter(ctx, tenant).await?;
        Ok(repo::list_services(&self.db, tenant, actor == Actor::Customer, after, limit).await?)
    }

    /// Replaces a service's editable fields.
    pub async fn update_service(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        input: ServiceInput,
    ) -> Result<services::Model> {
        self.enter(ctx, tenant).await?;
        let old = repo::find_service(&self.db, tenant, id)
            .await?
            .ok_or_else(|| not_found("service", id))?;
        let row = services::Model {
            display_name: input.display_name,
            description: input.description,
            duration_minutes: input.duration_minutes,
            price_fen: input.price_fen,
            capacity: input.capacity,
            buffer_minutes: input.buffer_minutes,
            deposit_fen: input.deposit_fen,
            active: input.active,
            updated_at: Utc::now(),
            ..old
        };
        if !repo::update_service(&self.db, row.clone()).await? {
            return Err(not_found("service", id));
        }
        Ok(row)
    }

    /// Deletes a service.
    pub async fn delete_service(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<()> {
        self.enter(ctx, tenant).await?;
        if !repo::delete_service(&self.db, tenant, id).await? {
            return Err(not_found("service", id));
        }
        Ok(())
    }

    // ---- staff ----

    async fn check_services(&self, tenant: TenantId, ids: &[String]) -> Result<()> {
        for id in ids {
            if repo::find_service(&self.db, tenant, id).await?.is_none() {
                return Err(
                    RequestError::invalid("staff.services", format!("no service {id}")).into(),
                );
            }
        }
        Ok(())
    }

    /// Creates a resource.
    pub async fn create_staff(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        input: StaffInput,
    ) -> Result<staff::Model> {
        self.enter(ctx, tenant).await?;
        self.check_services(tenant, &input.service_ids).await?;
        let now = Utc::now();
        let row = staff::Model {
            tenant_id: tenant.to_string(),
            staff_id: uuid::Uuid::now_v7().to_string(),
            display_name: input.display_name,
            kind: input.kind.to_string(),
            service_ids: serde_json::to_string(&input.service_ids).map_err(anyhow::Error::from)?,
            weekly_hours: serde_json::to_string(&input.weekly_hours)
                .map_err(anyhow::Error::from)?,
            active: input.active,
            created_at: now,
            updated_at: now,
        };
        repo::insert_staff(&self.db, row.clone()).await?;
        Ok(row)
    }

    /// One resource; customers see active ones only.
    pub async fn get_staff(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<staff::Model> {
        let (_, actor) = self.enter(ctx, tenant).await?;
        repo::find_staff(&self.db, tenant, id)
            .await?
            .filter(|s| s.active || actor == Actor::Staff)
            .ok_or_else(|| not_found("staff", id))
    }

    /// A page of resources, optionally only those performing a service.
    pub async fn list_staff(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        service: Option<&str>,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<staff::Model>> {
        let (_, actor) = self.enter(ctx, tenant).await?;
        let mut rows =
            repo::list_staff(&self.db, tenant, actor == Actor::Customer, after, limit).await?;
        if let Some(s) = service {
            // Filtered after paging: a page may come back short, never wrong.
            rows.retain(|r| performs(r, s));
        }
        Ok(rows)
    }

    /// Replaces a resource's editable fields.
    pub async fn update_staff(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        input: StaffInput,
    ) -> Result<staff::Model> {
        self.enter(ctx, tenant).await?;
        self.check_services(tenant, &input.service_ids).await?;
        let old = repo::find_staff(&self.db, tenant, id)
            .await?
            .ok_or_else(|| not_found("staff", id))?;
        let row = staff::Model {
            display_name: input.display_name,
            kind: input.kind.to_string(),
            service_ids: serde_json::to_string(&input.service_ids).map_err(anyhow::Error::from)?,
            weekly_hours: serde_json::to_string(&input.weekly_hours)
                .map_err(anyhow::Error::from)?,
            active: input.active,
            updated_at: Utc::now(),
            ..old
        };
        if !repo::update_staff(&self.db, row.clone()).await? {
            return Err(not_found("staff", id));
        }
        Ok(row)
    }

    /// Deletes a resource.
    pub async fn delete_staff(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<()> {
        self.enter(ctx, tenant).await?;
        if !repo::delete_staff(&self.db, tenant, id).await? {
            return Err(not_found("staff", id));
        }
        Ok(())
    }

    // ---- time off ----

    /// Records a time off.
    pub async fn create_time_off(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        input: TimeOffInput,
    ) -> Result<time_offs::Model> {
        self.enter(ctx, tenant).await?;
        if !input.staff_id.is_empty()
            && repo::find_staff(&self.db, tenant, &input.staff_id)
                .await?
                .is_none()
        {
            return Err(not_found("staff", &input.staff_id));
        }
        let now = Utc::now();
        let row = time_offs::Model {
            tenant_id: tenant.to_string(),
            time_off_id: uuid::Uuid::now_v7().to_string(),
            staff_id: input.staff_id,
            starts_at: input.period.start,
            ends_at: input.period.end,
            reason: input.reason,
            created_at: now,
            updated_at: now,
        };
        repo::insert_time_off(&self.db, row.clone()).await?;
        Ok(row)
    }

    /// Time off overlapping a period.
    pub async fn list_time_offs(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        period: Period,
    ) -> Result<Vec<time_offs::Model>> {
        self.enter(ctx, tenant).await?;
        Ok(repo::time_offs(&self.db, tenant, None, period.start, period.end).await?)
    }

    /// Deletes a time off.
    pub async fn delete_time_off(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<()> {
        self.enter(ctx, tenant).await?;
        if !repo::delete_time_off(&self.db, tenant, id).await? {
            return Err(not_found("time off", id));
        }
        Ok(())
    }

    // ---- availability ----

    /// The active service and the active resources performing it (one, when named).
    async fn bookable(
        &self,
        tenant: TenantId,
        service_id: &str,
        staff_id: Option<&str>,
    ) -> Result<(services::Model, Vec<staff::Model>)> {
        let svc = repo::find_service(&self.db, tenant, service_id)
            .await?
            .filter(|s| s.active)
            .ok_or_else(|| not_found("service", service_id))?;
        let staff = match staff_id {
            Some(id) => vec![
                repo::find_staff(&self.db, tenant, id)
                    .await?
                    .filter(|s| s.active && performs(s, service_id))
                    .ok_or_else(|| not_found("staff", id))?,
            ],
            None => repo::list_staff(&self.db, tenant, true, None, 100)
                .await?
                .into_iter()
                .filter(|s| performs(s, service_id))
                .collect(),
        };
        Ok((svc, staff))
    }

    /// Slots of a service with places left over local dates `from..=to`, optionally for one
    /// resource. Customers get the lead time and horizon; staff see every future slot.
    pub async fn available_slots(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        service_id: &str,
        staff_id: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(Vec<SlotView>, Config)> {
        let (cfg, actor) = self.enter(ctx, tenant).await?;
        let days = (to - from).num_days();
        if !(0..MAX_SLOT_DAYS).contains(&days) {
            return Err(RequestError::invalid(
                "end_date",
                format!(
                    "on or after start_date and at most {} days after it",
                    MAX_SLOT_DAYS - 1
                ),
            )
            .into());
        }
        let (svc, staff) = self.bookable(tenant, service_id, staff_id).await?;
        let now = Utc::now();
        let range = match actor {
            Actor::Customer => domain::bookable_range(&cfg, now),
            Actor::Staff | Actor::System => Period {
                start: now,
                end: now + Duration::days(3660),
            },
        };
        let offset = cfg.offset();
        let shape = shape(&svc);
        let (Some(p_start), Some(p_end)) = (
            domain::local_to_utc(from, 0, offset),
            to.succ_opt()
                .and_then(|d| domain::local_to_utc(d, 0, offset))
                .map(|t| t + Duration::minutes(shape.occupied_minutes())),
        ) else {
            return Ok((Vec::new(), cfg));
        };
        let ids: Vec<String> = staff.iter().map(|s| s.staff_id.clone()).collect();
        let offs = repo::time_offs(&self.db, tenant, Some(&ids), p_start, p_end).await?;
        let taken = repo::taken(
            &self.db,
            tenant,
            &ids,
            p_start.timestamp(),
            p_end.timestamp(),
        )
        .await?;
        let mut out = Vec::new();
        for s in &staff {
            let starts = domain::slot_starts(
                &hours_of(s),
                &periods(&offs, &s.staff_id),
                shape,
                &cfg,
                from,
                to,
                Some(range),
            );
            for start in starts {
                let cells = Cells::of(start, shape.occupied_minutes(), cfg.slot());
                let used = cells
                    .starts()
                    .map(|c| taken.get(&(s.staff_id.clone(), c)).copied().unwrap_or(0))
                    .max()
                    .unwrap_or(0);
                let remaining = svc.capacity - used;
                if remaining > 0 {
                    out.push(SlotView {
                        service_id: svc.service_id.clone(),
                        staff_id: s.staff_id.clone(),
                        start,
                        end: start + Duration::minutes(shape.duration_minutes),
                        remaining,
                    });
                }
            }
        }
        out.sort_by(|a, b| (a.start, &a.staff_id).cmp(&(b.start, &b.staff_id)));
        Ok((out, cfg))
    }

    /// Whether `start` is a slot the resource offers for the service: on its hours, clear of
    /// breaks and time off, and (customers) inside the lead time and horizon.
    async fn check_slot(
        &self,
        tenant: TenantId,
        cfg: &Config,
        svc: &services::Model,
        staff: &staff::Model,
        start: DateTime<Utc>,
        range: Option<Period>,
    ) -> Result<()> {
        if !domain::on_grid(start, cfg) {
            return Err(BookingError::SlotUnavailable(SlotCause::OffGrid));
        }
        if let Some(r) = range
            && (start < r.start || start > r.end)
        {
            return Err(BookingError::SlotUnavailable(SlotCause::OutsideRange));
        }
        let day = start.with_timezone(&cfg.offset()).date_naive();
        let shape = shape(svc);
        let end = start + Duration::minutes(shape.occupied_minutes());
        let offs = repo::time_offs(
            &self.db,
            tenant,
            Some(std::slice::from_ref(&staff.staff_id)),
            start,
            end,
        )
        .await?;
        let offered = domain::slot_starts(
            &hours_of(staff),
            &periods(&offs, &staff.staff_id),
            shape,
            cfg,
            day,
            day,
            None,
        );
        if !offered.contains(&start) {
            return Err(BookingError::SlotUnavailable(SlotCause::Closed));
        }
        Ok(())
    }

    /// Holds a place for the calling customer (or, `manual`, books a walk-in for staff).
    pub async fn book(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        b: Booking,
        manual: bool,
    ) -> Result<reservations::Model> {
        let (cfg, actor) = self.enter(ctx, tenant).await?;
        let (_, customer) = self::actor(ctx)?;
        let subject = ctx.principal()?.subject.clone();
        let mut v = Vec::new();
        if manual {
            if actor != Actor::Staff {
                return Err(RequestError::PermissionDenied("staff book walk-ins".into()).into());
            }
            if !b.request_id.is_empty() {
                check_request_id(&b.request_id, &mut v);
            }
            if b.contact_name.trim().is_empty() || b.contact_name.chars().count() > 64 {
                v.push(FieldViolation::new("contact_name", "1 to 64 characters"));
            }
            if b.contact_phone.chars().count() > 32 {
                v.push(FieldViolation::new(
                    "contact_phone",
                    "at most 32 characters",
                ));
            }
        } else {
            if actor != Actor::Customer {
                return Err(RequestError::PermissionDenied("only customers hold".into()).into());
            }
            check_request_id(&b.request_id, &mut v);
        }
        if b.note.chars().count() > 200 {
            v.push(FieldViolation::new("note", "at most 200 characters"));
        }
        invalid(v)?;
        // Customers and staff members keep separate idempotency keys.
        let booked_by = match &customer {
            Some(c) => c.clone(),
            None => format!("staff:{subject}"),
        };
        let request_id = if b.request_id.is_empty() {
            uuid::Uuid::now_v7().to_string()
        } else {
            b.request_id.clone()
        };
        // No look-up of the key first: a new key (nearly every request) would pay a round trip
        // for nothing. A replay is found when its insert conflicts, or, when the slot it holds
        // is now full or closed, when the attempt fails.
        match self
            .book_new(tenant, &cfg, b, manual, customer, &booked_by, &request_id)
            .await
        {
            Ok(row) => Ok(row),
            Err(e) if !matches!(e, BookingError::Request(_)) => {
                match repo::find_by_request(&self.db, tenant, &booked_by, &request_id).await {
                    Ok(Some(twin)) => Ok(twin),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn book_new(
        &self,
        tenant: TenantId,
        cfg: &Config,
        b: Booking,
        manual: bool,
        customer: Option<String>,
        booked_by: &str,
        request_id: &str,
    ) -> Result<reservations::Model> {
        let (svc, staff) = self
            .bookable(tenant, &b.service_id, Some(&b.staff_id))
            .await?;
        let Some(staff) = staff.into_iter().next() else {
            return Err(not_found("staff", &b.staff_id));
        };
        let now = Utc::now();
        let range = (!manual).then(|| domain::bookable_range(cfg, now));
        if manual && b.start < now - Duration::hours(12) {
            return Err(BookingError::SlotUnavailable(SlotCause::LongPast));
        }
        self.check_slot(tenant, cfg, &svc, &staff, b.start, range)
            .await?;
        let shape = shape(&svc);
        let cells = Cells::of(b.start, shape.occupied_minutes(), cfg.slot());
        let row = reservations::Model {
            tenant_id: tenant.to_string(),
            reservation_id: uuid::Uuid::now_v7().to_string(),
            service_id: svc.service_id.clone(),
            staff_id: staff.staff_id.clone(),
            customer_id: customer.unwrap_or_default(),
            booked_by: booked_by.to_string(),
            status: if manual {
                Status::Confirmed
            } else {
                Status::Held
            }
            .as_str()
            .into(),
            starts_at: b.start,
            ends_at: b.start + Duration::minutes(shape.duration_minutes),
            cell_start: cells.start,
            cell_count: i32::try_from(cells.count).unwrap_or(i32::MAX),
            cell_minutes: i32::try_from(cells.minutes).unwrap_or(i32::MAX),
            price_fen: svc.price_fen,
            deposit_fen: svc.deposit_fen,
            request_id: request_id.to_string(),
            contact_name: b.contact_name,
            contact_phone: b.contact_phone,
            note: b.note,
            cancel_reason: String::new(),
            expires_at: if manual {
                b.start
            } else {
                now + Duration::minutes(cfg.hold_minutes)
            },
            // Walk-ins and phone bookings settle at the shop.
            deposit_status: if svc.deposit_fen > 0 && !manual {
                Deposit::Unpaid
            } else {
                Deposit::None
            }
            .as_str()
            .into(),
            prepay_id: None,
            transaction_id: None,
            remind: b.remind && !manual,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin().await?;
        if !repo::insert_reservation(&txn, row.clone()).await? {
            // The same request raced us; dropping the transaction rolls it back.
            drop(txn);
            return repo::find_by_request(&self.db, tenant, booked_by, request_id)
                .await?
                .ok_or_else(|| BookingError::Unavailable("the same booking is being made".into()));
        }
        if !repo::take_cells(&txn, tenant, &staff.staff_id, cells, svc.capacity).await? {
            drop(txn);
            return Err(BookingError::SlotFull);
        }
        txn.commit().await?;
        mm_kernel::fault::point("booking.hold.committed");
        tracing::info!(reservation = %row.reservation_id, staff = %row.staff_id, start = %row.starts_at, "reservation made");
        Ok(row)
    }

    /// Loads a reservation the caller may see: customers only their own (others' are "not found").
    pub(crate) async fn visible(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<(reservations::Model, Actor, Config)> {
        let (cfg, actor) = self.enter(ctx, tenant).await?;
        let (_, customer) = self::actor(ctx)?;
        let row = repo::find_reservation(&self.db, tenant, id)
            .await?
            .ok_or_else(|| not_found("reservation", id))?;
        if customer.is_some_and(|c| c != row.customer_id) {
            return Err(not_found("reservation", id));
        }
        Ok((row, actor, cfg))
    }

    pub(crate) async fn reload(&self, tenant: TenantId, id: &str) -> Result<reservations::Model> {
        repo::find_reservation(&self.db, tenant, id)
            .await?
            .ok_or_else(|| not_found("reservation", id))
    }

    /// One reservation.
    pub async fn get_reservation(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<reservations::Model> {
        Ok(self.visible(ctx, tenant, id).await?.0)
    }

    /// A page of reservations: customers their own, staff all.
    pub async fn list_reservations(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        mut filter: repo::ReservationFilter<'_>,
        after: Option<(DateTime<Utc>, String)>,
        limit: u64,
    ) -> Result<Vec<reservations::Model>> {
        self.enter(ctx, tenant).await?;
        let (_, customer) = self::actor(ctx)?;
        filter.customer = customer.as_deref();
        Ok(repo::list_reservations(&self.db, tenant, &filter, after, limit).await?)
    }

    /// Confirms, cancels, completes or marks a no-show, by the caller's role and the policy.
    pub async fn advance(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        action: Action,
    ) -> Result<reservations::Model> {
        let (row, actor, cfg) = self.visible(ctx, tenant, id).await?;
        let now = Utc::now();
        let from = status_of(&row)?;
        // A hold past its deadline is as good as expired, whether or not the sweep got to it.
        if from == Status::Held && row.expires_at <= now && action != Action::Cancel {
            return Err(BookingError::InvalidTransition {
                from: Status::Expired,
                action: action.as_str(),
            });
        }
        domain::check_policy(from, action, actor, row.starts_at, now, &cfg).map_err(refusal)?;
        if action == Action::Confirm && actor == Actor::Customer && row.deposit_fen > 0 {
            return Err(BookingError::DepositRequired {
                deposit_fen: row.deposit_fen,
            });
        }
        let reason = match actor {
            Actor::Customer => "customer",
            Actor::Staff | Actor::System => "shop",
        };
        self.step(tenant, row, action, actor, reason).await
    }

    /// Applies one status change with a conditional update, giving the places back in the same
    /// transaction when the reservation stops holding them.
    pub(crate) async fn step(
        &self,
        tenant: TenantId,
        row: reservations::Model,
        action: Action,
        actor: Actor,
        reason: &str,
    ) -> Result<reservations::Model> {
        let from = status_of(&row)?;
        let to =
            domain::transition(from, action, actor).ok_or(BookingError::InvalidTransition {
                from,
                action: action.as_str(),
            })?;
        let mut extra = Vec::new();
        if to == Status::Cancelled {
            extra.push((
                reservations::Column::CancelReason,
                Expr::value(reason.to_string()),
            ));
        }
        // Read before the transaction: no module call while holding the database's writer.
        let reminders = if to == Status::Confirmed {
            Some(self.upstream.config(tenant).await?)
        } else {
            None
        };
        let txn = self.db.begin().await?;
        if !repo::move_reservation(&txn, &row, to.as_str(), extra).await? {
            drop(txn);
            let now = self.reload(tenant, &row.reservation_id).await?;
            return Err(BookingError::InvalidTransition {
                from: status_of(&now)?,
                action: action.as_str(),
            });
        }
        if from.holds_place()
            && !to.holds_place()
            && matches!(to, Status::Cancelled | Status::Expired)
        {
            repo::release_cells(&txn, tenant, &row.staff_id, cells_of(&row)).await?;
        }
        let refund = matches!(to, Status::Cancelled | Status::Expired)
            && Self::mark_refund(&txn, tenant, &row).await?;
        if let Some(cfg) = &reminders {
            outbox::schedule(&txn, &row, cfg).await?;
        } else if !to.holds_place() {
            outbox::withdraw(&txn, &row.tenant_id, &row.reservation_id).await?;
        }
        txn.commit().await?;
        mm_kernel::fault::point_of(&["booking", "step", to.as_str(), "committed"]);
        if refund {
            self.refund_after_cancel(tenant, &row.reservation_id).await;
        }
        if matches!(to, Status::Cancelled | Status::Expired) {
            // An unpaid deposit's transaction is closed so it can no longer be paid.
            self.close_quietly(tenant, &row).await;
        }
        self.reload(tenant, &row.reservation_id).await
    }

    /// Moves a reservation to another slot of the same service: the old places are given back and
    /// the new ones taken in one transaction (cells in both kept as they are), so a failed move
    /// leaves everything as it was.
    pub async fn reschedule(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        start: DateTime<Utc>,
        staff_id: Option<&str>,
    ) -> Result<reservations::Model> {
        let (row, actor, cfg) = self.visible(ctx, tenant, id).await?;
        let now = Utc::now();
        let from = status_of(&row)?;
        if domain::transition(from, Action::Reschedule, actor).is_none()
            || (from == Status::Held && row.expires_at <= now)
        {
            return Err(BookingError::InvalidTransition {
                from,
                action: Action::Reschedule.as_str(),
            });
        }
        domain::check_policy(from, Action::Reschedule, actor, row.starts_at, now, &cfg)
            .map_err(refusal)?;
        let staff_id = staff_id.unwrap_or(&row.staff_id).to_string();
        let (svc, staff) = self
            .bookable(tenant, &row.service_id, Some(&staff_id))
            .await?;
        let Some(staff) = staff.into_iter().next() else {
            return Err(not_found("staff", &staff_id));
        };
        let range = match actor {
            Actor::Customer => Some(domain::bookable_range(&cfg, now)),
            Actor::Staff | Actor::System => None,
        };
        self.check_slot(tenant, &cfg, &svc, &staff, start, range)
            .await?;
        let shape = shape(&svc);
        let cells = Cells::of(start, shape.occupied_minutes(), cfg.slot());
        let txn = self.db.begin().await?;
        let moved = repo::move_reservation(
            &txn,
            &row,
            &row.status,
            vec![
                (
                    reservations::Column::StaffId,
                    Expr::value(staff.staff_id.clone()),
                ),
                (reservations::Column::StartsAt, Expr::value(start)),
                (
                    reservations::Column::EndsAt,
                    Expr::value(start + Duration::minutes(shape.duration_minutes)),
                ),
                (reservations::Column::CellStart, Expr::value(cells.start)),
                (
                    reservations::Column::CellCount,
                    Expr::value(i32::try_from(cells.count).unwrap_or(i32::MAX)),
                ),
                (
                    reservations::Column::CellMinutes,
                    Expr::value(i32::try_from(cells.minutes).unwrap_or(i32::MAX)),
                ),
            ],
        )
        .await?;
        if !moved {
            drop(txn);
            let now = self.reload(tenant, id).await?;
            return Err(BookingError::InvalidTransition {
                from: status_of(&now)?,
                action: Action::Reschedule.as_str(),
            });
        }
        if !repo::move_cells(
            &txn,
            tenant,
            &row.staff_id,
            cells_of(&row),
            &staff.staff_id,
            cells,
            svc.capacity,
        )
        .await?
        {
            drop(txn);
            return Err(BookingError::SlotFull);
        }
        if from == Status::Confirmed {
            let moved = reservations::Model {
                starts_at: start,
                ..row.clone()
            };
            outbox::schedule(&txn, &moved, &cfg).await?;
        }
        txn.commit().await?;
        self.reload(tenant, id).await
    }
}
