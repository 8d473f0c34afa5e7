//! The platform channel: what the BFF and the modules call module contracts through, with the
//! generated clients (`XServiceClient<Platform>`).
//!
//! A call to a service hosted in this process goes to the process's own gRPC stack — the same
//! access layer (token verified, declared roles enforced, context stored), drain gate, metrics,
//! trace span and router the gRPC port serves — handed over as an `http::Request` instead of
//! being framed onto a loopback HTTP/2 connection and parsed back. A call to any other service
//! goes over the real [`Channel`] (`bff.upstream`, or this process's own port before the local
//! stack is installed). Either way the caller speaks the contract and nothing else: the local path
//! skips the socket, never the checks, and reaches no module's tables.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response};
use tonic::body::Body;
use tonic::transport::Channel;
use tonic::transport::server::TcpConnectInfo;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt as _};

/// Errors of a platform call below gRPC (a connection that failed); the clients turn them into
/// `UNAVAILABLE` statuses.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// This process's gRPC stack as one service: the layers and the router of the gRPC port.
pub type LocalStack = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

struct Local {
    /// Full gRPC service names hosted here, e.g. `minimodules.catalog.v1.CatalogService`.
    services: HashSet<&'static str>,
    stack: LocalStack,
    /// The user agent the remote channel sends, so the drain gate knows these calls as ours.
    user_agent: HeaderValue,
}

/// See the module docs. Cheap to clone; every clone sees the local stack once it is installed.
#[derive(Clone)]
pub struct Platform {
    remote: Channel,
    local: Arc<OnceLock<Local>>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field(
                "local",
                &self.local.get().map(|l| {
                    let mut s: Vec<_> = l.services.iter().collect();
                    s.sort();
                    s
                }),
            )
            .finish_non_exhaustive()
    }
}

/// The service name of a gRPC path (`/pkg.Service/Method`).
fn service_of(path: &str) -> Option<&str> {
    path.strip_prefix('/')?.split_once('/').map(|(s, _)| s)
}

impl Platform {
    /// Every call over `remote` until [`Platform::serve_locally`] installs the local stack.
    pub fn new(remote: Channel) -> Self {
        Self {
            remote,
            local: Arc::default(),
        }
    }

    /// From now on, calls to `services` go to `stack` in this process. Set once, when the server
    /// has built its gRPC stack (modules are built before it, holding clones of this platform);
    /// false when it was set already.
    pub fn serve_locally(
        &self,
        services: impl IntoIterator<Item = &'static str>,
        stack: LocalStack,
        user_agent: &str,
    ) -> anyhow::Result<bool> {
        let user_agent = HeaderValue::from_str(&format!("{user_agent} in-process"))
            .map_err(|_| anyhow::anyhow!("the platform user agent is not a header value"))?;
        Ok(self
            .local
            .set(Local {
                services: services.into_iter().collect(),
                stack,
                user_agent,
            })
            .is_ok())
    }

    /// Whether a call to `path` stays in this process.
    pub fn is_local(&self, path: &str) -> bool {
        self.local
            .get()
            .zip(service_of(path))
            .is_some_and(|(l, s)| l.services.contains(s))
    }
}

impl Service<Request<Body>> for Platform {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    // Readiness is awaited per call on the path the call takes (see `call`).
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        if let Some(local) = self.local.get()
            && self.is_local(req.uri().path())
        {
            req.headers_mut()
                .insert(http::header::USER_AGENT, local.user_agent.clone());
            // The caller is this process: to the access layer it is a loopback peer, as it was
            // over the loopback connection (so it believes the BFF's X-Forwarded-For).
            req.extensions_mut().insert(TcpConnectInfo {
                local_addr: None,
                remote_addr: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            });
            let stack = local.stack.clone();
            return Box::pin(async move {
                match stack.oneshot(req).await {
                    Ok(res) => Ok(res),
                    Err(never) => match never {},
                }
            });
        }
        let remote = self.remote.clone();
        Box::pin(async move { remote.oneshot(req).await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// What reached a recording stack: path, user agent, whether the peer was loopback.
    type Seen = Arc<Mutex<Vec<(String, Option<String>, bool)>>>;

    /// A local stack that records what reached it and answers a trailers-only OK.
    fn recording() -> (LocalStack, Seen) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let stack = tower::service_fn(move |req: Request<Body>| {
            let ua = req
                .headers()
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let loopback = req
                .extensions()
                .get::<TcpConnectInfo>()
                .and_then(TcpConnectInfo::remote_addr)
                .is_some_and(|a| a.ip().is_loopback());
            log.lock()
                .unwrap()
                .push((req.uri().path().to_string(), ua, loopback));
            async move { Ok::<_, Infallible>(tonic::Status::ok("").into_http::<Body>()) }
        });
        (BoxCloneSyncService::new(stack), seen)
    }

    fn unreachable_channel() -> Channel {
        // Port 9 (discard) on loopback: nothing listens, so a remote call fails fast.
        tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy()
    }

    fn request(path: &str) -> Request<Body> {
        Request::builder()
            .uri(path)
            .body(Body::empty())
            .expect("a valid request")
    }

    #[tokio::test]
    async fn hosted_services_are_served_in_process_with_our_user_agent() {
        let p = Platform::new(unreachable_channel());
        let (stack, seen) = recording();
        assert!(
            p.serve_locally(["minimodules.catalog.v1.CatalogService"], stack, "mm-ua/1")
                .unwrap()
        );
        let res = p
            .clone()
            .oneshot(request(
                "/minimodules.catalog.v1.CatalogService/ResolveItems",
            ))
            .await
            .expect("served in process");
        assert_eq!(res.status(), http::StatusCode::OK);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        let (path, ua, loopback) = &seen[0];
        assert_eq!(path, "/minimodules.catalog.v1.CatalogService/ResolveItems");
        assert!(
            ua.as_deref()
                .is_some_and(|u| u.split_whitespace().any(|w| w == "mm-ua/1")),
            "{ua:?}"
        );
        assert!(loopback);
    }

    #[tokio::test]
    async fn other_services_go_over_the_channel() {
        let p = Platform::new(unreachable_channel());
        let (stack, seen) = recording();
        p.serve_locally(["minimodules.catalog.v1.CatalogService"], stack, "ua")
            .unwrap();
        assert!(!p.is_local("/minimodules.ordering.v1.OrderService/CreateOrder"));
        assert!(!p.is_local("/minimodules.catalog.v1.CatalogService"));
        assert!(!p.is_local("garbage"));
        let res = p
            .clone()
            .oneshot(request("/minimodules.ordering.v1.OrderService/CreateOrder"))
            .await;
        assert!(res.is_err(), "nothing listens on the remote side");
        assert!(
            seen.lock().unwrap().is_empty(),
            "the local stack saw nothing"
        );
    }

    #[tokio::test]
    async fn before_the_stack_is_installed_everything_is_remote_and_it_installs_once() {
        let p = Platform::new(unreachable_channel());
        assert!(!p.is_local("/minimodules.catalog.v1.CatalogService/ResolveItems"));
        let (a, _) = recording();
        let (b, _) = recording();
        let clone = p.clone();
        assert!(
            clone
                .serve_locally(["minimodules.catalog.v1.CatalogService"], a, "ua")
                .unwrap()
        );
        assert!(p.is_local("/minimodules.catalog.v1.CatalogService/ResolveItems"));
        assert!(!p.serve_locally(["x.v1.S"], b, "ua").unwrap());
    }
}
