//! mm-server: assembles the platform. One process hosts the gRPC services of every module (or the
//! subset configured), with grpc-web, reflection and health on the same port, and the HTTP side:
//! the mini-program BFF, the admin dashboard's files, /metrics, /healthz (liveness) and /readyz
//! (readiness). Tests start it exactly as main does, on port 0. It migrates and seeds before it
//! serves, and stops gracefully (see `shutdown`).
//!
//! It wires things together and must hold no business rules.

pub mod admin;
pub mod demo;
pub mod modules;
pub mod shutdown;
pub mod start_lock;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::routing::get;
use axum::serve::ListenerExt as _;
use http::{HeaderName, HeaderValue, Method};
use mm_kernel::access::{AccessLayer, ClientAddrPolicy};
use mm_kernel::auth::JwtKeys;
use mm_kernel::cache::Cache;
use mm_kernel::config::{Environment, Settings};
use mm_kernel::gate::Gate;
use mm_kernel::metrics::GrpcMetricsLayer;
use mm_kernel::module::{Jobs, ModuleContext, ModuleDef};
use mm_migrations::MigratorTraitSelf as _;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::ServiceExt as _;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// A running platform.
pub struct App {
    /// Where gRPC (and grpc-web) listens.
    pub grpc_addr: SocketAddr,
    /// Where HTTP (BFF, and metrics unless they have a listener of their own) listens.
    pub http_addr: SocketAddr,
    /// The metrics listener, when `metrics.addr` asks for one.
    pub metrics_addr: Option<SocketAddr>,
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
    drain: shutdown::Drain,
    jobs: Jobs,
    health: HealthReporter,
    /// Every gRPC service name health reports on ("" is the whole server).
    health_names: Vec<&'static str>,
    http_stop: CancellationToken,
    grpc_stop: CancellationToken,
    http_task: JoinHandle<anyhow::Result<()>>,
    grpc_task: JoinHandle<anyhow::Result<()>>,
    /// Dropping the app without `stop` (tests do) stops both servers and the jobs at once.
    _stop_on_drop: DropGuard,
}

/// Whether migrations this binary needs are not applied to `db` yet.
pub async fn schema_behind(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(!migrator().get_pending_migrations(db).await?.is_empty())
}

/// The kernel's migrations and every registered module's.
pub fn migrator() -> mm_migrations::Migrator {
    mm_migrations::Migrator::new(modules::all().iter().map(|m| m.migrations))
}

/// Watches the database and Redis for readiness (see `shutdown::Dependencies`): `/readyz` reads
/// what it records, and gRPC health is flipped when readiness changes. Ends with shutdown, which
/// owns health from then on.
async fn probe_dependencies(
    db: DatabaseConnection,
    cache: Arc<Cache>,
    drain: shutdown::Drain,
    health: tonic_health::server::HealthReporter,
    names: Vec<&'static str>,
    every: Duration,
) {
    // The schema is asked about until it is current; a check that cannot reach the database
    // says "database unavailable", never "schema behind".
    let mut schema_current = false;
    let mut look = async move || {
        let mut database_down = !matches!(
            tokio::time::timeout(Duration::from_secs(1), db.ping()).await,
            Ok(Ok(()))
        );
        if !database_down && !schema_current {
            match tokio::time::timeout(Duration::from_secs(5), schema_behind(&db)).await {
                Ok(Ok(behind)) => schema_current = !behind,
                _ => database_down = true,
            }
        }
        shutdown::Dependencies {
            database_down,
            schema_behind: !database_down && !schema_current,
            redis_down: cache.backend_name() == "redis" && !cache.redis_available(),
        }
    };
    // Once before serving, so the first probe answered is already the truth.
    let first = look().await;
    drain.set_dependencies(first);
    if !first.ready() {
        tracing::warn!(?first, "not ready: reporting NOT_SERVING");
        for name in &names {
            health
                .set_service_status(*name, ServingStatus::NotServing)
                .await;
        }
    }
    tokio::spawn(async move {
        let mut was_ready = first.ready();
        loop {
            tokio::time::sleep(every).await;
            let seen = look().await;
            if drain.is_unready() {
                return;
            }
            drain.set_dependencies(seen);
            if seen.ready() != was_ready {
                was_ready = seen.ready();
                let status = if was_ready {
                    tracing::info!("dependencies back: ready");
                    ServingStatus::Serving
                } else {
                    tracing::warn!(?seen, "not ready: reporting NOT_SERVING");
                    ServingStatus::NotServing
                };
                for name in &names {
                    health.set_service_status(*name, status).await;
                }
            }
        }
    });
}

/// Runs migrations, then puts every tenant-owned table they created behind PostgreSQL's
/// row-level security (see `mm_migrations::rls`).
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    migrator()
        .up(db, None)
        .await
        .context("Failed to run migrations")?;
    let secured = mm_migrations::rls::secure_tenant_tables(db)
        .await
        .context("Failed to put the tenant tables behind row-level security")?;
    if !secured.is_empty() {
        tracing::info!(tables = ?secured, "tenant tables put behind row-level security");
    }
    Ok(())
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
    if let Ok(s) = read_private(path)
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
    write_private(path, &s).context("Failed to write data/dev-jwt-secret")?;
    tracing::warn!(
        "no MINIMODULES_AUTH__JWT_SECRET: using a generated development secret in data/dev-jwt-secret"
    );
    Ok(SecretString::from(s))
}

/// Writes a secret file readable by its owner only (0600). The mode is given at creation, so the
/// secret is never on disk with wider rights, not even between a write and a chmod.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // An existing file keeps its mode through open(): narrow it too.
    restrict_to_owner(path)?;
    file.write_all(contents.as_bytes())
}

/// Reads a secret file, first narrowing its mode to 0600 when an earlier version of this program
/// left it readable by others.
fn read_private(path: &std::path::Path) -> std::io::Result<String> {
    let s = std::fs::read_to_string(path)?;
    restrict_to_owner(path)?;
    Ok(s)
}

#[cfg(unix)]
fn restrict_to_owner(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "secret file was readable by others; made it 0600");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_to_owner(_: &std::path::Path) -> std::io::Result<()> {
    Ok(())
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
            match read_private(path) {
                Ok(s) => s.trim().to_string(),
                Err(_) => {
                    std::fs::create_dir_all("data")?;
                    let mut key = [0u8; 32];
                    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
                    let s = b64.encode(key);
                    write_private(path, &s).context("Failed to write data/dev-secrets-key")?;
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
    platform: mm_kernel::platform::Platform,
) -> anyhow::Result<ModuleContext> {
    let all = modules::all();
    // Archived tenants are read from the tenant module's table, as sessions are from identity's.
    let gate = Gate::new(cache.clone(), Some(mm_tenant::tenant_ledger(db.clone())));
    Ok(ModuleContext {
        db,
        gate,
        cache,
        specs: Arc::new(all.iter().map(|m| m.spec).collect()),
        config_rules: Arc::new(
            all.iter()
                .filter_map(|m| m.config_rules.map(|r| (m.id, r)))
                .collect(),
        ),
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
        clock: mm_kernel::clock::Clock::system(),
        // Fresh per context: whoever runs the context stops its jobs (App::stop does).
        jobs: Jobs::led_by(mm_kernel::leader::Leader::for_database(
            &settings.database.url,
        )),
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
    let ids: Vec<&str> = all.iter().map(|m| m.id).collect();
    let hosted = settings.server.hosted(&ids)?;
    Ok(all.into_iter().filter(|m| hosted.contains(&m.id)).collect())
}

/// The platform channel: modules hosted here in process (once the stack is installed), every
/// other module at its `upstreams` address. A module neither hosted nor addressed is refused at
/// start, naming the setting, rather than failing every call later.
fn platform(
    settings: &Settings,
    hosted: &[&str],
    own_grpc: SocketAddr,
    user_agent: &str,
) -> anyhow::Result<mm_kernel::platform::Platform> {
    let up = &settings.upstreams;
    if settings.bff.upstream.is_some() && up.default.is_none() {
        tracing::warn!("bff.upstream is deprecated: set upstreams.default (or upstreams.<module>)");
    }
    for id in up.modules.keys() {
        if !modules::all().iter().any(|m| m.id == id) {
            anyhow::bail!("upstreams.{id}: no such module");
        }
    }
    let default = up.default.clone().or_else(|| settings.bff.upstream.clone());
    let refresh = Duration::from_millis(settings.calls.resolve_interval_ms.max(100));
    let mut routes = std::collections::HashMap::new();
    for m in modules::all() {
        if hosted.contains(&m.id) {
            continue;
        }
        let Some(url) = up.modules.get(m.id).or(default.as_ref()) else {
            anyhow::bail!(
                "module {id} is not hosted here (server.modules) and has no address: set upstreams.{id} or upstreams.default",
                id = m.id
            );
        };
        let channel = mm_kernel::platform::channel(url, user_agent, refresh)
            .with_context(|| format!("upstreams.{}", m.id))?;
        routes.insert(m.id.to_string(), channel);
    }
    // Until the local stack is installed, the hosted modules are reached on our own port.
    let own = mm_kernel::platform::channel(
        &format!("http://127.0.0.1:{}", own_grpc.port()),
        user_agent,
        refresh,
    )?;
    Ok(mm_kernel::platform::Platform::routed(
        routes,
        Some(own),
        mm_kernel::platform::CallPolicy {
            timeout: Duration::from_millis(settings.calls.timeout_ms),
            attempts: settings.calls.attempts.max(1),
            backoff: Duration::from_millis(settings.calls.backoff_ms),
        },
    ))
}

fn cors(settings: &Settings, http_port: u16) -> anyhow::Result<CorsLayer> {
    let origins = settings
        .server
        .admin_origins(settings.environment)
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
    /// Connects storage, migrates and (in dev) seeds under the start-up lock, binds both ports and
    /// starts serving. Nothing is answered before the seed is in place: the listeners are bound
    /// early (modules need the HTTP address) but served only after seeding, so an early client
    /// waits in the accept queue instead of finding a half-seeded database.
    pub async fn start(settings: Settings) -> anyhow::Result<Self> {
        Self::start_with_clock(settings, mm_kernel::clock::Clock::system()).await
    }

    /// As [`App::start`], with deadlines and the jobs that act on them read from `clock` (a
    /// manual one in tests, moved on with [`mm_kernel::clock::Clock::advance`] before
    /// [`App::run_job_now`]).
    pub async fn start_with_clock(
        settings: Settings,
        clock: mm_kernel::clock::Clock,
    ) -> anyhow::Result<Self> {
        mm_kernel::fault::arm(&settings.jobs.crash_at);
        let db = mm_kernel::db::connect(&settings.database).await?;
        let lock = start_lock::StartLock::acquire(&settings.database.url).await?;
        if settings.database.migrate_on_start {
            migrate(&db).await?;
        }
        if mm_migrations::rls::bypasses_rls(&db).await? {
            tracing::warn!(
                "the database role is a superuser or BYPASSRLS: row-level security does not apply \
                 to it, and the tenant filter in the code is the only wall between tenants; \
                 connect as an ordinary role (see README, \"PostgreSQL\")"
            );
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
        let drain = shutdown::Drain::new();
        let selection = selected(&settings)?;
        let hosting: Vec<&str> = selection.iter().map(|m| m.id).collect();
        // The BFF's and the modules' calls to module contracts. Its user agent lets its calls
        // through the gRPC gate while this process drains.
        let platform = platform(&settings, &hosting, grpc_addr, drain.user_agent())?;
        let stop_all = CancellationToken::new();
        let mut ctx = module_context(
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
        ctx.clock = clock;
        let jobs = ctx.jobs.clone();
        let metrics = mm_kernel::metrics::install();
        tokio::spawn(mm_kernel::metrics::upkeep(
            metrics.clone(),
            Duration::from_secs(5),
            stop_all.child_token(),
        ));

        // gRPC side.
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        let mut routes = tonic::service::RoutesBuilder::default();
        let mut hosted = Vec::new();
        // "" is the server as a whole, which is what most probes ask about.
        let mut health_names = vec![""];
        for m in selection {
            if let Some(mount) = m.mount {
                health_names.extend(
                    mount(&ctx, &mut routes)
                        .with_context(|| format!("Failed to start module {}", m.id))?,
                );
                hosted.push(m.id);
            }
        }
        for name in &health_names {
            health_reporter
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        probe_dependencies(
            db.clone(),
            cache.clone(),
            drain.clone(),
            health_reporter.clone(),
            health_names.clone(),
            Duration::from_millis(settings.server.probe_interval_ms.max(100)),
        )
        .await;
        routes.add_service(health_service);
        // Reflection describes every RPC, the service-only ones too: a map for tools in dev, and
        // for a stranger in production, where it is off unless asked for.
        if settings.server.reflection(settings.environment) {
            let reflection_v1 = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(mm_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .build_v1()?;
            let reflection_v1alpha = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(mm_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .build_v1alpha()?;
            routes
                .add_service(reflection_v1)
                .add_service(reflection_v1alpha);
        }

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
            // While draining: outside calls refused, streams ended. Inside grpc-web, so a browser
            // reads the ending as grpc-web trailers.
            .layer(shutdown::GrpcDrainLayer::new(drain.clone()))
            // Who may call what: tokens verified, declared roles enforced, context stored.
            .layer(AccessLayer::new(
                keys.clone(),
                ctx.gate.clone(),
                // Our own BFF's calls carry the client address it resolved.
                ClientAddrPolicy::new(
                    &settings.server.trusted_proxies,
                    Some(drain.user_agent().to_string()),
                )?,
            ))
            // A request body cut short or without a message is the caller's fault: INVALID_ARGUMENT
            // (a message that does not decode is answered by the servers' codec, mm_proto::codec).
            .layer(mm_kernel::framing::GrpcFramingLayer);

        let routes = routes.routes();
        // The same stack over the same router serves this process's own calls to the modules it
        // hosts (the BFF's and module-to-module), without a loopback connection: same access
        // checks, drain gate, metrics and span as a call from outside.
        let local = grpc_stack
            .clone()
            .service(routes.clone())
            .map_response(|res| res.map(tonic::body::Body::new));
        let local: mm_kernel::platform::LocalStack = tower::util::BoxCloneSyncService::new(local);
        platform.serve_locally(
            health_names.iter().copied().filter(|n| !n.is_empty()),
            local.clone(),
            drain.user_agent(),
        )?;

        // HTTP side.
        let mut router = axum::Router::new().route("/healthz", get(|| async { "ok" }));
        let mut metrics_listener = None;
        match (&settings.metrics.addr, &settings.metrics.token) {
            (Some(addr), _) => {
                let l = TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("Failed to bind metrics on {addr}"))?;
                metrics_listener = Some(l);
            }
            (None, Some(token)) => {
                let (handle, token) = (metrics.clone(), token.clone());
                router = router.route(
                    "/metrics",
                    get(move |headers: http::HeaderMap| {
                        std::future::ready(guarded_metrics(&handle, &token, &headers))
                    }),
                );
            }
            (None, None) if settings.environment == Environment::Dev => {
                let handle = metrics.clone();
                router = router.route("/metrics", get(move || std::future::ready(handle.render())));
            }
            (None, None) => tracing::info!(
                "metrics are not exposed: set metrics.addr or MINIMODULES_METRICS__TOKEN to scrape them"
            ),
        }
        if settings.bff.enabled {
            let channel = platform.clone();
            let state = Arc::new(mm_bff::BffState::new(
                channel,
                &cache,
                Duration::from_secs(settings.bff.boot_cache_ttl_secs),
                ClientAddrPolicy::new(&settings.server.trusted_proxies, None)?,
            ));
            let parts: Vec<_> = modules::all().iter().filter_map(|m| m.bff).collect();
            router = router.merge(mm_bff::router(state, &parts)?);
        }
        if settings.admin.enabled {
            router = router.merge(admin::router(&settings));
        }
        let router = router
            .layer(axum::middleware::from_fn(http_metrics))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &http::Request<_>| {
                let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id, tenant = tracing::field::Empty)
            }))
            // /readyz, and while draining: new requests refused with 503, admitted ones counted
            // so the listener closes only once they are answered. Outside the trace layer, which
            // would log every 503 probe and refusal of a drain as an ERROR.
            .layer(axum::middleware::from_fn_with_state(
                drain.clone(),
                shutdown::http_gate,
            ))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            // Outermost: a gRPC call leaves the HTTP stack before any of it runs; the gRPC stack
            // has its own request id, span, metrics and drain gate.
            .layer(axum::middleware::from_fn_with_state(local, grpc_on_http_port));

        // Seeded before either port answers; see the doc above.
        if settings.environment == Environment::Dev && settings.demo.seed {
            demo::seed(&ctx, wechat_fake.as_ref()).await?;
        }
        lock.release().await;

        let grpc_stop = stop_all.child_token();
        let grpc_server = Server::builder()
            .accept_http1(true)
            .layer(grpc_stack)
            .add_routes(routes)
            .serve_with_incoming_shutdown(
                // Without TCP_NODELAY, small unary replies wait ~40 ms on delayed ACKs.
                tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true)),
                grpc_stop.clone().cancelled_owned(),
            );
        let grpc_task =
            tokio::spawn(async move { grpc_server.await.context("gRPC server failed") });
        let http_stop = stop_all.child_token();
        let http_server = axum::serve(
            http_listener.tap_io(|tcp| {
                // Small JSON replies must not wait on delayed ACKs.
                let _ = tcp.set_nodelay(true);
            }),
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(http_stop.clone().cancelled_owned());
        let http_task =
            tokio::spawn(async move { http_server.await.context("HTTP server failed") });
        let metrics_addr = match metrics_listener {
            Some(l) => {
                let addr = l.local_addr()?;
                let handle = metrics.clone();
                let only_metrics = axum::Router::new()
                    .route("/metrics", get(move || std::future::ready(handle.render())));
                let stop = http_stop.clone();
                // Best effort: a scrape cut off by shutdown is simply missed.
                tokio::spawn(async move {
                    let served = axum::serve(l, only_metrics)
                        .with_graceful_shutdown(stop.cancelled_owned())
                        .await;
                    if let Err(e) = served {
                        tracing::warn!(error = %e, "metrics listener failed");
                    }
                });
                Some(addr)
            }
            None => None,
        };
        // Dropped without `stop`: everything ends now, as it did before graceful shutdown.
        let on_drop = {
            let (drain, jobs, dropped) = (drain.clone(), jobs.clone(), stop_all.clone());
            tokio::spawn(async move {
                dropped.cancelled().await;
                drain.refuse_new();
                jobs.stop();
            });
            stop_all.drop_guard()
        };

        tracing::info!(%grpc_addr, %http_addr, cache = cache.backend_name(), modules = ?hosted, "minimodules is serving");
        Ok(Self {
            settings,
            wechat_fake,
            grpc_addr,
            http_addr,
            metrics_addr,
            db,
            cache,
            keys,
            hosted,
            drain,
            jobs,
            health: health_reporter,
            health_names,
            http_stop,
            grpc_stop,
            http_task,
            grpc_task,
            _stop_on_drop: on_drop,
        })
    }

    /// Runs one pass of the background job `name` (`ordering.sweep`, `booking.sweep`) now and
    /// answers how many things it handled.
    pub async fn run_job_now(&self, name: &str) -> anyhow::Result<usize> {
        self.jobs.run_now(name).await
    }

    /// Stops gracefully within `grace` (see `shutdown` for the steps): unready first, then new
    /// requests refused and streams ended while admitted ones finish, then HTTP closes, the jobs
    /// end their pass, and gRPC closes last, because the BFF and the jobs call it.
    pub async fn stop(self, grace: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + grace;
        let unready_for = Duration::from_millis(self.settings.server.shutdown_unready_ms);

        self.drain.set_unready();
        for name in &self.health_names {
            self.health
                .set_service_status(*name, ServingStatus::NotServing)
                .await;
        }
        // A job between passes stops now; one in a pass finishes it, calling gRPC as it needs.
        self.jobs.stop();
        tracing::info!(
            unready_ms = unready_for.as_millis(),
            "shutting down: reporting unready"
        );
        tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + unready_for)).await;

        self.drain.refuse_new();
        tracing::info!("shutting down: refusing new requests, draining admitted ones");
        let mut clean = tokio::time::timeout_at(deadline, self.drain.http_drained())
            .await
            .is_ok();
        self.http_stop.cancel();
        // A failed HTTP server must not skip the rest: the jobs and gRPC still stop in order, and
        // the failure is returned at the end.
        let http = join_by(deadline, self.http_task, "HTTP server").await;
        clean &= tokio::time::timeout_at(deadline, self.jobs.stopped())
            .await
            .is_ok();
        self.jobs.resign().await;
        self.grpc_stop.cancel();
        let grpc = join_by(deadline, self.grpc_task, "gRPC server").await;
        match (&http, &grpc) {
            (Ok(true), Ok(true)) if clean => tracing::info!("shut down cleanly"),
            (Ok(_), Ok(_)) => tracing::warn!(
                grace_secs = grace.as_secs(),
                "shutdown grace period ran out; unfinished work was dropped"
            ),
            // Returned below.
            _ => {}
        }
        self.db.close().await.ok();
        http?;
        grpc?;
        Ok(())
    }

    /// Makes the servers stop when `signal` completes; used by main.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
        grace: Duration,
    ) -> anyhow::Result<()> {
        signal.await;
        self.stop(grace).await
    }
}

/// Awaits a server task until `deadline`; false when the deadline came first (the task is then
/// aborted), an error when the server itself failed.
async fn join_by(
    deadline: tokio::time::Instant,
    mut task: JoinHandle<anyhow::Result<()>>,
    what: &str,
) -> anyhow::Result<bool> {
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(joined) => {
            joined.with_context(|| format!("{what} task panicked"))??;
            Ok(true)
        }
        Err(_) => {
            task.abort();
            Ok(false)
        }
    }
}

/// `/metrics` behind `metrics.token`: 401 without the bearer token. Compared in constant time,
/// so the answer's timing says nothing about how much of a guess was right.
fn guarded_metrics(
    handle: &mm_kernel::metrics::PrometheusHandle,
    token: &SecretString,
    headers: &http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let given = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .as_bytes();
    let expected = token.expose_secret().as_bytes();
    let same = given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        handle.render().into_response()
    } else {
        (
            http::StatusCode::UNAUTHORIZED,
            [(http::header::WWW_AUTHENTICATE, "Bearer")],
            "metrics need a bearer token",
        )
            .into_response()
    }
}

/// grpc-web (and gRPC) on the HTTP port, answered by the same stack as on the gRPC port, for
/// the services this process hosts: the dashboard calls its own origin, so one HTTPS host (or
/// one proxy rule) serves the dashboard, its calls and the JSON API. Told apart by content type,
/// which no JSON route or static file is asked with.
async fn grpc_on_http_port(
    axum::extract::State(grpc): axum::extract::State<mm_kernel::platform::LocalStack>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let is_grpc = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"));
    if !is_grpc {
        return next.run(req).await;
    }
    // The access layer reads the peer as the gRPC server records it.
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let (mut parts, body) = req.into_parts();
    parts
        .extensions
        .insert(tonic::transport::server::TcpConnectInfo {
            local_addr: None,
            remote_addr: peer,
        });
    let req = http::Request::from_parts(parts, tonic::body::Body::new(body));
    match grpc.oneshot(req).await {
        Ok(res) => res.map(axum::body::Body::new),
        Err(never) => match never {},
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
