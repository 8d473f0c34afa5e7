//! Modules: dependency rules, config validated against each module's schema, etags, the catalogue.

use mm_kernel::Role;
use mm_proto::minimodules::tenant::v1 as pb;
use mm_proto::minimodules::tenant::v1::module_service_client::ModuleServiceClient;
use mm_testkit::{spawn_app, tenant_id, with_token};
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::helpers::{assert_status, violation_fields};

fn module_name(t: &pb::Tenant, m: &str) -> String {
    format!("{}/modules/{m}", t.name)
}

#[tokio::test]
async fn enabling_needs_dependencies_and_disabling_waits_for_dependents() {
    let app = spawn_app().await;
    let t = app.create_tenant("bare-shop", "").await;
    let admin = app.admin_of(tenant_id(&t));
    let mut c = app.tenants();
    let enable = |m: &str| {
        with_token(
            pb::EnableModuleRequest {
                name: module_name(&t, m),
            },
            &admin,
        )
    };
    let disable = |m: &str| {
        with_token(
            pb::DisableModuleRequest {
                name: module_name(&t, m),
            },
            &admin,
        )
    };

    let s = assert_status(
        c.enable_module(enable("ordering")).await,
        Code::FailedPrecondition,
        Some("MISSING_DEPENDENCIES"),
    );
    assert_eq!(
        s.get_error_details()
            .error_info()
            .unwrap()
            .metadata
            .get("missing")
            .map(String::as_str),
        Some("catalog,identity")
    );

    for m in ["catalog", "identity", "ordering"] {
        assert!(
            c.enable_module(enable(m))
                .await
                .unwrap()
                .into_inner()
                .module
                .unwrap()
                .enabled
        );
    }
    let s = assert_status(
        c.disable_module(disable("catalog")).await,
        Code::FailedPrecondition,
        Some("HAS_DEPENDENTS"),
    );
    assert_eq!(
        s.get_error_details()
            .error_info()
            .unwrap()
            .metadata
            .get("dependents")
            .map(String::as_str),
        Some("ordering")
    );
    assert_status(
        c.disable_module(disable("tenant")).await,
        Code::FailedPrecondition,
        Some("CORE_MODULE"),
    );
    assert_status(
        c.enable_module(enable("teleport")).await,
        Code::NotFound,
        Some("MODULE_NOT_FOUND"),
    );

    assert!(
        !c.disable_module(disable("ordering"))
            .await
            .unwrap()
            .into_inner()
            .module
            .unwrap()
            .enabled
    );
    assert!(
        !c.disable_module(disable("catalog"))
            .await
            .unwrap()
            .into_inner()
            .module
            .unwrap()
            .enabled
    );
    let states = c
        .list_tenant_modules(with_token(
            pb::ListTenantModulesRequest {
                parent: t.name.clone(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .modules;
    let on: Vec<&str> = states
        .iter()
        .filter(|m| m.enabled)
        .map(|m| m.module_id.as_str())
        .collect();
    // Payments is core, like tenant: always on.
    assert_eq!(on, vec!["tenant", "payments", "identity"]);
}

/// Rules the schema cannot say are the module's own (`ModuleDef::config_rules`), checked on the
/// server with the defaults filled in: a lead time past the booking horizon (no date would ever
/// have a slot) and an opening window from a time to itself are refused, field by field, and
/// nothing is saved.
#[tokio::test]
async fn cross_field_config_rules_are_checked_on_the_server() {
    let app = spawn_app().await;
    let t = app.create_tenant("rules-salon", "salon").await;
    let admin = app.admin_of(tenant_id(&t));
    let mut c = app.tenants();
    let update = |module: &str, config: serde_json::Value| pb::UpdateModuleConfigRequest {
        config: Some(pb::ModuleConfig {
            name: format!("{}/config", module_name(&t, module)),
            config: Some(mm_kernel::json::json_to_struct(&config)),
            ..Default::default()
        }),
    };
    let refused = |r| {
        let s = assert_status(r, Code::InvalidArgument, Some("INVALID_CONFIG"));
        violation_fields(&s)
    };
    // One day of horizon, a week of notice: each valid alone, never bookable together.
    let bad = serde_json::json!({"horizon_days": 1, "lead_time_minutes": 10080});
    let r = c
        .update_module_config(with_token(update("booking", bad), &admin))
        .await;
    let s = r.as_ref().expect_err("refused").clone();
    assert_eq!(refused(r), vec!["config.lead_time_minutes"]);
    let details = s.get_error_details();
    assert_eq!(
        details.bad_request().unwrap().field_violations[0].reason,
        "LEAD_TIME_TOO_LONG"
    );
    assert_eq!(
        details.error_info().unwrap().metadata["config.lead_time_minutes#horizon_days"],
        "1"
    );
    // The same notice against the default horizon (14 days) is fine.
    let ok = serde_json::json!({"lead_time_minutes": 10080});
    c.update_module_config(with_token(update("booking", ok), &admin))
        .await
        .expect("a week's notice within two weeks");
    // Now the horizon alone breaks it: the rule sees the config as it would be saved.
    let r = c
        .update_module_config(with_token(
            update(
                "booking",
                serde_json::json!({"horizon_days": 7, "lead_time_minutes": 10080}),
            ),
            &admin,
        ))
        .await;
    assert_eq!(refused(r), vec!["config.lead_time_minutes"]);

    let t = app.create_tenant("rules-restaurant", "restaurant").await;
    let admin = app.admin_of(tenant_id(&t));
    let update = |module: &str, config: serde_json::Value| pb::UpdateModuleConfigRequest {
        config: Some(pb::ModuleConfig {
            name: format!("{}/config", module_name(&t, module)),
            config: Some(mm_kernel::json::json_to_struct(&config)),
            ..Default::default()
        }),
    };
    let hours = serde_json::json!({"opening_hours": [
        {"start": "09:00", "end": "14:00"}, {"start": "17:00", "end": "17:00"}, {"start": "22:00", "end": "02:00"}
    ]});
    let r = c
        .update_module_config(with_token(update("ordering", hours), &admin))
        .await;
    assert_eq!(refused(r), vec!["config.opening_hours.1.end"]);
    let stored = c
        .get_module_config(with_token(
            pb::GetModuleConfigRequest {
                name: format!("{}/config", module_name(&t, "ordering")),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap();
    let stored = mm_kernel::json::struct_to_json(stored.config.as_ref().unwrap());
    assert_ne!(
        stored["opening_hours"].as_array().map(Vec::len),
        Some(3),
        "nothing saved"
    );
}

#[tokio::test]
async fn invalid_config_is_refused_field_by_field_and_the_stored_config_stays() {
    let app = spawn_app().await;
    let t = app.create_tenant("config-shop", "restaurant").await;
    let admin = app.admin_of(tenant_id(&t));
    let mut c = app.tenants();
    let name = format!("{}/config", module_name(&t, "ordering"));
    let get = || with_token(pb::GetModuleConfigRequest { name: name.clone() }, &admin);
    let before = c
        .get_module_config(get())
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap();

    let bad = serde_json::json!({"min_order_fen": -5, "fulfilment_modes": ["teleport"], "opening_hours": [{"start": "25:00", "end": "21:00"}]});
    let req = pb::UpdateModuleConfigRequest {
        config: Some(pb::ModuleConfig {
            name: name.clone(),
            config: Some(mm_kernel::json::json_to_struct(&bad)),
            ..Default::default()
        }),
    };
    let s = assert_status(
        c.update_module_config(with_token(req, &admin)).await,
        Code::InvalidArgument,
        Some("INVALID_CONFIG"),
    );
    let mut fields = violation_fields(&s);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "config.fulfilment_modes.0",
            "config.min_order_fen",
            "config.opening_hours.0.start"
        ]
    );
    // Each carries a reason and the facts a client words it from, never only English or a regex.
    let reasons: std::collections::BTreeMap<String, String> = s
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| (v.field.clone(), v.reason.clone()))
        .collect();
    // Money is worded in yuan, as the dashboard asks for it.
    assert_eq!(reasons["config.min_order_fen"], "MONEY_OUT_OF_RANGE");
    assert_eq!(reasons["config.fulfilment_modes.0"], "NOT_ALLOWED");
    assert_eq!(reasons["config.opening_hours.0.start"], "INVALID_FORMAT");
    let meta = s.get_error_details().error_info().unwrap().metadata.clone();
    assert_eq!(meta["config.min_order_fen#min_yuan"], "0");
    assert_eq!(meta["config.min_order_fen#max_yuan"], "100000");
    assert_eq!(meta["config.opening_hours.0.start#format"], "time");
    let after = c
        .get_module_config(get())
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap();
    assert_eq!(after, before, "nothing half written");

    // A valid change keeps defaults for keys not sent and bumps the version.
    let good = serde_json::json!({"min_order_fen": 1500, "fulfilment_modes": ["takeaway"]});
    let req = pb::UpdateModuleConfigRequest {
        config: Some(pb::ModuleConfig {
            name: name.clone(),
            config: Some(mm_kernel::json::json_to_struct(&good)),
            etag: before.etag.clone(),
            ..Default::default()
        }),
    };
    let saved = c
        .update_module_config(with_token(req, &admin))
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap();
    let json = mm_kernel::json::struct_to_json(saved.config.as_ref().unwrap());
    assert_eq!(json["min_order_fen"], 1500);
    assert_eq!(json["packaging_fee_fen"], 0);
    assert!(saved.version > before.version);

    // Writing with the old etag loses to the newer write.
    let stale = pb::UpdateModuleConfigRequest {
        config: Some(pb::ModuleConfig {
            name: name.clone(),
            config: Some(mm_kernel::json::json_to_struct(&good)),
            etag: before.etag.clone(),
            ..Default::default()
        }),
    };
    assert_status(
        c.update_module_config(with_token(stale, &admin)).await,
        Code::Aborted,
        Some("ETAG_MISMATCH"),
    );

    // Config of a module that is off cannot be written.
    let off = pb::UpdateModuleConfigRequest {
        config: Some(pb::ModuleConfig {
            name: format!("{}/config", module_name(&t, "booking")),
            config: Some(Default::default()),
            ..Default::default()
        }),
    };
    assert_status(
        c.update_module_config(with_token(off, &admin)).await,
        Code::FailedPrecondition,
        Some("MODULE_DISABLED"),
    );

    // Oversized config is refused.
    let big = serde_json::json!({"announcement": "公".repeat(30_000)});
    let req = pb::UpdateModuleConfigRequest {
        config: Some(pb::ModuleConfig {
            name: format!("{}/config", module_name(&t, "tenant")),
            config: Some(mm_kernel::json::json_to_struct(&big)),
            ..Default::default()
        }),
    };
    assert_status(
        c.update_module_config(with_token(req, &admin)).await,
        Code::InvalidArgument,
        None,
    );
}

#[tokio::test]
async fn staff_reach_only_what_their_permissions_grant() {
    let app = spawn_app().await;
    let t = app.create_tenant("staffed-shop", "restaurant").await;
    let id = tenant_id(&t);
    let staff = app.token(Role::Staff, Some(id), &["tenant.branding.read"]);
    let mut c = app.tenants();
    assert!(
        c.get_branding(with_token(
            pb::GetBrandingRequest {
                name: format!("{}/branding", t.name)
            },
            &staff
        ))
        .await
        .is_ok()
    );
    assert_status(
        c.get_module_config(with_token(
            pb::GetModuleConfigRequest {
                name: format!("{}/config", module_name(&t, "ordering")),
            },
            &staff,
        ))
        .await,
        Code::PermissionDenied,
        None,
    );
}

#[tokio::test]
async fn the_catalogue_lists_every_module_with_schema_and_defaults() {
    let app = spawn_app().await;
    let t = app.create_tenant("reader-shop", "salon").await;
    let mut m = ModuleServiceClient::new(app.channel.clone());
    let list = m
        .list_modules(with_token(
            pb::ListModulesRequest {},
            &app.admin_of(tenant_id(&t)),
        ))
        .await
        .unwrap()
        .into_inner()
        .modules;
    let ids: Vec<&str> = list.iter().map(|m| m.id.as_str()).collect();
    // Every module this build registers, in registration order.
    let registered: Vec<&str> = mm_server::modules::all().iter().map(|m| m.id).collect();
    assert_eq!(ids, registered);
    for id in ["tenant", "identity", "catalog", "ordering", "booking"] {
        assert!(ids.contains(&id), "{id} is missing from {ids:?}");
    }
    let ordering = list.iter().find(|m| m.id == "ordering").unwrap();
    assert_eq!(ordering.dependencies, vec!["catalog", "identity"]);
    let schema = mm_kernel::json::struct_to_json(ordering.config_schema.as_ref().unwrap());
    assert_eq!(schema["properties"]["min_order_fen"]["type"], "integer");
    let defaults = mm_kernel::json::struct_to_json(ordering.config_defaults.as_ref().unwrap());
    assert_eq!(defaults["cancel_window_minutes"], 5);
    let templates = m
        .list_industry_templates(with_token(
            pb::ListIndustryTemplatesRequest {},
            &app.operator(),
        ))
        .await
        .unwrap()
        .into_inner()
        .templates;
    assert_eq!(
        templates.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        vec!["restaurant", "salon", "retail"]
    );
    assert_status(
        m.get_module(with_token(
            pb::GetModuleRequest {
                name: "modules/nope".into(),
            },
            &app.operator(),
        ))
        .await,
        Code::NotFound,
        Some("MODULE_NOT_FOUND"),
    );
}

#[tokio::test]
async fn any_staff_member_reads_the_module_list_for_menus_but_not_config_or_switches() {
    let app = spawn_app().await;
    let t = app.create_tenant("menu-staff-shop", "restaurant").await;
    // A cashier who may only see orders.
    let cashier = app.token(Role::Staff, Some(tenant_id(&t)), &["ordering.orders.read"]);
    let states = app
        .tenants()
        .list_tenant_modules(with_token(
            pb::ListTenantModulesRequest {
                parent: t.name.clone(),
            },
            &cashier,
        ))
        .await
        .unwrap()
        .into_inner()
        .modules;
    assert!(
        states
            .iter()
            .any(|m| m.module_id == "ordering" && m.enabled)
    );
    let catalogue = ModuleServiceClient::new(app.channel.clone())
        .list_modules(with_token(pb::ListModulesRequest {}, &cashier))
        .await
        .unwrap()
        .into_inner()
        .modules;
    assert!(!catalogue.is_empty());
    // Reading a module's config or switching modules still takes the permissions for them.
    let res = app
        .tenants()
        .get_module_config(with_token(
            pb::GetModuleConfigRequest {
                name: format!("{}/modules/ordering/config", t.name),
            },
            &cashier,
        ))
        .await;
    assert_eq!(res.unwrap_err().code(), Code::PermissionDenied);
    let res = app
        .tenants()
        .disable_module(with_token(
            pb::DisableModuleRequest {
                name: format!("{}/modules/ordering", t.name),
            },
            &cashier,
        ))
        .await;
    assert_eq!(res.unwrap_err().code(), Code::PermissionDenied);
}

/// No dead settings: every property of every module's config schema is read somewhere a shop
/// would feel it (the server, the BFF, the mini-program or the dashboard), outside the spec itself
/// and outside tests. A setting declared and read by nothing fails here, by name.
#[test]
fn every_setting_of_every_module_is_read_by_something() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut sources = String::new();
    for dir in ["crates", "bff", "weapp/miniprogram", "web-admin/src"] {
        read_sources(&root.join(dir), &mut sources);
    }
    assert!(sources.len() > 100_000, "the sources were not found");
    let mut dead = Vec::new();
    for m in mm_server::modules::all() {
        let spec: serde_json::Value = serde_json::from_str(m.spec).unwrap();
        let properties = spec["config_schema"]["properties"].as_object();
        for name in properties.into_iter().flat_map(|p| p.keys()) {
            // A read names the key itself: a struct field, a JSON key or an object property.
            let read = sources.match_indices(name.as_str()).any(|(i, _)| {
                let before = sources[..i].chars().next_back();
                let after = sources[i + name.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(after)
            });
            if !read {
                dead.push(format!("{}.{name}", m.id));
            }
        }
    }
    assert!(dead.is_empty(), "settings nothing reads: {dead:?}");
}

/// The text of the source files under `dir`: not specs, tests, generated code or builds.
fn read_sources(dir: &std::path::Path, out: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if ![
                "tests",
                "test",
                "gen",
                "node_modules",
                "dist",
                "target",
                "api",
            ]
            .contains(&name.as_str())
            {
                read_sources(&path, out);
            }
        } else if [".rs", ".ts", ".vue", ".wxml"]
            .iter()
            .any(|x| name.ends_with(x))
            && !name.ends_with(".test.ts")
            && !name.contains("schema")
        {
            out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            out.push('\n');
        }
    }
}
