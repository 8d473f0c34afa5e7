//! The wire: grpc-web with CORS for the admin, reflection v1 and v1alpha, health per service,
//! metrics, the OpenAPI document, and hosting a subset of modules.

use std::time::Duration;

use mm_proto::minimodules::tenant::v1 as pb;
use mm_testkit::{Storage, spawn_app, spawn_with};
use prost::Message as _;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test]
async fn grpc_web_from_the_admin_origin_works() {
    let app = spawn_app().await;
    let url = format!(
        "{}/minimodules.tenant.v1.TenantService/GetAppConfig",
        app.grpc_url
    );
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-grpc-web,authorization",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "http://localhost:5173"
    );

    let msg = pb::GetAppConfigRequest {
        wechat_appid: mm_server::demo::DEMO_APPID.into(),
    }
    .encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    frame.extend_from_slice(&msg);
    let res = app
        .http
        .post(&url)
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", "http://localhost:5173")
        .body(frame)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("access-control-allow-origin").unwrap(),
        "http://localhost:5173"
    );
    let body = res.bytes().await.unwrap();
    assert_eq!(body[0], 0, "first frame is data");
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let reply = pb::GetAppConfigResponse::decode(&body[5..5 + len]).unwrap();
    assert_eq!(reply.app_config.unwrap().slug, "demo-restaurant");
    let trailer = &body[5 + len..];
    assert_eq!(trailer[0], 0x80, "then the trailers frame");
    assert!(String::from_utf8_lossy(&trailer[5..]).contains("grpc-status:0"));

    // An origin that is not the admin's gets no CORS grant.
    let res = app
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_the_services_and_health_reports_each() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let app = spawn_app().await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let reply = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("unexpected reply")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for s in [
        "minimodules.tenant.v1.TenantService",
        "minimodules.tenant.v1.ModuleService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|n| n == s), "{s} in {names:?}");
    }

    {
        use tonic_reflection::pb::v1alpha::ServerReflectionRequest as AlphaReq;
        use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as AlphaClient;
        use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest as AlphaRequest;
        let mut alpha = AlphaClient::new(app.channel.clone());
        let req = AlphaReq {
            host: String::new(),
            message_request: Some(AlphaRequest::FileContainingSymbol(
                "minimodules.tenant.v1.TenantService".into(),
            )),
        };
        let mut stream = alpha
            .server_reflection_info(tokio_stream::iter(vec![req]))
            .await
            .unwrap()
            .into_inner();
        assert!(
            stream
                .message()
                .await
                .unwrap()
                .unwrap()
                .message_response
                .is_some()
        );
    }

    let mut health = HealthClient::new(app.channel.clone());
    for s in [
        "minimodules.tenant.v1.TenantService",
        "minimodules.tenant.v1.ModuleService",
    ] {
        let r = health
            .check(HealthCheckRequest { service: s.into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.status, ServingStatus::Serving as i32, "{s}");
    }
}

#[tokio::test]
async fn metrics_and_openapi_are_served() {
    let app = spawn_app().await;
    let _ = app
        .get_json(
            &format!("/api/v1/app/config?appid={}", mm_server::demo::DEMO_APPID),
            &[],
        )
        .await;
    let text = app
        .http
        .get(format!("{}/metrics", app.http_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "mm_grpc_requests_total{method=\"/minimodules.tenant.v1.TenantService/GetAppConfig\""
        ),
        "{text}"
    );
    assert!(
        text.contains("mm_http_requests_total{path=\"/api/v1/app/config\""),
        "{text}"
    );
    let (s, _, doc) = app.get_json("/api/openapi.json", &[]).await;
    assert_eq!(s, 200);
    assert!(
        doc["paths"]["/api/v1/app/config"]["get"].is_object(),
        "{doc}"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    // Client generators key calls by operationId: two modules' handlers of the same name must
    // not share one.
    let mut ids = std::collections::HashMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op["operationId"].as_str() {
                assert!(
                    ids.insert(id.to_string(), path.clone()).is_none(),
                    "operationId {id} of {path} repeats that of {}",
                    ids[id]
                );
            }
        }
    }
}

#[tokio::test]
async fn a_process_can_host_a_subset_of_modules() {
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    settings.server.modules = vec!["identity".into()];
    settings.demo.seed = false;
    // The modules not hosted here must have an address, or the process refuses to start.
    let err = mm_server::App::start(settings.clone())
        .await
        .err()
        .expect("a module with no address is refused");
    assert!(
        err.to_string()
            .contains("set upstreams.tenant or upstreams.default"),
        "{err}"
    );
    settings.upstreams.default = Some("http://127.0.0.1:9".into());
    let app = spawn_with(settings).await;
    assert_eq!(app.app.hosted, vec!["identity"]);
    let res = app
        .tenants()
        .get_app_config(pb::GetAppConfigRequest {
            wechat_appid: mm_server::demo::DEMO_APPID.into(),
        })
        .await;
    assert_eq!(res.unwrap_err().code(), tonic::Code::Unimplemented);
    let mut health = HealthClient::new(app.channel.clone());
    let res = health
        .check(HealthCheckRequest {
            service: "minimodules.tenant.v1.TenantService".into(),
        })
        .await;
    assert_eq!(res.unwrap_err().code(), tonic::Code::NotFound);
    let identity = health
        .check(HealthCheckRequest {
            service: "minimodules.identity.v1.AuthService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(identity.status, ServingStatus::Serving as i32);

    let mut bad = storage.settings();
    bad.server.modules = vec!["nope".into()];
    let err = mm_server::App::start(bad)
        .await
        .err()
        .expect("unknown module refused");
    assert!(err.to_string().contains("unknown module"), "{err}");
    let mut mixed = storage.settings();
    mixed.server.modules = vec!["all".into(), "catalog".into()];
    let err = mm_server::App::start(mixed)
        .await
        .err()
        .expect("all beside ids refused");
    assert!(err.to_string().contains("stands alone"), "{err}");
}

/// A process hosting some modules calls the others over the network (`upstreams.<module>`) with the
/// same generated clients, while its calls to the modules it hosts stay in the process: an order
/// placed on a process without the catalog takes its stock from the catalog of the other one.
#[tokio::test]
async fn a_module_hosted_elsewhere_is_called_over_the_network() {
    use crate::ordering::{latte_stock, line, open_shop, place};
    let storage = Storage::new().await;
    let full = spawn_with(storage.settings()).await;
    let shop = open_shop(&full, "split-shop", 5).await;
    let mut settings = storage.settings();
    settings.demo.seed = false;
    settings.server.modules = vec!["tenant".into(), "identity".into(), "ordering".into()];
    settings
        .upstreams
        .modules
        .insert("catalog".into(), format!("http://{}", full.app.grpc_addr));
    // Ordering pays through payments: hosted by the full process too.
    settings
        .upstreams
        .modules
        .insert("payments".into(), format!("http://{}", full.app.grpc_addr));
    // Marketing discounts ordering's checkout through an extension point: hosted there too.
    settings
        .upstreams
        .modules
        .insert("marketing".into(), format!("http://{}", full.app.grpc_addr));
    settings
        .upstreams
        .modules
        .insert("booking".into(), "http://127.0.0.1:9".into());
    crate::marketing::enable_marketing(&full, &shop).await;
    let template = crate::marketing::create_template(
        &full,
        &shop,
        crate::marketing::threshold(500, 1_000, 5, 1),
    )
    .await;
    let split = spawn_with(settings).await;
    assert!(!split.app.hosted.contains(&"catalog"));
    assert!(!split.app.hosted.contains(&"marketing"));

    let alice = split.token(mm_kernel::Role::Customer, Some(shop.id), &[]);
    crate::marketing::claim(
        full.channel.clone(),
        &template.name,
        &alice,
        "split-claim-1",
    )
    .await
    .expect("claimed");
    let order = place(
        &split,
        &shop,
        &alice,
        vec![line(&shop.latte, 0, 2)],
        "split-order-1",
    )
    .await
    .expect("placed across processes");
    assert_eq!(
        order.status,
        mm_proto::minimodules::ordering::v1::OrderStatus::PendingPayment as i32
    );
    assert_eq!(
        latte_stock(&full, &shop).await,
        3,
        "the other process took the stock"
    );
    // The best coupon was found and locked by the other process's marketing.
    let amounts = order.amounts.expect("amounts");
    assert_eq!(
        (amounts.discount_fen, amounts.total_fen),
        (500, 3_600 - 500 + 100)
    );
}

/// Readiness and gRPC health follow the database: taken away, `/readyz` answers 503 naming it and
/// health reports NOT_SERVING while liveness stays up (restarting would not help); given back, both
/// recover without a restart. PostgreSQL whatever the suite's backend, since it can be taken away.
#[tokio::test]
async fn readiness_and_grpc_health_follow_the_database() {
    let storage = Storage::on(mm_testkit::Backend::Postgres).await;
    let db_name = storage
        .db_url
        .rsplit('/')
        .next()
        .and_then(|s| s.split('?').next())
        .expect("a database name")
        .to_string();
    let mut settings = storage.settings();
    settings.demo.seed = false;
    settings.server.probe_interval_ms = 100;
    let app = spawn_with(settings).await;
    let http = reqwest::Client::new();
    let readyz = format!("http://{}/readyz", app.app.http_addr);
    let healthz = format!("http://{}/healthz", app.app.http_addr);
    let state = || async {
        let r = http.get(&readyz).send().await.expect("readyz answers");
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        let health = HealthClient::new(app.channel.clone())
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(|r| r.into_inner().status)
            .ok();
        (status, body, health)
    };
    // Polled, not slept on: the probe runs every 100 ms.
    let until = |want_ready: bool| async move {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body, health) = state().await;
            let serving = health == Some(ServingStatus::Serving as i32);
            if (status == 200) == want_ready && serving == want_ready {
                return body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still {status} {body:?} {health:?}, wanted ready = {want_ready}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert_eq!(until(true).await, "ready");

    let admin = sea_orm::Database::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .expect("admin connection");
    let take = |allow: bool| {
        let (admin, db_name) = (admin.clone(), db_name.clone());
        async move {
            use sea_orm::ConnectionTrait as _;
            admin
                .execute_unprepared(&format!(
                    "ALTER DATABASE \"{db_name}\" ALLOW_CONNECTIONS {allow}"
                ))
                .await
                .expect("alter database");
            if !allow {
                admin
                    .execute_unprepared(&format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{db_name}' AND pid <> pg_backend_pid()"
                    ))
                    .await
                    .expect("terminate backends");
            }
        }
    };
    take(false).await;
    assert_eq!(until(false).await, "database unavailable");
    let live = http.get(&healthz).send().await.expect("healthz answers");
    assert_eq!(live.status(), 200, "liveness does not follow the database");

    take(true).await;
    assert_eq!(until(true).await, "ready");
}
