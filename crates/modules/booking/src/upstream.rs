//! Booking's calls to other modules, always through their contracts and with a one-minute
//! `ROLE_SERVICE` token for the tenant it acts for: the tenant module (is booking on, its config).
//! The config itself is read and held by `mm_kernel::module_config`.

use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::auth::JwtKeys;
use mm_kernel::cache::Cache;
use mm_kernel::module_config::{ConfigError, ModuleConfigs};
use tonic::transport::Channel;

use crate::domain::Config;
use crate::error::{BookingError, Result};

/// Clients of the other modules.
#[derive(Clone, Debug)]
pub struct Upstream {
    configs: ModuleConfigs<Config>,
}

impl Upstream {
    /// Clients over the platform channel; the config cache follows `cache`'s invalidations.
    pub fn new(channel: Channel, keys: Arc<JwtKeys>, cache: &Cache) -> Self {
        Self {
            configs: ModuleConfigs::new("booking", channel, keys, cache),
        }
    }

    /// The tenant's booking config; MODULE_DISABLED when the tenant has booking off.
    pub async fn config(&self, t: TenantId) -> Result<Config> {
        self.configs.get(t).await.map_err(|e| match e {
            ConfigError::Disabled => BookingError::ModuleDisabled,
            ConfigError::Unavailable => BookingError::Unavailable("the tenant service".into()),
            ConfigError::Internal(e) => BookingError::Internal(e),
        })
    }
}
