//! Issue 14, attacked as a hostile user would: sessions that end when they should (logout,
//! disabling, archiving, operators, restarts), lockout per account, the client address behind
//! proxies, token time claims, bounded metrics, the production surface and secret files.

use std::time::Duration;

use mm_kernel::Role;
use mm_proto::minimodules::identity::v1 as ipb;
use mm_proto::minimodules::identity::v1::auth_service_client::AuthServiceClient;
use mm_proto::minimodules::identity::v1::user_service_client::UserServiceClient;
use mm_proto::minimodules::ordering::v1 as opb;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_proto::minimodules::tenant::v1::tenant_service_client::TenantServiceClient;
use mm_testkit::process::ProcessSpec;
use mm_testkit::{Storage, TestApp, spawn_app, tenant_id, with_token};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{assert_status, http_post, shop};
use crate::ordering::{Shop, line, open_shop, orders, place};

#[cfg(unix)]
#[tokio::test]
async fn dev_secrets_are_written_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let storage = Storage::new().await;
    // Without a configured secret and key, dev mode generates both into data/.
    let spec = ProcessSpec::new(env!("CARGO_BIN_EXE_minimodules"), &storage)
        .without("MINIMODULES_AUTH__JWT_SECRET")
        .without("MINIMODULES_SECRETS__KEY");
    let data = spec.dir().join("data");
    // A key an earlier version left world-readable is narrowed too.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("dev-secrets-key"),
        "bWluaW1vZHVsZXMtdGVzdC1rZXktMzItYnl0ZXMhISE=",
    )
    .unwrap();
    std::fs::set_permissions(
        data.join("dev-secrets-key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let server = spec.start().await;
    for name in ["dev-jwt-secret", "dev-secrets-key"] {
        let mode = std::fs::metadata(data.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} has mode {:o}", mode & 0o777);
    }
    drop(server);
}

/// A token signed with the test app's key, with the time claims given (seconds from now).
fn timed_token(iat_from_now: i64, nbf_from_now: Option<i64>) -> String {
    let now = chrono::Utc::now().timestamp();
    let at = |d: i64| u64::try_from(now + d).unwrap();
    let claims = mm_kernel::auth::Claims {
        sub: "op-timed".into(),
        tid: None,
        role: "operator".into(),
        perms: vec![],
        sid: None,
        iss: "minimodules".into(),
        aud: "minimodules".into(),
        exp: at(3600),
        iat: at(iat_from_now),
        nbf: nbf_from_now.map(at),
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(mm_testkit::TEST_SECRET.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn tokens_not_yet_valid_or_issued_in_the_future_are_refused() {
    let app = spawn_app().await;
    let list = |token: String| {
        let mut tenants = app.tenants();
        async move {
            tenants
                .list_tenants(with_token(tpb::ListTenantsRequest::default(), &token))
                .await
        }
    };
    assert_status(
        list(timed_token(0, Some(600))).await,
        Code::Unauthenticated,
        None,
    );
    assert_status(
        list(timed_token(600, None)).await,
        Code::Unauthenticated,
        None,
    );
    // Clocks of two instances may disagree by a few seconds.
    list(timed_token(2, Some(2))).await.unwrap();
    list(timed_token(-60, Some(-60))).await.unwrap();
}

fn auth(app: &TestApp) -> AuthServiceClient<Channel> {
    AuthServiceClient::new(app.channel.clone())
}

fn users(app: &TestApp) -> UserServiceClient<Channel> {
    UserServiceClient::new(app.channel.clone())
}

/// Creates a staff member (or admin) of `t` with password "first-password-1".
async fn staff(app: &TestApp, t: &tpb::Tenant, login: &str, phone: &str, role: Role) -> ipb::User {
    let req = ipb::CreateStaffRequest {
        parent: t.name.clone(),
        user: Some(ipb::User {
            role: role as i32,
            display_name: format!("{login} 员工"),
            login_name: login.into(),
            phone: phone.into(),
            permissions: if role == Role::Staff {
                vec!["ordering.orders.read".into()]
            } else {
                vec![]
            },
            ..Default::default()
        }),
        password: "first-password-1".into(),
    };
    users(app)
        .create_staff(with_token(req, &app.admin_of(tenant_id(t))))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap()
}

async fn login(
    app: &TestApp,
    t: &tpb::Tenant,
    login: &str,
    password: &str,
) -> Result<ipb::Tokens, tonic::Status> {
    auth(app)
        .password_login(ipb::PasswordLoginRequest {
            tenant: t.name.clone(),
            login_name: login.into(),
            password: password.into(),
        })
        .await
        .map(|r| r.into_inner().tokens.unwrap_or_default())
}

#[tokio::test]
async fn an_account_locked_under_one_name_is_locked_under_every_name() {
    let app = spawn_app().await;
    let t = shop(&app, "lock-by-phone").await;
    staff(&app, &t, "lisi", "13700137000", Role::Staff).await;
    for _ in 0..5 {
        let _ = login(&app, &t, "lisi", "wrong-password-1").await;
    }
    assert_status(
        login(&app, &t, "lisi", "first-password-1").await,
        Code::ResourceExhausted,
        Some("ACCOUNT_LOCKED"),
    );
    assert_status(
        login(&app, &t, "13700137000", "first-password-1").await,
        Code::ResourceExhausted,
        Some("ACCOUNT_LOCKED"),
    );
}

#[tokio::test]
async fn made_up_paths_add_no_metric_series() {
    let app = spawn_app().await;
    for i in 0..20 {
        // Anonymous grpc-web calls to methods that do not exist, and HTTP paths nobody routes.
        let res = app
            .http
            .post(format!("{}/x{i}.S{i}/M", app.grpc_url))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .body(vec![0u8, 0, 0, 0, 0])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "grpc-web answers errors in trailers");
        let res = app
            .http
            .get(format!("{}/nowhere-{i}", app.http_url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    }
    let text = app
        .http
        .get(format!("{}/metrics", app.http_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("/x1.S1/M"), "{text}");
    assert!(!text.contains("nowhere-1"), "{text}");
    assert!(
        text.contains("mm_grpc_requests_total{method=\"unknown\",code=\"Unimplemented\"} 20"),
        "{text}"
    );
}

/// Logs a WeChat customer of `t` in over gRPC; both tokens.
async fn customer_login(app: &TestApp, t: &tpb::Tenant, openid: &str) -> ipb::Tokens {
    let code = app
        .app
        .wechat_fake
        .as_ref()
        .unwrap()
        .login_code(&t.wechat_appid, openid, None);
    auth(app)
        .wechat_login(ipb::WechatLoginRequest {
            wechat_appid: t.wechat_appid.clone(),
            code,
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap()
}

/// The next message of a watch, within five seconds: an event, or the status that ended it.
async fn next_on_board(
    stream: &mut tonic::Streaming<opb::WatchOrdersResponse>,
) -> Result<Option<opb::WatchOrdersResponse>, tonic::Status> {
    tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("a message or an ending in time")
}

async fn watch(app: &TestApp, s: &Shop, token: &str) -> tonic::Streaming<opb::WatchOrdersResponse> {
    orders(app)
        .watch_orders(with_token(
            opb::WatchOrdersRequest {
                parent: s.t.name.clone(),
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test]
async fn a_watch_ends_when_its_session_ends() {
    let app = spawn_app().await;
    let s = open_shop(&app, "board-shop", 10).await;
    let disabled = staff(&app, &s.t, "wangwu", "", Role::Staff).await;
    staff(&app, &s.t, "zhaoliu", "", Role::Staff).await;
    let wangwu = login(&app, &s.t, "wangwu", "first-password-1")
        .await
        .unwrap();
    let zhaoliu = login(&app, &s.t, "zhaoliu", "first-password-1")
        .await
        .unwrap();
    let mut board_of_disabled = watch(&app, &s, &wangwu.access_token).await;
    let mut board_of_logged_out = watch(&app, &s, &zhaoliu.access_token).await;

    users(&app)
        .disable_user(with_token(
            ipb::DisableUserRequest {
                name: disabled.name.clone(),
            },
            &app.admin_of(s.id),
        ))
        .await
        .unwrap();
    auth(&app)
        .logout(with_token(ipb::LogoutRequest {}, &zhaoliu.access_token))
        .await
        .unwrap();
    let alice = customer_login(&app, &s.t, "openid-board-alice").await;
    place(
        &app,
        &s,
        &alice.access_token,
        vec![line(&s.cake, 0, 1)],
        "board-order-1",
    )
    .await
    .unwrap();

    for board in [&mut board_of_disabled, &mut board_of_logged_out] {
        let ended = next_on_board(board).await;
        assert_eq!(
            ended.as_ref().map_err(tonic::Status::code),
            Err(Code::Unauthenticated),
            "no order event after the session ended: {ended:?}"
        );
    }
}

#[tokio::test]
async fn an_idle_watch_ends_soon_after_logout() {
    let app = spawn_app().await;
    let s = open_shop(&app, "idle-board-shop", 10).await;
    staff(&app, &s.t, "sunqi", "", Role::Staff).await;
    let sunqi = login(&app, &s.t, "sunqi", "first-password-1")
        .await
        .unwrap();
    let mut board = watch(&app, &s, &sunqi.access_token).await;
    auth(&app)
        .logout(with_token(ipb::LogoutRequest {}, &sunqi.access_token))
        .await
        .unwrap();
    // No order moves: the board still closes (rechecked every few seconds).
    let ended = tokio::time::timeout(Duration::from_secs(10), board.message())
        .await
        .expect("ended in time");
    assert_eq!(
        ended.map_err(|s| s.code()).map(|m| m.is_some()),
        Err(Code::Unauthenticated)
    );
}

#[tokio::test]
async fn archiving_a_tenant_shuts_out_its_customers_and_staff() {
    let app = spawn_app().await;
    let s = open_shop(&app, "archived-shop", 10).await;
    staff(&app, &s.t, "zhouba", "", Role::Admin).await;
    let alice = customer_login(&app, &s.t, "openid-archived-alice").await;
    let admin = login(&app, &s.t, "zhouba", "first-password-1")
        .await
        .unwrap();
    let mut board = watch(&app, &s, &admin.access_token).await;

    app.tenants()
        .archive_tenant(with_token(
            tpb::ArchiveTenantRequest {
                name: s.t.name.clone(),
            },
            &app.operator(),
        ))
        .await
        .unwrap();

    let (status, body) = http_post(
        &app,
        "/api/v1/auth/refresh",
        &[("x-wechat-appid", &s.t.wechat_appid)],
        serde_json::json!({"refresh_token": alice.refresh_token}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("SESSION_ENDED")),
        "{body}"
    );
    assert_status(
        place(
            &app,
            &s,
            &alice.access_token,
            vec![line(&s.cake, 0, 1)],
            "archived-1",
        )
        .await,
        Code::Unauthenticated,
        None,
    );
    assert_status(
        app.tenants()
            .get_tenant(with_token(
                tpb::GetTenantRequest {
                    name: s.t.name.clone(),
                },
                &admin.access_token,
            ))
            .await,
        Code::Unauthenticated,
        None,
    );
    assert_status(
        login(&app, &s.t, "zhouba", "first-password-1").await,
        Code::PermissionDenied,
        Some("TENANT_ARCHIVED"),
    );
    assert_eq!(
        next_on_board(&mut board)
            .await
            .map_err(|s| s.code())
            .map(|m| m.is_some()),
        Err(Code::Unauthenticated)
    );
    // The operator who archived it still works.
    app.tenants()
        .list_tenants(with_token(
            tpb::ListTenantsRequest::default(),
            &app.operator(),
        ))
        .await
        .unwrap();
}

/// The demo shop's name, asked of a running process.
async fn demo_tenant(channel: Channel) -> String {
    TenantServiceClient::new(channel)
        .get_app_config(tpb::GetAppConfigRequest {
            wechat_appid: mm_server::demo::DEMO_APPID.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .app_config
        .unwrap()
        .tenant
}

#[tokio::test]
async fn revoked_sessions_stay_revoked_across_a_restart_without_redis() {
    let storage = Storage::new().await;
    // The embedded default: no Redis, whatever the test backend.
    let spec = ProcessSpec::new(env!("CARGO_BIN_EXE_minimodules"), &storage)
        .without("MINIMODULES_CACHE__REDIS_URL");
    let mut server = spec.start().await;
    let channel = server.channel().await;
    let tenant = demo_tenant(channel.clone()).await;
    let demo_login = || {
        let mut auth = AuthServiceClient::new(channel.clone());
        let tenant = tenant.clone();
        async move {
            auth.password_login(ipb::PasswordLoginRequest {
                tenant,
                login_name: mm_server::demo::DEMO_ADMIN_LOGIN.into(),
                password: mm_server::demo::DEMO_ADMIN_PASSWORD.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .tokens
            .unwrap()
        }
    };
    let logged_out = demo_login().await;
    let reused = demo_login().await;
    let kept = demo_login().await;
    AuthServiceClient::new(channel.clone())
        .logout(with_token(ipb::LogoutRequest {}, &logged_out.access_token))
        .await
        .unwrap();
    // A refresh token spent twice ends its session.
    for _ in 0..2 {
        let _ = AuthServiceClient::new(channel.clone())
            .refresh_session(ipb::RefreshSessionRequest {
                refresh_token: reused.refresh_token.clone(),
            })
            .await;
    }
    server.kill9();

    let server = spec.start().await;
    let channel = server.channel().await;
    let me = |token: String| {
        let mut auth = AuthServiceClient::new(channel.clone());
        async move { auth.get_me(with_token(ipb::GetMeRequest {}, &token)).await }
    };
    assert_status(
        me(logged_out.access_token).await,
        Code::Unauthenticated,
        None,
    );
    assert_status(me(reused.access_token).await, Code::Unauthenticated, None);
    me(kept.access_token).await.unwrap();
}

#[tokio::test]
async fn the_operator_token_printed_by_the_cli_ends_at_logout() {
    let storage = Storage::new().await;
    let dir = std::env::temp_dir().join(format!("mm-cli-op-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_minimodules"));
    cli.current_dir(&dir)
        .args(["create-operator", "--login", "ops-cli"])
        .env("MINIMODULES_DATABASE__URL", &storage.db_url)
        .env("MINIMODULES_CACHE__NAMESPACE", &storage.namespace)
        .env("MINIMODULES_AUTH__JWT_SECRET", mm_testkit::TEST_SECRET)
        .env(
            "MINIMODULES_SECRETS__KEY",
            "bWluaW1vZHVsZXMtdGVzdC1rZXktMzItYnl0ZXMhISE=",
        )
        .env_remove("MINIMODULES_CONFIG");
    if let Some(r) = &storage.redis_url {
        cli.env("MINIMODULES_CACHE__REDIS_URL", r);
    }
    let out = cli.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let app = mm_testkit::spawn_with(storage.settings()).await;
    let list = |token: String| {
        let mut tenants = app.tenants();
        async move {
            tenants
                .list_tenants(with_token(tpb::ListTenantsRequest::default(), &token))
                .await
        }
    };
    list(token.clone()).await.unwrap();
    auth(&app)
        .logout(with_token(ipb::LogoutRequest {}, &token))
        .await
        .unwrap();
    assert_status(list(token).await, Code::Unauthenticated, None);
}

/// The client addresses the audit log recorded for `action` in `t`, newest first.
async fn audited_addresses(app: &TestApp, t: &tpb::Tenant, action: &str) -> Vec<String> {
    users(app)
        .list_audit_events(with_token(
            ipb::ListAuditEventsRequest {
                parent: t.name.clone(),
                page_size: 100,
                page_token: String::new(),
            },
            &app.admin_of(tenant_id(t)),
        ))
        .await
        .unwrap()
        .into_inner()
        .events
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.client_address)
        .collect()
}

/// A password login over gRPC carrying an X-Forwarded-For header.
async fn login_forwarded(
    app: &TestApp,
    t: &tpb::Tenant,
    forwarded: &str,
) -> Result<tonic::Response<ipb::PasswordLoginResponse>, tonic::Status> {
    let mut req = tonic::Request::new(ipb::PasswordLoginRequest {
        tenant: t.name.clone(),
        login_name: format!("nobody-{}", uuid::Uuid::new_v4().simple()),
        password: "wrong-password-1".into(),
    });
    req.metadata_mut()
        .insert("x-forwarded-for", forwarded.parse().unwrap());
    auth(app).password_login(req).await
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_address_is_ignored() {
    let app = spawn_app().await;
    let t = shop(&app, "no-proxy-shop").await;
    let _ = login_forwarded(&app, &t, "203.0.113.9").await;
    assert_eq!(
        audited_addresses(&app, &t, "auth.login.failed").await,
        vec!["127.0.0.1".to_string()]
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_hop() {
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    // A proxy on this host appends the address it saw to whatever the client sent.
    settings.server.trusted_proxies = vec!["127.0.0.0/8".into()];
    settings.auth.login_attempts_per_minute = 3;
    let app = mm_testkit::spawn_with(settings).await;
    let t = shop(&app, "proxied-shop").await;
    for i in 0..3 {
        let res = login_forwarded(&app, &t, &format!("10.9.9.{i}, 198.51.100.7")).await;
        assert_status(res, Code::Unauthenticated, Some("BAD_CREDENTIALS"));
    }
    // A made-up first hop does not make a new client.
    assert_status(
        login_forwarded(&app, &t, "10.9.9.77, 198.51.100.7").await,
        Code::ResourceExhausted,
        Some("TOO_MANY_ATTEMPTS"),
    );
    let addresses = audited_addresses(&app, &t, "auth.login.failed").await;
    assert!(
        !addresses.is_empty() && addresses.iter().all(|a| a == "198.51.100.7"),
        "{addresses:?}"
    );

    // Through the BFF (behind the same proxy) the services hear the same client address.
    let (status, _) = http_post(
        &app,
        "/api/v1/auth/wechat-login",
        &[
            ("x-wechat-appid", &t.wechat_appid),
            ("x-forwarded-for", "10.9.9.9, 203.0.113.50"),
        ],
        serde_json::json!({"code": app.app.wechat_fake.as_ref().unwrap().login_code(&t.wechat_appid, "openid-proxied", None)}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        audited_addresses(&app, &t, "auth.customer.created").await,
        vec!["203.0.113.50".to_string()]
    );
}

/// Settings for a production start on `storage`: everything production requires, set.
fn production(storage: &Storage) -> mm_kernel::config::Settings {
    let mut s = storage.settings();
    s.environment = mm_kernel::config::Environment::Production;
    s.wechat.base_url = Some("http://127.0.0.1:9".into());
    s.server.public_url = Some("https://shop.example".into());
    s.admin.enabled = false;
    s
}

async fn reflection_answers(app: &TestApp) -> Result<(), tonic::Status> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = ServerReflectionClient::new(app.channel.clone())
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await?
        .into_inner();
    stream.message().await.map(|_| ())
}

async fn grpc_web_origin_allowed(app: &TestApp, origin: &str) -> bool {
    app.http
        .request(
            reqwest::Method::OPTIONS,
            format!(
                "{}/minimodules.tenant.v1.TenantService/GetAppConfig",
                app.grpc_url
            ),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap()
        .headers()
        .get("access-control-allow-origin")
        .is_some()
}

#[tokio::test]
async fn production_exposes_no_metrics_reflection_or_dev_origins_by_default() {
    let storage = Storage::new().await;
    let app = mm_testkit::spawn_with(production(&storage)).await;
    let metrics = app
        .http
        .get(format!("{}/metrics", app.http_url))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 404);
    assert_eq!(
        reflection_answers(&app).await.map_err(|s| s.code()),
        Err(Code::Unimplemented)
    );
    assert!(!grpc_web_origin_allowed(&app, "http://localhost:5173").await);
    assert!(!grpc_web_origin_allowed(&app, "http://localhost:8080").await);
}

#[tokio::test]
async fn production_serves_what_it_is_told_to() {
    let storage = Storage::new().await;
    let mut settings = production(&storage);
    settings.metrics.token = Some(secrecy::SecretString::from(
        "scrape-me-0123456789".to_string(),
    ));
    settings.server.reflection = Some(true);
    settings.server.admin_origins = Some(vec!["https://admin.example".into()]);
    let app = mm_testkit::spawn_with(settings).await;
    let metrics = |token: Option<&'static str>| {
        let mut req = app.http.get(format!("{}/metrics", app.http_url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(metrics(None).await, 401);
    assert_eq!(metrics(Some("scrape-me-0123456789x")).await, 401);
    assert_eq!(metrics(Some("scrape-me-0123456789")).await, 200);
    reflection_answers(&app).await.unwrap();
    assert!(grpc_web_origin_allowed(&app, "https://admin.example").await);
    assert!(!grpc_web_origin_allowed(&app, "http://localhost:5173").await);

    // A listener of its own: metrics there, anonymous, and not on the public port.
    let mut settings = production(&storage);
    settings.metrics.addr = Some(([127, 0, 0, 1], 0).into());
    let other = mm_testkit::spawn_with(settings).await;
    let own = other.app.metrics_addr.expect("a metrics listener");
    let res = reqwest::get(format!("http://{own}/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    let public = reqwest::get(format!("{}/metrics", other.http_url))
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
}
