//! Deposits through WeChat Pay, with the tenant's one merchant account (kept by the tenant
//! module, opened through `mm_kernel::merchant`) and the protocol of mm-wechatpay: prepay for a
//! held reservation (WeChat closes the transaction when the hold ends), the notification that
//! confirms the reservation (verified, decrypted, checked, applied once), a query for missed
//! notifications, and refunds: when a paid booking is cancelled, and at once when a payment
//! arrives for a hold that had already ended.
//!
//! A refund is first written down (`deposit_status = refunding`) in the transaction that decides
//! it, then asked of WeChat Pay; the sweeper asks again for refunds still open a minute later,
//! with the same out_refund_no, so a crash or a WeChat hiccup never loses one and never pays twice.
//!
//! Scopes: a customer's requests act in the tenant scope they were authorized for. WeChat Pay's
//! notifications have no caller (their signature is their authentication), so they act under the
//! system scope [`NOTIFY_JOB`] narrowed to the tenant of the notify URL; the refund retry looks
//! across tenants under [`REFUNDS_JOB`] and asks each refund in its tenant's scope. No database
//! transaction is open while WeChat Pay or another module is called.

use chrono::{Duration, Utc};
use mm_kernel::merchant::MerchantAccount;
use mm_kernel::{RequestContext, SystemScope, TenantId, TenantScope};
use mm_wechatpay::{
    JsapiPrepay, NotificationHeaders, NotificationResource, RefundRequest, RefundStatus,
    RequestPaymentParams, TradeState, Transaction,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};

use crate::domain::{Action, Actor, Deposit, Status};
use crate::entity::{pay_notifications, reservations};
use crate::error::{BookingError, Result};
use crate::service::BookingApp;

/// The system scope of WeChat Pay's notifications: no caller, one tenant (the notify URL's).
pub const NOTIFY_JOB: &str = "booking.wechatpay_notify";

/// The system scope of the sweeper's refund retry, which looks for open refunds across tenants.
pub const REFUNDS_JOB: &str = "booking.refunds";

/// WeChat's out_trade_no (and out_refund_no) for a reservation: its id without dashes.
pub fn out_trade_no(id: &str) -> String {
    id.replace('-', "")
}

fn reservation_id_of(no: &str) -> Option<String> {
    uuid::Uuid::try_parse(no)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

fn wechat_error(e: mm_wechatpay::Error) -> BookingError {
    match e {
        mm_wechatpay::Error::Api { code, message, .. } => BookingError::WechatPay { code, message },
        mm_wechatpay::Error::Transport(_) => BookingError::Unavailable("WeChat Pay".into()),
        other => BookingError::Internal(anyhow::anyhow!("WeChat Pay: {other}")),
    }
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
    ) -> Result<(reservations::Model, RequestPaymentParams)> {
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
        let account = self.payments.require_account(tenant).await?;
        let (openid, appid) = self.upstream.payer(tenant, &row.customer_id).await?;
        if !account.appid.is_empty() && account.appid != appid {
            return Err(BookingError::PaymentUnavailable(
                "the merchant account is bound to another mini-program".into(),
            ));
        }
        let txn = scope.begin(&self.db).await?;
        let service = crate::repo::find_service(&txn, scope, &row.service_id)
            .await?
            .map(|s| s.display_name)
            .unwrap_or_default();
        txn.commit().await?;
        let expire = row
            .expires_at
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string();
        let prepay_id = self
            .payments
            .client
            .jsapi_prepay(
                &account.keys,
                &JsapiPrepay {
                    appid: appid.clone(),
                    description: format!("预约定金 {service}").chars().take(120).collect(),
                    out_trade_no: out_trade_no(&row.reservation_id),
                    time_expire: Some(expire),
                    notify_url: self.payments.notify_url(tenant),
                    amount_total_fen: row.deposit_fen,
                    payer_openid: openid,
                    attach: None,
                },
            )
            .await
            .map_err(wechat_error)?;
        move_deposit_now(
            &self.db,
            scope,
            id,
            Deposit::Unpaid,
            Deposit::Unpaid,
            vec![(
                reservations::Column::PrepayId,
                Expr::value(prepay_id.clone()),
            )],
        )
        .await?;
        let params = RequestPaymentParams::new(&account.keys, &appid, &prepay_id, now.timestamp())
            .map_err(wechat_error)?;
        Ok((self.reload(scope, id).await?, params))
    }

    fn check_transaction(
        account: &MerchantAccount,
        row: &reservations::Model,
        t: &Transaction,
    ) -> Result<()> {
        match account.mismatch(t, row.deposit_fen) {
            Some(why) => Err(BookingError::PaymentMismatch(why)),
            None => Ok(()),
        }
    }

    /// Records a paid deposit, then confirms the hold; a payment for a hold that already ended
    /// (expired, cancelled) is refunded at once. Returns false when there was nothing to do.
    async fn apply_payment(
        &self,
        scope: &TenantScope,
        row: reservations::Model,
        t: &Transaction,
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
                Expr::value(t.transaction_id.clone().unwrap_or_default()),
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
        let account = self.payments.require_account(tenant).await?;
        let r = self
            .payments
            .client
            .refund(
                &account.keys,
                &RefundRequest {
                    out_trade_no: out_trade_no(id),
                    out_refund_no: out_trade_no(id),
                    reason: Some("预约取消，退还定金".into()),
                    notify_url: self.payments.notify_url(tenant),
                    refund_fen: row.deposit_fen,
                    total_fen: row.deposit_fen,
                },
            )
            .await
            .map_err(wechat_error)?;
        if r.status == RefundStatus::Success {
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
        if let Ok(Some(a)) = self.payments.account(tenant).await
            && let Err(e) = self
                .payments
                .client
                .close(&a.keys, &out_trade_no(&row.reservation_id))
                .await
        {
            tracing::warn!(error = %e, reservation = %row.reservation_id, "closing the WeChat transaction failed");
        }
    }

    async fn by_trade_no(&self, scope: &TenantScope, no: &str) -> Result<reservations::Model> {
        let id = reservation_id_of(no).ok_or_else(|| {
            BookingError::PaymentMismatch(format!("{no:?} is not one of our reservation numbers"))
        })?;
        self.reload(scope, &id).await
    }

    /// Takes a WeChat Pay notification (through the BFF): verified with the platform key,
    /// decrypted with the APIv3 key, checked against the reservation, applied once. There is no
    /// caller to authorize: it acts under the system scope [`NOTIFY_JOB`], narrowed to `tenant`
    /// (the notify URL's), whose merchant keys must verify the notification.
    pub async fn handle_notification(
        &self,
        tenant: TenantId,
        headers: NotificationHeaders,
        body: &[u8],
    ) -> Result<(String, bool)> {
        let scope = SystemScope::named(NOTIFY_JOB).tenant(tenant);
        let account = self
            .payments
            .account(tenant)
            .await?
            .ok_or_else(|| BookingError::NotificationRejected("no merchant account".into()))?;
        let n =
            mm_wechatpay::parse_notification(&account.keys, &headers, body, Utc::now().timestamp())
                .map_err(|e| BookingError::NotificationRejected(e.to_string()))?;
        match &n.resource {
            NotificationResource::Transaction(t) => {
                if t.trade_state != TradeState::Success {
                    return Ok((n.id, false));
                }
                let row = self.by_trade_no(&scope, &t.out_trade_no).await?;
                Self::check_transaction(&account, &row, t)?;
                let applied = self
                    .apply_payment(&scope, row, t, Some((&n.id, &n.event_type)))
                    .await?;
                Ok((n.id, applied))
            }
            NotificationResource::Refund(r) => {
                if r.mchid != account.mchid {
                    return Err(BookingError::PaymentMismatch(format!(
                        "merchant {} is not this shop's",
                        r.mchid
                    )));
                }
                let row = self.by_trade_no(&scope, &r.out_trade_no).await?;
                let txn = scope.begin(&self.db).await?;
                if !record_notification(&txn, &scope, &n.id, &n.event_type, &row.reservation_id)
                    .await?
                {
                    return Ok((n.id, false));
                }
                let moved = r.refund_status == RefundStatus::Success
                    && move_deposit(
                        &txn,
                        &scope,
                        &row.reservation_id,
                        Deposit::Refunding,
                        Deposit::Refunded,
                        vec![],
                    )
                    .await?;
                txn.commit().await?;
                if r.refund_status != RefundStatus::Success {
                    tracing::warn!(reservation = %row.reservation_id, status = ?r.refund_status, "WeChat deposit refund did not succeed; the shop must act");
                }
                Ok((n.id, moved))
            }
        }
    }

    /// Asks WeChat Pay about an unpaid deposit and applies a payment whose notification was
    /// missed.
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
        let account = self.payments.require_account(tenant).await?;
        let t = self
            .payments
            .client
            .query_by_out_trade_no(&account.keys, &out_trade_no(&row.reservation_id))
            .await
            .map_err(wechat_error)?;
        if t.trade_state == TradeState::Success {
            Self::check_transaction(&account, &row, &t)?;
            self.apply_payment(scope, row, &t, None).await?;
        }
        self.reload(scope, id).await
    }
}

/// Records a notification; `Ok(false)` when it was recorded before (a replay). Inside a
/// savepoint, so a replay's refused insert leaves the caller's transaction usable (PostgreSQL
/// aborts a transaction on any failed statement).
async fn record_notification(
    txn: &sea_orm::DatabaseTransaction,
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
    let sp = txn.begin().await?;
    match pay_notifications::Entity::insert(sea_orm::IntoActiveModel::into_active_model(row))
        .exec_without_returning(&sp)
        .await
    {
        Ok(_) => {
            sp.commit().await?;
            Ok(true)
        }
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            sp.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
