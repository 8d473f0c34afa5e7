//! A tenant's modules: switching them on and off (with their dependencies) and their config,
//! validated against each module's schema.

use super::*;

impl TenantApp {
    /// Every registered module with its state for the tenant.
    pub async fn list_tenant_modules(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<Vec<ModuleState>> {
        let (scope, _) = self.load_tenant(ctx, tenant).await?;
        let txn = scope.begin(&self.db).await?;
        let modules = repo::list_modules(&txn, &scope).await?;
        txn.commit().await?;
        let rows: HashMap<String, tenant_modules::Model> = modules
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
        let scope = ctx.authorize_tenant(&tenant)?;
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
        let txn = scope.begin_write(&self.db).await?;
        if !repo::bump_config_version(&txn, &scope).await? {
            return Err(TenantError::TenantNotFound {
                tenant: tenant.to_string(),
            });
        }
        let rows = repo::list_modules(&txn, &scope).await?;
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
        let row = repo::put_module(&txn, &scope, module, enabled, config, existing).await?;
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
        let (scope, _) = self.load_tenant(ctx, tenant).await?;
        let m = self
            .registry
            .get(module)
            .ok_or_else(|| TenantError::ModuleNotFound {
                module: module.to_string(),
            })?;
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_module(&txn, &scope, module).await?;
        txn.commit().await?;
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
        let scope = ctx.authorize_tenant(&tenant)?;
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
        let txn = scope.begin_write(&self.db).await?;
        if !repo::bump_config_version(&txn, &scope).await? {
            return Err(TenantError::TenantNotFound {
                tenant: tenant.to_string(),
            });
        }
        let existing = repo::find_module(&txn, &scope, module).await?;
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
        let row = repo::put_module(&txn, &scope, module, true, Some(stored), existing).await?;
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
}
