//! Migrations that move data keep it: merchant accounts stored by ordering before the account
//! moved to the tenant module are still there, byte for byte, after the move.

use mm_migrations::MigratorTraitSelf as _;
use mm_server::migrator;
use mm_testkit::Storage;
use sea_orm::{ConnectionTrait as _, Statement};

async fn query(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
}

#[tokio::test]
async fn moving_merchant_accounts_to_the_tenant_module_keeps_them() {
    let storage = Storage::new().await;
    let settings = storage.settings();
    let db = mm_kernel::db::connect(&settings.database).await.unwrap();
    // Every migration before the move.
    let before = migrator()
        .migrations()
        .iter()
        .take_while(|m| m.name() < "m20261125_000800")
        .count();
    migrator()
        .up(&db, Some(u32::try_from(before).unwrap()))
        .await
        .unwrap();
    let sealed = "v1.sealed-private-key";
    db.execute_unprepared(&format!(
        "INSERT INTO ordering_payment_accounts (tenant_id, appid, mchid, merchant_serial_no, \
         private_key_enc, apiv3_key_enc, platform_key_id, platform_public_key_pem, created_at, \
         updated_at) VALUES ('00000000-0000-0000-0000-000000000001', 'wx0000000000000001', \
         '1900000001', 'SERIAL', '{sealed}', 'v1.sealed-apiv3', 'PUB_KEY_ID', 'PEM', \
         '2026-11-24 10:00:00+00:00', '2026-11-24 10:00:00+00:00')"
    ))
    .await
    .unwrap();

    migrator().up(&db, None).await.unwrap();
    let rows = query(
        &db,
        "SELECT tenant_id, mchid, private_key_enc, apiv3_key_enc FROM tenant_payment_accounts",
    )
    .await;
    assert_eq!(rows.len(), 1);
    let get = |c: &str| rows[0].try_get::<String>("", c).unwrap();
    assert_eq!(get("tenant_id"), "00000000-0000-0000-0000-000000000001");
    assert_eq!(get("mchid"), "1900000001");
    assert_eq!(get("private_key_enc"), sealed);
    assert_eq!(get("apiv3_key_enc"), "v1.sealed-apiv3");
    let old = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT 1 FROM ordering_payment_accounts".to_string(),
        ))
        .await;
    assert!(old.is_err(), "ordering's table is gone");
}

/// Indexes of tenant-owned tables that do not lead with `tenant_id`. Each is justified under
/// "Sharding" in ARCHITECTURE.md, which the test reads: adding one here without saying why there
/// fails.
const NOT_TENANT_LED: [&str; 4] = [
    "booking_outbox_due",
    "booking_reservations_expiry_idx",
    "identity_wechat_apps_appid_idx",
    "ordering_orders_expiry_idx",
];

/// Tables copied whole to every node under Citus (`tenants` is the appid and slug → tenant map,
/// read before the tenant is known), and sea-orm's own bookkeeping.
const REFERENCE_TABLES: [&str; 3] = ["identity_operators", "seaql_migrations", "tenants"];

/// The schema can be distributed by tenant with Citus: every table but the reference tables has
/// a `tenant_id`, its primary key and unique indexes include it (Citus cannot enforce uniqueness
/// across shards otherwise), and every other index leads with it or is justified.
#[tokio::test]
async fn every_tenant_owned_table_can_be_distributed_by_tenant() {
    if mm_testkit::backend() != mm_testkit::Backend::Postgres {
        return; // Citus is PostgreSQL; the SQLite run has nothing to distribute.
    }
    let storage = Storage::on(mm_testkit::Backend::Postgres).await;
    let db = mm_kernel::db::connect(&storage.settings().database)
        .await
        .unwrap();
    migrator().up(&db, None).await.unwrap();
    let rows = query(
        &db,
        "SELECT t.relname::text AS tbl, i.relname::text AS idx, ix.indisunique AS uniq, \
               a.attname::text AS lead, \
               EXISTS (SELECT 1 FROM pg_attribute c WHERE c.attrelid = t.oid \
                 AND c.attname = 'tenant_id' AND c.attnum = ANY (ix.indkey::int2[])) AS has_tenant, \
               EXISTS (SELECT 1 FROM pg_attribute c WHERE c.attrelid = t.oid \
                 AND c.attname = 'tenant_id' AND NOT c.attisdropped) AS tenant_owned \
             FROM pg_index ix \
             JOIN pg_class i ON i.oid = ix.indexrelid \
             JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ix.indkey[0] \
             WHERE n.nspname = current_schema() \
             ORDER BY 1, 2"
    )
    .await;
    let architecture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../ARCHITECTURE.md"
    ))
    .unwrap();
    let sharding = architecture
        .split("## Sharding")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("ARCHITECTURE.md has a Sharding section");

    let mut tables = std::collections::BTreeSet::new();
    let mut unjustified = Vec::new();
    let mut seen_allowed = Vec::new();
    for r in &rows {
        let get = |c: &str| r.try_get::<String>("", c).unwrap();
        let flag = |c: &str| r.try_get::<bool>("", c).unwrap();
        let (table, index) = (get("tbl"), get("idx"));
        if REFERENCE_TABLES.contains(&table.as_str()) {
            continue;
        }
        assert!(
            flag("tenant_owned"),
            "{table} has no tenant_id and is not a reference table"
        );
        tables.insert(table.clone());
        if flag("uniq") {
            assert!(
                flag("has_tenant"),
                "{index} on {table} is unique across tenants"
            );
        }
        if get("lead") != "tenant_id" {
            if NOT_TENANT_LED.contains(&index.as_str()) {
                seen_allowed.push(index.clone());
                assert!(
                    sharding.contains(&format!("`{index}`")),
                    "{index} is allowed here but not justified in ARCHITECTURE.md"
                );
            } else {
                unjustified.push(format!("{table}.{index}"));
            }
        }
    }
    assert_eq!(
        unjustified,
        Vec::<String>::new(),
        "indexes not led by tenant_id"
    );
    seen_allowed.sort();
    assert_eq!(
        seen_allowed, NOT_TENANT_LED,
        "every allowed exception still exists (drop the ones that went)"
    );
    // The distribution command in ARCHITECTURE.md names every tenant-owned table.
    for t in &tables {
        assert!(
            sharding.contains(&format!("'{t}'")),
            "{t} is missing from the create_distributed_table command in ARCHITECTURE.md"
        );
    }
}
