//! Which instance runs the background sweeps and outbox workers: one at a time, elected with a
//! PostgreSQL session advisory lock held on a connection of its own. The lock goes with that
//! connection, so an instance that dies (or loses its database) hands leadership on as soon as
//! PostgreSQL notices, and the next instance to ask takes it. Every step a sweep takes is still a
//! conditional update, so two leaders for a moment (a partitioned old one finishing its pass)
//! never apply a step twice; the election only stops every replica from doing the same work.
//!
//! SQLite is one process's database (processes do not share its file in any supported shape), so
//! there every process leads.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, Statement};
use tokio::sync::Mutex;

/// The advisory lock's two keys: "mm" and the sweeps. `pg_locks` shows it as classid 28013,
/// objid 1, objsubid 2.
const KEYS: (i32, i32) = (0x6d6d, 1);

/// See the module docs. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Leader {
    postgres: Option<Arc<Postgres>>,
}

#[derive(Debug)]
struct Postgres {
    url: String,
    /// The connection holding (or trying for) the lock; `None` until first asked, or after it
    /// failed.
    conn: Mutex<Option<DatabaseConnection>>,
}

impl Leader {
    /// Always the leader (SQLite, tests).
    pub fn always() -> Self {
        Self::default()
    }

    /// Elected among every instance using the PostgreSQL database at `url`; any other URL leads
    /// always.
    pub fn for_database(url: &str) -> Self {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self {
                postgres: Some(Arc::new(Postgres {
                    url: url.to_string(),
                    conn: Mutex::new(None),
                })),
            }
        } else {
            Self::always()
        }
    }

    /// Whether this instance leads now: holds the lock, or just took it. Asked before every pass;
    /// a failure to reach the database is "no" (the pass would fail anyway).
    pub async fn is_leader(&self) -> bool {
        let Some(pg) = &self.postgres else {
            return true;
        };
        let mut conn = pg.conn.lock().await;
        if conn.is_none() {
            let mut opts = ConnectOptions::new(pg.url.clone());
            // One connection, never recycled by the pool: the lock lives as long as it does.
            opts.max_connections(1)
                .min_connections(1)
                .connect_timeout(Duration::from_secs(5))
                .idle_timeout(None)
                .max_lifetime(None)
                .sqlx_logging(false);
            match Database::connect(opts).await {
                Ok(c) => *conn = Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "leader election: cannot reach the database");
                    return false;
                }
            }
        }
        let Some(c) = conn.as_ref() else {
            return false;
        };
        // Held by this session already (counted once), else taken if free: one round trip. Should
        // the pool have replaced a broken connection, the new session asks afresh.
        let sql = format!(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
             AND pid = pg_backend_pid() AND classid = {a} AND objid = {b} AND objsubid = 2 \
             AND granted) THEN true ELSE pg_try_advisory_lock({a}, {b}) END AS leads",
            a = KEYS.0,
            b = KEYS.1
        );
        let asked = tokio::time::timeout(
            Duration::from_secs(5),
            c.query_one_raw(Statement::from_string(c.get_database_backend(), sql)),
        )
        .await;
        match asked {
            Ok(Ok(Some(row))) => row.try_get::<bool>("", "leads").unwrap_or(false),
            other => {
                tracing::warn!(
                    ?other,
                    "leader election: lost the connection; asking again next time"
                );
                if let Some(c) = conn.take() {
                    c.close().await.ok();
                }
                false
            }
        }
    }

    /// Gives leadership up (shutdown): the next instance to ask takes it at once.
    pub async fn resign(&self) {
        if let Some(pg) = &self.postgres
            && let Some(c) = pg.conn.lock().await.take()
        {
            c.close().await.ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs the PostgreSQL the test command starts (127.0.0.1:5432, trust).
    const URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

    #[tokio::test]
    async fn one_instance_leads_and_hands_over_when_it_resigns() {
        let (a, b) = (Leader::for_database(URL), Leader::for_database(URL));
        // Whichever asks first leads; asking again changes nothing.
        assert!(a.is_leader().await, "the first to ask leads");
        assert!(a.is_leader().await, "and keeps leading");
        assert!(!b.is_leader().await, "a second instance does not lead");
        a.resign().await;
        assert!(b.is_leader().await, "the lock went with a's connection");
        assert!(!a.is_leader().await, "a asks again and finds b leading");
        b.resign().await;
        assert!(Leader::for_database("sqlite::memory:").is_leader().await);
    }
}
