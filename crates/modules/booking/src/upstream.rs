//! Booking's calls to other modules, through their contracts with a one-minute `ROLE_SERVICE`
//! token for the tenant it acts for: the tenant module (is booking on, its config:
//! `mm_kernel::module_config`), payments (deposits through WeChat Pay: prepay, query, refund,
//! close; what happens to the money comes back through `BookingPaymentEvents`) and identity
//! (sending a reminder), and the modules serving booking's discount contract (`discounts.proto`:
//! coupons on deposits, points for completed bookings), found per tenant by
//! `mm_kernel::extensions`.

use std::collections::HashMap;
use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::auth::JwtKeys;
use mm_kernel::cache::Cache;
use mm_kernel::extensions::{self, Extensions};
use mm_kernel::module_config::{ConfigError, ModuleConfigs, is_retryable, service_request};
use mm_kernel::names::name_of;
use mm_kernel::payments::Payments;
use mm_kernel::platform::Platform;
use mm_proto::minimodules::booking::v1 as pb;
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
    discounters: Extensions,
}

/// The extension point of booking's discount contract (`discounts.proto`).
pub const DISCOUNTS: &str = "booking.discounts";

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
            discounters: Extensions::new("booking", channel.clone(), keys.clone(), cache),
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

    /// The services that discount the tenant's deposits or reward its bookings; empty when no
    /// switched-on module does.
    pub async fn discounters(&self, t: TenantId) -> Result<Vec<String>> {
        self.discounters
            .services(t, DISCOUNTS)
            .await
            .or_else(|e| match e {
                ConfigError::Disabled => Ok(Vec::new()),
                ConfigError::Unavailable => {
                    Err(BookingError::Unavailable("the tenant service".into()))
                }
                ConfigError::Internal(e) => Err(BookingError::Internal(e)),
            })
    }

    /// Locks a deposit's discounts to a reservation at `service` (idempotent per reservation).
    pub async fn lock_deposit(
        &self,
        t: TenantId,
        service: &str,
        req: pb::LockDepositDiscountsRequest,
    ) -> Result<Vec<pb::DepositDiscount>> {
        let r: pb::LockDepositDiscountsResponse = extensions::call(
            &self.channel,
            &self.keys,
            t,
            "booking",
            service,
            "LockDepositDiscounts",
            req,
        )
        .await
        .map_err(
            |s| match (s.code(), mm_kernel::error::reason_of(&s).as_deref()) {
                (tonic::Code::FailedPrecondition, Some("COUPON_UNAVAILABLE")) => {
                    BookingError::CouponUnavailable {
                        problem: "COUPON_UNAVAILABLE".into(),
                    }
                }
                (tonic::Code::FailedPrecondition, Some("COUPON_NOT_APPLICABLE")) => {
                    BookingError::CouponUnavailable {
                        problem: mm_kernel::error::metadata_of(&s, "problem")
                            .unwrap_or_else(|| "NOT_IN_SCOPE".into()),
                    }
                }
                (tonic::Code::InvalidArgument, _) => BookingError::Request(
                    mm_kernel::error::RequestError::invalid("coupon", s.message()),
                ),
                _ => BookingError::Unavailable(format!("{service}: {}", s.message())),
            },
        )?;
        Ok(r.discounts)
    }

    /// Tells a discounter what became of a reservation; answers whether it changed anything.
    pub async fn reservation_event(
        &self,
        t: TenantId,
        service: &str,
        req: pb::OnReservationDiscountEventRequest,
    ) -> std::result::Result<bool, SendError> {
        let r: pb::OnReservationDiscountEventResponse = extensions::call(
            &self.channel,
            &self.keys,
            t,
            "booking",
            service,
            "OnReservationDiscountEvent",
            req,
        )
        .await
        .map_err(|s| SendError::Retry(format!("{service}: {:?} {}", s.code(), s.message())))?;
        Ok(r.applied)
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
