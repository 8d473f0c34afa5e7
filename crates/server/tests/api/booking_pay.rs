//! Booking deposits through WeChat Pay and reminders through WeChat subscribe messages, against
//! the local fake that speaks both protocols: paying confirms the hold (once, however often the
//! notification comes), cancelling refunds, a payment after the hold ended is refunded at once,
//! and a reminder goes out exactly once, after a WeChat hiccup too, and never for a cancelled
//! booking or a customer who did not agree.

use std::time::Duration;

use chrono::Utc;
use mm_kernel::clock::Clock;
use mm_proto::minimodules::booking::v1 as pb;
use mm_testkit::{Storage, TestApp, spawn_app, spawn_with, spawn_with_clock, with_token};
use tonic::Code;

use crate::booking::{
    Salon, booking, get, grid_after, hold, open_salon, set_booking_config, status_of, ts,
};
use crate::helpers::{assert_status, customer_token, register_wechat};
use crate::payments::{fake, notify, set_merchant};

/// A salon (see `open_salon`) whose customers log in with WeChat.
pub(crate) async fn wechat_salon(app: &TestApp, slug: &str, capacity: i32) -> Salon {
    let s = open_salon(app, slug, capacity).await;
    register_wechat(app, &s.t).await;
    s
}

/// The salon's service now asks a deposit of ¥30.
pub(crate) async fn ask_deposit(app: &TestApp, s: &Salon) {
    booking(app)
        .update_service(with_token(
            pb::UpdateServiceRequest {
                service: Some(pb::Service {
                    deposit_fen: 3000,
                    ..s.service.clone()
                }),
            },
            &s.staff_token,
        ))
        .await
        .expect("deposit set");
}

pub(crate) fn trade_no(r: &pb::Reservation) -> String {
    r.name.rsplit('/').next().unwrap().replace('-', "")
}

fn deposit_of(r: &pb::Reservation) -> pb::DepositStatus {
    pb::DepositStatus::try_from(r.deposit_status).unwrap()
}

async fn pay(
    app: &TestApp,
    r: &pb::Reservation,
    token: &str,
) -> Result<pb::PayDepositResponse, tonic::Status> {
    booking(app)
        .pay_deposit(with_token(
            pb::PayDepositRequest {
                name: r.name.clone(),
            },
            token,
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn wait_deposit(
    app: &TestApp,
    r: &pb::Reservation,
    token: &str,
    want: pb::DepositStatus,
) -> pb::Reservation {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = get(app, &r.name, token).await.unwrap();
        if deposit_of(&now) == want {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deposit never became {want:?}: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn paying_the_deposit_confirms_the_booking_once_and_cancelling_refunds_it() {
    let app = spawn_app().await;
    let s = wechat_salon(&app, "deposit-salon", 1).await;
    ask_deposit(&app, &s).await;
    set_merchant(&app, &s.t, "1900000701").await;
    let alice = customer_token(&app, &s.t, "deposit-openid-1").await;
    let start = grid_after(Utc::now() + chrono::Duration::days(2));

    let held = hold(&app, &s, &alice, start, "deposit-hold-1")
        .await
        .unwrap();
    assert_eq!(held.deposit_fen, 3000);
    assert_eq!(deposit_of(&held), pb::DepositStatus::Unpaid);
    // Confirming without paying is refused with the amount to pay.
    let res = booking(&app)
        .confirm_reservation(with_token(
            pb::ConfirmReservationRequest {
                name: held.name.clone(),
            },
            &alice,
        ))
        .await;
    let st = assert_status(res, Code::FailedPrecondition, Some("DEPOSIT_REQUIRED"));
    assert!(st.message().contains("3000"), "{}", st.message());

    let paying = pay(&app, &held, &alice).await.unwrap();
    let params = paying.wechat_pay.unwrap();
    assert!(params.package.starts_with("prepay_id="), "{params:?}");
    assert_eq!(params.sign_type, "RSA");
    assert_eq!(
        status_of(&paying.reservation.unwrap()),
        pb::ReservationStatus::Held
    );

    // The customer pays in WeChat; WeChat Pay's notification confirms the booking.
    let paid = fake(&app)
        .pay(&trade_no(&held), "1900000701")
        .await
        .unwrap();
    assert_eq!(paid.notify_status, Some(204), "{:?}", paid.notification);
    let confirmed = get(&app, &held.name, &alice).await.unwrap();
    assert_eq!(status_of(&confirmed), pb::ReservationStatus::Confirmed);
    assert_eq!(deposit_of(&confirmed), pb::DepositStatus::Paid);
    assert!(!confirmed.transaction_id.is_empty());

    // A replayed notification is acknowledged and changes nothing.
    let n = &paid.notification;
    let (status, _) = notify(&app, &n.url, &n.headers, &n.body).await;
    assert_eq!(status, 204);
    let again = get(&app, &held.name, &alice).await.unwrap();
    assert_eq!(again.update_time, confirmed.update_time);
    // Nothing is left to pay.
    let res = pay(&app, &held, &alice).await;
    assert_status(res, Code::FailedPrecondition, Some("PAYMENT_UNAVAILABLE"));

    // Cancelling (outside the window) gives the place back and refunds the deposit.
    let cancelled = booking(&app)
        .cancel_reservation(with_token(
            pb::CancelReservationRequest {
                name: held.name.clone(),
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(status_of(&cancelled), pb::ReservationStatus::Cancelled);
    wait_deposit(&app, &held, &alice, pb::DepositStatus::Refunded).await;
    let bob = customer_token(&app, &s.t, "deposit-openid-2").await;
    hold(&app, &s, &bob, start, "deposit-hold-2")
        .await
        .expect("the place is free again");
}

#[tokio::test]
async fn a_deposit_paid_after_the_hold_ended_is_refunded_at_once() {
    let clock = Clock::manual(Utc::now());
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    // The timer never comes round during the test: the sweep runs when the test says.
    settings.jobs.sweep_interval_ms = 3_600_000;
    let app = spawn_with_clock(settings, clock.clone()).await;
    let s = wechat_salon(&app, "late-deposit-salon", 1).await;
    ask_deposit(&app, &s).await;
    set_merchant(&app, &s.t, "1900000702").await;
    let alice = customer_token(&app, &s.t, "late-deposit-openid").await;
    let start = grid_after(clock.now() + chrono::Duration::days(2));
    let held = hold(&app, &s, &alice, start, "late-deposit-1")
        .await
        .unwrap();
    pay(&app, &held, &alice).await.unwrap();
    // Pretend closing at WeChat will fail (no prepay on record), so the customer can still pay
    // after the hold runs out; then it runs out, and the sweep expires it.
    crate::helpers::sql_exec(&app, "UPDATE booking_reservations SET prepay_id = NULL").await;
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(app.app.run_job_now("booking.sweep").await.unwrap(), 1);
    assert_eq!(
        status_of(&get(&app, &held.name, &alice).await.unwrap()),
        pb::ReservationStatus::Expired
    );
    let paid = fake(&app)
        .pay(&trade_no(&held), "1900000702")
        .await
        .unwrap();
    assert_eq!(paid.notify_status, Some(204));
    let r = wait_deposit(&app, &held, &alice, pb::DepositStatus::Refunded).await;
    assert_eq!(
        status_of(&r),
        pb::ReservationStatus::Expired,
        "an ended hold stays ended"
    );
}

#[tokio::test]
async fn deposits_need_a_merchant_account_and_a_wechat_customer() {
    let app = spawn_app().await;
    let s = wechat_salon(&app, "no-merchant-salon", 2).await;
    ask_deposit(&app, &s).await;
    let alice = customer_token(&app, &s.t, "no-merchant-openid").await;
    let start = grid_after(Utc::now() + chrono::Duration::days(2));
    let held = hold(&app, &s, &alice, start, "no-merchant-1")
        .await
        .unwrap();
    let res = pay(&app, &held, &alice).await;
    assert_status(res, Code::FailedPrecondition, Some("PAYMENT_UNAVAILABLE"));
    // Staff can still confirm (the deposit taken at the counter).
    let confirmed = booking(&app)
        .confirm_reservation(with_token(
            pb::ConfirmReservationRequest {
                name: held.name.clone(),
            },
            &s.staff_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(status_of(&confirmed), pb::ReservationStatus::Confirmed);
    // Another tenant's customer cannot pay (or see) it.
    let other = wechat_salon(&app, "other-deposit-salon", 1).await;
    let mallory = customer_token(&app, &other.t, "mallory-openid").await;
    let res = pay(&app, &held, &mallory).await;
    assert_status(res, Code::PermissionDenied, None);
}

const TEMPLATE: &str = "tmpl-booking-reminder";

/// A salon with reminders on (sent up to two days ahead, so a booking tomorrow is due at once),
/// its template known to WeChat.
async fn reminding_salon(app: &TestApp, slug: &str) -> Salon {
    let s = wechat_salon(app, slug, 3).await;
    set_booking_config(
        app,
        &s.t,
        serde_json::json!({
            "lead_time_minutes": 60,
            "reminder_template_id": TEMPLATE,
            "reminder_minutes_before": 2880
        }),
    )
    .await;
    fake(app).register_template(&s.t.wechat_appid, TEMPLATE, &["thing1", "time2", "thing3"]);
    s
}

async fn book_confirmed(
    app: &TestApp,
    s: &Salon,
    token: &str,
    start: chrono::DateTime<Utc>,
    key: &str,
    remind: bool,
) -> pb::Reservation {
    let held = booking(app)
        .hold_reservation(with_token(
            pb::HoldReservationRequest {
                parent: s.t.name.clone(),
                service: s.service.name.clone(),
                staff: s.stylist.name.clone(),
                start_time: ts(start),
                request_id: key.into(),
                note: String::new(),
                remind,
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(held.remind, remind);
    booking(app)
        .confirm_reservation(with_token(
            pb::ConfirmReservationRequest { name: held.name },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap()
}

async fn outbox_rows(app: &TestApp) -> Vec<(String, String, i32)> {
    crate::helpers::sql_rows(
        app,
        "SELECT reservation_id, status, attempts FROM booking_outbox ORDER BY created_at",
    )
    .await
    .iter()
    .map(|r| {
        (
            r.try_get::<String>("", "reservation_id").unwrap(),
            r.try_get::<String>("", "status").unwrap(),
            r.try_get::<i32>("", "attempts").unwrap(),
        )
    })
    .collect()
}

/// The status and attempts of a reservation's reminder.
async fn outbox_of(app: &TestApp, id: &str) -> (String, i32) {
    let rows = outbox_rows(app).await;
    rows.iter()
        .find(|(r, _, _)| r == id)
        .map(|(_, s, a)| (s.clone(), *a))
        .unwrap_or_else(|| panic!("no reminder for {id}: {rows:?}"))
}

fn id_of(r: &pb::Reservation) -> String {
    r.name.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn a_reminder_is_sent_once_after_a_hiccup_and_never_without_consent_or_for_a_cancelled_booking()
 {
    let clock = Clock::manual(Utc::now());
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    // The timer never comes round during the test: the sender runs when the test says.
    settings.jobs.sweep_interval_ms = 3_600_000;
    settings.jobs.retry_base_ms = 200;
    let app = spawn_with_clock(settings, clock.clone()).await;
    let s = reminding_salon(&app, "reminder-salon").await;
    let appid = s.t.wechat_appid.clone();
    let start = grid_after(clock.now() + chrono::Duration::hours(20));
    let pass = || app.app.run_job_now("booking.sweep");

    // Alice agreed in the consent sheet; WeChat is busy on the first try.
    fake(&app).grant_subscription(&appid, "remind-alice", TEMPLATE);
    fake(&app).fail_next_sends(&[-1]);
    let alice = customer_token(&app, &s.t, "remind-alice").await;
    let a = book_confirmed(&app, &s, &alice, start, "remind-a-0001", true).await;
    assert_eq!(pass().await.unwrap(), 0, "the first try fails");
    assert_eq!(outbox_of(&app, &id_of(&a)).await, ("pending".into(), 1));
    assert_eq!(pass().await.unwrap(), 0, "not again before its back-off");
    clock.advance(chrono::Duration::minutes(1));
    assert_eq!(pass().await.unwrap(), 1);
    assert_eq!(
        outbox_of(&app, &id_of(&a)).await,
        ("sent".into(), 2),
        "one failure, then sent"
    );
    let sent = fake(&app).sent_messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(
        (m.touser.as_str(), m.template_id.as_str()),
        ("remind-alice", TEMPLATE)
    );
    assert_eq!(m.data["thing1"], "剪发");
    assert_eq!(m.data["thing3"], "Tony");
    let local = start
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert_eq!(m.data["time2"], local);
    assert!(
        m.page
            .starts_with("packages/booking/pages/bookings/index?id="),
        "{}",
        m.page
    );

    // Bob agreed too, but cancels before it goes out: his reminder is withdrawn in the cancel's
    // transaction. (Due in a day: reminders two hours ahead for him.)
    set_booking_config(
        &app,
        &s.t,
        serde_json::json!({"lead_time_minutes": 60, "reminder_template_id": TEMPLATE, "reminder_minutes_before": 120}),
    )
    .await;
    fake(&app).grant_subscription(&appid, "remind-bob", TEMPLATE);
    let bob = customer_token(&app, &s.t, "remind-bob").await;
    let b = book_confirmed(&app, &s, &bob, start, "remind-b-0001", true).await;
    assert_eq!(outbox_of(&app, &id_of(&b)).await.0, "pending");
    booking(&app)
        .cancel_reservation(with_token(
            pb::CancelReservationRequest {
                name: b.name.clone(),
            },
            &bob,
        ))
        .await
        .unwrap();
    assert_eq!(outbox_of(&app, &id_of(&b)).await.0, "cancelled");

    // Carol did not agree: no row at all. Dave "agreed" in the app but WeChat has no consent on
    // record (43101): given up at once, not retried.
    let carol = customer_token(&app, &s.t, "remind-carol").await;
    let c = book_confirmed(&app, &s, &carol, start, "remind-c-0001", false).await;
    set_booking_config(
        &app,
        &s.t,
        serde_json::json!({"lead_time_minutes": 60, "reminder_template_id": TEMPLATE, "reminder_minutes_before": 2880}),
    )
    .await;
    let dave = customer_token(&app, &s.t, "remind-dave").await;
    let d = book_confirmed(
        &app,
        &s,
        &dave,
        start + chrono::Duration::minutes(30),
        "remind-d-0001",
        true,
    )
    .await;
    assert_eq!(pass().await.unwrap(), 0);
    assert_eq!(outbox_of(&app, &id_of(&d)).await, ("failed".into(), 1));

    // Time passes, up to every start: nothing more is sent, to anyone.
    clock.advance(chrono::Duration::hours(21));
    assert_eq!(pass().await.unwrap(), 0);
    assert_eq!(fake(&app).sent_messages().len(), 1);
    let rows = outbox_rows(&app).await;
    assert!(rows.iter().all(|(r, _, _)| *r != id_of(&c)), "{rows:?}");
    assert_eq!(rows.len(), 3, "{rows:?}");
}

#[tokio::test]
async fn moving_a_booking_moves_its_reminder() {
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    // No sender during this test: only the outbox rows are looked at.
    settings.jobs.sweep_interval_ms = 3_600_000;
    let app = spawn_with(settings).await;
    let s = reminding_salon(&app, "moving-reminder-salon").await;
    set_booking_config(
        &app,
        &s.t,
        serde_json::json!({"lead_time_minutes": 60, "reminder_template_id": TEMPLATE, "reminder_minutes_before": 60}),
    )
    .await;
    let alice = customer_token(&app, &s.t, "moving-alice").await;
    let start = grid_after(Utc::now() + chrono::Duration::days(3));
    let a = book_confirmed(&app, &s, &alice, start, "moving-a-0001", true).await;
    let later = start + chrono::Duration::hours(2);
    booking(&app)
        .reschedule_reservation(with_token(
            pb::RescheduleReservationRequest {
                name: a.name.clone(),
                start_time: ts(later),
                staff: String::new(),
            },
            &alice,
        ))
        .await
        .unwrap();
    let due: Vec<chrono::DateTime<Utc>> =
        crate::helpers::sql_rows(&app, "SELECT due_at FROM booking_outbox")
            .await
            .iter()
            .map(|r| r.try_get::<chrono::DateTime<Utc>>("", "due_at").unwrap())
            .collect();
    assert_eq!(due, vec![later - chrono::Duration::hours(1)]);
}

#[tokio::test]
async fn the_mini_program_pays_a_deposit_through_the_bff() {
    let app = spawn_app().await;
    let s = wechat_salon(&app, "bff-deposit-salon", 1).await;
    ask_deposit(&app, &s).await;
    set_merchant(&app, &s.t, "1900000703").await;
    let alice = customer_token(&app, &s.t, "bff-deposit-openid").await;
    let bearer = format!("Bearer {alice}");
    let h = [
        ("x-wechat-appid", s.t.wechat_appid.as_str()),
        ("authorization", bearer.as_str()),
        ("idempotency-key", "bff-deposit-0001"),
    ];
    let start = grid_after(Utc::now() + chrono::Duration::days(2));
    let body = serde_json::json!({
        "service_id": s.service.name.rsplit('/').next().unwrap(),
        "staff_id": s.stylist.name.rsplit('/').next().unwrap(),
        "start_time": start.to_rfc3339(),
        "remind": true,
    });
    let (status, held) =
        crate::helpers::http_post(&app, "/api/v1/booking/reservations", &h, body).await;
    assert_eq!(status, 201, "{held}");
    assert_eq!(held["deposit_status"], "unpaid");
    assert_eq!(held["remind"], true);
    let id = held["id"].as_str().unwrap().to_string();

    let (status, paying) = crate::helpers::http_post(
        &app,
        &format!("/api/v1/booking/reservations/{id}/deposit"),
        &h,
        serde_json::Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{paying}");
    assert!(
        paying["wechat_pay"]["package"]
            .as_str()
            .unwrap()
            .starts_with("prepay_id=")
    );
    for k in ["timeStamp", "nonceStr", "signType", "paySign"] {
        assert!(paying["wechat_pay"][k].is_string(), "{k} in {paying}");
    }

    // wx.requestPayment succeeded; WeChat's notification is late (the shop's key is mid-rotation,
    // so it is refused), and the mini-program asks for the payment to be checked.
    crate::helpers::sql_exec(
        &app,
        "UPDATE tenant_payment_accounts SET platform_key_id = 'ROTATING'",
    )
    .await;
    let paid = fake(&app)
        .pay(&id.replace('-', ""), "1900000703")
        .await
        .unwrap();
    assert_eq!(paid.notify_status, Some(401));
    crate::helpers::sql_exec(
        &app,
        &format!(
            "UPDATE tenant_payment_accounts SET platform_key_id = '{}'",
            mm_wechat_fake::PLATFORM_PUBLIC_KEY_ID
        ),
    )
    .await;
    let (status, refreshed) = crate::helpers::http_post(
        &app,
        &format!("/api/v1/booking/reservations/{id}/deposit/refresh"),
        &h,
        serde_json::Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["status"], "confirmed");
    assert_eq!(refreshed["deposit_status"], "paid");
}

#[tokio::test]
async fn dropping_an_unpaid_hold_closes_its_wechat_transaction() {
    let app = spawn_app().await;
    let s = wechat_salon(&app, "drop-hold-salon", 1).await;
    ask_deposit(&app, &s).await;
    set_merchant(&app, &s.t, "1900000704").await;
    let alice = customer_token(&app, &s.t, "drop-hold-openid").await;
    let start = grid_after(Utc::now() + chrono::Duration::days(2));
    let held = hold(&app, &s, &alice, start, "drop-hold-1").await.unwrap();
    pay(&app, &held, &alice).await.unwrap();
    booking(&app)
        .cancel_reservation(with_token(
            pb::CancelReservationRequest {
                name: held.name.clone(),
            },
            &alice,
        ))
        .await
        .unwrap();
    let refused = fake(&app).pay(&trade_no(&held), "1900000704").await;
    assert!(
        refused.is_err(),
        "a dropped hold cannot be paid: {refused:?}"
    );
    let r = get(&app, &held.name, &alice).await.unwrap();
    assert_eq!(
        deposit_of(&r),
        pb::DepositStatus::Unpaid,
        "nothing was paid"
    );
}
