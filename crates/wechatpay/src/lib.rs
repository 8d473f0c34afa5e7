//! mm-wechatpay: WeChat Pay API v3 for JSAPI (mini-program) payments, as a pure protocol library.
//!
//! It owns the wire formats and the cryptography: signing requests (`Authorization:
//! WECHATPAY2-SHA256-RSA2048 ...`), verifying WeChat's signed responses and notifications
//! (`Wechatpay-*` headers, 5-minute replay window), decrypting AEAD_AES_256_GCM resources with the
//! APIv3 key, building `wx.requestPayment` parameters, and a small HTTP [`Client`] for prepay,
//! query, close and refund.
//!
//! It must not know about orders, tenants, storage or configuration files: callers pass
//! [`MerchantKeys`] and plain values in, and decide what a payment means. Time comes in as a
//! parameter wherever a check depends on it, so the checks are testable; only the HTTP client
//! reads the clock.

mod client;
mod error;
mod keys;
mod model;
mod notify;
mod payment;
mod resource;
mod sign;

pub use client::{Client, PRODUCTION_BASE_URL};
pub use error::{Error, VerifyError};
pub use keys::MerchantKeys;
pub use model::{
    JsapiPrepay, Payer, Refund, RefundAmount, RefundNotice, RefundNoticeAmount, RefundRequest,
    RefundStatus, TradeState, Transaction, TransactionAmount,
};
pub use notify::{
    NOTIFICATION_ACK_STATUS, Notification, NotificationResource, notification_failure_body,
    parse_notification,
};
pub use payment::RequestPaymentParams;
pub use resource::{ALGORITHM, decrypt_resource};
pub use sign::{
    AUTH_SCHEME, NotificationHeaders, REPLAY_WINDOW_SECS, authorization, nonce_str, verify,
};
