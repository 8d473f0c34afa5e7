//! The resource names identity writes and reads, each collection declared once.

use mm_kernel::names::Child;

mm_kernel::collections! {
    /// "tenants/{tenant}/users/{user}": a tenant's customers, staff and admins. Other modules
    /// name users this way in requests to identity (a reservation's customer, a payment's payer).
    Users = "users";
    /// "tenants/{tenant}/auditEvents/{event}": the tenant's audit log, read through identity.
    AuditEvents = "auditEvents";
}

/// The name of a user.
pub type UserName = Child<Users>;

mm_kernel::singletons! {
    /// "tenants/{tenant}/wechatCredentials": the tenant's mini-program appid and AppSecret.
    WechatCredentials = "wechatCredentials";
}

/// The name of a tenant's mini-program credentials.
pub type WechatCredentialsName = mm_kernel::names::Singleton<WechatCredentials>;
