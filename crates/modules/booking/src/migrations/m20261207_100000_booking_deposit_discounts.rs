//! Discounts on deposits: what marketing (or any module serving booking's discount contract)
//! took off a reservation's deposit, in fen and line by line (JSON), so what was charged can
//! always be explained. `deposit_fen` stays what is left to pay.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_100000_booking_deposit_discounts"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for col in [
            ColumnDef::new("discount_fen")
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new("discounts")
                .text()
                .not_null()
                .default("[]")
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("booking_reservations")
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in ["discounts", "discount_fen"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("booking_reservations")
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
