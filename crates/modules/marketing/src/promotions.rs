//! Promotions (促销活动): full reductions in tiers (满减) and time-limited discounts on products
//! (限时折扣), applied at checkout to every customer between their start and end.
//!
//! What they take off is decided here, in pure functions over the basket's priced lines, so the
//! quote, the lock and the mini-program's struck-through menu prices agree to the fen: a
//! time-limited discount takes `floor(unit × percent / 100)` off each unit (the menu shows
//! `unit − that`), and of several on one line the largest wins; then the basket takes the one
//! largest full reduction its lines in scope reach, counted after those unit discounts.

use chrono::{DateTime, Duration, Utc};
use mm_kernel::audit::{self, AuditRecord};
use mm_kernel::error::{FieldViolation, RequestError};
use mm_kernel::json::timestamp as ts;
use mm_kernel::names::name_of;
use mm_kernel::{RequestContext, TenantId, TenantScope};
use mm_proto::minimodules::marketing::v1 as pb;
use mm_proto::minimodules::ordering::v1 as opb;

use crate::domain::{BasketLine, check_title, ids_in, timestamp};
use crate::entity::promotions;
use crate::error::{MarketingError, Result};
use crate::names::{Categories, Products, Promotions};
use crate::repo;
use crate::service::{MarketingApp, customer_of};

/// Kinds as stored.
pub const TIERED: &str = "TIERED";
/// A time-limited discount on products.
pub const PERCENT_OFF: &str = "PERCENT_OFF";

/// One tier of a full reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tier {
    /// Reached at this much of the lines in scope, in fen.
    pub threshold_fen: i64,
    /// Then this is taken off, in fen.
    pub amount_off_fen: i64,
}

/// A promotion's terms, as checkout reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promo {
    /// Its id.
    pub id: String,
    /// Title (Chinese).
    pub title_zh: String,
    /// Title (English; the Chinese one when empty).
    pub title_en: String,
    /// TIERED or PERCENT_OFF.
    pub kind: &'static str,
    /// TIERED: rising.
    pub tiers: Vec<Tier>,
    /// PERCENT_OFF.
    pub percent_off: i32,
    /// Product ids in scope.
    pub product_ids: Vec<String>,
    /// Category ids in scope.
    pub category_ids: Vec<String>,
}

impl Promo {
    /// The terms of a stored row.
    pub fn of(r: &promotions::Model) -> Self {
        let list = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap_or_default();
        Self {
            id: r.promotion_id.clone(),
            title_zh: r.title_zh.clone(),
            title_en: r.title_en.clone(),
            kind: if r.kind == TIERED {
                TIERED
            } else {
                PERCENT_OFF
            },
            tiers: serde_json::from_str(&r.tiers).unwrap_or_default(),
            percent_off: r.percent_off,
            product_ids: list(&r.product_ids),
            category_ids: list(&r.category_ids),
        }
    }

    fn covers(&self, l: &BasketLine) -> bool {
        (self.product_ids.is_empty() && self.category_ids.is_empty())
            || self.product_ids.contains(&l.product_id)
            || (!l.category_id.is_empty() && self.category_ids.contains(&l.category_id))
    }

    fn title_en(&self) -> &str {
        if self.title_en.is_empty() {
            &self.title_zh
        } else {
            &self.title_en
        }
    }
}

/// Yuan for a label: "30", "15.5", "0.05".
pub fn yuan(fen: i64) -> String {
    let (y, f) = (fen / 100, fen % 100);
    match f {
        0 => y.to_string(),
        f if f % 10 == 0 => format!("{y}.{}", f / 10),
        f => format!("{y}.{f:02}"),
    }
}

/// What one unit at `unit_fen` costs less under a `percent` discount (rounded down).
pub fn unit_off(unit_fen: i64, percent: i32) -> i64 {
    unit_fen
        .max(0)
        .saturating_mul(i64::from(percent.clamp(0, 100)))
        / 100
}

/// What the running promotions take off `lines`: the discount lines (one per promotion that
/// takes something) and the lines repriced after the time-limited discounts, which coupons and
/// the member level are then counted on.
pub fn apply(
    tenant: TenantId,
    promos: &[Promo],
    lines: &[BasketLine],
) -> (Vec<opb::Discount>, Vec<BasketLine>) {
    let mut out: Vec<opb::Discount> = Vec::new();
    let mut repriced = lines.to_vec();
    // Per promotion, what its unit discounts took (in the order the promotions came).
    let mut taken: Vec<i64> = vec![0; promos.len()];
    for l in &mut repriced {
        let best = promos
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == PERCENT_OFF && p.covers(l))
            .map(|(i, p)| (i, unit_off(l.unit_price_fen, p.percent_off)))
            .max_by_key(|&(i, off)| (off, std::cmp::Reverse(i)));
        if let Some((i, off)) = best.filter(|&(_, off)| off > 0) {
            taken[i] = taken[i].saturating_add(off.saturating_mul(l.quantity.max(0)));
            l.unit_price_fen -= off;
        }
    }
    for (p, off) in promos.iter().zip(&taken) {
        if *off > 0 {
            let pct = 100 - p.percent_off;
            let zhe = if pct % 10 == 0 {
                format!("{}折", pct / 10)
            } else {
                format!("{pct}折")
            };
            out.push(opb::Discount {
                source: name_of::<Promotions>(tenant, &p.id),
                kind: "PROMOTION".into(),
                label_zh: format!("{}·{zhe}", p.title_zh),
                label_en: format!("{} · {}% off", p.title_en(), p.percent_off),
                amount_fen: *off,
            });
        }
    }
    let tiered = promos
        .iter()
        .filter(|p| p.kind == TIERED)
        .filter_map(|p| {
            let eligible: i64 = repriced
                .iter()
                .filter(|l| p.covers(l))
                .map(|l| l.unit_price_fen.saturating_mul(l.quantity.max(0)))
                .fold(0, i64::saturating_add);
            let tier = p
                .tiers
                .iter()
                .filter(|t| t.threshold_fen <= eligible)
                .max_by_key(|t| t.amount_off_fen)?;
            Some((p, *tier, tier.amount_off_fen.min(eligible)))
        })
        .max_by_key(|(_, _, off)| *off);
    if let Some((p, tier, off)) = tiered.filter(|(_, _, off)| *off > 0) {
        out.push(opb::Discount {
            source: name_of::<Promotions>(tenant, &p.id),
            kind: "PROMOTION".into(),
            label_zh: format!(
                "{}·满{}减{}",
                p.title_zh,
                yuan(tier.threshold_fen),
                yuan(tier.amount_off_fen)
            ),
            label_en: format!(
                "{} · ¥{} off ¥{}",
                p.title_en(),
                yuan(tier.amount_off_fen),
                yuan(tier.threshold_fen)
            ),
            amount_fen: off,
        });
    }
    (out, repriced)
}

/// A promotion as staff sent it, checked.
pub struct Checked {
    kind: &'static str,
    tiers: Vec<Tier>,
    percent_off: i32,
    product_ids: Vec<String>,
    category_ids: Vec<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

fn check_window(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    v: &mut Vec<FieldViolation>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    match (start, end) {
        (Some(s), Some(e)) if e <= s => {
            v.push(
                FieldViolation::new("promotion.end_time", "must be after the start time")
                    .reason("BEFORE_START"),
            );
            None
        }
        (Some(s), Some(e)) if e - s > Duration::days(366) => {
            v.push(
                FieldViolation::new("promotion.end_time", "at most a year after the start")
                    .reason("ABOVE_MAXIMUM"),
            );
            None
        }
        (Some(_), Some(e)) if e <= now => {
            v.push(
                FieldViolation::new("promotion.end_time", "must be in the future")
                    .reason("IN_THE_PAST"),
            );
            None
        }
        (Some(s), Some(e)) => Some((s, e)),
        (s, e) => {
            if s.is_none() {
                v.push(FieldViolation::required("promotion.start_time"));
            }
            if e.is_none() {
                v.push(FieldViolation::required("promotion.end_time"));
            }
            None
        }
    }
}

/// Checks a new promotion.
pub fn check(t: TenantId, p: &pb::Promotion, now: DateTime<Utc>) -> Result<Checked> {
    let mut v = Vec::new();
    check_title("promotion.title_zh", &p.title_zh, 1, 40, &mut v);
    check_title("promotion.title_en", &p.title_en, 0, 80, &mut v);
    let kind = match pb::PromotionKind::try_from(p.kind) {
        Ok(pb::PromotionKind::Tiered) => Some(TIERED),
        Ok(pb::PromotionKind::PercentOff) => Some(PERCENT_OFF),
        _ => {
            v.push(FieldViolation::new(
                "promotion.kind",
                "must be TIERED or PERCENT_OFF",
            ));
            None
        }
    };
    let mut tiers = Vec::new();
    if kind == Some(TIERED) {
        if p.tiers.is_empty() || p.tiers.len() > 5 {
            v.push(FieldViolation::new("promotion.tiers", "1 to 5 tiers").reason("OUT_OF_RANGE"));
        }
        let mut last = Tier {
            threshold_fen: 0,
            amount_off_fen: 0,
        };
        for (i, t) in p.tiers.iter().take(5).enumerate() {
            let ok = (1..=100_000_000).contains(&t.threshold_fen)
                && t.amount_off_fen > 0
                && t.amount_off_fen < t.threshold_fen;
            if !ok {
                v.push(FieldViolation::new(
                    format!("promotion.tiers[{i}]"),
                    "threshold 0.01 to 1,000,000 yuan, amount off above 0 and below it",
                ));
            } else if t.threshold_fen <= last.threshold_fen
                || t.amount_off_fen <= last.amount_off_fen
            {
                v.push(
                    FieldViolation::new(
                        format!("promotion.tiers[{i}]"),
                        "thresholds and amounts must rise from tier to tier",
                    )
                    .reason("NOT_RISING"),
                );
            }
            last = Tier {
                threshold_fen: t.threshold_fen,
                amount_off_fen: t.amount_off_fen,
            };
            tiers.push(last);
        }
    }
    if kind == Some(PERCENT_OFF) && !(1..=90).contains(&p.percent_off) {
        v.push(FieldViolation::new(
            "promotion.percent_off",
            "must be 1 to 90",
        ));
    }
    let product_ids = ids_in::<Products>(t, &p.products, "promotion.products", &mut v);
    let category_ids = ids_in::<Categories>(t, &p.categories, "promotion.categories", &mut v);
    let window = check_window(
        timestamp(&p.start_time),
        timestamp(&p.end_time),
        now,
        &mut v,
    );
    match (kind, window) {
        (Some(kind), Some((starts_at, ends_at))) if v.is_empty() => Ok(Checked {
            kind,
            tiers,
            percent_off: if kind == PERCENT_OFF {
                p.percent_off
            } else {
                0
            },
            product_ids,
            category_ids,
            starts_at,
            ends_at,
        }),
        _ => Err(RequestError::Invalid(v).into()),
    }
}

/// A promotion as the contract has it.
pub fn to_pb(r: &promotions::Model) -> pb::Promotion {
    let p = Promo::of(r);
    let t = r.tenant_id;
    pb::Promotion {
        name: name_of::<Promotions>(t, &r.promotion_id),
        title_zh: r.title_zh.clone(),
        title_en: r.title_en.clone(),
        kind: if p.kind == TIERED {
            pb::PromotionKind::Tiered
        } else {
            pb::PromotionKind::PercentOff
        } as i32,
        tiers: p
            .tiers
            .iter()
            .map(|t| pb::PromotionTier {
                threshold_fen: t.threshold_fen,
                amount_off_fen: t.amount_off_fen,
            })
            .collect(),
        percent_off: r.percent_off,
        products: p
            .product_ids
            .iter()
            .map(|id| name_of::<Products>(t, id))
            .collect(),
        categories: p
            .category_ids
            .iter()
            .map(|id| name_of::<Categories>(t, id))
            .collect(),
        start_time: Some(ts(r.starts_at)),
        end_time: Some(ts(r.ends_at)),
        state: if r.state == repo::ACTIVE {
            pb::PromotionState::Active
        } else {
            pb::PromotionState::Stopped
        } as i32,
        create_time: Some(ts(r.created_at)),
        update_time: Some(ts(r.updated_at)),
    }
}

/// What may change of a promotion.
#[derive(Debug, Clone, Default)]
pub struct PromotionChanges {
    /// Title (Chinese).
    pub title_zh: Option<String>,
    /// Title (English).
    pub title_en: Option<String>,
    /// Start.
    pub starts_at: Option<DateTime<Utc>>,
    /// End.
    pub ends_at: Option<DateTime<Utc>>,
    /// Stopped (final).
    pub stop: bool,
}

impl MarketingApp {
    /// Creates a promotion.
    pub async fn create_promotion(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        p: &pb::Promotion,
    ) -> Result<promotions::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        self.config(tenant).await?;
        let now = self.clock.now();
        let c = check(tenant, p, now)?;
        let json = |v: &[String]| serde_json::to_string(v).map_err(anyhow::Error::from);
        let row = promotions::Model {
            tenant_id: tenant,
            promotion_id: uuid::Uuid::now_v7().to_string(),
            title_zh: p.title_zh.trim().to_string(),
            title_en: p.title_en.trim().to_string(),
            kind: c.kind.into(),
            tiers: serde_json::to_string(&c.tiers).map_err(anyhow::Error::from)?,
            percent_off: c.percent_off,
            product_ids: json(&c.product_ids)?,
            category_ids: json(&c.category_ids)?,
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            state: repo::ACTIVE.into(),
            created_at: now,
            updated_at: now,
        };
        let txn = scope.begin(&self.db).await?;
        repo::insert_promotion(&txn, &scope, row.clone()).await?;
        audit::record(
            &txn,
            AuditRecord::by(
                ctx,
                Some(tenant),
                "marketing.promotion.create",
                row.promotion_id.clone(),
            )
            .with(serde_json::json!({
                "title": row.title_zh, "kind": row.kind,
                "starts_at": row.starts_at, "ends_at": row.ends_at,
            })),
        )
        .await?;
        txn.commit().await?;
        self.memo.promotions_changed(tenant).await;
        Ok(row)
    }

    /// Staff: the promotions overlapping `[from, to)` (all when unset); customers: those
    /// running now.
    pub async fn list_promotions(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<promotions::Model>> {
        let scope = ctx.authorize_tenant(&tenant)?;
        self.config(tenant).await?;
        if customer_of(ctx)?.is_some() {
            let txn = scope.one(&self.db).await?;
            let now = self.clock.now();
            let mut rows = repo::live_promotions(&txn, &scope, now).await?;
            rows.retain(|p| crate::memo::runs(p, now));
            txn.commit().await?;
            return Ok(rows);
        }
        if let (Some(f), Some(t)) = (from, to)
            && t <= f
        {
            return Err(RequestError::invalid("window_end", "must be after window_start").into());
        }
        let txn = scope.one(&self.db).await?;
        let rows = repo::list_promotions(&txn, &scope, from, to).await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// Changes a promotion's titles or dates, or stops it.
    pub async fn update_promotion(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        changes: PromotionChanges,
    ) -> Result<promotions::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        self.config(tenant).await?;
        let now = self.clock.now();
        let mut v = Vec::new();
        if let Some(t) = &changes.title_zh {
            check_title("promotion.title_zh", t, 1, 40, &mut v);
        }
        if let Some(t) = &changes.title_en {
            check_title("promotion.title_en", t, 0, 80, &mut v);
        }
        let txn = scope.begin_write(&self.db).await?;
        let Some(before) = repo::find_promotion(&txn, &scope, id).await? else {
            return Err(MarketingError::PromotionNotFound {
                promotion: name_of::<Promotions>(tenant, id),
            });
        };
        if before.state != repo::ACTIVE && !changes.stop {
            v.push(
                FieldViolation::new("promotion.state", "a stopped promotion cannot change")
                    .reason("STOPPED"),
            );
        }
        if changes.starts_at.is_some() || changes.ends_at.is_some() {
            check_window(
                Some(changes.starts_at.unwrap_or(before.starts_at)),
                Some(changes.ends_at.unwrap_or(before.ends_at)),
                now,
                &mut v,
            );
        }
        if !v.is_empty() {
            return Err(RequestError::Invalid(v).into());
        }
        let after = promotions::Model {
            title_zh: changes
                .title_zh
                .map_or(before.title_zh.clone(), |t| t.trim().to_string()),
            title_en: changes
                .title_en
                .map_or(before.title_en.clone(), |t| t.trim().to_string()),
            starts_at: changes.starts_at.unwrap_or(before.starts_at),
            ends_at: changes.ends_at.unwrap_or(before.ends_at),
            state: if changes.stop {
                repo::STOPPED.into()
            } else {
                before.state.clone()
            },
            updated_at: now,
            ..before.clone()
        };
        repo::save_promotion(&txn, &scope, &after).await?;
        audit::record(
            &txn,
            AuditRecord::by(
                ctx,
                Some(tenant),
                "marketing.promotion.update",
                id.to_string(),
            )
            .with(serde_json::json!({
                "state": [before.state, after.state],
                "starts_at": [before.starts_at, after.starts_at],
                "ends_at": [before.ends_at, after.ends_at],
            })),
        )
        .await?;
        txn.commit().await?;
        self.memo.promotions_changed(tenant).await;
        Ok(after)
    }

    /// The promotions running for the tenant at `now`, as checkout reads them: held in memory
    /// until a promotion of the tenant changes (they change rarely; orders come all day).
    pub(crate) async fn running(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &TenantScope,
        now: DateTime<Utc>,
    ) -> Result<Vec<Promo>> {
        let t = scope.tenant();
        let held = match self.memo.promos(t) {
            Some(rows) => rows,
            None => {
                let generation = self.memo.generation();
                let rows = repo::live_promotions(db, scope, now).await?;
                self.memo.keep_promos(t, rows.clone(), generation);
                std::sync::Arc::new(rows)
            }
        };
        Ok(held
            .iter()
            .filter(|p| crate::memo::runs(p, now))
            .map(Promo::of)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: &str, category: &str, price: i64, qty: i64) -> BasketLine {
        BasketLine {
            product_id: product.into(),
            sku_id: "s".into(),
            category_id: category.into(),
            unit_price_fen: price,
            quantity: qty,
        }
    }

    fn promo(id: &str, kind: &'static str) -> Promo {
        Promo {
            id: id.into(),
            title_zh: "活动".into(),
            title_en: String::new(),
            kind,
            tiers: vec![],
            percent_off: 0,
            product_ids: vec![],
            category_ids: vec![],
        }
    }

    fn tenant() -> TenantId {
        TenantId::new()
    }

    #[test]
    fn a_unit_discount_is_per_unit_rounded_down_and_the_best_one_wins() {
        let mut a = promo("a", PERCENT_OFF);
        a.percent_off = 15;
        a.product_ids = vec!["p".into()];
        let mut b = promo("b", PERCENT_OFF);
        b.percent_off = 20;
        b.category_ids = vec!["c".into()];
        let lines = [line("p", "c", 999, 3), line("q", "", 1000, 1)];
        let (d, repriced) = apply(tenant(), &[a, b], &lines);
        // 20% of 999 is 199.8: 199 off each unit, three units; the other line is in no scope.
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].amount_fen, 597);
        assert!(d[0].source.ends_with("/promotions/b"), "{}", d[0].source);
        assert_eq!(d[0].label_zh, "活动·8折");
        assert_eq!(repriced[0].unit_price_fen, 800);
        assert_eq!(repriced[1].unit_price_fen, 1000);
    }

    #[test]
    fn the_highest_tier_reached_is_taken_counted_after_unit_discounts() {
        let mut t = promo("t", TIERED);
        t.tiers = vec![
            Tier {
                threshold_fen: 5_000,
                amount_off_fen: 500,
            },
            Tier {
                threshold_fen: 10_000,
                amount_off_fen: 1_500,
            },
        ];
        let (d, _) = apply(
            tenant(),
            std::slice::from_ref(&t),
            &[line("p", "", 10_000, 1)],
        );
        assert_eq!(d[0].amount_fen, 1_500);
        assert_eq!(d[0].label_zh, "活动·满100减15");
        let mut half = promo("h", PERCENT_OFF);
        half.percent_off = 50;
        let (d, _) = apply(tenant(), &[t.clone(), half], &[line("p", "", 10_000, 1)]);
        // 5,000 after the unit discount: the first tier only.
        assert_eq!(
            d.iter().map(|d| d.amount_fen).collect::<Vec<_>>(),
            [5_000, 500]
        );
        let (d, _) = apply(tenant(), &[t], &[line("p", "", 4_999, 1)]);
        assert!(d.is_empty());
    }

    #[test]
    fn yuan_reads_as_a_price() {
        assert_eq!(
            [yuan(3_000), yuan(1_550), yuan(5), yuan(1_505)],
            ["30", "15.5", "0.05", "15.05"]
        );
    }

    #[test]
    fn tiers_must_rise_and_windows_be_ordered() {
        let t = tenant();
        let now = Utc::now();
        let at = |d: i64| Some(ts(now + Duration::days(d)));
        let p = pb::Promotion {
            title_zh: "满减".into(),
            kind: pb::PromotionKind::Tiered as i32,
            tiers: vec![
                pb::PromotionTier {
                    threshold_fen: 10_000,
                    amount_off_fen: 1_000,
                },
                pb::PromotionTier {
                    threshold_fen: 5_000,
                    amount_off_fen: 2_000,
                },
            ],
            start_time: at(2),
            end_time: at(1),
            ..Default::default()
        };
        let Err(MarketingError::Request(RequestError::Invalid(v))) = check(t, &p, now) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = v.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["promotion.tiers[1]", "promotion.end_time"]);
        let ok = pb::Promotion {
            tiers: vec![pb::PromotionTier {
                threshold_fen: 10_000,
                amount_off_fen: 1_000,
            }],
            start_time: at(-1),
            end_time: at(1),
            ..p
        };
        assert!(check(t, &ok, now).is_ok());
    }
}
