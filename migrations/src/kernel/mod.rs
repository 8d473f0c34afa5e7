//! Migrations of platform-wide tables the kernel owns (the audit log).

use sea_orm_migration::MigrationTrait;

mod m20261124_000100_kernel_audit;

pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(m20261124_000100_kernel_audit::Migration)]
}
