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
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use tonic::transport::Channel;
use utoipa::OpenApi;

/// What every route needs.
pub struct BffState {
    /// Tenant service client.
    pub tenants: TenantServiceClient<Channel>,
    /// Rendered boot answers.
    pub boot: routes::app::BootCache,
}

impl BffState {
    /// Clients over `channel`; the boot cache follows `cache`'s invalidations.
    pub fn new(channel: Channel, cache: &Cache, boot_ttl: Duration) -> Self {
        Self {
            tenants: TenantServiceClient::new(channel),
            boot: routes::app::BootCache::new(cache, boot_ttl),
        }
    }
}

/// Wraps a request message, forwarding the caller's token and request id as gRPC metadata so the
/// services verify the caller again and logs correlate.
pub fn forward<T>(headers: &HeaderMap, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    for name in ["authorization", "x-request-id", "traceparent"] {
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
    paths(routes::app::get_app_config),
    components(schemas(
        routes::app::AppConfigDto,
        routes::app::ThemeDto,
        routes::app::ModuleDto,
        routes::app::PageDto,
        routes::app::TabDto,
        routes::app::I18nDto,
        error::ErrorBody,
        error::ErrorDetailsDto,
        error::FieldErrorDto,
    ))
)]
pub struct ApiDoc;

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// Every BFF route.
pub fn router(state: Arc<BffState>) -> Router {
    Router::new()
        .merge(routes::app::router())
        .route("/api/openapi.json", axum::routing::get(openapi))
        .with_state(state)
}
