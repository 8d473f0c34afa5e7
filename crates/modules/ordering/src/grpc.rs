//! tonic handlers: read the context, parse names, call the use case, convert back.

use mm_kernel::ids::tenant_from_name;
use mm_kernel::watch::{TenantWatch, Watched};
use mm_kernel::{RequestContext, TenantId};
use mm_proto::minimodules::ordering::v1 as pb;
use mm_proto::minimodules::payments::v1 as payments;
use pb::order_payment_events_server::OrderPaymentEvents;
use pb::order_service_server::OrderService;
use prost::Message as _;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::domain::Action;
use crate::error::OrderingError;
use crate::names::{OrderName, PaymentName};
use crate::service::{OrderingApp, Placement, TOPIC};

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> Reply<T> {
    Ok(Response::new(v))
}

fn order_name(name: &str) -> Result<(TenantId, String), Status> {
    Ok(OrderName::parse(name, "name")?.into_parts())
}

fn reply_order(o: &crate::entity::orders::Model) -> Option<pb::Order> {
    Some(convert::order(o))
}

impl OrderingApp {
    async fn step_rpc(
        &self,
        req: &Request<impl HasName>,
        action: Action,
        reason: &str,
    ) -> Result<pb::Order, Status> {
        let ctx = RequestContext::from_request(req)?;
        let (tenant, id) = order_name(req.get_ref().name())?;
        let row = self.advance(&ctx, tenant, &id, action, reason).await?;
        Ok(convert::order(&row))
    }
}

/// Requests addressed by an order name.
trait HasName {
    fn name(&self) -> &str;
}

macro_rules! has_name {
    ($($t:ty),*) => { $(impl HasName for $t { fn name(&self) -> &str { &self.name } })* };
}
has_name!(
    pb::CancelOrderRequest,
    pb::AcceptOrderRequest,
    pb::StartPreparingOrderRequest,
    pb::MarkOrderReadyRequest,
    pb::CompleteOrderRequest,
    pb::ConfirmCounterPaymentRequest,
    pb::RefundOrderRequest
);

type EventStream = mm_kernel::watch::WatchStream<pb::WatchOrdersResponse>;

#[tonic::async_trait]
impl OrderService for OrderingApp {
    async fn quote_order(
        &self,
        req: Request<pb::QuoteOrderRequest>,
    ) -> Reply<pb::QuoteOrderResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let mut basket = convert::basket(
            tenant,
            &r.items,
            r.fulfilment.as_ref(),
            &r.coupon,
            r.no_coupon,
        )?;
        basket.use_points = r.use_points;
        let q = self.quote(&ctx, tenant, &basket).await?;
        ok(pb::QuoteOrderResponse {
            quote: Some(pb::Quote {
                items: q.lines.iter().map(|l| convert::line(tenant, l)).collect(),
                amounts: Some(pb::Amounts {
                    items_fen: q.priced.amounts.items_fen,
                    packaging_fee_fen: q.priced.amounts.packaging_fee_fen,
                    total_fen: q.priced.amounts.total_fen,
                    discount_fen: q.priced.amounts.discount_fen,
                }),
                orderable: q.priced.problems.is_empty(),
                problems: q.priced.problems.iter().map(|p| (*p).to_string()).collect(),
                min_order_fen: q.min_order_fen,
                discounts: q
                    .quoted
                    .discounts
                    .into_iter()
                    .map(convert::discount)
                    .collect(),
                coupons: q.quoted.coupons,
                coupon_problem: q.quoted.coupon_problem,
                points: q.quoted.points,
            }),
        })
    }

    async fn create_order(
        &self,
        req: Request<pb::CreateOrderRequest>,
    ) -> Reply<pb::CreateOrderResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let mut basket = convert::basket(
            tenant,
            &r.items,
            r.fulfilment.as_ref(),
            &r.coupon,
            r.no_coupon,
        )?;
        basket.use_points = r.use_points;
        let row = self
            .create_order(
                &ctx,
                tenant,
                basket,
                Placement {
                    remark: r.remark,
                    request_id: r.request_id,
                    expected_total_fen: r.expected_total_fen,
                },
            )
            .await?;
        ok(pb::CreateOrderResponse {
            order: reply_order(&row),
        })
    }

    async fn get_order(&self, req: Request<pb::GetOrderRequest>) -> Reply<pb::GetOrderResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, id) = order_name(&req.get_ref().name)?;
        let row = self.get_order(&ctx, tenant, &id).await?;
        ok(pb::GetOrderResponse {
            order: reply_order(&row),
        })
    }

    async fn list_orders(
        &self,
        req: Request<pb::ListOrdersRequest>,
    ) -> Reply<pb::ListOrdersResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let statuses = convert::status_filter(&r.statuses)?;
        let (rows, next) = self
            .list_orders(&ctx, tenant, r.page_size, &r.page_token, &statuses)
            .await?;
        ok(pb::ListOrdersResponse {
            orders: rows.iter().map(convert::order).collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn pay_order(&self, req: Request<pb::PayOrderRequest>) -> Reply<pb::PayOrderResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let (tenant, id) = order_name(&r.name)?;
        let method = convert::pay_method(r.method)?;
        let (row, params) = self.pay_order(&ctx, tenant, &id, method).await?;
        ok(pb::PayOrderResponse {
            order: reply_order(&row),
            wechat_pay: params.map(|p| pb::WechatPayParams {
                app_id: p.app_id,
                time_stamp: p.time_stamp,
                nonce_str: p.nonce_str,
                package: p.package,
                sign_type: p.sign_type,
                pay_sign: p.pay_sign,
            }),
        })
    }

    async fn refresh_payment(
        &self,
        req: Request<pb::RefreshPaymentRequest>,
    ) -> Reply<pb::RefreshPaymentResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, id) = order_name(&req.get_ref().name)?;
        let row = self.refresh_payment(&ctx, tenant, &id).await?;
        ok(pb::RefreshPaymentResponse {
            order: reply_order(&row),
        })
    }

    async fn confirm_counter_payment(
        &self,
        req: Request<pb::ConfirmCounterPaymentRequest>,
    ) -> Reply<pb::ConfirmCounterPaymentResponse> {
        let order = self.step_rpc(&req, Action::CounterPaid, "").await?;
        ok(pb::ConfirmCounterPaymentResponse { order: Some(order) })
    }

    async fn cancel_order(
        &self,
        req: Request<pb::CancelOrderRequest>,
    ) -> Reply<pb::CancelOrderResponse> {
        let order = self.step_rpc(&req, Action::Cancel, "订单取消").await?;
        ok(pb::CancelOrderResponse { order: Some(order) })
    }

    async fn accept_order(
        &self,
        req: Request<pb::AcceptOrderRequest>,
    ) -> Reply<pb::AcceptOrderResponse> {
        let order = self.step_rpc(&req, Action::Accept, "").await?;
        ok(pb::AcceptOrderResponse { order: Some(order) })
    }

    async fn start_preparing_order(
        &self,
        req: Request<pb::StartPreparingOrderRequest>,
    ) -> Reply<pb::StartPreparingOrderResponse> {
        let order = self.step_rpc(&req, Action::StartPreparing, "").await?;
        ok(pb::StartPreparingOrderResponse { order: Some(order) })
    }

    async fn mark_order_ready(
        &self,
        req: Request<pb::MarkOrderReadyRequest>,
    ) -> Reply<pb::MarkOrderReadyResponse> {
        let order = self.step_rpc(&req, Action::MarkReady, "").await?;
        ok(pb::MarkOrderReadyResponse { order: Some(order) })
    }

    async fn complete_order(
        &self,
        req: Request<pb::CompleteOrderRequest>,
    ) -> Reply<pb::CompleteOrderResponse> {
        let order = self.step_rpc(&req, Action::Complete, "").await?;
        ok(pb::CompleteOrderResponse { order: Some(order) })
    }

    async fn refund_order(
        &self,
        req: Request<pb::RefundOrderRequest>,
    ) -> Reply<pb::RefundOrderResponse> {
        let reason = req.get_ref().reason.clone();
        let order = self.step_rpc(&req, Action::Refund, &reason).await?;
        ok(pb::RefundOrderResponse { order: Some(order) })
    }

    type WatchOrdersStream = EventStream;

    async fn watch_orders(
        &self,
        req: Request<pb::WatchOrdersRequest>,
    ) -> Reply<Self::WatchOrdersStream> {
        let ctx = RequestContext::from_request(&req)?;
        let tenant = tenant_from_name(&req.get_ref().parent, "parent")?;
        let scope = ctx.authorize_tenant(&tenant).map_err(OrderingError::from)?;
        let principal = ctx.principal().map_err(OrderingError::from)?.clone();
        let watch = TenantWatch::new(
            &self.cache,
            self.gate.clone(),
            principal,
            scope.tenant(),
            TOPIC,
        );
        Ok(Response::new(watch.into_stream(|w| {
            match w {
                Watched::Event(bytes) => pb::OrderEvent::decode(bytes)
                    .ok()
                    .map(|event| pb::WatchOrdersResponse { event: Some(event) }),
                // Missed events: the board reloads rather than show a stale picture.
                Watched::Resync => Some(pb::WatchOrdersResponse {
                    event: Some(pb::OrderEvent {
                        kind: pb::OrderEventKind::Resync as i32,
                        order: None,
                    }),
                }),
            }
        })))
    }
}

#[tonic::async_trait]
impl OrderPaymentEvents for OrderingApp {
    async fn on_payment_event(
        &self,
        req: Request<payments::PaymentEvent>,
    ) -> Reply<payments::PaymentEventAck> {
        let ctx = RequestContext::from_request(&req)?;
        let event = req.get_ref();
        let (tenant, payment) = PaymentName::parse(&event.payment, "payment")?.into_parts();
        let scope = ctx.authorize_tenant(&tenant).map_err(OrderingError::from)?;
        let applied = self.on_payment_event(&scope, &payment, event).await?;
        ok(payments::PaymentEventAck { applied })
    }
}
