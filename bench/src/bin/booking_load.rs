//! Booking under load, through the generated gRPC clients: switches booking on for the demo
//! tenant (as its admin), adds a service with 1000 places per slot and a resource open around the
//! clock, then measures `ListAvailableSlots` over a week and `HoldReservation` (each hold a real
//! write: idempotency key, slot check, capacity taken in the database) as a demo customer, and
//! reports requests/s and latency percentiles from an HDR histogram.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use hdrhistogram::Histogram;
use mm_bench::authed;
use mm_proto::minimodules::booking::v1 as bpb;
use mm_proto::minimodules::booking::v1::booking_service_client::BookingServiceClient;
use mm_proto::minimodules::identity::v1 as ipb;
use mm_proto::minimodules::identity::v1::auth_service_client::AuthServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use tonic::transport::{Channel, Endpoint};

#[derive(Parser)]
struct Args {
    /// gRPC URL.
    #[arg(long, default_value = "http://127.0.0.1:15051")]
    url: String,
    /// The demo mini-program's appid.
    #[arg(long, default_value = "wx0123456789abcdef")]
    appid: String,
    /// The demo admin's login name.
    #[arg(long, default_value = "admin")]
    admin: String,
    /// The demo admin's password.
    #[arg(long, default_value = "minimodules-demo-1")]
    password: String,
    /// HTTP/2 connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Calls in flight.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured seconds per case.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// Runs `call` from `concurrency` tasks for `seconds`; (req/s, p50 ms, p99 ms, errors, first error).
async fn load<F, Fut>(
    concurrency: usize,
    seconds: u64,
    call: F,
) -> anyhow::Result<(f64, f64, f64, u64, Option<String>)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send,
{
    let call = Arc::new(call);
    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..concurrency.max(1) {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut hist =
                Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            let (mut errors, mut first) = (0u64, None);
            while Instant::now() < stop_at {
                let t0 = Instant::now();
                match call(i).await {
                    Ok(()) => {
                        let _ = hist.record(t0.elapsed().as_micros().max(1) as u64);
                    }
                    Err(e) => {
                        errors += 1;
                        first.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            (hist, errors, first)
        }));
    }
    let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut errors, mut first) = (0u64, None);
    for t in tasks {
        let (h, e, f) = t.await?;
        total.add(h)?;
        errors += e;
        if first.is_none() {
            first = f;
        }
    }
    Ok((
        total.len() as f64 / seconds as f64,
        total.value_at_quantile(0.50) as f64 / 1000.0,
        total.value_at_quantile(0.99) as f64 / 1000.0,
        errors,
        first,
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut channels: Vec<Channel> = Vec::new();
    for _ in 0..args.connections.max(1) {
        channels.push(
            Endpoint::from_shared(args.url.clone())?
                .tcp_nodelay(true)
                .connect()
                .await?,
        );
    }
    let ch = channels[0].clone();

    // Setup as the demo admin.
    let (tenant, admin) =
        mm_bench::demo_admin(&ch, &args.appid, &args.admin, &args.password).await?;
    // Already on is fine.
    let _ = TenantServiceClient::new(ch.clone())
        .enable_module(authed(
            tpb::EnableModuleRequest {
                name: format!("{tenant}/modules/booking"),
            },
            &admin,
        )?)
        .await;
    let mut booking = BookingServiceClient::new(ch.clone());
    let service = booking
        .create_service(authed(
            bpb::CreateServiceRequest {
                parent: tenant.clone(),
                service: Some(bpb::Service {
                    display_name: "压测".into(),
                    duration_minutes: 30,
                    price_fen: 100,
                    capacity: 1000,
                    active: true,
                    ..Default::default()
                }),
            },
            &admin,
        )?)
        .await?
        .into_inner()
        .service
        .ok_or_else(|| anyhow::anyhow!("no service"))?;
    let all_day = (1..=7)
        .map(|weekday| bpb::WeeklyHours {
            weekday,
            windows: vec![bpb::TimeWindow {
                start: "00:00".into(),
                end: "24:00".into(),
            }],
            breaks: vec![],
        })
        .collect();
    let staff = booking
        .create_staff(authed(
            bpb::CreateStaffRequest {
                parent: tenant.clone(),
                staff: Some(bpb::Staff {
                    display_name: "压测工位".into(),
                    kind: bpb::StaffKind::Room as i32,
                    services: vec![service.name.clone()],
                    weekly_hours: all_day,
                    active: true,
                    ..Default::default()
                }),
            },
            &admin,
        )?)
        .await?
        .into_inner()
        .staff
        .ok_or_else(|| anyhow::anyhow!("no staff"))?;
    let customer = AuthServiceClient::new(ch.clone())
        .dev_login(ipb::DevLoginRequest {
            wechat_appid: args.appid.clone(),
            openid: "bench-booker".into(),
        })
        .await?
        .into_inner()
        .tokens
        .ok_or_else(|| anyhow::anyhow!("no tokens"))?
        .access_token;

    // Availability over the coming week (local dates as UTC+8, the default zone).
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let day = |secs: i64| {
        let days = (secs + 8 * 3600).div_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!("{y:04}-{m:02}-{d:02}")
    };
    let (from, to) = (day(now), day(now + 6 * 86_400));
    let slots_req = bpb::ListAvailableSlotsRequest {
        parent: tenant.clone(),
        service: service.name.clone(),
        staff: String::new(),
        start_date: from,
        end_date: to,
    };
    let (chs, tok) = (channels.clone(), customer.clone());
    let slots = load(args.concurrency, args.duration, move |i| {
        let mut c = BookingServiceClient::new(chs[i % chs.len()].clone());
        let (req, tok) = (slots_req.clone(), tok.clone());
        async move {
            let req = authed(req, &tok).map_err(|e| tonic::Status::internal(e.to_string()))?;
            c.list_available_slots(req).await.map(|_| ())
        }
    })
    .await?;

    // Holds spread over the bookable slots (from two hours ahead, every 30 minutes, 12 days).
    let first = (now + 2 * 3600 + 1799) / 1800 * 1800;
    let counter = Arc::new(AtomicU64::new(0));
    let run = now;
    let (chs, tok) = (channels.clone(), customer.clone());
    let (tn, sn, st) = (tenant.clone(), service.name.clone(), staff.name.clone());
    let holds = load(args.concurrency, args.duration, move |i| {
        let n = counter.fetch_add(1, Ordering::Relaxed) as i64;
        let mut c = BookingServiceClient::new(chs[i % chs.len()].clone());
        let req = bpb::HoldReservationRequest {
            parent: tn.clone(),
            service: sn.clone(),
            staff: st.clone(),
            start_time: Some(prost_types::Timestamp {
                seconds: first + (n % (12 * 48)) * 1800,
                nanos: 0,
            }),
            request_id: format!("bench-{run}-{n}"),
            note: String::new(),
            remind: false,
            ..Default::default()
        };
        let tok = tok.clone();
        async move {
            let req = authed(req, &tok).map_err(|e| tonic::Status::internal(e.to_string()))?;
            c.hold_reservation(req).await.map(|_| ())
        }
    })
    .await?;

    for (name, (rps, p50, p99, errors, first)) in [
        ("ListAvailableSlots (7 days)", &slots),
        ("HoldReservation", &holds),
    ] {
        println!("grpc {name}: {rps:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms, errors {errors}");
        if let Some(e) = first {
            println!("first error: {e}");
        }
    }
    if let Some(path) = args.json {
        std::fs::write(
            path,
            serde_json::json!({
                "slots": {"rps": slots.0, "p50_ms": slots.1, "p99_ms": slots.2, "errors": slots.3},
                "holds": {"rps": holds.0, "p50_ms": holds.1, "p99_ms": holds.2, "errors": holds.3},
            })
            .to_string(),
        )?;
    }
    Ok(())
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's civil_from_days), so
/// the harness needs no date crate.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
