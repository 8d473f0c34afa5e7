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
use crate::context::{Principal, RequestContext};
use crate::gate::Gate;
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
    gate: Arc<Gate>,
    addrs: ClientAddrPolicy,
}

impl AccessLayer {
    /// A layer verifying tokens with `keys`, asking `gate` whether their principal may still act
    /// (session not ended, tenant not archived), and taking the client's address under `addrs`.
    pub fn new(keys: Arc<JwtKeys>, gate: Arc<Gate>, addrs: ClientAddrPolicy) -> Self {
        Self { keys, gate, addrs }
    }
}

impl<S> Layer<S> for AccessLayer {
    type Service = AccessService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        AccessService {
            inner,
            keys: self.keys.clone(),
            gate: self.gate.clone(),
            addrs: self.addrs.clone(),
        }
    }
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct AccessService<S> {
    inner: S,
    keys: Arc<JwtKeys>,
    gate: Arc<Gate>,
    addrs: ClientAddrPolicy,
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

/// Who may tell us the caller's address: the networks of proxies whose X-Forwarded-For is
/// believed (`server.trusted_proxies`), and the user agent of this process's own platform channel
/// (the in-process BFF), whose one-hop X-Forwarded-For is the client address the BFF resolved.
#[derive(Clone, Debug, Default)]
pub struct ClientAddrPolicy {
    trusted: Arc<Vec<ipnet::IpNet>>,
    platform_agent: Option<String>,
}

impl ClientAddrPolicy {
    /// A policy trusting the proxies in `trusted` (CIDR networks or single addresses) and, when
    /// given, calls whose user agent carries `platform_agent`.
    pub fn new(trusted: &[String], platform_agent: Option<String>) -> anyhow::Result<Self> {
        Ok(Self {
            trusted: Arc::new(parse_networks(trusted)?),
            platform_agent,
        })
    }

    fn is_trusted(&self, ip: std::net::IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: walking X-Forwarded-For from the right, past the peer and every
    /// hop that is a trusted proxy, the first address that is not. Every hop left of it was
    /// written by the client and is ignored, so a client cannot choose the address its logins
    /// are throttled and audited under. `from_platform`: the peer is our own BFF, whose last hop
    /// is believed.
    pub fn resolve(
        &self,
        peer: Option<std::net::IpAddr>,
        forwarded: Option<&str>,
        from_platform: bool,
    ) -> Option<std::net::IpAddr> {
        let mut addr = peer?;
        let mut believe_next = from_platform || self.is_trusted(addr);
        for hop in forwarded.into_iter().flat_map(|f| f.rsplit(',')) {
            if !believe_next {
                break;
            }
            // Garbage in the header ends the walk at the last address we could believe.
            let Some(ip) = parse_hop(hop.trim()) else {
                break;
            };
            addr = ip;
            believe_next = self.is_trusted(ip);
        }
        Some(addr)
    }

    /// Whether the request came through this process's own platform channel.
    pub fn from_platform(&self, headers: &http::HeaderMap) -> bool {
        self.platform_agent.as_deref().is_some_and(|agent| {
            headers
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ua| ua.split_whitespace().any(|p| p == agent))
        })
    }
}

/// Parses `server.trusted_proxies`: CIDR networks (`10.0.0.0/8`) or single addresses.
pub fn parse_networks(list: &[String]) -> anyhow::Result<Vec<ipnet::IpNet>> {
    list.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| anyhow::anyhow!("server.trusted_proxies: {s:?} is not a network"))
        })
        .collect()
}

/// One X-Forwarded-For hop: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<std::net::IpAddr> {
    hop.parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

/// The caller's address under `policy`.
fn client_addr<B>(req: &Request<B>, policy: &ClientAddrPolicy) -> Option<String> {
    let peer = req
        .extensions()
        .get::<tonic::transport::server::TcpConnectInfo>()
        .and_then(|i| i.remote_addr())
        .map(|a| a.ip());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    policy
        .resolve(peer, forwarded, policy.from_platform(req.headers()))
        .map(|ip| ip.to_string())
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
        let client_addr = client_addr(&req, &self.addrs);
        match authorize(req.uri().path(), bearer(&req), &self.keys) {
            Ok(principal) => {
                let span = tracing::Span::current();
                if let Some(t) = principal.as_ref().and_then(|p| p.tenant) {
                    span.record("tenant", tracing::field::display(t));
                }
                if let Some(p) = &principal {
                    span.record("subject", p.subject.as_str());
                }
                let checked = principal.clone();
                req.extensions_mut().insert(RequestContext {
                    principal,
                    request_id,
                    client_addr,
                });
                // Swap in the clone that was driven to readiness, per tower's contract.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let gate = self.gate.clone();
                Box::pin(async move {
                    // A token of an ended session (logout, refresh reuse, disabled user) or an
                    // archived tenant stops working at once, not when it expires.
                    if let Some(p) = &checked
                        && let Err(refusal) = gate.check(p).await
                    {
                        return Ok(Status::from(refusal).into_http::<RB>());
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
            idempotent: false,
        },
        MethodAccess {
            path: "/x.v1.S/Undeclared",
            declared: false,
            public: false,
            roles: &[],
            permission: "",
            server_streaming: false,
            idempotent: false,
        },
        MethodAccess {
            path: "/x.v1.S/Staffed",
            declared: true,
            public: false,
            roles: &[Role::Staff, Role::Admin],
            permission: "x.things.read",
            server_streaming: false,
            idempotent: false,
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
    fn the_client_address_is_the_right_most_hop_not_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let none = ClientAddrPolicy::default();
        let proxy =
            ClientAddrPolicy::new(&["127.0.0.1".into(), "10.0.0.0/8".into()], None).unwrap();
        let rows = [
            // Nobody trusted: the peer, whatever the header says.
            (&none, "127.0.0.1", Some("203.0.113.9"), false, "127.0.0.1"),
            // Our own BFF: its one hop.
            (&none, "127.0.0.1", Some("203.0.113.9"), true, "203.0.113.9"),
            // Behind trusted proxies: the right-most hop that is not one; the client's own
            // additions to the left are ignored.
            (
                &proxy,
                "127.0.0.1",
                Some("6.6.6.6, 198.51.100.7, 10.1.2.3"),
                false,
                "198.51.100.7",
            ),
            (
                &proxy,
                "127.0.0.1",
                Some("6.6.6.6, 198.51.100.7"),
                false,
                "198.51.100.7",
            ),
            // A peer that is not a trusted proxy is the client.
            (&proxy, "192.0.2.1", Some("6.6.6.6"), false, "192.0.2.1"),
            // Garbage stops the walk at the last believable address.
            (
                &proxy,
                "127.0.0.1",
                Some("6.6.6.6, nonsense"),
                false,
                "127.0.0.1",
            ),
            (
                &proxy,
                "127.0.0.1",
                Some("[2001:db8::1]:443"),
                false,
                "2001:db8::1",
            ),
            (&proxy, "127.0.0.1", None, false, "127.0.0.1"),
        ];
        for (policy, peer, header, platform, expected) in rows {
            assert_eq!(
                policy.resolve(Some(ip(peer)), header, platform),
                Some(ip(expected)),
                "{peer} {header:?} {platform}"
            );
        }
        assert!(ClientAddrPolicy::new(&["not-a-net".into()], None).is_err());
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
