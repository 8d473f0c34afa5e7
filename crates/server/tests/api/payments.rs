//! WeChat Pay end to end against the local fake, which signs and encrypts as WeChat Pay does:
//! prepay parameters for wx.requestPayment, the notification that marks an order paid (once,
//! however often it is replayed), forged, tampered and mismatched notifications refused, refunds
//! confirmed by their own notification, a missed notification recovered by query, and a payment
//! for an order that expired meanwhile refunded at once.

use std::time::Duration;

use mm_kernel::Role;
use mm_proto::minimodules::ordering::v1 as pb;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_testkit::{Storage, TestApp, spawn_app, spawn_with, with_token};
use mm_wechat_fake::{FakeWechat, PayOptions};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use tonic::Code;

use crate::helpers::{assert_status, customer_token};
use crate::ordering::{
    Shop, latte_stock, latte_stock_becomes, line, open_shop, orders, place, set_ordering_config,
};

// Test-only merchant keys (the same fixtures mm-wechatpay's tests use).
const MERCHANT_KEY: &str = include_str!("../../../wechatpay/tests/fixtures/test_key_pkcs8.pem");
pub(crate) const MERCHANT_PUBLIC: &str =
    include_str!("../../../wechatpay/tests/fixtures/test_key_public.pem");
const APIV3_KEY: &str = "0123456789abcdef0123456789ABCDEF";
const SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";

pub(crate) fn fake(app: &TestApp) -> &FakeWechat {
    app.app
        .wechat_fake
        .as_ref()
        .expect("dev mode starts the fake")
}

/// Makes `t` a merchant of the fake WeChat Pay with id `mchid`, its account stored as an admin
/// would.
pub(crate) async fn set_merchant(app: &TestApp, t: &tpb::Tenant, mchid: &str) {
    let admin = app.admin_of(mm_testkit::tenant_id(t));
    set_merchant_with(fake(app), &app.channel, t, mchid, &admin).await;
}

/// [`set_merchant`] with any fake and any server.
pub(crate) async fn set_merchant_with(
    fake: &FakeWechat,
    channel: &tonic::transport::Channel,
    t: &tpb::Tenant,
    mchid: &str,
    admin: &str,
) {
    let reg = fake
        .register_merchant(
            mchid,
            SERIAL,
            MERCHANT_PUBLIC,
            APIV3_KEY,
            &[&t.wechat_appid],
        )
        .unwrap();
    let account =
        mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient::new(
            channel.clone(),
        )
        .update_payment_account(with_token(
            tpb::UpdatePaymentAccountRequest {
                payment_account: Some(tpb::PaymentAccount {
                    name: format!("{}/paymentAccount", t.name),
                    mchid: mchid.into(),
                    merchant_serial_no: SERIAL.into(),
                    platform_key_id: reg.platform_public_key_id,
                    platform_public_key_pem: reg.platform_public_key_pem,
                    appid: t.wechat_appid.clone(),
                    ..Default::default()
                }),
                merchant_private_key_pem: MERCHANT_KEY.into(),
                apiv3_key: APIV3_KEY.into(),
            },
            admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .payment_account
        .unwrap();
    assert!(account.secrets_set);
}

/// A shop with a WeChat Pay merchant account the fake knows.
pub(crate) async fn pay_shop(app: &TestApp, slug: &str, mchid: &str) -> Shop {
    let s = open_shop(app, slug, 10).await;
    set_merchant(app, &s.t, mchid).await;
    s
}

/// A WeChat customer's order, with WeChat Pay started: the order and wx.requestPayment's params.
pub(crate) async fn wechat_order(
    app: &TestApp,
    s: &Shop,
    openid: &str,
    key: &str,
) -> (String, pb::Order, pb::WechatPayParams) {
    let token = customer_token(app, &s.t, openid).await;
    let order = place(app, s, &token, vec![line(&s.latte, 0, 2)], key)
        .await
        .unwrap();
    let r = pay_with_wechat(app, &order, &token).await.unwrap();
    (token, r.order.unwrap(), r.wechat_pay.unwrap())
}

async fn pay_with_wechat(
    app: &TestApp,
    order: &pb::Order,
    token: &str,
) -> Result<pb::PayOrderResponse, tonic::Status> {
    orders(app)
        .pay_order(with_token(
            pb::PayOrderRequest {
                name: order.name.clone(),
                method: pb::PaymentMethod::WechatPay as i32,
            },
            token,
        ))
        .await
        .map(tonic::Response::into_inner)
}

pub(crate) fn trade_no(order: &pb::Order) -> String {
    order.name.rsplit('/').next().unwrap().replace('-', "")
}

pub(crate) async fn get(app: &TestApp, order: &pb::Order, token: &str) -> pb::Order {
    orders(app)
        .get_order(with_token(
            pb::GetOrderRequest {
                name: order.name.clone(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap()
}

fn status_of(o: &pb::Order) -> pb::OrderStatus {
    pb::OrderStatus::try_from(o.status).unwrap()
}

/// POSTs a notification as WeChat would, with these headers and body.
pub(crate) async fn notify(
    app: &TestApp,
    url: &str,
    headers: &std::collections::BTreeMap<String, String>,
    body: &str,
) -> (u16, String) {
    let mut req = app.http.post(url).body(body.to_string());
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_customer_pays_with_wechat_and_the_notification_marks_the_order_paid_once() {
    let app = spawn_app().await;
    let s = pay_shop(&app, "pay-shop", "1900000101").await;
    let staff = app.token(Role::Staff, Some(s.id), &["ordering.orders.read"]);
    let (token, order, params) = wechat_order(&app, &s, "payer-openid-1", "pay-order-1").await;

    // What wx.requestPayment gets is signed with the merchant key over WeChat's message format.
    assert_eq!(params.app_id, s.t.wechat_appid);
    assert_eq!(params.sign_type, "RSA");
    assert!(params.package.starts_with("prepay_id="));
    let message = format!(
        "{}\n{}\n{}\n{}\n",
        params.app_id, params.time_stamp, params.nonce_str, params.package
    );
    let key = rsa::RsaPublicKey::from_public_key_pem(MERCHANT_PUBLIC).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
    use base64::Engine as _;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(&params.pay_sign)
        .unwrap();
    verifier
        .verify(
            message.as_bytes(),
            &rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap(),
        )
        .expect("paySign verifies with the merchant's public key");
    assert_eq!(status_of(&order), pb::OrderStatus::PendingPayment);

    // The customer confirms in WeChat: WeChat Pay notifies the shop, which answers 204.
    let paid = fake(&app)
        .pay(&trade_no(&order), "1900000101")
        .await
        .unwrap();
    assert_eq!(paid.notify_status, Some(204), "{:?}", paid.notification);
    let order = get(&app, &order, &token).await;
    assert_eq!(status_of(&order), pb::OrderStatus::Paid);
    assert!(!order.transaction_id.is_empty());
    assert_eq!(order.payment_method, pb::PaymentMethod::WechatPay as i32);

    // WeChat retries notifications: a replay is acknowledged and changes nothing.
    let n = &paid.notification;
    let (status, _) = notify(&app, &n.url, &n.headers, &n.body).await;
    assert_eq!(status, 204);
    let again = get(&app, &order, &staff).await;
    assert_eq!(again.update_time, order.update_time);

    // The admin refunds: WeChat takes the request, then confirms it with a notification.
    let refunding = orders(&app)
        .refund_order(with_token(
            pb::RefundOrderRequest {
                name: order.name.clone(),
                reason: "售罄".into(),
            },
            &app.admin_of(s.id),
        ))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(status_of(&refunding), pb::OrderStatus::Refunding);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let o = get(&app, &order, &staff).await;
        if status_of(&o) == pb::OrderStatus::Refunded {
            assert_eq!(o.refunded_fen, o.amounts.unwrap().total_fen);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "refund never confirmed: {o:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        latte_stock(&app, &s).await,
        8,
        "a refund is not a return to stock"
    );
}

#[tokio::test]
async fn forged_tampered_foreign_and_mismatched_notifications_change_nothing() {
    let app = spawn_app().await;
    let s = pay_shop(&app, "forge-shop", "1900000201").await;
    let other = pay_shop(&app, "forge-other", "1900000202").await;
    let (token, order, _) = wechat_order(&app, &s, "forge-openid", "forge-order-1").await;

    // A correctly signed notification whose amount is not the order's: refused, not paid.
    let wrong = fake(&app)
        .pay_with(
            &trade_no(&order),
            "1900000201",
            PayOptions {
                wrong_amount: true,
                ..PayOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(wrong.notify_status, Some(400));
    assert!(wrong.notification.body.contains("resource"));
    assert_eq!(
        status_of(&get(&app, &order, &token).await),
        pb::OrderStatus::PendingPayment
    );

    // Another shop's genuine notification posted to this shop's URL: it verifies (one platform
    // key signs for every merchant) and even decrypts here (both test shops share an APIv3 key),
    // so it is the merchant id check that must refuse it.
    let (_, other_order, _) = wechat_order(&app, &other, "forge-openid-2", "forge-order-2").await;
    let genuine = fake(&app)
        .pay(&trade_no(&other_order), "1900000202")
        .await
        .unwrap();
    assert_eq!(genuine.notify_status, Some(204));
    let url = genuine
        .notification
        .url
        .replace(&other.id.to_string(), &s.id.to_string());
    let (status, body) = notify(
        &app,
        &url,
        &genuine.notification.headers,
        &genuine.notification.body,
    )
    .await;
    assert!(status >= 400, "{status} {body}");
    assert!(body.contains("FAIL"), "{body}");

    // A tampered body (the amount edited in transit) and a missing signature.
    let mut headers = genuine.notification.headers.clone();
    let tampered = genuine.notification.body.replacen('"', "\"x", 1);
    let (status, _) = notify(&app, &genuine.notification.url, &headers, &tampered).await;
    assert_eq!(status, 401);
    headers.remove("Wechatpay-Signature");
    let (status, _) = notify(
        &app,
        &genuine.notification.url,
        &headers,
        &genuine.notification.body,
    )
    .await;
    assert_eq!(status, 401);
    // A stale one: a captured notification replayed long after WeChat signed it.
    let mut stale = genuine.notification.headers.clone();
    stale.insert("Wechatpay-Timestamp".into(), "1700000000".into());
    let (status, _) = notify(
        &app,
        &genuine.notification.url,
        &stale,
        &genuine.notification.body,
    )
    .await;
    assert_eq!(status, 401);

    assert_eq!(
        status_of(&get(&app, &order, &token).await),
        pb::OrderStatus::PendingPayment
    );
}

#[tokio::test]
async fn a_missed_notification_is_recovered_by_asking_wechat_pay() {
    let app = spawn_app().await;
    let s = pay_shop(&app, "query-shop", "1900000301").await;
    let (token, order, _) = wechat_order(&app, &s, "query-openid", "query-order-1").await;
    // While the shop's stored platform key id is wrong (a key rotation half done), WeChat's
    // notification is refused and the order stays unpaid...
    let set_key_id =
        |id: &str| format!("UPDATE tenant_payment_accounts SET platform_key_id = '{id}'");
    crate::helpers::sql_exec(&app, &set_key_id("PUB_KEY_ID_ROTATED")).await;
    let outcome = fake(&app)
        .pay(&trade_no(&order), "1900000301")
        .await
        .unwrap();
    assert_eq!(outcome.notify_status, Some(401));
    assert_eq!(
        status_of(&get(&app, &order, &token).await),
        pb::OrderStatus::PendingPayment
    );
    // ...until it is put right and the mini-program asks for the payment to be checked.
    crate::helpers::sql_exec(&app, &set_key_id(mm_wechat_fake::PLATFORM_PUBLIC_KEY_ID)).await;
    let refreshed = orders(&app)
        .refresh_payment(with_token(
            pb::RefreshPaymentRequest {
                name: order.name.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(status_of(&refreshed), pb::OrderStatus::Paid);
    // The notification WeChat retries later changes nothing more.
    let n = &outcome.notification;
    let (status, _) = notify(&app, &n.url, &n.headers, &n.body).await;
    assert_eq!(status, 204);
    assert_eq!(
        get(&app, &order, &token).await.update_time,
        refreshed.update_time
    );
}

#[tokio::test]
async fn wechat_pay_needs_a_merchant_account_and_a_wechat_customer() {
    let app = spawn_app().await;
    let s = open_shop(&app, "nopay-shop", 10).await;
    let token = customer_token(&app, &s.t, "nopay-openid").await;
    let order = place(
        &app,
        &s,
        &token,
        vec![line(&s.latte, 0, 1)],
        "nopay-order-1",
    )
    .await
    .unwrap();
    let res = pay_with_wechat(&app, &order, &token).await;
    assert_status(res, Code::FailedPrecondition, Some("PAYMENT_UNAVAILABLE"));

    // A shop that takes only counter payments refuses WeChat Pay even with an account.
    let p = pay_shop(&app, "counter-only", "1900000401").await;
    set_ordering_config(
        &app,
        &p.t,
        serde_json::json!({"payment_methods": ["counter"]}),
    )
    .await;
    let token = customer_token(&app, &p.t, "counter-openid").await;
    let order = place(
        &app,
        &p,
        &token,
        vec![line(&p.latte, 0, 1)],
        "counter-order-1",
    )
    .await
    .unwrap();
    let res = pay_with_wechat(&app, &order, &token).await;
    assert_status(res, Code::FailedPrecondition, Some("PAYMENT_UNAVAILABLE"));

    // Bad keys are refused field by field; the account is admin business only.
    let res = app
        .tenants()
        .update_payment_account(with_token(
            tpb::UpdatePaymentAccountRequest {
                payment_account: Some(tpb::PaymentAccount {
                    name: format!("{}/paymentAccount", s.t.name),
                    mchid: "not-digits".into(),
                    merchant_serial_no: SERIAL.into(),
                    platform_key_id: "PUB_KEY_ID_1".into(),
                    platform_public_key_pem: "garbage".into(),
                    appid: s.t.wechat_appid.clone(),
                    ..Default::default()
                }),
                merchant_private_key_pem: MERCHANT_KEY.into(),
                apiv3_key: APIV3_KEY.into(),
            },
            &app.admin_of(s.id),
        ))
        .await;
    let status = assert_status(res, Code::InvalidArgument, Some("INVALID_ARGUMENT"));
    assert_eq!(
        crate::helpers::violation_fields(&status),
        vec!["payment_account.mchid"]
    );
    let stored = app
        .tenants()
        .get_payment_account(with_token(
            tpb::GetPaymentAccountRequest {
                name: format!("{}/paymentAccount", p.t.name),
            },
            &app.admin_of(p.id),
        ))
        .await
        .unwrap()
        .into_inner()
        .payment_account
        .unwrap();
    assert_eq!(stored.mchid, "1900000401");
    assert!(!format!("{stored:?}").contains("PRIVATE KEY"));
    let raw: Vec<String> = crate::helpers::sql_rows(
        &app,
        "SELECT private_key_enc, apiv3_key_enc FROM tenant_payment_accounts",
    )
    .await
    .iter()
    .map(|r| format!("{r:?}"))
    .collect();
    assert!(!raw.is_empty());
    for row in raw {
        assert!(
            !row.contains("PRIVATE KEY") && !row.contains(APIV3_KEY),
            "{row}"
        );
    }
}

async fn wait_for(
    app: &TestApp,
    order: &pb::Order,
    token: &str,
    want: pb::OrderStatus,
) -> pb::Order {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let o = get(app, order, token).await;
        if status_of(&o) == want {
            return o;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never {want:?}: {o:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn expiry_closes_the_wechat_transaction_and_a_late_payment_is_refunded() {
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    settings.jobs.sweep_interval_ms = 100;
    let app = spawn_with(settings).await;
    let s = pay_shop(&app, "late-shop", "1900000501").await;
    let (token, closed, _) = wechat_order(&app, &s, "late-openid", "late-order-1").await;
    let (_, late, _) = wechat_order(&app, &s, "late-openid", "late-order-2").await;
    // Both run out of time; for the second, pretend closing at WeChat did not happen (no prepay
    // on record), so the customer can still pay it.
    let late_id = late.name.rsplit('/').next().unwrap();
    crate::helpers::sql_exec(
        &app,
        &format!(
            "UPDATE ordering_orders SET expires_at = created_at, \
             prepay_id = CASE WHEN order_id = '{late_id}' THEN NULL ELSE prepay_id END"
        ),
    )
    .await;
    wait_for(&app, &closed, &token, pb::OrderStatus::Cancelled).await;
    wait_for(&app, &late, &token, pb::OrderStatus::Cancelled).await;
    assert_eq!(
        latte_stock_becomes(&app, &s, 10).await,
        10,
        "both orders' stock is back"
    );

    let refused = fake(&app).pay(&trade_no(&closed), "1900000501").await;
    assert!(
        refused.is_err(),
        "a closed transaction cannot be paid: {refused:?}"
    );

    let paid = fake(&app)
        .pay(&trade_no(&late), "1900000501")
        .await
        .unwrap();
    assert_eq!(paid.notify_status, Some(204));
    let refunded = wait_for(&app, &late, &token, pb::OrderStatus::Refunded).await;
    assert_eq!(refunded.refunded_fen, refunded.amounts.unwrap().total_fen);
}

#[tokio::test]
async fn a_customer_pays_through_the_bff() {
    let app = spawn_app().await;
    let s = pay_shop(&app, "bff-pay-shop", "1900000601").await;
    let token = customer_token(&app, &s.t, "bff-payer").await;
    let order = place(&app, &s, &token, vec![line(&s.cake, 0, 1)], "bff-pay-1")
        .await
        .unwrap();
    let id = order.name.rsplit('/').next().unwrap();
    let bearer = format!("Bearer {token}");
    let h = [
        ("x-wechat-appid", s.t.wechat_appid.as_str()),
        ("authorization", bearer.as_str()),
    ];
    let (status, body) = crate::helpers::http_post(
        &app,
        &format!("/api/v1/orders/{id}/pay"),
        &h,
        serde_json::json!({"method": "wechat_pay"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Exactly the keys wx.requestPayment takes.
    let params = body["wechat_pay"].as_object().unwrap();
    let mut keys: Vec<_> = params.keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["nonceStr", "package", "paySign", "signType", "timeStamp"]
    );
    fake(&app)
        .pay(&trade_no(&order), "1900000601")
        .await
        .unwrap();
    let (status, body) = crate::helpers::http_post(
        &app,
        &format!("/api/v1/orders/{id}/payment/refresh"),
        &h,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("paid")),
        "{body}"
    );
}

#[tokio::test]
async fn the_demo_restaurant_takes_wechat_pay_out_of_the_box() {
    let app = spawn_app().await;
    let appid = mm_server::demo::DEMO_APPID;
    let (status, login) = crate::helpers::http_post(
        &app,
        "/api/v1/auth/dev-login",
        &[("x-wechat-appid", appid)],
        serde_json::json!({"openid": "demo-payer"}),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let bearer = format!(
        "Bearer {}",
        login["tokens"]["access_token"].as_str().unwrap()
    );
    let h = [
        ("x-wechat-appid", appid),
        ("authorization", bearer.as_str()),
    ];
    let (_, _, menu) = app.get_json("/api/v1/menu", &h).await;
    let product = &menu["sections"][0]["products"][0];
    let (status, order) = crate::helpers::http_post(
        &app,
        "/api/v1/orders",
        &[h[0], h[1], ("idempotency-key", "demo-pay-0001")],
        serde_json::json!({"items": [{"product_id": product["id"], "sku_id": product["skus"][0]["id"],
            "quantity": 1}], "fulfilment": {"mode": "takeaway"}}),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_str().unwrap();
    let (status, pay) = crate::helpers::http_post(
        &app,
        &format!("/api/v1/orders/{id}/pay"),
        &h,
        serde_json::json!({"method": "wechat_pay"}),
    )
    .await;
    assert_eq!(status, 200, "{pay}");
    let outcome = fake(&app)
        .pay(&id.replace('-', ""), mm_server::demo::DEMO_MCHID)
        .await
        .unwrap();
    assert_eq!(outcome.notify_status, Some(204));
    let (_, _, paid) = app.get_json(&format!("/api/v1/orders/{id}"), &h).await;
    assert_eq!(paid["status"], "paid");
}
