//! An appid is no longer unique in `identity_wechat_apps`: the `tenants` table (a reference table
//! under Citus) is the one map from appid to tenant, and login asks the tenant module for it.
//! Citus cannot enforce a unique index on a distributed table without the tenant in it.
//!
//! A plain index on the appid stays for the one question identity still asks by appid alone:
//! whether a refused login's appid has credentials left behind by a closed or moved shop (see
//! "Sharding" in ARCHITECTURE.md).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000200_identity_appid_not_unique"
    }
}

const UNIQUE: &str = "identity_wechat_apps_appid_key";
const PLAIN: &str = "identity_wechat_apps_appid_idx";

/// Replaces the index named `from` on the appid with `to`, unique or not.
async fn swap(
    manager: &SchemaManager<'_>,
    from: &str,
    to: &str,
    unique: bool,
) -> Result<(), DbErr> {
    let table = "identity_wechat_apps";
    manager
        .drop_index(Index::drop().name(from).table(table).to_owned())
        .await?;
    let mut index = Index::create();
    index.name(to).table(table).col("wechat_appid");
    if unique {
        index.unique();
    }
    manager.create_index(index).await
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        swap(manager, UNIQUE, PLAIN, false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        swap(manager, PLAIN, UNIQUE, true).await
    }
}
