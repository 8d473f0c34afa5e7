//! mm-migrations: what every module's migrations share (the column shapes in [`cols`]), the
//! kernel's own tables, and the [`Migrator`] that runs the kernel's and every registered module's
//! migrations, at start-up and by `minimodules migrate`. A module keeps its migrations in its own
//! crate (`src/migrations/`, named `mYYYYMMDD_HHMMSS_<module>_<what>`) and hands them over in its
//! `ModuleDef`; they run in timestamp order whatever the module.
//!
//! Invariant: every tenant-owned table has `tenant_id`, and its primary key, unique constraints and
//! indexes lead with it (so queries stay tenant-local and the schema can later shard by tenant).

pub use sea_orm_migration::MigratorTraitSelf;
pub use sea_orm_migration::prelude::*;

pub mod cols;
mod kernel;
pub mod rls;

/// A module's migrations, oldest first.
pub type MigrationsFn = fn() -> Vec<Box<dyn MigrationTrait>>;

/// For a module that has no tables (yet).
pub fn no_migrations() -> Vec<Box<dyn MigrationTrait>> {
    Vec::new()
}

/// The kernel's migrations and those of the modules it was made with.
pub struct Migrator {
    modules: Vec<MigrationsFn>,
}

impl Migrator {
    /// Runs the kernel's migrations and each of `modules`'.
    pub fn new(modules: impl IntoIterator<Item = MigrationsFn>) -> Self {
        Self {
            modules: modules.into_iter().collect(),
        }
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTraitSelf for Migrator {
    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        let mut all: Vec<Box<dyn MigrationTrait>> = kernel::migrations();
        for m in &self.modules {
            all.extend(m());
        }
        all.sort_by(|a, b| a.name().cmp(b.name()));
        all
    }
}
