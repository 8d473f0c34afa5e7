//! Serves the admin dashboard (web-admin's built files) on the HTTP port under `/admin/`, with
//! every unknown path falling back to `index.html` so the dashboard's own router handles it, and
//! `/admin/config.json` telling the dashboard where grpc-web is. The dashboard is static files
//! only: it holds no secrets and every call it makes is checked by the services.

use axum::Router;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use http::StatusCode;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use mm_kernel::config::{Environment, Settings};
use serde::Serialize;
use tower_http::services::{ServeDir, ServeFile};

/// What the dashboard reads before its first call.
#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct AdminConfig {
    /// grpc-web base URL; none means the dashboard's own origin (the HTTP port answers
    /// grpc-web for the services this process hosts).
    grpc_web_url: Option<String>,
    /// "dev" or "production".
    environment: &'static str,
    /// Dev only: the seeded demo shop, so the login form can be filled in for a newcomer.
    demo: Option<DemoLogin>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct DemoLogin {
    appid: &'static str,
    login_name: &'static str,
    password: &'static str,
}

/// The dashboard's routes; `/` redirects to `/admin/`.
pub fn router(settings: &Settings) -> Router {
    let dev = settings.environment == Environment::Dev;
    let config = AdminConfig {
        grpc_web_url: settings.admin.grpc_web_url.clone(),
        environment: if dev { "dev" } else { "production" },
        demo: (dev && settings.demo.seed).then_some(DemoLogin {
            appid: crate::demo::DEMO_APPID,
            login_name: crate::demo::DEMO_ADMIN_LOGIN,
            password: crate::demo::DEMO_ADMIN_PASSWORD,
        }),
    };
    let dir = settings.admin.dir.clone();
    let index = dir.join("index.html");
    let router = Router::new()
        .route("/", get(|| async { Redirect::temporary("/admin/") }))
        .route(
            "/admin/config.json",
            get(move || std::future::ready(axum::Json(config.clone()))),
        );
    if !index.is_file() {
        tracing::warn!(dir = %dir.display(), "admin dashboard not built: run `npm ci && npm run build` in web-admin");
        return router
            .route("/admin", get(not_built))
            .route("/admin/{*rest}", get(not_built));
    }
    // Unknown paths get index.html: they are the dashboard's own routes.
    let spa = ServeDir::new(&dir).fallback(ServeFile::new(&index));
    router.nest_service(
        "/admin",
        tower::ServiceBuilder::new()
            .layer(tower::util::MapResponseLayer::new(cache_control))
            .service(spa),
    )
}

/// index.html is revalidated on every load so a new build is picked up at once; the other files
/// (content-hashed assets) may be kept a while.
fn cache_control<B>(mut res: http::Response<B>) -> http::Response<B> {
    let html = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let value = if html {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(value));
    res
}

async fn not_built() -> impl IntoResponse {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The admin dashboard is not built. Run `npm ci && npm run build` in web-admin/ (scripts/run.sh does).\n",
    )
}

/// Whether a browser origin is this platform's own dashboard: the host the browser used to reach
/// the gRPC port, on our HTTP port. That page is ours, so grpc-web from it needs no configured
/// origin (a newcomer may open 127.0.0.1 or a LAN address instead of localhost).
pub fn is_own_origin(origin: &HeaderValue, parts: &http::request::Parts, http_port: u16) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let Some(host) = host else { return false };
    let Ok(authority) = host.parse::<http::uri::Authority>() else {
        return false;
    };
    let Ok(origin) = origin.parse::<http::Uri>() else {
        return false;
    };
    let default_port = match origin.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return false,
    };
    origin.host() == Some(authority.host())
        && origin.port_u16().unwrap_or(default_port) == http_port
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(host: &str) -> http::request::Parts {
        let (parts, ()) = http::Request::builder()
            .uri("/minimodules.tenant.v1.TenantService/ListTenants")
            .header("host", host)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    #[test]
    fn the_dashboard_on_the_same_host_and_our_http_port_is_our_own_origin() {
        let p = parts("127.0.0.1:50051");
        let own = HeaderValue::from_static("http://127.0.0.1:8080");
        assert!(is_own_origin(&own, &p, 8080));
    }

    #[test]
    fn another_port_or_host_is_not_our_own_origin() {
        let p = parts("127.0.0.1:50051");
        for other in [
            "http://127.0.0.1:9999",
            "http://evil.example:8080",
            "http://localhost:8080",
        ] {
            assert!(
                !is_own_origin(&HeaderValue::from_static(other), &p, 8080),
                "{other}"
            );
        }
    }
}
