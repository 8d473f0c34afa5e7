//! Migrations of the identity module.

use sea_orm_migration::MigrationTrait;

mod m20261124_000200_identity_init;
mod m20261201_000200_identity_appid_not_unique;

/// This module's migrations, oldest first.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261124_000200_identity_init::Migration),
        Box::new(m20261201_000200_identity_appid_not_unique::Migration),
    ]
}
