//! Database connection. The URL's scheme picks PostgreSQL or SQLite; both go through sea-orm, so one
//! code path serves both. SQLite gets WAL (readers do not block the writer), `synchronous=NORMAL`
//! on every pooled connection (in WAL mode that is still safe against application crashes; only a
//! power cut may lose the last commits, while FULL would fsync on every commit and cap the single
//! writer at the disk's flush rate) and a busy timeout, and its directory is created, so the
//! embedded default needs no setup.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::DatabaseSettings;

/// Prepared statements kept per PostgreSQL connection unless the URL says otherwise.
pub const PG_STATEMENT_CACHE: usize = 500;

/// How long a pooled connection may sit idle before it is pinged on its way out of the pool.
pub const POOL_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Opens the pool.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<DatabaseConnection> {
    let url = &settings.url;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or_default();
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)?;
        }
    }
    // sqlx keeps 100 prepared statements per PostgreSQL connection and evicts the least recently
    // used; an order with a coupon runs catalog's, ordering's and marketing's statements, each
    // batched one in up to five slice lengths (`group::Batch`), which is more than 100, and every
    // eviction costs a Parse and a Close on the next use (measured: the coupon case fell by a
    // third once the catalog's reservations were batched). A URL that names its own
    // `statement-cache-capacity` keeps it.
    let statement_cache = (!url.contains("statement-cache-capacity")).then_some(PG_STATEMENT_CACHE);
    let mut opts = ConnectOptions::new(url.clone());
    opts.max_connections(settings.pool_size())
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // sqlx pings every connection it hands out, a round trip per transaction on the request's
        // path. A connection in use within the last second is alive as far as a ping can tell;
        // one idle for longer (through a database restart, say) is still pinged and replaced if
        // dead.
        .test_before_acquire_if_idle_for(POOL_PING_AFTER_IDLE)
        .map_sqlx_postgres_opts(move |o| match statement_cache {
            Some(n) => o.statement_cache_capacity(n),
            None => o,
        })
        .map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    // Two processes opening one fresh SQLite file race to switch it to WAL, and the loser is
    // answered BUSY before any busy timeout applies: a lost lock race, so try again.
    use backon::{ExponentialBuilder, Retryable as _};
    let db = (|| Database::connect(opts.clone()))
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(20))
                .with_max_delay(Duration::from_millis(500))
                .with_max_times(10)
                .with_jitter(),
        )
        .when(|e| classify(e) == Failure::Conflict)
        .await
        .map_err(|e| {
            anyhow::anyhow!("Failed to connect to the database at {}: {e}", redact(url))
        })?;
    Ok(db)
}

/// A connection URL fit for a log line: the password replaced, so an operator sees which server
/// (or file) was meant without the secret.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_string(),
    }
}

/// What kind of failure a database error is, for the caller's next move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database could not be reached or went away mid-call (down, restarting, pool
    /// exhausted): nothing is wrong with the request; answer UNAVAILABLE and let it retry.
    Outage,
    /// The transaction lost a race the database resolved by aborting it (deadlock, serialization
    /// failure, SQLite busy): running it again is safe and usually succeeds.
    Conflict,
    /// Anything else: a bug or a broken invariant.
    Other,
}

/// Classifies a database error. PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01-03
/// (admin shutdown, crash shutdown, cannot connect now) and 53300 (too many connections) are
/// outages; 40001 (serialization failure) and 40P01 (deadlock detected) are conflicts. SQLite's
/// BUSY (5) and LOCKED (6) are conflicts.
pub fn classify(e: &sea_orm::DbErr) -> Failure {
    use sea_orm::{DbErr, RuntimeErr};
    let runtime = match e {
        DbErr::ConnectionAcquire(_) => return Failure::Outage,
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return Failure::Other,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return Failure::Other;
    };
    use sea_orm::sqlx::Error as S;
    match sqlx.as_ref() {
        S::Io(_)
        | S::Tls(_)
        | S::Protocol(_)
        | S::PoolTimedOut
        | S::PoolClosed
        | S::WorkerCrashed => Failure::Outage,
        S::Database(db) => {
            let code = db.code().unwrap_or_default();
            match code.as_ref() {
                "40001" | "40P01" | "5" | "6" | "517" | "261" | "262" => Failure::Conflict,
                "57P01" | "57P02" | "57P03" | "53300" => Failure::Outage,
                c if c.starts_with("08") => Failure::Outage,
                _ => Failure::Other,
            }
        }
        _ => Failure::Other,
    }
}

/// The database error in an error's source chain, if any.
pub fn find_db_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a sea_orm::DbErr> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(db) = err.downcast_ref::<sea_orm::DbErr>() {
            return Some(db);
        }
        cur = err.source();
    }
    None
}

/// How many times a transaction that lost a deadlock or serialization race is run in all.
pub const CONFLICT_ATTEMPTS: usize = 4;

/// Runs `op` (a whole transaction) again when the database aborted it as a deadlock victim or
/// a serialization failure, a bounded number of times with a short jittered back-off. Every
/// step that takes row locks in a canonical order should not deadlock at all; this is the second
/// line for what still does (SQLite's busy writer, a lock order shared with another code path).
pub async fn retry_conflicts<T, E, F, Fut>(op: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::error::Error + 'static,
{
    use backon::{ExponentialBuilder, Retryable as _};
    op.retry(
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(5))
            .with_max_delay(Duration::from_millis(100))
            .with_max_times(CONFLICT_ATTEMPTS - 1)
            .with_jitter(),
    )
    .when(|e: &E| find_db_error(e).is_some_and(|d| classify(d) == Failure::Conflict))
    .notify(|e: &E, wait: Duration| {
        tracing::debug!(error = %e, ?wait, "transaction lost a lock race; running it again");
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn urls_are_named_without_their_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db.internal:5432/minimodules?sslmode=require"),
            "postgres://app:***@db.internal:5432/minimodules?sslmode=require"
        );
        assert_eq!(
            redact("redis://:pw@cache:6379/0"),
            "redis://:***@cache:6379/0"
        );
        assert_eq!(
            redact("sqlite://data/mm.db?mode=rwc"),
            "sqlite://data/mm.db?mode=rwc"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
    }
}
