//! Marketing at checkout beyond coupons: points paid with (once per order, under a race of one
//! customer's concurrent orders; given back when the order is called off or refunded) and
//! promotions (time-limited unit discounts and full-reduction tiers at quote and order, how
//! they combine with stackable and non-stackable coupons, their calendar, stopping, other
//! shops, and the mini-program's JSON).

use mm_kernel::Role;
use mm_proto::minimodules::marketing::v1 as mpb;
use mm_proto::minimodules::marketing::v1::member_service_client::MemberServiceClient;
use mm_proto::minimodules::marketing::v1::promotion_service_client::PromotionServiceClient;
use mm_proto::minimodules::ordering::v1 as pb;
use mm_testkit::{TestApp, spawn_app, with_token};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{assert_status, violation_fields};
use crate::marketing::{claim, create_template, enable_marketing, member, threshold};
use crate::ordering::{Shop, line, open_shop, orders, step};

fn promotions(app: &TestApp) -> PromotionServiceClient<Channel> {
    PromotionServiceClient::new(app.channel.clone())
}

async fn entries(app: &TestApp, m: &mpb::Member, token: &str) -> Vec<mpb::PointsEntry> {
    MemberServiceClient::new(app.channel.clone())
        .list_points_entries(with_token(
            mpb::ListPointsEntriesRequest {
                parent: m.name.clone(),
                page_size: 100,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("entries")
        .into_inner()
        .entries
}

async fn quote(
    app: &TestApp,
    s: &Shop,
    token: &str,
    items: Vec<pb::LineItemRequest>,
    coupon: &str,
    use_points: bool,
) -> pb::Quote {
    orders(app)
        .quote_order(with_token(
            pb::QuoteOrderRequest {
                parent: s.t.name.clone(),
                items,
                fulfilment: crate::ordering::takeaway(),
                coupon: coupon.into(),
                use_points,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("quote")
        .into_inner()
        .quote
        .unwrap()
}

async fn order(
    channel: Channel,
    s: &Shop,
    token: &str,
    items: Vec<pb::LineItemRequest>,
    use_points: bool,
    expected_total_fen: i64,
) -> Result<pb::Order, tonic::Status> {
    crate::marketing::orders_client(channel)
        .create_order(with_token(
            pb::CreateOrderRequest {
                parent: s.t.name.clone(),
                items,
                fulfilment: crate::ordering::takeaway(),
                request_id: uuid::Uuid::new_v4().simple().to_string(),
                expected_total_fen,
                use_points,
                ..Default::default()
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().order.unwrap())
}

fn kinds(d: &[pb::Discount]) -> Vec<(&str, i64)> {
    d.iter().map(|d| (d.kind.as_str(), d.amount_fen)).collect()
}

#[tokio::test]
async fn points_pay_once_per_order_and_come_back_when_it_is_called_off_or_refunded() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-spend", 10).await;
    enable_marketing(&app, &s).await;
    let admin = app.admin_of(s.id);
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let m = member(&app, &s, &alice).await;
    MemberServiceClient::new(app.channel.clone())
        .adjust_points(with_token(
            mpb::AdjustPointsRequest {
                member: m.name.clone(),
                delta: 1_050,
                reason: "开业赠送".into(),
                request_id: "grant-points-0001".into(),
            },
            &admin,
        ))
        .await
        .expect("grant");

    // A large latte (¥22) and ¥1 packaging. At the shop's defaults (100 points a yuan, half an
    // order at most) 1,050 points pay ¥10 (1,000 points); ¥11 would be within the cap.
    let latte = || vec![line(&s.latte, 1, 1)];
    let q = quote(&app, &s, &alice, latte(), "", false).await;
    let p = q.points.expect("the shop takes points");
    assert_eq!(
        (p.balance, p.usable_points, p.amount_fen, p.points_per_yuan),
        (1_050, 1_000, 1_000, 100)
    );
    assert!(q.discounts.is_empty(), "not asked to pay with points");
    let q = quote(&app, &s, &alice, latte(), "", true).await;
    assert_eq!(kinds(&q.discounts), [("POINTS", 1_000)]);
    assert_eq!(q.amounts.as_ref().unwrap().total_fen, 1_300);

    // Five orders at once, each shown ¥13: the points pay for one; the others would cost more
    // than they were shown and are refused, their stock given back.
    let tries = (0..5).map(|_| {
        let (ch, s2, tok) = (app.channel.clone(), &s, alice.clone());
        async move {
            order(
                ch,
                s2,
                &tok,
                vec![line(&s2.latte, 0, 1)],
                true,
                1_800 + 100 - 900,
            )
            .await
        }
    });
    let results = futures::future::join_all(tries).await;
    let placed: Vec<&pb::Order> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(placed.len(), 1, "{results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), Code::Aborted, "{r:?}");
    }
    let first = placed[0].clone();
    assert_eq!(kinds(&first.discounts), [("POINTS", 900)]);
    assert_eq!(member(&app, &s, &alice).await.points, 150);
    let latte_stock = |p: &mm_proto::minimodules::catalog::v1::Product| p.skus[0].stock;
    let stocked = crate::ordering::catalog(&app)
        .get_product(with_token(
            mm_proto::minimodules::catalog::v1::GetProductRequest {
                name: s.latte.name.clone(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .product
        .unwrap();
    assert_eq!(
        latte_stock(&stocked),
        9,
        "only the placed order holds stock"
    );

    // Called off: the points come back, once however often ordering says so.
    step(&app, "cancel", &first, &alice).await.expect("cancel");
    assert_eq!(member(&app, &s, &alice).await.points, 1_050);

    // Paid with points, then refunded: the points paid come back and what the order earned
    // (1 point per yuan paid: ¥13) goes.
    let o = order(app.channel.clone(), &s, &alice, latte(), true, 1_300)
        .await
        .expect("order with points");
    assert_eq!(o.amounts.as_ref().unwrap().discount_fen, 1_000);
    crate::marketing::paid_at_counter(&app, &o, &alice, &admin).await;
    assert_eq!(member(&app, &s, &alice).await.points, 50 + 13);
    step(&app, "refund", &o, &admin).await.expect("refund");
    let back = member(&app, &s, &alice).await;
    assert_eq!(back.points, 1_050);
    let history = entries(&app, &back, &alice).await;
    let count = |k: &str| history.iter().filter(|e| e.kind == k).count();
    // Every payment with points came back (an order refused after its lock gives its points
    // back too, so how many there were depends on the race).
    assert!(count("ORDER_SPENT") >= 2, "{history:?}");
    assert_eq!(count("ORDER_SPENT"), count("ORDER_RETURNED"), "{history:?}");
    assert_eq!(
        [
            count("ADJUSTED"),
            count("ORDER_PAID"),
            count("ORDER_REFUNDED")
        ],
        [1, 1, 1],
        "{history:?}"
    );
    let mut balance = 0;
    for e in history.iter().rev() {
        balance += e.delta;
        assert_eq!(e.balance_after, balance, "{e:?}");
        assert!(e.balance_after >= 0);
    }

    // Points off in the shop's config: the quote offers none and the order takes none.
    app.tenants()
        .update_module_config(with_token(
            mm_proto::minimodules::tenant::v1::UpdateModuleConfigRequest {
                config: Some(mm_proto::minimodules::tenant::v1::ModuleConfig {
                    name: format!("{}/modules/marketing/config", s.t.name),
                    config: Some(mm_kernel::json::json_to_struct(
                        &serde_json::json!({"points_per_yuan_off": 0}),
                    )),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .expect("points off");
    let q = quote(&app, &s, &alice, latte(), "", true).await;
    assert!(q.points.is_none() && q.discounts.is_empty(), "{q:?}");
}

fn at(mins: i64) -> Option<prost_types::Timestamp> {
    Some(mm_kernel::json::timestamp(
        chrono::Utc::now() + chrono::Duration::minutes(mins),
    ))
}

async fn create_promotion(
    app: &TestApp,
    s: &Shop,
    p: mpb::Promotion,
) -> Result<mpb::Promotion, tonic::Status> {
    promotions(app)
        .create_promotion(with_token(
            mpb::CreatePromotionRequest {
                parent: s.t.name.clone(),
                promotion: Some(p),
            },
            &app.admin_of(s.id),
        ))
        .await
        .map(|r| r.into_inner().promotion.unwrap())
}

fn tiers(t: &[(i64, i64)]) -> Vec<mpb::PromotionTier> {
    t.iter()
        .map(|&(threshold_fen, amount_off_fen)| mpb::PromotionTier {
            threshold_fen,
            amount_off_fen,
        })
        .collect()
}

#[tokio::test]
async fn promotions_discount_units_and_tiers_and_combine_with_coupons_as_their_terms_say() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-promo", 10).await;
    enable_marketing(&app, &s).await;
    let admin = app.admin_of(s.id);
    let alice = app.token(Role::Customer, Some(s.id), &[]);

    // Checked field by field.
    let bad = create_promotion(
        &app,
        &s,
        mpb::Promotion {
            title_zh: String::new(),
            kind: mpb::PromotionKind::Tiered as i32,
            tiers: tiers(&[(5_000, 500), (4_000, 800)]),
            start_time: at(60),
            end_time: at(30),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        violation_fields(&bad.unwrap_err()),
        [
            "promotion.title_zh",
            "promotion.tiers[1]",
            "promotion.end_time"
        ]
    );

    // 8折 on the latte, 满20减3 / 满40减8 on everything, and a 5折 that starts tomorrow.
    let latte_off = create_promotion(
        &app,
        &s,
        mpb::Promotion {
            title_zh: "拿铁限时".into(),
            kind: mpb::PromotionKind::PercentOff as i32,
            percent_off: 20,
            products: vec![s.latte.name.clone()],
            start_time: at(-60),
            end_time: at(24 * 60),
            ..Default::default()
        },
    )
    .await
    .expect("percent off");
    let tiered = create_promotion(
        &app,
        &s,
        mpb::Promotion {
            title_zh: "满减".into(),
            kind: mpb::PromotionKind::Tiered as i32,
            tiers: tiers(&[(2_000, 300), (4_000, 800)]),
            start_time: at(-60),
            end_time: at(24 * 60),
            ..Default::default()
        },
    )
    .await
    .expect("tiered");
    let later = create_promotion(
        &app,
        &s,
        mpb::Promotion {
            title_zh: "明日半价".into(),
            kind: mpb::PromotionKind::PercentOff as i32,
            percent_off: 50,
            start_time: at(24 * 60),
            end_time: at(48 * 60),
            ..Default::default()
        },
    )
    .await
    .expect("tomorrow");

    // Two large lattes (¥22 → ¥17.60 each) and a cake (¥12): ¥47.20 after the unit discounts
    // reaches 满40减8.
    let basket = || vec![line(&s.latte, 1, 2), line(&s.cake, 0, 1)];
    let q = quote(&app, &s, &alice, basket(), "", false).await;
    assert_eq!(
        kinds(&q.discounts),
        [("PROMOTION", 880), ("PROMOTION", 800)]
    );
    assert_eq!(q.discounts[0].label_zh, "拿铁限时·8折");
    assert_eq!(q.discounts[1].label_zh, "满减·满40减8");
    assert_eq!(q.amounts.as_ref().unwrap().total_fen, 5_600 - 1_680 + 100);

    // A non-stackable 满50减10 (¥56 before promotions) takes less than the promotions: the
    // server keeps the promotions; picked, it replaces them.
    let plain = create_template(&app, &s, threshold(1_000, 5_000, 10, 5)).await;
    let plain = claim(app.channel.clone(), &plain.name, &alice, "promo-claim-0001")
        .await
        .unwrap();
    let q = quote(&app, &s, &alice, basket(), "", false).await;
    assert_eq!(
        kinds(&q.discounts),
        [("PROMOTION", 880), ("PROMOTION", 800)]
    );
    assert_eq!(q.coupons[0].amount_fen, 1_000);
    let q = quote(&app, &s, &alice, basket(), &plain.name, false).await;
    assert_eq!(kinds(&q.discounts), [("COUPON", 1_000)]);
    // A stackable 满40减5 counts on the promoted prices and comes on top.
    let stack = create_template(
        &app,
        &s,
        mpb::CouponTemplate {
            stackable: true,
            ..threshold(500, 4_000, 10, 5)
        },
    )
    .await;
    claim(app.channel.clone(), &stack.name, &alice, "promo-claim-0002")
        .await
        .unwrap();
    let q = quote(&app, &s, &alice, basket(), "", false).await;
    assert_eq!(
        kinds(&q.discounts),
        [("PROMOTION", 880), ("PROMOTION", 800), ("COUPON", 500)]
    );
    let total = q.amounts.as_ref().unwrap().total_fen;
    assert_eq!(total, 5_600 - 2_180 + 100);
    let o = order(app.channel.clone(), &s, &alice, basket(), false, total)
        .await
        .expect("order with promotions and a coupon");
    assert_eq!(
        kinds(&o.discounts),
        [("PROMOTION", 880), ("PROMOTION", 800), ("COUPON", 500)]
    );

    // The calendar: staff see every promotion overlapping a window; customers only what runs.
    let list = |token: String, from: i64, to: i64| {
        let mut c = promotions(&app);
        let req = with_token(
            mpb::ListPromotionsRequest {
                parent: s.t.name.clone(),
                window_start: at(from),
                window_end: at(to),
            },
            &token,
        );
        async move {
            let mut names: Vec<String> = c
                .list_promotions(req)
                .await
                .unwrap()
                .into_inner()
                .promotions
                .into_iter()
                .map(|p| p.title_zh)
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(
        list(admin.clone(), 0, 72 * 60).await,
        ["拿铁限时", "明日半价", "满减"]
    );
    assert_eq!(list(admin.clone(), 25 * 60, 72 * 60).await, ["明日半价"]);
    assert_eq!(list(alice.clone(), 0, 0).await, ["拿铁限时", "满减"]);
    let auth = format!("Bearer {alice}");
    let headers = [
        ("authorization", auth.as_str()),
        ("x-wechat-appid", s.t.wechat_appid.as_str()),
    ];
    let (status, _, body) = app.get_json("/api/v1/marketing/promotions", &headers).await;
    assert_eq!(status, 200, "{body}");
    let running = body["promotions"].as_array().unwrap();
    assert_eq!(running.len(), 2, "{body}");
    let percent = running.iter().find(|p| p["kind"] == "percent_off").unwrap();
    assert_eq!(percent["percent_off"], 20);
    assert_eq!(
        percent["product_ids"][0].as_str().unwrap(),
        s.latte.name.rsplit('/').next().unwrap()
    );

    // Customers and other shops cannot change promotions.
    let stop = |name: &str, token: &str| {
        let mut c = promotions(&app);
        let req = with_token(
            mpb::UpdatePromotionRequest {
                promotion: Some(mpb::Promotion {
                    name: name.into(),
                    state: mpb::PromotionState::Stopped as i32,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["state".into()],
                }),
            },
            token,
        );
        async move { c.update_promotion(req).await }
    };
    assert_status(
        stop(&latte_off.name, &alice).await,
        Code::PermissionDenied,
        None,
    );
    let other = open_shop(&app, "mk-promo-other", 1).await;
    enable_marketing(&app, &other).await;
    assert_status(
        stop(&latte_off.name, &app.admin_of(other.id)).await,
        Code::PermissionDenied,
        None,
    );
    // Stopped, the unit discount goes; the tier is counted on the list prices again, and the
    // non-stackable 满50减10 (the stackable one is held by the order) now takes more than it.
    let stopped = stop(&latte_off.name, &admin)
        .await
        .unwrap()
        .into_inner()
        .promotion
        .unwrap();
    assert_eq!(stopped.state, mpb::PromotionState::Stopped as i32);
    let q = quote(&app, &s, &alice, basket(), "", false).await;
    let without = orders(&app)
        .quote_order(with_token(
            pb::QuoteOrderRequest {
                parent: s.t.name.clone(),
                items: basket(),
                fulfilment: crate::ordering::takeaway(),
                no_coupon: true,
                ..Default::default()
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .quote
        .unwrap();
    assert_eq!(kinds(&without.discounts), [("PROMOTION", 800)]);
    assert_eq!(kinds(&q.discounts), [("COUPON", 1_000)]);
    // A stopped promotion cannot be changed again.
    let renamed = promotions(&app)
        .update_promotion(with_token(
            mpb::UpdatePromotionRequest {
                promotion: Some(mpb::Promotion {
                    name: latte_off.name.clone(),
                    title_zh: "再来".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["title_zh".into()],
                }),
            },
            &admin,
        ))
        .await;
    assert_eq!(violation_fields(&renamed.unwrap_err()), ["promotion.state"]);
    // Tomorrow's moves to now: it runs (5折 on every unit, then the tier on what is left).
    promotions(&app)
        .update_promotion(with_token(
            mpb::UpdatePromotionRequest {
                promotion: Some(mpb::Promotion {
                    name: later.name.clone(),
                    start_time: at(-1),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["start_time".into()],
                }),
            },
            &admin,
        ))
        .await
        .expect("move the start");
    let q = quote(&app, &s, &alice, vec![line(&s.cake, 0, 4)], "", false).await;
    assert_eq!(
        kinds(&q.discounts),
        [("PROMOTION", 2_400), ("PROMOTION", 300)]
    );
    let _ = tiered;
}

/// Holds the salon's slot at `start` with a coupon picked (empty: the best one).
async fn hold_with(
    app: &TestApp,
    s: &crate::booking::Salon,
    token: &str,
    start: chrono::DateTime<chrono::Utc>,
    coupon: &str,
) -> Result<mm_proto::minimodules::booking::v1::Reservation, tonic::Status> {
    use mm_proto::minimodules::booking::v1 as bpb;
    crate::booking::booking(app)
        .hold_reservation(with_token(
            bpb::HoldReservationRequest {
                parent: s.t.name.clone(),
                service: s.service.name.clone(),
                staff: s.stylist.name.clone(),
                start_time: crate::booking::ts(start),
                request_id: uuid::Uuid::new_v4().simple().to_string(),
                coupon: coupon.into(),
                ..Default::default()
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().reservation.unwrap())
}

#[tokio::test]
async fn a_coupon_for_booking_takes_off_the_deposit_and_a_completed_booking_earns_points() {
    use mm_proto::minimodules::booking::v1 as bpb;
    let app = spawn_app().await;
    // The salon template switches marketing on; the service asks ¥30 and costs ¥88.
    let s = crate::booking_pay::wechat_salon(&app, "mk-salon", 1).await;
    crate::booking_pay::ask_deposit(&app, &s).await;
    crate::payments::set_merchant(&app, &s.t, "1900000801").await;
    let shop = Shop {
        t: s.t.clone(),
        id: s.id,
        latte: Default::default(),
        cake: Default::default(),
    };
    let alice = crate::helpers::customer_token(&app, &s.t, "mk-salon-openid-1").await;
    let for_booking = |off: i64, title: &str| mpb::CouponTemplate {
        title_zh: title.into(),
        kind: mpb::CouponKind::AmountOff as i32,
        amount_off_fen: off,
        valid_days: 7,
        total_quantity: 10,
        per_customer_limit: 5,
        claimable: true,
        modules: vec!["booking".into()],
        ..Default::default()
    };
    let ten = create_template(&app, &shop, for_booking(1_000, "定金立减10元")).await;
    let orders_only = create_template(
        &app,
        &shop,
        mpb::CouponTemplate {
            modules: vec!["ordering".into()],
            ..for_booking(2_000, "点单立减20元")
        },
    )
    .await;
    let coupon = claim(app.channel.clone(), &ten.name, &alice, "mk-salon-claim-1")
        .await
        .unwrap();
    let wrong = claim(
        app.channel.clone(),
        &orders_only.name,
        &alice,
        "mk-salon-claim-2",
    )
    .await
    .unwrap();
    let day = |d: i64| crate::booking::grid_after(chrono::Utc::now() + chrono::Duration::days(d));
    let coupon_state = |name: String| {
        let ch = app.channel.clone();
        let token = alice.clone();
        let tn = s.t.name.clone();
        async move {
            mm_proto::minimodules::marketing::v1::coupon_service_client::CouponServiceClient::new(
                ch,
            )
            .list_coupons(with_token(
                mpb::ListCouponsRequest {
                    parent: tn,
                    page_size: 100,
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner()
            .coupons
            .into_iter()
            .find(|c| c.name == name)
            .map(|c| (mpb::CouponState::try_from(c.state).unwrap(), c.order))
            .unwrap()
        }
    };

    // A coupon for orders only, picked for a deposit: refused, and the place is free again.
    let refused = hold_with(&app, &s, &alice, day(2), &wrong.name).await;
    let st = assert_status(
        refused,
        Code::FailedPrecondition,
        Some("COUPON_UNAVAILABLE"),
    );
    assert!(format!("{st:?}").contains("NOT_IN_SCOPE"), "{st:?}");
    // Not a coupon of this shop: refused as such, before any place is taken.
    for bad in [
        "tenants/00000000-0000-0000-0000-000000000000/coupons/x".to_string(),
        format!("{}/coupons/../../x", s.t.name),
    ] {
        assert_status(
            hold_with(&app, &s, &alice, day(2), &bad).await,
            Code::InvalidArgument,
            None,
        );
    }
    // The refused hold is no booking of the customer's.
    let mine = crate::booking::booking(&app)
        .list_reservations(with_token(
            bpb::ListReservationsRequest {
                parent: s.t.name.clone(),
                ..Default::default()
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservations;
    assert!(mine.is_empty(), "{mine:?}");
    // The best coupon for booking is taken off the deposit: ¥20 left to pay.
    let held = hold_with(&app, &s, &alice, day(2), "").await.expect("hold");
    assert_eq!(
        (held.deposit_fen, held.deposit_discount_fen),
        (2_000, 1_000)
    );
    assert_eq!(held.discounts[0].label_zh, "定金立减10元");
    assert_eq!(
        coupon_state(coupon.name.clone()).await,
        (mpb::CouponState::Locked, held.name.clone())
    );
    // Held by one booking, the coupon is not there for the next.
    let second = hold_with(&app, &s, &alice, day(3), "")
        .await
        .expect("second hold");
    assert_eq!(
        (second.deposit_fen, second.deposit_discount_fen),
        (3_000, 0)
    );
    // Called off while held: the coupon comes back.
    let cancel = |name: String, token: String| {
        let mut c = crate::booking::booking(&app);
        async move {
            c.cancel_reservation(with_token(bpb::CancelReservationRequest { name }, &token))
                .await
                .unwrap()
                .into_inner()
                .reservation
                .unwrap()
        }
    };
    cancel(held.name.clone(), alice.clone()).await;
    assert_eq!(
        coupon_state(coupon.name.clone()).await.0,
        mpb::CouponState::Available
    );

    // Held again and paid through WeChat Pay (¥20): confirmed, the coupon used.
    let held = hold_with(&app, &s, &alice, day(4), "").await.expect("hold");
    assert_eq!(held.deposit_fen, 2_000);
    booking_pay(&app, &held, &alice).await;
    let paid = crate::payments::fake(&app)
        .pay(&crate::booking_pay::trade_no(&held), "1900000801")
        .await
        .unwrap();
    assert_eq!(paid.notify_status, Some(204), "{:?}", paid.notification);
    assert_eq!(
        coupon_state(coupon.name.clone()).await,
        (mpb::CouponState::Used, held.name.clone())
    );
    let used = crate::marketing::get_template(&app, &shop, &ten.name).await;
    assert_eq!(used.used_count, 1);

    // Completed by the shop: ¥88 less the ¥10 off earns 78 points (1 a yuan), once.
    let done = crate::booking::booking(&app)
        .complete_reservation(with_token(
            bpb::CompleteReservationRequest {
                name: held.name.clone(),
            },
            &s.staff_token,
        ))
        .await
        .expect("complete")
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(done.status, bpb::ReservationStatus::Completed as i32);
    let m = member(&app, &shop, &alice).await;
    assert_eq!((m.points, m.lifetime_spend_fen), (78, 7_800));
    let history = entries(&app, &m, &alice).await;
    assert_eq!(history[0].kind, "BOOKING_COMPLETED");
    assert!(history[0].order.is_empty());

    // A coupon worth the whole deposit: nothing to pay, the customer confirms, and cancelling
    // the confirmed booking gives the coupon back.
    let all = create_template(&app, &shop, for_booking(5_000, "定金全免")).await;
    let free = claim(app.channel.clone(), &all.name, &alice, "mk-salon-claim-3")
        .await
        .unwrap();
    let held = hold_with(&app, &s, &alice, day(5), &free.name)
        .await
        .expect("hold");
    assert_eq!((held.deposit_fen, held.deposit_discount_fen), (0, 3_000));
    assert_eq!(held.deposit_status, bpb::DepositStatus::None as i32);
    crate::booking::booking(&app)
        .confirm_reservation(with_token(
            bpb::ConfirmReservationRequest {
                name: held.name.clone(),
            },
            &alice,
        ))
        .await
        .expect("nothing to pay: confirmed");
    assert_eq!(
        coupon_state(free.name.clone()).await.0,
        mpb::CouponState::Used
    );
    cancel(held.name.clone(), alice.clone()).await;
    assert_eq!(
        coupon_state(free.name.clone()).await.0,
        mpb::CouponState::Available
    );
    let _ = second;
}

async fn booking_pay(
    app: &TestApp,
    r: &mm_proto::minimodules::booking::v1::Reservation,
    token: &str,
) {
    crate::booking::booking(app)
        .pay_deposit(with_token(
            mm_proto::minimodules::booking::v1::PayDepositRequest {
                name: r.name.clone(),
            },
            token,
        ))
        .await
        .expect("pay deposit");
}

#[tokio::test]
async fn a_customer_held_as_holding_no_coupon_sees_one_as_soon_as_it_is_handed_out_or_given_back() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-memo", 10).await;
    enable_marketing(&app, &s).await;
    let admin = app.admin_of(s.id);
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let latte = || vec![line(&s.latte, 1, 1)];
    // No coupon in play: the order's lock reads it once, then holds it.
    for _ in 0..2 {
        let o = order(app.channel.clone(), &s, &alice, latte(), false, 0)
            .await
            .unwrap();
        assert!(o.discounts.is_empty());
    }
    // Claimed: the very next order takes it.
    let t = create_template(&app, &s, threshold(300, 2_000, 10, 5)).await;
    claim(app.channel.clone(), &t.name, &alice, "memo-claim-0001")
        .await
        .unwrap();
    let o = order(app.channel.clone(), &s, &alice, latte(), false, 0)
        .await
        .unwrap();
    assert_eq!(kinds(&o.discounts), [("COUPON", 300)]);
    // Used (paid), then no coupon in play again: held again.
    crate::marketing::paid_at_counter(&app, &o, &alice, &admin).await;
    let plain = order(app.channel.clone(), &s, &alice, latte(), false, 0)
        .await
        .unwrap();
    assert!(plain.discounts.is_empty());
    let again = order(app.channel.clone(), &s, &alice, latte(), false, 0)
        .await
        .unwrap();
    assert!(again.discounts.is_empty());
    // Refunded: the coupon is back in hand, and the next order takes it.
    step(&app, "refund", &o, &admin).await.expect("refund");
    let back = order(app.channel.clone(), &s, &alice, latte(), false, 0)
        .await
        .unwrap();
    assert_eq!(kinds(&back.discounts), [("COUPON", 300)]);
    // A promotion created now applies to the next order at once.
    create_promotion(
        &app,
        &s,
        mpb::Promotion {
            title_zh: "立减".into(),
            kind: mpb::PromotionKind::Tiered as i32,
            tiers: tiers(&[(1_000, 100)]),
            start_time: at(-1),
            end_time: at(60),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let promoted = order(app.channel.clone(), &s, &alice, latte(), false, 0)
        .await
        .unwrap();
    assert_eq!(kinds(&promoted.discounts), [("PROMOTION", 100)]);
}
