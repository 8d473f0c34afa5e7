//! Every way an ordering call can fail, mapped to a status in one place.

use std::collections::HashMap;

use mm_kernel::error::{DomainError, FieldViolation, RequestError, to_status};
use tonic::Code;

use crate::domain::Status;

/// Errors of the ordering module.
#[derive(Debug, thiserror::Error)]
pub enum OrderingError {
    /// Malformed request, permission or authentication problem.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The tenant has not switched the ordering module on.
    #[error("ordering is not enabled for this shop")]
    ModuleDisabled,
    /// No such order visible to the caller.
    #[error("order {order} not found")]
    OrderNotFound { order: String },
    /// The basket cannot be ordered as it is (below minimum, closed, unavailable item, ...).
    #[error("the order cannot be placed: {}", .problems.join(", "))]
    NotOrderable { problems: Vec<String> },
    /// Stock ran out between the quote and the order.
    #[error("not enough stock of {product}")]
    OutOfStock { product: String },
    /// The total differs from the one the customer was shown.
    #[error("prices changed: the total is now {actual_fen} fen, not {expected_fen}")]
    PriceChanged { expected_fen: i64, actual_fen: i64 },
    /// The coupon the customer picked cannot be used: another order holds it, it was used or
    /// expired, or it does not apply to this basket (`problem` says which).
    #[error("the coupon cannot be used: {problem}")]
    CouponUnavailable { problem: String },
    /// The order is not in a status that allows this step, or the caller's role may not take it.
    #[error("an order that is {from} cannot be {action}")]
    InvalidTransition { from: Status, action: &'static str },
    /// The customer's cancellation window has passed.
    #[error("the cancellation window of {minutes} minutes has passed; ask the shop")]
    CancelWindowPassed { minutes: i64 },
    /// The payment method is not offered by the tenant, or WeChat Pay is not set up.
    #[error("{0}")]
    PaymentUnavailable(String),
    /// A payment reported for an order disagrees with it (amount, merchant, not our order).
    #[error("payment does not match the order: {0}")]
    PaymentMismatch(String),
    /// The payments module refused (WeChat Pay's own refusal, payment not usable, a mismatch)
    /// or could not be reached.
    #[error(transparent)]
    Payment(#[from] mm_kernel::payments::PaymentRefusal),
    /// The shop asks customers to bind a phone number before they order, and this one has not.
    #[error("bind a phone number before ordering")]
    PhoneRequired,
    /// An order with this idempotency key is still being placed by another request.
    #[error("the same order is still being placed; retry shortly")]
    BeingPlaced,
    /// Another module (WeChat Pay, through the payments module) could not be reached.
    #[error("{0} is unavailable; retry shortly")]
    Unavailable(String),
    /// Database failure.
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    /// Anything else unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for OrderingError {
    fn code(&self) -> Code {
        match self {
            Self::Request(e) => e.code(),
            Self::OrderNotFound { .. } => Code::NotFound,
            Self::ModuleDisabled
            | Self::NotOrderable { .. }
            | Self::OutOfStock { .. }
            | Self::InvalidTransition { .. }
            | Self::CancelWindowPassed { .. }
            | Self::PhoneRequired
            | Self::CouponUnavailable { .. }
            | Self::PaymentUnavailable(_) => Code::FailedPrecondition,
            Self::PriceChanged { .. } | Self::BeingPlaced => Code::Aborted,
            Self::PaymentMismatch(_) => Code::InvalidArgument,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Payment(r) => r.code(),
            Self::Db(_) | Self::Internal(_) => Code::Internal,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::Request(e) => e.reason(),
            Self::ModuleDisabled => "MODULE_DISABLED",
            Self::OrderNotFound { .. } => "ORDER_NOT_FOUND",
            Self::NotOrderable { .. } => "NOT_ORDERABLE",
            Self::OutOfStock { .. } => "OUT_OF_STOCK",
            Self::PriceChanged { .. } => "PRICE_CHANGED",
            Self::InvalidTransition { .. } => "INVALID_TRANSITION",
            Self::CancelWindowPassed { .. } => "CANCEL_WINDOW_PASSED",
            Self::PaymentUnavailable(_) => "PAYMENT_UNAVAILABLE",
            Self::PaymentMismatch(_) => "PAYMENT_MISMATCH",
            Self::Payment(r) => r.reason(),
            Self::BeingPlaced => "ORDER_BEING_PLACED",
            Self::PhoneRequired => "PHONE_REQUIRED",
            Self::CouponUnavailable { .. } => "COUPON_UNAVAILABLE",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Db(_) => "DATABASE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn domain(&self) -> &'static str {
        "ordering.minimodules"
    }

    fn field_violations(&self) -> Vec<FieldViolation> {
        match self {
            Self::Request(e) => e.field_violations(),
            _ => Vec::new(),
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        let again = match self {
            Self::BeingPlaced | Self::Unavailable(_) => true,
            Self::Payment(r) => r.retryable(),
            _ => false,
        };
        again.then_some(mm_kernel::error::RETRY_AFTER)
    }

    fn metadata(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        match self {
            Self::NotOrderable { problems } => {
                m.insert("problems".into(), problems.join(","));
            }
            Self::CouponUnavailable { problem } => {
                m.insert("problem".into(), problem.clone());
            }
            Self::OutOfStock { product } => {
                m.insert("product".into(), product.clone());
            }
            Self::PriceChanged {
                expected_fen,
                actual_fen,
            } => {
                m.insert("expected_fen".into(), expected_fen.to_string());
                m.insert("actual_fen".into(), actual_fen.to_string());
            }
            Self::InvalidTransition { from, action } => {
                m.insert("status".into(), from.to_string());
                m.insert("action".into(), (*action).to_string());
            }
            Self::Payment(r) => m.extend(r.metadata()),
            _ => {}
        }
        m
    }
}

impl From<OrderingError> for tonic::Status {
    fn from(e: OrderingError) -> Self {
        to_status(&e)
    }
}

/// Shorthand.
pub type Result<T, E = OrderingError> = std::result::Result<T, E>;
