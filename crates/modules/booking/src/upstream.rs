//! Booking's calls to other modules, through their contracts with a one-minute `ROLE_SERVICE`
//! token for the tenant it acts for: the tenant module (is booking on, its config:
//! `mm_kernel::module_config`; the merchant account: `mm_kernel::merchant`) and identity (who
//! pays a deposit, sending a reminder).

use std::collections::HashMap;
use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::auth::JwtKeys;
use mm_kernel::cache::Cache;
use mm_kernel::module_config::{ConfigError, ModuleConfigs, is_retryable, service_request};
use mm_kernel::platform::Platform;
use mm_proto::minimodules::identity::v1 as identity;

use crate::domain::Config;
use crate::error::{BookingError, Result};

/// Clients of the other modules.
#[derive(Clone, Debug)]
pub struct Upstream {
    channel: Platform,
    keys: Arc<JwtKeys>,
    configs: ModuleConfigs<Config>,
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

    /// The customer's openid and the tenant's appid, for a WeChat payment.
    pub async fn payer(&self, t: TenantId, customer: &str) -> Result<(String, String)> {
        let r = identity::user_service_client::UserServiceClient::new(self.channel.clone())
            .get_payer(self.request(
                t,
                identity::GetPayerRequest {
                    name: format!("tenants/{t}/users/{customer}"),
                },
            )?)
            .await
            .map_err(|s| match s.code() {
                tonic::Code::NotFound | tonic::Code::PermissionDenied => {
                    BookingError::PaymentUnavailable(format!(
                        "WeChat Pay needs a WeChat login: {}",
                        s.message()
                    ))
                }
                _ if is_retryable(&s) => BookingError::Unavailable("the identity service".into()),
                _ => BookingError::Internal(anyhow::anyhow!(
                    "GetPayer: {:?}: {}",
                    s.code(),
                    s.message()
                )),
            })?
            .into_inner();
        Ok((r.openid, r.appid))
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
                    name: format!("tenants/{t}/users/{customer}"),
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
