//! Migrations of the identity module.

use sea_orm_migration::MigrationTrait;

mod m20261124_000200_identity_init;

pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261124_000200_identity_init::Migration)]
}
