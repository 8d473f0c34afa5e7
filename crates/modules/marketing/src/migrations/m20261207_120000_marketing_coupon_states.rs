//! A customer's coupons by state: checkout and the coupon centre ask for a customer's available
//! (or locked) coupons, and the customer index alone made them visit every coupon the customer
//! ever held, used ones included.

use sea_orm_migration::prelude::*;

use mm_migrations::cols::create_indexes;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_120000_marketing_coupon_states"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_indexes(
            manager,
            "marketing_coupons",
            &[(
                "marketing_coupons_customer_state_idx",
                &["tenant_id", "customer_id", "state", "coupon_id"][..],
                false,
            )],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("marketing_coupons_customer_state_idx")
                    .table("marketing_coupons")
                    .to_owned(),
            )
            .await
    }
}
