//! HandleWechatNotification: WeChat Pay's payment and refund notifications, verified with the
//! tenant's platform key, decrypted with its APIv3 key, checked against the payment started here,
//! then reported to the paying module.

use chrono::Utc;
use mm_kernel::{SystemScope, TenantId};
use mm_proto::minimodules::payments::v1 as pb;
use mm_wechatpay::{NotificationHeaders, NotificationResource, TradeState};

use super::{NOTIFICATIONS, PaymentsApp};
use crate::domain;
use crate::error::{PaymentsError, Result};

impl PaymentsApp {
    /// Takes a notification from WeChat Pay (through the BFF). There is no caller to authorize:
    /// it runs under the [`NOTIFICATIONS`] system scope, narrowed to `tenant` (the notify URL's),
    /// whose merchant keys must verify it. Answers the notification's id and whether the paying
    /// module applied it (false for a replay, or a state that reports nothing).
    pub async fn take_notification(
        &self,
        tenant: TenantId,
        headers: NotificationHeaders,
        body: &[u8],
    ) -> Result<(String, bool)> {
        let scope = SystemScope::named(NOTIFICATIONS).tenant(tenant);
        let account = self
            .pay
            .account(tenant)
            .await?
            .ok_or_else(|| PaymentsError::NotificationRejected("no merchant account".into()))?;
        let n =
            mm_wechatpay::parse_notification(&account.keys, &headers, body, Utc::now().timestamp())
                .map_err(|e| PaymentsError::NotificationRejected(e.to_string()))?;
        match &n.resource {
            NotificationResource::Transaction(t) => {
                if t.trade_state != TradeState::Success {
                    return Ok((n.id, false));
                }
                let row = self.load(&scope, &t.out_trade_no).await?;
                if let Some(why) = account.mismatch(t, row.amount_fen) {
                    return Err(PaymentsError::PaymentMismatch(why));
                }
                let transaction_id = t.transaction_id.clone().unwrap_or_default();
                let applied = self
                    .paid(&scope, &row, &transaction_id, Some((&n.id, &n.event_type)))
                    .await?;
                Ok((n.id, applied))
            }
            NotificationResource::Refund(r) => {
                if r.mchid != account.mchid {
                    return Err(PaymentsError::PaymentMismatch(format!(
                        "merchant {} is not this shop's",
                        r.mchid
                    )));
                }
                let row = self.load(&scope, &r.out_trade_no).await?;
                let Some(kind) = domain::refund_event(r.refund_status) else {
                    return Ok((n.id, false));
                };
                if kind == pb::PaymentEventKind::RefundFailed {
                    tracing::warn!(payment = %row.payment_id, refund = %r.out_refund_no, status = ?r.refund_status, "WeChat refund did not succeed; the shop must act");
                }
                let applied = self
                    .report(
                        tenant,
                        &row,
                        pb::PaymentEvent {
                            kind: kind as i32,
                            transaction_id: r.transaction_id.clone(),
                            refund_fen: r.amount.refund,
                            refund_id: r.out_refund_no.clone(),
                            notification_id: n.id.clone(),
                            event_type: n.event_type.clone(),
                            ..Default::default()
                        },
                    )
                    .await?;
                Ok((n.id, applied))
            }
        }
    }
}
