//! Categories, products and their SKUs, per tenant, plus a per-tenant menu version bumped by
//! every catalog write (the published menu is cached under it). SKUs have rows of their own
//! because stock is taken from them one row at a time, with conditional updates.

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{id, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000400_catalog_init"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("catalog_state")
                    .col(id("tenant_id").primary_key())
                    .col(ColumnDef::new("menu_version").big_integer().not_null())
                    .col(ts("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("catalog_categories")
                    .col(id("tenant_id"))
                    .col(id("category_id"))
                    .col(ColumnDef::new("display_name_zh").string_len(256).not_null())
                    .col(ColumnDef::new("display_name_en").string_len(256).not_null())
                    .col(ColumnDef::new("sort_order").integer().not_null())
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("category_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("catalog_products")
                    .col(id("tenant_id"))
                    .col(id("product_id"))
                    .col(id("category_id"))
                    .col(ColumnDef::new("display_name_zh").string_len(256).not_null())
                    .col(ColumnDef::new("display_name_en").string_len(256).not_null())
                    .col(ColumnDef::new("description").text().not_null())
                    .col(ColumnDef::new("image_urls").text().not_null())
                    .col(ColumnDef::new("tags").text().not_null())
                    .col(ColumnDef::new("on_sale").boolean().not_null())
                    .col(ColumnDef::new("sort_order").integer().not_null())
                    .col(ColumnDef::new("version").big_integer().not_null())
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("product_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("catalog_products_category_idx")
                    .table("catalog_products")
                    .col("tenant_id")
                    .col("category_id")
                    .col("sort_order")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("catalog_skus")
                    .col(id("tenant_id"))
                    .col(id("product_id"))
                    .col(ColumnDef::new("sku_id").string_len(36).not_null())
                    .col(ColumnDef::new("specs").text().not_null())
                    .col(ColumnDef::new("price_fen").big_integer().not_null())
                    // NULL means unlimited.
                    .col(ColumnDef::new("stock").big_integer().null())
                    .col(ColumnDef::new("position").integer().not_null())
                    .primary_key(
                        Index::create()
                            .col("tenant_id")
                            .col("product_id")
                            .col("sku_id"),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "catalog_skus",
            "catalog_products",
            "catalog_categories",
            "catalog_state",
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
