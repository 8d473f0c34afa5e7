//! mm-bff: the backend for the WeChat mini-program. It shapes JSON for screens and calls the
//! module services through their generated gRPC clients — in the all-in-one process too — so it
//! behaves the same whether services run beside it or elsewhere.
//!
//! It must hold no business rules: validation, prices, permissions and tenancy are decided by the
//! services. Errors become HTTP in exactly one place, error.rs.

pub mod error;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use mm_kernel::cache::Cache;
use mm_kernel::platform::Platform;
use mm_proto::minimodules::booking::v1::booking_service_client::BookingServiceClient;
use mm_proto::minimodules::catalog::v1::catalog_service_client::CatalogServiceClient;
use mm_proto::minimodules::identity::v1::auth_service_client::AuthServiceClient;
use mm_proto::minimodules::ordering::v1::order_service_client::OrderServiceClient;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use utoipa::OpenApi;

/// What every route needs.
pub struct BffState {
    /// Tenant service client.
    pub tenants: TenantServiceClient<Platform>,
    /// Identity (auth) service client.
    pub auth: AuthServiceClient<Platform>,
    /// Catalog service client.
    pub catalog: CatalogServiceClient<Platform>,
    /// Ordering service client.
    pub orders: OrderServiceClient<Platform>,
    /// Booking service client.
    pub bookings: BookingServiceClient<Platform>,
    /// Rendered boot answers.
    pub boot: routes::app::BootCache,
    /// Rendered menus.
    pub menus: routes::catalog::MenuCache,
}

impl BffState {
    /// Clients over `channel`; the boot cache follows `cache`'s invalidations.
    pub fn new(channel: Platform, cache: &Cache, boot_ttl: Duration) -> Self {
        Self {
            tenants: TenantServiceClient::new(channel.clone()),
            auth: AuthServiceClient::new(channel.clone()),
            catalog: CatalogServiceClient::new(channel.clone()),
            orders: OrderServiceClient::new(channel.clone()),
            bookings: BookingServiceClient::new(channel),
            boot: routes::app::BootCache::new(cache, boot_ttl),
            menus: routes::catalog::MenuCache::new(cache, boot_ttl),
        }
    }
}

/// Wraps a request message, forwarding the caller's token and request id as gRPC metadata so the
/// services verify the caller again and logs correlate.
pub fn forward<T>(headers: &HeaderMap, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    for name in [
        "authorization",
        "x-request-id",
        "traceparent",
        "x-forwarded-for",
    ] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok())
            && let Ok(v) = v.parse()
        {
            req.metadata_mut().insert(name, v);
        }
    }
    req
}

/// The OpenAPI document of every BFF route.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "MiniModules BFF",
        description = "JSON API for the WeChat mini-program"
    ),
    paths(
        routes::app::get_app_config,
        routes::auth::wechat_login,
        routes::auth::dev_login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::auth::bind_phone,
        routes::auth::get_me,
        routes::auth::update_me,
        routes::auth::update_me_post,
        routes::catalog::get_menu,
        routes::ordering::quote,
        routes::ordering::create_order,
        routes::ordering::list_orders,
        routes::ordering::get_order,
        routes::ordering::cancel_order,
        routes::ordering::pay_order,
        routes::ordering::refresh_payment,
        routes::ordering::wechat_pay_notify,
        routes::booking::list_services,
        routes::booking::list_staff,
        routes::booking::list_slots,
        routes::booking::hold,
        routes::booking::list_reservations,
        routes::booking::confirm,
        routes::booking::cancel,
        routes::booking::reschedule,
        routes::booking::pay_deposit,
        routes::booking::refresh_deposit,
        routes::booking::wechat_pay_notify,
    ),
    modifiers(&BearerAuth),
    components(schemas(
        routes::app::AppConfigDto,
        routes::app::ThemeDto,
        routes::app::ModuleDto,
        routes::app::PageDto,
        routes::app::TabDto,
        routes::app::I18nDto,
        routes::auth::TokensDto,
        routes::auth::MeDto,
        routes::auth::LoginDto,
        routes::auth::WechatLoginBody,
        routes::auth::DevLoginBody,
        routes::auth::RefreshBody,
        routes::auth::PhoneBody,
        routes::auth::UpdateMeBody,
        routes::catalog::MenuDto,
        routes::catalog::MenuSectionDto,
        routes::catalog::MenuProductDto,
        routes::catalog::SkuDto,
        routes::catalog::SpecDto,
        routes::ordering::ItemBody,
        routes::ordering::AddressDto,
        routes::ordering::FulfilmentDto,
        routes::ordering::QuoteBody,
        routes::ordering::CreateOrderBody,
        routes::ordering::PayBody,
        routes::ordering::LineDto,
        routes::ordering::AmountsDto,
        routes::ordering::QuoteDto,
        routes::ordering::OrderDto,
        routes::ordering::OrdersPageDto,
        routes::wechat_pay::WechatPayDto,
        routes::ordering::PayDto,
        routes::booking::ServiceDto,
        routes::booking::StaffDto,
        routes::booking::SlotDto,
        routes::booking::SlotsDto,
        routes::booking::ReservationDto,
        routes::booking::ReservationsPageDto,
        routes::booking::HoldBody,
        routes::booking::RescheduleBody,
        routes::booking::DepositPayDto,
        error::ErrorBody,
        error::ErrorDetailsDto,
        error::FieldErrorDto,
    ))
)]
pub struct ApiDoc;

/// Declares the bearer scheme the authenticated routes use.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Replaces any X-Forwarded-For a client sent with the address it connected from, so the services
/// throttle logins by an address the client cannot choose.
async fn client_address(
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Ok(v) = peer.ip().to_string().parse() {
        req.headers_mut().insert("x-forwarded-for", v);
    }
    next.run(req).await
}

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// Every BFF route.
pub fn router(state: Arc<BffState>) -> Router {
    Router::new()
        .merge(routes::app::router())
        .merge(routes::catalog::router())
        .merge(routes::auth::router())
        .merge(routes::ordering::router())
        .merge(routes::booking::router())
        .route("/api/openapi.json", axum::routing::get(openapi))
        .with_state(state)
        // Every route: `forward` passes X-Forwarded-For on, so it must never be the client's own.
        .layer(axum::middleware::from_fn(client_address))
}
