//! Tenants' WeChat Pay merchant accounts (keys sealed), shared by every module that takes
//! payments (orders, booking deposits). They lived in ordering's `ordering_payment_accounts`
//! until a second module needed them; ordering's next migration moves its rows here.

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{str_, text, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000800_tenant_payment_accounts"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tenant_payment_accounts")
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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("tenant_payment_accounts").to_owned())
            .await
    }
}
