//! The menu, uncached: the first read of the published menu after it changed.
//!
//! The server caches the menu under the tenant's menu version and every catalog write bumps that
//! version, so a cache-busting header or query would be ignored (and would not be honest). Instead
//! each of `--connections` tasks loops: rename a menu category through `CatalogService.UpdateCategory`
//! (gRPC, as the demo admin; one real write that bumps the version), then `GET /api/v1/menu` over its
//! own keep-alive HTTP connection, timing only the read. A read counts as uncached when it is the
//! first to return its version (a global maximum of versions seen); reads that return a version
//! another task already saw may have been served from the cache and are reported but not counted.
//! Requests/s is uncached reads over the measured seconds, so it includes the server's cost of the
//! writes that made them: a lower bound on what uncached reads alone would reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use mm_bench::authed;
use mm_proto::minimodules::catalog::v1 as cpb;
use mm_proto::minimodules::catalog::v1::catalog_service_client::CatalogServiceClient;
use tonic::transport::{Channel, Endpoint};

#[derive(Parser)]
struct Args {
    /// gRPC URL (the catalog writes).
    #[arg(long)]
    grpc_url: String,
    /// HTTP URL of the BFF (the menu reads).
    #[arg(long)]
    http_url: String,
    /// The demo mini-program's appid.
    #[arg(long, default_value = "wx0123456789abcdef")]
    appid: String,
    /// The demo admin's login name.
    #[arg(long, default_value = "admin")]
    admin: String,
    /// The demo admin's password.
    #[arg(long, default_value = "minimodules-demo-1")]
    password: String,
    /// Tasks, each with its own HTTP connection (like wrk -c).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// HTTP/2 connections the writes share.
    #[arg(long, default_value_t = 4)]
    grpc_connections: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured warm-up seconds.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Also write the result as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// The menu's top-level `"version":N`. It is the last field of the JSON object, so searching from
/// the end finds it without parsing the whole menu (the load generator shares the cores with the
/// server; parsing every menu would take CPU from the server).
fn menu_version(body: &[u8]) -> Option<i64> {
    let key = b"\"version\":";
    let at = body.windows(key.len()).rposition(|w| w == key)? + key.len();
    let digits: Vec<u8> = body[at..]
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| b.is_ascii_digit())
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// What one task saw in the measured window.
struct Tally {
    uncached: Histogram<u64>,
    repeats: u64,
    writes: u64,
    errors: u64,
    first_error: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut channels: Vec<Channel> = Vec::new();
    for _ in 0..args.grpc_connections.max(1) {
        channels.push(
            Endpoint::from_shared(args.grpc_url.clone())?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }
    let ch = channels[0].clone();
    let (tenant, admin) =
        mm_bench::demo_admin(&ch, &args.appid, &args.admin, &args.password).await?;
    // The first category in menu order; renaming it is a real change that bumps the menu version.
    let category = CatalogServiceClient::new(ch.clone())
        .list_categories(authed(
            cpb::ListCategoriesRequest {
                parent: tenant.clone(),
            },
            &admin,
        )?)
        .await?
        .into_inner()
        .categories
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the demo tenant has no category"))?
        .name;
    let menu_url = format!("{}/api/v1/menu?appid={}", args.http_url, args.appid);

    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let stop_at = measure_from + Duration::from_secs(args.duration);
    let counter = Arc::new(AtomicU64::new(0));
    let newest = Arc::new(AtomicI64::new(0));
    let mut tasks = Vec::new();
    for i in 0..args.connections.max(1) {
        let mut catalog = CatalogServiceClient::new(channels[i % channels.len()].clone());
        // One client per task, one idle connection each: `--connections` keep-alive connections.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        let (category, admin, menu_url) = (category.clone(), admin.clone(), menu_url.clone());
        let (counter, newest) = (counter.clone(), newest.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally {
                uncached: Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                    .expect("histogram bounds"),
                repeats: 0,
                writes: 0,
                errors: 0,
                first_error: None,
            };
            loop {
                let began = Instant::now();
                if began >= stop_at {
                    break;
                }
                let measured = began >= measure_from;
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let write = async {
                    let req = authed(
                        cpb::UpdateCategoryRequest {
                            category: Some(cpb::Category {
                                name: category.clone(),
                                display_name_en: format!("Bench {n}"),
                                ..Default::default()
                            }),
                            update_mask: Some(prost_types::FieldMask {
                                paths: vec!["display_name_en".into()],
                            }),
                        },
                        &admin,
                    )
                    .map_err(|e| e.to_string())?;
                    catalog
                        .update_category(req)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                };
                if let Err(e) = write.await {
                    if measured {
                        t.errors += 1;
                        t.first_error.get_or_insert(format!("UpdateCategory: {e}"));
                    }
                    continue;
                }
                if measured {
                    t.writes += 1;
                }
                let t0 = Instant::now();
                let read = async {
                    let resp = http.get(&menu_url).send().await?.error_for_status()?;
                    resp.bytes().await
                }
                .await;
                let elapsed = t0.elapsed();
                if !measured {
                    continue;
                }
                match read.map_err(|e| e.to_string()).and_then(|b| {
                    menu_version(&b).ok_or_else(|| "no version in the menu".to_string())
                }) {
                    Ok(v) if newest.fetch_max(v, Ordering::Relaxed) < v => {
                        let _ = t.uncached.record(elapsed.as_micros().max(1) as u64);
                    }
                    Ok(_) => t.repeats += 1,
                    Err(e) => {
                        t.errors += 1;
                        t.first_error
                            .get_or_insert(format!("GET /api/v1/menu: {e}"));
                    }
                }
            }
            t
        }));
    }
    let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut repeats, mut writes, mut errors, mut first_error) = (0u64, 0u64, 0u64, None);
    for task in tasks {
        let t = task.await?;
        total.add(&t.uncached)?;
        repeats += t.repeats;
        writes += t.writes;
        errors += t.errors;
        if first_error.is_none() {
            first_error = t.first_error;
        }
    }
    let secs = args.duration as f64;
    let rps = total.len() as f64 / secs;
    let p50 = total.value_at_quantile(0.50) as f64 / 1000.0;
    let p99 = total.value_at_quantile(0.99) as f64 / 1000.0;
    println!(
        "menu uncached: {rps:.0} first reads/s, p50 {p50:.2} ms, p99 {p99:.2} ms; \
         {:.0} writes/s, {repeats} repeat reads not counted, errors {errors}",
        writes as f64 / secs
    );
    if let Some(e) = first_error {
        println!("first error: {e}");
    }
    if let Some(path) = args.json {
        std::fs::write(
            path,
            serde_json::json!({
                "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors,
                "writes_per_s": writes as f64 / secs, "repeat_reads": repeats,
            })
            .to_string(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::menu_version;

    #[test]
    fn finds_the_top_level_version_at_the_end() {
        let body = br#"{"sections":[{"id":"a","products":[]}],"version":42}"#;
        assert_eq!(menu_version(body), Some(42));
    }

    #[test]
    fn no_version_is_none() {
        assert_eq!(menu_version(br#"{"sections":[]}"#), None);
    }
}
