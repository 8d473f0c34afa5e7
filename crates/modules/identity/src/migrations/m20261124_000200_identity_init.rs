//! Users of each tenant, platform operators, login sessions (refresh tokens, stored hashed) and
//! each tenant's WeChat credentials (the secret encrypted). Platform operators' sessions are kept
//! under the tenant id "platform".

use sea_orm_migration::prelude::*;

use mm_migrations::cols::ts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000200_identity_init"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("identity_users")
                    .col(ColumnDef::new("tenant_id").string_len(36).not_null())
                    .col(ColumnDef::new("user_id").string_len(36).not_null())
                    .col(ColumnDef::new("role").string_len(16).not_null())
                    .col(ColumnDef::new("display_name").string_len(256).not_null())
                    .col(ColumnDef::new("login_name").string_len(64).null())
                    .col(ColumnDef::new("phone").string_len(32).null())
                    .col(ColumnDef::new("password_hash").string_len(256).null())
                    .col(ColumnDef::new("wechat_openid").string_len(128).null())
                    .col(ColumnDef::new("wechat_unionid").string_len(128).null())
                    .col(ColumnDef::new("nickname").string_len(256).not_null())
                    .col(ColumnDef::new("avatar_url").string_len(2048).not_null())
                    .col(ColumnDef::new("permissions").text().not_null())
                    .col(ColumnDef::new("disabled").boolean().not_null())
                    .col(
                        ColumnDef::new("last_login_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("user_id"))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("identity_users_login_key", "login_name"),
            ("identity_users_openid_key", "wechat_openid"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("identity_users")
                        .col("tenant_id")
                        .col(col)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("identity_operators")
                    .col(
                        ColumnDef::new("operator_id")
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("login_name").string_len(64).not_null())
                    .col(ColumnDef::new("display_name").string_len(256).not_null())
                    .col(ColumnDef::new("password_hash").string_len(256).not_null())
                    .col(ColumnDef::new("disabled").boolean().not_null())
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("identity_operators_login_key")
                    .table("identity_operators")
                    .col("login_name")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("identity_sessions")
                    .col(ColumnDef::new("tenant_id").string_len(36).not_null())
                    .col(ColumnDef::new("token_hash").string_len(64).not_null())
                    .col(ColumnDef::new("session_id").string_len(36).not_null())
                    .col(ColumnDef::new("subject").string_len(64).not_null())
                    .col(
                        ColumnDef::new("expires_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new("spent_at").timestamp_with_time_zone().null())
                    .col(
                        ColumnDef::new("revoked_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ts("created_at"))
                    .primary_key(Index::create().col("tenant_id").col("token_hash"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("identity_sessions_session_idx")
                    .table("identity_sessions")
                    .col("tenant_id")
                    .col("session_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("identity_sessions_subject_idx")
                    .table("identity_sessions")
                    .col("tenant_id")
                    .col("subject")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("identity_wechat_apps")
                    .col(
                        ColumnDef::new("tenant_id")
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("wechat_appid").string_len(32).not_null())
                    .col(ColumnDef::new("secret_enc").text().not_null())
                    .col(ts("updated_at"))
                    .to_owned(),
            )
            .await?;
        // An appid names one tenant's mini-program: login finds the tenant by it.
        manager
            .create_index(
                Index::create()
                    .name("identity_wechat_apps_appid_key")
                    .table("identity_wechat_apps")
                    .col("wechat_appid")
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "identity_wechat_apps",
            "identity_sessions",
            "identity_operators",
            "identity_users",
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
