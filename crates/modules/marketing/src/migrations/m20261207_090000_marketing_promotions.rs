//! Promotions: `marketing_promotions`, one row per full reduction (its tiers as JSON) or
//! time-limited discount, found at checkout by the tenant's running ones (state, then end).

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{create_indexes, id, int, str_, text, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_090000_marketing_promotions"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("marketing_promotions")
                    .col(id("tenant_id"))
                    .col(str_("promotion_id", 36))
                    .col(str_("title_zh", 40))
                    .col(str_("title_en", 80))
                    .col(str_("kind", 16))
                    .col(text("tiers"))
                    .col(int("percent_off"))
                    .col(text("product_ids"))
                    .col(text("category_ids"))
                    .col(ts("starts_at"))
                    .col(ts("ends_at"))
                    .col(str_("state", 16))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("promotion_id"))
                    .check(Expr::cust("ends_at > starts_at"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            "marketing_promotions",
            &[(
                "marketing_promotions_running_idx",
                &["tenant_id", "state", "ends_at"][..],
                false,
            )],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("marketing_promotions").to_owned())
            .await
    }
}
