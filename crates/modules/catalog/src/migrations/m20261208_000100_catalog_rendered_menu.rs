//! The tenant's published menu, rendered by the transaction that changed it and kept beside its
//! version: the first read after a change reads one row instead of rendering the menu from every
//! category, product and SKU.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000100_catalog_rendered_menu"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Nullable: rows written before this migration (or by an instance of the release before,
        // during a rolling upgrade) have none, and the menu is then rendered from the rows.
        manager
            .alter_table(
                Table::alter()
                    .table("catalog_state")
                    .add_column(ColumnDef::new("menu").blob().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("catalog_state")
                    .drop_column("menu")
                    .to_owned(),
            )
            .await
    }
}
