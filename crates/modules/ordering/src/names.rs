//! The names ordering writes and reads, each collection declared once (`mm_kernel::names`): its
//! own orders', and those of the contracts it calls.

use mm_kernel::names::Child;

mm_kernel::collections! {
    /// "tenants/{tenant}/orders/{order}".
    Orders = "orders";
    /// The catalog's "tenants/{tenant}/products/{product}", in baskets, lines and stock requests.
    Products = "products";
    /// The catalog's "tenants/{tenant}/categories/{category}", in baskets told to discounters.
    Categories = "categories";
    /// Identity's "tenants/{tenant}/users/{user}": an order's customer, its payment's payer.
    Users = "users";
    /// The payments module's "tenants/{tenant}/payments/{payment}". The paying module chooses
    /// the ids; ordering's are its orders' ids (UUIDs without dashes), so it takes no other.
    Payments = "payments";
}

/// "tenants/{tenant}/orders/{order}".
pub type OrderName = Child<Orders>;
/// The catalog's "tenants/{tenant}/products/{product}".
pub type ProductName = Child<Products>;
/// The payments module's "tenants/{tenant}/payments/{payment}".
pub type PaymentName = Child<Payments>;
