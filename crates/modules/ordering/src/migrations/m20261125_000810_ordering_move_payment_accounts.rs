//! Merchant accounts now belong to the tenant module (`tenant_payment_accounts`, created by the
//! migration just before this one) so booking deposits use the same account as orders. Ordering
//! hands its rows over and drops its table; it is the only reader of its own table, so the copy
//! happens here rather than in the tenant module.

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{str_, text, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000810_ordering_move_payment_accounts"
    }
}

const COLUMNS: &str = "tenant_id, appid, mchid, merchant_serial_no, private_key_enc, \
    apiv3_key_enc, platform_key_id, platform_public_key_pem, created_at, updated_at";

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO tenant_payment_accounts ({COLUMNS}) \
                 SELECT {COLUMNS} FROM ordering_payment_accounts"
            ))
            .await?;
        manager
            .drop_table(Table::drop().table("ordering_payment_accounts").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("ordering_payment_accounts")
                    .col(str_("tenant_id", 36).primary_key())
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
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO ordering_payment_accounts ({COLUMNS}) \
                 SELECT {COLUMNS} FROM tenant_payment_accounts"
            ))
            .await?;
        Ok(())
    }
}
