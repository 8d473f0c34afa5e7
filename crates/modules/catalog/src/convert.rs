//! Rows to proto messages and proto input to domain input.

use mm_kernel::error::FieldViolation;
use mm_kernel::json::timestamp as ts;
use mm_kernel::names::name_of;
use mm_proto::minimodules::catalog::v1 as pb;

use crate::domain::{Fen, SkuInput, Spec};
use crate::entity::{categories, products, skus};
use crate::names::{Categories, Products};

/// The etag of a product version.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// A category to proto.
pub fn category(c: &categories::Model) -> pb::Category {
    pb::Category {
        name: name_of::<Categories>(c.tenant_id, &c.category_id),
        display_name_zh: c.display_name_zh.clone(),
        display_name_en: c.display_name_en.clone(),
        sort_order: c.sort_order,
        create_time: Some(ts(c.created_at)),
        update_time: Some(ts(c.updated_at)),
    }
}

/// A product with its SKUs to proto.
pub fn product(p: &products::Model, s: &[skus::Model]) -> pb::Product {
    pb::Product {
        name: name_of::<Products>(p.tenant_id, &p.product_id),
        category: name_of::<Categories>(p.tenant_id, &p.category_id),
        display_name_zh: p.display_name_zh.clone(),
        display_name_en: p.display_name_en.clone(),
        description: p.description.clone(),
        image_urls: serde_json::from_str(&p.image_urls).unwrap_or_default(),
        tags: serde_json::from_str(&p.tags).unwrap_or_default(),
        on_sale: p.on_sale,
        sort_order: p.sort_order,
        skus: s
            .iter()
            .map(|k| pb::Sku {
                id: k.sku_id.clone(),
                specs: serde_json::from_str::<Vec<Spec>>(&k.specs)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|sp| pb::SpecValue {
                        spec: sp.spec,
                        value: sp.value,
                    })
                    .collect(),
                price_fen: k.price_fen,
                stock: k.stock.unwrap_or(0),
                unlimited: k.stock.is_none(),
            })
            .collect(),
        create_time: Some(ts(p.created_at)),
        update_time: Some(ts(p.updated_at)),
        etag: etag(p.version),
    }
}

/// Proto SKUs to domain input; price problems are collected into `v`.
pub fn sku_inputs(skus: Vec<pb::Sku>, v: &mut Vec<FieldViolation>) -> Vec<SkuInput> {
    skus.into_iter()
        .enumerate()
        .map(|(i, s)| {
            let pb::Sku {
                id,
                specs,
                price_fen,
                stock,
                unlimited,
            } = s;
            SkuInput {
                id: (!id.is_empty()).then_some(id),
                specs: specs
                    .into_iter()
                    .map(|sp| Spec {
                        spec: sp.spec,
                        value: sp.value,
                    })
                    .collect(),
                price: Fen::parse(price_fen, &format!("product.skus[{i}].price_fen"), v),
                stock: (!unlimited).then_some(stock),
            }
        })
        .collect()
}
