//! The background jobs, on one timer: the hold expiry sweep (holds past their deadline become
//! `expired` and give their places back), deposit refunds still open, and reminders due.
//! One instance runs them at a time (`Jobs::leads`); conditional updates let exactly one win each
//! hold, refund step and message, so places come back exactly once and a reminder is sent at
//! most once.
//!
//! Each step is the platform's own work across tenants, under a [`SystemScope`] of its own name
//! (the expiry sweep: [`JOB`]; refunds: `pay::REFUNDS_JOB`; reminders:
//! `outbox::REMINDERS_JOB`): it finds its rows in a system transaction, then acts on each in the
//! scope of the row's tenant.

use mm_kernel::SystemScope;

use crate::domain::{Action, Actor};
use crate::repo;
use crate::service::BookingApp;

/// The jobs' name for `Jobs::run_now`, and the system scope of the hold expiry sweep.
pub const JOB: &str = "booking.sweep";

/// One pass of all three steps (a pass under way when shutdown begins runs to its end, so a
/// refund or reminder is never left between its steps by a restart); a step that fails is
/// logged and tried again next pass without holding up the others. Returns how many things
/// the pass handled.
pub async fn pass(app: &BookingApp) -> anyhow::Result<usize> {
    let mut handled = 0;
    match sweep(app).await {
        Ok(n) => handled += n,
        Err(e) => tracing::warn!(error = %e, "hold expiry sweep failed; retrying next tick"),
    }
    match app.retry_refunds().await {
        Ok(n) => handled += n,
        Err(e) => tracing::warn!(error = %e, "deposit refund retry failed; retrying next tick"),
    }
    match app.deliver_reminders(app.clock.now()).await {
        Ok(n) => handled += n,
        Err(e) => tracing::warn!(error = %e, "reminder delivery failed; retrying next tick"),
    }
    Ok(handled)
}

/// One pass; returns how many holds it expired. The holds are found across tenants; each is
/// expired in its own tenant's scope.
pub async fn sweep(app: &BookingApp) -> anyhow::Result<usize> {
    let sys = SystemScope::named(JOB);
    let txn = sys.begin(&app.db).await?;
    let due = repo::expired_holds(&txn, &sys, app.clock.now(), 200).await?;
    txn.commit().await?;
    let mut handled = 0;
    for row in due {
        let scope = sys.tenant(row.tenant_id);
        let id = row.reservation_id.clone();
        match app
            .step(&scope, row, Action::Expire, Actor::System, "")
            .await
        {
            Ok(_) => {
                handled += 1;
                tracing::info!(reservation = %id, "hold expired; places released");
            }
            // Confirmed or cancelled meanwhile: nothing to do.
            Err(crate::error::BookingError::InvalidTransition { .. }) => {}
            Err(e) => tracing::warn!(reservation = %id, error = %e, "could not expire hold"),
        }
    }
    Ok(handled)
}
