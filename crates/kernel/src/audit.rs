//! The audit log: security events of every module (logins, token reuse, role and password changes,
//! module and config changes), one row per event, per tenant. Modules record inside the same
//! transaction as the change they describe, so an event exists exactly when its change does.

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr, Statement};

use crate::context::RequestContext;
use crate::ids::TenantId;

/// The tenant id under which platform-level events (operator logins) are kept.
pub const PLATFORM: &str = "platform";

/// One event to record.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// The tenant; `None` for platform-level events.
    pub tenant: Option<TenantId>,
    /// Who acted.
    pub actor: String,
    /// What happened, "<module>.<noun>.<verb>".
    pub action: &'static str,
    /// What it happened to.
    pub target: String,
    /// The client's address.
    pub client_addr: Option<String>,
    /// Extra facts.
    pub details: serde_json::Value,
}

impl AuditRecord {
    /// An event by the caller of `ctx` (or "anonymous").
    pub fn by(
        ctx: &RequestContext,
        tenant: Option<TenantId>,
        action: &'static str,
        target: impl Into<String>,
    ) -> Self {
        Self {
            tenant,
            actor: ctx
                .principal
                .as_ref()
                .map_or_else(|| "anonymous".to_string(), |p| p.subject.clone()),
            action,
            target: target.into(),
            client_addr: ctx.client_addr.clone(),
            details: serde_json::Value::Object(Default::default()),
        }
    }

    /// Adds facts.
    pub fn with(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Records an event on `db`, which may be a transaction.
pub async fn record(db: &impl ConnectionTrait, r: AuditRecord) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let tenant = r
        .tenant
        .map_or_else(|| PLATFORM.to_string(), |t| t.to_string());
    let mut actor = r.actor;
    actor.truncate(128);
    let mut target = r.target;
    target.truncate(256);
    let stmt = Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO audit_events (tenant_id, event_id, actor, action, target, client_address, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            }
            _ => {
                "INSERT INTO audit_events (tenant_id, event_id, actor, action, target, client_address, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            }
        },
        [
            tenant.into(),
            uuid::Uuid::now_v7().to_string().into(),
            actor.into(),
            r.action.into(),
            target.into(),
            r.client_addr
                .map(|a| a.chars().take(64).collect::<String>())
                .into(),
            r.details.to_string().into(),
            Utc::now().into(),
        ],
    );
    db.execute_raw(stmt).await.map(|_| ())
}

/// A recorded event.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Event id (time-ordered).
    pub event_id: String,
    /// Who acted.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// To what.
    pub target: String,
    /// From where.
    pub client_addr: Option<String>,
    /// Extra facts, JSON.
    pub details: String,
    /// When.
    pub created_at: chrono::DateTime<Utc>,
}

/// A page of a tenant's events, newest first, before the event id `before`.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant: Option<TenantId>,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<AuditEntry>, DbErr> {
    let backend = db.get_database_backend();
    let tenant = tenant.map_or_else(|| PLATFORM.to_string(), |t| t.to_string());
    let pg = backend == sea_orm::DbBackend::Postgres;
    let p = |n: usize| if pg { format!("${n}") } else { "?".to_string() };
    let mut sql = format!(
        "SELECT event_id, actor, action, target, client_address, details, created_at FROM audit_events WHERE tenant_id = {}",
        p(1)
    );
    let mut values: Vec<sea_orm::Value> = vec![tenant.into()];
    if let Some(b) = before {
        sql.push_str(&format!(" AND event_id < {}", p(2)));
        values.push(b.to_string().into());
    }
    sql.push_str(&format!(
        " ORDER BY event_id DESC LIMIT {}",
        limit.min(1000)
    ));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditEntry {
                event_id: r.try_get("", "event_id")?,
                actor: r.try_get("", "actor")?,
                action: r.try_get("", "action")?,
                target: r.try_get("", "target")?,
                client_addr: r.try_get("", "client_address")?,
                details: r.try_get("", "details")?,
                created_at: r.try_get("", "created_at")?,
            })
        })
        .collect()
}
