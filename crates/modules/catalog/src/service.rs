//! Use cases of the catalog module: category and product administration, each write one
//! transaction that first bumps the tenant's menu version and last renders the published menu
//! into the tenant's state row beside that version, so a menu read is one row and never stale.
//!
//! Every use case first gets the tenant's [`TenantScope`] (by authorizing the caller, or, for the
//! public menu, from a named [`SystemScope`]) and runs its queries, reads included, in
//! transactions the scope opens, which PostgreSQL's row-level security requires.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use mm_kernel::cache::Cache;
use mm_kernel::error::{FieldViolation, RequestError};
use mm_kernel::names::name_of;
use mm_kernel::{RequestContext, ScopedTxn, SystemScope, TenantId, TenantScope};
use mm_proto::minimodules::catalog::v1 as pb;
use prost::Message as _;
use sea_orm::DatabaseConnection;

use crate::domain::{self, SkuInput};
use crate::entity::{categories, products, skus};
use crate::error::{CatalogError, Result};
use crate::names::Products;
use crate::repo;

/// A category as given.
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    /// Chinese name.
    pub display_name_zh: Option<String>,
    /// English name.
    pub display_name_en: Option<String>,
    /// Sort order.
    pub sort_order: Option<i32>,
}

/// A product as given; on update, `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    /// Category id.
    pub category_id: Option<String>,
    /// Chinese name.
    pub display_name_zh: Option<String>,
    /// English name.
    pub display_name_en: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Images.
    pub image_urls: Option<Vec<String>>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// On sale.
    pub on_sale: Option<bool>,
    /// Sort order.
    pub sort_order: Option<i32>,
    /// SKUs (replace all).
    pub skus: Option<Vec<SkuInput>>,
}

/// A product with its SKUs.
pub type ProductView = (products::Model, Vec<skus::Model>);

/// The catalog module's application service.
#[derive(Clone, Debug)]
pub struct CatalogApp {
    db: DatabaseConnection,
    cache: Arc<Cache>,
    writes: Arc<Writes>,
}

/// Writes grouped with those of other requests of the shop at the same step
/// (`mm_kernel::group`).
#[derive(Debug)]
struct Writes {
    /// Stock taken for orders: the batch's ids in one insert ([`reserve_all`]).
    reserve: mm_kernel::group::Batch<Reserve, Reserved, CatalogError>,
}

/// A reservation's input to its grouped write.
struct Reserve {
    reservation: String,
    items: Vec<ItemRef>,
    taken: String,
}

/// What a reservation's write found.
enum Reserved {
    /// Taken: the items as priced, and whether a SKU ran out.
    Taken(Vec<pb::ResolvedItem>, bool),
    /// The id was taken before.
    Replay,
    /// Refused before anything was written.
    Refused(CatalogError),
}

fn invalid(v: Vec<FieldViolation>) -> Result<()> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(RequestError::Invalid(v).into())
    }
}

impl CatalogApp {
    /// The service over a database and cache.
    pub fn new(db: DatabaseConnection, cache: Arc<Cache>) -> Self {
        Self {
            db,
            cache,
            writes: Arc::new(Writes {
                reserve: mm_kernel::group::Batch::new("catalog.reserve", |txn, scope, rs| {
                    Box::pin(reserve_all(txn, scope, rs))
                }),
            }),
        }
    }

    async fn written(&self, scope: &TenantScope) {
        self.cache.invalidate(&scope.tenant(), &[]).await;
    }

    /// Ends an administrative write that bumped the menu to `version`: the menu rendered as the
    /// transaction leaves it, the commit, then every instance told.
    async fn commit_menu(&self, txn: ScopedTxn, scope: &TenantScope, version: i64) -> Result<()> {
        publish_menu(&txn, scope, version).await?;
        txn.commit().await?;
        self.written(scope).await;
        Ok(())
    }

    /// Creates a category.
    pub async fn create_category(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        c: CategoryInput,
    ) -> Result<categories::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        domain::check_name(
            "category.display_name_zh",
            c.display_name_zh.as_deref().unwrap_or(""),
            true,
            &mut v,
        );
        domain::check_name(
            "category.display_name_en",
            c.display_name_en.as_deref().unwrap_or(""),
            false,
            &mut v,
        );
        invalid(v)?;
        let now = Utc::now();
        let row = categories::Model {
            tenant_id: scope.tenant(),
            category_id: uuid::Uuid::now_v7().to_string(),
            display_name_zh: c.display_name_zh.unwrap_or_default().trim().to_string(),
            display_name_en: c.display_name_en.unwrap_or_default().trim().to_string(),
            sort_order: c.sort_order.unwrap_or(0),
            created_at: now,
            updated_at: now,
        };
        let txn = scope.begin_write(&self.db).await?;
        let version = repo::bump_menu_version(&txn, &scope).await?;
        let row = repo::save_category(&txn, &scope, row, true).await?;
        self.commit_menu(txn, &scope, version).await?;
        Ok(row)
    }

    /// The tenant's categories.
    pub async fn list_categories(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<Vec<categories::Model>> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.begin(&self.db).await?;
        let rows = repo::list_categories(&txn, &scope).await?;
        txn.commit().await?;
        Ok(rows)
    }

    /// Updates a category.
    pub async fn update_category(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        c: CategoryInput,
    ) -> Result<categories::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        if let Some(n) = &c.display_name_zh {
            domain::check_name("category.display_name_zh", n, true, &mut v);
        }
        if let Some(n) = &c.display_name_en {
            domain::check_name("category.display_name_en", n, false, &mut v);
        }
        invalid(v)?;
        let txn = scope.begin_write(&self.db).await?;
        let version = repo::bump_menu_version(&txn, &scope).await?;
        let mut row = repo::find_category(&txn, &scope, id)
            .await?
            .ok_or_else(|| CatalogError::CategoryNotFound {
                category: id.to_string(),
            })?;
        if let Some(n) = c.display_name_zh {
            row.display_name_zh = n.trim().to_string();
        }
        if let Some(n) = c.display_name_en {
            row.display_name_en = n.trim().to_string();
        }
        if let Some(s) = c.sort_order {
            row.sort_order = s;
        }
        row.updated_at = Utc::now();
        let row = repo::save_category(&txn, &scope, row, false).await?;
        self.commit_menu(txn, &scope, version).await?;
        Ok(row)
    }

    /// Deletes a category that holds no products.
    pub async fn delete_category(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<()> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.begin_write(&self.db).await?;
        let version = repo::bump_menu_version(&txn, &scope).await?;
        repo::find_category(&txn, &scope, id)
            .await?
            .ok_or_else(|| CatalogError::CategoryNotFound {
                category: id.to_string(),
            })?;
        let n = repo::count_products_in(&txn, &scope, id).await?;
        if n > 0 {
            return Err(CatalogError::CategoryNotEmpty {
                category: id.to_string(),
                products: n,
            });
        }
        repo::delete_category(&txn, &scope, id).await?;
        self.commit_menu(txn, &scope, version).await?;
        Ok(())
    }

    fn check_product(p: &ProductInput, creating: bool, v: &mut Vec<FieldViolation>) {
        if creating || p.display_name_zh.is_some() {
            domain::check_name(
                "product.display_name_zh",
                p.display_name_zh.as_deref().unwrap_or(""),
                true,
                v,
            );
        }
        if let Some(n) = &p.display_name_en {
            domain::check_name("product.display_name_en", n, false, v);
        }
        domain::check_details(
            "product",
            p.description.as_deref().unwrap_or(""),
            p.image_urls.as_deref().unwrap_or(&[]),
            p.tags.as_deref().unwrap_or(&[]),
            v,
        );
        if creating || p.skus.is_some() {
            domain::check_skus("product", p.skus.as_deref().unwrap_or(&[]), v);
        }
    }

    fn sku_rows(
        scope: &TenantScope,
        product: &str,
        skus: Vec<SkuInput>,
        existing: &[skus::Model],
    ) -> Result<Vec<skus::Model>> {
        let mut rows = Vec::with_capacity(skus.len());
        for (i, s) in skus.into_iter().enumerate() {
            let id = match s.id {
                Some(id) if existing.iter().any(|e| e.sku_id == id) => id,
                Some(id) => {
                    return Err(RequestError::invalid(
                        format!("product.skus[{i}].id"),
                        format!("no SKU {id:?} on this product"),
                    )
                    .into());
                }
                None => uuid::Uuid::now_v7().to_string(),
            };
            rows.push(skus::Model {
                tenant_id: scope.tenant(),
                product_id: product.to_string(),
                sku_id: id,
                specs: serde_json::to_string(&s.specs).map_err(anyhow::Error::from)?,
                price_fen: s.price.get(),
                stock: s.stock,
                position: i32::try_from(i).unwrap_or(i32::MAX),
            });
        }
        Ok(rows)
    }

    /// Creates a product with its SKUs.
    pub async fn create_product(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        p: ProductInput,
    ) -> Result<ProductView> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        Self::check_product(&p, true, &mut v);
        invalid(v)?;
        let category = p.category_id.clone().unwrap_or_default();
        let txn = scope.begin_write(&self.db).await?;
        let version = repo::bump_menu_version(&txn, &scope).await?;
        if repo::find_category(&txn, &scope, &category)
            .await?
            .is_none()
        {
            return Err(RequestError::invalid(
                "product.category",
                "no such category in this tenant",
            )
            .into());
        }
        let now = Utc::now();
        let id = uuid::Uuid::now_v7().to_string();
        let row = products::Model {
            tenant_id: scope.tenant(),
            product_id: id.clone(),
            category_id: category,
            display_name_zh: p.display_name_zh.unwrap_or_default().trim().to_string(),
            display_name_en: p.display_name_en.unwrap_or_default().trim().to_string(),
            description: p.description.unwrap_or_default(),
            image_urls: serde_json::to_string(&p.image_urls.unwrap_or_default())
                .map_err(anyhow::Error::from)?,
            tags: serde_json::to_string(&p.tags.unwrap_or_default())
                .map_err(anyhow::Error::from)?,
            on_sale: p.on_sale.unwrap_or(true),
            sort_order: p.sort_order.unwrap_or(0),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let row = repo::save_product(&txn, &scope, row, true).await?;
        let sku_rows = Self::sku_rows(&scope, &id, p.skus.unwrap_or_default(), &[])?;
        repo::replace_skus(&txn, &scope, &id, sku_rows.clone()).await?;
        self.commit_menu(txn, &scope, version).await?;
        Ok((row, sku_rows))
    }

    /// One product.
    pub async fn get_product(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<ProductView> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.begin(&self.db).await?;
        let row = repo::find_product(&txn, &scope, id).await?.ok_or_else(|| {
            CatalogError::ProductNotFound {
                product: id.to_string(),
            }
        })?;
        let skus = repo::skus_of(&txn, &scope, std::slice::from_ref(&row.product_id)).await?;
        txn.commit().await?;
        Ok((row, skus))
    }

    async fn with_skus(
        db: &impl sea_orm::ConnectionTrait,
        scope: &TenantScope,
        rows: Vec<products::Model>,
    ) -> Result<Vec<ProductView>> {
        let ids: Vec<String> = rows.iter().map(|r| r.product_id.clone()).collect();
        Ok(paired(rows, repo::skus_of(db, scope, &ids).await?))
    }

    /// A page of products.
    pub async fn list_products(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        page_size: i32,
        page_token: &str,
        category: Option<&str>,
    ) -> Result<(Vec<ProductView>, Option<String>)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let size = mm_kernel::paging::page_size(page_size)?;
        let purpose = format!("products:{tenant}:{}", category.unwrap_or(""));
        let after = mm_kernel::paging::decode_token(&purpose, page_token)?;
        let txn = scope.begin(&self.db).await?;
        let rows = repo::list_products(&txn, &scope, after.as_deref(), size + 1, category).await?;
        let (rows, next) = mm_kernel::paging::finish_page(rows, size, &purpose, |r| &r.product_id);
        let rows = Self::with_skus(&txn, &scope, rows).await?;
        txn.commit().await?;
        Ok((rows, next))
    }

    /// Updates the given fields of a product; `etag`, when set, must match.
    pub async fn update_product(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        p: ProductInput,
        etag: &str,
    ) -> Result<ProductView> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        Self::check_product(&p, false, &mut v);
        invalid(v)?;
        let txn = scope.begin_write(&self.db).await?;
        let version = repo::bump_menu_version(&txn, &scope).await?;
        let mut row = repo::find_product(&txn, &scope, id).await?.ok_or_else(|| {
            CatalogError::ProductNotFound {
                product: id.to_string(),
            }
        })?;
        if !etag.is_empty() && etag != crate::convert::etag(row.version) {
            return Err(CatalogError::EtagMismatch {
                product: id.to_string(),
            });
        }
        if let Some(c) = p.category_id {
            if repo::find_category(&txn, &scope, &c).await?.is_none() {
                return Err(RequestError::invalid(
                    "product.category",
                    "no such category in this tenant",
                )
                .into());
            }
            row.category_id = c;
        }
        if let Some(n) = p.display_name_zh {
            row.display_name_zh = n.trim().to_string();
        }
        if let Some(n) = p.display_name_en {
            row.display_name_en = n.trim().to_string();
        }
        if let Some(d) = p.description {
            row.description = d;
        }
        if let Some(i) = p.image_urls {
            row.image_urls = serde_json::to_string(&i).map_err(anyhow::Error::from)?;
        }
        if let Some(t) = p.tags {
            row.tags = serde_json::to_string(&t).map_err(anyhow::Error::from)?;
        }
        if let Some(o) = p.on_sale {
            row.on_sale = o;
        }
        if let Some(s) = p.sort_order {
            row.sort_order = s;
        }
        row.version += 1;
        row.updated_at = Utc::now();
        let row = repo::save_product(&txn, &scope, row, false).await?;
        let existing = repo::skus_of(&txn, &scope, std::slice::from_ref(&row.product_id)).await?;
        let skus = match p.skus {
            Some(s) => {
                let rows = Self::sku_rows(&scope, id, s, &existing)?;
                repo::replace_skus(&txn, &scope, id, rows.clone()).await?;
                rows
            }
            None => existing,
        };
        self.commit_menu(txn, &scope, version).await?;
        Ok((row, skus))
    }

    /// Deletes a product.
    pub async fn delete_product(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<()> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.begin_write(&self.db).await?;
        let version = repo::bump_menu_version(&txn, &scope).await?;
        if !repo::delete_product(&txn, &scope, id).await? {
            return Err(CatalogError::ProductNotFound {
                product: id.to_string(),
            });
        }
        self.commit_menu(txn, &scope, version).await?;
        Ok(())
    }

    /// The published menu: the one the last change rendered into the tenant's state row (see
    /// [`publish_menu`]), so the first read after a change reads one row. Rendered from the rows
    /// here only when the row holds none at the current version (written before that column
    /// existed, or by an instance of the release before during a rolling upgrade), and then kept
    /// for the next reader. It is public (the mini-program reads it before anyone signs in), so
    /// no caller is authorized: the platform reads the tenant's menu on its own behalf, under the
    /// system scope `catalog.public_menu` narrowed to that tenant.
    pub async fn menu(&self, tenant: TenantId) -> Result<pb::Menu> {
        let scope = SystemScope::named("catalog.public_menu").tenant(tenant);
        let txn = scope.begin(&self.db).await?;
        let state = repo::find_state(&txn, &scope).await?;
        let version = state.as_ref().map_or(0, |s| s.menu_version);
        if let Some(m) = state
            .and_then(|s| s.menu)
            .and_then(|e| held_menu(e.into(), version))
        {
            txn.commit().await?;
            return Ok(m);
        }
        let menu = render_menu(&txn, &scope, version).await?;
        txn.commit().await?;
        if version > 0 {
            // Kept for the next reader; a failure costs that reader a render, not this answer.
            let kept = async {
                let one = scope.one(&self.db).await?;
                repo::store_menu(&one, &scope, version, menu_entry(&menu)).await?;
                one.commit().await
            };
            if let Err(e) = kept.await {
                tracing::warn!(%tenant, error = %e, "keeping the rendered menu failed");
            }
        }
        Ok(menu)
    }
}

/// The tenant's menu at `version`, rendered from its categories, products on sale and their SKUs
/// as `db` sees them.
async fn render_menu(
    db: &impl sea_orm::ConnectionTrait,
    scope: &TenantScope,
    version: i64,
) -> Result<pb::Menu> {
    let categories = repo::list_categories(db, scope).await?;
    let on_sale = repo::products_on_sale(db, scope).await?;
    let products = paired(on_sale, repo::skus_on_sale(db, scope).await?);
    let mut by_category: HashMap<String, Vec<pb::Product>> = HashMap::new();
    for (p, s) in &products {
        by_category
            .entry(p.category_id.clone())
            .or_default()
            .push(crate::convert::product(p, s));
    }
    let sections = categories
        .iter()
        .filter_map(|c| {
            by_category
                .remove(&c.category_id)
                .map(|products| pb::MenuSection {
                    category: Some(crate::convert::category(c)),
                    products,
                })
        })
        .collect();
    Ok(pb::Menu { sections, version })
}

/// Renders the menu as the transaction leaves it and keeps it in the tenant's state row, so
/// that the render is paid once per change by the writer instead of by the first reader after
/// it (on every instance). Call it after the transaction's last change to the menu's rows and
/// after [`repo::bump_menu_version`], whose row lock orders concurrent writers: each renders
/// what the one before it committed plus its own change.
async fn publish_menu(
    txn: &impl sea_orm::ConnectionTrait,
    scope: &TenantScope,
    version: i64,
) -> Result<()> {
    let menu = render_menu(txn, scope, version).await?;
    repo::store_menu(txn, scope, version, menu_entry(&menu)).await?;
    Ok(())
}

/// How a menu is kept: its version (eight bytes, big-endian), then the menu.
fn menu_entry(menu: &pb::Menu) -> Vec<u8> {
    let mut entry = Vec::with_capacity(8 + menu.encoded_len());
    entry.extend_from_slice(&menu.version.to_be_bytes());
    menu.encode_raw(&mut entry);
    entry
}

/// The menu a kept entry holds (see [`menu_entry`]), if it is `version`'s.
fn held_menu(mut entry: bytes::Bytes, version: i64) -> Option<pb::Menu> {
    use bytes::Buf as _;
    if entry.len() < 8 || entry.get_i64() != version {
        return None;
    }
    pb::Menu::decode(entry).ok()
}

/// One requested item, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    /// Product id.
    pub product_id: String,
    /// SKU id.
    pub sku_id: String,
    /// Units.
    pub quantity: i64,
}

/// What a reservation took, as recorded.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Taken {
    product_id: String,
    sku_id: String,
    quantity: i64,
}

/// One item as read: resolved, its product on sale, its SKU's stock limited (not NULL).
type Looked = (pb::ResolvedItem, bool, bool);

impl CatalogApp {
    async fn resolve(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &TenantScope,
        items: &[ItemRef],
    ) -> Result<Vec<pb::ResolvedItem>> {
        Ok(self
            .lookup(db, scope, items)
            .await?
            .into_iter()
            .map(|(r, ..)| r)
            .collect())
    }

    /// Each item resolved, with whether its product is on sale and its stock limited.
    async fn lookup(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &TenantScope,
        items: &[ItemRef],
    ) -> Result<Vec<Looked>> {
        let pairs: Vec<(&str, &str)> = items
            .iter()
            .map(|it| (it.product_id.as_str(), it.sku_id.as_str()))
            .collect();
        let found = repo::find_skus_with_products(db, scope, &pairs).await?;
        looked(scope.tenant(), items, &found)
    }

    /// Prices and availability from the catalog.
    pub async fn resolve_items(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        items: &[ItemRef],
    ) -> Result<Vec<pb::ResolvedItem>> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.one(&self.db).await?;
        let resolved = self.resolve(&txn, &scope, items).await?;
        txn.commit().await?;
        Ok(resolved)
    }

    /// Takes stock for all items or none; a retry with the same id returns what was taken, and a
    /// reserve under an id already released takes nothing (RESERVATION_RELEASED). SKUs are
    /// locked in one canonical order (product, SKU) whatever order the basket lists them in, so
    /// two baskets with the same items cannot deadlock; a transaction the database still aborts
    /// as a deadlock or serialization victim is run again a bounded number of times.
    pub async fn reserve_stock(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        reservation: &str,
        items: &[ItemRef],
    ) -> Result<Vec<pb::ResolvedItem>> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let (resolved, sold_out) =
            mm_kernel::db::retry_conflicts(|| self.reserve_once(&scope, reservation, items))
                .await?;
        if sold_out {
            self.written(&scope).await;
        }
        Ok(resolved)
    }

    async fn reserve_once(
        &self,
        scope: &TenantScope,
        reservation: &str,
        items: &[ItemRef],
    ) -> Result<(Vec<pb::ResolvedItem>, bool)> {
        let taken: Vec<Taken> = items
            .iter()
            .map(|i| Taken {
                product_id: i.product_id.clone(),
                sku_id: i.sku_id.clone(),
                quantity: i.quantity,
            })
            .collect();
        let taken = serde_json::to_string(&taken).map_err(anyhow::Error::from)?;
        // The read and the taking in one transaction, shared with the reservations of the shop
        // arriving at the same moment (a group commit, `mm_kernel::group`).
        let input = Reserve {
            reservation: reservation.to_string(),
            items: items.to_vec(),
            taken,
        };
        let outcome = self.writes.reserve.run(&self.db, scope, input).await?;
        match outcome {
            Reserved::Taken(resolved, sold_out) => Ok((resolved, sold_out)),
            Reserved::Replay => self.replay(scope, reservation).await,
            // A retry of a reservation that went through answers what it took, even when its
            // items are no longer on sale: the caller must not think nothing was taken.
            Reserved::Refused(e) => self.replayed(scope, reservation).await?.ok_or(e),
        }
    }

    /// What an earlier reservation under this id took, when there is one: its items, or
    /// RESERVATION_RELEASED when it was given back (or spent by a release that came first).
    /// Reads in a transaction of its own.
    async fn replayed(
        &self,
        scope: &TenantScope,
        reservation: &str,
    ) -> Result<Option<(Vec<pb::ResolvedItem>, bool)>> {
        let txn = scope.begin(&self.db).await?;
        let Some(existing) = repo::find_reservation(&txn, scope, reservation).await? else {
            txn.commit().await?;
            return Ok(None);
        };
        if existing.released {
            return Err(CatalogError::ReservationReleased {
                reservation: reservation.to_string(),
            });
        }
        let taken: Vec<Taken> = serde_json::from_str(&existing.items).unwrap_or_default();
        let refs: Vec<ItemRef> = taken
            .into_iter()
            .map(|t| ItemRef {
                product_id: t.product_id,
                sku_id: t.sku_id,
                quantity: t.quantity,
            })
            .collect();
        let resolved = self.resolve(&txn, scope, &refs).await?;
        txn.commit().await?;
        Ok(Some((resolved, false)))
    }

    /// [`Self::replayed`] for an id whose insert just found it taken.
    async fn replay(
        &self,
        scope: &TenantScope,
        reservation: &str,
    ) -> Result<(Vec<pb::ResolvedItem>, bool)> {
        self.replayed(scope, reservation)
            .await?
            .ok_or_else(|| anyhow::anyhow!("reservation {reservation} vanished").into())
    }

    /// Gives back a reservation's stock, once; true when this call gave it back. Releasing an id
    /// that took nothing (yet) spends it, so a reserve arriving after its caller gave up takes
    /// nothing: release is the one call that always ends a reservation id, whatever raced it.
    pub async fn release_stock(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        reservation: &str,
    ) -> Result<bool> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let back_in_stock =
            mm_kernel::db::retry_conflicts(|| self.release_once(&scope, reservation)).await?;
        let Some(back_in_stock) = back_in_stock else {
            return Ok(false);
        };
        if back_in_stock {
            self.written(&scope).await;
        }
        Ok(true)
    }

    /// One try; `None` when there was nothing to give back.
    async fn release_once(&self, scope: &TenantScope, reservation: &str) -> Result<Option<bool>> {
        let txn = scope.begin(&self.db).await?;
        if !repo::mark_released(&txn, scope, reservation).await? {
            // Unknown id: spend it. A reserve of this id still in flight makes the insert wait
            // for it and then conflict; that reservation is then released like any other.
            if repo::insert_tombstone(&txn, scope, reservation).await?
                || !repo::mark_released(&txn, scope, reservation).await?
            {
                txn.commit().await?;
                return Ok(None);
            }
        }
        let row = repo::find_reservation(&txn, scope, reservation).await?;
        let mut taken: Vec<Taken> = row
            .map(|r| serde_json::from_str(&r.items).unwrap_or_default())
            .unwrap_or_default();
        // The same canonical lock order as taking stock.
        taken.sort_by(|a, b| (&a.product_id, &a.sku_id).cmp(&(&b.product_id, &b.sku_id)));
        let mut back_in_stock = false;
        for t in &taken {
            back_in_stock |= repo::find_sku(&txn, scope, &t.product_id, &t.sku_id)
                .await?
                .is_some_and(|s| s.stock == Some(0));
            repo::give_back_stock(&txn, scope, &t.product_id, &t.sku_id, t.quantity).await?;
        }
        if back_in_stock {
            let version = repo::bump_menu_version(&txn, scope).await?;
            publish_menu(&txn, scope, version).await?;
        }
        txn.commit().await?;
        Ok(Some(back_in_stock))
    }
}

/// Each product with its SKUs (in the order `skus` holds them), products kept in their order.
fn paired(rows: Vec<products::Model>, skus: Vec<skus::Model>) -> Vec<ProductView> {
    let mut by_product: HashMap<String, Vec<skus::Model>> = HashMap::new();
    for s in skus {
        by_product.entry(s.product_id.clone()).or_default().push(s);
    }
    rows.into_iter()
        .map(|r| {
            let s = by_product.remove(&r.product_id).unwrap_or_default();
            (r, s)
        })
        .collect()
}

/// Each item resolved from the SKUs found with their products, with whether its product is on
/// sale and its stock limited; an item not among them is the caller's mistake.
fn looked(
    tenant: TenantId,
    items: &[ItemRef],
    found: &[(skus::Model, products::Model)],
) -> Result<Vec<Looked>> {
    let mut out = Vec::with_capacity(items.len());
    for (i, it) in items.iter().enumerate() {
        let Some((s, p)) = found
            .iter()
            .find(|(s, _)| s.product_id == it.product_id && s.sku_id == it.sku_id)
        else {
            return Err(RequestError::invalid(
                format!("items[{i}]"),
                "no such product and SKU in this shop",
            )
            .into());
        };
        let specs: Vec<domain::Spec> = serde_json::from_str(&s.specs).unwrap_or_default();
        out.push((
            pb::ResolvedItem {
                product: name_of::<Products>(tenant, &p.product_id),
                sku_id: s.sku_id.clone(),
                display_name_zh: p.display_name_zh.clone(),
                specs: specs
                    .into_iter()
                    .map(|sp| pb::SpecValue {
                        spec: sp.spec,
                        value: sp.value,
                    })
                    .collect(),
                unit_price_fen: s.price_fen,
                quantity: i32::try_from(it.quantity).unwrap_or(i32::MAX),
                available: p.on_sale && s.stock.is_none_or(|st| st >= it.quantity),
                category: if p.category_id.is_empty() {
                    String::new()
                } else {
                    name_of::<crate::names::Categories>(tenant, &p.category_id)
                },
            },
            p.on_sale,
            s.stock.is_some(),
        ));
    }
    Ok(out)
}

/// [`CatalogApp::reserve_once`]'s work for a batch of reservations in their group's transaction
/// (`mm_kernel::group::Batch`): the SKUs of all of them read in one statement, their ids written
/// in one, then stock taken item by item in one canonical order (product, SKU) across the batch,
/// so two transactions taking the same SKUs cannot deadlock. A refusal found before anything is
/// written is that reservation's answer; running out of stock is an error, which fails the batch,
/// and each reservation then runs again alone, so the one that ran out answers its own error.
async fn reserve_all(
    txn: &ScopedTxn,
    scope: &TenantScope,
    rs: &[Reserve],
) -> Result<Vec<Reserved>> {
    let pairs: std::collections::BTreeSet<(&str, &str)> = rs
        .iter()
        .flat_map(|r| &r.items)
        .map(|it| (it.product_id.as_str(), it.sku_id.as_str()))
        .collect();
    let found =
        repo::find_skus_with_products(txn, scope, &pairs.into_iter().collect::<Vec<_>>()).await?;
    // Each reservation's answer once known, and its items as found while it may still take them.
    let mut answers: Vec<Option<Reserved>> = Vec::with_capacity(rs.len());
    let mut found_items: Vec<Vec<Looked>> = Vec::with_capacity(rs.len());
    let mut ids = std::collections::HashSet::new();
    for r in rs {
        let (answer, items) = match looked(scope.tenant(), &r.items, &found) {
            // A database error must fail the transaction, never pass as an answer.
            Err(e @ (CatalogError::Db(_) | CatalogError::Internal(_))) => return Err(e),
            Err(e) => (Some(Reserved::Refused(e)), Vec::new()),
            Ok(l) => match l.iter().find(|(_, on_sale, _)| !on_sale) {
                Some((r, ..)) => (
                    Some(Reserved::Refused(CatalogError::NotOnSale {
                        product: r.product.clone(),
                    })),
                    Vec::new(),
                ),
                // The same id twice in one batch: the second is the first's replay.
                None if !ids.insert(r.reservation.as_str()) => (Some(Reserved::Replay), Vec::new()),
                None => (None, l),
            },
        };
        answers.push(answer);
        found_items.push(items);
    }
    let starting: Vec<(&str, &str)> = rs
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.is_none())
        .map(|(r, _)| (r.reservation.as_str(), r.taken.as_str()))
        .collect();
    let started = repo::start_reservations(txn, scope, &starting).await?;
    let mut takes: Vec<(usize, usize)> = Vec::new();
    for (i, r) in rs.iter().enumerate() {
        if answers[i].is_some() {
            continue;
        }
        if !started.contains(&r.reservation) {
            answers[i] = Some(Reserved::Replay);
            continue;
        }
        // Unlimited stock (NULL) has nothing to take: no write, so orders of an unlimited SKU
        // never queue on its row.
        takes.extend(
            (0..r.items.len())
                .filter(|&k| found_items[i][k].2)
                .map(|k| (i, k)),
        );
    }
    takes.sort_by(|&(a, x), &(b, y)| {
        let (p, q) = (&rs[a].items[x], &rs[b].items[y]);
        (&p.product_id, &p.sku_id).cmp(&(&q.product_id, &q.sku_id))
    });
    let mut sold_out = vec![false; rs.len()];
    for (i, k) in takes {
        let it = &rs[i].items[k];
        match repo::take_stock(txn, scope, &it.product_id, &it.sku_id, it.quantity).await? {
            Some(left) => sold_out[i] |= left == 0,
            None => {
                return Err(CatalogError::OutOfStock {
                    product: found_items[i][k].0.product.clone(),
                    sku: it.sku_id.clone(),
                });
            }
        }
    }
    // The menu shows availability: it changes only when a SKU runs out.
    if sold_out.contains(&true) {
        let version = repo::bump_menu_version(txn, scope).await?;
        publish_menu(txn, scope, version).await?;
    }
    Ok(answers
        .into_iter()
        .zip(found_items)
        .zip(sold_out)
        .map(|((answer, items), sold_out)| {
            answer.unwrap_or_else(|| {
                Reserved::Taken(items.into_iter().map(|(r, ..)| r).collect(), sold_out)
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::{held_menu, menu_entry, pb};

    fn entry(version: i64, menu: &pb::Menu) -> bytes::Bytes {
        let mut e = version.to_be_bytes().to_vec();
        menu.encode_raw(&mut e);
        e.into()
    }

    #[test]
    fn a_held_menu_is_used_only_at_its_version() {
        let menu = pb::Menu {
            sections: vec![pb::MenuSection::default()],
            version: 7,
        };
        assert_eq!(held_menu(menu_entry(&menu).into(), 7), Some(menu.clone()));
        assert_eq!(held_menu(entry(7, &menu), 7), Some(menu.clone()));
        assert_eq!(held_menu(entry(7, &menu), 8), None);
        assert_eq!(held_menu(entry(6, &menu), 7), None);
    }

    #[test]
    fn an_entry_too_short_or_not_a_menu_is_none() {
        assert_eq!(held_menu(bytes::Bytes::from_static(b"\x00\x00"), 0), None);
        let mut junk = 3i64.to_be_bytes().to_vec();
        junk.extend_from_slice(b"\xff\xff\xff");
        assert_eq!(held_menu(junk.into(), 3), None);
    }
}
