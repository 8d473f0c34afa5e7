//! The one place that decides whether a verified token's principal may still act: its session not
//! ended (logout, refresh-token reuse, password change, disabling, role change: identity revokes
//! the session in its table and the cache), and its tenant not archived. A signature and an
//! expiry say only that we issued the token once; this says whether what it stood for still holds.
//!
//! Asked by the access layer before every call (unary and the opening of a stream), by streams
//! before every message they send (`WatchOrders`), and by identity before it renews a session or
//! lets staff log in, so the BFF, which only forwards tokens to the services, is covered too.
//!
//! Service tokens (`ROLE_SERVICE`) are minted in-process for one minute and never leave it; jobs
//! use them to finish work for an archived tenant (refunds, releases), so they are not refused
//! here. Tokens without a session id are not minted by the platform outside tests (every login and
//! the operator CLI create a session); they are still refused for an archived tenant.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tonic::Status;

use crate::cache::{Cache, Invalidation, SessionState};
use crate::context::Principal;
use crate::ids::TenantId;
use mm_proto::Role;

/// What [`TenantLedger::is_archived`] returns.
pub type ArchivedFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<bool>> + Send + 'a>>;

/// The durable record of tenants (the tenant module's table). The kernel knows no module, so the
/// owner of tenants supplies this at start-up, as identity supplies the session ledger.
pub trait TenantLedger: Send + Sync {
    /// Whether `tenant` is archived. A tenant the ledger does not know is not archived: it holds
    /// nothing to protect, and services answer NOT_FOUND for it themselves.
    fn is_archived(&self, tenant: TenantId) -> ArchivedFuture<'_>;
}

/// Why a principal may not act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The session ended or the tenant is archived: log in again (which an archived tenant
    /// refuses).
    Ended,
    /// The session or tenant could not be checked right now: retry. Refused rather than risk
    /// letting an ended session in.
    Unavailable,
}

impl From<Refusal> for Status {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Ended => Status::unauthenticated("this session has ended; log in again"),
            Refusal::Unavailable => {
                Status::unavailable("cannot check the session right now; try again")
            }
        }
    }
}

/// How long an answer about a tenant is kept. Archiving invalidates the tenant, which reaches
/// this instance at once and others through Redis; the bound covers an invalidation Redis could
/// not carry.
const TENANT_RECHECK: Duration = Duration::from_secs(5);

/// How long one tenant lookup may take before the call is refused as retryable.
const TENANT_TIMEOUT: Duration = Duration::from_secs(1);

/// See the module docs.
pub struct Gate {
    cache: Arc<Cache>,
    tenants: Option<Arc<dyn TenantLedger>>,
    /// Tenant → archived, for [`TENANT_RECHECK`] or until the tenant is invalidated.
    archived: moka::sync::Cache<TenantId, bool>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("tenants", &self.tenants.is_some())
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate over the cache's session revocations and, when given, the tenant ledger. Without a
    /// ledger (tools, unit tests) tenants are not checked.
    pub fn new(cache: Arc<Cache>, tenants: Option<Arc<dyn TenantLedger>>) -> Arc<Self> {
        let archived = moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(TENANT_RECHECK)
            .build();
        let gate = Arc::new(Self {
            cache: cache.clone(),
            tenants,
            archived,
        });
        let weak = Arc::downgrade(&gate);
        cache.on_invalidate(Arc::new(move |inv| {
            if let Some(g) = weak.upgrade() {
                match inv {
                    Invalidation::Tenant(t) => g.archived.invalidate(t),
                    Invalidation::All => g.archived.invalidate_all(),
                }
            }
        }));
        gate
    }

    /// Whether `principal` may still act; see the module docs.
    pub async fn check(&self, principal: &Principal) -> Result<(), Refusal> {
        if principal.role == Role::Service {
            return Ok(());
        }
        if let Some(sid) = &principal.session {
            let state = if principal.role == Role::Operator {
                // Operator tokens printed by the CLI live for hours, longer than a revocation
                // mark lives in Redis; operators are few, so their sessions are read from the
                // ledger (briefly cached) rather than from Redis.
                self.cache.ledger_session_state(None, sid).await
            } else {
                self.cache.session_state(principal.tenant, sid).await
            };
            match state {
                SessionState::Live => {}
                SessionState::Revoked => return Err(Refusal::Ended),
                SessionState::Unknown => return Err(Refusal::Unavailable),
            }
        }
        if let Some(t) = principal.tenant {
            self.check_tenant(t).await?;
        }
        Ok(())
    }

    /// Whether `tenant` is open (not archived): `Refusal::Ended` when it is archived.
    pub async fn check_tenant(&self, tenant: TenantId) -> Result<(), Refusal> {
        let Some(ledger) = &self.tenants else {
            return Ok(());
        };
        let archived = match self.archived.get(&tenant) {
            Some(a) => a,
            None => match tokio::time::timeout(TENANT_TIMEOUT, ledger.is_archived(tenant)).await {
                Ok(Ok(a)) => {
                    self.archived.insert(tenant, a);
                    a
                }
                Ok(Err(e)) => {
                    tracing::warn!(%tenant, error = %e, "tenant lookup failed");
                    return Err(Refusal::Unavailable);
                }
                Err(_) => {
                    tracing::warn!(%tenant, "tenant lookup timed out");
                    return Err(Refusal::Unavailable);
                }
            },
        };
        if archived {
            Err(Refusal::Ended)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Archived(TenantId, AtomicUsize);

    impl TenantLedger for Archived {
        fn is_archived(&self, tenant: TenantId) -> ArchivedFuture<'_> {
            self.1.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(tenant == self.0) })
        }
    }

    fn principal(role: Role, tenant: Option<TenantId>, session: Option<&str>) -> Principal {
        Principal {
            subject: "u".into(),
            tenant,
            role,
            permissions: vec![],
            session: session.map(str::to_string),
        }
    }

    #[tokio::test]
    async fn ended_sessions_and_archived_tenants_are_refused_services_are_not() {
        let cache = Cache::in_memory("gate", Duration::from_secs(60));
        let (open, closed) = (TenantId::new(), TenantId::new());
        let ledger = Arc::new(Archived(closed, AtomicUsize::new(0)));
        let gate = Gate::new(cache.clone(), Some(ledger.clone()));
        let admin = principal(Role::Admin, Some(open), Some("s1"));
        assert_eq!(gate.check(&admin).await, Ok(()));
        cache.revoke_session("s1", Duration::from_secs(60)).await;
        assert_eq!(gate.check(&admin).await, Err(Refusal::Ended));
        let customer = principal(Role::Customer, Some(closed), Some("s2"));
        assert_eq!(gate.check(&customer).await, Err(Refusal::Ended));
        let service = principal(Role::Service, Some(closed), None);
        assert_eq!(gate.check(&service).await, Ok(()));
        let operator = principal(Role::Operator, None, Some("s3"));
        assert_eq!(gate.check(&operator).await, Ok(()));
    }

    #[tokio::test]
    async fn a_tenant_invalidation_makes_the_gate_ask_again() {
        let cache = Cache::in_memory("gate", Duration::from_secs(60));
        let t = TenantId::new();
        let ledger = Arc::new(Archived(TenantId::new(), AtomicUsize::new(0)));
        let gate = Gate::new(cache.clone(), Some(ledger.clone()));
        gate.check_tenant(t).await.unwrap();
        gate.check_tenant(t).await.unwrap();
        assert_eq!(ledger.1.load(Ordering::SeqCst), 1, "kept between calls");
        cache.invalidate(&t, &[]).await;
        gate.check_tenant(t).await.unwrap();
        assert_eq!(ledger.1.load(Ordering::SeqCst), 2, "asked again");
    }
}
