//! The demo shop's menu: a few drinks and mains, some with limited stock, so the demo
//! mini-program has something to order.

use mm_kernel::RequestContext;
use mm_kernel::module::{DemoShop, ModuleContext};

/// Seeds the menu unless the shop has categories already.
pub fn seed<'a>(
    ctx: &'a ModuleContext,
    shop: &'a DemoShop,
) -> futures::future::BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(seed_menu(ctx, shop))
}

async fn seed_menu(ctx: &ModuleContext, shop: &DemoShop) -> anyhow::Result<()> {
    use crate::domain::{Fen, SkuInput, Spec};
    use crate::service::{CategoryInput, ProductInput};
    let catalog = crate::CatalogApp::new(ctx.db.clone(), ctx.cache.clone());
    let system = RequestContext::system("demo-seed");
    let tenant = shop.tenant;
    if !catalog.list_categories(&system, tenant).await?.is_empty() {
        return Ok(());
    }
    let sku = |values: &[(&str, &str)], fen: i64, stock: Option<i64>| SkuInput {
        id: None,
        specs: values
            .iter()
            .map(|(s, v)| Spec {
                spec: (*s).into(),
                value: (*v).into(),
            })
            .collect(),
        price: Fen::parse(fen, "price", &mut Vec::new()),
        stock,
    };
    let menu = [
        (
            "招牌饮品",
            "Signature drinks",
            vec![
                (
                    "生椰拿铁",
                    "Coconut latte",
                    vec![
                        sku(&[("杯型", "中杯"), ("温度", "冰")], 1800, Some(100)),
                        sku(&[("杯型", "大杯"), ("温度", "冰")], 2200, Some(100)),
                        sku(&[("杯型", "大杯"), ("温度", "热")], 2200, None),
                    ],
                ),
                (
                    "柠檬茶",
                    "Lemon tea",
                    vec![
                        sku(&[("甜度", "少糖")], 1200, None),
                        sku(&[("甜度", "正常糖")], 1200, None),
                    ],
                ),
            ],
        ),
        (
            "主食",
            "Mains",
            vec![
                (
                    "红烧牛肉面",
                    "Braised beef noodles",
                    vec![
                        sku(&[("辣度", "微辣")], 3200, Some(50)),
                        sku(&[("辣度", "特辣")], 3200, Some(50)),
                    ],
                ),
                (
                    "扬州炒饭",
                    "Yangzhou fried rice",
                    vec![sku(&[], 2600, None)],
                ),
            ],
        ),
    ];
    for (order, (zh, en, products)) in menu.into_iter().enumerate() {
        let category = catalog
            .create_category(
                &system,
                tenant,
                CategoryInput {
                    display_name_zh: Some(zh.into()),
                    display_name_en: Some(en.into()),
                    sort_order: Some(i32::try_from(order).unwrap_or(0)),
                },
            )
            .await?;
        for (name_zh, name_en, skus) in products {
            catalog
                .create_product(
                    &system,
                    tenant,
                    ProductInput {
                        category_id: Some(category.category_id.clone()),
                        display_name_zh: Some(name_zh.into()),
                        display_name_en: Some(name_en.into()),
                        on_sale: Some(true),
                        skus: Some(skus),
                        ..ProductInput::default()
                    },
                )
                .await?;
        }
    }
    Ok(())
}
