//! The platform channel: what the BFF and the modules call module contracts through, with the
//! generated clients (`XServiceClient<Platform>`).
//!
//! A call to a service hosted in this process goes to the process's own gRPC stack — the same
//! access layer (token verified, declared roles enforced, context stored), drain gate, metrics,
//! trace span and router the gRPC port serves — handed over as an `http::Request` instead of
//! being framed onto a loopback HTTP/2 connection and parsed back. A call to any other service
//! goes to that module's address (`upstreams.<module>`, else `upstreams.default`): a channel that
//! resolves the address's host name to every address it has, balances calls over them and
//! resolves again every few seconds, so a Kubernetes headless Service spreads calls over its pods
//! and follows them as they come and go. Either way the caller speaks the contract and nothing
//! else: the local path skips the socket, never the checks, and reaches no module's tables.
//!
//! Remote calls carry a deadline (the caller's `grpc-timeout`, else [`CallPolicy::timeout`]) and
//! are retried with backoff when the connection failed or the callee answered UNAVAILABLE before
//! doing anything — but only for methods the contract declares safe to repeat
//! (`option idempotency_level`: reads, and writes carrying their own idempotency key or
//! reservation id). A connection recycled by a proxy or a pod going away thus costs a retry, not
//! a failed order.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use backon::{BackoffBuilder as _, ExponentialBuilder};
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt as _;
use tonic::body::Body;
use tonic::transport::channel::Change;
use tonic::transport::server::TcpConnectInfo;
use tonic::transport::{Channel, Endpoint};
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

/// Deadlines and retries of remote calls.
#[derive(Debug, Clone, Copy)]
pub struct CallPolicy {
    /// Deadline of a call whose caller set none.
    pub timeout: Duration,
    /// Tries of a call that is safe to repeat, the first included.
    pub attempts: usize,
    /// First wait before a retry; doubled each time, with jitter.
    pub backoff: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            attempts: 3,
            backoff: Duration::from_millis(20),
        }
    }
}

/// Where remote calls go: a channel per module id, and one for everything else.
#[derive(Clone, Default)]
struct Routes {
    modules: HashMap<String, Channel>,
    default: Option<Channel>,
}

/// See the module docs. Cheap to clone; every clone sees the local stack once it is installed.
#[derive(Clone)]
pub struct Platform {
    routes: Arc<Routes>,
    policy: CallPolicy,
    local: Arc<OnceLock<Local>>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut remote: Vec<_> = self.routes.modules.keys().collect();
        remote.sort();
        f.debug_struct("Platform")
            .field(
                "local",
                &self.local.get().map(|l| {
                    let mut s: Vec<_> = l.services.iter().collect();
                    s.sort();
                    s
                }),
            )
            .field("remote", &remote)
            .finish_non_exhaustive()
    }
}

/// The service name of a gRPC path (`/pkg.Service/Method`).
fn service_of(path: &str) -> Option<&str> {
    path.strip_prefix('/')?.split_once('/').map(|(s, _)| s)
}

/// The module id of one of our gRPC paths: `catalog` for `/minimodules.catalog.v1.X/Y`.
pub fn module_of(path: &str) -> Option<&str> {
    let service = service_of(path)?;
    let mut parts = service.split('.');
    (parts.next() == Some("minimodules"))
        .then(|| parts.next())
        .flatten()
}

/// A lazily connected channel to `urls`: one address (`http://host:port`) or several separated by
/// commas, all balanced together. A host name is resolved to all its addresses, again every
/// `refresh`, and calls are balanced over every address found; an address literal is one
/// connection. Must be called inside a Tokio runtime (each resolver runs as a task, ending when
/// the channel is dropped).
pub fn channel(urls: &str, user_agent: &str, refresh: Duration) -> anyhow::Result<Channel> {
    let mut literals = Vec::new();
    let mut names = Vec::new();
    for url in urls.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let uri: http::Uri = url
            .parse()
            .with_context(|| format!("{url:?} is not a URL like http://catalog:50051"))?;
        let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
            anyhow::bail!("{url:?} is not a URL like http://catalog:50051");
        };
        if scheme != "http" {
            anyhow::bail!("{url:?}: module addresses are plaintext http:// inside the cluster");
        }
        let port = uri.port_u16().unwrap_or(80);
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        endpoint(url, user_agent)?; // the settings are checked once, up front
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => literals.push(SocketAddr::new(ip, port)),
            Err(_) => names.push((host, port)),
        }
    }
    match (literals.as_slice(), names.is_empty()) {
        ([], true) => anyhow::bail!("{urls:?} names no address"),
        // One fixed address needs no balancer.
        ([one], true) => return Ok(endpoint(&format!("http://{one}"), user_agent)?.connect_lazy()),
        _ => {}
    }
    let (channel, tx) = Channel::balance_channel::<SocketAddr>(64);
    for addr in literals {
        tx.try_send(Change::Insert(
            addr,
            endpoint(&format!("http://{addr}"), user_agent)?,
        ))
        .map_err(|_| anyhow::anyhow!("the balancer of {urls:?} refused an address"))?;
    }
    for (host, port) in names {
        let (tx, user_agent) = (tx.clone(), user_agent.to_string());
        tokio::spawn(async move {
            let mut known: HashSet<SocketAddr> = HashSet::new();
            loop {
                match tokio::net::lookup_host((host.as_str(), port)).await {
                    Ok(addrs) => {
                        let now: HashSet<SocketAddr> = addrs.collect();
                        for gone in known.difference(&now) {
                            if tx.send(Change::Remove(*gone)).await.is_err() {
                                return;
                            }
                        }
                        for new in now.difference(&known) {
                            let Ok(ep) = endpoint(&format!("http://{new}"), &user_agent) else {
                                continue;
                            };
                            if tx.send(Change::Insert(*new, ep)).await.is_err() {
                                return;
                            }
                        }
                        if now != known {
                            tracing::info!(%host, addresses = now.len(), "module address resolved");
                        }
                        known = now;
                    }
                    // Keep the addresses we have: a DNS hiccup must not empty the pool.
                    Err(e) => tracing::warn!(%host, error = %e, "module address did not resolve"),
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(refresh).await;
            }
        });
    }
    Ok(channel)
}

/// One connection's settings.
fn endpoint(url: &str, user_agent: &str) -> anyhow::Result<Endpoint> {
    Ok(Endpoint::from_shared(url.to_string())?
        .user_agent(user_agent)?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        // Notices a peer that vanished without closing (a pod killed, a node lost).
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10)))
}

impl Platform {
    /// Every call over `remote` until [`Platform::serve_locally`] installs the local stack.
    pub fn new(remote: Channel) -> Self {
        Self::routed(HashMap::new(), Some(remote), CallPolicy::default())
    }

    /// Calls to module `m` not hosted here go to `modules[m]`, else to `default`; with neither,
    /// they fail as UNAVAILABLE.
    pub fn routed(
        modules: HashMap<String, Channel>,
        default: Option<Channel>,
        policy: CallPolicy,
    ) -> Self {
        Self {
            routes: Arc::new(Routes { modules, default }),
            policy,
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

    fn remote_for(&self, path: &str) -> Option<Channel> {
        module_of(path)
            .and_then(|m| self.routes.modules.get(m))
            .or(self.routes.default.as_ref())
            .cloned()
    }
}

/// A status answered by the platform channel itself, as a trailers-only gRPC response.
fn status_response(status: &tonic::Status) -> Response<Body> {
    status.clone().into_http::<Body>()
}

/// The grpc-status of a trailers-only answer (an error answered before any message).
fn early_status(res: &Response<Body>) -> Option<tonic::Code> {
    res.headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map(tonic::Code::from)
}

/// The grpc-status of an answer read whole: in its headers (trailers-only) or its trailers.
fn final_status(res: &Response<Body>) -> Option<tonic::Code> {
    early_status(res).or_else(|| {
        res.extensions()
            .get::<Trailers>()
            .and_then(|t| t.0.get("grpc-status"))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
            .map(tonic::Code::from)
    })
}

/// A copy of the trailers of an answer read whole, for [`final_status`].
#[derive(Clone)]
struct Trailers(http::HeaderMap);

/// `res` with its body read to the end, trailers included, and handed on from memory.
async fn read_whole(res: Response<Body>) -> Result<Response<Body>, BoxError> {
    let (mut parts, body) = res.into_parts();
    let collected = body.collect().await?;
    let trailers = collected.trailers().cloned();
    let bytes = collected.to_bytes();
    if let Some(t) = &trailers {
        parts.extensions.insert(Trailers(t.clone()));
    }
    let body = http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .with_trailers(async move { trailers.map(Ok) });
    Ok(Response::from_parts(parts, Body::new(body)))
}

/// `grpc-timeout` as a duration (gRPC over HTTP/2: an integer and a unit H M S m u n).
fn grpc_timeout(req: &Request<Body>) -> Option<Duration> {
    let v = req.headers().get("grpc-timeout")?.to_str().ok()?;
    let (n, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: u64 = n.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

async fn remote_call(
    channel: Channel,
    policy: CallPolicy,
    req: Request<Body>,
) -> Result<Response<Body>, BoxError> {
    let path = req.uri().path().to_string();
    let deadline = grpc_timeout(&req).unwrap_or(policy.timeout);
    let declared = mm_proto::method(&path);
    let streaming = declared.is_some_and(|m| m.server_streaming);
    let idempotent = declared.is_some_and(|m| m.idempotent && !m.server_streaming);
    let (mut parts, body) = req.into_parts();
    // A stream (the order board) lives as long as its caller wants: no default deadline for it;
    // below, the deadline only bounds the wait for its first answer.
    if !streaming && !parts.headers.contains_key("grpc-timeout") {
        // The callee gives up when we do, instead of working on for nobody.
        if let Ok(v) = HeaderValue::from_str(&format!("{}m", deadline.as_millis())) {
            parts.headers.insert("grpc-timeout", v);
        }
    }
    let work = async move {
        if !idempotent {
            return channel
                .oneshot(Request::from_parts(parts, body))
                .await
                .map_err(BoxError::from);
        }
        // A unary request is one small message: held so it can be sent again.
        let bytes: Bytes = body.collect().await?.to_bytes();
        let mut waits = ExponentialBuilder::default()
            .with_min_delay(policy.backoff)
            .with_jitter()
            .with_max_times(policy.attempts.saturating_sub(1))
            .build();
        loop {
            let mut req = Request::new(Body::new(http_body_util::Full::new(bytes.clone())));
            *req.method_mut() = parts.method.clone();
            *req.uri_mut() = parts.uri.clone();
            *req.version_mut() = parts.version;
            *req.headers_mut() = parts.headers.clone();
            let outcome = match channel.clone().oneshot(req).await {
                // The answer is read whole here (a unary answer is one small message), so a
                // connection cut after the headers, mid-answer, is a failed try like one cut
                // before them, not an UNKNOWN surfacing later in the caller.
                Ok(res) => read_whole(res).await,
                Err(e) => Err(BoxError::from(e)),
            };
            // Repeated when the connection failed, or the callee answered UNAVAILABLE (draining,
            // its database or a dependency down): safe for these methods whatever it did.
            let again = match &outcome {
                Err(_) => true,
                Ok(res) => final_status(res) == Some(tonic::Code::Unavailable),
            };
            match waits.next() {
                Some(wait) if again => {
                    tracing::debug!(path = %parts.uri.path(), ?wait, "retrying a platform call");
                    tokio::time::sleep(wait).await;
                }
                _ => return outcome,
            }
        }
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(r) => r,
        Err(_) => Ok(status_response(&tonic::Status::deadline_exceeded(format!(
            "{path} did not answer within {deadline:?}"
        )))),
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
        let path = req.uri().path().to_string();
        let Some(channel) = self.remote_for(&path) else {
            let module = module_of(&path).unwrap_or("?").to_string();
            return Box::pin(async move {
                Ok(status_response(&tonic::Status::unavailable(format!(
                    "module {module} is not hosted here and has no address (upstreams.{module})"
                ))))
            });
        };
        Box::pin(remote_call(channel, self.policy, req))
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

    #[test]
    fn a_path_names_its_module_and_the_contract_says_what_may_be_retried() {
        assert_eq!(
            module_of("/minimodules.catalog.v1.CatalogService/ReserveStock"),
            Some("catalog")
        );
        assert_eq!(module_of("/grpc.health.v1.Health/Check"), None);
        assert_eq!(module_of("garbage"), None);
        let idempotent = |p: &str| mm_proto::method(p).is_some_and(|m| m.idempotent);
        assert!(idempotent(
            "/minimodules.catalog.v1.CatalogService/ReserveStock"
        ));
        assert!(idempotent(
            "/minimodules.ordering.v1.OrderService/CreateOrder"
        ));
        assert!(idempotent(
            "/minimodules.tenant.v1.TenantService/GetAppConfig"
        ));
        assert!(!idempotent(
            "/minimodules.ordering.v1.OrderService/RefundOrder"
        ));
        assert!(!idempotent(
            "/minimodules.catalog.v1.CatalogService/CreateProduct"
        ));
    }

    type Hits = Arc<std::sync::atomic::AtomicUsize>;

    /// An h2c server answering every call trailers-only with `status(n)` for its n-th call (from
    /// 0), counting them.
    async fn counting_server(status: fn(usize) -> &'static str) -> (SocketAddr, Hits) {
        let hits: Hits = Arc::default();
        let h = hits.clone();
        let app = axum::Router::new().fallback(move || {
            let n = h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                [
                    ("content-type", "application/grpc"),
                    ("grpc-status", status(n)),
                ]
            }
        });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = l.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(l, app).await.ok() });
        (addr, hits)
    }

    #[tokio::test]
    async fn calls_are_balanced_over_every_address_listed_or_resolved() {
        let (a, hits_a) = counting_server(|_| "0").await;
        let (b, hits_b) = counting_server(|_| "0").await;
        // One by name (resolved, as a headless Service is), one by address.
        let urls = format!(
            "http://localhost:{},http://127.0.0.1:{}",
            a.port(),
            b.port()
        );
        let ch = channel(&urls, "ua", Duration::from_millis(50)).expect("a channel");
        let p = Platform::routed(HashMap::new(), Some(ch), CallPolicy::default());
        let seen =
            |h: &Arc<std::sync::atomic::AtomicUsize>| h.load(std::sync::atomic::Ordering::SeqCst);
        for _ in 0..500 {
            let res = p
                .clone()
                .oneshot(request("/minimodules.tenant.v1.TenantService/GetAppConfig"))
                .await
                .expect("answered");
            assert_eq!(
                res.headers().get("grpc-status").map(|v| v.as_bytes()),
                Some(&b"0"[..])
            );
            if seen(&hits_a) > 0 && seen(&hits_b) > 0 {
                return;
            }
        }
        panic!(
            "calls were not spread: {} and {}",
            seen(&hits_a),
            seen(&hits_b)
        );
    }

    /// UNAVAILABLE for the first call (as a draining process answers), OK after.
    fn unavailable_once(n: usize) -> &'static str {
        if n == 0 { "14" } else { "0" }
    }

    /// Calls `path` once on a server answering UNAVAILABLE first: the status the caller got and
    /// how many calls the server saw.
    async fn against_unavailable_once(path: &str) -> (Option<String>, usize) {
        let (addr, hits) = counting_server(unavailable_once).await;
        let ch = channel(&format!("http://{addr}"), "ua", Duration::from_secs(1)).unwrap();
        let p = Platform::routed(HashMap::new(), Some(ch), CallPolicy::default());
        let res = p.oneshot(request(path)).await.expect("answered");
        let status = res
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (status, hits.load(std::sync::atomic::Ordering::SeqCst))
    }

    #[tokio::test]
    async fn only_calls_the_contract_declares_safe_are_retried() {
        // CreateOrder carries its idempotency key: retried, and the retry succeeds.
        assert_eq!(
            against_unavailable_once("/minimodules.ordering.v1.OrderService/CreateOrder").await,
            (Some("0".into()), 2)
        );
        // RefundOrder is not declared safe to repeat: the caller sees the UNAVAILABLE.
        assert_eq!(
            against_unavailable_once("/minimodules.ordering.v1.OrderService/RefundOrder").await,
            (Some("14".into()), 1)
        );
    }

    #[tokio::test]
    async fn a_module_without_an_address_answers_unavailable_naming_the_setting() {
        let p = Platform::routed(HashMap::new(), None, CallPolicy::default());
        let res = p
            .oneshot(request("/minimodules.booking.v1.BookingService/GetService"))
            .await
            .expect("answered by the channel itself");
        let status = tonic::Status::from_header_map(res.headers()).expect("a status");
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(status.message().contains("upstreams.booking"), "{status:?}");
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
