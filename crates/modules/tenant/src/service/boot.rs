//! The boot config the mini-program starts from: the tenant's branding, its enabled modules with
//! their public config, pages and tabs, for an appid.

use super::*;

impl TenantApp {
    /// The boot config of the mini-program with this appid, cached per tenant and config version:
    /// every write bumps the version, so a cached entry can never be stale.
    pub async fn app_config(&self, appid: &str) -> Result<pb::AppConfig> {
        let reply = self.app_config_reply(appid).await?;
        pb::GetAppConfigResponse::decode(reply)
            .ok()
            .and_then(|r| r.app_config)
            .ok_or_else(|| anyhow::anyhow!("a held boot config does not decode").into())
    }

    /// [`TenantApp::app_config`] as the encoded `GetAppConfigResponse`, which `GetAppConfig`
    /// writes as it is: a held answer is neither cloned nor encoded again per call (its clone and
    /// encoding were about a seventh of the call's CPU under load).
    pub async fn app_config_reply(&self, appid: &str) -> Result<Bytes> {
        let mut v = Violations::default();
        domain::check_appid(&mut v, "wechat_appid", appid);
        v.check(!appid.is_empty(), "wechat_appid", "is required");
        v.finish()?;
        if let Some(reply) = self.boot.get(appid) {
            return Ok(reply);
        }
        let ticket = self.boot.ticket();
        let row = repo::find_by_appid(&self.db, &REGISTRY, appid)
            .await?
            .filter(|r| Status::from_stored(&r.status) == Status::Active)
            .ok_or_else(|| TenantError::AppNotFound {
                appid: appid.to_string(),
            })?;
        let tenant = row.tenant_id;
        let key = format!("boot:v{}", row.config_version);
        let cached = self
            .cache
            .get(&tenant, &key)
            .await
            .and_then(|bytes| pb::AppConfig::decode(bytes).ok());
        let cfg = match cached {
            Some(cfg) => cfg,
            None => {
                // The boot config is public (anyone holding the AppID sees it), so the boot path
                // acts for the tenant it found without a caller.
                let scope = REGISTRY.tenant(tenant);
                let cfg = self.build_app_config(&scope, &row).await?;
                self.cache
                    .set(&tenant, &key, Bytes::from(cfg.encode_to_vec()))
                    .await;
                cfg
            }
        };
        let reply = Bytes::from(
            pb::GetAppConfigResponse {
                app_config: Some(cfg),
            }
            .encode_to_vec(),
        );
        self.boot
            .fill(ticket, appid.to_string(), tenant.to_string(), reply.clone());
        Ok(reply)
    }

    pub(super) async fn build_app_config(
        &self,
        scope: &TenantScope,
        row: &tenants::Model,
    ) -> Result<pb::AppConfig> {
        let txn = scope.begin(&self.db).await?;
        let modules = repo::list_modules(&txn, scope).await?;
        txn.commit().await?;
        let rows: HashMap<String, tenant_modules::Model> = modules
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
            tenant: mm_kernel::names::tenant_name(row.tenant_id),
            slug: row.slug.clone(),
            display_name,
            display_name_en: row.display_name_en.clone(),
            industry: row.industry.clone(),
            branding: Some(crate::convert::branding(
                scope.tenant(),
                &branding,
                row.config_version,
            )),
            modules,
            version: row.config_version,
        })
    }
}
