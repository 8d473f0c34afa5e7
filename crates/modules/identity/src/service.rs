//! Use cases of the identity module: logins (password, operator, WeChat, dev), rotating sessions,
//! password changes, phone binding, and the admin's user management. Each write that matters for
//! security records an audit event in the same transaction.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use mm_kernel::audit::{self, AuditRecord};
use mm_kernel::auth::JwtKeys;
use mm_kernel::cache::Cache;
use mm_kernel::config::{Environment, Settings};
use mm_kernel::error::{FieldViolation, RequestError};
use mm_kernel::{Principal, RequestContext, Role, TenantId};
use sea_orm::{DatabaseConnection, SqlErr, TransactionTrait};
use serde_json::json;

use crate::domain::{self, SecretBox};
use crate::entity::{operators, users};
use crate::error::{IdentityError, Result};
use crate::repo;
use crate::wechat::WechatClient;
use mm_proto::minimodules::tenant::v1::GetAppConfigRequest;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;

/// Access and refresh tokens with lifetimes, handed to a client.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub access_expires_in: i64,
    /// Refresh token.
    pub refresh_token: String,
    /// Its lifetime in seconds.
    pub refresh_expires_in: i64,
}

/// Scope of operators' sessions and events.
const PLATFORM: &str = mm_kernel::audit::PLATFORM;

/// Stored role names.
pub fn role_str(role: Role) -> &'static str {
    mm_kernel::auth::role_name(role)
}

/// Parses a stored role name.
pub fn parse_role(s: &str) -> Role {
    match s {
        "customer" => Role::Customer,
        "staff" => Role::Staff,
        "admin" => Role::Admin,
        _ => Role::Unspecified,
    }
}

/// A user's stored permission list.
pub fn permissions_of(row: &users::Model) -> Vec<String> {
    serde_json::from_str(&row.permissions).unwrap_or_default()
}

/// Fields a staff member is created with.
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// staff or admin.
    pub role: Role,
    /// Display name.
    pub display_name: String,
    /// Login name.
    pub login_name: String,
    /// Phone, may be empty.
    pub phone: String,
    /// Permissions (staff).
    pub permissions: Vec<String>,
    /// Initial password.
    pub password: String,
}

/// Changes to a user, each `Some` when in the update mask.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// New display name.
    pub display_name: Option<String>,
    /// New phone.
    pub phone: Option<String>,
    /// New role (staff or admin).
    pub role: Option<Role>,
    /// New permissions.
    pub permissions: Option<Vec<String>>,
}

/// Changes to the caller's own profile, each `Some` when in the update mask.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    /// New display name.
    pub display_name: Option<String>,
    /// New nickname (from the mini-program's nickname input).
    pub nickname: Option<String>,
    /// New avatar URL (from the mini-program's avatar chooser, after upload).
    pub avatar_url: Option<String>,
}

/// The identity module's application service.
#[derive(Clone)]
pub struct IdentityApp {
    db: DatabaseConnection,
    cache: Arc<Cache>,
    gate: Arc<mm_kernel::gate::Gate>,
    keys: Arc<JwtKeys>,
    settings: Arc<Settings>,
    secrets: SecretBox,
    wechat: WechatClient,
    per_address: Arc<DefaultKeyedRateLimiter<String>>,
    known_permissions: Arc<HashSet<String>>,
    platform: mm_kernel::platform::Platform,
}

impl std::fmt::Debug for IdentityApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityApp").finish_non_exhaustive()
    }
}

fn tenant_of(ctx: &RequestContext) -> Result<TenantId> {
    ctx.principal()?
        .tenant
        .ok_or_else(|| IdentityError::NotAllowed("this call needs a tenant user's token".into()))
}

/// The throttle key failed logins count under: the account when the login string names one, so
/// every name of an account (login name, phone) shares one lock; the string itself otherwise, so
/// unknown accounts lock the same way and the lockout does not tell whether an account exists.
fn lock_key(scope: &str, account: Option<&str>, login: &str) -> String {
    match account {
        Some(id) => format!("login:{scope}:id:{id}"),
        None => format!("login:{scope}:name:{login}"),
    }
}

fn invalid(v: Vec<FieldViolation>) -> Result<()> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(RequestError::Invalid(v).into())
    }
}

impl IdentityApp {
    /// Builds the service from the server's module context.
    pub fn from_context(ctx: &mm_kernel::module::ModuleContext) -> anyhow::Result<Self> {
        let per_minute = NonZeroU32::new(ctx.settings.auth.login_attempts_per_minute.max(1))
            .unwrap_or(NonZeroU32::MIN);
        let mut known = HashSet::new();
        for spec in ctx.specs.iter() {
            let v: serde_json::Value = serde_json::from_str(spec)?;
            for p in v["permissions"].as_array().into_iter().flatten() {
                if let Some(n) = p["name"].as_str() {
                    known.insert(n.to_string());
                }
            }
        }
        Ok(Self {
            db: ctx.db.clone(),
            cache: ctx.cache.clone(),
            gate: ctx.gate.clone(),
            keys: ctx.keys.clone(),
            settings: ctx.settings.clone(),
            secrets: SecretBox::new(&ctx.secret_key),
            wechat: WechatClient::new(
                &ctx.wechat_base_url,
                Duration::from_millis(ctx.settings.wechat.timeout_ms),
            )?,
            per_address: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            known_permissions: Arc::new(known),
            platform: ctx.platform.clone(),
        })
    }

    fn throttle(&self, ctx: &RequestContext) -> Result<()> {
        if let Some(addr) = &ctx.client_addr
            && self.per_address.check_key(addr).is_err()
        {
            return Err(IdentityError::Throttled);
        }
        Ok(())
    }

    async fn issue(
        &self,
        scope: &str,
        principal: Principal,
        session: Option<String>,
    ) -> Result<Tokens> {
        let session = session.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let refresh = domain::new_refresh_token(scope);
        let ttl = self.settings.auth.refresh_ttl_secs;
        let expires =
            Utc::now() + chrono::Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX / 2));
        repo::insert_session(
            &self.db,
            scope,
            &domain::hash_token(&refresh),
            &session,
            &principal.subject,
            expires,
        )
        .await?;
        let access = self
            .keys
            .issue(&Principal {
                session: Some(session),
                ..principal
            })
            .map_err(|e| anyhow::anyhow!("Failed to sign a token: {e}"))?;
        Ok(Tokens {
            access_token: access,
            access_expires_in: i64::try_from(self.settings.auth.access_ttl_secs).unwrap_or(900),
            refresh_token: refresh,
            refresh_expires_in: i64::try_from(ttl).unwrap_or(0),
        })
    }

    fn principal_of(tenant: TenantId, row: &users::Model) -> Principal {
        let role = parse_role(&row.role);
        Principal {
            subject: row.user_id.clone(),
            tenant: Some(tenant),
            role,
            permissions: if role == Role::Staff {
                permissions_of(row)
            } else {
                Vec::new()
            },
            session: None,
        }
    }

    async fn end_sessions(&self, scope: &str, subject: &str, keep: Option<&str>) -> Result<()> {
        let ended = repo::revoke_subject_sessions(&self.db, scope, subject, keep).await?;
        let ttl = Duration::from_secs(self.settings.auth.access_ttl_secs + 60);
        for sid in ended {
            self.cache.revoke_session(&sid, ttl).await;
        }
        Ok(())
    }

    /// Checks a password for an account key, with lockout after repeated failures. Unknown
    /// accounts cost the same time and count failures the same way, so neither timing nor the
    /// lockout tells whether an account exists.
    async fn check_password(
        &self,
        lock_key: &str,
        stored_hash: Option<String>,
        password: &str,
    ) -> Result<()> {
        let max = self.settings.auth.max_failed_logins;
        let window = Duration::from_secs(self.settings.auth.lockout_secs);
        if self.cache.hits(lock_key).await >= max {
            return Err(IdentityError::Locked {
                retry_after_secs: window.as_secs(),
            });
        }
        let known = stored_hash.is_some();
        let hash = match stored_hash {
            Some(h) => h,
            // Its first use computes an argon2 hash: keep that off the async threads too.
            None => tokio::task::spawn_blocking(|| domain::DUMMY_HASH.clone())
                .await
                .map_err(anyhow::Error::from)?,
        };
        if domain::verify_password(password.to_string(), hash).await && known {
            self.cache.clear_hits(lock_key).await;
            Ok(())
        } else {
            let n = self.cache.hit(lock_key, window).await;
            if n >= max {
                Err(IdentityError::Locked {
                    retry_after_secs: window.as_secs(),
                })
            } else {
                Err(IdentityError::BadCredentials)
            }
        }
    }

    /// Staff or admin login for one tenant.
    pub async fn password_login(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        login: &str,
        password: &str,
    ) -> Result<(Tokens, users::Model)> {
        self.throttle(ctx)?;
        let t = tenant.to_string();
        let login = login.trim().to_lowercase();
        if login.is_empty() || login.len() > 64 || password.is_empty() || password.len() > 1024 {
            return Err(IdentityError::BadCredentials);
        }
        let row = match repo::find_user_by_login(&self.db, &t, &login).await? {
            Some(r) => Some(r),
            // Staff may log in with their phone instead of a login name.
            None => repo::find_staff_by_phone(&self.db, &t, &login).await?,
        }
        .filter(|r| r.role != "customer");
        let lock_key = lock_key(&t, row.as_ref().map(|r| r.user_id.as_str()), &login);
        let result = self
            .check_password(
                &lock_key,
                row.as_ref().and_then(|r| r.password_hash.clone()),
                password,
            )
            .await;
        if let Err(e) = result {
            let action = if matches!(e, IdentityError::Locked { .. }) {
                "auth.login.locked"
            } else {
                "auth.login.failed"
            };
            audit::record(
                &self.db,
                AuditRecord::by(ctx, Some(tenant), action, login.clone()),
            )
            .await?;
            return Err(e);
        }
        let Some(mut row) = row else {
            return Err(IdentityError::BadCredentials);
        };
        if row.disabled {
            audit::record(
                &self.db,
                AuditRecord::by(ctx, Some(tenant), "auth.login.refused_disabled", login),
            )
            .await?;
            return Err(IdentityError::Disabled);
        }
        // After the password, so the answer tells a stranger nothing about the shop.
        self.gate.check_tenant(tenant).await.map_err(|r| match r {
            mm_kernel::gate::Refusal::Ended => IdentityError::TenantArchived,
            mm_kernel::gate::Refusal::Unavailable => IdentityError::SessionUncheckable,
        })?;
        row.last_login_at = Some(Utc::now());
        let row = repo::save_user(&self.db, row).await?;
        let mut ev = AuditRecord::by(ctx, Some(tenant), "auth.login.succeeded", login);
        ev.actor.clone_from(&row.user_id);
        audit::record(&self.db, ev).await?;
        let tokens = self
            .issue(&t, Self::principal_of(tenant, &row), None)
            .await?;
        Ok((tokens, row))
    }

    /// Platform operator login.
    pub async fn operator_login(
        &self,
        ctx: &RequestContext,
        login: &str,
        password: &str,
    ) -> Result<Tokens> {
        self.throttle(ctx)?;
        let login = login.trim().to_lowercase();
        if login.is_empty() || login.len() > 64 || password.is_empty() || password.len() > 1024 {
            return Err(IdentityError::BadCredentials);
        }
        let row = repo::find_operator_by_login(&self.db, &login).await?;
        let lock_key = lock_key(
            PLATFORM,
            row.as_ref().map(|r| r.operator_id.as_str()),
            &login,
        );
        if let Err(e) = self
            .check_password(
                &lock_key,
                row.as_ref().map(|r| r.password_hash.clone()),
                password,
            )
            .await
        {
            audit::record(
                &self.db,
                AuditRecord::by(ctx, None, "auth.operator_login.failed", login),
            )
            .await?;
            return Err(e);
        }
        let Some(row) = row else {
            return Err(IdentityError::BadCredentials);
        };
        if row.disabled {
            return Err(IdentityError::Disabled);
        }
        let mut ev = AuditRecord::by(ctx, None, "auth.operator_login.succeeded", login);
        ev.actor.clone_from(&row.operator_id);
        audit::record(&self.db, ev).await?;
        let principal = Principal {
            subject: row.operator_id,
            role: Role::Operator,
            ..Principal::default()
        };
        self.issue(PLATFORM, principal, None).await
    }

    /// The tenant behind an appid, and its AppSecret. The tenant module's `tenants` table (a
    /// reference table under Citus) is the one place an appid names a tenant; identity keeps the
    /// secret by tenant alone, so none of its rows is unique across tenants. Asking the tenant
    /// module first also shuts out an archived shop and credentials left behind by an appid change.
    async fn app_by_appid(&self, appid: &str) -> Result<(TenantId, String)> {
        let Some(tenant) = self.shop_of(appid).await? else {
            // No open shop has this appid. Credentials still stored under it belong to a shop
            // that closed or moved to another appid: say so rather than "never registered".
            return Err(if repo::app_with_appid_exists(&self.db, appid).await? {
                IdentityError::ShopUnavailable {
                    appid: appid.to_string(),
                }
            } else {
                IdentityError::AppNotRegistered {
                    appid: appid.to_string(),
                }
            });
        };
        let app = repo::find_app(&self.db, &tenant.to_string())
            .await?
            .filter(|a| a.wechat_appid == appid)
            .ok_or_else(|| IdentityError::AppNotRegistered {
                appid: appid.to_string(),
            })?;
        let secret = self.secrets.open(&app.secret_enc)?;
        Ok((tenant, secret))
    }

    /// The open shop whose mini-program has this appid, asked of the tenant module through its
    /// public contract (the call needs no token: it is what the mini-program boots with).
    async fn shop_of(&self, appid: &str) -> Result<Option<TenantId>> {
        let mut tenants = TenantServiceClient::new(self.platform.clone());
        match tenants
            .get_app_config(GetAppConfigRequest {
                wechat_appid: appid.to_string(),
            })
            .await
        {
            Ok(r) => {
                let name = r
                    .into_inner()
                    .app_config
                    .map(|c| c.tenant)
                    .unwrap_or_default();
                let id = name.strip_prefix("tenants/").unwrap_or_default();
                let tenant = TenantId::parse(id, "tenant")
                    .map_err(|_| anyhow::anyhow!("tenant service named no tenant: {name:?}"))?;
                Ok(Some(tenant))
            }
            // A malformed appid names no shop either.
            Err(s)
                if matches!(
                    s.code(),
                    tonic::Code::NotFound | tonic::Code::InvalidArgument
                ) =>
            {
                Ok(None)
            }
            Err(s) => Err(anyhow::anyhow!("tenant service: {}", s.message()).into()),
        }
    }

    async fn customer_for(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        openid: &str,
        unionid: Option<String>,
    ) -> Result<(users::Model, bool)> {
        let t = tenant.to_string();
        if let Some(mut row) = repo::find_user_by_openid(&self.db, &t, openid).await? {
            if row.disabled {
                return Err(IdentityError::Disabled);
            }
            row.last_login_at = Some(Utc::now());
            if unionid.is_some() {
                row.wechat_unionid = unionid;
            }
            return Ok((repo::save_user(&self.db, row).await?, false));
        }
        let now = Utc::now();
        let row = users::Model {
            tenant_id: t.clone(),
            user_id: uuid::Uuid::now_v7().to_string(),
            role: "customer".into(),
            display_name: "微信用户".into(),
            login_name: None,
            phone: None,
            password_hash: None,
            wechat_openid: Some(openid.to_string()),
            wechat_unionid: unionid,
            nickname: String::new(),
            avatar_url: String::new(),
            permissions: "[]".into(),
            disabled: false,
            last_login_at: Some(now),
            created_at: now,
            updated_at: now,
        };
        match repo::insert_user(&self.db, row).await {
            Ok(row) => {
                let mut ev = AuditRecord::by(
                    ctx,
                    Some(tenant),
                    "auth.customer.created",
                    row.user_id.clone(),
                );
                ev.actor.clone_from(&row.user_id);
                audit::record(&self.db, ev).await?;
                Ok((row, true))
            }
            // Two first logins of one customer at once: the other one created the row.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                let row = repo::find_user_by_openid(&self.db, &t, openid)
                    .await?
                    .ok_or(IdentityError::Db(e))?;
                Ok((row, false))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Customer login with a wx.login code.
    pub async fn wechat_login(
        &self,
        ctx: &RequestContext,
        appid: &str,
        code: &str,
    ) -> Result<(Tokens, users::Model, bool)> {
        self.throttle(ctx)?;
        let mut v = Vec::new();
        if appid.is_empty() || appid.len() > 32 {
            v.push(FieldViolation::new("wechat_appid", "is required"));
        }
        if code.is_empty() || code.len() > 256 {
            v.push(FieldViolation::new(
                "code",
                "is required and at most 256 characters",
            ));
        }
        invalid(v)?;
        let (tenant, secret) = self.app_by_appid(appid).await?;
        let session = self.wechat.code2session(appid, &secret, code).await?;
        let (row, created) = self
            .customer_for(ctx, tenant, &session.openid, session.unionid)
            .await?;
        let tokens = self
            .issue(&tenant.to_string(), Self::principal_of(tenant, &row), None)
            .await?;
        Ok((tokens, row, created))
    }

    /// Development login: a customer by made-up openid, only in dev mode.
    pub async fn dev_login(
        &self,
        ctx: &RequestContext,
        appid: &str,
        openid: &str,
    ) -> Result<(Tokens, users::Model)> {
        if self.settings.environment != Environment::Dev {
            return Err(IdentityError::DevLoginDisabled);
        }
        if openid.is_empty() || openid.len() > 128 {
            return Err(IdentityError::invalid(
                "openid",
                "is required, at most 128 characters",
            ));
        }
        let (tenant, _) = self.app_by_appid(appid).await?;
        let (row, _) = self
            .customer_for(ctx, tenant, &format!("dev:{openid}"), None)
            .await?;
        let tokens = self
            .issue(&tenant.to_string(), Self::principal_of(tenant, &row), None)
            .await?;
        Ok((tokens, row))
    }

    /// Rotates a refresh token. Reuse of a spent token ends the whole session: a thief and the
    /// rightful owner cannot both keep it.
    pub async fn refresh(&self, ctx: &RequestContext, token: &str) -> Result<Tokens> {
        let (scope, hash) =
            domain::parse_refresh_token(token).ok_or(IdentityError::SessionEnded)?;
        let row = repo::find_session(&self.db, &scope, &hash)
            .await?
            .ok_or(IdentityError::SessionEnded)?;
        if row.revoked_at.is_some() || row.expires_at <= Utc::now() {
            return Err(IdentityError::SessionEnded);
        }
        let tenant = if scope == PLATFORM {
            None
        } else {
            Some(TenantId::parse(&scope, "refresh_token")?)
        };
        let txn = self.db.begin().await?;
        if !repo::spend_session(&txn, &scope, &hash).await? {
            drop(txn);
            repo::revoke_session(&self.db, &scope, &row.session_id).await?;
            self.cache
                .revoke_session(
                    &row.session_id,
                    Duration::from_secs(self.settings.auth.access_ttl_secs + 60),
                )
                .await;
            let mut ev = AuditRecord::by(ctx, tenant, "auth.refresh.reused", row.subject.clone())
                .with(json!({"session": row.session_id}));
            ev.actor.clone_from(&row.subject);
            audit::record(&self.db, ev).await?;
            tracing::warn!(session = %row.session_id, "refresh token reused; session revoked");
            return Err(IdentityError::SessionEnded);
        }
        // Role, permissions and disabled state are read fresh, so a change applies at the next refresh.
        let principal = match tenant {
            Some(t) => {
                let user = repo::find_user(&txn, &scope, &row.subject)
                    .await?
                    .ok_or(IdentityError::SessionEnded)?;
                if user.disabled {
                    return Err(IdentityError::Disabled);
                }
                Self::principal_of(t, &user)
            }
            None => {
                let op = repo::find_operator(&txn, &row.subject)
                    .await?
                    .ok_or(IdentityError::SessionEnded)?;
                if op.disabled {
                    return Err(IdentityError::Disabled);
                }
                Principal {
                    subject: op.operator_id,
                    role: Role::Operator,
                    ..Principal::default()
                }
            }
        };
        // The one place that says whether a session still holds (here: whether its tenant was
        // archived) decides renewals too; refused, the spend rolls back with the transaction.
        self.gate
            .check(&Principal {
                session: Some(row.session_id.clone()),
                ..principal.clone()
            })
            .await?;
        txn.commit().await?;
        self.issue(&scope, principal, Some(row.session_id)).await
    }

    /// Ends the caller's session.
    pub async fn logout(&self, ctx: &RequestContext) -> Result<()> {
        let p = ctx.principal()?;
        let scope = p
            .tenant
            .map_or_else(|| PLATFORM.to_string(), |t| t.to_string());
        if let Some(sid) = &p.session {
            repo::revoke_session(&self.db, &scope, sid).await?;
            self.cache
                .revoke_session(
                    sid,
                    Duration::from_secs(self.settings.auth.access_ttl_secs + 60),
                )
                .await;
        }
        audit::record(
            &self.db,
            AuditRecord::by(ctx, p.tenant, "auth.logout", p.subject.clone()),
        )
        .await?;
        Ok(())
    }

    /// Changes the caller's password and ends their other sessions.
    pub async fn change_password(
        &self,
        ctx: &RequestContext,
        current: &str,
        new: &str,
    ) -> Result<Tokens> {
        let p = ctx.principal()?.clone();
        let mut v = Vec::new();
        domain::check_password("new_password", new, &mut v);
        if current == new {
            v.push(FieldViolation::new(
                "new_password",
                "must differ from the current password",
            ));
        }
        invalid(v)?;
        let scope = p
            .tenant
            .map_or_else(|| PLATFORM.to_string(), |t| t.to_string());
        let lock_key = format!("password:{scope}:{}", p.subject);
        let hash = domain::hash_password(new.to_string()).await?;
        match p.tenant {
            Some(t) => {
                let mut row = repo::find_user(&self.db, &scope, &p.subject)
                    .await?
                    .ok_or(IdentityError::SessionEnded)?;
                self.check_password(&lock_key, row.password_hash.clone(), current)
                    .await?;
                row.password_hash = Some(hash);
                let txn = self.db.begin().await?;
                repo::save_user(&txn, row).await?;
                audit::record(
                    &txn,
                    AuditRecord::by(ctx, Some(t), "auth.password.changed", p.subject.clone()),
                )
                .await?;
                txn.commit().await?;
            }
            None => {
                let mut row = repo::find_operator(&self.db, &p.subject)
                    .await?
                    .ok_or(IdentityError::SessionEnded)?;
                self.check_password(&lock_key, Some(row.password_hash.clone()), current)
                    .await?;
                row.password_hash = hash;
                let txn = self.db.begin().await?;
                repo::save_operator(&txn, row).await?;
                audit::record(
                    &txn,
                    AuditRecord::by(ctx, None, "auth.password.changed", p.subject.clone()),
                )
                .await?;
                txn.commit().await?;
            }
        }
        self.end_sessions(&scope, &p.subject, None).await?;
        self.issue(&scope, Principal { session: None, ..p }, None)
            .await
    }

    async fn wechat_access_token(
        &self,
        tenant: TenantId,
        appid: &str,
        secret: &str,
        fresh: bool,
    ) -> Result<String> {
        let key = "wechat:access_token";
        if !fresh
            && let Some(b) = self.cache.get(&tenant, key).await
            && let Ok(t) = String::from_utf8(b.to_vec())
        {
            return Ok(t);
        }
        let t = self.wechat.access_token(appid, secret).await?;
        // The cache's own lifetime (minutes) is far below WeChat's two hours, and a refused token
        // is fetched again at once (see bind_phone), so the token is never used past its expiry.
        self.cache
            .set(&tenant, key, t.token.clone().into_bytes().into())
            .await;
        Ok(t.token)
    }

    /// Binds the phone WeChat vouches for to the calling customer.
    pub async fn bind_phone(&self, ctx: &RequestContext, code: &str) -> Result<users::Model> {
        let p = ctx.principal()?.clone();
        let tenant = tenant_of(ctx)?;
        if code.is_empty() || code.len() > 256 {
            return Err(IdentityError::invalid(
                "code",
                "is required and at most 256 characters",
            ));
        }
        let app = repo::find_app(&self.db, &tenant.to_string())
            .await?
            .ok_or_else(|| IdentityError::AppNotRegistered {
                appid: String::new(),
            })?;
        let secret = self.secrets.open(&app.secret_enc)?;
        let mut token = self
            .wechat_access_token(tenant, &app.wechat_appid, &secret, false)
            .await?;
        let mut phone = self.wechat.phone_number(&token, code).await?;
        if phone.is_none() {
            token = self
                .wechat_access_token(tenant, &app.wechat_appid, &secret, true)
                .await?;
            phone = self.wechat.phone_number(&token, code).await?;
        }
        let phone = phone.ok_or(IdentityError::WechatCredentials)?;
        let mut row = repo::find_user(&self.db, &tenant.to_string(), &p.subject)
            .await?
            .ok_or(IdentityError::SessionEnded)?;
        row.phone = Some(phone);
        let txn = self.db.begin().await?;
        let row = repo::save_user(&txn, row).await?;
        audit::record(
            &txn,
            AuditRecord::by(ctx, Some(tenant), "auth.phone.bound", p.subject),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The caller.
    pub async fn me(&self, ctx: &RequestContext) -> Result<users::Model> {
        let p = ctx.principal()?;
        let tenant = tenant_of(ctx)?;
        repo::find_user(&self.db, &tenant.to_string(), &p.subject)
            .await?
            .ok_or(IdentityError::SessionEnded)
    }

    /// Updates the caller's own profile.
    pub async fn update_me(
        &self,
        ctx: &RequestContext,
        patch: ProfilePatch,
    ) -> Result<users::Model> {
        let mut v = Vec::new();
        if let Some(n) = &patch.display_name {
            domain::check_display_name("user.display_name", n, &mut v);
        }
        if let Some(n) = &patch.nickname
            && (n.chars().count() > 64 || n.chars().any(char::is_control))
        {
            v.push(FieldViolation::new(
                "user.nickname",
                "at most 64 printable characters",
            ));
        }
        let https_url = |a: &str| {
            a.starts_with("https://") && a.len() <= 2048 && !a.chars().any(char::is_whitespace)
        };
        if let Some(a) = &patch.avatar_url
            && !a.is_empty()
            && !https_url(a)
        {
            v.push(FieldViolation::new(
                "user.avatar_url",
                "an https:// URL of at most 2048 bytes",
            ));
        }
        invalid(v)?;
        let mut row = self.me(ctx).await?;
        if let Some(n) = patch.display_name {
            row.display_name = n.trim().to_string();
        }
        if let Some(n) = patch.nickname {
            row.nickname = n.trim().to_string();
        }
        if let Some(a) = patch.avatar_url {
            row.avatar_url = a;
        }
        Ok(repo::save_user(&self.db, row).await?)
    }

    /// One user of a tenant.
    pub async fn get_user(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
    ) -> Result<users::Model> {
        ctx.authorize_tenant(&tenant)?;
        repo::find_user(&self.db, &tenant.to_string(), user)
            .await?
            .ok_or_else(|| IdentityError::UserNotFound {
                user: user.to_string(),
            })
    }

    /// The openid a customer pays with and the tenant's appid (for WeChat Pay's prepay).
    pub async fn get_payer(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
    ) -> Result<(String, String)> {
        ctx.authorize_tenant(&tenant)?;
        let t = tenant.to_string();
        let row = repo::find_user(&self.db, &t, user).await?.ok_or_else(|| {
            IdentityError::UserNotFound {
                user: user.to_string(),
            }
        })?;
        let openid = row.wechat_openid.ok_or_else(|| {
            IdentityError::NotAllowed("the user has no WeChat identity to pay with".into())
        })?;
        let app =
            repo::find_app(&self.db, &t)
                .await?
                .ok_or_else(|| IdentityError::AppNotRegistered {
                    appid: String::new(),
                })?;
        Ok((openid, app.wechat_appid))
    }

    /// Sends a subscribe message to a customer through WeChat (for modules: booking reminders).
    /// A refused access token is fetched again once, as for phone numbers.
    pub async fn send_subscribe_message(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
        template_id: &str,
        page: &str,
        data: &HashMap<String, String>,
    ) -> Result<()> {
        if template_id.trim().is_empty() || template_id.len() > 128 {
            return Err(IdentityError::invalid(
                "template_id",
                "is required and at most 128 characters",
            ));
        }
        let (openid, _) = self.get_payer(ctx, tenant, user).await?;
        let app = repo::find_app(&self.db, &tenant.to_string())
            .await?
            .ok_or_else(|| IdentityError::AppNotRegistered {
                appid: String::new(),
            })?;
        let secret = self.secrets.open(&app.secret_enc)?;
        for fresh in [false, true] {
            let token = self
                .wechat_access_token(tenant, &app.wechat_appid, &secret, fresh)
                .await?;
            if self
                .wechat
                .send_subscribe_message(&token, &openid, template_id, page, data)
                .await?
            {
                return Ok(());
            }
        }
        Err(IdentityError::WechatCredentials)
    }

    /// A page of users.
    pub async fn list_users(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        page_size: i32,
        page_token: &str,
        query: &str,
        role: Role,
    ) -> Result<(Vec<users::Model>, Option<String>)> {
        ctx.authorize_tenant(&tenant)?;
        let size = mm_kernel::paging::page_size(page_size)?;
        if query.chars().count() > 64 {
            return Err(IdentityError::invalid("query", "at most 64 characters"));
        }
        let purpose = format!("users:{tenant}");
        let before = mm_kernel::paging::decode_token(&purpose, page_token)?;
        let role = (role != Role::Unspecified).then(|| role_str(role));
        let rows = repo::list_users(
            &self.db,
            &tenant.to_string(),
            before.as_deref(),
            size + 1,
            query.trim(),
            role,
        )
        .await?;
        Ok(mm_kernel::paging::finish_page(rows, size, &purpose, |r| {
            &r.user_id
        }))
    }

    fn check_permissions(&self, field: &str, perms: &[String], v: &mut Vec<FieldViolation>) {
        for (i, p) in perms.iter().enumerate() {
            if p != "*" && !self.known_permissions.contains(p) {
                v.push(FieldViolation::new(
                    format!("{field}[{i}]"),
                    format!("unknown permission {p:?}"),
                ));
            }
        }
    }

    /// Creates a staff member or admin.
    pub async fn create_staff(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        s: NewStaff,
    ) -> Result<users::Model> {
        ctx.authorize_tenant(&tenant)?;
        let login = s.login_name.trim().to_lowercase();
        let mut v = Vec::new();
        if !matches!(s.role, Role::Staff | Role::Admin) {
            v.push(FieldViolation::new(
                "user.role",
                "must be ROLE_STAFF or ROLE_ADMIN",
            ));
        }
        domain::check_display_name("user.display_name", &s.display_name, &mut v);
        domain::check_login("user.login_name", &login, &mut v);
        domain::check_phone("user.phone", &s.phone, &mut v);
        domain::check_password("password", &s.password, &mut v);
        self.check_permissions("user.permissions", &s.permissions, &mut v);
        invalid(v)?;
        let t = tenant.to_string();
        if repo::find_user_by_login(&self.db, &t, &login)
            .await?
            .is_some()
        {
            return Err(IdentityError::DuplicateLogin { login });
        }
        let hash = domain::hash_password(s.password).await?;
        let now = Utc::now();
        let row = users::Model {
            tenant_id: t,
            user_id: uuid::Uuid::now_v7().to_string(),
            role: role_str(s.role).to_string(),
            display_name: s.display_name.trim().to_string(),
            login_name: Some(login.clone()),
            phone: (!s.phone.is_empty()).then_some(s.phone),
            password_hash: Some(hash),
            wechat_openid: None,
            wechat_unionid: None,
            nickname: String::new(),
            avatar_url: String::new(),
            permissions: serde_json::to_string(&s.permissions).map_err(anyhow::Error::from)?,
            disabled: false,
            last_login_at: None,
            created_at: now,
            updated_at: now,
        };
        let txn = self.db.begin().await?;
        let row = repo::insert_user(&txn, row)
            .await
            .map_err(|e| match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => IdentityError::DuplicateLogin {
                    login: login.clone(),
                },
                _ => IdentityError::Db(e),
            })?;
        audit::record(
            &txn,
            AuditRecord::by(ctx, Some(tenant), "identity.staff.created", login)
                .with(json!({"role": row.role, "permissions": s.permissions})),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Updates a user; role and permission changes end their sessions so they apply at once.
    pub async fn update_user(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
        patch: UserPatch,
    ) -> Result<users::Model> {
        ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        if let Some(n) = &patch.display_name {
            domain::check_display_name("user.display_name", n, &mut v);
        }
        if let Some(p) = &patch.phone {
            domain::check_phone("user.phone", p, &mut v);
        }
        if let Some(r) = patch.role
            && !matches!(r, Role::Staff | Role::Admin)
        {
            v.push(FieldViolation::new(
                "user.role",
                "must be ROLE_STAFF or ROLE_ADMIN",
            ));
        }
        if let Some(p) = &patch.permissions {
            self.check_permissions("user.permissions", p, &mut v);
        }
        invalid(v)?;
        let t = tenant.to_string();
        let mut row = repo::find_user(&self.db, &t, user).await?.ok_or_else(|| {
            IdentityError::UserNotFound {
                user: user.to_string(),
            }
        })?;
        let access_changed = patch.role.is_some() || patch.permissions.is_some();
        if access_changed && row.role == "customer" {
            return Err(IdentityError::NotAllowed(
                "customers have no staff role or permissions".into(),
            ));
        }
        if access_changed && ctx.principal()?.subject == row.user_id {
            return Err(IdentityError::NotAllowed(
                "you cannot change your own role or permissions".into(),
            ));
        }
        if let Some(n) = patch.display_name {
            row.display_name = n.trim().to_string();
        }
        if let Some(p) = patch.phone {
            row.phone = (!p.is_empty()).then_some(p);
        }
        if let Some(r) = patch.role {
            row.role = role_str(r).to_string();
        }
        if let Some(p) = &patch.permissions {
            row.permissions = serde_json::to_string(p).map_err(anyhow::Error::from)?;
        }
        let txn = self.db.begin().await?;
        let row = repo::save_user(&txn, row).await?;
        if access_changed {
            audit::record(
                &txn,
                AuditRecord::by(
                    ctx,
                    Some(tenant),
                    "identity.role.changed",
                    row.user_id.clone(),
                )
                .with(json!({"role": row.role, "permissions": permissions_of(&row)})),
            )
            .await?;
        }
        txn.commit().await?;
        if access_changed {
            self.end_sessions(&t, &row.user_id, None).await?;
        }
        Ok(row)
    }

    /// Disables or enables a user; disabling ends their sessions.
    pub async fn set_disabled(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        user: &str,
        disabled: bool,
    ) -> Result<users::Model> {
        ctx.authorize_tenant(&tenant)?;
        let t = tenant.to_string();
        let mut row = repo::find_user(&self.db, &t, user).await?.ok_or_else(|| {
            IdentityError::UserNotFound {
                user: user.to_string(),
            }
        })?;
        if disabled && ctx.principal()?.subject == row.user_id {
            return Err(IdentityError::NotAllowed(
                "you cannot disable yourself".into(),
            ));
        }
        row.disabled = disabled;
        let txn = self.db.begin().await?;
        let row = repo::save_user(&txn, row).await?;
        let action = if disabled {
            "identity.user.disabled"
        } else {
            "identity.user.enabled"
        };
        audit::record(
            &txn,
            AuditRecord::by(ctx, Some(tenant), action, row.user_id.clone()),
        )
        .await?;
        txn.commit().await?;
        if disabled {
            self.end_sessions(&t, &row.user_id, None).await?;
        }
        Ok(row)
    }

    /// Stores a tenant's mini-program credentials, the secret encrypted.
    pub async fn set_wechat_credentials(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        appid: &str,
        secret: &str,
    ) -> Result<()> {
        ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        if !(appid.len() == 18
            && appid.starts_with("wx")
            && appid[2..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            v.push(FieldViolation::new(
                "wechat_appid",
                "a WeChat appid is \"wx\" followed by 16 hex digits",
            ));
        }
        if secret.len() < 16
            || secret.len() > 128
            || !secret.chars().all(|c| c.is_ascii_alphanumeric())
        {
            v.push(FieldViolation::new(
                "app_secret",
                "16-128 letters and digits",
            ));
        }
        invalid(v)?;
        let t = tenant.to_string();
        if let Some(other) = self.shop_of(appid).await?
            && other != tenant
        {
            return Err(IdentityError::DuplicateAppid {
                appid: appid.to_string(),
            });
        }
        let sealed = self.secrets.seal(secret)?;
        let txn = self.db.begin().await?;
        repo::put_app(&txn, &t, appid, &sealed).await?;
        audit::record(
            &txn,
            AuditRecord::by(
                ctx,
                Some(tenant),
                "identity.wechat.credentials_set",
                appid.to_string(),
            ),
        )
        .await?;
        txn.commit().await?;
        self.cache
            .invalidate(&tenant, &["wechat:access_token"])
            .await;
        Ok(())
    }

    /// A page of a tenant's audit log.
    pub async fn list_audit(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<audit::AuditEntry>, Option<String>)> {
        ctx.authorize_tenant(&tenant)?;
        let size = mm_kernel::paging::page_size(page_size)?;
        let purpose = format!("audit:{tenant}");
        let before = mm_kernel::paging::decode_token(&purpose, page_token)?;
        let rows = audit::list(&self.db, Some(tenant), before.as_deref(), size + 1).await?;
        Ok(mm_kernel::paging::finish_page(rows, size, &purpose, |r| {
            &r.event_id
        }))
    }

    /// Creates a platform operator (the CLI's bootstrap).
    pub async fn create_operator(
        &self,
        login: &str,
        display_name: &str,
        password: &str,
    ) -> Result<operators::Model> {
        let login = login.trim().to_lowercase();
        let mut v = Vec::new();
        domain::check_login("login", &login, &mut v);
        domain::check_password("password", password, &mut v);
        invalid(v)?;
        if repo::find_operator_by_login(&self.db, &login)
            .await?
            .is_some()
        {
            return Err(IdentityError::DuplicateLogin { login });
        }
        let now = Utc::now();
        let row = operators::Model {
            operator_id: format!("op_{}", uuid::Uuid::now_v7().simple()),
            login_name: login,
            display_name: display_name.to_string(),
            password_hash: domain::hash_password(password.to_string()).await?,
            disabled: false,
            created_at: now,
            updated_at: now,
        };
        Ok(repo::insert_operator(&self.db, row).await?)
    }

    /// A token for an operator (the CLI prints it), valid `ttl_secs`, in a session of its own
    /// like a login's, so Logout (or disabling the operator's sessions) ends it at once. The
    /// session's refresh token is not handed out: the printed token cannot be renewed.
    pub async fn operator_token(
        &self,
        operator: &operators::Model,
        ttl_secs: u64,
    ) -> Result<String> {
        let session = uuid::Uuid::now_v7().to_string();
        let unused_refresh = domain::new_refresh_token(PLATFORM);
        let expires =
            Utc::now() + chrono::Duration::seconds(i64::try_from(ttl_secs).unwrap_or(i64::MAX / 2));
        repo::insert_session(
            &self.db,
            PLATFORM,
            &domain::hash_token(&unused_refresh),
            &session,
            &operator.operator_id,
            expires,
        )
        .await?;
        self.keys
            .issue_with_ttl(
                &Principal {
                    subject: operator.operator_id.clone(),
                    role: Role::Operator,
                    session: Some(session),
                    ..Principal::default()
                },
                ttl_secs,
            )
            .map_err(|e| anyhow::anyhow!("Failed to sign a token: {e}").into())
    }

    /// Whether a tenant already has a login name (demo seeding).
    pub async fn has_login(&self, tenant: TenantId, login: &str) -> Result<bool> {
        Ok(
            repo::find_user_by_login(&self.db, &tenant.to_string(), login)
                .await?
                .is_some(),
        )
    }
}
