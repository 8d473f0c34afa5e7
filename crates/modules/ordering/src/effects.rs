//! What an order owes the world outside its own table, kept until it is done. Ordering cannot
//! share a transaction with the catalog (stock) or WeChat Pay (money), so every status change
//! that calls an order off records, in the same transaction, the steps it owes: give the stock
//! back, refund the payment, close the unpaid WeChat transaction. The step is then tried at once
//! (so a healthy platform answers with the stock already back) and, whatever happened to that
//! try — the process killed, the catalog down, WeChat busy — again by the worker until the other
//! side confirms. Every step is idempotent on the other side (a reservation is released once per
//! id; one refund per order at WeChat; closing is repeatable), so running one twice, from two
//! instances or after a crash between "done" and "deleted", changes nothing.

use chrono::{DateTime, Duration, Utc};
use mm_kernel::{SystemScope, TenantScope};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::domain::Status;
use crate::entity::{effects, orders};
use crate::error::{OrderingError, Result};
use crate::pay::Refund;
use crate::repo;
use crate::service::{OrderingApp, load_order};
use mm_proto::minimodules::ordering::v1 as pb;

/// A step an order owes another party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Give the order's stock back to the catalog (its reservation id is the order id).
    ReleaseStock,
    /// Ask WeChat Pay for the order's full refund.
    Refund,
    /// Close the order's unpaid WeChat transaction, so it can no longer be paid.
    ClosePayment,
    /// Tell the discounting modules the order was called off before payment: coupons back.
    ReleaseDiscounts,
    /// Tell them it was paid: coupons used.
    DiscountsPaid,
    /// Tell them it was refunded: coupons back unless expired.
    DiscountsRefunded,
}

/// Every step, for parsing.
const EFFECTS: [Effect; 6] = [
    Effect::ReleaseStock,
    Effect::Refund,
    Effect::ClosePayment,
    Effect::ReleaseDiscounts,
    Effect::DiscountsPaid,
    Effect::DiscountsRefunded,
];

impl Effect {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReleaseStock => "release_stock",
            Self::Refund => "refund",
            Self::ClosePayment => "close_payment",
            Self::ReleaseDiscounts => "unlock_discounts",
            Self::DiscountsPaid => "use_discounts",
            Self::DiscountsRefunded => "return_discounts",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        EFFECTS.into_iter().find(|e| e.as_str() == s)
    }
}

/// Records steps an order of the scope's tenant owes, inside the caller's transaction. A step
/// already owed stays as it is (a second cancel path cannot double it).
pub async fn record(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    order: &str,
    owed: &[Effect],
    detail: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    for e in owed {
        effects::Entity::insert(effects::ActiveModel {
            tenant_id: Set(scope.tenant()),
            order_id: Set(order.to_string()),
            effect: Set(e.as_str().to_string()),
            detail: Set(detail.chars().take(200).collect()),
            attempts: Set(0),
            due_at: Set(now),
            last_error: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                effects::Column::TenantId,
                effects::Column::OrderId,
                effects::Column::Effect,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Steps of one order, due or not.
pub async fn owed_by(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    order: &str,
) -> Result<Vec<effects::Model>, DbErr> {
    scope
        .find::<effects::Entity>()
        .filter(effects::Column::OrderId.eq(order))
        .all(db)
        .await
}

/// Due steps across tenants, oldest first: the worker's one cross-tenant read (each row carries
/// its tenant, and every step then acts for that tenant only, narrowed with
/// `sys.tenant(row.tenant_id)`). Hence the relay's [`SystemScope`] rather than a tenant's, and a
/// transaction of its own that row-level security opens to every tenant.
pub async fn due(
    db: &DatabaseConnection,
    sys: &SystemScope,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<effects::Model>, DbErr> {
    let txn = sys.begin(db).await?;
    let rows = effects::Entity::find()
        .filter(effects::Column::DueAt.lte(now))
        .order_by_asc(effects::Column::DueAt)
        .limit(limit)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(rows)
}

/// Takes a step for this instance for `lease`, only if nobody took it since it was read (and
/// only if it is the scope's tenant's).
async fn claim(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: &effects::Model,
    lease: Duration,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let res = scope
        .update_many::<effects::Entity>()
        .col_expr(effects::Column::DueAt, Expr::value(now + lease))
        .col_expr(
            effects::Column::Attempts,
            Expr::col(effects::Column::Attempts).add(1),
        )
        .col_expr(effects::Column::UpdatedAt, Expr::value(now))
        .filter(key_of(row))
        // The attempt count is the row's version: one claim per read wins.
        .filter(effects::Column::Attempts.eq(row.attempts))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The row's key within its tenant, as a filter (its order and step; the scope adds the tenant).
fn key_of(row: &effects::Model) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(effects::Column::OrderId.eq(&row.order_id))
        .add(effects::Column::Effect.eq(&row.effect))
}

async fn done(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: &effects::Model,
) -> Result<(), DbErr> {
    scope
        .delete_many::<effects::Entity>()
        .filter(key_of(row))
        .exec(db)
        .await
        .map(|_| ())
}

async fn retry_later(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    row: &effects::Model,
    wait: Duration,
    error: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    scope
        .update_many::<effects::Entity>()
        .col_expr(effects::Column::DueAt, Expr::value(now + wait))
        .col_expr(
            effects::Column::LastError,
            Expr::value(error.chars().take(500).collect::<String>()),
        )
        .col_expr(effects::Column::UpdatedAt, Expr::value(now))
        .filter(key_of(row))
        .exec(db)
        .await
        .map(|_| ())
}

/// The wait before try `attempt + 1`: `base` doubled per failed try, at most `max`.
pub fn backoff(attempt: i32, base_ms: u64, max_ms: u64) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let ms = Ord::min(
        base_ms.saturating_mul(1u64 << exp),
        Ord::max(max_ms, base_ms),
    );
    Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX))
}

impl OrderingApp {
    /// Tries now what an order owes, after the commit that recorded it. Failures stay recorded
    /// for the worker; the caller's answer does not depend on them.
    pub(crate) async fn settle(&self, scope: &TenantScope, order: &str) {
        let owed = async {
            let txn = scope.begin(&self.db).await?;
            let owed = owed_by(&txn, scope, order).await?;
            txn.commit().await?;
            Ok::<_, DbErr>(owed)
        }
        .await;
        let owed = match owed {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(order, error = %e, "could not read what the order owes; the worker will");
                return;
            }
        };
        for row in owed {
            if row.due_at <= Utc::now() {
                self.run(scope, row).await;
            }
        }
    }

    /// Claims and runs one step of the scope's tenant; false when another instance had it. Each
    /// write is a transaction of its own: none is held across the call to the other side.
    pub(crate) async fn run(&self, scope: &TenantScope, row: effects::Model) -> bool {
        let lease =
            Duration::milliseconds(i64::try_from(self.jobs.effect_lease_ms).unwrap_or(30_000));
        let claimed = async {
            let txn = scope.begin(&self.db).await?;
            let claimed = claim(&txn, scope, &row, lease).await?;
            txn.commit().await?;
            Ok::<_, DbErr>(claimed)
        }
        .await;
        match claimed {
            Ok(true) => {}
            Ok(false) => return false,
            Err(e) => {
                tracing::warn!(order = %row.order_id, error = %e, "could not claim an owed step");
                return false;
            }
        }
        let attempt = row.attempts + 1;
        let outcome = self.perform(scope, &row).await;
        mm_kernel::fault::point_of(&["ordering", "effect", &row.effect, "performed"]);
        let wait = backoff(
            attempt,
            self.jobs.effect_retry_base_ms,
            self.jobs.effect_retry_max_ms,
        );
        if let Err(e) = &outcome {
            tracing::warn!(order = %row.order_id, effect = %row.effect, attempt, error = %e, retry_in_ms = wait.num_milliseconds(), "owed step failed; retrying later");
        }
        let stored = async {
            let txn = scope.begin(&self.db).await?;
            match &outcome {
                Ok(true) => done(&txn, scope, &row).await?,
                // Asked and accepted, not finished yet (a refund WeChat is still processing).
                Ok(false) => retry_later(&txn, scope, &row, wait, "").await?,
                Err(e) => retry_later(&txn, scope, &row, wait, &e.to_string()).await?,
            }
            txn.commit().await
        }
        .await;
        if let Err(e) = stored {
            // The lease runs out and the step is tried again: safe, every step is idempotent.
            tracing::warn!(order = %row.order_id, error = %e, "could not record an owed step's outcome");
        }
        matches!(outcome, Ok(true))
    }

    /// Does one step; `Ok(false)` when the other side accepted it but has not finished, so it
    /// is asked again later.
    async fn perform(&self, scope: &TenantScope, row: &effects::Model) -> Result<bool> {
        let tenant = scope.tenant();
        let Some(effect) = Effect::parse(&row.effect) else {
            return Err(anyhow::anyhow!("unknown owed step {:?}", row.effect).into());
        };
        match effect {
            Effect::ReleaseStock => {
                let released = self.upstream.release(tenant, &row.order_id).await?;
                tracing::info!(order = %row.order_id, released, "stock given back");
                Ok(true)
            }
            Effect::ClosePayment => {
                let Some(order) = self.find_order(scope, &row.order_id).await? else {
                    return Ok(true);
                };
                self.close_payment(tenant, &order).await.map(|()| true)
            }
            Effect::ReleaseDiscounts | Effect::DiscountsPaid | Effect::DiscountsRefunded => {
                let kind = match effect {
                    Effect::DiscountsPaid => pb::OrderDiscountEventKind::Paid,
                    Effect::DiscountsRefunded => pb::OrderDiscountEventKind::Refunded,
                    _ => pb::OrderDiscountEventKind::Released,
                };
                let order = self.find_order(scope, &row.order_id).await?;
                // The modules that granted the order's discounts, and every one the shop has now
                // (they may reward any paid order; for an order abandoned before it was placed,
                // its row gone, what was locked is unknown).
                let mut services = self.upstream.discounters(tenant).await?;
                let (total_fen, customer) = match &order {
                    Some(o) if o.status != Status::Creating.as_str() => {
                        let stored: Vec<crate::domain::Discount> =
                            serde_json::from_str(&o.discounts).unwrap_or_default();
                        services.extend(stored.into_iter().map(|d| d.service));
                        (o.total_fen, o.customer_id.clone())
                    }
                    _ => (0, String::new()),
                };
                services.sort();
                services.dedup();
                for service in services {
                    let applied = self
                        .upstream
                        .discount_event(tenant, &service, &row.order_id, kind, total_fen, &customer)
                        .await?;
                    tracing::info!(order = %row.order_id, %service, ?kind, applied, "discounts told");
                }
                Ok(true)
            }
            Effect::Refund => {
                let Some(order) = self.find_order(scope, &row.order_id).await? else {
                    return Ok(true);
                };
                // Refunded meanwhile (WeChat's notification): nothing left to ask.
                if order.status != Status::Refunding.as_str() {
                    return Ok(true);
                }
                // The same out_refund_no every time: asking again returns the one refund's state.
                let status = self.refund_wechat(tenant, &order, &row.detail).await?;
                match status {
                    Refund::Succeeded => {}
                    Refund::Processing => return Ok(false),
                    Refund::Failed(other) => {
                        // Closed or abnormal (the payer's account is gone, say): money cannot go
                        // back this way; the order stays refunding for the shop to settle.
                        tracing::warn!(order = %order.order_id, status = ?other, "WeChat could not refund; the shop must act");
                        return Ok(true);
                    }
                }
                let txn = scope.begin(&self.db).await?;
                let moved = if repo::move_order(
                    &txn,
                    scope,
                    &order.order_id,
                    Status::Refunding.as_str(),
                    Status::Refunded.as_str(),
                    vec![(orders::Column::RefundedFen, Expr::value(order.total_fen))],
                )
                .await?
                {
                    Some(load_order(&txn, scope, &order.order_id).await?)
                } else {
                    None
                };
                txn.commit().await?;
                if let Some(row) = moved {
                    self.publish(&row, pb::OrderEventKind::Updated).await;
                }
                Ok(true)
            }
        }
    }
}

/// The name of the relay of owed steps (its [`SystemScope`]).
pub const RELAY: &str = "ordering.effects";

/// One pass of the worker: every due step, across tenants, each then run in its own tenant's
/// scope. Returns how many were completed.
pub async fn drain(app: &OrderingApp) -> std::result::Result<usize, OrderingError> {
    let sys = SystemScope::named(RELAY);
    let rows = due(&app.db, &sys, Utc::now(), 100).await?;
    let mut completed = 0;
    for row in rows {
        let scope = sys.tenant(row.tenant_id);
        if app.run(&scope, row).await {
            completed += 1;
        }
    }
    Ok(completed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let ms = |a| backoff(a, 1_000, 60_000).num_milliseconds();
        assert_eq!(ms(1), 1_000);
        assert_eq!(ms(2), 2_000);
        assert_eq!(ms(3), 4_000);
        assert_eq!(ms(7), 60_000);
        assert_eq!(ms(1_000), 60_000);
    }

    #[test]
    fn effect_names_round_trip() {
        for e in EFFECTS {
            assert_eq!(Effect::parse(e.as_str()), Some(e));
            // The column is 16 characters wide (PostgreSQL enforces it; SQLite does not).
            assert!(e.as_str().len() <= 16, "{e:?}");
        }
        assert_eq!(Effect::parse("launch_rockets"), None);
    }
}
