//! sea-orm entities, hand-written to match `migrations/`; they never leave repo.rs and the
//! service. Every table here belongs to a tenant: its `tenant_id` is a [`mm_kernel::TenantId`],
//! and [`mm_kernel::tenant_owned!`] lets a [`mm_kernel::TenantScope`] write the tenant filter.

mm_kernel::tenant_owned!(payments);

/// `payments_payments`: one row per payment a paying module started; the payment id is WeChat's
/// out_trade_no.
pub mod payments {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payments_payments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub payment_id: String,
        /// The paying module's `PaymentEvent` method ("/package.Service/Method").
        pub listener: String,
        /// The paying module's id of what is paid.
        pub reference: String,
        /// "tenants/{tenant}/users/{user}".
        pub payer: String,
        pub amount_fen: i64,
        pub description: String,
        /// "open" or "paid" (`crate::domain::Status`).
        pub status: String,
        pub prepay_id: Option<String>,
        pub transaction_id: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
