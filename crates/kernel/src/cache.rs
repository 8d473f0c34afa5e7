//! One cache interface over two backends: Redis (fred) when a URL is configured, an in-process moka
//! cache otherwise. Keys always carry the tenant, hash-tagged (`{ns}:{t:<tenant>}:<key>`) so a Redis
//! Cluster keeps one tenant's keys on one slot. Invalidations reach listeners in this process
//! directly and, with Redis, every other instance through pub/sub, so services and BFFs everywhere
//! drop what they hold.
//! A cache failure never fails a request: it is logged and the caller falls back to the database.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use fred::clients::SubscriberClient;
use fred::prelude::*;

use crate::ids::TenantId;

/// Something changed; holders of derived data must drop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// One tenant's data changed.
    Tenant(TenantId),
    /// Messages may have been missed (the subscription lagged or Redis reconnected): drop all.
    All,
}

enum Backend {
    Memory(moka::future::Cache<String, Bytes>),
    Redis {
        pool: Pool,
        _subscriber: SubscriberClient,
    },
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

/// The tenant-keyed cache. Cheap to clone through `Arc`.
pub struct Cache {
    backend: Backend,
    namespace: String,
    ttl: Duration,
    listeners: Listeners,
    // In-process stand-ins for Redis keys with expiry: revoked sessions and throttle counters.
    marks: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
    counters: std::sync::Mutex<std::collections::HashMap<String, (u64, std::time::Instant)>>,
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

impl Cache {
    /// The in-process cache, for a single instance.
    pub fn in_memory(namespace: &str, ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            backend: Backend::Memory(
                moka::future::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(ttl)
                    .build(),
            ),
            namespace: namespace.to_string(),
            ttl,
            listeners: Listeners::default(),
            marks: Default::default(),
            counters: Default::default(),
            events: tokio::sync::broadcast::channel(EVENT_BUFFER).0,
            instance: uuid::Uuid::new_v4().to_string(),
        })
    }

    /// Connects to Redis and starts listening for invalidations from every instance.
    pub async fn redis(url: &str, namespace: &str, ttl: Duration) -> anyhow::Result<Arc<Self>> {
        let config =
            Config::from_url(url).map_err(|e| anyhow::anyhow!("Invalid Redis URL: {e}"))?;
        let mut builder = Builder::from_config(config);
        builder.set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
        let pool = builder.build_pool(4)?;
        pool.init()
            .await
            .map_err(|e| anyhow::anyhow!("Failed to connect to Redis: {e}"))?;
        let subscriber = builder.build_subscriber_client()?;
        subscriber
            .init()
            .await
            .map_err(|e| anyhow::anyhow!("Failed to connect to Redis: {e}"))?;
        let channel = format!("{namespace}:invalidate");
        subscriber.subscribe(channel.as_str()).await?;
        let events_channel = format!("{namespace}:events");
        subscriber.subscribe(events_channel.as_str()).await?;
        let events = tokio::sync::broadcast::channel(EVENT_BUFFER).0;
        let instance = uuid::Uuid::new_v4().to_string();
        // Re-subscribes after a reconnect, so invalidations keep flowing.
        drop(subscriber.manage_subscriptions());
        let listeners = Listeners::default();
        // Invalidations published while we were disconnected are lost: after a reconnect, every
        // holder drops everything rather than serve what may be stale.
        let on_reconnect = listeners.clone();
        let resync = events.clone();
        drop(subscriber.on_reconnect(move |_| {
            let l = on_reconnect.clone();
            let r = resync.clone();
            async move {
                l.notify(&Invalidation::All);
                let _ = r.send(Event {
                    tenant: None,
                    topic: String::new(),
                    payload: Bytes::new(),
                });
                Ok(())
            }
        }));
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
        Ok(Arc::new(Self {
            backend: Backend::Redis {
                pool,
                _subscriber: subscriber,
            },
            namespace: namespace.to_string(),
            ttl,
            listeners,
            marks: Default::default(),
            counters: Default::default(),
            events,
            instance,
        }))
    }

    /// "redis" or "memory".
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis { .. } => "redis",
        }
    }

    /// The full key for a tenant-scoped entry.
    pub fn key(&self, tenant: &TenantId, key: &str) -> String {
        format!("{}:{{t:{tenant}}}:{key}", self.namespace)
    }

    /// Reads an entry; any backend error reads as a miss.
    pub async fn get(&self, tenant: &TenantId, key: &str) -> Option<Bytes> {
        let k = self.key(tenant, key);
        match &self.backend {
            Backend::Memory(c) => c.get(&k).await,
            Backend::Redis { pool, .. } => match pool.get::<Option<Bytes>, _>(k).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "cache read failed");
                    None
                }
            },
        }
    }

    /// Writes an entry with the configured lifetime.
    pub async fn set(&self, tenant: &TenantId, key: &str, value: Bytes) {
        let k = self.key(tenant, key);
        match &self.backend {
            Backend::Memory(c) => c.insert(k, value).await,
            Backend::Redis { pool, .. } => {
                let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(300).max(1);
                if let Err(e) = pool
                    .set::<(), _, _>(k, value, Some(Expiration::EX(ttl)), None, false)
                    .await
                {
                    tracing::warn!(error = %e, "cache write failed");
                }
            }
        }
    }

    /// Drops `keys` of a tenant and tells every instance that the tenant's data changed. Listeners
    /// in this process are told before this returns, so a caller reads its own write; other
    /// instances hear of it through Redis shortly after.
    pub async fn invalidate(&self, tenant: &TenantId, keys: &[&str]) {
        let full: Vec<String> = keys.iter().map(|k| self.key(tenant, k)).collect();
        self.listeners.notify(&Invalidation::Tenant(*tenant));
        match &self.backend {
            Backend::Memory(c) => {
                for k in &full {
                    c.invalidate(k).await;
                }
            }
            Backend::Redis { pool, .. } => {
                if !full.is_empty()
                    && let Err(e) = pool.del::<i64, _>(full).await
                {
                    tracing::warn!(error = %e, "cache delete failed");
                }
                let channel = format!("{}:invalidate", self.namespace);
                if let Err(e) = pool
                    .next()
                    .publish::<i64, _, _>(channel, tenant.to_string())
                    .await
                {
                    tracing::warn!(error = %e, "invalidation publish failed");
                }
            }
        }
    }

    fn platform_key(&self, key: &str) -> String {
        format!("{}:p:{key}", self.namespace)
    }

    /// Marks a session revoked for `ttl` (as long as its access tokens can live).
    pub async fn revoke_session(&self, session: &str, ttl: Duration) {
        let k = self.platform_key(&format!("revoked:{session}"));
        match &self.backend {
            Backend::Memory(_) => {
                if let Ok(mut m) = self.marks.lock() {
                    let now = std::time::Instant::now();
                    if m.len() > 10_000 {
                        m.retain(|_, until| *until > now);
                    }
                    m.insert(k, now + ttl);
                }
            }
            Backend::Redis { pool, .. } => {
                let secs = i64::try_from(ttl.as_secs()).unwrap_or(900).max(1);
                if let Err(e) = pool
                    .set::<(), _, _>(k, "1", Some(Expiration::EX(secs)), None, false)
                    .await
                {
                    tracing::error!(error = %e, "session revocation write failed");
                }
            }
        }
    }

    /// Whether a session was revoked. A Redis failure reads as not revoked: tokens are short-lived
    /// and the refresh path checks the database.
    pub async fn is_revoked(&self, session: &str) -> bool {
        let k = self.platform_key(&format!("revoked:{session}"));
        match &self.backend {
            Backend::Memory(_) => self
                .marks
                .lock()
                .map(|m| {
                    m.get(&k)
                        .is_some_and(|until| *until > std::time::Instant::now())
                })
                .unwrap_or(false),
            Backend::Redis { pool, .. } => match pool.exists::<i64, _>(k).await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::warn!(error = %e, "session revocation read failed");
                    false
                }
            },
        }
    }

    /// Counts an event under `key` in a window of `window` and returns the count so far; the
    /// window starts at the first event. Used for login throttling across instances.
    pub async fn hit(&self, key: &str, window: Duration) -> u64 {
        let k = self.platform_key(&format!("hits:{key}"));
        match &self.backend {
            Backend::Memory(_) => {
                let Ok(mut m) = self.counters.lock() else {
                    return 0;
                };
                let now = std::time::Instant::now();
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
            Backend::Redis { pool, .. } => {
                let n: u64 = match pool.incr::<u64, _>(k.clone()).await {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "throttle counter failed");
                        return 0;
                    }
                };
                if n == 1 {
                    let secs = i64::try_from(window.as_secs()).unwrap_or(60).max(1);
                    let _ = pool.expire::<(), _>(k, secs, None).await;
                }
                n
            }
        }
    }

    /// The count under `key` in its current window, without counting.
    pub async fn hits(&self, key: &str) -> u64 {
        let k = self.platform_key(&format!("hits:{key}"));
        match &self.backend {
            Backend::Memory(_) => self
                .counters
                .lock()
                .ok()
                .and_then(|m| {
                    m.get(&k)
                        .filter(|(_, until)| *until > std::time::Instant::now())
                        .map(|(n, _)| *n)
                })
                .unwrap_or(0),
            Backend::Redis { pool, .. } => pool
                .get::<Option<u64>, _>(k)
                .await
                .ok()
                .flatten()
                .unwrap_or(0),
        }
    }

    /// Forgets the count under `key` (a successful login clears its failures).
    pub async fn clear_hits(&self, key: &str) {
        let k = self.platform_key(&format!("hits:{key}"));
        match &self.backend {
            Backend::Memory(_) => {
                if let Ok(mut m) = self.counters.lock() {
                    m.remove(&k);
                }
            }
            Backend::Redis { pool, .. } => {
                let _ = pool.del::<i64, _>(k).await;
            }
        }
    }

    /// Tells live views in every instance that something happened in a tenant. Best effort: a
    /// subscriber that falls behind is told to reload (a lagged receiver), never blocks the caller.
    pub async fn publish(&self, tenant: &TenantId, topic: &str, payload: Bytes) {
        let event = Event {
            tenant: Some(*tenant),
            topic: topic.to_string(),
            payload,
        };
        if let Backend::Redis { pool, .. } = &self.backend {
            let channel = format!("{}:events", self.namespace);
            let text = encode_event(&self.instance, &event);
            if let Err(e) = pool.next().publish::<i64, _, _>(channel, text).await {
                tracing::warn!(error = %e, "event publish failed");
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
            tenant: Some(TenantId::parse(tenant, "tenant").map_err(|_| ())?),
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
