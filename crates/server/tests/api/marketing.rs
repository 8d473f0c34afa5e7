//! Marketing end to end: coupon templates checked field by field, claims that keep the total and
//! the per-customer limit under a race, a coupon used by exactly one of fifty concurrent orders,
//! the coupon's way through an order's life (locked, back when cancelled, used when paid, back
//! when refunded, counted in the template's usage), the best coupon chosen on the server and
//! the expected total checked after it, the welcome coupon, tenant isolation, ordering unchanged
//! for a shop without marketing, and the mini-program's JSON routes.

use mm_kernel::Role;
use mm_proto::minimodules::marketing::v1 as mpb;
use mm_proto::minimodules::marketing::v1::coupon_service_client::CouponServiceClient;
use mm_proto::minimodules::marketing::v1::member_service_client::MemberServiceClient;
use mm_proto::minimodules::marketing::v1::order_discounts_client::OrderDiscountsClient as MarketingOrderDiscounts;
use mm_proto::minimodules::ordering::v1 as pb;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_testkit::{TestApp, spawn_app, with_token};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{assert_status, http_post, violation_fields};
use crate::ordering::{Shop, line, open_shop, orders, place, step};

fn coupons(app: &TestApp) -> CouponServiceClient<Channel> {
    CouponServiceClient::new(app.channel.clone())
}

pub(crate) async fn enable_marketing(app: &TestApp, s: &Shop) {
    app.tenants()
        .enable_module(with_token(
            tpb::EnableModuleRequest {
                name: format!("{}/modules/marketing", s.t.name),
            },
            &app.admin_of(s.id),
        ))
        .await
        .expect("enable marketing");
}

/// "满 `threshold` 减 `off`" (fen), valid seven days after claiming.
pub(crate) fn threshold(
    off: i64,
    threshold: i64,
    total: i32,
    per_customer: i32,
) -> mpb::CouponTemplate {
    mpb::CouponTemplate {
        title_zh: format!("满{}减{}", threshold / 100, off / 100),
        kind: mpb::CouponKind::Threshold as i32,
        amount_off_fen: off,
        threshold_fen: threshold,
        valid_days: 7,
        total_quantity: total,
        per_customer_limit: per_customer,
        claimable: true,
        ..Default::default()
    }
}

pub(crate) async fn create_template(
    app: &TestApp,
    s: &Shop,
    t: mpb::CouponTemplate,
) -> mpb::CouponTemplate {
    coupons(app)
        .create_coupon_template(with_token(
            mpb::CreateCouponTemplateRequest {
                parent: s.t.name.clone(),
                template: Some(t),
            },
            &app.admin_of(s.id),
        ))
        .await
        .expect("create template")
        .into_inner()
        .template
        .unwrap()
}

pub(crate) async fn claim(
    channel: Channel,
    template: &str,
    token: &str,
    key: &str,
) -> Result<mpb::Coupon, tonic::Status> {
    CouponServiceClient::new(channel)
        .claim_coupon(with_token(
            mpb::ClaimCouponRequest {
                template: template.into(),
                request_id: key.into(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().coupon.unwrap())
}

pub(crate) async fn get_template(app: &TestApp, s: &Shop, name: &str) -> mpb::CouponTemplate {
    coupons(app)
        .get_coupon_template(with_token(
            mpb::GetCouponTemplateRequest { name: name.into() },
            &app.admin_of(s.id),
        ))
        .await
        .expect("get template")
        .into_inner()
        .template
        .unwrap()
}

async fn my_coupons(app: &TestApp, token: &str, s: &Shop) -> Vec<mpb::Coupon> {
    coupons(app)
        .list_coupons(with_token(
            mpb::ListCouponsRequest {
                parent: s.t.name.clone(),
                page_size: 100,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("list coupons")
        .into_inner()
        .coupons
}

fn state(c: &mpb::Coupon) -> mpb::CouponState {
    mpb::CouponState::try_from(c.state).unwrap()
}

async fn create_with_coupon(
    app: &TestApp,
    s: &Shop,
    token: &str,
    items: Vec<pb::LineItemRequest>,
    coupon: &str,
    expected_total_fen: i64,
) -> Result<pb::Order, tonic::Status> {
    orders(app)
        .create_order(with_token(
            pb::CreateOrderRequest {
                parent: s.t.name.clone(),
                items,
                fulfilment: crate::ordering::takeaway(),
                request_id: uuid::Uuid::new_v4().simple().to_string(),
                expected_total_fen,
                coupon: coupon.into(),
                ..Default::default()
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().order.unwrap())
}

#[tokio::test]
async fn templates_are_checked_field_by_field_and_kept_to_their_shop() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-templates", 10).await;
    enable_marketing(&app, &s).await;
    let other = open_shop(&app, "mk-templates-other", 10).await;
    enable_marketing(&app, &other).await;

    let bad = mpb::CouponTemplate {
        kind: mpb::CouponKind::Threshold as i32,
        amount_off_fen: 2_000,
        threshold_fen: 1_000,
        per_customer_limit: 1,
        ..Default::default()
    };
    let st = assert_status(
        coupons(&app)
            .create_coupon_template(with_token(
                mpb::CreateCouponTemplateRequest {
                    parent: s.t.name.clone(),
                    template: Some(bad),
                },
                &app.admin_of(s.id),
            ))
            .await,
        Code::InvalidArgument,
        None,
    );
    let fields = violation_fields(&st);
    for f in [
        "template.title_zh",
        "template.threshold_fen",
        "template.valid_days",
        "template.total_quantity",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} not in {fields:?}");
    }

    let t = create_template(&app, &s, threshold(2_000, 10_000, 5, 1)).await;
    assert_eq!(
        mpb::CouponTemplateState::try_from(t.state).unwrap(),
        mpb::CouponTemplateState::Active
    );
    // Another shop's admin and customer reach nothing of it.
    assert_status(
        coupons(&app)
            .get_coupon_template(with_token(
                mpb::GetCouponTemplateRequest {
                    name: t.name.clone(),
                },
                &app.admin_of(other.id),
            ))
            .await,
        Code::PermissionDenied,
        None,
    );
    let stranger = app.token(Role::Customer, Some(other.id), &[]);
    assert_status(
        claim(app.channel.clone(), &t.name, &stranger, "stranger-claim-1").await,
        Code::PermissionDenied,
        None,
    );
    // A template of the shop named under another shop is not found there.
    let elsewhere = t.name.replace(&s.t.name, &other.t.name);
    let other_customer = app.token(Role::Customer, Some(other.id), &[]);
    assert_status(
        claim(
            app.channel.clone(),
            &elsewhere,
            &other_customer,
            "elsewhere-claim-1",
        )
        .await,
        Code::NotFound,
        Some("COUPON_TEMPLATE_NOT_FOUND"),
    );

    // The total cannot go below what was handed out; a stopped template hands out nothing.
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    claim(app.channel.clone(), &t.name, &alice, "alice-claim-1")
        .await
        .expect("claim");
    let update = |total: i32, state: mpb::CouponTemplateState, paths: &[&str]| {
        with_token(
            mpb::UpdateCouponTemplateRequest {
                template: Some(mpb::CouponTemplate {
                    name: t.name.clone(),
                    total_quantity: total,
                    state: state as i32,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: paths.iter().map(|p| (*p).to_string()).collect(),
                }),
            },
            &app.admin_of(s.id),
        )
    };
    let st = assert_status(
        coupons(&app)
            .update_coupon_template(update(
                0,
                mpb::CouponTemplateState::Active,
                &["total_quantity"],
            ))
            .await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&st), vec!["template.total_quantity"]);
    coupons(&app)
        .update_coupon_template(update(0, mpb::CouponTemplateState::Stopped, &["state"]))
        .await
        .expect("stop");
    let bob = app.token(Role::Customer, Some(s.id), &[]);
    assert_status(
        claim(app.channel.clone(), &t.name, &bob, "bob-claim-1").await,
        Code::FailedPrecondition,
        Some("COUPON_TEMPLATE_STOPPED"),
    );
    // Customers never see a stopped template in the coupon centre; staff do.
    let centre = coupons(&app)
        .list_coupon_templates(with_token(
            mpb::ListCouponTemplatesRequest {
                parent: s.t.name.clone(),
                ..Default::default()
            },
            &bob,
        ))
        .await
        .unwrap()
        .into_inner()
        .templates;
    assert!(centre.is_empty(), "{centre:?}");
}

#[tokio::test]
async fn claims_keep_the_total_and_the_per_customer_limit_under_a_race() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-race-claims", 10).await;
    enable_marketing(&app, &s).await;
    let t = create_template(&app, &s, threshold(2_000, 10_000, 50, 1)).await;
    let customers: Vec<String> = (0..60)
        .map(|_| app.token(Role::Customer, Some(s.id), &[]))
        .collect();
    // 200 claims from 60 customers, several each, all at once.
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (channel, name) = (app.channel.clone(), t.name.clone());
            let token = customers[i % customers.len()].clone();
            tokio::spawn(
                async move { claim(channel, &name, &token, &format!("race-{i:04}")).await },
            )
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(st) => {
                use tonic_types::StatusExt as _;
                let reason = st
                    .get_error_details()
                    .error_info()
                    .map(|i| i.reason.clone())
                    .unwrap_or_default();
                assert!(
                    st.code() == Code::FailedPrecondition
                        && ["COUPONS_SOLD_OUT", "COUPON_LIMIT_REACHED"].contains(&reason.as_str()),
                    "{st:?}"
                );
            }
        }
    }
    assert_eq!(won, 50, "exactly the total is handed out");
    assert_eq!(get_template(&app, &s, &t.name).await.claimed_count, 50);
    let mut holders = 0;
    for c in &customers {
        let held = my_coupons(&app, c, &s).await.len();
        assert!(
            held <= 1,
            "a customer holds {held} of a one-per-customer coupon"
        );
        holders += held;
    }
    assert_eq!(holders, 50);
    // The same claim again is answered with the same coupon, not a second one.
    let first = claim(app.channel.clone(), &t.name, &customers[0], "again-0001").await;
    let again = claim(app.channel.clone(), &t.name, &customers[0], "again-0001").await;
    match (first, again) {
        (Ok(a), Ok(b)) => assert_eq!(a.name, b.name),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code()),
        other => panic!("a repeated claim answered differently: {other:?}"),
    }
}

#[tokio::test]
async fn one_coupon_is_used_by_exactly_one_of_fifty_concurrent_orders() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-race-orders", 100).await;
    enable_marketing(&app, &s).await;
    let t = create_template(&app, &s, threshold(500, 1_000, 10, 1)).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let coupon = claim(app.channel.clone(), &t.name, &alice, "alice-race-1")
        .await
        .unwrap();
    let stock_before = crate::ordering::latte_stock(&app, &s).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (channel, parent, token, coupon) = (
                app.channel.clone(),
                s.t.name.clone(),
                alice.clone(),
                coupon.name.clone(),
            );
            let items = vec![line(&s.latte, 0, 1)];
            tokio::spawn(async move {
                orders_client(channel)
                    .create_order(with_token(
                        pb::CreateOrderRequest {
                            parent,
                            items,
                            fulfilment: crate::ordering::takeaway(),
                            request_id: format!("coupon-race-{i:04}"),
                            coupon,
                            ..Default::default()
                        },
                        &token,
                    ))
                    .await
                    .map(|r| r.into_inner().order.unwrap())
            })
        })
        .collect();
    let mut used = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(o) => used.push(o),
            Err(st) => {
                use tonic_types::StatusExt as _;
                assert_eq!(st.code(), Code::FailedPrecondition, "{st:?}");
                assert_eq!(
                    st.get_error_details()
                        .error_info()
                        .map(|i| i.reason.clone()),
                    Some("COUPON_UNAVAILABLE".into()),
                    "{st:?}"
                );
            }
        }
    }
    assert_eq!(used.len(), 1, "exactly one order uses the coupon");
    let o = &used[0];
    assert_eq!(o.amounts.as_ref().unwrap().discount_fen, 500);
    assert_eq!(o.amounts.as_ref().unwrap().total_fen, 1_800 - 500 + 100);
    assert_eq!(o.discounts.len(), 1);
    assert_eq!(o.discounts[0].source, coupon.name);
    // The refused orders gave their stock back: only the one order holds any.
    assert_eq!(
        crate::ordering::latte_stock(&app, &s).await,
        stock_before - 1
    );
    let held = my_coupons(&app, &alice, &s).await;
    assert_eq!(state(&held[0]), mpb::CouponState::Locked);
    assert_eq!(held[0].order, o.name);
}

/// The customer chooses the counter and staff confirm the payment (marketing is told before the
/// confirmation answers).
pub(crate) async fn paid_at_counter(app: &TestApp, o: &pb::Order, customer: &str, staff: &str) {
    orders(app)
        .pay_order(with_token(
            pb::PayOrderRequest {
                name: o.name.clone(),
                method: pb::PaymentMethod::Counter as i32,
            },
            customer,
        ))
        .await
        .expect("pay at the counter");
    step(app, "confirm", o, staff).await.expect("confirm");
}

pub(crate) fn orders_client(
    channel: Channel,
) -> mm_proto::minimodules::ordering::v1::order_service_client::OrderServiceClient<Channel> {
    mm_proto::minimodules::ordering::v1::order_service_client::OrderServiceClient::new(channel)
}

#[tokio::test]
async fn a_coupon_goes_back_when_an_order_is_called_off_and_is_counted_when_paid() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-lifecycle", 10).await;
    enable_marketing(&app, &s).await;
    // ¥15 or more: a latte (¥18) qualifies, a cake (¥12) does not.
    let t = create_template(&app, &s, threshold(500, 1_500, 10, 1)).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let admin = app.admin_of(s.id);
    let coupon = claim(app.channel.clone(), &t.name, &alice, "alice-life-1")
        .await
        .unwrap();

    // Below the threshold the coupon picked is refused, and nothing is held.
    assert_status(
        create_with_coupon(&app, &s, &alice, vec![line(&s.cake, 0, 1)], &coupon.name, 0).await,
        Code::FailedPrecondition,
        Some("COUPON_UNAVAILABLE"),
    );
    assert_eq!(
        state(&my_coupons(&app, &alice, &s).await[0]),
        mpb::CouponState::Available
    );

    // Another customer cannot spend it, even knowing its name.
    let bob = app.token(Role::Customer, Some(s.id), &[]);
    assert_status(
        create_with_coupon(&app, &s, &bob, vec![line(&s.latte, 0, 1)], &coupon.name, 0).await,
        Code::FailedPrecondition,
        Some("COUPON_UNAVAILABLE"),
    );

    // Cancelled before payment: the coupon is available again.
    let o = create_with_coupon(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 1)],
        &coupon.name,
        0,
    )
    .await
    .unwrap();
    assert_eq!(o.amounts.as_ref().unwrap().discount_fen, 500);
    assert_eq!(
        state(&my_coupons(&app, &alice, &s).await[0]),
        mpb::CouponState::Locked
    );
    step(&app, "cancel", &o, &alice).await.unwrap();
    assert_eq!(
        state(&my_coupons(&app, &alice, &s).await[0]),
        mpb::CouponState::Available
    );

    // Paid: used, and counted with the order's total.
    let o = create_with_coupon(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 1)],
        &coupon.name,
        1_400,
    )
    .await
    .unwrap();
    paid_at_counter(&app, &o, &alice, &admin).await;
    let held = my_coupons(&app, &alice, &s).await;
    assert_eq!(state(&held[0]), mpb::CouponState::Used);
    let usage = get_template(&app, &s, &t.name).await;
    assert_eq!((usage.used_count, usage.used_order_total_fen), (1, 1_400));
    // A used coupon takes nothing off the next order.
    assert_status(
        create_with_coupon(
            &app,
            &s,
            &alice,
            vec![line(&s.latte, 0, 1)],
            &coupon.name,
            0,
        )
        .await,
        Code::FailedPrecondition,
        Some("COUPON_UNAVAILABLE"),
    );

    // Refunded: back to the customer and out of the usage.
    step(&app, "refund", &o, &admin).await.unwrap();
    let held = my_coupons(&app, &alice, &s).await;
    assert_eq!(state(&held[0]), mpb::CouponState::Available);
    let usage = get_template(&app, &s, &t.name).await;
    assert_eq!((usage.used_count, usage.used_order_total_fen), (0, 0));
}

#[tokio::test]
async fn the_quote_offers_the_best_coupon_and_the_expected_total_includes_it() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-best", 10).await;
    enable_marketing(&app, &s).await;
    let small = create_template(&app, &s, threshold(300, 1_000, 10, 1)).await;
    let percent = create_template(
        &app,
        &s,
        mpb::CouponTemplate {
            title_zh: "全场8折".into(),
            kind: mpb::CouponKind::PercentOff as i32,
            percent_off: 20,
            cap_fen: 1_000,
            valid_days: 3,
            total_quantity: 10,
            per_customer_limit: 1,
            claimable: true,
            ..Default::default()
        },
    )
    .await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    for (t, key) in [(&small, "best-small-1"), (&percent, "best-percent-1")] {
        claim(app.channel.clone(), &t.name, &alice, key)
            .await
            .unwrap();
    }
    // Two lattes (¥36) and a cake (¥12): 20 % is ¥9.60, more than ¥3 off.
    let items = vec![line(&s.latte, 0, 2), line(&s.cake, 0, 1)];
    let quote = |coupon: &str, no_coupon: bool| {
        let mut client = orders(&app);
        let req = with_token(
            pb::QuoteOrderRequest {
                parent: s.t.name.clone(),
                items: items.clone(),
                fulfilment: crate::ordering::takeaway(),
                coupon: coupon.into(),
                no_coupon,
                use_points: false,
            },
            &alice,
        );
        async move { client.quote_order(req).await }
    };
    let q = quote("", false).await.unwrap().into_inner().quote.unwrap();
    assert_eq!(q.discounts.len(), 1, "{q:?}");
    assert_eq!(q.discounts[0].amount_fen, 960);
    assert_eq!(q.discounts[0].label_zh, "全场8折");
    assert_eq!(q.coupons.len(), 2);
    let amounts = q.amounts.unwrap();
    assert_eq!(
        (amounts.discount_fen, amounts.total_fen),
        (960, 4_800 - 960 + 100)
    );
    // The customer may pick the smaller one, or none.
    let small_coupon = q
        .coupons
        .iter()
        .find(|c| c.amount_fen == 300)
        .expect("the ¥3 coupon is offered")
        .coupon
        .clone();
    let picked = quote(&small_coupon, false)
        .await
        .unwrap()
        .into_inner()
        .quote
        .unwrap();
    assert_eq!(picked.amounts.unwrap().discount_fen, 300);
    let none = quote("", true).await.unwrap().into_inner().quote.unwrap();
    assert_eq!(none.amounts.unwrap().discount_fen, 0);

    // The order takes what the quote showed; a total that left the discount out is refused
    // and holds nothing.
    assert_status(
        create_with_coupon(&app, &s, &alice, items.clone(), "", 4_800 + 100).await,
        Code::Aborted,
        Some("PRICE_CHANGED"),
    );
    let held = my_coupons(&app, &alice, &s).await;
    assert!(
        held.iter().all(|c| state(c) == mpb::CouponState::Available),
        "a refused order left a coupon locked: {held:?}"
    );
    let o = create_with_coupon(&app, &s, &alice, items, "", amounts.total_fen)
        .await
        .unwrap();
    assert_eq!(o.amounts.unwrap().discount_fen, 960);
    assert_eq!(o.discounts[0].label_zh, "全场8折");
}

#[tokio::test]
async fn a_shop_without_marketing_orders_exactly_as_before_and_gets_no_coupons() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-off", 10).await;
    // The restaurant template switches marketing on; this shop switched it off.
    app.tenants()
        .disable_module(with_token(
            tpb::DisableModuleRequest {
                name: format!("{}/modules/marketing", s.t.name),
            },
            &app.admin_of(s.id),
        ))
        .await
        .expect("disable marketing");
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let q = orders(&app)
        .quote_order(with_token(
            pb::QuoteOrderRequest {
                parent: s.t.name.clone(),
                items: vec![line(&s.latte, 0, 1)],
                fulfilment: crate::ordering::takeaway(),
                ..Default::default()
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .quote
        .unwrap();
    assert!(q.discounts.is_empty() && q.coupons.is_empty());
    assert_eq!(q.amounts.unwrap().total_fen, 1_800 + 100);
    let o = place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 0, 1)],
        "mk-off-order-1",
    )
    .await
    .unwrap();
    assert_eq!(o.amounts.unwrap().discount_fen, 0);
    assert_status(
        coupons(&app)
            .list_coupons(with_token(
                mpb::ListCouponsRequest {
                    parent: s.t.name.clone(),
                    ..Default::default()
                },
                &alice,
            ))
            .await,
        Code::FailedPrecondition,
        Some("MODULE_DISABLED"),
    );
}

#[tokio::test]
async fn a_new_member_gets_the_welcome_coupon_once_and_staff_can_issue_more() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-welcome", 10).await;
    enable_marketing(&app, &s).await;
    let welcome = create_template(
        &app,
        &s,
        mpb::CouponTemplate {
            claimable: false,
            ..threshold(500, 2_000, 100, 1)
        },
    )
    .await;
    let id = welcome.name.rsplit('/').next().unwrap().to_string();
    app.tenants()
        .update_module_config(with_token(
            tpb::UpdateModuleConfigRequest {
                config: Some(tpb::ModuleConfig {
                    name: format!("{}/modules/marketing/config", s.t.name),
                    config: Some(mm_kernel::json::json_to_struct(
                        &serde_json::json!({"welcome_coupon_template": id}),
                    )),
                    ..Default::default()
                }),
            },
            &app.admin_of(s.id),
        ))
        .await
        .expect("marketing config");
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    for _ in 0..2 {
        let held = my_coupons(&app, &alice, &s).await;
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(
            mpb::CouponSource::try_from(held[0].source).unwrap(),
            mpb::CouponSource::Welcome
        );
    }
    // Not claimable: only staff hand it out, beyond the per-customer limit.
    assert_status(
        claim(
            app.channel.clone(),
            &welcome.name,
            &alice,
            "alice-claim-welcome",
        )
        .await,
        Code::FailedPrecondition,
        Some("COUPON_NOT_CLAIMABLE"),
    );
    let alice_name = held_customer(&my_coupons(&app, &alice, &s).await[0]);
    let staff = app.token(Role::Staff, Some(s.id), &["marketing.coupons.issue"]);
    let issued = coupons(&app)
        .issue_coupon(with_token(
            mpb::IssueCouponRequest {
                template: welcome.name.clone(),
                customer: alice_name.clone(),
                request_id: "issue-alice-0001".into(),
            },
            &staff,
        ))
        .await
        .expect("issue")
        .into_inner()
        .coupon
        .unwrap();
    assert_eq!(
        mpb::CouponSource::try_from(issued.source).unwrap(),
        mpb::CouponSource::Issued
    );
    assert_eq!(my_coupons(&app, &alice, &s).await.len(), 2);
    // Staff without the permission cannot.
    let clerk = app.token(Role::Staff, Some(s.id), &[]);
    assert_status(
        coupons(&app)
            .issue_coupon(with_token(
                mpb::IssueCouponRequest {
                    template: welcome.name.clone(),
                    customer: alice_name,
                    request_id: "issue-alice-0002".into(),
                },
                &clerk,
            ))
            .await,
        Code::PermissionDenied,
        None,
    );
}

fn held_customer(c: &mpb::Coupon) -> String {
    c.customer.clone()
}

#[tokio::test]
async fn the_mini_program_claims_in_the_coupon_centre_and_picks_a_coupon_at_checkout() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-bff", 10).await;
    enable_marketing(&app, &s).await;
    let t = create_template(&app, &s, threshold(500, 1_000, 10, 1)).await;
    let token = crate::helpers::customer_token(&app, &s.t, "mk-bff-openid").await;
    let auth = format!("Bearer {token}");
    let headers = [
        ("authorization", auth.as_str()),
        ("x-wechat-appid", s.t.wechat_appid.as_str()),
    ];
    let centre = app
        .get_json("/api/v1/marketing/coupon-templates", &headers)
        .await;
    assert_eq!(centre.0, 200, "{centre:?}");
    let listed = centre.2["templates"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["title_zh"], "满10减5");
    assert_eq!(listed[0]["remaining"], 10);
    let id = t.name.rsplit('/').next().unwrap();

    let path = format!("/api/v1/marketing/coupon-templates/{id}/claim");
    let (status, body) = http_post(&app, &path, &headers, serde_json::json!({})).await;
    assert_eq!(status, 400, "no Idempotency-Key: {body}");
    assert_eq!(body["code"], "INVALID_ARGUMENT");
    let mut with_key = headers.to_vec();
    with_key.push(("idempotency-key", "bff-claim-0001"));
    let (status, coupon) = http_post(&app, &path, &with_key, serde_json::json!({})).await;
    assert_eq!(status, 201, "{coupon}");
    assert_eq!(coupon["state"], "available");
    with_key.pop();
    with_key.push(("idempotency-key", "bff-claim-0002"));
    let (status, body) = http_post(&app, &path, &with_key, serde_json::json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "COUPON_LIMIT_REACHED", "{body}");

    let mine = app
        .get_json("/api/v1/marketing/coupons?state=available", &headers)
        .await;
    assert_eq!(mine.2["coupons"].as_array().unwrap().len(), 1, "{mine:?}");
    let bad_state = app
        .get_json("/api/v1/marketing/coupons?state=lost", &headers)
        .await;
    assert_eq!(bad_state.0, 400, "{bad_state:?}");

    let product = s.latte.name.rsplit('/').next().unwrap();
    let basket = serde_json::json!({
        "items": [{"product_id": product, "sku_id": s.latte.skus[0].id, "quantity": 1}],
        "fulfilment": {"mode": "takeaway"},
        "coupon_id": coupon["id"],
    });
    let (status, quote) = http_post(&app, "/api/v1/orders/quote", &headers, basket.clone()).await;
    assert_eq!(status, 200, "{quote}");
    assert_eq!(quote["amounts"]["discount_fen"], 500, "{quote}");
    assert_eq!(quote["discounts"][0]["coupon_id"], coupon["id"]);
    assert_eq!(quote["coupons"][0]["amount_fen"], 500);
    let mut order_headers = headers.to_vec();
    order_headers.push(("idempotency-key", "bff-order-0001"));
    let mut body = basket;
    body["expected_total_fen"] = quote["amounts"]["total_fen"].clone();
    let (status, order) = http_post(&app, "/api/v1/orders", &order_headers, body).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["amounts"]["discount_fen"], 500);
    assert_eq!(order["discounts"][0]["label_zh"], "满10减5");
}

pub(crate) async fn member(app: &TestApp, s: &Shop, token: &str) -> mpb::Member {
    MemberServiceClient::new(app.channel.clone())
        .get_member(with_token(
            mpb::GetMemberRequest {
                name: format!("{}/members/me", s.t.name),
            },
            token,
        ))
        .await
        .expect("get member")
        .into_inner()
        .member
        .unwrap()
}

#[tokio::test]
async fn paid_orders_earn_points_once_refunds_take_them_back_and_levels_discount() {
    let app = spawn_app().await;
    let s = open_shop(&app, "mk-points", 10).await;
    app.tenants()
        .update_module_config(with_token(
            tpb::UpdateModuleConfigRequest {
                config: Some(tpb::ModuleConfig {
                    name: format!("{}/modules/marketing/config", s.t.name),
                    config: Some(mm_kernel::json::json_to_struct(&serde_json::json!({
                        "points_per_yuan": 2,
                        "levels_by": "spend",
                        "levels": [{"name_zh": "银卡", "threshold": 3_000, "discount_percent": 10}]
                    }))),
                    ..Default::default()
                }),
            },
            &app.admin_of(s.id),
        ))
        .await
        .expect("marketing config");
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let admin = app.admin_of(s.id);
    let fresh = member(&app, &s, &alice).await;
    assert_eq!((fresh.points, fresh.level.is_some()), (0, false));
    assert_eq!(fresh.next_level.unwrap().name_zh, "银卡");

    // A large latte (¥22) and ¥1 packaging, paid at the counter: 23 yuan × 2 points.
    let o = place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 1, 1)],
        "mk-points-order-1",
    )
    .await
    .unwrap();
    assert_eq!(o.amounts.as_ref().unwrap().total_fen, 2_300);
    paid_at_counter(&app, &o, &alice, &admin).await;
    let m = member(&app, &s, &alice).await;
    assert_eq!((m.points, m.lifetime_spend_fen), (46, 2_300));
    // The event again (ordering repeats what it owes until told): nothing is granted twice.
    let service = mm_kernel::auth::service_token(&app.keys, s.id, "ordering").unwrap();
    let customer = m.customer.clone();
    let again = MarketingOrderDiscounts::new(app.channel.clone())
        .on_order_discount_event(with_token(
            pb::OnOrderDiscountEventRequest {
                order: o.name.clone(),
                kind: pb::OrderDiscountEventKind::Paid as i32,
                total_fen: 2_300,
                customer,
            },
            &service,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!again.applied);
    assert_eq!(member(&app, &s, &alice).await.points, 46);

    // Staff take some (audited, with a reason); never below zero.
    let adjust = |delta: i64, key: &str| {
        let mut c = MemberServiceClient::new(app.channel.clone());
        let req = with_token(
            mpb::AdjustPointsRequest {
                member: m.name.clone(),
                delta,
                reason: "兑换礼品".into(),
                request_id: key.into(),
            },
            &admin,
        );
        async move { c.adjust_points(req).await }
    };
    let after = adjust(-40, "adjust-points-0001")
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.member.unwrap().points, 6);
    // The same request again changes nothing.
    let replay = adjust(-40, "adjust-points-0001")
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay.member.unwrap().points, 6);
    assert_status(
        adjust(-7, "adjust-points-0002").await,
        Code::FailedPrecondition,
        Some("POINTS_INSUFFICIENT"),
    );

    // A second paid order reaches silver: its level discounts the order after it.
    let o2 = place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 1, 1)],
        "mk-points-order-2",
    )
    .await
    .unwrap();
    paid_at_counter(&app, &o2, &alice, &admin).await;
    let silver = member(&app, &s, &alice).await;
    assert_eq!(
        silver.level.as_ref().map(|l| l.name_zh.as_str()),
        Some("银卡")
    );
    assert_eq!(silver.points, 6 + 46);
    let o3 = place(
        &app,
        &s,
        &alice,
        vec![line(&s.latte, 1, 1)],
        "mk-points-order-3",
    )
    .await
    .unwrap();
    let a = o3.amounts.unwrap();
    assert_eq!((a.discount_fen, a.total_fen), (220, 2_200 - 220 + 100));
    assert_eq!(o3.discounts[0].kind, "MEMBER_LEVEL");

    // Refunding the second order takes back what it earned and its spend.
    step(&app, "refund", &o2, &admin).await.unwrap();
    let back = member(&app, &s, &alice).await;
    assert_eq!((back.points, back.lifetime_spend_fen), (6, 2_300));
    let entries = MemberServiceClient::new(app.channel.clone())
        .list_points_entries(with_token(
            mpb::ListPointsEntriesRequest {
                parent: back.name.clone(),
                ..Default::default()
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["ORDER_REFUNDED", "ORDER_PAID", "ADJUSTED", "ORDER_PAID"],
        "{entries:?}"
    );
    // The ledger adds up: every balance is the one before plus its change.
    let mut balance = 0;
    for e in entries.iter().rev() {
        balance += e.delta;
        assert_eq!(e.balance_after, balance, "{e:?}");
    }
    // The mini-program's member card says the same.
    let auth = format!("Bearer {alice}");
    let headers = [
        ("authorization", auth.as_str()),
        ("x-wechat-appid", s.t.wechat_appid.as_str()),
    ];
    let (status, _, card) = app.get_json("/api/v1/marketing/member", &headers).await;
    assert_eq!(
        (status, &card["points"]),
        (200, &serde_json::json!(6)),
        "{card}"
    );
    assert_eq!(card["next_level"]["name_zh"], "银卡", "{card}");
    let (status, _, history) = app
        .get_json("/api/v1/marketing/member/points", &headers)
        .await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(
        history["entries"].as_array().map(Vec::len),
        Some(4),
        "{history}"
    );
    assert_eq!(history["entries"][0]["kind"], "ORDER_REFUNDED");

    // Another shop's admin cannot read or adjust this member.
    let other = open_shop(&app, "mk-points-other", 1).await;
    assert_status(
        MemberServiceClient::new(app.channel.clone())
            .get_member(with_token(
                mpb::GetMemberRequest {
                    name: back.name.clone(),
                },
                &app.admin_of(other.id),
            ))
            .await,
        Code::PermissionDenied,
        None,
    );
}
