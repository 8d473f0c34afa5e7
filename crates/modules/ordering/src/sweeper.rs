//! The ordering worker, a pass every `jobs.sweep_interval_ms` (`Jobs::every`): unpaid orders past their deadline are
//! cancelled (which owes their stock back); orders stuck in `creating` (a process that died
//! between writing the order and placing it) are abandoned, which owes a release of whatever the
//! catalog took under their id; and every owed step still due is tried (`effects::drain`).
//! One instance sweeps at a time (`Jobs::leads`); conditional updates would let exactly one win
//! each order and each try anyway, and every owed step is idempotent on the other side.
//!
//! Finding what is due looks across tenants, under the sweep's [`SystemScope`] ([`JOB`]); each
//! order found is then handled in its own tenant's scope (`sys.tenant(row.tenant_id)`).

use mm_kernel::SystemScope;

use crate::domain::{Action, Actor, Status};
use crate::repo;
use crate::service::OrderingApp;

/// The sweep's name for `Jobs::run_now`, and the name of its [`SystemScope`].
pub const JOB: &str = "ordering.sweep";

/// One pass; returns how many orders it handled.
pub async fn sweep(app: &OrderingApp) -> anyhow::Result<usize> {
    let now = app.clock.now();
    let stale = now
        - chrono::Duration::milliseconds(
            i64::try_from(app.jobs.stale_creating_ms).unwrap_or(i64::MAX),
        );
    let sys = SystemScope::named(JOB);
    let due = repo::due_for_sweep(&app.db, &sys, now, stale, 200).await?;
    let mut handled = 0;
    for row in due {
        let scope = sys.tenant(row.tenant_id);
        if row.status == Status::Creating.as_str() {
            if app.abandon(&scope, &row.order_id).await? {
                tracing::info!(order = %row.order_id, "half-placed order abandoned; its stock is owed back");
                handled += 1;
            }
            continue;
        }
        let id = row.order_id.clone();
        match app
            .step(&scope, row, Action::Expire, Actor::System, "")
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
    handled += crate::effects::drain(app).await?;
    Ok(handled)
}
