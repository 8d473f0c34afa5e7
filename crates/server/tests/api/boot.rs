//! The mini-program's boot call through the BFF: shape, errors, ETags, and cache invalidation —
//! within one instance and, with Redis, across instances.

use mm_proto::minimodules::tenant::v1 as pb;
use mm_testkit::{spawn_app, tenant_id, with_token};

fn branding_change(t: &pb::Tenant, colour: &str) -> pb::UpdateBrandingRequest {
    pb::UpdateBrandingRequest {
        branding: Some(pb::Branding {
            name: format!("{}/branding", t.name),
            primary_color: colour.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["primary_color".into()],
        }),
    }
}

#[tokio::test]
async fn the_demo_restaurant_is_seeded_and_boots() {
    let app = spawn_app().await;
    let (status, headers, body) = app
        .get_json(
            "/api/v1/app/config",
            &[("x-wechat-appid", mm_server::demo::DEMO_APPID)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["slug"], "demo-restaurant");
    assert_eq!(body["industry"], "restaurant");
    assert_eq!(body["theme"]["primary_color"], "#E4393C");
    let tabs: Vec<&str> = body["tabs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["page"].as_str().unwrap())
        .collect();
    assert_eq!(
        tabs,
        vec![
            "pages/home/index",
            "pages/menu/index",
            "pages/orders/index",
            "pages/me/index"
        ]
    );
    assert!(headers.get("etag").is_some());
    // Config the schema does not mark public never reaches the phone.
    let ordering = body["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "ordering")
        .unwrap();
    assert!(
        ordering["config"].get("auto_accept").is_none(),
        "{ordering}"
    );
    assert_eq!(ordering["config"]["cancel_window_minutes"], 5);
}

#[tokio::test]
async fn bad_boot_requests_get_json_errors_with_the_right_status() {
    let app = spawn_app().await;
    let (s, _, body) = app.get_json("/api/v1/app/config", &[]).await;
    assert_eq!(s, 400);
    assert_eq!(body["code"], "INVALID_ARGUMENT");
    let (s, _, body) = app
        .get_json("/api/v1/app/config?appid=not-an-appid", &[])
        .await;
    assert_eq!(s, 400);
    assert_eq!(body["details"]["fields"][0]["field"], "wechat_appid");
    let (s, _, body) = app
        .get_json("/api/v1/app/config?appid=wxffffffffffffffff", &[])
        .await;
    assert_eq!(s, 404);
    assert_eq!(body["code"], "APP_NOT_FOUND");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("wxffffffffffffffff")
    );
    // WeChat's own Referer identifies the mini-program too.
    let referer = format!(
        "https://servicewechat.com/{}/3/page-frame.html",
        mm_server::demo::DEMO_APPID
    );
    let (s, _, _) = app
        .get_json("/api/v1/app/config", &[("referer", &referer)])
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_theme_or_module_change_shows_in_the_next_boot_call() {
    let app = spawn_app().await;
    let t = app.create_tenant("cache-shop", "restaurant").await;
    let admin = app.admin_of(tenant_id(&t));
    let path = format!("/api/v1/app/config?appid={}", t.wechat_appid);
    let (_, headers, body) = app.get_json(&path, &[]).await;
    assert_eq!(body["theme"]["primary_color"], "#E4393C");
    let etag = headers.get("etag").unwrap().to_str().unwrap().to_string();
    let (s, _, _) = app.get_json(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(s, 304, "unchanged config revalidates");

    app.tenants()
        .update_branding(with_token(branding_change(&t, "#00AA88"), &admin))
        .await
        .unwrap();
    let (s, headers, body) = app.get_json(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(s, 200, "the old etag no longer matches");
    assert_eq!(body["theme"]["primary_color"], "#00AA88");
    assert_ne!(headers.get("etag").unwrap().to_str().unwrap(), etag);

    app.tenants()
        .disable_module(with_token(
            pb::DisableModuleRequest {
                name: format!("{}/modules/ordering", t.name),
            },
            &admin,
        ))
        .await
        .unwrap();
    let (_, _, body) = app.get_json(&path, &[]).await;
    assert!(
        body["modules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["id"] != "ordering")
    );
    assert!(
        body["tabs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["module"] != "ordering")
    );

    let cfg = serde_json::json!({"announcement": "今日特价"});
    app.tenants()
        .update_module_config(with_token(
            pb::UpdateModuleConfigRequest {
                config: Some(pb::ModuleConfig {
                    name: format!("{}/modules/tenant/config", t.name),
                    config: Some(mm_kernel::json::json_to_struct(&cfg)),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .unwrap();
    let (_, _, body) = app.get_json(&path, &[]).await;
    assert_eq!(body["modules"][0]["config"]["announcement"], "今日特价");
}

/// Two instances share PostgreSQL and Redis: a change through one reaches the other's BFF cache
/// through Redis pub/sub. Always runs on PostgreSQL + Redis, whatever MM_TEST_BACKEND says,
/// because that is the deployment it describes.
#[tokio::test]
async fn other_instances_learn_of_invalidations_through_redis() {
    let (_storage, one, two) = crate::helpers::two_instances().await;
    let t = one.create_tenant("shared-shop", "salon").await;
    let path = format!("/api/v1/app/config?appid={}", t.wechat_appid);
    let (_, _, body) = two.get_json(&path, &[]).await;
    assert_eq!(body["theme"]["primary_color"], "#B5838D");

    one.tenants()
        .update_branding(with_token(
            branding_change(&t, "#112233"),
            &one.admin_of(tenant_id(&t)),
        ))
        .await
        .unwrap();
    // Pub/sub is asynchronous: read again (bounded) until the other instance has heard of it.
    let seen = crate::helpers::read_until(
        || async {
            let (_, _, body) = two.get_json(&path, &[]).await;
            body["theme"]["primary_color"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        },
        |c| c == "#112233",
    )
    .await;
    assert_eq!(seen, "#112233");
}
