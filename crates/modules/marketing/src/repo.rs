//! Every query of the marketing module. Each takes the [`TenantScope`] of the tenant whose rows
//! it reads or writes and builds its query from it, so the tenant filter is never hand-written;
//! inserts set the row's tenant from the scope. Run them inside the scope's transaction.
//!
//! The limits that must hold under concurrency are conditional updates: a template hands out a
//! coupon only `WHERE claimed_count < total_quantity`, and a coupon is locked to an order only
//! `WHERE state = 'available'`, so of two racing requests exactly one changes the row.

use chrono::{DateTime, Utc};
use mm_kernel::TenantScope;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::entity::{coupons, ledger, members, promotions, templates};

/// Coupon states as stored.
pub const AVAILABLE: &str = "available";
/// Held by an unpaid order.
pub const LOCKED: &str = "locked";
/// Used by a paid order.
pub const USED: &str = "used";
/// Template states as stored.
pub const ACTIVE: &str = "active";
/// No more handed out.
pub const STOPPED: &str = "stopped";

/// Stores a new template.
pub async fn insert_template(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: templates::Model,
) -> Result<(), DbErr> {
    let row = templates::Model {
        tenant_id: scope.tenant(),
        ..row
    };
    templates::Entity::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// One template of the tenant.
pub async fn find_template(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<Option<templates::Model>, DbErr> {
    scope
        .find::<templates::Entity>()
        .filter(templates::Column::TemplateId.eq(id))
        .one(db)
        .await
}

/// Templates of the tenant by id.
pub async fn templates_by_id(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    ids: Vec<String>,
) -> Result<Vec<templates::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    scope
        .find::<templates::Entity>()
        .filter(templates::Column::TemplateId.is_in(ids))
        .all(db)
        .await
}

/// A page of templates, newest first; only the active, claimable ones still valid at `now` for
/// the coupon centre.
pub async fn list_templates(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    centre: Option<DateTime<Utc>>,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<templates::Model>, DbErr> {
    let mut q = scope
        .find::<templates::Entity>()
        .order_by_desc(templates::Column::TemplateId)
        .limit(limit);
    if let Some(now) = centre {
        q = q
            .filter(templates::Column::State.eq(ACTIVE))
            .filter(templates::Column::Claimable.eq(true))
            .filter(
                templates::Column::ValidUntil
                    .is_null()
                    .or(templates::Column::ValidUntil.gt(now)),
            );
    }
    if let Some(b) = before {
        q = q.filter(templates::Column::TemplateId.lt(b));
    }
    q.all(db).await
}

/// What may change of a template.
#[derive(Debug, Clone, Default)]
pub struct TemplateChanges {
    /// Title (Chinese).
    pub title_zh: Option<String>,
    /// Title (English).
    pub title_en: Option<String>,
    /// Notes.
    pub description: Option<String>,
    /// Total; never below what was handed out (checked in the update).
    pub total_quantity: Option<i32>,
    /// In the coupon centre.
    pub claimable: Option<bool>,
    /// "active" or "stopped".
    pub state: Option<&'static str>,
}

/// Applies `changes` to a template; false when it does not exist or the new total is below what
/// was handed out.
pub async fn update_template(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
    changes: &TemplateChanges,
) -> Result<bool, DbErr> {
    let mut q = scope
        .update_many::<templates::Entity>()
        .col_expr(templates::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(templates::Column::TemplateId.eq(id));
    if let Some(v) = &changes.title_zh {
        q = q.col_expr(templates::Column::TitleZh, Expr::value(v.clone()));
    }
    if let Some(v) = &changes.title_en {
        q = q.col_expr(templates::Column::TitleEn, Expr::value(v.clone()));
    }
    if let Some(v) = &changes.description {
        q = q.col_expr(templates::Column::Description, Expr::value(v.clone()));
    }
    if let Some(v) = changes.total_quantity {
        q = q
            .col_expr(templates::Column::TotalQuantity, Expr::value(v))
            .filter(templates::Column::ClaimedCount.lte(v));
    }
    if let Some(v) = changes.claimable {
        q = q.col_expr(templates::Column::Claimable, Expr::value(v));
    }
    if let Some(v) = changes.state {
        q = q.col_expr(templates::Column::State, Expr::value(v));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Takes one coupon out of an active template's total (for a claim, only a claimable one whose
/// fixed validity has not ended); false when none is left or it may not be handed out. On
/// PostgreSQL the row stays locked until the transaction ends, so concurrent claims of one
/// template queue here and each sees the coupons inserted before it.
pub async fn take_one(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
    claim: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut q = scope
        .update_many::<templates::Entity>()
        .col_expr(
            templates::Column::ClaimedCount,
            Expr::col(templates::Column::ClaimedCount).add(1),
        )
        .col_expr(templates::Column::UpdatedAt, Expr::value(now))
        .filter(templates::Column::TemplateId.eq(id))
        .filter(templates::Column::State.eq(ACTIVE))
        .filter(
            Expr::col(templates::Column::ClaimedCount)
                .lt(Expr::col(templates::Column::TotalQuantity)),
        )
        .filter(
            templates::Column::ValidUntil
                .is_null()
                .or(templates::Column::ValidUntil.gt(now)),
        );
    if claim {
        q = q.filter(templates::Column::Claimable.eq(true));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// How many coupons of a template a customer was ever handed.
pub async fn count_held(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    template: &str,
    customer: &str,
) -> Result<u64, DbErr> {
    scope
        .find::<coupons::Entity>()
        .filter(coupons::Column::TemplateId.eq(template))
        .filter(coupons::Column::CustomerId.eq(customer))
        .count(db)
        .await
}

/// Stores a new coupon; false when the customer's request id was taken (a repeated claim).
pub async fn insert_coupon(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: coupons::Model,
) -> Result<bool, DbErr> {
    let row = coupons::Model {
        tenant_id: scope.tenant(),
        ..row
    };
    let r = coupons::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([
                coupons::Column::TenantId,
                coupons::Column::CustomerId,
                coupons::Column::RequestId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(r == 1)
}

/// The coupon a customer had with a request id.
pub async fn find_by_request(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: &str,
    request_id: &str,
) -> Result<Option<coupons::Model>, DbErr> {
    scope
        .find::<coupons::Entity>()
        .filter(coupons::Column::CustomerId.eq(customer))
        .filter(coupons::Column::RequestId.eq(request_id))
        .one(db)
        .await
}

/// A coupon state as a reader sees it: expiry is read from the validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Usable.
    Available,
    /// Held by an order.
    Locked,
    /// Used.
    Used,
    /// Available but past its validity.
    Expired,
}

/// A page of coupons, newest first, in any of `states` (all when empty) at `now`.
pub async fn list_coupons(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: Option<&str>,
    states: &[Seen],
    now: DateTime<Utc>,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<coupons::Model>, DbErr> {
    let mut q = scope
        .find::<coupons::Entity>()
        .order_by_desc(coupons::Column::CouponId)
        .limit(limit);
    if !states.is_empty() {
        let mut any = sea_orm::Condition::any();
        for s in states {
            any = any.add(match s {
                Seen::Available => sea_orm::Condition::all()
                    .add(coupons::Column::State.eq(AVAILABLE))
                    .add(coupons::Column::ValidUntil.gt(now)),
                Seen::Expired => sea_orm::Condition::all()
                    .add(coupons::Column::State.eq(AVAILABLE))
                    .add(coupons::Column::ValidUntil.lte(now)),
                Seen::Locked => sea_orm::Condition::all().add(coupons::Column::State.eq(LOCKED)),
                Seen::Used => sea_orm::Condition::all().add(coupons::Column::State.eq(USED)),
            });
        }
        q = q.filter(any);
    }
    if let Some(c) = customer {
        q = q.filter(coupons::Column::CustomerId.eq(c));
    }
    if let Some(b) = before {
        q = q.filter(coupons::Column::CouponId.lt(b));
    }
    q.all(db).await
}

/// A customer's coupons that can be used at `now`.
pub async fn usable(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: &str,
    now: DateTime<Utc>,
) -> Result<Vec<coupons::Model>, DbErr> {
    scope
        .find::<coupons::Entity>()
        .filter(coupons::Column::CustomerId.eq(customer))
        .filter(coupons::Column::State.eq(AVAILABLE))
        .filter(coupons::Column::ValidFrom.lte(now))
        .filter(coupons::Column::ValidUntil.gt(now))
        .order_by_desc(coupons::Column::CouponId)
        .limit(200)
        .all(db)
        .await
}

/// What a checkout reads of a customer's coupons.
#[derive(Debug, Default)]
pub struct Checkout {
    /// Locked to this order already (a repeated lock).
    pub locked: Vec<coupons::Model>,
    /// Usable now.
    pub usable: Vec<coupons::Model>,
    /// Whether the customer has any coupon in play: available (now or later) or locked to any
    /// order. None: the answer may be held in memory (see `memo`). Asked only without `only`
    /// (a picked coupon is never answered from memory): with it, true.
    pub in_play: bool,
}

/// The coupons already locked to `order`, the customer's usable ones at `now` (with `only`, of
/// the available ones just that coupon: the one the customer picked), and whether any other is
/// in play.
///
/// Each part is its own statement on an index that holds exactly its rows. One statement with
/// the parts joined by OR was answered from the customer's index by both engines, which visits
/// every coupon the customer ever held (used ones included) and the table row of each: a
/// regular with hundreds of used coupons cost SQLite most of its time per checkout (measured in
/// bench/README.md, "Seventh round").
pub async fn for_checkout(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: &str,
    order: &str,
    now: DateTime<Utc>,
    only: Option<&str>,
) -> Result<Checkout, DbErr> {
    // By the order's index alone: a customer filter in SQL draws the planner to the customer's.
    let locked: Vec<_> = scope
        .find::<coupons::Entity>()
        .filter(coupons::Column::OrderId.eq(order))
        .all(db)
        .await?
        .into_iter()
        .filter(|c| c.customer_id == customer)
        .collect();
    let mut available = scope
        .find::<coupons::Entity>()
        .filter(coupons::Column::CustomerId.eq(customer))
        .filter(coupons::Column::State.eq(AVAILABLE))
        .filter(coupons::Column::ValidUntil.gt(now));
    available = match only {
        Some(id) => available.filter(coupons::Column::CouponId.eq(id)),
        None => available
            .order_by_desc(coupons::Column::CouponId)
            .limit(200),
    };
    let available = available.all(db).await?;
    let in_play = only.is_some()
        || !locked.is_empty()
        || !available.is_empty()
        || scope
            .find::<coupons::Entity>()
            .filter(coupons::Column::CustomerId.eq(customer))
            .filter(coupons::Column::State.eq(LOCKED))
            .one(db)
            .await?
            .is_some();
    Ok(Checkout {
        usable: available
            .into_iter()
            .filter(|c| c.order_id != order && c.valid_from <= now)
            .collect(),
        locked,
        in_play,
    })
}

/// Locks an available, valid coupon of `customer` to `order` with what it takes off; false when
/// it is not available any more (another order took it, it was used, or it expired).
pub async fn lock(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    coupon: &str,
    customer: &str,
    order: &str,
    discount_fen: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = scope
        .update_many::<coupons::Entity>()
        .col_expr(coupons::Column::State, Expr::value(LOCKED))
        .col_expr(coupons::Column::OrderId, Expr::value(order.to_string()))
        .col_expr(coupons::Column::DiscountFen, Expr::value(discount_fen))
        .col_expr(coupons::Column::UpdatedAt, Expr::value(now))
        .filter(coupons::Column::CouponId.eq(coupon))
        .filter(coupons::Column::CustomerId.eq(customer))
        .filter(coupons::Column::State.eq(AVAILABLE))
        .filter(coupons::Column::ValidFrom.lte(now))
        .filter(coupons::Column::ValidUntil.gt(now))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The coupons locked to or used by an order.
pub async fn of_order(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    order: &str,
) -> Result<Vec<coupons::Model>, DbErr> {
    scope
        .find::<coupons::Entity>()
        .filter(coupons::Column::OrderId.eq(order))
        .all(db)
        .await
}

/// Moves an order's coupons from `from` to `to`; `to = available` also lets go of the order.
/// Returns the coupons moved, as they were.
pub async fn move_order_coupons(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    order: &str,
    from: &str,
    to: &'static str,
    order_total_fen: i64,
    now: DateTime<Utc>,
) -> Result<Vec<coupons::Model>, DbErr> {
    let moved = of_order(db, scope, order)
        .await?
        .into_iter()
        .filter(|c| c.state == from)
        .collect::<Vec<_>>();
    let mut done = Vec::new();
    for c in moved {
        let mut q = scope
            .update_many::<coupons::Entity>()
            .col_expr(coupons::Column::State, Expr::value(to))
            .col_expr(coupons::Column::UpdatedAt, Expr::value(now))
            .filter(coupons::Column::CouponId.eq(&c.coupon_id))
            .filter(coupons::Column::OrderId.eq(order))
            .filter(coupons::Column::State.eq(from));
        q = if to == AVAILABLE {
            q.col_expr(coupons::Column::OrderId, Expr::value(""))
                .col_expr(coupons::Column::DiscountFen, Expr::value(0i64))
                .col_expr(coupons::Column::OrderTotalFen, Expr::value(0i64))
                .col_expr(
                    coupons::Column::UsedAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
        } else {
            q.col_expr(coupons::Column::OrderTotalFen, Expr::value(order_total_fen))
                .col_expr(coupons::Column::UsedAt, Expr::value(Some(now)))
        };
        if q.exec(db).await?.rows_affected == 1 {
            done.push(c);
        }
    }
    Ok(done)
}

/// Counts a coupon of the template used (`sign` 1) or given back (`sign` -1) with its order's
/// total.
pub async fn count_use(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    template: &str,
    sign: i64,
    order_total_fen: i64,
) -> Result<(), DbErr> {
    scope
        .update_many::<templates::Entity>()
        .col_expr(
            templates::Column::UsedCount,
            Expr::col(templates::Column::UsedCount).add(sign),
        )
        .col_expr(
            templates::Column::UsedOrderTotalFen,
            Expr::col(templates::Column::UsedOrderTotalFen).add(sign * order_total_fen),
        )
        .filter(templates::Column::TemplateId.eq(template))
        .exec(db)
        .await
        .map(|_| ())
}

/// A customer's member row, if they ever had points.
pub async fn find_member(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: &str,
) -> Result<Option<members::Model>, DbErr> {
    scope
        .find::<members::Entity>()
        .filter(members::Column::CustomerId.eq(customer))
        .one(db)
        .await
}

/// Makes sure the customer has a member row (with nothing on it).
pub async fn ensure_member(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = members::Model {
        tenant_id: scope.tenant(),
        customer_id: customer.to_string(),
        points: 0,
        lifetime_points: 0,
        lifetime_spend_fen: 0,
        created_at: now,
        updated_at: now,
    };
    members::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([members::Column::TenantId, members::Column::CustomerId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Changes a member's points by `delta` (and what was ever earned and spent by the others),
/// only if the balance stays at or above zero; the member as changed, or `None` when it would
/// not.
pub async fn add_points(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: &str,
    delta: i64,
    lifetime_delta: i64,
    spend_delta: i64,
    now: DateTime<Utc>,
) -> Result<Option<members::Model>, DbErr> {
    let mut rows = scope
        .update_many::<members::Entity>()
        .col_expr(
            members::Column::Points,
            Expr::col(members::Column::Points).add(delta),
        )
        .col_expr(
            members::Column::LifetimePoints,
            Expr::col(members::Column::LifetimePoints).add(lifetime_delta),
        )
        .col_expr(
            members::Column::LifetimeSpendFen,
            Expr::col(members::Column::LifetimeSpendFen).add(spend_delta),
        )
        .col_expr(members::Column::UpdatedAt, Expr::value(now))
        .filter(members::Column::CustomerId.eq(customer))
        .filter(Expr::col(members::Column::Points).add(delta).gte(0))
        .exec_with_returning(db)
        .await?;
    Ok(rows.pop())
}

/// Writes a ledger entry; false when its source was written before (a repeated event).
pub async fn insert_entry(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: ledger::Model,
) -> Result<bool, DbErr> {
    let row = ledger::Model {
        tenant_id: scope.tenant(),
        ..row
    };
    let n = ledger::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([ledger::Column::TenantId, ledger::Column::Source])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(n == 1)
}

/// The entry written for a source.
pub async fn entry_by_source(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    source: &str,
) -> Result<Option<ledger::Model>, DbErr> {
    scope
        .find::<ledger::Entity>()
        .filter(ledger::Column::Source.eq(source))
        .one(db)
        .await
}

/// A page of a member's entries, newest first.
pub async fn list_entries(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    customer: &str,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<ledger::Model>, DbErr> {
    let mut q = scope
        .find::<ledger::Entity>()
        .filter(ledger::Column::CustomerId.eq(customer))
        .order_by_desc(ledger::Column::EntryId)
        .limit(limit);
    if let Some(b) = before {
        q = q.filter(ledger::Column::EntryId.lt(b));
    }
    q.all(db).await
}

/// Stores a new promotion.
pub async fn insert_promotion(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: promotions::Model,
) -> Result<(), DbErr> {
    let row = promotions::Model {
        tenant_id: scope.tenant(),
        ..row
    };
    promotions::Entity::insert(row.into_active_model())
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// One promotion of the tenant.
pub async fn find_promotion(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<Option<promotions::Model>, DbErr> {
    scope
        .find::<promotions::Entity>()
        .filter(promotions::Column::PromotionId.eq(id))
        .one(db)
        .await
}

/// Writes a promotion's titles, dates and state.
pub async fn save_promotion(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: &promotions::Model,
) -> Result<(), DbErr> {
    scope
        .update_many::<promotions::Entity>()
        .col_expr(
            promotions::Column::TitleZh,
            Expr::value(row.title_zh.clone()),
        )
        .col_expr(
            promotions::Column::TitleEn,
            Expr::value(row.title_en.clone()),
        )
        .col_expr(promotions::Column::StartsAt, Expr::value(row.starts_at))
        .col_expr(promotions::Column::EndsAt, Expr::value(row.ends_at))
        .col_expr(promotions::Column::State, Expr::value(row.state.clone()))
        .col_expr(promotions::Column::UpdatedAt, Expr::value(row.updated_at))
        .filter(promotions::Column::PromotionId.eq(row.promotion_id.clone()))
        .exec(db)
        .await
        .map(|_| ())
}

/// The tenant's promotions overlapping `[from, to)`, latest start first (at most 200).
pub async fn list_promotions(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<promotions::Model>, DbErr> {
    let mut q = scope
        .find::<promotions::Entity>()
        .order_by_desc(promotions::Column::StartsAt)
        .order_by_desc(promotions::Column::PromotionId)
        .limit(200);
    if let Some(f) = from {
        q = q.filter(promotions::Column::EndsAt.gt(f));
    }
    if let Some(t) = to {
        q = q.filter(promotions::Column::StartsAt.lt(t));
    }
    q.all(db).await
}

/// The tenant's active promotions not ended at `now` (running or to come), at most 200.
pub async fn live_promotions(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    now: DateTime<Utc>,
) -> Result<Vec<promotions::Model>, DbErr> {
    scope
        .find::<promotions::Entity>()
        .filter(promotions::Column::State.eq(ACTIVE))
        .filter(promotions::Column::EndsAt.gt(now))
        .order_by_asc(promotions::Column::PromotionId)
        .limit(200)
        .all(db)
        .await
}
