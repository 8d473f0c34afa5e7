//! Every way a payments call can fail, mapped to a status in one place. The WeChat Pay variants
//! keep the codes and reasons ordering and booking answered before payments was a module of its
//! own (PAYMENT_UNAVAILABLE, NOTIFICATION_REJECTED, PAYMENT_MISMATCH, WECHAT_PAY_ERROR,
//! UNAVAILABLE), so what a client or WeChat Pay sees does not change.

use std::collections::HashMap;

use mm_kernel::error::{DomainError, FieldViolation, RequestError, to_status};
use tonic::Code;

use crate::merchant::MerchantError;

/// Errors of the payments module.
#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// Malformed request, permission or authentication problem.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// No payment of this name (never started), or a notification for one we never started.
    #[error("payment {payment} not found")]
    PaymentNotFound { payment: String },
    /// WeChat Pay cannot be used: no merchant account, a customer without a WeChat login, an
    /// account bound to another mini-program, a payment already paid.
    #[error("{0}")]
    PaymentUnavailable(String),
    /// A payment notification failed verification (signature, replay window, key, decryption),
    /// or the shop has no merchant account to verify it with.
    #[error("payment notification rejected: {0}")]
    NotificationRejected(String),
    /// A verified payment disagrees with what was started (amount, appid, merchant).
    #[error("payment does not match: {0}")]
    PaymentMismatch(String),
    /// WeChat Pay answered with an error.
    #[error("WeChat Pay refused: {code}: {message}")]
    WechatPay { code: String, message: String },
    /// WeChat Pay or another module could not be reached.
    #[error("{0} is unavailable; retry shortly")]
    Unavailable(String),
    /// The paying module's listener refused an event (or could not be reached): its status is
    /// answered as it is, so a notification is retried by WeChat.
    #[error("the paying module did not take the event: {}", .0.message())]
    Listener(tonic::Status),
    /// Database failure.
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    /// Anything else unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for PaymentsError {
    fn code(&self) -> Code {
        match self {
            Self::Request(e) => e.code(),
            Self::PaymentNotFound { .. } => Code::NotFound,
            Self::PaymentUnavailable(_) | Self::WechatPay { .. } => Code::FailedPrecondition,
            Self::NotificationRejected(_) => Code::Unauthenticated,
            Self::PaymentMismatch(_) => Code::InvalidArgument,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Listener(s) => s.code(),
            Self::Db(_) | Self::Internal(_) => Code::Internal,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::Request(e) => e.reason(),
            Self::PaymentNotFound { .. } => "PAYMENT_NOT_FOUND",
            Self::PaymentUnavailable(_) => "PAYMENT_UNAVAILABLE",
            Self::NotificationRejected(_) => "NOTIFICATION_REJECTED",
            Self::PaymentMismatch(_) => "PAYMENT_MISMATCH",
            Self::WechatPay { .. } => "WECHAT_PAY_ERROR",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Listener(_) => "LISTENER_FAILED",
            Self::Db(_) => "DATABASE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn domain(&self) -> &'static str {
        "payments.minimodules"
    }

    fn field_violations(&self) -> Vec<FieldViolation> {
        match self {
            Self::Request(e) => e.field_violations(),
            _ => Vec::new(),
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        matches!(self, Self::Unavailable(_)).then_some(mm_kernel::error::RETRY_AFTER)
    }

    fn metadata(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        match self {
            Self::PaymentNotFound { payment } => {
                m.insert("payment".into(), payment.clone());
            }
            Self::WechatPay { code, .. } => {
                m.insert("wechat_code".into(), code.clone());
            }
            _ => {}
        }
        m
    }
}

impl From<MerchantError> for PaymentsError {
    fn from(e: MerchantError) -> Self {
        match e {
            MerchantError::Missing => {
                Self::PaymentUnavailable("WeChat Pay is not set up for this shop".into())
            }
            MerchantError::Unavailable => Self::Unavailable("the tenant service".into()),
            MerchantError::Internal(e) => Self::Internal(e),
        }
    }
}

impl From<mm_wechatpay::Error> for PaymentsError {
    fn from(e: mm_wechatpay::Error) -> Self {
        match e {
            mm_wechatpay::Error::Api { code, message, .. } => Self::WechatPay { code, message },
            mm_wechatpay::Error::Transport(_) => Self::Unavailable("WeChat Pay".into()),
            other => Self::Internal(anyhow::anyhow!("WeChat Pay: {other}")),
        }
    }
}

impl From<PaymentsError> for tonic::Status {
    fn from(e: PaymentsError) -> Self {
        match e {
            // The listener's own answer, details and all: it is the paying module's to give.
            PaymentsError::Listener(s) => s,
            e => to_status(&e),
        }
    }
}

/// Shorthand.
pub type Result<T, E = PaymentsError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wechat_pay_errors_keep_the_codes_ordering_and_booking_answered() {
        let rows = [
            (
                PaymentsError::PaymentUnavailable("x".into()),
                Code::FailedPrecondition,
                "PAYMENT_UNAVAILABLE",
            ),
            (
                PaymentsError::NotificationRejected("x".into()),
                Code::Unauthenticated,
                "NOTIFICATION_REJECTED",
            ),
            (
                PaymentsError::PaymentMismatch("x".into()),
                Code::InvalidArgument,
                "PAYMENT_MISMATCH",
            ),
            (
                PaymentsError::WechatPay {
                    code: "ORDERPAID".into(),
                    message: "x".into(),
                },
                Code::FailedPrecondition,
                "WECHAT_PAY_ERROR",
            ),
            (
                PaymentsError::Unavailable("WeChat Pay".into()),
                Code::Unavailable,
                "UNAVAILABLE",
            ),
            (
                PaymentsError::PaymentNotFound {
                    payment: "p".into(),
                },
                Code::NotFound,
                "PAYMENT_NOT_FOUND",
            ),
        ];
        for (e, code, reason) in rows {
            assert_eq!((e.code(), e.reason()), (code, reason), "{e}");
            assert_eq!(tonic::Status::from(e).code(), code);
        }
    }

    #[test]
    fn a_listener_status_is_answered_as_it_is() {
        let s = tonic::Status::unavailable("ordering is restarting");
        let out = tonic::Status::from(PaymentsError::Listener(s));
        assert_eq!(out.code(), Code::Unavailable);
        assert_eq!(out.message(), "ordering is restarting");
    }

    #[test]
    fn a_transport_failure_is_retryable_and_a_refusal_is_not() {
        let refused = PaymentsError::from(mm_wechatpay::Error::Api {
            status: 400,
            code: "PARAM_ERROR".into(),
            message: "bad".into(),
        });
        assert_eq!(refused.code(), Code::FailedPrecondition);
        assert!(refused.retry_after().is_none());
        assert!(
            PaymentsError::Unavailable("WeChat Pay".into())
                .retry_after()
                .is_some()
        );
    }
}
