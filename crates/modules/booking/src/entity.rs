//! sea-orm entities, hand-written to match migrations/src/booking; they never leave repo.rs and
//! service.rs. Every table is a tenant's (`tenant_id`, behind row-level security on PostgreSQL),
//! so every entity is declared [`mm_kernel::scope::TenantOwned`] and is queried through a
//! [`mm_kernel::TenantScope`].

mm_kernel::tenant_owned!(
    services,
    staff,
    time_offs,
    reservations,
    slot_counts,
    pay_notifications,
    outbox,
);

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

/// `booking_services`.
pub mod services {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_services")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub service_id: String,
        pub display_name: String,
        pub description: String,
        pub duration_minutes: i32,
        pub price_fen: i64,
        pub capacity: i32,
        pub buffer_minutes: i32,
        pub deposit_fen: i64,
        pub active: bool,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

/// `booking_staff`: weekly hours as JSON (`Vec<domain::DayHours>`), service ids as a JSON array.
pub mod staff {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_staff")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub staff_id: String,
        pub display_name: String,
        pub kind: String,
        pub service_ids: String,
        pub weekly_hours: String,
        pub active: bool,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

/// `booking_time_offs`: `staff_id` empty for the whole shop.
pub mod time_offs {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_time_offs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub time_off_id: String,
        pub staff_id: String,
        pub starts_at: ChronoDateTimeUtc,
        pub ends_at: ChronoDateTimeUtc,
        pub reason: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

/// `booking_reservations`.
pub mod reservations {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_reservations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub reservation_id: String,
        pub service_id: String,
        pub staff_id: String,
        pub customer_id: String,
        pub booked_by: String,
        pub status: String,
        pub starts_at: ChronoDateTimeUtc,
        pub ends_at: ChronoDateTimeUtc,
        pub cell_start: i64,
        pub cell_count: i32,
        pub cell_minutes: i32,
        pub price_fen: i64,
        pub deposit_fen: i64,
        pub request_id: String,
        pub contact_name: String,
        pub contact_phone: String,
        pub note: String,
        pub cancel_reason: String,
        pub expires_at: ChronoDateTimeUtc,
        pub deposit_status: String,
        pub prepay_id: Option<String>,
        pub transaction_id: Option<String>,
        pub remind: bool,
        /// Taken off the deposit by discounts, in fen.
        pub discount_fen: i64,
        /// The discounts, JSON (`Vec<crate::domain::DepositDiscount>`).
        pub discounts: String,
        pub version: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

/// `booking_slot_counts`: places taken per resource and grid cell.
pub mod slot_counts {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_slot_counts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub staff_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub cell_start: i64,
        pub taken: i32,
    }

    no_relations!();
}

/// `booking_pay_notifications`: WeChat Pay notifications already applied.
pub mod pay_notifications {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_pay_notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub notification_id: String,
        pub event_type: String,
        pub reservation_id: String,
        pub received_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

/// `booking_outbox`: messages to send, one row each.
pub mod outbox {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "booking_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_id: String,
        pub reservation_id: String,
        pub kind: String,
        pub status: String,
        pub due_at: ChronoDateTimeUtc,
        pub attempts: i32,
        pub next_attempt_at: ChronoDateTimeUtc,
        pub last_error: String,
        pub sent_at: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}
