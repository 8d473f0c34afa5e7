//! Ordering's calls to other modules, always through their contracts and with a one-minute
//! `ROLE_SERVICE` token for the tenant it acts for: the catalog (prices, stock), the tenant module
//! (is ordering on, its config: `mm_kernel::module_config`) and payments (WeChat Pay: prepay,
//! query, refund, close; what happens to the money comes back through `OrderPaymentEvents`).

use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::auth::JwtKeys;
use mm_kernel::cache::Cache;
use mm_kernel::error::RequestError;
use mm_kernel::module_config::{ConfigError, ModuleConfigs, is_retryable, service_request};
use mm_kernel::platform::Platform;
use mm_proto::minimodules::catalog::v1 as catalog;
use mm_proto::minimodules::payments::v1 as payments;
use payments::payment_service_client::PaymentServiceClient;

use crate::domain::{Config, Line};
use crate::error::{OrderingError, Result};

/// One item as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    /// Product id.
    pub product_id: String,
    /// SKU id.
    pub sku_id: String,
    /// Units.
    pub quantity: i64,
}

/// Clients of the other modules.
#[derive(Clone, Debug)]
pub struct Upstream {
    channel: Platform,
    keys: Arc<JwtKeys>,
    configs: ModuleConfigs<Config>,
}

fn unavailable(what: &str, s: &tonic::Status) -> OrderingError {
    if is_retryable(s) {
        OrderingError::Unavailable(what.to_string())
    } else {
        OrderingError::Internal(anyhow::anyhow!("{what}: {:?}: {}", s.code(), s.message()))
    }
}

impl Upstream {
    /// Clients over the platform channel; the config cache follows `cache`'s invalidations.
    pub fn new(channel: Platform, keys: Arc<JwtKeys>, cache: &Cache) -> Self {
        Self {
            configs: ModuleConfigs::new("ordering", channel.clone(), keys.clone(), cache),
            channel,
            keys,
        }
    }

    fn request<T>(&self, tenant: TenantId, msg: T) -> Result<tonic::Request<T>> {
        Ok(service_request(&self.keys, tenant, "ordering", msg)?)
    }

    /// The tenant's ordering config; MODULE_DISABLED when the tenant has ordering off.
    pub async fn config(&self, t: TenantId) -> Result<Config> {
        self.configs.get(t).await.map_err(|e| match e {
            ConfigError::Disabled => OrderingError::ModuleDisabled,
            ConfigError::Unavailable => OrderingError::Unavailable("the tenant service".into()),
            ConfigError::Internal(e) => OrderingError::Internal(e),
        })
    }

    fn items(t: TenantId, items: &[ItemRef]) -> Vec<catalog::ItemRequest> {
        items
            .iter()
            .map(|i| catalog::ItemRequest {
                product: format!("tenants/{t}/products/{}", i.product_id),
                sku_id: i.sku_id.clone(),
                quantity: i32::try_from(i.quantity).unwrap_or(i32::MAX),
            })
            .collect()
    }

    fn lines(resolved: Vec<catalog::ResolvedItem>) -> Vec<Line> {
        resolved
            .into_iter()
            .map(|r| Line {
                product_id: r.product.rsplit('/').next().unwrap_or_default().to_string(),
                sku_id: r.sku_id,
                name_zh: r.display_name_zh,
                spec_summary: r
                    .specs
                    .iter()
                    .map(|s| s.value.as_str())
                    .collect::<Vec<_>>()
                    .join(" / "),
                unit_price_fen: r.unit_price_fen,
                quantity: i64::from(r.quantity),
                available: r.available,
            })
            .collect()
    }

    fn catalog_error(s: &tonic::Status) -> OrderingError {
        match s.code() {
            tonic::Code::InvalidArgument => {
                OrderingError::Request(RequestError::invalid("items", s.message()))
            }
            // A product taken off sale is the basket's problem, as pricing names it.
            tonic::Code::FailedPrecondition
                if mm_kernel::error::reason_of(s).as_deref() == Some("NOT_ON_SALE") =>
            {
                OrderingError::NotOrderable {
                    problems: vec!["ITEM_UNAVAILABLE".into()],
                }
            }
            tonic::Code::FailedPrecondition => OrderingError::OutOfStock {
                product: s.message().to_string(),
            },
            _ => unavailable("the catalog", s),
        }
    }

    /// Current prices and availability.
    pub async fn resolve(&self, t: TenantId, items: &[ItemRef]) -> Result<Vec<Line>> {
        let mut client =
            catalog::catalog_service_client::CatalogServiceClient::new(self.channel.clone());
        let r = client
            .resolve_items(self.request(
                t,
                catalog::ResolveItemsRequest {
                    parent: format!("tenants/{t}"),
                    items: Self::items(t, items),
                },
            )?)
            .await
            .map_err(|s| Self::catalog_error(&s))?;
        Ok(Self::lines(r.into_inner().items))
    }

    /// Takes stock for all items or none, under the order's id.
    pub async fn reserve(&self, t: TenantId, order: &str, items: &[ItemRef]) -> Result<Vec<Line>> {
        let mut client =
            catalog::catalog_service_client::CatalogServiceClient::new(self.channel.clone());
        let r = client
            .reserve_stock(self.request(
                t,
                catalog::ReserveStockRequest {
                    parent: format!("tenants/{t}"),
                    reservation_id: order.to_string(),
                    items: Self::items(t, items),
                },
            )?)
            .await
            .map_err(|s| Self::catalog_error(&s))?;
        Ok(Self::lines(r.into_inner().items))
    }

    /// Gives an order's stock back (once; later calls change nothing).
    pub async fn release(&self, t: TenantId, order: &str) -> Result<bool> {
        let mut client =
            catalog::catalog_service_client::CatalogServiceClient::new(self.channel.clone());
        let r = client
            .release_stock(self.request(
                t,
                catalog::ReleaseStockRequest {
                    parent: format!("tenants/{t}"),
                    reservation_id: order.to_string(),
                },
            )?)
            .await
            .map_err(|s| unavailable("the catalog", &s))?;
        Ok(r.into_inner().released)
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
}

/// A refusal of the payments service, as ordering reports it: WeChat Pay not usable for this
/// shop or customer, WeChat Pay's own refusal (its code kept), a payment that does not match, or
/// an outage worth a retry.
fn payment_error(s: &tonic::Status) -> OrderingError {
    let reason = mm_kernel::error::reason_of(s);
    match s.code() {
        _ if is_retryable(s) => OrderingError::Unavailable("the payments service".into()),
        tonic::Code::FailedPrecondition if reason.as_deref() == Some("WECHAT_PAY_ERROR") => {
            OrderingError::WechatPay {
                code: wechat_code(s),
                message: s.message().to_string(),
            }
        }
        tonic::Code::FailedPrecondition => OrderingError::PaymentUnavailable(s.message().into()),
        tonic::Code::InvalidArgument if reason.as_deref() == Some("PAYMENT_MISMATCH") => {
            OrderingError::PaymentMismatch(s.message().into())
        }
        _ => OrderingError::Internal(anyhow::anyhow!(
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
