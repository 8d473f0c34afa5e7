//! The start-up lock: instances starting together on one database take turns at migrating and
//! seeding, so the second finds the schema and the demo data in place instead of failing on the
//! first one's half-written rows. Serving is never under the lock.
//!
//! PostgreSQL: a transaction-scoped advisory lock on a connection of its own (outside the pool, so
//! the pool's size cannot starve the migrations it guards); a crashed holder's session ends and
//! frees it. SQLite: an exclusive lock on a file beside the database; the OS frees it with the
//! process.

use anyhow::Context as _;
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, TransactionTrait as _};

/// Arbitrary, fixed: every MiniModules instance must pick the same key ("mmstart" in ASCII).
const ADVISORY_KEY: i64 = 0x006d_6d73_7461_7274;

/// Held while migrating and seeding; dropping it lets the next instance in.
pub enum StartLock {
    /// The open transaction holding `pg_advisory_xact_lock`.
    Postgres(sea_orm::DatabaseTransaction, sea_orm::DatabaseConnection),
    /// The locked file.
    Sqlite(std::fs::File),
    /// Nothing to share (an in-memory SQLite database).
    None,
}

impl StartLock {
    /// Waits for the lock of the database at `url`.
    pub async fn acquire(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut opts = ConnectOptions::new(url.to_string());
            opts.max_connections(1)
                .min_connections(1)
                .sqlx_logging(false);
            let conn = Database::connect(opts)
                .await
                .context("Failed to connect for the start-up lock")?;
            let txn = conn
                .begin()
                .await
                .context("Failed to begin the start-up lock")?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({ADVISORY_KEY})"))
                .await
                .context("Failed to take the start-up lock")?;
            return Ok(Self::Postgres(txn, conn));
        }
        let Some(path) = url
            .strip_prefix("sqlite://")
            .map(|rest| rest.split('?').next().unwrap_or_default())
            .filter(|p| !p.is_empty() && !p.contains(":memory:"))
        else {
            return Ok(Self::None);
        };
        let lock_path = format!("{path}.start-lock");
        if let Some(parent) = std::path::Path::new(&lock_path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("Failed to create {}", parent.display()))?;
        }
        // Blocking until the other instance is done: off the runtime's worker threads.
        let file = tokio::task::spawn_blocking(move || -> anyhow::Result<std::fs::File> {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .with_context(|| format!("Failed to open {lock_path}"))?;
            file.lock()
                .with_context(|| format!("Failed to lock {lock_path}"))?;
            Ok(file)
        })
        .await
        .context("start-up lock task failed")??;
        Ok(Self::Sqlite(file))
    }

    /// Lets the next instance in.
    pub async fn release(self) {
        match self {
            Self::Postgres(txn, conn) => {
                // Ending the transaction ends the lock; a failure here means the connection is
                // gone, which ends it too.
                let _ = txn.commit().await;
                let _ = conn.close().await;
            }
            Self::Sqlite(file) => {
                let _ = file.unlock();
            }
            Self::None => {}
        }
    }
}
