//! The resource names booking writes and reads, its own and those of the contracts it references,
//! each collection declared once so no handler, conversion or BFF route spells one by hand.

use mm_kernel::names::{Child, Singleton};

mm_kernel::collections! {
    /// "tenants/{tenant}/services/{service}": what can be booked.
    Services = "services";
    /// "tenants/{tenant}/staff/{staff}": the staff members and rooms that perform services.
    Staff = "staff";
    /// "tenants/{tenant}/timeOffs/{time_off}": a staff member's or the whole shop's time off.
    TimeOffs = "timeOffs";
    /// "tenants/{tenant}/reservations/{reservation}".
    Reservations = "reservations";
    /// The identity contract's "tenants/{tenant}/users/{user}": a reservation's customer.
    Users = "users";
    /// The payments contract's "tenants/{tenant}/payments/{payment}". The contract lets the
    /// paying module choose payment ids; booking's are its reservations' out_trade_no (UUIDs
    /// without dashes), so an event naming anything else is refused as malformed.
    Payments = "payments";
}

/// The name of a service.
pub type ServiceName = Child<Services>;
/// The name of a staff member or room.
pub type StaffName = Child<Staff>;
/// The name of a time off.
pub type TimeOffName = Child<TimeOffs>;
/// The name of a reservation.
pub type ReservationName = Child<Reservations>;
/// The name of a customer (identity's user).
pub type UserName = Child<Users>;
/// The name of a deposit's payment (the payments module's).
pub type PaymentName = Child<Payments>;

mm_kernel::singletons! {
    /// "tenants/{tenant}/bookingSettings": the tenant's booking settings.
    Settings = "bookingSettings";
}

/// The name of a tenant's booking settings.
pub type SettingsName = Singleton<Settings>;
