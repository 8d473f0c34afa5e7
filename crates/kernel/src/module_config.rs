//! A module's own config for one tenant, as the tenant module's contract serves it (defaults
//! filled in, validated when saved), read with a one-minute `ROLE_SERVICE` token and kept in
//! process until the cache says the tenant changed. Every module with a config reads it this way,
//! so none of them reaches into the tenant module's tables. This speaks the tenant contract
//! (mm-proto), not the tenant crate.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use mm_proto::minimodules::tenant::v1 as pb;
use serde::de::DeserializeOwned;

use crate::auth::{JwtKeys, service_token};
use crate::cache::{Cache, Invalidation};
use crate::ids::TenantId;
use crate::platform::Platform;

/// Why a module's config could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The tenant has the module switched off (or does not exist).
    #[error("the module is not enabled for this tenant")]
    Disabled,
    /// The tenant service did not answer; worth a retry.
    #[error("the tenant service is unavailable")]
    Unavailable,
    /// Anything else (a stored config that does not parse, an unexpected answer).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A request carrying a fresh service token of `module` for `tenant`, for calling another
/// module's contract.
pub fn service_request<T>(
    keys: &JwtKeys,
    tenant: TenantId,
    module: &str,
    msg: T,
) -> anyhow::Result<tonic::Request<T>> {
    let token = service_token(keys, tenant, module)
        .map_err(|e| anyhow::anyhow!("Failed to mint a service token: {e}"))?;
    let mut req = tonic::Request::new(msg);
    let value = format!("Bearer {token}")
        .parse()
        .map_err(|_| anyhow::anyhow!("service token is not a header value"))?;
    req.metadata_mut().insert("authorization", value);
    Ok(req)
}

/// A status from another module as a [`ConfigError`]-style split: retryable or not.
pub fn is_retryable(s: &tonic::Status) -> bool {
    matches!(
        s.code(),
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
    )
}

/// One module's configs, per tenant.
pub struct ModuleConfigs<C> {
    module: &'static str,
    caller: &'static str,
    channel: Platform,
    keys: Arc<JwtKeys>,
    held: Arc<RwLock<HashMap<TenantId, C>>>,
}

impl<C> Clone for ModuleConfigs<C> {
    fn clone(&self) -> Self {
        Self {
            module: self.module,
            caller: self.caller,
            channel: self.channel.clone(),
            keys: self.keys.clone(),
            held: self.held.clone(),
        }
    }
}

impl<C> std::fmt::Debug for ModuleConfigs<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleConfigs")
            .field("module", &self.module)
            .finish()
    }
}

impl<C: DeserializeOwned + Default + Clone + Send + Sync + 'static> ModuleConfigs<C> {
    /// Configs of `module` over the platform channel; what is held follows `cache`'s
    /// invalidations.
    pub fn new(module: &'static str, channel: Platform, keys: Arc<JwtKeys>, cache: &Cache) -> Self {
        Self::of(module, module, channel, keys, cache)
    }

    /// Configs of another module `module`, read by `caller` (its service token's subject): a
    /// policy one module sets and another enforces, such as identity's `require_phone` at
    /// ordering's checkout.
    pub fn of(
        module: &'static str,
        caller: &'static str,
        channel: Platform,
        keys: Arc<JwtKeys>,
        cache: &Cache,
    ) -> Self {
        let held: Arc<RwLock<HashMap<TenantId, C>>> = Arc::default();
        let dropped = held.clone();
        cache.on_invalidate(Arc::new(move |inv| {
            let mut map = match dropped.write() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            match inv {
                Invalidation::Tenant(t) => drop(map.remove(t)),
                Invalidation::All => map.clear(),
            }
        }));
        Self {
            module,
            caller,
            channel,
            keys,
            held,
        }
    }

    fn status(s: &tonic::Status) -> ConfigError {
        if is_retryable(s) {
            ConfigError::Unavailable
        } else {
            ConfigError::Internal(anyhow::anyhow!(
                "tenant service: {:?}: {}",
                s.code(),
                s.message()
            ))
        }
    }

    /// The tenant's config of this module; [`ConfigError::Disabled`] when it is switched off.
    pub async fn get(&self, t: TenantId) -> Result<C, ConfigError> {
        if let Some(c) = self.held.read().ok().and_then(|m| m.get(&t).cloned()) {
            return Ok(c);
        }
        let mut client = pb::tenant_service_client::TenantServiceClient::new(self.channel.clone());
        let modules = client
            .list_tenant_modules(service_request(
                &self.keys,
                t,
                self.caller,
                pb::ListTenantModulesRequest {
                    parent: format!("tenants/{t}"),
                },
            )?)
            .await
            .map_err(|s| match s.code() {
                tonic::Code::NotFound => ConfigError::Disabled,
                _ => Self::status(&s),
            })?
            .into_inner();
        if !modules
            .modules
            .iter()
            .any(|m| m.module_id == self.module && m.enabled)
        {
            return Err(ConfigError::Disabled);
        }
        let stored = client
            .get_module_config(service_request(
                &self.keys,
                t,
                self.caller,
                pb::GetModuleConfigRequest {
                    name: format!("tenants/{t}/modules/{}/config", self.module),
                },
            )?)
            .await
            .map_err(|s| Self::status(&s))?
            .into_inner()
            .config
            .and_then(|c| c.config)
            .map(|s| crate::json::struct_to_json(&s))
            .unwrap_or_default();
        // No stored config yet means every default.
        let config: C = if stored.is_null() {
            C::default()
        } else {
            serde_json::from_value(stored)
                .map_err(|e| anyhow::anyhow!("stored {} config does not parse: {e}", self.module))?
        };
        if let Ok(mut m) = self.held.write() {
            m.insert(t, config.clone());
        }
        Ok(config)
    }
}
