//! Migrations of the marketing module.

use sea_orm_migration::MigrationTrait;

mod m20261206_160000_marketing_coupons;
mod m20261206_170000_marketing_points;
mod m20261207_090000_marketing_promotions;
mod m20261207_120000_marketing_coupon_states;

/// This module's migrations, oldest first.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261206_160000_marketing_coupons::Migration),
        Box::new(m20261206_170000_marketing_points::Migration),
        Box::new(m20261207_090000_marketing_promotions::Migration),
        Box::new(m20261207_120000_marketing_coupon_states::Migration),
    ]
}
