//! Members and points: earned on paid orders (the shop's `points_per_yuan` of what was paid),
//! taken back on refunds (never below zero: what was spent since stays spent), adjusted by staff
//! with a reason (audited), and the member level the shop's config gives the customer's lifetime
//! spend or points.
//!
//! Every change is one write transaction: the member's balance moves by a conditional update
//! (`points + delta >= 0`, backed by a CHECK) and its ledger entry is written under a source
//! unique per tenant (`orders/{o}:earn`, `orders/{o}:refund`, `adjust/{request}`). A repeated
//! event conflicts on the source and the transaction is undone, so points are granted once.

use chrono::{DateTime, Utc};
use mm_kernel::audit::{self, AuditRecord};
use mm_kernel::error::{FieldViolation, RequestError, check_request_id};
use mm_kernel::{RequestContext, TenantId, TenantScope};

use crate::domain::{self, Level};
use crate::entity::{ledger, members};
use crate::error::{MarketingError, Result};
use crate::repo;
use crate::service::{Config, MarketingApp, customer_of};

/// A member as the contract shows it.
#[derive(Debug, Clone)]
pub struct MemberView {
    /// The row (zeros when the customer never had points).
    pub member: members::Model,
    /// The level reached.
    pub level: Option<Level>,
    /// The next one.
    pub next: Option<Level>,
}

/// Ledger kinds as stored.
pub const ORDER_PAID: &str = "order_paid";
/// Points taken back with a refund.
pub const ORDER_REFUNDED: &str = "order_refunded";
/// Staff's adjustment.
pub const ADJUSTED: &str = "adjusted";
/// Points paid with at checkout.
pub const ORDER_SPENT: &str = "order_spent";
/// Spent points given back (the order called off or refunded).
pub const ORDER_RETURNED: &str = "order_returned";
/// Points for a completed booking.
pub const BOOKING_COMPLETED: &str = "booking_done";

/// What became of paying with points.
pub(crate) enum Spent {
    /// Taken: the entry.
    Taken(Box<ledger::Model>),
    /// The balance is short of it now.
    Short,
}

/// The level a member reaches under `config`.
pub fn level(config: &Config, m: &members::Model) -> (Option<Level>, Option<Level>) {
    let metric = if config.levels_by == "points" {
        m.lifetime_points
    } else {
        m.lifetime_spend_fen
    };
    let (reached, next) = domain::level_of(&config.levels, metric);
    (reached.cloned(), next.cloned())
}

fn empty(tenant: TenantId, customer: &str, now: DateTime<Utc>) -> members::Model {
    members::Model {
        tenant_id: tenant,
        customer_id: customer.to_string(),
        points: 0,
        lifetime_points: 0,
        lifetime_spend_fen: 0,
        created_at: now,
        updated_at: now,
    }
}

/// One change to write.
struct Change<'a> {
    customer: &'a str,
    delta: i64,
    lifetime_delta: i64,
    spend_delta: i64,
    /// The order's amount, for an order's entries (what its refund takes back).
    order_fen: i64,
    kind: &'static str,
    source: String,
    order: &'a str,
    reason: &'a str,
    actor: &'a str,
}

/// What became of a change.
enum Applied {
    /// Written: the member after it and its entry.
    Done(Box<(members::Model, ledger::Model)>),
    /// Its source was written before.
    Repeat,
    /// The balance would have gone below zero.
    Insufficient,
}

impl MarketingApp {
    /// Moves the points and writes the entry in one write transaction.
    async fn apply(&self, scope: &TenantScope, c: Change<'_>) -> Result<Applied> {
        let now = self.clock.now();
        let txn = scope.begin_write(&self.db).await?;
        if repo::entry_by_source(&txn, scope, &c.source)
            .await?
            .is_some()
        {
            txn.commit().await?;
            return Ok(Applied::Repeat);
        }
        repo::ensure_member(&txn, scope, c.customer, now).await?;
        let Some(member) = repo::add_points(
            &txn,
            scope,
            c.customer,
            c.delta,
            c.lifetime_delta,
            c.spend_delta,
            now,
        )
        .await?
        else {
            txn.rollback().await?;
            return Ok(Applied::Insufficient);
        };
        let entry = ledger::Model {
            tenant_id: scope.tenant(),
            entry_id: uuid::Uuid::now_v7().to_string(),
            customer_id: c.customer.to_string(),
            delta: c.delta,
            balance_after: member.points,
            kind: c.kind.into(),
            source: c.source,
            order_id: c.order.to_string(),
            order_fen: c.order_fen,
            reason: c.reason.chars().take(200).collect(),
            actor: c.actor.chars().take(128).collect(),
            created_at: now,
        };
        if !repo::insert_entry(&txn, scope, entry.clone()).await? {
            // A twin of this event won meanwhile: this one's change is undone.
            txn.rollback().await?;
            return Ok(Applied::Repeat);
        }
        txn.commit().await?;
        // The member row a checkout may hold (its level, its balance) changed.
        self.memo.changed(scope.tenant(), c.customer).await;
        Ok(Applied::Done(Box::new((member, entry))))
    }

    /// Points for a paid order (and its spend towards the member's level); false for a repeat.
    pub(crate) async fn earn(
        &self,
        scope: &TenantScope,
        config: &Config,
        customer: &str,
        order: &str,
        paid_fen: i64,
    ) -> Result<bool> {
        let source = format!("orders/{order}:earn");
        self.reward(
            scope,
            config,
            customer,
            (ORDER_PAID, source, order, "ordering"),
            paid_fen,
        )
        .await
    }

    /// Points for what a customer paid (`points_per_yuan` a whole yuan), and the amount towards
    /// their level, under `source`; false for a repeat. `what`: (kind, source, order, actor).
    async fn reward(
        &self,
        scope: &TenantScope,
        config: &Config,
        customer: &str,
        what: (&'static str, String, &str, &str),
        paid_fen: i64,
    ) -> Result<bool> {
        let (kind, source, order, actor) = what;
        let points = domain::points_for(paid_fen, config.points_per_yuan);
        let applied = self
            .apply(
                scope,
                Change {
                    customer,
                    delta: points,
                    lifetime_delta: points,
                    spend_delta: paid_fen.max(0),
                    order_fen: paid_fen.max(0),
                    kind,
                    source,
                    order,
                    reason: "",
                    actor,
                },
            )
            .await?;
        Ok(matches!(applied, Applied::Done(..)))
    }

    /// Pays `points` (worth `off_fen`) of the customer's towards `order`, once per order: a
    /// repeat answers the first entry.
    pub(crate) async fn spend(
        &self,
        scope: &TenantScope,
        customer: &str,
        order: &str,
        points: i64,
        off_fen: i64,
    ) -> Result<Spent> {
        let source = format!("orders/{order}:spend");
        let applied = self
            .apply(
                scope,
                Change {
                    customer,
                    delta: -points,
                    lifetime_delta: 0,
                    spend_delta: 0,
                    order_fen: off_fen,
                    kind: ORDER_SPENT,
                    source: source.clone(),
                    order,
                    reason: "",
                    actor: "ordering",
                },
            )
            .await?;
        match applied {
            Applied::Done(done) => Ok(Spent::Taken(Box::new(done.1))),
            Applied::Insufficient => Ok(Spent::Short),
            Applied::Repeat => {
                let txn = scope.one(&self.db).await?;
                let e = repo::entry_by_source(&txn, scope, &source).await?;
                txn.commit().await?;
                e.map(|e| Spent::Taken(Box::new(e)))
                    .ok_or_else(|| anyhow::anyhow!("a repeated spend without its entry").into())
            }
        }
    }

    /// Gives back the points an order paid with (called off or refunded); false when it paid
    /// with none or they were given back before.
    pub(crate) async fn give_back_spent(&self, scope: &TenantScope, order: &str) -> Result<bool> {
        let txn = scope.one(&self.db).await?;
        let spent = repo::entry_by_source(&txn, scope, &format!("orders/{order}:spend")).await?;
        txn.commit().await?;
        let Some(spent) = spent else {
            return Ok(false);
        };
        let applied = self
            .apply(
                scope,
                Change {
                    customer: &spent.customer_id,
                    delta: -spent.delta,
                    lifetime_delta: 0,
                    spend_delta: 0,
                    order_fen: spent.order_fen,
                    kind: ORDER_RETURNED,
                    source: format!("orders/{order}:return"),
                    order,
                    reason: "",
                    actor: "ordering",
                },
            )
            .await?;
        Ok(matches!(applied, Applied::Done(..)))
    }

    /// Points for a completed booking (and its amount towards the member's level); false for a
    /// repeat.
    pub(crate) async fn earn_for_booking(
        &self,
        scope: &TenantScope,
        config: &Config,
        customer: &str,
        reservation: &str,
        amount_fen: i64,
    ) -> Result<bool> {
        let source = format!("reservations/{reservation}:earn");
        self.reward(
            scope,
            config,
            customer,
            (BOOKING_COMPLETED, source, "", "booking"),
            amount_fen,
        )
        .await
    }

    /// Takes back what a refunded order earned (as much as is left) and its spend; false when
    /// it earned nothing here or was taken back before.
    pub(crate) async fn take_back(&self, scope: &TenantScope, order: &str) -> Result<bool> {
        let txn = scope.one(&self.db).await?;
        let earned = repo::entry_by_source(&txn, scope, &format!("orders/{order}:earn")).await?;
        let member = match &earned {
            Some(e) => repo::find_member(&txn, scope, &e.customer_id).await?,
            None => None,
        };
        txn.commit().await?;
        let (Some(earned), Some(member)) = (earned, member) else {
            return Ok(false);
        };
        // The points actually left: what was spent since stays spent.
        let back = earned.delta.min(member.points).max(0);
        let applied = self
            .apply(
                scope,
                Change {
                    customer: &earned.customer_id,
                    delta: -back,
                    lifetime_delta: -earned.delta,
                    spend_delta: -earned.order_fen,
                    order_fen: earned.order_fen,
                    kind: ORDER_REFUNDED,
                    source: format!("orders/{order}:refund"),
                    order,
                    reason: "",
                    actor: "ordering",
                },
            )
            .await?;
        match applied {
            Applied::Done(..) => Ok(true),
            Applied::Repeat => Ok(false),
            // Spent between the read and the write: asked again, it takes what is left then.
            Applied::Insufficient => Err(MarketingError::Unavailable(
                "the member's points changed meanwhile".into(),
            )),
        }
    }

    /// A member: the caller for customers, `customer` for staff.
    pub async fn get_member(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        customer: &str,
    ) -> Result<MemberView> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let config = self.config(tenant).await?;
        let customer = customer_of(ctx)?.unwrap_or_else(|| customer.to_string());
        let txn = scope.one(&self.db).await?;
        let member = repo::find_member(&txn, &scope, &customer).await?;
        txn.commit().await?;
        let member = member.unwrap_or_else(|| empty(tenant, &customer, self.clock.now()));
        let (level, next) = level(&config, &member);
        Ok(MemberView {
            member,
            level,
            next,
        })
    }

    /// A page of a member's entries.
    pub async fn list_entries(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        customer: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<ledger::Model>, Option<String>)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        self.config(tenant).await?;
        let customer = customer_of(ctx)?.unwrap_or_else(|| customer.to_string());
        let size = mm_kernel::paging::page_size(page_size)?;
        let purpose = format!("points:{tenant}:{customer}");
        let before = mm_kernel::paging::decode_token(&purpose, page_token)?;
        let txn = scope.one(&self.db).await?;
        let rows = repo::list_entries(&txn, &scope, &customer, before.as_deref(), size + 1).await?;
        txn.commit().await?;
        Ok(mm_kernel::paging::finish_page(rows, size, &purpose, |r| {
            &r.entry_id
        }))
    }

    /// Staff add or take points with a reason.
    pub async fn adjust(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        customer: &str,
        delta: i64,
        reason: &str,
        request_id: &str,
    ) -> Result<(MemberView, ledger::Model)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        check_request_id(request_id, &mut v);
        if delta == 0 || delta.abs() > 1_000_000 {
            v.push(
                FieldViolation::new("delta", "not 0, at most 1,000,000 either way")
                    .reason("ABOVE_MAXIMUM")
                    .param("max", 1_000_000),
            );
        }
        let n = reason.trim().chars().count();
        if n == 0 {
            v.push(FieldViolation::required("reason"));
        } else if n > 200 {
            v.push(FieldViolation::too_long("reason", 200));
        }
        if !v.is_empty() {
            return Err(RequestError::Invalid(v).into());
        }
        let config = self.config(tenant).await?;
        let actor = ctx.principal()?.subject.clone();
        let source = format!("adjust/{request_id}");
        let applied = self
            .apply(
                &scope,
                Change {
                    customer,
                    delta,
                    lifetime_delta: 0,
                    spend_delta: 0,
                    order_fen: 0,
                    kind: ADJUSTED,
                    source: source.clone(),
                    order: "",
                    reason: reason.trim(),
                    actor: &actor,
                },
            )
            .await?;
        let txn = scope.one(&self.db).await?;
        let (member, entry) = match applied {
            Applied::Done(done) => {
                let (m, e) = *done;
                audit::record(
                    &txn,
                    AuditRecord::by(ctx, Some(tenant), "marketing.points.adjust", customer)
                        .with(serde_json::json!({"delta": delta, "reason": reason.trim()})),
                )
                .await?;
                (m, e)
            }
            Applied::Repeat => {
                let entry = repo::entry_by_source(&txn, &scope, &source)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("a repeated adjustment without its entry"))?;
                if entry.customer_id != customer {
                    return Err(
                        RequestError::invalid("request_id", "was used for another member").into(),
                    );
                }
                let member = repo::find_member(&txn, &scope, customer)
                    .await?
                    .unwrap_or_else(|| empty(tenant, customer, self.clock.now()));
                (member, entry)
            }
            Applied::Insufficient => return Err(MarketingError::PointsInsufficient),
        };
        txn.commit().await?;
        let (level, next) = level(&config, &member);
        Ok((
            MemberView {
                member,
                level,
                next,
            },
            entry,
        ))
    }
}
