//! Every way a tenant-module call can fail, mapped to a gRPC status in one place (the kernel's
//! `to_status`) with a stable reason.

use std::collections::HashMap;

use mm_kernel::error::{DomainError, FieldViolation, RequestError, to_status};
use tonic::Code;

/// Errors of the tenant module.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// Malformed request, permission or authentication problem.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// No such tenant (or the caller may not know of it).
    #[error("tenant {tenant} not found")]
    TenantNotFound { tenant: String },
    /// No tenant serves this appid.
    #[error("no active tenant for appid {appid}")]
    AppNotFound { appid: String },
    /// No active shop has this slug or appid.
    #[error("no active shop {shop:?}")]
    ShopNotFound { shop: String },
    /// The slug is taken.
    #[error("slug {slug:?} is already taken")]
    DuplicateSlug { slug: String },
    /// The appid belongs to another tenant.
    #[error("appid {appid:?} is already used by another tenant")]
    DuplicateAppid { appid: String },
    /// The tenant is archived and cannot change.
    #[error("tenant {tenant} is archived")]
    TenantArchived { tenant: String },
    /// No such module in the registry.
    #[error("module {module:?} does not exist")]
    ModuleNotFound { module: String },
    /// No such template.
    #[error("industry template {template:?} does not exist")]
    TemplateNotFound { template: String },
    /// Enabling needs dependencies that are off.
    #[error("module {module} needs {} enabled first", missing.join(", "))]
    MissingDependencies {
        module: String,
        missing: Vec<String>,
    },
    /// Disabling is refused while dependents are on.
    #[error("module {module} is needed by {} which are enabled", dependents.join(", "))]
    HasDependents {
        module: String,
        dependents: Vec<String>,
    },
    /// Core modules are always on.
    #[error("module {module} is part of the platform core and cannot be disabled")]
    CoreModule { module: String },
    /// The module must be enabled to be configured.
    #[error("module {module} is not enabled for this tenant")]
    ModuleDisabled { module: String },
    /// Config does not match the module's schema.
    #[error("config of module {module} is invalid")]
    InvalidConfig {
        module: String,
        violations: Vec<FieldViolation>,
    },
    /// The etag sent does not match the stored one.
    #[error("{resource} was changed by someone else; reload and retry")]
    EtagMismatch { resource: String },
    /// The tenant has no WeChat Pay merchant account.
    #[error("WeChat Pay is not set up for this shop")]
    PaymentAccountMissing,
    /// Database failure.
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    /// Anything else unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for TenantError {
    fn code(&self) -> Code {
        match self {
            Self::Request(e) => e.code(),
            Self::TenantNotFound { .. }
            | Self::AppNotFound { .. }
            | Self::ShopNotFound { .. }
            | Self::ModuleNotFound { .. }
            | Self::TemplateNotFound { .. }
            | Self::PaymentAccountMissing => Code::NotFound,
            Self::DuplicateSlug { .. } | Self::DuplicateAppid { .. } => Code::AlreadyExists,
            Self::TenantArchived { .. }
            | Self::MissingDependencies { .. }
            | Self::HasDependents { .. }
            | Self::CoreModule { .. }
            | Self::ModuleDisabled { .. } => Code::FailedPrecondition,
            Self::InvalidConfig { .. } => Code::InvalidArgument,
            Self::EtagMismatch { .. } => Code::Aborted,
            Self::Db(_) | Self::Internal(_) => Code::Internal,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::Request(e) => e.reason(),
            Self::TenantNotFound { .. } => "TENANT_NOT_FOUND",
            Self::AppNotFound { .. } => "APP_NOT_FOUND",
            Self::ShopNotFound { .. } => "SHOP_NOT_FOUND",
            Self::DuplicateSlug { .. } => "DUPLICATE_SLUG",
            Self::DuplicateAppid { .. } => "DUPLICATE_APPID",
            Self::TenantArchived { .. } => "TENANT_ARCHIVED",
            Self::ModuleNotFound { .. } => "MODULE_NOT_FOUND",
            Self::TemplateNotFound { .. } => "TEMPLATE_NOT_FOUND",
            Self::MissingDependencies { .. } => "MISSING_DEPENDENCIES",
            Self::HasDependents { .. } => "HAS_DEPENDENTS",
            Self::CoreModule { .. } => "CORE_MODULE",
            Self::ModuleDisabled { .. } => "MODULE_DISABLED",
            Self::InvalidConfig { .. } => "INVALID_CONFIG",
            Self::EtagMismatch { .. } => "ETAG_MISMATCH",
            Self::PaymentAccountMissing => "PAYMENT_ACCOUNT_MISSING",
            Self::Db(_) => "DATABASE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn domain(&self) -> &'static str {
        "tenant.minimodules"
    }

    fn field_violations(&self) -> Vec<FieldViolation> {
        match self {
            Self::Request(e) => e.field_violations(),
            Self::InvalidConfig { violations, .. } => violations.clone(),
            _ => Vec::new(),
        }
    }

    fn metadata(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        match self {
            Self::MissingDependencies { module, missing } => {
                m.insert("module".into(), module.clone());
                m.insert("missing".into(), missing.join(","));
            }
            Self::HasDependents { module, dependents } => {
                m.insert("module".into(), module.clone());
                m.insert("dependents".into(), dependents.join(","));
            }
            Self::TenantNotFound { tenant } | Self::TenantArchived { tenant } => {
                m.insert("tenant".into(), tenant.clone());
            }
            Self::ShopNotFound { shop } => {
                m.insert("shop".into(), shop.clone());
            }
            Self::ModuleNotFound { module }
            | Self::CoreModule { module }
            | Self::ModuleDisabled { module }
            | Self::InvalidConfig { module, .. } => {
                m.insert("module".into(), module.clone());
            }
            _ => {}
        }
        m
    }
}

impl From<TenantError> for tonic::Status {
    fn from(e: TenantError) -> Self {
        to_status(&e)
    }
}

/// Shorthand for results of this module.
pub type Result<T, E = TenantError> = std::result::Result<T, E>;
