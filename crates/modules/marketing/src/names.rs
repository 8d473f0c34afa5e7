//! The names marketing writes and reads, each collection declared once (`mm_kernel::names`).

use mm_kernel::names::Child;

mm_kernel::collections! {
    /// "tenants/{tenant}/couponTemplates/{template}".
    CouponTemplates = "couponTemplates";
    /// "tenants/{tenant}/coupons/{coupon}".
    Coupons = "coupons";
    /// "tenants/{tenant}/promotions/{promotion}".
    Promotions = "promotions";
    /// "tenants/{tenant}/members/{user}": a customer as a member (the id is identity's user id).
    Members = "members" (chosen);
    /// Identity's "tenants/{tenant}/users/{user}": a coupon's holder.
    Users = "users" (chosen);
    /// Ordering's "tenants/{tenant}/orders/{order}": the order a coupon is locked to.
    Orders = "orders" (chosen);
    /// Booking's "tenants/{tenant}/reservations/{reservation}": the booking a coupon is locked to.
    Reservations = "reservations" (chosen);
    /// The catalog's "tenants/{tenant}/products/{product}", in a template's scope.
    Products = "products" (chosen);
    /// The catalog's "tenants/{tenant}/categories/{category}", in a template's scope.
    Categories = "categories" (chosen);
}

/// "tenants/{tenant}/couponTemplates/{template}".
pub type TemplateName = Child<CouponTemplates>;
/// "tenants/{tenant}/coupons/{coupon}".
pub type CouponName = Child<Coupons>;
/// "tenants/{tenant}/users/{user}".
pub type UserName = Child<Users>;
/// "tenants/{tenant}/orders/{order}".
pub type OrderName = Child<Orders>;
/// "tenants/{tenant}/members/{user}".
pub type MemberName = Child<Members>;
/// "tenants/{tenant}/promotions/{promotion}".
pub type PromotionName = Child<Promotions>;
