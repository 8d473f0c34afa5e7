//! Rows to proto messages and proto input to domain input, in one place.

use mm_kernel::TenantId;
use mm_kernel::error::{FieldViolation, RequestError};
use mm_kernel::json::timestamp as ts;
use mm_kernel::names::{name_of, tenant_name};
use mm_proto::minimodules::ordering::v1 as pb;

use crate::domain::{Discount, Line, Mode, PayMethod, Status};
use crate::entity::orders;
use crate::names::{Orders, ProductName, Products, Users};
use crate::service::{Address, Basket, CouponChoice, Fulfilment};
use crate::upstream::ItemRef;

/// A status to proto.
pub fn status(s: Status) -> pb::OrderStatus {
    match s {
        // Never shown; mapped for completeness.
        Status::Creating => pb::OrderStatus::Unspecified,
        Status::PendingPayment => pb::OrderStatus::PendingPayment,
        Status::Paid => pb::OrderStatus::Paid,
        Status::Accepted => pb::OrderStatus::Accepted,
        Status::Preparing => pb::OrderStatus::Preparing,
        Status::Ready => pb::OrderStatus::Ready,
        Status::Completed => pb::OrderStatus::Completed,
        Status::Cancelled => pb::OrderStatus::Cancelled,
        Status::Refunding => pb::OrderStatus::Refunding,
        Status::Refunded => pb::OrderStatus::Refunded,
    }
}

/// A proto status filter to domain.
pub fn status_filter(v: &[i32]) -> Result<Vec<Status>, RequestError> {
    v.iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(match pb::OrderStatus::try_from(*s) {
                Ok(pb::OrderStatus::PendingPayment) => Status::PendingPayment,
                Ok(pb::OrderStatus::Paid) => Status::Paid,
                Ok(pb::OrderStatus::Accepted) => Status::Accepted,
                Ok(pb::OrderStatus::Preparing) => Status::Preparing,
                Ok(pb::OrderStatus::Ready) => Status::Ready,
                Ok(pb::OrderStatus::Completed) => Status::Completed,
                Ok(pb::OrderStatus::Cancelled) => Status::Cancelled,
                Ok(pb::OrderStatus::Refunding) => Status::Refunding,
                Ok(pb::OrderStatus::Refunded) => Status::Refunded,
                Ok(pb::OrderStatus::Unspecified) | Err(_) => {
                    return Err(RequestError::invalid(
                        format!("statuses[{i}]"),
                        "not a status",
                    ));
                }
            })
        })
        .collect()
}

fn mode(m: Mode) -> pb::FulfilmentMode {
    match m {
        Mode::DineIn => pb::FulfilmentMode::DineIn,
        Mode::Takeaway => pb::FulfilmentMode::Takeaway,
        Mode::Delivery => pb::FulfilmentMode::Delivery,
    }
}

/// A payment method from proto.
pub fn pay_method(m: i32) -> Result<PayMethod, RequestError> {
    match pb::PaymentMethod::try_from(m) {
        Ok(pb::PaymentMethod::WechatPay) => Ok(PayMethod::WechatPay),
        Ok(pb::PaymentMethod::Counter) => Ok(PayMethod::Counter),
        _ => Err(RequestError::invalid(
            "method",
            "choose WECHAT_PAY or COUNTER",
        )),
    }
}

/// A priced line to proto.
pub fn line(tenant: TenantId, l: &Line) -> pb::LineItem {
    pb::LineItem {
        product: name_of::<Products>(tenant, &l.product_id),
        sku_id: l.sku_id.clone(),
        display_name_zh: l.name_zh.clone(),
        spec_summary: l.spec_summary.clone(),
        unit_price_fen: l.unit_price_fen,
        quantity: i32::try_from(l.quantity).unwrap_or(i32::MAX),
        line_total_fen: l.total_fen(),
        available: l.available,
    }
}

/// An order row to proto.
pub fn order(o: &orders::Model) -> pb::Order {
    let lines: Vec<Line> = serde_json::from_str(&o.items).unwrap_or_default();
    let address: Option<Address> = serde_json::from_str(&o.address).ok();
    let tenant = o.tenant_id;
    pb::Order {
        name: name_of::<Orders>(tenant, &o.order_id),
        order_number: o.order_number.clone(),
        customer: name_of::<Users>(tenant, &o.customer_id),
        status: Status::parse(&o.status).map_or(pb::OrderStatus::Unspecified, status) as i32,
        items: lines.iter().map(|l| line(tenant, l)).collect(),
        amounts: Some(pb::Amounts {
            items_fen: o.items_fen,
            packaging_fee_fen: o.packaging_fee_fen,
            total_fen: o.total_fen,
            discount_fen: o.discount_fen,
        }),
        fulfilment: Some(pb::Fulfilment {
            mode: Mode::parse(&o.fulfilment_mode).map_or(pb::FulfilmentMode::Unspecified, mode)
                as i32,
            table: o.table_no.clone(),
            address: address.map(|a| pb::Address {
                contact_name: a.contact_name,
                phone: a.phone,
                region: a.region,
                detail: a.detail,
            }),
        }),
        remark: o.remark.clone(),
        payment_method: match PayMethod::parse(&o.payment_method) {
            Some(PayMethod::WechatPay) => pb::PaymentMethod::WechatPay,
            Some(PayMethod::Counter) => pb::PaymentMethod::Counter,
            None => pb::PaymentMethod::Unspecified,
        } as i32,
        cancel_reason: match o.cancel_reason.as_str() {
            "customer" => pb::CancelReason::Customer,
            "shop" => pb::CancelReason::Shop,
            "expired" => pb::CancelReason::Expired,
            _ => pb::CancelReason::Unspecified,
        } as i32,
        expire_time: Some(ts(o.expires_at)),
        pay_time: o.paid_at.map(ts),
        create_time: Some(ts(o.created_at)),
        update_time: Some(ts(o.updated_at)),
        transaction_id: o.transaction_id.clone().unwrap_or_default(),
        refunded_fen: o.refunded_fen,
        discounts: serde_json::from_str::<Vec<Discount>>(&o.discounts)
            .unwrap_or_default()
            .into_iter()
            .map(discount)
            .collect(),
    }
}

fn text(field: &str, value: &str, max: usize, v: &mut Vec<FieldViolation>) {
    if value.trim().is_empty() {
        v.push(FieldViolation::required(field));
    } else if value.chars().count() > max {
        v.push(FieldViolation::too_long(field, max));
    }
}

/// Parses a basket: 1 to 100 lines, quantities 1 to 999, products of this tenant (the same SKU
/// twice is merged), and a fulfilment the mode's rules accept.
pub fn basket(
    tenant: TenantId,
    items: &[pb::LineItemRequest],
    fulfilment: Option<&pb::Fulfilment>,
    coupon: &str,
    no_coupon: bool,
) -> Result<Basket, RequestError> {
    let mut v = Vec::new();
    // The coupon's name is the discounting module's; ordering checks only that it is one of
    // this shop's and passes it on.
    let coupon = if no_coupon {
        CouponChoice::None
    } else if coupon.is_empty() {
        CouponChoice::Best
    } else {
        let own = format!("{}/", tenant_name(tenant));
        if !coupon.starts_with(&own)
            || coupon.len() > 200
            || !coupon.chars().all(|c| c.is_ascii_graphic())
        {
            v.push(FieldViolation::new(
                "coupon",
                "must be a coupon of this shop",
            ));
        }
        CouponChoice::Picked(coupon.to_string())
    };
    if items.is_empty() || items.len() > 100 {
        v.push(FieldViolation::new("items", "1 to 100 items"));
    }
    let mut out: Vec<ItemRef> = Vec::new();
    for (i, it) in items.iter().enumerate().take(100) {
        let field = format!("items[{i}].product");
        let product_id = match ProductName::parse(&it.product, &field).map(ProductName::into_parts)
        {
            Ok((t, _)) if t != tenant => {
                v.push(FieldViolation::new(
                    field,
                    "the product belongs to another shop",
                ));
                continue;
            }
            Ok((_, id)) => id,
            Err(RequestError::Invalid(mut e)) => {
                v.append(&mut e);
                continue;
            }
            Err(e) => return Err(e),
        };
        if !(1..=999).contains(&it.quantity) {
            v.push(FieldViolation::out_of_range(
                format!("items[{i}].quantity"),
                1,
                999,
            ));
            continue;
        }
        if it.sku_id.is_empty() || it.sku_id.len() > 36 {
            v.push(FieldViolation::new(
                format!("items[{i}].sku_id"),
                "is required",
            ));
            continue;
        }
        match out
            .iter_mut()
            .find(|o| o.product_id == product_id && o.sku_id == it.sku_id)
        {
            Some(o) => o.quantity += i64::from(it.quantity),
            None => out.push(ItemRef {
                product_id,
                sku_id: it.sku_id.clone(),
                quantity: i64::from(it.quantity),
            }),
        }
    }
    if out.iter().any(|o| o.quantity > 999) {
        v.push(FieldViolation::new("items", "at most 999 of one item"));
    }
    let f = fulfilment.cloned().unwrap_or_default();
    let m = match pb::FulfilmentMode::try_from(f.mode) {
        Ok(pb::FulfilmentMode::DineIn) => Some(Mode::DineIn),
        Ok(pb::FulfilmentMode::Takeaway) => Some(Mode::Takeaway),
        Ok(pb::FulfilmentMode::Delivery) => Some(Mode::Delivery),
        _ => {
            v.push(FieldViolation::new(
                "fulfilment.mode",
                "choose DINE_IN, TAKEAWAY or DELIVERY",
            ));
            None
        }
    };
    let mut address = None;
    match m {
        Some(Mode::DineIn) => text("fulfilment.table", &f.table, 32, &mut v),
        Some(Mode::Delivery) => {
            let a = f.address.clone().unwrap_or_default();
            text(
                "fulfilment.address.contact_name",
                &a.contact_name,
                64,
                &mut v,
            );
            text("fulfilment.address.phone", &a.phone, 32, &mut v);
            text("fulfilment.address.region", &a.region, 128, &mut v);
            text("fulfilment.address.detail", &a.detail, 256, &mut v);
            address = Some(Address {
                contact_name: a.contact_name.trim().to_string(),
                phone: a.phone.trim().to_string(),
                region: a.region.trim().to_string(),
                detail: a.detail.trim().to_string(),
            });
        }
        _ => {}
    }
    if !v.is_empty() {
        return Err(RequestError::Invalid(v));
    }
    Ok(Basket {
        items: out,
        fulfilment: Fulfilment {
            mode: m.unwrap_or(Mode::Takeaway),
            table: if m == Some(Mode::DineIn) {
                f.table.trim().to_string()
            } else {
                String::new()
            },
            address,
        },
        coupon,
        use_points: false,
    })
}

/// A stored discount to proto (which module granted it stays ordering's to know).
pub fn discount(d: Discount) -> pb::Discount {
    pb::Discount {
        source: d.source,
        kind: d.kind,
        label_zh: d.label_zh,
        label_en: d.label_en,
        amount_fen: d.amount_fen,
    }
}
