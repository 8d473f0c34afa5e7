//! WeChat Pay for orders, through the payments module: prepay with the parameters
//! `wx.requestPayment` needs, order query for missed notifications, refunds and closing unpaid
//! transactions are asked of its contract (`upstream.rs`); what happens to the money (paid,
//! refunded, a refund that failed) comes back as a `PaymentEvent` on `OrderPaymentEvents`, which
//! this file applies to the order, once. The merchant account, WeChat's signatures and its
//! notifications are the payments module's; this file decides what a payment means for an order.
//!
//! The database is touched only in transactions of the order's tenant (`scope.begin`), never one
//! held across a call to another module. An event comes from the payments module with a service
//! token for the payment's tenant, and is applied in that tenant's scope.

use mm_kernel::names::name_of;
use mm_kernel::{RequestContext, TenantId, TenantScope};
use mm_proto::minimodules::ordering::v1 as pb;
use mm_proto::minimodules::payments::v1 as payments;
use sea_orm::sea_query::Expr;

use crate::domain::{Action, Actor, PayMethod, Status};
use crate::entity::orders;
use crate::error::{OrderingError, Result};
use crate::names::{Payments, Users};
use crate::repo;
use crate::service::{OrderingApp, load_order};

/// The method of `OrderPaymentEvents` the payments module reports an order's payment to.
pub const LISTENER: &str = "/minimodules.ordering.v1.OrderPaymentEvents/OnPaymentEvent";

/// WeChat's out_trade_no for an order: its id without dashes (WeChat allows at most 32 characters).
pub fn out_trade_no(order_id: &str) -> String {
    order_id.replace('-', "")
}

/// The payments module's name of an order's payment.
pub fn payment_name(tenant: TenantId, order_id: &str) -> String {
    name_of::<Payments>(tenant, &out_trade_no(order_id))
}

/// The order id back from an out_trade_no.
fn order_id_of(out_trade_no: &str) -> Option<String> {
    uuid::Uuid::try_parse(out_trade_no)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// The order an event is about: its payment id is the order's out_trade_no, and its reference,
/// when set, the order id itself; anything else is not one of our payments.
fn order_of_event(payment_id: &str, reference: &str) -> Result<String> {
    let id = order_id_of(payment_id).ok_or_else(|| {
        OrderingError::PaymentMismatch(format!("{payment_id:?} is not one of our order numbers"))
    })?;
    if !reference.is_empty() && reference != id {
        return Err(OrderingError::PaymentMismatch(format!(
            "payment {payment_id} is not order {reference}'s"
        )));
    }
    Ok(id)
}

/// Where a refund stands, as ordering acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refund {
    /// Money returned.
    Succeeded,
    /// Accepted, not finished: its notification (an event) settles it, or the next ask.
    Processing,
    /// Ended without returning the money (closed, abnormal): the shop must act.
    Failed(payments::RefundState),
}

impl OrderingApp {
    /// Asks for a full refund of a WeChat-paid order: usually processing (the REFUNDED event
    /// settles it) or succeeded.
    pub(crate) async fn refund_wechat(
        &self,
        tenant: TenantId,
        row: &orders::Model,
        reason: &str,
    ) -> Result<Refund> {
        let state = self
            .upstream
            .payments
            .refund(
                tenant,
                payments::RefundPaymentRequest {
                    name: payment_name(tenant, &row.order_id),
                    // One full refund per order: a retry repeats the same refund, never a second.
                    refund_id: out_trade_no(&row.order_id),
                    refund_fen: row.total_fen,
                    total_fen: row.total_fen,
                    reason: reason.chars().take(80).collect(),
                },
            )
            .await?;
        Ok(match state {
            payments::RefundState::Succeeded => Refund::Succeeded,
            payments::RefundState::Processing | payments::RefundState::Unspecified => {
                Refund::Processing
            }
            other @ (payments::RefundState::Closed | payments::RefundState::Abnormal) => {
                Refund::Failed(other)
            }
        })
    }

    /// Closes an unpaid WeChat transaction so it can no longer be paid. An order never sent to
    /// WeChat, or a shop without an account any more, has nothing to close; WeChat's refusals
    /// (paid meanwhile: the payment's event refunds it; already closed) end the step too.
    /// Only an unreachable payments service or WeChat is worth trying again.
    pub(crate) async fn close_payment(&self, tenant: TenantId, row: &orders::Model) -> Result<()> {
        if row.prepay_id.is_none() {
            return Ok(());
        }
        match self
            .upstream
            .payments
            .close(tenant, payment_name(tenant, &row.order_id))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.retryable() => Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %e, order = %row.order_id, "WeChat would not close the transaction");
                Ok(())
            }
        }
    }

    /// Starts paying: counter payment records the choice; WeChat Pay creates (or repeats) the
    /// prepay, through the payments module, which signs what `wx.requestPayment` needs.
    pub async fn pay_order(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        method: PayMethod,
    ) -> Result<(orders::Model, Option<payments::RequestPaymentParams>)> {
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
                let created = self
                    .upstream
                    .payments
                    .create(
                        tenant,
                        payments::CreatePaymentRequest {
                            name: payment_name(tenant, &row.order_id),
                            description: format!("订单 {}", row.order_number),
                            amount_fen: row.total_fen,
                            expire_time: Some(mm_kernel::json::timestamp(row.expires_at)),
                            payer: name_of::<Users>(tenant, &row.customer_id),
                            listener: LISTENER.into(),
                            reference: row.order_id.clone(),
                        },
                    )
                    .await?;
                let params = created.params.ok_or_else(|| {
                    OrderingError::Internal(anyhow::anyhow!(
                        "the payments service answered no wx.requestPayment parameters"
                    ))
                })?;
                // After the payments module answered: no transaction is held across the call.
                let txn = scope.begin(&self.db).await?;
                repo::move_order(
                    &txn,
                    &scope,
                    id,
                    Status::PendingPayment.as_str(),
                    Status::PendingPayment.as_str(),
                    vec![
                        (orders::Column::PaymentMethod, Expr::value("wechat_pay")),
                        (orders::Column::PrepayId, Expr::value(created.prepay_id)),
                    ],
                )
                .await?;
                let row = load_order(&txn, &scope, id).await?;
                txn.commit().await?;
                Ok((row, Some(params)))
            }
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
        transaction_id: &str,
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
                    (orders::Column::TransactionId, Expr::value(transaction_id)),
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

    /// Applies what the payments module reports about an order's payment, in the scope of the
    /// payment's tenant (the caller, a service token, was authorized for it): PAID moves the order
    /// on (or refunds it, when it was called off meanwhile), REFUNDED settles a refund, a
    /// REFUND_FAILED is left to the shop. Events repeat (WeChat retries, a query and a
    /// notification report the same payment); a repeat changes nothing and answers false.
    pub async fn on_payment_event(
        &self,
        scope: &TenantScope,
        payment_id: &str,
        event: &payments::PaymentEvent,
    ) -> Result<bool> {
        let id = order_of_event(payment_id, &event.reference)?;
        let notification = (!event.notification_id.is_empty())
            .then_some((event.notification_id.as_str(), event.event_type.as_str()));
        match event.kind() {
            payments::PaymentEventKind::Paid => {
                let row = self.reload_order(scope, &id).await?;
                if event.amount_fen != row.total_fen {
                    return Err(OrderingError::PaymentMismatch(format!(
                        "paid {} fen where {} fen were due",
                        event.amount_fen, row.total_fen
                    )));
                }
                self.apply_payment(scope, row, &event.transaction_id, notification)
                    .await
            }
            kind @ (payments::PaymentEventKind::Refunded
            | payments::PaymentEventKind::RefundFailed) => {
                let succeeded = kind == payments::PaymentEventKind::Refunded;
                let txn = scope.begin_write(&self.db).await?;
                let row = load_order(&txn, scope, &id).await?;
                if let Some((nid, event_type)) = notification
                    && !repo::record_notification(&txn, scope, nid, event_type, &row.order_id)
                        .await?
                {
                    return Ok(false);
                }
                let moved = succeeded
                    && repo::move_order(
                        &txn,
                        scope,
                        &row.order_id,
                        Status::Refunding.as_str(),
                        Status::Refunded.as_str(),
                        vec![(orders::Column::RefundedFen, Expr::value(event.refund_fen))],
                    )
                    .await?;
                let updated = if moved {
                    Some(load_order(&txn, scope, &row.order_id).await?)
                } else {
                    None
                };
                txn.commit().await?;
                if let Some(row) = updated {
                    self.publish(&row, pb::OrderEventKind::Updated).await;
                } else if !succeeded {
                    tracing::warn!(order = %row.order_id, event = %event.event_type, "WeChat refund did not succeed; the shop must act");
                }
                Ok(moved)
            }
            payments::PaymentEventKind::Unspecified => Err(OrderingError::Request(
                mm_kernel::error::RequestError::invalid("kind", "an event must say what happened"),
            )),
        }
    }

    /// Asks WeChat Pay (through the payments module) about an unpaid order; a payment whose
    /// notification was missed comes back as a PAID event and is applied before it answers.
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
        self.upstream
            .payments
            .refresh(tenant, payment_name(tenant, &row.order_id))
            .await?;
        self.reload_order(&scope, id).await
    }
}
