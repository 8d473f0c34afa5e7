//! mm-migrations: the schema of every module as sea-orm migrations, run at start-up and by
//! `minimodules migrate`. Each module keeps its migrations in its own folder, named
//! `mYYYYMMDD_HHMMSS_<module>_<what>`; they run in timestamp order whatever the module.
//!
//! Invariant: every tenant-owned table has `tenant_id`, and its primary key, unique constraints and
//! indexes lead with it (so queries stay tenant-local and the schema can later shard by tenant).

pub use sea_orm_migration::prelude::*;

mod booking;
mod catalog;
mod cols;
mod identity;
mod kernel;
mod ordering;
mod tenant;

/// All migrations of all modules.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all: Vec<Box<dyn MigrationTrait>> = Vec::new();
        all.extend(kernel::migrations());
        all.extend(tenant::migrations());
        all.extend(identity::migrations());
        all.extend(catalog::migrations());
        all.extend(ordering::migrations());
        all.extend(booking::migrations());
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }
}
