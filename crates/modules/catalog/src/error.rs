//! Every way a catalog call can fail, mapped to a status in one place.

use std::collections::HashMap;

use mm_kernel::error::{DomainError, FieldViolation, RequestError, to_status};
use tonic::Code;

/// Errors of the catalog module.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Malformed request, permission or authentication problem.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// No such category in this tenant.
    #[error("category {category} not found")]
    CategoryNotFound { category: String },
    /// No such product in this tenant.
    #[error("product {product} not found")]
    ProductNotFound { product: String },
    /// A category still holding products cannot be deleted.
    #[error("category {category} still has {products} product(s)")]
    CategoryNotEmpty { category: String, products: u64 },
    /// Not enough stock for an item; nothing was taken.
    #[error("not enough stock of {product} / {sku}")]
    OutOfStock { product: String, sku: String },
    /// The product is off sale or gone.
    #[error("{product} is not on sale")]
    NotOnSale { product: String },
    /// The reservation id was released (or given up) before this reservation arrived: a late
    /// or repeated reserve must not take stock nobody will give back.
    #[error("reservation {reservation} was released")]
    ReservationReleased { reservation: String },
    /// The etag sent does not match.
    #[error("product {product} was changed by someone else; reload and retry")]
    EtagMismatch { product: String },
    /// Database failure.
    #[error("database error")]
    Db(#[from] sea_orm::DbErr),
    /// Anything else unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError for CatalogError {
    fn code(&self) -> Code {
        match self {
            Self::Request(e) => e.code(),
            Self::CategoryNotFound { .. } | Self::ProductNotFound { .. } => Code::NotFound,
            Self::CategoryNotEmpty { .. }
            | Self::OutOfStock { .. }
            | Self::NotOnSale { .. }
            | Self::ReservationReleased { .. } => Code::FailedPrecondition,
            Self::EtagMismatch { .. } => Code::Aborted,
            Self::Db(_) | Self::Internal(_) => Code::Internal,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Self::Request(e) => e.reason(),
            Self::CategoryNotFound { .. } => "CATEGORY_NOT_FOUND",
            Self::ProductNotFound { .. } => "PRODUCT_NOT_FOUND",
            Self::CategoryNotEmpty { .. } => "CATEGORY_NOT_EMPTY",
            Self::OutOfStock { .. } => "OUT_OF_STOCK",
            Self::NotOnSale { .. } => "NOT_ON_SALE",
            Self::ReservationReleased { .. } => "RESERVATION_RELEASED",
            Self::EtagMismatch { .. } => "ETAG_MISMATCH",
            Self::Db(_) => "DATABASE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    fn domain(&self) -> &'static str {
        "catalog.minimodules"
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
            Self::CategoryNotEmpty { products, .. } => {
                m.insert("products".into(), products.to_string());
            }
            Self::OutOfStock { product, sku } => {
                m.insert("product".into(), product.clone());
                m.insert("sku".into(), sku.clone());
            }
            Self::NotOnSale { product } => {
                m.insert("product".into(), product.clone());
            }
            _ => {}
        }
        m
    }
}

impl From<CatalogError> for tonic::Status {
    fn from(e: CatalogError) -> Self {
        to_status(&e)
    }
}

/// Shorthand.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;
