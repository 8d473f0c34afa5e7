//! tonic handlers: read the context, parse and check the request, call the use case, convert back.

use mm_kernel::error::RequestError;
use mm_kernel::ids::tenant_from_name;
use mm_kernel::names::Child;
use mm_kernel::{RequestContext, TenantId};
use mm_proto::minimodules::marketing::v1 as pb;
use mm_proto::minimodules::ordering::v1 as opb;
use pb::booking_discounts_server::BookingDiscounts;
use pb::coupon_service_server::CouponService;
use pb::member_service_server::MemberService;
use pb::order_discounts_server::OrderDiscounts;
use pb::promotion_service_server::PromotionService;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::names::{MemberName, PromotionName, TemplateName, Users};
use crate::promotions::{self, PromotionChanges};
use crate::repo::{self, TemplateChanges};
use crate::service::MarketingApp;

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> Reply<T> {
    Ok(Response::new(v))
}

fn template_name(name: &str, field: &str) -> Result<(TenantId, String), RequestError> {
    Ok(TemplateName::parse(name, field)?.into_parts())
}

fn states(v: &[i32]) -> Result<Vec<repo::Seen>, RequestError> {
    v.iter()
        .map(|s| match pb::CouponState::try_from(*s) {
            Ok(pb::CouponState::Available) => Ok(repo::Seen::Available),
            Ok(pb::CouponState::Locked) => Ok(repo::Seen::Locked),
            Ok(pb::CouponState::Used) => Ok(repo::Seen::Used),
            Ok(pb::CouponState::Expired) => Ok(repo::Seen::Expired),
            _ => Err(RequestError::invalid("states", "unknown coupon state")),
        })
        .collect()
}

#[tonic::async_trait]
impl CouponService for MarketingApp {
    async fn create_coupon_template(
        &self,
        req: Request<pb::CreateCouponTemplateRequest>,
    ) -> Reply<pb::CreateCouponTemplateResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let t = r.template.clone().unwrap_or_default();
        let row = self.create_template(&ctx, tenant, &t).await?;
        ok(pb::CreateCouponTemplateResponse {
            template: Some(convert::template(&row)),
        })
    }

    async fn get_coupon_template(
        &self,
        req: Request<pb::GetCouponTemplateRequest>,
    ) -> Reply<pb::GetCouponTemplateResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, id) = template_name(&req.get_ref().name, "name")?;
        let row = self.get_template(&ctx, tenant, &id).await?;
        ok(pb::GetCouponTemplateResponse {
            template: Some(convert::template(&row)),
        })
    }

    async fn list_coupon_templates(
        &self,
        req: Request<pb::ListCouponTemplatesRequest>,
    ) -> Reply<pb::ListCouponTemplatesResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let (rows, next) = self
            .list_templates(&ctx, tenant, r.page_size, &r.page_token)
            .await?;
        ok(pb::ListCouponTemplatesResponse {
            templates: rows.iter().map(convert::template).collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn update_coupon_template(
        &self,
        req: Request<pb::UpdateCouponTemplateRequest>,
    ) -> Reply<pb::UpdateCouponTemplateResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let t = r.template.unwrap_or_default();
        let (tenant, id) = template_name(&t.name, "template.name")?;
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            return Err(RequestError::invalid("update_mask", "name the fields to change").into());
        }
        let mut changes = TemplateChanges::default();
        for p in paths {
            match p.as_str() {
                "title_zh" => changes.title_zh = Some(t.title_zh.trim().to_string()),
                "title_en" => changes.title_en = Some(t.title_en.trim().to_string()),
                "description" => changes.description = Some(t.description.trim().to_string()),
                "total_quantity" => changes.total_quantity = Some(t.total_quantity),
                "claimable" => changes.claimable = Some(t.claimable),
                "state" => {
                    changes.state = Some(match pb::CouponTemplateState::try_from(t.state) {
                        Ok(pb::CouponTemplateState::Active) => repo::ACTIVE,
                        Ok(pb::CouponTemplateState::Stopped) => repo::STOPPED,
                        _ => {
                            return Err(RequestError::invalid(
                                "template.state",
                                "must be ACTIVE or STOPPED",
                            )
                            .into());
                        }
                    });
                }
                other => {
                    return Err(RequestError::invalid(
                        "update_mask",
                        format!("unknown or unchangeable field {other:?}"),
                    )
                    .into());
                }
            }
        }
        let row = self.update_template(&ctx, tenant, &id, changes).await?;
        ok(pb::UpdateCouponTemplateResponse {
            template: Some(convert::template(&row)),
        })
    }

    async fn claim_coupon(
        &self,
        req: Request<pb::ClaimCouponRequest>,
    ) -> Reply<pb::ClaimCouponResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let (tenant, id) = template_name(&r.template, "template")?;
        let held = self.claim(&ctx, tenant, &id, &r.request_id).await?;
        ok(pb::ClaimCouponResponse {
            coupon: Some(convert::coupon(&held, self.clock.now())),
        })
    }

    async fn issue_coupon(
        &self,
        req: Request<pb::IssueCouponRequest>,
    ) -> Reply<pb::IssueCouponResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let (tenant, id) = template_name(&r.template, "template")?;
        let customer = Child::<Users>::id_in(tenant, &r.customer, "customer")?;
        let held = self
            .issue(&ctx, tenant, &id, &customer, &r.request_id)
            .await?;
        ok(pb::IssueCouponResponse {
            coupon: Some(convert::coupon(&held, self.clock.now())),
        })
    }

    async fn list_coupons(
        &self,
        req: Request<pb::ListCouponsRequest>,
    ) -> Reply<pb::ListCouponsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let customer = Child::<Users>::opt_id_in(tenant, &r.customer, "customer")?;
        let states = states(&r.states)?;
        let (rows, next) = MarketingApp::list_coupons(
            self,
            &ctx,
            tenant,
            customer,
            &states,
            r.page_size,
            &r.page_token,
        )
        .await?;
        let now = self.clock.now();
        ok(pb::ListCouponsResponse {
            coupons: rows.iter().map(|h| convert::coupon(h, now)).collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }
}

#[tonic::async_trait]
impl OrderDiscounts for MarketingApp {
    async fn quote_discounts(
        &self,
        req: Request<opb::QuoteDiscountsRequest>,
    ) -> Reply<opb::QuoteDiscountsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        ok(self.quote(&ctx, tenant, r.basket.as_ref()).await?)
    }

    async fn lock_discounts(
        &self,
        req: Request<opb::LockDiscountsRequest>,
    ) -> Reply<opb::LockDiscountsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = crate::names::OrderName::parse(&r.order, "order")?.tenant();
        let discounts = self.lock(&ctx, tenant, &r.order, r.basket.as_ref()).await?;
        ok(opb::LockDiscountsResponse { discounts })
    }

    async fn on_order_discount_event(
        &self,
        req: Request<opb::OnOrderDiscountEventRequest>,
    ) -> Reply<opb::OnOrderDiscountEventResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = crate::names::OrderName::parse(&r.order, "order")?.tenant();
        let kind = opb::OrderDiscountEventKind::try_from(r.kind)
            .unwrap_or(opb::OrderDiscountEventKind::Unspecified);
        let applied = self
            .on_order_event(&ctx, tenant, &r.order, kind, r.total_fen, &r.customer)
            .await?;
        ok(opb::OnOrderDiscountEventResponse { applied })
    }
}

#[tonic::async_trait]
impl MemberService for MarketingApp {
    async fn get_member(&self, req: Request<pb::GetMemberRequest>) -> Reply<pb::GetMemberResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, customer) = MemberName::parse(&req.get_ref().name, "name")?.into_parts();
        let view = MarketingApp::get_member(self, &ctx, tenant, &customer).await?;
        ok(pb::GetMemberResponse {
            member: Some(convert::member(&view)),
        })
    }

    async fn list_points_entries(
        &self,
        req: Request<pb::ListPointsEntriesRequest>,
    ) -> Reply<pb::ListPointsEntriesResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let (tenant, customer) = MemberName::parse(&r.parent, "parent")?.into_parts();
        let (rows, next) = self
            .list_entries(&ctx, tenant, &customer, r.page_size, &r.page_token)
            .await?;
        ok(pb::ListPointsEntriesResponse {
            entries: rows.iter().map(convert::entry).collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn adjust_points(
        &self,
        req: Request<pb::AdjustPointsRequest>,
    ) -> Reply<pb::AdjustPointsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let (tenant, customer) = MemberName::parse(&r.member, "member")?.into_parts();
        let (view, entry) = self
            .adjust(&ctx, tenant, &customer, r.delta, &r.reason, &r.request_id)
            .await?;
        ok(pb::AdjustPointsResponse {
            member: Some(convert::member(&view)),
            entry: Some(convert::entry(&entry)),
        })
    }
}

#[tonic::async_trait]
impl PromotionService for MarketingApp {
    async fn create_promotion(
        &self,
        req: Request<pb::CreatePromotionRequest>,
    ) -> Reply<pb::CreatePromotionResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let p = r.promotion.clone().unwrap_or_default();
        let row = self.create_promotion(&ctx, tenant, &p).await?;
        ok(pb::CreatePromotionResponse {
            promotion: Some(promotions::to_pb(&row)),
        })
    }

    async fn list_promotions(
        &self,
        req: Request<pb::ListPromotionsRequest>,
    ) -> Reply<pb::ListPromotionsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let rows = self
            .list_promotions(
                &ctx,
                tenant,
                crate::domain::timestamp(&r.window_start),
                crate::domain::timestamp(&r.window_end),
            )
            .await?;
        ok(pb::ListPromotionsResponse {
            promotions: rows.iter().map(promotions::to_pb).collect(),
        })
    }

    async fn update_promotion(
        &self,
        req: Request<pb::UpdatePromotionRequest>,
    ) -> Reply<pb::UpdatePromotionResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let p = r.promotion.unwrap_or_default();
        let (tenant, id) = PromotionName::parse(&p.name, "promotion.name")?.into_parts();
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            return Err(RequestError::invalid("update_mask", "name the fields to change").into());
        }
        let mut changes = PromotionChanges::default();
        for path in paths {
            match path.as_str() {
                "title_zh" => changes.title_zh = Some(p.title_zh.clone()),
                "title_en" => changes.title_en = Some(p.title_en.clone()),
                "start_time" => {
                    changes.starts_at =
                        Some(crate::domain::timestamp(&p.start_time).ok_or_else(|| {
                            RequestError::invalid("promotion.start_time", "is required")
                        })?);
                }
                "end_time" => {
                    changes.ends_at =
                        Some(crate::domain::timestamp(&p.end_time).ok_or_else(|| {
                            RequestError::invalid("promotion.end_time", "is required")
                        })?);
                }
                "state" => match pb::PromotionState::try_from(p.state) {
                    Ok(pb::PromotionState::Stopped) => changes.stop = true,
                    Ok(pb::PromotionState::Active) => {}
                    _ => {
                        return Err(RequestError::invalid(
                            "promotion.state",
                            "must be ACTIVE or STOPPED",
                        )
                        .into());
                    }
                },
                other => {
                    return Err(RequestError::invalid(
                        "update_mask",
                        format!("unknown or unchangeable field {other:?}"),
                    )
                    .into());
                }
            }
        }
        let row = self.update_promotion(&ctx, tenant, &id, changes).await?;
        ok(pb::UpdatePromotionResponse {
            promotion: Some(promotions::to_pb(&row)),
        })
    }
}

#[tonic::async_trait]
impl BookingDiscounts for MarketingApp {
    async fn lock_deposit_discounts(
        &self,
        req: Request<mm_proto::minimodules::booking::v1::LockDepositDiscountsRequest>,
    ) -> Reply<mm_proto::minimodules::booking::v1::LockDepositDiscountsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let discounts = self.lock_deposit(&ctx, req.get_ref()).await?;
        ok(mm_proto::minimodules::booking::v1::LockDepositDiscountsResponse { discounts })
    }

    async fn on_reservation_discount_event(
        &self,
        req: Request<mm_proto::minimodules::booking::v1::OnReservationDiscountEventRequest>,
    ) -> Reply<mm_proto::minimodules::booking::v1::OnReservationDiscountEventResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let applied = self.on_reservation_event(&ctx, req.get_ref()).await?;
        ok(mm_proto::minimodules::booking::v1::OnReservationDiscountEventResponse { applied })
    }
}
