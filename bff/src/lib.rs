//! mm-bff: the backend for the WeChat mini-program. It shapes JSON for screens and calls the
//! module services through their generated gRPC clients — in the all-in-one process too — so it
//! behaves the same whether services run beside it or elsewhere.
//!
//! It must hold no business rules: validation, prices, permissions and tenancy are decided by the
//! services. Errors become HTTP in exactly one place, error.rs.

pub mod error;
pub mod extract;
pub mod routes;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use mm_kernel::access::ClientAddrPolicy;
use mm_kernel::cache::Cache;
use mm_kernel::module::{BffDef, BffHost};
use mm_kernel::platform::Platform;
use mm_proto::minimodules::identity::v1::auth_service_client::AuthServiceClient;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use utoipa::OpenApi;

/// What every route needs, a module's routes too (`mm_kernel::module::BffDef`: a module keeps its
/// own clients and caches beside this).
pub struct BffState {
    /// The platform channel, for a module's own clients.
    pub channel: Platform,
    /// Tenant service client.
    pub tenants: TenantServiceClient<Platform>,
    /// Identity (auth) service client.
    pub auth: AuthServiceClient<Platform>,
    /// Rendered boot answers.
    pub boot: routes::app::BootCache,
    /// Which proxies' X-Forwarded-For is believed when taking the client's address.
    pub client_addrs: ClientAddrPolicy,
    /// The cache whose announcements drop what is held (a module's rendered answers too).
    pub cache: Arc<Cache>,
    /// How long a rendered answer is held at most, should an announcement be lost.
    pub boot_ttl: Duration,
}

impl BffState {
    /// Clients over `channel`; the boot cache follows `cache`'s invalidations; client addresses
    /// are taken under `client_addrs`.
    pub fn new(
        channel: Platform,
        cache: &Arc<Cache>,
        boot_ttl: Duration,
        client_addrs: ClientAddrPolicy,
    ) -> Self {
        Self {
            tenants: TenantServiceClient::new(channel.clone()),
            auth: AuthServiceClient::new(channel.clone()),
            channel,
            boot: routes::app::boot_cache(cache, boot_ttl),
            client_addrs,
            cache: cache.clone(),
            boot_ttl,
        }
    }
}

/// A module's route state: the BFF's shared state and the module's own (its clients, caches),
/// which it derefs to.
pub struct ModuleState<T> {
    /// The BFF's shared state (`routes::app::tenant_of` reads it).
    pub bff: Arc<BffState>,
    /// The module's own.
    pub own: T,
}

impl<T> std::ops::Deref for ModuleState<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.own
    }
}

/// A module's routes: `router` with the module's own state, made by `own` from the BFF's.
pub fn module_routes<T: Send + Sync + 'static>(
    host: &BffHost,
    own: impl FnOnce(&BffState) -> T,
    router: Router<Arc<ModuleState<T>>>,
) -> anyhow::Result<Router> {
    let bff = shared(host)?;
    let own = own(&bff);
    Ok(router.with_state(Arc::new(ModuleState { bff, own })))
}

/// The BFF's state as a module's routes receive it ([`BffHost`]).
pub fn shared(host: &BffHost) -> anyhow::Result<Arc<BffState>> {
    host.0
        .clone()
        .downcast::<BffState>()
        .map_err(|_| anyhow::anyhow!("the BFF host does not hold the BFF's state"))
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

/// The OpenAPI document of the BFF's own routes (boot, login); [`openapi`] adds the modules'.
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
    ),
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
        routes::wechat_pay::WechatPayDto,
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

/// The OpenAPI document of every BFF route: its own and those of `modules`.
pub fn openapi(modules: &[BffDef]) -> utoipa::openapi::OpenApi {
    use utoipa::Modify as _;
    let mut doc = ApiDoc::openapi();
    for m in modules {
        doc.merge((m.openapi)());
    }
    // After the merge, so the modules' operations get the common answers too.
    BearerAuth.modify(&mut doc);
    CommonErrors.modify(&mut doc);
    doc
}

/// Every BFF route: its own and those of `modules`.
pub fn router(state: Arc<BffState>, modules: &[BffDef]) -> anyhow::Result<Router> {
    let policy = state.client_addrs.clone();
    let doc = axum::Json(openapi(modules));
    let host = BffHost(state.clone());
    let mut router = Router::new()
        .merge(routes::app::router())
        .merge(routes::auth::router())
        .with_state(state)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || std::future::ready(doc.clone())),
        );
    for m in modules {
        router = router.merge((m.routes)(&host)?);
    }
    Ok(router
        // Every answer in `{code, message, details}`, the framework's own 404 and 405 too.
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        // Every route: `forward` passes X-Forwarded-For on, so it must never be the client's own.
        .layer(axum::middleware::from_fn_with_state(policy, client_address)))
}
