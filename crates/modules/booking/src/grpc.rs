//! tonic handlers: read the context, parse names, call the use case, convert back.

use chrono::Duration;
use mm_kernel::ids::tenant_from_name;
use mm_kernel::names::{Child, Collection};
use mm_kernel::paging::{decode_token, finish_page, page_size};
use mm_kernel::{RequestContext, TenantId, TenantScope};
use mm_proto::minimodules::booking::v1 as pb;
use mm_proto::minimodules::payments::v1 as payments;
use pb::booking_payment_events_server::BookingPaymentEvents;
use pb::booking_service_server::BookingService;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::domain::{Action, Period};
use crate::error::BookingError;
use crate::names::{PaymentName, Reservations, ServiceName, Services, Staff, StaffName, TimeOffs};
use crate::repo::ReservationFilter;
use crate::service::{Booking, BookingApp};

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> Reply<T> {
    Ok(Response::new(v))
}

/// The scope of the tenant of a child name and the child's id, the caller authorized for the
/// tenant first (so another tenant's caller learns nothing, not even whether the request was
/// well-formed).
fn named<C: Collection>(ctx: &RequestContext, name: &str) -> Result<(TenantScope, String), Status> {
    let (t, id) = Child::<C>::parse(name, "name")?.into_parts();
    let scope = ctx.authorize_tenant(&t)?;
    Ok((scope, id))
}

/// The scope of the tenant of a parent name, the caller authorized for it.
fn parent(ctx: &RequestContext, name: &str) -> Result<TenantScope, Status> {
    let t = tenant_from_name(name, "parent")?;
    Ok(ctx.authorize_tenant(&t)?)
}

fn missing(field: &str) -> Status {
    mm_kernel::error::RequestError::invalid(field, "required").into()
}

/// Keyset cursor of reservations: start seconds and id.
fn reservation_key(r: &crate::entity::reservations::Model) -> String {
    format!("{}|{}", r.starts_at.timestamp(), r.reservation_id)
}

impl BookingApp {
    async fn reply_reservation(
        &self,
        tenant: TenantId,
        r: Result<crate::entity::reservations::Model, BookingError>,
    ) -> Result<Option<pb::Reservation>, Status> {
        let r = r?;
        Ok(Some(convert::reservation(&r, self.offset(tenant).await)))
    }

    async fn step_rpc(
        &self,
        req: &Request<impl HasName>,
        action: Action,
    ) -> Result<Option<pb::Reservation>, Status> {
        let ctx = RequestContext::from_request(req)?;
        let (scope, id) = named::<Reservations>(&ctx, req.get_ref().name())?;
        let r = self.advance(&ctx, &scope, &id, action).await;
        self.reply_reservation(scope.tenant(), r).await
    }
}

/// Requests addressed by a reservation name.
trait HasName {
    fn name(&self) -> &str;
}

macro_rules! has_name {
    ($($t:ty),*) => { $(impl HasName for $t { fn name(&self) -> &str { &self.name } })* };
}
has_name!(
    pb::ConfirmReservationRequest,
    pb::CancelReservationRequest,
    pb::CompleteReservationRequest,
    pb::MarkNoShowRequest
);

#[tonic::async_trait]
impl BookingService for BookingApp {
    async fn create_service(
        &self,
        req: Request<pb::CreateServiceRequest>,
    ) -> Reply<pb::CreateServiceResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let input = convert::service_input(r.service.as_ref().ok_or_else(|| missing("service"))?)?;
        let s = self.create_service(&ctx, &scope, input).await?;
        ok(pb::CreateServiceResponse {
            service: Some(convert::service(&s)),
        })
    }

    async fn get_service(
        &self,
        req: Request<pb::GetServiceRequest>,
    ) -> Reply<pb::GetServiceResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (scope, id) = named::<Services>(&ctx, &req.get_ref().name)?;
        let s = self.get_service(&ctx, &scope, &id).await?;
        ok(pb::GetServiceResponse {
            service: Some(convert::service(&s)),
        })
    }

    async fn list_services(
        &self,
        req: Request<pb::ListServicesRequest>,
    ) -> Reply<pb::ListServicesResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let size = page_size(r.page_size)?;
        let after = decode_token("booking.services", &r.page_token)?;
        let rows = self
            .list_services(&ctx, &scope, after.as_deref(), size + 1)
            .await?;
        let (rows, next) = finish_page(rows, size, "booking.services", |s| &s.service_id);
        ok(pb::ListServicesResponse {
            services: rows.iter().map(convert::service).collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn update_service(
        &self,
        req: Request<pb::UpdateServiceRequest>,
    ) -> Reply<pb::UpdateServiceResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let s = req
            .get_ref()
            .service
            .as_ref()
            .ok_or_else(|| missing("service"))?;
        let (tenant, id) = ServiceName::parse(&s.name, "service.name")?.into_parts();
        let scope = ctx.authorize_tenant(&tenant)?;
        let input = convert::service_input(s)?;
        let s = self.update_service(&ctx, &scope, &id, input).await?;
        ok(pb::UpdateServiceResponse {
            service: Some(convert::service(&s)),
        })
    }

    async fn delete_service(
        &self,
        req: Request<pb::DeleteServiceRequest>,
    ) -> Reply<pb::DeleteServiceResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (scope, id) = named::<Services>(&ctx, &req.get_ref().name)?;
        self.delete_service(&ctx, &scope, &id).await?;
        ok(pb::DeleteServiceResponse {})
    }

    async fn create_staff(
        &self,
        req: Request<pb::CreateStaffRequest>,
    ) -> Reply<pb::CreateStaffResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let input = convert::staff_input(
            scope.tenant(),
            r.staff.as_ref().ok_or_else(|| missing("staff"))?,
        )?;
        let s = self.create_staff(&ctx, &scope, input).await?;
        ok(pb::CreateStaffResponse {
            staff: Some(convert::staff(&s)),
        })
    }

    async fn get_staff(&self, req: Request<pb::GetStaffRequest>) -> Reply<pb::GetStaffResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (scope, id) = named::<Staff>(&ctx, &req.get_ref().name)?;
        let s = self.get_staff(&ctx, &scope, &id).await?;
        ok(pb::GetStaffResponse {
            staff: Some(convert::staff(&s)),
        })
    }

    async fn list_staff(&self, req: Request<pb::ListStaffRequest>) -> Reply<pb::ListStaffResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let service = ServiceName::opt_id_in(scope.tenant(), &r.service, "service")?;
        let size = page_size(r.page_size)?;
        let after = decode_token("booking.staff", &r.page_token)?;
        let rows = self
            .list_staff(&ctx, &scope, service.as_deref(), after.as_deref(), size + 1)
            .await?;
        let (rows, next) = finish_page(rows, size, "booking.staff", |s| &s.staff_id);
        ok(pb::ListStaffResponse {
            staff: rows.iter().map(convert::staff).collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn update_staff(
        &self,
        req: Request<pb::UpdateStaffRequest>,
    ) -> Reply<pb::UpdateStaffResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let s = req
            .get_ref()
            .staff
            .as_ref()
            .ok_or_else(|| missing("staff"))?;
        let (tenant, id) = StaffName::parse(&s.name, "staff.name")?.into_parts();
        let scope = ctx.authorize_tenant(&tenant)?;
        let input = convert::staff_input(tenant, s)?;
        let s = self.update_staff(&ctx, &scope, &id, input).await?;
        ok(pb::UpdateStaffResponse {
            staff: Some(convert::staff(&s)),
        })
    }

    async fn delete_staff(
        &self,
        req: Request<pb::DeleteStaffRequest>,
    ) -> Reply<pb::DeleteStaffResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (scope, id) = named::<Staff>(&ctx, &req.get_ref().name)?;
        self.delete_staff(&ctx, &scope, &id).await?;
        ok(pb::DeleteStaffResponse {})
    }

    async fn create_time_off(
        &self,
        req: Request<pb::CreateTimeOffRequest>,
    ) -> Reply<pb::CreateTimeOffResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let input = convert::time_off_input(
            scope.tenant(),
            r.time_off.as_ref().ok_or_else(|| missing("time_off"))?,
        )?;
        let o = self.create_time_off(&ctx, &scope, input).await?;
        ok(pb::CreateTimeOffResponse {
            time_off: Some(convert::time_off(&o)),
        })
    }

    async fn list_time_offs(
        &self,
        req: Request<pb::ListTimeOffsRequest>,
    ) -> Reply<pb::ListTimeOffsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let start = match &r.start_time {
            Some(t) => convert::time(Some(t), "start_time")?,
            None => chrono::Utc::now(),
        };
        let end = match &r.end_time {
            Some(t) => convert::time(Some(t), "end_time")?,
            None => start + Duration::days(180),
        };
        let rows = self
            .list_time_offs(&ctx, &scope, Period { start, end })
            .await?;
        ok(pb::ListTimeOffsResponse {
            time_offs: rows.iter().map(convert::time_off).collect(),
        })
    }

    async fn delete_time_off(
        &self,
        req: Request<pb::DeleteTimeOffRequest>,
    ) -> Reply<pb::DeleteTimeOffResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (scope, id) = named::<TimeOffs>(&ctx, &req.get_ref().name)?;
        self.delete_time_off(&ctx, &scope, &id).await?;
        ok(pb::DeleteTimeOffResponse {})
    }

    async fn get_booking_settings(
        &self,
        req: Request<pb::GetBookingSettingsRequest>,
    ) -> Reply<pb::GetBookingSettingsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let tenant = crate::names::SettingsName::tenant_of(&req.get_ref().name, "name")?;
        let scope = ctx.authorize_tenant(&tenant)?;
        let cfg = self.settings(&ctx, &scope).await?;
        ok(pb::GetBookingSettingsResponse {
            booking_settings: Some(convert::settings(scope.tenant(), &cfg)),
        })
    }

    async fn list_available_slots(
        &self,
        req: Request<pb::ListAvailableSlotsRequest>,
    ) -> Reply<pb::ListAvailableSlotsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let service = ServiceName::id_in(scope.tenant(), &r.service, "service")?;
        let staff = StaffName::opt_id_in(scope.tenant(), &r.staff, "staff")?;
        let from = convert::date(&r.start_date, "start_date")?;
        let to = convert::date(&r.end_date, "end_date")?;
        let (slots, cfg) = self
            .available_slots(&ctx, &scope, &service, staff.as_deref(), from, to)
            .await?;
        let offset = cfg.offset();
        ok(pb::ListAvailableSlotsResponse {
            slots: slots
                .iter()
                .map(|s| convert::slot(scope.tenant(), s, offset))
                .collect(),
            utc_offset_minutes: offset.local_minus_utc() / 60,
            time_zone: cfg.time_zone,
        })
    }

    async fn hold_reservation(
        &self,
        req: Request<pb::HoldReservationRequest>,
    ) -> Reply<pb::HoldReservationResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let b = Booking {
            service_id: ServiceName::id_in(scope.tenant(), &r.service, "service")?,
            staff_id: StaffName::id_in(scope.tenant(), &r.staff, "staff")?,
            start: convert::time(r.start_time.as_ref(), "start_time")?,
            request_id: r.request_id.clone(),
            note: r.note.clone(),
            contact_name: String::new(),
            contact_phone: String::new(),
            remind: r.remind,
            coupon: coupon_of(scope.tenant(), &r.coupon)?,
            no_coupon: r.no_coupon,
        };
        let res = self.book(&ctx, &scope, b, false).await;
        ok(pb::HoldReservationResponse {
            reservation: self.reply_reservation(scope.tenant(), res).await?,
        })
    }

    async fn confirm_reservation(
        &self,
        req: Request<pb::ConfirmReservationRequest>,
    ) -> Reply<pb::ConfirmReservationResponse> {
        ok(pb::ConfirmReservationResponse {
            reservation: self.step_rpc(&req, Action::Confirm).await?,
        })
    }

    async fn cancel_reservation(
        &self,
        req: Request<pb::CancelReservationRequest>,
    ) -> Reply<pb::CancelReservationResponse> {
        ok(pb::CancelReservationResponse {
            reservation: self.step_rpc(&req, Action::Cancel).await?,
        })
    }

    async fn reschedule_reservation(
        &self,
        req: Request<pb::RescheduleReservationRequest>,
    ) -> Reply<pb::RescheduleReservationResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let (scope, id) = named::<Reservations>(&ctx, &r.name)?;
        let start = convert::time(r.start_time.as_ref(), "start_time")?;
        let staff = StaffName::opt_id_in(scope.tenant(), &r.staff, "staff")?;
        let res = self
            .reschedule(&ctx, &scope, &id, start, staff.as_deref())
            .await;
        ok(pb::RescheduleReservationResponse {
            reservation: self.reply_reservation(scope.tenant(), res).await?,
        })
    }

    async fn complete_reservation(
        &self,
        req: Request<pb::CompleteReservationRequest>,
    ) -> Reply<pb::CompleteReservationResponse> {
        ok(pb::CompleteReservationResponse {
            reservation: self.step_rpc(&req, Action::Complete).await?,
        })
    }

    async fn mark_no_show(
        &self,
        req: Request<pb::MarkNoShowRequest>,
    ) -> Reply<pb::MarkNoShowResponse> {
        ok(pb::MarkNoShowResponse {
            reservation: self.step_rpc(&req, Action::NoShow).await?,
        })
    }

    type WatchReservationsStream = mm_kernel::watch::WatchStream<pb::WatchReservationsResponse>;

    async fn watch_reservations(
        &self,
        req: Request<pb::WatchReservationsRequest>,
    ) -> Reply<Self::WatchReservationsStream> {
        use mm_kernel::watch::{TenantWatch, Watched};
        use prost::Message as _;
        let ctx = RequestContext::from_request(&req)?;
        let scope = parent(&ctx, &req.get_ref().parent)?;
        let principal = ctx.principal().map_err(BookingError::from)?.clone();
        let watch = TenantWatch::new(
            &self.cache,
            self.gate.clone(),
            principal,
            scope.tenant(),
            crate::service::TOPIC,
        );
        Ok(Response::new(watch.into_stream(|w| {
            match w {
                Watched::Event(bytes) => pb::ReservationEvent::decode(bytes)
                    .ok()
                    .map(|event| pb::WatchReservationsResponse { event: Some(event) }),
                Watched::Resync => Some(pb::WatchReservationsResponse {
                    event: Some(pb::ReservationEvent {
                        kind: pb::ReservationEventKind::Resync as i32,
                        reservation: None,
                    }),
                }),
            }
        })))
    }

    async fn list_reservations(
        &self,
        req: Request<pb::ListReservationsRequest>,
    ) -> Reply<pb::ListReservationsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let size = page_size(r.page_size)?;
        let bad = || mm_kernel::error::RequestError::invalid("page_token", "malformed page token");
        let after = match decode_token("booking.reservations", &r.page_token)? {
            Some(k) => {
                let (secs, id) = k.split_once('|').ok_or_else(bad)?;
                let secs: i64 = secs.parse().map_err(|_| bad())?;
                Some((
                    chrono::DateTime::from_timestamp(secs, 0).ok_or_else(bad)?,
                    id.to_string(),
                ))
            }
            None => None,
        };
        let staff = StaffName::opt_id_in(scope.tenant(), &r.staff, "staff")?;
        let filter = ReservationFilter {
            customer: None,
            staff: staff.as_deref(),
            from: r
                .start_time
                .as_ref()
                .map(|t| convert::time(Some(t), "start_time"))
                .transpose()?,
            to: r
                .end_time
                .as_ref()
                .map(|t| convert::time(Some(t), "end_time"))
                .transpose()?,
            statuses: r
                .statuses
                .iter()
                .map(|s| convert::status_filter(*s))
                .collect::<Result<_, _>>()?,
        };
        let rows = self
            .list_reservations(&ctx, &scope, filter, after, size + 1)
            .await?;
        let keys: Vec<String> = rows.iter().map(reservation_key).collect();
        let (rows, next) = {
            let paired: Vec<_> = rows.into_iter().zip(keys).collect();
            let (paired, next) = finish_page(paired, size, "booking.reservations", |(_, k)| k);
            (paired.into_iter().map(|(r, _)| r).collect::<Vec<_>>(), next)
        };
        let offset = self.offset(scope.tenant()).await;
        ok(pb::ListReservationsResponse {
            reservations: rows
                .iter()
                .map(|r| convert::reservation(r, offset))
                .collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn get_reservation(
        &self,
        req: Request<pb::GetReservationRequest>,
    ) -> Reply<pb::GetReservationResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (scope, id) = named::<Reservations>(&ctx, &req.get_ref().name)?;
        let res = self.get_reservation(&ctx, &scope, &id).await;
        ok(pb::GetReservationResponse {
            reservation: self.reply_reservation(scope.tenant(), res).await?,
        })
    }

    async fn create_manual_reservation(
        &self,
        req: Request<pb::CreateManualReservationRequest>,
    ) -> Reply<pb::CreateManualReservationResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let scope = parent(&ctx, &r.parent)?;
        let b = Booking {
            service_id: ServiceName::id_in(scope.tenant(), &r.service, "service")?,
            staff_id: StaffName::id_in(scope.tenant(), &r.staff, "staff")?,
            start: convert::time(r.start_time.as_ref(), "start_time")?,
            request_id: r.request_id.clone(),
            note: r.note.clone(),
            contact_name: r.contact_name.clone(),
            contact_phone: r.contact_phone.clone(),
            remind: false,
            coupon: String::new(),
            no_coupon: true,
        };
        let res = self.book(&ctx, &scope, b, true).await;
        ok(pb::CreateManualReservationResponse {
            reservation: self.reply_reservation(scope.tenant(), res).await?,
        })
    }

    async fn pay_deposit(
        &self,
        req: Request<pb::PayDepositRequest>,
    ) -> Reply<pb::PayDepositResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (scope, id) = named::<Reservations>(&ctx, &req.get_ref().name)?;
        let (row, p) = self.pay_deposit(&ctx, &scope, &id).await?;
        ok(pb::PayDepositResponse {
            reservation: self.reply_reservation(scope.tenant(), Ok(row)).await?,
            wechat_pay: Some(pb::WechatPayParams {
                time_stamp: p.time_stamp,
                nonce_str: p.nonce_str,
                package: p.package,
                sign_type: p.sign_type,
                pay_sign: p.pay_sign,
            }),
        })
    }

    async fn refresh_deposit(
        &self,
        req: Request<pb::RefreshDepositRequest>,
    ) -> Reply<pb::RefreshDepositResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (scope, id) = named::<Reservations>(&ctx, &req.get_ref().name)?;
        let res = self.refresh_deposit(&ctx, &scope, &id).await;
        ok(pb::RefreshDepositResponse {
            reservation: self.reply_reservation(scope.tenant(), res).await?,
        })
    }
}

#[tonic::async_trait]
impl BookingPaymentEvents for BookingApp {
    async fn on_payment_event(
        &self,
        req: Request<payments::PaymentEvent>,
    ) -> Reply<payments::PaymentEventAck> {
        let ctx = RequestContext::from_request(&req)?;
        let event = req.get_ref();
        let (tenant, payment) = PaymentName::parse(&event.payment, "payment")?.into_parts();
        let scope = ctx.authorize_tenant(&tenant)?;
        let applied = self.on_payment_event(&scope, &payment, event).await?;
        ok(payments::PaymentEventAck { applied })
    }
}

/// A coupon picked for a deposit: the name is the discounting module's; booking checks only that
/// it is one of this shop's and passes it on.
fn coupon_of(
    tenant: mm_kernel::TenantId,
    coupon: &str,
) -> Result<String, mm_kernel::error::RequestError> {
    let own = format!("{}/coupons/", mm_kernel::names::tenant_name(tenant));
    let ok = coupon.is_empty()
        || (coupon.starts_with(&own)
            && coupon.len() > own.len()
            && coupon.len() <= 200
            && coupon[own.len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if ok {
        Ok(coupon.to_string())
    } else {
        Err(mm_kernel::error::RequestError::invalid(
            "coupon",
            "must be a coupon of this shop",
        ))
    }
}
