//! Ordering's calls to other modules, always through their contracts and with a one-minute
//! `ROLE_SERVICE` token for the tenant it acts for: the catalog (prices, stock), the tenant module
//! (is ordering on, its config: `mm_kernel::module_config`) and payments (WeChat Pay: prepay,
//! query, refund, close; what happens to the money comes back through `OrderPaymentEvents`).

use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::auth::JwtKeys;
use mm_kernel::cache::Cache;
use mm_kernel::error::RequestError;
use mm_kernel::extensions::{self, Extensions};
use mm_kernel::module_config::{ConfigError, ModuleConfigs, is_retryable, service_request};
use mm_kernel::names::{name_of, tenant_name};
use mm_kernel::payments::Payments;
use mm_kernel::platform::Platform;
use mm_proto::minimodules::catalog::v1 as catalog;
use mm_proto::minimodules::identity::v1 as identity;
use mm_proto::minimodules::ordering::v1 as pb;

use crate::domain::{Config, Discount, Line};
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
    /// Which services of the tenant's modules discount orders.
    discounters: Extensions,
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
            discounters: Extensions::new("ordering", channel.clone(), keys.clone(), cache),
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
                category_id: r
                    .category
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
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

/// The extension point of ordering's discount contract (`discounts.proto`).
pub const DISCOUNTS: &str = "ordering.discounts";

/// What the discounters said of a basket.
#[derive(Debug, Clone, Default)]
pub struct Quoted {
    /// The discounts the order would take.
    pub discounts: Vec<Discount>,
    /// The customer's coupons, with what each would take off.
    pub coupons: Vec<pb::CouponOption>,
    /// Why the coupon picked cannot be used.
    pub coupon_problem: String,
    /// What the customer's points could pay.
    pub points: Option<pb::PointsOption>,
}

fn discount(service: &str, d: pb::Discount) -> Discount {
    Discount {
        service: service.to_string(),
        source: d.source,
        kind: d.kind,
        label_zh: d.label_zh,
        label_en: d.label_en,
        amount_fen: d.amount_fen.max(0),
    }
}

impl Upstream {
    /// The services that discount the tenant's orders; empty when no switched-on module does.
    pub async fn discounters(&self, t: TenantId) -> Result<Vec<String>> {
        self.discounters
            .services(t, DISCOUNTS)
            .await
            .or_else(|e| match e {
                ConfigError::Disabled => Ok(Vec::new()),
                ConfigError::Unavailable => {
                    Err(OrderingError::Unavailable("the tenant service".into()))
                }
                ConfigError::Internal(e) => Err(OrderingError::Internal(e)),
            })
    }

    /// The basket as the discount contract has it.
    pub fn discount_basket(
        t: TenantId,
        customer: &str,
        lines: &[Line],
        basket: &crate::service::Basket,
    ) -> pb::DiscountBasket {
        let choice = &basket.coupon;
        use crate::service::CouponChoice;
        pb::DiscountBasket {
            customer: name_of::<Users>(t, customer),
            lines: lines
                .iter()
                .map(|l| pb::DiscountLine {
                    product: name_of::<Products>(t, &l.product_id),
                    sku_id: l.sku_id.clone(),
                    category: if l.category_id.is_empty() {
                        String::new()
                    } else {
                        name_of::<crate::names::Categories>(t, &l.category_id)
                    },
                    unit_price_fen: l.unit_price_fen,
                    quantity: i32::try_from(l.quantity).unwrap_or(i32::MAX),
                })
                .collect(),
            items_fen: lines
                .iter()
                .map(Line::total_fen)
                .fold(0, i64::saturating_add),
            coupon: match choice {
                CouponChoice::Picked(c) => c.clone(),
                _ => String::new(),
            },
            no_coupon: matches!(choice, CouponChoice::None),
            use_points: basket.use_points,
        }
    }

    /// Asks every discounter what the basket would take off; changes nothing.
    pub async fn quote_discounts(
        &self,
        t: TenantId,
        services: &[String],
        basket: &pb::DiscountBasket,
    ) -> Result<Quoted> {
        let mut out = Quoted::default();
        for service in services {
            let r: pb::QuoteDiscountsResponse = extensions::call(
                &self.channel,
                &self.keys,
                t,
                "ordering",
                service,
                "QuoteDiscounts",
                pb::QuoteDiscountsRequest {
                    parent: tenant_name(t),
                    basket: Some(basket.clone()),
                },
            )
            .await
            .map_err(|s| Self::discount_error(service, &s))?;
            out.discounts
                .extend(r.discounts.into_iter().map(|d| discount(service, d)));
            out.coupons.extend(r.coupons);
            if out.coupon_problem.is_empty() {
                out.coupon_problem = r.coupon_problem;
            }
            if out.points.is_none() {
                out.points = r.points;
            }
        }
        Ok(out)
    }

    /// Locks the basket's discounts to an order at every discounter (idempotent per order).
    pub async fn lock_discounts(
        &self,
        t: TenantId,
        services: &[String],
        order: &str,
        basket: &pb::DiscountBasket,
    ) -> Result<Vec<Discount>> {
        let mut out = Vec::new();
        for service in services {
            let r: pb::LockDiscountsResponse = extensions::call(
                &self.channel,
                &self.keys,
                t,
                "ordering",
                service,
                "LockDiscounts",
                pb::LockDiscountsRequest {
                    order: name_of::<crate::names::Orders>(t, order),
                    basket: Some(basket.clone()),
                },
            )
            .await
            .map_err(|s| Self::discount_error(service, &s))?;
            out.extend(r.discounts.into_iter().map(|d| discount(service, d)));
        }
        Ok(out)
    }

    /// Tells a discounter what became of an order; answers whether it changed anything.
    pub async fn discount_event(
        &self,
        t: TenantId,
        service: &str,
        order: &str,
        kind: pb::OrderDiscountEventKind,
        total_fen: i64,
        customer: &str,
    ) -> Result<bool> {
        let r: pb::OnOrderDiscountEventResponse = extensions::call(
            &self.channel,
            &self.keys,
            t,
            "ordering",
            service,
            "OnOrderDiscountEvent",
            pb::OnOrderDiscountEventRequest {
                order: name_of::<crate::names::Orders>(t, order),
                kind: kind as i32,
                total_fen,
                customer: if customer.is_empty() {
                    String::new()
                } else {
                    name_of::<Users>(t, customer)
                },
            },
        )
        .await
        .map_err(|s| unavailable(service, &s))?;
        Ok(r.applied)
    }

    /// A discounter's refusal: the coupon picked cannot be used (the customer's to fix), or
    /// the discounter is unavailable.
    fn discount_error(service: &str, s: &tonic::Status) -> OrderingError {
        match (s.code(), mm_kernel::error::reason_of(s).as_deref()) {
            (tonic::Code::FailedPrecondition, Some("COUPON_UNAVAILABLE")) => {
                OrderingError::CouponUnavailable {
                    problem: "COUPON_UNAVAILABLE".into(),
                }
            }
            (tonic::Code::FailedPrecondition, Some("COUPON_NOT_APPLICABLE")) => {
                OrderingError::CouponUnavailable {
                    problem: mm_kernel::error::metadata_of(s, "problem")
                        .unwrap_or_else(|| "COUPON_NOT_APPLICABLE".into()),
                }
            }
            (tonic::Code::InvalidArgument, _) => {
                OrderingError::Request(RequestError::invalid("coupon", s.message()))
            }
            // Marketing switched off between the look-up and the call: no discounts.
            _ => unavailable(service, s),
        }
    }
}
