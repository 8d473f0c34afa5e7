//! Every way an identity call can fail, mapped to a status in one place. Login failures are
//! deliberately vague: the same answer whether the account exists or not.

use std::collections::HashMap;

use mm_kernel::error::{DomainError, FieldViolation, RequestError, to_status};
use tonic::Code;

/// Errors of the identity module.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Malformed request, permission or authentication problem.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// Wrong login name or password, or no such account: never said which.
    #[error("invalid login name or password")]
    BadCredentials,
    /// Too many failed logins for this account.
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    Locked { retry_after_secs: u64 },
    /// Too many attempts from this address.
    #[error("too many attempts from this address; slow down")]
    Throttled,
    /// The account is disabled.
    #[error("this account is disabled")]
    Disabled,
    /// Refresh token unknown, expired, spent or revoked.
    #[error("the session has ended; log in again")]
    SessionEnded,
    /// No such user in this tenant.
    #[error("user {user} not found")]
    UserNotFound { user: String },
    /// Login name taken in this tenant.
    #[error("login name {login:?} is already taken")]
    DuplicateLogin { login: String },
    /// Appid used by another tenant.
    #[error("appid {appid:?} is already used by another tenant")]
    DuplicateAppid { appid: String },
    /// No WeChat credentials for this appid.
    #[error("no mini-program is registered for appid {appid}")]
    AppNotRegistered { appid: String },
    /// The shop behind this appid is archived or no longer uses it.
    #[error("the shop of mini-program {appid} is not open")]
    ShopUnavailable { appid: String },
    /// WeChat refused the login code.
    #[error("the WeChat login code is invalid or was used already")]
    InvalidWechatCode,
    /// WeChat refused our credentials.
    #[error("the mini-program's WeChat credentials were refused by WeChat")]
    WechatCredentials,
    /// WeChat is rate limiting us.
    #[error("WeChat is busy; retry shortly")]
    WechatBusy,
    /// WeChat could not be reached or answered something unexpected.
    #[error("WeChat is unavailable: {0}")]
    WechatUnavailable(String),
    /// The user has not agreed to (or has used up) this subscribe message.
    #[error("the customer has not subscribed to this message")]
    SubscriptionRefused,
    /// WeChat refused a request for good (bad template, data or page).
    #[error("WeChat refused the message: {0}")]
    WechatRejected(String),
    /// The tenant is archived: its staff may no longer log in.
    #[error("this shop is archived")]
    TenantArchived,
    /// Whether the session or tenant still holds could not be checked now.
    #[error("cannot check the session right now; try again")]
    SessionUncheckable,
    /// The development login is off outside dev mode.
    #[error("the development login is disabled on this server")]
    DevLoginDisabled,
    /// A rule about who may do what to whom (e.g. disabling yourself).
    #[error("{0}")]
    NotAllowed(String),
    /// Database failure.
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    /// Anything else unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IdentityError {
    /// One invalid field.
    pub fn invalid(field: &str, description: &str) -> Self {
        Self::Request(RequestError::invalid(field, description))
    }
}

impl DomainError for IdentityError {
    fn code(&self) -> Code {
        match self {
            Self::Request(e) => e.code(),
            Self::BadCredentials | Self::SessionEnded | Self::InvalidWechatCode => {
                Code::Unauthenticated
            }
            Self::Locked { .. } | Self::Throttled => Code::ResourceExhausted,
            Self::Disabled | Self::NotAllowed(_) => Code::PermissionDenied,
            Self::UserNotFound { .. } | Self::AppNotRegistered { .. } => Code::NotFound,
            Self::DuplicateLogin { .. } | Self::DuplicateAppid { .. } => Code::AlreadyExists,
            Self::WechatCredentials | Self::DevLoginDisabled | Self::ShopUnavailable { .. } => {
                Code::FailedPrecondition
            }
            Self::WechatBusy | Self::WechatUnavailable(_) | Self::SessionUncheckable => {
                Code::Unavailable
            }
            Self::TenantArchived => Code::PermissionDenied,
            Self::SubscriptionRefused | Self::WechatRejected(_) => Code::FailedPrecondition,
            Self::Db(_) | Self::Internal(_) => Code::Internal,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::Request(e) => e.reason(),
            Self::BadCredentials => "BAD_CREDENTIALS",
            Self::Locked { .. } => "ACCOUNT_LOCKED",
            Self::Throttled => "TOO_MANY_ATTEMPTS",
            Self::Disabled => "ACCOUNT_DISABLED",
            Self::SessionEnded => "SESSION_ENDED",
            Self::UserNotFound { .. } => "USER_NOT_FOUND",
            Self::DuplicateLogin { .. } => "DUPLICATE_LOGIN",
            Self::DuplicateAppid { .. } => "DUPLICATE_APPID",
            Self::AppNotRegistered { .. } => "APP_NOT_REGISTERED",
            Self::InvalidWechatCode => "INVALID_WECHAT_CODE",
            Self::ShopUnavailable { .. } => "SHOP_UNAVAILABLE",
            Self::WechatCredentials => "WECHAT_CREDENTIALS_REFUSED",
            Self::WechatBusy => "WECHAT_RATE_LIMITED",
            Self::WechatUnavailable(_) => "WECHAT_UNAVAILABLE",
            Self::SubscriptionRefused => "SUBSCRIPTION_REFUSED",
            Self::WechatRejected(_) => "WECHAT_REJECTED",
            Self::DevLoginDisabled => "DEV_LOGIN_DISABLED",
            Self::TenantArchived => "TENANT_ARCHIVED",
            Self::SessionUncheckable => "SESSION_UNCHECKABLE",
            Self::NotAllowed(_) => "NOT_ALLOWED",
            Self::Db(_) => "DATABASE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn domain(&self) -> &'static str {
        "identity.minimodules"
    }

    fn field_violations(&self) -> Vec<FieldViolation> {
        match self {
            Self::Request(e) => e.field_violations(),
            _ => Vec::new(),
        }
    }

    fn metadata(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        if let Self::Locked { retry_after_secs } = self {
            m.insert("retry_after_secs".into(), retry_after_secs.to_string());
        }
        m
    }
}

impl From<mm_kernel::gate::Refusal> for IdentityError {
    fn from(r: mm_kernel::gate::Refusal) -> Self {
        match r {
            mm_kernel::gate::Refusal::Ended => Self::SessionEnded,
            mm_kernel::gate::Refusal::Unavailable => Self::SessionUncheckable,
        }
    }
}

impl From<IdentityError> for tonic::Status {
    fn from(e: IdentityError) -> Self {
        to_status(&e)
    }
}

/// Shorthand.
pub type Result<T, E = IdentityError> = std::result::Result<T, E>;
