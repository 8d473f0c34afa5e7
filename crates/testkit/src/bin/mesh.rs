//! `mesh`: runs the platform as a service mesh on PostgreSQL + Redis and tests it, for the test
//! command (`scripts/test.sh`):
//!
//! - one process per module (`--modules <id>`, no BFF), two replicas of ordering, and a BFF-only
//!   process (`--modules none`), finding each other through per-module `upstreams` only;
//! - the command given after `--` (the mini-program's contract tests) runs against it, told
//!   where everything is through `MM_CONTRACT_SERVER` (JSON: `http`, `grpc`, `grpcByModule`,
//!   `wechatFake`);
//! - then a load of orders through the BFF while every connection from the BFF to ordering is
//!   cut after a fraction of a second (a proxy that recycles connections, as nginx and pods
//!   going away do): every order must succeed, and both ordering replicas must have placed some;
//! - and, by each process's metrics, every module process served calls of its own module and
//!   none answered UNIMPLEMENTED: a call that reached a process not hosting its service fails
//!   the run.
//!
//! Usage: `mesh <path to the minimodules binary> -- <command> [args]`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use mm_testkit::process::{ProcessSpec, ServerProcess};
use mm_testkit::{Backend, Storage, free_port};

const DEMO_APPID: &str = "wx0123456789abcdef";
/// Orders placed under connection recycling, and how many at once.
const ORDERS: usize = 400;
const IN_FLIGHT: usize = 16;
/// How long the recycling proxy lets a connection live.
const RECYCLE_AFTER: Duration = Duration::from_millis(300);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => {
            println!("mesh: ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mesh: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(split) = args.iter().position(|a| a == "--") else {
        bail!("usage: mesh <minimodules binary> -- <command> [args]");
    };
    let (bin, command) = (&args[..split], &args[split + 1..]);
    let (Some(bin), Some((program, program_args))) = (bin.first(), command.split_first()) else {
        bail!("usage: mesh <minimodules binary> -- <command> [args]");
    };

    // Absolute: each process runs in a directory of its own.
    let bin = std::fs::canonicalize(bin).with_context(|| format!("no server binary at {bin}"))?;
    let storage = Storage::on(Backend::Postgres).await;
    let fake = mm_wechat_fake::FakeWechat::start(([127, 0, 0, 1], 0).into()).await?;
    mm_server::demo::introduce_to(&fake)?;
    // Every module of this build, each in a process of its own: a new module joins the mesh
    // by its registration line alone.
    let modules: Vec<&'static str> = mm_server::modules::all().iter().map(|m| m.id).collect();
    let grpc_port: Vec<(&str, u16)> = modules
        .iter()
        .filter(|m| **m != "ordering")
        .map(|m| (*m, free_port()))
        .collect();
    let ordering_ports = [free_port(), free_port()];
    let bff_http = free_port();
    let addr = |m: &str| -> String {
        if m == "ordering" {
            ordering_ports
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}"))
                .collect::<Vec<_>>()
                .join(",")
        } else {
            let p = grpc_port
                .iter()
                .find(|(n, _)| *n == m)
                .map_or(0, |(_, p)| *p);
            format!("http://127.0.0.1:{p}")
        }
    };

    let base = ProcessSpec::new(&bin, &storage)
        .env("MINIMODULES_WECHAT__BASE_URL", fake.base_url.clone())
        .env("MINIMODULES_WECHAT__PAY_BASE_URL", fake.base_url.clone())
        // WeChat Pay notifies the BFF, wherever the payment was asked for.
        .env(
            "MINIMODULES_SERVER__PUBLIC_URL",
            format!("http://127.0.0.1:{bff_http}"),
        )
        .env("MINIMODULES_CALLS__RESOLVE_INTERVAL_MS", "500");

    // Migrations and the demo shop, once, by an all-in-one process; the mesh then starts on a
    // ready database with seeding off, as the Kubernetes overlay does after its migrate Job.
    // It runs its own WeChat fake, so it also stores the demo's merchant account; the mesh's
    // fake is told the demo's app and merchant here.
    let mut seeder = base
        .clone()
        .without("MINIMODULES_WECHAT__BASE_URL")
        .without("MINIMODULES_WECHAT__PAY_BASE_URL")
        .start()
        .await;
    seeder.sigterm();
    ensure!(
        seeder.wait_exit(Duration::from_secs(30)).await.is_some(),
        "the seeding process did not stop\n{}",
        seeder.log()
    );

    let mut mesh = base.clone().env("MINIMODULES_DEMO__SEED", "false");
    for m in &modules {
        mesh = mesh.env(
            &format!("MINIMODULES_UPSTREAMS__{}", m.to_uppercase()),
            addr(m),
        );
    }
    let module = |m: &str, port: u16| {
        mesh.clone()
            .env("MINIMODULES_SERVER__MODULES", format!("[{m}]"))
            .env("MINIMODULES_BFF__ENABLED", "false")
            .env("MINIMODULES_SERVER__GRPC_ADDR", format!("127.0.0.1:{port}"))
            .env("MINIMODULES_LOG__FILTER", "info")
    };
    let mut processes: Vec<(String, ServerProcess)> = Vec::new();
    for (m, port) in &grpc_port {
        processes.push(((*m).to_string(), module(m, *port).start().await));
    }
    for (i, port) in ordering_ports.iter().enumerate() {
        processes.push((
            format!("ordering-{i}"),
            module("ordering", *port).start().await,
        ));
    }
    // The BFF reaches ordering through proxies that cut every connection after RECYCLE_AFTER.
    let proxies = [
        recycling_proxy(SocketAddr::from(([127, 0, 0, 1], ordering_ports[0]))).await?,
        recycling_proxy(SocketAddr::from(([127, 0, 0, 1], ordering_ports[1]))).await?,
    ];
    let bff = mesh
        .clone()
        .env("MINIMODULES_SERVER__MODULES", "[]")
        .env(
            "MINIMODULES_SERVER__HTTP_ADDR",
            format!("127.0.0.1:{bff_http}"),
        )
        .env(
            "MINIMODULES_UPSTREAMS__ORDERING",
            proxies
                .iter()
                .map(|p| format!("http://{}", p.addr))
                .collect::<Vec<_>>()
                .join(","),
        )
        .start()
        .await;
    let http = format!("http://127.0.0.1:{bff_http}");
    println!(
        "mesh: BFF at {http}, modules at {}",
        modules
            .iter()
            .map(|m| addr(m))
            .collect::<Vec<_>>()
            .join(" ")
    );

    // The mini-program's contract tests, through the BFF; the admin's gRPC calls go to the
    // process hosting each service.
    let by_module: serde_json::Map<String, serde_json::Value> = modules
        .iter()
        .map(|m| {
            let first = addr(m).split(',').next().unwrap_or_default().to_string();
            ((*m).to_string(), serde_json::Value::String(first))
        })
        .collect();
    let server = serde_json::json!({
        "http": http,
        "grpc": addr("tenant"),
        "grpcByModule": by_module,
        "wechatFake": fake.base_url,
    });
    let status = tokio::process::Command::new(program)
        .args(program_args)
        .env("MM_CONTRACT_SERVER", server.to_string())
        .status()
        .await
        .with_context(|| format!("could not run {program}"))?;
    ensure!(
        status.success(),
        "{program} {program_args:?} failed: {status}"
    );

    // Connections to ordering are recycled only now: the contract tests include calls that are
    // not safe to repeat (paying, cancelling), which a cut connection fails by design.
    for p in &proxies {
        p.recycling.store(true, Ordering::SeqCst);
    }
    orders_under_recycling(&http).await?;
    let cut: usize = proxies.iter().map(|p| p.cut.load(Ordering::SeqCst)).sum();
    ensure!(
        cut > 0,
        "the proxies never recycled a connection: the load proves nothing"
    );
    println!("mesh: {ORDERS} orders placed while {cut} connections to ordering were cut");

    for (name, p) in &processes {
        let log = p.log();
        if name.starts_with("ordering") {
            ensure!(
                log.contains("order placed"),
                "{name} placed no order: calls were not spread over the replicas\n{log}"
            );
        }
    }
    // Every process served its own module's calls and none answered UNIMPLEMENTED (a call that
    // reached a process not hosting its service), as its metrics count them.
    let client = reqwest::Client::new();
    for (name, p) in processes
        .iter()
        .map(|(n, p)| (n.as_str(), p))
        .chain([("bff", &bff)])
    {
        let metrics = client
            .get(format!("{}/metrics", p.http_url))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        ensure!(
            !metrics.contains("code=\"Unimplemented\""),
            "{name} was called for a service it does not host:\n{}",
            metrics
                .lines()
                .filter(|l| l.contains("Unimplemented"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let module = name.split('-').next().unwrap_or(name);
        if module != "bff" {
            let own = format!("method=\"/minimodules.{module}.v1.");
            ensure!(
                metrics
                    .lines()
                    .any(|l| l.starts_with("mm_grpc_requests_total") && l.contains(&own)),
                "{name} served no call of its own module"
            );
        }
    }
    drop(processes);
    drop(bff);
    Ok(())
}

/// Places ORDERS orders through the BFF as one customer, IN_FLIGHT at a time; any answer but 201
/// fails.
async fn orders_under_recycling(http: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{http}/api/v1/auth/dev-login"))
        .header("X-WeChat-Appid", DEMO_APPID)
        .json(&serde_json::json!({"openid": "mesh-customer"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["tokens"]["access_token"]
        .as_str()
        .context("dev login gave no token")?
        .to_string();
    let menu: serde_json::Value = client
        .get(format!("{http}/api/v1/menu"))
        .header("X-WeChat-Appid", DEMO_APPID)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    // An item without a stock limit, so the load never runs out.
    let product = menu["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["products"].as_array().into_iter().flatten())
        .find(|p| p["name_zh"] == "扬州炒饭")
        .context("the demo menu has no 扬州炒饭")?;
    let body = serde_json::json!({
        "items": [{"product_id": product["id"], "sku_id": product["skus"][0]["id"], "quantity": 1}],
        "fulfilment": {"mode": "takeaway"},
    });
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (client, next, body, token) =
                (client.clone(), next.clone(), body.clone(), token.clone());
            let url = format!("{http}/api/v1/orders");
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= ORDERS {
                        return Ok::<(), anyhow::Error>(());
                    }
                    let res = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("X-WeChat-Appid", DEMO_APPID)
                        .header("Idempotency-Key", format!("mesh-order-{n}"))
                        .json(&body)
                        .send()
                        .await?;
                    let status = res.status();
                    let text = res.text().await.unwrap_or_default();
                    ensure!(status.as_u16() == 201, "order {n}: {status} {text}");
                }
            })
        })
        .collect();
    for w in workers {
        w.await??;
    }
    Ok(())
}

/// A TCP proxy to `upstream` that, once `recycling` is on, cuts every connection RECYCLE_AFTER
/// after accepting it.
struct Proxy {
    addr: SocketAddr,
    cut: Arc<AtomicUsize>,
    recycling: Arc<std::sync::atomic::AtomicBool>,
}

async fn recycling_proxy(upstream: SocketAddr) -> anyhow::Result<Proxy> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let cut = Arc::new(AtomicUsize::new(0));
    let recycling = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (counter, on) = (cut.clone(), recycling.clone());
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let (counter, on) = (counter.clone(), on.clone());
            tokio::spawn(async move {
                let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let mut copy = Box::pin(tokio::io::copy_bidirectional(&mut inbound, &mut outbound));
                // A connection made before recycling began lives until recycling begins.
                loop {
                    let limit = if on.load(Ordering::SeqCst) {
                        RECYCLE_AFTER
                    } else {
                        Duration::from_millis(50)
                    };
                    match tokio::time::timeout(limit, copy.as_mut()).await {
                        Ok(_) => return,
                        Err(_) if on.load(Ordering::SeqCst) && limit == RECYCLE_AFTER => {
                            counter.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                        Err(_) => {}
                    }
                }
            });
        }
    });
    Ok(Proxy {
        addr,
        cut,
        recycling,
    })
}
