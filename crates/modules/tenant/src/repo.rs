//! Every query of the tenant module. Functions on tenant-owned data take the `TenantId` first and
//! filter by it; there is no query here that can cross tenants by accident.

use chrono::Utc;
use mm_kernel::TenantId;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::entity::{tenant_modules, tenants};

/// One tenant.
pub async fn find_tenant(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Option<tenants::Model>, sea_orm::DbErr> {
    tenants::Entity::find_by_id(tenant.to_string())
        .one(db)
        .await
}

/// The tenant serving an appid.
pub async fn find_by_appid(
    db: &impl ConnectionTrait,
    appid: &str,
) -> Result<Option<tenants::Model>, sea_orm::DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::WechatAppid.eq(appid))
        .one(db)
        .await
}

/// The tenant holding a slug.
pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<tenants::Model>, sea_orm::DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// A page of tenants after the key `after`, oldest first (ids are time-ordered UUIDv7).
pub async fn list_tenants(
    db: &impl ConnectionTrait,
    after: Option<&str>,
    limit: u64,
    show_archived: bool,
) -> Result<Vec<tenants::Model>, sea_orm::DbErr> {
    let mut q = tenants::Entity::find()
        .order_by_asc(tenants::Column::TenantId)
        .limit(limit);
    if let Some(a) = after {
        q = q.filter(tenants::Column::TenantId.gt(a));
    }
    if !show_archived {
        q = q.filter(tenants::Column::Status.eq("active"));
    }
    q.all(db).await
}

/// Inserts a tenant row.
pub async fn insert_tenant(
    db: &impl ConnectionTrait,
    row: tenants::Model,
) -> Result<tenants::Model, sea_orm::DbErr> {
    row.into_active_model().reset_all().insert(db).await
}

/// Writes a changed tenant row.
pub async fn save_tenant(
    db: &impl ConnectionTrait,
    row: tenants::Model,
) -> Result<tenants::Model, sea_orm::DbErr> {
    let mut am = row.into_active_model().reset_all();
    am.updated_at = Set(Utc::now());
    am.update(db).await
}

/// Bumps the tenant's config version. Done first in every write transaction that changes what the
/// mini-program sees: it locks the tenant row (PostgreSQL) or takes the write lock (SQLite), so
/// concurrent module changes of one tenant serialise and dependency checks cannot race.
/// Returns false when the tenant does not exist.
pub async fn bump_config_version(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<bool, sea_orm::DbErr> {
    let res = tenants::Entity::update_many()
        .col_expr(
            tenants::Column::ConfigVersion,
            Expr::col(tenants::Column::ConfigVersion).add(1),
        )
        .col_expr(tenants::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(tenants::Column::TenantId.eq(tenant.to_string()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Every module row of a tenant.
pub async fn list_modules(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<tenant_modules::Model>, sea_orm::DbErr> {
    tenant_modules::Entity::find()
        .filter(tenant_modules::Column::TenantId.eq(tenant.to_string()))
        .all(db)
        .await
}

/// One module row of a tenant.
pub async fn find_module(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    module: &str,
) -> Result<Option<tenant_modules::Model>, sea_orm::DbErr> {
    tenant_modules::Entity::find_by_id((tenant.to_string(), module.to_string()))
        .one(db)
        .await
}

/// Inserts or updates a module row of a tenant.
pub async fn put_module(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    module: &str,
    enabled: bool,
    config: Option<String>,
    existing: Option<tenant_modules::Model>,
) -> Result<tenant_modules::Model, sea_orm::DbErr> {
    let now = Utc::now();
    match existing {
        Some(row) => {
            let config_changed = config.is_some() && config != row.config;
            let mut am = row.clone().into_active_model();
            am.enabled = Set(enabled);
            if config_changed {
                am.config = Set(config);
                am.config_version = Set(row.config_version + 1);
            }
            am.updated_at = Set(now);
            am.update(db).await
        }
        None => {
            tenant_modules::ActiveModel {
                tenant_id: Set(tenant.to_string()),
                module_id: Set(module.to_string()),
                enabled: Set(enabled),
                config: Set(config),
                config_version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await
        }
    }
}
