//! Deposits through WeChat Pay, asked of the payments module's contract (`upstream.rs`), which
//! holds the tenant's one merchant account and speaks WeChat Pay: prepay for a held reservation
//! (WeChat closes the transaction when the hold ends), a query for missed notifications, refunds
//! (when a paid booking is cancelled, and at once when a payment arrives for a hold that had
//! already ended) and closing. What happens to the money comes back as a `PaymentEvent` on
//! `BookingPaymentEvents`: the paid deposit that confirms the reservation, a refund settled or
//! failed, each applied once.
//!
//! A refund is first written down (`deposit_status = refunding`) in the transaction that decides
//! it, then asked of WeChat Pay; the sweeper asks again for refunds still open a minute later,
//! with the same out_refund_no, so a crash or a WeChat hiccup never loses one and never pays twice.
//!
//! Scopes: a customer's requests act in the tenant scope they were authorized for, and so do
//! payment events (the payments module calls with a service token for the payment's tenant); the
//! refund retry looks across tenants under [`REFUNDS_JOB`] and asks each refund in its tenant's
//! scope. No database transaction is open while another module is called.

use chrono::{Duration, Utc};
use mm_kernel::names::name_of;
use mm_kernel::{RequestContext, SystemScope, TenantId, TenantScope};
use mm_proto::minimodules::payments::v1 as payments;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use crate::domain::{Action, Actor, Deposit, Status};
use crate::entity::{pay_notifications, reservations};
use crate::error::{BookingError, Result};
use crate::names::{Payments, Users};
use crate::service::BookingApp;

/// The method of `BookingPaymentEvents` the payments module reports a deposit's payment to.
pub const LISTENER: &str = "/minimodules.booking.v1.BookingPaymentEvents/OnPaymentEvent";

/// The system scope of the sweeper's refund retry, which looks for open refunds across tenants.
pub const REFUNDS_JOB: &str = "booking.refunds";

/// WeChat's out_trade_no (and out_refund_no) for a reservation: its id without dashes.
pub fn out_trade_no(id: &str) -> String {
    id.replace('-', "")
}

/// The payments module's name of a reservation's deposit payment.
pub fn payment_name(tenant: TenantId, id: &str) -> String {
    name_of::<Payments>(tenant, &out_trade_no(id))
}

fn reservation_id_of(no: &str) -> Option<String> {
    uuid::Uuid::try_parse(no)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// The reservation an event is about: its payment id is the reservation's out_trade_no, and its
/// reference, when set, the reservation id itself; anything else is not one of our payments.
fn reservation_of_event(payment_id: &str, reference: &str) -> Result<String> {
    let id = reservation_id_of(payment_id).ok_or_else(|| {
        BookingError::PaymentMismatch(format!(
            "{payment_id:?} is not one of our reservation numbers"
        ))
    })?;
    if !reference.is_empty() && reference != id {
        return Err(BookingError::PaymentMismatch(format!(
            "payment {payment_id} is not reservation {reference}'s"
        )));
    }
    Ok(id)
}

fn deposit_of(row: &reservations::Model) -> Deposit {
    Deposit::parse(&row.deposit_status).unwrap_or(Deposit::None)
}

/// Changes the deposit columns of a reservation if its deposit still stands at `from`.
async fn move_deposit(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
    from: Deposit,
    to: Deposit,
    extra: Vec<(reservations::Column, sea_orm::sea_query::SimpleExpr)>,
) -> Result<bool, DbErr> {
    let mut q = scope
        .update_many::<reservations::Entity>()
        .col_expr(
            reservations::Column::DepositStatus,
            Expr::value(to.as_str()),
        )
        .col_expr(reservations::Column::UpdatedAt, Expr::value(Utc::now()));
    for (c, e) in extra {
        q = q.col_expr(c, e);
    }
    let r = q
        .filter(reservations::Column::ReservationId.eq(id))
        .filter(reservations::Column::DepositStatus.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// [`move_deposit`] in a transaction of its own.
async fn move_deposit_now(
    db: &DatabaseConnection,
    scope: &TenantScope,
    id: &str,
    from: Deposit,
    to: Deposit,
    extra: Vec<(reservations::Column, sea_orm::sea_query::SimpleExpr)>,
) -> Result<bool, DbErr> {
    let txn = scope.begin(db).await?;
    let moved = move_deposit(&txn, scope, id, from, to, extra).await?;
    txn.commit().await?;
    Ok(moved)
}

/// Refunds still open (`refunding`) and untouched since `before` (at most 50), across tenants:
/// the sweeper finds them before it knows whose they are, so this takes its [`SystemScope`] and
/// runs in its transaction; each refund is then asked in its own tenant's scope.
async fn stale_refunds(
    db: &impl ConnectionTrait,
    _sys: &SystemScope,
    before: chrono::DateTime<Utc>,
) -> Result<Vec<reservations::Model>, DbErr> {
    reservations::Entity::find()
        .filter(reservations::Column::DepositStatus.eq(Deposit::Refunding.as_str()))
        .filter(reservations::Column::UpdatedAt.lt(before))
        .limit(50)
        .all(db)
        .await
}

impl BookingApp {
    /// Starts paying a held reservation's deposit: creates (or repeats) the prepay and signs
    /// what `wx.requestPayment` needs. WeChat closes the transaction when the hold ends.
    pub async fn pay_deposit(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<(reservations::Model, payments::RequestPaymentParams)> {
        let tenant = scope.tenant();
        let (row, actor, _) = self.visible(ctx, scope, id).await?;
        if actor != Actor::Customer {
            return Err(BookingError::PaymentUnavailable(
                "only the customer pays a deposit".into(),
            ));
        }
        if deposit_of(&row) != Deposit::Unpaid {
            return Err(BookingError::PaymentUnavailable(format!(
                "nothing to pay: the deposit is {}",
                row.deposit_status
            )));
        }
        let now = Utc::now();
        if row.status != Status::Held.as_str() || row.expires_at <= now {
            // A held row past its deadline is as good as expired.
            let from = match Status::parse(&row.status) {
                Some(Status::Held) | None => Status::Expired,
                Some(s) => s,
            };
            return Err(BookingError::InvalidTransition {
                from,
                action: "paid",
            });
        }
        let txn = scope.begin(&self.db).await?;
        let service = crate::repo::find_service(&txn, scope, &row.service_id)
            .await?
            .map(|s| s.display_name)
            .unwrap_or_default();
        txn.commit().await?;
        let created = self
            .upstream
            .payments
            .create(
                tenant,
                payments::CreatePaymentRequest {
                    name: payment_name(tenant, &row.reservation_id),
                    description: format!("预约定金 {service}").chars().take(120).collect(),
                    amount_fen: row.deposit_fen,
                    expire_time: Some(mm_kernel::json::timestamp(row.expires_at)),
                    payer: name_of::<Users>(tenant, &row.customer_id),
                    listener: LISTENER.into(),
                    reference: row.reservation_id.clone(),
                },
            )
            .await?;
        let params = created.params.ok_or_else(|| {
            BookingError::Internal(anyhow::anyhow!(
                "the payments service answered no wx.requestPayment parameters"
            ))
        })?;
        move_deposit_now(
            &self.db,
            scope,
            id,
            Deposit::Unpaid,
            Deposit::Unpaid,
            vec![(
                reservations::Column::PrepayId,
                Expr::value(created.prepay_id),
            )],
        )
        .await?;
        Ok((self.reload(scope, id).await?, params))
    }

    /// Records a paid deposit, then confirms the hold; a payment for a hold that already ended
    /// (expired, cancelled) is refunded at once. Returns false when there was nothing to do.
    async fn apply_payment(
        &self,
        scope: &TenantScope,
        row: reservations::Model,
        transaction_id: &str,
        notification: Option<(&str, &str)>,
    ) -> Result<bool> {
        let txn = scope.begin(&self.db).await?;
        if let Some((nid, event)) = notification {
            record_notification(&txn, scope, nid, event, &row.reservation_id).await?;
        }
        let paid = move_deposit(
            &txn,
            scope,
            &row.reservation_id,
            Deposit::Unpaid,
            Deposit::Paid,
            vec![(
                reservations::Column::TransactionId,
                Expr::value(transaction_id),
            )],
        )
        .await?;
        txn.commit().await?;
        mm_kernel::fault::point("booking.deposit.committed");
        // The deposit column is the gate, not the notification record: a replay after a
        // half-finished first attempt still finishes the job, and never does it twice.
        let row = self.reload(scope, &row.reservation_id).await?;
        if deposit_of(&row) != Deposit::Paid {
            return Ok(paid);
        }
        if row.status == Status::Held.as_str() {
            match self
                .step(scope, row.clone(), Action::Confirm, Actor::System, "")
                .await
            {
                Ok(_) => return Ok(true),
                // Expired or cancelled in the meantime (which refunds): nothing more here.
                Err(BookingError::InvalidTransition { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let row = self.reload(scope, &row.reservation_id).await?;
        let over = !matches!(
            Status::parse(&row.status),
            Some(Status::Held | Status::Confirmed | Status::Completed | Status::NoShow)
        );
        if over && deposit_of(&row) == Deposit::Paid {
            tracing::info!(reservation = %row.reservation_id, status = %row.status, "deposit paid for a booking that is over; refunding");
            self.refund_deposit(scope, &row).await?;
            return Ok(true);
        }
        Ok(paid)
    }

    /// Marks a paid deposit for refund inside `txn` (the transaction cancelling the booking).
    /// True when there is a refund to ask for once `txn` commits.
    pub(crate) async fn mark_refund(
        txn: &impl ConnectionTrait,
        scope: &TenantScope,
        row: &reservations::Model,
    ) -> Result<bool, DbErr> {
        if deposit_of(row) != Deposit::Paid {
            return Ok(false);
        }
        move_deposit(
            txn,
            scope,
            &row.reservation_id,
            Deposit::Paid,
            Deposit::Refunding,
            vec![],
        )
        .await
    }

    /// Asks WeChat Pay to refund the whole deposit (marked refunding first, if paid). Repeating it
    /// repeats the same refund (same out_refund_no), never a second one.
    pub(crate) async fn refund_deposit(
        &self,
        scope: &TenantScope,
        row: &reservations::Model,
    ) -> Result<()> {
        let tenant = scope.tenant();
        let id = &row.reservation_id;
        match deposit_of(row) {
            Deposit::Paid => {
                move_deposit_now(
                    &self.db,
                    scope,
                    id,
                    Deposit::Paid,
                    Deposit::Refunding,
                    vec![],
                )
                .await?;
            }
            Deposit::Refunding => {}
            _ => return Ok(()),
        }
        let state = self
            .upstream
            .payments
            .refund(
                tenant,
                payments::RefundPaymentRequest {
                    name: payment_name(tenant, id),
                    // One full refund per deposit: asking again repeats it, never pays twice.
                    refund_id: out_trade_no(id),
                    refund_fen: row.deposit_fen,
                    total_fen: row.deposit_fen,
                    reason: "预约取消，退还定金".into(),
                },
            )
            .await?;
        if state == payments::RefundState::Succeeded {
            move_deposit_now(
                &self.db,
                scope,
                id,
                Deposit::Refunding,
                Deposit::Refunded,
                vec![],
            )
            .await?;
        } else {
            if matches!(
                state,
                payments::RefundState::Closed | payments::RefundState::Abnormal
            ) {
                tracing::warn!(reservation = %id, state = ?state, "WeChat could not refund the deposit; the shop must act");
            }
            // Touch it, so the sweeper waits a while before asking again.
            move_deposit_now(
                &self.db,
                scope,
                id,
                Deposit::Refunding,
                Deposit::Refunding,
                vec![],
            )
            .await?;
        }
        Ok(())
    }

    /// Refunds the deposit of a booking just cancelled, logging (not failing the cancel) when
    /// WeChat Pay cannot be asked now: the sweeper asks again.
    pub(crate) async fn refund_after_cancel(&self, scope: &TenantScope, id: &str) {
        let row = match self.reload(scope, id).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(reservation = %id, error = %e, "refund: reload failed");
                return;
            }
        };
        if let Err(e) = self.refund_deposit(scope, &row).await {
            tracing::warn!(reservation = %id, error = %e, "deposit refund failed; the sweeper retries");
        }
    }

    /// Asks again for refunds still open after a minute (a crash, a WeChat hiccup, a lost
    /// notification). Returns how many were asked. Across tenants, under [`REFUNDS_JOB`].
    pub(crate) async fn retry_refunds(&self) -> anyhow::Result<usize> {
        let sys = SystemScope::named(REFUNDS_JOB);
        let txn = sys.begin(&self.db).await?;
        let rows = stale_refunds(&txn, &sys, Utc::now() - Duration::minutes(1)).await?;
        txn.commit().await?;
        let n = rows.len();
        for row in rows {
            let scope = sys.tenant(row.tenant_id);
            if let Err(e) = self.refund_deposit(&scope, &row).await {
                tracing::warn!(reservation = %row.reservation_id, error = %e, "deposit refund retry failed");
            }
        }
        Ok(n)
    }

    /// Closes the WeChat transaction of a hold that ended unpaid; failures only logged (a payment
    /// arriving anyway is refunded when its notification comes).
    pub(crate) async fn close_quietly(&self, tenant: TenantId, row: &reservations::Model) {
        if row.prepay_id.is_none() || deposit_of(row) != Deposit::Unpaid {
            return;
        }
        if let Err(e) = self
            .upstream
            .payments
            .close(tenant, payment_name(tenant, &row.reservation_id))
            .await
        {
            tracing::warn!(error = %e, reservation = %row.reservation_id, "closing the WeChat transaction failed");
        }
    }

    /// Applies what the payments module reports about a deposit, in the scope of the payment's
    /// tenant (the caller, a service token, was authorized for it): PAID confirms the hold (or
    /// refunds the deposit, when the hold ended meanwhile), REFUNDED settles a refund, a
    /// REFUND_FAILED is left to the shop. Events repeat (WeChat retries, a query and a
    /// notification report the same payment); a repeat changes nothing and answers false.
    pub async fn on_payment_event(
        &self,
        scope: &TenantScope,
        payment_id: &str,
        event: &payments::PaymentEvent,
    ) -> Result<bool> {
        let id = reservation_of_event(payment_id, &event.reference)?;
        let notification = (!event.notification_id.is_empty())
            .then_some((event.notification_id.as_str(), event.event_type.as_str()));
        match event.kind() {
            payments::PaymentEventKind::Paid => {
                let row = self.reload(scope, &id).await?;
                if event.amount_fen != row.deposit_fen {
                    return Err(BookingError::PaymentMismatch(format!(
                        "paid {} fen where {} fen were due",
                        event.amount_fen, row.deposit_fen
                    )));
                }
                self.apply_payment(scope, row, &event.transaction_id, notification)
                    .await
            }
            kind @ (payments::PaymentEventKind::Refunded
            | payments::PaymentEventKind::RefundFailed) => {
                let succeeded = kind == payments::PaymentEventKind::Refunded;
                let row = self.reload(scope, &id).await?;
                let txn = scope.begin(&self.db).await?;
                if let Some((nid, event_type)) = notification
                    && !record_notification(&txn, scope, nid, event_type, &row.reservation_id)
                        .await?
                {
                    return Ok(false);
                }
                let moved = succeeded
                    && move_deposit(
                        &txn,
                        scope,
                        &row.reservation_id,
                        Deposit::Refunding,
                        Deposit::Refunded,
                        vec![],
                    )
                    .await?;
                txn.commit().await?;
                if !succeeded {
                    tracing::warn!(reservation = %row.reservation_id, event = %event.event_type, "WeChat deposit refund did not succeed; the shop must act");
                }
                Ok(moved)
            }
            payments::PaymentEventKind::Unspecified => Err(BookingError::Request(
                mm_kernel::error::RequestError::invalid("kind", "an event must say what happened"),
            )),
        }
    }

    /// Asks WeChat Pay (through the payments module) about an unpaid deposit; a payment whose
    /// notification was missed comes back as a PAID event and is applied before it answers.
    pub async fn refresh_deposit(
        &self,
        ctx: &RequestContext,
        scope: &TenantScope,
        id: &str,
    ) -> Result<reservations::Model> {
        let tenant = scope.tenant();
        let (row, _, _) = self.visible(ctx, scope, id).await?;
        if row.prepay_id.is_none() || deposit_of(&row) != Deposit::Unpaid {
            return Ok(row);
        }
        self.upstream
            .payments
            .refresh(tenant, payment_name(tenant, &row.reservation_id))
            .await?;
        self.reload(scope, id).await
    }
}

/// Records a notification; `Ok(false)` when it was recorded before (a replay). The replay is
/// found by the insert's conflict without failing it, so the caller's transaction stays usable
/// (PostgreSQL aborts a transaction on any failed statement).
async fn record_notification(
    txn: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
    event_type: &str,
    reservation: &str,
) -> Result<bool, DbErr> {
    let row = pay_notifications::Model {
        tenant_id: scope.tenant(),
        notification_id: id.chars().take(64).collect(),
        event_type: event_type.chars().take(64).collect(),
        reservation_id: reservation.to_string(),
        received_at: Utc::now(),
    };
    let inserted =
        pay_notifications::Entity::insert(sea_orm::IntoActiveModel::into_active_model(row))
            .on_conflict(
                sea_orm::sea_query::OnConflict::columns([
                    pay_notifications::Column::TenantId,
                    pay_notifications::Column::NotificationId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    Ok(inserted > 0)
}
