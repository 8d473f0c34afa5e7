//! Booking's calls to other modules, always through their contracts and with a one-minute
//! `ROLE_SERVICE` token for the tenant it acts for: the tenant module (is booking on, its config).
//! The tenant's config is kept in process and dropped whenever the cache says the tenant changed.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use mm_kernel::TenantId;
use mm_kernel::auth::{JwtKeys, service_token};
use mm_kernel::cache::{Cache, Invalidation};
use mm_proto::minimodules::tenant::v1 as tenant;
use tonic::transport::Channel;

use crate::domain::Config;
use crate::error::{BookingError, Result};

/// Clients of the other modules.
#[derive(Clone)]
pub struct Upstream {
    channel: Channel,
    keys: Arc<JwtKeys>,
    configs: Arc<RwLock<HashMap<TenantId, Config>>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Upstream")
    }
}

fn unavailable(what: &str, s: &tonic::Status) -> BookingError {
    match s.code() {
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
            BookingError::Unavailable(what.to_string())
        }
        _ => BookingError::Internal(anyhow::anyhow!("{what}: {:?}: {}", s.code(), s.message())),
    }
}

impl Upstream {
    /// Clients over the platform channel; the config cache follows `cache`'s invalidations.
    pub fn new(channel: Channel, keys: Arc<JwtKeys>, cache: &Cache) -> Self {
        let configs: Arc<RwLock<HashMap<TenantId, Config>>> = Arc::default();
        let held = configs.clone();
        cache.on_invalidate(Arc::new(move |inv| {
            let mut map = match held.write() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            match inv {
                Invalidation::Tenant(t) => drop(map.remove(t)),
                Invalidation::All => map.clear(),
            }
        }));
        Self {
            channel,
            keys,
            configs,
        }
    }

    fn request<T>(&self, tenant: TenantId, msg: T) -> Result<tonic::Request<T>> {
        let token = service_token(&self.keys, tenant, "booking")
            .map_err(|e| anyhow::anyhow!("Failed to mint a service token: {e}"))?;
        let mut req = tonic::Request::new(msg);
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| anyhow::anyhow!("service token is not a header value"))?;
        req.metadata_mut().insert("authorization", value);
        Ok(req)
    }

    /// The tenant's booking config; MODULE_DISABLED when the tenant has booking off.
    pub async fn config(&self, t: TenantId) -> Result<Config> {
        if let Some(c) = self.configs.read().ok().and_then(|m| m.get(&t).cloned()) {
            return Ok(c);
        }
        let mut client =
            tenant::tenant_service_client::TenantServiceClient::new(self.channel.clone());
        let modules = client
            .list_tenant_modules(self.request(
                t,
                tenant::ListTenantModulesRequest {
                    parent: format!("tenants/{t}"),
                },
            )?)
            .await
            .map_err(|s| match s.code() {
                tonic::Code::NotFound => BookingError::ModuleDisabled,
                _ => unavailable("the tenant service", &s),
            })?
            .into_inner();
        if !modules
            .modules
            .iter()
            .any(|m| m.module_id == "booking" && m.enabled)
        {
            return Err(BookingError::ModuleDisabled);
        }
        let stored = client
            .get_module_config(self.request(
                t,
                tenant::GetModuleConfigRequest {
                    name: format!("tenants/{t}/modules/booking/config"),
                },
            )?)
            .await
            .map_err(|s| unavailable("the tenant service", &s))?
            .into_inner()
            .config
            .and_then(|c| c.config)
            .map(|s| mm_kernel::json::struct_to_json(&s))
            .unwrap_or_default();
        // No stored config yet means every default.
        let config: Config = if stored.is_null() {
            Config::default()
        } else {
            serde_json::from_value(stored)
                .map_err(|e| anyhow::anyhow!("stored booking config does not parse: {e}"))?
        };
        if let Ok(mut m) = self.configs.write() {
            m.insert(t, config.clone());
        }
        Ok(config)
    }
}
