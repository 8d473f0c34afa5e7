//! Use cases of the tenant module. Each takes the caller's `RequestContext`, checks that the caller
//! may act on the tenant named, runs its writes in one transaction, and invalidates cached boot
//! config after commit. Rules (dependencies, schema validation, field checks) come from domain.rs
//! and registry.rs; the handlers in grpc.rs only convert.

mod boot;
mod modules;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use mm_kernel::audit::{self, AuditRecord};
use mm_kernel::cache::Cache;
use mm_kernel::error::RequestError;
use mm_kernel::held::Held;
use mm_kernel::secrets::SecretBox;
use mm_kernel::{RequestContext, SystemScope, TenantId, TenantScope};
use mm_proto::minimodules::tenant::v1 as pb;
use prost::Message as _;
use sea_orm::{DatabaseConnection, DbErr, SqlErr};
use serde_json::Value;

use crate::domain::{self, Branding, Status, Violations};
use crate::entity::{tenant_modules, tenants};
use crate::error::{Result, TenantError};
use crate::registry::Registry;
use crate::repo;

/// Largest module config accepted, serialised, in bytes.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;

/// A new tenant as requested.
#[derive(Debug, Clone)]
pub struct NewTenant {
    /// Slug.
    pub slug: String,
    /// Chinese name.
    pub display_name_zh: String,
    /// English name.
    pub display_name_en: String,
    /// Industry; defaults to the template's id.
    pub industry: String,
    /// Appid, empty for none.
    pub wechat_appid: String,
}

/// Changes to a tenant, each `Some` when its field is in the update mask.
#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    /// New Chinese name.
    pub display_name_zh: Option<String>,
    /// New English name.
    pub display_name_en: Option<String>,
    /// New industry.
    pub industry: Option<String>,
    /// New slug (operators only).
    pub slug: Option<String>,
    /// New appid (operators only).
    pub wechat_appid: Option<String>,
}

/// A tenant's module as stored, with its config filled from defaults.
#[derive(Debug, Clone)]
pub struct ModuleState {
    /// Module id.
    pub module_id: String,
    /// Enabled.
    pub enabled: bool,
    /// Config version.
    pub config_version: i64,
    /// Last change.
    pub update_time: Option<chrono::DateTime<Utc>>,
}

/// A module's stored config.
#[derive(Debug, Clone)]
pub struct StoredConfig {
    /// The config, defaults filled in.
    pub config: Value,
    /// Version.
    pub version: i64,
}

/// The tenant module's application service.
#[derive(Clone, Debug)]
pub struct TenantApp {
    db: DatabaseConnection,
    cache: Arc<Cache>,
    registry: Arc<Registry>,
    secrets: SecretBox,
    /// Boot configs by appid, held in process until the tenant changes: `GetAppConfig` is the
    /// mini-program's first call on every launch and reads nothing while its tenant is unchanged.
    /// Held as the encoded `GetAppConfigResponse`, which the service writes as it is.
    boot: Held<Bytes>,
}

/// How long a held boot config may outlive a lost change announcement (a Redis reconnect).
/// The tenant registry is looked up across tenants by design: by AppID (boot, login) and slug
/// (uniqueness, login), and listed by operators.
const REGISTRY: SystemScope = SystemScope::named("tenant.registry");

const BOOT_HELD_FOR: std::time::Duration = std::time::Duration::from_secs(300);

fn parse_branding(row: &tenants::Model) -> Branding {
    serde_json::from_str(&row.branding).unwrap_or_default()
}

fn map_unique(e: DbErr, slug: &str, appid: &str, slug_taken: bool) -> TenantError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) if slug_taken || appid.is_empty() => {
            TenantError::DuplicateSlug {
                slug: slug.to_string(),
            }
        }
        Some(SqlErr::UniqueConstraintViolation(_)) => TenantError::DuplicateAppid {
            appid: appid.to_string(),
        },
        _ => TenantError::Db(e),
    }
}

impl TenantApp {
    /// The service over a database, a cache and the module registry.
    pub fn new(
        db: DatabaseConnection,
        cache: Arc<Cache>,
        registry: Arc<Registry>,
        secret_key: &[u8; 32],
    ) -> Self {
        Self {
            boot: Held::new(&cache, BOOT_HELD_FOR, 10_000),
            db,
            cache,
            registry,
            secrets: SecretBox::new(secret_key),
        }
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Seals and opens secrets at rest (merchant keys).
    pub(crate) fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The tenant's row, with the scope the caller was authorized for.
    pub(crate) async fn load_tenant(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<(TenantScope, tenants::Model)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let row = repo::find_tenant(&self.db, &scope).await?.ok_or_else(|| {
            TenantError::TenantNotFound {
                tenant: tenant.to_string(),
            }
        })?;
        Ok((scope, row))
    }

    /// Opens the transaction of a write to an active tenant: bumps its config version first (which
    /// locks the row and serialises writers) and returns the row as it now stands.
    async fn begin_tenant_write(
        &self,
        scope: &TenantScope,
    ) -> Result<(mm_kernel::ScopedTxn, tenants::Model)> {
        let tenant = scope.tenant();
        let txn = scope.begin_write(&self.db).await?;
        let not_found = || TenantError::TenantNotFound {
            tenant: tenant.to_string(),
        };
        if !repo::bump_config_version(&txn, scope).await? {
            return Err(not_found());
        }
        let row = repo::find_tenant(&txn, scope)
            .await?
            .ok_or_else(not_found)?;
        if Status::from_stored(&row.status) == Status::Archived {
            return Err(TenantError::TenantArchived {
                tenant: tenant.to_string(),
            });
        }
        Ok((txn, row))
    }

    async fn invalidate(&self, tenant: TenantId) {
        self.cache.invalidate(&tenant, &[]).await;
    }

    /// Creates a tenant, with the core modules on, and the template's modules, config and branding
    /// when a template is named, in one transaction.
    pub async fn create_tenant(
        &self,
        ctx: &RequestContext,
        mut input: NewTenant,
        template_id: &str,
    ) -> Result<tenants::Model> {
        if !ctx.is_operator() {
            return Err(RequestError::PermissionDenied(
                "only platform operators create tenants".into(),
            )
            .into());
        }
        let template = if template_id.is_empty() {
            None
        } else {
            Some(self.registry.template(template_id).ok_or_else(|| {
                TenantError::TemplateNotFound {
                    template: template_id.to_string(),
                }
            })?)
        };
        if input.industry.is_empty() {
            input.industry = template.map_or("other", |t| t.id.as_str()).to_string();
        }
        let mut v = Violations::default();
        domain::check_slug(&mut v, "tenant.slug", &input.slug);
        domain::check_name(
            &mut v,
            "tenant.display_name_zh",
            &input.display_name_zh,
            true,
        );
        domain::check_name(
            &mut v,
            "tenant.display_name_en",
            &input.display_name_en,
            false,
        );
        domain::check_industry(&mut v, "tenant.industry", &input.industry);
        domain::check_appid(&mut v, "tenant.wechat_appid", &input.wechat_appid);
        v.finish()?;

        let tenant = TenantId::new();
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.begin_write(&self.db).await?;
        let slug_taken = repo::find_by_slug(&txn, &REGISTRY, &input.slug)
            .await?
            .is_some();
        if slug_taken {
            return Err(TenantError::DuplicateSlug { slug: input.slug });
        }
        if !input.wechat_appid.is_empty()
            && repo::find_by_appid(&txn, &REGISTRY, &input.wechat_appid)
                .await?
                .is_some()
        {
            return Err(TenantError::DuplicateAppid {
                appid: input.wechat_appid,
            });
        }
        let now = Utc::now();
        let branding = template
            .map(|t| t.branding.to_branding())
            .unwrap_or_default();
        let row = tenants::Model {
            tenant_id: tenant,
            slug: input.slug.clone(),
            display_name_zh: input.display_name_zh.trim().to_string(),
            display_name_en: input.display_name_en.trim().to_string(),
            industry: input.industry.clone(),
            wechat_appid: (!input.wechat_appid.is_empty()).then(|| input.wechat_appid.clone()),
            status: Status::Active.as_str().to_string(),
            branding: serde_json::to_string(&branding).map_err(anyhow::Error::from)?,
            config_version: 1,
            created_at: now,
            updated_at: now,
        };
        let row = repo::insert_tenant(&txn, &scope, row)
            .await
            .map_err(|e| map_unique(e, &input.slug, &input.wechat_appid, false))?;
        let modules: Vec<&str> = match template {
            Some(t) => self.registry.template_modules(t),
            None => self.registry.core_modules().collect(),
        };
        for m in modules {
            let overrides = template
                .and_then(|t| t.config.get(m))
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            let config = self
                .registry
                .validate_config(m, &overrides)
                .map_err(|violations| TenantError::InvalidConfig {
                    module: m.to_string(),
                    violations,
                })?;
            let config = serde_json::to_string(&config).map_err(anyhow::Error::from)?;
            repo::put_module(&txn, &scope, m, true, Some(config), None).await?;
        }
        txn.commit().await?;
        tracing::info!(tenant = %tenant, slug = %row.slug, template = template_id, "tenant created");
        Ok(row)
    }

    /// One tenant.
    pub async fn get_tenant(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<tenants::Model> {
        Ok(self.load_tenant(ctx, tenant).await?.1)
    }

    /// A page of tenants and the key to continue after.
    pub async fn list_tenants(
        &self,
        ctx: &RequestContext,
        page_size: i32,
        page_token: &str,
        show_archived: bool,
    ) -> Result<(Vec<tenants::Model>, Option<String>)> {
        if !ctx.is_operator() {
            return Err(RequestError::PermissionDenied(
                "only platform operators list tenants".into(),
            )
            .into());
        }
        let size = mm_kernel::paging::page_size(page_size)?;
        let purpose = if show_archived {
            "tenants+archived"
        } else {
            "tenants"
        };
        let after = mm_kernel::paging::decode_token(purpose, page_token)?;
        if let Some(a) = &after {
            TenantId::parse(a, "page_token")?;
        }
        let rows = repo::list_tenants(
            &self.db,
            &REGISTRY,
            after.as_deref(),
            size + 1,
            show_archived,
        )
        .await?;
        let keyed = rows.into_iter().map(|r| (r.tenant_id.to_string(), r));
        let (rows, next) =
            mm_kernel::paging::finish_page(keyed.collect(), size, purpose, |(k, _)| k);
        Ok((rows.into_iter().map(|(_, r)| r).collect(), next))
    }

    /// Applies a patch; slug and appid are for operators only.
    pub async fn update_tenant(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        patch: TenantPatch,
        etag: &str,
    ) -> Result<tenants::Model> {
        if (patch.slug.is_some() || patch.wechat_appid.is_some()) && !ctx.is_operator() {
            return Err(RequestError::PermissionDenied(
                "only platform operators change slug or wechat_appid".into(),
            )
            .into());
        }
        let mut v = Violations::default();
        if let Some(s) = &patch.slug {
            domain::check_slug(&mut v, "tenant.slug", s);
        }
        if let Some(n) = &patch.display_name_zh {
            domain::check_name(&mut v, "tenant.display_name_zh", n, true);
        }
        if let Some(n) = &patch.display_name_en {
            domain::check_name(&mut v, "tenant.display_name_en", n, false);
        }
        if let Some(i) = &patch.industry {
            domain::check_industry(&mut v, "tenant.industry", i);
        }
        if let Some(a) = &patch.wechat_appid {
            domain::check_appid(&mut v, "tenant.wechat_appid", a);
        }
        v.finish()?;
        let scope = ctx.authorize_tenant(&tenant)?;
        let (txn, mut row) = self.begin_tenant_write(&scope).await?;
        // The version was bumped first in this transaction; the caller saw the one before.
        check_etag(etag, row.config_version - 1, "tenant")?;
        if let Some(s) = patch.slug {
            if s != row.slug && repo::find_by_slug(&txn, &REGISTRY, &s).await?.is_some() {
                return Err(TenantError::DuplicateSlug { slug: s });
            }
            row.slug = s;
        }
        if let Some(a) = patch.wechat_appid {
            if !a.is_empty()
                && Some(&a) != row.wechat_appid.as_ref()
                && repo::find_by_appid(&txn, &REGISTRY, &a).await?.is_some()
            {
                return Err(TenantError::DuplicateAppid { appid: a });
            }
            row.wechat_appid = (!a.is_empty()).then_some(a);
        }
        if let Some(n) = patch.display_name_zh {
            row.display_name_zh = n.trim().to_string();
        }
        if let Some(n) = patch.display_name_en {
            row.display_name_en = n.trim().to_string();
        }
        if let Some(i) = patch.industry {
            row.industry = i;
        }
        let (slug, appid) = (
            row.slug.clone(),
            row.wechat_appid.clone().unwrap_or_default(),
        );
        let row = repo::save_tenant(&txn, &scope, row)
            .await
            .map_err(|e| map_unique(e, &slug, &appid, false))?;
        txn.commit().await?;
        self.invalidate(tenant).await;
        Ok(row)
    }

    /// Archives a tenant; archiving twice is harmless.
    pub async fn archive_tenant(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<tenants::Model> {
        if !ctx.is_operator() {
            return Err(RequestError::PermissionDenied(
                "only platform operators archive tenants".into(),
            )
            .into());
        }
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.begin_write(&self.db).await?;
        if !repo::bump_config_version(&txn, &scope).await? {
            return Err(TenantError::TenantNotFound {
                tenant: tenant.to_string(),
            });
        }
        let mut row =
            repo::find_tenant(&txn, &scope)
                .await?
                .ok_or_else(|| TenantError::TenantNotFound {
                    tenant: tenant.to_string(),
                })?;
        row.status = Status::Archived.as_str().to_string();
        let row = repo::save_tenant(&txn, &scope, row).await?;
        txn.commit().await?;
        self.invalidate(tenant).await;
        Ok(row)
    }

    /// A tenant's branding and version.
    pub async fn get_branding(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<(Branding, i64)> {
        let (_, row) = self.load_tenant(ctx, tenant).await?;
        Ok((parse_branding(&row), row.config_version))
    }

    /// Applies `change` to the branding and stores it if valid.
    pub async fn update_branding(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        change: impl FnOnce(&mut Branding),
        etag: &str,
    ) -> Result<(Branding, i64)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let (txn, mut row) = self.begin_tenant_write(&scope).await?;
        check_etag(etag, row.config_version - 1, "branding")?;
        let mut branding = parse_branding(&row);
        change(&mut branding);
        branding.validate("branding")?;
        row.branding = serde_json::to_string(&branding).map_err(anyhow::Error::from)?;
        let row = repo::save_tenant(&txn, &scope, row).await?;
        audit::record(
            &txn,
            AuditRecord::by(ctx, Some(tenant), "tenant.branding.changed", "branding"),
        )
        .await?;
        txn.commit().await?;
        self.invalidate(tenant).await;
        Ok((branding, row.config_version))
    }

    /// The active shop whose staff type `shop` at login: its slug, or its appid.
    pub async fn lookup(&self, shop: &str) -> Result<tenants::Model> {
        let shop = shop.trim();
        let mut v = Violations::default();
        v.check(!shop.is_empty(), "shop", "is required");
        v.check(shop.len() <= 64, "shop", "is too long");
        v.finish()?;
        let row = if shop.starts_with("wx") && shop.len() == 18 {
            repo::find_by_appid(&self.db, &REGISTRY, shop).await?
        } else {
            repo::find_by_slug(&self.db, &REGISTRY, &shop.to_lowercase()).await?
        };
        row.filter(|r| Status::from_stored(&r.status) == Status::Active)
            .ok_or_else(|| TenantError::ShopNotFound {
                shop: shop.to_string(),
            })
    }

    /// The tenant holding a slug (demo seeding and tests).
    pub async fn find_by_slug(&self, slug: &str) -> Result<Option<tenants::Model>> {
        Ok(repo::find_by_slug(&self.db, &REGISTRY, slug).await?)
    }
}

/// Refuses a write made against an older version than the stored one; an empty etag always passes.
fn check_etag(etag: &str, current: i64, resource: &str) -> Result<()> {
    if etag.is_empty() || etag == config_etag(current) {
        Ok(())
    } else {
        Err(TenantError::EtagMismatch {
            resource: resource.to_string(),
        })
    }
}

/// The etag of a version (module config, tenant, branding).
pub fn config_etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

impl TenantApp {
    /// Builds the service from the server's module context, loading and checking the registry.
    pub fn from_context(ctx: &mm_kernel::module::ModuleContext) -> anyhow::Result<Self> {
        let registry = Registry::load(&ctx.specs, &ctx.templates)?.with_rules(&ctx.config_rules);
        Ok(Self::new(
            ctx.db.clone(),
            ctx.cache.clone(),
            Arc::new(registry),
            &ctx.secret_key,
        ))
    }
}
