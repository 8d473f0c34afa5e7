//! Tenant scope as a type. Every repository function that reads or writes a tenant's rows takes a
//! [`TenantScope`], and the only ways to get one are to authorize the caller for that tenant
//! ([`crate::RequestContext::authorize_tenant`]) or to name the platform's own work
//! ([`SystemScope::named`]), so a handler that forgot the check does not compile.
//!
//! The scope also writes the tenant filter: [`TenantScope::find`], [`TenantScope::update_many`] and
//! [`TenantScope::delete_many`] start from a query already restricted to the tenant's rows
//! ([`TenantOwned`] names the column), so a repository does not hand-write the filter either.
//!
//! PostgreSQL adds a second wall, row-level security: every tenant-owned table has a policy on the
//! per-transaction setting `app.tenant_id` ([`rls_policy`]), and [`TenantScope::begin`] opens a
//! transaction with `SET LOCAL app.tenant_id` to the scope's tenant. A query run outside such a
//! transaction, or with its filter forgotten, sees no other tenant's rows. The application must
//! connect as a role RLS applies to (not a superuser, not `BYPASSRLS`); the tables force RLS on
//! their owner too (see `mm_migrations::rls`).

use sea_orm::sea_query::IntoCondition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    DeleteMany, EntityTrait, ExecResult, QueryFilter, QueryResult, Select, Statement,
    TransactionTrait, UpdateMany,
};

use crate::ids::TenantId;

/// Proof that the current work may touch one tenant's rows.
#[must_use = "a tenant scope is what repository functions take; authorizing without using it is a bug"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantScope {
    tenant: TenantId,
}

impl TenantScope {
    /// Only the request context (after its check) and a named system scope make one.
    pub(crate) fn new(tenant: TenantId) -> Self {
        Self { tenant }
    }

    /// The tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Every row of `E` that belongs to the tenant.
    pub fn find<E: TenantOwned>(&self) -> Select<E> {
        E::find().filter(self.owns::<E>())
    }

    /// An update of the tenant's rows of `E`; add the remaining filters.
    pub fn update_many<E: TenantOwned>(&self) -> UpdateMany<E> {
        E::update_many().filter(self.owns::<E>())
    }

    /// A delete of the tenant's rows of `E`; add the remaining filters.
    pub fn delete_many<E: TenantOwned>(&self) -> DeleteMany<E> {
        E::delete_many().filter(self.owns::<E>())
    }

    /// The condition "this row is the tenant's", for queries the helpers above do not build.
    pub fn owns<E: TenantOwned>(&self) -> impl IntoCondition {
        E::tenant_column().eq(self.tenant)
    }

    /// Opens a transaction in which PostgreSQL's row-level security lets through this tenant's
    /// rows only. On SQLite (one process, no roles) it is a plain transaction.
    pub async fn begin(&self, db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
        let txn = db.begin().await?;
        set_local(&txn, &self.tenant.to_string()).await?;
        Ok(txn)
    }

    /// Where to run one statement on the tenant's rows. On PostgreSQL that is a transaction like
    /// [`TenantScope::begin`]'s (row-level security needs its `SET LOCAL`); on SQLite it is the
    /// pool itself, so the statement commits on its own. A transaction there would hold SQLite's
    /// one write lock from the statement until the task is scheduled again to commit, and under
    /// load every other writer waits out that gap in the busy handler's sleeps (measured: create
    /// order fell from 1,439 to 770 per second when its single statements were wrapped). Finish
    /// with [`Scoped::commit`] (a no-op on SQLite).
    pub async fn one<'a>(&self, db: &'a DatabaseConnection) -> Result<Scoped<'a>, DbErr> {
        Ok(match db.get_database_backend() {
            DatabaseBackend::Sqlite => Scoped::Pool(db),
            _ => Scoped::Txn(self.begin(db).await?),
        })
    }

    /// As [`TenantScope::begin`], for a transaction that reads before it writes: on SQLite it
    /// takes the write lock at once (`BEGIN IMMEDIATE`, waiting in the busy handler), because a
    /// deferred one that read first cannot upgrade once another writer committed, and fails.
    pub async fn begin_write(&self, db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
        let txn = if db.get_database_backend() == DatabaseBackend::Sqlite {
            db.begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?
        } else {
            db.begin().await?
        };
        set_local(&txn, &self.tenant.to_string()).await?;
        Ok(txn)
    }
}

/// One statement's connection in a tenant's scope: see [`TenantScope::one`].
#[derive(Debug)]
pub enum Scoped<'a> {
    /// SQLite: the pool; the statement commits on its own.
    Pool(&'a DatabaseConnection),
    /// PostgreSQL: a transaction with the tenant set for row-level security.
    Txn(DatabaseTransaction),
}

impl Scoped<'_> {
    /// Commits the transaction, if there is one.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Scoped::Pool(_) => Ok(()),
            Scoped::Txn(t) => t.commit().await,
        }
    }

    /// Rolls the transaction back, if there is one (a statement that already ran on the pool
    /// stays done).
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Scoped::Pool(_) => Ok(()),
            Scoped::Txn(t) => t.rollback().await,
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Scoped<'_> {
    fn get_database_backend(&self) -> DatabaseBackend {
        match self {
            Scoped::Pool(c) => c.get_database_backend(),
            Scoped::Txn(t) => t.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Scoped::Pool(c) => c.execute_raw(stmt).await,
            Scoped::Txn(t) => t.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Scoped::Pool(c) => c.execute_unprepared(sql).await,
            Scoped::Txn(t) => t.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Scoped::Pool(c) => c.query_one_raw(stmt).await,
            Scoped::Txn(t) => t.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Scoped::Pool(c) => c.query_all_raw(stmt).await,
            Scoped::Txn(t) => t.query_all_raw(stmt).await,
        }
    }
}

/// The platform's own work across tenants (sweeps, reminders, seeding), named so that logs and
/// code review see who looks across tenants. It reads across tenants only where a repository
/// function takes it explicitly; to act on one tenant's rows it narrows to a [`TenantScope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemScope {
    job: &'static str,
}

impl SystemScope {
    /// The scope of the job called `job` (e.g. `"ordering.sweep"`).
    pub const fn named(job: &'static str) -> Self {
        Self { job }
    }

    /// The job's name.
    pub fn job(&self) -> &'static str {
        self.job
    }

    /// The job acting on one tenant it found.
    pub fn tenant(&self, tenant: TenantId) -> TenantScope {
        TenantScope::new(tenant)
    }

    /// Opens a transaction in which row-level security lets every tenant's rows through.
    pub async fn begin(&self, db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
        let txn = db.begin().await?;
        set_local(&txn, ALL_TENANTS).await?;
        Ok(txn)
    }
}

/// The value of `app.tenant_id` that the policies read as "every tenant": set only by a
/// [`SystemScope`].
pub use mm_migrations::rls::ALL_TENANTS;

async fn set_local(txn: &DatabaseTransaction, value: &str) -> Result<(), DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // set_config(…, true) is SET LOCAL with a bind parameter: it ends with the transaction,
        // so a pooled connection never carries one request's tenant into the next.
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT set_config('app.tenant_id', $1, true)",
            [value.into()],
        ))
        .await?;
    }
    Ok(())
}

/// An entity whose rows belong to a tenant.
pub trait TenantOwned: EntityTrait {
    /// The column that holds the owning tenant.
    fn tenant_column() -> Self::Column;
}

/// Declares entities tenant-owned through their `TenantId` column:
/// `tenant_owned!(orders, counters);` for modules that each define `Entity` and `Column::TenantId`.
#[macro_export]
macro_rules! tenant_owned {
    ($($m:ident),+ $(,)?) => {
        $(impl $crate::scope::TenantOwned for $m::Entity {
            fn tenant_column() -> $m::Column {
                $m::Column::TenantId
            }
        })+
    };
}
