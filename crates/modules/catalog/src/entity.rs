//! sea-orm entities, hand-written to match migrations/src/catalog; they never leave repo.rs and
//! service.rs. Every table here belongs to a tenant: its `tenant_id` is a [`mm_kernel::TenantId`],
//! and [`mm_kernel::tenant_owned!`] lets a [`mm_kernel::TenantScope`] write the tenant filter.

mm_kernel::tenant_owned!(state, categories, products, skus, reservations);

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

/// `catalog_state`: the menu version of each tenant.
pub mod state {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_state")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        pub menu_version: i64,
        pub updated_at: ChronoDateTimeUtc,
        /// The menu at a version (eight bytes, big-endian) then the menu (protobuf); stale when
        /// that version is not `menu_version`.
        #[sea_orm(column_type = "Blob", nullable)]
        pub menu: Option<Vec<u8>>,
    }

    no_relations!();
}

/// `catalog_categories`.
pub mod categories {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_categories")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub category_id: String,
        pub display_name_zh: String,
        pub display_name_en: String,
        pub sort_order: i32,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

/// `catalog_products`.
pub mod products {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_products")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: String,
        pub category_id: String,
        pub display_name_zh: String,
        pub display_name_en: String,
        pub description: String,
        pub image_urls: String,
        pub tags: String,
        pub on_sale: bool,
        pub sort_order: i32,
        pub version: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}

/// `catalog_skus`: one row per SKU; `stock` NULL is unlimited.
pub mod skus {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_skus")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub product_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub sku_id: String,
        pub specs: String,
        pub price_fen: i64,
        pub stock: Option<i64>,
        pub position: i32,
    }

    no_relations!();
}

/// `catalog_reservations`: stock taken for one reservation id, as JSON items.
pub mod reservations {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_reservations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub reservation_id: String,
        pub items: String,
        pub released: bool,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    no_relations!();
}
