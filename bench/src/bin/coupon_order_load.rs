//! Create order with a coupon: `POST /api/v1/orders` as `create_order.lua` places it, each order
//! picking a coupon of its customer's, so every order also locks a coupon (marketing's
//! conditional update) and stores its discount line.
//!
//! A coupon is used once, so the orders cannot share a customer's one coupon as wrk would send
//! them. Setup, as the demo admin: a coupon template (¥1 off, no threshold), then
//! `--connections` customers (the dev login), each issued enough coupons for the run
//! (`IssueCoupon`, staff issuing, 16 in flight). Then each of `--connections` tasks (one
//! keep-alive connection each, like wrk -c) places orders as its own customer, picking its
//! coupons one after another, and times each order. An answer other than 201 with the coupon's
//! discount is an error. Each customer's coupons come from a template of their own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use mm_bench::authed;
use mm_proto::minimodules::marketing::v1 as mpb;
use mm_proto::minimodules::marketing::v1::coupon_service_client::CouponServiceClient;
use tonic::transport::Endpoint;

#[derive(Parser)]
struct Args {
    /// gRPC URL (setup: the template and the coupons).
    #[arg(long)]
    grpc_url: String,
    /// HTTP URL of the BFF (the orders).
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
    /// The order body without a coupon (as `BENCH_BODY` of create_order.lua).
    #[arg(long)]
    body: String,
    /// Tasks, each its own customer on its own HTTP connection.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Coupons issued per customer and measured second (more than one task places in a second).
    #[arg(long, default_value_t = 40)]
    coupons_per_second: usize,
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

/// How an order's coupon line starts in the BFF's JSON.
const COUPON_LINE: &[u8] = b"\"kind\":\"COUPON\"";

/// What one task saw in the measured window.
struct Tally {
    latency: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
    ran_out: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let ch = Endpoint::from_shared(args.grpc_url.clone())?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let (tenant, admin) =
        mm_bench::demo_admin(&ch, &args.appid, &args.admin, &args.password).await?;
    // One template per customer: issuing counts each coupon on its template's row, and one row
    // for every customer would make the setup queue on it.
    let mut templates = Vec::new();
    for i in 0..args.connections.max(1) {
        templates.push(
            CouponServiceClient::new(ch.clone())
                .create_coupon_template(authed(
                    mpb::CreateCouponTemplateRequest {
                        parent: tenant.clone(),
                        template: Some(mpb::CouponTemplate {
                            title_zh: format!("压测立减1元 {i}"),
                            kind: mpb::CouponKind::AmountOff as i32,
                            amount_off_fen: 100,
                            valid_days: 1,
                            total_quantity: 1_000_000,
                            per_customer_limit: 1,
                            modules: vec!["ordering".into()],
                            ..Default::default()
                        }),
                    },
                    &admin,
                )?)
                .await?
                .into_inner()
                .template
                .ok_or_else(|| anyhow::anyhow!("no template"))?
                .name,
        );
    }

    // The customers, and their coupons.
    let http = reqwest::Client::new();
    let run = std::process::id();
    let per_customer = args.coupons_per_second * (args.duration + args.warmup) as usize;
    let mut customers: Vec<(String, String)> = Vec::new();
    for i in 0..args.connections.max(1) {
        let login: serde_json::Value = http
            .post(format!("{}/api/v1/auth/dev-login", args.http_url))
            .header("x-wechat-appid", &args.appid)
            .json(&serde_json::json!({"openid": format!("bench-coupon-{run}-{i}")}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = login["tokens"]["access_token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no access token: {login}"))?
            .to_string();
        let user = login["user"]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no user id: {login}"))?;
        customers.push((token, format!("{tenant}/users/{user}")));
    }
    let issued = Instant::now();
    // Round the customers, not one customer after another: a customer's coupons are handed out
    // one at a time (their limit is checked under their member row), so 16 in flight for one
    // customer would queue on that row.
    let count = customers.len();
    let jobs: Vec<(usize, usize)> = (0..per_customer)
        .flat_map(|n| (0..count).map(move |c| (c, n)))
        .collect();
    let customers = Arc::new(customers);
    let mut held: Vec<Vec<String>> = vec![Vec::new(); customers.len()];
    let sem = Arc::new(tokio::sync::Semaphore::new(16));
    let mut issuing = Vec::new();
    for (c, n) in jobs {
        let permit = sem.clone().acquire_owned().await?;
        let (mut client, template, admin) = (
            CouponServiceClient::new(ch.clone()),
            templates[c].clone(),
            admin.clone(),
        );
        let customer = customers[c].1.clone();
        issuing.push(tokio::spawn(async move {
            let _permit = permit;
            let req = authed(
                mpb::IssueCouponRequest {
                    template,
                    customer,
                    request_id: format!("bench-{run}-{c}-{n}"),
                },
                &admin,
            )?;
            let coupon = client
                .issue_coupon(req)
                .await?
                .into_inner()
                .coupon
                .ok_or_else(|| anyhow::anyhow!("no coupon"))?;
            let id = coupon
                .name
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            anyhow::Ok((c, id))
        }));
    }
    for task in issuing {
        let (c, id) = task.await??;
        held[c].push(id);
    }
    println!(
        "issued {} coupons to {} customers in {:.1} s",
        held.iter().map(Vec::len).sum::<usize>(),
        held.len(),
        issued.elapsed().as_secs_f64()
    );

    let body: serde_json::Value = serde_json::from_str(&args.body)?;
    let url = format!("{}/api/v1/orders", args.http_url);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let stop_at = measure_from + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for (i, coupons) in held.into_iter().enumerate() {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        let token = customers[i].0.clone();
        let (appid, url, body) = (args.appid.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally {
                latency: Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                    .expect("histogram bounds"),
                errors: 0,
                first_error: None,
                ran_out: false,
            };
            let mut coupons = coupons.into_iter();
            for n in 0.. {
                let began = Instant::now();
                if began >= stop_at {
                    break;
                }
                let Some(coupon) = coupons.next() else {
                    t.ran_out = true;
                    break;
                };
                let mut order = body.clone();
                order["coupon_id"] = serde_json::Value::String(coupon);
                let sent = http
                    .post(&url)
                    .header("authorization", format!("Bearer {token}"))
                    .header("x-wechat-appid", &appid)
                    .header("idempotency-key", format!("bench-c-{i}-{n}"))
                    .json(&order)
                    .send()
                    .await;
                let outcome = match sent {
                    // Searched, not parsed: the generator shares the cores with the server.
                    Ok(r) if r.status().as_u16() == 201 => match r.bytes().await {
                        Ok(b) if b.windows(COUPON_LINE.len()).any(|w| w == COUPON_LINE) => Ok(()),
                        Ok(b) => Err(format!(
                            "201 without the coupon: {}",
                            String::from_utf8_lossy(&b)
                        )),
                        Err(e) => Err(e.to_string()),
                    },
                    Ok(r) => {
                        let status = r.status();
                        Err(format!("{status}: {}", r.text().await.unwrap_or_default()))
                    }
                    Err(e) => Err(e.to_string()),
                };
                if began < measure_from {
                    continue;
                }
                match outcome {
                    Ok(()) => {
                        let _ = t.latency.record(began.elapsed().as_micros().max(1) as u64);
                    }
                    Err(e) => {
                        t.errors += 1;
                        t.first_error.get_or_insert(e);
                    }
                }
            }
            t
        }));
    }
    let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut errors, mut first_error, mut ran_out) = (0u64, None, 0usize);
    for task in tasks {
        let t = task.await?;
        total.add(&t.latency)?;
        errors += t.errors;
        ran_out += usize::from(t.ran_out);
        if first_error.is_none() {
            first_error = t.first_error;
        }
    }
    // A task that ran out of coupons stopped early: counted as errors, so the case fails
    // rather than reporting a rate over a shorter run.
    errors += ran_out as u64;
    let secs = args.duration as f64;
    let rps = total.len() as f64 / secs;
    let p50 = total.value_at_quantile(0.50) as f64 / 1000.0;
    let p99 = total.value_at_quantile(0.99) as f64 / 1000.0;
    println!(
        "create order with a coupon: {rps:.0} orders/s, p50 {p50:.2} ms, p99 {p99:.2} ms, \
         errors {errors} ({ran_out} customers ran out of coupons)"
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
