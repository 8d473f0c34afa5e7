//! Every query of the catalog module. Each takes the [`TenantScope`] of the tenant whose rows it
//! reads or writes and builds its query from it ([`TenantScope::find`],
//! [`TenantScope::update_many`], [`TenantScope::delete_many`]), so the tenant filter is never
//! hand-written; inserts and saves set the row's tenant from the scope. Run them inside the
//! scope's transaction ([`TenantScope::begin`]): on PostgreSQL, row-level security shows nothing
//! to a query outside one. No function here spans tenants.

use chrono::Utc;
use mm_kernel::TenantScope;
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entity::{categories, products, reservations, skus, state};

/// Bumps the tenant's menu version (creating its row on first use) and returns the new version.
/// Done first in every catalog write, so concurrent writes of one tenant serialise on that row.
pub async fn bump_menu_version(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<i64, DbErr> {
    let res = scope
        .update_many::<state::Entity>()
        .col_expr(
            state::Column::MenuVersion,
            Expr::col(state::Column::MenuVersion).add(1),
        )
        .col_expr(state::Column::UpdatedAt, Expr::value(Utc::now()))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        state::ActiveModel {
            tenant_id: Set(scope.tenant()),
            menu_version: Set(1),
            updated_at: Set(Utc::now()),
            menu: Set(None),
        }
        .insert(db)
        .await?;
    }
    menu_version(db, scope).await
}

/// The tenant's state row (its menu version and rendered menu), none before any write.
pub async fn find_state(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<Option<state::Model>, DbErr> {
    scope.find::<state::Entity>().one(db).await
}

/// Keeps `entry` (the menu rendered at `version`) in the tenant's state row, unless the version
/// has moved on meanwhile.
pub async fn store_menu(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    version: i64,
    entry: Vec<u8>,
) -> Result<(), DbErr> {
    scope
        .update_many::<state::Entity>()
        .col_expr(state::Column::Menu, Expr::value(entry))
        .filter(state::Column::MenuVersion.eq(version))
        .exec(db)
        .await?;
    Ok(())
}

/// The tenant's menu version, 0 before any write; the version alone, not the kept menu beside it.
pub async fn menu_version(db: &impl ConnectionTrait, scope: &TenantScope) -> Result<i64, DbErr> {
    Ok(scope
        .find::<state::Entity>()
        .select_only()
        .column(state::Column::MenuVersion)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0))
}

/// The tenant's categories in sort order.
pub async fn list_categories(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<Vec<categories::Model>, DbErr> {
    scope
        .find::<categories::Entity>()
        .order_by_asc(categories::Column::SortOrder)
        .order_by_asc(categories::Column::CategoryId)
        .all(db)
        .await
}

/// One category.
pub async fn find_category(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<Option<categories::Model>, DbErr> {
    scope
        .find::<categories::Entity>()
        .filter(categories::Column::CategoryId.eq(id))
        .one(db)
        .await
}

/// Inserts or updates a category of the scope's tenant (whatever tenant `row` names).
pub async fn save_category(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: categories::Model,
    new: bool,
) -> Result<categories::Model, DbErr> {
    row.tenant_id = scope.tenant();
    let am = row.into_active_model().reset_all();
    if new {
        am.insert(db).await
    } else {
        am.update(db).await
    }
}

/// Deletes a category.
pub async fn delete_category(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<(), DbErr> {
    scope
        .delete_many::<categories::Entity>()
        .filter(categories::Column::CategoryId.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// How many products a category holds.
pub async fn count_products_in(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    category: &str,
) -> Result<u64, DbErr> {
    scope
        .find::<products::Entity>()
        .filter(products::Column::CategoryId.eq(category))
        .count(db)
        .await
}

/// One product.
pub async fn find_product(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<Option<products::Model>, DbErr> {
    scope
        .find::<products::Entity>()
        .filter(products::Column::ProductId.eq(id))
        .one(db)
        .await
}

/// A page of products after `after`, oldest first.
pub async fn list_products(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    after: Option<&str>,
    limit: u64,
    category: Option<&str>,
) -> Result<Vec<products::Model>, DbErr> {
    let mut q = scope
        .find::<products::Entity>()
        .order_by_asc(products::Column::ProductId)
        .limit(limit);
    if let Some(a) = after {
        q = q.filter(products::Column::ProductId.gt(a));
    }
    if let Some(c) = category {
        q = q.filter(products::Column::CategoryId.eq(c));
    }
    q.all(db).await
}

/// Every product on sale, in category and sort order.
pub async fn products_on_sale(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<Vec<products::Model>, DbErr> {
    scope
        .find::<products::Entity>()
        .filter(products::Column::OnSale.eq(true))
        .order_by_asc(products::Column::SortOrder)
        .order_by_asc(products::Column::ProductId)
        .all(db)
        .await
}

/// The SKUs of the tenant's products on sale, in position order, in one statement whose text is
/// the same whatever their number (an `IN` list of product ids would prepare one statement per
/// menu size on every pooled connection).
pub async fn skus_on_sale(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<Vec<skus::Model>, DbErr> {
    use sea_orm::sea_query::Query;
    let on_sale = Query::select()
        .column(products::Column::ProductId)
        .from(products::Entity)
        .cond_where(scope.owns::<products::Entity>())
        .and_where(products::Column::OnSale.eq(true))
        .to_owned();
    scope
        .find::<skus::Entity>()
        .filter(skus::Column::ProductId.in_subquery(on_sale))
        .order_by_asc(skus::Column::Position)
        .all(db)
        .await
}

/// Inserts or updates a product of the scope's tenant (whatever tenant `row` names).
pub async fn save_product(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: products::Model,
    new: bool,
) -> Result<products::Model, DbErr> {
    row.tenant_id = scope.tenant();
    let am = row.into_active_model().reset_all();
    if new {
        am.insert(db).await
    } else {
        am.update(db).await
    }
}

/// Deletes a product and its SKUs.
pub async fn delete_product(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<bool, DbErr> {
    scope
        .delete_many::<skus::Entity>()
        .filter(skus::Column::ProductId.eq(id))
        .exec(db)
        .await?;
    let res = scope
        .delete_many::<products::Entity>()
        .filter(products::Column::ProductId.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The SKUs of some products of a tenant, in position order.
pub async fn skus_of(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    product_ids: &[String],
) -> Result<Vec<skus::Model>, DbErr> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    scope
        .find::<skus::Entity>()
        .filter(skus::Column::ProductId.is_in(product_ids.iter().cloned()))
        .order_by_asc(skus::Column::Position)
        .all(db)
        .await
}

/// Replaces the SKUs of a product; the new rows are the scope's tenant's (whatever tenant they
/// name).
pub async fn replace_skus(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    product: &str,
    rows: Vec<skus::Model>,
) -> Result<(), DbErr> {
    scope
        .delete_many::<skus::Entity>()
        .filter(skus::Column::ProductId.eq(product))
        .exec(db)
        .await?;
    for mut r in rows {
        r.tenant_id = scope.tenant();
        r.into_active_model().reset_all().insert(db).await?;
    }
    Ok(())
}

/// Starts reservations, each its id and its `items` (JSON), in one statement; the ids this call
/// started (an id taken already is left as it is: answered, not raised, since on PostgreSQL a
/// raised conflict would abort the transaction and the reservations grouped with it). Written
/// before any stock is taken, with every item: the transaction either takes all of them or rolls
/// back. When nothing limited is taken, it is the whole reservation.
pub async fn start_reservations(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    rows: &[(&str, &str)],
) -> Result<std::collections::HashSet<String>, DbErr> {
    if rows.is_empty() {
        return Ok(Default::default());
    }
    let now = Utc::now();
    let models = rows.iter().map(|(id, items)| reservations::ActiveModel {
        tenant_id: Set(scope.tenant()),
        reservation_id: Set(id.to_string()),
        items: Set(items.to_string()),
        released: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    });
    let done = reservations::Entity::insert_many(models)
        .on_conflict_do_nothing()
        .exec_with_returning_keys(db)
        .await?;
    Ok(match done {
        sea_orm::TryInsertResult::Inserted(keys) => keys.into_iter().map(|(_, id)| id).collect(),
        _ => Default::default(),
    })
}

/// A reservation.
pub async fn find_reservation(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<Option<reservations::Model>, DbErr> {
    scope
        .find::<reservations::Entity>()
        .filter(reservations::Column::ReservationId.eq(id))
        .one(db)
        .await
}

/// Records a reservation id as released before any stock was taken under it, so a reserve that
/// arrives late (its answer lost, the caller already gave up) finds the id spent and takes
/// nothing. False when a reservation with this id exists already.
pub async fn insert_tombstone(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let res = reservations::Entity::insert(reservations::ActiveModel {
        tenant_id: Set(scope.tenant()),
        reservation_id: Set(id.to_string()),
        items: Set("[]".into()),
        released: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        // The primary key, which leads with the tenant.
        sea_orm::sea_query::OnConflict::columns([
            reservations::Column::TenantId,
            reservations::Column::ReservationId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(res == 1)
}

/// Marks a reservation released, only once; false when it was already or does not exist.
pub async fn mark_released(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    id: &str,
) -> Result<bool, DbErr> {
    let res = scope
        .update_many::<reservations::Entity>()
        .col_expr(reservations::Column::Released, Expr::value(true))
        .col_expr(reservations::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(reservations::Column::ReservationId.eq(id))
        .filter(reservations::Column::Released.eq(false))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// One SKU.
pub async fn find_sku(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    product: &str,
    sku: &str,
) -> Result<Option<skus::Model>, DbErr> {
    scope
        .find::<skus::Entity>()
        .filter(skus::Column::ProductId.eq(product))
        .filter(skus::Column::SkuId.eq(sku))
        .one(db)
        .await
}

/// The SKUs named by (product id, SKU id) with their products, in one query: what an order's
/// reservation reads, one round trip however many items it holds. Pairs that name nothing are
/// simply missing from the answer.
pub async fn find_skus_with_products(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    pairs: &[(&str, &str)],
) -> Result<Vec<(skus::Model, products::Model)>, DbErr> {
    use sea_orm::{Condition, JoinType};
    // The join stays within a tenant: a SKU's product is its own tenant's.
    let product: sea_orm::RelationDef = skus::Entity::belongs_to(products::Entity)
        .from((skus::Column::TenantId, skus::Column::ProductId))
        .to((products::Column::TenantId, products::Column::ProductId))
        .into();
    let named = pairs.iter().fold(Condition::any(), |c, (p, s)| {
        c.add(
            Condition::all()
                .add(skus::Column::ProductId.eq(*p))
                .add(skus::Column::SkuId.eq(*s)),
        )
    });
    let rows = scope
        .find::<skus::Entity>()
        .select_also(products::Entity)
        .join(JoinType::InnerJoin, product)
        .filter(named)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, p)| p.map(|p| (s, p)))
        .collect())
}

/// Takes `quantity` from a limited SKU's stock only while enough is left, in one statement.
/// Returns the stock left afterwards, or `None` when there was not enough, the SKU is gone, or
/// its stock is unlimited (NULL: nothing to take; the caller knows which from its read).
pub async fn take_stock(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    product: &str,
    sku: &str,
    quantity: i64,
) -> Result<Option<i64>, DbErr> {
    let mut rows = scope
        .update_many::<skus::Entity>()
        .col_expr(
            skus::Column::Stock,
            Expr::col(skus::Column::Stock).sub(quantity),
        )
        .filter(skus::Column::ProductId.eq(product))
        .filter(skus::Column::SkuId.eq(sku))
        .filter(skus::Column::Stock.gte(quantity))
        .exec_with_returning(db)
        .await?;
    Ok(rows.pop().and_then(|r| r.stock))
}

/// Gives `quantity` back to a SKU's stock (no-op for unlimited or deleted SKUs).
pub async fn give_back_stock(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    product: &str,
    sku: &str,
    quantity: i64,
) -> Result<(), DbErr> {
    scope
        .update_many::<skus::Entity>()
        .col_expr(
            skus::Column::Stock,
            Expr::col(skus::Column::Stock).add(quantity),
        )
        .filter(skus::Column::ProductId.eq(product))
        .filter(skus::Column::SkuId.eq(sku))
        .filter(skus::Column::Stock.is_not_null())
        .exec(db)
        .await
        .map(|_| ())
}
