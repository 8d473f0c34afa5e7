//! sea-orm entities, hand-written to match `migrations/`; they never leave repo.rs and the
//! service. Every table here belongs to a tenant: its `tenant_id` is a [`mm_kernel::TenantId`],
//! and [`mm_kernel::tenant_owned!`] lets a [`mm_kernel::TenantScope`] write the tenant filter.

mm_kernel::tenant_owned!(templates, coupons, members, ledger, promotions);

/// `marketing_coupon_templates`: the terms coupons are claimed under, and their counters.
pub mod templates {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "marketing_coupon_templates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub template_id: String,
        pub title_zh: String,
        pub title_en: String,
        pub description: String,
        /// `crate::domain::Kind`.
        pub kind: String,
        pub amount_off_fen: i64,
        pub percent_off: i32,
        pub cap_fen: i64,
        pub threshold_fen: i64,
        pub free_product_id: String,
        pub free_sku_id: String,
        pub valid_from: Option<ChronoDateTimeUtc>,
        pub valid_until: Option<ChronoDateTimeUtc>,
        pub valid_days: i32,
        pub total_quantity: i32,
        pub per_customer_limit: i32,
        /// JSON arrays of ids.
        pub modules: String,
        pub product_ids: String,
        pub category_ids: String,
        pub stackable: bool,
        pub claimable: bool,
        /// "active" or "stopped".
        pub state: String,
        pub claimed_count: i32,
        pub used_count: i32,
        pub used_order_total_fen: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `marketing_coupons`: one coupon held by one customer.
pub mod coupons {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "marketing_coupons")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub coupon_id: String,
        pub template_id: String,
        pub customer_id: String,
        /// "available", "locked" or "used" (expiry is read from `valid_until`).
        pub state: String,
        pub valid_from: ChronoDateTimeUtc,
        pub valid_until: ChronoDateTimeUtc,
        /// The order holding or having used it; empty when none.
        pub order_id: String,
        /// What it took off that order, in fen.
        pub discount_fen: i64,
        /// What that order came to once paid, in fen.
        pub order_total_fen: i64,
        /// "claimed", "issued" or "welcome".
        pub source: String,
        /// The claim's idempotency key, unique per customer.
        pub request_id: String,
        pub created_at: ChronoDateTimeUtc,
        pub used_at: Option<ChronoDateTimeUtc>,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `marketing_members`: a customer's points.
pub mod members {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "marketing_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: String,
        pub points: i64,
        pub lifetime_points: i64,
        pub lifetime_spend_fen: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `marketing_points_ledger`: one row per change of a member's points.
pub mod ledger {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "marketing_points_ledger")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub entry_id: String,
        pub customer_id: String,
        pub delta: i64,
        pub balance_after: i64,
        /// "order_paid", "order_refunded" or "adjusted".
        pub kind: String,
        /// Unique per tenant: "orders/{o}:earn", "orders/{o}:refund", "adjust/{request}".
        pub source: String,
        pub order_id: String,
        /// The order's paid amount, for an order's entries.
        pub order_fen: i64,
        pub reason: String,
        pub actor: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `marketing_promotions`: a full reduction or a time-limited discount.
pub mod promotions {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "marketing_promotions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub promotion_id: String,
        pub title_zh: String,
        pub title_en: String,
        /// "TIERED" or "PERCENT_OFF".
        pub kind: String,
        /// JSON array of `crate::promotions::Tier`.
        pub tiers: String,
        pub percent_off: i32,
        /// JSON arrays of ids.
        pub product_ids: String,
        pub category_ids: String,
        pub starts_at: ChronoDateTimeUtc,
        pub ends_at: ChronoDateTimeUtc,
        /// "active" or "stopped".
        pub state: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
