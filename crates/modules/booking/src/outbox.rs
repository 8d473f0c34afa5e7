//! Reminders through a transactional outbox: one row per message (unique per reservation and
//! kind), written in the same transaction that confirms, moves or ends the booking, so a reminder
//! exists exactly when a confirmed booking does. The sender claims a due row with a conditional
//! update (`pending` → `sending`, so two instances never both take it), re-checks the booking,
//! sends a WeChat subscribe message through identity, and records the outcome: `sent`; back to
//! `pending` with exponential backoff when WeChat or a module was busy; `failed` when WeChat
//! refused for good or after the last attempt.
//!
//! Never sent twice: a row leaves `sending` only by the sender's own outcome. If the process dies
//! mid-send the outcome is unknown, and such a row is marked failed after a while rather than
//! sent again: a missed reminder is better than a duplicate (WeChat has no idempotency key, and
//! each consent allows exactly one message).
//!
//! Scopes: scheduling and withdrawing run in the booking's own transaction, in its tenant's
//! scope. The sender is the platform's own work across tenants ([`REMINDERS_JOB`]): it finds stuck
//! and due rows in a system transaction, then claims, sends and settles each one in the scope of
//! the row's tenant.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use mm_kernel::{SystemScope, TenantScope};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect,
};

use crate::domain::{Config, Status};
use crate::entity::{outbox, reservations};
use crate::service::BookingApp;
use crate::upstream::SendError;

/// The system scope of the reminder sender, which looks for due messages across tenants.
pub const REMINDERS_JOB: &str = "booking.reminders";

/// The one kind of message so far.
pub const REMINDER: &str = "reminder";

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i32 = 5;

/// Wait before attempt `n + 1` after `n` failures: `base`, then doubled each time (30 s, 1, 2,
/// 4 minutes with the default base), at most 30 minutes.
pub fn backoff(base_ms: u64, attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 10) - 1).unwrap_or(0);
    let base = i64::try_from(base_ms).unwrap_or(30_000);
    Duration::milliseconds(std::cmp::min(
        base.saturating_mul(2_i64.pow(exp)),
        1_800_000,
    ))
}

/// When the reminder of a booking starting at `start` is due.
pub fn due_at(start: DateTime<Utc>, cfg: &Config) -> DateTime<Utc> {
    start - Duration::minutes(cfg.reminder_minutes_before)
}

/// Puts (or moves) the booking's reminder in the outbox inside the caller's transaction, when
/// the customer agreed to one and the shop has reminders on. A reminder already sent is left
/// alone (one consent, one message).
pub(crate) async fn schedule(
    txn: &impl ConnectionTrait,
    scope: &TenantScope,
    row: &reservations::Model,
    cfg: &Config,
) -> Result<(), DbErr> {
    if !row.remind || cfg.reminder_template_id.trim().is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let due = due_at(row.starts_at, cfg);
    let existing = scope
        .find::<outbox::Entity>()
        .filter(outbox::Column::ReservationId.eq(row.reservation_id.clone()))
        .filter(outbox::Column::Kind.eq(REMINDER))
        .one(txn)
        .await?;
    match existing {
        Some(m) => {
            scope
                .update_many::<outbox::Entity>()
                .col_expr(outbox::Column::Status, Expr::value("pending"))
                .col_expr(outbox::Column::DueAt, Expr::value(due))
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(due))
                .col_expr(outbox::Column::Attempts, Expr::value(0))
                .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
                .filter(outbox::Column::MessageId.eq(m.message_id))
                .filter(outbox::Column::Status.is_in(["pending", "cancelled"]))
                .exec(txn)
                .await?;
        }
        None => {
            outbox::Model {
                tenant_id: scope.tenant(),
                message_id: uuid::Uuid::now_v7().to_string(),
                reservation_id: row.reservation_id.clone(),
                kind: REMINDER.into(),
                status: "pending".into(),
                due_at: due,
                attempts: 0,
                next_attempt_at: due,
                last_error: String::new(),
                sent_at: None,
                created_at: now,
                updated_at: now,
            }
            .into_active_model()
            .reset_all()
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}

/// Withdraws the booking's unsent reminder (cancelled, expired, over).
pub(crate) async fn withdraw(
    txn: &impl ConnectionTrait,
    scope: &TenantScope,
    reservation: &str,
) -> Result<(), DbErr> {
    scope
        .update_many::<outbox::Entity>()
        .col_expr(outbox::Column::Status, Expr::value("cancelled"))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(outbox::Column::ReservationId.eq(reservation))
        .filter(outbox::Column::Status.eq("pending"))
        .exec(txn)
        .await?;
    Ok(())
}

/// Puts a message due now in the outbox inside the caller's transaction (once per reservation
/// and kind: a second one is the first).
pub(crate) async fn enqueue_now(
    txn: &impl ConnectionTrait,
    scope: &TenantScope,
    reservation: &str,
    kind: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let row = outbox::Model {
        tenant_id: scope.tenant(),
        message_id: uuid::Uuid::now_v7().to_string(),
        reservation_id: reservation.to_string(),
        kind: kind.to_string(),
        status: "pending".into(),
        due_at: now,
        attempts: 0,
        next_attempt_at: now,
        last_error: String::new(),
        sent_at: None,
        created_at: now,
        updated_at: now,
    };
    outbox::Entity::insert(row.into_active_model())
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                outbox::Column::TenantId,
                outbox::Column::ReservationId,
                outbox::Column::Kind,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Moves a claimed row to its outcome, in a transaction of its own in the row's tenant's scope.
async fn settle(
    db: &DatabaseConnection,
    scope: &TenantScope,
    m: &outbox::Model,
    status: &str,
    next: Option<DateTime<Utc>>,
    error: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut q = scope
        .update_many::<outbox::Entity>()
        .col_expr(outbox::Column::Status, Expr::value(status))
        .col_expr(
            outbox::Column::LastError,
            Expr::value(error.chars().take(500).collect::<String>()),
        )
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now));
    if let Some(next) = next {
        q = q.col_expr(outbox::Column::NextAttemptAt, Expr::value(next));
    }
    if status == "sent" {
        q = q.col_expr(outbox::Column::SentAt, Expr::value(Some(now)));
    }
    let txn = scope.begin(db).await?;
    q.filter(outbox::Column::MessageId.eq(m.message_id.clone()))
        .filter(outbox::Column::Status.eq("sending"))
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// Marks failed the rows a sender that died left in `sending` before `stuck`: outcome unknown,
/// never resent. Looked for before writing: an idle tick must not take SQLite's single writer.
/// Across tenants, as the sender finds them before it knows whose they are: it takes the
/// sender's [`SystemScope`] and runs in its transaction.
async fn fail_stuck(
    db: &impl ConnectionTrait,
    _sys: &SystemScope,
    stuck: DateTime<Utc>,
) -> Result<(), DbErr> {
    let any_stuck = outbox::Entity::find()
        .filter(outbox::Column::Status.eq("sending"))
        .filter(outbox::Column::UpdatedAt.lt(stuck))
        .one(db)
        .await?
        .is_some();
    if any_stuck {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value("failed"))
            .col_expr(
                outbox::Column::LastError,
                Expr::value("the sender stopped mid-send; not sent again"),
            )
            .filter(outbox::Column::Status.eq("sending"))
            .filter(outbox::Column::Kind.eq(REMINDER))
            .filter(outbox::Column::UpdatedAt.lt(stuck))
            .exec(db)
            .await?;
        // Events a module applies once however often it hears them are simply sent again.
        outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value("pending"))
            .filter(outbox::Column::Status.eq("sending"))
            .filter(outbox::Column::Kind.ne(REMINDER))
            .filter(outbox::Column::UpdatedAt.lt(stuck))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Messages due at `now` (at most 50), across tenants: the sender's [`SystemScope`], run in its
/// transaction; each message is then handled in its own tenant's scope.
async fn due_messages(
    db: &impl ConnectionTrait,
    _sys: &SystemScope,
    now: DateTime<Utc>,
) -> Result<Vec<outbox::Model>, DbErr> {
    outbox::Entity::find()
        .filter(outbox::Column::Status.eq("pending"))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .limit(50)
        .all(db)
        .await
}

/// Claims a due message: only one sender wins the conditional update.
async fn claim(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    m: &outbox::Model,
) -> Result<bool, DbErr> {
    let r = scope
        .update_many::<outbox::Entity>()
        .col_expr(outbox::Column::Status, Expr::value("sending"))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(outbox::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(outbox::Column::MessageId.eq(m.message_id.clone()))
        .filter(outbox::Column::Status.eq("pending"))
        .filter(outbox::Column::Attempts.eq(m.attempts))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

impl BookingApp {
    /// Sends every message due at `now`, reminders and discount events (the sender passes the
    /// clock; tests pass a later one to skip a backoff). Returns how many were sent.
    pub async fn deliver_reminders(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let sys = SystemScope::named(REMINDERS_JOB);
        let stuck = Utc::now() - Duration::minutes(10);
        let txn = sys.begin(&self.db).await?;
        fail_stuck(&txn, &sys, stuck).await?;
        let due = due_messages(&txn, &sys, now).await?;
        txn.commit().await?;
        let mut sent = 0;
        for m in due {
            let scope = sys.tenant(m.tenant_id);
            if self.deliver_one(&scope, &m, now).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Claims one due message and sends it; true when it was sent.
    async fn deliver_one(
        &self,
        scope: &TenantScope,
        m: &outbox::Model,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let txn = scope.begin(&self.db).await?;
        let claimed = claim(&txn, scope, m).await?;
        txn.commit().await?;
        if !claimed {
            return Ok(false);
        }
        let attempts = m.attempts + 1;
        // Discount events are idempotent where they land: retried for as long as it takes.
        let event = m.kind.starts_with(crate::service::DISCOUNT_EVENT);
        let outcome = if event {
            self.send_discount_event(scope, &m.kind, &m.reservation_id)
                .await
        } else {
            self.send_reminder(scope, m, now).await
        };
        match outcome {
            Ok(true) => {
                settle(&self.db, scope, m, "sent", None, "").await?;
                tracing::info!(reservation = %m.reservation_id, kind = %m.kind, "outbox message sent");
                Ok(true)
            }
            Ok(false) => {
                settle(&self.db, scope, m, "cancelled", None, "no longer needed").await?;
                Ok(false)
            }
            Err(SendError::Retry(why)) if event || attempts < MAX_ATTEMPTS => {
                tracing::warn!(reservation = %m.reservation_id, kind = %m.kind, attempts, error = %why, "outbox message failed; retrying later");
                let next = std::cmp::max(Utc::now(), now) + backoff(self.retry_base_ms, attempts);
                settle(&self.db, scope, m, "pending", Some(next), &why).await?;
                Ok(false)
            }
            Err(SendError::Retry(why) | SendError::Permanent(why)) => {
                tracing::warn!(reservation = %m.reservation_id, kind = %m.kind, attempts, error = %why, "outbox message given up");
                settle(&self.db, scope, m, "failed", None, &why).await?;
                Ok(false)
            }
        }
    }

    /// Sends one reminder; `Ok(false)` when the booking no longer wants one. The booking and its
    /// names are read in short transactions of the message's tenant, none open while a module
    /// is called.
    async fn send_reminder(
        &self,
        scope: &TenantScope,
        m: &outbox::Model,
        now: DateTime<Utc>,
    ) -> Result<bool, SendError> {
        let retry = |e: &dyn std::fmt::Display| SendError::Retry(e.to_string());
        let tenant = scope.tenant();
        let txn = scope.begin(&self.db).await.map_err(|e| retry(&e))?;
        let row = crate::repo::find_reservation(&txn, scope, &m.reservation_id)
            .await
            .map_err(|e| retry(&e))?;
        txn.commit().await.map_err(|e| retry(&e))?;
        let Some(row) = row else {
            return Ok(false);
        };
        if row.status != Status::Confirmed.as_str()
            || row.starts_at <= now
            || row.customer_id.is_empty()
        {
            return Ok(false);
        }
        let cfg = match self.upstream.config(tenant).await {
            Ok(c) => c,
            Err(crate::error::BookingError::ModuleDisabled) => return Ok(false),
            Err(e) => return Err(retry(&e)),
        };
        if cfg.reminder_template_id.trim().is_empty() {
            return Ok(false);
        }
        let txn = scope.begin(&self.db).await.map_err(|e| retry(&e))?;
        let service = crate::repo::find_service(&txn, scope, &row.service_id)
            .await
            .map_err(|e| retry(&e))?
            .map(|s| s.display_name)
            .unwrap_or_default();
        let staff = crate::repo::find_staff(&txn, scope, &row.staff_id)
            .await
            .map_err(|e| retry(&e))?
            .map(|s| s.display_name)
            .unwrap_or_default();
        txn.commit().await.map_err(|e| retry(&e))?;
        let keys = &cfg.reminder_keys;
        let mut data = HashMap::new();
        // WeChat's "thing" values hold at most 20 characters.
        data.insert(keys.service.clone(), service.chars().take(20).collect());
        data.insert(
            keys.time.clone(),
            row.starts_at
                .with_timezone(&cfg.offset())
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        );
        if !keys.staff.is_empty() {
            data.insert(keys.staff.clone(), staff.chars().take(20).collect());
        }
        self.upstream
            .send_subscribe_message(
                tenant,
                &row.customer_id,
                &cfg.reminder_template_id,
                &format!(
                    "packages/booking/pages/bookings/index?id={}",
                    row.reservation_id
                ),
                data,
            )
            .await?;
        Ok(true)
    }
}

/// Sends the reservation's pending messages whose kind starts with `prefix` at once (its
/// discount events, right after the change that owed them); what fails stays pending.
pub(crate) async fn deliver_pending(
    app: &BookingApp,
    scope: &TenantScope,
    reservation: &str,
    prefix: &str,
) -> anyhow::Result<()> {
    let txn = scope.begin(&app.db).await?;
    let rows = scope
        .find::<outbox::Entity>()
        .filter(outbox::Column::ReservationId.eq(reservation))
        .filter(outbox::Column::Status.eq("pending"))
        .filter(outbox::Column::Kind.starts_with(prefix))
        .all(&txn)
        .await?;
    txn.commit().await?;
    for m in rows {
        app.deliver_one(scope, &m, Utc::now()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_half_an_hour() {
        let waits: Vec<i64> = (1..=8).map(|n| backoff(30_000, n).num_seconds()).collect();
        assert_eq!(waits, vec![30, 60, 120, 240, 480, 960, 1800, 1800]);
        assert_eq!(backoff(200, 1).num_milliseconds(), 200);
    }

    #[test]
    fn the_reminder_is_due_the_configured_time_before_the_start() {
        let start = DateTime::parse_from_rfc3339("2026-11-25T10:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        let cfg = Config {
            reminder_minutes_before: 90,
            ..Config::default()
        };
        assert_eq!(
            due_at(start, &cfg).to_rfc3339(),
            "2026-11-25T00:30:00+00:00"
        );
    }
}
