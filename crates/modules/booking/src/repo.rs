//! Every query of the booking module's services, resources, time off, capacity and reservations.
//! Each function of a tenant's rows takes that tenant's [`TenantScope`] and builds its query from
//! it (`scope.find`, `scope.update_many`, `scope.delete_many`), so the tenant filter is never
//! hand-written; inserts take their tenant from the scope. The caller runs them in a transaction
//! the scope opened (`scope.begin`), which on PostgreSQL is also what row-level security lets
//! through. The one query across tenants, the hold expiry sweep's, takes a [`SystemScope`] and
//! runs in its transaction (see the migration's expiry index).

use chrono::{DateTime, Utc};
use mm_kernel::{SystemScope, TenantScope};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::Cells;
use crate::entity::{reservations, services, slot_counts, staff, time_offs};

// ---- services ----

/// Inserts a service of the scope's tenant.
pub async fn insert_service(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: services::Model,
) -> Result<(), DbErr> {
    row.tenant_id = scope.tenant();
    row.into_active_model().reset_all().insert(db).await?;
    Ok(())
}

/// Replaces a service's row; `Ok(false)` when it does not exist.
pub async fn update_service(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: services::Model,
) -> Result<bool, DbErr> {
    if find_service(db, scope, &row.service_id).await?.is_none() {
        return Ok(false);
    }
    row.tenant_id = scope.tenant();
    let mut am = row.into_active_model().reset_all();
    am.not_set(services::Column::CreatedAt);
    am.update(db).await?;
    Ok(true)
}

/// One service.
pub async fn find_service(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<Option<services::Model>, DbErr> {
    scope
        .find::<services::Entity>()
        .filter(services::Column::ServiceId.eq(id))
        .one(db)
        .await
}

/// A page of services by id, optionally active ones only.
pub async fn list_services(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    active_only: bool,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<services::Model>, DbErr> {
    let mut q = scope
        .find::<services::Entity>()
        .order_by_asc(services::Column::ServiceId)
        .limit(limit);
    if active_only {
        q = q.filter(services::Column::Active.eq(true));
    }
    if let Some(a) = after {
        q = q.filter(services::Column::ServiceId.gt(a));
    }
    q.all(db).await
}

/// Deletes a service; whether it existed.
pub async fn delete_service(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<bool, DbErr> {
    let r = scope
        .delete_many::<services::Entity>()
        .filter(services::Column::ServiceId.eq(id))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

// ---- staff ----

/// Inserts a resource of the scope's tenant.
pub async fn insert_staff(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: staff::Model,
) -> Result<(), DbErr> {
    row.tenant_id = scope.tenant();
    row.into_active_model().reset_all().insert(db).await?;
    Ok(())
}

/// Replaces a resource's row; `Ok(false)` when it does not exist.
pub async fn update_staff(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: staff::Model,
) -> Result<bool, DbErr> {
    if find_staff(db, scope, &row.staff_id).await?.is_none() {
        return Ok(false);
    }
    row.tenant_id = scope.tenant();
    let mut am = row.into_active_model().reset_all();
    am.not_set(staff::Column::CreatedAt);
    am.update(db).await?;
    Ok(true)
}

/// One resource.
pub async fn find_staff(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<Option<staff::Model>, DbErr> {
    scope
        .find::<staff::Entity>()
        .filter(staff::Column::StaffId.eq(id))
        .one(db)
        .await
}

/// A page of resources by id, optionally active ones only.
pub async fn list_staff(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    active_only: bool,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<staff::Model>, DbErr> {
    let mut q = scope
        .find::<staff::Entity>()
        .order_by_asc(staff::Column::StaffId)
        .limit(limit);
    if active_only {
        q = q.filter(staff::Column::Active.eq(true));
    }
    if let Some(a) = after {
        q = q.filter(staff::Column::StaffId.gt(a));
    }
    q.all(db).await
}

/// Deletes a resource; whether it existed.
pub async fn delete_staff(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<bool, DbErr> {
    let r = scope
        .delete_many::<staff::Entity>()
        .filter(staff::Column::StaffId.eq(id))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

// ---- time off ----

/// Inserts a time off of the scope's tenant.
pub async fn insert_time_off(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: time_offs::Model,
) -> Result<(), DbErr> {
    row.tenant_id = scope.tenant();
    row.into_active_model().reset_all().insert(db).await?;
    Ok(())
}

/// Time off overlapping `[from, to)`, of the resources given (plus the whole shop's), by start.
pub async fn time_offs(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    staff_ids: Option<&[String]>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<time_offs::Model>, DbErr> {
    let mut q = scope
        .find::<time_offs::Entity>()
        .filter(time_offs::Column::StartsAt.lt(to))
        .filter(time_offs::Column::EndsAt.gt(from))
        .order_by_asc(time_offs::Column::StartsAt)
        .limit(500);
    if let Some(ids) = staff_ids {
        let mut ids = ids.to_vec();
        ids.push(String::new());
        q = q.filter(time_offs::Column::StaffId.is_in(ids));
    }
    q.all(db).await
}

/// Deletes a time off; whether it existed.
pub async fn delete_time_off(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<bool, DbErr> {
    let r = scope
        .delete_many::<time_offs::Entity>()
        .filter(time_offs::Column::TimeOffId.eq(id))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

// ---- capacity ----

/// Takes one place in every cell of `cells` on a resource, in the caller's transaction; `false`
/// (and the caller must roll back) when any cell is already at `capacity`.
///
/// Each cell row is first created with an upsert that cannot fail on a race (a failed plain insert
/// would abort a PostgreSQL transaction), then taken with `taken = taken + 1 WHERE taken <
/// capacity`: the row lock serialises concurrent takers on PostgreSQL and the WHERE is re-checked
/// after the lock, while SQLite runs one writer at a time. Cells are taken in ascending order, so
/// two reservations over the same cells cannot deadlock.
pub async fn take_cells(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    staff_id: &str,
    cells: Cells,
    capacity: i32,
) -> Result<bool, DbErr> {
    Ok(take_cells_counted(db, scope, staff_id, cells, capacity).await? == cells.count)
}

/// As [`take_cells`]: how many of the cells, in order, were taken before one was full (all of
/// them when none was).
pub async fn take_cells_counted(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    staff_id: &str,
    cells: Cells,
    capacity: i32,
) -> Result<i64, DbErr> {
    if capacity < 1 {
        return Ok(0);
    }
    let mut taken = 0;
    for start in cells.starts() {
        // One statement per cell: the first place creates the count at 1, later ones add one
        // only while it is below capacity (no row changed means the cell is full).
        let changed = slot_counts::Entity::insert(slot_counts::ActiveModel {
            tenant_id: sea_orm::Set(scope.tenant()),
            staff_id: sea_orm::Set(staff_id.to_string()),
            cell_start: sea_orm::Set(start),
            taken: sea_orm::Set(1),
        })
        .on_conflict(
            // The conflict target is the primary key, which leads with the tenant.
            OnConflict::columns([
                slot_counts::Column::TenantId,
                slot_counts::Column::StaffId,
                slot_counts::Column::CellStart,
            ])
            .value(
                slot_counts::Column::Taken,
                Expr::col((slot_counts::Entity, slot_counts::Column::Taken)).add(1),
            )
            .action_and_where(
                Expr::col((slot_counts::Entity, slot_counts::Column::Taken)).lt(capacity),
            )
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        if changed != 1 {
            return Ok(taken);
        }
        taken += 1;
    }
    Ok(taken)
}

/// Gives back one place in every cell of `cells`. Only called after the reservation's own
/// conditional status change succeeded in the same transaction, so each place returns once.
pub async fn release_cells(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    staff_id: &str,
    cells: Cells,
) -> Result<(), DbErr> {
    let starts: Vec<i64> = cells.starts().collect();
    scope
        .update_many::<slot_counts::Entity>()
        .col_expr(
            slot_counts::Column::Taken,
            Expr::col(slot_counts::Column::Taken).sub(1),
        )
        .filter(slot_counts::Column::StaffId.eq(staff_id))
        .filter(slot_counts::Column::CellStart.is_in(starts))
        .filter(slot_counts::Column::Taken.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves one reservation's places from `old` cells on `old_staff` to `new` cells on `new_staff`
/// in the caller's transaction; `false` (roll back) when a new cell is at `capacity`. Cells in
/// both sets are left alone, and every cell is touched in (resource, start) order, the order
/// `take_cells` uses too, so a move and a booking over the same cells cannot deadlock.
pub async fn move_cells(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    old_staff: &str,
    old: Cells,
    new_staff: &str,
    new: Cells,
    capacity: i32,
) -> Result<bool, DbErr> {
    let mut ops: Vec<(&str, i64, bool)> = old
        .starts()
        .map(|c| (old_staff, c, false))
        .chain(new.starts().map(|c| (new_staff, c, true)))
        .collect();
    ops.sort();
    let mut i = 0;
    while i < ops.len() {
        let (staff, cell, take) = ops[i];
        // The same cell given back and taken again: nothing changes.
        if i + 1 < ops.len() && ops[i + 1].0 == staff && ops[i + 1].1 == cell {
            i += 2;
            continue;
        }
        let one = Cells {
            start: cell,
            count: 1,
            minutes: 1,
        };
        if take {
            if !take_cells(db, scope, staff, one, capacity).await? {
                return Ok(false);
            }
        } else {
            release_cells(db, scope, staff, one).await?;
        }
        i += 1;
    }
    Ok(true)
}

/// Places taken per (resource, cell start) for cells starting in `[from, to)` (unix seconds).
pub async fn taken(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    staff_ids: &[String],
    from: i64,
    to: i64,
) -> Result<std::collections::HashMap<(String, i64), i32>, DbErr> {
    let rows = scope
        .find::<slot_counts::Entity>()
        .filter(slot_counts::Column::StaffId.is_in(staff_ids.iter().cloned()))
        .filter(slot_counts::Column::CellStart.gte(from))
        .filter(slot_counts::Column::CellStart.lt(to))
        .filter(slot_counts::Column::Taken.gt(0))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.staff_id, r.cell_start), r.taken))
        .collect())
}

// ---- reservations ----

/// Inserts a reservation of the scope's tenant; `Ok(false)` when its idempotency key is taken.
pub async fn insert_reservation(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: reservations::Model,
) -> Result<bool, DbErr> {
    row.tenant_id = scope.tenant();
    // A taken key is answered, not raised: on PostgreSQL a raised conflict would abort the
    // transaction, and the holds grouped with this one.
    let done = reservations::Entity::insert(row.into_active_model().reset_all())
        .on_conflict_do_nothing_on([
            reservations::Column::TenantId,
            reservations::Column::BookedBy,
            reservations::Column::RequestId,
        ])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(done, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}

/// Deletes a reservation written in the caller's transaction whose first cell turned out full:
/// nothing else of it was written, so the transaction goes on as if it had never been.
pub async fn unwrite_reservation(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<(), DbErr> {
    scope
        .delete_many::<reservations::Entity>()
        .filter(reservations::Column::ReservationId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// One reservation.
pub async fn find_reservation(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<Option<reservations::Model>, DbErr> {
    scope
        .find::<reservations::Entity>()
        .filter(reservations::Column::ReservationId.eq(id))
        .one(db)
        .await
}

/// The reservation made with an idempotency key by one booker.
pub async fn find_by_request(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    booked_by: &str,
    request_id: &str,
) -> Result<Option<reservations::Model>, DbErr> {
    scope
        .find::<reservations::Entity>()
        .filter(reservations::Column::BookedBy.eq(booked_by))
        .filter(reservations::Column::RequestId.eq(request_id))
        .one(db)
        .await
}

/// Filters of a reservation listing.
#[derive(Debug, Default)]
pub struct ReservationFilter<'a> {
    /// Only this customer's.
    pub customer: Option<&'a str>,
    /// Only this resource's.
    pub staff: Option<&'a str>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting before.
    pub to: Option<DateTime<Utc>>,
    /// Only these statuses.
    pub statuses: Vec<&'static str>,
}

/// A page of reservations by (start, id); `after` is the last row's (start, id).
pub async fn list_reservations(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    f: &ReservationFilter<'_>,
    after: Option<(DateTime<Utc>, String)>,
    limit: u64,
) -> Result<Vec<reservations::Model>, DbErr> {
    use sea_orm::Condition;
    let mut q = scope
        .find::<reservations::Entity>()
        .order_by_asc(reservations::Column::StartsAt)
        .order_by_asc(reservations::Column::ReservationId)
        .limit(limit);
    if let Some(c) = f.customer {
        q = q.filter(reservations::Column::CustomerId.eq(c));
    }
    if let Some(s) = f.staff {
        q = q.filter(reservations::Column::StaffId.eq(s));
    }
    if let Some(t) = f.from {
        q = q.filter(reservations::Column::StartsAt.gte(t));
    }
    if let Some(t) = f.to {
        q = q.filter(reservations::Column::StartsAt.lt(t));
    }
    if !f.statuses.is_empty() {
        q = q.filter(reservations::Column::Status.is_in(f.statuses.iter().copied()));
    }
    if let Some((start, id)) = after {
        q = q.filter(
            Condition::any()
                .add(reservations::Column::StartsAt.gt(start))
                .add(
                    Condition::all()
                        .add(reservations::Column::StartsAt.eq(start))
                        .add(reservations::Column::ReservationId.gt(id)),
                ),
        );
    }
    q.all(db).await
}

/// Changes a reservation of the scope's tenant only if it is still in `from` at `version` (so two
/// concurrent steps cannot both win). Returns whether it changed.
pub async fn move_reservation(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: &reservations::Model,
    to: &str,
    extra: Vec<(reservations::Column, SimpleExpr)>,
) -> Result<bool, DbErr> {
    let mut q = scope
        .update_many::<reservations::Entity>()
        .col_expr(reservations::Column::Status, Expr::value(to.to_string()))
        .col_expr(
            reservations::Column::Version,
            Expr::col(reservations::Column::Version).add(1),
        )
        .col_expr(reservations::Column::UpdatedAt, Expr::value(Utc::now()));
    for (c, e) in extra {
        q = q.col_expr(c, e);
    }
    let res = q
        .filter(reservations::Column::ReservationId.eq(row.reservation_id.clone()))
        .filter(reservations::Column::Status.eq(row.status.clone()))
        .filter(reservations::Column::Version.eq(row.version))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Holds past their expiry, across tenants: the sweep finds them before it knows whose they are,
/// so it takes the sweep's [`SystemScope`] (run it in `sys.begin`'s transaction) and then acts on
/// each hold in its own tenant's scope (`sys.tenant(row.tenant_id)`).
pub async fn expired_holds(
    db: &impl ConnectionTrait,
    _sys: &SystemScope,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<reservations::Model>, DbErr> {
    reservations::Entity::find()
        .filter(reservations::Column::Status.eq("held"))
        .filter(reservations::Column::ExpiresAt.lt(now))
        .limit(limit)
        .all(db)
        .await
}
