//! The published menu for the mini-program: categories in order, products on sale, SKUs with
//! prices in fen. The tenant is the one the mini-program's appid names.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use mm_proto::minimodules::catalog::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

use crate::BffState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Query};
use crate::routes::app::{AppConfigQuery, tenant_of};

/// One sellable variant.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkuDto {
    /// SKU id (send it when ordering).
    pub id: String,
    /// Spec values, e.g. {"杯型": "大杯"}.
    pub specs: Vec<SpecDto>,
    /// Price in fen.
    pub price_fen: i64,
    /// Whether it can be bought now (in stock or unlimited).
    pub available: bool,
}

/// A spec value.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecDto {
    /// Spec name.
    pub spec: String,
    /// Value.
    pub value: String,
}

/// A product on the menu.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuProductDto {
    /// Product id.
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Description.
    pub description: String,
    /// Images, cover first.
    pub image_urls: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Variants.
    pub skus: Vec<SkuDto>,
}

/// A category and its products.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuSectionDto {
    /// Category id.
    pub id: String,
    /// Name in Chinese.
    pub name_zh: String,
    /// Name in English.
    pub name_en: String,
    /// Products.
    pub products: Vec<MenuProductDto>,
}

/// The menu.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuDto {
    /// Sections in order.
    pub sections: Vec<MenuSectionDto>,
    /// Changes whenever the menu changes.
    pub version: i64,
}

fn last(name: &str) -> String {
    name.rsplit('/').next().unwrap_or_default().to_string()
}

fn to_dto(m: pb::Menu) -> MenuDto {
    MenuDto {
        version: m.version,
        sections: m
            .sections
            .into_iter()
            .map(|s| {
                let c = s.category.unwrap_or_default();
                MenuSectionDto {
                    id: last(&c.name),
                    name_zh: c.display_name_zh,
                    name_en: c.display_name_en,
                    products: s
                        .products
                        .into_iter()
                        .map(|p| MenuProductDto {
                            id: last(&p.name),
                            name_zh: p.display_name_zh,
                            name_en: p.display_name_en,
                            description: p.description,
                            image_urls: p.image_urls,
                            tags: p.tags,
                            skus: p
                                .skus
                                .into_iter()
                                .map(|k| SkuDto {
                                    id: k.id,
                                    specs: k
                                        .specs
                                        .into_iter()
                                        .map(|s| SpecDto {
                                            spec: s.spec,
                                            value: s.value,
                                        })
                                        .collect(),
                                    price_fen: k.price_fen,
                                    available: k.unlimited || k.stock > 0,
                                })
                                .collect(),
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

/// The published menu of the calling mini-program's tenant.
#[utoipa::path(get, path = "/api/v1/menu", tag = "catalog",
    params(AppConfigQuery, ("X-WeChat-Appid" = Option<String>, Header, description = "The mini-program's appid")),
    responses((status = 200, body = MenuDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_menu(
    State(state): State<Arc<BffState>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<MenuDto>, ApiError> {
    let tenant = tenant_of(&state, &query, &headers).await?;
    let req = crate::forward(
        &headers,
        pb::GetMenuRequest {
            parent: format!("tenants/{tenant}"),
        },
    );
    let menu = state
        .catalog
        .clone()
        .get_menu(req)
        .await?
        .into_inner()
        .menu
        .unwrap_or_default();
    Ok(Json(to_dto(menu)))
}

/// Routes of this file.
pub fn router() -> Router<Arc<BffState>> {
    Router::new().route("/api/v1/menu", get(get_menu))
}
