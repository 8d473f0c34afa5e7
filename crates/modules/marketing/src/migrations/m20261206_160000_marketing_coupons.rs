//! Coupons: `marketing_coupon_templates` (the terms, and the counters claims and orders move)
//! and `marketing_coupons` (one per coupon held). A claim's idempotency key is unique per
//! customer; a coupon is found by the order it is locked to through its own index.

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{create_indexes, fen, flag, id, int, str_, text, ts, ts_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_160000_marketing_coupons"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("marketing_coupon_templates")
                    .col(id("tenant_id"))
                    .col(str_("template_id", 36))
                    .col(str_("title_zh", 40))
                    .col(str_("title_en", 80))
                    .col(str_("description", 200))
                    .col(str_("kind", 16))
                    .col(fen("amount_off_fen"))
                    .col(int("percent_off"))
                    .col(fen("cap_fen"))
                    .col(fen("threshold_fen"))
                    .col(str_("free_product_id", 64))
                    .col(str_("free_sku_id", 64))
                    .col(ts_null("valid_from"))
                    .col(ts_null("valid_until"))
                    .col(int("valid_days"))
                    .col(int("total_quantity"))
                    .col(int("per_customer_limit"))
                    .col(text("modules"))
                    .col(text("product_ids"))
                    .col(text("category_ids"))
                    .col(flag("stackable"))
                    .col(flag("claimable"))
                    .col(str_("state", 16))
                    .col(int("claimed_count"))
                    .col(int("used_count"))
                    .col(fen("used_order_total_fen"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("template_id"))
                    .check(Expr::cust(
                        "claimed_count >= 0 AND claimed_count <= total_quantity",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("marketing_coupons")
                    .col(id("tenant_id"))
                    .col(str_("coupon_id", 36))
                    .col(str_("template_id", 36))
                    .col(str_("customer_id", 64))
                    .col(str_("state", 16))
                    .col(ts("valid_from"))
                    .col(ts("valid_until"))
                    .col(str_("order_id", 64))
                    .col(fen("discount_fen"))
                    .col(fen("order_total_fen"))
                    .col(str_("source", 16))
                    .col(str_("request_id", 64))
                    .col(ts("created_at"))
                    .col(ts_null("used_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("coupon_id"))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            "marketing_coupons",
            &[
                (
                    "marketing_coupons_request_key",
                    &["tenant_id", "customer_id", "request_id"][..],
                    true,
                ),
                (
                    "marketing_coupons_customer_idx",
                    &["tenant_id", "customer_id", "coupon_id"][..],
                    false,
                ),
                (
                    "marketing_coupons_template_idx",
                    &["tenant_id", "template_id", "customer_id"][..],
                    false,
                ),
                (
                    "marketing_coupons_order_idx",
                    &["tenant_id", "order_id"][..],
                    false,
                ),
            ],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("marketing_coupons").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("marketing_coupon_templates").to_owned())
            .await
    }
}
