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

/// Inserts orders as the scope's tenant's, in one statement; the ids of those inserted (the
/// others' idempotency keys were taken, by an earlier order or by one before them in `rows`).
/// A conflict is answered, not raised, so the caller's transaction stays usable (on PostgreSQL a
/// raised one would abort it, and the writes batched with this one).
pub async fn insert_orders(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    rows: Vec<orders::Model>,
) -> Result<std::collections::HashSet<String>, DbErr> {
    let models = rows.into_iter().map(|row| {
        orders::Model {
            tenant_id: scope.tenant(),
            ..row
        }
        .into_active_model()
        .reset_all()
    });
    let done = orders::Entity::insert_many(models)
        .on_conflict_do_nothing_on([
            orders::Column::TenantId,
            orders::Column::CustomerId,
            orders::Column::RequestId,
        ])
        .exec_with_returning_keys(db)
        .await?;
    Ok(match done {
        sea_orm::TryInsertResult::Inserted(keys) => keys.into_iter().map(|(_, id)| id).collect(),
        _ => Default::default(),
    })
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

/// Moves half-placed orders from `creating` to `pending_payment`, each with its priced lines, in
/// one statement; only those still creating (the sweep may have abandoned one meanwhile).
/// Answers the rows placed, as stored, in no particular order.
pub async fn place_orders(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    placed: &[(&str, &Priced)],
) -> Result<Vec<orders::Model>, DbErr> {
    let Some(((first, _), rest)) = placed.split_first() else {
        return Ok(Vec::new());
    };
    // Each priced column takes its order's value: CASE order_id WHEN .. THEN .. END.
    let each = |value: &dyn Fn(&Priced) -> sea_orm::Value| -> SimpleExpr {
        let mut case = Expr::case(orders::Column::OrderId.eq(*first), value(placed[0].1));
        for (id, p) in rest {
            case = case.case(orders::Column::OrderId.eq(*id), value(p));
        }
        case.into()
    };
    scope
        .update_many::<orders::Entity>()
        .col_expr(orders::Column::Status, Expr::value("pending_payment"))
        .col_expr(orders::Column::Items, each(&|p| p.items.clone().into()))
        .col_expr(
            orders::Column::ItemsFen,
            each(&|p| p.amounts.items_fen.into()),
        )
        .col_expr(
            orders::Column::PackagingFeeFen,
            each(&|p| p.amounts.packaging_fee_fen.into()),
        )
        .col_expr(
            orders::Column::TotalFen,
            each(&|p| p.amounts.total_fen.into()),
        )
        .col_expr(
            orders::Column::Discounts,
            each(&|p| p.discounts.clone().into()),
        )
        .col_expr(
            orders::Column::DiscountFen,
            each(&|p| p.amounts.discount_fen.into()),
        )
        .col_expr(
            orders::Column::Version,
            Expr::col(orders::Column::Version).add(1),
        )
        .col_expr(orders::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(orders::Column::OrderId.is_in(placed.iter().map(|(id, _)| *id)))
        .filter(orders::Column::Status.eq("creating"))
        .exec_with_returning(db)
        .await
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
