//! tonic handlers: read the context, parse and check the request, call the use case, convert back.

use mm_kernel::RequestContext;
use mm_kernel::ids::tenant_from_name;
use mm_proto::minimodules::payments::v1 as pb;
use pb::payment_service_server::PaymentService;
use tonic::{Request, Response, Status};

use crate::domain;
use crate::error::PaymentsError;
use crate::service::PaymentsApp;

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> Reply<T> {
    Ok(Response::new(v))
}

fn params(p: mm_wechatpay::RequestPaymentParams) -> pb::RequestPaymentParams {
    pb::RequestPaymentParams {
        app_id: p.app_id,
        time_stamp: p.time_stamp,
        nonce_str: p.nonce_str,
        package: p.package,
        sign_type: p.sign_type,
        pay_sign: p.pay_sign,
    }
}

#[tonic::async_trait]
impl PaymentService for PaymentsApp {
    async fn create_payment(
        &self,
        req: Request<pb::CreatePaymentRequest>,
    ) -> Reply<pb::CreatePaymentResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let p = domain::new_payment(req.get_ref()).map_err(PaymentsError::from)?;
        let (prepay_id, p) = self.start(&ctx, p).await?;
        ok(pb::CreatePaymentResponse {
            prepay_id,
            params: Some(params(p)),
        })
    }

    async fn refresh_payment(
        &self,
        req: Request<pb::RefreshPaymentRequest>,
    ) -> Reply<pb::RefreshPaymentResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, id) = domain::payment_name(&req.get_ref().name, "name")
            .map_err(PaymentsError::from)?
            .into_parts();
        let (paid, transaction_id) = self.refresh(&ctx, tenant, &id).await?;
        ok(pb::RefreshPaymentResponse {
            paid,
            transaction_id,
        })
    }

    async fn refund_payment(
        &self,
        req: Request<pb::RefundPaymentRequest>,
    ) -> Reply<pb::RefundPaymentResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = domain::refund_ask(req.get_ref()).map_err(PaymentsError::from)?;
        let state = self.refund(&ctx, r).await?;
        ok(pb::RefundPaymentResponse {
            state: state as i32,
        })
    }

    async fn close_payment(
        &self,
        req: Request<pb::ClosePaymentRequest>,
    ) -> Reply<pb::ClosePaymentResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, id) = domain::payment_name(&req.get_ref().name, "name")
            .map_err(PaymentsError::from)?
            .into_parts();
        self.close(&ctx, tenant, &id).await?;
        ok(pb::ClosePaymentResponse {})
    }

    async fn handle_wechat_notification(
        &self,
        req: Request<pb::HandleWechatNotificationRequest>,
    ) -> Reply<pb::HandleWechatNotificationResponse> {
        let r = req.into_inner();
        let tenant = tenant_from_name(&r.parent, "parent").map_err(PaymentsError::from)?;
        let (notification_id, applied) = self
            .take_notification(
                tenant,
                mm_wechatpay::NotificationHeaders {
                    timestamp: r.timestamp,
                    nonce: r.nonce,
                    signature: r.signature,
                    serial: r.serial,
                },
                &r.body,
            )
            .await?;
        ok(pb::HandleWechatNotificationResponse {
            notification_id,
            applied,
        })
    }
}
