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
use mm_kernel::names::{name_of, tenant_name};
use mm_kernel::payments::Payments;
use mm_kernel::platform::Platform;
use mm_proto::minimodules::catalog::v1 as catalog;
use mm_proto::minimodules::identity::v1 as identity;

use crate::domain::{Config, Line};
use crate::error::{OrderingError, Result};
use crate::names::{Products, Users};

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
    identity: ModuleConfigs<IdentityPolicy>,
    /// The payments contract (prepay, query, refund, close).
    pub payments: Payments,
}

/// What ordering enforces of the identity module's config (the shop sets it there, with the
/// customers' other rules).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct IdentityPolicy {
    /// Customers bind a phone number before they order (下单前需绑定手机号).
    #[serde(default)]
    pub require_phone: bool,
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
            identity: ModuleConfigs::of(
                "identity",
                "ordering",
                channel.clone(),
                keys.clone(),
                cache,
            ),
            payments: Payments::new(channel.clone(), keys.clone(), "ordering"),
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

    /// The tenant's identity policy; identity switched off (it is on for every shop that has
    /// customers) means no policy.
    pub async fn identity_policy(&self, t: TenantId) -> Result<IdentityPolicy> {
        match self.identity.get(t).await {
            Ok(p) => Ok(p),
            Err(ConfigError::Disabled) => Ok(IdentityPolicy::default()),
            Err(ConfigError::Unavailable) => {
                Err(OrderingError::Unavailable("the tenant service".into()))
            }
            Err(ConfigError::Internal(e)) => Err(OrderingError::Internal(e)),
        }
    }

    /// Whether the customer has bound a phone number, asked of identity.
    pub async fn has_phone(&self, t: TenantId, customer: &str) -> Result<bool> {
        let user = identity::user_service_client::UserServiceClient::new(self.channel.clone())
            .get_user(self.request(
                t,
                identity::GetUserRequest {
                    name: name_of::<Users>(t, customer),
                },
            )?)
            .await;
        let user = match user {
            Ok(r) => r.into_inner().user.unwrap_or_default(),
            // A caller identity has no record of (a token minted by hand) has no phone either.
            Err(s) if s.code() == tonic::Code::NotFound => return Ok(false),
            Err(s) => return Err(unavailable("the identity service", &s)),
        };
        Ok(!user.phone.trim().is_empty())
    }

    fn items(t: TenantId, items: &[ItemRef]) -> Vec<catalog::ItemRequest> {
        items
            .iter()
            .map(|i| catalog::ItemRequest {
                product: name_of::<Products>(t, &i.product_id),
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
                    parent: tenant_name(t),
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
                    parent: tenant_name(t),
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
                    parent: tenant_name(t),
                    reservation_id: order.to_string(),
                },
            )?)
            .await
            .map_err(|s| unavailable("the catalog", &s))?;
        Ok(r.into_inner().released)
    }
}
