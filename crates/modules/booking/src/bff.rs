//! Booking for the mini-program: services, free slots, hold, confirm, my bookings, cancel and
//! reschedule. Availability, capacity, policy windows and who may do what are all decided by the
//! booking service; this file only shapes JSON. Times are RFC 3339 on the wire, with the shop's
//! local time beside them for display.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use mm_kernel::names::{name_of, tenant_name};
use mm_kernel::platform::Platform;
use mm_proto::minimodules::booking::v1 as pb;
use mm_proto::minimodules::booking::v1::booking_service_client::BookingServiceClient;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use mm_bff::error::{ApiError, ErrorBody};
use mm_bff::extract::{Json, Path, Query};
use mm_bff::routes::app::{AppConfigQuery, tenant_of};
use mm_bff::routes::wechat_pay::WechatPayDto;

use crate::names::{Reservations, Services, Staff};

/// A bookable service.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDto {
    /// Service id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Minutes.
    pub duration_minutes: i32,
    /// Price in fen.
    pub price_fen: i64,
    /// Deposit in fen (0: none).
    pub deposit_fen: i64,
}

/// A free start time.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotDto {
    /// Staff member or room id.
    pub staff_id: String,
    /// Start (RFC 3339, UTC).
    pub start_time: String,
    /// End of the service (RFC 3339, UTC).
    pub end_time: String,
    /// "YYYY-MM-DD HH:MM" in the shop's time zone.
    pub local_start: String,
    /// Places left.
    pub remaining: i32,
}

/// Free slots of a service.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotsDto {
    /// By start time.
    pub slots: Vec<SlotDto>,
    /// The shop's time zone.
    pub time_zone: String,
    /// Its offset east of UTC, in minutes.
    pub utc_offset_minutes: i32,
}

/// The shop's booking settings, defaults applied (the server's, so no page keeps its own).
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsDto {
    /// IANA time zone of the schedule, e.g. "Asia/Shanghai".
    pub time_zone: String,
    /// The zone's offset east of UTC, in minutes.
    pub utc_offset_minutes: i32,
    /// Slots start on this grid.
    pub slot_minutes: i32,
    /// Book at least this long ahead.
    pub lead_time_minutes: i32,
    /// Book at most this many days ahead.
    pub horizon_days: i32,
    /// No cancelling a confirmed booking less than this before its start.
    pub cancel_window_hours: i32,
    /// No moving a booking less than this before its start.
    pub reschedule_window_hours: i32,
    /// How long a hold keeps its place unconfirmed.
    pub hold_minutes: i32,
    /// Subscribe-message template for reminders; empty when the shop sends none.
    pub reminder_template_id: String,
}

/// A staff member or room that performs services.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffDto {
    /// Staff member or room id.
    pub id: String,
    /// Shown to customers.
    pub name: String,
    /// "person" or "room".
    pub kind: String,
    /// The services performed; empty for all.
    pub service_ids: Vec<String>,
}

/// A booking.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationDto {
    /// Reservation id.
    pub id: String,
    /// Service id.
    pub service_id: String,
    /// Staff member or room id.
    pub staff_id: String,
    /// "held", "confirmed", "completed", "no_show", "cancelled" or "expired".
    pub status: String,
    /// Start (RFC 3339, UTC).
    pub start_time: String,
    /// "YYYY-MM-DD HH:MM" in the shop's time zone.
    pub local_start: String,
    /// Price in fen.
    pub price_fen: i64,
    /// Deposit in fen, after discounts: what is left to pay.
    pub deposit_fen: i64,
    /// "none", "unpaid" (paying confirms the booking), "paid", "refunding" or "refunded".
    pub deposit_status: String,
    /// Whether a reminder will be sent before the start.
    pub remind: bool,
    /// When a hold runs out (RFC 3339), while held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
    /// Note.
    pub note: String,
    /// Taken off the deposit by discounts (a coupon), in fen; `deposit_fen` is what is left.
    pub deposit_discount_fen: i64,
    /// The discounts taken off the deposit.
    pub discounts: Vec<DepositDiscountDto>,
}

/// A page of the customer's bookings.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationsPageDto {
    /// By start time.
    pub reservations: Vec<ReservationDto>,
    /// Pass back for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A place to hold. Send an `Idempotency-Key` header: a retry returns the first hold.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HoldBody {
    /// Service id.
    pub service_id: String,
    /// Staff member or room id (from the slot).
    pub staff_id: String,
    /// The slot's start (RFC 3339).
    pub start_time: String,
    /// Note for the shop.
    #[serde(default)]
    pub note: String,
    /// The customer accepted the reminder template (`reminder_template_id` of the booking
    /// module's config) in `wx.requestSubscribeMessage`.
    #[serde(default)]
    pub remind: bool,
    /// A coupon for the deposit (its id, from the customer's coupons for booking); absent takes
    /// the best one the customer holds.
    #[serde(default)]
    pub coupon_id: Option<String>,
    /// True to use no coupon on the deposit.
    #[serde(default)]
    pub no_coupon: bool,
}

/// A discount taken off a deposit.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepositDiscountDto {
    /// What it is, e.g. "COUPON".
    pub kind: String,
    /// The coupon's id, for a coupon; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_id: Option<String>,
    /// Label in Chinese.
    pub label_zh: String,
    /// Label in English.
    pub label_en: String,
    /// Fen taken off.
    pub amount_fen: i64,
}

/// The answer to a deposit pay call.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepositPayDto {
    /// The booking, still held: WeChat's payment notification confirms it.
    pub reservation: ReservationDto,
    /// Pass to `wx.requestPayment`.
    pub wechat_pay: WechatPayDto,
}

/// Where to move a booking.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RescheduleBody {
    /// The new start (RFC 3339).
    pub start_time: String,
    /// Another staff member or room; omit to keep the current one.
    #[serde(default)]
    pub staff_id: Option<String>,
}

/// Query of the slot list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SlotsQuery {
    /// The mini-program's appid, when the X-WeChat-Appid header is not sent.
    pub appid: Option<String>,
    /// First local date, "YYYY-MM-DD".
    pub from: String,
    /// Last local date, inclusive (at most 30 days after `from`).
    pub to: String,
    /// Only this staff member or room.
    pub staff_id: Option<String>,
}

/// Query of the bookings list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ReservationsQuery {
    /// The mini-program's appid, when the X-WeChat-Appid header is not sent.
    pub appid: Option<String>,
    /// Page size (default 20, at most 100).
    pub page_size: Option<i32>,
    /// From the previous page.
    pub page_token: Option<String>,
}

fn last(name: &str) -> String {
    name.rsplit('/').next().unwrap_or_default().to_string()
}

fn rfc3339(t: Option<prost_types::Timestamp>) -> String {
    t.and_then(|t| DateTime::<Utc>::from_timestamp(t.seconds, 0))
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

fn timestamp(s: &str, field: &str) -> Result<prost_types::Timestamp, ApiError> {
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|_| ApiError::bad_request(field, "an RFC 3339 time"))?;
    Ok(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

fn status_str(s: i32) -> String {
    match pb::ReservationStatus::try_from(s) {
        Ok(pb::ReservationStatus::Held) => "held",
        Ok(pb::ReservationStatus::Confirmed) => "confirmed",
        Ok(pb::ReservationStatus::Completed) => "completed",
        Ok(pb::ReservationStatus::NoShow) => "no_show",
        Ok(pb::ReservationStatus::Cancelled) => "cancelled",
        Ok(pb::ReservationStatus::Expired) => "expired",
        _ => "unknown",
    }
    .to_string()
}

fn reservation_dto(r: pb::Reservation) -> ReservationDto {
    ReservationDto {
        id: last(&r.name),
        service_id: last(&r.service),
        staff_id: last(&r.staff),
        status: status_str(r.status),
        start_time: rfc3339(r.start_time),
        local_start: r.local_start,
        price_fen: r.price_fen,
        deposit_fen: r.deposit_fen,
        deposit_status: match pb::DepositStatus::try_from(r.deposit_status) {
            Ok(pb::DepositStatus::Unpaid) => "unpaid",
            Ok(pb::DepositStatus::Paid) => "paid",
            Ok(pb::DepositStatus::Refunding) => "refunding",
            Ok(pb::DepositStatus::Refunded) => "refunded",
            _ => "none",
        }
        .to_string(),
        remind: r.remind,
        expire_time: r.expire_time.map(|t| rfc3339(Some(t))),
        note: r.note,
        deposit_discount_fen: r.deposit_discount_fen,
        discounts: r
            .discounts
            .into_iter()
            .map(|d| DepositDiscountDto {
                coupon_id: (d.kind == "COUPON").then(|| last(&d.source)),
                kind: d.kind,
                label_zh: d.label_zh,
                label_en: d.label_en,
                amount_fen: d.amount_fen,
            })
            .collect(),
    }
}

/// The shop's active services.
#[utoipa::path(get, path = "/api/v1/booking/services", tag = "booking", params(AppConfigQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [ServiceDto]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_services(
    State(state): State<Arc<Shared>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<ServiceDto>>, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let r = state
        .bookings
        .clone()
        .list_services(mm_bff::forward(
            &headers,
            pb::ListServicesRequest {
                parent: tenant_name(tenant),
                page_size: 100,
                page_token: String::new(),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(
        r.services
            .into_iter()
            .map(|s| ServiceDto {
                id: last(&s.name),
                name: s.display_name,
                description: s.description,
                duration_minutes: s.duration_minutes,
                price_fen: s.price_fen,
                deposit_fen: s.deposit_fen,
            })
            .collect(),
    ))
}

/// The shop's booking settings: its time zone with the zone's UTC offset, the slot grid and the
/// customer's windows.
#[utoipa::path(get, path = "/api/v1/booking/settings", tag = "booking", params(AppConfigQuery),
    security(("bearer" = [])),
    responses((status = 200, body = SettingsDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<Arc<Shared>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<SettingsDto>, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let s = state
        .bookings
        .clone()
        .get_booking_settings(mm_bff::forward(
            &headers,
            pb::GetBookingSettingsRequest {
                name: crate::names::SettingsName::name(tenant),
            },
        ))
        .await?
        .into_inner()
        .booking_settings
        .unwrap_or_default();
    Ok(Json(SettingsDto {
        time_zone: s.time_zone,
        utc_offset_minutes: s.utc_offset_minutes,
        slot_minutes: s.slot_minutes,
        lead_time_minutes: s.lead_time_minutes,
        horizon_days: s.horizon_days,
        cancel_window_hours: s.cancel_window_hours,
        reschedule_window_hours: s.reschedule_window_hours,
        hold_minutes: s.hold_minutes,
        reminder_template_id: s.reminder_template_id,
    }))
}

/// Who performs the shop's services (active staff members and rooms), for the staff picker.
#[utoipa::path(get, path = "/api/v1/booking/staff", tag = "booking", params(AppConfigQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [StaffDto]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_staff(
    State(state): State<Arc<Shared>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<StaffDto>>, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let mut out = Vec::new();
    let mut page_token = String::new();
    // A shop has tens of staff, not thousands: a few pages at most.
    for _ in 0..10 {
        let r = state
            .bookings
            .clone()
            .list_staff(mm_bff::forward(
                &headers,
                pb::ListStaffRequest {
                    parent: tenant_name(tenant),
                    page_size: 100,
                    page_token,
                    service: String::new(),
                },
            ))
            .await?
            .into_inner();
        out.extend(r.staff.into_iter().filter(|s| s.active).map(|s| {
            StaffDto {
                id: last(&s.name),
                name: s.display_name,
                kind: match pb::StaffKind::try_from(s.kind) {
                    Ok(pb::StaffKind::Room) => "room",
                    _ => "person",
                }
                .into(),
                service_ids: s.services.iter().map(|n| last(n)).collect(),
            }
        }));
        if r.next_page_token.is_empty() {
            break;
        }
        page_token = r.next_page_token;
    }
    Ok(Json(out))
}

/// Free start times of a service over local dates.
#[utoipa::path(get, path = "/api/v1/booking/services/{id}/slots", tag = "booking",
    params(("id" = String, Path, description = "Service id"), SlotsQuery), security(("bearer" = [])),
    responses((status = 200, body = SlotsDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_slots(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<SlotsQuery>,
    headers: HeaderMap,
) -> Result<Json<SlotsDto>, ApiError> {
    let app = AppConfigQuery {
        appid: query.appid.clone(),
    };
    let tenant = tenant_of(&state.bff, &app, &headers).await?;
    let r = state
        .bookings
        .clone()
        .list_available_slots(mm_bff::forward(
            &headers,
            pb::ListAvailableSlotsRequest {
                parent: tenant_name(tenant),
                service: name_of::<Services>(tenant, &id),
                staff: query
                    .staff_id
                    .map(|s| name_of::<Staff>(tenant, &s))
                    .unwrap_or_default(),
                start_date: query.from,
                end_date: query.to,
            },
        ))
        .await?
        .into_inner();
    Ok(Json(SlotsDto {
        time_zone: r.time_zone,
        utc_offset_minutes: r.utc_offset_minutes,
        slots: r
            .slots
            .into_iter()
            .map(|s| SlotDto {
                staff_id: last(&s.staff),
                start_time: rfc3339(s.start_time),
                end_time: rfc3339(s.end_time),
                local_start: s.local_start,
                remaining: s.remaining,
            })
            .collect(),
    }))
}

/// Holds a place for the calling customer until the hold expires (idempotent per `Idempotency-Key`).
#[utoipa::path(post, path = "/api/v1/booking/reservations", tag = "booking", request_body = HoldBody,
    params(AppConfigQuery, ("Idempotency-Key" = String, Header, description = "8-64 characters, unique per attempt to book")),
    security(("bearer" = [])),
    responses((status = 201, body = ReservationDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn hold(
    State(state): State<Arc<Shared>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
    Json(body): Json<HoldBody>,
) -> Result<(StatusCode, Json<ReservationDto>), ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "Idempotency-Key",
                "send a key unique to this attempt to book",
            )
        })?
        .to_string();
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let r = state
        .bookings
        .clone()
        .hold_reservation(mm_bff::forward(
            &headers,
            pb::HoldReservationRequest {
                parent: tenant_name(tenant),
                service: name_of::<Services>(tenant, &body.service_id),
                staff: name_of::<Staff>(tenant, &body.staff_id),
                start_time: Some(timestamp(&body.start_time, "start_time")?),
                request_id: key,
                note: body.note,
                remind: body.remind,
                coupon: match body.coupon_id {
                    Some(id) if !id.is_empty() => format!("{}/coupons/{id}", tenant_name(tenant)),
                    _ => String::new(),
                },
                no_coupon: body.no_coupon,
            },
        ))
        .await?
        .into_inner()
        .reservation
        .unwrap_or_default();
    Ok((StatusCode::CREATED, Json(reservation_dto(r))))
}

/// The calling customer's bookings, by start time.
#[utoipa::path(get, path = "/api/v1/booking/reservations", tag = "booking", params(ReservationsQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ReservationsPageDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_reservations(
    State(state): State<Arc<Shared>>,
    Query(query): Query<ReservationsQuery>,
    headers: HeaderMap,
) -> Result<Json<ReservationsPageDto>, ApiError> {
    let app = AppConfigQuery {
        appid: query.appid.clone(),
    };
    let tenant = tenant_of(&state.bff, &app, &headers).await?;
    let r = state
        .bookings
        .clone()
        .list_reservations(mm_bff::forward(
            &headers,
            pb::ListReservationsRequest {
                parent: tenant_name(tenant),
                page_size: query.page_size.unwrap_or(0),
                page_token: query.page_token.unwrap_or_default(),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    Ok(Json(ReservationsPageDto {
        reservations: r.reservations.into_iter().map(reservation_dto).collect(),
        next_page_token: (!r.next_page_token.is_empty()).then_some(r.next_page_token),
    }))
}

/// Calls an RPC addressed by one reservation's name and answers the reservation it returns.
async fn on_reservation<F, Fut>(
    state: &Shared,
    id: &str,
    query: &AppConfigQuery,
    headers: &HeaderMap,
    call: F,
) -> Result<Json<ReservationDto>, ApiError>
where
    F: FnOnce(BookingServiceClient<Platform>, String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<pb::Reservation>, tonic::Status>>,
{
    let tenant = tenant_of(&state.bff, query, headers).await?;
    let name = name_of::<Reservations>(tenant, id);
    let r = call(state.bookings.clone(), name).await?;
    Ok(Json(reservation_dto(r.unwrap_or_default())))
}

/// Confirms a held booking (services without a deposit; a deposit is paid instead).
#[utoipa::path(post, path = "/api/v1/booking/reservations/{id}/confirm", tag = "booking",
    params(("id" = String, Path, description = "Reservation id"), AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = ReservationDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn confirm(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<ReservationDto>, ApiError> {
    let h = &headers;
    on_reservation(&state, &id, &query, h, |mut c, name| async move {
        c.confirm_reservation(mm_bff::forward(h, pb::ConfirmReservationRequest { name }))
            .await
            .map(|r| r.into_inner().reservation)
    })
    .await
}

/// Cancels a booking (outside the shop's cancellation window).
#[utoipa::path(post, path = "/api/v1/booking/reservations/{id}/cancel", tag = "booking",
    params(("id" = String, Path, description = "Reservation id"), AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = ReservationDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<ReservationDto>, ApiError> {
    let h = &headers;
    on_reservation(&state, &id, &query, h, |mut c, name| async move {
        c.cancel_reservation(mm_bff::forward(h, pb::CancelReservationRequest { name }))
            .await
            .map(|r| r.into_inner().reservation)
    })
    .await
}

/// Moves a booking to another slot (outside the shop's reschedule window).
#[utoipa::path(post, path = "/api/v1/booking/reservations/{id}/reschedule", tag = "booking",
    request_body = RescheduleBody,
    params(("id" = String, Path, description = "Reservation id"), AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = ReservationDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reschedule(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
    Json(body): Json<RescheduleBody>,
) -> Result<Json<ReservationDto>, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let r = state
        .bookings
        .clone()
        .reschedule_reservation(mm_bff::forward(
            &headers,
            pb::RescheduleReservationRequest {
                name: name_of::<Reservations>(tenant, &id),
                start_time: Some(timestamp(&body.start_time, "start_time")?),
                staff: body
                    .staff_id
                    .map(|s| name_of::<Staff>(tenant, &s))
                    .unwrap_or_default(),
            },
        ))
        .await?
        .into_inner()
        .reservation
        .unwrap_or_default();
    Ok(Json(reservation_dto(r)))
}

/// Starts paying a held booking's deposit: the parameters for `wx.requestPayment`. The payment
/// confirms the booking (WeChat Pay's notification; call `.../deposit/refresh` after
/// `wx.requestPayment` succeeds to settle at once).
#[utoipa::path(post, path = "/api/v1/booking/reservations/{id}/deposit", tag = "booking",
    params(("id" = String, Path, description = "Reservation id"), AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = DepositPayDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pay_deposit(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<DepositPayDto>, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let r = state
        .bookings
        .clone()
        .pay_deposit(mm_bff::forward(
            &headers,
            pb::PayDepositRequest {
                name: name_of::<Reservations>(tenant, &id),
            },
        ))
        .await?
        .into_inner();
    let p = r.wechat_pay.unwrap_or_default();
    Ok(Json(DepositPayDto {
        reservation: reservation_dto(r.reservation.unwrap_or_default()),
        wechat_pay: WechatPayDto {
            time_stamp: p.time_stamp,
            nonce_str: p.nonce_str,
            package: p.package,
            sign_type: p.sign_type,
            pay_sign: p.pay_sign,
        },
    }))
}

/// Asks WeChat Pay whether the deposit was paid and applies it (for a late notification).
#[utoipa::path(post, path = "/api/v1/booking/reservations/{id}/deposit/refresh", tag = "booking",
    params(("id" = String, Path, description = "Reservation id"), AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = ReservationDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn refresh_deposit(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<ReservationDto>, ApiError> {
    let h = &headers;
    on_reservation(&state, &id, &query, h, |mut c, name| async move {
        c.refresh_deposit(mm_bff::forward(h, pb::RefreshDepositRequest { name }))
            .await
            .map(|r| r.into_inner().reservation)
    })
    .await
}

/// This module's own route state: its client.
pub struct Own {
    bookings: BookingServiceClient<mm_kernel::platform::Platform>,
}

type Shared = mm_bff::ModuleState<Own>;

/// This module's part of the BFF: its routes and their OpenAPI document.
pub fn def() -> mm_kernel::module::BffDef {
    mm_kernel::module::BffDef {
        routes: |host| {
            mm_bff::module_routes(
                host,
                |bff| Own {
                    bookings: BookingServiceClient::new(bff.channel.clone()),
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
        get_settings,
        list_services,
        list_staff,
        list_slots,
        hold,
        list_reservations,
        confirm,
        cancel,
        reschedule,
        pay_deposit,
        refresh_deposit
    ),
    components(schemas(
        SettingsDto,
        ServiceDto,
        StaffDto,
        SlotDto,
        SlotsDto,
        ReservationDto,
        DepositDiscountDto,
        ReservationsPageDto,
        HoldBody,
        RescheduleBody,
        DepositPayDto
    ))
)]
struct ApiDoc;

/// Routes of this module.
fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/booking/services", get(list_services))
        .route("/api/v1/booking/settings", get(get_settings))
        .route("/api/v1/booking/staff", get(list_staff))
        .route("/api/v1/booking/services/{id}/slots", get(list_slots))
        .route(
            "/api/v1/booking/reservations",
            post(hold).get(list_reservations),
        )
        .route("/api/v1/booking/reservations/{id}/confirm", post(confirm))
        .route("/api/v1/booking/reservations/{id}/cancel", post(cancel))
        .route(
            "/api/v1/booking/reservations/{id}/reschedule",
            post(reschedule),
        )
        .route(
            "/api/v1/booking/reservations/{id}/deposit",
            post(pay_deposit),
        )
        .route(
            "/api/v1/booking/reservations/{id}/deposit/refresh",
            post(refresh_deposit),
        )
}
