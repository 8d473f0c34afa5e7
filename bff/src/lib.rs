//! mm-bff: the backend for the WeChat mini-program. It shapes JSON for screens and calls the
//! module services through their generated gRPC clients — in the all-in-one process too — so it
//! behaves the same whether services run beside it or elsewhere.
//!
//! It must hold no business rules: validation, prices, permissions and tenancy are decided by the
//! services. Errors become HTTP in exactly one place, error.rs.

pub mod error;
pub mod extract;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use mm_kernel::access::ClientAddrPolicy;
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
    /// Which proxies' X-Forwarded-For is believed when taking the client's address.
    pub client_addrs: ClientAddrPolicy,
    /// Rendered menus.
    pub menus: routes::catalog::MenuCache,
}

impl BffState {
    /// Clients over `channel`; the boot cache follows `cache`'s invalidations; client addresses
    /// are taken under `client_addrs`.
    pub fn new(
        channel: Platform,
        cache: &Cache,
        boot_ttl: Duration,
        client_addrs: ClientAddrPolicy,
    ) -> Self {
        Self {
            tenants: TenantServiceClient::new(channel.clone()),
            auth: AuthServiceClient::new(channel.clone()),
            catalog: CatalogServiceClient::new(channel.clone()),
            orders: OrderServiceClient::new(channel.clone()),
            bookings: BookingServiceClient::new(channel),
            boot: routes::app::boot_cache(cache, boot_ttl),
            client_addrs,
            menus: routes::catalog::menu_cache(cache, boot_ttl),
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
    modifiers(&BearerAuth, &CommonErrors),
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
        error::WechatPayFailureBody,
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

/// Documents on every operation the errors any request may meet before or beside its own rules:
/// 400 when the framework cannot parse its query, path or body; 413 and 415 for a body too large
/// or not JSON; 401 (a token sent is checked even where none is needed); 403 where a token is
/// needed; 500; 503 (an outage, or the server
/// draining). Each route's annotation lists the answers of its own service; this adds the rest,
/// so the document names every status an operation can answer (the fuzz in scripts/test.sh
/// holds it to that). Routes that answer in another shape (WeChat Pay's notifications) list
/// their own and are left alone.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, ResponseBuilder, content::ContentBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let own_shape = op.responses.responses.values().any(|r| match r {
                    RefOr::T(r) => r.content.values().any(|c| {
                        matches!(&c.schema, Some(RefOr::Ref(s)) if s.ref_location.ends_with("/WechatPayFailureBody"))
                    }),
                    RefOr::Ref(_) => false,
                });
                if own_shape {
                    continue;
                }
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description));
                };
                let has_input = op.request_body.is_some()
                    || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                if has_input {
                    add(
                        "400",
                        "The request could not be parsed, or a service refused it",
                    );
                }
                if op.request_body.is_some() {
                    add("413", "The body is too large");
                    add("415", "The body is not `application/json`");
                }
                // A token that is sent is checked even where none is needed.
                add("401", "No valid token, or the session ended");
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add("403", "The token does not allow this");
                }
                add("500", "Internal error");
                add(
                    "503",
                    "A service is unavailable or the server is stopping; see Retry-After",
                );
            }
        }
    }
}

/// Replaces any X-Forwarded-For a client sent with the client's address as this side sees it
/// (the peer, or the right-most hop not a trusted proxy: `server.trusted_proxies`), so the
/// services, which believe this one hop from our own channel, throttle and audit logins by an
/// address the client cannot choose.
async fn client_address(
    axum::extract::State(policy): axum::extract::State<ClientAddrPolicy>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let forwarded = (!forwarded.is_empty()).then_some(forwarded.as_str());
    let client = policy
        .resolve(Some(peer.ip()), forwarded, false)
        .unwrap_or(peer.ip());
    match client.to_string().parse() {
        Ok(v) => {
            req.headers_mut().insert("x-forwarded-for", v);
        }
        Err(_) => {
            req.headers_mut().remove("x-forwarded-for");
        }
    }
    next.run(req).await
}

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// Every BFF route.
pub fn router(state: Arc<BffState>) -> Router {
    let policy = state.client_addrs.clone();
    Router::new()
        .merge(routes::app::router())
        .merge(routes::catalog::router())
        .merge(routes::auth::router())
        .merge(routes::ordering::router())
        .merge(routes::booking::router())
        .route("/api/openapi.json", axum::routing::get(openapi))
        // Every answer in `{code, message, details}`, the framework's own 404 and 405 too.
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        .with_state(state)
        // Every route: `forward` passes X-Forwarded-For on, so it must never be the client's own.
        .layer(axum::middleware::from_fn_with_state(policy, client_address))
}
