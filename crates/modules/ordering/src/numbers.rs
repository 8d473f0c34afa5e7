//! Order numbers ("20261124-0042"), taken from the shop day's counter row in batches.
//!
//! Every order of a shop takes its number from one row, so orders of one shop pass that row one
//! at a time. Measured on PostgreSQL at 64 concurrent orders of one shop (bench/README.md), most
//! connections sat waiting for that row's lock, and the lock manager's own contention cost more
//! CPU than the orders. Here the orders of a shop day that arrive while its counter is being
//! written wait in this process instead, and the next write takes a number for each of them at
//! once: one counter transaction per batch, never more than one per shop day per process in
//! flight. Without load a batch is one order, as before.
//!
//! Numbers are committed before the order that uses them, so an order that then fails (its
//! idempotency key was a replay, its caller went away) leaves a gap in the day's numbers; a
//! number is never given twice. On PostgreSQL the counter's commit does not wait for the WAL
//! flush: an order using one of its numbers commits after it, on the same server, and flushing
//! that flushes the counter too. A crash before then loses only numbers no order holds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mm_kernel::{TenantId, TenantScope};
use sea_orm::DatabaseConnection;
use tokio::sync::oneshot;

use crate::error::Result;
use crate::repo;

type Reply = oneshot::Sender<std::result::Result<i64, sea_orm::DbErr>>;

/// One shop day's waiting orders and the turn to write its counter.
#[derive(Default)]
struct Day {
    waiting: Mutex<Vec<Reply>>,
    turn: tokio::sync::Mutex<()>,
}

/// See the module docs.
pub(crate) struct Numbers {
    days: moka::sync::Cache<(TenantId, String), Arc<Day>>,
}

impl std::fmt::Debug for Numbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Numbers").finish_non_exhaustive()
    }
}

impl Default for Numbers {
    fn default() -> Self {
        Self {
            // A shop day idle for a minute needs no queue; the counter row is the record.
            days: moka::sync::Cache::builder()
                .time_to_idle(Duration::from_secs(60))
                .build(),
        }
    }
}

impl Numbers {
    /// The next number of the scope's tenant's `day`.
    pub(crate) async fn next(
        &self,
        db: &DatabaseConnection,
        scope: &TenantScope,
        day: &str,
    ) -> Result<i64> {
        let slot = self
            .days
            .get_with((scope.tenant(), day.to_string()), Default::default);
        loop {
            let (reply, mut answer) = oneshot::channel();
            lock(&slot.waiting).push(reply);
            let _turn = slot.turn.lock().await;
            match answer.try_recv() {
                // Served by the batch of whoever had the turn before.
                Ok(taken) => return Ok(taken?),
                // Whoever took this one into a batch went away before answering: wait again.
                Err(oneshot::error::TryRecvError::Closed) => continue,
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            // This one's turn: a number for every order waiting now, this one included.
            let batch = std::mem::take(&mut *lock(&slot.waiting));
            let count = i64::try_from(batch.len()).unwrap_or(i64::MAX);
            let taken = take(db, scope, day, count).await;
            for (i, reply) in (0..).zip(batch) {
                // A caller that went away leaves its number unused: a gap.
                let _ = reply.send(taken.clone().map(|last| last - count + 1 + i));
            }
            if let Ok(taken) = answer.try_recv() {
                return Ok(taken?);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Raises the counter by `count` in one statement (in the tenant's transaction on PostgreSQL,
/// for row-level security); the last number taken. The batch is one tenant's, so the scope of whoever has the
/// turn serves every order in it.
async fn take(
    db: &DatabaseConnection,
    scope: &TenantScope,
    day: &str,
    count: i64,
) -> std::result::Result<i64, sea_orm::DbErr> {
    mm_kernel::db::retry_conflicts(|| async move {
        let txn = scope.one_unflushed(db).await?;
        let last = repo::next_seq(&txn, scope, day, count).await?;
        txn.commit().await?;
        Ok(last)
    })
    .await
}
