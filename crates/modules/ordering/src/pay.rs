//! WeChat Pay for orders: the tenant's merchant account (kept by the tenant module), prepay with the
//! parameters `wx.requestPayment` needs, notifications (verified, decrypted, checked against the
//! order, applied once), order query for missed notifications, refunds, and closing unpaid
//! transactions. The protocol itself is mm-wechatpay's; this file decides what it means for an
//! order.
//!
//! The database is touched only in transactions of the order's tenant (`scope.begin`), never one
//! held across a call to WeChat Pay. A notification has no caller to authorize: it is handled
//! under the [`NOTIFICATIONS`] system scope, narrowed to the tenant of the notify URL, whose
//! merchant key must have signed it.

use chrono::Utc;
use mm_kernel::merchant::MerchantAccount;
use mm_kernel::{RequestContext, SystemScope, TenantId, TenantScope};
use mm_proto::minimodules::ordering::v1 as pb;
use mm_wechatpay::{
    JsapiPrepay, NotificationHeaders, NotificationResource, RefundRequest, RefundStatus,
    RequestPaymentParams, TradeState, Transaction,
};
use sea_orm::sea_query::Expr;

use crate::domain::{Action, Actor, PayMethod, Status};
use crate::entity::orders;
use crate::error::{OrderingError, Result};
use crate::repo;
use crate::service::{OrderingApp, load_order};

/// The name of the [`SystemScope`] WeChat Pay's notifications are handled under: they come with
/// no caller, only the tenant of the notify URL and a signature of that tenant's merchant key.
pub const NOTIFICATIONS: &str = "ordering.wechat_pay_notification";

/// WeChat's out_trade_no for an order: its id without dashes (WeChat allows at most 32 characters).
pub fn out_trade_no(order_id: &str) -> String {
    order_id.replace('-', "")
}

/// The order id back from an out_trade_no.
fn order_id_of(out_trade_no: &str) -> Option<String> {
    uuid::Uuid::try_parse(out_trade_no)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// The order id back from an out_trade_no WeChat sent, or why it is not one of ours.
fn order_id_of_trade_no(no: &str) -> Result<String> {
    order_id_of(no).ok_or_else(|| {
        OrderingError::PaymentMismatch(format!("{no:?} is not one of our order numbers"))
    })
}

fn wechat_error(e: mm_wechatpay::Error) -> OrderingError {
    match e {
        mm_wechatpay::Error::Api { code, message, .. } => {
            OrderingError::WechatPay { code, message }
        }
        mm_wechatpay::Error::Transport(_) => OrderingError::Unavailable("WeChat Pay".into()),
        other => OrderingError::Internal(anyhow::anyhow!("WeChat Pay: {other}")),
    }
}

impl OrderingApp {
    /// Asks for a full refund of a WeChat-paid order: WeChat's answer, usually PROCESSING (its
    /// notification settles it) or SUCCESS.
    pub(crate) async fn refund_wechat(
        &self,
        tenant: TenantId,
        row: &orders::Model,
        reason: &str,
    ) -> Result<RefundStatus> {
        let keys = self.payments.require_account(tenant).await?.keys;
        let reason: String = reason.chars().take(80).collect();
        let r = self
            .payments
            .client
            .refund(
                &keys,
                &RefundRequest {
                    out_trade_no: out_trade_no(&row.order_id),
                    // One full refund per order: a retry repeats the same refund, never a second.
                    out_refund_no: out_trade_no(&row.order_id),
                    reason: (!reason.is_empty()).then_some(reason),
                    notify_url: self.payments.notify_url(tenant),
                    refund_fen: row.total_fen,
                    total_fen: row.total_fen,
                },
            )
            .await
            .map_err(wechat_error)?;
        Ok(r.status)
    }

    /// Closes an unpaid WeChat transaction so it can no longer be paid; failures only logged
    /// (a payment arriving anyway is refunded when its notification comes).
    /// Closes an unpaid WeChat transaction so it can no longer be paid. An order never sent to
    /// WeChat, or a shop without an account any more, has nothing to close; WeChat's refusals
    /// (paid meanwhile: the payment's notification refunds it; already closed) end the step too.
    /// Only an unreachable WeChat or tenant service is worth trying again.
    pub(crate) async fn close_payment(&self, tenant: TenantId, row: &orders::Model) -> Result<()> {
        if row.prepay_id.is_none() {
            return Ok(());
        }
        let Some(a) = self.payments.account(tenant).await? else {
            return Ok(());
        };
        match self
            .payments
            .client
            .close(&a.keys, &out_trade_no(&row.order_id))
            .await
        {
            Ok(()) => Ok(()),
            Err(mm_wechatpay::Error::Transport(e)) => {
                Err(OrderingError::Unavailable(format!("WeChat Pay ({e})")))
            }
            Err(e) => {
                tracing::warn!(error = %e, order = %row.order_id, "WeChat would not close the transaction");
                Ok(())
            }
        }
    }

    /// Starts paying: counter payment records the choice; WeChat Pay creates (or repeats) the
    /// prepay and signs what `wx.requestPayment` needs.
    pub async fn pay_order(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        method: PayMethod,
    ) -> Result<(orders::Model, Option<RequestPaymentParams>)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let config = self.upstream.config(tenant).await?;
        let row = self.visible(ctx, &scope, id).await?.0;
        if row.status != Status::PendingPayment.as_str() {
            return Err(OrderingError::InvalidTransition {
                from: Status::parse(&row.status).unwrap_or(Status::PendingPayment),
                action: "paid",
            });
        }
        if !config.payment_methods.contains(&method) {
            return Err(OrderingError::PaymentUnavailable(format!(
                "this shop does not take {} payments",
                method.as_str()
            )));
        }
        match method {
            PayMethod::Counter => {
                let txn = scope.begin(&self.db).await?;
                repo::move_order(
                    &txn,
                    &scope,
                    id,
                    Status::PendingPayment.as_str(),
                    Status::PendingPayment.as_str(),
                    vec![(orders::Column::PaymentMethod, Expr::value("counter"))],
                )
                .await?;
                let row = load_order(&txn, &scope, id).await?;
                txn.commit().await?;
                self.publish(&row, pb::OrderEventKind::Updated).await;
                Ok((row, None))
            }
            PayMethod::WechatPay => {
                let account = self.payments.require_account(tenant).await?;
                let keys = &account.keys;
                let (openid, appid) = self.upstream.payer(tenant, &row.customer_id).await?;
                if !account.appid.is_empty() && account.appid != appid {
                    return Err(OrderingError::PaymentUnavailable(
                        "the merchant account is bound to another mini-program".into(),
                    ));
                }
                let expire = row
                    .expires_at
                    .with_timezone(&crate::domain::shop_offset())
                    .format("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string();
                let prepay_id = self
                    .payments
                    .client
                    .jsapi_prepay(
                        keys,
                        &JsapiPrepay {
                            appid: appid.clone(),
                            description: format!("订单 {}", row.order_number),
                            out_trade_no: out_trade_no(&row.order_id),
                            time_expire: Some(expire),
                            notify_url: self.payments.notify_url(tenant),
                            amount_total_fen: row.total_fen,
                            payer_openid: openid,
                            attach: None,
                        },
                    )
                    .await
                    .map_err(wechat_error)?;
                // After WeChat answered: no transaction is held across the call.
                let txn = scope.begin(&self.db).await?;
                repo::move_order(
                    &txn,
                    &scope,
                    id,
                    Status::PendingPayment.as_str(),
                    Status::PendingPayment.as_str(),
                    vec![
                        (orders::Column::PaymentMethod, Expr::value("wechat_pay")),
                        (orders::Column::PrepayId, Expr::value(prepay_id.clone())),
                    ],
                )
                .await?;
                let row = load_order(&txn, &scope, id).await?;
                txn.commit().await?;
                let params =
                    RequestPaymentParams::new(keys, &appid, &prepay_id, Utc::now().timestamp())
                        .map_err(wechat_error)?;
                Ok((row, Some(params)))
            }
        }
    }

    /// Checks a transaction WeChat says succeeded against the order and the account.
    fn check_transaction(
        account: &MerchantAccount,
        row: &orders::Model,
        t: &Transaction,
    ) -> Result<()> {
        match account.mismatch(t, row.total_fen) {
            Some(why) => Err(OrderingError::PaymentMismatch(why)),
            None => Ok(()),
        }
    }

    /// Records a successful WeChat payment and moves the order on: paid (then accepted when the
    /// shop auto-accepts), or straight to a refund when it had expired meanwhile. Returns false
    /// when there was nothing left to do (a replay). The notification row is a record, not the
    /// gate: what decides is the order's status, moved by a conditional update, so a replay after
    /// a half-finished first attempt still finishes the job and never does it twice.
    async fn apply_payment(
        &self,
        scope: &TenantScope,
        row: orders::Model,
        t: &Transaction,
        notification: Option<(&str, &str)>,
    ) -> Result<bool> {
        let txn = scope.begin(&self.db).await?;
        if let Some((id, event)) = notification {
            repo::record_notification(&txn, scope, id, event, &row.order_id).await?;
        }
        // Remember whose money it is before anything else, so a refund can find it.
        if row.transaction_id.is_none() {
            repo::move_order(
                &txn,
                scope,
                &row.order_id,
                &row.status,
                &row.status,
                vec![
                    (
                        orders::Column::TransactionId,
                        Expr::value(t.transaction_id.clone().unwrap_or_default()),
                    ),
                    (orders::Column::PaymentMethod, Expr::value("wechat_pay")),
                ],
            )
            .await?;
        }
        let row = load_order(&txn, scope, &row.order_id).await?;
        txn.commit().await?;
        let open = [Status::PendingPayment.as_str(), Status::Cancelled.as_str()];
        if !open.contains(&row.status.as_str()) {
            return Ok(false);
        }
        match self
            .step(
                scope,
                row,
                Action::PaymentReceived,
                Actor::System,
                "订单已取消，自动退款",
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(OrderingError::InvalidTransition { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Takes a notification from WeChat Pay (through the BFF). Verified with the tenant's platform
    /// key, decrypted with its APIv3 key, checked against the order, applied once. There is no
    /// caller to authorize: it runs under the [`NOTIFICATIONS`] system scope, narrowed to `tenant`.
    pub async fn handle_notification(
        &self,
        tenant: TenantId,
        headers: NotificationHeaders,
        body: &[u8],
    ) -> Result<(String, bool)> {
        let scope = SystemScope::named(NOTIFICATIONS).tenant(tenant);
        let account = self
            .payments
            .account(tenant)
            .await?
            .ok_or_else(|| OrderingError::NotificationRejected("no merchant account".into()))?;
        let n =
            mm_wechatpay::parse_notification(&account.keys, &headers, body, Utc::now().timestamp())
                .map_err(|e| OrderingError::NotificationRejected(e.to_string()))?;
        match &n.resource {
            NotificationResource::Transaction(t) => {
                if t.trade_state != TradeState::Success {
                    return Ok((n.id, false));
                }
                let row = self.order_by_trade_no(&scope, &t.out_trade_no).await?;
                Self::check_transaction(&account, &row, t)?;
                let applied = self
                    .apply_payment(&scope, row, t, Some((&n.id, &n.event_type)))
                    .await?;
                Ok((n.id, applied))
            }
            NotificationResource::Refund(r) => {
                if r.mchid != account.mchid {
                    return Err(OrderingError::PaymentMismatch(format!(
                        "merchant {} is not this shop's",
                        r.mchid
                    )));
                }
                let id = order_id_of_trade_no(&r.out_trade_no)?;
                let txn = scope.begin_write(&self.db).await?;
                let row = load_order(&txn, &scope, &id).await?;
                if !repo::record_notification(&txn, &scope, &n.id, &n.event_type, &row.order_id)
                    .await?
                {
                    return Ok((n.id, false));
                }
                let moved = r.refund_status == RefundStatus::Success
                    && repo::move_order(
                        &txn,
                        &scope,
                        &row.order_id,
                        Status::Refunding.as_str(),
                        Status::Refunded.as_str(),
                        vec![(orders::Column::RefundedFen, Expr::value(r.amount.refund))],
                    )
                    .await?;
                let updated = if moved {
                    Some(load_order(&txn, &scope, &row.order_id).await?)
                } else {
                    None
                };
                txn.commit().await?;
                if let Some(row) = updated {
                    self.publish(&row, pb::OrderEventKind::Updated).await;
                } else if r.refund_status != RefundStatus::Success {
                    tracing::warn!(order = %row.order_id, status = ?r.refund_status, "WeChat refund did not succeed; the shop must act");
                }
                Ok((n.id, moved))
            }
        }
    }

    async fn order_by_trade_no(&self, scope: &TenantScope, no: &str) -> Result<orders::Model> {
        let id = order_id_of_trade_no(no)?;
        self.reload_order(scope, &id).await
    }

    /// Asks WeChat Pay about an unpaid order and applies a payment whose notification was missed.
    pub async fn refresh_payment(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<orders::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let row = self.visible(ctx, &scope, id).await?.0;
        if row.prepay_id.is_none() || row.transaction_id.is_some() {
            return Ok(row);
        }
        let account = self.payments.require_account(tenant).await?;
        let t = self
            .payments
            .client
            .query_by_out_trade_no(&account.keys, &out_trade_no(&row.order_id))
            .await
            .map_err(wechat_error)?;
        if t.trade_state == TradeState::Success {
            Self::check_transaction(&account, &row, &t)?;
            self.apply_payment(&scope, row, &t, None).await?;
        }
        self.reload_order(&scope, id).await
    }
}
