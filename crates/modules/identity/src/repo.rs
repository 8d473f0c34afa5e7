//! Every query of the identity module. Users and WeChat credentials are a tenant's rows: each
//! function on them takes the [`TenantScope`] it may touch, builds its query from the scope (which
//! writes the tenant filter) and stamps inserted rows with the scope's tenant; the caller runs it
//! in a transaction from `scope.begin(..)`, so that PostgreSQL's row-level security lets the rows
//! through. The one look across tenants ([`app_with_appid_exists`]) takes a [`SystemScope`].
//! Operators have no tenant, and sessions are keyed by a tenant id or "platform" for operators'
//! sessions (outside row-level security): those take the plain key.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use mm_kernel::{SystemScope, TenantScope};

use crate::entity::{operators, sessions, users, wechat_apps};

/// One user of a tenant.
pub async fn find_user(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    user: &str,
) -> Result<Option<users::Model>, DbErr> {
    scope
        .find::<users::Entity>()
        .filter(users::Column::UserId.eq(user))
        .one(db)
        .await
}

/// A tenant's user by login name.
pub async fn find_user_by_login(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    login: &str,
) -> Result<Option<users::Model>, DbErr> {
    scope
        .find::<users::Entity>()
        .filter(users::Column::LoginName.eq(login))
        .one(db)
        .await
}

/// The one staff member or admin of a tenant with this phone; none when no one or several have it.
pub async fn find_staff_by_phone(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    phone: &str,
) -> Result<Option<users::Model>, DbErr> {
    let rows = scope
        .find::<users::Entity>()
        .filter(users::Column::Phone.eq(phone))
        .filter(users::Column::Role.ne("customer"))
        .limit(2)
        .all(db)
        .await?;
    Ok(if rows.len() == 1 {
        rows.into_iter().next()
    } else {
        None
    })
}

/// A tenant's customer by openid.
pub async fn find_user_by_openid(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    openid: &str,
) -> Result<Option<users::Model>, DbErr> {
    scope
        .find::<users::Entity>()
        .filter(users::Column::WechatOpenid.eq(openid))
        .one(db)
        .await
}

/// Inserts a user into the scope's tenant.
pub async fn insert_user(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: users::Model,
) -> Result<users::Model, DbErr> {
    row.tenant_id = scope.tenant();
    row.into_active_model().reset_all().insert(db).await
}

/// Writes a changed user of the scope's tenant (the key is the scope's tenant and the user id).
pub async fn save_user(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: users::Model,
) -> Result<users::Model, DbErr> {
    row.tenant_id = scope.tenant();
    row.updated_at = Utc::now();
    row.into_active_model().reset_all().update(db).await
}

/// A page of a tenant's users, newest first, before `before`, optionally filtered.
pub async fn list_users(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    before: Option<&str>,
    limit: u64,
    query: &str,
    role: Option<&str>,
) -> Result<Vec<users::Model>, DbErr> {
    let mut q = scope
        .find::<users::Entity>()
        .order_by_desc(users::Column::UserId)
        .limit(limit);
    if let Some(b) = before {
        q = q.filter(users::Column::UserId.lt(b));
    }
    if let Some(r) = role {
        q = q.filter(users::Column::Role.eq(r));
    }
    if !query.is_empty() {
        let escaped = query
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let mut any = Condition::any();
        for col in [
            users::Column::DisplayName,
            users::Column::LoginName,
            users::Column::Nickname,
            users::Column::Phone,
        ] {
            any = any.add(
                Expr::expr(Func::lower(Expr::col(col)))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\')),
            );
        }
        q = q.filter(any);
    }
    q.all(db).await
}

/// An operator by login name.
pub async fn find_operator_by_login(
    db: &impl ConnectionTrait,
    login: &str,
) -> Result<Option<operators::Model>, DbErr> {
    operators::Entity::find()
        .filter(operators::Column::LoginName.eq(login))
        .one(db)
        .await
}

/// An operator by id.
pub async fn find_operator(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<operators::Model>, DbErr> {
    operators::Entity::find_by_id(id.to_string()).one(db).await
}

/// Inserts an operator.
pub async fn insert_operator(
    db: &impl ConnectionTrait,
    row: operators::Model,
) -> Result<operators::Model, DbErr> {
    row.into_active_model().reset_all().insert(db).await
}

/// Writes a changed operator.
pub async fn save_operator(
    db: &impl ConnectionTrait,
    mut row: operators::Model,
) -> Result<operators::Model, DbErr> {
    row.updated_at = Utc::now();
    row.into_active_model().reset_all().update(db).await
}

/// Stores a refresh token's hash.
pub async fn insert_session(
    db: &impl ConnectionTrait,
    scope: &str,
    token_hash: &str,
    session_id: &str,
    subject: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    sessions::ActiveModel {
        tenant_id: Set(scope.to_string()),
        token_hash: Set(token_hash.to_string()),
        session_id: Set(session_id.to_string()),
        subject: Set(subject.to_string()),
        expires_at: Set(expires_at),
        spent_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// A refresh token row.
pub async fn find_session(
    db: &impl ConnectionTrait,
    scope: &str,
    token_hash: &str,
) -> Result<Option<sessions::Model>, DbErr> {
    sessions::Entity::find_by_id((scope.to_string(), token_hash.to_string()))
        .one(db)
        .await
}

/// Marks a refresh token spent, only if it was not already: false means someone spent it first.
pub async fn spend_session(
    db: &impl ConnectionTrait,
    scope: &str,
    token_hash: &str,
) -> Result<bool, DbErr> {
    let res = sessions::Entity::update_many()
        .col_expr(sessions::Column::SpentAt, Expr::value(Utc::now()))
        .filter(sessions::Column::TenantId.eq(scope))
        .filter(sessions::Column::TokenHash.eq(token_hash))
        .filter(sessions::Column::SpentAt.is_null())
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Whether a session still has a token row that is not revoked. Revocation marks every row of
/// the session, so "none left" means revoked (or never issued here).
pub async fn session_live(
    db: &impl ConnectionTrait,
    scope: &str,
    session_id: &str,
) -> Result<bool, DbErr> {
    let live = sessions::Entity::find()
        .filter(sessions::Column::TenantId.eq(scope))
        .filter(sessions::Column::SessionId.eq(session_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    Ok(live.is_some())
}

/// Every session revoked at or after `since`, in every tenant: the platform-wide revocation list
/// is rebuilt from it when Redis comes back empty (rarely, so a scan is acceptable).
pub async fn sessions_revoked_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    sessions::Entity::find()
        .select_only()
        .column(sessions::Column::SessionId)
        .distinct()
        .filter(sessions::Column::RevokedAt.gte(since))
        .into_tuple::<String>()
        .all(db)
        .await
}

/// Revokes every token of a session.
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    scope: &str,
    session_id: &str,
) -> Result<(), DbErr> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(sessions::Column::TenantId.eq(scope))
        .filter(sessions::Column::SessionId.eq(session_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// Revokes every live session of a subject except `keep`; returns the session ids revoked.
pub async fn revoke_subject_sessions(
    db: &impl ConnectionTrait,
    scope: &str,
    subject: &str,
    keep: Option<&str>,
) -> Result<Vec<String>, DbErr> {
    let mut q = sessions::Entity::find()
        .filter(sessions::Column::TenantId.eq(scope))
        .filter(sessions::Column::Subject.eq(subject))
        .filter(sessions::Column::RevokedAt.is_null());
    if let Some(k) = keep {
        q = q.filter(sessions::Column::SessionId.ne(k));
    }
    let mut ids: Vec<String> = q.all(db).await?.into_iter().map(|r| r.session_id).collect();
    ids.sort();
    ids.dedup();
    for id in &ids {
        revoke_session(db, scope, id).await?;
    }
    Ok(ids)
}

/// Whether any tenant has credentials stored under this appid. Only the refused-login path
/// asks, after the tenant module found no open shop with it. It spans tenants because an appid
/// that no open shop has names no tenant to scope to: the question is whether some tenant (a
/// closed shop, or one that moved to another appid) left credentials under it, so that the login
/// is refused as "shop unavailable" rather than "never registered". It takes the platform's
/// [`SystemScope`], and runs in a transaction from its `begin`.
pub async fn app_with_appid_exists(
    db: &impl ConnectionTrait,
    system: &SystemScope,
    appid: &str,
) -> Result<bool, DbErr> {
    tracing::debug!(
        job = system.job(),
        appid,
        "looking up an appid across tenants"
    );
    Ok(wechat_apps::Entity::find()
        .filter(wechat_apps::Column::WechatAppid.eq(appid))
        .one(db)
        .await?
        .is_some())
}

/// A tenant's mini-program credentials.
pub async fn find_app(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<Option<wechat_apps::Model>, DbErr> {
    scope.find::<wechat_apps::Entity>().one(db).await
}

/// Stores the scope's tenant's credentials, replacing earlier ones.
pub async fn put_app(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    appid: &str,
    secret_enc: &str,
) -> Result<(), DbErr> {
    let row = wechat_apps::Model {
        tenant_id: scope.tenant(),
        wechat_appid: appid.to_string(),
        secret_enc: secret_enc.to_string(),
        updated_at: Utc::now(),
    };
    // One upsert, not a read then a write: inside a transaction, SQLite refuses (SQLITE_BUSY, no
    // waiting) to turn a reader into a writer when another writer committed in between.
    wechat_apps::Entity::insert(row.into_active_model())
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(wechat_apps::Column::TenantId)
                .update_columns([
                    wechat_apps::Column::WechatAppid,
                    wechat_apps::Column::SecretEnc,
                    wechat_apps::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
