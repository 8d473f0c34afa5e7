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
use mm_kernel::platform::Platform;
use mm_proto::minimodules::identity::v1 as identity;
use mm_proto::minimodules::payments::v1 as payments;
use payments::payment_service_client::PaymentServiceClient;

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

    fn payments(&self) -> PaymentServiceClient<Platform> {
        PaymentServiceClient::new(self.channel.clone())
    }

    /// Starts (or repeats: same name, same prepay) the WeChat payment `req` describes.
    pub async fn create_payment(
        &self,
        t: TenantId,
        req: payments::CreatePaymentRequest,
    ) -> Result<payments::CreatePaymentResponse> {
        Ok(self
            .payments()
            .create_payment(self.request(t, req)?)
            .await
            .map_err(|s| payment_error(&s))?
            .into_inner())
    }

    /// Asks how the payment `name` stands; a success has been applied (through the listener)
    /// before this answers.
    pub async fn refresh_payment(
        &self,
        t: TenantId,
        name: String,
    ) -> Result<payments::RefreshPaymentResponse> {
        Ok(self
            .payments()
            .refresh_payment(self.request(t, payments::RefreshPaymentRequest { name })?)
            .await
            .map_err(|s| payment_error(&s))?
            .into_inner())
    }

    /// Asks for a refund (or repeats the one with the same refund id): where it stands now.
    pub async fn refund_payment(
        &self,
        t: TenantId,
        req: payments::RefundPaymentRequest,
    ) -> Result<payments::RefundState> {
        let r = self
            .payments()
            .refund_payment(self.request(t, req)?)
            .await
            .map_err(|s| payment_error(&s))?
            .into_inner();
        Ok(r.state())
    }

    /// Closes the unpaid payment `name` (nothing to close is not an error).
    pub async fn close_payment(&self, t: TenantId, name: String) -> Result<()> {
        self.payments()
            .close_payment(self.request(t, payments::ClosePaymentRequest { name })?)
            .await
            .map_err(|s| payment_error(&s))?;
        Ok(())
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

/// A refusal of the payments service, as booking reports it: WeChat Pay not usable for this shop
/// or customer, WeChat Pay's own refusal (its code kept), a payment that does not match, or an
/// outage worth a retry.
fn payment_error(s: &tonic::Status) -> BookingError {
    let reason = mm_kernel::error::reason_of(s);
    match s.code() {
        _ if is_retryable(s) => BookingError::Unavailable("the payments service".into()),
        tonic::Code::FailedPrecondition if reason.as_deref() == Some("WECHAT_PAY_ERROR") => {
            BookingError::WechatPay {
                code: wechat_code(s),
                message: s.message().to_string(),
            }
        }
        tonic::Code::FailedPrecondition => BookingError::PaymentUnavailable(s.message().into()),
        tonic::Code::InvalidArgument if reason.as_deref() == Some("PAYMENT_MISMATCH") => {
            BookingError::PaymentMismatch(s.message().into())
        }
        _ => BookingError::Internal(anyhow::anyhow!(
            "the payments service: {:?}: {}",
            s.code(),
            s.message()
        )),
    }
}

/// WeChat Pay's error code, as the payments service passes it on (`wechat_code` in the error's
/// metadata).
fn wechat_code(s: &tonic::Status) -> String {
    use tonic_types::StatusExt as _;
    s.get_error_details()
        .error_info()
        .and_then(|i| i.metadata.get("wechat_code").cloned())
        .unwrap_or_default()
}
