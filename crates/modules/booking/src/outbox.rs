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

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use mm_kernel::TenantId;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect,
};

use crate::domain::{Config, Status};
use crate::entity::{outbox, reservations};
use crate::service::BookingApp;
use crate::upstream::SendError;

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
    row: &reservations::Model,
    cfg: &Config,
) -> Result<(), DbErr> {
    if !row.remind || cfg.reminder_template_id.trim().is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let due = due_at(row.starts_at, cfg);
    let existing = outbox::Entity::find()
        .filter(outbox::Column::TenantId.eq(row.tenant_id.clone()))
        .filter(outbox::Column::ReservationId.eq(row.reservation_id.clone()))
        .filter(outbox::Column::Kind.eq(REMINDER))
        .one(txn)
        .await?;
    match existing {
        Some(m) => {
            outbox::Entity::update_many()
                .col_expr(outbox::Column::Status, Expr::value("pending"))
                .col_expr(outbox::Column::DueAt, Expr::value(due))
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(due))
                .col_expr(outbox::Column::Attempts, Expr::value(0))
                .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
                .filter(outbox::Column::TenantId.eq(m.tenant_id))
                .filter(outbox::Column::MessageId.eq(m.message_id))
                .filter(outbox::Column::Status.is_in(["pending", "cancelled"]))
                .exec(txn)
                .await?;
        }
        None => {
            outbox::Model {
                tenant_id: row.tenant_id.clone(),
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
    tenant: &str,
    reservation: &str,
) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value("cancelled"))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(outbox::Column::TenantId.eq(tenant))
        .filter(outbox::Column::ReservationId.eq(reservation))
        .filter(outbox::Column::Status.eq("pending"))
        .exec(txn)
        .await?;
    Ok(())
}

/// Moves a claimed row to its outcome.
async fn settle(
    db: &impl ConnectionTrait,
    m: &outbox::Model,
    status: &str,
    next: Option<DateTime<Utc>>,
    error: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let mut q = outbox::Entity::update_many()
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
    q.filter(outbox::Column::TenantId.eq(m.tenant_id.clone()))
        .filter(outbox::Column::MessageId.eq(m.message_id.clone()))
        .filter(outbox::Column::Status.eq("sending"))
        .exec(db)
        .await?;
    Ok(())
}

impl BookingApp {
    /// Sends every reminder due at `now` (the sender passes the clock; tests pass a later one to
    /// skip a backoff). Returns how many were sent.
    pub async fn deliver_reminders(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        // Rows left in `sending` by a sender that died: outcome unknown, never resent. Looked
        // for before writing: an idle tick must not take SQLite's single writer.
        let stuck = Utc::now() - Duration::minutes(10);
        let any_stuck = outbox::Entity::find()
            .filter(outbox::Column::Status.eq("sending"))
            .filter(outbox::Column::UpdatedAt.lt(stuck))
            .one(&self.db)
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
                .filter(outbox::Column::UpdatedAt.lt(stuck))
                .exec(&self.db)
                .await?;
        }
        let due = outbox::Entity::find()
            .filter(outbox::Column::Status.eq("pending"))
            .filter(outbox::Column::NextAttemptAt.lte(now))
            .limit(50)
            .all(&self.db)
            .await?;
        let mut sent = 0;
        for m in due {
            // Claim it: only one sender wins the conditional update.
            let claimed = outbox::Entity::update_many()
                .col_expr(outbox::Column::Status, Expr::value("sending"))
                .col_expr(
                    outbox::Column::Attempts,
                    Expr::col(outbox::Column::Attempts).add(1),
                )
                .col_expr(outbox::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(outbox::Column::TenantId.eq(m.tenant_id.clone()))
                .filter(outbox::Column::MessageId.eq(m.message_id.clone()))
                .filter(outbox::Column::Status.eq("pending"))
                .filter(outbox::Column::Attempts.eq(m.attempts))
                .exec(&self.db)
                .await?
                .rows_affected
                == 1;
            if !claimed {
                continue;
            }
            let attempts = m.attempts + 1;
            match self.send_reminder(&m, now).await {
                Ok(true) => {
                    settle(&self.db, &m, "sent", None, "").await?;
                    sent += 1;
                    tracing::info!(reservation = %m.reservation_id, "reminder sent");
                }
                Ok(false) => settle(&self.db, &m, "cancelled", None, "no longer needed").await?,
                Err(SendError::Retry(why)) if attempts < MAX_ATTEMPTS => {
                    tracing::warn!(reservation = %m.reservation_id, attempts, error = %why, "reminder failed; retrying later");
                    let next =
                        std::cmp::max(Utc::now(), now) + backoff(self.retry_base_ms, attempts);
                    settle(&self.db, &m, "pending", Some(next), &why).await?;
                }
                Err(SendError::Retry(why) | SendError::Permanent(why)) => {
                    tracing::warn!(reservation = %m.reservation_id, attempts, error = %why, "reminder given up");
                    settle(&self.db, &m, "failed", None, &why).await?;
                }
            }
        }
        Ok(sent)
    }

    /// Sends one reminder; `Ok(false)` when the booking no longer wants one.
    async fn send_reminder(
        &self,
        m: &outbox::Model,
        now: DateTime<Utc>,
    ) -> Result<bool, SendError> {
        let retry = |e: &dyn std::fmt::Display| SendError::Retry(e.to_string());
        let tenant = TenantId::parse(&m.tenant_id, "tenant").map_err(|e| retry(&e))?;
        let Some(row) = crate::repo::find_reservation(&self.db, tenant, &m.reservation_id)
            .await
            .map_err(|e| retry(&e))?
        else {
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
        let service = crate::repo::find_service(&self.db, tenant, &row.service_id)
            .await
            .map_err(|e| retry(&e))?
            .map(|s| s.display_name)
            .unwrap_or_default();
        let staff = crate::repo::find_staff(&self.db, tenant, &row.staff_id)
            .await
            .map_err(|e| retry(&e))?
            .map(|s| s.display_name)
            .unwrap_or_default();
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
