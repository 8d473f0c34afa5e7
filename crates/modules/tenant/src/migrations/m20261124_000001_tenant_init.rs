//! Tenants, their modules and module config, and platform operators.
//!
//! `tenants` is the root of tenancy: its primary key is the tenant id itself. Branding is kept as a
//! JSON document on the tenant row, since it is always read and written whole with the tenant.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000001_tenant_init"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("platform_operators")
                    .col(
                        ColumnDef::new("operator_id")
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("display_name").string_len(128).not_null())
                    .col(
                        ColumnDef::new("created_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new("updated_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tenants")
                    .col(
                        ColumnDef::new("tenant_id")
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("slug").string_len(40).not_null())
                    .col(ColumnDef::new("display_name_zh").string_len(256).not_null())
                    .col(ColumnDef::new("display_name_en").string_len(256).not_null())
                    .col(ColumnDef::new("industry").string_len(32).not_null())
                    .col(ColumnDef::new("wechat_appid").string_len(32).null())
                    .col(ColumnDef::new("status").string_len(16).not_null())
                    .col(ColumnDef::new("branding").text().not_null())
                    .col(ColumnDef::new("config_version").big_integer().not_null())
                    .col(
                        ColumnDef::new("created_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new("updated_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Slugs and appids identify a tenant across the platform, so these two are the only
        // platform-wide unique keys; both name the tenant row itself.
        manager
            .create_index(
                Index::create()
                    .name("tenants_slug_key")
                    .table("tenants")
                    .col("slug")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tenants_wechat_appid_key")
                    .table("tenants")
                    .col("wechat_appid")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tenant_modules")
                    .col(ColumnDef::new("tenant_id").string_len(36).not_null())
                    .col(ColumnDef::new("module_id").string_len(64).not_null())
                    .col(ColumnDef::new("enabled").boolean().not_null())
                    .col(ColumnDef::new("config").text().null())
                    .col(ColumnDef::new("config_version").big_integer().not_null())
                    .col(
                        ColumnDef::new("created_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new("updated_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col("tenant_id").col("module_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("tenant_modules_tenant_fk")
                            .from("tenant_modules", "tenant_id")
                            .to("tenants", "tenant_id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("tenant_modules").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("tenants").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("platform_operators").to_owned())
            .await?;
        Ok(())
    }
}
