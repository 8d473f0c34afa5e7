//! Migrations of the catalog module.

use sea_orm_migration::MigrationTrait;

mod m20261124_000400_catalog_init;
mod m20261124_000500_catalog_reservations;
mod m20261208_000100_catalog_rendered_menu;

/// This module's migrations, oldest first.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261124_000400_catalog_init::Migration),
        Box::new(m20261124_000500_catalog_reservations::Migration),
        Box::new(m20261208_000100_catalog_rendered_menu::Migration),
    ]
}
