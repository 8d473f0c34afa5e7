//! Ordering rules without I/O: the status machine and who may move an order along it, the
//! tenant's ordering config, opening hours, pricing a basket from catalog prices, order numbers.

use chrono::{DateTime, FixedOffset, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an order stands. `Creating` is internal: the row exists while stock is being reserved
/// and is never shown to anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Row written, stock not reserved yet (a crash here is cleaned up by the sweeper).
    Creating,
    /// Waiting for payment.
    PendingPayment,
    /// Paid, waiting for the shop.
    Paid,
    /// Accepted by the shop.
    Accepted,
    /// Being prepared.
    Preparing,
    /// Ready to hand over.
    Ready,
    /// Handed over.
    Completed,
    /// Cancelled before payment.
    Cancelled,
    /// Refund asked of the payment provider.
    Refunding,
    /// Refunded.
    Refunded,
}

impl Status {
    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::PendingPayment => "pending_payment",
            Self::Paid => "paid",
            Self::Accepted => "accepted",
            Self::Preparing => "preparing",
            Self::Ready => "ready",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Refunding => "refunding",
            Self::Refunded => "refunded",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "creating" => Self::Creating,
            "pending_payment" => Self::PendingPayment,
            "paid" => Self::Paid,
            "accepted" => Self::Accepted,
            "preparing" => Self::Preparing,
            "ready" => Self::Ready,
            "completed" => Self::Completed,
            "cancelled" => Self::Cancelled,
            "refunding" => Self::Refunding,
            "refunded" => Self::Refunded,
            _ => return None,
        })
    }

    /// Whether money was taken and not given back.
    pub fn is_paid(self) -> bool {
        matches!(
            self,
            Self::Paid | Self::Accepted | Self::Preparing | Self::Ready | Self::Completed
        )
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is moving an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The customer who placed it.
    Customer,
    /// Shop staff with the manage permission.
    Staff,
    /// The shop's administrator or a platform operator.
    Admin,
    /// The platform itself: payment notifications, expiry.
    System,
}

/// A step in an order's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Payment confirmed (WeChat Pay notification or query).
    PaymentReceived,
    /// Paid at the counter, confirmed by staff.
    CounterPaid,
    /// Shop accepts.
    Accept,
    /// Shop starts preparing.
    StartPreparing,
    /// Ready to hand over.
    MarkReady,
    /// Handed over.
    Complete,
    /// Cancel: unpaid orders are cancelled, paid ones refunded.
    Cancel,
    /// Full refund whatever the progress.
    Refund,
    /// Refund confirmed by the payment provider.
    RefundConfirmed,
    /// Payment deadline passed.
    Expire,
}

impl Action {
    /// For error messages: "an order that is X cannot be <verb>".
    pub fn verb(self) -> &'static str {
        match self {
            Self::PaymentReceived | Self::CounterPaid => "paid",
            Self::Accept => "accepted",
            Self::StartPreparing => "prepared",
            Self::MarkReady => "marked ready",
            Self::Complete => "completed",
            Self::Cancel => "cancelled",
            Self::Refund => "refunded",
            Self::RefundConfirmed => "confirmed as refunded",
            Self::Expire => "expired",
        }
    }
}

/// The status an action leads to, or `None` when the order's status or the actor's role does
/// not allow it. This table is the whole lifecycle; every transition goes through it.
pub fn transition(from: Status, action: Action, actor: Actor) -> Option<Status> {
    use Action as A;
    use Actor::{Admin, Customer, Staff, System};
    use Status as S;
    let shop = matches!(actor, Staff | Admin);
    match (from, action) {
        (S::PendingPayment, A::PaymentReceived) if actor == System => Some(S::Paid),
        (S::PendingPayment, A::CounterPaid) if shop => Some(S::Paid),
        (S::Paid, A::Accept) if shop || actor == System => Some(S::Accepted),
        (S::Accepted, A::StartPreparing) if shop => Some(S::Preparing),
        (S::Accepted | S::Preparing, A::MarkReady) if shop => Some(S::Ready),
        (S::Ready, A::Complete) if shop => Some(S::Completed),
        (S::PendingPayment, A::Cancel) if actor != System => Some(S::Cancelled),
        (S::PendingPayment, A::Expire) if actor == System => Some(S::Cancelled),
        // A paid order the shop has not started on can be called off by the customer (within
        // the window, checked by the service) or the shop: the money goes back.
        (S::Paid, A::Cancel) if actor == Customer || shop => Some(S::Refunding),
        (S::Accepted, A::Cancel) if shop => Some(S::Refunding),
        // After the kitchen started, only an administrator gives money back.
        (S::Paid | S::Accepted | S::Preparing | S::Ready | S::Completed, A::Refund)
            if actor == Admin =>
        {
            Some(S::Refunding)
        }
        // Paid after it expired: the money goes straight back.
        (S::Cancelled, A::PaymentReceived) if actor == System => Some(S::Refunding),
        (S::Refunding, A::RefundConfirmed) if actor == System || shop => Some(S::Refunded),
        _ => None,
    }
}

/// How the order is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// At a table.
    DineIn,
    /// At the counter.
    Takeaway,
    /// To an address.
    Delivery,
}

impl Mode {
    /// Storage and config form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DineIn => "dine_in",
            Self::Takeaway => "takeaway",
            Self::Delivery => "delivery",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dine_in" => Some(Self::DineIn),
            "takeaway" => Some(Self::Takeaway),
            "delivery" => Some(Self::Delivery),
            _ => None,
        }
    }

    /// Whether a packaging fee applies.
    pub fn packaged(self) -> bool {
        !matches!(self, Self::DineIn)
    }
}

/// How the order is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayMethod {
    /// WeChat Pay JSAPI.
    WechatPay,
    /// At the counter.
    Counter,
}

impl PayMethod {
    /// Storage and config form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WechatPay => "wechat_pay",
            Self::Counter => "counter",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "wechat_pay" => Some(Self::WechatPay),
            "counter" => Some(Self::Counter),
            _ => None,
        }
    }
}

/// An opening window in shop time; `end` before `start` runs past midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hours {
    /// "HH:MM".
    pub start: String,
    /// "HH:MM".
    pub end: String,
}

fn default_modes() -> Vec<Mode> {
    vec![Mode::DineIn, Mode::Takeaway]
}
fn default_methods() -> Vec<PayMethod> {
    vec![PayMethod::WechatPay, PayMethod::Counter]
}
fn default_cancel() -> i64 {
    5
}
fn default_timeout() -> i64 {
    15
}

/// The tenant's ordering config, as the module's JSON Schema defines it (already validated
/// against it when it was saved; unknown keys are ignored here).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Config {
    /// Modes offered.
    #[serde(default = "default_modes")]
    pub fulfilment_modes: Vec<Mode>,
    /// Minimum items total, fen.
    #[serde(default)]
    pub min_order_fen: i64,
    /// Fee for takeaway and delivery, fen.
    #[serde(default)]
    pub packaging_fee_fen: i64,
    /// Paid orders are accepted at once.
    #[serde(default)]
    pub auto_accept: bool,
    /// Minutes after payment a customer may still cancel.
    #[serde(default = "default_cancel")]
    pub cancel_window_minutes: i64,
    /// Opening windows; empty means always open.
    #[serde(default)]
    pub opening_hours: Vec<Hours>,
    /// Payment methods offered.
    #[serde(default = "default_methods")]
    pub payment_methods: Vec<PayMethod>,
    /// Minutes an unpaid order holds its stock.
    #[serde(default = "default_timeout")]
    pub payment_timeout_minutes: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            fulfilment_modes: default_modes(),
            min_order_fen: 0,
            packaging_fee_fen: 0,
            auto_accept: false,
            cancel_window_minutes: default_cancel(),
            opening_hours: Vec::new(),
            payment_methods: default_methods(),
            payment_timeout_minutes: default_timeout(),
        }
    }
}

/// Shop time: mainland China keeps one offset all year (UTC+8).
pub fn shop_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Whether the shop is open at `now`.
pub fn is_open(hours: &[Hours], now: DateTime<Utc>) -> bool {
    if hours.is_empty() {
        return true;
    }
    let t = now.with_timezone(&shop_offset()).time();
    hours.iter().any(|h| {
        let (Ok(s), Ok(e)) = (
            NaiveTime::parse_from_str(&h.start, "%H:%M"),
            NaiveTime::parse_from_str(&h.end, "%H:%M"),
        ) else {
            return false;
        };
        if s <= e {
            s <= t && t < e
        } else {
            t >= s || t < e
        }
    })
}

/// The config's rules its schema cannot say (`ModuleDef::config_rules`): an opening window that
/// starts and ends at the same minute is empty (the shop would never open in it), almost always a
/// typo; "from 22:00 to 02:00" crosses midnight and is fine.
pub fn config_rules(
    c: &serde_json::Map<String, serde_json::Value>,
) -> Vec<mm_kernel::error::FieldViolation> {
    let Ok(cfg) = serde_json::from_value::<Config>(serde_json::Value::Object(c.clone())) else {
        return Vec::new();
    };
    cfg.opening_hours
        .iter()
        .enumerate()
        .filter(|(_, h)| h.start == h.end)
        .map(|(i, _)| {
            mm_kernel::error::FieldViolation::new(
                format!("config.opening_hours.{i}.end"),
                "must differ from the start (a window from a time to itself is never open)",
            )
            .reason("EMPTY_WINDOW")
        })
        .collect()
}

/// A line priced from the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Product id.
    pub product_id: String,
    /// SKU id.
    pub sku_id: String,
    /// Product name at ordering time.
    pub name_zh: String,
    /// "大杯 / 少冰".
    pub spec_summary: String,
    /// Unit price, fen.
    pub unit_price_fen: i64,
    /// Units.
    pub quantity: i64,
    /// On sale and in stock (quotes only).
    #[serde(default)]
    pub available: bool,
    /// The product's category id, for discounts scoped to categories; not stored.
    #[serde(default, skip_serializing)]
    pub category_id: String,
}

impl Line {
    /// unit × quantity.
    pub fn total_fen(&self) -> i64 {
        self.unit_price_fen.saturating_mul(self.quantity)
    }
}

/// Totals in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
    /// Lines.
    pub items_fen: i64,
    /// Packaging.
    pub packaging_fee_fen: i64,
    /// Payable: lines, less discounts, plus packaging.
    pub total_fen: i64,
    /// Taken off by discounts.
    pub discount_fen: i64,
}

/// One discount taken off an order, as stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    /// The module service that granted it (and is told what became of the order).
    pub service: String,
    /// What it is, e.g. a coupon's name.
    pub source: String,
    /// Kind, e.g. "COUPON".
    pub kind: String,
    /// Label in Chinese.
    pub label_zh: String,
    /// Label in English.
    pub label_en: String,
    /// Fen taken off.
    pub amount_fen: i64,
}

/// The amounts once `discounts` are taken off the lines (never below zero; fees are not
/// discounted).
pub fn discounted(amounts: Amounts, discounts: &[Discount]) -> Amounts {
    let asked = discounts
        .iter()
        .map(|d| d.amount_fen.max(0))
        .fold(0i64, i64::saturating_add);
    let discount_fen = asked.min(amounts.items_fen);
    Amounts {
        discount_fen,
        total_fen: amounts
            .items_fen
            .saturating_sub(discount_fen)
            .saturating_add(amounts.packaging_fee_fen),
        ..amounts
    }
}

/// A priced basket with what stands in the way of ordering it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    /// Totals.
    pub amounts: Amounts,
    /// Machine-readable problems; empty when orderable.
    pub problems: Vec<&'static str>,
}

/// Whether the shop's rules refuse any basket in `mode` at `now` (`MODE_NOT_OFFERED` or
/// `SHOP_CLOSED` from [`price`]): checked before anything is written for an order.
pub fn rules_refuse(mode: Mode, config: &Config, now: DateTime<Utc>) -> bool {
    !config.fulfilment_modes.contains(&mode) || !is_open(&config.opening_hours, now)
}

/// Prices a basket under the tenant's config at `now`.
pub fn price(lines: &[Line], mode: Mode, config: &Config, now: DateTime<Utc>) -> Priced {
    let items_fen = lines
        .iter()
        .map(Line::total_fen)
        .fold(0i64, i64::saturating_add);
    let packaging_fee_fen = if mode.packaged() {
        config.packaging_fee_fen
    } else {
        0
    };
    let mut problems = Vec::new();
    if !config.fulfilment_modes.contains(&mode) {
        problems.push("MODE_NOT_OFFERED");
    }
    if lines.iter().any(|l| !l.available) {
        problems.push("ITEM_UNAVAILABLE");
    }
    if items_fen < config.min_order_fen {
        problems.push("BELOW_MINIMUM");
    }
    if !is_open(&config.opening_hours, now) {
        problems.push("SHOP_CLOSED");
    }
    Priced {
        amounts: Amounts {
            items_fen,
            packaging_fee_fen,
            total_fen: items_fen.saturating_add(packaging_fee_fen),
            discount_fen: 0,
        },
        problems,
    }
}

/// The shop-local day an order number counts in, "YYYYMMDD".
pub fn order_day(now: DateTime<Utc>) -> String {
    now.with_timezone(&shop_offset())
        .format("%Y%m%d")
        .to_string()
}

/// "20261124-0042": the day and that day's sequence, short enough to call out at the counter.
pub fn order_number(day: &str, seq: i64) -> String {
    format!("{day}-{seq:04}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn line(price: i64, qty: i64) -> Line {
        Line {
            product_id: "p".into(),
            sku_id: "s".into(),
            name_zh: "拿铁".into(),
            spec_summary: String::new(),
            unit_price_fen: price,
            quantity: qty,
            available: true,
            category_id: String::new(),
        }
    }

    #[test]
    fn only_the_right_actor_moves_an_order() {
        use Action as A;
        use Actor::*;
        use Status as S;
        assert_eq!(
            transition(S::PendingPayment, A::PaymentReceived, System),
            Some(S::Paid)
        );
        assert_eq!(
            transition(S::PendingPayment, A::PaymentReceived, Customer),
            None
        );
        assert_eq!(
            transition(S::PendingPayment, A::CounterPaid, Customer),
            None
        );
        assert_eq!(
            transition(S::PendingPayment, A::CounterPaid, Staff),
            Some(S::Paid)
        );
        assert_eq!(transition(S::Paid, A::Accept, Customer), None);
        assert_eq!(transition(S::Paid, A::Accept, Staff), Some(S::Accepted));
        assert_eq!(
            transition(S::Accepted, A::StartPreparing, Staff),
            Some(S::Preparing)
        );
        assert_eq!(
            transition(S::Preparing, A::MarkReady, Staff),
            Some(S::Ready)
        );
        assert_eq!(transition(S::Ready, A::Complete, Staff), Some(S::Completed));
        assert_eq!(transition(S::Completed, A::Complete, Staff), None);
        assert_eq!(transition(S::Paid, A::Cancel, Customer), Some(S::Refunding));
        assert_eq!(transition(S::Accepted, A::Cancel, Customer), None);
        assert_eq!(transition(S::Preparing, A::Refund, Staff), None);
        assert_eq!(
            transition(S::Preparing, A::Refund, Admin),
            Some(S::Refunding)
        );
        assert_eq!(transition(S::PendingPayment, A::Refund, Admin), None);
        assert_eq!(transition(S::PendingPayment, A::Expire, Customer), None);
        assert_eq!(
            transition(S::PendingPayment, A::Expire, System),
            Some(S::Cancelled)
        );
        assert_eq!(transition(S::Paid, A::Expire, System), None);
        assert_eq!(
            transition(S::Refunding, A::RefundConfirmed, System),
            Some(S::Refunded)
        );
        assert_eq!(transition(S::Creating, A::Cancel, Customer), None);
        assert_eq!(
            transition(S::Cancelled, A::PaymentReceived, System),
            Some(S::Refunding)
        );
    }

    #[test]
    fn statuses_round_trip_through_storage() {
        for s in [
            Status::Creating,
            Status::PendingPayment,
            Status::Paid,
            Status::Accepted,
            Status::Preparing,
            Status::Ready,
            Status::Completed,
            Status::Cancelled,
            Status::Refunding,
            Status::Refunded,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("shipped"), None);
    }

    #[test]
    fn prices_add_packaging_only_when_packed() {
        let config = Config {
            packaging_fee_fen: 200,
            fulfilment_modes: vec![Mode::DineIn, Mode::Takeaway, Mode::Delivery],
            ..Config::default()
        };
        let now = Utc::now();
        let p = price(&[line(1800, 2), line(500, 1)], Mode::Takeaway, &config, now);
        assert_eq!(
            p.amounts,
            Amounts {
                items_fen: 4100,
                packaging_fee_fen: 200,
                total_fen: 4300,
                discount_fen: 0,
            }
        );
        assert!(p.problems.is_empty());
        // Discounts come off the lines only, never below zero, and not off the fee.
        let d = |amount_fen| Discount {
            service: "s".into(),
            source: "c".into(),
            kind: "COUPON".into(),
            label_zh: "券".into(),
            label_en: "Coupon".into(),
            amount_fen,
        };
        let off = discounted(p.amounts, &[d(1000), d(100)]);
        assert_eq!((off.discount_fen, off.total_fen), (1100, 3200));
        let all = discounted(p.amounts, &[d(9_999)]);
        assert_eq!((all.discount_fen, all.total_fen), (4100, 200));
        let p = price(&[line(1800, 2)], Mode::DineIn, &config, now);
        assert_eq!(p.amounts.total_fen, 3600);
    }

    #[test]
    fn baskets_below_minimum_unavailable_or_in_unoffered_modes_are_not_orderable() {
        let config = Config {
            min_order_fen: 2000,
            ..Config::default()
        };
        let mut gone = line(500, 1);
        gone.available = false;
        let p = price(&[gone], Mode::Delivery, &config, Utc::now());
        assert_eq!(
            p.problems,
            vec!["MODE_NOT_OFFERED", "ITEM_UNAVAILABLE", "BELOW_MINIMUM"]
        );
    }

    #[test]
    fn opening_hours_are_shop_time_and_may_cross_midnight() {
        let day = vec![Hours {
            start: "09:00".into(),
            end: "21:00".into(),
        }];
        let night = vec![Hours {
            start: "22:00".into(),
            end: "02:00".into(),
        }];
        // 02:30 UTC is 10:30 in Shanghai.
        let morning = Utc.with_ymd_and_hms(2026, 11, 24, 2, 30, 0).unwrap();
        assert!(is_open(&day, morning));
        assert!(!is_open(&night, morning));
        // 17:00 UTC is 01:00 in Shanghai the next day.
        let late = Utc.with_ymd_and_hms(2026, 11, 24, 17, 0, 0).unwrap();
        assert!(!is_open(&day, late));
        assert!(is_open(&night, late));
        assert!(is_open(&[], late));
    }

    #[test]
    fn order_numbers_count_per_shop_day() {
        // 16:30 UTC on the 24th is already the 25th in Shanghai.
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 16, 30, 0).unwrap();
        assert_eq!(order_day(t), "20261125");
        assert_eq!(order_number("20261125", 42), "20261125-0042");
    }

    #[test]
    fn config_fills_defaults_and_ignores_unknown_keys() {
        let c: Config =
            serde_json::from_value(serde_json::json!({"min_order_fen": 100, "x": 1})).unwrap();
        assert_eq!(c.min_order_fen, 100);
        assert_eq!(c.payment_timeout_minutes, 15);
        assert_eq!(
            c.payment_methods,
            vec![PayMethod::WechatPay, PayMethod::Counter]
        );
    }
}
