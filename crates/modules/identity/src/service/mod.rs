//! Use cases of the identity module: logins (password, operator, WeChat, dev), rotating sessions,
//! password changes, phone binding, and the admin's user management. Each write that matters for
//! security records an audit event in the same transaction.
//!
//! Users and WeChat credentials are read and written only inside a transaction from a
//! [`TenantScope`]: the caller's (`ctx.authorize_tenant`), or, for a login, which has no caller
//! token yet, the named system scope `identity.login` narrowed to the tenant the login names
//! (`identity.refresh` for a refresh token's tenant). No such transaction is held across a call
//! to another module or to WeChat.

mod sessions;
mod staff;
mod wechat;

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
use mm_kernel::module_config::ModuleConfigs;
use mm_kernel::{Principal, RequestContext, Role, SystemScope, TenantId, TenantScope};
use sea_orm::{DatabaseConnection, SqlErr, TransactionTrait};
use serde_json::json;

use crate::domain::{self, SecretBox};
use crate::entity::{operators, users, wechat_apps};
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
    configs: ModuleConfigs<IdentityConfig>,
}

/// What identity reads of its own config (module.json's schema; the shop sets it).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct IdentityConfig {
    /// 员工登录有效期（小时）: how long a staff or admin login lasts, renewals included.
    #[serde(default = "IdentityConfig::default_staff_session_hours")]
    pub staff_session_hours: u32,
}

impl IdentityConfig {
    fn default_staff_session_hours() -> u32 {
        12
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            staff_session_hours: Self::default_staff_session_hours(),
        }
    }
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
            configs: ModuleConfigs::new(
                "identity",
                ctx.platform.clone(),
                ctx.keys.clone(),
                &ctx.cache,
            ),
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
}
