//! Tenants: creation from templates, isolation, duplicates, malformed and oversized input, paging.

use mm_proto::minimodules::tenant::v1 as pb;
use mm_testkit::{spawn_app, tenant_id, with_token};
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::helpers::{assert_status, violation_fields};

async fn count_tenants(app: &mm_testkit::TestApp) -> usize {
    let mut n = 0;
    let mut token = String::new();
    loop {
        let r = app
            .tenants()
            .list_tenants(with_token(
                pb::ListTenantsRequest {
                    page_size: 100,
                    page_token: token,
                    show_archived: true,
                },
                &app.operator(),
            ))
            .await
            .expect("list")
            .into_inner();
        n += r.tenants.len();
        if r.next_page_token.is_empty() {
            return n;
        }
        token = r.next_page_token;
    }
}

#[tokio::test]
async fn each_template_yields_a_usable_tenant_in_one_call() {
    let app = spawn_app().await;
    for (template, expected) in [
        // Payments is core, like tenant: every shop has it.
        (
            "restaurant",
            vec![
                "tenant",
                "payments",
                "identity",
                "catalog",
                "ordering",
                "marketing",
            ],
        ),
        (
            "salon",
            vec!["tenant", "payments", "identity", "booking", "marketing"],
        ),
        (
            "retail",
            vec!["tenant", "payments", "identity", "catalog", "ordering"],
        ),
    ] {
        let t = app
            .create_tenant(&format!("shop-{template}"), template)
            .await;
        assert_eq!(t.industry, template);
        let (status, _, body) = app
            .get_json(&format!("/api/v1/app/config?appid={}", t.wechat_appid), &[])
            .await;
        assert_eq!(status, 200, "{body}");
        let ids: Vec<&str> = body["modules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, expected, "{template}");
    }
    let (_, _, body) = app
        .get_json(
            &format!(
                "/api/v1/app/config?appid={}",
                mm_testkit::appid_for("shop-retail")
            ),
            &[],
        )
        .await;
    let ordering = body["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "ordering")
        .unwrap();
    assert_eq!(
        ordering["config"]["min_order_fen"], 2000,
        "template config applied over defaults"
    );
    assert_eq!(body["theme"]["primary_color"], "#1677FF");
}

#[tokio::test]
async fn an_admin_of_one_tenant_can_neither_read_nor_change_another() {
    let app = spawn_app().await;
    let a = tenant_id(&app.create_tenant("tenant-a", "restaurant").await);
    let b = tenant_id(&app.create_tenant("tenant-b", "salon").await);
    let admin_a = app.admin_of(a);
    let mut c = app.tenants();

    assert!(
        c.get_tenant(with_token(
            pb::GetTenantRequest {
                name: format!("tenants/{a}")
            },
            &admin_a
        ))
        .await
        .is_ok()
    );
    assert_status(
        c.get_tenant(with_token(
            pb::GetTenantRequest {
                name: format!("tenants/{b}"),
            },
            &admin_a,
        ))
        .await,
        Code::PermissionDenied,
        None,
    );
    let change = pb::UpdateBrandingRequest {
        branding: Some(pb::Branding {
            name: format!("tenants/{b}/branding"),
            primary_color: "#000000".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["primary_color".into()],
        }),
    };
    assert_status(
        c.update_branding(with_token(change, &admin_a)).await,
        Code::PermissionDenied,
        None,
    );
    let cfg = pb::UpdateModuleConfigRequest {
        config: Some(pb::ModuleConfig {
            name: format!("tenants/{b}/modules/booking/config"),
            ..Default::default()
        }),
    };
    assert_status(
        c.update_module_config(with_token(cfg, &admin_a)).await,
        Code::PermissionDenied,
        None,
    );
    assert_status(
        c.disable_module(with_token(
            pb::DisableModuleRequest {
                name: format!("tenants/{b}/modules/booking"),
            },
            &admin_a,
        ))
        .await,
        Code::PermissionDenied,
        None,
    );

    // B is untouched.
    let b_branding = c
        .get_branding(with_token(
            pb::GetBrandingRequest {
                name: format!("tenants/{b}/branding"),
            },
            &app.admin_of(b),
        ))
        .await
        .unwrap()
        .into_inner()
        .branding
        .unwrap();
    assert_eq!(b_branding.primary_color, "#B5838D");
    let mods = c
        .list_tenant_modules(with_token(
            pb::ListTenantModulesRequest {
                parent: format!("tenants/{b}"),
            },
            &app.admin_of(b),
        ))
        .await
        .unwrap()
        .into_inner()
        .modules;
    assert!(mods.iter().any(|m| m.module_id == "booking" && m.enabled));
}

#[tokio::test]
async fn duplicate_slug_and_appid_are_refused_and_write_nothing() {
    let app = spawn_app().await;
    let first = app.create_tenant("noodle-house", "restaurant").await;
    let before = count_tenants(&app).await;
    let mut c = app.tenants();
    let dup_slug = pb::CreateTenantRequest {
        tenant: Some(pb::Tenant {
            slug: "noodle-house".into(),
            display_name_zh: "面馆".into(),
            ..Default::default()
        }),
        template_id: String::new(),
    };
    assert_status(
        c.create_tenant(with_token(dup_slug, &app.operator())).await,
        Code::AlreadyExists,
        Some("DUPLICATE_SLUG"),
    );
    let dup_appid = pb::CreateTenantRequest {
        tenant: Some(pb::Tenant {
            slug: "other-house".into(),
            display_name_zh: "别家".into(),
            wechat_appid: first.wechat_appid.clone(),
            ..Default::default()
        }),
        template_id: "restaurant".into(),
    };
    assert_status(
        c.create_tenant(with_token(dup_appid, &app.operator()))
            .await,
        Code::AlreadyExists,
        Some("DUPLICATE_APPID"),
    );
    assert_eq!(count_tenants(&app).await, before);
}

#[tokio::test]
async fn malformed_and_oversized_input_gets_clear_errors_and_writes_nothing() {
    let app = spawn_app().await;
    let mut c = app.tenants();
    let op = app.operator();
    let before = count_tenants(&app).await;

    for name in [
        "tenants/not-a-uuid",
        "foo/bar",
        "tenants/",
        "",
        "tenants/x/y",
    ] {
        let s = assert_status(
            c.get_tenant(with_token(pb::GetTenantRequest { name: name.into() }, &op))
                .await,
            Code::InvalidArgument,
            None,
        );
        assert_eq!(violation_fields(&s), vec!["name".to_string()], "{name:?}");
    }
    assert_status(
        c.list_tenants(with_token(
            pb::ListTenantsRequest {
                page_size: -1,
                ..Default::default()
            },
            &op,
        ))
        .await,
        Code::InvalidArgument,
        None,
    );
    let s = assert_status(
        c.list_tenants(with_token(
            pb::ListTenantsRequest {
                page_token: "garbage!".into(),
                ..Default::default()
            },
            &op,
        ))
        .await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&s), vec!["page_token".to_string()]);

    // Every problem of a request is reported at once, each on its field.
    let bad = pb::CreateTenantRequest {
        tenant: Some(pb::Tenant {
            slug: "X".into(),
            display_name_zh: "长".repeat(65),
            wechat_appid: "wx-nope".into(),
            industry: "spaceport".into(),
            ..Default::default()
        }),
        template_id: String::new(),
    };
    let s = assert_status(
        c.create_tenant(with_token(bad, &op)).await,
        Code::InvalidArgument,
        None,
    );
    let mut fields = violation_fields(&s);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "tenant.display_name_zh",
            "tenant.industry",
            "tenant.slug",
            "tenant.wechat_appid"
        ]
    );

    // A message over the server's limit is refused before it reaches the service.
    let huge = pb::CreateTenantRequest {
        tenant: Some(pb::Tenant {
            slug: "huge-one".into(),
            display_name_zh: "x".repeat(2 * 1024 * 1024),
            ..Default::default()
        }),
        template_id: String::new(),
    };
    // tonic reports an over-limit message as OUT_OF_RANGE.
    assert_status(
        c.create_tenant(with_token(huge, &op)).await,
        Code::OutOfRange,
        None,
    );

    // An unknown template is a clear NOT_FOUND, also before anything is written.
    let unknown = pb::CreateTenantRequest {
        tenant: Some(pb::Tenant {
            slug: "ghost-shop".into(),
            display_name_zh: "幽灵".into(),
            ..Default::default()
        }),
        template_id: "spaceport".into(),
    };
    assert_status(
        c.create_tenant(with_token(unknown, &op)).await,
        Code::NotFound,
        Some("TEMPLATE_NOT_FOUND"),
    );
    assert_eq!(count_tenants(&app).await, before);
}

#[tokio::test]
async fn tenants_page_without_gaps_or_repeats() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.create_tenant(&format!("page-shop-{i}"), "").await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let r = app
            .tenants()
            .list_tenants(with_token(
                pb::ListTenantsRequest {
                    page_size: 2,
                    page_token: token.clone(),
                    show_archived: false,
                },
                &app.operator(),
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(r.tenants.len() <= 2);
        seen.extend(r.tenants.into_iter().map(|t| t.slug));
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
    }
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), seen.len(), "no repeats: {seen:?}");
    assert_eq!(seen.len(), 6, "five shops plus the demo: {seen:?}");
}

#[tokio::test]
async fn admins_update_names_but_only_operators_move_slug_and_appid() {
    let app = spawn_app().await;
    let t = app.create_tenant("rename-me", "restaurant").await;
    let id = tenant_id(&t);
    let mut c = app.tenants();
    let patch = |paths: &[&str]| pb::UpdateTenantRequest {
        tenant: Some(pb::Tenant {
            name: t.name.clone(),
            display_name_zh: "新名字".into(),
            slug: "moved-slug".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }),
    };
    let updated = c
        .update_tenant(with_token(patch(&["display_name_zh"]), &app.admin_of(id)))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    assert_eq!(updated.display_name_zh, "新名字");
    assert_eq!(updated.slug, "rename-me");
    assert_status(
        c.update_tenant(with_token(patch(&["slug"]), &app.admin_of(id)))
            .await,
        Code::PermissionDenied,
        None,
    );
    assert_status(
        c.update_tenant(with_token(patch(&["status"]), &app.operator()))
            .await,
        Code::InvalidArgument,
        None,
    );
    let moved = c
        .update_tenant(with_token(patch(&["slug"]), &app.operator()))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    assert_eq!(moved.slug, "moved-slug");
}

#[tokio::test]
async fn archived_tenants_disappear_from_the_mini_program() {
    let app = spawn_app().await;
    let t = app.create_tenant("closing-down", "restaurant").await;
    let path = format!("/api/v1/app/config?appid={}", t.wechat_appid);
    assert_eq!(app.get_json(&path, &[]).await.0, 200);
    let archived = app
        .tenants()
        .archive_tenant(with_token(
            pb::ArchiveTenantRequest {
                name: t.name.clone(),
            },
            &app.operator(),
        ))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    assert_eq!(archived.status, pb::TenantStatus::Archived as i32);
    let (status, _, body) = app.get_json(&path, &[]).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "APP_NOT_FOUND");
}

#[tokio::test]
async fn a_write_against_a_stale_etag_is_refused() {
    let app = spawn_app().await;
    let t = app.create_tenant("etag-shop", "restaurant").await;
    let admin = app.admin_of(tenant_id(&t));
    let mut c = app.tenants();
    let rename = |etag: &str, name: &str| pb::UpdateTenantRequest {
        tenant: Some(pb::Tenant {
            name: t.name.clone(),
            display_name_zh: name.into(),
            etag: etag.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["display_name_zh".into()],
        }),
    };
    let first = c
        .update_tenant(with_token(rename(&t.etag, "第一"), &admin))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    assert_ne!(first.etag, t.etag);
    assert_status(
        c.update_tenant(with_token(rename(&t.etag, "第二"), &admin))
            .await,
        Code::Aborted,
        Some("ETAG_MISMATCH"),
    );
    let now = c
        .get_tenant(with_token(
            pb::GetTenantRequest {
                name: t.name.clone(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    assert_eq!(now.display_name_zh, "第一");

    let branding = pb::UpdateBrandingRequest {
        branding: Some(pb::Branding {
            name: format!("{}/branding", t.name),
            primary_color: "#101010".into(),
            etag: t.etag.clone(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["primary_color".into()],
        }),
    };
    assert_status(
        c.update_branding(with_token(branding, &admin)).await,
        Code::Aborted,
        Some("ETAG_MISMATCH"),
    );
}

/// What staff type as the shop at login: the slug the shop list shows, or the appid. Anyone may
/// ask (there is no token before login); an archived shop, an unknown one or nothing is refused
/// with a reason the dashboard words.
#[tokio::test]
async fn a_shop_is_found_by_its_slug_or_its_appid_for_login() {
    let app = spawn_app().await;
    let t = app.create_tenant("first-day-salon", "salon").await;
    let other = app.create_tenant("next-door", "restaurant").await;
    for shop in [
        "first-day-salon",
        " FIRST-DAY-SALON ",
        t.wechat_appid.as_str(),
    ] {
        let found = app
            .tenants()
            .lookup_tenant(pb::LookupTenantRequest { shop: shop.into() })
            .await
            .unwrap_or_else(|e| panic!("{shop:?}: {e:?}"))
            .into_inner();
        assert_eq!(found.tenant, t.name, "{shop:?}");
        assert_eq!(found.display_name_zh, t.display_name_zh);
    }
    let found = app
        .tenants()
        .lookup_tenant(pb::LookupTenantRequest {
            shop: other.slug.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.tenant, other.name);

    let status = assert_status(
        app.tenants()
            .lookup_tenant(pb::LookupTenantRequest {
                shop: "no-such-shop".into(),
            })
            .await,
        Code::NotFound,
        Some("SHOP_NOT_FOUND"),
    );
    assert_eq!(
        status
            .get_error_details()
            .error_info()
            .and_then(|i| i.metadata.get("shop").cloned())
            .as_deref(),
        Some("no-such-shop")
    );
    let status = assert_status(
        app.tenants()
            .lookup_tenant(pb::LookupTenantRequest { shop: " ".into() })
            .await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&status), ["shop"]);

    app.tenants()
        .archive_tenant(with_token(
            pb::ArchiveTenantRequest {
                name: other.name.clone(),
            },
            &app.operator(),
        ))
        .await
        .unwrap();
    assert_status(
        app.tenants()
            .lookup_tenant(pb::LookupTenantRequest {
                shop: other.slug.clone(),
            })
            .await,
        Code::NotFound,
        Some("SHOP_NOT_FOUND"),
    );
}
