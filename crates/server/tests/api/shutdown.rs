//! The real binary stopped with SIGTERM under load, and started twice at once on one database.
//!
//! Shutdown: orders keep flowing through the BFF (16 in flight at all times) while the staff's
//! order board is open; SIGTERM lands mid-load. Every request in flight at that moment succeeds,
//! later ones are answered 503 "server shutting down" (or find the port closed), readiness goes
//! unready before the port closes, the board ends with a clean status at once, and the process
//! exits 0 well inside its grace period.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mm_kernel::auth::JwtKeys;
use mm_kernel::{Principal, Role, TenantId};
use mm_proto::minimodules::catalog::v1 as catpb;
use mm_proto::minimodules::catalog::v1::catalog_service_client::CatalogServiceClient;
use mm_proto::minimodules::ordering::v1 as pb;
use mm_proto::minimodules::ordering::v1::order_service_client::OrderServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use mm_testkit::process::{ProcessSpec, ServerProcess};
use mm_testkit::{Storage, with_token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const BIN: &str = env!("CARGO_BIN_EXE_minimodules");
const GRACE: Duration = Duration::from_secs(10);
const IN_FLIGHT: usize = 16;
const ORDER_SERVICE: &str = "minimodules.ordering.v1.OrderService";

fn token(keys: &JwtKeys, role: Role, tenant: Option<TenantId>, permissions: &[&str]) -> String {
    keys.issue(&Principal {
        subject: format!("test-{}", uuid::Uuid::new_v4().simple()),
        tenant,
        role,
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        session: None,
    })
    .expect("token")
}

/// The demo restaurant's tenant id, as the operator sees it.
async fn demo_tenant(server: &ServerProcess, keys: &JwtKeys) -> TenantId {
    let list = TenantServiceClient::new(server.channel().await)
        .list_tenants(with_token(
            tpb::ListTenantsRequest::default(),
            &token(keys, Role::Operator, None, &[]),
        ))
        .await
        .expect("list tenants")
        .into_inner();
    let demo = list
        .tenants
        .iter()
        .find(|t| t.slug == mm_server::demo::DEMO_SLUG)
        .expect("the demo restaurant is seeded");
    TenantId::parse(demo.name.trim_start_matches("tenants/"), "name").expect("tenant id")
}

/// What one order creation came to (the strings say what happened, for failure messages).
#[derive(Debug, Clone)]
#[allow(dead_code)] // the strings are read through Debug only
enum Outcome {
    Created,
    /// 503 from the drain gate: the BFF's error shape, Retry-After, "server shutting down".
    ShuttingDown,
    /// No HTTP answer at all: the port was closed, or the connection never got accepted.
    NoConnection(String),
    /// Anything else: a failure.
    Other(String),
}

#[derive(Debug, Clone)]
struct Attempt {
    sent: Instant,
    done: Instant,
    outcome: Outcome,
}

async fn create_order(
    http: &reqwest::Client,
    url: &str,
    customer: &str,
    body: &serde_json::Value,
) -> Outcome {
    let res = http
        .post(url)
        .header("x-wechat-appid", mm_server::demo::DEMO_APPID)
        .header("authorization", format!("Bearer {customer}"))
        .header(
            "idempotency-key",
            format!("drain-{}", uuid::Uuid::new_v4().simple()),
        )
        .json(body)
        .send()
        .await;
    let res = match res {
        Ok(r) => r,
        Err(e) => return Outcome::NoConnection(format!("{e:?}")),
    };
    let status = res.status().as_u16();
    let retry_after = res.headers().get("retry-after").cloned();
    let text = match res.text().await {
        Ok(t) => t,
        Err(e) => return Outcome::Other(format!("{status}, body lost: {e:?}")),
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match status {
        201 => Outcome::Created,
        503 if json["code"] == "UNAVAILABLE"
            && json["message"] == "server shutting down; retry later"
            && json["details"].is_object()
            && retry_after.is_some() =>
        {
            Outcome::ShuttingDown
        }
        _ => Outcome::Other(format!("{status} {text}")),
    }
}

/// Sends an order's headers and the first half of its body over a raw connection, and returns
/// the connection with the half still to send. The server admits the request on its headers.
async fn start_slow_order(
    http_url: &str,
    customer: &str,
    body: &serde_json::Value,
) -> (tokio::net::TcpStream, String) {
    let addr = http_url.trim_start_matches("http://");
    let body = body.to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut conn = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the BFF");
    let head = format!(
        "POST /api/v1/orders HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\
         x-wechat-appid: {}\r\nauthorization: Bearer {customer}\r\n\
         idempotency-key: drain-slow-{}\r\n\r\n{first}",
        body.len(),
        mm_server::demo::DEMO_APPID,
        uuid::Uuid::new_v4().simple(),
    );
    conn.write_all(head.as_bytes())
        .await
        .expect("send the slow order's head");
    (conn, rest.to_owned())
}

/// Readiness as a prober sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    Ready,
    Unready,
    Closed,
}

#[tokio::test]
async fn sigterm_finishes_in_flight_orders_ends_streams_and_exits_cleanly() {
    let storage = Storage::new().await;
    let keys = Arc::new(mm_server::jwt_keys(&storage.settings()).expect("keys"));
    let mut server = ProcessSpec::new(BIN, &storage)
        .env(
            "MINIMODULES_SERVER__SHUTDOWN_GRACE_SECS",
            GRACE.as_secs().to_string(),
        )
        // Long enough that a request written before SIGTERM is read inside the window, even on
        // a busy machine; nothing is refused before it ends.
        .env("MINIMODULES_SERVER__SHUTDOWN_UNREADY_MS", "1000")
        // The sweepers run pass after pass, so shutdown meets them mid-pass.
        .env("MINIMODULES_JOBS__SWEEP_INTERVAL_MS", "50")
        .env("MINIMODULES_LOG__FILTER", "warn,mm_server=info")
        .start()
        .await;
    let tenant = demo_tenant(&server, &keys).await;
    let parent = format!("tenants/{tenant}");
    let admin = token(&keys, Role::Admin, Some(tenant), &[]);
    let customer = token(&keys, Role::Customer, Some(tenant), &[]);

    // Something with unlimited stock, so no order fails for want of it.
    let products = CatalogServiceClient::new(server.channel().await)
        .list_products(with_token(
            catpb::ListProductsRequest {
                parent: parent.clone(),
                page_size: 100,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("the demo menu")
        .into_inner()
        .products;
    let (product, sku) = products
        .iter()
        .find_map(|p| p.skus.iter().find(|s| s.unlimited).map(|s| (p, s)))
        .expect("an unlimited dish on the demo menu");
    let body = serde_json::json!({
        "items": [{"product_id": product.name.rsplit('/').next().unwrap_or_default(),
                   "sku_id": sku.id, "quantity": 1}],
        "fulfilment": {"mode": "takeaway"},
    });

    // The order board, open throughout.
    let mut board = OrderServiceClient::new(server.channel().await)
        .watch_orders(with_token(
            pb::WatchOrdersRequest {
                parent: parent.clone(),
            },
            &admin,
        ))
        .await
        .expect("open the board")
        .into_inner();
    let board_task = tokio::spawn(async move {
        let mut events = 0usize;
        let end = loop {
            match board.message().await {
                Ok(Some(_)) => events += 1,
                Ok(None) => break Ok(()),
                Err(status) => break Err(status),
            }
        };
        (events, end, Instant::now())
    });

    // Readiness, probed throughout on fresh connections, as a load balancer would.
    let http_url = server.http_url.clone();
    let stop_probing = Arc::new(AtomicBool::new(false));
    let probe_task = {
        let stop = stop_probing.clone();
        let url = format!("{http_url}/readyz");
        tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("client");
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let probe = match http.get(&url).send().await {
                    Ok(r) if r.status() == 200 => Probe::Ready,
                    Ok(r) if r.status() == 503 => Probe::Unready,
                    Ok(r) => panic!("/readyz answered {}", r.status()),
                    Err(_) => Probe::Closed,
                };
                seen.push((Instant::now(), probe));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            seen
        })
    };

    // The load: IN_FLIGHT workers, each sending its next order the moment the last one is
    // answered, until the server turns them away. A fresh connection per order, so "turned away"
    // is a 503 or a closed port, never a kept-alive connection the server has just closed.
    let refused_seen = Arc::new(AtomicBool::new(false));
    let orders_url = format!("{http_url}/api/v1/orders");
    let load_deadline = Instant::now() + Duration::from_secs(60);
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (url, customer, body) = (orders_url.clone(), customer.clone(), body.clone());
            let refused_seen = refused_seen.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .build()
                    .expect("client");
                let mut attempts = Vec::new();
                while !refused_seen.load(Ordering::SeqCst) && Instant::now() < load_deadline {
                    let sent = Instant::now();
                    let outcome = create_order(&http, &url, &customer, &body).await;
                    let turned_away =
                        matches!(outcome, Outcome::ShuttingDown | Outcome::NoConnection(_));
                    attempts.push(Attempt {
                        sent,
                        done: Instant::now(),
                        outcome,
                    });
                    if turned_away {
                        refused_seen.store(true, Ordering::SeqCst);
                    }
                }
                attempts
            })
        })
        .collect();

    // SIGTERM once orders are flowing (and the board has heard of them): poll, never sleep.
    let flowing_by = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, page) = get(
            &format!(
                "{http_url}/api/v1/orders?appid={}",
                mm_server::demo::DEMO_APPID
            ),
            &customer,
        )
        .await;
        let placed = page["orders"].as_array().map_or(0, Vec::len);
        if status == 200 && placed >= IN_FLIGHT {
            break;
        }
        assert!(
            Instant::now() < flowing_by,
            "orders are not flowing: {status} {page}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut health = HealthClient::new(server.channel().await);
    let mut outside = OrderServiceClient::new(server.channel().await);
    // One order whose body is still on its way when the gate closes: admitted, it holds the drain
    // open (and with it the gRPC port) until the test sends the rest, so the gRPC refusal below is
    // seen for certain rather than raced against a drain that takes a few milliseconds.
    let (mut slow_order, rest_of_body) = start_slow_order(&http_url, &customer, &body).await;
    let sigterm = Instant::now();
    server.sigterm();

    // gRPC health turns NOT_SERVING while the port still answers.
    let health_by = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: ORDER_SERVICE.into(),
            })
            .await
            .expect("health answers while draining")
            .into_inner();
        if reply.status == ServingStatus::NotServing as i32 {
            break;
        }
        assert!(
            Instant::now() < health_by,
            "health still SERVING after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // An outside gRPC call is served through the unready window, then refused with UNAVAILABLE
    // by the gate (while the BFF's own calls still pass it), not cut off by a closed port.
    let refused_by = Instant::now() + Duration::from_secs(5);
    let refusal = loop {
        let res = outside
            .list_orders(with_token(
                pb::ListOrdersRequest {
                    parent: parent.clone(),
                    page_size: 1,
                    ..Default::default()
                },
                &admin,
            ))
            .await;
        match res {
            Ok(_) => assert!(
                Instant::now() < refused_by,
                "outside gRPC calls still served 5 s after SIGTERM"
            ),
            Err(status) => break status,
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(
        (refusal.code(), refusal.message()),
        (Code::Unavailable, "server shutting down"),
        "{refusal:?}"
    );
    // The admitted order, its body finished only now, is still served.
    slow_order
        .write_all(rest_of_body.as_bytes())
        .await
        .expect("send the rest of the slow order");
    let mut answer = String::new();
    slow_order
        .read_to_string(&mut answer)
        .await
        .expect("the slow order's answer");
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "an order admitted before the gate closed was not served: {answer}"
    );

    let status = server.wait_exit(GRACE + Duration::from_secs(5)).await;
    let exited_after = sigterm.elapsed();
    stop_probing.store(true, Ordering::SeqCst);
    let log = server.log();
    let status = status.unwrap_or_else(|| panic!("still running {GRACE:?} after SIGTERM\n{log}"));
    assert!(status.success(), "exit status {status:?}\n{log}");
    assert!(
        exited_after < GRACE,
        "exited only after {exited_after:?}: the grace period ran out\n{log}"
    );
    assert!(log.contains("shut down cleanly"), "{log}");
    assert!(
        !log.contains("sweep failed"),
        "a sweep failed mid-shutdown\n{log}"
    );

    // Every request in flight at SIGTERM succeeded; every later one was created or turned away,
    // never failed.
    let mut attempts = Vec::new();
    for w in workers {
        attempts.extend(w.await.expect("worker"));
    }
    let in_flight: Vec<_> = attempts
        .iter()
        .filter(|a| a.sent < sigterm && a.done > sigterm)
        .collect();
    assert!(!in_flight.is_empty(), "no request was in flight at SIGTERM");
    for a in attempts.iter().filter(|a| a.sent < sigterm) {
        assert!(
            matches!(a.outcome, Outcome::Created),
            "a request sent before SIGTERM failed: {:?}\n{log}",
            a.outcome
        );
    }
    for a in &attempts {
        assert!(
            !matches!(a.outcome, Outcome::Other(_)),
            "a request failed instead of being served or turned away: {:?}\n{log}",
            a.outcome
        );
    }
    let first_refusal = attempts
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::ShuttingDown))
        .map(|a| a.done)
        .min()
        .unwrap_or_else(|| panic!("no request was answered 503 while draining: {attempts:?}"));
    // Admitted before the gate closed and answered after it: the drain kept the BFF's own gRPC
    // calls working while it refused new requests.
    let drained = attempts
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Created) && a.done > first_refusal)
        .count();
    assert!(
        drained > 0,
        "no admitted request was still running when the gate closed: {attempts:?}"
    );
    let count = |f: fn(&Outcome) -> bool| attempts.iter().filter(|a| f(&a.outcome)).count();
    println!(
        "{} orders: {} in flight at SIGTERM, {} answered after the gate closed; {} created, \
         {} refused 503, {} found the port closed; exit {exited_after:?} after SIGTERM",
        attempts.len(),
        in_flight.len(),
        drained,
        count(|o| matches!(o, Outcome::Created)),
        count(|o| matches!(o, Outcome::ShuttingDown)),
        count(|o| matches!(o, Outcome::NoConnection(_))),
    );

    // Readiness went unready after SIGTERM and before the port closed.
    let probes = probe_task.await.expect("prober");
    assert!(
        probes
            .iter()
            .filter(|(t, _)| *t < sigterm)
            .all(|(_, p)| *p == Probe::Ready),
        "unready before SIGTERM: {probes:?}"
    );
    let after: Vec<Probe> = probes
        .iter()
        .filter(|(t, _)| *t > sigterm)
        .map(|(_, p)| *p)
        .collect();
    let first_unready = after.iter().position(|p| *p == Probe::Unready);
    let first_closed = after.iter().position(|p| *p == Probe::Closed);
    assert!(
        matches!((first_unready, first_closed), (Some(u), Some(c)) if u < c),
        "readiness must fail before the port closes: {after:?}"
    );

    // The board heard of the orders, then ended cleanly and promptly, not at the end of the
    // grace period.
    let (events, end, ended_at) = board_task.await.expect("board");
    assert!(events > 0, "the board heard of no order");
    match end {
        Ok(()) => {}
        Err(s) => assert!(
            s.code() == Code::Unavailable && s.message() == "server shutting down",
            "the board ended with {s:?}"
        ),
    }
    assert!(
        ended_at.duration_since(sigterm) < Duration::from_secs(3),
        "the board ended {:?} after SIGTERM",
        ended_at.duration_since(sigterm)
    );
}

async fn get(url: &str, bearer: &str) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .get(url)
        .header("x-wechat-appid", mm_server::demo::DEMO_APPID);
    if !bearer.is_empty() {
        req = req.header("authorization", format!("Bearer {bearer}"));
    }
    let res = req.send().await.expect("http call");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or_default();
    (status, headers, body)
}

#[tokio::test]
async fn two_instances_started_together_on_one_fresh_database_both_serve() {
    let storage = Storage::new().await;
    let keys = mm_server::jwt_keys(&storage.settings()).expect("keys");
    let spec = ProcessSpec::new(BIN, &storage);
    let (a, b) = tokio::join!(spec.try_start(), spec.try_start());
    let a = a.unwrap_or_else(|log| panic!("the first instance died:\n{log}"));
    let b = b.unwrap_or_else(|log| panic!("the second instance died:\n{log}"));

    for server in [&a, &b] {
        let (status, _, boot) = get(
            &format!(
                "{}/api/v1/app/config?appid={}",
                server.http_url,
                mm_server::demo::DEMO_APPID
            ),
            "",
        )
        .await;
        assert_eq!(status, 200, "{boot}");
        assert_eq!(boot["slug"], mm_server::demo::DEMO_SLUG);
    }
    // Seeded once: one demo restaurant, one menu.
    let operator = token(&keys, Role::Operator, None, &[]);
    let tenants = TenantServiceClient::new(a.channel().await)
        .list_tenants(with_token(tpb::ListTenantsRequest::default(), &operator))
        .await
        .expect("list tenants")
        .into_inner()
        .tenants;
    assert_eq!(tenants.len(), 1, "{tenants:?}");
    let tenant = demo_tenant(&b, &keys).await;
    let categories = CatalogServiceClient::new(b.channel().await)
        .list_categories(with_token(
            catpb::ListCategoriesRequest {
                parent: format!("tenants/{tenant}"),
            },
            &token(&keys, Role::Admin, Some(tenant), &[]),
        ))
        .await
        .expect("list categories")
        .into_inner()
        .categories;
    assert_eq!(categories.len(), 2, "the demo menu was seeded twice");
}

/// The admin's board runs over grpc-web (HTTP/1.1): its end must arrive as grpc-web trailers.
#[tokio::test]
async fn a_board_over_grpc_web_ends_with_trailers_when_the_app_stops() {
    use prost::Message as _;
    let test_app = mm_testkit::spawn_app().await;
    let demo = test_app
        .tenants()
        .list_tenants(with_token(
            tpb::ListTenantsRequest::default(),
            &test_app.operator(),
        ))
        .await
        .expect("list tenants")
        .into_inner()
        .tenants
        .into_iter()
        .find(|t| t.slug == mm_server::demo::DEMO_SLUG)
        .expect("the demo restaurant");
    let msg = pb::WatchOrdersRequest {
        parent: demo.name.clone(),
    }
    .encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&u32::try_from(msg.len()).expect("small").to_be_bytes());
    frame.extend_from_slice(&msg);
    let mut res = test_app
        .http
        .post(format!(
            "{}/minimodules.ordering.v1.OrderService/WatchOrders",
            test_app.grpc_url
        ))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header(
            "authorization",
            format!("Bearer {}", test_app.admin_of(mm_testkit::tenant_id(&demo))),
        )
        .body(frame)
        .send()
        .await
        .expect("open the board");
    assert_eq!(res.status(), 200);

    let mm_testkit::TestApp { app, storage, .. } = test_app;
    let stopping = tokio::spawn(app.stop(Duration::from_secs(10)));
    let body = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = Vec::new();
        while let Some(chunk) = res.chunk().await.expect("a clean end, not a broken stream") {
            buf.extend_from_slice(&chunk);
        }
        buf
    })
    .await
    .expect("the board ends promptly");
    // grpc-web frames: flag byte, 4-byte length, payload; flag 0x80 marks the trailers.
    let mut rest = body.as_slice();
    let mut trailers = None;
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let payload = rest.get(5..5 + len).expect("a whole frame");
        if rest[0] & 0x80 != 0 {
            trailers = Some(String::from_utf8_lossy(payload).to_lowercase());
        }
        rest = &rest[5 + len..];
    }
    let trailers = trailers.expect("grpc-web trailers at the end");
    assert!(trailers.contains("grpc-status:14"), "{trailers}");
    assert!(
        trailers.contains("grpc-message:server%20shutting%20down"),
        "{trailers}"
    );
    stopping
        .await
        .expect("stop task")
        .expect("the app stops cleanly");
    drop(storage);
}

/// A client that finds the port during start-up waits for the seeded demo; it never sees a
/// half-seeded installation (the demo app unknown).
#[tokio::test]
async fn the_http_port_answers_only_once_the_demo_is_seeded() {
    let storage = Storage::new().await;
    // A port known before the process prints it, so the probe can knock from the first moment.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!(
        "http://127.0.0.1:{port}/api/v1/app/config?appid={}",
        mm_server::demo::DEMO_APPID
    );
    let probe = tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if let Ok(res) = http.get(&url).send().await {
                let status = res.status().as_u16();
                return (status, res.text().await.unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        (0, "the port never answered".to_string())
    });
    let server = ProcessSpec::new(BIN, &storage)
        .env("MINIMODULES_SERVER__HTTP_ADDR", format!("127.0.0.1:{port}"))
        .start()
        .await;
    let (status, body) = probe.await.expect("probe");
    assert_eq!(status, 200, "the first answer: {body}\n{}", server.log());
}
