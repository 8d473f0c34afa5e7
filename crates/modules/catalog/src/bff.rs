//! The published menu for the mini-program: categories in order, products on sale, SKUs with
//! prices in fen. The tenant is the one the mini-program's appid names.
//!
//! Like the boot call, the rendered JSON is held in this process per tenant (and so per menu
//! version: every catalog change bumps the version and announces the tenant as changed), dropped
//! by the cache's invalidation events, which Redis carries to every instance, and revalidated
//! with an ETag naming the version.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use mm_kernel::cache::Cache;
use mm_kernel::held::Held;
use mm_kernel::names::tenant_name;
use mm_proto::minimodules::catalog::v1 as pb;
use serde::Serialize;
use utoipa::ToSchema;

use mm_bff::error::{ApiError, ErrorBody};
use mm_bff::extract::Query;
use mm_bff::routes::app::{AppConfigQuery, rendered, tenant_of};
use mm_bff::wire::id_of;

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

/// A rendered menu.
#[derive(Clone)]
pub struct CachedMenu {
    etag: HeaderValue,
    body: Bytes,
}

/// Rendered menus per tenant, dropped when the tenant changes (in this process or, through
/// Redis, in another): `mm_kernel::held`.
pub type MenuCache = Held<CachedMenu>;

/// A new menu cache following `cache`'s announcements; `ttl` bounds how long a menu is held
/// should an announcement be lost (a Redis reconnect).
pub fn menu_cache(cache: &Cache, ttl: Duration) -> MenuCache {
    Held::new(cache, ttl, 10_000)
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
                    id: id_of(&c.name),
                    name_zh: c.display_name_zh,
                    name_en: c.display_name_en,
                    products: s
                        .products
                        .into_iter()
                        .map(|p| MenuProductDto {
                            id: id_of(&p.name),
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
    responses((status = 200, body = MenuDto), (status = 304, description = "Unchanged since the ETag sent"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_menu(
    State(state): State<Arc<Shared>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    if let Some(hit) = state.menus.get(&tenant.to_string()) {
        return Ok(rendered(&hit.etag, &hit.body, &headers));
    }
    let ticket = state.menus.ticket();
    let parent = tenant_name(tenant);
    let req = mm_bff::forward(&headers, pb::GetMenuRequest { parent });
    let menu = state
        .catalog
        .clone()
        .get_menu(req)
        .await?
        .into_inner()
        .menu
        .unwrap_or_default();
    let etag = HeaderValue::from_str(&format!("W/\"{tenant}-m{}\"", menu.version))
        .unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""));
    let body = serde_json::to_vec(&to_dto(menu)).map_err(|e| {
        ApiError::from(tonic::Status::internal(format!(
            "encoding the menu failed: {e}"
        )))
    })?;
    let entry = CachedMenu {
        etag,
        body: Bytes::from(body),
    };
    state.menus.fill(
        ticket,
        tenant.to_string(),
        tenant.to_string(),
        entry.clone(),
    );
    Ok(rendered(&entry.etag, &entry.body, &headers))
}

/// This module's own route state: its client and rendered menus.
pub struct Own {
    catalog: pb::catalog_service_client::CatalogServiceClient<mm_kernel::platform::Platform>,
    /// Rendered menus.
    menus: MenuCache,
}

type Shared = mm_bff::ModuleState<Own>;

/// This module's part of the BFF: its routes and their OpenAPI document.
pub fn def() -> mm_kernel::module::BffDef {
    mm_kernel::module::BffDef {
        routes: |host| {
            mm_bff::module_routes(
                host,
                |bff| Own {
                    catalog: pb::catalog_service_client::CatalogServiceClient::new(
                        bff.channel.clone(),
                    ),
                    menus: menu_cache(&bff.cache, bff.boot_ttl),
                },
                router(),
            )
        },
        openapi: <ApiDoc as utoipa::OpenApi>::openapi,
    }
}

/// The OpenAPI paths and schemas of this module's routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(get_menu),
    components(schemas(MenuDto, MenuSectionDto, MenuProductDto, SkuDto, SpecDto))
)]
struct ApiDoc;

/// Routes of this module.
fn router() -> Router<Arc<Shared>> {
    Router::new().route("/api/v1/menu", get(get_menu))
}
