//! Every way a booking call can fail, mapped to a status in one place.

use std::collections::HashMap;

use mm_kernel::error::{DomainError, FieldViolation, RequestError, to_status};
use tonic::Code;

use crate::domain::Status;

/// Why a start cannot be booked; its key goes to the error's metadata (`cause`), so clients can
/// say it in their own language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotCause {
    /// Not on the slot grid.
    OffGrid,
    /// Inside the lead time or beyond the booking horizon.
    OutsideRange,
    /// Outside working hours, in a break or time off (or the service or resource is inactive).
    Closed,
    /// A walk-in entered long after the fact.
    LongPast,
}

impl SlotCause {
    /// Stable key.
    pub fn key(self) -> &'static str {
        match self {
            Self::OffGrid => "off_grid",
            Self::OutsideRange => "outside_booking_range",
            Self::Closed => "closed",
            Self::LongPast => "long_past",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::OffGrid => "not on the slot grid",
            Self::OutsideRange => "outside the lead time and booking horizon",
            Self::Closed => "outside working hours, in a break or time off",
            Self::LongPast => "long past",
        }
    }
}

/// Errors of the booking module.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// Malformed request, permission or authentication problem.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The tenant has not switched the booking module on.
    #[error("booking is not enabled for this shop")]
    ModuleDisabled,
    /// No such resource visible to the caller.
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    /// The start is not a bookable slot of the service and resource (hours, breaks, time off, lead
    /// time, horizon, inactive service or resource).
    #[error("that time cannot be booked: {}", .0.text())]
    SlotUnavailable(SlotCause),
    /// The slot has no place left.
    #[error("that time is fully booked")]
    SlotFull,
    /// The reservation is not in a status that allows this step, or the caller may not take it.
    #[error("a reservation that is {from} cannot be {action}")]
    InvalidTransition { from: Status, action: &'static str },
    /// The customer is inside the cancellation window.
    #[error("bookings cannot be cancelled less than {hours} hours before they start; ask the shop")]
    CancelWindowPassed { hours: i64 },
    /// The customer is inside the reschedule window.
    #[error("bookings cannot be moved less than {hours} hours before they start; ask the shop")]
    RescheduleWindowPassed { hours: i64 },
    /// A no-show before the start.
    #[error("a booking cannot be a no-show before it starts")]
    NotStartedYet,
    /// The service asks for a deposit: paying it confirms the booking (or staff confirm it).
    #[error("this service needs a deposit of {deposit_fen} fen; paying it confirms the booking")]
    DepositRequired { deposit_fen: i64 },
    /// WeChat Pay cannot be used (no merchant account, another mini-program, nothing to pay).
    #[error("{0}")]
    PaymentUnavailable(String),
    /// A payment that does not match the reservation or the merchant.
    #[error("the payment does not match: {0}")]
    PaymentMismatch(String),
    /// The payments module refused (WeChat Pay's own refusal, payment not usable, a mismatch)
    /// or could not be reached.
    #[error(transparent)]
    Payment(#[from] mm_kernel::payments::PaymentRefusal),
    /// The coupon picked for the deposit cannot be used: used, held elsewhere, expired, or not
    /// for this booking (`problem` says which).
    #[error("the coupon cannot be used: {problem}")]
    CouponUnavailable { problem: String },
    /// Another module could not be reached.
    #[error("{0} is unavailable; retry shortly")]
    Unavailable(String),
    /// Database failure.
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    /// Anything else unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for BookingError {
    fn code(&self) -> Code {
        match self {
            Self::Request(e) => e.code(),
            Self::NotFound { .. } => Code::NotFound,
            Self::ModuleDisabled
            | Self::SlotUnavailable(_)
            | Self::InvalidTransition { .. }
            | Self::CancelWindowPassed { .. }
            | Self::RescheduleWindowPassed { .. }
            | Self::NotStartedYet
            | Self::DepositRequired { .. }
            | Self::PaymentUnavailable(_)
            | Self::CouponUnavailable { .. }
            // Like ordering's out-of-stock: the request was fine, the world moved.
            | Self::SlotFull => Code::FailedPrecondition,
            Self::Unavailable(_) => Code::Unavailable,
            Self::PaymentMismatch(_) => Code::InvalidArgument,
            Self::Payment(r) => r.code(),
            Self::Db(_) | Self::Internal(_) => Code::Internal,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::Request(e) => e.reason(),
            Self::ModuleDisabled => "MODULE_DISABLED",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::SlotUnavailable(_) => "SLOT_UNAVAILABLE",
            Self::SlotFull => "SLOT_FULL",
            Self::InvalidTransition { .. } => "INVALID_TRANSITION",
            Self::CancelWindowPassed { .. } => "CANCEL_WINDOW_PASSED",
            Self::RescheduleWindowPassed { .. } => "RESCHEDULE_WINDOW_PASSED",
            Self::NotStartedYet => "NOT_STARTED_YET",
            Self::DepositRequired { .. } => "DEPOSIT_REQUIRED",
            Self::PaymentUnavailable(_) => "PAYMENT_UNAVAILABLE",
            Self::PaymentMismatch(_) => "PAYMENT_MISMATCH",
            Self::CouponUnavailable { .. } => "COUPON_UNAVAILABLE",
            Self::Payment(r) => r.reason(),
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Db(_) => "DATABASE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn domain(&self) -> &'static str {
        "booking.minimodules"
    }

    fn field_violations(&self) -> Vec<FieldViolation> {
        match self {
            Self::Request(e) => e.field_violations(),
            _ => Vec::new(),
        }
    }

    fn metadata(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        match self {
            Self::NotFound { kind, id } => {
                m.insert("kind".into(), (*kind).to_string());
                m.insert("id".into(), id.clone());
            }
            Self::InvalidTransition { from, action } => {
                m.insert("status".into(), from.to_string());
                m.insert("action".into(), (*action).to_string());
            }
            Self::CancelWindowPassed { hours } | Self::RescheduleWindowPassed { hours } => {
                m.insert("hours".into(), hours.to_string());
            }
            Self::DepositRequired { deposit_fen } => {
                m.insert("deposit_fen".into(), deposit_fen.to_string());
            }
            Self::SlotUnavailable(cause) => {
                m.insert("cause".into(), cause.key().to_string());
            }
            Self::Payment(r) => m.extend(r.metadata()),
            Self::CouponUnavailable { problem } => {
                m.insert("problem".into(), problem.clone());
            }
            _ => {}
        }
        m
    }
}

impl From<BookingError> for tonic::Status {
    fn from(e: BookingError) -> Self {
        to_status(&e)
    }
}

/// Shorthand.
pub type Result<T, E = BookingError> = std::result::Result<T, E>;
