//! `ordering_effects`: what an order still owes another module or WeChat Pay (give its stock
//! back, refund, close the payment), written in the transaction that changes the order's status
//! and deleted when the other side has confirmed. Rows live only while owed, so the table stays
//! small and the cross-tenant worker reads it whole by due time without an index of its own.
//!
//! Also repairs what the old two-step cancel could lose: every order already called off gets a
//! release (idempotent per order at the catalog, so one already given back changes nothing), and
//! every WeChat refund still open gets asked again (one refund per order at WeChat).

use sea_orm_migration::prelude::*;

use crate::cols::{id, int, str_, text, ts};

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
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO ordering_effects \
             (tenant_id, order_id, effect, detail, attempts, due_at, last_error, created_at, updated_at) \
             SELECT tenant_id, order_id, 'release_stock', '', 0, updated_at, '', updated_at, updated_at \
             FROM ordering_orders \
             WHERE status = 'cancelled' \
             OR (status IN ('refunding', 'refunded') AND cancel_reason <> '')",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO ordering_effects \
             (tenant_id, order_id, effect, detail, attempts, due_at, last_error, created_at, updated_at) \
             SELECT tenant_id, order_id, 'refund', '', 0, updated_at, '', updated_at, updated_at \
             FROM ordering_orders \
             WHERE status = 'refunding' AND payment_method = 'wechat_pay'",
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
