//! Ordering end to end: server-side prices, stock that never oversells under concurrent orders,
//! idempotent creation, the lifecycle step by step with each step refused to the wrong role,
//! expiry giving stock back, tenant isolation, the live board over gRPC and grpc-web, and the
//! mini-program's JSON routes.

use std::time::Duration;

use chrono::Utc;
use mm_kernel::clock::Clock;
use mm_kernel::{Role, TenantId};
use mm_proto::minimodules::catalog::v1 as catpb;
use mm_proto::minimodules::catalog::v1::catalog_service_client::CatalogServiceClient;
use mm_proto::minimodules::ordering::v1 as pb;
use mm_proto::minimodules::ordering::v1::order_service_client::OrderServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_testkit::{
    Storage, TestApp, spawn_app, spawn_app_with_clock, spawn_with, spawn_with_clock, tenant_id,
    with_token,
};
use prost::Message as _;
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{assert_status, customer_token, http_post, shop, violation_fields};

pub fn orders(app: &TestApp) -> OrderServiceClient<Channel> {
    OrderServiceClient::new(app.channel.clone())
}

pub(crate) fn catalog(app: &TestApp) -> CatalogServiceClient<Channel> {
    CatalogServiceClient::new(app.channel.clone())
}

/// A restaurant open around the clock with a latte (中杯 ¥18 with `stock`, 大杯 ¥22 unlimited)
/// and a cake (¥12, unlimited); ¥1 packaging; every mode and payment method on.
pub struct Shop {
    pub t: tpb::Tenant,
    pub id: TenantId,
    pub latte: catpb::Product,
    pub cake: catpb::Product,
}

pub async fn set_ordering_config(app: &TestApp, t: &tpb::Tenant, config: serde_json::Value) {
    let req = tpb::UpdateModuleConfigRequest {
        config: Some(tpb::ModuleConfig {
            name: format!("{}/modules/ordering/config", t.name),
            config: Some(mm_kernel::json::json_to_struct(&config)),
            ..Default::default()
        }),
    };
    app.tenants()
        .update_module_config(with_token(req, &app.admin_of(tenant_id(t))))
        .await
        .expect("ordering config");
}

pub async fn open_shop(app: &TestApp, slug: &str, latte_stock: i64) -> Shop {
    let t = shop(app, slug).await;
    let id = tenant_id(&t);
    set_ordering_config(
        app,
        &t,
        serde_json::json!({
            "fulfilment_modes": ["dine_in", "takeaway", "delivery"],
            "packaging_fee_fen": 100,
            "opening_hours": [],
            "payment_methods": ["wechat_pay", "counter"],
            "cancel_window_minutes": 5
        }),
    )
    .await;
    let admin = app.admin_of(id);
    let category = catalog(app)
        .create_category(with_token(
            catpb::CreateCategoryRequest {
                parent: t.name.clone(),
                category: Some(catpb::Category {
                    display_name_zh: "饮品".into(),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .category
        .unwrap();
    let sku = |value: &str, price_fen, stock: Option<i64>| catpb::Sku {
        specs: vec![catpb::SpecValue {
            spec: "杯型".into(),
            value: value.into(),
        }],
        price_fen,
        stock: stock.unwrap_or(0),
        unlimited: stock.is_none(),
        ..Default::default()
    };
    let make = |name: &str, skus: Vec<catpb::Sku>| {
        let req = catpb::CreateProductRequest {
            parent: t.name.clone(),
            product: Some(catpb::Product {
                category: category.name.clone(),
                display_name_zh: name.into(),
                on_sale: true,
                skus,
                ..Default::default()
            }),
        };
        let admin = admin.clone();
        let mut client = catalog(app);
        async move {
            client
                .create_product(with_token(req, &admin))
                .await
                .unwrap()
                .into_inner()
                .product
                .unwrap()
        }
    };
    let latte = make(
        "拿铁",
        vec![
            sku("中杯", 1800, Some(latte_stock)),
            sku("大杯", 2200, None),
        ],
    )
    .await;
    let cake = make("蛋糕", vec![sku("块", 1200, None)]).await;
    Shop { t, id, latte, cake }
}

pub fn line(p: &catpb::Product, sku: usize, quantity: i32) -> pb::LineItemRequest {
    pb::LineItemRequest {
        product: p.name.clone(),
        sku_id: p.skus[sku].id.clone(),
        quantity,
    }
}

pub(crate) fn takeaway() -> Option<pb::Fulfilment> {
    Some(pb::Fulfilment {
        mode: pb::FulfilmentMode::Takeaway as i32,
        ..Default::default()
    })
}

pub async fn place(
    app: &TestApp,
    s: &Shop,
    token: &str,
    items: Vec<pb::LineItemRequest>,
    request_id: &str,
) -> Result<pb::Order, tonic::Status> {
    orders(app)
        .create_order(with_token(
            pb::CreateOrderRequest {
                parent: s.t.name.clone(),
                items,
                fulfilment: takeaway(),
                remark: "少冰".into(),
                request_id: request_id.into(),
                expected_total_fen: 0,
                ..Default::default()
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().order.unwrap())
}

/// [`place`] on a task of its own, for races.
pub(crate) fn spawn_place(
    app: &TestApp,
    s: &Shop,
    token: &str,
    items: Vec<pb::LineItemRequest>,
    key: &str,
) -> tokio::task::JoinHandle<Result<pb::Order, tonic::Status>> {
    let (channel, parent) = (app.channel.clone(), s.t.name.clone());
    let (token, request_id) = (token.to_string(), key.to_string());
    tokio::spawn(async move {
        OrderServiceClient::new(channel)
            .create_order(with_token(
                pb::CreateOrderRequest {
                    parent,
                    items,
                    fulfilment: takeaway(),
                    request_id,
                    ..Default::default()
                },
                &token,
            ))
            .await
            .map(|r| r.into_inner().order.unwrap())
    })
}

/// Sends `n` requests with one idempotency key at once; every one must answer an order or "still
/// being placed". Returns the names of the orders answered.
pub(crate) async fn twins_of_one_key(
    app: &TestApp,
    s: &Shop,
    token: &str,
    items: Vec<pb::LineItemRequest>,
    key: &str,
    n: usize,
) -> std::collections::HashSet<String> {
    let tasks: Vec<_> = (0..n)
        .map(|_| spawn_place(app, s, token, items.clone(), key))
        .collect();
    let mut names = std::collections::HashSet::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(order) => {
                names.insert(order.name);
            }
            Err(s) => assert_being_placed(&s),
        }
    }
    names
}

/// A twin still placing its order answers "retry" (409 at the BFF, with Retry-After), never a
/// second order and never a false refusal.
pub(crate) fn assert_being_placed(s: &tonic::Status) {
    assert_eq!(s.code(), Code::Aborted, "{s:?}");
    let d = tonic_types::StatusExt::get_error_details(s);
    assert_eq!(d.error_info().unwrap().reason, "ORDER_BEING_PLACED");
    assert!(d.retry_info().is_some(), "{s:?}");
}

pub async fn latte_stock(app: &TestApp, s: &Shop) -> i64 {
    catalog(app)
        .get_product(with_token(
            catpb::GetProductRequest {
                name: s.latte.name.clone(),
            },
            &app.admin_of(s.id),
        ))
        .await
        .unwrap()
        .into_inner()
        .product
        .unwrap()
        .skus[0]
        .stock
}

/// The latte's stock once it reaches `want`: the sweeper marks an order cancelled first (that
/// update decides which instance acts) and gives its stock back right after.
pub async fn latte_stock_becomes(app: &TestApp, s: &Shop, want: i64) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = latte_stock(app, s).await;
        if now == want || tokio::time::Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) fn staff_of(app: &TestApp, s: &Shop) -> String {
    app.token(
        Role::Staff,
        Some(s.id),
        &["ordering.orders.read", "ordering.orders.manage"],
    )
}

/// Runs one lifecycle RPC as `token`.
pub(crate) async fn step(
    app: &TestApp,
    rpc: &str,
    order: &pb::Order,
    token: &str,
) -> Result<pb::Order, tonic::Status> {
    let name = order.name.clone();
    let mut c = orders(app);
    let r = match rpc {
        "confirm" => c
            .confirm_counter_payment(with_token(pb::ConfirmCounterPaymentRequest { name }, token))
            .await
            .map(|r| r.into_inner().order),
        "accept" => c
            .accept_order(with_token(pb::AcceptOrderRequest { name }, token))
            .await
            .map(|r| r.into_inner().order),
        "prepare" => c
            .start_preparing_order(with_token(pb::StartPreparingOrderRequest { name }, token))
            .await
            .map(|r| r.into_inner().order),
        "ready" => c
            .mark_order_ready(with_token(pb::MarkOrderReadyRequest { name }, token))
            .await
            .map(|r| r.into_inner().order),
        "complete" => c
            .complete_order(with_token(pb::CompleteOrderRequest { name }, token))
            .await
            .map(|r| r.into_inner().order),
        "cancel" => c
            .cancel_order(with_token(pb::CancelOrderRequest { name }, token))
            .await
            .map(|r| r.into_inner().order),
        "refund" => c
            .refund_order(with_token(
                pb::RefundOrderRequest {
                    name,
                    reason: "顾客不满意".into(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().order),
        other => panic!("no step {other}"),
    };
    r.map(|o| o.unwrap())
}

fn status_of(o: &pb::Order) -> pb::OrderStatus {
    pb::OrderStatus::try_from(o.status).unwrap()
}

async fn pay_at_counter(app: &TestApp, order: &pb::Order, customer: &str) -> pb::Order {
    orders(app)
        .pay_order(with_token(
            pb::PayOrderRequest {
                name: order.name.clone(),
                method: pb::PaymentMethod::Counter as i32,
            },
            customer,
        ))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap()
}

#[tokio::test]
async fn an_order_is_priced_by_the_server_and_moves_only_by_the_right_hands() {
    let app = spawn_app().await;
    let s = open_shop(&app, "life-shop", 10).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let staff = staff_of(&app, &s);
    let admin = app.admin_of(s.id);

    let quote = orders(&app)
        .quote_order(with_token(
            pb::QuoteOrderRequest {
                parent: s.t.name.clone(),
                items: vec![line(&s.latte, 0, 2), line(&s.cake, 0, 1)],
                fulfilment: takeaway(),
                ..Default::default()
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .quote
        .unwrap();
    let amounts = quote.amounts.unwrap();
    assert_eq!(
        (
            amounts.items_fen,
            amounts.packaging_fee_fen,
            amounts.total_fen
        ),
        (2 * 1800 + 1200, 100, 4900)
    );
    assert!(quote.orderable, "{:?}", quote.problems);

    let order = place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 2), line(&s.cake, 0, 1)],
        "life-order-1",
    )
    .await
    .unwrap();
    assert_eq!(status_of(&order), pb::OrderStatus::PendingPayment);
    assert_eq!(order.amounts.as_ref().unwrap().total_fen, 4900);
    assert_eq!(order.items[0].unit_price_fen, 1800);
    assert_eq!(order.items[0].spec_summary, "中杯");
    let (day, seq) = order.order_number.split_once('-').unwrap();
    assert_eq!((day.len(), seq), (8, "0001"));
    assert_eq!(latte_stock(&app, &s).await, 8, "stock is held by the order");

    // A customer never moves an order along, and the shop cannot start on an unpaid one.
    assert_status(
        step(&app, "accept", &order, &alice).await,
        Code::PermissionDenied,
        None,
    );
    assert_status(
        step(&app, "accept", &order, &staff).await,
        Code::FailedPrecondition,
        Some("INVALID_TRANSITION"),
    );
    // Staff need the manage permission to confirm a payment.
    let reader = app.token(Role::Staff, Some(s.id), &["ordering.orders.read"]);
    assert_status(
        step(&app, "confirm", &order, &reader).await,
        Code::PermissionDenied,
        None,
    );

    let order = pay_at_counter(&app, &order, &alice).await;
    assert_eq!(order.payment_method, pb::PaymentMethod::Counter as i32);
    let order = step(&app, "confirm", &order, &staff).await.unwrap();
    assert_eq!(status_of(&order), pb::OrderStatus::Paid);
    assert!(order.pay_time.is_some());
    let order = step(&app, "accept", &order, &staff).await.unwrap();
    let order = step(&app, "prepare", &order, &staff).await.unwrap();
    assert_eq!(status_of(&order), pb::OrderStatus::Preparing);

    // Once the kitchen started, the customer cannot cancel and staff cannot refund.
    assert_status(
        step(&app, "cancel", &order, &alice).await,
        Code::FailedPrecondition,
        Some("INVALID_TRANSITION"),
    );
    assert_status(
        step(&app, "refund", &order, &staff).await,
        Code::PermissionDenied,
        None,
    );
    let order = step(&app, "ready", &order, &staff).await.unwrap();
    let order = step(&app, "complete", &order, &staff).await.unwrap();
    assert_eq!(status_of(&order), pb::OrderStatus::Completed);
    assert_status(
        step(&app, "complete", &order, &staff).await,
        Code::FailedPrecondition,
        Some("INVALID_TRANSITION"),
    );

    // An administrator can still give the money back; it was cash, so it is done at once.
    let order = step(&app, "refund", &order, &admin).await.unwrap();
    assert_eq!(status_of(&order), pb::OrderStatus::Refunded);
    assert_eq!(order.refunded_fen, 4900);
    assert_eq!(
        latte_stock(&app, &s).await,
        8,
        "goods that were made stay sold"
    );

    // The next order of the day gets the next number.
    let second = place(&app, &s, &alice, vec![line(&s.cake, 0, 1)], "life-order-2")
        .await
        .unwrap();
    assert!(
        second.order_number.ends_with("-0002"),
        "{}",
        second.order_number
    );
}

#[tokio::test]
async fn tampered_prices_quantities_and_baskets_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let s = open_shop(&app, "tamper-shop", 10).await;
    let other = open_shop(&app, "tamper-other", 10).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);

    // The client's idea of the total does not decide the price: a mismatch is refused.
    let res = orders(&app)
        .create_order(with_token(
            pb::CreateOrderRequest {
                parent: s.t.name.clone(),
                items: vec![line(&s.latte, 0, 2)],
                fulfilment: takeaway(),
                request_id: "tamper-price-1".into(),
                expected_total_fen: 1,
                ..Default::default()
            },
            &alice,
        ))
        .await;
    let status = assert_status(res, Code::Aborted, Some("PRICE_CHANGED"));
    assert!(status.message().contains("3700"), "{status:?}");

    let cases: Vec<(Vec<pb::LineItemRequest>, Option<pb::Fulfilment>, &str)> = vec![
        (vec![line(&s.latte, 0, 0)], takeaway(), "items[0].quantity"),
        (
            vec![line(&s.latte, 0, 1000)],
            takeaway(),
            "items[0].quantity",
        ),
        (
            vec![line(&other.latte, 0, 1)],
            takeaway(),
            "items[0].product",
        ),
        (vec![], takeaway(), "items"),
        (
            vec![line(&s.latte, 0, 1)],
            Some(pb::Fulfilment {
                mode: pb::FulfilmentMode::DineIn as i32,
                ..Default::default()
            }),
            "fulfilment.table",
        ),
        (
            vec![line(&s.latte, 0, 1)],
            Some(pb::Fulfilment {
                mode: pb::FulfilmentMode::Delivery as i32,
                ..Default::default()
            }),
            "fulfilment.address.detail",
        ),
        (vec![line(&s.latte, 0, 1)], None, "fulfilment.mode"),
    ];
    for (i, (items, fulfilment, field)) in cases.into_iter().enumerate() {
        let res = orders(&app)
            .create_order(with_token(
                pb::CreateOrderRequest {
                    parent: s.t.name.clone(),
                    items,
                    fulfilment,
                    request_id: format!("tamper-case-{i}"),
                    ..Default::default()
                },
                &alice,
            ))
            .await;
        let status = assert_status(res, Code::InvalidArgument, Some("INVALID_ARGUMENT"));
        assert!(
            violation_fields(&status).iter().any(|f| f == field),
            "case {i}: {status:?}"
        );
    }
    // A SKU that does not exist, and a key too short to be an idempotency key.
    let mut ghost = line(&s.latte, 0, 1);
    ghost.sku_id = TenantId::new().to_string();
    assert_status(
        place(&app, &s, &alice, vec![ghost], "tamper-ghost").await,
        Code::InvalidArgument,
        None,
    );
    let status = assert_status(
        place(&app, &s, &alice, vec![line(&s.latte, 0, 1)], "short").await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&status), vec!["request_id"]);

    let listed = orders(&app)
        .list_orders(with_token(
            pb::ListOrdersRequest {
                parent: s.t.name.clone(),
                ..Default::default()
            },
            &staff_of(&app, &s),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.orders.is_empty(), "{:?}", listed.orders);
    assert_eq!(latte_stock(&app, &s).await, 10);
}

#[tokio::test]
async fn a_retried_order_is_placed_once() {
    let app = spawn_app().await;
    let s = open_shop(&app, "retry-shop", 10).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let first = place(&app, &s, &alice, vec![line(&s.latte, 0, 3)], "retry-key-1")
        .await
        .unwrap();
    let again = place(&app, &s, &alice, vec![line(&s.latte, 0, 3)], "retry-key-1")
        .await
        .unwrap();
    assert_eq!(first.name, again.name);

    // The same key sent eight times at once: one order, stock taken once.
    let names = twins_of_one_key(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 2)],
        "retry-key-burst",
        8,
    )
    .await;
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(latte_stock(&app, &s).await, 10 - 3 - 2);

    // Another customer's identical key is theirs, not Alice's.
    let bob = app.token(Role::Customer, Some(s.id), &[]);
    let bobs = place(&app, &s, &bob, vec![line(&s.latte, 0, 1)], "retry-key-1")
        .await
        .unwrap();
    assert_ne!(bobs.name, first.name);
}

/// `n` orders of `item` by as many customers at once, each with its own key.
fn concurrent_orders(
    app: &TestApp,
    s: &Shop,
    n: usize,
    item: &pb::LineItemRequest,
    keys: &str,
) -> Vec<tokio::task::JoinHandle<Result<tonic::Response<pb::CreateOrderResponse>, tonic::Status>>> {
    (0..n)
        .map(|i| {
            let token = app.token(Role::Customer, Some(s.id), &[]);
            let (channel, parent) = (app.channel.clone(), s.t.name.clone());
            let request = pb::CreateOrderRequest {
                parent,
                items: vec![item.clone()],
                fulfilment: takeaway(),
                request_id: format!("{keys}-{i:04}"),
                ..Default::default()
            };
            tokio::spawn(async move {
                OrderServiceClient::new(channel)
                    .create_order(with_token(request, &token))
                    .await
            })
        })
        .collect()
}

#[tokio::test]
async fn concurrent_orders_for_scarce_stock_never_oversell() {
    let app = spawn_app().await;
    let s = open_shop(&app, "scarce-shop", 10).await;
    let tasks = concurrent_orders(&app, &s, 30, &line(&s.latte, 0, 1), "scarce");
    let (mut placed, mut sold_out) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => placed += 1,
            Err(s) if s.code() == Code::FailedPrecondition => sold_out += 1,
            Err(s) => panic!("unexpected failure: {s:?}"),
        }
    }
    assert_eq!((placed, sold_out), (10, 20));
    assert_eq!(latte_stock(&app, &s).await, 0);
    let listed = orders(&app)
        .list_orders(with_token(
            pb::ListOrdersRequest {
                parent: s.t.name.clone(),
                page_size: 100,
                ..Default::default()
            },
            &staff_of(&app, &s),
        ))
        .await
        .unwrap()
        .into_inner()
        .orders;
    assert_eq!(listed.len(), 10);
    let numbers: std::collections::HashSet<_> = listed.iter().map(|o| &o.order_number).collect();
    assert_eq!(numbers.len(), 10, "order numbers are unique");
}

#[tokio::test]
async fn concurrent_orders_of_one_shop_take_every_number_of_the_day_once() {
    let app = spawn_app().await;
    let s = open_shop(&app, "numbered-shop", 10).await;
    let tasks = concurrent_orders(&app, &s, 48, &line(&s.cake, 0, 1), "numbered");
    let mut seqs = Vec::new();
    for t in tasks {
        let order = t.await.unwrap().unwrap().into_inner().order.unwrap();
        let (_, seq) = order.order_number.split_once('-').unwrap();
        seqs.push(seq.parse::<i64>().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=48).collect::<Vec<_>>(),
        "taken in batches, the numbers are still each given once and none skipped"
    );
}

#[tokio::test]
async fn unpaid_orders_expire_and_give_their_stock_back() {
    let clock = Clock::manual(Utc::now());
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    // The timer never comes round during the test: the sweep runs when the test says.
    settings.jobs.sweep_interval_ms = 3_600_000;
    let app = spawn_with_clock(settings, clock.clone()).await;
    let s = open_shop(&app, "expiry-shop", 5).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let order = place(&app, &s, &alice, vec![line(&s.latte, 0, 4)], "expire-me-1")
        .await
        .unwrap();
    let paid = place(&app, &s, &alice, vec![line(&s.latte, 0, 1)], "keep-me-1")
        .await
        .unwrap();
    let paid = pay_at_counter(&app, &paid, &alice).await;
    step(&app, "confirm", &paid, &staff_of(&app, &s))
        .await
        .unwrap();
    assert_eq!(latte_stock(&app, &s).await, 0);

    // Within the payment window a pass leaves both alone.
    assert_eq!(app.app.run_job_now("ordering.sweep").await.unwrap(), 0);
    // The payment window runs out (15 minutes by default).
    clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        app.app.run_job_now("ordering.sweep").await.unwrap(),
        1,
        "one pass expires the unpaid order, and only it"
    );
    let expired = orders(&app)
        .get_order(with_token(
            pb::GetOrderRequest {
                name: order.name.clone(),
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(status_of(&expired), pb::OrderStatus::Cancelled);
    assert_eq!(expired.cancel_reason, pb::CancelReason::Expired as i32);
    assert_eq!(
        latte_stock(&app, &s).await,
        4,
        "the unpaid order's 4 are back once the pass is over"
    );
    let kept = step(&app, "accept", &paid, &staff_of(&app, &s))
        .await
        .unwrap();
    assert_eq!(
        status_of(&kept),
        pb::OrderStatus::Accepted,
        "paid orders never expire"
    );
}

#[tokio::test]
async fn customers_and_shops_see_only_their_own_orders() {
    let app = spawn_app().await;
    let a = open_shop(&app, "iso-a", 10).await;
    let b = open_shop(&app, "iso-b", 10).await;
    let alice = app.token(Role::Customer, Some(a.id), &[]);
    let mallory = app.token(Role::Customer, Some(a.id), &[]);
    let order = place(&app, &a, &alice, vec![line(&a.latte, 0, 1)], "iso-order-1")
        .await
        .unwrap();

    // Another customer of the same shop: as if it did not exist.
    let get = |token: String, name: String| {
        let mut c = orders(&app);
        async move {
            c.get_order(with_token(pb::GetOrderRequest { name }, &token))
                .await
        }
    };
    assert_status(
        get(mallory.clone(), order.name.clone()).await,
        Code::NotFound,
        Some("ORDER_NOT_FOUND"),
    );
    assert_status(
        step(&app, "cancel", &order, &mallory).await,
        Code::NotFound,
        None,
    );
    let mine = orders(&app)
        .list_orders(with_token(
            pb::ListOrdersRequest {
                parent: a.t.name.clone(),
                ..Default::default()
            },
            &mallory,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(mine.orders.is_empty());

    // Shop B's staff and customers cannot reach shop A's order, by its name or by dressing it
    // up as their own tenant's.
    let b_staff = staff_of(&app, &b);
    let b_customer = app.token(Role::Customer, Some(b.id), &[]);
    for token in [&b_staff, &b_customer] {
        assert_status(
            get(token.clone(), order.name.clone()).await,
            Code::PermissionDenied,
            None,
        );
        let disguised = order.name.replace(&a.id.to_string(), &b.id.to_string());
        assert_status(get(token.clone(), disguised).await, Code::NotFound, None);
    }
    assert_status(
        step(&app, "accept", &order, &b_staff).await,
        Code::PermissionDenied,
        None,
    );
    // Ordering shop A's products from shop B's mini-program is refused.
    assert_status(
        place(
            &app,
            &b,
            &b_customer,
            vec![line(&a.latte, 0, 1)],
            "iso-cross-1",
        )
        .await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(latte_stock(&app, &a).await, 9);
}

#[tokio::test]
async fn the_shops_rules_decide_what_can_be_ordered_and_cancelled() {
    let clock = Clock::manual(Utc::now());
    let app = spawn_app_with_clock(clock.clone()).await;
    let s = open_shop(&app, "rules-shop", 10).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let staff = staff_of(&app, &s);

    // Minimum order, modes on offer, opening hours.
    set_ordering_config(
        &app,
        &s.t,
        serde_json::json!({"min_order_fen": 5000, "fulfilment_modes": ["dine_in"],
            "opening_hours": [], "cancel_window_minutes": 0}),
    )
    .await;
    let res = place(&app, &s, &alice, vec![line(&s.cake, 0, 1)], "rules-order-1").await;
    let status = assert_status(res, Code::FailedPrecondition, Some("NOT_ORDERABLE"));
    assert!(status.message().contains("MODE_NOT_OFFERED"), "{status:?}");
    assert!(status.message().contains("BELOW_MINIMUM"), "{status:?}");
    // A window from an hour to two hours from now (shop time): closed now, whatever the hour.
    let shop_now = chrono::Utc::now() + chrono::Duration::hours(8);
    let at = |h: i64| {
        (shop_now + chrono::Duration::hours(h))
            .format("%H:%M")
            .to_string()
    };
    set_ordering_config(
        &app,
        &s.t,
        serde_json::json!({"opening_hours": [{"start": at(1), "end": at(2)}],
            "cancel_window_minutes": 0}),
    )
    .await;
    let quote = orders(&app)
        .quote_order(with_token(
            pb::QuoteOrderRequest {
                parent: s.t.name.clone(),
                items: vec![line(&s.cake, 0, 1)],
                fulfilment: takeaway(),
                ..Default::default()
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .quote
        .unwrap();
    assert_eq!(quote.problems, vec!["SHOP_CLOSED".to_string()]);

    // Open again; with a zero-minute window, a paid order is the shop's to cancel.
    set_ordering_config(
        &app,
        &s.t,
        serde_json::json!({"opening_hours": [], "cancel_window_minutes": 0}),
    )
    .await;
    let order = place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 2)],
        "rules-order-2",
    )
    .await
    .unwrap();
    let order = pay_at_counter(&app, &order, &alice).await;
    let order = step(&app, "confirm", &order, &staff).await.unwrap();
    // The zero-minute window passes.
    clock.advance(chrono::Duration::seconds(1));
    assert_status(
        step(&app, "cancel", &order, &alice).await,
        Code::FailedPrecondition,
        Some("CANCEL_WINDOW_PASSED"),
    );
    let order = step(&app, "cancel", &order, &staff).await.unwrap();
    assert_eq!(status_of(&order), pb::OrderStatus::Refunded);
    assert_eq!(order.cancel_reason, pb::CancelReason::Shop as i32);
    assert_eq!(
        latte_stock(&app, &s).await,
        10,
        "called off before cooking: stock is back"
    );

    // A shop that switched ordering off takes no orders.
    let salon = app.create_tenant("rules-salon", "salon").await;
    let customer = app.token(Role::Customer, Some(tenant_id(&salon)), &[]);
    let res = orders(&app)
        .quote_order(with_token(
            pb::QuoteOrderRequest {
                parent: salon.name.clone(),
                items: vec![pb::LineItemRequest {
                    product: format!("{}/products/{}", salon.name, TenantId::new()),
                    sku_id: "x".into(),
                    quantity: 1,
                }],
                fulfilment: takeaway(),
                ..Default::default()
            },
            &customer,
        ))
        .await;
    assert_status(res, Code::FailedPrecondition, Some("MODULE_DISABLED"));
}

/// Reads one event from a WatchOrders stream, or fails after a few seconds.
async fn next_event(stream: &mut tonic::Streaming<pb::WatchOrdersResponse>) -> pb::OrderEvent {
    mm_testkit::next_message(stream).await.event.unwrap()
}

#[tokio::test]
async fn staff_watch_new_and_changed_orders_live() {
    let app = spawn_app().await;
    let s = open_shop(&app, "live-shop", 10).await;
    let other = open_shop(&app, "live-other", 10).await;
    let staff = staff_of(&app, &s);
    let mut stream = orders(&app)
        .watch_orders(with_token(
            pb::WatchOrdersRequest {
                parent: s.t.name.clone(),
            },
            &staff,
        ))
        .await
        .unwrap()
        .into_inner();

    // Another shop's order is not shown; ours arrives, placed through the mini-program's BFF.
    let stranger = app.token(Role::Customer, Some(other.id), &[]);
    place(
        &app,
        &other,
        &stranger,
        vec![line(&other.cake, 0, 1)],
        "live-other-1",
    )
    .await
    .unwrap();
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let (status, body) = http_post(
        &app,
        "/api/v1/orders",
        &[
            ("x-wechat-appid", &s.t.wechat_appid),
            ("authorization", &format!("Bearer {alice}")),
            ("idempotency-key", "live-order-0001"),
        ],
        serde_json::json!({"items": [{"product_id": s.cake.name.rsplit('/').next().unwrap(),
            "sku_id": s.cake.skus[0].id, "quantity": 2}], "fulfilment": {"mode": "takeaway"}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created = next_event(&mut stream).await;
    assert_eq!(created.kind, pb::OrderEventKind::Created as i32);
    let order = created.order.unwrap();
    assert_eq!(order.order_number, body["order_number"].as_str().unwrap());

    let order = pay_at_counter(&app, &order, &alice).await;
    let e = next_event(&mut stream).await;
    assert_eq!(e.kind, pb::OrderEventKind::Updated as i32);
    step(&app, "confirm", &order, &staff).await.unwrap();
    let e = next_event(&mut stream).await;
    assert_eq!(status_of(e.order.as_ref().unwrap()), pb::OrderStatus::Paid);
}

/// On the gRPC port, and on the HTTP port the dashboard is served from (one origin behind an
/// HTTPS host or proxy), the same stack with the same checks.
#[tokio::test]
async fn the_admin_board_streams_over_grpc_web_on_either_port() {
    let app = spawn_app().await;
    let s = open_shop(&app, "web-board", 10).await;
    for (base, key) in [
        (&app.grpc_url, "web-board-1"),
        (&app.http_url, "web-board-2"),
    ] {
        watch_over_grpc_web(&app, &s, base, key).await;
    }
    // Without a token the HTTP port refuses as the gRPC port does, as a gRPC status.
    let res = app
        .http
        .post(format!(
            "{}/minimodules.ordering.v1.OrderService/WatchOrders",
            app.http_url
        ))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(vec![0u8, 0, 0, 0, 0])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok()),
        Some("16"),
        "UNAUTHENTICATED"
    );
    // The JSON API on the same port is untouched.
    let res = app
        .http
        .get(format!("{}/healthz", app.http_url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "ok");
}

async fn watch_over_grpc_web(app: &TestApp, s: &Shop, base: &str, key: &'static str) {
    let msg = pb::WatchOrdersRequest {
        parent: s.t.name.clone(),
    }
    .encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    frame.extend_from_slice(&msg);
    let mut res = app
        .http
        .post(format!(
            "{base}/minimodules.ordering.v1.OrderService/WatchOrders"
        ))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", "http://localhost:5173")
        .header("authorization", format!("Bearer {}", staff_of(app, s)))
        .body(frame)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let order = place(app, s, &alice, vec![line(&s.cake, 0, 1)], key)
        .await
        .unwrap();
    let mut buf = Vec::new();
    let event = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let chunk = res.chunk().await.unwrap().expect("stream open");
            buf.extend_from_slice(&chunk);
            if buf.len() >= 5 {
                assert_eq!(buf[0], 0, "a data frame");
                let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
                if buf.len() >= 5 + len {
                    return pb::WatchOrdersResponse::decode(&buf[5..5 + len]).unwrap();
                }
            }
        }
    })
    .await
    .expect("an event over grpc-web");
    assert_eq!(event.event.unwrap().order.unwrap().name, order.name);
}

/// 下单前需绑定手机号 is the shop's identity setting, enforced by ordering on the server: a
/// customer without a phone is refused with PHONE_REQUIRED and nothing is written; once WeChat
/// vouches for a number, the same basket is ordered.
#[tokio::test]
async fn a_shop_that_requires_a_phone_takes_orders_only_from_customers_with_one() {
    let app = spawn_app().await;
    let s = open_shop(&app, "phone-first", 10).await;
    let req = tpb::UpdateModuleConfigRequest {
        config: Some(tpb::ModuleConfig {
            name: format!("{}/modules/identity/config", s.t.name),
            config: Some(mm_kernel::json::json_to_struct(
                &serde_json::json!({"require_phone": true}),
            )),
            ..Default::default()
        }),
    };
    app.tenants()
        .update_module_config(with_token(req, &app.admin_of(s.id)))
        .await
        .expect("identity config");
    let token = customer_token(&app, &s.t, "openid-no-phone").await;
    let bearer = format!("Bearer {token}");
    let latte_id = s.latte.name.rsplit('/').next().unwrap().to_string();
    let order = |key: &'static str| {
        let h = [
            ("x-wechat-appid", s.t.wechat_appid.clone()),
            ("authorization", bearer.clone()),
            ("idempotency-key", key.to_string()),
        ];
        let body = serde_json::json!({"items": [{"product_id": latte_id, "sku_id": s.latte.skus[0].id, "quantity": 1}],
            "fulfilment": {"mode": "takeaway"}});
        let app = &app;
        async move {
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            http_post(app, "/api/v1/orders", &h, body).await
        }
    };
    let (status, err) = order("phone-first-00001").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("PHONE_REQUIRED")),
        "{err}"
    );
    let (_, _, mine) = app
        .get_json(
            "/api/v1/orders",
            &[
                ("x-wechat-appid", s.t.wechat_appid.as_str()),
                ("authorization", bearer.as_str()),
            ],
        )
        .await;
    assert_eq!(mine["orders"].as_array().map(Vec::len), Some(0), "{mine}");

    let fake = app.app.wechat_fake.clone().unwrap();
    let code = fake.phone_code(&s.t.wechat_appid, "13800138000");
    let (status, me) = http_post(
        &app,
        "/api/v1/auth/phone",
        &[("authorization", bearer.as_str())],
        serde_json::json!({"code": code}),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    let (status, placed) = order("phone-first-00002").await;
    assert_eq!(status, 201, "{placed}");

    // A shop without the setting takes the order of a customer with no phone at all.
    let other = open_shop(&app, "phone-later", 10).await;
    let walk_in = customer_token(&app, &other.t, "openid-no-phone-2").await;
    let latte_id = other.latte.name.rsplit('/').next().unwrap().to_string();
    let (status, placed) = http_post(
        &app,
        "/api/v1/orders",
        &[
            ("x-wechat-appid", other.t.wechat_appid.as_str()),
            ("authorization", &format!("Bearer {walk_in}")),
            ("idempotency-key", "phone-later-00001"),
        ],
        serde_json::json!({"items": [{"product_id": latte_id, "sku_id": other.latte.skus[0].id, "quantity": 1}],
            "fulfilment": {"mode": "takeaway"}}),
    )
    .await;
    assert_eq!(status, 201, "{placed}");
}

#[tokio::test]
async fn the_mini_program_orders_through_the_bff() {
    let app = spawn_app().await;
    let s = open_shop(&app, "bff-shop", 10).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let bearer = format!("Bearer {alice}");
    let h = [
        ("x-wechat-appid", s.t.wechat_appid.as_str()),
        ("authorization", bearer.as_str()),
    ];
    let latte_id = s.latte.name.rsplit('/').next().unwrap().to_string();
    let basket =
        serde_json::json!([{"product_id": latte_id, "sku_id": s.latte.skus[1].id, "quantity": 2}]);

    let (status, quote) = http_post(
        &app,
        "/api/v1/orders/quote",
        &h,
        serde_json::json!({"items": basket, "fulfilment": {"mode": "dine_in", "table": "A12"}}),
    )
    .await;
    assert_eq!(status, 200, "{quote}");
    assert_eq!(quote["amounts"]["total_fen"], 4400);
    assert_eq!(quote["orderable"], true);

    // No idempotency key: refused before anything happens.
    let (status, body) = http_post(
        &app,
        "/api/v1/orders",
        &h,
        serde_json::json!({"items": basket, "fulfilment": {"mode": "dine_in", "table": "A12"}}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );

    let mut with_key = h.to_vec();
    with_key.push(("idempotency-key", "bff-order-00001"));
    let create = serde_json::json!({"items": basket, "fulfilment": {"mode": "dine_in", "table": "A12"},
        "remark": "不要糖", "expected_total_fen": 4400});
    let (status, order) = http_post(&app, "/api/v1/orders", &with_key, create.clone()).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["fulfilment"]["table"], "A12");
    assert_eq!(order["items"][0]["spec_summary"], "大杯");
    let (status, again) = http_post(&app, "/api/v1/orders", &with_key, create).await;
    assert_eq!((status, &again["id"]), (201, &order["id"]));

    let (status, _, page) = app.get_json("/api/v1/orders", &h).await;
    assert_eq!(status, 200);
    assert_eq!(page["orders"].as_array().unwrap().len(), 1);
    let id = order["id"].as_str().unwrap();
    let (status, _, detail) = app.get_json(&format!("/api/v1/orders/{id}"), &h).await;
    assert_eq!(
        (status, &detail["order_number"]),
        (200, &order["order_number"])
    );

    // Errors keep the BFF's shape, with the field that is wrong.
    let (status, bad) = http_post(
        &app,
        "/api/v1/orders/quote",
        &h,
        serde_json::json!({"items": [{"product_id": latte_id, "sku_id": s.latte.skus[1].id, "quantity": 0}],
            "fulfilment": {"mode": "takeaway"}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(bad["code"], "INVALID_ARGUMENT");
    assert_eq!(bad["details"]["fields"][0]["field"], "items[0].quantity");
    let (status, bad) = http_post(
        &app,
        &format!("/api/v1/orders/{id}/pay"),
        &h,
        serde_json::json!({"method": "bitcoin"}),
    )
    .await;
    assert_eq!(
        (status, bad["code"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );

    let (status, cancelled) = http_post(
        &app,
        &format!("/api/v1/orders/{id}/cancel"),
        &h,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "customer");
    let (status, _, _) = app.get_json(&format!("/api/v1/orders/{id}"), &[h[0]]).await;
    assert_eq!(status, 401, "no token, no order");

    // Every route is in the OpenAPI document the mini-program's types are generated from.
    let (_, _, doc) = app.get_json("/api/openapi.json", &[]).await;
    for path in [
        "/api/v1/orders/quote",
        "/api/v1/orders",
        "/api/v1/orders/{id}",
        "/api/v1/orders/{id}/cancel",
        "/api/v1/orders/{id}/pay",
        "/api/v1/orders/{id}/payment/refresh",
        // Where WeChat Pay's notifications about orders come: the payments module's route.
        "/api/v1/payments/wechat/notify/{tenant}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}

#[tokio::test]
async fn the_board_hears_of_orders_placed_on_another_instance_through_redis() {
    // Two instances on one database, sharing Redis whatever the backend under test.
    let mut storage = Storage::new().await;
    // Set on the storage too, so its Redis keys are removed with it.
    storage.redis_url = Some(mm_testkit::redis_url());
    let mut settings = storage.settings();
    let one = spawn_with(settings.clone()).await;
    settings.demo.seed = false;
    let two = spawn_with(settings).await;
    let s = open_shop(&one, "two-instances", 10).await;
    let mut stream = orders(&two)
        .watch_orders(with_token(
            pb::WatchOrdersRequest {
                parent: s.t.name.clone(),
            },
            &staff_of(&two, &s),
        ))
        .await
        .unwrap()
        .into_inner();
    let alice = one.token(Role::Customer, Some(s.id), &[]);
    let order = place(&one, &s, &alice, vec![line(&s.cake, 0, 1)], "two-inst-1")
        .await
        .unwrap();
    let event = next_event(&mut stream).await;
    assert_eq!(event.kind, pb::OrderEventKind::Created as i32);
    assert_eq!(event.order.unwrap().name, order.name);
}

#[tokio::test]
async fn a_shop_that_auto_accepts_starts_on_paid_orders_at_once() {
    let app = spawn_app().await;
    let s = open_shop(&app, "auto-shop", 10).await;
    set_ordering_config(
        &app,
        &s.t,
        serde_json::json!({"auto_accept": true, "opening_hours": []}),
    )
    .await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let order = place(&app, &s, &alice, vec![line(&s.cake, 0, 1)], "auto-order-1")
        .await
        .unwrap();
    let order = pay_at_counter(&app, &order, &alice).await;
    let order = step(&app, "confirm", &order, &staff_of(&app, &s))
        .await
        .unwrap();
    assert_eq!(status_of(&order), pb::OrderStatus::Accepted);
}
