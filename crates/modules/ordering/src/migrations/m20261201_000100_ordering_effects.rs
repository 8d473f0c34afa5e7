//! `ordering_effects`: what an order still owes another module or WeChat Pay (give its stock
//! back, refund, close the payment), written in the transaction that changes the order's status
//! and deleted when the other side has confirmed. Rows live only while owed, so the table stays
//! small and the cross-tenant worker reads it whole by due time without an index of its own.
//!
//! Nothing is backfilled: stock the old two-step cancel may have lost is deliberately not given
//! back (a shop may have corrected it by hand since, and stock appearing by itself would double
//! it), and refunds asked before this migration are settled by WeChat's notification as before
//! (asking again needs the original request's exact parameters, which were not kept).

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{id, int, str_, text, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000100_ordering_effects"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("ordering_effects")
                    .col(id("tenant_id"))
                    .col(id("order_id"))
                    .col(str_("effect", 16))
                    .col(str_("detail", 200))
                    .col(int("attempts"))
                    .col(ts("due_at"))
                    .col(text("last_error"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(
                        Index::create()
                            .col("tenant_id")
                            .col("order_id")
                            .col("effect"),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("ordering_effects").to_owned())
            .await
    }
}
