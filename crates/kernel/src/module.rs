//! What a business module hands the server: its spec (JSON, checked when loaded), any industry
//! templates it owns, and a function that mounts its gRPC services. The server's module list is a
//! list of these, one line per module.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::JwtKeys;
use crate::cache::Cache;
use crate::config::Settings;
use crate::gate::Gate;

/// Everything a module's services may use.
#[derive(Clone, Debug)]
pub struct ModuleContext {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Tenant-keyed cache.
    pub cache: Arc<Cache>,
    /// Whether a caller's session and tenant still hold: the access layer asks it for every call,
    /// streams before every message, identity before renewing a session.
    pub gate: Arc<Gate>,
    /// Every module spec of this installation (the tenant module builds its registry from them).
    pub specs: Arc<Vec<&'static str>>,
    /// Every industry template of this installation.
    pub templates: Arc<Vec<&'static str>>,
    /// Every module's cross-field config rules, by module id (the tenant module checks configs
    /// with them).
    pub config_rules: Arc<Vec<(&'static str, ConfigRulesFn)>>,
    /// Largest message a service decodes.
    pub max_message_bytes: usize,
    /// All settings, read-only.
    pub settings: Arc<Settings>,
    /// Token signing keys.
    pub keys: Arc<JwtKeys>,
    /// Key encrypting secrets at rest (32 bytes).
    pub secret_key: Arc<[u8; 32]>,
    /// Base URL of WeChat's APIs (the real ones or a local fake).
    pub wechat_base_url: String,
    /// Base URL of WeChat Pay's APIs (the real ones or the local fake).
    pub wechat_pay_base_url: String,
    /// Public base URL of the HTTP side, for URLs handed to third parties (payment notifications).
    pub public_base_url: String,
    /// The platform channel to the platform's services (this process's own gRPC stack for the
    /// modules hosted here, `bff.upstream` or this process's port for the rest), for a module that
    /// calls another module's contract.
    pub platform: crate::platform::Platform,
    /// Where modules start their background jobs, so shutdown can stop and await them.
    pub jobs: Jobs,
    /// "Now" for deadlines and the jobs that act on them (a manual clock in tests).
    pub clock: crate::clock::Clock,
}

/// The background jobs of one process (expiry sweeps, refund retries, reminder senders).
///
/// A job is a loop of passes. Shutdown asks every job to stop, then waits for them before the
/// gRPC server closes: a pass often calls other modules through `platform`, so a pass cut off
/// half-way, or one whose calls find the server gone, would leave work half done until the next
/// start. A job therefore checks [`Jobs::stopping`] only between passes, never inside one.
///
/// Passes run only in the instance that leads ([`Jobs::leads`], `crate::leader`): one replica at a
/// time does the sweeping instead of every one repeating it.
#[derive(Clone, Debug, Default)]
pub struct Jobs {
    stop: CancellationToken,
    tracker: TaskTracker,
    leader: crate::leader::Leader,
    passes: Passes,
}

/// The passes of the periodic jobs, by name.
#[derive(Clone, Default)]
struct Passes(Arc<std::sync::Mutex<std::collections::BTreeMap<&'static str, Pass>>>);

impl std::fmt::Debug for Passes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .0
            .lock()
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        f.debug_tuple("Passes").field(&names).finish()
    }
}

/// One pass of a periodic job; answers how many things it handled.
type Pass =
    Arc<dyn Fn() -> futures::future::BoxFuture<'static, anyhow::Result<usize>> + Send + Sync>;

impl Jobs {
    /// Jobs whose passes run while `leader` says this instance leads.
    pub fn led_by(leader: crate::leader::Leader) -> Self {
        Self {
            leader,
            ..Self::default()
        }
    }

    /// Whether this instance should run a pass now; asked before every pass.
    pub async fn leads(&self) -> bool {
        self.leader.is_leader().await
    }

    /// Hands leadership on (after [`Jobs::stopped`]), so another instance sweeps at once.
    pub async fn resign(&self) {
        self.leader.resign().await;
    }

    /// Runs `pass` every `every` while this instance leads, until shutdown (a pass under way
    /// when shutdown begins runs to its end); a failed pass is logged and tried again at the
    /// next tick. The pass is also kept under `name` for [`Jobs::run_now`].
    pub fn every<F, Fut>(&self, name: &'static str, every: Duration, pass: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<usize>> + Send + 'static,
    {
        let pass: Pass = Arc::new(move || Box::pin(pass()));
        self.passes
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name, pass.clone());
        let jobs = self.clone();
        self.spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    // Stopping wins a tie with the tick: no new pass once shutdown has begun.
                    biased;
                    () = jobs.stopping() => break,
                    _ = tick.tick() => {}
                }
                // Another replica leads: it does this work.
                if !jobs.leads().await {
                    continue;
                }
                if let Err(e) = pass().await {
                    tracing::warn!(job = name, error = %e, "a background pass failed; retrying next tick");
                }
            }
        });
    }

    /// Runs one pass of the job kept under `name` now, whoever leads, and answers how many
    /// things it handled: for tests (with a manual [`crate::clock::Clock`]) and operators who
    /// will not wait for the next tick. A pass is safe beside a scheduled one (every job's
    /// steps are conditional updates).
    pub async fn run_now(&self, name: &str) -> anyhow::Result<usize> {
        let pass = self
            .passes
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no background job named {name} runs here"))?;
        pass().await
    }

    /// Runs `job` on the runtime; shutdown waits for it to return.
    pub fn spawn<F>(&self, job: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(job);
    }

    /// Completes once shutdown has begun; a job selects on it while it waits for its next pass.
    pub async fn stopping(&self) {
        self.stop.cancelled().await;
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Asks every job to stop after its current pass.
    pub fn stop(&self) {
        self.stop.cancel();
        self.tracker.close();
    }

    /// Completes when every job has returned (after [`Jobs::stop`]).
    pub async fn stopped(&self) {
        self.tracker.wait().await;
    }
}

/// The services a module mounted, by full gRPC name, for health reporting.
pub type Mounted = Vec<&'static str>;

/// Mounts a module's services on the router; returns their names.
pub type MountFn =
    fn(&ModuleContext, &mut tonic::service::RoutesBuilder) -> anyhow::Result<Mounted>;

/// One business module as the server sees it.
#[derive(Clone, Copy, Debug)]
pub struct ModuleDef {
    /// The module id, matching its spec.
    pub id: &'static str,
    /// The module spec (module.json).
    pub spec: &'static str,
    /// Industry templates the module contributes.
    pub templates: &'static [&'static str],
    /// Mounts its services; `None` for a module whose spec is published before its service ships.
    pub mount: Option<MountFn>,
    /// Its schema, oldest migration first (named `mYYYYMMDD_HHMMSS_<module>_<what>`): the
    /// server runs every module's in timestamp order, whatever the module.
    pub migrations: MigrationsFn,
    /// Its JSON routes for the mini-program (served by the BFF), with their OpenAPI paths.
    pub bff: Option<BffDef>,
    /// Demo data for the demo shop (`demo.seed`), after the shop exists; idempotent.
    pub demo: Option<DemoFn>,
    /// Rules of its config that its JSON Schema cannot say (one field against another: a lead
    /// time shorter than the horizon), checked by the tenant module after the schema passes, on
    /// the config with its defaults filled in.
    pub config_rules: Option<ConfigRulesFn>,
}

/// A module's cross-field config rules: the violations of `config` (defaults filled in), each
/// naming its field as `config.<key>` (`config.<key>.<index>.<key>` inside arrays), as the
/// schema's own violations do.
pub type ConfigRulesFn =
    fn(&serde_json::Map<String, serde_json::Value>) -> Vec<crate::error::FieldViolation>;

/// A module's part of the BFF: its routes and the OpenAPI document describing them, side by
/// side so neither is added without the other.
#[derive(Clone, Copy, Debug)]
pub struct BffDef {
    /// Its routes, given the BFF's shared state (see [`BffHost`]).
    pub routes: fn(&BffHost) -> anyhow::Result<axum::Router>,
    /// Its paths and schemas; the BFF merges every module's into `/api/openapi.json`.
    pub openapi: fn() -> utoipa::openapi::OpenApi,
}

/// The BFF's shared state (the platform channel, the tenant lookup by appid, the caches) as the
/// kernel, which sits below the BFF crate, can hand it on: `mm_bff::shared` reads it back.
#[derive(Clone)]
pub struct BffHost(pub std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl std::fmt::Debug for BffHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BffHost")
    }
}

/// What a module's demo data is for: the demo shop.
#[derive(Clone, Debug)]
pub struct DemoShop {
    /// The shop.
    pub tenant: crate::TenantId,
    /// Its mini-program's appid and AppSecret (known to the local WeChat fake).
    pub appid: &'static str,
    /// The AppSecret.
    pub app_secret: &'static str,
    /// Login and password of its admin (printed in the README: a demo).
    pub admin_login: &'static str,
    /// The admin's password.
    pub admin_password: &'static str,
}

/// Seeds a module's demo data for the demo shop.
pub type DemoFn = for<'a> fn(
    &'a ModuleContext,
    &'a DemoShop,
) -> futures::future::BoxFuture<'a, anyhow::Result<()>>;

pub use mm_migrations::{MigrationsFn, no_migrations};

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_job_finishes_its_pass_and_starts_no_other_once_stopping() {
        let jobs = Jobs::default();
        let passes = Arc::new(AtomicUsize::new(0));
        let (in_pass_tx, mut in_pass_rx) = tokio::sync::mpsc::channel(1);
        let release = Arc::new(tokio::sync::Notify::new());
        let (p, r, stop) = (passes.clone(), release.clone(), jobs.clone());
        jobs.spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    () = stop.stopping() => break,
                    () = std::future::ready(()) => {}
                }
                let _ = in_pass_tx.send(()).await;
                // A pass still under way when shutdown begins: shutdown waits for it.
                r.notified().await;
                p.fetch_add(1, Ordering::SeqCst);
            }
        });
        in_pass_rx.recv().await.expect("a pass started");
        jobs.stop();
        assert!(jobs.is_stopping());
        let cut = tokio::time::timeout(Duration::from_millis(50), jobs.stopped()).await;
        assert!(cut.is_err(), "stopped() returned with a pass under way");
        release.notify_one();
        tokio::time::timeout(Duration::from_secs(5), jobs.stopped())
            .await
            .expect("the job returns after its pass");
        assert_eq!(passes.load(Ordering::SeqCst), 1, "one whole pass, no other");
    }
}
