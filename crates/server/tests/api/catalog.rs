//! Catalog: categories and products with SKUs administered by staff, validation with field
//! errors, tenant isolation, and the published menu cached and refreshed on every change.

use mm_kernel::Role;
use mm_proto::minimodules::catalog::v1 as pb;
use mm_proto::minimodules::catalog::v1::catalog_service_client::CatalogServiceClient;
use mm_proto::minimodules::tenant::v1 as tpb;
use mm_testkit::{TestApp, spawn_app, tenant_id, with_token};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{assert_status, sql_exec, sql_rows, violation_fields};

fn catalog(app: &TestApp) -> CatalogServiceClient<Channel> {
    CatalogServiceClient::new(app.channel.clone())
}

fn sku(specs: &[(&str, &str)], price_fen: i64, stock: Option<i64>) -> pb::Sku {
    pb::Sku {
        id: String::new(),
        specs: specs
            .iter()
            .map(|(s, v)| pb::SpecValue {
                spec: s.to_string(),
                value: v.to_string(),
            })
            .collect(),
        price_fen,
        stock: stock.unwrap_or(0),
        unlimited: stock.is_none(),
    }
}

async fn category(app: &TestApp, t: &tpb::Tenant, name: &str, order: i32) -> pb::Category {
    let req = pb::CreateCategoryRequest {
        parent: t.name.clone(),
        category: Some(pb::Category {
            display_name_zh: name.into(),
            sort_order: order,
            ..Default::default()
        }),
    };
    catalog(app)
        .create_category(with_token(req, &app.admin_of(tenant_id(t))))
        .await
        .unwrap()
        .into_inner()
        .category
        .unwrap()
}

fn product(
    t: &tpb::Tenant,
    c: &pb::Category,
    name: &str,
    skus: Vec<pb::Sku>,
) -> pb::CreateProductRequest {
    pb::CreateProductRequest {
        parent: t.name.clone(),
        product: Some(pb::Product {
            category: c.name.clone(),
            display_name_zh: name.into(),
            image_urls: vec!["https://cdn.example.com/latte.png".into()],
            tags: vec!["招牌".into()],
            on_sale: true,
            skus,
            ..Default::default()
        }),
    }
}

/// Creates a product as the tenant's admin.
async fn create_as_admin(
    app: &TestApp,
    t: &tpb::Tenant,
    req: pb::CreateProductRequest,
) -> pb::Product {
    catalog(app)
        .create_product(with_token(req, &app.admin_of(tenant_id(t))))
        .await
        .unwrap()
        .into_inner()
        .product
        .unwrap()
}

async fn menu(app: &TestApp, t: &tpb::Tenant) -> pb::Menu {
    // The menu is public: no token.
    catalog(app)
        .get_menu(pb::GetMenuRequest {
            parent: t.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .menu
        .unwrap()
}

#[tokio::test]
async fn staff_build_a_menu_that_customers_see_and_changes_show_at_once() {
    let app = spawn_app().await;
    let t = app.create_tenant("menu-shop", "restaurant").await;
    let staff = app.token(
        Role::Staff,
        Some(tenant_id(&t)),
        &["catalog.products.manage", "catalog.products.read"],
    );
    let drinks = category(&app, &t, "饮品", 2).await;
    let mains = category(&app, &t, "主食", 1).await;
    let latte = catalog(&app)
        .create_product(with_token(
            product(
                &t,
                &drinks,
                "拿铁",
                vec![
                    sku(&[("杯型", "中杯")], 1800, Some(20)),
                    sku(&[("杯型", "大杯")], 2200, None),
                ],
            ),
            &staff,
        ))
        .await
        .unwrap()
        .into_inner()
        .product
        .unwrap();
    assert_eq!(latte.skus.len(), 2);
    assert!(latte.skus.iter().all(|s| !s.id.is_empty()));
    assert!(latte.skus[1].unlimited);
    catalog(&app)
        .create_product(with_token(
            product(&t, &mains, "牛肉面", vec![sku(&[], 2800, Some(5))]),
            &staff,
        ))
        .await
        .unwrap();

    let m = menu(&app, &t).await;
    let sections: Vec<&str> = m
        .sections
        .iter()
        .map(|s| s.category.as_ref().unwrap().display_name_zh.as_str())
        .collect();
    assert_eq!(sections, vec!["主食", "饮品"], "categories in sort order");
    assert_eq!(m.sections[1].products[0].skus[0].price_fen, 1800);

    // Taking the latte off sale, then changing a price: the next menu read shows each change.
    let off = pb::UpdateProductRequest {
        product: Some(pb::Product {
            name: latte.name.clone(),
            on_sale: false,
            etag: latte.etag.clone(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["on_sale".into()],
        }),
    };
    let updated = catalog(&app)
        .update_product(with_token(off, &staff))
        .await
        .unwrap()
        .into_inner()
        .product
        .unwrap();
    let m2 = menu(&app, &t).await;
    assert!(m2.version > m.version);
    assert_eq!(m2.sections.len(), 1, "an empty section is left out");
    // The stale etag loses.
    let stale = pb::UpdateProductRequest {
        product: Some(pb::Product {
            name: latte.name.clone(),
            on_sale: true,
            etag: latte.etag.clone(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["on_sale".into()],
        }),
    };
    assert_status(
        catalog(&app)
            .update_product(with_token(stale, &staff))
            .await,
        Code::Aborted,
        Some("ETAG_MISMATCH"),
    );
    let mut skus = updated.skus.clone();
    skus[0].price_fen = 1900;
    let reprice = pb::UpdateProductRequest {
        product: Some(pb::Product {
            name: latte.name.clone(),
            on_sale: true,
            skus,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["on_sale".into(), "skus".into()],
        }),
    };
    let repriced = catalog(&app)
        .update_product(with_token(reprice, &staff))
        .await
        .unwrap()
        .into_inner()
        .product
        .unwrap();
    assert_eq!(repriced.skus[0].id, latte.skus[0].id, "SKU ids are kept");
    let m3 = menu(&app, &t).await;
    assert_eq!(m3.sections[1].products[0].skus[0].price_fen, 1900);

    // A category with products cannot go; an empty one can.
    let del = pb::DeleteCategoryRequest {
        name: drinks.name.clone(),
    };
    assert_status(
        catalog(&app).delete_category(with_token(del, &staff)).await,
        Code::FailedPrecondition,
        Some("CATEGORY_NOT_EMPTY"),
    );
    let empty = category(&app, &t, "空", 9).await;
    catalog(&app)
        .delete_category(with_token(
            pb::DeleteCategoryRequest { name: empty.name },
            &staff,
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_products_are_refused_field_by_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let t = app.create_tenant("strict-shop", "restaurant").await;
    let admin = app.admin_of(tenant_id(&t));
    let c = category(&app, &t, "饮品", 0).await;
    let before = menu(&app, &t).await;
    let mut bad = product(
        &t,
        &c,
        "",
        vec![
            sku(&[("杯型", "大")], -5, Some(1)),
            sku(&[("杯型", "大")], 100, Some(-1)),
        ],
    );
    bad.product.as_mut().unwrap().image_urls = vec!["http://insecure.example/x.png".into()];
    let s = assert_status(
        catalog(&app).create_product(with_token(bad, &admin)).await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(
        violation_fields(&s),
        vec!["product.skus[0].price_fen"],
        "prices are checked first, at the edge"
    );
    let mut bad = product(
        &t,
        &c,
        "",
        vec![
            sku(&[("杯型", "大")], 500, Some(1)),
            sku(&[("杯型", "大")], 100, Some(-1)),
        ],
    );
    bad.product.as_mut().unwrap().image_urls = vec!["http://insecure.example/x.png".into()];
    let s = assert_status(
        catalog(&app).create_product(with_token(bad, &admin)).await,
        Code::InvalidArgument,
        None,
    );
    let mut fields = violation_fields(&s);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "product.display_name_zh",
            "product.image_urls[0]",
            "product.skus[1].specs",
            "product.skus[1].stock"
        ]
    );
    let no_skus = product(&t, &c, "空", vec![]);
    let s = assert_status(
        catalog(&app)
            .create_product(with_token(no_skus, &admin))
            .await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&s), vec!["product.skus"]);
    let list = catalog(&app)
        .list_products(with_token(
            pb::ListProductsRequest {
                parent: t.name.clone(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(list.products.is_empty());
    assert_eq!(menu(&app, &t).await.sections, before.sections);
}

#[tokio::test]
async fn one_tenant_cannot_touch_or_use_another_tenants_catalog() {
    let app = spawn_app().await;
    let a = app.create_tenant("cat-a", "restaurant").await;
    let b = app.create_tenant("cat-b", "restaurant").await;
    let cb = category(&app, &b, "B 的分类", 0).await;
    let pb_ = create_as_admin(
        &app,
        &b,
        product(&b, &cb, "B 的面", vec![sku(&[], 1000, Some(3))]),
    )
    .await;
    let admin_a = app.admin_of(tenant_id(&a));
    let res = catalog(&app)
        .get_product(with_token(
            pb::GetProductRequest {
                name: pb_.name.clone(),
            },
            &admin_a,
        ))
        .await;
    assert_eq!(res.unwrap_err().code(), Code::PermissionDenied);
    // A's admin cannot file a product of A under B's category either.
    let sneaky = product(&a, &cb, "偷放", vec![sku(&[], 1, Some(1))]);
    let s = assert_status(
        catalog(&app)
            .create_product(with_token(sneaky, &admin_a))
            .await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&s), vec!["product.category"]);
    assert!(menu(&app, &a).await.sections.is_empty());
}

#[tokio::test]
async fn products_page_by_category() {
    let app = spawn_app().await;
    let t = app.create_tenant("paging-shop", "restaurant").await;
    let admin = app.admin_of(tenant_id(&t));
    let c1 = category(&app, &t, "一", 0).await;
    let c2 = category(&app, &t, "二", 1).await;
    for i in 0..3 {
        catalog(&app)
            .create_product(with_token(
                product(&t, &c1, &format!("甲{i}"), vec![sku(&[], 100, None)]),
                &admin,
            ))
            .await
            .unwrap();
    }
    catalog(&app)
        .create_product(with_token(
            product(&t, &c2, "乙", vec![sku(&[], 100, None)]),
            &admin,
        ))
        .await
        .unwrap();
    let req = |token: String| pb::ListProductsRequest {
        parent: t.name.clone(),
        page_size: 2,
        page_token: token,
        category: c1.name.clone(),
    };
    let first = catalog(&app)
        .list_products(with_token(req(String::new()), &admin))
        .await
        .unwrap()
        .into_inner();
    let second = catalog(&app)
        .list_products(with_token(req(first.next_page_token.clone()), &admin))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<String> = first
        .products
        .iter()
        .chain(&second.products)
        .map(|p| p.display_name_zh.clone())
        .collect();
    assert_eq!(names, vec!["甲0", "甲1", "甲2"]);
    assert!(second.next_page_token.is_empty());
}

#[tokio::test]
async fn the_mini_program_reads_the_menu_through_the_bff() {
    let app = spawn_app().await;
    let t = app.create_tenant("bff-menu-shop", "restaurant").await;
    let admin = app.admin_of(tenant_id(&t));
    let c = category(&app, &t, "小吃", 0).await;
    catalog(&app)
        .create_product(with_token(
            product(
                &t,
                &c,
                "薯条",
                vec![
                    sku(&[("份量", "小")], 900, Some(0)),
                    sku(&[("份量", "大")], 1200, Some(3)),
                ],
            ),
            &admin,
        ))
        .await
        .unwrap();
    let (s, _, body) = app
        .get_json("/api/v1/menu", &[("x-wechat-appid", &t.wechat_appid)])
        .await;
    assert_eq!(s, 200, "{body}");
    let fries = &body["sections"][0]["products"][0];
    assert_eq!(fries["name_zh"], "薯条");
    assert_eq!(fries["skus"][0]["available"], false, "sold out");
    assert_eq!(fries["skus"][1]["price_fen"], 1200);
    let (s, _, body) = app
        .get_json("/api/v1/menu", &[("x-wechat-appid", "wxffffffffffffffff")])
        .await;
    assert_eq!((s, body["code"].as_str()), (404, Some("APP_NOT_FOUND")));
    let (_, _, doc) = app.get_json("/api/openapi.json", &[]).await;
    assert!(doc["paths"]["/api/v1/menu"]["get"].is_object());
}

/// A service token of `tenant`, as ordering will mint for itself.
fn service(app: &TestApp, t: &tpb::Tenant) -> String {
    mm_kernel::auth::service_token(&app.keys, tenant_id(t), "ordering").unwrap()
}

fn item(p: &pb::Product, sku: usize, quantity: i32) -> pb::ItemRequest {
    pb::ItemRequest {
        product: p.name.clone(),
        sku_id: p.skus[sku].id.clone(),
        quantity,
    }
}

async fn current(app: &TestApp, t: &tpb::Tenant, p: &pb::Product) -> pb::Product {
    catalog(app)
        .get_product(with_token(
            pb::GetProductRequest {
                name: p.name.clone(),
            },
            &app.admin_of(tenant_id(t)),
        ))
        .await
        .unwrap()
        .into_inner()
        .product
        .unwrap()
}

async fn stock_of(app: &TestApp, t: &tpb::Tenant, p: &pb::Product) -> Vec<i64> {
    current(app, t, p)
        .await
        .skus
        .iter()
        .map(|s| s.stock)
        .collect()
}

#[tokio::test]
async fn concurrent_reservations_never_oversell() {
    let app = spawn_app().await;
    let t = app.create_tenant("scarce-shop", "restaurant").await;
    let c = category(&app, &t, "限量", 0).await;
    let p = create_as_admin(
        &app,
        &t,
        product(&t, &c, "限量蛋糕", vec![sku(&[], 3800, Some(10))]),
    )
    .await;
    let token = service(&app, &t);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let mut client = catalog(&app);
        let req = with_token(
            pb::ReserveStockRequest {
                parent: t.name.clone(),
                reservation_id: format!("order-{i}"),
                items: vec![item(&p, 0, 1)],
            },
            &token,
        );
        tasks.push(tokio::spawn(
            async move { (i, client.reserve_stock(req).await) },
        ));
    }
    let (mut ok, mut out_of_stock) = (0, 0);
    let mut kept = Vec::new();
    for task in tasks {
        let (i, res) = task.await.unwrap();
        match res {
            Ok(_) => {
                ok += 1;
                kept.push(format!("order-{i}"));
            }
            Err(s) if s.code() == Code::FailedPrecondition => out_of_stock += 1,
            Err(s) => panic!("unexpected {s:?}"),
        }
    }
    assert_eq!((ok, out_of_stock), (10, 30));
    assert_eq!(stock_of(&app, &t, &p).await, vec![0]);
    // The reservation that sold it out kept the menu it changed, before anyone reads it.
    let (version, at) = kept_menu(&app, &t).await;
    assert_eq!(at, Some(version));
    // Products stay on the menu while sold out; their stock shows 0.
    let m = menu(&app, &t).await;
    assert_eq!(m.sections[0].products[0].skus[0].stock, 0);

    // Releasing gives back exactly once; a retried reservation takes nothing more.
    let release = |id: &str| pb::ReleaseStockRequest {
        parent: t.name.clone(),
        reservation_id: id.into(),
    };
    let released = |r: tonic::Response<pb::ReleaseStockResponse>| r.into_inner().released;
    assert!(released(
        catalog(&app)
            .release_stock(with_token(release(&kept[0]), &token))
            .await
            .unwrap()
    ));
    assert!(!released(
        catalog(&app)
            .release_stock(with_token(release(&kept[0]), &token))
            .await
            .unwrap()
    ));
    assert!(!released(
        catalog(&app)
            .release_stock(with_token(release("never-made"), &token))
            .await
            .unwrap()
    ));
    assert_eq!(stock_of(&app, &t, &p).await, vec![1]);
    let (version, at) = kept_menu(&app, &t).await;
    assert_eq!(at, Some(version), "the release kept the menu it changed");
    assert!(
        menu(&app, &t).await.version > m.version,
        "back in stock refreshes the menu"
    );
    let again = pb::ReserveStockRequest {
        parent: t.name.clone(),
        reservation_id: kept[1].clone(),
        items: vec![item(&p, 0, 1)],
    };
    catalog(&app)
        .reserve_stock(with_token(again.clone(), &token))
        .await
        .unwrap();
    assert_eq!(
        stock_of(&app, &t, &p).await,
        vec![1],
        "a retry of a kept reservation takes nothing"
    );

    // Taken off sale since, the product is still what a retry of a kept reservation answers: its
    // caller must learn that the stock was taken, not that nothing was.
    let admin = app.admin_of(tenant_id(&t));
    let etag = current(&app, &t, &p).await.etag;
    catalog(&app)
        .update_product(with_token(
            pb::UpdateProductRequest {
                product: Some(pb::Product {
                    name: p.name.clone(),
                    on_sale: false,
                    etag,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["on_sale".into()],
                }),
            },
            &admin,
        ))
        .await
        .unwrap();
    let replayed = catalog(&app)
        .reserve_stock(with_token(again.clone(), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replayed.items.len(), 1, "{replayed:?}");
    assert_status(
        catalog(&app)
            .reserve_stock(with_token(
                pb::ReserveStockRequest {
                    reservation_id: "after-off-sale".into(),
                    ..again
                },
                &token,
            ))
            .await,
        Code::FailedPrecondition,
        Some("NOT_ON_SALE"),
    );
    assert_eq!(stock_of(&app, &t, &p).await, vec![1]);
}

/// Copies of one reservation arriving together (a caller retrying before its first answer) share
/// the shop's grouped writes: whichever copy starts the reservation takes the stock, and every copy
/// answers what it took.
#[tokio::test]
async fn concurrent_copies_of_one_reservation_take_stock_once() {
    let app = spawn_app().await;
    let t = app.create_tenant("retry-shop", "restaurant").await;
    let c = category(&app, &t, "限量", 0).await;
    let p = create_as_admin(
        &app,
        &t,
        product(&t, &c, "限量月饼", vec![sku(&[], 2800, Some(100))]),
    )
    .await;
    let token = service(&app, &t);
    let calls = (0..24).map(|i| {
        let mut client = catalog(&app);
        // Other reservations of the shop among the copies, so they share groups.
        let id = if i % 3 == 0 {
            format!("other-{i}")
        } else {
            "order-twice".into()
        };
        let req = with_token(
            pb::ReserveStockRequest {
                parent: t.name.clone(),
                reservation_id: id,
                items: vec![item(&p, 0, 2)],
            },
            &token,
        );
        tokio::spawn(async move { client.reserve_stock(req).await })
    });
    let answers = futures::future::join_all(calls).await;
    for a in answers {
        let items = a
            .unwrap()
            .expect("every copy answers what it took")
            .into_inner()
            .items;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].quantity, 2);
    }
    // 8 other reservations and the one made 16 times, 2 each.
    assert_eq!(stock_of(&app, &t, &p).await, vec![100 - 9 * 2]);
}

#[tokio::test]
async fn a_reservation_takes_all_items_or_none() {
    let app = spawn_app().await;
    let t = app.create_tenant("atomic-shop", "restaurant").await;
    let c = category(&app, &t, "套餐", 0).await;
    let p = create_as_admin(
        &app,
        &t,
        product(
            &t,
            &c,
            "套餐",
            vec![
                sku(&[("份", "A")], 1000, Some(5)),
                sku(&[("份", "B")], 1000, Some(1)),
            ],
        ),
    )
    .await;
    let token = service(&app, &t);
    let req = pb::ReserveStockRequest {
        parent: t.name.clone(),
        reservation_id: "big".into(),
        items: vec![item(&p, 0, 2), item(&p, 1, 2)],
    };
    let s = assert_status(
        catalog(&app).reserve_stock(with_token(req, &token)).await,
        Code::FailedPrecondition,
        Some("OUT_OF_STOCK"),
    );
    assert!(s.message().contains("not enough stock"));
    assert_eq!(
        stock_of(&app, &t, &p).await,
        vec![5, 1],
        "nothing half taken"
    );

    // Prices come from the catalog: what a client thinks a SKU costs does not matter.
    let resolved = catalog(&app)
        .resolve_items(with_token(
            pb::ResolveItemsRequest {
                parent: t.name.clone(),
                items: vec![item(&p, 0, 3)],
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .items;
    assert_eq!(
        (resolved[0].unit_price_fen, resolved[0].available),
        (1000, true)
    );
    let bad = pb::ResolveItemsRequest {
        parent: t.name.clone(),
        items: vec![item(&p, 0, 0)],
    };
    let s = assert_status(
        catalog(&app).resolve_items(with_token(bad, &token)).await,
        Code::InvalidArgument,
        None,
    );
    assert_eq!(violation_fields(&s), vec!["items[0].quantity"]);
    // A customer cannot take stock directly.
    let customer = app.token(Role::Customer, Some(tenant_id(&t)), &[]);
    let req = pb::ReserveStockRequest {
        parent: t.name.clone(),
        reservation_id: "sneaky".into(),
        items: vec![item(&p, 0, 1)],
    };
    assert_eq!(
        catalog(&app)
            .reserve_stock(with_token(req, &customer))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
}

/// The BFF holds the rendered menu and answers an unchanged one with 304; a catalog write through
/// one instance drops it in another through Redis, so the next read there shows the change.
/// Always on PostgreSQL + Redis, whatever MM_TEST_BACKEND says: that is the deployment it describes.
#[tokio::test]
async fn the_bff_menu_is_revalidated_by_etag_and_dropped_on_change_in_every_instance() {
    let (_storage, one, two) = crate::helpers::two_instances().await;
    let t = one.create_tenant("menu-cache-shop", "restaurant").await;
    let admin = one.admin_of(tenant_id(&t));
    let c = category(&one, &t, "小吃", 0).await;
    catalog(&one)
        .create_product(with_token(
            product(&t, &c, "薯条", vec![sku(&[], 900, None)]),
            &admin,
        ))
        .await
        .unwrap();
    let appid = t.wechat_appid.as_str();
    let names = |body: &serde_json::Value| -> Vec<String> {
        body["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["products"].as_array().cloned().unwrap_or_default())
            .map(|p| p["name_zh"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let (s, headers, body) = two
        .get_json("/api/v1/menu", &[("x-wechat-appid", appid)])
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(names(&body), vec!["薯条"]);
    let etag = headers["etag"].to_str().unwrap().to_string();
    let (s, _, body) = two
        .get_json(
            "/api/v1/menu",
            &[("x-wechat-appid", appid), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!((s, body), (304, serde_json::Value::Null), "unchanged: 304");

    catalog(&one)
        .create_product(with_token(
            product(&t, &c, "可乐", vec![sku(&[], 500, None)]),
            &admin,
        ))
        .await
        .unwrap();
    // Pub/sub is asynchronous: read again (bounded) until the other instance has heard of it.
    let seen = crate::helpers::read_until(
        || async {
            let (s, h, body) = two
                .get_json(
                    "/api/v1/menu",
                    &[("x-wechat-appid", appid), ("if-none-match", &etag)],
                )
                .await;
            let tag = h
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            (s, tag, body)
        },
        |(s, _, _)| *s == 200,
    )
    .await;
    let (s, new_etag, body) = seen;
    assert_eq!(s, 200, "the change reached the other instance");
    assert_ne!(new_etag, etag);
    let mut got = names(&body);
    got.sort();
    assert_eq!(got, vec!["可乐", "薯条"]);
}

/// Shops opened and stocked at the same moment (an operator's script; several staff editing one
/// menu): every write waits its turn and lands, none is refused as "database unavailable". On
/// SQLite a write transaction that read first could not take the write lock once another writer
/// had committed meanwhile, and failed at once (found by the menu benchmark opening 64 shops).
#[tokio::test]
async fn concurrent_shop_openings_and_menu_edits_all_land() {
    let app = spawn_app().await;
    // Sent together over the one channel, so their transactions interleave in the server.
    let slugs: Vec<String> = (0..12).map(|i| format!("rush-shop-{i}")).collect();
    let shops =
        futures::future::join_all(slugs.iter().map(|s| app.create_tenant(s, "restaurant"))).await;
    let t = &shops[0];
    let c = category(&app, t, "主食", 0).await;
    let token = app.admin_of(tenant_id(t));
    let edits = (0..16).map(|i| {
        let mut client = catalog(&app);
        let req = with_token(
            product(t, &c, &format!("菜品 {i}"), vec![sku(&[], 1000 + i, None)]),
            &token,
        );
        tokio::spawn(async move { client.create_product(req).await })
    });
    for edit in futures::future::join_all(edits).await {
        edit.unwrap().expect("every edit lands");
    }
    let on_menu: usize = menu(&app, t)
        .await
        .sections
        .iter()
        .map(|s| s.products.len())
        .sum();
    assert_eq!(on_menu, 16);
}

/// The tenant's menu version and the version of the menu kept beside it in its state row (the
/// first eight bytes of the entry).
async fn kept_menu(app: &TestApp, t: &tpb::Tenant) -> (i64, Option<i64>) {
    let rows = sql_rows(
        app,
        &format!(
            "SELECT menu_version, menu FROM catalog_state WHERE tenant_id = '{}'",
            tenant_id(t)
        ),
    )
    .await;
    let version: i64 = rows[0].try_get("", "menu_version").unwrap();
    let entry: Option<Vec<u8>> = rows[0].try_get("", "menu").unwrap();
    let at = entry.and_then(|e| {
        e.get(..8)
            .map(|b| i64::from_be_bytes(b.try_into().unwrap()))
    });
    (version, at)
}

fn product_names(m: &pb::Menu) -> Vec<String> {
    m.sections
        .iter()
        .flat_map(|s| &s.products)
        .map(|p| p.display_name_zh.clone())
        .collect()
}

/// Each change renders the menu into the tenant's state row in its own transaction, so a read is
/// one row. During a rolling upgrade an instance of the release before changes the menu without
/// rendering it: the next read must not answer the kept (older) menu but render it from the
/// rows, and keep that one for the reader after.
#[tokio::test]
async fn a_change_keeps_its_menu_and_a_change_without_one_is_rendered_from_the_rows() {
    let app = spawn_app().await;
    let t = app.create_tenant("kept-menu", "restaurant").await;
    let c = category(&app, &t, "咖啡", 0).await;
    let p = create_as_admin(
        &app,
        &t,
        product(&t, &c, "拿铁", vec![sku(&[], 1800, None)]),
    )
    .await;
    // The write kept the menu it made: before anyone reads it, the row holds it at its version.
    let (version, at) = kept_menu(&app, &t).await;
    assert_eq!(at, Some(version));
    let before = menu(&app, &t).await;
    assert_eq!(before.version, version);
    assert!(product_names(&before).contains(&"拿铁".to_string()));

    let product_id = p.name.rsplit('/').next().unwrap();
    let changed = sql_exec(
        &app,
        &format!(
            "UPDATE catalog_products SET display_name_zh = '美式' \
             WHERE tenant_id = '{}' AND product_id = '{product_id}'",
            tenant_id(&t)
        ),
    )
    .await;
    assert_eq!(changed, 1);
    sql_exec(
        &app,
        &format!(
            "UPDATE catalog_state SET menu_version = menu_version + 1 WHERE tenant_id = '{}'",
            tenant_id(&t)
        ),
    )
    .await;
    assert_eq!(kept_menu(&app, &t).await, (version + 1, Some(version)));

    let after = menu(&app, &t).await;
    assert_eq!(after.version, before.version + 1);
    let names = product_names(&after);
    assert!(names.contains(&"美式".to_string()), "{names:?}");
    assert!(!names.contains(&"拿铁".to_string()), "{names:?}");
    assert_eq!(
        kept_menu(&app, &t).await,
        (after.version, Some(after.version))
    );
    assert_eq!(menu(&app, &t).await, after);
}
