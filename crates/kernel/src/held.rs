//! Answers held in this process per key, each tagged with the tenant it belongs to, dropped when
//! the cache announces that tenant changed — in this process or, through Redis, in any other —
//! and after a time to live, should an announcement be lost (a Redis reconnect).
//!
//! A generation counter is bumped on every announcement: an answer computed before a bump is not
//! stored ([`Held::fill`]), so a change landing while an answer is being computed cannot be masked
//! by the stale answer. The boot config and the menu in the BFF and the tenant module's
//! `GetAppConfig` hold their rendered answers here.
//!
//! A tenant's answers are dropped by key, through an index of the keys each tenant filled. moka's
//! `invalidate_entries_if` was used before: it registers a predicate per announcement that every
//! read checks until housekeeping catches up, and a burst of catalog writes (16,000 in ten
//! seconds, one announcement each) left `GetAppConfig` at 1,500 calls/s instead of 45,000 for as
//! long as the predicates lasted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cache::{Cache, Invalidation};

/// See the module docs. Cheap to clone; clones share the entries.
#[derive(Clone)]
pub struct Held<V: Clone + Send + Sync + 'static> {
    entries: moka::sync::Cache<String, V>,
    /// The keys each tenant filled since its last announcement (a key evicted meanwhile stays
    /// listed until then: a tenant fills a handful of keys, so the index stays small).
    keys: Arc<Mutex<HashMap<String, HashSet<String>>>>,
    generation: Arc<AtomicU64>,
}

impl<V: Clone + Send + Sync + 'static> std::fmt::Debug for Held<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("entries", &self.entries.entry_count())
            .finish_non_exhaustive()
    }
}

/// Where a fill stands: taken before computing an answer, handed back to store it.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl<V: Clone + Send + Sync + 'static> Held<V> {
    /// An empty store of at most `capacity` answers, each held at most `ttl`, following
    /// `cache`'s announcements until the process ends.
    pub fn new(cache: &Cache, ttl: Duration, capacity: u64) -> Self {
        let this = Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            keys: Arc::default(),
            generation: Arc::new(AtomicU64::new(0)),
        };
        let follower = this.clone();
        cache.on_invalidate(Arc::new(move |inv| match inv {
            Invalidation::Tenant(t) => follower.drop_tenant(t.to_string()),
            Invalidation::All => follower.drop_all(),
        }));
        this
    }

    /// The answer held for `key`.
    pub fn get(&self, key: &str) -> Option<V> {
        self.entries.get(key)
    }

    /// Take before computing an answer to [`Held::fill`] with.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::SeqCst))
    }

    /// Holds `value` for `key` (of `tenant`) unless an announcement came since `ticket` was
    /// taken; true when it was stored.
    pub fn fill(&self, ticket: Ticket, key: String, tenant: String, value: V) -> bool {
        if self.generation.load(Ordering::SeqCst) != ticket.0 {
            return false;
        }
        lock(&self.keys)
            .entry(tenant)
            .or_default()
            .insert(key.clone());
        self.entries.insert(key, value);
        // An announcement between the check and the insert must not leave this answer behind.
        if self.generation.load(Ordering::SeqCst) != ticket.0 {
            self.drop_all();
            return false;
        }
        true
    }

    fn drop_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        lock(&self.keys).clear();
        self.entries.invalidate_all();
    }

    fn drop_tenant(&self, tenant: String) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let keys = lock(&self.keys).remove(&tenant).unwrap_or_default();
        for key in keys {
            self.entries.invalidate(&key);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantId;

    fn tenant() -> TenantId {
        TenantId::new()
    }

    #[tokio::test]
    async fn an_announcement_drops_the_tenants_answers_and_refuses_fills_begun_before_it() {
        let cache = Cache::in_memory("held-test", Duration::from_secs(60));
        let held: Held<u32> = Held::new(&cache, Duration::from_secs(60), 100);
        let (a, b) = (tenant(), tenant());
        let t = held.ticket();
        assert!(held.fill(t, "a-key".into(), a.to_string(), 1));
        assert!(held.fill(t, "b-key".into(), b.to_string(), 2));
        assert_eq!(held.get("a-key"), Some(1));

        let before = held.ticket();
        cache.invalidate(&a, &[]).await;
        held.entries.run_pending_tasks();
        assert_eq!(held.get("a-key"), None, "a's answer is dropped");
        assert_eq!(held.get("b-key"), Some(2), "b's is kept");
        assert!(
            !lock(&held.keys).contains_key(&a.to_string()),
            "a's keys are forgotten with its answers"
        );
        assert!(
            !held.fill(before, "a-key".into(), a.to_string(), 3),
            "an answer computed before the change is not stored"
        );
        assert_eq!(held.get("a-key"), None);
        assert!(held.fill(held.ticket(), "a-key".into(), a.to_string(), 4));
        assert_eq!(held.get("a-key"), Some(4));
    }
}
