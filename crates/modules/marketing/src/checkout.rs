//! Marketing's side of ordering's discount contract: what a basket takes off (the quote) and
//! taking it for one order (the lock).
//!
//! The discounts come in a fixed order, each counted on what the ones before left:
//! 1. the running promotions (time-limited unit discounts, then the best full reduction);
//! 2. the member level's percentage;
//! 3. one coupon: a stackable one on top of the promotions, a non-stackable one instead of
//!    them (the server picks whichever takes more, unless the customer picked);
//! 4. points, when the customer asked, in whole yuan, within the shop's cap per order.
//!
//! Everything a checkout needs is read in one read transaction. Locking writes only what there
//! is to take: the coupon with one conditional update (of concurrent orders with one coupon,
//! one wins), then the points with one ledger entry whose source is the order's, so a repeated
//! lock answers what the first one took.

use chrono::{DateTime, Utc};
use mm_kernel::error::RequestError;
use mm_kernel::names::{Child, name_of};
use mm_kernel::{RequestContext, TenantId, TenantScope};
use mm_proto::minimodules::ordering::v1 as opb;

use crate::domain::{self, BasketLine, Terms};
use crate::entity::{coupons, ledger, members};
use crate::error::{MarketingError, Result};
use crate::names::{Categories, Coupons, Members, Orders, Products, Users};
use crate::points::Spent;
use crate::promotions::{self, Promo};
use crate::repo;
use crate::service::{Config, Held, MarketingApp, terms_of};

/// The checkout this module discounts through ordering's contract.
const ORDERING: &str = "ordering";

/// Which coupon the customer wants.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Choice {
    /// None at all.
    None,
    /// The server's best.
    Best,
    /// This one (its id).
    Picked(String),
}

/// A basket as ordering's contract sends it, checked.
struct Asked {
    customer: String,
    lines: Vec<BasketLine>,
    choice: Choice,
    use_points: bool,
}

/// What a checkout read of the shop and the customer.
#[derive(Default)]
struct Standing {
    promos: Vec<Promo>,
    member: Option<members::Model>,
    usable: Vec<Held>,
    /// Locked to this order already (a repeated lock).
    locked: Vec<Held>,
    /// This order's points entry (a repeated lock).
    spent: Option<ledger::Model>,
}

/// One usable coupon against a basket.
struct Option_ {
    held: Held,
    terms: Terms,
    off: std::result::Result<i64, domain::Problem>,
}

impl Option_ {
    fn to_pb(&self, tenant: TenantId) -> opb::CouponOption {
        let (zh, en) = domain::label(&self.terms);
        opb::CouponOption {
            coupon: name_of::<Coupons>(tenant, &self.held.coupon.coupon_id),
            title_zh: zh,
            title_en: en,
            amount_fen: self.off.unwrap_or(0),
            problem: match self.off {
                Ok(x) if x > 0 => String::new(),
                Ok(_) => domain::Problem::NotInScope.as_str().into(),
                Err(p) => p.as_str().into(),
            },
        }
    }

    fn discount(&self, tenant: TenantId) -> opb::Discount {
        let c = coupons::Model {
            discount_fen: self.off.unwrap_or(0),
            ..self.held.coupon.clone()
        };
        discount_of(tenant, &c, &self.terms)
    }
}

/// A coupon's discount as ordering's contract has it.
fn discount_of(tenant: TenantId, c: &coupons::Model, terms: &Terms) -> opb::Discount {
    let (label_zh, label_en) = domain::label(terms);
    opb::Discount {
        source: name_of::<Coupons>(tenant, &c.coupon_id),
        kind: "COUPON".into(),
        label_zh,
        label_en,
        amount_fen: c.discount_fen,
    }
}

/// One way to discount the basket: its lines (before points) and the coupon it takes.
struct Plan {
    discounts: Vec<opb::Discount>,
    coupon: Option<usize>,
}

impl Plan {
    fn off(&self) -> i64 {
        self.discounts
            .iter()
            .map(|d| d.amount_fen)
            .fold(0, i64::saturating_add)
    }
}

fn items_of(lines: &[BasketLine]) -> i64 {
    lines
        .iter()
        .map(|l| l.unit_price_fen.saturating_mul(l.quantity.max(0)))
        .fold(0, i64::saturating_add)
}

/// The member level's discount off `lines`, when the customer's level has one.
fn level_discount(
    tenant: TenantId,
    config: &Config,
    member: Option<&members::Model>,
    lines: &[BasketLine],
) -> Option<opb::Discount> {
    let (Some(level), _) = crate::points::level(config, member?) else {
        return None;
    };
    let off = domain::level_discount(&level, items_of(lines));
    if off <= 0 {
        return None;
    }
    let en = if level.name_en.is_empty() {
        level.name_zh.clone()
    } else {
        level.name_en.clone()
    };
    Some(opb::Discount {
        source: name_of::<Members>(tenant, &member?.customer_id),
        kind: "MEMBER_LEVEL".into(),
        label_zh: format!("{}优惠 {}%", level.name_zh, level.discount_percent),
        label_en: format!("{en} {}% off", level.discount_percent),
        amount_fen: off,
    })
}

/// What the customer's points can pay of `left_fen`: (points, fen), whole yuan only.
pub fn points_for_basket(config: &Config, balance: i64, left_fen: i64) -> (i64, i64) {
    if config.points_per_yuan_off <= 0 || balance <= 0 || left_fen <= 0 {
        return (0, 0);
    }
    let cap = left_fen.saturating_mul(config.points_cap_percent.clamp(0, 100)) / 100;
    let yuan = (balance / config.points_per_yuan_off).min(cap / 100);
    (yuan * config.points_per_yuan_off, yuan * 100)
}

fn points_discount(tenant: TenantId, customer: &str, points: i64, fen: i64) -> opb::Discount {
    opb::Discount {
        source: name_of::<Members>(tenant, customer),
        kind: "POINTS".into(),
        label_zh: format!("积分抵扣（{points} 积分）"),
        label_en: format!("{points} points"),
        amount_fen: fen,
    }
}

/// The coupons against the basket (best first) and the ways to discount it, best first; with
/// a coupon picked, only that way (or, when it cannot be used, none and its problem).
fn plans(
    tenant: TenantId,
    config: &Config,
    st: &Standing,
    lines: &[BasketLine],
    choice: &Choice,
) -> (Vec<Option_>, Vec<Plan>, Option<MarketingError>) {
    let (promo, repriced) = promotions::apply(tenant, &st.promos, lines);
    let member = st.member.as_ref();
    let mut options: Vec<Option_> = st
        .usable
        .iter()
        .map(|h| {
            let terms = terms_of(&h.template);
            let on = if terms.stackable { &repriced } else { lines };
            let off = domain::discount(&terms, ORDERING, on);
            Option_ {
                held: h.clone(),
                terms,
                off,
            }
        })
        .collect();
    // Most off first; of equals, the one expiring first.
    options.sort_by(|a, b| {
        b.off
            .unwrap_or(0)
            .cmp(&a.off.unwrap_or(0))
            .then(a.held.coupon.valid_until.cmp(&b.held.coupon.valid_until))
    });
    let base = || Plan {
        discounts: promo
            .iter()
            .cloned()
            .chain(level_discount(tenant, config, member, &repriced))
            .collect(),
        coupon: None,
    };
    let with = |i: usize, o: &Option_| {
        let mut discounts: Vec<opb::Discount> = if o.terms.stackable {
            promo
                .iter()
                .cloned()
                .chain(level_discount(tenant, config, member, &repriced))
                .collect()
        } else {
            level_discount(tenant, config, member, lines)
                .into_iter()
                .collect()
        };
        discounts.push(o.discount(tenant));
        Plan {
            discounts,
            coupon: Some(i),
        }
    };
    match choice {
        Choice::None => (options, vec![base()], None),
        Choice::Best => {
            let mut all = vec![base()];
            all.extend(
                options
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.off.is_ok_and(|x| x > 0))
                    .map(|(i, o)| with(i, o)),
            );
            // Stable: of equals, no coupon (it stays for another order), then the coupon
            // expiring first.
            all.sort_by_key(|p| std::cmp::Reverse(p.off()));
            (options, all, None)
        }
        Choice::Picked(id) => {
            let problem = match options.iter().position(|o| &o.held.coupon.coupon_id == id) {
                None => MarketingError::CouponUnavailable,
                Some(i) => match options[i].off {
                    Ok(x) if x > 0 => {
                        let p = with(i, &options[i]);
                        return (options, vec![p], None);
                    }
                    Ok(_) => MarketingError::CouponNotApplicable {
                        problem: domain::Problem::NotInScope.as_str(),
                    },
                    Err(p) => MarketingError::CouponNotApplicable {
                        problem: p.as_str(),
                    },
                },
            };
            (options, vec![base()], Some(problem))
        }
    }
}

impl MarketingApp {
    /// The basket's lines and customer, checked as ordering's contract sends them.
    fn asked(tenant: TenantId, b: Option<&opb::DiscountBasket>) -> Result<Asked> {
        let b = b.ok_or_else(|| RequestError::invalid("basket", "is required"))?;
        let customer = Child::<Users>::id_in(tenant, &b.customer, "basket.customer")?;
        let mut lines = Vec::new();
        for l in &b.lines {
            lines.push(BasketLine {
                product_id: Child::<Products>::id_in(tenant, &l.product, "basket.lines.product")?,
                sku_id: l.sku_id.clone(),
                category_id: if l.category.is_empty() {
                    String::new()
                } else {
                    Child::<Categories>::id_in(tenant, &l.category, "basket.lines.category")?
                },
                unit_price_fen: l.unit_price_fen,
                quantity: i64::from(l.quantity),
            });
        }
        let choice = if b.no_coupon {
            Choice::None
        } else if b.coupon.is_empty() {
            Choice::Best
        } else {
            Choice::Picked(Child::<Coupons>::id_in(tenant, &b.coupon, "basket.coupon")?)
        };
        Ok(Asked {
            customer,
            lines,
            choice,
            use_points: b.use_points,
        })
    }

    /// Reads what a checkout needs in one read transaction; `order` for a lock. A lock for a
    /// customer with no coupon in play, not paying with points, reads nothing when that is held
    /// in memory (most orders).
    #[allow(clippy::too_many_arguments)]
    async fn standing(
        &self,
        scope: &TenantScope,
        config: &Config,
        customer: &str,
        order: Option<&str>,
        picked: Option<&str>,
        points: bool,
        now: DateTime<Utc>,
    ) -> Result<Standing> {
        let t = scope.tenant();
        let levels = config.levels.iter().any(|l| l.discount_percent > 0);
        // Only a lock with the server's choice (or none) and no points may be answered from
        // memory: a coupon picked, points or a repeated lock are read from the database.
        let memo = order.is_some() && picked.is_none() && !points;
        if memo
            && let Some(q) = self.memo.quiet(t, customer)
            && (q.member.is_some() || !levels)
            && let Some(promos) = self.memo.promos(t)
        {
            return Ok(Standing {
                promos: promos
                    .iter()
                    .filter(|p| crate::memo::runs(p, now))
                    .map(Promo::of)
                    .collect(),
                member: q.member.flatten(),
                ..Default::default()
            });
        }
        let generation = self.memo.generation();
        let txn = scope.one(&self.db).await?;
        let (st, in_play, member) = self
            .read_standing(&txn, scope, levels, customer, order, picked, points, now)
            .await?;
        txn.commit().await?;
        if memo && !in_play {
            self.memo
                .keep_quiet(t, customer, crate::memo::Quiet { member }, generation);
        }
        Ok(st)
    }

    /// The reads of [`Self::standing`] in the caller's transaction; with whether any coupon of
    /// the customer's is in play and the member row as read (`None`: not read).
    #[allow(clippy::too_many_arguments)]
    async fn read_standing(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        scope: &TenantScope,
        levels: bool,
        customer: &str,
        order: Option<&str>,
        picked: Option<&str>,
        points: bool,
        now: DateTime<Utc>,
    ) -> Result<(Standing, bool, Option<Option<members::Model>>)> {
        let promos = self.running(txn, scope, now).await?;
        let (locked, usable, in_play) = match order {
            Some(o) => {
                let c = repo::for_checkout(txn, scope, customer, o, now, picked).await?;
                (c.locked, c.usable, c.in_play)
            }
            None => (
                Vec::new(),
                repo::usable(txn, scope, customer, now).await?,
                true,
            ),
        };
        let member = if levels || points {
            Some(repo::find_member(txn, scope, customer).await?)
        } else {
            None
        };
        let spent = match order {
            Some(o) if points => {
                repo::entry_by_source(txn, scope, &format!("orders/{o}:spend")).await?
            }
            _ => None,
        };
        let mut held = self
            .with_templates(txn, scope, locked.into_iter().chain(usable).collect())
            .await?;
        let usable =
            held.split_off(held.partition_point(|h| order.is_some_and(|o| h.coupon.order_id == o)));
        Ok((
            Standing {
                promos,
                member: member.clone().flatten(),
                usable,
                locked: held,
                spent,
            },
            in_play,
            member,
        ))
    }

    /// What the basket would take off; changes nothing (but may hand out the welcome coupon).
    pub async fn quote(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        basket: Option<&opb::DiscountBasket>,
    ) -> Result<opb::QuoteDiscountsResponse> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let config = self.config(tenant).await?;
        let a = Self::asked(tenant, basket)?;
        self.welcome(&scope, &config, &a.customer).await;
        let points = config.points_per_yuan_off > 0;
        let st = self
            .standing(
                &scope,
                &config,
                &a.customer,
                None,
                None,
                points,
                self.clock.now(),
            )
            .await?;
        let (options, plans, problem) = plans(tenant, &config, &st, &a.lines, &a.choice);
        let best = plans.into_iter().next().unwrap_or(Plan {
            discounts: Vec::new(),
            coupon: None,
        });
        let mut out = opb::QuoteDiscountsResponse {
            coupons: options.iter().map(|o| o.to_pb(tenant)).collect(),
            coupon_problem: problem
                .map(|p| match p {
                    MarketingError::CouponNotApplicable { problem } => problem.to_string(),
                    _ => "COUPON_UNAVAILABLE".to_string(),
                })
                .unwrap_or_default(),
            ..Default::default()
        };
        let left = items_of(&a.lines).saturating_sub(best.off());
        out.discounts = best.discounts;
        if points {
            let balance = st.member.as_ref().map_or(0, |m| m.points);
            let (p, fen) = points_for_basket(&config, balance, left);
            out.points = Some(opb::PointsOption {
                balance,
                usable_points: p,
                amount_fen: fen,
                points_per_yuan: config.points_per_yuan_off,
            });
            if a.use_points && p > 0 {
                out.discounts
                    .push(points_discount(tenant, &a.customer, p, fen));
            }
        }
        Ok(out)
    }

    /// Locks the discounts to an order; the same order again answers what it locked.
    pub async fn lock(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        order: &str,
        basket: Option<&opb::DiscountBasket>,
    ) -> Result<Vec<opb::Discount>> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let config = self.config(tenant).await?;
        let order = Child::<Orders>::id_in(tenant, order, "order")?;
        let a = Self::asked(tenant, basket)?;
        let points = a.use_points && config.points_per_yuan_off > 0;
        let now = self.clock.now();
        // Read first, write only what there is to take: most orders carry no coupon, and they
        // must not queue for SQLite's one writer (or take a lock) for nothing.
        // A coupon picked is the only one a lock needs to read (a customer may hold many).
        let picked = match &a.choice {
            Choice::Picked(id) => Some(id.as_str()),
            _ => None,
        };
        let mut st = self
            .standing(
                &scope,
                &config,
                &a.customer,
                Some(&order),
                picked,
                points,
                now,
            )
            .await?;
        if !st.locked.is_empty() || st.spent.is_some() {
            return Ok(self.relocked(tenant, &config, st, &a));
        }
        let (options, plans, problem) = plans(tenant, &config, &st, &a.lines, &a.choice);
        if let Some(p) = problem {
            return Err(p);
        }
        let mut chosen = None;
        for plan in plans {
            let Some(i) = plan.coupon else {
                chosen = Some(plan);
                break;
            };
            let o = &options[i];
            // One conditional update: of concurrent checkouts with this coupon, one wins; the
            // others take the next best way (or, having picked it, are refused). Grouped with the
            // shop's other locks of the moment, in a writer's transaction (on SQLite it queues
            // with this process's other writers). (Reading in the same write transaction
            // measured no faster: it holds the writer through the reads.)
            let input = (
                scope,
                o.held.coupon.coupon_id.clone(),
                a.customer.clone(),
                order.clone(),
                o.off.unwrap_or(0),
                now,
            );
            let won = self
                .locks
                .run(
                    &self.db,
                    &scope,
                    input,
                    |txn, (scope, coupon, who, order, off, now)| {
                        Box::pin(repo::lock(txn, scope, coupon, who, order, *off, *now))
                    },
                )
                .await?;
            if won {
                chosen = Some(plan);
                break;
            }
            if matches!(a.choice, Choice::Picked(_)) {
                return Err(MarketingError::CouponUnavailable);
            }
        }
        let mut discounts = chosen.map(|p| p.discounts).unwrap_or_default();
        if points {
            let left = items_of(&a.lines).saturating_sub(
                discounts
                    .iter()
                    .map(|d| d.amount_fen)
                    .fold(0, i64::saturating_add),
            );
            // Spent elsewhere between the read and the write: the balance is read again and
            // what it can pay then is paid (the order then differs from its quote, which
            // ordering refuses as PRICE_CHANGED when the customer was shown a total).
            for _ in 0..3 {
                let balance = st.member.as_ref().map_or(0, |m| m.points);
                let (p, fen) = points_for_basket(&config, balance, left);
                if p <= 0 {
                    break;
                }
                match self.spend(&scope, &a.customer, &order, p, fen).await? {
                    Spent::Taken(e) => {
                        discounts.push(points_discount(tenant, &a.customer, -e.delta, e.order_fen));
                        break;
                    }
                    Spent::Short => {
                        let txn = scope.one(&self.db).await?;
                        st.member = repo::find_member(&txn, &scope, &a.customer).await?;
                        txn.commit().await?;
                    }
                }
            }
        }
        Ok(discounts)
    }

    /// What a repeated lock answers: the coupon and points the first one took, with the
    /// promotions and level counted again.
    fn relocked(
        &self,
        tenant: TenantId,
        config: &Config,
        st: Standing,
        a: &Asked,
    ) -> Vec<opb::Discount> {
        let (promo, repriced) = promotions::apply(tenant, &st.promos, &a.lines);
        let member = st.member.as_ref();
        let stacked = st.locked.iter().all(|h| h.template.stackable);
        let mut out: Vec<opb::Discount> = if stacked {
            promo
                .into_iter()
                .chain(level_discount(tenant, config, member, &repriced))
                .collect()
        } else {
            level_discount(tenant, config, member, &a.lines)
                .into_iter()
                .collect()
        };
        out.extend(
            st.locked
                .iter()
                .map(|h| discount_of(tenant, &h.coupon, &terms_of(&h.template))),
        );
        if let Some(e) = &st.spent {
            out.push(points_discount(tenant, &a.customer, -e.delta, e.order_fen));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(per_yuan: i64, cap: i64) -> Config {
        Config {
            points_per_yuan_off: per_yuan,
            points_cap_percent: cap,
            ..Default::default()
        }
    }

    #[test]
    fn points_pay_whole_yuan_within_the_cap_and_the_balance() {
        // 100 points a yuan, half of ¥35.50 at most: ¥17, 1,700 points.
        assert_eq!(
            points_for_basket(&config(100, 50), 10_000, 3_550),
            (1_700, 1_700)
        );
        // The balance runs out first: 250 points pay ¥2.
        assert_eq!(points_for_basket(&config(100, 50), 250, 3_550), (200, 200));
        // Points off, nothing left, or nothing held: nothing.
        assert_eq!(points_for_basket(&config(0, 50), 10_000, 3_550), (0, 0));
        assert_eq!(points_for_basket(&config(100, 50), 10_000, 0), (0, 0));
        assert_eq!(points_for_basket(&config(100, 100), 0, 3_550), (0, 0));
        // Never more than the order: a cap of 100% pays ¥35 of ¥35.50.
        assert_eq!(
            points_for_basket(&config(10, 100), 1_000_000, 3_550),
            (350, 3_500)
        );
    }
}
