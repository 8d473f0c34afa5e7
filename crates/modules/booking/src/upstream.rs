//! Booking's calls to other modules, through their contracts with a one-minute `ROLE_SERVICE`
//! token for the tenant it acts for: the tenant module (is booking on, its config:
//! `mm_kernel::module_config`), payments (deposits through WeChat Pay: prepay, query, refund,
//! close; what happens to the money comes back through `BookingPaymentEvents`) and identity
//! (sending a reminder).

use std::collections::HashMap;
use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::auth::JwtKeys;
use mm_kernel::cache::Cache;
use mm_kernel::module_config::{ConfigError, ModuleConfigs, is_retryable, service_request};
use mm_kernel::names::name_of;
use mm_kernel::payments::Payments;
use mm_kernel::platform::Platform;
use mm_proto::minimodules::identity::v1 as identity;

use crate::domain::Config;
use crate::error::{BookingError, Result};
use crate::names::Users;

/// Clients of the other modules.
#[derive(Clone, Debug)]
pub struct Upstream {
    channel: Platform,
    keys: Arc<JwtKeys>,
    configs: ModuleConfigs<Config>,
    /// The payments contract (prepay, query, refund, close).
    pub payments: Payments,
}

/// How a message send ended, as far as retrying goes.
#[derive(Debug)]
pub enum SendError {
    /// Worth another try later (WeChat or identity busy or unreachable).
    Retry(String),
    /// Will not succeed (no consent, bad template or data, no WeChat identity).
    Permanent(String),
}

impl Upstream {
    /// Clients over the platform channel; the config cache follows `cache`'s invalidations.
    pub fn new(channel: Platform, keys: Arc<JwtKeys>, cache: &Cache) -> Self {
        Self {
            configs: ModuleConfigs::new("booking", channel.clone(), keys.clone(), cache),
            payments: Payments::new(channel.clone(), keys.clone(), "booking"),
            channel,
            keys,
        }
    }

    fn request<T>(&self, tenant: TenantId, msg: T) -> Result<tonic::Request<T>> {
        Ok(service_request(&self.keys, tenant, "booking", msg)?)
    }

    /// The tenant's booking config; MODULE_DISABLED when the tenant has booking off.
    pub async fn config(&self, t: TenantId) -> Result<Config> {
        self.configs.get(t).await.map_err(|e| match e {
            ConfigError::Disabled => BookingError::ModuleDisabled,
            ConfigError::Unavailable => BookingError::Unavailable("the tenant service".into()),
            ConfigError::Internal(e) => BookingError::Internal(e),
        })
    }

    /// Sends a subscribe message to the customer through identity (which holds the app's WeChat
    /// credentials and the customer's openid).
    pub async fn send_subscribe_message(
        &self,
        t: TenantId,
        customer: &str,
        template_id: &str,
        page: &str,
        data: HashMap<String, String>,
    ) -> Result<(), SendError> {
        let req = self
            .request(
                t,
                identity::SendSubscribeMessageRequest {
                    name: name_of::<Users>(t, customer),
                    template_id: template_id.to_string(),
                    page: page.to_string(),
                    data,
                },
            )
            .map_err(|e| SendError::Retry(e.to_string()))?;
        identity::user_service_client::UserServiceClient::new(self.channel.clone())
            .send_subscribe_message(req)
            .await
            .map(|_| ())
            .map_err(|s| {
                let why = format!("{:?}: {}", s.code(), s.message());
                if is_retryable(&s) || s.code() == tonic::Code::Internal {
                    SendError::Retry(why)
                } else {
                    SendError::Permanent(why)
                }
            })
    }
}
