//! Migrations of the ordering module.

use sea_orm_migration::MigrationTrait;

mod m20261124_000600_ordering_init;
mod m20261125_000810_ordering_move_payment_accounts;
mod m20261201_000100_ordering_effects;
mod m20261206_160100_ordering_discounts;

/// This module's migrations, oldest first.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261124_000600_ordering_init::Migration),
        Box::new(m20261125_000810_ordering_move_payment_accounts::Migration),
        Box::new(m20261201_000100_ordering_effects::Migration),
        Box::new(m20261206_160100_ordering_discounts::Migration),
    ]
}
