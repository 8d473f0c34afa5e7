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

/// Something about a tenant changed; holders of derived data must drop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    /// The tenant whose data changed.
    pub tenant: TenantId,
}

enum Backend {
    Memory(moka::future::Cache<String, Bytes>),
    Redis {
        pool: Pool,
        _subscriber: SubscriberClient,
    },
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
        // Re-subscribes after a reconnect, so invalidations keep flowing.
        drop(subscriber.manage_subscriptions());
        let listeners = Listeners::default();
        let mut rx = subscriber.message_rx();
        let notify = listeners.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(msg) => {
                        let Some(text) = msg.value.as_string() else {
                            continue;
                        };
                        match TenantId::parse(&text, "tenant") {
                            Ok(tenant) => notify.notify(&Invalidation { tenant }),
                            Err(_) => {
                                tracing::warn!(message = %text, "ignored malformed invalidation")
                            }
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "invalidation listener lagged");
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
        self.listeners.notify(&Invalidation { tenant: *tenant });
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

    /// Registers a function told of invalidations from this and (with Redis) every other
    /// instance. It runs on the invalidating task, so it must be quick and must not block.
    pub fn on_invalidate(&self, listener: Listener) {
        match self.listeners.0.write() {
            Ok(mut l) => l.push(listener),
            Err(poisoned) => poisoned.into_inner().push(listener),
        }
    }
}
