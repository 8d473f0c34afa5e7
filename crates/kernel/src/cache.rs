//! One cache interface over two backends: Redis (fred) when a URL is configured, an in-process moka
//! cache otherwise. Keys always carry the tenant, hash-tagged (`{ns}:{t:<tenant>}:<key>`) so a Redis
//! Cluster keeps one tenant's keys on one slot. Invalidations reach listeners in this process
//! directly and, with Redis, every other instance through pub/sub, so services and BFFs everywhere
//! drop what they hold.
//!
//! Redis is a cache and a bus, never a dependency of correctness or liveness:
//! - every command has a short timeout and fails at once, never queued, while the connection is
//!   down (fred's per-command `fail_fast`), so no caller waits on Redis for long;
//! - a circuit breaker skips Redis after a few consecutive failures; meanwhile entries live in the
//!   in-process moka cache (emptied when the breaker closes, so nothing from an earlier outage is
//!   served), throttle counters are counted in-process and events reach this process only;
//! - session revocation falls back to the database (a [`SessionLedger`] the identity module
//!   supplies) and fails closed (`SessionState::Unknown`) rather than accept what it cannot check;
//! - what could not be delivered (invalidations, revocation marks, events) is remembered and sent
//!   once Redis answers again; every instance whose subscription reconnects drops everything; a
//!   Redis that comes back empty has its revocation list rebuilt from the ledger, and until then
//!   its "not revoked" is not believed;
//! - an instance starts without Redis if it must, and joins it when it answers.
//!
//! A cache failure never fails a request: it is logged and the caller falls back to the database.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fred::clients::SubscriberClient;
use fred::prelude::*;
use fred::types::config::{Options, UnresponsiveConfig};
use tokio::sync::Notify;

use crate::config::CacheSettings;
use crate::ids::TenantId;

/// Something changed; holders of derived data must drop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// One tenant's data changed.
    Tenant(TenantId),
    /// Messages may have been missed (the subscription lagged or Redis reconnected): drop all.
    All,
}

/// Something that happened in a tenant, for live views such as the order board. Delivered to
/// subscribers in this process at once and, with Redis, to every other instance through pub/sub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The tenant it happened in; `None` means events may have been missed (Redis reconnected):
    /// every live view must reload.
    pub tenant: Option<TenantId>,
    /// What kind of thing, e.g. "ordering.order".
    pub topic: String,
    /// The encoded thing.
    pub payload: Bytes,
}

/// A function told of every invalidation.
pub type Listener = Arc<dyn Fn(&Invalidation) + Send + Sync>;

#[derive(Default, Clone)]
struct Listeners(Arc<RwLock<Vec<Listener>>>);

impl Listeners {
    fn notify(&self, inv: &Invalidation) {
        let list = match self.0.read() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        for l in list {
            l(inv);
        }
    }
}

/// What [`SessionLedger::is_revoked`] returns.
pub type LedgerFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<bool>> + Send + 'a>>;

/// What [`SessionLedger::revoked_since`] returns.
pub type RevokedSinceFuture<'a> =
    Pin<Box<dyn Future<Output = anyhow::Result<Vec<String>>> + Send + 'a>>;

/// The durable record of sessions (the identity module's table), asked whether a session was
/// revoked when Redis, which holds the fast revocation list, cannot answer. The kernel knows no
/// module, so the owner of sessions supplies this at start-up.
pub trait SessionLedger: Send + Sync {
    /// Whether `session` of a token bound to `tenant` (`None`: a platform operator) was revoked;
    /// a session the ledger does not know counts as revoked.
    fn is_revoked<'a>(&'a self, tenant: Option<TenantId>, session: &'a str) -> LedgerFuture<'a>;

    /// Every session revoked at or after `since`, to rebuild Redis's revocation list when Redis
    /// comes back empty.
    fn revoked_since(&self, since: chrono::DateTime<chrono::Utc>) -> RevokedSinceFuture<'_>;
}

/// What the cache can say about a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Not revoked.
    Live,
    /// Revoked: its tokens must be refused.
    Revoked,
    /// Neither Redis nor the database could answer: refuse for now rather than risk accepting a
    /// revoked session.
    Unknown,
}

/// How long a revocation learned from the ledger is remembered in-process. Revocation is
/// permanent, so remembering longer than any token lives is harmless; the bound is memory.
const LEDGER_REVOCATION_MEMORY: Duration = Duration::from_secs(24 * 3600);

/// Without Redis, how long the ledger's "live" is kept (see [`Cache::in_memory`]).
const LOCAL_LIVE_MEMORY: Duration = Duration::from_secs(60);

/// How long one ledger lookup may take before the session counts as unknown (and is refused).
const LEDGER_TIMEOUT: Duration = Duration::from_secs(1);

/// Upper bound on undelivered invalidations kept per outage; past it every instance is told to
/// drop everything instead.
const PENDING_TENANTS: usize = 10_000;

/// The channel payload that tells every instance to drop everything.
const INVALIDATE_ALL: &str = "*";

/// Platform key present once Redis's revocation list holds every revocation still in force. A
/// Redis that restarted empty lacks it: until it is rebuilt from the ledger, Redis's "not revoked"
/// is not believed.
const REVOCATIONS_COMPLETE: &str = "revocations-complete";

/// How long rebuilding the revocation list may read the ledger before it is tried again.
const SEED_TIMEOUT: Duration = Duration::from_secs(10);

type Breaker = failsafe::StateMachine<
    failsafe::failure_policy::ConsecutiveFailures<failsafe::backoff::Constant>,
    BreakerEvents,
>;

/// Told of breaker transitions: logs them, sets the availability gauge, and when Redis is back
/// empties the stand-in cache and wakes the resync task.
struct BreakerEvents {
    open: Arc<AtomicBool>,
    local: moka::future::Cache<String, Bytes>,
    resync: Arc<Notify>,
}

impl failsafe::Instrument for BreakerEvents {
    fn on_call_rejected(&self) {}

    fn on_open(&self) {
        if !self.open.swap(true, Ordering::SeqCst) {
            metrics::gauge!("mm_cache_redis_available").set(0.0);
            tracing::warn!("Redis unavailable: serving from the database and in-process cache");
        }
    }

    fn on_half_open(&self) {}

    fn on_closed(&self) {
        // Also called once when the breaker is built; only a real recovery is news.
        if self.open.swap(false, Ordering::SeqCst) {
            // Entries kept in-process during the outage go stale as soon as others write again:
            // the next outage starts empty.
            self.local.invalidate_all();
            metrics::gauge!("mm_cache_redis_available").set(1.0);
            tracing::info!("Redis available again");
            self.resync.notify_one();
        }
    }
}

/// What this instance failed to tell Redis while it was unavailable, to be sent when it is back.
#[derive(Default)]
struct Pending {
    /// Tenants whose invalidation was not published, with the full keys still to delete.
    tenants: HashMap<TenantId, HashSet<String>>,
    /// Too many tenants to list: tell every instance to drop everything.
    all: bool,
    /// Revoked sessions whose mark did not reach Redis, until when the mark must live.
    revocations: HashMap<String, Instant>,
    /// Events other instances missed: their live views must reload.
    events: bool,
    /// Redis's revocation list may be incomplete (new or restarted empty): rebuild it.
    seed: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.tenants.is_empty()
            && !self.all
            && self.revocations.is_empty()
            && !self.events
            && !self.seed
    }

    fn add_tenant(&mut self, tenant: TenantId, keys: Vec<String>) {
        if self.all {
            return;
        }
        if self.tenants.len() >= PENDING_TENANTS && !self.tenants.contains_key(&tenant) {
            // Keys left undeleted are versioned or expire with the cache's lifetime; the
            // broadcast is what matters, and "drop everything" covers every tenant.
            self.tenants.clear();
            self.all = true;
            return;
        }
        self.tenants.entry(tenant).or_default().extend(keys);
    }

    fn merge(&mut self, other: Pending) {
        for (t, keys) in other.tenants {
            self.add_tenant(t, keys.into_iter().collect());
        }
        self.all |= other.all;
        self.events |= other.events;
        self.seed |= other.seed;
        self.revocations.extend(other.revocations);
    }
}

/// The Redis side of the cache.
struct Redis {
    pool: Pool,
    /// Applied to every command: a timeout, one attempt, and an immediate error instead of a
    /// place in the queue while the connection is down.
    options: Options,
    _subscriber: SubscriberClient,
    breaker: Breaker,
    pending: Mutex<Pending>,
    resync: Arc<Notify>,
    /// Outer bound on one call, in case a command never reaches fred's own timeout.
    deadline: Duration,
    /// How long the resync task waits before trying undelivered work again.
    retry: Duration,
}

impl Drop for Redis {
    fn drop(&mut self) {
        // Lets the resync task notice the cache is gone and end.
        self.resync.notify_one();
    }
}

impl Redis {
    /// Runs one Redis call through the breaker; `None` when Redis is skipped or failed (the
    /// caller then falls back). Never waits longer than `deadline`.
    async fn call<T, F, Fut>(&self, op: &'static str, f: F) -> Option<T>
    where
        F: FnOnce(fred::clients::WithOptions<Pool>) -> Fut,
        Fut: Future<Output = Result<T, fred::error::Error>>,
    {
        if !self.breaker.is_call_permitted() {
            return None;
        }
        let client = self.pool.with_options(&self.options);
        match tokio::time::timeout(self.deadline, f(client)).await {
            Ok(Ok(v)) => {
                self.breaker.on_success();
                Some(v)
            }
            Ok(Err(e)) => {
                self.breaker.on_error();
                metrics::counter!("mm_cache_redis_failures_total").increment(1);
                tracing::debug!(op, error = %e, "Redis call failed");
                None
            }
            Err(_) => {
                self.breaker.on_error();
                metrics::counter!("mm_cache_redis_failures_total").increment(1);
                tracing::debug!(op, "Redis call timed out");
                None
            }
        }
    }

    /// Publishes on a channel through the breaker; whether it was delivered to Redis.
    async fn publish(&self, channel: String, message: String) -> bool {
        let client = self.pool.next_connected().with_options(&self.options);
        self.call("publish", move |_| async move {
            client.publish::<i64, _, _>(channel, message).await
        })
        .await
        .is_some()
    }

    fn remember(&self, f: impl FnOnce(&mut Pending)) {
        match self.pending.lock() {
            Ok(mut p) => f(&mut p),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
        self.resync.notify_one();
    }

    fn take_pending(&self) -> Pending {
        match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

/// The tenant-keyed cache. Cheap to clone through `Arc`.
pub struct Cache {
    redis: Option<Redis>,
    /// The whole cache without Redis; with Redis, its stand-in while Redis is unavailable.
    local: moka::future::Cache<String, Bytes>,
    namespace: String,
    ttl: Duration,
    listeners: Listeners,
    // In-process revocation marks: the whole list without Redis; with Redis, the sessions this
    // instance revoked or learned were revoked, refused even while Redis cannot be asked.
    marks: Mutex<HashMap<String, Instant>>,
    // Sessions the ledger said were live, trusted for `session_recheck` while Redis is down.
    live_sessions: moka::future::Cache<String, ()>,
    // The durable record of sessions, and how long a revoked session's tokens can still live.
    ledger: OnceLock<(Arc<dyn SessionLedger>, Duration)>,
    // In-process throttle counters: the only ones without Redis, the stand-in while it is down.
    counters: Mutex<HashMap<String, (u64, Instant)>>,
    events: tokio::sync::broadcast::Sender<Event>,
    // Tells our own events apart when Redis echoes them back.
    instance: String,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.backend_name())
            .field("ns", &self.namespace)
            .finish()
    }
}

/// What carries news between holders: invalidation listeners, live events, and who we are on the
/// wire.
struct Bus {
    listeners: Listeners,
    events: tokio::sync::broadcast::Sender<Event>,
    instance: String,
}

fn local_cache(ttl: Duration) -> moka::future::Cache<String, Bytes> {
    moka::future::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(ttl)
        .build()
}

impl Cache {
    fn with_parts(
        redis: Option<Redis>,
        local: moka::future::Cache<String, Bytes>,
        namespace: &str,
        ttl: Duration,
        session_recheck: Duration,
        bus: Bus,
    ) -> Self {
        let Bus {
            listeners,
            events,
            instance,
        } = bus;
        Self {
            redis,
            local,
            namespace: namespace.to_string(),
            ttl,
            listeners,
            marks: Default::default(),
            live_sessions: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(session_recheck.max(Duration::from_millis(1)))
                .build(),
            ledger: OnceLock::new(),
            counters: Default::default(),
            events,
            instance,
        }
    }

    /// The in-process cache, for a single instance.
    pub fn in_memory(namespace: &str, ttl: Duration) -> Arc<Self> {
        Arc::new(Self::with_parts(
            None,
            local_cache(ttl),
            namespace,
            ttl,
            // One instance revokes through this cache, which drops the session's "live" entry
            // first: the ledger need only be asked about sessions not seen since the start.
            LOCAL_LIVE_MEMORY,
            Bus {
                listeners: Listeners::default(),
                events: tokio::sync::broadcast::channel(EVENT_BUFFER).0,
                instance: uuid::Uuid::new_v4().to_string(),
            },
        ))
    }

    /// Connects to Redis and starts listening for invalidations from every instance.
    pub async fn redis(url: &str, settings: &CacheSettings) -> anyhow::Result<Arc<Self>> {
        let namespace = settings.namespace.as_str();
        let ttl = Duration::from_secs(settings.ttl_secs);
        let timeout = Duration::from_millis(settings.command_timeout_ms.max(1));
        let mut config =
            Config::from_url(url).map_err(|e| anyhow::anyhow!("Invalid Redis URL: {e}"))?;
        // Redis down at start-up is no reason not to start: connect in the background and keep
        // trying, as after any later disconnection.
        config.fail_fast = false;
        // Reconnect forever, quickly: the longest pause bounds how late we notice Redis is back.
        let reconnect_max = u32::try_from(settings.reconnect_max_ms)
            .unwrap_or(u32::MAX)
            .max(50);
        let policy = ReconnectPolicy::new_exponential(0, 50, reconnect_max, 2);
        let connection = ConnectionConfig {
            // A dead or black-holed server must not stall reconnection (nor start-up) for long.
            connection_timeout: Duration::from_millis(500),
            internal_command_timeout: Duration::from_millis(500),
            // A command in flight when the connection drops fails instead of being replayed
            // later: its caller has already moved on to the database.
            max_command_attempts: 1,
            // Commands beyond this wait for nobody: they fail with a backpressure error.
            max_command_buffer_len: 1024,
            // A server that stops answering (hung, partitioned) is disconnected and reconnected
            // rather than left to time out every command.
            unresponsive: UnresponsiveConfig {
                max_timeout: Some(Duration::from_secs(2)),
                interval: Duration::from_millis(500),
            },
            ..ConnectionConfig::default()
        };
        let mut builder = Builder::from_config(config);
        builder
            .set_policy(policy)
            .set_connection_config(connection)
            .set_performance_config(PerformanceConfig {
                default_command_timeout: timeout,
                ..PerformanceConfig::default()
            });
        let pool = builder.build_pool(4)?;
        // The subscriber is on no request path: it gets a patient timeout, so re-subscribing
        // after a reconnect does not fail on a busy server.
        builder.set_performance_config(PerformanceConfig {
            default_command_timeout: Duration::from_secs(5),
            ..PerformanceConfig::default()
        });
        let subscriber = builder.build_subscriber_client()?;
        let channel = format!("{namespace}:invalidate");
        let events_channel = format!("{namespace}:events");
        let channels = vec![channel, events_channel.clone()];
        let events = tokio::sync::broadcast::channel(EVENT_BUFFER).0;
        let instance = uuid::Uuid::new_v4().to_string();

        let local = local_cache(ttl);
        let resync = Arc::new(Notify::new());
        let breaker_open = Arc::new(AtomicBool::new(false));
        let breaker = failsafe::Config::new()
            .failure_policy(failsafe::failure_policy::consecutive_failures(
                settings.breaker_failures.max(1),
                failsafe::backoff::constant(Duration::from_millis(settings.breaker_open_ms)),
            ))
            .instrument(BreakerEvents {
                open: breaker_open,
                local: local.clone(),
                resync: resync.clone(),
            })
            .build();
        metrics::gauge!("mm_cache_redis_available").set(1.0);

        let listeners = Listeners::default();
        // After every connection, the first included: subscribe (again), so invalidations keep
        // flowing; then, since those published while we were disconnected are lost, every holder
        // drops everything rather than serve what may be stale (in this order, so nothing
        // published between the two is missed). A reconnect also means Redis is back: close the
        // breaker now instead of waiting for its next probe.
        let on_reconnect = listeners.clone();
        let resync_events = events.clone();
        let reset = breaker.clone();
        let resubscriber = subscriber.clone();
        let to_subscribe = channels.clone();
        drop(subscriber.on_reconnect(move |_| {
            let l = on_reconnect.clone();
            let r = resync_events.clone();
            let b = reset.clone();
            let sub = resubscriber.clone();
            let chans = to_subscribe.clone();
            async move {
                // Without the subscription this instance would never hear of another change:
                // keep trying for a while (each try is bounded by the subscriber's timeout).
                for attempt in 1..=20 {
                    match sub.subscribe(chans.clone()).await {
                        Ok(()) => break,
                        Err(e) => {
                            tracing::error!(error = %e, attempt, "re-subscribing to invalidations failed");
                            tokio::time::sleep(Duration::from_millis(250)).await;
                        }
                    }
                }
                b.reset();
                l.notify(&Invalidation::All);
                let _ = r.send(Event {
                    tenant: None,
                    topic: String::new(),
                    payload: Bytes::new(),
                });
                Ok(())
            }
        }));
        for client in pool.clients() {
            let b = breaker.clone();
            drop(client.on_reconnect(move |_| {
                let b = b.clone();
                async move {
                    b.reset();
                    Ok(())
                }
            }));
        }
        let mut rx = subscriber.message_rx();
        let notify = listeners.clone();
        let (local_events, me) = (events.clone(), instance.clone());
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(msg) if msg.channel == events_channel => {
                        if let Some(text) = msg.value.as_string() {
                            match decode_event(&text, &me) {
                                Some(Ok(e)) => drop(local_events.send(e)),
                                Some(Err(())) => {
                                    tracing::warn!("ignored malformed event")
                                }
                                None => {}
                            }
                        }
                    }
                    Ok(msg) => {
                        let Some(text) = msg.value.as_string() else {
                            continue;
                        };
                        if text == INVALIDATE_ALL {
                            notify.notify(&Invalidation::All);
                            continue;
                        }
                        match TenantId::parse(&text, "tenant") {
                            Ok(tenant) => notify.notify(&Invalidation::Tenant(tenant)),
                            Err(_) => {
                                tracing::warn!(message = %text, "ignored malformed invalidation")
                            }
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(
                            missed = n,
                            "invalidation listener lagged; dropping everything"
                        );
                        notify.notify(&Invalidation::All);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        drop(pool.connect());
        drop(subscriber.connect());
        // Wait briefly for Redis to answer; an unreachable one is left to the background
        // reconnection. One that answers is subscribed to before we go on, so no invalidation
        // published after start-up is missed.
        let reachable = tokio::time::timeout(Duration::from_secs(1), pool.wait_for_connect()).await;
        let started = match reachable {
            Ok(Ok(())) => tokio::time::timeout(Duration::from_secs(5), async {
                subscriber.wait_for_connect().await?;
                subscriber.subscribe(channels).await
            })
            .await
            .map_err(|_| "timed out subscribing".to_string())
            .and_then(|r| r.map_err(|e| e.to_string())),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("unreachable".to_string()),
        };
        if let Err(error) = started {
            let at = crate::db::redact(url);
            tracing::error!(%error, redis = %at, "Redis unavailable at start-up: starting without it until it answers");
        }
        let redis = Redis {
            pool,
            options: Options {
                timeout: Some(timeout),
                max_attempts: Some(1),
                fail_fast: true,
                ..Options::default()
            },
            _subscriber: subscriber,
            breaker,
            pending: Mutex::new(Pending::default()),
            resync: resync.clone(),
            // fred's own timeout normally fires first; this one is the backstop.
            deadline: timeout * 2,
            retry: Duration::from_millis(settings.breaker_open_ms.max(50)),
        };
        let cache = Arc::new_cyclic(|weak: &Weak<Cache>| {
            tokio::spawn(resync_loop(weak.clone(), resync));
            Self::with_parts(
                Some(redis),
                local,
                namespace,
                ttl,
                Duration::from_millis(settings.session_recheck_ms),
                Bus {
                    listeners,
                    events,
                    instance,
                },
            )
        });
        Ok(cache)
    }

    /// Gives the cache the durable record of sessions, asked when Redis cannot answer, and how
    /// long a revoked session's tokens can still live (how far back to rebuild Redis's revocation
    /// list from). Set once at start-up; a second ledger is ignored.
    pub fn set_session_ledger(&self, ledger: Arc<dyn SessionLedger>, token_life: Duration) {
        if self.ledger.set((ledger, token_life)).is_err() {
            tracing::warn!("a session ledger was already set; ignoring another");
            return;
        }
        if let Some(r) = &self.redis {
            // Redis may have lost its revocation list while this instance was down.
            r.remember(|p| p.seed = true);
        }
    }

    /// "redis" or "memory".
    pub fn backend_name(&self) -> &'static str {
        match self.redis {
            None => "memory",
            Some(_) => "redis",
        }
    }

    /// Whether Redis is configured and its breaker lets calls through (for tests and health).
    pub fn redis_available(&self) -> bool {
        self.redis
            .as_ref()
            .is_some_and(|r| r.breaker.is_call_permitted())
    }

    /// The full key for a tenant-scoped entry.
    pub fn key(&self, tenant: &TenantId, key: &str) -> String {
        format!("{}:{{t:{tenant}}}:{key}", self.namespace)
    }

    /// Reads an entry; any backend error reads as a miss.
    pub async fn get(&self, tenant: &TenantId, key: &str) -> Option<Bytes> {
        let k = self.key(tenant, key);
        let Some(r) = &self.redis else {
            return self.local.get(&k).await;
        };
        let kk = k.clone();
        match r
            .call(
                "get",
                |c| async move { c.get::<Option<Bytes>, _>(kk).await },
            )
            .await
        {
            Some(v) => v,
            None => self.local.get(&k).await,
        }
    }

    /// Writes an entry with the configured lifetime.
    pub async fn set(&self, tenant: &TenantId, key: &str, value: Bytes) {
        let k = self.key(tenant, key);
        let Some(r) = &self.redis else {
            return self.local.insert(k, value).await;
        };
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(300).max(1);
        let (kk, v) = (k.clone(), value.clone());
        let stored = r
            .call("set", |c| async move {
                c.set::<(), _, _>(kk, v, Some(Expiration::EX(ttl)), None, false)
                    .await
            })
            .await;
        if stored.is_none() {
            self.local.insert(k, value).await;
        }
    }

    /// Drops `keys` of a tenant and tells every instance that the tenant's data changed. Listeners
    /// in this process are told before this returns, so a caller reads its own write; other
    /// instances hear of it through Redis shortly after, or, if Redis is unavailable, once it is
    /// back (the invalidation is remembered and sent again). Never fails and never waits long.
    pub async fn invalidate(&self, tenant: &TenantId, keys: &[&str]) {
        let full: Vec<String> = keys.iter().map(|k| self.key(tenant, k)).collect();
        self.listeners.notify(&Invalidation::Tenant(*tenant));
        for k in &full {
            self.local.invalidate(k).await;
        }
        if let Some(r) = &self.redis
            && !self.deliver_invalidation(r, tenant, full.clone()).await
        {
            tracing::warn!(%tenant, "invalidation not delivered; will send it when Redis is back");
            r.remember(|p| p.add_tenant(*tenant, full));
        }
    }

    /// Deletes the keys in Redis and publishes the tenant's invalidation; whether both happened.
    async fn deliver_invalidation(&self, r: &Redis, tenant: &TenantId, keys: Vec<String>) -> bool {
        let deleted = keys.is_empty()
            || r.call("del", |c| async move { c.del::<i64, _>(keys).await })
                .await
                .is_some();
        deleted
            && r.publish(format!("{}:invalidate", self.namespace), tenant.to_string())
                .await
    }

    /// Sends what could not be delivered while Redis was unavailable; whether nothing is left.
    async fn resync(&self) -> bool {
        let Some(r) = &self.redis else {
            return true;
        };
        let work = r.take_pending();
        if work.is_empty() {
            return true;
        }
        let mut left = Pending::default();
        // Revocations first: they guard correctness, the rest only freshness.
        if work.seed && !self.seed_revocations(r).await {
            left.seed = true;
        }
        let now = Instant::now();
        for (sid, until) in work.revocations {
            let Some(remaining) = until.checked_duration_since(now) else {
                continue;
            };
            if !self.mark_revoked_in_redis(r, &sid, remaining).await {
                left.revocations.insert(sid, until);
            }
        }
        for (tenant, keys) in work.tenants {
            let keys: Vec<String> = keys.into_iter().collect();
            if !self.deliver_invalidation(r, &tenant, keys.clone()).await {
                left.add_tenant(tenant, keys);
            }
        }
        if work.all
            && !r
                .publish(
                    format!("{}:invalidate", self.namespace),
                    INVALIDATE_ALL.to_string(),
                )
                .await
        {
            left.all = true;
        }
        if work.events {
            let reload = Event {
                tenant: None,
                topic: String::new(),
                payload: Bytes::new(),
            };
            let text = encode_event(&self.instance, &reload);
            if !r.publish(format!("{}:events", self.namespace), text).await {
                left.events = true;
            }
        }
        if left.is_empty() {
            tracing::info!("undelivered invalidations and revocations sent to Redis");
            return true;
        }
        match r.pending.lock() {
            Ok(mut p) => p.merge(left),
            Err(poisoned) => poisoned.into_inner().merge(left),
        }
        false
    }

    fn platform_key(&self, key: &str) -> String {
        format!("{}:p:{key}", self.namespace)
    }

    /// Makes Redis's revocation list complete again if it is not (Redis new, or restarted
    /// empty): every session the ledger says was revoked within a token's life is marked, then
    /// the list is flagged complete. Whether it is complete now.
    async fn seed_revocations(&self, r: &Redis) -> bool {
        let Some((ledger, token_life)) = self.ledger.get() else {
            return true;
        };
        let flag = self.platform_key(REVOCATIONS_COMPLETE);
        let f = flag.clone();
        match r
            .call(
                "exists complete",
                |c| async move { c.exists::<i64, _>(f).await },
            )
            .await
        {
            None => return false,
            Some(n) if n > 0 => return true,
            Some(_) => {}
        }
        let since = chrono::Utc::now()
            - chrono::Duration::from_std(*token_life).unwrap_or(chrono::Duration::hours(1));
        let sessions = match tokio::time::timeout(SEED_TIMEOUT, ledger.revoked_since(since)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "reading revoked sessions failed");
                return false;
            }
            Err(_) => {
                tracing::warn!("reading revoked sessions timed out");
                return false;
            }
        };
        for sid in &sessions {
            if !self.mark_revoked_in_redis(r, sid, *token_life).await {
                return false;
            }
        }
        let done = r
            .call("set complete", |c| async move {
                c.set::<(), _, _>(flag, "1", None, None, false).await
            })
            .await
            .is_some();
        if done {
            tracing::info!(
                revoked = sessions.len(),
                "Redis's revocation list rebuilt from the database"
            );
        }
        done
    }

    async fn mark_revoked_in_redis(&self, r: &Redis, session: &str, ttl: Duration) -> bool {
        let k = self.platform_key(&format!("revoked:{session}"));
        let secs = i64::try_from(ttl.as_secs()).unwrap_or(900).max(1);
        r.call("set revoked", |c| async move {
            c.set::<(), _, _>(k, "1", Some(Expiration::EX(secs)), None, false)
                .await
        })
        .await
        .is_some()
    }

    fn mark_locally(&self, session: &str, ttl: Duration) {
        let mut m = match self.marks.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        if m.len() > 10_000 {
            m.retain(|_, until| *until > now);
        }
        let until = now + ttl;
        let e = m.entry(session.to_string()).or_insert(until);
        *e = (*e).max(until);
    }

    fn marked_locally(&self, session: &str) -> bool {
        let m = match self.marks.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        m.get(session).is_some_and(|until| *until > Instant::now())
    }

    /// Marks a session revoked for `ttl` (as long as its access tokens can live). This instance
    /// refuses it at once whatever Redis does; other instances learn it from Redis (sent again
    /// when Redis is back if it is unavailable now) or, while Redis is down, from the ledger.
    pub async fn revoke_session(&self, session: &str, ttl: Duration) {
        self.mark_locally(session, ttl);
        self.live_sessions.invalidate(session).await;
        if let Some(r) = &self.redis
            && !self.mark_revoked_in_redis(r, session, ttl).await
        {
            tracing::warn!(
                session,
                "session revocation not written to Redis; will write it when Redis is back"
            );
            let until = Instant::now() + ttl;
            r.remember(|p| {
                p.revocations.insert(session.to_string(), until);
            });
        }
    }

    /// Whether the session of a token bound to `tenant` was revoked. Asks, in order: this
    /// instance's marks, Redis, and (when Redis cannot answer, or without Redis) the session
    /// ledger, whose "live" answer is trusted for `session_recheck_ms` (without Redis, for
    /// [`LOCAL_LIVE_MEMORY`]). `Unknown` when none can answer.
    pub async fn session_state(&self, tenant: Option<TenantId>, session: &str) -> SessionState {
        if self.marked_locally(session) {
            return SessionState::Revoked;
        }
        if let Some(r) = &self.redis
            && let Some(state) = self.redis_session_state(r, session).await
        {
            return state;
        }
        // No Redis (one instance, whose marks die with the process: the ledger is what survives
        // a restart) or Redis cannot say: ask the durable record.
        self.ledger_session_state(tenant, session).await
    }

    /// [`Cache::session_state`] without Redis: this instance's marks, then the session ledger
    /// (its "live" kept as there). For sessions whose tokens may outlive Redis's revocation list
    /// (an operator token printed by the CLI lives for hours; a mark in Redis only as long as a
    /// login's access token).
    pub async fn ledger_session_state(
        &self,
        tenant: Option<TenantId>,
        session: &str,
    ) -> SessionState {
        if self.marked_locally(session) {
            return SessionState::Revoked;
        }
        if self.live_sessions.get(session).await.is_some() {
            return SessionState::Live;
        }
        let Some((ledger, _)) = self.ledger.get() else {
            if self.redis.is_none() {
                // Nothing durable to ask (tools, unit tests): every revocation went through us.
                return SessionState::Live;
            }
            tracing::warn!("Redis unavailable and no session ledger: refusing the session for now");
            return SessionState::Unknown;
        };
        match tokio::time::timeout(LEDGER_TIMEOUT, ledger.is_revoked(tenant, session)).await {
            Ok(Ok(true)) => {
                self.mark_locally(session, LEDGER_REVOCATION_MEMORY);
                SessionState::Revoked
            }
            Ok(Ok(false)) => {
                self.live_sessions.insert(session.to_string(), ()).await;
                SessionState::Live
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "session ledger lookup failed");
                SessionState::Unknown
            }
            Err(_) => {
                tracing::warn!("session ledger lookup timed out");
                SessionState::Unknown
            }
        }
    }

    /// Redis's answer about a session, when it can give one worth believing.
    async fn redis_session_state(&self, r: &Redis, session: &str) -> Option<SessionState> {
        let mark = self.platform_key(&format!("revoked:{session}"));
        let complete = self.platform_key(REVOCATIONS_COMPLETE);
        // Asked on every authenticated call, so in one command where one Redis holds every key.
        // Under Redis Cluster the two keys (platform keys carry no hash tag) may live on
        // different slots, so there it takes two; a hash tag would have renamed the keys, and an
        // instance of the release before would not see marks written under the new names.
        let (revoked, complete) = if r.pool.is_clustered() {
            let (revoked, complete) = r
                .call("exists revoked", |c| async move {
                    tokio::try_join!(c.exists::<i64, _>(mark), c.exists::<i64, _>(complete))
                })
                .await?;
            (revoked > 0, complete > 0)
        } else {
            let found: Vec<Option<Bytes>> = r
                .call("mget revoked", |c| async move {
                    c.mget(vec![mark, complete]).await
                })
                .await?;
            let set = |i: usize| found.get(i).is_some_and(Option::is_some);
            (set(0), set(1))
        };
        if revoked {
            return Some(SessionState::Revoked);
        }
        if complete || self.ledger.get().is_none() {
            return Some(SessionState::Live);
        }
        // Redis is back but empty: its "not revoked" means nothing until the list is rebuilt, so
        // ask the ledger meanwhile.
        r.remember(|p| p.seed = true);
        None
    }

    fn local_hit(&self, k: String, window: Duration) -> u64 {
        let Ok(mut m) = self.counters.lock() else {
            return 0;
        };
        let now = Instant::now();
        if m.len() > 10_000 {
            m.retain(|_, (_, until)| *until > now);
        }
        let e = m.entry(k).or_insert((0, now + window));
        if e.1 <= now {
            *e = (0, now + window);
        }
        e.0 += 1;
        e.0
    }

    fn local_hits(&self, k: &str) -> u64 {
        self.counters
            .lock()
            .ok()
            .and_then(|m| {
                m.get(k)
                    .filter(|(_, until)| *until > Instant::now())
                    .map(|(n, _)| *n)
            })
            .unwrap_or(0)
    }

    /// Counts an event under `key` in a window of `window` and returns the count so far; the
    /// window starts at the first event. Used for login throttling across instances; while Redis
    /// is unavailable, counted in this instance only.
    pub async fn hit(&self, key: &str, window: Duration) -> u64 {
        let k = self.platform_key(&format!("hits:{key}"));
        let Some(r) = &self.redis else {
            return self.local_hit(k, window);
        };
        let secs = i64::try_from(window.as_secs()).unwrap_or(60).max(1);
        let kk = k.clone();
        // The window is set when the counter is created (SET NX EX), not by a later EXPIRE that
        // a timeout could lose, which would leave a counter that never expires and an account
        // locked for good.
        let n = r
            .call("incr", |c| async move {
                c.set::<(), _, _>(
                    &kk,
                    0,
                    Some(Expiration::EX(secs)),
                    Some(SetOptions::NX),
                    false,
                )
                .await?;
                c.incr::<u64, _>(kk).await
            })
            .await;
        match n {
            // Failures counted here while Redis was unavailable still count.
            Some(n) => n + self.local_hits(&k),
            None => self.local_hit(k, window),
        }
    }

    /// The count under `key` in its current window, without counting.
    pub async fn hits(&self, key: &str) -> u64 {
        let k = self.platform_key(&format!("hits:{key}"));
        let local = self.local_hits(&k);
        let Some(r) = &self.redis else {
            return local;
        };
        let remote = r
            .call(
                "get hits",
                |c| async move { c.get::<Option<u64>, _>(k).await },
            )
            .await
            .flatten()
            .unwrap_or(0);
        // Counted here only when Redis could not count them, so the two never overlap.
        remote + local
    }

    /// Forgets the count under `key` (a successful login clears its failures).
    pub async fn clear_hits(&self, key: &str) {
        let k = self.platform_key(&format!("hits:{key}"));
        if let Ok(mut m) = self.counters.lock() {
            m.remove(&k);
        }
        if let Some(r) = &self.redis {
            r.call("del hits", |c| async move { c.del::<i64, _>(k).await })
                .await;
        }
    }

    /// Tells live views in every instance that something happened in a tenant. Best effort: a
    /// subscriber that falls behind is told to reload (a lagged receiver), never blocks the caller;
    /// instances that missed events while Redis was unavailable are told to reload once it is back.
    pub async fn publish(&self, tenant: &TenantId, topic: &str, payload: Bytes) {
        let event = Event {
            tenant: Some(*tenant),
            topic: topic.to_string(),
            payload,
        };
        if let Some(r) = &self.redis {
            let channel = format!("{}:events", self.namespace);
            let text = encode_event(&self.instance, &event);
            if !r.publish(channel, text).await {
                r.remember(|p| p.events = true);
            }
        }
        let _ = self.events.send(event);
    }

    /// Every event from now on, from this and (with Redis) every other instance.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Registers a function told of invalidations from this and (with Redis) every other
    /// instance. It runs on the invalidating task, so it must be quick and must not block.
    pub fn on_invalidate(&self, listener: Listener) {
        match self.listeners.0.write() {
            Ok(mut l) => l.push(listener),
            Err(poisoned) => poisoned.into_inner().push(listener),
        }
    }
}

/// Sends undelivered work whenever told (something was not delivered, or Redis came back), trying
/// again every `retry` until all is delivered. Ends when the cache is dropped.
async fn resync_loop(cache: Weak<Cache>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        loop {
            let Some(c) = cache.upgrade() else {
                return;
            };
            if c.resync().await {
                break;
            }
            let retry = c.redis.as_ref().map_or(Duration::from_secs(1), |r| r.retry);
            drop(c);
            tokio::time::sleep(retry).await;
        }
    }
}

/// How many events a slow subscriber may fall behind before it is told to reload.
const EVENT_BUFFER: usize = 1024;

fn encode_event(instance: &str, e: &Event) -> String {
    use base64::Engine as _;
    let tenant = e.tenant.map(|t| t.to_string()).unwrap_or_default();
    format!(
        "{instance}|{tenant}|{}|{}",
        e.topic,
        base64::engine::general_purpose::STANDARD.encode(&e.payload)
    )
}

/// `None` for our own events (already delivered locally), `Some(Err)` for garbage.
fn decode_event(text: &str, me: &str) -> Option<Result<Event, ()>> {
    use base64::Engine as _;
    let mut parts = text.splitn(4, '|');
    let (Some(instance), Some(tenant), Some(topic), Some(payload)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Some(Err(()));
    };
    if instance == me {
        return None;
    }
    let parsed = (|| {
        Ok(Event {
            // No tenant: the sender missed publishing events (Redis was unavailable), so every
            // live view must reload.
            tenant: if tenant.is_empty() {
                None
            } else {
                Some(TenantId::parse(tenant, "tenant").map_err(|_| ())?)
            },
            topic: topic.to_string(),
            payload: base64::engine::general_purpose::STANDARD
                .decode(payload)
                .map_err(|_| ())?
                .into(),
        })
    })();
    Some(parsed)
}

#[cfg(test)]
mod event_tests {
    use super::*;

    #[test]
    fn events_survive_the_wire_and_our_own_are_skipped() {
        let e = Event {
            tenant: Some(TenantId::new()),
            topic: "ordering.order".into(),
            payload: Bytes::from_static(b"\x00|bin\xff"),
        };
        let text = encode_event("a", &e);
        assert_eq!(decode_event(&text, "b"), Some(Ok(e)));
        assert_eq!(decode_event(&text, "a"), None);
        assert_eq!(decode_event("garbage", "b"), Some(Err(())));
        let reload = Event {
            tenant: None,
            topic: String::new(),
            payload: Bytes::new(),
        };
        assert_eq!(
            decode_event(&encode_event("a", &reload), "b"),
            Some(Ok(reload))
        );
    }

    #[test]
    fn too_many_undelivered_tenants_become_one_invalidate_all() {
        let mut p = Pending::default();
        for _ in 0..PENDING_TENANTS {
            p.add_tenant(TenantId::new(), vec!["k".into()]);
        }
        assert!(!p.all);
        p.add_tenant(TenantId::new(), vec!["k".into()]);
        assert!(p.all);
        assert!(p.tenants.is_empty());
        assert!(!p.is_empty());
    }

    #[tokio::test]
    async fn subscribers_in_this_process_hear_published_events() {
        let cache = Cache::in_memory("t", Duration::from_secs(60));
        let mut rx = cache.subscribe();
        let t = TenantId::new();
        cache.publish(&t, "x", Bytes::from_static(b"1")).await;
        let got = rx.recv().await.unwrap();
        assert_eq!(got.tenant, Some(t));
        assert_eq!(got.payload, Bytes::from_static(b"1"));
    }
}

#[cfg(test)]
mod outage_tests {
    //! Against a real redis-server of the test's own (never the shared one), killed and restarted.

    use std::process::{Child, Command, Stdio};

    use super::*;

    struct RedisServer {
        child: Option<Child>,
    }

    impl RedisServer {
        async fn start(port: u16) -> Self {
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server is installed");
            let deadline = Instant::now() + Duration::from_secs(10);
            while tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
            {
                assert!(Instant::now() < deadline, "redis-server did not start");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Self { child: Some(child) }
        }

        fn kill(&mut self) {
            if let Some(mut c) = self.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    impl Drop for RedisServer {
        fn drop(&mut self) {
            self.kill();
        }
    }

    /// Says "revoked" for sessions named so, "live" for the rest.
    struct FakeLedger;

    impl SessionLedger for FakeLedger {
        fn is_revoked<'a>(&'a self, _: Option<TenantId>, session: &'a str) -> LedgerFuture<'a> {
            Box::pin(async move { Ok(session.starts_with("revoked")) })
        }

        fn revoked_since(&self, _: chrono::DateTime<chrono::Utc>) -> RevokedSinceFuture<'_> {
            Box::pin(async { Ok(vec!["revoked-elsewhere".to_string()]) })
        }
    }

    fn settings(port: u16) -> CacheSettings {
        let mut s = crate::config::Settings::default().cache;
        s.redis_url = Some(format!("redis://127.0.0.1:{port}"));
        s.namespace = format!("mmtest-{}", uuid::Uuid::new_v4().simple());
        s
    }

    /// Polls `f` until it holds or `limit` passes.
    async fn eventually(limit: Duration, mut f: impl AsyncFnMut() -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if f().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    /// Below the ephemeral range, where no outgoing connection can take the port between
    /// choosing it and redis-server binding it (mm_testkit::free_port, which the kernel cannot
    /// depend on, says more).
    fn free_port() -> u16 {
        let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
            .unwrap_or(32768);
        (0..200)
            .map(|_| 10_000 + u16::try_from(uuid::Uuid::new_v4().as_u128() % 20_000).unwrap_or(0))
            .filter(|p| *p < low)
            .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .expect("a free port below the ephemeral range")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cache_starts_without_redis_and_joins_it_when_it_answers() {
        let port = free_port();
        let settings = settings(port);
        let url = settings.redis_url.clone().expect("url");
        let started = Instant::now();
        let cache = Cache::redis(&url, &settings)
            .await
            .expect("starts without Redis");
        assert!(started.elapsed() < Duration::from_secs(3));
        let heard = Arc::new(Mutex::new(Vec::new()));
        let h = heard.clone();
        cache.on_invalidate(Arc::new(move |inv| {
            if let Ok(mut v) = h.lock() {
                v.push(inv.clone());
            }
        }));
        let t = TenantId::new();
        let started = Instant::now();
        assert_eq!(cache.get(&t, "k").await, None);
        cache.set(&t, "k", Bytes::from_static(b"v")).await;
        assert_eq!(cache.get(&t, "k").await, Some(Bytes::from_static(b"v")));
        assert!(started.elapsed() < Duration::from_millis(500));

        let _redis = RedisServer::start(port).await;
        let client = Builder::from_config(Config::from_url(&url).expect("url"))
            .build()
            .expect("client");
        client.init().await.expect("connect");
        let k = cache.key(&t, "k2");
        assert!(
            eventually(Duration::from_secs(1), async || {
                cache.set(&t, "k2", Bytes::from_static(b"v2")).await;
                client.exists::<i64, _>(&k).await.unwrap_or(0) == 1
            })
            .await,
            "entries reach Redis once it answers"
        );
        // Subscribed, though Redis was not there to subscribe to at start-up.
        let other = TenantId::new();
        let channel = format!("{}:invalidate", settings.namespace);
        assert!(
            eventually(Duration::from_secs(2), async || {
                let _ = client
                    .publish::<i64, _, _>(&channel, other.to_string())
                    .await;
                heard
                    .lock()
                    .is_ok_and(|v| v.contains(&Invalidation::Tenant(other)))
            })
            .await,
            "invalidations from other instances are heard"
        );
        let _ = client.quit().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dead_redis_is_skipped_quickly_and_rejoined_when_it_returns() {
        let port = free_port();
        let mut redis = RedisServer::start(port).await;
        let settings = settings(port);
        let url = settings.redis_url.clone().expect("url");
        let cache = Cache::redis(&url, &settings).await.expect("connects");
        cache.set_session_ledger(Arc::new(FakeLedger), Duration::from_secs(60));
        let t = TenantId::new();
        cache.set(&t, "k", Bytes::from_static(b"v1")).await;
        assert_eq!(cache.get(&t, "k").await, Some(Bytes::from_static(b"v1")));

        redis.kill();
        let started = Instant::now();
        for _ in 0..20 {
            assert_eq!(cache.get(&t, "missing").await, None);
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "20 reads against a dead Redis took {:?}",
            started.elapsed()
        );
        assert!(!cache.redis_available(), "the breaker opened");
        // Entries live in-process meanwhile; throttle counters count in-process.
        cache.set(&t, "k", Bytes::from_static(b"v2")).await;
        assert_eq!(cache.get(&t, "k").await, Some(Bytes::from_static(b"v2")));
        assert_eq!(cache.hit("login:x", Duration::from_secs(60)).await, 1);
        assert_eq!(cache.hit("login:x", Duration::from_secs(60)).await, 2);
        assert_eq!(cache.hits("login:x").await, 2);
        // Revocation falls back to the ledger; our own revocation needs nobody.
        assert_eq!(
            cache.session_state(Some(t), "revoked-1").await,
            SessionState::Revoked
        );
        assert_eq!(
            cache.session_state(Some(t), "live-1").await,
            SessionState::Live
        );
        cache
            .revoke_session("live-2", Duration::from_secs(60))
            .await;
        assert_eq!(
            cache.session_state(Some(t), "live-2").await,
            SessionState::Revoked
        );
        cache.invalidate(&t, &["k"]).await;
        assert_eq!(cache.get(&t, "k").await, None);

        // Redis comes back empty: calls go through it again within a second, and what it missed
        // (our revocation, the list of those made elsewhere) is written to it.
        let _redis = RedisServer::start(port).await;
        let back = Instant::now();
        let client = Builder::from_config(Config::from_url(&url).expect("url"))
            .build()
            .expect("client");
        client.init().await.expect("connect");
        let k3 = cache.key(&t, "k3");
        assert!(
            eventually(Duration::from_secs(1), async || {
                cache.set(&t, "k3", Bytes::from_static(b"v3")).await;
                client.exists::<i64, _>(&k3).await.unwrap_or(0) == 1
            })
            .await,
            "Redis used again {:?} after its return",
            back.elapsed()
        );
        let ns = settings.namespace.clone();
        // A throttle counter in Redis always has its window, so it cannot lock an account for good.
        let counter = format!("{ns}:p:hits:login:y");
        assert!(
            eventually(Duration::from_secs(1), async || {
                cache.hit("login:y", Duration::from_secs(60)).await;
                client.exists::<i64, _>(&counter).await.unwrap_or(0) == 1
            })
            .await
        );
        let ttl: i64 = client.ttl(&counter).await.expect("ttl");
        assert!((1..=60).contains(&ttl), "counter ttl {ttl}");
        assert!(
            cache.hits("login:y").await >= 1,
            "counted in Redis and read back"
        );
        assert!(
            eventually(Duration::from_secs(3), async || {
                let _ = cache.session_state(Some(t), "live-3").await;
                let keys = [
                    format!("{ns}:p:revoked:live-2"),
                    format!("{ns}:p:revoked:revoked-elsewhere"),
                    format!("{ns}:p:{REVOCATIONS_COMPLETE}"),
                ];
                client.exists::<i64, _>(keys.to_vec()).await.unwrap_or(0) == 3
            })
            .await,
            "undelivered revocations written and the list rebuilt"
        );
        let _ = client.quit().await;
    }
}
