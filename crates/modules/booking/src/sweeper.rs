//! The background jobs, on one timer: the hold expiry sweep (holds past their deadline become
//! `expired` and give their places back), deposit refunds still open, and reminders due.
//! One instance runs them at a time (`Jobs::leads`); conditional updates let exactly one win each
//! hold, refund step and message, so places come back exactly once and a reminder is sent at
//! most once.

use std::time::Duration;

use chrono::Utc;
use mm_kernel::TenantId;
use mm_kernel::module::Jobs;

use crate::domain::{Action, Actor};
use crate::repo;
use crate::service::BookingApp;

/// Runs the jobs every `every` until shutdown; a pass under way when shutdown begins runs to its
/// end (all three steps), so a refund or reminder is never left between its steps by a restart.
pub fn spawn(app: BookingApp, every: Duration, jobs: &Jobs) {
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
            // Another replica leads: it does this work.
            if !stop.leads().await {
                continue;
            }
            if let Err(e) = sweep(&app).await {
                tracing::warn!(error = %e, "hold expiry sweep failed; retrying next tick");
            }
            if let Err(e) = app.retry_refunds().await {
                tracing::warn!(error = %e, "deposit refund retry failed; retrying next tick");
            }
            if let Err(e) = app.deliver_reminders(Utc::now()).await {
                tracing::warn!(error = %e, "reminder delivery failed; retrying next tick");
            }
        }
    });
}

/// One pass; returns how many holds it expired.
pub async fn sweep(app: &BookingApp) -> anyhow::Result<usize> {
    let due = repo::expired_holds(&app.db, Utc::now(), 200).await?;
    let mut handled = 0;
    for row in due {
        let Ok(tenant) = TenantId::parse(&row.tenant_id, "tenant") else {
            continue;
        };
        let id = row.reservation_id.clone();
        match app
            .step(tenant, row, Action::Expire, Actor::System, "")
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
