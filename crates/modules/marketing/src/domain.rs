//! The rules of coupons, without I/O: what a template may say, when a coupon is valid, and what
//! it takes off a basket.

use chrono::{DateTime, Duration, Utc};
use mm_kernel::TenantId;
use mm_kernel::error::{FieldViolation, RequestError};
use mm_kernel::names::Child;
use mm_proto::minimodules::marketing::v1 as pb;

use crate::names::{Categories, Products};

/// What a coupon takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A fixed amount.
    AmountOff,
    /// A percentage, capped.
    PercentOff,
    /// A fixed amount from a threshold (满减).
    Threshold,
    /// One unit of an item free.
    FreeItem,
}

impl Kind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AmountOff => "amount_off",
            Self::PercentOff => "percent_off",
            Self::Threshold => "threshold",
            Self::FreeItem => "free_item",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::AmountOff,
            Self::PercentOff,
            Self::Threshold,
            Self::FreeItem,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// From the contract.
    pub fn from_pb(k: i32) -> Option<Self> {
        match pb::CouponKind::try_from(k).ok()? {
            pb::CouponKind::AmountOff => Some(Self::AmountOff),
            pb::CouponKind::PercentOff => Some(Self::PercentOff),
            pb::CouponKind::Threshold => Some(Self::Threshold),
            pb::CouponKind::FreeItem => Some(Self::FreeItem),
            pb::CouponKind::Unspecified => None,
        }
    }

    /// To the contract.
    pub fn to_pb(self) -> pb::CouponKind {
        match self {
            Self::AmountOff => pb::CouponKind::AmountOff,
            Self::PercentOff => pb::CouponKind::PercentOff,
            Self::Threshold => pb::CouponKind::Threshold,
            Self::FreeItem => pb::CouponKind::FreeItem,
        }
    }
}

/// Module ids a template may name.
pub const MODULES: [&str; 2] = ["ordering", "booking"];

/// The terms of a template, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Title (Chinese).
    pub title_zh: String,
    /// Title (English).
    pub title_en: String,
    /// Notes.
    pub description: String,
    /// Kind.
    pub kind: Kind,
    /// Amount off (AMOUNT_OFF, THRESHOLD).
    pub amount_off_fen: i64,
    /// Percent off (PERCENT_OFF).
    pub percent_off: i32,
    /// Cap (PERCENT_OFF), 0 for none.
    pub cap_fen: i64,
    /// Least eligible amount, 0 for none.
    pub threshold_fen: i64,
    /// The free item's product id (FREE_ITEM).
    pub free_product_id: String,
    /// The free item's SKU (FREE_ITEM).
    pub free_sku_id: String,
    /// Fixed validity.
    pub valid_from: Option<DateTime<Utc>>,
    /// Fixed validity.
    pub valid_until: Option<DateTime<Utc>>,
    /// Days after claiming.
    pub valid_days: i32,
    /// Coupons that can ever be handed out.
    pub total_quantity: i32,
    /// Per customer.
    pub per_customer_limit: i32,
    /// Module ids; empty for all.
    pub modules: Vec<String>,
    /// Product ids in scope.
    pub product_ids: Vec<String>,
    /// Category ids in scope.
    pub category_ids: Vec<String>,
    /// Combines with promotions.
    pub stackable: bool,
    /// In the coupon centre.
    pub claimable: bool,
}

pub(crate) fn timestamp(t: &Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
}

pub(crate) fn check_title(
    field: &str,
    s: &str,
    min: usize,
    max: usize,
    v: &mut Vec<FieldViolation>,
) {
    let n = s.trim().chars().count();
    if n < min {
        v.push(FieldViolation::required(field));
    } else if n > max {
        v.push(FieldViolation::too_long(field, max));
    }
}

/// The ids of `names` (of tenant `t`), or violations of `field`.
pub(crate) fn ids_in<C: mm_kernel::names::Collection>(
    t: TenantId,
    names: &[String],
    field: &str,
    v: &mut Vec<FieldViolation>,
) -> Vec<String> {
    if names.len() > 100 {
        v.push(FieldViolation::new(field, "at most 100"));
        return Vec::new();
    }
    let mut ids = Vec::new();
    for n in names {
        match Child::<C>::id_in(t, n, field) {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(RequestError::Invalid(mut e)) => v.append(&mut e),
            Err(_) => v.push(FieldViolation::new(field, "not a name of this shop")),
        }
    }
    ids
}

/// Checks a template's terms as a shop admin sent them, at `now`.
pub fn terms(
    t: TenantId,
    p: &pb::CouponTemplate,
    now: DateTime<Utc>,
) -> Result<Terms, RequestError> {
    let mut v = Vec::new();
    check_title("template.title_zh", &p.title_zh, 1, 40, &mut v);
    check_title("template.title_en", &p.title_en, 0, 80, &mut v);
    check_title("template.description", &p.description, 0, 200, &mut v);
    let kind = Kind::from_pb(p.kind);
    if kind.is_none() {
        v.push(FieldViolation::new(
            "template.kind",
            "must be AMOUNT_OFF, PERCENT_OFF, THRESHOLD or FREE_ITEM",
        ));
    }
    let money = |x: i64| (0..=100_000_000).contains(&x);
    if !money(p.amount_off_fen) {
        v.push(FieldViolation::new(
            "template.amount_off_fen",
            "must be 0 to 100,000,000",
        ));
    }
    if !money(p.cap_fen) {
        v.push(FieldViolation::new(
            "template.cap_fen",
            "must be 0 to 100,000,000",
        ));
    }
    if !money(p.threshold_fen) {
        v.push(FieldViolation::new(
            "template.threshold_fen",
            "must be 0 to 100,000,000",
        ));
    }
    let mut free_product_id = String::new();
    match kind {
        Some(Kind::AmountOff) if p.amount_off_fen <= 0 => v.push(FieldViolation::new(
            "template.amount_off_fen",
            "must be above 0",
        )),
        Some(Kind::Threshold) => {
            if p.amount_off_fen <= 0 {
                v.push(FieldViolation::new(
                    "template.amount_off_fen",
                    "must be above 0",
                ));
            }
            if p.threshold_fen <= p.amount_off_fen {
                v.push(FieldViolation::new(
                    "template.threshold_fen",
                    "must be above the amount off",
                ));
            }
        }
        Some(Kind::PercentOff) if !(1..=99).contains(&p.percent_off) => {
            v.push(FieldViolation::new(
                "template.percent_off",
                "must be 1 to 99",
            ));
        }
        Some(Kind::FreeItem) => {
            match Child::<Products>::id_in(t, &p.free_product, "template.free_product") {
                Ok(id) => free_product_id = id,
                Err(RequestError::Invalid(mut e)) => v.append(&mut e),
                Err(_) => v.push(FieldViolation::required("template.free_product")),
            }
            if p.free_sku_id.trim().is_empty() || p.free_sku_id.len() > 64 {
                v.push(FieldViolation::required("template.free_sku_id"));
            }
        }
        _ => {}
    }
    let (from, until) = (timestamp(&p.valid_from), timestamp(&p.valid_until));
    match (from, until, p.valid_days) {
        (None, None, 1..=365) => {}
        (Some(f), Some(u), 0) => {
            if u <= f {
                v.push(FieldViolation::new(
                    "template.valid_until",
                    "must be after valid_from",
                ));
            } else if u <= now {
                v.push(FieldViolation::new(
                    "template.valid_until",
                    "must be in the future",
                ));
            }
        }
        _ => v.push(FieldViolation::new(
            "template.valid_days",
            "give either valid_days (1 to 365) or both valid_from and valid_until",
        )),
    }
    if !(1..=1_000_000).contains(&p.total_quantity) {
        v.push(FieldViolation::new(
            "template.total_quantity",
            "must be 1 to 1,000,000",
        ));
    }
    if !(1..=100).contains(&p.per_customer_limit) {
        v.push(FieldViolation::new(
            "template.per_customer_limit",
            "must be 1 to 100",
        ));
    }
    let mut modules = Vec::new();
    for m in &p.modules {
        if !MODULES.contains(&m.as_str()) {
            v.push(FieldViolation::new(
                "template.modules",
                "must name ordering or booking",
            ));
        } else if !modules.contains(m) {
            modules.push(m.clone());
        }
    }
    let product_ids = ids_in::<Products>(t, &p.products, "template.products", &mut v);
    let category_ids = ids_in::<Categories>(t, &p.categories, "template.categories", &mut v);
    match kind {
        Some(kind) if v.is_empty() => Ok(Terms {
            title_zh: p.title_zh.trim().to_string(),
            title_en: p.title_en.trim().to_string(),
            description: p.description.trim().to_string(),
            kind,
            amount_off_fen: p.amount_off_fen,
            percent_off: p.percent_off,
            cap_fen: p.cap_fen,
            threshold_fen: p.threshold_fen,
            free_product_id,
            free_sku_id: p.free_sku_id.trim().to_string(),
            valid_from: from,
            valid_until: until,
            valid_days: p.valid_days,
            total_quantity: p.total_quantity,
            per_customer_limit: p.per_customer_limit,
            modules,
            product_ids,
            category_ids,
            stackable: p.stackable,
            claimable: p.claimable,
        }),
        _ => Err(RequestError::Invalid(v)),
    }
}

/// When a coupon claimed at `now` under `terms` can be used: from, until.
pub fn validity(terms: &Terms, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    match (terms.valid_from, terms.valid_until) {
        (Some(f), Some(u)) => (f, u),
        _ => (now, now + Duration::days(i64::from(terms.valid_days))),
    }
}

/// One priced line of a basket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketLine {
    /// Product id.
    pub product_id: String,
    /// SKU id.
    pub sku_id: String,
    /// Category id; empty when none.
    pub category_id: String,
    /// Unit price, fen.
    pub unit_price_fen: i64,
    /// Units.
    pub quantity: i64,
}

/// Why a coupon takes nothing off a basket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The lines in scope come to less than the threshold.
    BelowThreshold,
    /// No line is in the coupon's scope (or its module is not this one).
    NotInScope,
    /// The free item is not in the basket.
    ItemNotInBasket,
}

impl Problem {
    /// Machine-readable, as the contract says.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BelowThreshold => "BELOW_THRESHOLD",
            Self::NotInScope => "NOT_IN_SCOPE",
            Self::ItemNotInBasket => "ITEM_NOT_IN_BASKET",
        }
    }
}

/// What a coupon under `terms` takes off `lines` at checkout of `module`, never more than the
/// lines in its scope come to.
pub fn discount(terms: &Terms, module: &str, lines: &[BasketLine]) -> Result<i64, Problem> {
    if !terms.modules.is_empty() && !terms.modules.iter().any(|m| m == module) {
        return Err(Problem::NotInScope);
    }
    let everything = terms.product_ids.is_empty() && terms.category_ids.is_empty();
    let in_scope = |l: &&BasketLine| {
        everything
            || terms.product_ids.contains(&l.product_id)
            || (!l.category_id.is_empty() && terms.category_ids.contains(&l.category_id))
    };
    let eligible: i64 = lines
        .iter()
        .filter(in_scope)
        .map(|l| l.unit_price_fen.saturating_mul(l.quantity.max(0)))
        .fold(0, i64::saturating_add);
    if eligible <= 0 && terms.kind != Kind::FreeItem {
        return Err(Problem::NotInScope);
    }
    if eligible < terms.threshold_fen {
        return Err(Problem::BelowThreshold);
    }
    let off = match terms.kind {
        Kind::AmountOff | Kind::Threshold => terms.amount_off_fen,
        Kind::PercentOff => {
            let off = eligible.saturating_mul(i64::from(terms.percent_off)) / 100;
            if terms.cap_fen > 0 {
                off.min(terms.cap_fen)
            } else {
                off
            }
        }
        Kind::FreeItem => {
            let Some(line) = lines
                .iter()
                .find(|l| l.product_id == terms.free_product_id && l.sku_id == terms.free_sku_id)
            else {
                return Err(Problem::ItemNotInBasket);
            };
            return Ok(line.unit_price_fen.max(0));
        }
    };
    Ok(off.min(eligible).max(0))
}

/// The label of a coupon's discount, Chinese and English: its title.
pub fn label(terms: &Terms) -> (String, String) {
    let en = if terms.title_en.is_empty() {
        terms.title_zh.clone()
    } else {
        terms.title_en.clone()
    };
    (terms.title_zh.clone(), en)
}

/// A member level, as the shop's config lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct Level {
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    #[serde(default)]
    pub name_en: String,
    /// Reached at this lifetime spend (fen) or lifetime points.
    pub threshold: i64,
    /// Percent off at checkout.
    #[serde(default)]
    pub discount_percent: i32,
    /// Perks.
    #[serde(default)]
    pub perks: String,
}

/// The level `metric` reaches and the next one, of `levels` in any order.
pub fn level_of(levels: &[Level], metric: i64) -> (Option<&Level>, Option<&Level>) {
    let mut sorted: Vec<&Level> = levels.iter().collect();
    sorted.sort_by_key(|l| l.threshold);
    let reached = sorted.iter().rev().find(|l| l.threshold <= metric).copied();
    let next = sorted.iter().find(|l| l.threshold > metric).copied();
    (reached, next)
}

/// Points earned on `paid_fen` at `per_yuan` points a yuan (whole yuan only).
pub fn points_for(paid_fen: i64, per_yuan: i64) -> i64 {
    (paid_fen.max(0) / 100).saturating_mul(per_yuan.max(0))
}

/// What a level's discount takes off `items_fen` (rounded down).
pub fn level_discount(level: &Level, items_fen: i64) -> i64 {
    items_fen
        .max(0)
        .saturating_mul(i64::from(level.discount_percent.clamp(0, 100)))
        / 100
}

/// Checks what the JSON Schema cannot say of the config: levels with distinct thresholds.
pub fn config_rules(config: &serde_json::Map<String, serde_json::Value>) -> Vec<FieldViolation> {
    let levels: Vec<Level> = config
        .get("levels")
        .cloned()
        .and_then(|l| serde_json::from_value(l).ok())
        .unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let mut v = Vec::new();
    for (i, l) in levels.iter().enumerate() {
        if !seen.insert(l.threshold) {
            v.push(
                FieldViolation::new(
                    format!("config.levels[{i}].threshold"),
                    "two levels cannot share a threshold",
                )
                .reason("DUPLICATE"),
            );
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(kind: Kind) -> Terms {
        Terms {
            title_zh: "券".into(),
            title_en: String::new(),
            description: String::new(),
            kind,
            amount_off_fen: 2_000,
            percent_off: 20,
            cap_fen: 0,
            threshold_fen: 0,
            free_product_id: "p1".into(),
            free_sku_id: "s1".into(),
            valid_from: None,
            valid_until: None,
            valid_days: 7,
            total_quantity: 10,
            per_customer_limit: 1,
            modules: vec![],
            product_ids: vec![],
            category_ids: vec![],
            stackable: false,
            claimable: true,
        }
    }

    fn line(product: &str, category: &str, price: i64, qty: i64) -> BasketLine {
        BasketLine {
            product_id: product.into(),
            sku_id: "s1".into(),
            category_id: category.into(),
            unit_price_fen: price,
            quantity: qty,
        }
    }

    #[test]
    fn a_threshold_coupon_takes_its_amount_from_the_threshold_on() {
        let t = Terms {
            threshold_fen: 10_000,
            ..terms(Kind::Threshold)
        };
        assert_eq!(
            discount(&t, "ordering", &[line("p1", "c", 9_999, 1)]),
            Err(Problem::BelowThreshold)
        );
        assert_eq!(
            discount(&t, "ordering", &[line("p1", "c", 5_000, 2)]),
            Ok(2_000)
        );
    }

    #[test]
    fn percent_off_is_rounded_down_and_capped() {
        let t = terms(Kind::PercentOff);
        assert_eq!(discount(&t, "ordering", &[line("p", "", 999, 1)]), Ok(199));
        let capped = Terms {
            cap_fen: 150,
            ..terms(Kind::PercentOff)
        };
        assert_eq!(
            discount(&capped, "ordering", &[line("p", "", 999, 1)]),
            Ok(150)
        );
    }

    #[test]
    fn an_amount_never_exceeds_what_it_applies_to() {
        let t = terms(Kind::AmountOff);
        assert_eq!(discount(&t, "ordering", &[line("p", "", 500, 1)]), Ok(500));
    }

    #[test]
    fn scope_counts_only_the_products_and_categories_named() {
        let t = Terms {
            product_ids: vec!["p2".into()],
            category_ids: vec!["drinks".into()],
            ..terms(Kind::PercentOff)
        };
        let lines = [
            line("p1", "food", 10_000, 1),
            line("p2", "food", 1_000, 1),
            line("p3", "drinks", 500, 2),
        ];
        // 20 % of 1,000 + 1,000, the food line of p1 left out.
        assert_eq!(discount(&t, "ordering", &lines), Ok(400));
        assert_eq!(
            discount(&t, "ordering", &[line("p1", "food", 10_000, 1)]),
            Err(Problem::NotInScope)
        );
        let bookings_only = Terms {
            modules: vec!["booking".into()],
            ..terms(Kind::AmountOff)
        };
        assert_eq!(
            discount(&bookings_only, "ordering", &lines),
            Err(Problem::NotInScope)
        );
    }

    #[test]
    fn a_free_item_is_one_unit_of_it_when_the_basket_holds_it() {
        let t = terms(Kind::FreeItem);
        assert_eq!(
            discount(&t, "ordering", &[line("p1", "", 1_800, 3)]),
            Ok(1_800)
        );
        assert_eq!(
            discount(&t, "ordering", &[line("p2", "", 1_800, 3)]),
            Err(Problem::ItemNotInBasket)
        );
    }

    #[test]
    fn levels_are_reached_by_their_threshold_whatever_their_order() {
        let l = |name: &str, threshold| Level {
            name_zh: name.into(),
            threshold,
            discount_percent: 5,
            ..Level::default()
        };
        let levels = [l("金卡", 100_000), l("银卡", 10_000)];
        assert_eq!(level_of(&levels, 9_999).0, None);
        assert_eq!(
            level_of(&levels, 9_999).1.map(|x| x.name_zh.as_str()),
            Some("银卡")
        );
        assert_eq!(
            level_of(&levels, 10_000).0.map(|x| x.name_zh.as_str()),
            Some("银卡")
        );
        assert_eq!(
            level_of(&levels, 500_000).0.map(|x| x.name_zh.as_str()),
            Some("金卡")
        );
        assert_eq!(level_of(&levels, 500_000).1, None);
        assert_eq!(level_discount(&levels[0], 1_999), 99);
        assert_eq!(points_for(1_999, 2), 38);
        let dup = serde_json::json!({"levels": [{"name_zh": "a", "threshold": 1}, {"name_zh": "b", "threshold": 1}]});
        let dup = dup.as_object().unwrap();
        assert_eq!(config_rules(dup)[0].field, "config.levels[1].threshold");
    }

    #[test]
    fn templates_are_checked_field_by_field() {
        let tenant = TenantId::new();
        let now = Utc::now();
        let bad = pb::CouponTemplate {
            kind: pb::CouponKind::Threshold as i32,
            amount_off_fen: 2_000,
            threshold_fen: 1_000,
            total_quantity: 0,
            per_customer_limit: 1,
            ..Default::default()
        };
        let Err(RequestError::Invalid(v)) = super::terms(tenant, &bad, now) else {
            panic!("accepted");
        };
        let fields: Vec<_> = v.iter().map(|f| f.field.as_str()).collect();
        for f in [
            "template.title_zh",
            "template.threshold_fen",
            "template.valid_days",
            "template.total_quantity",
        ] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
        let good = pb::CouponTemplate {
            title_zh: "满100减20".into(),
            threshold_fen: 10_000,
            total_quantity: 100,
            valid_days: 30,
            ..bad
        };
        let t = super::terms(tenant, &good, now).expect("valid");
        let (from, until) = validity(&t, now);
        assert_eq!((from, until - from), (now, Duration::days(30)));
    }
}
