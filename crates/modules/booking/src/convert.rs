//! Wire types to domain inputs (checked, with field violations) and stored rows to wire types, in
//! one place.

use chrono::{DateTime, NaiveDate, Utc};
use mm_kernel::TenantId;
use mm_kernel::error::{FieldViolation, RequestError};
use mm_kernel::json::timestamp;
use mm_kernel::names::name_of;
use mm_proto::minimodules::booking::v1 as pb;

use crate::domain::{self, DayHours, Deposit, Period, Status, Window};
use crate::entity::{reservations, services, staff, time_offs};
use crate::names::{Reservations, ServiceName, Services, Staff, StaffName, TimeOffs, Users};
use crate::service::{ServiceInput, SlotView, StaffInput, TimeOffInput, hours_of, services_of};

fn check(v: Vec<FieldViolation>) -> Result<(), RequestError> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(RequestError::Invalid(v))
    }
}

/// A protobuf timestamp as UTC.
pub fn time(
    t: Option<&prost_types::Timestamp>,
    field: &str,
) -> Result<DateTime<Utc>, RequestError> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .ok_or_else(|| RequestError::invalid(field, "a valid time is required"))
}

/// A local "YYYY-MM-DD".
pub fn date(s: &str, field: &str) -> Result<NaiveDate, RequestError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| RequestError::invalid(field, "a date like 2026-12-01"))
}

/// A service's editable fields.
pub fn service_input(s: &pb::Service) -> Result<ServiceInput, RequestError> {
    let pb::Service {
        name: _,
        display_name,
        description,
        duration_minutes,
        price_fen,
        capacity,
        buffer_minutes,
        deposit_fen,
        active,
        create_time: _,
        update_time: _,
    } = s;
    let mut v = Vec::new();
    let n = display_name.trim().chars().count();
    if n == 0 {
        v.push(FieldViolation::required("service.display_name"));
    } else if n > 100 {
        v.push(FieldViolation::too_long("service.display_name", 100));
    }
    if description.chars().count() > 2000 {
        v.push(FieldViolation::too_long("service.description", 2000));
    }
    if !(5..=720).contains(duration_minutes) {
        v.push(FieldViolation::out_of_range(
            "service.duration_minutes",
            5,
            720,
        ));
    }
    if !(0..=100_000_000).contains(price_fen) {
        v.push(
            FieldViolation::new("service.price_fen", "0 to 100000000")
                .reason("PRICE_OUT_OF_RANGE")
                .param("max_yuan", 1_000_000),
        );
    }
    if !(1..=1000).contains(capacity) {
        v.push(FieldViolation::out_of_range("service.capacity", 1, 1000));
    }
    if !(0..=240).contains(buffer_minutes) {
        v.push(FieldViolation::out_of_range(
            "service.buffer_minutes",
            0,
            240,
        ));
    }
    if *deposit_fen < 0 || *deposit_fen > *price_fen {
        v.push(
            FieldViolation::new("service.deposit_fen", "0 to the price")
                .reason("DEPOSIT_ABOVE_PRICE"),
        );
    }
    check(v)?;
    Ok(ServiceInput {
        display_name: display_name.trim().to_string(),
        description: description.clone(),
        duration_minutes: *duration_minutes,
        price_fen: *price_fen,
        capacity: *capacity,
        buffer_minutes: *buffer_minutes,
        deposit_fen: *deposit_fen,
        active: *active,
    })
}

fn windows(ws: &[pb::TimeWindow], field: &str, v: &mut Vec<FieldViolation>) -> Vec<Window> {
    ws.iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let pb::TimeWindow { start, end } = w;
            let parsed = Window::parse(start, end);
            if parsed.is_none() {
                v.push(
                    FieldViolation::new(
                        format!("{field}[{i}]"),
                        "\"HH:MM\" to a later \"HH:MM\" (\"24:00\" ends the day)",
                    )
                    .reason("INVALID_FORMAT")
                    .param("format", "time_window"),
                );
            }
            parsed
        })
        .collect()
}

/// A resource's editable fields.
pub fn staff_input(tenant: TenantId, s: &pb::Staff) -> Result<StaffInput, RequestError> {
    let pb::Staff {
        name: _,
        display_name,
        kind,
        services,
        weekly_hours,
        active,
        create_time: _,
        update_time: _,
    } = s;
    let mut v = Vec::new();
    let n = display_name.trim().chars().count();
    if n == 0 || n > 100 {
        v.push(FieldViolation::new(
            "staff.display_name",
            "1 to 100 characters",
        ));
    }
    let kind = match pb::StaffKind::try_from(*kind) {
        Ok(pb::StaffKind::Person) => "person",
        Ok(pb::StaffKind::Room) => "room",
        _ => {
            v.push(FieldViolation::new("staff.kind", "person or room"));
            ""
        }
    };
    let mut service_ids = Vec::new();
    for (i, s) in services.iter().enumerate() {
        match ServiceName::id_in(tenant, s, "staff.services") {
            Ok(id) => service_ids.push(id),
            Err(_) => v.push(FieldViolation::new(
                format!("staff.services[{i}]"),
                "a service name of this tenant",
            )),
        }
    }
    service_ids.sort();
    service_ids.dedup();
    let days: Vec<DayHours> = weekly_hours
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let pb::WeeklyHours {
                weekday,
                windows: ws,
                breaks,
            } = d;
            DayHours {
                weekday: u8::try_from(*weekday).unwrap_or(0),
                windows: windows(ws, &format!("staff.weekly_hours[{i}].windows"), &mut v),
                breaks: windows(breaks, &format!("staff.weekly_hours[{i}].breaks"), &mut v),
            }
        })
        .collect();
    if let Err(e) = domain::check_schedule(&days) {
        v.push(FieldViolation::new("staff.weekly_hours", e));
    }
    check(v)?;
    Ok(StaffInput {
        display_name: display_name.trim().to_string(),
        kind,
        service_ids,
        weekly_hours: days,
        active: *active,
    })
}

/// A time off.
pub fn time_off_input(tenant: TenantId, o: &pb::TimeOff) -> Result<TimeOffInput, RequestError> {
    let pb::TimeOff {
        name: _,
        staff,
        start_time,
        end_time,
        reason,
        create_time: _,
    } = o;
    let staff_id = StaffName::opt_id_in(tenant, staff, "time_off.staff")?.unwrap_or_default();
    let start = time(start_time.as_ref(), "time_off.start_time")?;
    let end = time(end_time.as_ref(), "time_off.end_time")?;
    let mut v = Vec::new();
    if end <= start || end - start > chrono::Duration::days(366) {
        v.push(FieldViolation::new(
            "time_off.end_time",
            "after start_time, at most a year later",
        ));
    }
    if reason.chars().count() > 200 {
        v.push(FieldViolation::too_long("time_off.reason", 200));
    }
    check(v)?;
    Ok(TimeOffInput {
        staff_id,
        period: Period { start, end },
        reason: reason.clone(),
    })
}

/// A stored service on the wire.
pub fn service(s: &services::Model) -> pb::Service {
    pb::Service {
        name: name_of::<Services>(s.tenant_id, &s.service_id),
        display_name: s.display_name.clone(),
        description: s.description.clone(),
        duration_minutes: s.duration_minutes,
        price_fen: s.price_fen,
        capacity: s.capacity,
        buffer_minutes: s.buffer_minutes,
        deposit_fen: s.deposit_fen,
        active: s.active,
        create_time: Some(timestamp(s.created_at)),
        update_time: Some(timestamp(s.updated_at)),
    }
}

/// A stored resource on the wire.
pub fn staff(s: &staff::Model) -> pb::Staff {
    let w = |w: &Window| pb::TimeWindow {
        start: domain::format_hm(w.start),
        end: domain::format_hm(w.end),
    };
    pb::Staff {
        name: name_of::<Staff>(s.tenant_id, &s.staff_id),
        display_name: s.display_name.clone(),
        kind: match s.kind.as_str() {
            "room" => pb::StaffKind::Room,
            _ => pb::StaffKind::Person,
        } as i32,
        services: services_of(s)
            .iter()
            .map(|id| name_of::<Services>(s.tenant_id, id))
            .collect(),
        weekly_hours: hours_of(s)
            .iter()
            .map(|d| pb::WeeklyHours {
                weekday: i32::from(d.weekday),
                windows: d.windows.iter().map(w).collect(),
                breaks: d.breaks.iter().map(w).collect(),
            })
            .collect(),
        active: s.active,
        create_time: Some(timestamp(s.created_at)),
        update_time: Some(timestamp(s.updated_at)),
    }
}

/// A stored time off on the wire.
pub fn time_off(o: &time_offs::Model) -> pb::TimeOff {
    pb::TimeOff {
        name: name_of::<TimeOffs>(o.tenant_id, &o.time_off_id),
        staff: if o.staff_id.is_empty() {
            String::new()
        } else {
            name_of::<Staff>(o.tenant_id, &o.staff_id)
        },
        start_time: Some(timestamp(o.starts_at)),
        end_time: Some(timestamp(o.ends_at)),
        reason: o.reason.clone(),
        create_time: Some(timestamp(o.created_at)),
    }
}

/// A slot on the wire.
/// The settings the booking pages read.
pub fn settings(tenant: TenantId, cfg: &crate::domain::Config) -> pb::BookingSettings {
    let small = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    pb::BookingSettings {
        name: crate::names::SettingsName::name(tenant),
        time_zone: cfg.time_zone.clone(),
        utc_offset_minutes: cfg.offset().local_minus_utc() / 60,
        slot_minutes: small(cfg.slot()),
        lead_time_minutes: small(cfg.lead_time_minutes),
        horizon_days: small(cfg.horizon_days),
        cancel_window_hours: small(cfg.cancel_window_hours),
        reschedule_window_hours: small(cfg.reschedule_window_hours),
        hold_minutes: small(cfg.hold_minutes),
        reminder_template_id: cfg.reminder_template_id.trim().to_string(),
    }
}

pub fn slot(tenant: TenantId, s: &SlotView, offset: chrono::FixedOffset) -> pb::Slot {
    pb::Slot {
        service: name_of::<Services>(tenant, &s.service_id),
        staff: name_of::<Staff>(tenant, &s.staff_id),
        start_time: Some(timestamp(s.start)),
        end_time: Some(timestamp(s.end)),
        remaining: s.remaining,
        local_start: domain::local_label(s.start, offset),
    }
}

/// A status on the wire.
pub fn status(s: Status) -> pb::ReservationStatus {
    match s {
        Status::Held => pb::ReservationStatus::Held,
        Status::Confirmed => pb::ReservationStatus::Confirmed,
        Status::Completed => pb::ReservationStatus::Completed,
        Status::NoShow => pb::ReservationStatus::NoShow,
        Status::Cancelled => pb::ReservationStatus::Cancelled,
        Status::Expired => pb::ReservationStatus::Expired,
    }
}

/// A wire status filter.
pub fn status_filter(s: i32) -> Result<&'static str, RequestError> {
    let bad = || RequestError::invalid("statuses", "unknown status");
    Ok(
        match pb::ReservationStatus::try_from(s).map_err(|_| bad())? {
            pb::ReservationStatus::Held => Status::Held,
            pb::ReservationStatus::Confirmed => Status::Confirmed,
            pb::ReservationStatus::Completed => Status::Completed,
            pb::ReservationStatus::NoShow => Status::NoShow,
            pb::ReservationStatus::Cancelled => Status::Cancelled,
            pb::ReservationStatus::Expired => Status::Expired,
            pb::ReservationStatus::Unspecified => return Err(bad()),
        }
        .as_str(),
    )
}

/// A stored reservation on the wire.
pub fn reservation(r: &reservations::Model, offset: chrono::FixedOffset) -> pb::Reservation {
    let t = r.tenant_id;
    pb::Reservation {
        name: name_of::<Reservations>(t, &r.reservation_id),
        service: name_of::<Services>(t, &r.service_id),
        staff: name_of::<Staff>(t, &r.staff_id),
        customer: if r.customer_id.is_empty() {
            String::new()
        } else {
            name_of::<Users>(t, &r.customer_id)
        },
        status: Status::parse(&r.status).map_or(pb::ReservationStatus::Unspecified, status) as i32,
        start_time: Some(timestamp(r.starts_at)),
        end_time: Some(timestamp(r.ends_at)),
        local_start: domain::local_label(r.starts_at, offset),
        price_fen: r.price_fen,
        deposit_fen: r.deposit_fen,
        expire_time: (r.status == Status::Held.as_str()).then(|| timestamp(r.expires_at)),
        cancel_reason: match r.cancel_reason.as_str() {
            "customer" => pb::CancelReason::Customer,
            "shop" => pb::CancelReason::Shop,
            _ => pb::CancelReason::Unspecified,
        } as i32,
        contact_name: r.contact_name.clone(),
        contact_phone: r.contact_phone.clone(),
        note: r.note.clone(),
        create_time: Some(timestamp(r.created_at)),
        update_time: Some(timestamp(r.updated_at)),
        deposit_status: match Deposit::parse(&r.deposit_status) {
            Some(Deposit::None) => pb::DepositStatus::None,
            Some(Deposit::Unpaid) => pb::DepositStatus::Unpaid,
            Some(Deposit::Paid) => pb::DepositStatus::Paid,
            Some(Deposit::Refunding) => pb::DepositStatus::Refunding,
            Some(Deposit::Refunded) => pb::DepositStatus::Refunded,
            None => pb::DepositStatus::Unspecified,
        } as i32,
        remind: r.remind,
        transaction_id: r.transaction_id.clone().unwrap_or_default(),
        deposit_discount_fen: r.discount_fen,
        discounts: serde_json::from_str::<Vec<crate::domain::DepositDiscount>>(&r.discounts)
            .unwrap_or_default()
            .into_iter()
            .map(|d| pb::DepositDiscount {
                source: d.source,
                kind: d.kind,
                label_zh: d.label_zh,
                label_en: d.label_en,
                amount_fen: d.amount_fen,
            })
            .collect(),
    }
}
