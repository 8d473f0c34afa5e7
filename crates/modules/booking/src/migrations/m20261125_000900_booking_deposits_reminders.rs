//! Deposits paid through WeChat Pay and reminders through WeChat subscribe messages.
//!
//! Reservations gain the deposit's state, WeChat's prepay and transaction ids, and whether the
//! customer agreed to a reminder. `booking_pay_notifications` records WeChat Pay notifications
//! already applied. `booking_outbox` holds one row per message to send (unique per reservation
//! and kind), written in the transaction that confirms, moves or cancels the booking, and worked
//! by a sender that claims rows with a conditional update, so a message is never sent twice.

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{id, int, str_, text, ts, ts_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000900_booking_deposits_reminders"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for col in [
            ColumnDef::new("deposit_status")
                .string_len(16)
                .not_null()
                .default("none")
                .to_owned(),
            ColumnDef::new("prepay_id")
                .string_len(128)
                .null()
                .to_owned(),
            ColumnDef::new("transaction_id")
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new("remind")
                .boolean()
                .not_null()
                .default(false)
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
        manager
            .create_table(
                Table::create()
                    .table("booking_pay_notifications")
                    .col(id("tenant_id"))
                    .col(str_("notification_id", 64))
                    .col(str_("event_type", 64))
                    .col(id("reservation_id"))
                    .col(ts("received_at"))
                    .primary_key(Index::create().col("tenant_id").col("notification_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("booking_outbox")
                    .col(id("tenant_id"))
                    .col(id("message_id"))
                    .col(id("reservation_id"))
                    .col(str_("kind", 16))
                    .col(str_("status", 16))
                    .col(ts("due_at"))
                    .col(int("attempts"))
                    .col(ts("next_attempt_at"))
                    .col(text("last_error"))
                    .col(ts_null("sent_at"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("message_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("booking_outbox_one_per_kind")
                    .table("booking_outbox")
                    .col("tenant_id")
                    .col("reservation_id")
                    .col("kind")
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Not led by tenant_id: the sender looks for due messages across tenants.
        manager
            .create_index(
                Index::create()
                    .name("booking_outbox_due")
                    .table("booking_outbox")
                    .col("status")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["booking_outbox", "booking_pay_notifications"] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        for c in ["remind", "transaction_id", "prepay_id", "deposit_status"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("booking_reservations")
                        .drop_column(c)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
