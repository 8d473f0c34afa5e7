//! Migrations of the payments module.

use sea_orm_migration::MigrationTrait;

mod m20261206_000100_payments_init;

/// This module's migrations, oldest first.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261206_000100_payments_init::Migration)]
}
