//! sea-orm entities, hand-written to match migrations/src/tenant. They never leave repo.rs and
//! service.rs: the gRPC layer sees proto types, converted in convert.rs.

/// `tenants`: one row per tenant; the root of tenancy.
pub mod tenants {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: mm_kernel::TenantId,
        pub slug: String,
        pub display_name_zh: String,
        pub display_name_en: String,
        pub industry: String,
        pub wechat_appid: Option<String>,
        pub status: String,
        pub branding: String,
        pub config_version: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `tenant_modules`: a module's state and config for one tenant; key (tenant_id, module_id).
pub mod tenant_modules {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenant_modules")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: mm_kernel::TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub module_id: String,
        pub enabled: bool,
        pub config: Option<String>,
        pub config_version: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mm_kernel::tenant_owned!(tenants, tenant_modules);
