//! Redis is a cache, never a dependency of correctness or liveness: a real redis-server of the
//! test's own is killed while the mini-program reads the menu and its orders, an admin changes a
//! module config and a customer orders; then it comes back on the same port. Nothing hangs, no
//! read fails, the writes commit and say so, revoked sessions stay revoked, and the platform
//! works through Redis again within a second of its return.
//!
//! Runs on PostgreSQL whatever MM_TEST_BACKEND says (Redis only comes with it), against a
//! redis-server started here: the shared one on 6379 serves other tests and is never touched.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use fred::prelude::*;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_testkit::{Backend, Storage, TestApp, spawn_with, with_token};

use crate::helpers::{customer_token, http_post};
use crate::ordering::{Shop, open_shop};

/// The client's patience: a request that takes longer counts as hung.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// A redis-server child process on a port of its own, without persistence (a restart comes back
/// empty, as a crashed cache may).
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    async fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let server = Self {
            port,
            child: Some(child),
        };
        server.wait_ready().await;
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await {
                use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                let mut buf = [0u8; 7];
                if s.write_all(b"PING\r\n").await.is_ok()
                    && s.read_exact(&mut buf).await.is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no goodbye to the clients.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Before = 0,
    Outage = 1,
    After = 2,
}

#[derive(Debug)]
struct Sample {
    phase: u8,
    what: &'static str,
    /// The HTTP status, or why there was none (the client gave up: hung; or could not connect).
    outcome: Result<u16, String>,
}

/// Readers hitting the menu and their order list until told to stop; every answer recorded.
fn start_load(
    http_url: String,
    appid: String,
    customer: String,
    phase: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Sample>>> {
    let client = reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .build()
        .expect("http client");
    (0..4)
        .map(|worker| {
            let (client, http_url, appid, customer) = (
                client.clone(),
                http_url.clone(),
                appid.clone(),
                customer.clone(),
            );
            let (phase, stop) = (phase.clone(), stop.clone());
            tokio::spawn(async move {
                let mut samples = Vec::new();
                let mut i = worker;
                while !stop.load(Ordering::SeqCst) {
                    let (what, req) = if i % 2 == 0 {
                        ("menu", client.get(format!("{http_url}/api/v1/menu")))
                    } else {
                        (
                            "orders",
                            client
                                .get(format!("{http_url}/api/v1/orders"))
                                .header("authorization", format!("Bearer {customer}")),
                        )
                    };
                    i += 1;
                    let p = phase.load(Ordering::SeqCst);
                    let res = req.header("x-wechat-appid", &appid).send().await;
                    samples.push(Sample {
                        phase: p,
                        what,
                        outcome: res
                            .map(|r| r.status().as_u16())
                            .map_err(|e| format!("timeout={} {e}", e.is_timeout())),
                    });
                }
                samples
            })
        })
        .collect()
}

/// The status of an authenticated BFF read with `token`.
async fn orders_status(app: &TestApp, appid: &str, token: &str) -> u16 {
    let bearer = format!("Bearer {token}");
    let headers = [
        ("x-wechat-appid", appid),
        ("authorization", bearer.as_str()),
    ];
    tokio::time::timeout(CLIENT_TIMEOUT, app.get_json("/api/v1/orders", &headers))
        .await
        .expect("an authenticated read answers in time")
        .0
}

/// The tenant module's announcement in the boot config an instance's BFF serves.
async fn announcement(app: &TestApp, appid: &str) -> String {
    let (_, _, body) = app
        .get_json(&format!("/api/v1/app/config?appid={appid}"), &[])
        .await;
    body["modules"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["id"] == "tenant"))
        .and_then(|m| m["config"]["announcement"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Polls the other instance until it serves `expected`, or `limit` passes.
async fn announcement_becomes(
    app: &TestApp,
    appid: &str,
    expected: &str,
    limit: Duration,
) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let seen = announcement(app, appid).await;
        if seen == expected || Instant::now() >= deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn set_announcement(s: &Shop, text: &str) -> tpb::UpdateModuleConfigRequest {
    tpb::UpdateModuleConfigRequest {
        config: Some(tpb::ModuleConfig {
            name: format!("{}/modules/tenant/config", s.t.name),
            config: Some(mm_kernel::json::json_to_struct(
                &serde_json::json!({ "announcement": text }),
            )),
            ..Default::default()
        }),
    }
}

async fn logout(app: &TestApp, token: &str) -> u16 {
    let bearer = format!("Bearer {token}");
    tokio::time::timeout(
        CLIENT_TIMEOUT,
        http_post(
            app,
            "/api/v1/auth/logout",
            &[("authorization", &bearer)],
            serde_json::json!({}),
        ),
    )
    .await
    .expect("logout answers in time")
    .0
}

/// Polls Redis directly until `key`
/// exists or `limit` passes; how long it took.
async fn key_appears(url: &str, key: &str, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let client = Builder::from_config(Config::from_url(url).expect("url"))
        .with_performance_config(|p| p.default_command_timeout = Duration::from_millis(200))
        .build()
        .expect("client");
    client.init().await.expect("connect to the restarted Redis");
    while started.elapsed() < limit {
        if client.exists::<i64, _>(key).await.unwrap_or(0) > 0 {
            let _ = client.quit().await;
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = client.quit().await;
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_redis_mid_load_hangs_nothing_and_loses_nothing() {
    // Arrange: our own Redis, two instances on PostgreSQL + that Redis, a shop with a menu, and
    // customers logged in for real (their tokens carry sessions).
    let mut redis = RedisServer::start(mm_testkit::free_port()).await;
    let mut storage = Storage::on(Backend::Postgres).await;
    // Storage cleans its Redis keys on drop; ours dies with the test, so there is nothing to clean.
    storage.redis_url = None;
    let mut settings = storage.settings();
    settings.cache.redis_url = Some(redis.url());
    let namespace = settings.cache.namespace.clone();
    let mut app = spawn_with(settings.clone()).await;
    app.storage = Some(storage);
    // A second instance on the same database and Redis, where other customers log out: the first
    // instance learns of those revocations only through Redis or the database.
    let mut other_settings = settings;
    other_settings.demo.seed = false;
    let other = spawn_with(other_settings).await;
    assert_eq!(app.app.cache.backend_name(), "redis");
    let s = open_shop(&app, "redis-outage", 100).await;
    let appid = s.t.wechat_appid.clone();
    let alice = customer_token(&app, &s.t, "o-alice").await;
    let bob = customer_token(&app, &s.t, "o-bob").await;
    let carol = customer_token(&app, &s.t, "o-carol").await;
    let erin = customer_token(&app, &s.t, "o-erin").await;
    let carol_sid = app
        .keys
        .verify(&carol)
        .expect("carol's token")
        .session
        .expect("a login token carries its session");
    let erin_sid = app
        .keys
        .verify(&erin)
        .expect("erin's token")
        .session
        .expect("a login token carries its session");
    // Bob and Erin log out on the other instance while Redis is up; the first instance hears of
    // Bob's through Redis. Erin's it is not asked about until Redis has come back empty.
    assert_eq!(logout(&other, &bob).await, 204);
    assert_eq!(logout(&other, &erin).await, 204);
    assert_eq!(orders_status(&app, &appid, &bob).await, 401);
    // The other instance's BFF holds the boot config, to be told when it changes.
    assert_ne!(announcement(&other, &appid).await, "Redis 停机中");

    let phase = Arc::new(AtomicU8::new(Phase::Before as u8));
    let stop = Arc::new(AtomicBool::new(false));
    let load = start_load(
        app.http_url.clone(),
        appid.clone(),
        alice.clone(),
        phase.clone(),
        stop.clone(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Act 1: Redis dies mid-load.
    redis.kill();
    phase.store(Phase::Outage as u8, Ordering::SeqCst);
    let outage_started = Instant::now();

    // An admin changes a module config: it commits and says so.
    let admin = app.admin_of(s.id);
    let update = set_announcement(&s, "Redis 停机中");
    let updated = tokio::time::timeout(
        CLIENT_TIMEOUT,
        app.tenants()
            .update_module_config(with_token(update, &admin)),
    )
    .await
    .expect("the config write answers in time");
    assert!(updated.is_ok(), "the config write succeeds: {updated:?}");
    let stored = app
        .tenants()
        .get_module_config(with_token(
            tpb::GetModuleConfigRequest {
                name: format!("{}/modules/tenant/config", s.t.name),
            },
            &admin,
        ))
        .await
        .expect("read the config back")
        .into_inner();
    assert_eq!(
        mm_kernel::json::struct_to_json(&stored.config.expect("config").config.expect("body"))["announcement"],
        "Redis 停机中"
    );

    // A customer orders: created, and answered as created.
    let latte_id = s.latte.name.rsplit('/').next().expect("id").to_string();
    let bearer = format!("Bearer {alice}");
    let (status, order) = tokio::time::timeout(
        CLIENT_TIMEOUT,
        http_post(
            &app,
            "/api/v1/orders",
            &[
                ("x-wechat-appid", appid.as_str()),
                ("authorization", bearer.as_str()),
                ("idempotency-key", "redis-outage-0001"),
            ],
            serde_json::json!({
                "items": [{"product_id": latte_id, "sku_id": s.latte.skus[1].id, "quantity": 1}],
                "fulfilment": {"mode": "dine_in", "table": "A1"},
            }),
        ),
    )
    .await
    .expect("the order answers in time");
    assert_eq!(status, 201, "{order}");

    // Revoked sessions stay revoked: Bob's, revoked elsewhere before the outage (Redis cannot be
    // asked, the database can), and Carol's, revoked here during it (Redis cannot be told).
    assert_eq!(orders_status(&app, &appid, &bob).await, 401);
    assert_eq!(logout(&app, &carol).await, 204);
    assert_eq!(orders_status(&app, &appid, &carol).await, 401);
    assert_eq!(orders_status(&app, &appid, &alice).await, 200);

    // The readers keep going for a while longer without Redis.
    let remaining = Duration::from_secs(3).saturating_sub(outage_started.elapsed());
    tokio::time::sleep(remaining).await;

    // Act 2: Redis comes back on the same port, empty.
    let redis = RedisServer::start(redis.port).await;
    phase.store(Phase::After as u8, Ordering::SeqCst);
    let returned = Instant::now();

    // Service through Redis resumes within a second: the session checks of the readers (and
    // this one) meet the restarted, empty Redis, rebuild its revocation list from the database
    // and flag it complete.
    assert_eq!(orders_status(&app, &appid, &alice).await, 200);
    let complete = format!("{namespace}:p:revocations-complete");
    key_appears(&redis.url(), &complete, Duration::from_secs(3))
        .await
        .expect("the revocation list is rebuilt in the restarted Redis");
    let took = returned.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "service through Redis resumed {took:?} after it returned"
    );

    // What Redis missed is delivered: Carol's revocation reaches it, so other instances refuse
    // her token too.
    let mark = format!("{namespace}:p:revoked:{carol_sid}");
    let delivered = key_appears(&redis.url(), &mark, Duration::from_secs(3)).await;
    assert!(
        delivered.is_some(),
        "Carol's revocation was written to Redis"
    );

    // The other instance, deaf while Redis was down, serves the change made meanwhile; and it
    // hears of changes made after the return.
    let seen = announcement_becomes(&other, &appid, "Redis 停机中", Duration::from_secs(2)).await;
    assert_eq!(seen, "Redis 停机中");
    app.tenants()
        .update_module_config(with_token(set_announcement(&s, "恢复营业"), &admin))
        .await
        .expect("a config write after the return");
    let seen = announcement_becomes(&other, &appid, "恢复营业", Duration::from_secs(2)).await;
    assert_eq!(seen, "恢复营业");

    // Still revoked after the return, though Redis came back without its revocation list:
    // Erin's (never asked about here before) is refused and the list is rebuilt from the
    // database. Alice is still served.
    assert_eq!(orders_status(&app, &appid, &erin).await, 401);
    let rebuilt = format!("{namespace}:p:revoked:{erin_sid}");
    let rebuilt = key_appears(&redis.url(), &rebuilt, Duration::from_secs(3)).await;
    assert!(rebuilt.is_some(), "Redis's revocation list was rebuilt");
    assert_eq!(orders_status(&other, &appid, &erin).await, 401);
    assert_eq!(orders_status(&app, &appid, &bob).await, 401);
    assert_eq!(orders_status(&app, &appid, &carol).await, 401);
    assert_eq!(orders_status(&app, &appid, &alice).await, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;

    stop.store(true, Ordering::SeqCst);
    let mut samples = Vec::new();
    for h in load {
        samples.extend(h.await.expect("load worker"));
    }

    // Assert: every read answered, in time, with success, in every phase.
    let hung: Vec<&Sample> = samples.iter().filter(|s| s.outcome.is_err()).collect();
    assert!(hung.is_empty(), "requests without an answer: {hung:?}");
    let failed: Vec<&Sample> = samples.iter().filter(|s| s.outcome != Ok(200)).collect();
    assert!(failed.is_empty(), "reads that failed: {failed:?}");
    for p in [Phase::Before, Phase::Outage, Phase::After] {
        for what in ["menu", "orders"] {
            let n = samples
                .iter()
                .filter(|s| s.phase == p as u8 && s.what == what)
                .count();
            assert!(n > 0, "no {what} reads during {p:?}");
        }
    }
    drop(redis);
}
