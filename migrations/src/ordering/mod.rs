//! Migrations of the ordering module.

use sea_orm_migration::MigrationTrait;

mod m20261124_000600_ordering_init;

pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261124_000600_ordering_init::Migration)]
}
