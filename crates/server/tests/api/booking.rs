//! The booking module against the real server: capacity held by the database under a thousand
//! concurrent holds, holds that expire and free their place, the customer's policy windows, the
//! lead time and horizon of availability, and tenants kept apart.

use chrono::{DateTime, Utc};
use mm_kernel::clock::Clock;
use mm_kernel::{Role, TenantId};
use mm_proto::minimodules::booking::v1 as pb;
use mm_proto::minimodules::booking::v1::booking_service_client::BookingServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_testkit::{Storage, TestApp, spawn_app, spawn_with_clock, tenant_id, with_token};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::assert_status;

pub(crate) fn booking(app: &TestApp) -> BookingServiceClient<Channel> {
    BookingServiceClient::new(app.channel.clone())
}

/// A salon open around the clock every day, with one stylist and one service of `capacity`
/// places (30 minutes, ¥88); lead time 60 minutes, horizon 14 days, both windows 2 hours.
pub(crate) struct Salon {
    pub(crate) t: tpb::Tenant,
    pub(crate) id: TenantId,
    pub(crate) staff_token: String,
    pub(crate) service: pb::Service,
    pub(crate) stylist: pb::Staff,
}

pub(crate) async fn set_booking_config(app: &TestApp, t: &tpb::Tenant, config: serde_json::Value) {
    let req = tpb::UpdateModuleConfigRequest {
        config: Some(tpb::ModuleConfig {
            name: format!("{}/modules/booking/config", t.name),
            config: Some(mm_kernel::json::json_to_struct(&config)),
            ..Default::default()
        }),
    };
    app.tenants()
        .update_module_config(with_token(req, &app.admin_of(tenant_id(t))))
        .await
        .expect("booking config");
}

pub(crate) fn all_day() -> Vec<pb::WeeklyHours> {
    (1..=7)
        .map(|weekday| pb::WeeklyHours {
            weekday,
            windows: vec![pb::TimeWindow {
                start: "00:00".into(),
                end: "24:00".into(),
            }],
            breaks: vec![],
        })
        .collect()
}

pub(crate) async fn open_salon(app: &TestApp, slug: &str, capacity: i32) -> Salon {
    let t = app.create_tenant(slug, "salon").await;
    let id = tenant_id(&t);
    set_booking_config(
        app,
        &t,
        serde_json::json!({
            "slot_minutes": 30,
            "lead_time_minutes": 60,
            "horizon_days": 14,
            "cancel_window_hours": 2,
            "reschedule_window_hours": 2,
            "hold_minutes": 10
        }),
    )
    .await;
    let staff_token = app.token(
        Role::Staff,
        Some(id),
        &["booking.reservations.manage", "booking.reservations.read"],
    );
    let service = booking(app)
        .create_service(with_token(
            pb::CreateServiceRequest {
                parent: t.name.clone(),
                service: Some(pb::Service {
                    display_name: "剪发".into(),
                    duration_minutes: 30,
                    price_fen: 8800,
                    capacity,
                    active: true,
                    ..Default::default()
                }),
            },
            &staff_token,
        ))
        .await
        .expect("service")
        .into_inner()
        .service
        .unwrap();
    let stylist = booking(app)
        .create_staff(with_token(
            pb::CreateStaffRequest {
                parent: t.name.clone(),
                staff: Some(pb::Staff {
                    display_name: "Tony".into(),
                    kind: pb::StaffKind::Person as i32,
                    services: vec![service.name.clone()],
                    weekly_hours: all_day(),
                    active: true,
                    ..Default::default()
                }),
            },
            &staff_token,
        ))
        .await
        .expect("staff")
        .into_inner()
        .staff
        .unwrap();
    Salon {
        t,
        id,
        staff_token,
        service,
        stylist,
    }
}

/// The first grid line (30 minutes) at or after `t`.
pub(crate) fn grid_after(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    let step = 30 * 60;
    DateTime::from_timestamp((secs + step - 1) / step * step, 0).unwrap()
}

pub(crate) fn ts(t: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(mm_kernel::json::timestamp(t))
}

pub(crate) async fn hold(
    app: &TestApp,
    s: &Salon,
    token: &str,
    start: DateTime<Utc>,
    request_id: &str,
) -> Result<pb::Reservation, tonic::Status> {
    booking(app)
        .hold_reservation(with_token(
            pb::HoldReservationRequest {
                parent: s.t.name.clone(),
                service: s.service.name.clone(),
                staff: s.stylist.name.clone(),
                start_time: ts(start),
                request_id: request_id.into(),
                note: String::new(),
                remind: false,
                ..Default::default()
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().reservation.unwrap())
}

async fn slots(app: &TestApp, s: &Salon, token: &str, from: &str, to: &str) -> Vec<pb::Slot> {
    booking(app)
        .list_available_slots(with_token(
            pb::ListAvailableSlotsRequest {
                parent: s.t.name.clone(),
                service: s.service.name.clone(),
                staff: String::new(),
                start_date: from.into(),
                end_date: to.into(),
            },
            token,
        ))
        .await
        .expect("slots")
        .into_inner()
        .slots
}

pub(crate) async fn get(
    app: &TestApp,
    name: &str,
    token: &str,
) -> Result<pb::Reservation, tonic::Status> {
    booking(app)
        .get_reservation(with_token(
            pb::GetReservationRequest { name: name.into() },
            token,
        ))
        .await
        .map(|r| r.into_inner().reservation.unwrap())
}

pub(crate) fn status_of(r: &pb::Reservation) -> pb::ReservationStatus {
    pb::ReservationStatus::try_from(r.status).unwrap()
}

/// 10:00 in Shanghai on the local date of `t`.
fn local_10am(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::TimeZone as _;
    let off = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let date = t.with_timezone(&off).date_naive();
    off.from_local_datetime(&date.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) fn local_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn a_thousand_customers_racing_for_five_places_get_exactly_five() {
    let app = spawn_app().await;
    let s = open_salon(&app, "race-salon", 5).await;
    let start = grid_after(Utc::now() + chrono::Duration::days(2));
    // Warm the config cache so the race is about the slot, not the tenant service.
    let day = local_date(start);
    assert!(
        slots(&app, &s, &s.staff_token, &day, &day)
            .await
            .iter()
            .any(|x| x.start_time == ts(start) && x.remaining == 5)
    );

    let mut tasks = Vec::new();
    for i in 0..1000 {
        let token = app.token(Role::Customer, Some(s.id), &[]);
        let req = pb::HoldReservationRequest {
            parent: s.t.name.clone(),
            service: s.service.name.clone(),
            staff: s.stylist.name.clone(),
            start_time: ts(start),
            request_id: format!("race-{i:05}"),
            note: String::new(),
            remind: false,
            ..Default::default()
        };
        let channel = app.channel.clone();
        tasks.push(tokio::spawn(async move {
            BookingServiceClient::new(channel)
                .hold_reservation(with_token(req, &token))
                .await
        }));
    }
    let (mut held, mut full) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => held += 1,
            Err(e) if e.code() == Code::FailedPrecondition => full += 1,
            Err(e) => panic!("unexpected failure: {e:?}"),
        }
    }
    assert_eq!((held, full), (5, 995));

    let listed = booking(&app)
        .list_reservations(with_token(
            pb::ListReservationsRequest {
                parent: s.t.name.clone(),
                page_size: 100,
                ..Default::default()
            },
            &s.staff_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservations;
    assert_eq!(listed.len(), 5);
    assert!(
        !slots(&app, &s, &s.staff_token, &day, &day)
            .await
            .iter()
            .any(|x| x.start_time == ts(start)),
        "a full slot is not offered"
    );
}

/// The same hold sent many times at once, amid other customers' holds: the copies may share one
/// grouped transaction (`booking.hold`), where a later copy finds its key taken, and every copy
/// is answered the one reservation made, which took one place.
#[tokio::test]
async fn a_hold_sent_many_times_at_once_is_made_once() {
    let app = std::sync::Arc::new(spawn_app().await);
    let s = std::sync::Arc::new(open_salon(&app, "dup-salon", 20).await);
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let start = grid_after(Utc::now() + chrono::Duration::days(1));
    let mut copies = tokio::task::JoinSet::new();
    let mut others = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (a, salon, token) = (app.clone(), s.clone(), alice.clone());
        copies.spawn(async move { hold(&a, &salon, &token, start, "dup-0001").await });
        if i % 2 == 0 {
            let (a, salon) = (app.clone(), s.clone());
            let bob = app.token(Role::Customer, Some(s.id), &[]);
            others.spawn(
                async move { hold(&a, &salon, &bob, start, &format!("other-{i:04}")).await },
            );
        }
    }
    let names: std::collections::HashSet<String> = copies
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("every copy is answered").name)
        .collect();
    assert_eq!(names.len(), 1, "one reservation for one key: {names:?}");
    for r in others.join_all().await {
        r.expect("the other customers' holds");
    }
    assert_eq!(
        remaining_at(&app, &s, &alice, start).await,
        Some(20 - 1 - 10),
        "alice's copies took one place, the ten others one each"
    );
}

/// The places left at `start`, as a customer sees them.
async fn remaining_at(app: &TestApp, s: &Salon, token: &str, start: DateTime<Utc>) -> Option<i32> {
    let day = local_date(start);
    slots(app, s, token, &day, &day)
        .await
        .iter()
        .find(|x| x.start_time == ts(start))
        .map(|x| x.remaining)
}

#[tokio::test]
async fn a_retried_hold_is_made_once() {
    let app = spawn_app().await;
    let s = open_salon(&app, "retry-salon", 3).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let start = grid_after(Utc::now() + chrono::Duration::days(1));
    let a = hold(&app, &s, &alice, start, "retry-0001").await.unwrap();
    let b = hold(&app, &s, &alice, start, "retry-0001").await.unwrap();
    assert_eq!(a.name, b.name);
    assert_eq!(
        remaining_at(&app, &s, &alice, start).await,
        Some(2),
        "one place taken, not two"
    );
}

#[tokio::test]
async fn an_expired_hold_gives_its_place_back() {
    let clock = Clock::manual(Utc::now());
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    // The timer never comes round during the test: the sweep runs when the test says.
    settings.jobs.sweep_interval_ms = 3_600_000;
    let app = spawn_with_clock(settings, clock.clone()).await;
    let s = open_salon(&app, "expiry-salon", 1).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let bob = app.token(Role::Customer, Some(s.id), &[]);
    let start = grid_after(clock.now() + chrono::Duration::days(1));
    let held = hold(&app, &s, &alice, start, "alice-0001").await.unwrap();
    assert_eq!(status_of(&held), pb::ReservationStatus::Held);
    assert_status(
        hold(&app, &s, &bob, start, "bob-00001").await,
        Code::FailedPrecondition,
        Some("SLOT_FULL"),
    );

    // Within the hold a pass leaves it alone; once the hold has run out, one pass expires it.
    assert_eq!(app.app.run_job_now("booking.sweep").await.unwrap(), 0);
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(app.app.run_job_now("booking.sweep").await.unwrap(), 1);
    let r = get(&app, &held.name, &alice).await.unwrap();
    assert_eq!(status_of(&r), pb::ReservationStatus::Expired);
    assert_status(
        booking(&app)
            .confirm_reservation(with_token(
                pb::ConfirmReservationRequest {
                    name: held.name.clone(),
                },
                &alice,
            ))
            .await,
        Code::FailedPrecondition,
        Some("INVALID_TRANSITION"),
    );
    let bobs = hold(&app, &s, &bob, start, "bob-00002").await.unwrap();
    let confirmed = booking(&app)
        .confirm_reservation(with_token(
            pb::ConfirmReservationRequest { name: bobs.name },
            &bob,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(status_of(&confirmed), pb::ReservationStatus::Confirmed);
    // Long past any hold's deadline, the sweep never touches a confirmed booking, and the
    // place stays taken exactly once.
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(app.app.run_job_now("booking.sweep").await.unwrap(), 0);
    assert_eq!(
        status_of(&get(&app, &confirmed.name, &bob).await.unwrap()),
        pb::ReservationStatus::Confirmed
    );
    assert_status(
        hold(&app, &s, &alice, start, "alice-0002").await,
        Code::FailedPrecondition,
        Some("SLOT_FULL"),
    );
}

#[tokio::test]
async fn customers_cancel_and_move_only_outside_the_windows_staff_any_time() {
    let app = spawn_app().await;
    let s = open_salon(&app, "policy-salon", 1).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let c = booking(&app);

    // Between 61 and 91 minutes ahead: bookable (lead time 60) but inside both 2-hour windows.
    let soon = grid_after(Utc::now() + chrono::Duration::minutes(61));
    let r = hold(&app, &s, &alice, soon, "soon-00001").await.unwrap();
    c.clone()
        .confirm_reservation(with_token(
            pb::ConfirmReservationRequest {
                name: r.name.clone(),
            },
            &alice,
        ))
        .await
        .unwrap();
    assert_status(
        c.clone()
            .cancel_reservation(with_token(
                pb::CancelReservationRequest {
                    name: r.name.clone(),
                },
                &alice,
            ))
            .await,
        Code::FailedPrecondition,
        Some("CANCEL_WINDOW_PASSED"),
    );
    let later = grid_after(Utc::now() + chrono::Duration::days(3));
    assert_status(
        c.clone()
            .reschedule_reservation(with_token(
                pb::RescheduleReservationRequest {
                    name: r.name.clone(),
                    start_time: ts(later),
                    staff: String::new(),
                },
                &alice,
            ))
            .await,
        Code::FailedPrecondition,
        Some("RESCHEDULE_WINDOW_PASSED"),
    );
    // The shop may cancel inside the window; the place comes back.
    let cancelled = c
        .clone()
        .cancel_reservation(with_token(
            pb::CancelReservationRequest {
                name: r.name.clone(),
            },
            &s.staff_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(status_of(&cancelled), pb::ReservationStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, pb::CancelReason::Shop as i32);
    let bob = app.token(Role::Customer, Some(s.id), &[]);
    let r2 = hold(&app, &s, &bob, soon, "bob-soon-1").await.unwrap();

    // Far ahead, the customer may move and cancel; the old place is freed by the move.
    let far = grid_after(Utc::now() + chrono::Duration::days(2));
    let r3 = hold(&app, &s, &alice, far, "far-000001").await.unwrap();
    let moved = c
        .clone()
        .reschedule_reservation(with_token(
            pb::RescheduleReservationRequest {
                name: r3.name.clone(),
                start_time: ts(later),
                staff: String::new(),
            },
            &alice,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(moved.start_time, ts(later));
    hold(&app, &s, &bob, far, "bob-far-01")
        .await
        .expect("the old slot is free again");
    assert_status(
        hold(&app, &s, &bob, later, "bob-later1").await,
        Code::FailedPrecondition,
        Some("SLOT_FULL"),
    );
    // Moving onto a full slot fails and changes nothing.
    let r4 = hold(
        &app,
        &s,
        &alice,
        grid_after(Utc::now() + chrono::Duration::days(4)),
        "alice-d4-1",
    )
    .await
    .unwrap();
    assert_status(
        c.clone()
            .reschedule_reservation(with_token(
                pb::RescheduleReservationRequest {
                    name: r4.name.clone(),
                    start_time: ts(later),
                    staff: String::new(),
                },
                &alice,
            ))
            .await,
        Code::FailedPrecondition,
        Some("SLOT_FULL"),
    );
    assert_eq!(
        get(&app, &r4.name, &alice).await.unwrap().start_time,
        r4.start_time
    );
    // A no-show cannot be recorded before the start; completing needs a confirmed booking.
    c.clone()
        .confirm_reservation(with_token(
            pb::ConfirmReservationRequest {
                name: r2.name.clone(),
            },
            &s.staff_token,
        ))
        .await
        .unwrap();
    assert_status(
        c.clone()
            .mark_no_show(with_token(
                pb::MarkNoShowRequest {
                    name: r2.name.clone(),
                },
                &s.staff_token,
            ))
            .await,
        Code::FailedPrecondition,
        Some("NOT_STARTED_YET"),
    );
    let done = c
        .clone()
        .complete_reservation(with_token(
            pb::CompleteReservationRequest {
                name: r2.name.clone(),
            },
            &s.staff_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(status_of(&done), pb::ReservationStatus::Completed);
}

#[tokio::test]
async fn availability_follows_lead_time_horizon_time_off_and_capacity() {
    let app = spawn_app().await;
    let s = open_salon(&app, "avail-salon", 1).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let now = Utc::now();
    let (from, to) = (
        local_date(now),
        local_date(now + chrono::Duration::days(15)),
    );
    let seen = slots(&app, &s, &alice, &from, &to).await;
    let first = DateTime::from_timestamp(seen[0].start_time.unwrap().seconds, 0).unwrap();
    let last =
        DateTime::from_timestamp(seen.last().unwrap().start_time.unwrap().seconds, 0).unwrap();
    assert!(
        first >= now + chrono::Duration::minutes(60),
        "lead time: {first}"
    );
    assert!(first < now + chrono::Duration::minutes(91), "{first}");
    assert!(last <= now + chrono::Duration::days(14), "horizon: {last}");
    assert!(last > now + chrono::Duration::days(14) - chrono::Duration::minutes(31));
    assert!(seen[0].local_start.starts_with(&local_date(first)));
    // Staff see the slots inside the lead time too.
    let staff_seen = slots(&app, &s, &s.staff_token, &from, &to).await;
    assert!(staff_seen.len() > seen.len());
    // Customers cannot hold inside the lead time or beyond the horizon.
    for t in [
        grid_after(now + chrono::Duration::minutes(1)),
        grid_after(now + chrono::Duration::days(14) + chrono::Duration::minutes(1)),
    ] {
        let st = assert_status(
            hold(&app, &s, &alice, t, &format!("edge-{}", t.timestamp())).await,
            Code::FailedPrecondition,
            Some("SLOT_UNAVAILABLE"),
        );
        assert_eq!(
            crate::helpers::error_metadata(&st, "cause").as_deref(),
            Some("outside_booking_range")
        );
    }
    // A holiday (the whole local day after tomorrow) removes that day.
    let day = now + chrono::Duration::days(2);
    let date = chrono::NaiveDate::parse_from_str(&local_date(day), "%Y-%m-%d").unwrap();
    let off = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    use chrono::TimeZone as _;
    let day_start = off
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    booking(&app)
        .create_time_off(with_token(
            pb::CreateTimeOffRequest {
                parent: s.t.name.clone(),
                time_off: Some(pb::TimeOff {
                    start_time: ts(day_start),
                    end_time: ts(day_start + chrono::Duration::days(1)),
                    reason: "国庆".into(),
                    ..Default::default()
                }),
            },
            &s.staff_token,
        ))
        .await
        .unwrap();
    let d = local_date(day);
    assert!(slots(&app, &s, &alice, &d, &d).await.is_empty());
    let held_on_holiday = assert_status(
        hold(
            &app,
            &s,
            &alice,
            day_start + chrono::Duration::hours(10),
            "holiday-01",
        )
        .await,
        Code::FailedPrecondition,
        Some("SLOT_UNAVAILABLE"),
    );
    assert_eq!(
        crate::helpers::error_metadata(&held_on_holiday, "cause").as_deref(),
        Some("closed")
    );
    // A booked slot of capacity 1 disappears.
    let t = grid_after(now + chrono::Duration::days(3));
    hold(&app, &s, &alice, t, "cap-000001").await.unwrap();
    let d = local_date(t);
    assert!(
        !slots(&app, &s, &alice, &d, &d)
            .await
            .iter()
            .any(|x| x.start_time == ts(t))
    );
    // More than 31 days at once is refused.
    assert_status(
        booking(&app)
            .list_available_slots(with_token(
                pb::ListAvailableSlotsRequest {
                    parent: s.t.name.clone(),
                    service: s.service.name.clone(),
                    staff: String::new(),
                    start_date: from.clone(),
                    end_date: local_date(now + chrono::Duration::days(40)),
                },
                &alice,
            ))
            .await,
        Code::InvalidArgument,
        None,
    );
}

#[tokio::test]
async fn tenants_and_customers_are_kept_apart() {
    let app = spawn_app().await;
    let a = open_salon(&app, "apart-a", 2).await;
    let b = open_salon(&app, "apart-b", 2).await;
    let alice = app.token(Role::Customer, Some(a.id), &[]);
    let mallory = app.token(Role::Customer, Some(a.id), &[]);
    let start = grid_after(Utc::now() + chrono::Duration::days(1));
    let r = hold(&app, &a, &alice, start, "apart-0001").await.unwrap();

    // Another customer of the same shop does not see it.
    assert_status(get(&app, &r.name, &mallory).await, Code::NotFound, None);
    let theirs = booking(&app)
        .list_reservations(with_token(
            pb::ListReservationsRequest {
                parent: a.t.name.clone(),
                ..Default::default()
            },
            &mallory,
        ))
        .await
        .unwrap()
        .into_inner()
        .reservations;
    assert!(theirs.is_empty());
    assert_status(
        booking(&app)
            .cancel_reservation(with_token(
                pb::CancelReservationRequest {
                    name: r.name.clone(),
                },
                &mallory,
            ))
            .await,
        Code::NotFound,
        None,
    );
    // Another shop's staff and customers are refused outright.
    assert_status(
        get(&app, &r.name, &b.staff_token).await,
        Code::PermissionDenied,
        None,
    );
    let bob_of_b = app.token(Role::Customer, Some(b.id), &[]);
    assert_status(
        hold(&app, &a, &bob_of_b, start, "apart-0002").await,
        Code::PermissionDenied,
        None,
    );
    // A service of one shop cannot be booked through another.
    assert_status(
        booking(&app)
            .hold_reservation(with_token(
                pb::HoldReservationRequest {
                    parent: b.t.name.clone(),
                    service: a.service.name.clone(),
                    staff: a.stylist.name.clone(),
                    start_time: ts(start),
                    request_id: "apart-0003".into(),
                    note: String::new(),
                    remind: false,
                    ..Default::default()
                },
                &bob_of_b,
            ))
            .await,
        Code::InvalidArgument,
        None,
    );
    // A shop without the booking module gets a clear refusal.
    let cafe = app.create_tenant("apart-cafe", "restaurant").await;
    let cafe_admin = app.admin_of(tenant_id(&cafe));
    assert_status(
        booking(&app)
            .list_services(with_token(
                pb::ListServicesRequest {
                    parent: cafe.name.clone(),
                    ..Default::default()
                },
                &cafe_admin,
            ))
            .await,
        Code::FailedPrecondition,
        Some("MODULE_DISABLED"),
    );
}

#[tokio::test]
async fn staff_book_walk_ins_confirmed_at_once_within_capacity() {
    let app = spawn_app().await;
    let s = open_salon(&app, "walkin-salon", 1).await;
    // Inside the lead time: walk-ins are not bound by it.
    let start = grid_after(Utc::now() + chrono::Duration::minutes(5));
    let walk_in = |rid: &str| pb::CreateManualReservationRequest {
        parent: s.t.name.clone(),
        service: s.service.name.clone(),
        staff: s.stylist.name.clone(),
        start_time: ts(start),
        contact_name: "王女士".into(),
        contact_phone: "13800000000".into(),
        note: String::new(),
        request_id: rid.into(),
    };
    let r = booking(&app)
        .create_manual_reservation(with_token(walk_in("walkin-01"), &s.staff_token))
        .await
        .unwrap()
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(status_of(&r), pb::ReservationStatus::Confirmed);
    assert!(r.customer.is_empty());
    assert_status(
        booking(&app)
            .create_manual_reservation(with_token(walk_in("walkin-02"), &s.staff_token))
            .await,
        Code::FailedPrecondition,
        Some("SLOT_FULL"),
    );
}

/// The pages keep no table of zones or defaults: the server sends the zone with its offset and
/// the config with the module's defaults applied, to customers (JSON) and staff (gRPC) alike.
#[tokio::test]
async fn booking_settings_carry_the_zone_offset_and_the_defaults() {
    let app = spawn_app().await;
    let s = open_salon(&app, "zone-salon", 1).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let bearer = format!("Bearer {alice}");
    let h = [
        ("x-wechat-appid", s.t.wechat_appid.as_str()),
        ("authorization", bearer.as_str()),
    ];
    let (status, _, settings) = app.get_json("/api/v1/booking/settings", &h).await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(
        settings,
        serde_json::json!({"time_zone": "Asia/Shanghai", "utc_offset_minutes": 480,
            "slot_minutes": 30, "lead_time_minutes": 60, "horizon_days": 14,
            "cancel_window_hours": 2, "reschedule_window_hours": 2, "hold_minutes": 10,
            "reminder_template_id": ""})
    );

    set_booking_config(
        &app,
        &s.t,
        serde_json::json!({"time_zone": "Asia/Tokyo", "slot_minutes": 15}),
    )
    .await;
    let got = booking(&app)
        .get_booking_settings(with_token(
            pb::GetBookingSettingsRequest {
                name: format!("{}/bookingSettings", s.t.name),
            },
            &s.staff_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .booking_settings
        .unwrap();
    assert_eq!(
        (
            got.time_zone.as_str(),
            got.utc_offset_minutes,
            got.slot_minutes
        ),
        ("Asia/Tokyo", 540, 15)
    );
    // The rest is the module's defaults (module.json), not the client's guess.
    assert_eq!((got.horizon_days, got.lead_time_minutes), (14, 60));
    let day = (Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d");
    let (status, _, slots) = app
        .get_json(
            &format!(
                "/api/v1/booking/services/{}/slots?from={day}&to={day}",
                s.service.name.rsplit('/').next().unwrap()
            ),
            &h,
        )
        .await;
    assert_eq!(status, 200, "{slots}");
    assert_eq!(
        (&slots["time_zone"], &slots["utc_offset_minutes"]),
        (&serde_json::json!("Asia/Tokyo"), &serde_json::json!(540))
    );

    // Another shop's customer reads nothing of this one's.
    let other = open_salon(&app, "zone-other", 1).await;
    let mallory = app.token(Role::Customer, Some(other.id), &[]);
    let err = booking(&app)
        .get_booking_settings(with_token(
            pb::GetBookingSettingsRequest {
                name: format!("{}/bookingSettings", s.t.name),
            },
            &mallory,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
}

#[tokio::test]
async fn the_mini_program_books_through_the_bff() {
    let app = spawn_app().await;
    let s = open_salon(&app, "bff-salon", 1).await;
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let bearer = format!("Bearer {alice}");
    let h = [
        ("x-wechat-appid", s.t.wechat_appid.as_str()),
        ("authorization", bearer.as_str()),
    ];
    let (status, _, services) = app.get_json("/api/v1/booking/services", &h).await;
    assert_eq!(status, 200, "{services}");
    let service_id = services[0]["id"].as_str().unwrap().to_string();
    assert_eq!(services[0]["price_fen"], 8800);
    let (status, _, staff) = app.get_json("/api/v1/booking/staff", &h).await;
    assert_eq!(status, 200, "{staff}");
    assert_eq!(staff.as_array().unwrap().len(), 1, "{staff}");
    assert_eq!(staff[0]["name"], "Tony");
    assert_eq!(staff[0]["kind"], "person");
    assert_eq!(staff[0]["service_ids"][0], service_id.as_str());

    let start = grid_after(Utc::now() + chrono::Duration::days(2));
    let day = local_date(start);
    let (status, _, slots) = app
        .get_json(
            &format!("/api/v1/booking/services/{service_id}/slots?from={day}&to={day}"),
            &h,
        )
        .await;
    assert_eq!(status, 200, "{slots}");
    assert_eq!(slots["time_zone"], "Asia/Shanghai");
    assert_eq!(slots["utc_offset_minutes"], 480);
    let slot = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| DateTime::parse_from_rfc3339(x["start_time"].as_str().unwrap()).unwrap() == start)
        .expect("the slot is offered")
        .clone();

    let body = serde_json::json!({"service_id": service_id, "staff_id": slot["staff_id"],
        "start_time": slot["start_time"]});
    let (status, err) =
        crate::helpers::http_post(&app, "/api/v1/booking/reservations", &h, body.clone()).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    let mut with_key = h.to_vec();
    with_key.push(("idempotency-key", "bff-book-0001"));
    let (status, held) = crate::helpers::http_post(
        &app,
        "/api/v1/booking/reservations",
        &with_key,
        body.clone(),
    )
    .await;
    assert_eq!(status, 201, "{held}");
    assert_eq!(held["status"], "held");
    assert_eq!(held["local_start"], slot["local_start"]);
    let id = held["id"].as_str().unwrap().to_string();
    let (status, confirmed) = crate::helpers::http_post(
        &app,
        &format!("/api/v1/booking/reservations/{id}/confirm"),
        &h,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(
        (status, &confirmed["status"]),
        (200, &serde_json::json!("confirmed"))
    );

    // Someone else finds the slot full.
    let bob = format!("Bearer {}", app.token(Role::Customer, Some(s.id), &[]));
    let bob_h = [
        ("x-wechat-appid", s.t.wechat_appid.as_str()),
        ("authorization", bob.as_str()),
        ("idempotency-key", "bff-book-0002"),
    ];
    let (status, full) =
        crate::helpers::http_post(&app, "/api/v1/booking/reservations", &bob_h, body).await;
    assert_eq!((status, full["code"].as_str()), (400, Some("SLOT_FULL")));

    let later = grid_after(Utc::now() + chrono::Duration::days(3));
    let (status, moved) = crate::helpers::http_post(
        &app,
        &format!("/api/v1/booking/reservations/{id}/reschedule"),
        &h,
        serde_json::json!({"start_time": later.to_rfc3339()}),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    let (status, _, mine) = app.get_json("/api/v1/booking/reservations", &h).await;
    assert_eq!(status, 200);
    assert_eq!(mine["reservations"].as_array().unwrap().len(), 1);
    let (status, cancelled) = crate::helpers::http_post(
        &app,
        &format!("/api/v1/booking/reservations/{id}/cancel"),
        &h,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(
        (status, &cancelled["status"]),
        (200, &serde_json::json!("cancelled"))
    );

    let (_, _, doc) = app.get_json("/api/openapi.json", &[]).await;
    assert!(doc["paths"]["/api/v1/booking/services/{id}/slots"]["get"].is_object());
}

#[tokio::test]
async fn moving_an_hour_long_booking_by_half_an_hour_keeps_its_shared_cell() {
    let app = spawn_app().await;
    let s = open_salon(&app, "shift-salon", 1).await;
    let c = booking(&app);
    let long = c
        .clone()
        .create_service(with_token(
            pb::CreateServiceRequest {
                parent: s.t.name.clone(),
                service: Some(pb::Service {
                    display_name: "烫发".into(),
                    duration_minutes: 60,
                    price_fen: 30000,
                    capacity: 1,
                    active: true,
                    ..Default::default()
                }),
            },
            &s.staff_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .service
        .unwrap();
    let room = c
        .clone()
        .create_staff(with_token(
            pb::CreateStaffRequest {
                parent: s.t.name.clone(),
                staff: Some(pb::Staff {
                    display_name: "2号位".into(),
                    kind: pb::StaffKind::Room as i32,
                    weekly_hours: all_day(),
                    active: true,
                    ..Default::default()
                }),
            },
            &s.staff_token,
        ))
        .await
        .unwrap()
        .into_inner()
        .staff
        .unwrap();
    let book = |token: String, start: DateTime<Utc>, rid: &'static str| {
        let (c, parent, service, staff) = (
            c.clone(),
            s.t.name.clone(),
            long.name.clone(),
            room.name.clone(),
        );
        async move {
            c.clone()
                .hold_reservation(with_token(
                    pb::HoldReservationRequest {
                        parent,
                        service,
                        staff,
                        start_time: ts(start),
                        request_id: rid.into(),
                        note: String::new(),
                        remind: false,
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .map(|r| r.into_inner().reservation.unwrap())
        }
    };
    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let bob = app.token(Role::Customer, Some(s.id), &[]);
    // 10:00 local two days ahead: an hour-long span must fit inside one day's window, which
    // "now + 2 days" would not at 23:30.
    let t = local_10am(Utc::now() + chrono::Duration::days(2));
    let r = book(alice.clone(), t, "shift-0001").await.unwrap();
    // 10:00–11:00 becomes 10:30–11:30: the 10:30 cell is its own, so the move succeeds.
    let moved = c
        .clone()
        .reschedule_reservation(with_token(
            pb::RescheduleReservationRequest {
                name: r.name.clone(),
                start_time: ts(t + chrono::Duration::minutes(30)),
                staff: String::new(),
            },
            &alice,
        ))
        .await
        .expect("a half-step move")
        .into_inner()
        .reservation
        .unwrap();
    assert_eq!(moved.start_time, ts(t + chrono::Duration::minutes(30)));
    // 09:30–10:30 fits again (10:00 was given back); 11:00–12:00 does not (11:00 is taken now).
    book(bob.clone(), t - chrono::Duration::minutes(30), "shift-0002")
        .await
        .expect("the freed cell");
    assert_status(
        book(bob, t + chrono::Duration::minutes(60), "shift-0003").await,
        Code::FailedPrecondition,
        Some("SLOT_FULL"),
    );
}

async fn next_reservation_event(
    stream: &mut tonic::Streaming<pb::WatchReservationsResponse>,
) -> pb::ReservationEvent {
    mm_testkit::next_message(stream).await.event.unwrap()
}

/// The shop's calendar updates live, as the orders board does: a booking made from the
/// mini-program and its later changes reach the shop's watchers at once; another shop's watch
/// hears nothing of them, and a customer may not watch.
#[tokio::test]
async fn the_calendar_hears_new_and_changed_bookings_live() {
    let app = spawn_app().await;
    let s = open_salon(&app, "live-salon", 2).await;
    let other = open_salon(&app, "live-other-salon", 2).await;
    let watch = |salon: &Salon| {
        let req = with_token(
            pb::WatchReservationsRequest {
                parent: salon.t.name.clone(),
            },
            &salon.staff_token,
        );
        let mut client = booking(&app);
        async move { client.watch_reservations(req).await.unwrap().into_inner() }
    };
    let mut stream = watch(&s).await;
    let mut elsewhere = watch(&other).await;

    let alice = app.token(Role::Customer, Some(s.id), &[]);
    let start = grid_after(Utc::now() + chrono::Duration::hours(3));
    let held = hold(&app, &s, &alice, start, "live-hold-1").await.unwrap();
    let e = next_reservation_event(&mut stream).await;
    assert_eq!(e.kind, pb::ReservationEventKind::Created as i32);
    assert_eq!(e.reservation.as_ref().unwrap().name, held.name);

    booking(&app)
        .cancel_reservation(with_token(
            pb::CancelReservationRequest {
                name: held.name.clone(),
            },
            &s.staff_token,
        ))
        .await
        .unwrap();
    let e = next_reservation_event(&mut stream).await;
    assert_eq!(e.kind, pb::ReservationEventKind::Updated as i32);
    assert_eq!(
        e.reservation.unwrap().status,
        pb::ReservationStatus::Cancelled as i32
    );
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), elsewhere.message())
            .await
            .is_err(),
        "another shop's calendar hears nothing"
    );

    // Another shop's staff and customers cannot watch this shop.
    assert_status(
        booking(&app)
            .watch_reservations(with_token(
                pb::WatchReservationsRequest {
                    parent: s.t.name.clone(),
                },
                &other.staff_token,
            ))
            .await,
        Code::PermissionDenied,
        None,
    );
    assert_status(
        booking(&app)
            .watch_reservations(with_token(
                pb::WatchReservationsRequest {
                    parent: s.t.name.clone(),
                },
                &alice,
            ))
            .await,
        Code::PermissionDenied,
        None,
    );
}

/// A customer's hold is checked against the service and resource each instance holds in
/// memory; new time off, or a resource switched off, through one instance drops what the other
/// holds (through Redis), so its next hold is checked against what stands. Always on PostgreSQL +
/// Redis, whatever MM_TEST_BACKEND says: that is the deployment it describes.
#[tokio::test]
async fn holds_follow_time_off_and_resources_changed_through_another_instance() {
    let (_storage, one, two) = crate::helpers::two_instances().await;
    let s = open_salon(&one, "held-salon", 50).await;
    let admin = one.admin_of(s.id);
    let alice = one.token(Role::Customer, Some(s.id), &[]);
    let t = grid_after(Utc::now() + chrono::Duration::days(2));
    // Holding through the second instance makes it hold the service and the stylist.
    hold(&two, &s, &alice, t, "held-000001").await.unwrap();

    booking(&one)
        .create_time_off(with_token(
            pb::CreateTimeOffRequest {
                parent: s.t.name.clone(),
                time_off: Some(pb::TimeOff {
                    staff: s.stylist.name.clone(),
                    start_time: ts(t),
                    end_time: ts(t + chrono::Duration::hours(1)),
                    reason: "培训".into(),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .unwrap();
    // The instance that wrote it refuses at once.
    let st = assert_status(
        hold(&one, &s, &alice, t, "held-000002").await,
        Code::FailedPrecondition,
        Some("SLOT_UNAVAILABLE"),
    );
    assert_eq!(
        crate::helpers::error_metadata(&st, "cause").as_deref(),
        Some("closed")
    );
    // The other one as soon as it has heard.
    let st = assert_status(
        refused_in_time(&two, &s, &alice, t, 10).await,
        Code::FailedPrecondition,
        Some("SLOT_UNAVAILABLE"),
    );
    assert_eq!(
        crate::helpers::error_metadata(&st, "cause").as_deref(),
        Some("closed")
    );

    // The stylist switched off: the other instance's next holds find no such resource.
    let later = t + chrono::Duration::hours(3);
    hold(&two, &s, &alice, later, "held-100001").await.unwrap();
    booking(&one)
        .update_staff(with_token(
            pb::UpdateStaffRequest {
                staff: Some(pb::Staff {
                    active: false,
                    ..s.stylist.clone()
                }),
            },
            &admin,
        ))
        .await
        .unwrap();
    assert_status(
        refused_in_time(&two, &s, &alice, later, 100_010).await,
        Code::NotFound,
        None,
    );
}

/// Holds `start` with a new key each try (the salon's places leave room) until one is refused,
/// for as long as a change takes to reach another instance; the last answer.
async fn refused_in_time(
    app: &TestApp,
    s: &Salon,
    token: &str,
    start: DateTime<Utc>,
    mut n: u32,
) -> Result<pb::Reservation, tonic::Status> {
    crate::helpers::read_until(
        || {
            n += 1;
            let id = format!("held-{n:06}");
            async move { hold(app, s, token, start, &id).await }
        },
        |r| r.is_err(),
    )
    .await
}
