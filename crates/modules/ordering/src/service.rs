//! Use cases of the ordering module. Prices always come from the catalog; stock is held through
//! the catalog's reservation contract under the order's id (see `create_order` for why that is
//! as safe as one transaction); every status change is a conditional update through
//! `domain::transition`, so two concurrent steps cannot both win; every change is published to
//! the live board.
//!
//! Every use case starts from the caller's [`TenantScope`] (`ctx.authorize_tenant`) and touches
//! the tenant's rows only inside `scope.begin(&self.db)` transactions or `scope.one(&self.db)`
//! single statements, where PostgreSQL's row-level security shows them; none is held across a
//! call to another module (WeChat Pay included: it is the payments module's).

use std::sync::Arc;

use chrono::Duration;
use mm_kernel::cache::Cache;
use mm_kernel::error::{FieldViolation, RequestError, check_request_id};
use mm_kernel::{RequestContext, Role, TenantId, TenantScope};
use mm_proto::minimodules::ordering::v1 as pb;
use prost::Message as _;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::domain::{self, Action, Actor, Line, Mode, PayMethod, Status};
use crate::effects::Effect;
use crate::entity::orders;
use crate::error::{OrderingError, Result};
use crate::repo;
use crate::upstream::{ItemRef, Upstream};
use mm_kernel::group::Batch;

/// The topic order events are published under.
pub const TOPIC: &str = "ordering.order";

/// How a customer wants the order handed over, parsed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
pub struct Address {
    /// Recipient.
    pub contact_name: String,
    /// Phone.
    pub phone: String,
    /// Province, city, district.
    pub region: String,
    /// Street.
    pub detail: String,
}

/// Fulfilment, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilment {
    /// Mode.
    pub mode: Mode,
    /// Table, dine-in only.
    pub table: String,
    /// Address, delivery only.
    pub address: Option<Address>,
}

/// Which coupon the customer wants taken off (by whichever module discounts orders).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CouponChoice {
    /// The best one, chosen on the server.
    #[default]
    Best,
    /// None at all.
    None,
    /// This one: the coupon's resource name, as the discounting module gave it.
    Picked(String),
}

/// A basket to quote or order.
#[derive(Debug, Clone)]
pub struct Basket {
    /// Items, merged per SKU.
    pub items: Vec<ItemRef>,
    /// Fulfilment.
    pub fulfilment: Fulfilment,
    /// The coupon wanted.
    pub coupon: CouponChoice,
    /// Whether to pay with points, as many as the shop allows.
    pub use_points: bool,
}

/// What CreateOrder asks for beyond the basket.
#[derive(Debug, Clone)]
pub struct Placement {
    /// Remark.
    pub remark: String,
    /// Idempotency key.
    pub request_id: String,
    /// What the customer was shown; 0 to skip the check.
    pub expected_total_fen: i64,
}

/// A quote.
#[derive(Debug, Clone)]
pub struct QuoteView {
    /// Lines.
    pub lines: Vec<Line>,
    /// Totals and problems.
    pub priced: domain::Priced,
    /// The tenant's minimum.
    pub min_order_fen: i64,
    /// What the discounting modules said (nothing when the shop has none).
    pub quoted: crate::upstream::Quoted,
}

/// How long a request waits for a twin with its idempotency key to finish placing.
const TWIN_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The ordering module's application service.
#[derive(Clone, Debug)]
pub struct OrderingApp {
    pub(crate) db: DatabaseConnection,
    pub(crate) cache: Arc<Cache>,
    /// Asked before every live event a watcher is sent (see `grpc::watch_orders`).
    pub(crate) gate: Arc<mm_kernel::gate::Gate>,
    pub(crate) upstream: Upstream,
    pub(crate) jobs: mm_kernel::config::JobsSettings,
    /// The create path's writes, grouped per step (see `mm_kernel::group`).
    pub(crate) writes: Arc<Writes>,
    /// "Now" for payment deadlines and the sweep that acts on them.
    pub(crate) clock: mm_kernel::clock::Clock,
}

/// The steps of placing an order whose writes share a transaction, and their statements, with
/// those of other orders of the shop arriving at the same step.
#[derive(Debug)]
pub(crate) struct Writes {
    /// The rows in `creating`, with their numbers: one draw from the day's counter and one
    /// insert for the batch. Answers whether each was inserted (false: its key was taken).
    pub(crate) insert: Batch<(orders::Model, String), bool, sea_orm::DbErr>,
    /// The priced orders made `pending_payment`: one update for the batch. Answers each row as
    /// placed (`None`: no longer creating).
    pub(crate) place: Batch<(String, repo::Priced), Option<orders::Model>, sea_orm::DbErr>,
}

impl Default for Writes {
    fn default() -> Self {
        Self {
            insert: Batch::new("ordering.insert", |txn, scope, rows| {
                Box::pin(insert_batch(txn, scope, rows))
            }),
            place: Batch::new("ordering.place", |txn, scope, placed| {
                Box::pin(place_batch(txn, scope, placed))
            }),
        }
    }
}

/// Places a batch of priced orders in one statement.
async fn place_batch(
    txn: &mm_kernel::scope::ScopedTxn,
    scope: &TenantScope,
    placed: &[(String, repo::Priced)],
) -> std::result::Result<Vec<Option<orders::Model>>, sea_orm::DbErr> {
    let args: Vec<(&str, &repo::Priced)> = placed.iter().map(|(id, p)| (id.as_str(), p)).collect();
    let mut rows = repo::place_orders(txn, scope, &args).await?;
    Ok(placed
        .iter()
        .map(|(id, _)| {
            let at = rows.iter().position(|r| &r.order_id == id)?;
            Some(rows.swap_remove(at))
        })
        .collect())
}

/// Numbers a batch of new orders from their days' counters (one draw per day, in arrival order)
/// and inserts them in one statement.
async fn insert_batch(
    txn: &mm_kernel::scope::ScopedTxn,
    scope: &TenantScope,
    rows: &[(orders::Model, String)],
) -> std::result::Result<Vec<bool>, sea_orm::DbErr> {
    let mut numbered: Vec<orders::Model> = Vec::with_capacity(rows.len());
    // Per day, the number before the first drawn: a batch spans two days only around midnight.
    let mut drawn: Vec<(&str, i64)> = Vec::new();
    for (_, day) in rows {
        if !drawn.iter().any(|(d, _)| *d == day.as_str()) {
            let count = rows.iter().filter(|(_, d)| d == day).count() as i64;
            let last = repo::next_seq(txn, scope, day, count).await?;
            drawn.push((day, last - count));
        }
    }
    for (row, day) in rows {
        let Some((_, seq)) = drawn.iter_mut().find(|(d, _)| *d == day.as_str()) else {
            return Err(sea_orm::DbErr::Custom("a day without a draw".into()));
        };
        *seq += 1;
        numbered.push(orders::Model {
            order_number: domain::order_number(day, *seq),
            ..row.clone()
        });
    }
    let inserted = repo::insert_orders(txn, scope, numbered).await?;
    Ok(rows
        .iter()
        .map(|(row, _)| inserted.contains(&row.order_id))
        .collect())
}

/// The caller as an actor on orders, and the customer id when a customer.
fn actor(ctx: &RequestContext) -> Result<(Actor, Option<String>)> {
    let p = ctx.principal()?;
    Ok(match p.role {
        Role::Customer => (Actor::Customer, Some(p.subject.clone())),
        Role::Staff => (Actor::Staff, None),
        Role::Admin | Role::Operator => (Actor::Admin, None),
        _ => {
            return Err(RequestError::PermissionDenied("not an order actor".into()).into());
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

/// One order of the scope's tenant, inside the caller's transaction; "not found" when absent.
pub(crate) async fn load_order(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<orders::Model> {
    repo::find_order(db, scope, id)
        .await?
        .ok_or_else(|| OrderingError::OrderNotFound {
            order: id.to_string(),
        })
}

/// What became of a status change's transaction (see `step`).
enum Moved {
    /// Committed; with the order as stored when nothing owed is tried before reading it.
    Done(Option<orders::Model>),
    /// The order was no longer in the status moved from: the order as it is now.
    Refused(orders::Model),
}

impl OrderingApp {
    /// Loads an order the caller may see: customers only their own (others' are "not found").
    pub(crate) async fn visible(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<(orders::Model, Actor)> {
        let (actor, customer) = actor(ctx)?;
        let not_found = || OrderingError::OrderNotFound {
            order: id.to_string(),
        };
        let row = self.find_order(scope, id).await?.ok_or_else(not_found)?;
        if row.status == Status::Creating.as_str() || customer.is_some_and(|c| c != row.customer_id)
        {
            return Err(not_found());
        }
        Ok((row, actor))
    }

    /// One order of the scope's tenant, read in a transaction of its own.
    pub(crate) async fn find_order(
        &self,
        scope: &TenantScope,
        id: &str,
    ) -> Result<Option<orders::Model>> {
        let txn = scope.one(&self.db).await?;
        let row = repo::find_order(&txn, scope, id).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// One order of the scope's tenant, read in a transaction of its own; "not found" when absent.
    pub(crate) async fn reload_order(
        &self,
        scope: &TenantScope,
        id: &str,
    ) -> Result<orders::Model> {
        let txn = scope.one(&self.db).await?;
        let row = load_order(&txn, scope, id).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The order a customer created with an idempotency key, read in a transaction of its own.
    async fn find_by_request(
        &self,
        scope: &TenantScope,
        customer: &str,
        key: &str,
    ) -> Result<Option<orders::Model>> {
        let txn = scope.one(&self.db).await?;
        let row = repo::find_by_request(&txn, scope, customer, key).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Tells the live board.
    pub(crate) async fn publish(&self, row: &orders::Model, kind: pb::OrderEventKind) {
        let event = pb::OrderEvent {
            kind: kind as i32,
            order: Some(crate::convert::order(row)),
        };
        self.cache
            .publish(&row.tenant_id, TOPIC, event.encode_to_vec().into())
            .await;
    }

    /// Prices a basket.
    pub async fn quote(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        basket: &Basket,
    ) -> Result<QuoteView> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let config = self.upstream.config(scope.tenant()).await?;
        let lines = self.upstream.resolve(scope.tenant(), &basket.items).await?;
        let mut priced = domain::price(&lines, basket.fulfilment.mode, &config, self.clock.now());
        let mut quoted = crate::upstream::Quoted::default();
        let services = self.upstream.discounters(tenant).await?;
        if let (false, (_, Some(customer))) = (services.is_empty(), actor(ctx)?) {
            let b = Upstream::discount_basket(tenant, &customer, &lines, basket);
            quoted = self.upstream.quote_discounts(tenant, &services, &b).await?;
            priced.amounts = domain::discounted(priced.amounts, &quoted.discounts);
        }
        Ok(QuoteView {
            lines,
            priced,
            min_order_fen: config.min_order_fen,
            quoted,
        })
    }

    /// Places an order.
    ///
    /// Stock lives in the catalog, which ordering may only reach through its contract, so the
    /// order and its stock cannot share one database transaction. Instead: (1) the order row is
    /// written in status `creating` (invisible; its idempotency key taken, its number drawn);
    /// (2) the catalog takes the stock under the order's id, all items or none, with conditional
    /// updates, and answers the prices it took them at; (3) priced from that answer, the order
    /// becomes `pending_payment` (or, when the minimum or the expected total refuses it, is
    /// abandoned and its stock given back). A failure at (2) deletes the row; a crash between the steps
    /// leaves a `creating` row that the sweeper releases (idempotent by id) and deletes. Stock can
    /// never go below zero (the catalog's conditional update) and is never lost.
    pub async fn create_order(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        basket: Basket,
        placement: Placement,
    ) -> Result<orders::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let (Actor::Customer, Some(customer)) = actor(ctx)? else {
            return Err(
                RequestError::PermissionDenied("only customers place orders".into()).into(),
            );
        };
        let mut v = Vec::new();
        check_request_id(&placement.request_id, &mut v);
        if placement.remark.chars().count() > 200 {
            v.push(FieldViolation::too_long("remark", 200));
        }
        if placement.expected_total_fen < 0 {
            v.push(FieldViolation::new(
                "expected_total_fen",
                "must not be negative",
            ));
        }
        invalid(v)?;
        // No look-up of the key first: a new key (nearly every request) would pay a round trip
        // for nothing. A replayed key is found when its insert conflicts, in `place`.
        // Placed in a task of its own: a caller that goes away half-way (a cut connection, its
        // deadline) must not stop the placement between its steps, which would hold the key
        // until the sweep abandons the order.
        let (app, who, key) = (self.clone(), customer.clone(), placement.clone());
        let placed = tokio::spawn(async move { app.place(&scope, &who, basket, &key).await })
            .await
            .map_err(|e| {
                OrderingError::Internal(anyhow::anyhow!("placing an order failed: {e}"))
            })?;
        let answer = match placed {
            Ok(row) => Ok(row),
            // A twin with the same key may have taken the last stock (or moved the price) while
            // this one was pricing: the customer's order exists, and that is the answer.
            Err(e) if !matches!(e, OrderingError::Request(_)) => {
                match self
                    .find_by_request(&scope, &customer, &placement.request_id)
                    .await
                {
                    Ok(Some(twin)) => self.replayed(twin),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        match answer {
            Err(OrderingError::BeingPlaced) => {
                self.await_twin(&scope, &customer, &placement.request_id)
                    .await
            }
            other => other,
        }
    }

    /// A twin with the same key is being placed (the caller's connection was cut and it tried
    /// again, or a double tap): waits a moment for the twin to finish and answers its order,
    /// rather than sending the customer back with "retry". Still being placed after
    /// [`TWIN_WAIT`] (its process may have died: the sweep will abandon it), or let go of the key
    /// because it failed: "retry".
    async fn await_twin(
        &self,
        scope: &TenantScope,
        customer: &str,
        key: &str,
    ) -> Result<orders::Model> {
        let deadline = tokio::time::Instant::now() + TWIN_WAIT;
        let mut wait = std::time::Duration::from_millis(10);
        loop {
            tokio::time::sleep(wait).await;
            match self.find_by_request(scope, customer, key).await? {
                Some(row) if row.status != Status::Creating.as_str() => return Ok(row),
                Some(_) if tokio::time::Instant::now() < deadline => {}
                _ => return Err(OrderingError::BeingPlaced),
            }
            wait = (wait * 2).min(std::time::Duration::from_millis(200));
        }
    }

    async fn place(
        &self,
        scope: &TenantScope,
        customer: &str,
        basket: Basket,
        placement: &Placement,
    ) -> Result<orders::Model> {
        let tenant = scope.tenant();
        let config = self.upstream.config(tenant).await?;
        let now = self.clock.now();
        let mode = basket.fulfilment.mode;
        if domain::rules_refuse(mode, &config, now) {
            // Refused whatever the basket holds: priced read-only, to name every problem, and
            // nothing is written or taken.
            let lines = self.upstream.resolve(tenant, &basket.items).await?;
            let priced = domain::price(&lines, mode, &config, now);
            return Err(OrderingError::NotOrderable {
                problems: priced.problems.iter().map(|p| (*p).to_string()).collect(),
            });
        }
        // The shop's identity policy (held per tenant: no call once warm); the customer is asked
        // of identity only where the shop requires a phone.
        if self.upstream.identity_policy(tenant).await?.require_phone
            && !self.upstream.has_phone(tenant, customer).await?
        {
            return Err(OrderingError::PhoneRequired);
        }
        // The order is written before stock is taken under its id (so a crash in between leaves a
        // row the sweep finds and releases), and priced from what the reservation returns: the
        // catalog's prices at the moment the stock was taken, with one call instead of two.
        let id = uuid::Uuid::now_v7().to_string();
        let row = orders::Model {
            tenant_id: tenant,
            order_id: id.clone(),
            order_number: String::new(),
            customer_id: customer.to_string(),
            status: Status::Creating.as_str().into(),
            items: "[]".into(),
            items_fen: 0,
            packaging_fee_fen: 0,
            total_fen: 0,
            fulfilment_mode: mode.as_str().into(),
            table_no: basket.fulfilment.table.clone(),
            address: match &basket.fulfilment.address {
                Some(a) => serde_json::to_string(a).map_err(anyhow::Error::from)?,
                None => String::new(),
            },
            remark: placement.remark.trim().to_string(),
            payment_method: String::new(),
            cancel_reason: String::new(),
            request_id: placement.request_id.clone(),
            expires_at: now + Duration::minutes(config.payment_timeout_minutes),
            paid_at: None,
            prepay_id: None,
            transaction_id: None,
            refunded_fen: 0,
            discounts: "[]".into(),
            discount_fen: 0,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        // The number is drawn from the shop day's counter and the row inserted in one
        // transaction, shared with the other orders of the shop arriving at this step (a group
        // commit, `mm_kernel::group`); committed before the catalog is called.
        let day = domain::order_day(now);
        let inserted = mm_kernel::db::retry_conflicts(|| {
            self.writes
                .insert
                .run(&self.db, scope, (row.clone(), day.clone()))
        })
        .await?;
        if !inserted {
            // The key was used before (a replay), or a twin won a race with this request: answer
            // what it created (or, when that twin failed and let go of the key, ask for a retry).
            return match self
                .find_by_request(scope, customer, &placement.request_id)
                .await?
            {
                Some(existing) => self.replayed(existing),
                None => Err(OrderingError::BeingPlaced),
            };
        }
        mm_kernel::fault::point("ordering.create.inserted");

        let lines = match self.upstream.reserve(tenant, &id, &basket.items).await {
            Ok(r) => r,
            Err(
                e @ (OrderingError::OutOfStock { .. }
                | OrderingError::NotOrderable { .. }
                | OrderingError::Request(_)),
            ) => {
                // The catalog refused and took nothing (its transaction rolled back): just free
                // the key.
                let txn = scope.one(&self.db).await?;
                repo::delete_creating(&txn, scope, &id).await?;
                txn.commit().await?;
                return Err(e);
            }
            Err(e) => {
                // The reservation may have gone through with its answer lost: owe a release
                // (which also spends the id, should the reservation still be on its way).
                self.abandon(scope, &id).await?;
                return Err(e);
            }
        };
        mm_kernel::fault::point("ordering.create.reserved");
        let mut priced = domain::price(&lines, mode, &config, now);
        // Discounts are locked to the order once its stock is held and its lines priced; the
        // shop's discounting modules (none: no call) hold a coupon for one order only.
        let mut discounts = Vec::new();
        if priced.problems.is_empty() {
            let services = match self.upstream.discounters(tenant).await {
                Ok(s) => s,
                Err(e) => {
                    self.abandon(scope, &id).await?;
                    return Err(e);
                }
            };
            if !services.is_empty() {
                let b = Upstream::discount_basket(tenant, customer, &lines, &basket);
                match self
                    .upstream
                    .lock_discounts(tenant, &services, &id, &b)
                    .await
                {
                    Ok(d) => discounts = d,
                    Err(e) => {
                        self.abandon(scope, &id).await?;
                        return Err(e);
                    }
                }
                priced.amounts = domain::discounted(priced.amounts, &discounts);
            }
        }
        let refusal = if !priced.problems.is_empty() {
            Some(OrderingError::NotOrderable {
                problems: priced.problems.iter().map(|p| (*p).to_string()).collect(),
            })
        } else if placement.expected_total_fen > 0
            && placement.expected_total_fen != priced.amounts.total_fen
        {
            Some(OrderingError::PriceChanged {
                expected_fen: placement.expected_total_fen,
                actual_fen: priced.amounts.total_fen,
            })
        } else {
            None
        };
        if let Some(refusal) = refusal {
            self.abandon(scope, &id).await?;
            return Err(refusal);
        }
        let priced = repo::Priced {
            items: serde_json::to_string(&lines).map_err(anyhow::Error::from)?,
            discounts: serde_json::to_string(&discounts).map_err(anyhow::Error::from)?,
            amounts: priced.amounts,
        };
        let placed = mm_kernel::db::retry_conflicts(|| {
            self.writes
                .place
                .run(&self.db, scope, (id.clone(), priced.clone()))
        })
        .await?;
        let Some(row) = placed else {
            // Taken for abandoned by the sweep meanwhile, which owes its stock back already.
            return Err(OrderingError::Unavailable(
                "placing the order took too long".into(),
            ));
        };
        mm_kernel::fault::point("ordering.create.placed");
        self.publish(&row, pb::OrderEventKind::Created).await;
        tracing::info!(order = %row.order_number, total_fen = row.total_fen, "order placed");
        Ok(row)
    }

    /// Gives up a half-placed order: the row goes and a release of whatever the catalog may
    /// have taken under its id is owed, in one transaction; then the release is tried at once.
    /// False when the order was no longer half-placed (placed, or abandoned by someone else).
    pub(crate) async fn abandon(&self, scope: &TenantScope, id: &str) -> Result<bool> {
        let txn = scope.begin(&self.db).await?;
        if !repo::delete_creating(&txn, scope, id).await? {
            return Ok(false);
        }
        // Whatever a discounting module may have locked under the id goes back too (a no-op
        // when none did).
        crate::effects::record(
            &txn,
            scope,
            id,
            &[Effect::ReleaseStock, Effect::ReleaseDiscounts],
            "",
        )
        .await?;
        txn.commit().await?;
        mm_kernel::fault::point("ordering.abandon.committed");
        self.settle(scope, id).await;
        Ok(true)
    }

    fn replayed(&self, existing: orders::Model) -> Result<orders::Model> {
        if existing.status == Status::Creating.as_str() {
            return Err(OrderingError::BeingPlaced);
        }
        Ok(existing)
    }

    /// One order.
    pub async fn get_order(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<orders::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        Ok(self.visible(ctx, &scope, id).await?.0)
    }

    /// A page of orders: a customer's own, or the whole tenant's for staff.
    pub async fn list_orders(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        page_size: i32,
        page_token: &str,
        statuses: &[Status],
    ) -> Result<(Vec<orders::Model>, Option<String>)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let (_, customer) = actor(ctx)?;
        let size = mm_kernel::paging::page_size(page_size)?;
        let names: Vec<&'static str> = statuses.iter().map(|s| s.as_str()).collect();
        let purpose = format!(
            "orders:{tenant}:{}:{}",
            customer.as_deref().unwrap_or("*"),
            names.join(",")
        );
        let before = mm_kernel::paging::decode_token(&purpose, page_token)?;
        let txn = scope.one(&self.db).await?;
        let rows = repo::list_orders(
            &txn,
            &scope,
            customer.as_deref(),
            &names,
            before.as_deref(),
            size + 1,
        )
        .await?;
        txn.commit().await?;
        Ok(mm_kernel::paging::finish_page(rows, size, &purpose, |r| {
            &r.order_id
        }))
    }

    /// Applies one lifecycle step for the caller, with its side effects.
    pub async fn advance(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        action: Action,
        reason: &str,
    ) -> Result<orders::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let (row, actor) = self.visible(ctx, &scope, id).await?;
        // Cancelling twice (a retried tap, a lost answer) is not an error: the order is off.
        if action == Action::Cancel && called_off(&row) {
            return Ok(row);
        }
        self.step(&scope, row, action, actor, reason).await
    }

    /// Moves `row` by `action` as `actor`: checks the table, the cancellation window, asks for
    /// refunds before the status changes (so a failed refund changes nothing), releases stock
    /// when an order is called off, and publishes the change.
    pub(crate) async fn step(
        &self,
        scope: &TenantScope,
        row: orders::Model,
        action: Action,
        actor: Actor,
        reason: &str,
    ) -> Result<orders::Model> {
        let from = Status::parse(&row.status)
            .ok_or_else(|| anyhow::anyhow!("unknown stored status {:?}", row.status))?;
        let to =
            domain::transition(from, action, actor).ok_or(OrderingError::InvalidTransition {
                from,
                action: action.verb(),
            })?;
        let config = self
            .upstream
            .config(scope.tenant())
            .await
            .unwrap_or_default();
        if actor == Actor::Customer && action == Action::Cancel && from == Status::Paid {
            let paid = row.paid_at.unwrap_or(row.updated_at);
            if self.clock.now() > paid + Duration::minutes(config.cancel_window_minutes) {
                return Err(OrderingError::CancelWindowPassed {
                    minutes: config.cancel_window_minutes,
                });
            }
        }
        let mut extra = Vec::new();
        let mut to = to;
        let mut owed = Vec::new();
        match to {
            Status::Cancelled => {
                let why = match (action, actor) {
                    (Action::Expire, _) => "expired",
                    (_, Actor::Customer) => "customer",
                    _ => "shop",
                };
                extra.push((orders::Column::CancelReason, Expr::value(why)));
            }
            Status::Paid => {
                if action == Action::CounterPaid {
                    extra.push((orders::Column::PaymentMethod, Expr::value("counter")));
                }
                extra.push((orders::Column::PaidAt, Expr::value(self.clock.now())));
            }
            Status::Refunding => {
                let why = match (action, actor) {
                    (Action::Cancel, Actor::Customer) => "customer",
                    (Action::Cancel, _) => "shop",
                    _ => "",
                };
                if !why.is_empty() {
                    extra.push((orders::Column::CancelReason, Expr::value(why)));
                }
                match PayMethod::parse(&row.payment_method) {
                    Some(PayMethod::WechatPay) if row.transaction_id.is_some() => {
                        owed.push(Effect::Refund);
                    }
                    // Paid at the counter: the shop hands the money back, nothing to ask.
                    _ => {
                        to = Status::Refunded;
                        extra.push((orders::Column::RefundedFen, Expr::value(row.total_fen)));
                    }
                }
            }
            _ => {}
        }
        // The goods were not made: their stock goes back. (After preparing, only money does.)
        if matches!(action, Action::Cancel | Action::Expire) {
            owed.push(Effect::ReleaseStock);
            if from == Status::PendingPayment && row.prepay_id.is_some() {
                owed.push(Effect::ClosePayment);
            }
        }
        // The discounting modules hear what became of the order: coupons used when paid, back
        // when called off before payment or refunded after; points earned on any paid order of
        // a shop that has such a module, and taken back on its refund.
        let discounted = row.discount_fen > 0;
        if discounted && to == Status::Cancelled {
            owed.push(Effect::ReleaseDiscounts);
        }
        if matches!(to, Status::Paid | Status::Refunding | Status::Refunded) {
            // A shop's discounters unknown for now (the tenant service unreachable): told
            // anyway; the owed step finds them when it runs.
            let told = discounted
                || self
                    .upstream
                    .discounters(scope.tenant())
                    .await
                    .map_or(true, |d| !d.is_empty());
            if told {
                owed.push(if to == Status::Paid {
                    Effect::DiscountsPaid
                } else {
                    Effect::DiscountsRefunded
                });
            }
        }
        // The status change and what it owes commit together; the owed steps are then tried at
        // once and, if that try is lost, by the worker (effects.rs). The order is read back in
        // the same transaction when nothing owed comes between (and, when the move lost, to
        // name what it is now), not in one of its own.
        let (order_id, extra, owed_ref) = (&row.order_id, &extra, &owed);
        let moved = mm_kernel::db::retry_conflicts(|| async move {
            let txn = scope.begin(&self.db).await?;
            if !repo::move_order(
                &txn,
                scope,
                order_id,
                from.as_str(),
                to.as_str(),
                extra.clone(),
            )
            .await?
            {
                return Ok::<Moved, OrderingError>(Moved::Refused(
                    load_order(&txn, scope, order_id).await?,
                ));
            }
            crate::effects::record(&txn, scope, order_id, owed_ref, reason).await?;
            let updated = if owed_ref.is_empty() {
                Some(load_order(&txn, scope, order_id).await?)
            } else {
                None
            };
            txn.commit().await?;
            Ok(Moved::Done(updated))
        })
        .await?;
        let updated = match moved {
            Moved::Done(updated) => updated,
            Moved::Refused(now) => {
                return Err(OrderingError::InvalidTransition {
                    from: Status::parse(&now.status).unwrap_or(from),
                    action: action.verb(),
                });
            }
        };
        mm_kernel::fault::point_of(&["ordering", "step", to.as_str(), "committed"]);
        let mut updated = match updated {
            Some(updated) => updated,
            None => {
                self.settle(scope, &row.order_id).await;
                self.reload_order(scope, &row.order_id).await?
            }
        };
        self.publish(&updated, pb::OrderEventKind::Updated).await;
        if to == Status::Paid && config.auto_accept {
            updated =
                Box::pin(self.step(scope, updated, Action::Accept, Actor::System, "")).await?;
        }
        Ok(updated)
    }
}

/// Whether an order was already called off by a cancel or expiry (its stock given back or owed).
fn called_off(row: &orders::Model) -> bool {
    row.status == Status::Cancelled.as_str()
        || ((row.status == Status::Refunding.as_str() || row.status == Status::Refunded.as_str())
            && !row.cancel_reason.is_empty())
}
