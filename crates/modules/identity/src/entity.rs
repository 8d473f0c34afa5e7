//! sea-orm entities, hand-written to match migrations/src/identity; they never leave repo.rs and
//! service.rs. Users and WeChat credentials belong to one tenant each ([`TenantOwned`], behind
//! row-level security on PostgreSQL); operators have no tenant, and sessions hold a tenant id or
//! "platform", so they are outside both.
//!
//! [`TenantOwned`]: mm_kernel::scope::TenantOwned

mm_kernel::tenant_owned!(users, wechat_apps);

/// `identity_users`: customers, staff and admins of one tenant; key (tenant_id, user_id).
pub mod users {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "identity_users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: String,
        pub role: String,
        pub display_name: String,
        pub login_name: Option<String>,
        pub phone: Option<String>,
        pub password_hash: Option<String>,
        pub wechat_openid: Option<String>,
        pub wechat_unionid: Option<String>,
        pub nickname: String,
        pub avatar_url: String,
        pub permissions: String,
        pub disabled: bool,
        pub last_login_at: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `identity_operators`: platform operators, above tenants.
pub mod operators {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "identity_operators")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub operator_id: String,
        pub login_name: String,
        pub display_name: String,
        pub password_hash: String,
        pub disabled: bool,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `identity_sessions`: one row per refresh token, hashed; rows of one login share a session_id.
pub mod sessions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "identity_sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub session_id: String,
        pub subject: String,
        pub expires_at: ChronoDateTimeUtc,
        pub spent_at: Option<ChronoDateTimeUtc>,
        pub revoked_at: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `identity_wechat_apps`: each tenant's mini-program appid and encrypted AppSecret.
pub mod wechat_apps {
    use mm_kernel::TenantId;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "identity_wechat_apps")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: TenantId,
        pub wechat_appid: String,
        pub secret_enc: String,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
