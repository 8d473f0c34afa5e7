//! Migrations that move data keep it: merchant accounts stored by ordering before the account
//! moved to the tenant module are still there, byte for byte, after the move.

use mm_migrations::{Migrator, MigratorTrait as _};
use mm_testkit::Storage;
use sea_orm::{ConnectionTrait as _, Statement};

#[tokio::test]
async fn moving_merchant_accounts_to_the_tenant_module_keeps_them() {
    let storage = Storage::new().await;
    let settings = storage.settings();
    let db = mm_kernel::db::connect(&settings.database).await.unwrap();
    // Every migration before the move.
    let before = Migrator::migrations()
        .iter()
        .take_while(|m| m.name() < "m20261125_000800")
        .count();
    Migrator::up(&db, Some(u32::try_from(before).unwrap()))
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

    Migrator::up(&db, None).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT tenant_id, mchid, private_key_enc, apiv3_key_enc FROM tenant_payment_accounts"
                .to_string(),
        ))
        .await
        .unwrap();
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
