//! Every way a marketing call can fail, mapped to a status in one place.

use std::collections::HashMap;

use mm_kernel::error::{DomainError, FieldViolation, RequestError, to_status};
use tonic::Code;

/// Errors of the marketing module.
#[derive(Debug, thiserror::Error)]
pub enum MarketingError {
    /// Malformed request, permission or authentication problem.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The tenant has marketing switched off.
    #[error("marketing is not enabled for this shop")]
    ModuleDisabled,
    /// Another module could not be reached.
    #[error("{0} is unavailable; retry shortly")]
    Unavailable(String),
    /// No such template in this shop.
    #[error("coupon template {template} not found")]
    TemplateNotFound { template: String },
    /// No such promotion in this shop.
    #[error("promotion {promotion} not found")]
    PromotionNotFound { promotion: String },
    /// The template was stopped: nothing more is handed out.
    #[error("this coupon is no longer handed out")]
    TemplateStopped,
    /// Customers cannot claim this template themselves.
    #[error("this coupon cannot be claimed")]
    NotClaimable,
    /// The template's fixed validity has ended.
    #[error("this coupon has expired")]
    TemplateExpired,
    /// Every coupon of the template has been handed out.
    #[error("all coupons have been claimed")]
    SoldOut,
    /// The customer holds as many as the template allows.
    #[error("each customer may hold {limit} of this coupon")]
    LimitReached { limit: i32 },
    /// The coupon picked is used, held by another order, or expired.
    #[error("the coupon can no longer be used")]
    CouponUnavailable,
    /// The coupon picked takes nothing off this basket.
    #[error("the coupon does not apply to this order: {problem}")]
    CouponNotApplicable { problem: &'static str },
    /// Taking the points would leave the member below zero.
    #[error("the member does not have that many points")]
    PointsInsufficient,
    /// Database failure.
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    /// Anything else unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for MarketingError {
    fn code(&self) -> Code {
        match self {
            Self::Request(e) => e.code(),
            Self::TemplateNotFound { .. } | Self::PromotionNotFound { .. } => Code::NotFound,
            Self::Unavailable(_) => Code::Unavailable,
            Self::ModuleDisabled => Code::FailedPrecondition,
            Self::TemplateStopped
            | Self::NotClaimable
            | Self::TemplateExpired
            | Self::SoldOut
            | Self::LimitReached { .. }
            | Self::CouponUnavailable
            | Self::CouponNotApplicable { .. }
            | Self::PointsInsufficient => Code::FailedPrecondition,
            Self::Db(_) | Self::Internal(_) => Code::Internal,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::Request(e) => e.reason(),
            Self::ModuleDisabled => "MODULE_DISABLED",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::TemplateNotFound { .. } => "COUPON_TEMPLATE_NOT_FOUND",
            Self::PromotionNotFound { .. } => "PROMOTION_NOT_FOUND",
            Self::TemplateStopped => "COUPON_TEMPLATE_STOPPED",
            Self::NotClaimable => "COUPON_NOT_CLAIMABLE",
            Self::TemplateExpired => "COUPON_TEMPLATE_EXPIRED",
            Self::SoldOut => "COUPONS_SOLD_OUT",
            Self::LimitReached { .. } => "COUPON_LIMIT_REACHED",
            Self::CouponUnavailable => "COUPON_UNAVAILABLE",
            Self::CouponNotApplicable { .. } => "COUPON_NOT_APPLICABLE",
            Self::PointsInsufficient => "POINTS_INSUFFICIENT",
            Self::Db(_) => "DATABASE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn domain(&self) -> &'static str {
        "marketing.minimodules"
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
            Self::TemplateNotFound { template } => {
                m.insert("template".into(), template.clone());
            }
            Self::PromotionNotFound { promotion } => {
                m.insert("promotion".into(), promotion.clone());
            }
            Self::LimitReached { limit } => {
                m.insert("limit".into(), limit.to_string());
            }
            Self::CouponNotApplicable { problem } => {
                m.insert("problem".into(), (*problem).to_string());
            }
            _ => {}
        }
        m
    }
}

impl From<MarketingError> for tonic::Status {
    fn from(e: MarketingError) -> Self {
        to_status(&e)
    }
}

/// Shorthand.
pub type Result<T, E = MarketingError> = std::result::Result<T, E>;
