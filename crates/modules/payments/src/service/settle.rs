//! RefreshPayment, RefundPayment and ClosePayment: asking WeChat Pay about a payment started
//! here, giving its money back, and closing it unpaid.

use mm_kernel::RequestContext;
use mm_kernel::TenantId;
use mm_kernel::error::RequestError;
use mm_proto::minimodules::payments::v1 as pb;
use mm_wechatpay::{RefundRequest, TradeState};

use super::PaymentsApp;
use crate::domain::{self, RefundAsk, Status};
use crate::error::{PaymentsError, Result};

impl PaymentsApp {
    /// Asks WeChat Pay how a payment stands, for a notification that is late or lost. A success
    /// is checked against the merchant account and the amount, recorded and reported to the
    /// paying module as its notification would have been. A payment already recorded paid is
    /// reported again without asking WeChat (the report of its notification may have failed;
    /// the listener takes repeats). Answers whether it is paid, and WeChat's transaction id.
    pub async fn refresh(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        payment_id: &str,
    ) -> Result<(bool, String)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let row = self.load(&scope, payment_id).await?;
        if row.status == Status::Paid.as_str() {
            let transaction_id = row.transaction_id.clone().unwrap_or_default();
            self.paid(&scope, &row, &transaction_id, None).await?;
            return Ok((true, transaction_id));
        }
        if row.prepay_id.is_none() {
            // Never reached WeChat: nothing to ask.
            return Ok((false, String::new()));
        }
        let account = self.pay.require_account(tenant).await?;
        let t = self
            .pay
            .client
            .query_by_out_trade_no(&account.keys, &row.payment_id)
            .await?;
        if t.trade_state != TradeState::Success {
            return Ok((false, String::new()));
        }
        if let Some(why) = account.mismatch(&t, row.amount_fen) {
            return Err(PaymentsError::PaymentMismatch(why));
        }
        let transaction_id = t.transaction_id.unwrap_or_default();
        self.paid(&scope, &row, &transaction_id, None).await?;
        Ok((true, transaction_id))
    }

    /// Asks WeChat Pay for a refund; the same refund id repeats the same refund, never a second.
    /// Answers where the refund stands (usually processing: its notification settles it).
    pub async fn refund(&self, ctx: &RequestContext, r: RefundAsk) -> Result<pb::RefundState> {
        let scope = ctx.authorize_tenant(&r.tenant)?;
        let row = self.load(&scope, &r.payment_id).await?;
        if r.total_fen != row.amount_fen {
            return Err(RequestError::invalid(
                "total_fen",
                format!("the payment is of {} fen", row.amount_fen),
            )
            .into());
        }
        let account = self.pay.require_account(r.tenant).await?;
        let answer = self
            .pay
            .client
            .refund(
                &account.keys,
                &RefundRequest {
                    out_trade_no: row.payment_id.clone(),
                    out_refund_no: r.refund_id,
                    reason: r.reason,
                    notify_url: self.pay.notify_url(r.tenant),
                    refund_fen: r.refund_fen,
                    total_fen: row.amount_fen,
                },
            )
            .await?;
        Ok(domain::refund_state(answer.status))
    }

    /// Closes an unpaid payment so it can no longer be paid. A payment never started or never
    /// sent to WeChat, one paid already, or a shop without a merchant account any more has
    /// nothing to close; WeChat's refusals (paid meanwhile: its notification reports it; closed
    /// already) end the step too. Only an unreachable WeChat or tenant service is worth trying
    /// again (UNAVAILABLE).
    pub async fn close(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        payment_id: &str,
    ) -> Result<()> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let row = match self.load(&scope, payment_id).await {
            Ok(row) => row,
            Err(PaymentsError::PaymentNotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        if row.prepay_id.is_none() || row.status == Status::Paid.as_str() {
            return Ok(());
        }
        let Some(account) = self.pay.account(tenant).await? else {
            return Ok(());
        };
        match self.pay.client.close(&account.keys, &row.payment_id).await {
            Ok(()) => Ok(()),
            Err(mm_wechatpay::Error::Transport(e)) => {
                Err(PaymentsError::Unavailable(format!("WeChat Pay ({e})")))
            }
            Err(e) => {
                tracing::warn!(error = %e, payment = %row.payment_id, "WeChat would not close the transaction");
                Ok(())
            }
        }
    }
}
