//! Orders under concurrency and outages, in process: baskets listing the same items in opposite
//! orders never deadlock, twins of one idempotency key never get a false "not orderable", a
//! repeated cancel answers success and gives stock back once, concurrent copies of one WeChat Pay
//! notification all answer 204, and a database outage answers 503 with Retry-After (PostgreSQL:
//! the database is reached through a proxy the test cuts).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mm_kernel::Role;
use mm_proto::minimodules::catalog::v1 as catpb;
use mm_proto::minimodules::ordering::v1 as pb;
use mm_testkit::{Backend, Storage, TestApp, backend, spawn_app, spawn_with, with_token};
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::ordering::{
    Shop, catalog, latte_stock, line, open_shop, place, spawn_place, step, twins_of_one_key,
};
use crate::payments::{fake, get, notify, pay_shop, trade_no, wechat_order};

/// A second product with its own stock, in the latte's category.
async fn stocked_product(app: &TestApp, s: &Shop, name: &str, stock: i64) -> catpb::Product {
    catalog(app)
        .create_product(with_token(
            catpb::CreateProductRequest {
                parent: s.t.name.clone(),
                product: Some(catpb::Product {
                    category: s.latte.category.clone(),
                    display_name_zh: name.into(),
                    on_sale: true,
                    skus: vec![catpb::Sku {
                        specs: vec![catpb::SpecValue {
                            spec: "份".into(),
                            value: "标准".into(),
                        }],
                        price_fen: 900,
                        stock,
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            },
            &app.admin_of(s.id),
        ))
        .await
        .unwrap()
        .into_inner()
        .product
        .unwrap()
}

async fn stock_of(app: &TestApp, s: &Shop, p: &catpb::Product) -> i64 {
    catalog(app)
        .get_product(with_token(
            catpb::GetProductRequest {
                name: p.name.clone(),
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

#[tokio::test]
async fn baskets_listing_items_in_opposite_orders_never_deadlock() {
    let app = spawn_app().await;
    let s = open_shop(&app, "deadlock-shop", 30).await;
    let scone = stocked_product(&app, &s, "司康", 30).await;
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let token = app.token(Role::Customer, Some(s.id), &[]);
            let (a, b) = (line(&s.latte, 0, 1), line(&scone, 0, 1));
            let items = if i % 2 == 0 { vec![a, b] } else { vec![b, a] };
            spawn_place(&app, &s, &token, items, &format!("opposite-{i:04}"))
        })
        .collect();
    let (mut placed, mut sold_out) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => placed += 1,
            // Sold out when priced (NOT_ORDERABLE) or when the stock was taken (OUT_OF_STOCK).
            Err(s) if s.code() == Code::FailedPrecondition => {
                let reason = s.get_error_details().error_info().unwrap().reason.clone();
                assert!(
                    ["OUT_OF_STOCK", "NOT_ORDERABLE"].contains(&reason.as_str()),
                    "{s:?}"
                );
                sold_out += 1;
            }
            Err(s) => panic!("no order may fail for anything but stock: {s:?}"),
        }
    }
    assert_eq!((placed, sold_out), (30, 30));
    assert_eq!(latte_stock(&app, &s).await, 0);
    assert_eq!(stock_of(&app, &s, &scone).await, 0);
}

#[tokio::test]
async fn twins_of_one_key_answer_the_one_order_never_not_orderable() {
    let app = spawn_app().await;
    // One cup left: the twin that loses the race for it must not be told it is unavailable.
    let s = open_shop(&app, "twins-shop", 1).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let names = twins_of_one_key(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 1)],
        "twin-key-0001",
        20,
    )
    .await;
    assert_eq!(names.len(), 1, "{names:?}");
    // Once placed, every replay answers the order itself.
    let again = place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 1)],
        "twin-key-0001",
    )
    .await
    .unwrap();
    assert!(names.contains(&again.name));
    assert_eq!(latte_stock(&app, &s).await, 0);
}

#[tokio::test]
async fn cancelling_twice_answers_success_and_gives_stock_back_once() {
    let app = spawn_app().await;
    let s = open_shop(&app, "cancel-twice", 10).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let order = place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 3)],
        "cancel-twice-1",
    )
    .await
    .unwrap();
    assert_eq!(latte_stock(&app, &s).await, 7);
    let first = step(&app, "cancel", &order, &alice).await.unwrap();
    assert_eq!(first.status, pb::OrderStatus::Cancelled as i32);
    let second = step(&app, "cancel", &order, &alice).await.unwrap();
    assert_eq!(second.status, pb::OrderStatus::Cancelled as i32);
    assert_eq!(second.update_time, first.update_time, "nothing changed");
    assert_eq!(latte_stock(&app, &s).await, 10);
}

#[tokio::test]
async fn concurrent_copies_of_one_notification_all_answer_204_and_count_once() {
    let app = spawn_app().await;
    let s = pay_shop(&app, "copies-shop", "1900000901").await;
    let (token, order, _) = wechat_order(&app, &s, "copies-openid", "copies-order-1").await;
    let paid = fake(&app)
        .pay_with(
            &trade_no(&order),
            "1900000901",
            mm_wechat_fake::PayOptions {
                hold_notification: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let n = paid.notification;
    deliver_ten_copies_at_once(&app, &n).await;
    let now = get(&app, &order, &token).await;
    assert_eq!(now.status, pb::OrderStatus::Paid as i32);

    // The refund's notification, ten copies at once too.
    let admin = app.admin_of(s.id);
    let refunding = step(&app, "cancel", &now, &admin).await.unwrap();
    assert!(
        [
            pb::OrderStatus::Refunding as i32,
            pb::OrderStatus::Refunded as i32
        ]
        .contains(&refunding.status),
        "{refunding:?}"
    );
    // WeChat confirms a refund later, with a notification of its own.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let refund_note = loop {
        if let Some(n) = fake(&app)
            .notifications()
            .into_iter()
            .find(|x| x.body.contains("REFUND.SUCCESS"))
        {
            break n;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no refund notification"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    deliver_ten_copies_at_once(&app, &refund_note).await;
    let done = get(&app, &order, &token).await;
    assert_eq!(done.status, pb::OrderStatus::Refunded as i32);
}

/// Posts ten copies of a notification at the same time, as WeChat's retries can arrive; every
/// copy must be acknowledged.
async fn deliver_ten_copies_at_once(app: &TestApp, n: &mm_wechat_fake::SentNotification) {
    let copies = (0..10).map(|_| notify(app, &n.url, &n.headers, &n.body));
    for (status, body) in futures::future::join_all(copies).await {
        assert_eq!(status, 204, "{body}");
    }
}

/// A TCP proxy to PostgreSQL the test can cut (every connection closed, new ones refused) and
/// restore: a database outage without touching the shared server.
struct DbProxy {
    port: u16,
    cut: Arc<AtomicBool>,
    conns: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl DbProxy {
    async fn start(upstream: &'static str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, list) = (cut.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                list.lock().unwrap().push(task.abort_handle());
            }
        });
        Self { port, cut, conns }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_database_outage_answers_503_with_retry_after_and_recovery_follows() {
    if backend() != Backend::Postgres {
        return; // SQLite is a file in the process: it has no outage of its own.
    }
    let storage = Storage::on(Backend::Postgres).await;
    let proxy = DbProxy::start("127.0.0.1:5432").await;
    let mut settings = storage.settings();
    settings.database.url = storage
        .db_url
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port));
    let app = spawn_with(settings).await;
    let s = open_shop(&app, "outage-shop", 10).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 1)],
        "outage-before",
    )
    .await
    .unwrap();

    proxy.cut();
    let started = std::time::Instant::now();
    let refused = place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 1)],
        "outage-during",
    )
    .await;
    let status = refused.expect_err("no database, no order");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.get_error_details().retry_info().is_some(),
        "{status:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "an outage is answered, not waited out: {:?}",
        started.elapsed()
    );
    // The mini-program's door: 503 with Retry-After and the usual error body.
    let res = app
        .http
        .get(format!("{}/api/v1/orders", app.http_url))
        .header("X-WeChat-Appid", s.t.wechat_appid.as_str())
        .header("Authorization", format!("Bearer {alice}"))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().get("retry-after").is_some());
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["code"].is_string() && body["message"].is_string(),
        "{body}"
    );

    proxy.restore();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let order = loop {
        match place(
            &app,
            &s,
            &alice,
            vec![line(&s.latte, 0, 1)],
            "outage-during",
        )
        .await
        {
            Ok(o) => break o,
            Err(e) if e.code() == Code::Unavailable && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the database is back but ordering is not: {e:?}"),
        }
    };
    assert_eq!(order.status, pb::OrderStatus::PendingPayment as i32);
    assert_eq!(latte_stock(&app, &s).await, 8);
}
