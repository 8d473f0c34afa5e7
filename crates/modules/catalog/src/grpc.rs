//! tonic handlers: read the context, parse names, call the use case, convert back.

use mm_kernel::error::RequestError;
use mm_kernel::ids::tenant_from_name;
use mm_kernel::{RequestContext, TenantId};
use mm_proto::minimodules::catalog::v1 as pb;
use pb::catalog_service_server::CatalogService;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::names::{CategoryName, ProductName};
use crate::service::{CatalogApp, CategoryInput, ItemRef, ProductInput};

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> Reply<T> {
    Ok(Response::new(v))
}

fn mask(m: Option<prost_types::FieldMask>) -> Result<Vec<String>, RequestError> {
    let paths = m.map(|m| m.paths).unwrap_or_default();
    if paths.is_empty() {
        return Err(RequestError::invalid(
            "update_mask",
            "name the fields to change",
        ));
    }
    Ok(paths)
}

fn category_of(tenant: TenantId, name: &str, field: &str) -> Result<String, RequestError> {
    let (t, id) = CategoryName::parse(name, field)?.into_parts();
    if t != tenant {
        return Err(RequestError::invalid(
            field,
            "the category belongs to another tenant",
        ));
    }
    Ok(id)
}

/// Parses items: at most 100, quantities 1 to 999, products of this tenant; the same SKU twice is
/// merged so stock is taken once per SKU.
fn items(tenant: TenantId, items: &[pb::ItemRequest]) -> Result<Vec<ItemRef>, RequestError> {
    if items.is_empty() || items.len() > 100 {
        return Err(RequestError::invalid("items", "1 to 100 items"));
    }
    let mut out: Vec<ItemRef> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let (t, product_id) =
            ProductName::parse(&it.product, &format!("items[{i}].product"))?.into_parts();
        if t != tenant {
            return Err(RequestError::invalid(
                format!("items[{i}].product"),
                "the product belongs to another tenant",
            ));
        }
        if !(1..=999).contains(&it.quantity) {
            return Err(RequestError::invalid(
                format!("items[{i}].quantity"),
                "must be 1 to 999",
            ));
        }
        if it.sku_id.is_empty() || it.sku_id.len() > 36 {
            return Err(RequestError::invalid(
                format!("items[{i}].sku_id"),
                "is required",
            ));
        }
        match out
            .iter_mut()
            .find(|o| o.product_id == product_id && o.sku_id == it.sku_id)
        {
            Some(o) => o.quantity += i64::from(it.quantity),
            None => out.push(ItemRef {
                product_id,
                sku_id: it.sku_id.clone(),
                quantity: i64::from(it.quantity),
            }),
        }
    }
    Ok(out)
}

#[tonic::async_trait]
impl CatalogService for CatalogApp {
    async fn resolve_items(
        &self,
        req: Request<pb::ResolveItemsRequest>,
    ) -> Reply<pb::ResolveItemsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let resolved = self
            .resolve_items(&ctx, tenant, &items(tenant, &r.items)?)
            .await?;
        ok(pb::ResolveItemsResponse { items: resolved })
    }

    async fn reserve_stock(
        &self,
        req: Request<pb::ReserveStockRequest>,
    ) -> Reply<pb::ReserveStockResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        if r.reservation_id.is_empty() || r.reservation_id.len() > 64 {
            return Err(RequestError::invalid("reservation_id", "1 to 64 characters").into());
        }
        let taken = self
            .reserve_stock(&ctx, tenant, &r.reservation_id, &items(tenant, &r.items)?)
            .await?;
        ok(pb::ReserveStockResponse { items: taken })
    }

    async fn release_stock(
        &self,
        req: Request<pb::ReleaseStockRequest>,
    ) -> Reply<pb::ReleaseStockResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let released = self.release_stock(&ctx, tenant, &r.reservation_id).await?;
        ok(pb::ReleaseStockResponse { released })
    }

    async fn create_category(
        &self,
        req: Request<pb::CreateCategoryRequest>,
    ) -> Reply<pb::CreateCategoryResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let c = r.category.unwrap_or_default();
        let input = CategoryInput {
            display_name_zh: Some(c.display_name_zh),
            display_name_en: Some(c.display_name_en),
            sort_order: Some(c.sort_order),
        };
        let row = self.create_category(&ctx, tenant, input).await?;
        ok(pb::CreateCategoryResponse {
            category: Some(convert::category(&row)),
        })
    }

    async fn list_categories(
        &self,
        req: Request<pb::ListCategoriesRequest>,
    ) -> Reply<pb::ListCategoriesResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let tenant = tenant_from_name(&req.get_ref().parent, "parent")?;
        let rows = self.list_categories(&ctx, tenant).await?;
        ok(pb::ListCategoriesResponse {
            categories: rows.iter().map(convert::category).collect(),
        })
    }

    async fn update_category(
        &self,
        req: Request<pb::UpdateCategoryRequest>,
    ) -> Reply<pb::UpdateCategoryResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let c = r.category.unwrap_or_default();
        let (tenant, id) = CategoryName::parse(&c.name, "category.name")?.into_parts();
        let mut input = CategoryInput::default();
        for p in mask(r.update_mask)? {
            match p.as_str() {
                "display_name_zh" => input.display_name_zh = Some(c.display_name_zh.clone()),
                "display_name_en" => input.display_name_en = Some(c.display_name_en.clone()),
                "sort_order" => input.sort_order = Some(c.sort_order),
                other => {
                    return Err(RequestError::invalid(
                        "update_mask",
                        format!("unknown or read-only field {other:?}"),
                    )
                    .into());
                }
            }
        }
        let row = self.update_category(&ctx, tenant, &id, input).await?;
        ok(pb::UpdateCategoryResponse {
            category: Some(convert::category(&row)),
        })
    }

    async fn delete_category(
        &self,
        req: Request<pb::DeleteCategoryRequest>,
    ) -> Reply<pb::DeleteCategoryResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, id) = CategoryName::parse(&req.get_ref().name, "name")?.into_parts();
        self.delete_category(&ctx, tenant, &id).await?;
        ok(pb::DeleteCategoryResponse {})
    }

    async fn create_product(
        &self,
        req: Request<pb::CreateProductRequest>,
    ) -> Reply<pb::CreateProductResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let p = r
            .product
            .ok_or_else(|| RequestError::invalid("product", "is required"))?;
        let mut v = Vec::new();
        let skus = convert::sku_inputs(p.skus, &mut v);
        if !v.is_empty() {
            return Err(RequestError::Invalid(v).into());
        }
        let input = ProductInput {
            category_id: Some(category_of(tenant, &p.category, "product.category")?),
            display_name_zh: Some(p.display_name_zh),
            display_name_en: Some(p.display_name_en),
            description: Some(p.description),
            image_urls: Some(p.image_urls),
            tags: Some(p.tags),
            on_sale: Some(p.on_sale),
            sort_order: Some(p.sort_order),
            skus: Some(skus),
        };
        let (row, skus) = self.create_product(&ctx, tenant, input).await?;
        ok(pb::CreateProductResponse {
            product: Some(convert::product(&row, &skus)),
        })
    }

    async fn get_product(
        &self,
        req: Request<pb::GetProductRequest>,
    ) -> Reply<pb::GetProductResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, id) = ProductName::parse(&req.get_ref().name, "name")?.into_parts();
        let (row, skus) = self.get_product(&ctx, tenant, &id).await?;
        ok(pb::GetProductResponse {
            product: Some(convert::product(&row, &skus)),
        })
    }

    async fn list_products(
        &self,
        req: Request<pb::ListProductsRequest>,
    ) -> Reply<pb::ListProductsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let tenant = tenant_from_name(&r.parent, "parent")?;
        let category = if r.category.is_empty() {
            None
        } else {
            Some(category_of(tenant, &r.category, "category")?)
        };
        let (rows, next) = self
            .list_products(
                &ctx,
                tenant,
                r.page_size,
                &r.page_token,
                category.as_deref(),
            )
            .await?;
        ok(pb::ListProductsResponse {
            products: rows.iter().map(|(p, s)| convert::product(p, s)).collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn update_product(
        &self,
        req: Request<pb::UpdateProductRequest>,
    ) -> Reply<pb::UpdateProductResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let p = r
            .product
            .ok_or_else(|| RequestError::invalid("product", "is required"))?;
        let (tenant, id) = ProductName::parse(&p.name, "product.name")?.into_parts();
        let mut input = ProductInput::default();
        let mut v = Vec::new();
        for path in mask(r.update_mask)? {
            match path.as_str() {
                "category" => {
                    input.category_id = Some(category_of(tenant, &p.category, "product.category")?)
                }
                "display_name_zh" => input.display_name_zh = Some(p.display_name_zh.clone()),
                "display_name_en" => input.display_name_en = Some(p.display_name_en.clone()),
                "description" => input.description = Some(p.description.clone()),
                "image_urls" => input.image_urls = Some(p.image_urls.clone()),
                "tags" => input.tags = Some(p.tags.clone()),
                "on_sale" => input.on_sale = Some(p.on_sale),
                "sort_order" => input.sort_order = Some(p.sort_order),
                "skus" => input.skus = Some(convert::sku_inputs(p.skus.clone(), &mut v)),
                other => {
                    return Err(RequestError::invalid(
                        "update_mask",
                        format!("unknown or read-only field {other:?}"),
                    )
                    .into());
                }
            }
        }
        if !v.is_empty() {
            return Err(RequestError::Invalid(v).into());
        }
        let (row, skus) = self
            .update_product(&ctx, tenant, &id, input, &p.etag)
            .await?;
        ok(pb::UpdateProductResponse {
            product: Some(convert::product(&row, &skus)),
        })
    }

    async fn delete_product(
        &self,
        req: Request<pb::DeleteProductRequest>,
    ) -> Reply<pb::DeleteProductResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, id) = ProductName::parse(&req.get_ref().name, "name")?.into_parts();
        self.delete_product(&ctx, tenant, &id).await?;
        ok(pb::DeleteProductResponse {})
    }

    async fn get_menu(&self, req: Request<pb::GetMenuRequest>) -> Reply<pb::GetMenuResponse> {
        let tenant = tenant_from_name(&req.get_ref().parent, "parent")?;
        let menu = self.menu(tenant).await?;
        ok(pb::GetMenuResponse { menu: Some(menu) })
    }
}
