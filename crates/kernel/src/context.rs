//! Who is calling and for which tenant. Built in exactly one place — the access layer — from a
//! verified token, and read by handlers from the request extensions. The tenant never comes from a
//! body field or a client header.

use crate::error::RequestError;
use crate::ids::TenantId;
use crate::scope::TenantScope;
use mm_proto::Role;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Principal {
    /// Subject: a user or operator id.
    pub subject: String,
    /// The tenant the token is bound to; `None` only for platform operators.
    pub tenant: Option<TenantId>,
    /// The caller's role.
    pub role: Role,
    /// Permission names granted to staff.
    pub permissions: Vec<String>,
    /// The login session (refresh-token family) the token belongs to; revoking it revokes the token.
    pub session: Option<String>,
}

/// Per-request context handed to every handler.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The caller, when a valid token was sent.
    pub principal: Option<Principal>,
    /// Correlates logs across the BFF and services.
    pub request_id: String,
    /// The client's address: the peer, or the first X-Forwarded-For hop when the peer is a proxy
    /// on loopback (the BFF).
    pub client_addr: Option<String>,
}

impl RequestContext {
    /// Reads the context the access layer stored; its absence means the layer did not run.
    pub fn from_request<T>(req: &tonic::Request<T>) -> Result<Self, tonic::Status> {
        req.extensions()
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| tonic::Status::unauthenticated("no request context"))
    }

    /// The context of work the platform does on its own behalf (seeding, jobs): a platform operator.
    pub fn system(subject: &str) -> Self {
        Self {
            principal: Some(Principal {
                subject: format!("system:{subject}"),
                role: Role::Operator,
                ..Principal::default()
            }),
            request_id: format!("system-{subject}"),
            client_addr: None,
        }
    }

    /// The caller, or UNAUTHENTICATED.
    pub fn principal(&self) -> Result<&Principal, RequestError> {
        self.principal.as_ref().ok_or(RequestError::Unauthenticated)
    }

    /// Whether the caller is a platform operator.
    pub fn is_operator(&self) -> bool {
        self.principal
            .as_ref()
            .is_some_and(|p| p.role == Role::Operator)
    }

    /// The scope of `tenant` when the caller may act on it: operators on every tenant, everyone
    /// else only on the tenant their token is bound to. The only way a request gets a
    /// [`TenantScope`], which every repository function of a tenant's rows takes.
    pub fn authorize_tenant(&self, tenant: &TenantId) -> Result<TenantScope, RequestError> {
        let p = self.principal()?;
        if p.role == Role::Operator || p.tenant.as_ref() == Some(tenant) {
            Ok(TenantScope::new(*tenant))
        } else {
            Err(RequestError::PermissionDenied(format!(
                "the caller may not access tenant {tenant}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(role: Role, tenant: Option<TenantId>) -> RequestContext {
        RequestContext {
            principal: Some(Principal {
                subject: "u".into(),
                tenant,
                role,
                permissions: vec![],
                session: None,
            }),
            request_id: "r".into(),
            client_addr: None,
        }
    }

    #[test]
    fn admins_reach_only_their_own_tenant() {
        let (a, b) = (TenantId::new(), TenantId::new());
        assert!(ctx(Role::Admin, Some(a)).authorize_tenant(&a).is_ok());
        assert!(ctx(Role::Admin, Some(a)).authorize_tenant(&b).is_err());
        assert!(ctx(Role::Operator, None).authorize_tenant(&b).is_ok());
    }

    #[test]
    fn anonymous_callers_are_unauthenticated() {
        let c = RequestContext {
            principal: None,
            request_id: "r".into(),
            client_addr: None,
        };
        assert!(matches!(
            c.authorize_tenant(&TenantId::new()),
            Err(RequestError::Unauthenticated)
        ));
    }
}
