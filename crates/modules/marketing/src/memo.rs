//! What checkout needs that rarely changes, held in memory so that most orders lock their
//! discounts without touching the database: a tenant's promotions, and, per customer, "holds no
//! coupon in play" (none available, none locked) with the member row the level is read from.
//!
//! Every write that could make a held answer wrong drops it here first, and tells the other
//! instances (a tenant's promotions through the cache's tenant invalidation, a customer through
//! the `marketing.customer` event), and a reload never stores an answer read before a drop
//! (the generation it started under must still be current). Events missed while Redis was
//! away drop everything. Entries also expire on their own after a few minutes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use mm_kernel::TenantId;
use mm_kernel::cache::{Cache, Invalidation};

use crate::entity::{members, promotions};

/// The event naming a customer whose coupons or points changed.
pub const CUSTOMER_TOPIC: &str = "marketing.customer";

/// How long anything is held at most.
const TTL: Duration = Duration::from_secs(300);

/// A customer with no coupon in play.
#[derive(Debug, Clone)]
pub struct Quiet {
    /// Their member row (`None`: never had points), when it was read.
    pub member: Option<Option<members::Model>>,
}

/// A held customer, with the tenant's epoch it was read in.
#[derive(Debug, Clone)]
struct Held {
    epoch: u64,
    quiet: Quiet,
}

/// The memo of one process.
#[derive(Clone)]
pub struct Memo {
    generation: Arc<AtomicU64>,
    promos: moka::sync::Cache<TenantId, Arc<Vec<promotions::Model>>>,
    quiet: moka::sync::Cache<(TenantId, String), Held>,
    /// Per tenant, bumped when the tenant changed: its customers held before read as gone
    /// (cheaper than moka's invalidation predicates, which every read would check).
    epochs: Arc<std::sync::RwLock<std::collections::HashMap<TenantId, u64>>>,
    cache: Arc<Cache>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").finish_non_exhaustive()
    }
}

impl Memo {
    /// A memo following `cache`'s invalidations and the customer events of every instance.
    pub fn new(cache: Arc<Cache>) -> Self {
        let memo = Self {
            generation: Arc::default(),
            promos: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(TTL)
                .build(),
            quiet: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(TTL)
                .build(),
            epochs: Arc::default(),
            cache: cache.clone(),
        };
        let on = memo.clone();
        cache.on_invalidate(Arc::new(move |inv| match inv {
            Invalidation::Tenant(t) => on.drop_tenant(*t),
            Invalidation::All => on.drop_all(),
        }));
        let mut events = cache.subscribe();
        let on = memo.clone();
        // Only where a runtime runs the module (always, but in unit tests of pure functions).
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                loop {
                    match events.recv().await {
                        Ok(e) if e.topic == CUSTOMER_TOPIC => match e.tenant {
                            Some(t) => on.drop_customer(t, &String::from_utf8_lossy(&e.payload)),
                            None => on.drop_all(),
                        },
                        Ok(e) if e.tenant.is_none() => on.drop_all(),
                        Ok(_) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => on.drop_all(),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
        }
        memo
    }

    /// The generation a reload starts under.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn drop_tenant(&self, t: TenantId) {
        self.bump();
        self.promos.invalidate(&t);
        // Customers of the tenant: their level follows the tenant's config.
        let mut epochs = match self.epochs.write() {
            Ok(e) => e,
            Err(p) => p.into_inner(),
        };
        *epochs.entry(t).or_insert(0) += 1;
    }

    fn epoch(&self, t: TenantId) -> u64 {
        let epochs = match self.epochs.read() {
            Ok(e) => e,
            Err(p) => p.into_inner(),
        };
        epochs.get(&t).copied().unwrap_or(0)
    }

    fn drop_all(&self) {
        self.bump();
        self.promos.invalidate_all();
        self.quiet.invalidate_all();
    }

    fn drop_customer(&self, t: TenantId, customer: &str) {
        self.bump();
        self.quiet.invalidate(&(t, customer.to_string()));
    }

    /// The tenant's promotions not ended when they were read, if held.
    pub fn promos(&self, t: TenantId) -> Option<Arc<Vec<promotions::Model>>> {
        self.promos.get(&t)
    }

    /// Holds the tenant's promotions read under `generation`, unless something changed since.
    pub fn keep_promos(&self, t: TenantId, rows: Vec<promotions::Model>, generation: u64) {
        if self.generation() == generation {
            self.promos.insert(t, Arc::new(rows));
        }
    }

    /// A customer with no coupon in play, if held.
    pub fn quiet(&self, t: TenantId, customer: &str) -> Option<Quiet> {
        let held = self.quiet.get(&(t, customer.to_string()))?;
        (held.epoch == self.epoch(t)).then_some(held.quiet)
    }

    /// Holds that the customer has no coupon in play, read under `generation`.
    pub fn keep_quiet(&self, t: TenantId, customer: &str, quiet: Quiet, generation: u64) {
        if self.generation() == generation {
            let epoch = self.epoch(t);
            self.quiet
                .insert((t, customer.to_string()), Held { epoch, quiet });
        }
    }

    /// The customer's coupons or points changed: dropped here at once and on every other
    /// instance shortly after.
    pub async fn changed(&self, t: TenantId, customer: &str) {
        self.drop_customer(t, customer);
        self.cache
            .publish(&t, CUSTOMER_TOPIC, Bytes::from(customer.to_string()))
            .await;
    }

    /// The tenant's promotions changed (and with them every derived answer of the tenant).
    pub async fn promotions_changed(&self, t: TenantId) {
        self.drop_tenant(t);
        self.cache.invalidate(&t, &[]).await;
    }
}

/// Whether a held promotion runs at `now`.
pub fn runs(p: &promotions::Model, now: DateTime<Utc>) -> bool {
    p.starts_at <= now && now < p.ends_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_read_before_a_drop_is_not_kept() {
        let memo = Memo::new(Cache::in_memory("memo-test", Duration::from_secs(60)));
        let t = TenantId::new();
        let before = memo.generation();
        memo.changed(t, "alice").await;
        memo.keep_quiet(t, "alice", Quiet { member: None }, before);
        assert!(memo.quiet(t, "alice").is_none(), "read before the drop");
        let now = memo.generation();
        memo.keep_quiet(t, "alice", Quiet { member: None }, now);
        assert!(memo.quiet(t, "alice").is_some());
        memo.promotions_changed(t).await;
        assert!(memo.quiet(t, "alice").is_none(), "the tenant changed");
    }
}
