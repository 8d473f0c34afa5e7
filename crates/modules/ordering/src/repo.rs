//! Every query of the ordering module. Each takes the [`TenantScope`] of the tenant whose rows it
//! reads or writes and starts from the scope's own query (`scope.find`, `scope.update_many`,
//! `scope.delete_many`), so the tenant filter is never hand-written; inserts take their
//! `tenant_id` from the scope. The caller runs them inside `scope.begin(db)` (or, for one
//! statement, `scope.one(db)`), where PostgreSQL's row-level security lets that tenant's rows
//! through. The one exception is
//! the expiry sweep ([`due_for_sweep`]), which looks across tenants by design (see the
//! migration's expiry index): it takes a [`SystemScope`] and opens its own all-tenants
//! transaction.

use chrono::{DateTime, Utc};
use mm_kernel::{SystemScope, TenantScope};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::{counters, notifications, orders};

/// Inserts an order as the scope's tenant's; `Ok(false)` when its idempotency key is taken.
/// The conflict is answered, not raised, so the caller's transaction stays usable (on
/// PostgreSQL a raised one would abort it, and the writes grouped with this one).
pub async fn insert_order(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: orders::Model,
) -> Result<bool, DbErr> {
    let row = orders::Model {
        tenant_id: scope.tenant(),
        ..row
    };
    let done = orders::Entity::insert(row.into_active_model().reset_all())
        .on_conflict_do_nothing_on([
            orders::Column::TenantId,
            orders::Column::CustomerId,
            orders::Column::RequestId,
        ])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(done, sea_orm::TryInsertResult::Inserted(n) if n > 0))
}

/// One order.
pub async fn find_order(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<Option<orders::Model>, DbErr> {
    scope
        .find::<orders::Entity>()
        .filter(orders::Column::OrderId.eq(id))
        .one(db)
        .await
}

/// The order a customer created with an idempotency key.
pub async fn find_by_request(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: &str,
    request_id: &str,
) -> Result<Option<orders::Model>, DbErr> {
    scope
        .find::<orders::Entity>()
        .filter(orders::Column::CustomerId.eq(customer))
        .filter(orders::Column::RequestId.eq(request_id))
        .one(db)
        .await
}

/// Removes an order that never got its stock.
pub async fn delete_creating(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<bool, DbErr> {
    let res = scope
        .delete_many::<orders::Entity>()
        .filter(orders::Column::OrderId.eq(id))
        .filter(orders::Column::Status.eq("creating"))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Raises a shop day's order counter by `count` and returns the last number taken (the first
/// day's row is created by the same statement, so two first orders cannot collide). The row stays
/// locked until the caller commits.
pub async fn next_seq(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    day: &str,
    count: i64,
) -> Result<i64, DbErr> {
    let row = counters::Entity::insert(counters::ActiveModel {
        tenant_id: Set(scope.tenant()),
        day: Set(day.to_string()),
        seq: Set(count),
    })
    .on_conflict(
        OnConflict::columns([counters::Column::TenantId, counters::Column::Day])
            .value(
                counters::Column::Seq,
                Expr::col((counters::Entity, counters::Column::Seq)).add(count),
            )
            .to_owned(),
    )
    .exec_with_returning(db)
    .await?;
    Ok(row.seq)
}

/// A page of orders, newest first, optionally of one customer and some statuses; never the
/// internal `creating` ones.
pub async fn list_orders(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: Option<&str>,
    statuses: &[&'static str],
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<orders::Model>, DbErr> {
    let mut q = scope
        .find::<orders::Entity>()
        .filter(orders::Column::Status.ne("creating"))
        .order_by_desc(orders::Column::OrderId)
        .limit(limit);
    if let Some(c) = customer {
        q = q.filter(orders::Column::CustomerId.eq(c));
    }
    if !statuses.is_empty() {
        q = q.filter(orders::Column::Status.is_in(statuses.iter().copied()));
    }
    if let Some(b) = before {
        q = q.filter(orders::Column::OrderId.lt(b));
    }
    q.all(db).await
}

/// Moves an order from `from` to `to` with extra column changes, only if it is still in `from`
/// (so two concurrent steps cannot both win). Returns whether it moved.
pub async fn move_order(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
    from: &str,
    to: &str,
    extra: Vec<(orders::Column, SimpleExpr)>,
) -> Result<bool, DbErr> {
    let mut q = scope
        .update_many::<orders::Entity>()
        .col_expr(orders::Column::Status, Expr::value(to.to_string()))
        .col_expr(
            orders::Column::Version,
            Expr::col(orders::Column::Version).add(1),
        )
        .col_expr(orders::Column::UpdatedAt, Expr::value(Utc::now()));
    for (c, e) in extra {
        q = q.col_expr(c, e);
    }
    let res = q
        .filter(orders::Column::OrderId.eq(id))
        .filter(orders::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// What the reservation priced: the order's lines (JSON) and totals.
#[derive(Debug, Clone)]
pub struct Priced {
    /// The lines, as stored in `orders.items`.
    pub items: String,
    /// The discounts, as stored in `orders.discounts`.
    pub discounts: String,
    /// Totals.
    pub amounts: crate::domain::Amounts,
}

/// Moves a half-placed order from `creating` to `pending_payment` with its priced lines, only if
/// it is still creating, and returns it as stored; `None` when it was not (the sweep abandoned it meanwhile). One
/// `UPDATE … RETURNING` instead of an update and a reload.
pub async fn place_order(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
    priced: &Priced,
) -> Result<Option<orders::Model>, DbErr> {
    let mut rows = scope
        .update_many::<orders::Entity>()
        .col_expr(orders::Column::Status, Expr::value("pending_payment"))
        .col_expr(orders::Column::Items, Expr::value(priced.items.clone()))
        .col_expr(
            orders::Column::ItemsFen,
            Expr::value(priced.amounts.items_fen),
        )
        .col_expr(
            orders::Column::PackagingFeeFen,
            Expr::value(priced.amounts.packaging_fee_fen),
        )
        .col_expr(
            orders::Column::TotalFen,
            Expr::value(priced.amounts.total_fen),
        )
        .col_expr(
            orders::Column::Discounts,
            Expr::value(priced.discounts.clone()),
        )
        .col_expr(
            orders::Column::DiscountFen,
            Expr::value(priced.amounts.discount_fen),
        )
        .col_expr(
            orders::Column::Version,
            Expr::col(orders::Column::Version).add(1),
        )
        .col_expr(orders::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(orders::Column::OrderId.eq(id))
        .filter(orders::Column::Status.eq("creating"))
        .exec_with_returning(db)
        .await?;
    Ok(rows.pop())
}

/// Unpaid orders past their deadline, and orders stuck in `creating` since before `stale`,
/// across tenants.
///
/// The sweep's one cross-tenant read, so it takes the sweep's [`SystemScope`] instead of a
/// tenant's and runs in a transaction of its own that row-level security opens to every tenant.
/// Each row carries its tenant; the sweep narrows to it (`sys.tenant(row.tenant_id)`) to act.
pub async fn due_for_sweep(
    db: &DatabaseConnection,
    sys: &SystemScope,
    now: DateTime<Utc>,
    stale: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<orders::Model>, DbErr> {
    let txn = sys.begin(db).await?;
    let mut rows = orders::Entity::find()
        .filter(orders::Column::Status.eq("pending_payment"))
        .filter(orders::Column::ExpiresAt.lt(now))
        .limit(limit)
        .all(&txn)
        .await?;
    rows.extend(
        orders::Entity::find()
            .filter(orders::Column::Status.eq("creating"))
            .filter(orders::Column::CreatedAt.lt(stale))
            .limit(limit)
            .all(&txn)
            .await?,
    );
    txn.commit().await?;
    Ok(rows)
}

/// Records a notification as applied; `Ok(false)` when it was before (a replay). One
/// `ON CONFLICT DO NOTHING` insert: a concurrent copy of the same notification waits for the
/// first and then inserts nothing, instead of failing and aborting the caller's PostgreSQL
/// transaction.
pub async fn record_notification(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
    event_type: &str,
    order: &str,
) -> Result<bool, DbErr> {
    let row = notifications::ActiveModel {
        tenant_id: Set(scope.tenant()),
        notification_id: Set(id.chars().take(64).collect()),
        event_type: Set(event_type.chars().take(64).collect()),
        order_id: Set(order.chars().take(36).collect()),
        received_at: Set(Utc::now()),
    };
    let inserted = notifications::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                notifications::Column::TenantId,
                notifications::Column::NotificationId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}
