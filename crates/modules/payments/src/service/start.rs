//! CreatePayment: a JSAPI prepay for a paying module's record, or the same one again.

use chrono::Utc;
use mm_kernel::RequestContext;
use mm_kernel::error::RequestError;
use mm_wechatpay::{JsapiPrepay, RequestPaymentParams};

use super::PaymentsApp;
use crate::domain::{NewPayment, Status, wechat_time};
use crate::error::{PaymentsError, Result};
use crate::repo;

impl PaymentsApp {
    /// Starts a payment (or repeats the one started under the same name: WeChat answers the
    /// same prepay id for the same out_trade_no) and signs what `wx.requestPayment` needs.
    /// Answers the prepay id and the signed parameters.
    pub async fn start(
        &self,
        ctx: &RequestContext,
        p: NewPayment,
    ) -> Result<(String, RequestPaymentParams)> {
        let scope = ctx.authorize_tenant(&p.tenant)?;
        let txn = scope.begin(&self.db).await?;
        let before = repo::find(&txn, &scope, &p.payment_id).await?;
        txn.commit().await?;
        if let Some(b) = &before {
            if b.status == Status::Paid.as_str() {
                return Err(PaymentsError::PaymentUnavailable(
                    "nothing to pay: the payment is paid already".into(),
                ));
            }
            // WeChat keeps what the first prepay of an out_trade_no said; a different amount
            // or payer under the same name is a different payment.
            if b.amount_fen != p.amount_fen {
                return Err(RequestError::invalid(
                    "amount_fen",
                    format!(
                        "the payment was started for {} fen; start another for another amount",
                        b.amount_fen
                    ),
                )
                .into());
            }
            if b.payer != p.payer {
                return Err(RequestError::invalid(
                    "payer",
                    "the payment was started for another payer",
                )
                .into());
            }
        }
        let account = self.pay.require_account(p.tenant).await?;
        let (openid, appid) = self.upstream.payer(p.tenant, &p.payer).await?;
        if !account.appid.is_empty() && account.appid != appid {
            return Err(PaymentsError::PaymentUnavailable(
                "the merchant account is bound to another mini-program".into(),
            ));
        }
        let prepay_id = self
            .pay
            .client
            .jsapi_prepay(
                &account.keys,
                &JsapiPrepay {
                    appid: appid.clone(),
                    description: p.description.clone(),
                    out_trade_no: p.payment_id.clone(),
                    time_expire: p.expire_time.map(wechat_time),
                    notify_url: self.pay.notify_url(p.tenant),
                    amount_total_fen: p.amount_fen,
                    payer_openid: openid,
                    attach: None,
                },
            )
            .await?;
        // After WeChat answered: no transaction is held across the call.
        let txn = scope.begin(&self.db).await?;
        repo::upsert_started(&txn, &scope, &p, &prepay_id).await?;
        txn.commit().await?;
        let params =
            RequestPaymentParams::new(&account.keys, &appid, &prepay_id, Utc::now().timestamp())?;
        Ok((prepay_id, params))
    }
}
