//! Row-level security, the second wall between tenants on PostgreSQL: connected as the
//! application's role, a query that forgets the tenant filter still sees only the tenant its
//! transaction is scoped to, and cannot write another tenant's rows.

use mm_kernel::SystemScope;
use mm_migrations::rls::PLATFORM_TABLES;
use mm_testkit::{Backend, Storage, spawn_with};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};

use crate::ordering::open_shop;

async fn strings(db: &impl sea_orm::ConnectionTrait, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// Every table of the schema with a `tenant_id` column.
async fn tenant_tables(db: &DatabaseConnection) -> Vec<String> {
    strings(
        db,
        "SELECT c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY 1",
    )
    .await
}

#[tokio::test]
async fn a_query_without_its_tenant_filter_sees_nothing_of_another_tenant() {
    if mm_testkit::backend() != Backend::Postgres {
        return; // Row-level security is PostgreSQL's; SQLite has one process and no roles.
    }
    let storage = Storage::on(Backend::Postgres).await;
    let app = spawn_with(storage.settings()).await;
    let a = open_shop(&app, "rls-a", 5).await;
    let b = open_shop(&app, "rls-b", 5).await;
    let db = mm_kernel::db::connect(&storage.settings().database)
        .await
        .unwrap();

    assert!(
        !mm_migrations::rls::bypasses_rls(&db).await.unwrap(),
        "the application's role must be one that row-level security applies to"
    );

    let tables = tenant_tables(&db).await;
    let secured = strings(
        &db,
        "SELECT c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relrowsecurity AND c.relforcerowsecurity \
           AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid \
                       AND p.polname = 'tenant_isolation') ORDER BY 1",
    )
    .await;
    let tenant_owned: Vec<&String> = tables
        .iter()
        .filter(|t| !PLATFORM_TABLES.contains(&t.as_str()))
        .collect();
    assert!(tenant_owned.len() >= 15, "{tables:?}");
    for t in &tenant_owned {
        assert!(secured.contains(t), "{t} is not behind row-level security");
    }

    // Outside any scoped transaction the pool sees no tenant's rows at all.
    assert_eq!(
        strings(&db, "SELECT tenant_id FROM catalog_products").await,
        Vec::<String>::new()
    );

    // Scoped to shop A, unfiltered queries of every tenant table return A's rows only.
    let scope = SystemScope::named("test.rls").tenant(a.id);
    let txn = scope.begin(&db).await.unwrap();
    let mut saw_rows = 0;
    for t in &tenant_owned {
        let owners = strings(&txn, &format!("SELECT tenant_id FROM {t}")).await;
        saw_rows += owners.len();
        assert!(
            owners.iter().all(|o| *o == a.id.to_string()),
            "{t} showed another tenant's rows to shop A: {owners:?}"
        );
    }
    assert!(saw_rows > 0, "shop A's own rows are visible to it");
    let products = strings(&txn, "SELECT tenant_id FROM catalog_products").await;
    assert_eq!(products.len(), 2, "A's latte and cake");

    // Nor can it write a row into shop B, or move one of its own there.
    txn.execute_unprepared("SAVEPOINT forged").await.unwrap();
    let forged = txn
        .execute_unprepared(&format!(
            "UPDATE catalog_products SET tenant_id = '{}'",
            b.id
        ))
        .await;
    assert!(forged.is_err(), "moving A's rows into B is refused");
    txn.execute_unprepared("ROLLBACK TO SAVEPOINT forged")
        .await
        .unwrap();
    let touched = txn
        .execute_unprepared(&format!(
            "UPDATE catalog_skus SET stock = 0 WHERE tenant_id = '{}'",
            b.id
        ))
        .await
        .unwrap();
    assert_eq!(touched.rows_affected(), 0, "B's stock is out of A's reach");
    txn.rollback().await.unwrap();

    // A named system scope (the sweeps) sees across tenants, as it must.
    let txn = SystemScope::named("test.rls").begin(&db).await.unwrap();
    let owners = strings(&txn, "SELECT DISTINCT tenant_id FROM catalog_products").await;
    for shop in [&a, &b] {
        assert!(owners.contains(&shop.id.to_string()), "{owners:?}");
    }
    txn.commit().await.unwrap();

    // The setting is per transaction: the pooled connection does not keep A's tenant.
    assert_eq!(
        strings(&db, "SELECT tenant_id FROM catalog_skus").await,
        Vec::<String>::new()
    );
}
