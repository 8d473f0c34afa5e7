//! Shared assertions.

use mm_proto::minimodules::identity::v1 as pb;
use mm_proto::minimodules::identity::v1::auth_service_client::AuthServiceClient;
use mm_proto::minimodules::identity::v1::user_service_client::UserServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_testkit::{Backend, Storage, TestApp, spawn_with, tenant_id, with_token};
use tonic::Code;
use tonic_types::StatusExt as _;

/// The AppSecret test shops register with the WeChat fake.
pub const SECRET: &str = "shopsecret0123456789abcd";

/// Asserts a call failed with `code` and, when given, the ErrorInfo reason.
pub fn assert_status<T: std::fmt::Debug>(
    res: Result<T, tonic::Status>,
    code: Code,
    reason: Option<&str>,
) -> tonic::Status {
    let status = res.expect_err("call should fail");
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    if let Some(r) = reason {
        let details = status.get_error_details();
        assert_eq!(
            details.error_info().map(|i| i.reason.as_str()),
            Some(r),
            "{status:?}"
        );
    }
    status
}

/// One ErrorInfo metadata value of a status.
pub fn error_metadata(status: &tonic::Status, key: &str) -> Option<String> {
    status
        .get_error_details()
        .error_info()
        .and_then(|i| i.metadata.get(key).cloned())
}

/// The fields of a status's BadRequest violations.
pub fn violation_fields(status: &tonic::Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

/// A restaurant whose admin has stored its WeChat credentials, known to the fake WeChat.
pub async fn shop(app: &TestApp, slug: &str) -> tpb::Tenant {
    let t = app.create_tenant(slug, "restaurant").await;
    register_wechat(app, &t).await;
    t
}

/// Stores `t`'s WeChat credentials as its admin would and makes the fake WeChat know the app.
pub async fn register_wechat(app: &TestApp, t: &tpb::Tenant) {
    let req = pb::SetWechatCredentialsRequest {
        parent: t.name.clone(),
        wechat_appid: t.wechat_appid.clone(),
        app_secret: SECRET.into(),
    };
    UserServiceClient::new(app.channel.clone())
        .set_wechat_credentials(with_token(req, &app.admin_of(tenant_id(t))))
        .await
        .unwrap();
    app.app
        .wechat_fake
        .as_ref()
        .unwrap()
        .register_app(&t.wechat_appid, SECRET);
}

/// Logs a WeChat customer of `t` in over gRPC and returns the access token.
pub async fn customer_token(app: &TestApp, t: &tpb::Tenant, openid: &str) -> String {
    let code = app
        .app
        .wechat_fake
        .as_ref()
        .unwrap()
        .login_code(&t.wechat_appid, openid, None);
    let req = pb::WechatLoginRequest {
        wechat_appid: t.wechat_appid.clone(),
        code,
    };
    AuthServiceClient::new(app.channel.clone())
        .wechat_login(req)
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap()
        .access_token
}

/// POST JSON to the BFF; the body back as JSON (Null when empty, a string when not JSON).
pub async fn http_post(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut req = app
        .http
        .post(format!("{}{}", app.http_url, path))
        .json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        },
    )
}

/// Two instances on one PostgreSQL + Redis (the second seeds nothing), for what crosses instances
/// through Redis; the storage lives as long as it is held.
pub async fn two_instances() -> (Storage, TestApp, TestApp) {
    let storage = Storage::on(Backend::Postgres).await;
    let one = spawn_with(storage.settings()).await;
    let mut s2 = storage.settings();
    s2.demo.seed = false;
    let two = spawn_with(s2).await;
    assert_eq!(two.app.cache.backend_name(), "redis");
    (storage, one, two)
}

/// Reads with `read` until `done` holds of the answer, for at most five seconds (pub/sub reaches
/// another instance asynchronously, and nothing here can make it arrive sooner); the last answer.
pub async fn read_until<T, F, Fut>(mut read: F, done: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let answer = read().await;
        if done(&answer) || std::time::Instant::now() >= deadline {
            return answer;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Runs SQL behind the application's back (a test arranging or inspecting rows), in a
/// transaction of a named system scope, which PostgreSQL's row-level security lets see every
/// tenant. Returns the rows affected.
pub async fn sql_exec(app: &TestApp, sql: &str) -> u64 {
    use sea_orm::ConnectionTrait as _;
    let txn = mm_kernel::SystemScope::named("test.arrange")
        .begin(&app.app.db)
        .await
        .unwrap();
    let n = txn.execute_unprepared(sql).await.unwrap().rows_affected();
    txn.commit().await.unwrap();
    n
}

/// The rows of a query run as [`sql_exec`] runs its statement.
pub async fn sql_rows(app: &TestApp, sql: &str) -> Vec<sea_orm::QueryResult> {
    use sea_orm::ConnectionTrait as _;
    let txn = mm_kernel::SystemScope::named("test.inspect")
        .begin(&app.app.db)
        .await
        .unwrap();
    let rows = txn
        .query_all_raw(sea_orm::Statement::from_string(
            txn.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    rows
}
