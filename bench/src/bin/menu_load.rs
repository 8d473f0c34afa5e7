//! The menu, uncached: the first read of a shop's published menu after it changed.
//!
//! The server caches a menu under its shop's menu version and every catalog write bumps that
//! version, so a cache-busting header or query would be ignored (and would not be honest). Instead
//! the run opens one shop per task (`CreateTenant` from the restaurant template, as a platform
//! operator) and lays out a menu of `--products` products in `--categories` categories, as the
//! seed stack's 50-product catalog page. The load then runs in rounds of two phases, a barrier
//! between them. Writes: every task renames a category of its shop through
//! `CatalogService.UpdateCategory` (gRPC; a real write that bumps the version). Reads: every task
//! sends `GET /api/v1/menu` with its shop's appid over its own keep-alive HTTP connection. Nobody
//! else reads or writes that shop, so every read is the first after its change; it must show a
//! newer version than the task's previous read (a read that does not is a stale menu and counts as
//! an error). Requests/s is the reads over the time of the read phases (from the barrier to the
//! last read's answer, so the slowest read of a round holds the whole round), which is what the
//! seed stack's page measures: reads, 64 at a time, none served from a cache. The writes' rate and
//! the rate over the whole run are printed beside it.
//!
//! One shop per task, not one shared shop: every write of a shop bumps one version row, so
//! writers of one shop queue on that row and each commit's flush to disk (about 280 flushes/s on
//! this machine's disk, by `pg_test_fsync`), and a single shared shop measures the disk rather
//! than the menu.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use mm_bench::authed;
use mm_proto::minimodules::catalog::v1 as cpb;
use mm_proto::minimodules::catalog::v1::catalog_service_client::CatalogServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use tokio::sync::Barrier;
use tonic::transport::{Channel, Endpoint};

#[derive(Parser)]
struct Args {
    /// gRPC URL (the shops and the catalog writes).
    #[arg(long)]
    grpc_url: String,
    /// HTTP URL of the BFF (the menu reads).
    #[arg(long)]
    http_url: String,
    /// A platform operator's access token (`minimodules create-operator` prints one).
    #[arg(long, env = "BENCH_OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: String,
    /// Tasks, each with its own shop and its own HTTP connection (like wrk -c).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// HTTP/2 connections the writes share.
    #[arg(long, default_value_t = 4)]
    grpc_connections: usize,
    /// Products on each shop's menu (the seed stack's catalog page holds 50).
    #[arg(long, default_value_t = 50)]
    products: usize,
    /// Categories the products are spread over.
    #[arg(long, default_value_t = 5)]
    categories: usize,
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

/// A WeChat-shaped appid for shop `i` of this run: `wx` and 16 hex digits.
fn shop_appid(run: u32, i: usize) -> String {
    format!("wx{run:08x}{i:08x}")
}

/// One shop of the run, ready for the load: its appid and the category the task renames.
struct Shop {
    appid: String,
    category: String,
}

/// Opens shop `i` and lays out its menu, as an operator would through the admin.
async fn open_shop(
    ch: Channel,
    token: String,
    run: u32,
    i: usize,
    args: &Args,
) -> anyhow::Result<Shop> {
    let appid = shop_appid(run, i);
    let tenant = TenantServiceClient::new(ch.clone())
        .create_tenant(authed(
            tpb::CreateTenantRequest {
                tenant: Some(tpb::Tenant {
                    slug: format!("bench-menu-{run:08x}-{i}"),
                    display_name_zh: format!("压测门店 {i}"),
                    display_name_en: format!("Bench shop {i}"),
                    industry: "restaurant".into(),
                    wechat_appid: appid.clone(),
                    ..Default::default()
                }),
                template_id: "restaurant".into(),
            },
            &token,
        )?)
        .await?
        .into_inner()
        .tenant
        .ok_or_else(|| anyhow::anyhow!("CreateTenant answered no tenant"))?
        .name;
    let mut catalog = CatalogServiceClient::new(ch);
    let mut categories = Vec::new();
    for c in 0..args.categories.max(1) {
        let category = catalog
            .create_category(authed(
                cpb::CreateCategoryRequest {
                    parent: tenant.clone(),
                    category: Some(cpb::Category {
                        display_name_zh: format!("分类 {c}"),
                        display_name_en: format!("Category {c}"),
                        sort_order: c as i32,
                        ..Default::default()
                    }),
                },
                &token,
            )?)
            .await?
            .into_inner()
            .category
            .ok_or_else(|| anyhow::anyhow!("CreateCategory answered no category"))?
            .name;
        categories.push(category);
    }
    for p in 0..args.products {
        catalog
            .create_product(authed(
                cpb::CreateProductRequest {
                    parent: tenant.clone(),
                    product: Some(cpb::Product {
                        category: categories[p % categories.len()].clone(),
                        display_name_zh: format!("菜品 {p}"),
                        display_name_en: format!("Dish {p}"),
                        description: format!("压测用的第 {p} 道菜，一份的量。"),
                        image_urls: vec![format!("https://img.example.com/dish/{p}.jpg")],
                        on_sale: true,
                        sort_order: p as i32,
                        skus: vec![cpb::Sku {
                            price_fen: 500 + 37 * p as i64,
                            stock: 1000,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
                &token,
            )?)
            .await?;
    }
    Ok(Shop {
        appid,
        category: categories[0].clone(),
    })
}

/// What one task saw in the measured window.
struct Tally {
    reads: Histogram<u64>,
    writes: u64,
    errors: u64,
    first_error: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let mut channels: Vec<Channel> = Vec::new();
    for _ in 0..args.grpc_connections.max(1) {
        channels.push(
            Endpoint::from_shared(args.grpc_url.clone())?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }
    // Distinct slugs and appids per run, so a second run against one server opens new shops.
    let run = std::process::id();
    let opened = Instant::now();
    let mut setup = tokio::task::JoinSet::new();
    for i in 0..args.connections.max(1) {
        let (ch, token, args) = (
            channels[i % channels.len()].clone(),
            args.operator_token.clone(),
            args.clone(),
        );
        setup.spawn(async move { (i, open_shop(ch, token, run, i, &args).await) });
    }
    let mut shops: Vec<Option<Shop>> = (0..args.connections.max(1)).map(|_| None).collect();
    while let Some(done) = setup.join_next().await {
        let (i, shop) = done?;
        shops[i] = Some(shop.map_err(|e| anyhow::anyhow!("opening shop {i}: {e}"))?);
    }
    println!(
        "opened {} shops of {} products in {:.1} s",
        shops.len(),
        args.products,
        opened.elapsed().as_secs_f64()
    );

    // Rounds of two phases. Writes: every task renames a category of its shop. Reads: every
    // task reads its shop's menu, the first read after that write. A barrier separates them, so
    // the reads are timed as a phase of their own (from the barrier to the last read's answer)
    // and the rate compares with the seed stack's page, which is reads only; the writes' rate is
    // printed beside it.
    let tasks_n = shops.iter().flatten().count();
    let barrier = Arc::new(Barrier::new(tasks_n));
    let clock = Arc::new(Mutex::new(Clock::default()));
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let stop_at = measure_from + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for (i, shop) in shops.into_iter().flatten().enumerate() {
        let mut catalog = CatalogServiceClient::new(channels[i % channels.len()].clone());
        // One client per task, one idle connection each: `--connections` keep-alive connections.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        let menu_url = format!("{}/api/v1/menu?appid={}", args.http_url, shop.appid);
        let token = args.operator_token.clone();
        let (barrier, clock) = (barrier.clone(), clock.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally {
                reads: Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                    .expect("histogram bounds"),
                writes: 0,
                errors: 0,
                first_error: None,
            };
            let mut seen = 0i64;
            let mut n = 0u64;
            loop {
                n += 1;
                let write = async {
                    let req = authed(
                        cpb::UpdateCategoryRequest {
                            category: Some(cpb::Category {
                                name: shop.category.clone(),
                                display_name_en: format!("Category 0 ({n})"),
                                ..Default::default()
                            }),
                            update_mask: Some(prost_types::FieldMask {
                                paths: vec!["display_name_en".into()],
                            }),
                        },
                        &token,
                    )
                    .map_err(|e| e.to_string())?;
                    catalog
                        .update_category(req)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
                .await;
                // Every task passes every barrier, whatever its write did, or the others would
                // wait for it forever. The leader decides for all whether this round is measured
                // and whether it is the last.
                if barrier.wait().await.is_leader() {
                    let mut c = lock(&clock);
                    let now = Instant::now();
                    c.stop = now >= stop_at;
                    c.measured = now >= measure_from;
                    c.began = now;
                    c.ended = now;
                }
                barrier.wait().await;
                let (stop, measured) = {
                    let c = lock(&clock);
                    (c.stop, c.measured)
                };
                if stop {
                    break;
                }
                match write {
                    Err(e) if measured => {
                        t.errors += 1;
                        t.first_error.get_or_insert(format!("UpdateCategory: {e}"));
                    }
                    Err(_) => {}
                    Ok(()) => {
                        if measured {
                            t.writes += 1;
                        }
                        read_once(&http, &menu_url, &clock, measured, &mut seen, &mut t).await;
                    }
                }
                if barrier.wait().await.is_leader() {
                    let mut c = lock(&clock);
                    if c.measured {
                        let phase = c.ended - c.began;
                        c.reading += phase;
                    }
                }
            }
            t
        }));
    }
    let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut writes, mut errors, mut first_error) = (0u64, 0u64, None);
    for task in tasks {
        let t = task.await?;
        total.add(&t.reads)?;
        writes += t.writes;
        errors += t.errors;
        if first_error.is_none() {
            first_error = t.first_error;
        }
    }
    let reading = lock(&clock).reading.as_secs_f64();
    let wall = args.duration as f64;
    let rps = if reading > 0.0 {
        total.len() as f64 / reading
    } else {
        0.0
    };
    let p50 = total.value_at_quantile(0.50) as f64 / 1000.0;
    let p99 = total.value_at_quantile(0.99) as f64 / 1000.0;
    println!(
        "menu uncached: {rps:.0} first reads/s in the read phases ({} reads in {reading:.2} s), \
         p50 {p50:.2} ms, p99 {p99:.2} ms; over the whole {wall:.0} s with the writes: \
         {:.0} reads/s, {:.0} writes/s; errors {errors}",
        total.len(),
        total.len() as f64 / wall,
        writes as f64 / wall
    );
    if let Some(e) = first_error {
        println!("first error: {e}");
    }
    if let Some(path) = &args.json {
        std::fs::write(
            path,
            serde_json::json!({
                "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors,
                "read_seconds": reading,
                "cycles_per_s": total.len() as f64 / wall,
                "writes_per_s": writes as f64 / wall,
            })
            .to_string(),
        )?;
    }
    Ok(())
}

/// One read of the task's menu: timed, checked to be newer than the last, counted when measured.
async fn read_once(
    http: &reqwest::Client,
    menu_url: &str,
    clock: &Mutex<Clock>,
    measured: bool,
    seen: &mut i64,
    t: &mut Tally,
) {
    let t0 = Instant::now();
    let read = async {
        let resp = http.get(menu_url).send().await?.error_for_status()?;
        resp.bytes().await
    }
    .await;
    let done = Instant::now();
    {
        let mut c = lock(clock);
        c.ended = c.ended.max(done);
    }
    let version = read
        .map_err(|e| e.to_string())
        .and_then(|b| menu_version(&b).ok_or_else(|| "no version in the menu".to_string()));
    let outcome = match version {
        Ok(v) if v > *seen => {
            *seen = v;
            Ok(())
        }
        Ok(v) => Err(format!(
            "GET /api/v1/menu: version {v} after a write, not newer than {}",
            *seen
        )),
        Err(e) => Err(format!("GET /api/v1/menu: {e}")),
    };
    if measured {
        match outcome {
            Ok(()) => {
                let _ = t.reads.record((done - t0).as_micros().max(1) as u64);
            }
            Err(e) => {
                t.errors += 1;
                t.first_error.get_or_insert(e);
            }
        }
    }
}

/// When the current round's read phase began and its last read ended, and the read phases'
/// measured time so far.
struct Clock {
    began: Instant,
    ended: Instant,
    reading: Duration,
    measured: bool,
    stop: bool,
}

impl Default for Clock {
    fn default() -> Self {
        let now = Instant::now();
        Self {
            began: now,
            ended: now,
            reading: Duration::ZERO,
            measured: false,
            stop: false,
        }
    }
}

/// The clock, even if a task panicked holding it (its figures are still the best there are).
fn lock(clock: &Mutex<Clock>) -> std::sync::MutexGuard<'_, Clock> {
    clock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::{menu_version, shop_appid};

    #[test]
    fn finds_the_top_level_version_at_the_end() {
        let body = br#"{"sections":[{"id":"a","products":[]}],"version":42}"#;
        assert_eq!(menu_version(body), Some(42));
    }

    #[test]
    fn no_version_is_none() {
        assert_eq!(menu_version(br#"{"sections":[]}"#), None);
    }

    #[test]
    fn appids_look_like_wechat_ones() {
        let a = shop_appid(0xdead_beef, 63);
        assert_eq!(a, "wxdeadbeef0000003f");
        assert_eq!(a.len(), 18);
    }
}
