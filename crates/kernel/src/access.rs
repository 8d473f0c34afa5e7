//! The access layer: one tower layer in front of every gRPC service. For each call it looks up the
//! RPC's declaration (generated from the `(minimodules.common.v1.access)` option), verifies the bearer
//! token, checks the role and, for staff, the permission name, and stores the [`RequestContext`] in
//! the request extensions. An RPC of ours with no declaration is refused for everyone, so new methods
//! start closed. Infrastructure services (health, reflection) are open, as probes and tools need.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Request, Response};
use tonic::Status;
use tower::{Layer, Service};

use crate::auth::JwtKeys;
use crate::cache::{Cache, SessionState};
use crate::context::{Principal, RequestContext};
use mm_proto::{METHODS, MethodAccess, Role};

/// Services that are not business modules and need no token.
const OPEN_PREFIXES: &[&str] = &[
    "/grpc.health.v1.",
    "/grpc.reflection.v1.",
    "/grpc.reflection.v1alpha.",
];

/// Builds [`AccessService`]s.
#[derive(Clone, Debug)]
pub struct AccessLayer {
    keys: Arc<JwtKeys>,
    cache: Arc<Cache>,
}

impl AccessLayer {
    /// A layer verifying tokens with `keys` and checking session revocations in `cache`.
    pub fn new(keys: Arc<JwtKeys>, cache: Arc<Cache>) -> Self {
        Self { keys, cache }
    }
}

impl<S> Layer<S> for AccessLayer {
    type Service = AccessService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AccessService {
            inner,
            keys: self.keys.clone(),
            cache: self.cache.clone(),
        }
    }
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct AccessService<S> {
    inner: S,
    keys: Arc<JwtKeys>,
    cache: Arc<Cache>,
}

/// Decides whether a call may proceed against the contract's declarations.
pub fn authorize(
    path: &str,
    bearer: Option<&str>,
    keys: &JwtKeys,
) -> Result<Option<Principal>, Status> {
    authorize_with(METHODS, path, bearer, keys)
}

/// [`authorize`] against a given table; pure so it can be tested without a server.
pub fn authorize_with(
    table: &[MethodAccess],
    path: &str,
    bearer: Option<&str>,
    keys: &JwtKeys,
) -> Result<Option<Principal>, Status> {
    if OPEN_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return Ok(None);
    }
    let Some(access) = table.iter().find(|m| m.path == path) else {
        return Err(Status::unimplemented(format!("unknown method {path}")));
    };
    if !access.declared {
        return Err(Status::permission_denied(
            "this method declares no access and is closed",
        ));
    }
    let principal = match bearer {
        Some(token) => Some(
            keys.verify(token)
                .map_err(|_| Status::unauthenticated("invalid or expired access token"))?,
        ),
        None => None,
    };
    if access.public {
        return Ok(principal);
    }
    let Some(p) = principal else {
        return Err(Status::unauthenticated("this method needs an access token"));
    };
    if !access.roles.contains(&p.role) {
        return Err(Status::permission_denied(format!(
            "role {} may not call this method",
            crate::auth::role_name(p.role)
        )));
    }
    if p.role == Role::Staff
        && !access.permission.is_empty()
        && !p
            .permissions
            .iter()
            .any(|g| g == access.permission || g == "*")
    {
        return Err(Status::permission_denied(format!(
            "missing permission {}",
            access.permission
        )));
    }
    Ok(Some(p))
}

/// The caller's address. X-Forwarded-For is believed only from a loopback peer (our own BFF), so
/// a client cannot choose the address its login attempts are throttled under.
fn client_addr<B>(req: &Request<B>) -> Option<String> {
    let peer = req
        .extensions()
        .get::<tonic::transport::server::TcpConnectInfo>()
        .and_then(|i| i.remote_addr());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    match (peer, forwarded) {
        (Some(p), Some(f)) if p.ip().is_loopback() => Some(f),
        (Some(p), _) => Some(p.ip().to_string()),
        (None, f) => f,
    }
}

fn bearer<B>(req: &Request<B>) -> Option<&str> {
    req.headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

impl<S, B, RB> Service<Request<B>> for AccessService<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    RB: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let request_id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_default();
        let client_addr = client_addr(&req);
        match authorize(req.uri().path(), bearer(&req), &self.keys) {
            Ok(principal) => {
                let span = tracing::Span::current();
                if let Some(t) = principal.as_ref().and_then(|p| p.tenant) {
                    span.record("tenant", tracing::field::display(t));
                }
                if let Some(p) = &principal {
                    span.record("subject", p.subject.as_str());
                }
                let session = principal
                    .as_ref()
                    .and_then(|p| p.session.clone().map(|sid| (p.tenant, sid)));
                req.extensions_mut().insert(RequestContext {
                    principal,
                    request_id,
                    client_addr,
                });
                // Swap in the clone that was driven to readiness, per tower's contract.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let cache = self.cache.clone();
                Box::pin(async move {
                    // A token of a revoked session (logout, refresh reuse) stops working at once,
                    // not when it expires. When neither Redis nor the database can say, the call
                    // is refused as retryable rather than risk letting a revoked session in.
                    if let Some((tenant, sid)) = session {
                        match cache.session_state(tenant, &sid).await {
                            SessionState::Live => {}
                            SessionState::Revoked => {
                                return Ok(Status::unauthenticated(
                                    "this session has ended; log in again",
                                )
                                .into_http::<RB>());
                            }
                            SessionState::Unknown => {
                                return Ok(Status::unavailable(
                                    "cannot check the session right now; try again",
                                )
                                .into_http::<RB>());
                            }
                        }
                    }
                    inner.call(req).await
                })
            }
            Err(status) => {
                tracing::info!(code = ?status.code(), message = status.message(), "access refused");
                Box::pin(async move { Ok(status.into_http::<RB>()) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use tonic::Code;

    use super::*;
    use crate::ids::TenantId;

    const TABLE: &[MethodAccess] = &[
        MethodAccess {
            path: "/x.v1.S/Open",
            declared: true,
            public: true,
            roles: &[],
            permission: "",
            server_streaming: false,
        },
        MethodAccess {
            path: "/x.v1.S/Undeclared",
            declared: false,
            public: false,
            roles: &[],
            permission: "",
            server_streaming: false,
        },
        MethodAccess {
            path: "/x.v1.S/Staffed",
            declared: true,
            public: false,
            roles: &[Role::Staff, Role::Admin],
            permission: "x.things.read",
            server_streaming: false,
        },
    ];

    fn keys() -> JwtKeys {
        JwtKeys::new(
            "k1",
            &SecretString::from("0123456789abcdef0123456789abcdef".to_string()),
            &[],
            "i",
            "a",
            60,
        )
    }

    fn token(k: &JwtKeys, role: Role, perms: &[&str]) -> String {
        let tenant = (role != Role::Operator).then(TenantId::new);
        k.issue(&Principal {
            subject: "s".into(),
            tenant,
            role,
            permissions: perms.iter().map(|p| p.to_string()).collect(),
            session: None,
        })
        .unwrap()
    }

    fn code(r: Result<Option<Principal>, Status>) -> Code {
        r.err().map_or(Code::Ok, |s| s.code())
    }

    #[test]
    fn a_method_without_a_declaration_is_refused_even_to_operators() {
        let k = keys();
        let op = token(&k, Role::Operator, &[]);
        assert_eq!(
            code(authorize_with(TABLE, "/x.v1.S/Undeclared", Some(&op), &k)),
            Code::PermissionDenied
        );
        assert_eq!(
            code(authorize_with(TABLE, "/x.v1.S/Missing", Some(&op), &k)),
            Code::Unimplemented
        );
    }

    #[test]
    fn roles_and_staff_permissions_are_checked() {
        let k = keys();
        let rows = [
            (None, Code::Unauthenticated),
            (Some(token(&k, Role::Customer, &[])), Code::PermissionDenied),
            (Some(token(&k, Role::Operator, &[])), Code::PermissionDenied),
            (Some(token(&k, Role::Staff, &[])), Code::PermissionDenied),
            (Some(token(&k, Role::Staff, &["x.things.read"])), Code::Ok),
            (Some(token(&k, Role::Admin, &[])), Code::Ok),
            (Some("garbage".to_string()), Code::Unauthenticated),
        ];
        for (t, expected) in rows {
            assert_eq!(
                code(authorize_with(TABLE, "/x.v1.S/Staffed", t.as_deref(), &k)),
                expected,
                "{t:?}"
            );
        }
    }

    #[test]
    fn public_methods_and_infrastructure_need_no_token() {
        let k = keys();
        assert_eq!(
            code(authorize_with(TABLE, "/x.v1.S/Open", None, &k)),
            Code::Ok
        );
        assert_eq!(
            code(authorize_with(
                TABLE,
                "/grpc.health.v1.Health/Check",
                None,
                &k
            )),
            Code::Ok
        );
    }
}
