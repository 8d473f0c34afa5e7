//! Members and points: `marketing_members` (a customer's balance, what was ever earned and spent,
//! the balance kept at or above zero by a CHECK) and `marketing_points_ledger` (one row per
//! change, its `source` unique per tenant, so an order's points are granted once however often
//! the event repeats).

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{big, create_indexes, fen, id, str_, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_170000_marketing_points"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("marketing_members")
                    .col(id("tenant_id"))
                    .col(str_("customer_id", 64))
                    .col(big("points"))
                    .col(big("lifetime_points"))
                    .col(fen("lifetime_spend_fen"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("customer_id"))
                    .check(Expr::cust("points >= 0"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("marketing_points_ledger")
                    .col(id("tenant_id"))
                    .col(str_("entry_id", 36))
                    .col(str_("customer_id", 64))
                    .col(big("delta"))
                    .col(big("balance_after"))
                    .col(str_("kind", 16))
                    .col(str_("source", 128))
                    .col(str_("order_id", 64))
                    .col(fen("order_fen"))
                    .col(str_("reason", 200))
                    .col(str_("actor", 128))
                    .col(ts("created_at"))
                    .primary_key(Index::create().col("tenant_id").col("entry_id"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            "marketing_points_ledger",
            &[
                (
                    "marketing_points_ledger_source_key",
                    &["tenant_id", "source"][..],
                    true,
                ),
                (
                    "marketing_points_ledger_customer_idx",
                    &["tenant_id", "customer_id", "entry_id"][..],
                    false,
                ),
            ],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("marketing_points_ledger").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("marketing_members").to_owned())
            .await
    }
}
