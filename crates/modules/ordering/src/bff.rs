//! Ordering for the mini-program: quote, place, pay, list, detail, cancel. Prices, stock and who
//! may do what are all decided by the ordering service (WeChat Pay's notifications go to the
//! payments module's route); this file only shapes JSON.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use mm_kernel::TenantId;
use mm_kernel::names::{name_of, tenant_name};
use mm_kernel::platform::Platform;
use mm_proto::minimodules::ordering::v1 as pb;
use mm_proto::minimodules::ordering::v1::order_service_client::OrderServiceClient;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use mm_bff::error::{ApiError, ErrorBody};
use mm_bff::extract::{Json, Path, Query};
use mm_bff::routes::app::{AppConfigQuery, tenant_of};
use mm_bff::routes::wechat_pay::WechatPayDto;
use mm_bff::wire::{id_of, rfc3339};

use crate::names::{Orders, Products};

/// An item in a basket.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ItemBody {
    /// Product id (from the menu).
    pub product_id: String,
    /// SKU id (from the menu).
    pub sku_id: String,
    /// Units, 1 to 999.
    pub quantity: i32,
}

/// A delivery address, as `wx.chooseAddress` gives it.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
pub struct AddressDto {
    /// Recipient.
    pub contact_name: String,
    /// Phone.
    pub phone: String,
    /// Province, city, district.
    pub region: String,
    /// Street and number.
    pub detail: String,
}

/// How the order is handed over.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct FulfilmentDto {
    /// "dine_in", "takeaway" or "delivery".
    pub mode: String,
    /// Table number (dine-in), e.g. from the table's QR code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Address (delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressDto>,
}

/// A basket to price.
#[derive(Debug, Deserialize, ToSchema)]
pub struct QuoteBody {
    /// Items.
    pub items: Vec<ItemBody>,
    /// Fulfilment.
    pub fulfilment: FulfilmentDto,
    /// The coupon the customer picked (its id, from the coupons of the quote); absent lets the
    /// server choose the best.
    #[serde(default)]
    pub coupon_id: Option<String>,
    /// True to use no coupon.
    #[serde(default)]
    pub no_coupon: bool,
    /// True to pay with points, as many as the shop allows on this basket.
    #[serde(default)]
    pub use_points: bool,
}

/// An order to place. Send an `Idempotency-Key` header: a retry with the same key returns the
/// order placed the first time.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateOrderBody {
    /// Items.
    pub items: Vec<ItemBody>,
    /// Fulfilment.
    pub fulfilment: FulfilmentDto,
    /// Remark for the shop.
    #[serde(default)]
    pub remark: String,
    /// The total the customer saw; the order is refused (PRICE_CHANGED) if it differs.
    #[serde(default)]
    pub expected_total_fen: i64,
    /// The coupon the customer picked; absent lets the server choose the best (as the quote did).
    #[serde(default)]
    pub coupon_id: Option<String>,
    /// True to use no coupon.
    #[serde(default)]
    pub no_coupon: bool,
    /// True to pay with points, as many as the shop allows on this basket.
    #[serde(default)]
    pub use_points: bool,
}

/// How to pay.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PayBody {
    /// "wechat_pay" or "counter".
    pub method: String,
}

/// A priced line.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineDto {
    /// Product id.
    pub product_id: String,
    /// SKU id.
    pub sku_id: String,
    /// Product name.
    pub name: String,
    /// Spec values, e.g. "大杯 / 少冰".
    pub spec_summary: String,
    /// Unit price in fen.
    pub unit_price_fen: i64,
    /// Units.
    pub quantity: i32,
    /// Line total in fen.
    pub line_total_fen: i64,
    /// Orderable now (quotes only).
    pub available: bool,
}

/// Totals in fen.
#[derive(Debug, Serialize, ToSchema)]
pub struct AmountsDto {
    /// Lines.
    pub items_fen: i64,
    /// Packaging fee.
    pub packaging_fee_fen: i64,
    /// What the customer pays.
    pub total_fen: i64,
    /// Taken off by discounts.
    pub discount_fen: i64,
}

/// A discount taken off an order.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiscountDto {
    /// What it is: PROMOTION, MEMBER_LEVEL, COUPON or POINTS.
    pub kind: String,
    /// The coupon's id, for a coupon; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_id: Option<String>,
    /// Label in Chinese, e.g. "满100减20".
    pub label_zh: String,
    /// Label in English.
    pub label_en: String,
    /// Fen taken off.
    pub amount_fen: i64,
}

/// A coupon the customer holds, against this basket.
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponOptionDto {
    /// Coupon id (send it as coupon_id to pick it).
    pub coupon_id: String,
    /// Title in Chinese.
    pub title_zh: String,
    /// Title in English.
    pub title_en: String,
    /// What it would take off, in fen; 0 when it does not apply.
    pub amount_fen: i64,
    /// Why it does not apply: BELOW_THRESHOLD, NOT_IN_SCOPE, ITEM_NOT_IN_BASKET.
    pub problem: Option<String>,
}

/// A priced basket.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteDto {
    /// Lines.
    pub items: Vec<LineDto>,
    /// Totals.
    pub amounts: AmountsDto,
    /// Whether it can be ordered now.
    pub orderable: bool,
    /// Why not: BELOW_MINIMUM, ITEM_UNAVAILABLE, SHOP_CLOSED, MODE_NOT_OFFERED.
    pub problems: Vec<String>,
    /// The shop's minimum order in fen.
    pub min_order_fen: i64,
    /// The discounts the order would take (the best coupon, or the one picked).
    pub discounts: Vec<DiscountDto>,
    /// The customer's coupons, with what each would take off (empty when the shop has none).
    pub coupons: Vec<CouponOptionDto>,
    /// Why the coupon picked cannot be used: COUPON_UNAVAILABLE, BELOW_THRESHOLD, NOT_IN_SCOPE,
    /// ITEM_NOT_IN_BASKET.
    pub coupon_problem: Option<String>,
    /// What the customer's points could pay; absent when the shop takes no points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<PointsOptionDto>,
}

/// Points the customer could pay with, against this basket.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointsOptionDto {
    /// The customer's balance.
    pub balance: i64,
    /// Points this basket can take (whole yuan, within the shop's cap); send use_points to pay
    /// with them.
    pub usable_points: i64,
    /// What they take off, in fen.
    pub amount_fen: i64,
    /// Points per yuan off.
    pub points_per_yuan: i64,
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDto {
    /// Order id.
    pub id: String,
    /// Number to show and call out, e.g. "20261124-0042".
    pub order_number: String,
    /// pending_payment, paid, accepted, preparing, ready, completed, cancelled, refunding, refunded.
    pub status: String,
    /// The discounts taken off.
    pub discounts: Vec<DiscountDto>,
    /// Lines.
    pub items: Vec<LineDto>,
    /// Totals.
    pub amounts: AmountsDto,
    /// Fulfilment.
    pub fulfilment: FulfilmentDto,
    /// Remark.
    pub remark: String,
    /// "wechat_pay", "counter" or "" before a choice.
    pub payment_method: String,
    /// "customer", "shop", "expired" or "".
    pub cancel_reason: String,
    /// Unpaid orders are cancelled at this time (RFC 3339).
    pub expire_time: String,
    /// When it was paid (RFC 3339), if it was.
    pub pay_time: Option<String>,
    /// When it was placed (RFC 3339).
    pub create_time: String,
    /// Refunded amount in fen.
    pub refunded_fen: i64,
}

/// A page of orders.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrdersPageDto {
    /// Newest first.
    pub orders: Vec<OrderDto>,
    /// Pass as page_token for the next page; absent on the last.
    pub next_page_token: Option<String>,
}

/// The answer to a pay call.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayDto {
    /// The order.
    pub order: OrderDto,
    /// For WeChat Pay: pass to `wx.requestPayment`.
    pub wechat_pay: Option<WechatPayDto>,
}

/// Paging of the order list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1 to 100, default 20.
    pub page_size: Option<i32>,
    /// From the previous page.
    pub page_token: Option<String>,
    /// The mini-program's appid, when the X-WeChat-Appid header is not sent.
    pub appid: Option<String>,
}

fn mode_name(m: i32) -> &'static str {
    match pb::FulfilmentMode::try_from(m) {
        Ok(pb::FulfilmentMode::DineIn) => "dine_in",
        Ok(pb::FulfilmentMode::Takeaway) => "takeaway",
        Ok(pb::FulfilmentMode::Delivery) => "delivery",
        _ => "",
    }
}

fn mode_value(s: &str) -> i32 {
    match s {
        "dine_in" => pb::FulfilmentMode::DineIn as i32,
        "takeaway" => pb::FulfilmentMode::Takeaway as i32,
        "delivery" => pb::FulfilmentMode::Delivery as i32,
        _ => pb::FulfilmentMode::Unspecified as i32,
    }
}

fn line(l: pb::LineItem) -> LineDto {
    LineDto {
        product_id: id_of(&l.product),
        sku_id: l.sku_id,
        name: l.display_name_zh,
        spec_summary: l.spec_summary,
        unit_price_fen: l.unit_price_fen,
        quantity: l.quantity,
        line_total_fen: l.line_total_fen,
        available: l.available,
    }
}

fn amounts(a: Option<pb::Amounts>) -> AmountsDto {
    let a = a.unwrap_or_default();
    AmountsDto {
        items_fen: a.items_fen,
        packaging_fee_fen: a.packaging_fee_fen,
        total_fen: a.total_fen,
        discount_fen: a.discount_fen,
    }
}

fn discount(d: pb::Discount) -> DiscountDto {
    DiscountDto {
        coupon_id: (d.kind == "COUPON").then(|| id_of(&d.source)),
        kind: d.kind,
        label_zh: d.label_zh,
        label_en: d.label_en,
        amount_fen: d.amount_fen,
    }
}

fn coupon_choice(tenant: TenantId, id: Option<String>) -> String {
    match id {
        Some(id) if !id.is_empty() => format!("{}/coupons/{id}", tenant_name(tenant)),
        _ => String::new(),
    }
}

/// An order message to JSON.
pub fn order_dto(o: pb::Order) -> OrderDto {
    let f = o.fulfilment.unwrap_or_default();
    let status = pb::OrderStatus::try_from(o.status)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("ORDER_STATUS_")
                .to_lowercase()
        })
        .unwrap_or_default();
    OrderDto {
        id: id_of(&o.name),
        order_number: o.order_number,
        status,
        items: o.items.into_iter().map(line).collect(),
        amounts: amounts(o.amounts),
        discounts: o.discounts.into_iter().map(discount).collect(),
        fulfilment: FulfilmentDto {
            mode: mode_name(f.mode).to_string(),
            table: (!f.table.is_empty()).then_some(f.table),
            address: f.address.map(|a| AddressDto {
                contact_name: a.contact_name,
                phone: a.phone,
                region: a.region,
                detail: a.detail,
            }),
        },
        remark: o.remark,
        payment_method: match pb::PaymentMethod::try_from(o.payment_method) {
            Ok(pb::PaymentMethod::WechatPay) => "wechat_pay",
            Ok(pb::PaymentMethod::Counter) => "counter",
            _ => "",
        }
        .to_string(),
        cancel_reason: match pb::CancelReason::try_from(o.cancel_reason) {
            Ok(pb::CancelReason::Customer) => "customer",
            Ok(pb::CancelReason::Shop) => "shop",
            Ok(pb::CancelReason::Expired) => "expired",
            _ => "",
        }
        .to_string(),
        expire_time: rfc3339(o.expire_time).unwrap_or_default(),
        pay_time: rfc3339(o.pay_time),
        create_time: rfc3339(o.create_time).unwrap_or_default(),
        refunded_fen: o.refunded_fen,
    }
}

fn items(tenant: TenantId, items: Vec<ItemBody>) -> Vec<pb::LineItemRequest> {
    items
        .into_iter()
        .map(|i| pb::LineItemRequest {
            product: name_of::<Products>(tenant, &i.product_id),
            sku_id: i.sku_id,
            quantity: i.quantity,
        })
        .collect()
}

fn fulfilment(f: FulfilmentDto) -> pb::Fulfilment {
    pb::Fulfilment {
        mode: mode_value(&f.mode),
        table: f.table.unwrap_or_default(),
        address: f.address.map(|a| pb::Address {
            contact_name: a.contact_name,
            phone: a.phone,
            region: a.region,
            detail: a.detail,
        }),
    }
}

/// Prices a basket on the server.
#[utoipa::path(post, path = "/api/v1/orders/quote", tag = "ordering", request_body = QuoteBody,
    params(AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = QuoteDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn quote(
    State(state): State<Arc<Shared>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
    Json(body): Json<QuoteBody>,
) -> Result<Json<QuoteDto>, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let q = state
        .orders
        .clone()
        .quote_order(mm_bff::forward(
            &headers,
            pb::QuoteOrderRequest {
                parent: tenant_name(tenant),
                items: items(tenant, body.items),
                fulfilment: Some(fulfilment(body.fulfilment)),
                coupon: coupon_choice(tenant, body.coupon_id),
                no_coupon: body.no_coupon,
                use_points: body.use_points,
            },
        ))
        .await?
        .into_inner()
        .quote
        .unwrap_or_default();
    Ok(Json(QuoteDto {
        items: q.items.into_iter().map(line).collect(),
        amounts: amounts(q.amounts),
        orderable: q.orderable,
        problems: q.problems,
        min_order_fen: q.min_order_fen,
        discounts: q.discounts.into_iter().map(discount).collect(),
        coupons: q
            .coupons
            .into_iter()
            .map(|c| CouponOptionDto {
                coupon_id: id_of(&c.coupon),
                title_zh: c.title_zh,
                title_en: c.title_en,
                amount_fen: c.amount_fen,
                problem: (!c.problem.is_empty()).then_some(c.problem),
            })
            .collect(),
        coupon_problem: (!q.coupon_problem.is_empty()).then_some(q.coupon_problem),
        points: q.points.map(|p| PointsOptionDto {
            balance: p.balance,
            usable_points: p.usable_points,
            amount_fen: p.amount_fen,
            points_per_yuan: p.points_per_yuan,
        }),
    }))
}

/// Places an order (idempotent per `Idempotency-Key`).
#[utoipa::path(post, path = "/api/v1/orders", tag = "ordering", request_body = CreateOrderBody,
    params(AppConfigQuery, ("Idempotency-Key" = String, Header, description = "8-64 characters, unique per attempt to order")),
    security(("bearer" = [])),
    responses((status = 201, body = OrderDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_order(
    State(state): State<Arc<Shared>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
    Json(body): Json<CreateOrderBody>,
) -> Result<(StatusCode, Json<OrderDto>), ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "Idempotency-Key",
                "send a key unique to this attempt to order",
            )
        })?
        .to_string();
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let o = state
        .orders
        .clone()
        .create_order(mm_bff::forward(
            &headers,
            pb::CreateOrderRequest {
                parent: tenant_name(tenant),
                items: items(tenant, body.items),
                fulfilment: Some(fulfilment(body.fulfilment)),
                remark: body.remark,
                request_id: key,
                expected_total_fen: body.expected_total_fen,
                coupon: coupon_choice(tenant, body.coupon_id),
                no_coupon: body.no_coupon,
                use_points: body.use_points,
            },
        ))
        .await?
        .into_inner()
        .order
        .unwrap_or_default();
    Ok((StatusCode::CREATED, Json(order_dto(o))))
}

/// The customer's orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "ordering", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = OrdersPageDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_orders(
    State(state): State<Arc<Shared>>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Json<OrdersPageDto>, ApiError> {
    let app = AppConfigQuery {
        appid: query.appid.clone(),
    };
    let tenant = tenant_of(&state.bff, &app, &headers).await?;
    let r = state
        .orders
        .clone()
        .list_orders(mm_bff::forward(
            &headers,
            pb::ListOrdersRequest {
                parent: tenant_name(tenant),
                page_size: query.page_size.unwrap_or(0),
                page_token: query.page_token.unwrap_or_default(),
                statuses: Vec::new(),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(OrdersPageDto {
        orders: r.orders.into_iter().map(order_dto).collect(),
        next_page_token: (!r.next_page_token.is_empty()).then_some(r.next_page_token),
    }))
}

/// Calls an RPC addressed by one order's name and answers the order it returns.
async fn on_order<F, Fut>(
    state: &Shared,
    id: &str,
    query: &AppConfigQuery,
    headers: &HeaderMap,
    call: F,
) -> Result<Json<OrderDto>, ApiError>
where
    F: FnOnce(OrderServiceClient<Platform>, String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<pb::Order>, tonic::Status>>,
{
    let tenant = tenant_of(&state.bff, query, headers).await?;
    let order = call(state.orders.clone(), name_of::<Orders>(tenant, id)).await?;
    Ok(Json(order_dto(order.unwrap_or_default())))
}

/// One of the customer's orders.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "ordering",
    params(("id" = String, Path, description = "Order id"), AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = OrderDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<OrderDto>, ApiError> {
    let h = &headers;
    on_order(&state, &id, &query, h, |mut c, name| async move {
        c.get_order(mm_bff::forward(h, pb::GetOrderRequest { name }))
            .await
            .map(|r| r.into_inner().order)
    })
    .await
}

/// Cancels an order: unpaid ones at once, paid ones (not yet accepted, within the shop's window)
/// are refunded.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "ordering",
    params(("id" = String, Path, description = "Order id"), AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = OrderDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel_order(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<OrderDto>, ApiError> {
    let h = &headers;
    on_order(&state, &id, &query, h, |mut c, name| async move {
        c.cancel_order(mm_bff::forward(h, pb::CancelOrderRequest { name }))
            .await
            .map(|r| r.into_inner().order)
    })
    .await
}

/// Starts paying: WeChat Pay answers with the `wx.requestPayment` parameters; "counter" tells the
/// shop the customer pays at the counter.
#[utoipa::path(post, path = "/api/v1/orders/{id}/pay", tag = "ordering", request_body = PayBody,
    params(("id" = String, Path, description = "Order id"), AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = PayDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn pay_order(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
    Json(body): Json<PayBody>,
) -> Result<Json<PayDto>, ApiError> {
    let method = match body.method.as_str() {
        "wechat_pay" => pb::PaymentMethod::WechatPay,
        "counter" => pb::PaymentMethod::Counter,
        _ => {
            return Err(ApiError::bad_request(
                "method",
                "\"wechat_pay\" or \"counter\"",
            ));
        }
    };
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let r = state
        .orders
        .clone()
        .pay_order(mm_bff::forward(
            &headers,
            pb::PayOrderRequest {
                name: name_of::<Orders>(tenant, &id),
                method: method as i32,
            },
        ))
        .await?
        .into_inner();
    Ok(Json(PayDto {
        order: order_dto(r.order.unwrap_or_default()),
        wechat_pay: r.wechat_pay.map(|p| WechatPayDto {
            time_stamp: p.time_stamp,
            nonce_str: p.nonce_str,
            package: p.package,
            sign_type: p.sign_type,
            pay_sign: p.pay_sign,
        }),
    }))
}

/// Asks WeChat Pay whether an order was paid (after `wx.requestPayment` succeeds, in case the
/// notification is late).
#[utoipa::path(post, path = "/api/v1/orders/{id}/payment/refresh", tag = "ordering",
    params(("id" = String, Path, description = "Order id"), AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = OrderDto), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn refresh_payment(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<OrderDto>, ApiError> {
    let h = &headers;
    on_order(&state, &id, &query, h, |mut c, name| async move {
        c.refresh_payment(mm_bff::forward(h, pb::RefreshPaymentRequest { name }))
            .await
            .map(|r| r.into_inner().order)
    })
    .await
}

/// This module's own route state: its client.
pub struct Own {
    orders: OrderServiceClient<mm_kernel::platform::Platform>,
}

type Shared = mm_bff::ModuleState<Own>;

/// This module's part of the BFF: its routes and their OpenAPI document.
pub fn def() -> mm_kernel::module::BffDef {
    mm_kernel::module::BffDef {
        routes: |host| {
            mm_bff::module_routes(
                host,
                |bff| Own {
                    orders: OrderServiceClient::new(bff.channel.clone()),
                },
                router(),
            )
        },
        openapi: <ApiDoc as utoipa::OpenApi>::openapi,
    }
}

/// The OpenAPI paths and schemas of this module's routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        quote,
        create_order,
        list_orders,
        get_order,
        cancel_order,
        pay_order,
        refresh_payment
    ),
    components(schemas(
        ItemBody,
        AddressDto,
        FulfilmentDto,
        QuoteBody,
        CreateOrderBody,
        PayBody,
        LineDto,
        AmountsDto,
        DiscountDto,
        CouponOptionDto,
        PointsOptionDto,
        QuoteDto,
        OrderDto,
        OrdersPageDto,
        PayDto
    ))
)]
struct ApiDoc;

/// Routes of this module.
fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/orders/quote", post(quote))
        .route("/api/v1/orders", post(create_order).get(list_orders))
        .route("/api/v1/orders/{id}", get(get_order))
        .route("/api/v1/orders/{id}/cancel", post(cancel_order))
        .route("/api/v1/orders/{id}/pay", post(pay_order))
        .route("/api/v1/orders/{id}/payment/refresh", post(refresh_payment))
}
