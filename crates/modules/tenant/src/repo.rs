//! Every query of the tenant module. Functions on one tenant's data take its [`TenantScope`] and
//! start from the query it restricts; the ones that look across tenants (the tenant registry:
//! finding a tenant by AppID or slug before any tenant is known, the operators' list) take a
//! [`SystemScope`] or say why they need none.

use chrono::Utc;
use mm_kernel::{SystemScope, TenantScope};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::entity::{tenant_modules, tenants};

/// One tenant.
pub async fn find_tenant(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<Option<tenants::Model>, sea_orm::DbErr> {
    scope.find::<tenants::Entity>().one(db).await
}

/// The tenant serving an appid: the mini-program's boot and login know only the AppID.
pub async fn find_by_appid(
    db: &impl ConnectionTrait,
    _registry: &SystemScope,
    appid: &str,
) -> Result<Option<tenants::Model>, sea_orm::DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::WechatAppid.eq(appid))
        .one(db)
        .await
}

/// The tenant holding a slug (slugs are unique across the platform).
pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    _registry: &SystemScope,
    slug: &str,
) -> Result<Option<tenants::Model>, sea_orm::DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// A page of tenants after the key `after`, oldest first (ids are time-ordered UUIDv7): the
/// operators' list, across tenants by design.
pub async fn list_tenants(
    db: &impl ConnectionTrait,
    _registry: &SystemScope,
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
    scope: &TenantScope,
    mut row: tenants::Model,
) -> Result<tenants::Model, sea_orm::DbErr> {
    row.tenant_id = scope.tenant();
    row.into_active_model().reset_all().insert(db).await
}

/// Writes a changed tenant row.
pub async fn save_tenant(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: tenants::Model,
) -> Result<tenants::Model, sea_orm::DbErr> {
    row.tenant_id = scope.tenant();
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
    scope: &TenantScope,
) -> Result<bool, sea_orm::DbErr> {
    let res = scope
        .update_many::<tenants::Entity>()
        .col_expr(
            tenants::Column::ConfigVersion,
            Expr::col(tenants::Column::ConfigVersion).add(1),
        )
        .col_expr(tenants::Column::UpdatedAt, Expr::value(Utc::now()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Every module row of a tenant.
pub async fn list_modules(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<Vec<tenant_modules::Model>, sea_orm::DbErr> {
    scope.find::<tenant_modules::Entity>().all(db).await
}

/// One module row of a tenant.
pub async fn find_module(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    module: &str,
) -> Result<Option<tenant_modules::Model>, sea_orm::DbErr> {
    scope
        .find::<tenant_modules::Entity>()
        .filter(tenant_modules::Column::ModuleId.eq(module))
        .one(db)
        .await
}

/// Inserts or updates a module row of a tenant.
pub async fn put_module(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
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
                tenant_id: Set(scope.tenant()),
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
