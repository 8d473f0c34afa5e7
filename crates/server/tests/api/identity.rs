//! Identity end to end: WeChat and password logins over real sockets against the local WeChat
//! fake, rotating refresh tokens with reuse detection, logout, lockout and throttling, staff
//! permissions granted by an admin, phone binding, encrypted WeChat secrets, and the audit log.

use mm_kernel::Role;
use mm_proto::minimodules::identity::v1 as pb;
use mm_proto::minimodules::identity::v1::auth_service_client::AuthServiceClient;
use mm_proto::minimodules::identity::v1::user_service_client::UserServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_testkit::{Storage, TestApp, spawn_app, spawn_with, tenant_id, with_token};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{SECRET, assert_status, customer_token, http_post, shop, violation_fields};

fn auth(app: &TestApp) -> AuthServiceClient<Channel> {
    AuthServiceClient::new(app.channel.clone())
}

fn users(app: &TestApp) -> UserServiceClient<Channel> {
    UserServiceClient::new(app.channel.clone())
}

async fn create_staff(
    app: &TestApp,
    t: &tpb::Tenant,
    login: &str,
    role: Role,
    perms: &[&str],
) -> pb::User {
    let req = pb::CreateStaffRequest {
        parent: t.name.clone(),
        user: Some(pb::User {
            role: role as i32,
            display_name: format!("{login} 员工"),
            login_name: login.into(),
            permissions: perms.iter().map(|p| p.to_string()).collect(),
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

async fn password_login(
    app: &TestApp,
    t: &tpb::Tenant,
    login: &str,
    password: &str,
) -> Result<pb::PasswordLoginResponse, tonic::Status> {
    auth(app)
        .password_login(pb::PasswordLoginRequest {
            tenant: t.name.clone(),
            login_name: login.into(),
            password: password.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// POST /api/v1/auth/wechat-login as a mini-program would.
async fn wechat_login_http(
    app: &TestApp,
    headers: &[(&str, &str)],
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    http_post(app, "/api/v1/auth/wechat-login", headers, body).await
}

#[tokio::test]
async fn a_customer_logs_in_through_the_bff_with_a_wechat_code() {
    let app = spawn_app().await;
    let t = shop(&app, "wx-login-shop").await;
    let fake = app.app.wechat_fake.clone().unwrap();
    let appid = t.wechat_appid.clone();

    let code = fake.login_code(&appid, "openid-alice", Some("union-alice"));
    let (s, first) = wechat_login_http(
        &app,
        &[("x-wechat-appid", &appid)],
        serde_json::json!({"code": code}),
    )
    .await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["created"], true);
    assert!(
        first.to_string().find("session_key").is_none() && first.to_string().find("sk-").is_none(),
        "the session key stays on the server"
    );
    let access = first["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    // The same WeChat user logging in again is the same customer.
    let code = fake.login_code(&appid, "openid-alice", None);
    let (_, again) = wechat_login_http(
        &app,
        &[("x-wechat-appid", &appid)],
        serde_json::json!({"code": code}),
    )
    .await;
    assert_eq!(again["created"], false);
    assert_eq!(again["user"]["id"], first["user"]["id"]);

    let (s, _, me) = app
        .get_json(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {access}"))],
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(me["id"], first["user"]["id"]);
    // A customer token is bound to its tenant: it cannot read another tenant's data.
    let other = app.create_tenant("other-shop", "salon").await;
    let res = app
        .tenants()
        .get_tenant(with_token(
            tpb::GetTenantRequest { name: other.name },
            &access,
        ))
        .await;
    assert_eq!(res.unwrap_err().code(), Code::PermissionDenied);
}

#[tokio::test]
async fn wechat_errors_become_clear_client_errors() {
    let app = spawn_app().await;
    let t = shop(&app, "wx-error-shop").await;
    let fake = app.app.wechat_fake.clone().unwrap();
    let appid = t.wechat_appid.clone();
    let h = [("x-wechat-appid", appid.as_str())];

    let (s, b) = wechat_login_http(&app, &h, serde_json::json!({"code": "made-up"})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (401, Some("INVALID_WECHAT_CODE")),
        "40029 invalid code"
    );

    let code = fake.login_code(&appid, "openid-bob", None);
    assert_eq!(
        wechat_login_http(&app, &h, serde_json::json!({"code": code}))
            .await
            .0,
        200
    );
    let (s, b) = wechat_login_http(&app, &h, serde_json::json!({"code": code})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (401, Some("INVALID_WECHAT_CODE")),
        "40163 code been used"
    );

    let (s, b) = wechat_login_http(
        &app,
        &h,
        serde_json::json!({"code": mm_wechat_fake::RATE_LIMITED_CODE}),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (503, Some("WECHAT_RATE_LIMITED")),
        "45011 rate limit"
    );

    fake.register_app(&appid, "adifferentsecret000000");
    let code = fake.login_code(&appid, "openid-carol", None);
    let (s, b) = wechat_login_http(&app, &h, serde_json::json!({"code": code})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (400, Some("WECHAT_CREDENTIALS_REFUSED")),
        "40125 invalid appsecret"
    );

    let (s, b) = wechat_login_http(
        &app,
        &[("x-wechat-appid", "wxffffffffffffffff")],
        serde_json::json!({"code": "x"}),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (404, Some("APP_NOT_REGISTERED")));
    let (s, b) = wechat_login_http(&app, &h, serde_json::json!({"code": ""})).await;
    assert_eq!(
        (s, b["details"]["fields"][0]["field"].as_str()),
        (400, Some("code"))
    );
    assert_eq!(b["details"]["fields"][0]["reason"], "REQUIRED");
    let long = "x".repeat(300);
    let (s, b) = wechat_login_http(&app, &h, serde_json::json!({"code": long})).await;
    assert_eq!(s, 400);
    assert_eq!(b["details"]["fields"][0]["reason"], "TOO_LONG");
    assert_eq!(b["details"]["fields"][0]["params"]["max"], "256");
    assert!(
        b["details"]["metadata"].get("code#max").is_none(),
        "params travel with their field, not in the metadata: {b}"
    );
}

#[tokio::test]
async fn the_wechat_secret_is_stored_encrypted_and_never_returned() {
    let app = spawn_app().await;
    let t = shop(&app, "secret-shop").await;
    let rows = crate::helpers::sql_rows(&app, "SELECT secret_enc FROM identity_wechat_apps").await;
    assert!(!rows.is_empty());
    for r in rows {
        let stored: String = r.try_get("", "secret_enc").unwrap();
        assert!(
            stored.starts_with("v1:") && !stored.contains(SECRET),
            "{stored}"
        );
    }
    let reply = users(&app)
        .set_wechat_credentials(with_token(
            pb::SetWechatCredentialsRequest {
                parent: t.name.clone(),
                wechat_appid: t.wechat_appid.clone(),
                app_secret: SECRET.into(),
            },
            &app.admin_of(tenant_id(&t)),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(format!("{reply:?}").find(SECRET).is_none());
}

/// A new shop's first-day checklist reads whether customers can log in: no credentials, then the
/// appid and "a secret is stored" (never the secret), for the shop's admin and operators only.
#[tokio::test]
async fn the_wechat_credentials_say_whether_a_secret_is_stored_and_never_show_it() {
    let app = spawn_app().await;
    let t = app.create_tenant("creds-shop", "salon").await;
    let other = app.create_tenant("creds-other", "salon").await;
    let get = |token: String, tenant: &tpb::Tenant| {
        let req = pb::GetWechatCredentialsRequest {
            name: format!("{}/wechatCredentials", tenant.name),
        };
        let mut client = users(&app);
        async move {
            client
                .get_wechat_credentials(with_token(req, &token))
                .await
                .map(|r| r.into_inner().wechat_credentials.unwrap())
        }
    };
    let before = get(app.admin_of(tenant_id(&t)), &t).await.unwrap();
    assert_eq!(before.name, format!("{}/wechatCredentials", t.name));
    assert!(before.wechat_appid.is_empty() && !before.app_secret_set);
    assert!(before.update_time.is_none());

    crate::helpers::register_wechat(&app, &t).await;
    for token in [app.admin_of(tenant_id(&t)), app.operator()] {
        let after = get(token, &t).await.unwrap();
        assert_eq!(after.wechat_appid, t.wechat_appid);
        assert!(after.app_secret_set && after.update_time.is_some());
        assert!(!format!("{after:?}").contains(SECRET));
    }
    // Another shop's admin, a customer and a malformed name are refused.
    assert_status(
        get(app.admin_of(tenant_id(&other)), &t).await,
        Code::PermissionDenied,
        None,
    );
    assert_status(
        get(app.token(Role::Customer, Some(tenant_id(&t)), &[]), &t).await,
        Code::PermissionDenied,
        None,
    );
    let status = assert_status(
        users(&app)
            .get_wechat_credentials(with_token(
                pb::GetWechatCredentialsRequest {
                    name: t.name.clone(),
                },
                &app.admin_of(tenant_id(&t)),
            ))
            .await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&status), ["name"]);
}

/// 员工登录有效期 bounds a staff login, renewals included (a till's shared login does not live for
/// the platform's month); customers' sessions keep sliding.
#[tokio::test]
async fn a_staff_login_lasts_the_shops_staff_session_hours_however_often_it_is_renewed() {
    let app = spawn_app().await;
    let t = shop(&app, "shift-shop").await;
    create_staff(&app, &t, "till", Role::Staff, &[]).await;
    let hours = |n: i64| n * 3600;
    let near = |got: i64, want: i64| (want - 60..=want).contains(&got);

    // The spec's default, 12 hours.
    let first = password_login(&app, &t, "till", "first-password-1")
        .await
        .unwrap()
        .tokens
        .unwrap();
    assert!(near(first.refresh_expires_in, hours(12)), "{first:?}");

    app.tenants()
        .update_module_config(with_token(
            tpb::UpdateModuleConfigRequest {
                config: Some(tpb::ModuleConfig {
                    name: format!("{}/modules/identity/config", t.name),
                    config: Some(mm_kernel::json::json_to_struct(
                        &serde_json::json!({"staff_session_hours": 2}),
                    )),
                    ..Default::default()
                }),
            },
            &app.admin_of(tenant_id(&t)),
        ))
        .await
        .unwrap();
    let login = password_login(&app, &t, "till", "first-password-1")
        .await
        .unwrap()
        .tokens
        .unwrap();
    assert!(near(login.refresh_expires_in, hours(2)), "{login:?}");
    // Renewed twice: the end stays where the login put it.
    let mut refresh = login.refresh_token.clone();
    for _ in 0..2 {
        let renewed = auth(&app)
            .refresh_session(pb::RefreshSessionRequest {
                refresh_token: refresh.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .tokens
            .unwrap();
        assert!(
            renewed.refresh_expires_in <= login.refresh_expires_in,
            "a renewal must not extend a staff session: {} > {}",
            renewed.refresh_expires_in,
            login.refresh_expires_in
        );
        refresh = renewed.refresh_token;
    }

    // A customer of the same shop keeps the platform's sliding month.
    let code =
        app.app
            .wechat_fake
            .as_ref()
            .unwrap()
            .login_code(&t.wechat_appid, "openid-regular", None);
    let customer = auth(&app)
        .wechat_login(pb::WechatLoginRequest {
            wechat_appid: t.wechat_appid.clone(),
            code,
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    assert!(customer.refresh_expires_in > hours(24 * 7), "{customer:?}");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_of_a_spent_token_ends_the_session() {
    let app = spawn_app().await;
    let t = shop(&app, "refresh-shop").await;
    create_staff(&app, &t, "waiter", Role::Staff, &["tenant.branding.read"]).await;
    let login = password_login(&app, &t, "waiter", "first-password-1")
        .await
        .unwrap();
    let first = login.tokens.unwrap();

    let second = auth(&app)
        .refresh_session(pb::RefreshSessionRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    let branding = |token: &str| {
        let mut c = app.tenants();
        let req = with_token(
            tpb::GetBrandingRequest {
                name: format!("{}/branding", t.name),
            },
            token,
        );
        async move { c.get_branding(req).await }
    };
    assert!(branding(&second.access_token).await.is_ok());

    // The spent token comes back (stolen, say): the whole session ends, both refresh tokens and
    // the access token issued from it.
    let reuse = auth(&app)
        .refresh_session(pb::RefreshSessionRequest {
            refresh_token: first.refresh_token.clone(),
        })
        .await;
    assert_status(reuse, Code::Unauthenticated, Some("SESSION_ENDED"));
    let next = auth(&app)
        .refresh_session(pb::RefreshSessionRequest {
            refresh_token: second.refresh_token.clone(),
        })
        .await;
    assert_status(next, Code::Unauthenticated, Some("SESSION_ENDED"));
    assert_eq!(
        branding(&second.access_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    // A garbled token is simply an ended session.
    let garbled = auth(&app)
        .refresh_session(pb::RefreshSessionRequest {
            refresh_token: "rt1.nope".into(),
        })
        .await;
    assert_status(garbled, Code::Unauthenticated, Some("SESSION_ENDED"));

    let events = audit(&app, &t).await;
    assert!(
        events.iter().any(|e| e.action == "auth.refresh.reused"),
        "{events:?}"
    );
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = spawn_app().await;
    let t = shop(&app, "logout-shop").await;
    create_staff(&app, &t, "cashier", Role::Admin, &[]).await;
    let tokens = password_login(&app, &t, "cashier", "first-password-1")
        .await
        .unwrap()
        .tokens
        .unwrap();
    let (s, _) = http_post(
        &app,
        "/api/v1/auth/logout",
        &[("authorization", &format!("Bearer {}", tokens.access_token))],
        serde_json::json!({}),
    )
    .await;
    assert_eq!(s, 204);
    let res = app
        .tenants()
        .get_tenant(with_token(
            tpb::GetTenantRequest {
                name: t.name.clone(),
            },
            &tokens.access_token,
        ))
        .await;
    assert_eq!(res.unwrap_err().code(), Code::Unauthenticated);
    let (s, b) = http_post(
        &app,
        "/api/v1/auth/refresh",
        &[],
        serde_json::json!({"refresh_token": tokens.refresh_token}),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (401, Some("SESSION_ENDED")));
}

#[tokio::test]
async fn repeated_failures_lock_the_account_without_revealing_whether_it_exists() {
    let app = spawn_app().await;
    let t = shop(&app, "lockout-shop").await;
    create_staff(&app, &t, "manager", Role::Admin, &[]).await;
    for _ in 0..4 {
        let s = assert_status(
            password_login(&app, &t, "manager", "wrong-password-1").await,
            Code::Unauthenticated,
            Some("BAD_CREDENTIALS"),
        );
        let ghost = assert_status(
            password_login(&app, &t, "ghost", "wrong-password-1").await,
            Code::Unauthenticated,
            Some("BAD_CREDENTIALS"),
        );
        assert_eq!(
            s.message(),
            ghost.message(),
            "same answer for a missing account"
        );
    }
    assert_status(
        password_login(&app, &t, "manager", "wrong-password-1").await,
        Code::ResourceExhausted,
        Some("ACCOUNT_LOCKED"),
    );
    assert_status(
        password_login(&app, &t, "ghost", "wrong-password-1").await,
        Code::ResourceExhausted,
        Some("ACCOUNT_LOCKED"),
    );
    // Locked means locked, even with the right password.
    assert_status(
        password_login(&app, &t, "manager", "first-password-1").await,
        Code::ResourceExhausted,
        Some("ACCOUNT_LOCKED"),
    );
    let events = audit(&app, &t).await;
    assert!(
        events
            .iter()
            .filter(|e| e.action == "auth.login.failed")
            .count()
            >= 4
    );
    assert!(
        events
            .iter()
            .any(|e| e.action == "auth.login.locked" && !e.client_address.is_empty()),
        "{events:?}"
    );
}

#[tokio::test]
async fn one_address_is_throttled_across_accounts() {
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    settings.auth.login_attempts_per_minute = 3;
    let app = spawn_with(settings).await;
    let t = shop(&app, "throttle-shop").await;
    for i in 0..3 {
        let res = password_login(&app, &t, &format!("user{i}"), "wrong-password-1").await;
        assert_status(res, Code::Unauthenticated, Some("BAD_CREDENTIALS"));
    }
    assert_status(
        password_login(&app, &t, "user9", "wrong-password-1").await,
        Code::ResourceExhausted,
        Some("TOO_MANY_ATTEMPTS"),
    );
}

#[tokio::test]
async fn an_admin_grants_staff_a_subset_of_permissions() {
    let app = spawn_app().await;
    let t = shop(&app, "perm-shop").await;
    let staff = create_staff(&app, &t, "host", Role::Staff, &["tenant.branding.read"]).await;
    assert_eq!(staff.permissions, vec!["tenant.branding.read"]);
    let token = password_login(&app, &t, "host", "first-password-1")
        .await
        .unwrap()
        .tokens
        .unwrap()
        .access_token;
    let mut c = app.tenants();
    assert!(
        c.get_branding(with_token(
            tpb::GetBrandingRequest {
                name: format!("{}/branding", t.name)
            },
            &token
        ))
        .await
        .is_ok()
    );
    let cfg = tpb::GetModuleConfigRequest {
        name: format!("{}/modules/ordering/config", t.name),
    };
    assert_eq!(
        c.get_module_config(with_token(cfg, &token))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );

    // Granting more takes effect at once: the old session ends, a new login carries the grant.
    let admin = app.admin_of(tenant_id(&t));
    let update = pb::UpdateUserRequest {
        user: Some(pb::User {
            name: staff.name.clone(),
            permissions: vec!["tenant.branding.read".into(), "tenant.config.read".into()],
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["permissions".into()],
        }),
    };
    users(&app)
        .update_user(with_token(update, &admin))
        .await
        .unwrap();
    let stale = c
        .get_branding(with_token(
            tpb::GetBrandingRequest {
                name: format!("{}/branding", t.name),
            },
            &token,
        ))
        .await;
    assert_eq!(stale.unwrap_err().code(), Code::Unauthenticated);
    let token = password_login(&app, &t, "host", "first-password-1")
        .await
        .unwrap()
        .tokens
        .unwrap()
        .access_token;
    let cfg = tpb::GetModuleConfigRequest {
        name: format!("{}/modules/ordering/config", t.name),
    };
    assert!(c.get_module_config(with_token(cfg, &token)).await.is_ok());

    // Only permissions some module declares can be granted.
    let bad = pb::CreateStaffRequest {
        parent: t.name.clone(),
        user: Some(pb::User {
            role: Role::Staff as i32,
            display_name: "x".into(),
            login_name: "bad-perms".into(),
            permissions: vec!["root.everything".into()],
            ..Default::default()
        }),
        password: "first-password-1".into(),
    };
    let s = assert_status(
        users(&app).create_staff(with_token(bad, &admin)).await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&s), vec!["user.permissions[0]"]);
    let events = audit(&app, &t).await;
    assert!(events.iter().any(|e| e.action == "identity.role.changed"));
}

#[tokio::test]
async fn disabled_users_cannot_log_in_and_their_sessions_end() {
    let app = spawn_app().await;
    let t = shop(&app, "disable-shop").await;
    let staff = create_staff(&app, &t, "leaver", Role::Admin, &[]).await;
    let token = password_login(&app, &t, "leaver", "first-password-1")
        .await
        .unwrap()
        .tokens
        .unwrap()
        .access_token;
    users(&app)
        .disable_user(with_token(
            pb::DisableUserRequest {
                name: staff.name.clone(),
            },
            &app.admin_of(tenant_id(&t)),
        ))
        .await
        .unwrap();
    let res = app
        .tenants()
        .get_tenant(with_token(
            tpb::GetTenantRequest {
                name: t.name.clone(),
            },
            &token,
        ))
        .await;
    assert_eq!(res.unwrap_err().code(), Code::Unauthenticated);
    assert_status(
        password_login(&app, &t, "leaver", "first-password-1").await,
        Code::PermissionDenied,
        Some("ACCOUNT_DISABLED"),
    );
}

#[tokio::test]
async fn changing_a_password_ends_other_sessions() {
    let app = spawn_app().await;
    let t = shop(&app, "password-shop").await;
    create_staff(&app, &t, "owner", Role::Admin, &[]).await;
    let laptop = password_login(&app, &t, "owner", "first-password-1")
        .await
        .unwrap()
        .tokens
        .unwrap();
    let phone = password_login(&app, &t, "owner", "first-password-1")
        .await
        .unwrap()
        .tokens
        .unwrap();
    let weak = pb::ChangePasswordRequest {
        current_password: "first-password-1".into(),
        new_password: "short".into(),
    };
    let s = assert_status(
        auth(&app)
            .change_password(with_token(weak, &laptop.access_token))
            .await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&s), vec!["new_password"]);
    let change = pb::ChangePasswordRequest {
        current_password: "first-password-1".into(),
        new_password: "second-password-2".into(),
    };
    let fresh = auth(&app)
        .change_password(with_token(change, &laptop.access_token))
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    let get = |tok: String| {
        let mut c = app.tenants();
        let req = with_token(
            tpb::GetTenantRequest {
                name: t.name.clone(),
            },
            &tok,
        );
        async move { c.get_tenant(req).await }
    };
    assert_eq!(
        get(phone.access_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert!(get(fresh.access_token).await.is_ok());
    assert_status(
        password_login(&app, &t, "owner", "first-password-1").await,
        Code::Unauthenticated,
        Some("BAD_CREDENTIALS"),
    );
    assert!(
        password_login(&app, &t, "owner", "second-password-2")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_customer_binds_the_phone_wechat_vouches_for() {
    let app = spawn_app().await;
    let t = shop(&app, "phone-shop").await;
    let token = customer_token(&app, &t, "openid-dave").await;
    let fake = app.app.wechat_fake.clone().unwrap();

    let phone_code = fake.phone_code(&t.wechat_appid, "13800138000");
    let (s, me) = http_post(
        &app,
        "/api/v1/auth/phone",
        &[("authorization", &format!("Bearer {token}"))],
        serde_json::json!({"code": phone_code}),
    )
    .await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["phone"], "13800138000");
    assert_eq!(fake.calls("token"), 1);

    // The access token is cached per tenant; when WeChat stops accepting it, a new one is fetched.
    let again = fake.phone_code(&t.wechat_appid, "13900139000");
    assert_eq!(
        http_post(
            &app,
            "/api/v1/auth/phone",
            &[("authorization", &format!("Bearer {token}"))],
            serde_json::json!({"code": again})
        )
        .await
        .0,
        200
    );
    assert_eq!(fake.calls("token"), 1, "cached");
    fake.expire_access_tokens();
    let third = fake.phone_code(&t.wechat_appid, "13700137000");
    let (s, me) = http_post(
        &app,
        "/api/v1/auth/phone",
        &[("authorization", &format!("Bearer {token}"))],
        serde_json::json!({"code": third}),
    )
    .await;
    assert_eq!((s, me["phone"].as_str()), (200, Some("13700137000")));
    assert_eq!(
        fake.calls("token"),
        2,
        "refetched after WeChat refused the old one"
    );

    let (s, b) = http_post(
        &app,
        "/api/v1/auth/phone",
        &[("authorization", &format!("Bearer {token}"))],
        serde_json::json!({"code": "made-up"}),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (401, Some("INVALID_WECHAT_CODE")));
}

#[tokio::test]
async fn the_dev_login_works_only_in_dev_mode() {
    let app = spawn_app().await;
    let (s, b) = http_post(
        &app,
        "/api/v1/auth/dev-login",
        &[("x-wechat-appid", mm_server::demo::DEMO_APPID)],
        serde_json::json!({"openid": "tester"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert!(b["tokens"]["access_token"].is_string());

    let fake = mm_wechat_fake::FakeWechat::start(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let storage = Storage::new().await;
    let mut settings = storage.settings();
    settings.environment = mm_kernel::config::Environment::Production;
    settings.wechat.base_url = Some(fake.base_url.clone());
    let prod = spawn_with(settings).await;
    let t = prod.create_tenant("prod-shop", "restaurant").await;
    users(&prod)
        .set_wechat_credentials(with_token(
            pb::SetWechatCredentialsRequest {
                parent: t.name.clone(),
                wechat_appid: t.wechat_appid.clone(),
                app_secret: SECRET.into(),
            },
            &prod.admin_of(tenant_id(&t)),
        ))
        .await
        .unwrap();
    let (s, b) = http_post(
        &prod,
        "/api/v1/auth/dev-login",
        &[("x-wechat-appid", &t.wechat_appid)],
        serde_json::json!({"openid": "tester"}),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (400, Some("DEV_LOGIN_DISABLED")));
}

#[tokio::test]
async fn module_and_config_changes_are_audited_with_actor_and_address() {
    let app = spawn_app().await;
    let t = shop(&app, "audit-shop").await;
    let admin_user = create_staff(&app, &t, "boss", Role::Admin, &[]).await;
    let token = password_login(&app, &t, "boss", "first-password-1")
        .await
        .unwrap()
        .tokens
        .unwrap()
        .access_token;
    app.tenants()
        .disable_module(with_token(
            tpb::DisableModuleRequest {
                name: format!("{}/modules/ordering", t.name),
            },
            &token,
        ))
        .await
        .unwrap();
    let events = audit(&app, &t).await;
    let disabled = events
        .iter()
        .find(|e| e.action == "tenant.module.disabled")
        .expect("module change audited");
    assert_eq!(disabled.target, "ordering");
    assert_eq!(disabled.actor, admin_user.name.rsplit('/').next().unwrap());
    assert_eq!(disabled.client_address, "127.0.0.1");
    assert!(events.iter().any(|e| e.action == "auth.login.succeeded"));
    assert!(
        events
            .iter()
            .any(|e| e.action == "identity.wechat.credentials_set")
    );

    // Another tenant's admin cannot read this log.
    let other = app.create_tenant("nosy-shop", "salon").await;
    let res = users(&app)
        .list_audit_events(with_token(
            pb::ListAuditEventsRequest {
                parent: t.name.clone(),
                ..Default::default()
            },
            &app.admin_of(tenant_id(&other)),
        ))
        .await;
    assert_eq!(res.unwrap_err().code(), Code::PermissionDenied);
}

#[tokio::test]
async fn admins_list_and_search_their_users_page_by_page() {
    let app = spawn_app().await;
    let t = shop(&app, "list-shop").await;
    for name in ["alpha", "bravo", "charlie"] {
        create_staff(&app, &t, name, Role::Staff, &[]).await;
    }
    let admin = app.admin_of(tenant_id(&t));
    let page = |token: String, query: &str| pb::ListUsersRequest {
        parent: t.name.clone(),
        page_size: 2,
        page_token: token,
        query: query.into(),
        role: 0,
    };
    let first = users(&app)
        .list_users(with_token(page(String::new(), ""), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.users.len(), 2);
    let second = users(&app)
        .list_users(with_token(page(first.next_page_token.clone(), ""), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.users.len(), 1);
    assert!(second.next_page_token.is_empty());
    let found = users(&app)
        .list_users(with_token(page(String::new(), "BRAV"), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        found
            .users
            .iter()
            .map(|u| u.login_name.as_str())
            .collect::<Vec<_>>(),
        vec!["bravo"]
    );
    let dup = pb::CreateStaffRequest {
        parent: t.name.clone(),
        user: Some(pb::User {
            role: Role::Staff as i32,
            display_name: "again".into(),
            login_name: "alpha".into(),
            ..Default::default()
        }),
        password: "first-password-1".into(),
    };
    assert_status(
        users(&app).create_staff(with_token(dup, &admin)).await,
        Code::AlreadyExists,
        Some("DUPLICATE_LOGIN"),
    );
}

async fn audit(app: &TestApp, t: &tpb::Tenant) -> Vec<pb::AuditEvent> {
    users(app)
        .list_audit_events(with_token(
            pb::ListAuditEventsRequest {
                parent: t.name.clone(),
                page_size: 100,
                ..Default::default()
            },
            &app.admin_of(tenant_id(t)),
        ))
        .await
        .unwrap()
        .into_inner()
        .events
}

#[tokio::test]
async fn a_platform_operator_logs_in_with_a_password() {
    let app = spawn_app().await;
    let ctx = mm_server::module_context(
        &app.app.settings,
        app.app.db.clone(),
        app.app.cache.clone(),
        app.keys.clone(),
        mm_server::ExternalUrls::unused(),
        mm_kernel::platform::Platform::new(app.channel.clone()),
    )
    .unwrap();
    let identity = mm_identity::IdentityApp::from_context(&ctx).unwrap();
    identity
        .create_operator("ops", "Ops", "operator-password-1")
        .await
        .unwrap();

    assert_status(
        auth(&app)
            .operator_login(pb::OperatorLoginRequest {
                login_name: "ops".into(),
                password: "nope-nope-1".into(),
            })
            .await,
        Code::Unauthenticated,
        Some("BAD_CREDENTIALS"),
    );
    let tokens = auth(&app)
        .operator_login(pb::OperatorLoginRequest {
            login_name: "OPS".into(),
            password: "operator-password-1".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    let list = app
        .tenants()
        .list_tenants(with_token(
            tpb::ListTenantsRequest::default(),
            &tokens.access_token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(list.tenants.iter().any(|t| t.slug == "demo-restaurant"));
    let refreshed = auth(&app)
        .refresh_session(pb::RefreshSessionRequest {
            refresh_token: tokens.refresh_token,
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    assert!(!refreshed.access_token.is_empty());
}

#[tokio::test]
async fn staff_may_log_in_with_their_phone() {
    let app = spawn_app().await;
    let t = shop(&app, "phone-login-shop").await;
    let req = pb::CreateStaffRequest {
        parent: t.name.clone(),
        user: Some(pb::User {
            role: Role::Staff as i32,
            display_name: "前台".into(),
            login_name: "frontdesk".into(),
            phone: "13600136000".into(),
            ..Default::default()
        }),
        password: "first-password-1".into(),
    };
    users(&app)
        .create_staff(with_token(req, &app.admin_of(tenant_id(&t))))
        .await
        .unwrap();
    let login = password_login(&app, &t, "13600136000", "first-password-1")
        .await
        .unwrap();
    assert_eq!(login.user.unwrap().login_name, "frontdesk");
}

#[tokio::test]
async fn a_customer_fills_in_a_nickname_and_avatar() {
    let app = spawn_app().await;
    let t = shop(&app, "profile-shop").await;
    let access = customer_token(&app, &t, "openid-erin").await;
    let patch = |body: serde_json::Value| {
        app.http
            .patch(format!("{}/api/v1/me", app.http_url))
            .bearer_auth(&access)
            .json(&body)
            .send()
    };
    // WeChat no longer hands these over at login; the mini-program asks the customer for them.
    let res = patch(
        serde_json::json!({"nickname": "小爱", "avatar_url": "https://cdn.example.com/a.png"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (me["nickname"].as_str(), me["avatar_url"].as_str()),
        (Some("小爱"), Some("https://cdn.example.com/a.png"))
    );
    let res = patch(serde_json::json!({"avatar_url": "javascript:alert(1)"}))
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["details"]["fields"][0]["field"], "user.avatar_url");
    let (_, _, me) = app
        .get_json(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {access}"))],
        )
        .await;
    assert_eq!(
        me["avatar_url"], "https://cdn.example.com/a.png",
        "the refused change wrote nothing"
    );
}

#[tokio::test]
async fn customers_of_an_archived_shop_cannot_log_in() {
    let app = spawn_app().await;
    let t = shop(&app, "closing-shop").await;
    let fake = app.app.wechat_fake.clone().unwrap();
    let h = [("x-wechat-appid", t.wechat_appid.as_str())];
    let code = fake.login_code(&t.wechat_appid, "openid-frank", None);
    assert_eq!(
        wechat_login_http(&app, &h, serde_json::json!({"code": code}))
            .await
            .0,
        200
    );
    app.tenants()
        .archive_tenant(with_token(
            tpb::ArchiveTenantRequest {
                name: t.name.clone(),
            },
            &app.operator(),
        ))
        .await
        .unwrap();
    let code = fake.login_code(&t.wechat_appid, "openid-frank", None);
    let (s, b) = wechat_login_http(&app, &h, serde_json::json!({"code": code})).await;
    assert_eq!((s, b["code"].as_str()), (400, Some("SHOP_UNAVAILABLE")));
    let (s, b) = http_post(
        &app,
        "/api/v1/auth/dev-login",
        &h,
        serde_json::json!({"openid": "frank"}),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (400, Some("SHOP_UNAVAILABLE")));
}

#[tokio::test]
async fn credentials_left_behind_by_an_appid_change_let_no_one_in() {
    let app = spawn_app().await;
    let t = shop(&app, "moving-shop").await;
    let moved = tpb::UpdateTenantRequest {
        tenant: Some(tpb::Tenant {
            name: t.name.clone(),
            wechat_appid: mm_testkit::appid_for("moved-elsewhere"),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["wechat_appid".into()],
        }),
    };
    app.tenants()
        .update_tenant(with_token(moved, &app.operator()))
        .await
        .unwrap();
    let fake = app.app.wechat_fake.clone().unwrap();
    let code = fake.login_code(&t.wechat_appid, "openid-gina", None);
    let (s, b) = wechat_login_http(
        &app,
        &[("x-wechat-appid", &t.wechat_appid)],
        serde_json::json!({"code": code}),
    )
    .await;
    assert_eq!((s, b["code"].as_str()), (400, Some("SHOP_UNAVAILABLE")));
}

#[tokio::test]
async fn an_appid_given_up_by_one_shop_can_be_taken_by_another() {
    let app = spawn_app().await;
    let first = shop(&app, "appid-giver").await;
    let second = shop(&app, "appid-taker").await;
    let appid = first.wechat_appid.clone();
    let set = |t: &tpb::Tenant, appid: &str| pb::SetWechatCredentialsRequest {
        parent: t.name.clone(),
        wechat_appid: appid.to_string(),
        app_secret: "takersecret0123456789".into(),
    };
    // While the first shop has it, the appid is not the second's to store credentials under.
    assert_status(
        users(&app)
            .set_wechat_credentials(with_token(
                set(&second, &appid),
                &app.admin_of(tenant_id(&second)),
            ))
            .await,
        Code::AlreadyExists,
        Some("DUPLICATE_APPID"),
    );

    // The first shop moves to another appid; its credentials for the old one stay behind.
    let tenant_with_appid = |t: &tpb::Tenant, appid: String| tpb::UpdateTenantRequest {
        tenant: Some(tpb::Tenant {
            name: t.name.clone(),
            wechat_appid: appid,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["wechat_appid".into()],
        }),
    };
    app.tenants()
        .update_tenant(with_token(
            tenant_with_appid(&first, mm_testkit::appid_for("giver-moved")),
            &app.operator(),
        ))
        .await
        .unwrap();
    app.tenants()
        .update_tenant(with_token(
            tenant_with_appid(&second, appid.clone()),
            &app.operator(),
        ))
        .await
        .unwrap();
    let fake = app.app.wechat_fake.clone().unwrap();
    let h = [("x-wechat-appid", appid.as_str())];
    let code = fake.login_code(&appid, "openid-ivy", None);
    let (s, b) = wechat_login_http(&app, &h, serde_json::json!({"code": code})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (404, Some("APP_NOT_REGISTERED")),
        "the second shop has not stored a secret for its new appid, and the first shop's does not count"
    );

    users(&app)
        .set_wechat_credentials(with_token(
            set(&second, &appid),
            &app.admin_of(tenant_id(&second)),
        ))
        .await
        .unwrap();
    fake.register_app(&appid, "takersecret0123456789");
    let code = fake.login_code(&appid, "openid-ivy", None);
    let (s, b) = wechat_login_http(&app, &h, serde_json::json!({"code": code})).await;
    assert_eq!(s, 200, "{b}");
    let rows = crate::helpers::sql_rows(
        &app,
        "SELECT tenant_id FROM identity_users WHERE wechat_openid = 'openid-ivy'",
    )
    .await;
    let owners: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("", "tenant_id").unwrap())
        .collect();
    assert_eq!(
        owners,
        [tenant_id(&second).to_string()],
        "the customer belongs to the shop that has the appid now"
    );
}

#[tokio::test]
async fn a_client_cannot_choose_the_address_it_is_throttled_and_audited_under() {
    let app = spawn_app().await;
    let t = shop(&app, "spoof-shop").await;
    let fake = app.app.wechat_fake.clone().unwrap();
    let code = fake.login_code(&t.wechat_appid, "openid-hank", None);
    let h = [
        ("x-wechat-appid", t.wechat_appid.as_str()),
        ("x-forwarded-for", "203.0.113.9"),
    ];
    assert_eq!(
        wechat_login_http(&app, &h, serde_json::json!({"code": code}))
            .await
            .0,
        200
    );
    let events = audit(&app, &t).await;
    let created = events
        .iter()
        .find(|e| e.action == "auth.customer.created")
        .expect("audited");
    assert_eq!(created.client_address, "127.0.0.1");
}
