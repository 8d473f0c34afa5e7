//! What every paying module's routes share about WeChat Pay: the `wx.requestPayment` parameters
//! as the mini-program takes them, and the signature headers of a notification.

use axum::http::HeaderMap;
use serde::Serialize;
use utoipa::ToSchema;

/// What `wx.requestPayment` takes, field for field.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WechatPayDto {
    /// Seconds since the epoch, as a string.
    pub time_stamp: String,
    /// Random string.
    pub nonce_str: String,
    /// "prepay_id=...".
    pub package: String,
    /// "RSA".
    pub sign_type: String,
    /// Signature.
    pub pay_sign: String,
}

/// A notification's Wechatpay-Timestamp, -Nonce, -Signature and -Serial headers, in that order.
pub fn notification_headers(headers: &HeaderMap) -> [String; 4] {
    [
        "wechatpay-timestamp",
        "wechatpay-nonce",
        "wechatpay-signature",
        "wechatpay-serial",
    ]
    .map(|name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    })
}
