//! WeChat Pay v3 payloads, field for field. Optional fields are `Option` because WeChat omits
//! them in some states (an unpaid order has no `transaction_id`, `payer` or `success_time`).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// What the merchant asks for when creating a JSAPI (mini-program) payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsapiPrepay {
    /// The mini-program's appid; must be bound to the merchant.
    pub appid: String,
    /// Shown to the payer (max 127 chars).
    pub description: String,
    /// Merchant order number: 6-32 of `0-9A-Za-z_-|*`, unique per merchant.
    pub out_trade_no: String,
    /// RFC 3339 deadline, e.g. `2018-06-08T10:34:56+08:00`.
    pub time_expire: Option<String>,
    /// Where WeChat POSTs the result; WeChat requires https and no query string.
    pub notify_url: String,
    /// Amount in fen (1/100 CNY).
    pub amount_total_fen: i64,
    /// The payer's openid under `appid`.
    pub payer_openid: String,
    /// Opaque data WeChat echoes back in queries and notifications (max 128 chars).
    pub attach: Option<String>,
}

/// A refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub out_trade_no: String,
    /// Merchant refund number, unique per merchant; repeating it with the same parameters is safe.
    pub out_refund_no: String,
    pub reason: Option<String>,
    pub notify_url: String,
    pub refund_fen: i64,
    /// The original order total; WeChat checks it matches.
    pub total_fen: i64,
}

/// `trade_state` of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeState {
    Success,
    /// Paid, then (partly) refunded.
    Refund,
    #[serde(rename = "NOTPAY")]
    NotPay,
    Closed,
    Revoked,
    #[serde(rename = "USERPAYING")]
    UserPaying,
    #[serde(rename = "PAYERROR")]
    PayError,
    /// A state this library does not know yet; treat as "not paid, ask again later".
    #[serde(other)]
    Unknown,
}

/// A transaction as returned by query or carried by a TRANSACTION.* notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub trade_type: Option<String>,
    pub trade_state: TradeState,
    #[serde(default)]
    pub trade_state_desc: String,
    #[serde(default)]
    pub bank_type: Option<String>,
    #[serde(default)]
    pub attach: Option<String>,
    #[serde(default)]
    pub success_time: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub payer: Option<Payer>,
    pub amount: TransactionAmount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    pub openid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmount {
    /// Order total in fen.
    pub total: i64,
    /// What the payer actually paid (after coupons); absent before payment.
    #[serde(default)]
    pub payer_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub payer_currency: Option<String>,
}

/// `status` of a refund / `refund_status` in refund notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    Success,
    Closed,
    Processing,
    Abnormal,
    #[serde(other)]
    Unknown,
}

/// The answer to a refund request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub out_refund_no: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub user_received_account: Option<String>,
    #[serde(default)]
    pub success_time: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub create_time: Option<DateTime<FixedOffset>>,
    pub status: RefundStatus,
    pub amount: RefundAmount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    pub total: i64,
    pub refund: i64,
    #[serde(default)]
    pub payer_total: Option<i64>,
    #[serde(default)]
    pub payer_refund: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// The resource of a REFUND.* notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotice {
    pub mchid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_status: RefundStatus,
    #[serde(default)]
    pub success_time: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub user_received_account: Option<String>,
    pub amount: RefundNoticeAmount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNoticeAmount {
    pub total: i64,
    pub refund: i64,
    pub payer_total: i64,
    pub payer_refund: i64,
}

/// Checks an out_trade_no / out_refund_no before it goes into a URL path or a body: WeChat allows
/// 6-32 of `0-9A-Za-z_-|*`, and anything else in a path could change which resource we address.
pub(crate) fn check_out_no(field: &'static str, value: &str) -> Result<(), crate::Error> {
    let ok_len = (6..=32).contains(&value.len());
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '|' | '*'));
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err(crate::Error::InvalidRequest {
            field,
            reason: "must be 6-32 characters of 0-9 A-Z a-z _ - | *".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpaid_query_answer_without_payer_or_transaction_id_parses() {
        // Shape of a real NOTPAY answer: no payer, no transaction_id, no currency.
        let t: Transaction = serde_json::from_str(
            r#"{"amount":{"payer_currency":"CNY","total":1},"appid":"wx1","mchid":"1","out_trade_no":"order-1",
                "promotion_detail":[],"scene_info":{"device_id":""},"trade_state":"NOTPAY","trade_state_desc":"订单未支付"}"#,
        )
        .unwrap();
        assert_eq!(t.trade_state, TradeState::NotPay);
        assert_eq!(t.transaction_id, None);
        assert_eq!(t.payer, None);
    }

    #[test]
    fn an_unknown_trade_state_does_not_break_parsing() {
        let t: Transaction = serde_json::from_str(
            r#"{"amount":{"total":1},"appid":"wx1","mchid":"1","out_trade_no":"order-1","trade_state":"NEWSTATE"}"#,
        )
        .unwrap();
        assert_eq!(t.trade_state, TradeState::Unknown);
    }

    #[test]
    fn out_numbers_outside_wechats_alphabet_are_refused() {
        assert!(check_out_no("out_trade_no", "order_1-2|3*").is_ok());
        assert!(check_out_no("out_trade_no", "short").is_err());
        assert!(check_out_no("out_trade_no", "../../v3/refund").is_err());
        assert!(check_out_no("out_trade_no", "order?mchid=2").is_err());
        assert!(check_out_no("out_trade_no", &"x".repeat(33)).is_err());
    }
}
