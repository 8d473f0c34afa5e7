//! Ordering's calls to other modules, always through their contracts and with a one-minute
//! `ROLE_SERVICE` token for the tenant it acts for: the catalog (prices, stock), the tenant module
//! (is ordering on, its config) and identity (who pays). The tenant's config is kept in process
//! and dropped whenever the cache says the tenant changed.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use mm_kernel::TenantId;
use mm_kernel::auth::{JwtKeys, service_token};
use mm_kernel::cache::{Cache, Invalidation};
use mm_kernel::error::RequestError;
use mm_proto::minimodules::catalog::v1 as catalog;
use mm_proto::minimodules::identity::v1 as identity;
use mm_proto::minimodules::tenant::v1 as tenant;
use tonic::transport::Channel;

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

fn unavailable(what: &str, s: &tonic::Status) -> OrderingError {
    match s.code() {
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => {
            OrderingError::Unavailable(what.to_string())
        }
        _ => OrderingError::Internal(anyhow::anyhow!("{what}: {:?}: {}", s.code(), s.message())),
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
        let token = service_token(&self.keys, tenant, "ordering")
            .map_err(|e| anyhow::anyhow!("Failed to mint a service token: {e}"))?;
        let mut req = tonic::Request::new(msg);
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| anyhow::anyhow!("service token is not a header value"))?;
        req.metadata_mut().insert("authorization", value);
        Ok(req)
    }

    /// The tenant's ordering config; MODULE_DISABLED when the tenant has ordering off.
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
                tonic::Code::NotFound => OrderingError::ModuleDisabled,
                _ => unavailable("the tenant service", &s),
            })?
            .into_inner();
        if !modules
            .modules
            .iter()
            .any(|m| m.module_id == "ordering" && m.enabled)
        {
            return Err(OrderingError::ModuleDisabled);
        }
        let stored = client
            .get_module_config(self.request(
                t,
                tenant::GetModuleConfigRequest {
                    name: format!("tenants/{t}/modules/ordering/config"),
                },
            )?)
            .await
            .map_err(|s| unavailable("the tenant service", &s))?
            .into_inner()
            .config
            .and_then(|c| c.config)
            .map(|s| mm_kernel::json::struct_to_json(&s))
            .unwrap_or_default();
        let config: Config = serde_json::from_value(stored)
            .map_err(|e| anyhow::anyhow!("stored ordering config does not parse: {e}"))?;
        if let Ok(mut m) = self.configs.write() {
            m.insert(t, config.clone());
        }
        Ok(config)
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

    /// The customer's openid and the shop's appid.
    pub async fn payer(&self, t: TenantId, customer: &str) -> Result<(String, String)> {
        let mut client =
            identity::user_service_client::UserServiceClient::new(self.channel.clone());
        let r = client
            .get_payer(self.request(
                t,
                identity::GetPayerRequest {
                    name: format!("tenants/{t}/users/{customer}"),
                },
            )?)
            .await
            .map_err(|s| match s.code() {
                tonic::Code::NotFound | tonic::Code::PermissionDenied => {
                    OrderingError::PaymentUnavailable(format!(
                        "WeChat Pay needs a WeChat login: {}",
                        s.message()
                    ))
                }
                _ => unavailable("the identity service", &s),
            })?
            .into_inner();
        Ok((r.openid, r.appid))
    }
}
