//! Use cases of the tenant module. Each takes the caller's `RequestContext`, checks that the caller
//! may act on the tenant named, runs its writes in one transaction, and invalidates cached boot
//! config after commit. Rules (dependencies, schema validation, field checks) come from domain.rs
//! and registry.rs; the handlers in grpc.rs only convert.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use mm_kernel::audit::{self, AuditRecord};
use mm_kernel::cache::Cache;
use mm_kernel::error::RequestError;
use mm_kernel::held::Held;
use mm_kernel::secrets::SecretBox;
use mm_kernel::{RequestContext, TenantId};
use mm_proto::minimodules::tenant::v1 as pb;
use prost::Message as _;
use sea_orm::{DatabaseConnection, DbErr, SqlErr, TransactionTrait};
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
    boot: Held<pb::AppConfig>,
}

/// How long a held boot config may outlive a lost change announcement (a Redis reconnect).
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

    pub(crate) async fn load_tenant(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<tenants::Model> {
        ctx.authorize_tenant(&tenant)?;
        repo::find_tenant(&self.db, tenant)
            .await?
            .ok_or_else(|| TenantError::TenantNotFound {
                tenant: tenant.to_string(),
            })
    }

    /// Opens the transaction of a write to an active tenant: bumps its config version first (which
    /// locks the row and serialises writers) and returns the row as it now stands.
    async fn begin_tenant_write(
        &self,
        tenant: TenantId,
    ) -> Result<(sea_orm::DatabaseTransaction, tenants::Model)> {
        let txn = self.db.begin().await?;
        let not_found = || TenantError::TenantNotFound {
            tenant: tenant.to_string(),
        };
        if !repo::bump_config_version(&txn, tenant).await? {
            return Err(not_found());
        }
        let row = repo::find_tenant(&txn, tenant)
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

        let txn = self.db.begin().await?;
        let slug_taken = repo::find_by_slug(&txn, &input.slug).await?.is_some();
        if slug_taken {
            return Err(TenantError::DuplicateSlug { slug: input.slug });
        }
        if !input.wechat_appid.is_empty()
            && repo::find_by_appid(&txn, &input.wechat_appid)
                .await?
                .is_some()
        {
            return Err(TenantError::DuplicateAppid {
                appid: input.wechat_appid,
            });
        }
        let now = Utc::now();
        let tenant = TenantId::new();
        let branding = template
            .map(|t| t.branding.to_branding())
            .unwrap_or_default();
        let row = tenants::Model {
            tenant_id: tenant.to_string(),
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
        let row = repo::insert_tenant(&txn, row)
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
            repo::put_module(&txn, tenant, m, true, Some(config), None).await?;
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
        self.load_tenant(ctx, tenant).await
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
        let rows = repo::list_tenants(&self.db, after.as_deref(), size + 1, show_archived).await?;
        Ok(mm_kernel::paging::finish_page(rows, size, purpose, |r| {
            &r.tenant_id
        }))
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
        ctx.authorize_tenant(&tenant)?;
        let (txn, mut row) = self.begin_tenant_write(tenant).await?;
        // The version was bumped first in this transaction; the caller saw the one before.
        check_etag(etag, row.config_version - 1, "tenant")?;
        if let Some(s) = patch.slug {
            if s != row.slug && repo::find_by_slug(&txn, &s).await?.is_some() {
                return Err(TenantError::DuplicateSlug { slug: s });
            }
            row.slug = s;
        }
        if let Some(a) = patch.wechat_appid {
            if !a.is_empty()
                && Some(&a) != row.wechat_appid.as_ref()
                && repo::find_by_appid(&txn, &a).await?.is_some()
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
        let row = repo::save_tenant(&txn, row)
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
        let txn = self.db.begin().await?;
        if !repo::bump_config_version(&txn, tenant).await? {
            return Err(TenantError::TenantNotFound {
                tenant: tenant.to_string(),
            });
        }
        let mut row =
            repo::find_tenant(&txn, tenant)
                .await?
                .ok_or_else(|| TenantError::TenantNotFound {
                    tenant: tenant.to_string(),
                })?;
        row.status = Status::Archived.as_str().to_string();
        let row = repo::save_tenant(&txn, row).await?;
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
        let row = self.load_tenant(ctx, tenant).await?;
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
        ctx.authorize_tenant(&tenant)?;
        let (txn, mut row) = self.begin_tenant_write(tenant).await?;
        check_etag(etag, row.config_version - 1, "branding")?;
        let mut branding = parse_branding(&row);
        change(&mut branding);
        branding.validate("branding")?;
        row.branding = serde_json::to_string(&branding).map_err(anyhow::Error::from)?;
        let row = repo::save_tenant(&txn, row).await?;
        audit::record(
            &txn,
            AuditRecord::by(ctx, Some(tenant), "tenant.branding.changed", "branding"),
        )
        .await?;
        txn.commit().await?;
        self.invalidate(tenant).await;
        Ok((branding, row.config_version))
    }

    /// Every registered module with its state for the tenant.
    pub async fn list_tenant_modules(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<Vec<ModuleState>> {
        self.load_tenant(ctx, tenant).await?;
        let rows: HashMap<String, tenant_modules::Model> = repo::list_modules(&self.db, tenant)
            .await?
            .into_iter()
            .map(|r| (r.module_id.clone(), r))
            .collect();
        Ok(self
            .registry
            .modules()
            .iter()
            .map(|m| {
                let row = rows.get(&m.spec.id);
                ModuleState {
                    module_id: m.spec.id.clone(),
                    enabled: m.spec.core || row.is_some_and(|r| r.enabled),
                    config_version: row.map_or(0, |r| r.config_version),
                    update_time: row.map(|r| r.updated_at),
                }
            })
            .collect())
    }

    /// Switches a module on or off, checking dependencies inside the transaction.
    pub async fn set_module_enabled(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        module: &str,
        enabled: bool,
    ) -> Result<ModuleState> {
        ctx.authorize_tenant(&tenant)?;
        let spec = &self
            .registry
            .get(module)
            .ok_or_else(|| TenantError::ModuleNotFound {
                module: module.to_string(),
            })?
            .spec;
        if spec.core && !enabled {
            return Err(TenantError::CoreModule {
                module: module.to_string(),
            });
        }
        let txn = self.db.begin().await?;
        if !repo::bump_config_version(&txn, tenant).await? {
            return Err(TenantError::TenantNotFound {
                tenant: tenant.to_string(),
            });
        }
        let rows = repo::list_modules(&txn, tenant).await?;
        let on: HashSet<String> = rows
            .iter()
            .filter(|r| r.enabled)
            .map(|r| r.module_id.clone())
            .chain(self.registry.core_modules().map(str::to_owned))
            .collect();
        if enabled {
            let missing: Vec<String> = spec
                .dependencies
                .iter()
                .filter(|d| !on.contains(*d))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(TenantError::MissingDependencies {
                    module: module.to_string(),
                    missing,
                });
            }
        } else {
            let dependents = self.registry.dependents(module, &on);
            if !dependents.is_empty() {
                return Err(TenantError::HasDependents {
                    module: module.to_string(),
                    dependents,
                });
            }
        }
        let existing = rows.into_iter().find(|r| r.module_id == module);
        // A module enabled for the first time starts from its defaults.
        let config = match &existing {
            Some(r) if r.config.is_some() => None,
            _ => Some(
                serde_json::to_string(&Value::Object(
                    self.registry
                        .get(module)
                        .map(|m| m.defaults.clone())
                        .unwrap_or_default(),
                ))
                .map_err(anyhow::Error::from)?,
            ),
        };
        let row = repo::put_module(&txn, tenant, module, enabled, config, existing).await?;
        let action = if enabled {
            "tenant.module.enabled"
        } else {
            "tenant.module.disabled"
        };
        audit::record(&txn, AuditRecord::by(ctx, Some(tenant), action, module)).await?;
        txn.commit().await?;
        self.invalidate(tenant).await;
        tracing::info!(tenant = %tenant, module, enabled, "module switched");
        Ok(ModuleState {
            module_id: row.module_id,
            enabled: row.enabled,
            config_version: row.config_version,
            update_time: Some(row.updated_at),
        })
    }

    /// A module's config, defaults filled in.
    pub async fn get_module_config(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        module: &str,
    ) -> Result<StoredConfig> {
        self.load_tenant(ctx, tenant).await?;
        let m = self
            .registry
            .get(module)
            .ok_or_else(|| TenantError::ModuleNotFound {
                module: module.to_string(),
            })?;
        let row = repo::find_module(&self.db, tenant, module).await?;
        let mut config = m.defaults.clone();
        if let Some(stored) = row.as_ref().and_then(|r| r.config.as_deref())
            && let Ok(Value::Object(s)) = serde_json::from_str::<Value>(stored)
        {
            config.extend(s);
        }
        Ok(StoredConfig {
            config: Value::Object(config),
            version: row.map_or(0, |r| r.config_version),
        })
    }

    /// Replaces a module's config after validating it against the module's schema. `etag`, when
    /// not empty, must match the stored version.
    pub async fn update_module_config(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        module: &str,
        config: Value,
        etag: &str,
    ) -> Result<StoredConfig> {
        ctx.authorize_tenant(&tenant)?;
        if self.registry.get(module).is_none() {
            return Err(TenantError::ModuleNotFound {
                module: module.to_string(),
            });
        }
        let raw = serde_json::to_string(&config).map_err(anyhow::Error::from)?;
        if raw.len() > MAX_CONFIG_BYTES {
            return Err(
                RequestError::invalid("config.config", "config is larger than 64 KiB").into(),
            );
        }
        let merged = self
            .registry
            .validate_config(module, &config)
            .map_err(|violations| TenantError::InvalidConfig {
                module: module.to_string(),
                violations,
            })?;
        let txn = self.db.begin().await?;
        if !repo::bump_config_version(&txn, tenant).await? {
            return Err(TenantError::TenantNotFound {
                tenant: tenant.to_string(),
            });
        }
        let existing = repo::find_module(&txn, tenant, module).await?;
        let enabled = existing.as_ref().is_some_and(|r| r.enabled)
            || self.registry.get(module).is_some_and(|m| m.spec.core);
        if !enabled {
            return Err(TenantError::ModuleDisabled {
                module: module.to_string(),
            });
        }
        if !etag.is_empty()
            && etag != config_etag(existing.as_ref().map_or(0, |r| r.config_version))
        {
            return Err(TenantError::EtagMismatch {
                resource: format!("config of module {module}"),
            });
        }
        let stored = serde_json::to_string(&merged).map_err(anyhow::Error::from)?;
        let row = repo::put_module(&txn, tenant, module, true, Some(stored), existing).await?;
        audit::record(
            &txn,
            AuditRecord::by(ctx, Some(tenant), "tenant.config.changed", module)
                .with(serde_json::json!({"version": row.config_version})),
        )
        .await?;
        txn.commit().await?;
        self.invalidate(tenant).await;
        Ok(StoredConfig {
            config: merged,
            version: row.config_version,
        })
    }

    /// The boot config of the mini-program with this appid, cached per tenant and config version:
    /// every write bumps the version, so a cached entry can never be stale.
    pub async fn app_config(&self, appid: &str) -> Result<pb::AppConfig> {
        let mut v = Violations::default();
        domain::check_appid(&mut v, "wechat_appid", appid);
        v.check(!appid.is_empty(), "wechat_appid", "is required");
        v.finish()?;
        if let Some(cfg) = self.boot.get(appid) {
            return Ok(cfg);
        }
        let ticket = self.boot.ticket();
        let row = repo::find_by_appid(&self.db, appid)
            .await?
            .filter(|r| Status::from_stored(&r.status) == Status::Active)
            .ok_or_else(|| TenantError::AppNotFound {
                appid: appid.to_string(),
            })?;
        let tenant = TenantId::parse(&row.tenant_id, "tenant_id")?;
        let key = format!("boot:v{}", row.config_version);
        if let Some(bytes) = self.cache.get(&tenant, &key).await
            && let Ok(cfg) = pb::AppConfig::decode(bytes)
        {
            self.boot
                .fill(ticket, appid.to_string(), tenant.to_string(), cfg.clone());
            return Ok(cfg);
        }
        let cfg = self.build_app_config(tenant, &row).await?;
        self.cache
            .set(&tenant, &key, Bytes::from(cfg.encode_to_vec()))
            .await;
        self.boot
            .fill(ticket, appid.to_string(), tenant.to_string(), cfg.clone());
        Ok(cfg)
    }

    async fn build_app_config(
        &self,
        tenant: TenantId,
        row: &tenants::Model,
    ) -> Result<pb::AppConfig> {
        let rows: HashMap<String, tenant_modules::Model> = repo::list_modules(&self.db, tenant)
            .await?
            .into_iter()
            .map(|r| (r.module_id.clone(), r))
            .collect();
        let branding = parse_branding(row);
        let modules = self
            .registry
            .modules()
            .iter()
            .filter(|m| m.spec.core || rows.get(&m.spec.id).is_some_and(|r| r.enabled))
            .map(|m| {
                let mut config = Value::Object(m.defaults.clone());
                if let Some(Ok(Value::Object(s))) = rows
                    .get(&m.spec.id)
                    .and_then(|r| r.config.as_deref())
                    .map(serde_json::from_str::<Value>)
                    && let Value::Object(c) = &mut config
                {
                    c.extend(s);
                }
                let public = self.registry.public_config(&m.spec.id, &config);
                crate::convert::app_module(&m.spec, &public)
            })
            .collect();
        let display_name = if branding.display_name.is_empty() {
            row.display_name_zh.clone()
        } else {
            branding.display_name.clone()
        };
        Ok(pb::AppConfig {
            tenant: format!("tenants/{}", row.tenant_id),
            slug: row.slug.clone(),
            display_name,
            display_name_en: row.display_name_en.clone(),
            industry: row.industry.clone(),
            branding: Some(crate::convert::branding(
                tenant,
                &branding,
                row.config_version,
            )),
            modules,
            version: row.config_version,
        })
    }

    /// The tenant holding a slug (demo seeding and tests).
    pub async fn find_by_slug(&self, slug: &str) -> Result<Option<tenants::Model>> {
        Ok(repo::find_by_slug(&self.db, slug).await?)
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
        let registry = Registry::load(&ctx.specs, &ctx.templates)?;
        Ok(Self::new(
            ctx.db.clone(),
            ctx.cache.clone(),
            Arc::new(registry),
            &ctx.secret_key,
        ))
    }
}
