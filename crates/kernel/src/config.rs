//! Typed settings, loaded once in main: built-in defaults < a TOML file (config/minimodules.toml, or
//! the path in MINIMODULES_CONFIG) < `MINIMODULES_<SECTION>__<KEY>` environment variables. Secrets
//! (the JWT secret, database and Redis URLs with passwords) come only from the environment: a
//! secret found in the file is refused, since config files get committed and copied around.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// How the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Local and demo: a generated JWT secret is allowed, the demo tenant is seeded, logs are pretty.
    Dev,
    /// Everything must be configured explicitly.
    Production,
}

/// All settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// dev or production.
    pub environment: Environment,
    /// Listening addresses and which modules to host.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Cache.
    pub cache: CacheSettings,
    /// Tokens.
    pub auth: AuthSettings,
    /// The mini-program BFF.
    pub bff: BffSettings,
    /// Logs.
    pub log: LogSettings,
    /// Demo data.
    pub demo: DemoSettings,
    /// WeChat's servers.
    pub wechat: WechatSettings,
    /// Encryption of secrets at rest.
    pub secrets: SecretsSettings,
    /// The admin dashboard's static files.
    pub admin: AdminSettings,
    /// Background jobs (expiry sweeps).
    pub jobs: JobsSettings,
    /// Where Prometheus metrics are exposed.
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// Where the modules this process does not host are served.
    #[serde(default)]
    pub upstreams: UpstreamSettings,
    /// Deadlines and retries of calls to other modules and from the BFF.
    #[serde(default)]
    pub calls: CallSettings,
}

/// The gRPC address of each module this process does not host: `upstreams.<module>`, else
/// `upstreams.default`. A host name is resolved to all its addresses (a Kubernetes headless
/// Service: one per pod), again every `calls.resolve_interval_ms`, and calls are balanced over
/// them. Modules hosted here are always called in process.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct UpstreamSettings {
    /// Address of every module without one of its own, e.g. `http://minimodules:50051`.
    #[serde(default)]
    pub default: Option<String>,
    /// Per module id, e.g. `catalog = "http://minimodules-catalog:50051"`
    /// (`MINIMODULES_UPSTREAMS__CATALOG`).
    #[serde(flatten)]
    pub modules: std::collections::BTreeMap<String, String>,
}

/// Deadlines and retries of platform calls (module to module, BFF to module).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSettings {
    /// Deadline of a call whose caller set none, in milliseconds.
    pub timeout_ms: u64,
    /// Tries of a call that is safe to repeat (its contract says so), the first included.
    pub attempts: usize,
    /// First wait before a retry, in milliseconds; doubled each time, with jitter.
    pub backoff_ms: u64,
    /// How often module host names are resolved again, in milliseconds.
    pub resolve_interval_ms: u64,
}

impl Default for CallSettings {
    fn default() -> Self {
        Self {
            timeout_ms: 10_000,
            attempts: 3,
            backoff_ms: 20,
            resolve_interval_ms: 5_000,
        }
    }
}

/// Where `/metrics` is served. It tells a stranger what the installation runs and how busy each
/// method is, so outside dev it is not on the public HTTP port unless a token guards it.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// A listener of its own for `/metrics` (e.g. `127.0.0.1:9090`, or an address only the
    /// scraper's network reaches); when set, `/metrics` is served only there, without a token.
    #[serde(default)]
    pub addr: Option<SocketAddr>,
    /// When set, `/metrics` on the public HTTP port answers only `Authorization: Bearer <token>`;
    /// only from MINIMODULES_METRICS__TOKEN. With neither this nor `addr`, `/metrics` is on the
    /// public port in dev and not served at all in production.
    #[serde(default, skip_serializing)]
    pub token: Option<SecretString>,
}

/// The admin dashboard (web-admin), served on the HTTP port under `/admin/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Serve the dashboard from this process.
    pub enabled: bool,
    /// Directory of the built dashboard (`npm run build` in web-admin writes web-admin/dist).
    pub dir: PathBuf,
    /// grpc-web URL the dashboard calls; none means this host on the gRPC port. Set it when a
    /// proxy puts the gRPC port elsewhere.
    pub grpc_web_url: Option<String>,
}

/// Background jobs every module's sweeps share.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsSettings {
    /// How often sweeps (unpaid order expiry, booking holds, refunds, reminders) run, in
    /// milliseconds.
    pub sweep_interval_ms: u64,
    /// First wait before a failed message is retried, in milliseconds; doubled each attempt.
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// First wait before a failed cross-module step (give stock back, refund, close a payment)
    /// is tried again, in milliseconds; doubled each attempt up to `effect_retry_max_ms`.
    #[serde(default = "default_effect_retry_base_ms")]
    pub effect_retry_base_ms: u64,
    /// Longest wait between two tries of a cross-module step, in milliseconds.
    #[serde(default = "default_effect_retry_max_ms")]
    pub effect_retry_max_ms: u64,
    /// How long an instance that took a cross-module step has it to itself before another may
    /// try it (the taker may have died mid-step), in milliseconds.
    #[serde(default = "default_effect_lease_ms")]
    pub effect_lease_ms: u64,
    /// How long an order may stay half-placed (`creating`) before the sweep takes it for
    /// abandoned by a dead process and gives its stock back, in milliseconds. Longer than any
    /// placement takes; shorter only when no other instance may still be placing it.
    #[serde(default = "default_stale_creating_ms")]
    pub stale_creating_ms: u64,
    /// Test hook: the process kills itself (SIGKILL) when it reaches this named step, so fault
    /// tests can stop it exactly between two steps. Dev mode only; empty means never.
    #[serde(default)]
    pub crash_at: String,
}

fn default_effect_retry_base_ms() -> u64 {
    1_000
}

fn default_effect_retry_max_ms() -> u64 {
    300_000
}

fn default_effect_lease_ms() -> u64 {
    30_000
}

fn default_stale_creating_ms() -> u64 {
    120_000
}

fn default_retry_base_ms() -> u64 {
    30_000
}

fn default_probe_interval_ms() -> u64 {
    2_000
}

fn default_shutdown_unready_ms() -> u64 {
    1_000
}

/// Where WeChat's APIs are. Tests and the demo point this at a local fake.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatSettings {
    /// Base URL of api.weixin.qq.com; in dev without one, a local fake is started.
    pub base_url: Option<String>,
    /// Timeout of one call to WeChat, in milliseconds.
    pub timeout_ms: u64,
    /// Base URL of WeChat Pay (https://api.mch.weixin.qq.com); in dev without one, the local fake.
    pub pay_base_url: Option<String>,
}

/// Encryption of secrets at rest (tenants' WeChat AppSecrets).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SecretsSettings {
    /// 32 bytes, base64; only from MINIMODULES_SECRETS__KEY. Dev generates one in data/.
    #[serde(default, skip_serializing)]
    pub key: Option<SecretString>,
}

/// Listening addresses and the module subset.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// gRPC, grpc-web, reflection and health.
    pub grpc_addr: SocketAddr,
    /// HTTP: the BFF, /metrics, /healthz and later the admin dashboard.
    pub http_addr: SocketAddr,
    /// Module ids whose services this process hosts: `["all"]` (the default), `[]` or
    /// `["none"]` for none (a BFF-only process), or a list of ids.
    pub modules: Vec<String>,
    /// Origins allowed to call grpc-web from a browser (the admin dashboard); none means the
    /// environment's default: the Vite dev server and localhost in dev, none in production (the
    /// dashboard served on our own HTTP port is always allowed).
    #[serde(default)]
    pub admin_origins: Option<Vec<String>>,
    /// Networks (CIDR, or single addresses) of the reverse proxies in front of this process,
    /// whose X-Forwarded-For is believed: the client is the right-most hop that is not one of
    /// them. Empty (the default): the TCP peer is the client. The in-process BFF passes the
    /// client's address to the services over its own channel without being listed here.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Serve gRPC server reflection (v1 and v1alpha); none means on in dev, off in production.
    #[serde(default)]
    pub reflection: Option<bool>,
    /// Seconds from SIGTERM to exit: in-flight calls finish and background jobs end their pass
    /// within it.
    pub shutdown_grace_secs: u64,
    /// Milliseconds after SIGTERM during which the process reports unready (`/readyz` 503, gRPC
    /// health NOT_SERVING) yet still serves everything, so load balancers stop routing to it
    /// before it refuses anything. Part of the grace period; set it above the readiness probe's
    /// period behind a load balancer.
    #[serde(default = "default_shutdown_unready_ms")]
    pub shutdown_unready_ms: u64,
    /// How often readiness checks the database (a ping, and until it is current, the schema) and
    /// Redis, in milliseconds: `/readyz` and gRPC health follow what it sees.
    #[serde(default = "default_probe_interval_ms")]
    pub probe_interval_ms: u64,
    /// Largest gRPC message accepted, in bytes.
    pub max_message_bytes: usize,
    /// The public https base URL of the HTTP side (the BFF), which WeChat Pay posts
    /// notifications to; defaults to the local HTTP address, which only suits dev.
    pub public_url: Option<String>,
}

/// Database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` or `postgres://...`; the scheme picks the engine.
    pub url: String,
    /// Pool size; unset, 16 on PostgreSQL and 4 on SQLite (see [`DatabaseSettings::pool_size`]).
    pub max_connections: Option<u32>,
    /// Run migrations when the server starts.
    pub migrate_on_start: bool,
}

impl DatabaseSettings {
    /// The pool size: as configured, else 16 connections on PostgreSQL and 4 on SQLite.
    ///
    /// SQLite has one writer and does its reads on the server's own cores, one thread per pooled
    /// connection, so connections beyond the cores add no throughput; each of those threads
    /// keeps memory of its own in the allocator (a shortened run of the benchmark's cases left
    /// the server at 124 MB with sixteen and 89 MB with four: bench/README.md, "Sixth round").
    pub fn pool_size(&self) -> u32 {
        match self.max_connections {
            Some(n) => n.max(1),
            None if self.url.starts_with("sqlite:") => 4,
            None => 16,
        }
    }
}

/// Cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Redis URL; none means the in-process cache.
    pub redis_url: Option<String>,
    /// Prefix of every key and channel, so several installations (or test runs) share one Redis.
    pub namespace: String,
    /// Lifetime of cached entries, a safety net behind explicit invalidation.
    pub ttl_secs: u64,
    /// How long one Redis command may take before it counts as failed and the caller falls back
    /// to the database. Redis answers in well under a millisecond on a healthy network, so tens
    /// of milliseconds only ever cut off a sick server.
    pub command_timeout_ms: u64,
    /// Consecutive Redis failures that open the circuit breaker: Redis is then skipped and the
    /// platform serves from the database and the in-process cache.
    pub breaker_failures: u32,
    /// How long an open breaker skips Redis before letting calls probe it again.
    pub breaker_open_ms: u64,
    /// Longest wait between attempts to reconnect to Redis; bounds how late we notice its return.
    pub reconnect_max_ms: u64,
    /// While Redis is unavailable, how long the database's answer "this session is live" is
    /// trusted before it is asked again. A session revoked by this instance is refused at once
    /// regardless; this bounds how late a revocation made by another instance is noticed.
    pub session_recheck_ms: u64,
}

/// Tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// HS256 secret, at least 32 bytes; only from MINIMODULES_AUTH__JWT_SECRET.
    #[serde(default, skip_serializing)]
    pub jwt_secret: Option<SecretString>,
    /// Key id stamped on issued tokens.
    pub jwt_kid: String,
    /// Earlier keys still accepted while their tokens live, as `kid=secret;kid=secret`; only from
    /// MINIMODULES_AUTH__PREVIOUS_JWT_SECRETS. Rotate by moving the current key here and setting
    /// a new secret and kid.
    #[serde(default, skip_serializing)]
    pub previous_jwt_secrets: Option<SecretString>,
    /// Issuer claim.
    pub issuer: String,
    /// Audience claim.
    pub audience: String,
    /// Access token lifetime.
    pub access_ttl_secs: u64,
    /// Refresh token (session) lifetime.
    pub refresh_ttl_secs: u64,
    /// Failed logins of one account before it is locked.
    pub max_failed_logins: u64,
    /// How long a locked account stays locked, in seconds.
    pub lockout_secs: u64,
    /// Login attempts one client address may make per minute.
    pub login_attempts_per_minute: u32,
}

/// The BFF.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BffSettings {
    /// Serve the BFF from this process.
    pub enabled: bool,
    /// Deprecated: the address of every module not hosted here; use `upstreams.default`.
    #[serde(default)]
    pub upstream: Option<String>,
    /// How long the BFF keeps a boot config it has not been told is stale.
    pub boot_cache_ttl_secs: u64,
}

/// Logs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// "pretty" or "json".
    pub format: String,
    /// tracing filter; RUST_LOG overrides.
    pub filter: String,
}

/// Demo data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Seed the demo restaurant at start-up when it does not exist.
    pub seed: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: Environment::Dev,
            server: ServerSettings {
                grpc_addr: ([0, 0, 0, 0], 50051).into(),
                http_addr: ([0, 0, 0, 0], 8080).into(),
                modules: vec!["all".into()],
                admin_origins: None,
                trusted_proxies: Vec::new(),
                reflection: None,
                shutdown_grace_secs: 10,
                shutdown_unready_ms: default_shutdown_unready_ms(),
                probe_interval_ms: default_probe_interval_ms(),
                max_message_bytes: 1024 * 1024,
                public_url: None,
            },
            database: DatabaseSettings {
                url: "sqlite://data/minimodules.db?mode=rwc".into(),
                max_connections: None,
                migrate_on_start: true,
            },
            cache: CacheSettings {
                redis_url: None,
                namespace: "mm".into(),
                ttl_secs: 300,
                command_timeout_ms: 50,
                breaker_failures: 3,
                breaker_open_ms: 250,
                reconnect_max_ms: 250,
                session_recheck_ms: 1000,
            },
            auth: AuthSettings {
                jwt_secret: None,
                jwt_kid: "k1".into(),
                previous_jwt_secrets: None,
                issuer: "minimodules".into(),
                audience: "minimodules".into(),
                access_ttl_secs: 900,
                refresh_ttl_secs: 30 * 24 * 3600,
                max_failed_logins: 5,
                lockout_secs: 900,
                login_attempts_per_minute: 30,
            },
            bff: BffSettings {
                enabled: true,
                upstream: None,
                boot_cache_ttl_secs: 60,
            },
            log: LogSettings {
                format: "pretty".into(),
                filter: "info".into(),
            },
            demo: DemoSettings { seed: true },
            wechat: WechatSettings {
                base_url: None,
                timeout_ms: 5000,
                pay_base_url: None,
            },
            secrets: SecretsSettings::default(),
            admin: AdminSettings {
                enabled: true,
                dir: PathBuf::from("web-admin/dist"),
                grpc_web_url: None,
            },
            jobs: JobsSettings {
                sweep_interval_ms: 5000,
                retry_base_ms: default_retry_base_ms(),
                effect_retry_base_ms: default_effect_retry_base_ms(),
                effect_retry_max_ms: default_effect_retry_max_ms(),
                effect_lease_ms: default_effect_lease_ms(),
                stale_creating_ms: default_stale_creating_ms(),
                crash_at: String::new(),
            },
            metrics: MetricsSettings::default(),
            upstreams: UpstreamSettings::default(),
            calls: CallSettings::default(),
        }
    }
}

/// Keys that must never come from a file.
const SECRET_KEYS: &[&str] = &[
    "auth.jwt_secret",
    "auth.previous_jwt_secrets",
    "secrets.key",
    "metrics.token",
];

impl ServerSettings {
    /// The grpc-web CORS origins in force: the configured ones, else the environment's default.
    pub fn admin_origins(&self, env: Environment) -> Vec<String> {
        match (&self.admin_origins, env) {
            (Some(list), _) => list.clone(),
            (None, Environment::Dev) => vec![
                "http://localhost:8080".into(),
                "http://localhost:5173".into(),
            ],
            (None, Environment::Production) => Vec::new(),
        }
    }

    /// The module ids hosted here out of `known`: every one for `all`, none for `[]` or `none`.
    /// Refuses an unknown id, and `all` or `none` beside other ids.
    pub fn hosted<'a>(&self, known: &[&'a str]) -> anyhow::Result<Vec<&'a str>> {
        let wanted: Vec<&str> = self.modules.iter().map(|m| m.trim()).collect();
        match wanted.as_slice() {
            ["all"] => return Ok(known.to_vec()),
            [] | ["none"] => return Ok(Vec::new()),
            _ => {}
        }
        for w in &wanted {
            if *w == "all" || *w == "none" {
                anyhow::bail!("server.modules: {w:?} stands alone (got {wanted:?})");
            }
            if !known.contains(w) {
                anyhow::bail!(
                    "server.modules names unknown module {w:?}; known: all, none, {}",
                    known.join(", ")
                );
            }
        }
        Ok(known
            .iter()
            .copied()
            .filter(|k| wanted.contains(k))
            .collect())
    }

    /// Whether reflection is served: as configured, else only in dev.
    pub fn reflection(&self, env: Environment) -> bool {
        self.reflection.unwrap_or(env == Environment::Dev)
    }
}

impl Settings {
    /// Loads settings from the default file location and the environment.
    pub fn load(explicit_file: Option<&Path>) -> anyhow::Result<Self> {
        let file = explicit_file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("MINIMODULES_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("config/minimodules.toml"));
        Self::from_figment(
            Figment::from(Serialized::defaults(Settings::default())),
            &file,
            Env::prefixed("MINIMODULES_").split("__"),
        )
    }

    fn from_figment(base: Figment, file: &Path, env: Env) -> anyhow::Result<Self> {
        let file_figment = Figment::from(Toml::file(file));
        for key in SECRET_KEYS {
            if file_figment.find_value(key).is_ok() {
                anyhow::bail!(
                    "{key} was found in {}; secrets are read only from the environment (MINIMODULES_{})",
                    file.display(),
                    key.to_uppercase().replace('.', "__")
                );
            }
        }
        let settings: Settings = base
            .merge(Toml::file(file))
            .merge(env.ignore(&["config"]))
            .extract()
            .map_err(explain)?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let scheme = self.database.url.split(':').next().unwrap_or_default();
        if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
            anyhow::bail!("database.url must start with sqlite: or postgres:, got {scheme:?}");
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            anyhow::bail!("log.format must be \"pretty\" or \"json\"");
        }
        if self.environment == Environment::Production && self.auth.jwt_secret.is_none() {
            anyhow::bail!("MINIMODULES_AUTH__JWT_SECRET is required in production");
        }
        if self.environment == Environment::Production && self.secrets.key.is_none() {
            anyhow::bail!("MINIMODULES_SECRETS__KEY is required in production");
        }
        if self.environment == Environment::Production && self.wechat.base_url.is_none() {
            anyhow::bail!("wechat.base_url is required in production (https://api.weixin.qq.com)");
        }
        if self.environment == Environment::Production && !self.jobs.crash_at.is_empty() {
            anyhow::bail!("jobs.crash_at is a test hook and is refused in production");
        }
        if self.environment == Environment::Production && self.server.public_url.is_none() {
            anyhow::bail!(
                "server.public_url is required in production (WeChat Pay posts notifications there)"
            );
        }
        if self.cache.command_timeout_ms == 0 || self.cache.breaker_failures == 0 {
            // Zero would mean "wait forever" to fred and "never trip" to the breaker: exactly the
            // hangs these settings exist to prevent.
            anyhow::bail!("cache.command_timeout_ms and cache.breaker_failures must be above zero");
        }
        crate::access::parse_networks(&self.server.trusted_proxies)?;
        if let Some(s) = &self.auth.jwt_secret {
            use secrecy::ExposeSecret as _;
            if s.expose_secret().len() < 32 {
                anyhow::bail!("MINIMODULES_AUTH__JWT_SECRET must be at least 32 bytes");
            }
        }
        Ok(())
    }
}

/// A settings error in the operator's words: an unknown key names the variable or file it came
/// from, so a misspelt `MINIMODULES_DATABSE__URL` stops the start instead of being ignored while
/// the default database is used.
fn explain(errors: figment::Error) -> anyhow::Error {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| match &e.kind {
            figment::error::Kind::UnknownField(field, expected) => {
                let mut path = e.path.clone();
                if path.last() != Some(field) {
                    path.push(field.clone());
                }
                let file = e.metadata.as_ref().and_then(|m| match &m.source {
                    Some(figment::Source::File(f)) => Some(f.display().to_string()),
                    _ => None,
                });
                let from = e.metadata.as_ref().map(|m| m.name.to_string());
                let source = match (file, from.as_deref()) {
                    (Some(f), _) => f,
                    (None, Some(n)) if n.contains("environment") => {
                        let prefix = format!("MINIMODULES_{}", path.join("__").to_uppercase());
                        let nested = format!("{prefix}__");
                        let vars: Vec<String> = std::env::vars_os()
                            .filter_map(|(k, _)| k.into_string().ok())
                            .filter(|k| *k == prefix || k.starts_with(&nested))
                            .collect();
                        if vars.is_empty() {
                            format!("the environment, {prefix}…")
                        } else {
                            format!("the environment variable {}", vars.join(", "))
                        }
                    }
                    (None, Some(n)) => n.to_string(),
                    (None, None) => "the settings".to_string(),
                };
                format!(
                    "unknown setting `{}` (from {source}); known here: {}",
                    path.join("."),
                    expected.join(", ")
                )
            }
            _ => e.to_string(),
        })
        .collect();
    anyhow::anyhow!("invalid settings: {}", lines.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings from defaults and a file holding `toml`, with no environment.
    fn from_file(toml: &str) -> anyhow::Result<Settings> {
        let dir = std::env::temp_dir().join(format!("mm-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        let f = dir.join("c.toml");
        std::fs::write(&f, toml)?;
        let settings = Settings::from_figment(
            Figment::from(Serialized::defaults(Settings::default())),
            &f,
            Env::prefixed("MM_TEST_NOTHING_"),
        );
        let _ = std::fs::remove_dir_all(dir);
        settings
    }

    #[test]
    fn a_misspelt_setting_is_refused_by_name() {
        let err = from_file("[databse]\nurl = \"sqlite://x.db\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown setting `databse`"), "{err}");
        assert!(err.contains("c.toml"), "{err}");
        let err = from_file("[server]\ngrpc_adr = \"127.0.0.1:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown setting `server.grpc_adr`"), "{err}");
        assert!(err.contains("grpc_addr"), "{err}");
    }

    #[test]
    fn the_pool_is_sized_for_the_engine_unless_configured() {
        let s = from_file("").unwrap();
        assert_eq!(s.database.pool_size(), 4, "SQLite by default");
        let s = from_file("[database]\nurl = \"postgres://h/db\"\n").unwrap();
        assert_eq!(s.database.pool_size(), 16);
        let s = from_file("[database]\nurl = \"sqlite://x.db\"\nmax_connections = 9\n").unwrap();
        assert_eq!(s.database.pool_size(), 9);
        let s = from_file("[database]\nurl = \"postgres://h/db\"\nmax_connections = 0\n").unwrap();
        assert_eq!(s.database.pool_size(), 1, "never an empty pool");
    }

    #[test]
    fn a_secret_in_the_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("mm-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(
            &f,
            "[auth]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n",
        )
        .unwrap();
        let err = Settings::from_figment(
            Figment::from(Serialized::defaults(Settings::default())),
            &f,
            Env::prefixed("MM_TEST_NOTHING_"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("only from the environment"));
    }

    #[test]
    fn file_values_override_defaults() {
        let dir = std::env::temp_dir().join(format!("mm-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(
            &f,
            "[server]\nmodules = [\"tenant\"]\n[log]\nformat = \"json\"\n",
        )
        .unwrap();
        let s = Settings::from_figment(
            Figment::from(Serialized::defaults(Settings::default())),
            &f,
            Env::prefixed("MM_TEST_NOTHING_"),
        )
        .unwrap();
        assert_eq!(s.server.modules, vec!["tenant".to_string()]);
        assert_eq!(s.log.format, "json");
    }
}

#[cfg(test)]
mod hosted_tests {
    use super::*;

    fn hosting(list: &[&str]) -> anyhow::Result<Vec<&'static str>> {
        let mut s = Settings::default().server;
        s.modules = list.iter().map(|m| (*m).to_string()).collect();
        s.hosted(&["tenant", "catalog", "ordering"])
    }

    #[test]
    fn all_and_none_are_said_explicitly_and_an_empty_list_means_none() {
        assert_eq!(
            Settings::default()
                .server
                .hosted(&["tenant", "catalog"])
                .unwrap(),
            vec!["tenant", "catalog"],
            "the default hosts every module"
        );
        assert_eq!(
            hosting(&["all"]).unwrap(),
            vec!["tenant", "catalog", "ordering"]
        );
        assert!(hosting(&["none"]).unwrap().is_empty());
        assert!(hosting(&[]).unwrap().is_empty());
        assert_eq!(
            hosting(&["ordering", "tenant"]).unwrap(),
            vec!["tenant", "ordering"]
        );
        assert!(hosting(&["all", "catalog"]).is_err());
        assert!(
            hosting(&["nope"])
                .unwrap_err()
                .to_string()
                .contains("unknown module")
        );
    }
}
