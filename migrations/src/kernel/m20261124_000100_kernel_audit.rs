//! The audit log: security events of every module, per tenant. Platform-level events (operator
//! logins) are kept under the tenant id "platform".

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000100_kernel_audit"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_events")
                    .col(ColumnDef::new("tenant_id").string_len(36).not_null())
                    .col(ColumnDef::new("event_id").string_len(36).not_null())
                    .col(ColumnDef::new("actor").string_len(128).not_null())
                    .col(ColumnDef::new("action").string_len(64).not_null())
                    .col(ColumnDef::new("target").string_len(256).not_null())
                    .col(ColumnDef::new("client_address").string_len(64).null())
                    .col(ColumnDef::new("details").text().not_null())
                    .col(
                        ColumnDef::new("created_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col("tenant_id").col("event_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_events").to_owned())
            .await
    }
}
