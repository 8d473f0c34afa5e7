//! mm-testkit: starts the real server on ephemeral ports for integration tests, against SQLite
//! (a fresh file per app) or PostgreSQL + Redis (a fresh database and a fresh key namespace per
//! app, both removed when the app is dropped), chosen by MM_TEST_BACKEND=sqlite|postgres. Helpers
//! mint tokens and build realistic tenants in one line.

pub mod ports;
pub mod process;

pub use ports::free_port;

use std::sync::Arc;
use std::time::Duration;

use mm_kernel::auth::JwtKeys;
use mm_kernel::config::Settings;
use mm_kernel::{Principal, Role, TenantId};
use mm_proto::minimodules::tenant::v1 as pb;
use mm_server::App;
use pb::tenant_service_client::TenantServiceClient;
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use tonic::transport::Channel;

/// Which storage the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process cache (the embedded default).
    Sqlite,
    /// PostgreSQL + Redis (production shape).
    Postgres,
}

/// The backend chosen by MM_TEST_BACKEND (default sqlite).
pub fn backend() -> Backend {
    match std::env::var("MM_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

fn pg_base() -> String {
    std::env::var("MM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// The role test apps connect as: an ordinary login role that owns its test database, so the
/// tenant tables' row-level security applies to it as it does in production (a superuser would
/// pass every policy).
pub const PG_APP_ROLE: &str = "mm_app";

/// `pg_base()` with the user replaced by [`PG_APP_ROLE`] (test clusters trust local logins).
fn pg_app_base() -> String {
    let base = pg_base();
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", &base));
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{PG_APP_ROLE}@{host}")
}

/// The Redis the tests use.
pub fn redis_url() -> String {
    std::env::var("MM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The secret every test app signs with.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Storage shared by one or more apps of a test; removed on drop.
pub struct Storage {
    /// Backend.
    pub backend: Backend,
    /// Database URL (on PostgreSQL, as the ordinary role [`PG_APP_ROLE`]).
    pub db_url: String,
    /// Redis URL when the backend has one.
    pub redis_url: Option<String>,
    /// Cache namespace.
    pub namespace: String,
    pg_db: Option<String>,
    dir: Option<std::path::PathBuf>,
}

impl Storage {
    /// Fresh storage on the chosen backend.
    pub async fn new() -> Self {
        Self::on(backend()).await
    }

    /// Fresh storage on a given backend.
    pub async fn on(backend: Backend) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let namespace = format!("mmtest-{id}");
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("mm-test-{id}"));
                std::fs::create_dir_all(&dir).expect("temp dir");
                Self {
                    backend,
                    db_url: format!("sqlite://{}/mm.db?mode=rwc", dir.display()),
                    redis_url: None,
                    namespace,
                    pg_db: None,
                    dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let name = format!("mm_test_{id}");
                let admin = Database::connect(format!("{}/postgres", pg_base()))
                    .await
                    .expect("connect to PostgreSQL");
                // Test processes start in parallel: the role may appear between check and create.
                admin
                    .execute_unprepared(&format!(
                        "DO $$ BEGIN CREATE ROLE {PG_APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; \
                         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                    ))
                    .await
                    .expect("create the application role");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\" OWNER {PG_APP_ROLE}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                Self {
                    backend,
                    db_url: format!("{}/{name}", pg_app_base()),
                    redis_url: Some(redis_url()),
                    namespace,
                    pg_db: Some(name),
                    dir: None,
                }
            }
        }
    }

    /// The database as a superuser sees it, past row-level security: for tests that look at or
    /// change rows behind the application's back. On SQLite, the same file.
    pub fn admin_url(&self) -> String {
        match &self.pg_db {
            Some(name) => format!("{}/{name}", pg_base()),
            None => self.db_url.clone(),
        }
    }

    /// Settings for an app on this storage, listening on ephemeral ports.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::default();
        s.server.grpc_addr = ([127, 0, 0, 1], 0).into();
        s.server.http_addr = ([127, 0, 0, 1], 0).into();
        s.server.shutdown_grace_secs = 2;
        s.database.url = self.db_url.clone();
        // PostgreSQL: few connections per test app, as many run at once against one server.
        // SQLite: the default pool, as the embedded default runs.
        if self.pg_db.is_some() {
            s.database.max_connections = Some(5);
        }
        s.cache.redis_url = self.redis_url.clone();
        s.cache.namespace = self.namespace.clone();
        s.auth.jwt_secret = Some(SecretString::from(TEST_SECRET.to_string()));
        // base64 of 32 bytes; set so tests never write a dev key into the source tree.
        s.secrets.key = Some(SecretString::from(
            "bWluaW1vZHVsZXMtdGVzdC1rZXktMzItYnl0ZXMhISE=".to_string(),
        ));
        s.log.filter = "warn".into();
        s
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        let pg_db = self.pg_db.take();
        let redis = self.redis_url.clone();
        let ns = self.namespace.clone();
        // Drop runs inside the test's runtime, which cannot block on async work: clean up on a
        // thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Some(name) = pg_db
                    && let Ok(admin) = Database::connect(format!("{}/postgres", pg_base())).await
                {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    admin.close().await.ok();
                }
                if let Some(url) = redis {
                    use fred::prelude::*;
                    if let Ok(cfg) = Config::from_url(&url)
                        && let Ok(c) = Builder::from_config(cfg).build()
                        && c.init().await.is_ok()
                    {
                        let keys: Vec<String> = c
                            .custom(
                                fred::types::CustomCommand::new_static("KEYS", None, false),
                                vec![format!("{ns}:*")],
                            )
                            .await
                            .unwrap_or_default();
                        if !keys.is_empty() {
                            let _: Result<i64, _> = c.del(keys).await;
                        }
                        let _ = c.quit().await;
                    }
                }
            });
        })
        .join();
    }
}

/// A running app with its storage and clients.
pub struct TestApp {
    /// The server (dropped with the test).
    pub app: App,
    /// `http://127.0.0.1:<grpc port>`.
    pub grpc_url: String,
    /// `http://127.0.0.1:<http port>`.
    pub http_url: String,
    /// Keys that sign tokens this app accepts.
    pub keys: Arc<JwtKeys>,
    /// Channel to the gRPC port.
    pub channel: Channel,
    /// HTTP client.
    pub http: reqwest::Client,
    /// Owned storage (None when shared with another app).
    pub storage: Option<Storage>,
}

/// Starts an app on fresh storage of the chosen backend.
pub async fn spawn_app() -> TestApp {
    let storage = Storage::new().await;
    let settings = storage.settings();
    let mut app = spawn_with(settings).await;
    app.storage = Some(storage);
    app
}

/// Starts an app on fresh storage whose deadlines and jobs read `clock`: move it on
/// (`clock.advance`) and run a job's pass (`app.app.run_job_now`) instead of waiting for time
/// to pass and the job to come round.
pub async fn spawn_app_with_clock(clock: mm_kernel::clock::Clock) -> TestApp {
    let storage = Storage::new().await;
    let settings = storage.settings();
    let mut app = spawn_with_clock(settings, clock).await;
    app.storage = Some(storage);
    app
}

/// Starts an app with explicit settings (shared storage, module subsets).
pub async fn spawn_with(settings: Settings) -> TestApp {
    spawn_with_clock(settings, mm_kernel::clock::Clock::system()).await
}

/// Starts an app with explicit settings and clock.
pub async fn spawn_with_clock(settings: Settings, clock: mm_kernel::clock::Clock) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        mm_kernel::telemetry::init("pretty", "info");
    }
    let app = App::start_with_clock(settings, clock)
        .await
        .expect("app starts");
    let grpc_url = format!("http://127.0.0.1:{}", app.grpc_addr.port());
    let http_url = format!("http://127.0.0.1:{}", app.http_addr.port());
    let channel = tonic::transport::Endpoint::from_shared(grpc_url.clone())
        .expect("url")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect to gRPC");
    let keys = app.keys.clone();
    TestApp {
        app,
        grpc_url,
        http_url,
        keys,
        channel,
        http: reqwest::Client::new(),
        storage: None,
    }
}

impl TestApp {
    /// A token for a principal.
    pub fn token(&self, role: Role, tenant: Option<TenantId>, permissions: &[&str]) -> String {
        self.keys
            .issue(&Principal {
                subject: format!("test-{}", uuid::Uuid::new_v4().simple()),
                tenant,
                role,
                permissions: permissions.iter().map(|p| p.to_string()).collect(),
                session: None,
            })
            .expect("token")
    }

    /// A platform operator token.
    pub fn operator(&self) -> String {
        self.token(Role::Operator, None, &[])
    }

    /// A tenant admin token.
    pub fn admin_of(&self, tenant: TenantId) -> String {
        self.token(Role::Admin, Some(tenant), &[])
    }

    /// Tenant service client.
    pub fn tenants(&self) -> TenantServiceClient<Channel> {
        TenantServiceClient::new(self.channel.clone())
    }

    /// Creates a tenant from a template as the operator; appid derived from the slug.
    pub async fn create_tenant(&self, slug: &str, template: &str) -> pb::Tenant {
        let appid = appid_for(slug);
        let req = with_token(
            pb::CreateTenantRequest {
                tenant: Some(pb::Tenant {
                    slug: slug.into(),
                    display_name_zh: format!("{slug} 店"),
                    display_name_en: slug.into(),
                    wechat_appid: appid,
                    ..Default::default()
                }),
                template_id: template.into(),
            },
            &self.operator(),
        );
        self.tenants()
            .create_tenant(req)
            .await
            .expect("create tenant")
            .into_inner()
            .tenant
            .expect("tenant")
    }

    /// GET a BFF path, returning status, headers and JSON body (Null when empty).
    pub async fn get_json(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let mut req = self.http.get(format!("{}{}", self.http_url, path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("http call");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        (status, headers, body)
    }
}

/// A deterministic, valid appid for a slug.
pub fn appid_for(slug: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in slug.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("wx{h:016x}")
}

/// The tenant id of a "tenants/{id}" name.
pub fn tenant_id(t: &pb::Tenant) -> TenantId {
    TenantId::parse(t.name.trim_start_matches("tenants/"), "name").expect("tenant id")
}

/// A request carrying a bearer token.
pub fn with_token<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    req
}

/// The next message of a server stream, within five seconds; panics otherwise (a live view that
/// heard nothing).
pub async fn next_message<T>(stream: &mut tonic::Streaming<T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("a message in time")
        .expect("stream open")
        .expect("a message")
}
