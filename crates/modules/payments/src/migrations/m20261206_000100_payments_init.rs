//! `payments_payments`: one row per payment a paying module started (an order, a booking
//! deposit), keyed by the payment id the paying module chose, which is WeChat's out_trade_no: who
//! pays how much for what, which module hears of it (`listener`, with its `reference`), the
//! prepay and, once paid, WeChat's transaction id.
//!
//! Nothing is backfilled from ordering's or booking's tables: a module reads no other's.

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{fen, id, str_, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000100_payments_init"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("payments_payments")
                    .col(id("tenant_id"))
                    .col(str_("payment_id", 32))
                    .col(str_("listener", 256))
                    .col(str_("reference", 64))
                    .col(str_("payer", 256))
                    .col(fen("amount_fen"))
                    .col(str_("description", 128))
                    .col(str_("status", 16))
                    .col(ColumnDef::new("prepay_id").string_len(64).null())
                    .col(ColumnDef::new("transaction_id").string_len(64).null())
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("payment_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("payments_payments").to_owned())
            .await
    }
}
