//! Migrations of the tenant module.

use sea_orm_migration::MigrationTrait;

mod m20261124_000001_tenant_init;
mod m20261124_000300_tenant_drop_platform_operators;
mod m20261125_000800_tenant_payment_accounts;

/// This module's migrations, oldest first.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(m20261124_000001_tenant_init::Migration),
        Box::new(m20261124_000300_tenant_drop_platform_operators::Migration),
        Box::new(m20261125_000800_tenant_payment_accounts::Migration),
    ]
}
