//! The names payments writes and reads, each collection declared once (`mm_kernel::names`).

use mm_kernel::names::Child;

mm_kernel::collections! {
    /// "tenants/{tenant}/payments/{payment}". The paying module chooses the id, which becomes
    /// WeChat's out_trade_no (checked as such by `domain::payment_name`), not a UUID.
    Payments = "payments" (chosen);
    /// Identity's "tenants/{tenant}/users/{user}", a payment's payer. Identity's ids are UUIDs,
    /// but this module only checks that the payer is of the payment's tenant and leaves the id
    /// to identity, which it asks for the payer's openid.
    Users = "users" (chosen);
}

/// "tenants/{tenant}/payments/{payment}".
pub type PaymentName = Child<Payments>;
/// Identity's "tenants/{tenant}/users/{user}".
pub type UserName = Child<Users>;
