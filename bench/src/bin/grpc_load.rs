//! A bounded gRPC load generator: N tasks over M HTTP/2 connections call one unary RPC
//! (TenantService.GetAppConfig, public, through the generated client) for a fixed time and report
//! requests/s and latency percentiles from an HDR histogram.

use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use mm_proto::minimodules::tenant::v1::GetAppConfigRequest;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use tonic::transport::Endpoint;

#[derive(Parser)]
struct Args {
    /// gRPC URL.
    #[arg(long, default_value = "http://127.0.0.1:15051")]
    url: String,
    /// Appid to ask for.
    #[arg(long, default_value = "wx0123456789abcdef")]
    appid: String,
    /// HTTP/2 connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Concurrent calls in flight, spread over the connections.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured warm-up seconds.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Also write the result as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut channels = Vec::new();
    for _ in 0..args.connections.max(1) {
        channels.push(
            Endpoint::from_shared(args.url.clone())?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let stop_at = measure_from + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for i in 0..args.concurrency.max(1) {
        let mut client = TenantServiceClient::new(channels[i % channels.len()].clone());
        let appid = args.appid.clone();
        tasks.push(tokio::spawn(async move {
            let mut hist =
                Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            let (mut errors, mut first_error) = (0u64, None);
            loop {
                let t0 = Instant::now();
                if t0 >= stop_at {
                    break;
                }
                let res = client
                    .get_app_config(GetAppConfigRequest {
                        wechat_appid: appid.clone(),
                    })
                    .await;
                if t0 >= measure_from {
                    match res {
                        Ok(_) => {
                            let _ = hist.record(t0.elapsed().as_micros().max(1) as u64);
                        }
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
            }
            (hist, errors, first_error)
        }));
    }
    let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut errors, mut first_error) = (0u64, None);
    for t in tasks {
        let (h, e, f) = t.await?;
        total.add(h)?;
        errors += e;
        if first_error.is_none() {
            first_error = f;
        }
    }
    let rps = total.len() as f64 / args.duration as f64;
    let p50 = total.value_at_quantile(0.50) as f64 / 1000.0;
    let p99 = total.value_at_quantile(0.99) as f64 / 1000.0;
    println!(
        "grpc GetAppConfig: {rps:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms, errors {errors}"
    );
    if let Some(e) = first_error {
        println!("first error: {e}");
    }
    if let Some(path) = args.json {
        std::fs::write(
            path,
            serde_json::json!({"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors})
                .to_string(),
        )?;
    }
    Ok(())
}
