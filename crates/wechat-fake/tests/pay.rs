//! The fake WeChat Pay driven end to end by the mm-wechatpay client over real HTTP. The two sides
//! share no crypto code, so these tests check each against the other's independent reading of
//! WeChat's formats.
//!
//! Keys under tests/fixtures/ were made with `openssl genpkey`; they are test-only keys.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mm_wechat_fake::{FakeWechat, PayOptions};
use mm_wechatpay::{
    Client, Error, JsapiPrepay, MerchantKeys, Notification, NotificationHeaders,
    NotificationResource, RefundRequest, RefundStatus, RequestPaymentParams, TradeState,
    VerifyError, notification_failure_body, parse_notification,
};
use tokio::sync::mpsc;

const MERCHANT_KEY: &str = include_str!("fixtures/merchant_key.pem");
const MERCHANT_PUBLIC: &str = include_str!("fixtures/merchant_public.pem");
const OTHER_KEY: &str = include_str!("fixtures/other_key.pem");
const MCHID: &str = "1900000109";
const SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
const APIV3: &str = "FakeApiV3Key0123456789abcdefABCD";
const APPID: &str = "wxfakeapp0000001";
const OPENID: &str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A fake with one registered merchant, a client pointed at it, and a notify_url receiver.
struct World {
    fake: FakeWechat,
    client: Client,
    keys: MerchantKeys,
    notify_url: String,
    received: mpsc::UnboundedReceiver<Notification>,
}

impl World {
    async fn start() -> Self {
        let fake = FakeWechat::start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let reg = fake
            .register_merchant(MCHID, SERIAL, MERCHANT_PUBLIC, APIV3, &[APPID])
            .unwrap();
        let keys = MerchantKeys::new(
            MCHID,
            SERIAL,
            MERCHANT_KEY,
            APIV3,
            &reg.platform_public_key_id,
            &reg.platform_public_key_pem,
        )
        .unwrap();
        let (notify_url, received) = spawn_receiver(keys.clone()).await;
        let client = Client::new(&fake.base_url).unwrap();
        Self {
            fake,
            client,
            keys,
            notify_url,
            received,
        }
    }

    fn order(&self, out_trade_no: &str, total: i64) -> JsapiPrepay {
        JsapiPrepay {
            appid: APPID.into(),
            description: "Latte x2".into(),
            out_trade_no: out_trade_no.into(),
            time_expire: Some("2099-01-01T00:00:00+08:00".into()),
            notify_url: self.notify_url.clone(),
            amount_total_fen: total,
            payer_openid: OPENID.into(),
            attach: Some("tenant-7".into()),
        }
    }

    async fn paid_order(&mut self, out_trade_no: &str, total: i64) {
        self.client
            .jsapi_prepay(&self.keys, &self.order(out_trade_no, total))
            .await
            .unwrap();
        self.fake.pay(out_trade_no, MCHID).await.unwrap();
        self.next_notification().await;
    }

    async fn next_notification(&mut self) -> Notification {
        tokio::time::timeout(Duration::from_secs(5), self.received.recv())
            .await
            .expect("a notification within 5s")
            .expect("receiver alive")
    }
}

/// A merchant's notify endpoint: verifies and decrypts with mm-wechatpay, answers as WeChat
/// expects (204, or 400 with the FAIL body), and hands verified notifications to the test.
async fn spawn_receiver(keys: MerchantKeys) -> (String, mpsc::UnboundedReceiver<Notification>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route(
            "/pay/notify",
            post(
                |State((keys, tx)): State<(MerchantKeys, mpsc::UnboundedSender<Notification>)>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let parsed = NotificationHeaders::from_header_map(&headers)
                        .map_err(Error::from)
                        .and_then(|h| parse_notification(&keys, &h, &body, now()));
                    match parsed {
                        Ok(n) => {
                            let _ = tx.send(n);
                            (StatusCode::NO_CONTENT, String::new())
                        }
                        Err(e) => (
                            StatusCode::BAD_REQUEST,
                            notification_failure_body(&e.to_string()),
                        ),
                    }
                },
            ),
        )
        .with_state((keys, tx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/pay/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

fn api_code(r: Result<impl std::fmt::Debug, Error>) -> (u16, String) {
    match r {
        Err(Error::Api { status, code, .. }) => (status, code),
        other => panic!("expected a WeChat API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_customer_pays_and_the_merchant_receives_a_verified_notification() {
    let mut w = World::start().await;

    let prepay_id = w
        .client
        .jsapi_prepay(&w.keys, &w.order("order-0001", 2500))
        .await
        .unwrap();
    assert!(prepay_id.starts_with("wx"));
    let params = RequestPaymentParams::new(&w.keys, APPID, &prepay_id, now()).unwrap();
    assert_eq!(params.package, format!("prepay_id={prepay_id}"));

    let before = w
        .client
        .query_by_out_trade_no(&w.keys, "order-0001")
        .await
        .unwrap();
    assert_eq!(before.trade_state, TradeState::NotPay);
    assert_eq!(before.transaction_id, None);

    let outcome = w.fake.pay("order-0001", MCHID).await.unwrap();
    assert_eq!(outcome.notify_status, Some(204));

    let n = w.next_notification().await;
    assert_eq!(n.event_type, "TRANSACTION.SUCCESS");
    let NotificationResource::Transaction(t) = n.resource else {
        panic!("expected a transaction notification");
    };
    assert_eq!(t.trade_state, TradeState::Success);
    assert_eq!(t.out_trade_no, "order-0001");
    assert_eq!(t.amount.total, 2500);
    assert_eq!(t.amount.payer_total, Some(2500));
    assert_eq!(t.attach.as_deref(), Some("tenant-7"));
    assert_eq!(t.payer.as_ref().map(|p| p.openid.as_str()), Some(OPENID));

    let after = w
        .client
        .query_by_out_trade_no(&w.keys, "order-0001")
        .await
        .unwrap();
    assert_eq!(after.trade_state, TradeState::Success);
    assert_eq!(after.transaction_id, t.transaction_id);
    assert!(after.success_time.is_some());

    let sent = w.fake.notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url, w.notify_url);
    assert_eq!(sent[0].status, Some(204));
}

#[tokio::test]
async fn a_recorded_notification_replays_but_not_once_tampered() {
    let w = World::start().await;
    w.client
        .jsapi_prepay(&w.keys, &w.order("order-0002", 100))
        .await
        .unwrap();
    let sent = w.fake.pay("order-0002", MCHID).await.unwrap().notification;
    let h = |k: &str| sent.headers.get(k).cloned().unwrap_or_default();
    let headers = NotificationHeaders {
        timestamp: h("Wechatpay-Timestamp"),
        nonce: h("Wechatpay-Nonce"),
        signature: h("Wechatpay-Signature"),
        serial: h("Wechatpay-Serial"),
    };

    assert!(parse_notification(&w.keys, &headers, sent.body.as_bytes(), now()).is_ok());

    let tampered = sent
        .body
        .replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESX");
    let r = parse_notification(&w.keys, &headers, tampered.as_bytes(), now());
    assert!(matches!(r, Err(Error::Verify(VerifyError::BadSignature))));

    let r = parse_notification(&w.keys, &headers, sent.body.as_bytes(), now() + 600);
    assert!(matches!(
        r,
        Err(Error::Verify(VerifyError::StaleTimestamp { .. }))
    ));
}

#[tokio::test]
async fn a_refund_answers_processing_then_notifies_success() {
    let mut w = World::start().await;
    w.paid_order("order-0003", 1000).await;

    let refund = RefundRequest {
        out_trade_no: "order-0003".into(),
        out_refund_no: "refund-0003-1".into(),
        reason: Some("customer changed mind".into()),
        notify_url: w.notify_url.clone(),
        refund_fen: 300,
        total_fen: 1000,
    };
    let r = w.client.refund(&w.keys, &refund).await.unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    assert_eq!(r.amount.refund, 300);

    let n = w.next_notification().await;
    assert_eq!(n.event_type, "REFUND.SUCCESS");
    let NotificationResource::Refund(notice) = n.resource else {
        panic!("expected a refund notification");
    };
    assert_eq!(notice.refund_status, RefundStatus::Success);
    assert_eq!(notice.out_refund_no, "refund-0003-1");
    assert_eq!(notice.refund_id, r.refund_id);
    assert_eq!((notice.amount.refund, notice.amount.total), (300, 1000));

    // The same refund number with the same parameters is a safe retry, not a second refund.
    let again = w.client.refund(&w.keys, &refund).await.unwrap();
    assert_eq!(again.refund_id, r.refund_id);

    let too_much = RefundRequest {
        out_refund_no: "refund-0003-2".into(),
        refund_fen: 701,
        ..refund.clone()
    };
    assert_eq!(
        api_code(w.client.refund(&w.keys, &too_much).await),
        (403, "NOT_ENOUGH".into())
    );

    let t = w
        .client
        .query_by_out_trade_no(&w.keys, "order-0003")
        .await
        .unwrap();
    assert_eq!(t.trade_state, TradeState::Refund);
    assert_eq!(w.fake.notifications().len(), 2);
}

#[tokio::test]
async fn refunds_of_unpaid_orders_or_with_a_wrong_total_are_refused() {
    let w = World::start().await;
    w.client
        .jsapi_prepay(&w.keys, &w.order("order-0004", 1000))
        .await
        .unwrap();
    let refund = RefundRequest {
        out_trade_no: "order-0004".into(),
        out_refund_no: "refund-0004-1".into(),
        reason: None,
        notify_url: w.notify_url.clone(),
        refund_fen: 100,
        total_fen: 1000,
    };
    assert_eq!(
        api_code(w.client.refund(&w.keys, &refund).await),
        (400, "INVALID_REQUEST".into())
    );

    w.fake.pay("order-0004", MCHID).await.unwrap();
    let wrong_total = RefundRequest {
        total_fen: 999,
        refund_fen: 100,
        ..refund.clone()
    };
    assert_eq!(
        api_code(w.client.refund(&w.keys, &wrong_total).await),
        (400, "PARAM_ERROR".into())
    );

    let unknown = RefundRequest {
        out_trade_no: "order-none".into(),
        ..refund
    };
    assert_eq!(
        api_code(w.client.refund(&w.keys, &unknown).await),
        (404, "ORDER_NOT_EXIST".into())
    );
}

#[tokio::test]
async fn a_request_signed_with_another_key_or_serial_is_refused_with_sign_error() {
    let w = World::start().await;
    let reg_pem = w.fake.platform_public_key_pem();
    let forged = MerchantKeys::new(
        MCHID,
        SERIAL,
        OTHER_KEY,
        APIV3,
        mm_wechat_fake::PLATFORM_PUBLIC_KEY_ID,
        &reg_pem,
    )
    .unwrap();
    let r = w
        .client
        .jsapi_prepay(&forged, &w.order("order-0005", 100))
        .await;
    assert_eq!(api_code(r), (401, "SIGN_ERROR".into()));

    let wrong_serial = MerchantKeys::new(
        MCHID,
        "0000SERIAL",
        MERCHANT_KEY,
        APIV3,
        mm_wechat_fake::PLATFORM_PUBLIC_KEY_ID,
        &reg_pem,
    )
    .unwrap();
    let r = w
        .client
        .query_by_out_trade_no(&wrong_serial, "order-0005")
        .await;
    assert_eq!(api_code(r), (401, "SIGN_ERROR".into()));
}

#[tokio::test]
async fn the_client_refuses_answers_signed_by_a_key_id_it_was_not_given() {
    let w = World::start().await;
    let keys = MerchantKeys::new(
        MCHID,
        SERIAL,
        MERCHANT_KEY,
        APIV3,
        "PUB_KEY_ID_ROTATED",
        &w.fake.platform_public_key_pem(),
    )
    .unwrap();
    let r = w
        .client
        .jsapi_prepay(&keys, &w.order("order-0006", 100))
        .await;
    assert!(
        matches!(r, Err(Error::Verify(VerifyError::UnknownSerial { .. }))),
        "{r:?}"
    );
}

#[tokio::test]
async fn an_order_number_is_idempotent_for_the_same_order_and_refused_for_a_different_one() {
    let w = World::start().await;
    let first = w
        .client
        .jsapi_prepay(&w.keys, &w.order("order-0007", 100))
        .await
        .unwrap();
    let again = w
        .client
        .jsapi_prepay(&w.keys, &w.order("order-0007", 100))
        .await
        .unwrap();
    assert_eq!(first, again);

    let changed = w
        .client
        .jsapi_prepay(&w.keys, &w.order("order-0007", 200))
        .await;
    assert_eq!(api_code(changed), (400, "INVALID_REQUEST".into()));

    let mut foreign = w.order("order-0008", 100);
    foreign.appid = "wxnotbound000001".into();
    assert_eq!(
        api_code(w.client.jsapi_prepay(&w.keys, &foreign).await),
        (400, "APPID_MCHID_NOT_MATCH".into())
    );
}

#[tokio::test]
async fn a_closed_order_cannot_be_paid_and_a_paid_order_cannot_be_closed() {
    let mut w = World::start().await;
    w.client
        .jsapi_prepay(&w.keys, &w.order("order-0009", 100))
        .await
        .unwrap();
    w.client.close(&w.keys, "order-0009").await.unwrap();
    let t = w
        .client
        .query_by_out_trade_no(&w.keys, "order-0009")
        .await
        .unwrap();
    assert_eq!(t.trade_state, TradeState::Closed);
    assert_eq!(
        w.fake.pay("order-0009", MCHID).await.unwrap_err().code,
        "ORDER_CLOSED"
    );

    w.paid_order("order-0010", 100).await;
    assert_eq!(
        api_code(w.client.close(&w.keys, "order-0010").await),
        (400, "ORDERPAID".into())
    );
    assert_eq!(
        api_code(w.client.query_by_out_trade_no(&w.keys, "order-9999").await),
        (404, "ORDER_NOT_EXIST".into())
    );
}

#[tokio::test]
async fn control_routes_work_over_http_including_a_wrong_amount_notification() {
    let mut w = World::start().await;
    let http = reqwest::Client::new();
    let reg: serde_json::Value = http
        .post(format!("{}/__fake/pay/merchants", w.fake.base_url))
        .json(&serde_json::json!({
            "mchid": MCHID, "merchant_serial_no": SERIAL, "merchant_public_key_pem": MERCHANT_PUBLIC,
            "apiv3_key": APIV3, "appids": [APPID],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        reg["platform_public_key_id"],
        mm_wechat_fake::PLATFORM_PUBLIC_KEY_ID
    );

    w.client
        .jsapi_prepay(&w.keys, &w.order("order-0011", 100))
        .await
        .unwrap();
    let paid: serde_json::Value = http
        .post(format!(
            "{}/__fake/pay/transactions/order-0011/pay",
            w.fake.base_url
        ))
        .json(&serde_json::json!({"mchid": MCHID, "wrong_amount": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid["notify_status"], 204);
    assert!(
        paid["notification"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("AEAD_AES_256_GCM"))
    );

    // Correctly signed and encrypted, yet not the order's amount: the merchant must compare.
    let NotificationResource::Transaction(t) = w.next_notification().await.resource else {
        panic!("expected a transaction");
    };
    assert_eq!(t.amount.total, 101);

    let listed: Vec<serde_json::Value> = http
        .get(format!("{}/__fake/pay/notifications", w.fake.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], 204);
}

#[tokio::test]
async fn a_payment_with_a_coupon_notifies_what_the_payer_actually_paid() {
    let mut w = World::start().await;
    w.client
        .jsapi_prepay(&w.keys, &w.order("order-0012", 100))
        .await
        .unwrap();
    let options = PayOptions {
        payer_total: Some(80),
        wrong_amount: false,
        hold_notification: false,
    };
    w.fake.pay_with("order-0012", MCHID, options).await.unwrap();
    let NotificationResource::Transaction(t) = w.next_notification().await.resource else {
        panic!("expected a transaction");
    };
    assert_eq!((t.amount.total, t.amount.payer_total), (100, Some(80)));
}
