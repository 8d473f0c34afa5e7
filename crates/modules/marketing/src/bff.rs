//! Coupons and the member card for the mini-program: the coupon centre (templates a customer may
//! claim), claiming, the customer's own coupons, their points, level and points history, and the
//! promotions running now. Who may do what and every limit are the marketing service's;
//! this file only shapes JSON.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use mm_kernel::names::{name_of, tenant_name};
use mm_proto::minimodules::marketing::v1 as pb;
use pb::coupon_service_client::CouponServiceClient;
use pb::member_service_client::MemberServiceClient;
use pb::promotion_service_client::PromotionServiceClient;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use mm_bff::error::{ApiError, ErrorBody};
use mm_bff::extract::{Json, Path, Query};
use mm_bff::routes::app::{AppConfigQuery, tenant_of};
use mm_bff::wire::{id_of, rfc3339};

use crate::names::CouponTemplates;

/// A coupon's terms, as the customer reads them.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermsDto {
    /// Template id (claim with it).
    pub id: String,
    /// Title in Chinese, e.g. "满100减20".
    pub title_zh: String,
    /// Title in English (the Chinese one when the shop gave none).
    pub title_en: String,
    /// Usage notes.
    pub description: String,
    /// "amount_off", "percent_off", "threshold" or "free_item".
    pub kind: String,
    /// Amount off in fen (amount_off, threshold).
    pub amount_off_fen: i64,
    /// Percent off (percent_off): 20 means 8折.
    pub percent_off: i32,
    /// The most taken off in fen (percent_off); 0 for no cap.
    pub cap_fen: i64,
    /// The least the order must come to, in fen; 0 for none.
    pub threshold_fen: i64,
    /// The free item's product id (free_item).
    pub free_product_id: String,
    /// Fixed validity start (RFC 3339), when the template has fixed dates.
    pub valid_from: Option<String>,
    /// Fixed validity end (RFC 3339), when the template has fixed dates.
    pub valid_until: Option<String>,
    /// Valid for this many days after claiming, when not fixed.
    pub valid_days: i32,
    /// Which checkouts take it ("ordering", "booking"); empty for all.
    pub modules: Vec<String>,
    /// Limited to some products or categories.
    pub limited_scope: bool,
    /// How many one customer may claim.
    pub per_customer_limit: i32,
    /// How many are left to claim.
    pub remaining: i32,
}

/// A coupon the customer holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponDto {
    /// Coupon id (pick it at checkout).
    pub id: String,
    /// "available", "locked" (held by an unpaid order), "used" or "expired".
    pub state: String,
    /// Its terms.
    pub terms: TermsDto,
    /// Usable from (RFC 3339).
    pub valid_from: String,
    /// Usable until (RFC 3339).
    pub valid_until: String,
    /// The order holding or having used it; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// "claimed", "issued" or "welcome".
    pub source: String,
}

/// The coupon centre.
#[derive(Debug, Serialize, ToSchema)]
pub struct CentreDto {
    /// Templates the customer may claim, newest first.
    pub templates: Vec<TermsDto>,
    /// Continue with this; absent on the last page.
    pub next_page_token: Option<String>,
}

/// A page of the customer's coupons.
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponsPageDto {
    /// Newest first.
    pub coupons: Vec<CouponDto>,
    /// Continue with this; absent on the last page.
    pub next_page_token: Option<String>,
}

/// Paging and the shop.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1 to 100; 20 when absent.
    pub page_size: Option<i32>,
    /// From the previous page.
    pub page_token: Option<String>,
    /// "available", "locked", "used" or "expired"; all when absent.
    pub state: Option<String>,
    /// The mini-program's appid (else the X-WeChat-Appid header).
    pub appid: Option<String>,
}

/// Paging and the shop, for the points history.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PointsQuery {
    /// 1 to 100; 20 when absent.
    pub page_size: Option<i32>,
    /// From the previous page.
    pub page_token: Option<String>,
    /// The mini-program's appid (else the X-WeChat-Appid header).
    pub appid: Option<String>,
}

fn lower(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_lowercase()
}

fn terms(t: pb::CouponTemplate) -> TermsDto {
    let kind = pb::CouponKind::try_from(t.kind)
        .map(|k| lower(k.as_str_name(), "COUPON_KIND_"))
        .unwrap_or_default();
    TermsDto {
        id: id_of(&t.name),
        title_en: if t.title_en.is_empty() {
            t.title_zh.clone()
        } else {
            t.title_en
        },
        title_zh: t.title_zh,
        description: t.description,
        kind,
        amount_off_fen: t.amount_off_fen,
        percent_off: t.percent_off,
        cap_fen: t.cap_fen,
        threshold_fen: t.threshold_fen,
        free_product_id: id_of(&t.free_product),
        valid_from: rfc3339(t.valid_from),
        valid_until: rfc3339(t.valid_until),
        valid_days: t.valid_days,
        modules: t.modules,
        limited_scope: !t.products.is_empty() || !t.categories.is_empty(),
        per_customer_limit: t.per_customer_limit,
        remaining: (t.total_quantity - t.claimed_count).max(0),
    }
}

fn coupon(c: pb::Coupon) -> CouponDto {
    CouponDto {
        id: id_of(&c.name),
        state: pb::CouponState::try_from(c.state)
            .map(|s| lower(s.as_str_name(), "COUPON_STATE_"))
            .unwrap_or_default(),
        terms: terms(c.terms.unwrap_or_default()),
        valid_from: rfc3339(c.valid_from).unwrap_or_default(),
        valid_until: rfc3339(c.valid_until).unwrap_or_default(),
        order_id: (!c.order.is_empty()).then(|| id_of(&c.order)),
        source: pb::CouponSource::try_from(c.source)
            .map(|s| lower(s.as_str_name(), "COUPON_SOURCE_"))
            .unwrap_or_default(),
    }
}

/// The coupon centre: coupons the customer may claim.
#[utoipa::path(get, path = "/api/v1/marketing/coupon-templates", tag = "marketing",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = CentreDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn centre(
    State(state): State<Arc<Shared>>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Json<CentreDto>, ApiError> {
    let app = AppConfigQuery {
        appid: query.appid.clone(),
    };
    let tenant = tenant_of(&state.bff, &app, &headers).await?;
    let r = state
        .coupons
        .clone()
        .list_coupon_templates(mm_bff::forward(
            &headers,
            pb::ListCouponTemplatesRequest {
                parent: tenant_name(tenant),
                page_size: query.page_size.unwrap_or(0),
                page_token: query.page_token.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(CentreDto {
        templates: r.templates.into_iter().map(terms).collect(),
        next_page_token: (!r.next_page_token.is_empty()).then_some(r.next_page_token),
    }))
}

/// Claims a coupon of the coupon centre (idempotent per `Idempotency-Key`).
#[utoipa::path(post, path = "/api/v1/marketing/coupon-templates/{id}/claim", tag = "marketing",
    params(("id" = String, Path, description = "Template id"), AppConfigQuery,
        ("Idempotency-Key" = String, Header, description = "8-64 characters, unique per attempt to claim")),
    security(("bearer" = [])),
    responses((status = 201, body = CouponDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn claim(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<CouponDto>), ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "Idempotency-Key",
                "send a key unique to this attempt to claim",
            )
        })?
        .to_string();
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let c = state
        .coupons
        .clone()
        .claim_coupon(mm_bff::forward(
            &headers,
            pb::ClaimCouponRequest {
                template: name_of::<CouponTemplates>(tenant, &id),
                request_id: key,
            },
        ))
        .await?
        .into_inner()
        .coupon
        .unwrap_or_default();
    Ok((StatusCode::CREATED, Json(coupon(c))))
}

/// The customer's coupons, newest first.
#[utoipa::path(get, path = "/api/v1/marketing/coupons", tag = "marketing", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = CouponsPageDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn my_coupons(
    State(state): State<Arc<Shared>>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Json<CouponsPageDto>, ApiError> {
    let states = match query.state.as_deref() {
        None | Some("") => Vec::new(),
        Some("available") => vec![pb::CouponState::Available as i32],
        Some("locked") => vec![pb::CouponState::Locked as i32],
        Some("used") => vec![pb::CouponState::Used as i32],
        Some("expired") => vec![pb::CouponState::Expired as i32],
        Some(_) => {
            return Err(ApiError::bad_request(
                "state",
                "one of available, locked, used, expired",
            ));
        }
    };
    let app = AppConfigQuery {
        appid: query.appid.clone(),
    };
    let tenant = tenant_of(&state.bff, &app, &headers).await?;
    let r = state
        .coupons
        .clone()
        .list_coupons(mm_bff::forward(
            &headers,
            pb::ListCouponsRequest {
                parent: tenant_name(tenant),
                customer: String::new(),
                states,
                page_size: query.page_size.unwrap_or(0),
                page_token: query.page_token.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(CouponsPageDto {
        coupons: r.coupons.into_iter().map(coupon).collect(),
        next_page_token: (!r.next_page_token.is_empty()).then_some(r.next_page_token),
    }))
}

/// A member level.
#[derive(Debug, Serialize, ToSchema)]
pub struct LevelDto {
    /// Name in Chinese, e.g. "金卡会员".
    pub name_zh: String,
    /// Name in English (the Chinese one when the shop gave none).
    pub name_en: String,
    /// Reached at this lifetime spend (fen) or lifetime points (see `levels_by` in the config).
    pub threshold: i64,
    /// Percent off every order (5 means 95折).
    pub discount_percent: i32,
    /// Perks.
    pub perks: String,
}

/// The customer's member card.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    /// Points that can be spent.
    pub points: i64,
    /// Points ever earned.
    pub lifetime_points: i64,
    /// What the customer's paid orders came to, in fen.
    pub lifetime_spend_fen: i64,
    /// The level reached; absent below the first.
    pub level: Option<LevelDto>,
    /// The next level; absent at the top.
    pub next_level: Option<LevelDto>,
}

/// One change of the customer's points.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointsEntryDto {
    /// Points added (positive) or taken (negative).
    pub delta: i64,
    /// The balance after it.
    pub balance_after: i64,
    /// "ORDER_PAID", "ORDER_REFUNDED" or "ADJUSTED".
    pub kind: String,
    /// The order it came from; absent for adjustments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The shop's reason, for adjustments.
    pub reason: String,
    /// When (RFC 3339).
    pub create_time: String,
}

/// A page of the customer's points history.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointsPageDto {
    /// Newest first.
    pub entries: Vec<PointsEntryDto>,
    /// Continue with this; absent on the last page.
    pub next_page_token: Option<String>,
}

fn level(l: pb::MemberLevel) -> LevelDto {
    LevelDto {
        name_en: if l.name_en.is_empty() {
            l.name_zh.clone()
        } else {
            l.name_en
        },
        name_zh: l.name_zh,
        threshold: l.threshold,
        discount_percent: l.discount_percent,
        perks: l.perks,
    }
}

/// The customer's member card: points and level.
#[utoipa::path(get, path = "/api/v1/marketing/member", tag = "marketing", params(AppConfigQuery),
    security(("bearer" = [])),
    responses((status = 200, body = MemberDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn my_member(
    State(state): State<Arc<Shared>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<MemberDto>, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let m = state
        .members
        .clone()
        .get_member(mm_bff::forward(
            &headers,
            pb::GetMemberRequest {
                // The caller's own, whatever the id: customers only ever see theirs.
                name: format!("{}/members/me", tenant_name(tenant)),
            },
        ))
        .await?
        .into_inner()
        .member
        .unwrap_or_default();
    Ok(Json(MemberDto {
        points: m.points,
        lifetime_points: m.lifetime_points,
        lifetime_spend_fen: m.lifetime_spend_fen,
        level: m.level.map(level),
        next_level: m.next_level.map(level),
    }))
}

/// The customer's points history, newest first.
#[utoipa::path(get, path = "/api/v1/marketing/member/points", tag = "marketing", params(PointsQuery),
    security(("bearer" = [])),
    responses((status = 200, body = PointsPageDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn my_points(
    State(state): State<Arc<Shared>>,
    Query(query): Query<PointsQuery>,
    headers: HeaderMap,
) -> Result<Json<PointsPageDto>, ApiError> {
    let app = AppConfigQuery {
        appid: query.appid.clone(),
    };
    let tenant = tenant_of(&state.bff, &app, &headers).await?;
    let r = state
        .members
        .clone()
        .list_points_entries(mm_bff::forward(
            &headers,
            pb::ListPointsEntriesRequest {
                parent: format!("{}/members/me", tenant_name(tenant)),
                page_size: query.page_size.unwrap_or(0),
                page_token: query.page_token.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(Json(PointsPageDto {
        entries: r
            .entries
            .into_iter()
            .map(|e| PointsEntryDto {
                delta: e.delta,
                balance_after: e.balance_after,
                kind: e.kind,
                order_id: (!e.order.is_empty()).then(|| id_of(&e.order)),
                reason: e.reason,
                create_time: rfc3339(e.create_time).unwrap_or_default(),
            })
            .collect(),
        next_page_token: (!r.next_page_token.is_empty()).then_some(r.next_page_token),
    }))
}

/// One tier of a full reduction.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierDto {
    /// Reached at this much, in fen.
    pub threshold_fen: i64,
    /// Then this is taken off, in fen.
    pub amount_off_fen: i64,
}

/// A promotion running now, as the menu and the basket show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionDto {
    /// Promotion id.
    pub id: String,
    /// Title in Chinese.
    pub title_zh: String,
    /// Title in English (the Chinese one when the shop gave none).
    pub title_en: String,
    /// "tiered" (满减: the highest tier reached takes its amount off) or "percent_off" (each
    /// unit of the products in scope costs `floor(price × percent_off / 100)` fen less).
    pub kind: String,
    /// tiered: the tiers, rising.
    pub tiers: Vec<TierDto>,
    /// percent_off: percent off each unit (20 means 8折).
    pub percent_off: i32,
    /// Only these products count; empty with no categories for every product.
    pub product_ids: Vec<String>,
    /// Only products of these categories count.
    pub category_ids: Vec<String>,
    /// Start (RFC 3339).
    pub start_time: String,
    /// End (RFC 3339).
    pub end_time: String,
}

/// The promotions running now.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromotionsDto {
    /// Running now (at most 50).
    pub promotions: Vec<PromotionDto>,
}

/// The shop's promotions running now: the menu strikes through the prices they lower, the
/// basket shows the next full-reduction tier.
#[utoipa::path(get, path = "/api/v1/marketing/promotions", tag = "marketing",
    params(AppConfigQuery), security(("bearer" = [])),
    responses((status = 200, body = PromotionsDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn promotions(
    State(state): State<Arc<Shared>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<PromotionsDto>, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let r = state
        .promotions
        .clone()
        .list_promotions(mm_bff::forward(
            &headers,
            pb::ListPromotionsRequest {
                parent: tenant_name(tenant),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    Ok(Json(PromotionsDto {
        promotions: r
            .promotions
            .into_iter()
            .map(|p| PromotionDto {
                id: id_of(&p.name),
                title_en: if p.title_en.is_empty() {
                    p.title_zh.clone()
                } else {
                    p.title_en
                },
                title_zh: p.title_zh,
                kind: pb::PromotionKind::try_from(p.kind)
                    .map(|k| lower(k.as_str_name(), "PROMOTION_KIND_"))
                    .unwrap_or_default(),
                tiers: p
                    .tiers
                    .into_iter()
                    .map(|t| TierDto {
                        threshold_fen: t.threshold_fen,
                        amount_off_fen: t.amount_off_fen,
                    })
                    .collect(),
                percent_off: p.percent_off,
                product_ids: p.products.iter().map(|n| id_of(n)).collect(),
                category_ids: p.categories.iter().map(|n| id_of(n)).collect(),
                start_time: rfc3339(p.start_time).unwrap_or_default(),
                end_time: rfc3339(p.end_time).unwrap_or_default(),
            })
            .collect(),
    }))
}

/// This module's state in the BFF.
pub struct Own {
    coupons: CouponServiceClient<mm_kernel::platform::Platform>,
    members: MemberServiceClient<mm_kernel::platform::Platform>,
    promotions: PromotionServiceClient<mm_kernel::platform::Platform>,
}

type Shared = mm_bff::ModuleState<Own>;

/// This module's part of the BFF: its routes and their OpenAPI document.
pub fn def() -> mm_kernel::module::BffDef {
    mm_kernel::module::BffDef {
        routes: |host| {
            mm_bff::module_routes(
                host,
                |bff| Own {
                    coupons: CouponServiceClient::new(bff.channel.clone()),
                    members: MemberServiceClient::new(bff.channel.clone()),
                    promotions: PromotionServiceClient::new(bff.channel.clone()),
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
    paths(centre, claim, my_coupons, my_member, my_points, promotions),
    components(schemas(
        TermsDto,
        CouponDto,
        CentreDto,
        CouponsPageDto,
        LevelDto,
        MemberDto,
        PointsEntryDto,
        PointsPageDto,
        TierDto,
        PromotionDto,
        PromotionsDto
    ))
)]
struct ApiDoc;

/// Routes of this module.
fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/marketing/coupon-templates", get(centre))
        .route("/api/v1/marketing/coupon-templates/{id}/claim", post(claim))
        .route("/api/v1/marketing/coupons", get(my_coupons))
        .route("/api/v1/marketing/member", get(my_member))
        .route("/api/v1/marketing/member/points", get(my_points))
        .route("/api/v1/marketing/promotions", get(promotions))
}
