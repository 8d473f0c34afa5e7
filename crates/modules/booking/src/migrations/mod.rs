//! Migrations of the booking module.

use sea_orm_migration::MigrationTrait;

mod m20261124_000700_booking_init;
mod m20261125_000900_booking_deposits_reminders;
mod m20261207_100000_booking_deposit_discounts;

/// This module's migrations, oldest first.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261124_000700_booking_init::Migration),
        Box::new(m20261125_000900_booking_deposits_reminders::Migration),
        Box::new(m20261207_100000_booking_deposit_discounts::Migration),
    ]
}
