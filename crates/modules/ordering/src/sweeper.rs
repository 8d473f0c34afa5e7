//! The expiry sweep: unpaid orders past their deadline are cancelled and give their stock back;
//! orders stuck in `creating` (a crash between writing the order and reserving its stock) are
//! released and removed. Every instance sweeps; the conditional status update lets exactly one
//! win each order, and releasing stock is idempotent per order.

use std::time::Duration;

use chrono::Utc;
use mm_kernel::TenantId;
use mm_kernel::module::Jobs;

use crate::domain::{Action, Actor, Status};
use crate::repo;
use crate::service::OrderingApp;

/// How long an order may sit in `creating` before it is taken for abandoned.
const STALE_CREATING: chrono::Duration = chrono::Duration::minutes(2);

/// Sweeps every `every` until shutdown; a pass under way when shutdown begins runs to its end.
pub fn spawn(app: OrderingApp, every: Duration, jobs: &Jobs) {
    let stop = jobs.clone();
    jobs.spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // Stopping wins a tie with the tick: no new pass once shutdown has begun.
                biased;
                () = stop.stopping() => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = sweep(&app).await {
                tracing::warn!(error = %e, "order expiry sweep failed; retrying next tick");
            }
        }
    });
}

/// One pass; returns how many orders it handled.
pub async fn sweep(app: &OrderingApp) -> anyhow::Result<usize> {
    let now = Utc::now();
    let due = repo::due_for_sweep(&app.db, now, now - STALE_CREATING, 200).await?;
    let mut handled = 0;
    for row in due {
        let Ok(tenant) = TenantId::parse(&row.tenant_id, "tenant") else {
            continue;
        };
        if row.status == Status::Creating.as_str() {
            app.upstream.release(tenant, &row.order_id).await?;
            repo::delete_creating(&app.db, tenant, &row.order_id).await?;
            handled += 1;
            continue;
        }
        let id = row.order_id.clone();
        match app
            .step(tenant, row, Action::Expire, Actor::System, "")
            .await
        {
            Ok(_) => {
                handled += 1;
                tracing::info!(order = %id, "unpaid order expired; stock released");
            }
            // Paid or cancelled meanwhile: nothing to do.
            Err(crate::error::OrderingError::InvalidTransition { .. }) => {}
            Err(e) => tracing::warn!(order = %id, error = %e, "could not expire order"),
        }
    }
    Ok(handled)
}
