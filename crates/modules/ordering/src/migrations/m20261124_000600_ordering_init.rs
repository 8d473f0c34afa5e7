//! Orders with their priced lines (JSON: they are always read and written whole with the order),
//! per-day order number counters, the tenants' WeChat Pay merchant accounts (keys sealed) and the
//! WeChat Pay notifications already applied (so a replay changes nothing).

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{fen, id, str_, text, ts, ts_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000600_ordering_init"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("ordering_orders")
                    .col(id("tenant_id"))
                    .col(id("order_id"))
                    .col(str_("order_number", 32))
                    .col(str_("customer_id", 64))
                    .col(str_("status", 24))
                    .col(text("items"))
                    .col(fen("items_fen"))
                    .col(fen("packaging_fee_fen"))
                    .col(fen("total_fen"))
                    .col(str_("fulfilment_mode", 16))
                    .col(str_("table_no", 32))
                    .col(text("address"))
                    .col(text("remark"))
                    .col(str_("payment_method", 16))
                    .col(str_("cancel_reason", 16))
                    .col(str_("request_id", 64))
                    .col(ts("expires_at"))
                    .col(ts_null("paid_at"))
                    .col(ColumnDef::new("prepay_id").string_len(128).null())
                    .col(ColumnDef::new("transaction_id").string_len(64).null())
                    .col(fen("refunded_fen"))
                    .col(ColumnDef::new("version").big_integer().not_null())
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("order_id"))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "ordering_orders_number_key",
                &["tenant_id", "order_number"][..],
                true,
            ),
            (
                "ordering_orders_request_key",
                &["tenant_id", "customer_id", "request_id"][..],
                true,
            ),
            (
                "ordering_orders_customer_idx",
                &["tenant_id", "customer_id", "order_id"][..],
                false,
            ),
            (
                "ordering_orders_status_idx",
                &["tenant_id", "status", "order_id"][..],
                false,
            ),
            // The one index not led by tenant_id: the expiry sweep looks across tenants (in a
            // sharded deployment each shard sweeps its own rows with it).
            (
                "ordering_orders_expiry_idx",
                &["status", "expires_at"][..],
                false,
            ),
        ] {
            let mut idx = Index::create();
            idx.name(name).table("ordering_orders");
            for c in cols {
                idx.col(*c);
            }
            if unique {
                idx.unique();
            }
            manager.create_index(idx.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("ordering_counters")
                    .col(id("tenant_id"))
                    .col(str_("day", 8))
                    .col(ColumnDef::new("seq").big_integer().not_null())
                    .primary_key(Index::create().col("tenant_id").col("day"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ordering_payment_accounts")
                    .col(id("tenant_id").primary_key())
                    .col(str_("appid", 64))
                    .col(str_("mchid", 32))
                    .col(str_("merchant_serial_no", 64))
                    .col(text("private_key_enc"))
                    .col(text("apiv3_key_enc"))
                    .col(str_("platform_key_id", 128))
                    .col(text("platform_public_key_pem"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ordering_notifications")
                    .col(id("tenant_id"))
                    .col(str_("notification_id", 64))
                    .col(str_("event_type", 64))
                    .col(str_("order_id", 36))
                    .col(ts("received_at"))
                    .primary_key(Index::create().col("tenant_id").col("notification_id"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "ordering_notifications",
            "ordering_payment_accounts",
            "ordering_counters",
            "ordering_orders",
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
