//! Stock is never lost when the server dies mid-step. Each scenario runs the real binary with a
//! crash point armed (`jobs.crash_at`): the process kills itself with SIGKILL exactly between two
//! steps of placing, cancelling, expiring or refunding an order. A fresh process on the same
//! database then finishes what was owed, and the test checks the invariant
//! **initial stock = current stock + stock held by live orders**, with nothing left owed and no
//! half-placed order. WeChat Pay is a fake living in the test, so it outlives the server; the
//! HTTP port stays the same across restarts, as a shop's public URL does.

use std::time::{Duration, Instant};

use mm_kernel::{Principal, Role, TenantId};
use mm_proto::minimodules::booking::v1 as bpb;
use mm_proto::minimodules::catalog::v1 as catpb;
use mm_proto::minimodules::catalog::v1::catalog_service_client::CatalogServiceClient;
use mm_proto::minimodules::identity::v1 as idpb;
use mm_proto::minimodules::ordering::v1 as pb;
use mm_proto::minimodules::ordering::v1::order_service_client::OrderServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use mm_testkit::process::{ProcessSpec, ServerProcess};
use mm_testkit::{Storage, free_port, tenant_id, with_token};
use mm_wechat_fake::FakeWechat;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};
use tonic::transport::Channel;

const BIN: &str = env!("CARGO_BIN_EXE_minimodules");
const MCHID: &str = "1900007001";
const INITIAL_STOCK: i64 = 100;

/// The shop, its customer and the means to run and inspect servers on its storage.
struct World {
    spec: ProcessSpec,
    fake: FakeWechat,
    db: DatabaseConnection,
    keys: mm_kernel::auth::JwtKeys,
    tenant: TenantId,
    parent: String,
    latte: catpb::Product,
    customer: String,
    /// Dropped last (the database goes with it, after every connection to it).
    _storage: Storage,
}

impl World {
    async fn new() -> Self {
        let storage = Storage::new().await;
        let fake = FakeWechat::start(([127, 0, 0, 1], 0).into()).await.unwrap();
        let spec = ProcessSpec::new(BIN, &storage)
            .env("MINIMODULES_WECHAT__BASE_URL", fake.base_url.clone())
            .env("MINIMODULES_WECHAT__PAY_BASE_URL", fake.base_url.clone())
            .env(
                "MINIMODULES_SERVER__HTTP_ADDR",
                format!("127.0.0.1:{}", free_port()),
            )
            .env("MINIMODULES_DEMO__SEED", "false")
            .env("MINIMODULES_JOBS__SWEEP_INTERVAL_MS", "100")
            .env("MINIMODULES_JOBS__EFFECT_RETRY_BASE_MS", "100")
            .env("MINIMODULES_JOBS__EFFECT_RETRY_MAX_MS", "500")
            // A step taken by a process that then died is free again this soon.
            .env("MINIMODULES_JOBS__EFFECT_LEASE_MS", "300");
        let keys = mm_server::jwt_keys(&storage.settings()).unwrap();
        // It looks at and moves rows behind the servers' backs: past row-level security.
        let db = sea_orm::Database::connect(storage.admin_url())
            .await
            .unwrap();
        let mut w = Self {
            _storage: storage,
            spec,
            fake,
            db,
            keys,
            tenant: TenantId::parse(&uuid::Uuid::new_v4().to_string(), "t").unwrap(),
            parent: String::new(),
            latte: catpb::Product::default(),
            customer: String::new(),
        };
        let server = w.healer().start().await;
        w.set_up_shop(&server).await;
        w.settle(server).await;
        w
    }

    fn token(&self, role: Role, tenant: Option<TenantId>) -> String {
        self.keys
            .issue(&Principal {
                subject: format!("fault-{}", uuid::Uuid::new_v4().simple()),
                tenant,
                role,
                permissions: vec![],
                session: None,
            })
            .unwrap()
    }

    /// A process that finishes what is owed at once: half-placed orders are abandoned at the
    /// first sweep (no other process is placing any).
    fn healer(&self) -> ProcessSpec {
        self.spec
            .clone()
            .env("MINIMODULES_JOBS__STALE_CREATING_MS", "0")
    }

    fn crashing_at(&self, point: &str) -> ProcessSpec {
        self.spec
            .clone()
            .env("MINIMODULES_JOBS__CRASH_AT", point)
            .env("MINIMODULES_JOBS__STALE_CREATING_MS", "600000")
    }

    async fn set_up_shop(&mut self, server: &ServerProcess) {
        let ch = server.channel().await;
        let t = self.create_tenant(&ch, "fault-cafe", "restaurant").await;
        let appid = t.wechat_appid.clone();
        self.tenant = tenant_id(&t);
        self.parent = t.name.clone();
        let admin = self.token(Role::Admin, Some(self.tenant));
        let config = serde_json::json!({
            "fulfilment_modes": ["takeaway"],
            "opening_hours": [],
            "payment_methods": ["wechat_pay", "counter"],
            "cancel_window_minutes": 30,
            "auto_accept": false
        });
        self.configure(&ch, &t, "ordering", config, &admin).await;
        let mut catalog = CatalogServiceClient::new(ch.clone());
        let category = catalog
            .create_category(with_token(
                catpb::CreateCategoryRequest {
                    parent: t.name.clone(),
                    category: Some(catpb::Category {
                        display_name_zh: "咖啡".into(),
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
        self.latte = catalog
            .create_product(with_token(
                catpb::CreateProductRequest {
                    parent: t.name.clone(),
                    product: Some(catpb::Product {
                        category: category.name,
                        display_name_zh: "拿铁".into(),
                        on_sale: true,
                        skus: vec![catpb::Sku {
                            specs: vec![catpb::SpecValue {
                                spec: "杯型".into(),
                                value: "中杯".into(),
                            }],
                            price_fen: 1800,
                            stock: INITIAL_STOCK,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner()
            .product
            .unwrap();
        // A WeChat customer (WeChat Pay needs the payer's openid) of a shop that takes WeChat Pay.
        const SECRET: &str = "faultsecret0123456789abc";
        self.fake.register_app(&appid, SECRET);
        mm_proto::minimodules::identity::v1::user_service_client::UserServiceClient::new(
            ch.clone(),
        )
        .set_wechat_credentials(with_token(
            idpb::SetWechatCredentialsRequest {
                parent: t.name.clone(),
                wechat_appid: appid.clone(),
                app_secret: SECRET.into(),
            },
            &admin,
        ))
        .await
        .unwrap();
        crate::payments::set_merchant_with(&self.fake, &ch, &t, MCHID, &admin).await;
        let code = self.fake.login_code(&appid, "fault-openid", None);
        self.customer =
            mm_proto::minimodules::identity::v1::auth_service_client::AuthServiceClient::new(ch)
                .wechat_login(idpb::WechatLoginRequest {
                    wechat_appid: appid,
                    code,
                })
                .await
                .unwrap()
                .into_inner()
                .tokens
                .unwrap()
                .access_token;
    }

    /// A tenant from an industry template, created by the operator.
    async fn create_tenant(&self, ch: &Channel, slug: &str, template: &str) -> tpb::Tenant {
        TenantServiceClient::new(ch.clone())
            .create_tenant(with_token(
                tpb::CreateTenantRequest {
                    tenant: Some(tpb::Tenant {
                        slug: slug.into(),
                        display_name_zh: format!("{slug} 店"),
                        display_name_en: slug.into(),
                        wechat_appid: mm_testkit::appid_for(slug),
                        ..Default::default()
                    }),
                    template_id: template.into(),
                },
                &self.token(Role::Operator, None),
            ))
            .await
            .unwrap()
            .into_inner()
            .tenant
            .unwrap()
    }

    /// Sets a module's config as the shop's admin.
    async fn configure(
        &self,
        ch: &Channel,
        t: &tpb::Tenant,
        module: &str,
        config: serde_json::Value,
        admin: &str,
    ) {
        TenantServiceClient::new(ch.clone())
            .update_module_config(with_token(
                tpb::UpdateModuleConfigRequest {
                    config: Some(tpb::ModuleConfig {
                        name: format!("{}/modules/{module}/config", t.name),
                        config: Some(mm_kernel::json::json_to_struct(&config)),
                        ..Default::default()
                    }),
                },
                admin,
            ))
            .await
            .unwrap();
    }

    fn orders(ch: &Channel) -> OrderServiceClient<Channel> {
        OrderServiceClient::new(ch.clone())
    }

    async fn place(&self, ch: &Channel, key: &str) -> Result<pb::Order, tonic::Status> {
        Self::orders(ch)
            .create_order(with_token(
                pb::CreateOrderRequest {
                    parent: self.parent.clone(),
                    items: vec![pb::LineItemRequest {
                        product: self.latte.name.clone(),
                        sku_id: self.latte.skus[0].id.clone(),
                        quantity: 2,
                    }],
                    fulfilment: Some(pb::Fulfilment {
                        mode: pb::FulfilmentMode::Takeaway as i32,
                        ..Default::default()
                    }),
                    request_id: key.into(),
                    ..Default::default()
                },
                &self.customer,
            ))
            .await
            .map(|r| r.into_inner().order.unwrap())
    }

    async fn cancel(&self, ch: &Channel, order: &pb::Order) -> Result<pb::Order, tonic::Status> {
        Self::orders(ch)
            .cancel_order(with_token(
                pb::CancelOrderRequest {
                    name: order.name.clone(),
                },
                &self.customer,
            ))
            .await
            .map(|r| r.into_inner().order.unwrap())
    }

    /// A placed order paid with WeChat Pay (the fake takes the money and notifies the server).
    async fn paid(&self, ch: &Channel, key: &str) -> pb::Order {
        let order = self.place(ch, key).await.unwrap();
        Self::orders(ch)
            .pay_order(with_token(
                pb::PayOrderRequest {
                    name: order.name.clone(),
                    method: pb::PaymentMethod::WechatPay as i32,
                },
                &self.customer,
            ))
            .await
            .unwrap();
        let paid = self
            .fake
            .pay(&crate::payments::trade_no(&order), MCHID)
            .await
            .unwrap();
        assert_eq!(paid.notify_status, Some(204));
        order
    }

    /// Makes an unpaid order overdue, as time would.
    async fn overdue(&self, order: &pb::Order) {
        self.past_due("ordering_orders", "order_id", &order.name)
            .await;
    }

    /// Moves a row's `expires_at` a minute into the past.
    async fn past_due(&self, table: &str, key: &str, name: &str) {
        let id = name.rsplit('/').next().unwrap();
        let b = self.db.get_database_backend();
        let sql = match b {
            sea_orm::DbBackend::Postgres => {
                format!("UPDATE {table} SET expires_at = $1 WHERE {key} = $2")
            }
            _ => format!("UPDATE {table} SET expires_at = ? WHERE {key} = ?"),
        };
        self.db
            .execute_raw(Statement::from_sql_and_values(
                b,
                sql,
                [
                    (chrono::Utc::now() - chrono::Duration::minutes(1)).into(),
                    id.into(),
                ],
            ))
            .await
            .unwrap();
    }

    async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                sql.to_string(),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    /// Current stock + stock held by live orders (everything not called off).
    async fn accounted_stock(&self) -> i64 {
        let b = self.db.get_database_backend();
        let stock = self
            .count(&format!(
                "SELECT stock FROM catalog_skus WHERE sku_id = '{}'",
                self.latte.skus[0].id
            ))
            .await;
        let rows = self
            .db
            .query_all_raw(Statement::from_string(
                b,
                "SELECT items, status, cancel_reason FROM ordering_orders".to_string(),
            ))
            .await
            .unwrap();
        let mut held = 0;
        for r in rows {
            let status: String = r.try_get("", "status").unwrap();
            let reason: String = r.try_get("", "cancel_reason").unwrap();
            let called_off = status == "cancelled"
                || (["refunding", "refunded"].contains(&status.as_str()) && !reason.is_empty());
            if called_off {
                continue;
            }
            let items: String = r.try_get("", "items").unwrap();
            let lines: Vec<serde_json::Value> = serde_json::from_str(&items).unwrap();
            held += lines
                .iter()
                .map(|l| l["quantity"].as_i64().unwrap())
                .sum::<i64>();
        }
        stock + held
    }

    /// Runs a healthy process until nothing is owed and no order is half-placed, checks the
    /// stock invariant, and stops it.
    async fn settle(&self, mut server: ServerProcess) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let owed = self.count("SELECT COUNT(*) FROM ordering_effects").await;
            let half = self
                .count("SELECT COUNT(*) FROM ordering_orders WHERE status = 'creating'")
                .await;
            if owed == 0 && half == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "still owed: {owed} steps, {half} half-placed orders\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            self.accounted_stock().await,
            INITIAL_STOCK,
            "stock lost or made up\n{}",
            server.log()
        );
        // Booking capacity: the places taken are exactly those of live reservations.
        let taken = self
            .count("SELECT COALESCE(SUM(taken), 0) FROM booking_slot_counts")
            .await;
        let held = self
            .count(
                "SELECT COALESCE(SUM(cell_count), 0) FROM booking_reservations \
                 WHERE status NOT IN ('cancelled', 'expired')",
            )
            .await;
        assert_eq!(taken, held, "places lost or made up\n{}", server.log());
        server.kill9();
    }

    /// Starts a process armed to die at `point`, runs `act` against it, and waits until it
    /// died exactly there.
    async fn crash<F, Fut>(&self, point: &str, act: F)
    where
        F: FnOnce(Channel) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut server = self.crashing_at(point).start().await;
        let ch = server.channel().await;
        act(ch).await;
        let status = server.wait_exit(Duration::from_secs(20)).await;
        let log = server.log();
        assert!(status.is_some(), "the process never reached {point}\n{log}");
        assert!(
            log.contains(&format!("crash point reached: {point}")),
            "died elsewhere than {point}\n{log}"
        );
    }

    async fn heal(&self) {
        let server = self.healer().start().await;
        self.settle(server).await;
    }

    async fn status_of(&self, order: &pb::Order) -> String {
        self.status_in("ordering_orders", "order_id", &order.name)
            .await
    }

    async fn status_in(&self, table: &str, key: &str, name: &str) -> String {
        let id = name.rsplit('/').next().unwrap();
        let r = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT status FROM {table} WHERE {key} = '{id}'"),
            ))
            .await
            .unwrap()
            .unwrap();
        r.try_get("", "status").unwrap()
    }
}

#[tokio::test]
async fn killed_while_placing_an_order_loses_no_stock() {
    let w = &World::new().await;
    for (i, point) in [
        "ordering.create.inserted",
        "ordering.create.reserved",
        "ordering.create.placed",
    ]
    .into_iter()
    .enumerate()
    {
        w.crash(point, |ch| async move {
            let res = w.place(&ch, &format!("create-crash-{i:04}")).await;
            assert!(res.is_err(), "the process died before answering");
        })
        .await;
        w.heal().await;
    }
    // A half-placed order whose abandonment dies after its commit: the release is still owed.
    w.crash("ordering.create.reserved", |ch| async move {
        let _ = w.place(&ch, "abandon-crash-0001").await;
    })
    .await;
    let abandoning = w
        .spec
        .clone()
        .env("MINIMODULES_JOBS__CRASH_AT", "ordering.abandon.committed")
        .env("MINIMODULES_JOBS__STALE_CREATING_MS", "0");
    // Its first sweep may come before it even prints its addresses.
    let log = match abandoning.try_start().await {
        Ok(mut server) => {
            assert!(
                server.wait_exit(Duration::from_secs(20)).await.is_some(),
                "{}",
                server.log()
            );
            server.log()
        }
        Err(log) => log,
    };
    assert!(
        log.contains("crash point reached: ordering.abandon.committed"),
        "{log}"
    );
    w.heal().await;
}

#[tokio::test]
async fn killed_while_cancelling_or_expiring_an_order_loses_no_stock() {
    let w = &World::new().await;
    for (i, point) in [
        "ordering.step.cancelled.committed",
        "ordering.effect.release_stock.performed",
    ]
    .into_iter()
    .enumerate()
    {
        w.crash(point, |ch| async move {
            let order = w.place(&ch, &format!("cancel-crash-{i:04}")).await.unwrap();
            // As with refunds: the worker may take the owed step before the request does.
            let _ = w.cancel(&ch, &order).await;
        })
        .await;
        w.heal().await;

        let mut expired = None;
        let slot = &mut expired;
        w.crash(point, |ch| async move {
            let order = w.place(&ch, &format!("expire-crash-{i:04}")).await.unwrap();
            w.overdue(&order).await;
            *slot = Some(order);
        })
        .await;
        w.heal().await;
        assert_eq!(w.status_of(&expired.unwrap()).await, "cancelled");
    }
}

#[tokio::test]
async fn killed_while_refunding_an_order_loses_no_stock_and_refunds_once() {
    let w = &World::new().await;
    for (i, point) in [
        "ordering.step.refunding.committed",
        "ordering.effect.refund.performed",
        "ordering.effect.release_stock.performed",
    ]
    .into_iter()
    .enumerate()
    {
        let mut refunded = None;
        let slot = &mut refunded;
        w.crash(point, |ch| async move {
            let order = w.paid(&ch, &format!("refund-crash-{i:04}")).await;
            // The answer may come first when the worker, not the request, took the owed step;
            // `crash` checks the process died at the point all the same.
            let _ = w.cancel(&ch, &order).await;
            *slot = Some(order);
        })
        .await;
        w.heal().await;
        // The refund was asked again after the crash and WeChat confirmed it: one refund, done.
        let order = refunded.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut server = w.healer().start().await;
        while w.status_of(&order).await != "refunded" {
            assert!(
                Instant::now() < deadline,
                "never refunded\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.kill9();
    }
}

#[tokio::test]
async fn killed_at_a_random_moment_under_create_and_cancel_load_loses_no_stock() {
    let w = &World::new().await;
    for round in 0..3 {
        let mut server = w.healer().start().await;
        let ch = server.channel().await;
        let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // Why a worker stopped, for the message should the load stop before the kill.
        let stopped = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let mut workers = Vec::new();
        for worker in 0..6 {
            let (ch, done, stopped) = (ch.clone(), done.clone(), stopped.clone());
            workers.push(async move {
                for n in 0..1_000 {
                    let placed = w.place(&ch, &format!("load-{round}-{worker}-{n:04}")).await;
                    let cancelled = match placed {
                        Ok(order) => w.cancel(&ch, &order).await.map(|_| ()),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = cancelled {
                        stopped.lock().unwrap().push(format!("{e:?}"));
                        return;
                    }
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
        let load = futures::future::join_all(workers);
        let killer = async {
            // Somewhere in the middle of the load, a different moment each round.
            let wanted = 10 + round * 7;
            let deadline = Instant::now() + Duration::from_secs(30);
            while done.load(std::sync::atomic::Ordering::SeqCst) < wanted {
                assert!(
                    Instant::now() < deadline,
                    "the load made no progress; workers stopped by {:?}\n{}",
                    stopped.lock().unwrap(),
                    server.log()
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            server.kill9();
        };
        tokio::join!(load, killer);
        w.heal().await;
    }
}

/// A salon open around the clock: one stylist, one 30-minute service of three places a slot.
struct Salon {
    parent: String,
    service: String,
    stylist: String,
    customer: String,
}

impl World {
    async fn open_salon(&self) -> Salon {
        use mm_proto::minimodules::booking::v1::booking_service_client::BookingServiceClient;
        let server = self.healer().start().await;
        let ch = server.channel().await;
        let t = self.create_tenant(&ch, "fault-salon", "salon").await;
        let id = tenant_id(&t);
        let admin = self.token(Role::Admin, Some(id));
        let config = serde_json::json!({
            "slot_minutes": 30,
            "lead_time_minutes": 60,
            "horizon_days": 14,
            "hold_minutes": 10
        });
        self.configure(&ch, &t, "booking", config, &admin).await;
        let mut booking = BookingServiceClient::new(ch);
        let service = booking
            .create_service(with_token(
                bpb::CreateServiceRequest {
                    parent: t.name.clone(),
                    service: Some(bpb::Service {
                        display_name: "剪发".into(),
                        duration_minutes: 30,
                        price_fen: 8800,
                        capacity: 3,
                        active: true,
                        ..Default::default()
                    }),
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner()
            .service
            .unwrap();
        let stylist = booking
            .create_staff(with_token(
                bpb::CreateStaffRequest {
                    parent: t.name.clone(),
                    staff: Some(bpb::Staff {
                        display_name: "Tony".into(),
                        kind: bpb::StaffKind::Person as i32,
                        services: vec![service.name.clone()],
                        weekly_hours: crate::booking::all_day(),
                        active: true,
                        ..Default::default()
                    }),
                },
                &admin,
            ))
            .await
            .unwrap()
            .into_inner()
            .staff
            .unwrap();
        self.settle(server).await;
        Salon {
            parent: t.name,
            service: service.name,
            stylist: stylist.name,
            customer: self.token(Role::Customer, Some(id)),
        }
    }

    async fn hold(
        &self,
        ch: &Channel,
        s: &Salon,
        key: &str,
    ) -> Result<bpb::Reservation, tonic::Status> {
        use mm_proto::minimodules::booking::v1::booking_service_client::BookingServiceClient;
        let start = crate::booking::grid_after(chrono::Utc::now() + chrono::Duration::days(2));
        BookingServiceClient::new(ch.clone())
            .hold_reservation(with_token(
                bpb::HoldReservationRequest {
                    parent: s.parent.clone(),
                    service: s.service.clone(),
                    staff: s.stylist.clone(),
                    start_time: crate::booking::ts(start),
                    request_id: key.into(),
                    note: String::new(),
                    remind: false,
                    ..Default::default()
                },
                &s.customer,
            ))
            .await
            .map(|r| r.into_inner().reservation.unwrap())
    }
}

#[tokio::test]
async fn killed_while_holding_cancelling_or_expiring_a_booking_loses_no_place() {
    use mm_proto::minimodules::booking::v1::booking_service_client::BookingServiceClient;
    let w = &World::new().await;
    let s = &w.open_salon().await;
    w.crash("booking.hold.committed", |ch| async move {
        assert!(w.hold(&ch, s, "hold-crash-0001").await.is_err());
    })
    .await;
    w.heal().await;

    w.crash("booking.step.cancelled.committed", |ch| async move {
        let r = w.hold(&ch, s, "cancel-crash-0001").await.unwrap();
        let cancelled = BookingServiceClient::new(ch)
            .cancel_reservation(with_token(
                bpb::CancelReservationRequest { name: r.name },
                &s.customer,
            ))
            .await;
        assert!(cancelled.is_err(), "died mid-cancel");
    })
    .await;
    w.heal().await;

    let mut expired = None;
    let slot = &mut expired;
    w.crash("booking.step.expired.committed", |ch| async move {
        let r = w.hold(&ch, s, "expire-crash-0001").await.unwrap();
        w.past_due("booking_reservations", "reservation_id", &r.name)
            .await;
        *slot = Some(r);
    })
    .await;
    w.heal().await;
    assert_eq!(
        w.status_in(
            "booking_reservations",
            "reservation_id",
            &expired.unwrap().name
        )
        .await,
        "expired"
    );
}
