//! Rows to the contract's messages.

use chrono::Utc;
use mm_kernel::TenantId;
use mm_kernel::json::timestamp as ts;
use mm_kernel::names::name_of;
use mm_proto::minimodules::marketing::v1 as pb;

use crate::entity::templates;
use crate::names::{Categories, CouponTemplates, Coupons, Members, Orders, Products, Users};
use crate::repo;
use crate::service::{Held, terms_of};

fn names<C: mm_kernel::names::Collection>(t: TenantId, json: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(json)
        .unwrap_or_default()
        .iter()
        .map(|id| name_of::<C>(t, id))
        .collect()
}

/// A template with its usage.
pub fn template(t: &templates::Model) -> pb::CouponTemplate {
    let tenant = t.tenant_id;
    let terms = terms_of(t);
    pb::CouponTemplate {
        name: name_of::<CouponTemplates>(tenant, &t.template_id),
        title_zh: t.title_zh.clone(),
        title_en: t.title_en.clone(),
        description: t.description.clone(),
        kind: terms.kind.to_pb() as i32,
        amount_off_fen: t.amount_off_fen,
        percent_off: t.percent_off,
        cap_fen: t.cap_fen,
        threshold_fen: t.threshold_fen,
        free_product: if t.free_product_id.is_empty() {
            String::new()
        } else {
            name_of::<Products>(tenant, &t.free_product_id)
        },
        free_sku_id: t.free_sku_id.clone(),
        valid_from: t.valid_from.map(ts),
        valid_until: t.valid_until.map(ts),
        valid_days: t.valid_days,
        total_quantity: t.total_quantity,
        per_customer_limit: t.per_customer_limit,
        modules: terms.modules,
        products: names::<Products>(tenant, &t.product_ids),
        categories: names::<Categories>(tenant, &t.category_ids),
        stackable: t.stackable,
        claimable: t.claimable,
        state: if t.state == repo::ACTIVE {
            pb::CouponTemplateState::Active
        } else {
            pb::CouponTemplateState::Stopped
        } as i32,
        claimed_count: t.claimed_count,
        used_count: t.used_count,
        used_order_total_fen: t.used_order_total_fen,
        create_time: Some(ts(t.created_at)),
        update_time: Some(ts(t.updated_at)),
    }
}

/// A coupon with its template's terms; AVAILABLE past its validity reads EXPIRED.
pub fn coupon(h: &Held, now: chrono::DateTime<Utc>) -> pb::Coupon {
    let c = &h.coupon;
    let tenant = c.tenant_id;
    let state = match c.state.as_str() {
        repo::LOCKED => pb::CouponState::Locked,
        repo::USED => pb::CouponState::Used,
        _ if c.valid_until <= now => pb::CouponState::Expired,
        _ => pb::CouponState::Available,
    };
    let mut terms = template(&h.template);
    // The holder sees the terms and what is left to claim, not how the shop's coupons did.
    terms.used_count = 0;
    terms.used_order_total_fen = 0;
    pb::Coupon {
        name: name_of::<Coupons>(tenant, &c.coupon_id),
        template: terms.name.clone(),
        customer: name_of::<Users>(tenant, &c.customer_id),
        state: state as i32,
        terms: Some(terms),
        valid_from: Some(ts(c.valid_from)),
        valid_until: Some(ts(c.valid_until)),
        order: match crate::booking::reservation_of(&c.order_id) {
            _ if c.order_id.is_empty() => String::new(),
            Some(r) => name_of::<crate::names::Reservations>(tenant, r),
            None => name_of::<Orders>(tenant, &c.order_id),
        },
        source: match c.source.as_str() {
            "issued" => pb::CouponSource::Issued,
            "welcome" => pb::CouponSource::Welcome,
            _ => pb::CouponSource::Claimed,
        } as i32,
        create_time: Some(ts(c.created_at)),
        use_time: c.used_at.map(ts),
    }
}

fn level(l: &crate::domain::Level) -> pb::MemberLevel {
    pb::MemberLevel {
        name_zh: l.name_zh.clone(),
        name_en: l.name_en.clone(),
        threshold: l.threshold,
        discount_percent: l.discount_percent,
        perks: l.perks.clone(),
    }
}

/// A member with the level reached.
pub fn member(v: &crate::points::MemberView) -> pb::Member {
    let m = &v.member;
    pb::Member {
        name: name_of::<Members>(m.tenant_id, &m.customer_id),
        customer: name_of::<Users>(m.tenant_id, &m.customer_id),
        points: m.points,
        lifetime_points: m.lifetime_points,
        lifetime_spend_fen: m.lifetime_spend_fen,
        level: v.level.as_ref().map(level),
        next_level: v.next.as_ref().map(level),
    }
}

/// A ledger entry.
pub fn entry(e: &crate::entity::ledger::Model) -> pb::PointsEntry {
    pb::PointsEntry {
        name: format!(
            "{}/pointsEntries/{}",
            name_of::<Members>(e.tenant_id, &e.customer_id),
            e.entry_id
        ),
        delta: e.delta,
        balance_after: e.balance_after,
        kind: if e.kind == crate::points::BOOKING_COMPLETED {
            "BOOKING_COMPLETED".into()
        } else {
            e.kind.to_uppercase()
        },
        order: if e.order_id.is_empty() {
            String::new()
        } else {
            name_of::<Orders>(e.tenant_id, &e.order_id)
        },
        reason: e.reason.clone(),
        create_time: Some(ts(e.created_at)),
    }
}
