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
use sea_orm::sqlx;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    DeleteMany, EntityTrait, ExecResult, QueryFilter, QueryResult, RuntimeErr, Select, Statement,
    TransactionTrait, UpdateMany,
};
use sea_query_sqlx::SqlxValues;

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
    pub async fn begin(&self, db: &DatabaseConnection) -> Result<ScopedTxn, DbErr> {
        ScopedTxn::begin(db, &self.tenant.to_string(), Begin::Deferred).await
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
    pub async fn begin_write(&self, db: &DatabaseConnection) -> Result<ScopedTxn, DbErr> {
        ScopedTxn::begin(db, &self.tenant.to_string(), Begin::Immediate).await
    }
}

/// One statement's connection in a tenant's scope: see [`TenantScope::one`].
#[derive(Debug)]
pub enum Scoped<'a> {
    /// SQLite: the pool; the statement commits on its own.
    Pool(&'a DatabaseConnection),
    /// PostgreSQL: a transaction with the tenant set for row-level security.
    Txn(ScopedTxn),
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
            Scoped::Pool(c) => {
                let _turn = writer_turn(c).await?;
                c.execute_raw(stmt).await
            }
            Scoped::Txn(t) => t.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Scoped::Pool(c) => {
                let _turn = writer_turn(c).await?;
                c.execute_unprepared(sql).await
            }
            Scoped::Txn(t) => t.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Scoped::Pool(c) => {
                let _turn = turn_if_writing(c, &stmt.sql).await?;
                c.query_one_raw(stmt).await
            }
            Scoped::Txn(t) => t.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Scoped::Pool(c) => {
                let _turn = turn_if_writing(c, &stmt.sql).await?;
                c.query_all_raw(stmt).await
            }
            Scoped::Txn(t) => t.query_all_raw(stmt).await,
        }
    }
}

/// The writer's turn for a statement run for its rows, when it writes (`INSERT … RETURNING` and
/// the like); none for a read.
async fn turn_if_writing(
    db: &DatabaseConnection,
    sql: &str,
) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, DbErr> {
    let head = sql.trim_start();
    let writes = ["INSERT", "UPDATE", "DELETE", "REPLACE"].iter().any(|w| {
        head.get(..w.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(w))
    });
    if writes {
        writer_turn(db).await
    } else {
        Ok(None)
    }
}

/// How long a writer waits for its turn: SQLite's own busy timeout (`db.rs`), so a writer that
/// could never get the lock fails as it did before the queue, as an outage (UNAVAILABLE: try
/// again), like a pool that has no connection to give.
const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// SQLite has one writer per database file. Writers that race for it from several pooled
/// connections are answered BUSY and sleep in SQLite's busy handler (1 to 100 ms at a time) while
/// the lock is free again within a fraction of that: under 64 concurrent orders on two cores that
/// sleeping, not the work, set the tail latency. So this process's writers of a file queue here,
/// in arrival order, and meet SQLite's lock only when it is theirs: single statements on the pool
/// ([`Scoped`]) for the statement, [`TenantScope::begin_write`] transactions until they end.
/// Deferred transactions ([`TenantScope::begin`]) do not queue (one that reads, then writes on the
/// pool, would wait for itself); they meet queued writers at SQLite's lock as before. Another
/// process on the same file is not in the queue and is met at the lock too. `None` on PostgreSQL.
async fn writer_turn(
    db: &DatabaseConnection,
) -> Result<Option<tokio::sync::OwnedMutexGuard<()>>, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(None);
    }
    let queue = writers_of(db);
    match tokio::time::timeout(WRITER_WAIT, queue.lock_owned()).await {
        Ok(turn) => Ok(Some(turn)),
        Err(_) => Err(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)),
    }
}

type Queue = std::sync::Arc<tokio::sync::Mutex<()>>;

/// The writers' queue of an SQLite database's file.
fn writers_of(db: &DatabaseConnection) -> Queue {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static QUEUES: LazyLock<Mutex<HashMap<std::path::PathBuf, Queue>>> =
        LazyLock::new(Default::default);
    let options = db.get_sqlite_connection_pool().connect_options();
    let file = options.get_filename();
    let mut queues = QUEUES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Looked up by reference: every write on SQLite passes here, and the file is known after
    // its first.
    match queues.get(file) {
        Some(queue) => queue.clone(),
        None => queues.entry(file.to_path_buf()).or_default().clone(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Begin {
    Deferred,
    Immediate,
}

/// A transaction opened in a scope ([`TenantScope::begin`], [`SystemScope::begin`]).
///
/// On PostgreSQL it is sqlx's own transaction, begun with one simple query that both opens it and
/// sets `app.tenant_id` (`BEGIN; SELECT set_config(…, true)`): one round trip where sea-orm's
/// transaction would take two, on every scoped transaction of every request. Statements run on it
/// exactly as sea-orm runs them on its own (the same binder, the same row and error types), so
/// repositories cannot tell the difference. On SQLite it is sea-orm's transaction.
///
/// Dropped without [`ScopedTxn::commit`] it rolls back.
pub struct ScopedTxn(Txn);

enum Txn {
    /// SQLite (and platform transactions): sea-orm's, with the writer's turn when it was begun
    /// to write.
    Orm {
        txn: DatabaseTransaction,
        _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    },
    Pg(tokio::sync::Mutex<sqlx::Transaction<'static, sqlx::Postgres>>),
}

impl std::fmt::Debug for ScopedTxn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScopedTxn")
    }
}

/// A transaction outside any tenant's scope (platform tables), where code shares its path with
/// scoped ones.
impl From<DatabaseTransaction> for ScopedTxn {
    fn from(txn: DatabaseTransaction) -> Self {
        Self(Txn::Orm { txn, _turn: None })
    }
}

impl ScopedTxn {
    async fn begin(db: &DatabaseConnection, tenant: &str, how: Begin) -> Result<Self, DbErr> {
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                // The value goes into the SQL text (a simple query has no parameters), so only
                // what a scope can hold is accepted: a tenant id (a UUID) or the system's `*`.
                if !tenant
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == '-' || c == '*')
                {
                    return Err(DbErr::Custom(format!("not a scope value: {tenant:?}")));
                }
                // set_config(…, true) is SET LOCAL: it ends with the transaction, so a pooled
                // connection never carries one request's tenant into the next.
                let sql = format!("BEGIN; SELECT set_config('app.tenant_id', '{tenant}', true)");
                let txn = db
                    .get_postgres_connection_pool()
                    .begin_with(sqlx::AssertSqlSafe(sql))
                    .await
                    .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?;
                Ok(Self(Txn::Pg(tokio::sync::Mutex::new(txn))))
            }
            _ => {
                if how == Begin::Immediate {
                    let turn = writer_turn(db).await?;
                    let txn = db
                        .begin_with_options(sea_orm::TransactionOptions {
                            sqlite_transaction_mode: Some(
                                sea_orm::SqliteTransactionMode::Immediate,
                            ),
                            ..Default::default()
                        })
                        .await?;
                    Ok(Self(Txn::Orm { txn, _turn: turn }))
                } else {
                    Ok(Self(Txn::Orm {
                        txn: db.begin().await?,
                        _turn: None,
                    }))
                }
            }
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self.0 {
            Txn::Orm { txn: t, .. } => t.commit().await,
            Txn::Pg(t) => t.into_inner().commit().await.map_err(exec_err),
        }
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self.0 {
            Txn::Orm { txn: t, .. } => t.rollback().await,
            Txn::Pg(t) => t.into_inner().rollback().await.map_err(exec_err),
        }
    }
}

fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(e.into()))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(e.into()))
}

fn pg_query(stmt: &Statement) -> sqlx::query::Query<'_, sqlx::Postgres, SqlxValues> {
    let values = stmt
        .values
        .clone()
        .unwrap_or(sea_orm::sea_query::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

#[async_trait::async_trait]
impl ConnectionTrait for ScopedTxn {
    fn get_database_backend(&self) -> DatabaseBackend {
        match &self.0 {
            Txn::Orm { txn: t, .. } => t.get_database_backend(),
            Txn::Pg(_) => DatabaseBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.0 {
            Txn::Orm { txn: t, .. } => t.execute_raw(stmt).await,
            Txn::Pg(t) => {
                let mut t = t.lock().await;
                let done = pg_query(&stmt).execute(&mut **t).await;
                done.map(Into::into).map_err(exec_err)
            }
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.0 {
            Txn::Orm { txn: t, .. } => t.execute_unprepared(sql).await,
            Txn::Pg(t) => {
                use sqlx::Executor as _;
                let mut t = t.lock().await;
                let done = t.execute(sqlx::AssertSqlSafe(sql.to_owned())).await;
                done.map(Into::into).map_err(exec_err)
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.0 {
            Txn::Orm { txn: t, .. } => t.query_one_raw(stmt).await,
            Txn::Pg(t) => {
                let mut t = t.lock().await;
                let row = pg_query(&stmt).fetch_optional(&mut **t).await;
                row.map(|r| r.map(Into::into)).map_err(query_err)
            }
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.0 {
            Txn::Orm { txn: t, .. } => t.query_all_raw(stmt).await,
            Txn::Pg(t) => {
                let mut t = t.lock().await;
                let rows = pg_query(&stmt).fetch_all(&mut **t).await;
                rows.map(|r| r.into_iter().map(Into::into).collect())
                    .map_err(query_err)
            }
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
    pub async fn begin(&self, db: &DatabaseConnection) -> Result<ScopedTxn, DbErr> {
        ScopedTxn::begin(db, ALL_TENANTS, Begin::Deferred).await
    }
}

/// The value of `app.tenant_id` that the policies read as "every tenant": set only by a
/// [`SystemScope`].
pub use mm_migrations::rls::ALL_TENANTS;

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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{ConnectOptions, ConnectionTrait as _, Database};

    use super::SystemScope;
    use crate::TenantId;

    /// With a busy timeout of one millisecond, a write that met another connection's write lock
    /// in SQLite would fail at once; queued for its turn it waits for the writer and succeeds.
    #[tokio::test]
    async fn sqlite_writers_wait_for_their_turn_instead_of_failing_busy() {
        let dir = std::env::temp_dir().join(format!("mm-writers-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut opts =
            ConnectOptions::new(format!("sqlite://{}?mode=rwc", dir.join("t.db").display()));
        opts.max_connections(4).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_millis(1))
        });
        let db = Database::connect(opts).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (v INTEGER)")
            .await
            .unwrap();
        let scope = SystemScope::named("test.writers").tenant(TenantId::new());

        let txn = scope.begin_write(&db).await.unwrap();
        txn.execute_unprepared("INSERT INTO t (v) VALUES (1)")
            .await
            .unwrap();
        let other = {
            let db = db.clone();
            tokio::spawn(async move {
                let one = scope.one(&db).await?;
                one.execute_unprepared("INSERT INTO t (v) VALUES (2)")
                    .await?;
                one.commit().await
            })
        };
        // Wait until the second writer is in the queue: the queue's owners are then the map, the
        // transaction's turn, and the waiting writer. An unqueued write would instead have met
        // SQLite's lock and failed within its millisecond.
        let queue = super::writers_of(&db);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while std::sync::Arc::strong_count(&queue) < 4 {
            assert!(
                !other.is_finished(),
                "the second writer finished while the first held the writer: it did not queue"
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "the second writer never queued"
            );
            tokio::task::yield_now().await;
        }
        txn.commit().await.unwrap();
        other
            .await
            .unwrap()
            .expect("the second write succeeds once it is its turn");
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "SELECT v FROM t ORDER BY v",
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        drop(db);
        let _ = std::fs::remove_dir_all(dir);
    }
}
