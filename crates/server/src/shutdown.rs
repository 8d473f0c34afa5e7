//! Graceful shutdown: the pieces `App::stop` drives, in the order it drives them.
//!
//! 1. **Unready.** `/readyz` answers 503 and gRPC health reports NOT_SERVING, while everything is
//!    still served, for `server.shutdown_unready_ms`, so load balancers stop routing here before
//!    anything is refused.
//! 2. **Refuse and drain.** New HTTP requests get 503 in the BFF's error shape with Retry-After;
//!    new gRPC calls from outside get UNAVAILABLE. Server streams (the order board, health
//!    watches) end with UNAVAILABLE "server shutting down" so clients reconnect elsewhere at once.
//!    Requests already admitted run to their end.
//! 3. The HTTP listener closes once no admitted request is left; background jobs finish their
//!    pass; only then does the gRPC server close. The BFF and the jobs call the services over
//!    gRPC, in this process too, so closing gRPC together with HTTP would fail the very requests
//!    the drain waits for.
//!
//! The gRPC gate must let those inner calls through while it refuses outside ones. They come over
//! the platform channel, whose user agent carries a token drawn at start ([`Drain::user_agent`]):
//! only this process knows it, so an outside client cannot slip past the gate.
//!
//! Nothing here holds business rules; it only decides when a request may start.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body::{Body, Frame, SizeHint};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_util::task::TaskTracker;
use tower::{Layer, Service};

/// Why a request was refused, in the HTTP body and the gRPC status alike.
pub const SHUTTING_DOWN: &str = "server shutting down";

/// Seconds a refused client is asked to wait (Retry-After): by then another instance is ready,
/// or this one has restarted.
const RETRY_AFTER_SECS: &str = "1";

/// gRPC health paths stay open while draining: a probe must read NOT_SERVING, not UNAVAILABLE.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// The drain state shared by the HTTP and gRPC sides.
#[derive(Clone, Debug)]
pub struct Drain {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    unready: CancellationToken,
    refusing: CancellationToken,
    http_in_flight: TaskTracker,
    user_agent: String,
    /// What the dependency probe last saw (`App::start` runs it): unready while the database is
    /// unreachable or its schema behind this binary; degraded (still ready) without Redis.
    database_down: AtomicBool,
    schema_behind: AtomicBool,
    redis_down: AtomicBool,
}

/// What the dependency probe saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependencies {
    /// The database did not answer a ping in time.
    pub database_down: bool,
    /// Migrations this binary needs are not applied yet (the migrate Job has not finished).
    pub schema_behind: bool,
    /// Redis is configured and unavailable: the platform serves from the database, degraded.
    pub redis_down: bool,
}

impl Dependencies {
    /// Whether the process can do its work.
    pub fn ready(self) -> bool {
        !self.database_down && !self.schema_behind
    }
}

impl Default for Drain {
    fn default() -> Self {
        Self::new()
    }
}

impl Drain {
    /// Ready, admitting everything.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                unready: CancellationToken::new(),
                refusing: CancellationToken::new(),
                http_in_flight: TaskTracker::new(),
                user_agent: format!("minimodules-internal/{}", uuid::Uuid::new_v4().simple()),
                database_down: AtomicBool::new(false),
                schema_behind: AtomicBool::new(false),
                redis_down: AtomicBool::new(false),
            }),
        }
    }

    /// The user agent of this process's own platform channel; calls carrying it pass the gRPC
    /// gate while draining.
    pub fn user_agent(&self) -> &str {
        &self.inner.user_agent
    }

    /// Step 1: report unready (the caller flips gRPC health).
    pub fn set_unready(&self) {
        self.inner.unready.cancel();
    }

    /// Whether shutdown has begun (`/readyz` answers 503 whatever the dependencies).
    pub fn is_unready(&self) -> bool {
        self.inner.unready.is_cancelled()
    }

    /// Records what the dependency probe saw.
    pub fn set_dependencies(&self, d: Dependencies) {
        self.inner
            .database_down
            .store(d.database_down, Ordering::SeqCst);
        self.inner
            .schema_behind
            .store(d.schema_behind, Ordering::SeqCst);
        self.inner.redis_down.store(d.redis_down, Ordering::SeqCst);
    }

    /// What the dependency probe last saw.
    pub fn dependencies(&self) -> Dependencies {
        Dependencies {
            database_down: self.inner.database_down.load(Ordering::SeqCst),
            schema_behind: self.inner.schema_behind.load(Ordering::SeqCst),
            redis_down: self.inner.redis_down.load(Ordering::SeqCst),
        }
    }

    /// Step 2: refuse new requests and end open streams. Implies unready.
    pub fn refuse_new(&self) {
        self.inner.unready.cancel();
        self.inner.refusing.cancel();
        self.inner.http_in_flight.close();
    }

    /// Whether new requests are refused.
    pub fn is_refusing(&self) -> bool {
        self.inner.refusing.is_cancelled()
    }

    /// Completes when every admitted HTTP request has been answered (after [`Drain::refuse_new`]).
    pub async fn http_drained(&self) {
        self.inner.http_in_flight.wait().await;
    }

    fn is_internal(&self, headers: &HeaderMap) -> bool {
        headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.split_whitespace().any(|p| p == self.inner.user_agent))
    }
}

/// `/readyz`: 200 while this process wants traffic and can serve it; 503 from the moment shutdown
/// begins, and while the database is unreachable or its schema behind this binary. Without Redis
/// it stays 200, degraded: Redis is a cache, and the platform serves from the database.
/// `/healthz` (liveness) stays 200 until the listener closes: a draining process, or one whose
/// database is down, is not broken, and restarting it would not help.
fn readyz(drain: &Drain) -> Response {
    let d = drain.dependencies();
    if drain.is_unready() {
        (StatusCode::SERVICE_UNAVAILABLE, SHUTTING_DOWN).into_response()
    } else if d.database_down {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    } else if d.schema_behind {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "database schema not migrated yet (run `minimodules migrate`)",
        )
            .into_response()
    } else if d.redis_down {
        (
            StatusCode::OK,
            "ready, degraded: Redis unavailable, serving from the database",
        )
            .into_response()
    } else {
        (StatusCode::OK, "ready").into_response()
    }
}

/// HTTP middleware: answers `/readyz`, counts admitted requests, and refuses new ones once
/// draining.
pub async fn http_gate(
    State(drain): State<Drain>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match req.uri().path() {
        "/readyz" => return readyz(&drain),
        // Liveness and scrapes keep answering while draining; they are how a drain is watched.
        "/healthz" | "/metrics" => return next.run(req).await,
        _ => {}
    }
    // Counted before the check: a request that sees the gate open is already counted, so the
    // drain cannot miss it.
    let token = drain.inner.http_in_flight.token();
    if drain.is_refusing() {
        drop(token);
        metrics::counter!("mm_http_refused_total").increment(1);
        return refused_http();
    }
    let res = next.run(req).await;
    drop(token);
    res
}

/// 503 in the BFF's error shape (`{code, message, details}`), so the mini-program handles it like
/// any other UNAVAILABLE, plus Retry-After.
fn refused_http() -> Response {
    let body = mm_bff::error::ErrorBody {
        code: "UNAVAILABLE".into(),
        message: format!("{SHUTTING_DOWN}; retry later"),
        details: mm_bff::error::ErrorDetailsDto::default(),
    };
    let mut res = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    res.headers_mut().insert(
        http::header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    res
}

/// gRPC layer: refuses new outside calls with UNAVAILABLE while draining, and ends server
/// streams (any response body still waiting for data) once draining begins.
#[derive(Clone, Debug)]
pub struct GrpcDrainLayer {
    drain: Drain,
}

impl GrpcDrainLayer {
    /// The layer over `drain`.
    pub fn new(drain: Drain) -> Self {
        Self { drain }
    }
}

impl<S> Layer<S> for GrpcDrainLayer {
    type Service = GrpcDrain<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcDrain {
            inner,
            drain: self.drain.clone(),
        }
    }
}

/// See [`GrpcDrainLayer`].
#[derive(Clone, Debug)]
pub struct GrpcDrain<S> {
    inner: S,
    drain: Drain,
}

impl<S, B, RB> Service<http::Request<B>> for GrpcDrain<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Send,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if self.drain.is_refusing()
            && !req.uri().path().starts_with(HEALTH_PREFIX)
            && !self.drain.is_internal(req.headers())
        {
            return Box::pin(std::future::ready(Ok(tonic::Status::unavailable(
                SHUTTING_DOWN,
            )
            .into_http())));
        }
        let stop = self.drain.inner.refusing.clone().cancelled_owned();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await?;
            Ok(res.map(|body| {
                tonic::body::Body::new(StreamEnd {
                    inner: body,
                    stop: Box::pin(stop),
                    ended: false,
                })
            }))
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that ends with UNAVAILABLE "server shutting down" when draining begins
    /// while it waits for data. A unary reply is ready the moment it exists and is never cut;
    /// only a body with nothing to send (a stream between events) is. tonic yields whole
    /// messages per frame, so the cut never splits one.
    struct StreamEnd<B> {
        #[pin]
        inner: B,
        stop: Pin<Box<WaitForCancellationFutureOwned>>,
        ended: bool,
    }
}

impl<B> Body for StreamEnd<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        if *this.ended {
            return Poll::Ready(None);
        }
        // The inner body first: whatever it has ready (an event, its own trailers) goes out
        // before any cut.
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.stop.as_mut().poll(cx).is_ready() {
            *this.ended = true;
            return Poll::Ready(Some(Ok(Frame::trailers(shutting_down_trailers()))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        // The cut may end the body early, so the inner body's exact size would be a lie.
        SizeHint::default()
    }
}

/// grpc-status and grpc-message of UNAVAILABLE "server shutting down", encoded by tonic.
fn shutting_down_trailers() -> HeaderMap {
    let status = tonic::Status::unavailable(SHUTTING_DOWN).into_http::<()>();
    let mut trailers = HeaderMap::new();
    for name in ["grpc-status", "grpc-message"] {
        if let Some(v) = status.headers().get(name) {
            trailers.insert(HeaderName::from_static(name), v.clone());
        }
    }
    trailers
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    #[tokio::test]
    async fn a_ready_body_is_never_cut() {
        let drain = Drain::new();
        drain.refuse_new();
        let body = StreamEnd {
            inner: http_body_util::Full::new(Bytes::from_static(b"reply")),
            stop: Box::pin(drain.inner.refusing.clone().cancelled_owned()),
            ended: false,
        };
        let collected = body.collect().await.map(|c| c.to_bytes());
        assert_eq!(collected.ok(), Some(Bytes::from_static(b"reply")));
    }

    #[tokio::test]
    async fn a_waiting_stream_ends_with_unavailable_when_draining_begins() {
        let drain = Drain::new();
        let (_tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        let waiting =
            http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx));
        let mut body = StreamEnd {
            inner: waiting,
            stop: Box::pin(drain.inner.refusing.clone().cancelled_owned()),
            ended: false,
        };
        let early = tokio::time::timeout(std::time::Duration::from_millis(50), body.frame()).await;
        assert!(
            early.is_err(),
            "nothing to send and not draining: still open"
        );
        drain.refuse_new();
        let frame = body.frame().await.and_then(Result::ok);
        let trailers = frame.and_then(|f| f.into_trailers().ok());
        assert_eq!(
            trailers.as_ref().and_then(|t| t.get("grpc-status")),
            Some(&HeaderValue::from_static("14"))
        );
        assert!(body.frame().await.is_none(), "nothing after the trailers");
    }

    #[test]
    fn only_this_process_passes_the_gate() {
        let drain = Drain::new();
        let mut own = HeaderMap::new();
        own.insert(
            http::header::USER_AGENT,
            HeaderValue::from_str(&format!("{} tonic/0.14.9", drain.user_agent())).unwrap(),
        );
        assert!(drain.is_internal(&own));
        let mut other = HeaderMap::new();
        other.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static("minimodules-internal/guess tonic/0.14.9"),
        );
        assert!(!drain.is_internal(&other));
        assert!(!drain.is_internal(&HeaderMap::new()));
    }
}
