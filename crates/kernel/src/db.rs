//! Database connection. The URL's scheme picks PostgreSQL or SQLite; both go through sea-orm, so one
//! code path serves both. SQLite gets WAL (readers do not block the writer), `synchronous=NORMAL`
//! on every pooled connection (in WAL mode that is still safe against application crashes; only a
//! power cut may lose the last commits, while FULL would fsync on every commit and cap the single
//! writer at the disk's flush rate) and a busy timeout, and its directory is created, so the
//! embedded default needs no setup.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::DatabaseSettings;

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
    let mut opts = ConnectOptions::new(url.clone());
    opts.max_connections(settings.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    let db = Database::connect(opts)
        .await
        .map_err(|e| anyhow::anyhow!("Failed to connect to the database: {e}"))?;
    Ok(db)
}
