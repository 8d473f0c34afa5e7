//! mm-server: assembles the platform. One process hosts the gRPC services of every module (or the
//! subset configured), with grpc-web, reflection and health on the same port, and the HTTP side:
//! the mini-program BFF, the admin dashboard's files, /metrics and /healthz. Tests start it exactly as main does, on port 0.
//!
//! It wires things together and must hold no business rules.

pub mod admin;
pub mod demo;
pub mod modules;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::routing::get;
use axum::serve::ListenerExt as _;
use http::{HeaderName, HeaderValue, Method};
use mm_kernel::access::AccessLayer;
use mm_kernel::auth::JwtKeys;
use mm_kernel::cache::Cache;
use mm_kernel::config::{Environment, Settings};
use mm_kernel::metrics::GrpcMetricsLayer;
use mm_kernel::module::{ModuleContext, ModuleDef};
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::{Endpoint, Server};
use tonic_health::ServingStatus;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// A running platform.
pub struct App {
    /// Where gRPC (and grpc-web) listens.
    pub grpc_addr: SocketAddr,
    /// Where HTTP (BFF, metrics) listens.
    pub http_addr: SocketAddr,
    /// The database pool.
    pub db: DatabaseConnection,
    /// The cache.
    pub cache: Arc<Cache>,
    /// Token keys, so tests and the CLI can mint tokens the server accepts.
    pub keys: Arc<JwtKeys>,
    /// The settings it runs with.
    pub settings: Settings,
    /// Module ids whose services run here.
    pub hosted: Vec<&'static str>,
    /// The local WeChat fake, when dev mode started one.
    pub wechat_fake: Option<mm_wechat_fake::FakeWechat>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
}

/// Runs migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    <mm_migrations::Migrator as mm_migrations::MigratorTrait>::up(db, None)
        .await
        .context("Failed to run migrations")
}

/// Token keys from settings; in dev without a configured secret, a secret kept in data/ so tokens
/// survive restarts. Production refuses to start without one (checked in Settings).
pub fn jwt_keys(settings: &Settings) -> anyhow::Result<JwtKeys> {
    let secret = match &settings.auth.jwt_secret {
        Some(s) => s.clone(),
        None if settings.environment == Environment::Dev => dev_secret()?,
        None => anyhow::bail!("MINIMODULES_AUTH__JWT_SECRET is required"),
    };
    let mut previous = Vec::new();
    if let Some(list) = &settings.auth.previous_jwt_secrets {
        for entry in list
            .expose_secret()
            .split(';')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (kid, secret) = entry.split_once('=').ok_or_else(|| {
                anyhow::anyhow!("MINIMODULES_AUTH__PREVIOUS_JWT_SECRETS entries are kid=secret")
            })?;
            if kid == settings.auth.jwt_kid {
                anyhow::bail!("a previous JWT key reuses the current kid {kid:?}");
            }
            previous.push((kid.to_string(), SecretString::from(secret.to_string())));
        }
    }
    Ok(JwtKeys::new(
        &settings.auth.jwt_kid,
        &secret,
        &previous,
        &settings.auth.issuer,
        &settings.auth.audience,
        settings.auth.access_ttl_secs,
    ))
}

fn dev_secret() -> anyhow::Result<SecretString> {
    let path = std::path::Path::new("data/dev-jwt-secret");
    if let Ok(s) = std::fs::read_to_string(path)
        && s.trim().len() >= 32
    {
        return Ok(SecretString::from(s.trim().to_string()));
    }
    std::fs::create_dir_all("data")?;
    let s = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    std::fs::write(path, &s).context("Failed to write data/dev-jwt-secret")?;
    tracing::warn!(
        "no MINIMODULES_AUTH__JWT_SECRET: using a generated development secret in data/dev-jwt-secret"
    );
    Ok(SecretString::from(s))
}

/// Connects the cache the settings ask for.
pub async fn connect_cache(settings: &Settings) -> anyhow::Result<Arc<Cache>> {
    let ttl = Duration::from_secs(settings.cache.ttl_secs);
    match &settings.cache.redis_url {
        Some(url) => Cache::redis(url, &settings.cache).await,
        None => Ok(Cache::in_memory(&settings.cache.namespace, ttl)),
    }
}

/// The key that encrypts secrets at rest: from MINIMODULES_SECRETS__KEY (base64 of 32 bytes) or,
/// in dev, a generated one kept in data/.
pub fn secret_key(settings: &Settings) -> anyhow::Result<[u8; 32]> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let encoded = match &settings.secrets.key {
        Some(k) => k.expose_secret().to_string(),
        None if settings.environment == Environment::Dev => {
            let path = std::path::Path::new("data/dev-secrets-key");
            match std::fs::read_to_string(path) {
                Ok(s) => s.trim().to_string(),
                Err(_) => {
                    std::fs::create_dir_all("data")?;
                    let mut key = [0u8; 32];
                    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                    let s = b64.encode(key);
                    std::fs::write(path, &s).context("Failed to write data/dev-secrets-key")?;
                    s
                }
            }
        }
        None => anyhow::bail!("MINIMODULES_SECRETS__KEY is required"),
    };
    let bytes = b64
        .decode(encoded.trim())
        .context("MINIMODULES_SECRETS__KEY is not base64")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("MINIMODULES_SECRETS__KEY must be 32 bytes"))
}

/// Where the outside world is, for modules that talk to it.
#[derive(Debug, Clone)]
pub struct ExternalUrls {
    /// WeChat's APIs (or the local fake).
    pub wechat: String,
    /// WeChat Pay's APIs (or the local fake).
    pub wechat_pay: String,
    /// This installation's public HTTP base URL.
    pub public: String,
}

impl ExternalUrls {
    /// For tools that make no outside calls: well-formed, never reached.
    pub fn unused() -> Self {
        let u = "http://127.0.0.1:9".to_string();
        Self {
            wechat: u.clone(),
            wechat_pay: u.clone(),
            public: u,
        }
    }
}

/// The module context every module's services are built from.
pub fn module_context(
    settings: &Settings,
    db: DatabaseConnection,
    cache: Arc<Cache>,
    keys: Arc<JwtKeys>,
    urls: ExternalUrls,
    platform: tonic::transport::Channel,
) -> anyhow::Result<ModuleContext> {
    let all = modules::all();
    Ok(ModuleContext {
        db,
        cache,
        specs: Arc::new(all.iter().map(|m| m.spec).collect()),
        templates: Arc::new(
            all.iter()
                .flat_map(|m| m.templates.iter().copied())
                .collect(),
        ),
        max_message_bytes: settings.server.max_message_bytes,
        settings: Arc::new(settings.clone()),
        keys,
        secret_key: Arc::new(secret_key(settings)?),
        wechat_base_url: urls.wechat,
        wechat_pay_base_url: urls.wechat_pay,
        public_base_url: urls.public,
        platform,
    })
}

/// WeChat's base URL from settings or, in dev without one, a local fake started here.
pub async fn wechat(
    settings: &Settings,
) -> anyhow::Result<(String, Option<mm_wechat_fake::FakeWechat>)> {
    match &settings.wechat.base_url {
        Some(u) => Ok((u.clone(), None)),
        None if settings.environment == Environment::Dev => {
            let fake = mm_wechat_fake::FakeWechat::start(([127, 0, 0, 1], 0).into()).await?;
            tracing::info!(url = %fake.base_url, "dev mode: WeChat's APIs are served by a local fake");
            Ok((fake.base_url.clone(), Some(fake)))
        }
        None => anyhow::bail!("wechat.base_url is required outside dev mode"),
    }
}

fn selected(settings: &Settings) -> anyhow::Result<Vec<ModuleDef>> {
    let all = modules::all();
    for wanted in &settings.server.modules {
        if !all.iter().any(|m| m.id == wanted) {
            anyhow::bail!("server.modules names unknown module {wanted:?}");
        }
    }
    Ok(all
        .into_iter()
        .filter(|m| {
            settings.server.modules.is_empty() || settings.server.modules.iter().any(|w| w == m.id)
        })
        .collect())
}

fn cors(settings: &Settings, http_port: u16) -> anyhow::Result<CorsLayer> {
    let origins = settings
        .server
        .admin_origins
        .iter()
        .map(|o| HeaderValue::from_str(o).with_context(|| format!("bad admin origin {o:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let h = |s: &'static str| HeaderName::from_static(s);
    Ok(CorsLayer::new()
        // The configured origins, and our own dashboard on the HTTP port (see admin::is_own_origin).
        .allow_origin(AllowOrigin::predicate(move |origin, parts| {
            origins.contains(origin) || admin::is_own_origin(origin, parts, http_port)
        }))
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers([
            h("content-type"),
            h("authorization"),
            h("x-grpc-web"),
            h("x-user-agent"),
            h("grpc-timeout"),
            h("x-request-id"),
            h("connect-protocol-version"),
        ])
        .expose_headers([
            h("grpc-status"),
            h("grpc-message"),
            h("grpc-status-details-bin"),
            h("x-request-id"),
        ])
        .max_age(Duration::from_secs(3600)))
}

impl App {
    /// Connects storage, runs migrations, binds both ports and starts serving.
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        let db = mm_kernel::db::connect(&settings.database).await?;
        if settings.database.migrate_on_start {
            migrate(&db).await?;
        }
        let cache = connect_cache(&settings).await?;
        // While Redis is unavailable, session revocation is checked in identity's own table.
        cache.set_session_ledger(
            mm_identity::session_ledger(db.clone()),
            Duration::from_secs(settings.auth.access_ttl_secs + 60),
        );
        let keys = Arc::new(jwt_keys(&settings)?);
        let (wechat_url, wechat_fake) = wechat(&settings).await?;
        // The fake serves WeChat Pay's API beside WeChat's, as one local stand-in.
        let wechat_pay_url = match (&settings.wechat.pay_base_url, &wechat_fake) {
            (Some(u), _) => u.clone(),
            (None, Some(f)) => f.base_url.clone(),
            (None, None) => "https://api.mch.weixin.qq.com".to_string(),
        };
        // Bound before the modules start, so they know the address notifications come back to, and
        // before the gRPC stack is built: grpc-web CORS lets our own dashboard on this port in.
        let http_listener = TcpListener::bind(settings.server.http_addr)
            .await
            .with_context(|| format!("Failed to bind HTTP on {}", settings.server.http_addr))?;
        let http_addr = http_listener.local_addr()?;
        let public_url = settings.server.public_url.clone().unwrap_or_else(|| {
            let host = if http_addr.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                http_addr.ip().to_string()
            };
            format!("http://{host}:{}", http_addr.port())
        });
        let grpc_listener = TcpListener::bind(settings.server.grpc_addr)
            .await
            .with_context(|| format!("Failed to bind gRPC on {}", settings.server.grpc_addr))?;
        let grpc_addr = grpc_listener.local_addr()?;
        let upstream = settings
            .bff
            .upstream
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", grpc_addr.port()));
        // One lazily connected channel for the BFF and for modules calling each other's contracts.
        let platform = Endpoint::from_shared(upstream.clone())
            .with_context(|| format!("bad bff.upstream {upstream:?}"))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .connect_lazy();
        let ctx = module_context(
            &settings,
            db.clone(),
            cache.clone(),
            keys.clone(),
            ExternalUrls {
                wechat: wechat_url,
                wechat_pay: wechat_pay_url,
                public: public_url,
            },
            platform.clone(),
        )?;
        let metrics = mm_kernel::metrics::install();

        // gRPC side.
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        let mut routes = tonic::service::RoutesBuilder::default();
        let mut hosted = Vec::new();
        let mut service_names = Vec::new();
        for m in selected(&settings)? {
            if let Some(mount) = m.mount {
                service_names.extend(
                    mount(&ctx, &mut routes)
                        .with_context(|| format!("Failed to start module {}", m.id))?,
                );
                hosted.push(m.id);
            }
        }
        for name in &service_names {
            health_reporter
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(mm_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(mm_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        routes
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let (shutdown, _) = watch::channel(false);

        let grpc_stack = tower::ServiceBuilder::new()
            // A request id on every call, echoed back, so logs of one call can be found.
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(PropagateRequestIdLayer::x_request_id())
            // One span per call with method, request id and (filled by the access layer) tenant.
            .layer(TraceLayer::new_for_grpc().make_span_with(|req: &http::Request<_>| {
                let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("grpc", method = %req.uri().path(), request_id, tenant = tracing::field::Empty, subject = tracing::field::Empty)
            }))
            // Calls, errors and latency by method.
            .layer(GrpcMetricsLayer)
            // Browsers on the admin origin may call grpc-web.
            .layer(cors(&settings, http_addr.port())?)
            // grpc-web (HTTP/1.1 from browsers) becomes plain gRPC from here on.
            .layer(tonic_web::GrpcWebLayer::new())
            // Who may call what: tokens verified, declared roles enforced, context stored.
            .layer(AccessLayer::new(keys.clone(), cache.clone()));

        let mut rx = shutdown.subscribe();
        let grpc_server = Server::builder()
            .accept_http1(true)
            .layer(grpc_stack)
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(
                // Without TCP_NODELAY, small unary replies wait ~40 ms on delayed ACKs.
                tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true)),
                async move {
                    let _ = rx.changed().await;
                },
            );
        let health_for_stop = health_reporter.clone();
        let names_for_stop = service_names.clone();
        let mut tasks = vec![tokio::spawn(async move {
            grpc_server.await.context("gRPC server failed")
        })];

        // HTTP side.
        let mut router = axum::Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route(
                "/metrics",
                get(move || std::future::ready(metrics.render())),
            );
        if settings.bff.enabled {
            if settings.bff.upstream.is_none() && !hosted.contains(&"tenant") {
                tracing::warn!(
                    "the BFF calls this process but the tenant module is not hosted here; set bff.upstream"
                );
            }
            let channel = platform.clone();
            let state = Arc::new(mm_bff::BffState::new(
                channel,
                &cache,
                Duration::from_secs(settings.bff.boot_cache_ttl_secs),
            ));
            router = router.merge(mm_bff::router(state));
        }
        if settings.admin.enabled {
            router = router.merge(admin::router(&settings, grpc_addr));
        }
        let router = router
            .layer(axum::middleware::from_fn(http_metrics))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &http::Request<_>| {
                let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id, tenant = tracing::field::Empty)
            }))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
        let mut rx = shutdown.subscribe();
        tasks.push(tokio::spawn(async move {
            axum::serve(
                http_listener.tap_io(|tcp| {
                    // Small JSON replies must not wait on delayed ACKs.
                    let _ = tcp.set_nodelay(true);
                }),
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = rx.changed().await;
                for name in names_for_stop {
                    health_for_stop
                        .set_service_status(name, ServingStatus::NotServing)
                        .await;
                }
            })
            .await
            .context("HTTP server failed")
        }));

        if settings.environment == Environment::Dev && settings.demo.seed {
            demo::seed(&ctx, wechat_fake.as_ref()).await?;
        }
        tracing::info!(%grpc_addr, %http_addr, cache = cache.backend_name(), modules = ?hosted, "minimodules is serving");
        Ok(Self {
            settings,
            wechat_fake,
            grpc_addr,
            http_addr,
            db,
            cache,
            keys,
            hosted,
            shutdown,
            tasks,
        })
    }

    /// Stops accepting, lets in-flight calls finish (up to `grace`), and returns.
    pub async fn stop(self, grace: Duration) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let all = futures::future::join_all(self.tasks);
        match tokio::time::timeout(grace, all).await {
            Ok(results) => {
                for r in results {
                    r.context("server task panicked")??;
                }
            }
            Err(_) => tracing::warn!("shutdown grace period ran out"),
        }
        self.db.close().await.ok();
        Ok(())
    }

    /// Makes the servers stop when `signal` completes; used by main.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
        grace: Duration,
    ) -> anyhow::Result<()> {
        signal.await;
        tracing::info!("shutting down");
        self.stop(grace).await
    }
}

async fn http_metrics(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let start = std::time::Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("mm_http_requests_total", "path" => path.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("mm_http_request_duration_seconds", "path" => path)
        .record(start.elapsed().as_secs_f64());
    res
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that arrives during start-up is not lost.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        let term = async move {
            match term {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            r = ctrl_c => {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cannot listen for Ctrl-C");
                    std::future::pending::<()>().await;
                }
            }
            () = term => {}
        }
    }
}
