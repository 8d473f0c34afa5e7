//! Prometheus metrics: one recorder per process, rendered at /metrics. The gRPC layer here counts
//! calls and latency by method and status code; the BFF counts its routes the same way.

use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use http::{Request, Response};
use metrics_exporter_prometheus::PrometheusBuilder;
pub use metrics_exporter_prometheus::PrometheusHandle;
use tower::{Layer, Service};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global recorder once and returns the handle that renders it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ])
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Only fails when another recorder is installed; the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Folds the histograms' new samples into their buckets every `every`, until `stop`.
///
/// The recorder is built without the exporter's own upkeep task (it would need the exporter's
/// HTTP listener), and until upkeep runs it keeps every sample of a histogram in a list: a
/// server nobody scraped grew by a few bytes per call, about 36 MB over the benchmark's cases on
/// either backend (bench/README.md, "Ninth round"). The exporter's own task runs every 5 seconds.
pub async fn upkeep(
    handle: PrometheusHandle,
    every: std::time::Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => handle.run_upkeep(),
            () = stop.cancelled() => return,
        }
    }
}

/// Infrastructure methods served beside the contract's, labelled by name like ours.
const INFRASTRUCTURE: &[&str] = &[
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The `method` label of a call: the path when it names a method we serve, else "unknown". The
/// layer runs before the access check, so anyone may send any path; labelling by the raw path
/// would let anonymous callers create a metric series (and memory) per made-up path.
pub fn method_label(path: &str) -> &'static str {
    mm_proto::method(path)
        .map(|m| m.path)
        .or_else(|| INFRASTRUCTURE.iter().copied().find(|m| *m == path))
        .unwrap_or("unknown")
}

/// Counts gRPC calls by method and status.
#[derive(Clone, Debug, Default)]
pub struct GrpcMetricsLayer;

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner }
    }
}

/// See [`GrpcMetricsLayer`].
#[derive(Clone, Debug)]
pub struct GrpcMetrics<S> {
    inner: S,
}

impl<S, B, RB> Service<Request<B>> for GrpcMetrics<S>
where
    S: Service<Request<B>, Response = Response<RB>> + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let method = method_label(req.uri().path());
        let start = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await;
            // Errors arrive as trailers-only responses, so grpc-status sits in the headers; a
            // success carries it in the trailers, which we do not wait for.
            let code = match &res {
                Ok(r) => r
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .map(|c| format!("{:?}", tonic::Code::from_i32(c)))
                    .unwrap_or_else(|| "Ok".to_string()),
                Err(_) => "TransportError".to_string(),
            };
            metrics::counter!("mm_grpc_requests_total", "method" => method, "code" => code.clone())
                .increment(1);
            if code != "Ok" {
                metrics::counter!("mm_grpc_errors_total", "method" => method, "code" => code)
                    .increment(1);
            }
            metrics::histogram!("mm_grpc_request_duration_seconds", "method" => method)
                .record(start.elapsed().as_secs_f64());
            res
        })
    }
}
