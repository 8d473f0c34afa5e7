//! Discounts on orders: `discounts` (the lines taken off, as JSON, each naming the module service
//! that granted it, so what was charged can always be explained and the right module told what
//! became of the order) and `discount_fen` (their sum). Existing orders had none.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_160100_ordering_discounts"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("ordering_orders")
                    .add_column(ColumnDef::new("discounts").text().not_null().default("[]"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("ordering_orders")
                    .add_column(
                        ColumnDef::new("discount_fen")
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for c in ["discount_fen", "discounts"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("ordering_orders")
                        .drop_column(c)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
