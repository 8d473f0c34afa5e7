//! sea-orm entities, hand-written to match migrations/src/ordering; they never leave repo.rs and
//! service.rs. Every table is a tenant's (`tenant_id` first in every key), so every entity is
//! [`mm_kernel::scope::TenantOwned`]: its queries start from a `TenantScope`.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

/// `ordering_orders`: one row per order; lines and address as JSON.
pub mod orders {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ordering_orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub order_id: String,
        pub order_number: String,
        pub customer_id: String,
        pub status: String,
        pub items: String,
        pub items_fen: i64,
        pub packaging_fee_fen: i64,
        pub total_fen: i64,
        pub fulfilment_mode: String,
        pub table_no: String,
        pub address: String,
        pub remark: String,
        pub payment_method: String,
        pub cancel_reason: String,
        pub request_id: String,
        pub expires_at: ChronoDateTimeUtc,
        pub paid_at: Option<ChronoDateTimeUtc>,
        pub prepay_id: Option<String>,
        pub transaction_id: Option<String>,
        pub refunded_fen: i64,
        /// The discounts taken off (`crate::domain::Discount` as JSON).
        pub discounts: String,
        pub discount_fen: i64,
        pub version: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

/// `ordering_counters`: the last order number of each shop day.
pub mod counters {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ordering_counters")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: String,
        pub seq: i64,
    }

    no_relations!();
}

/// `ordering_notifications`: WeChat Pay notifications already applied.
pub mod notifications {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ordering_notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub notification_id: String,
        pub event_type: String,
        pub order_id: String,
        pub received_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

/// `ordering_effects`: a step an order still owes another module (see `effects.rs`).
pub mod effects {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ordering_effects")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub order_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub effect: String,
        pub detail: String,
        pub attempts: i32,
        pub due_at: ChronoDateTimeUtc,
        pub last_error: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

mm_kernel::tenant_owned!(orders, counters, notifications, effects);
