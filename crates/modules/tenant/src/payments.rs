//! The tenant's WeChat Pay merchant account, one per tenant and shared by every module that takes
//! payments (orders, booking deposits), all of which pay through the payments module. Admins set
//! it (keys checked, then sealed with the platform's secret key); the payments module fetches it
//! with the keys still sealed (`GetMerchantCredentials`, service tokens only) and opens them
//! itself (`mm_payments::merchant`).

use chrono::Utc;
use mm_kernel::error::{FieldViolation, RequestError};
use mm_kernel::json::timestamp as ts;
use mm_kernel::{RequestContext, TenantId, TenantScope};
use mm_proto::minimodules::tenant::v1 as pb;
use mm_wechatpay::MerchantKeys;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, IntoActiveModel};

use crate::error::{Result, TenantError};
use crate::service::TenantApp;

/// `tenant_payment_accounts`: a tenant's WeChat Pay merchant account, keys sealed.
pub mod accounts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenant_payment_accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: mm_kernel::TenantId,
        pub appid: String,
        pub mchid: String,
        pub merchant_serial_no: String,
        pub private_key_enc: String,
        pub apiv3_key_enc: String,
        pub platform_key_id: String,
        pub platform_public_key_pem: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mm_kernel::tenant_owned!(accounts);

async fn find(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
) -> Result<Option<accounts::Model>, DbErr> {
    scope.find::<accounts::Entity>().one(db).await
}

async fn put(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    mut row: accounts::Model,
    exists: bool,
) -> Result<(), DbErr> {
    row.tenant_id = scope.tenant();
    let am = row.into_active_model().reset_all();
    if exists {
        am.update(db).await?;
    } else {
        am.insert(db).await?;
    }
    Ok(())
}

/// A merchant account as an admin sets it.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    /// Mini-program appid payments are made in.
    pub appid: String,
    /// Merchant id.
    pub mchid: String,
    /// Merchant certificate serial.
    pub merchant_serial_no: String,
    /// Merchant private key PEM; empty keeps the stored one.
    pub private_key_pem: String,
    /// APIv3 key; empty keeps the stored one.
    pub apiv3_key: String,
    /// Platform key id.
    pub platform_key_id: String,
    /// Platform public key PEM.
    pub platform_public_key_pem: String,
}

impl AccountInput {
    /// The input of an update request.
    pub fn from_request(r: pb::UpdatePaymentAccountRequest) -> (String, Self) {
        let a = r.payment_account.unwrap_or_default();
        (
            a.name,
            Self {
                appid: a.appid,
                mchid: a.mchid,
                merchant_serial_no: a.merchant_serial_no,
                private_key_pem: r.merchant_private_key_pem,
                apiv3_key: r.apiv3_key,
                platform_key_id: a.platform_key_id,
                platform_public_key_pem: a.platform_public_key_pem,
            },
        )
    }
}

/// A merchant account to proto, secrets left out.
pub fn to_proto(tenant: TenantId, a: Option<&accounts::Model>) -> pb::PaymentAccount {
    let name = crate::names::PaymentAccountName::name(tenant);
    match a {
        None => pb::PaymentAccount {
            name,
            ..Default::default()
        },
        Some(a) => pb::PaymentAccount {
            name,
            mchid: a.mchid.clone(),
            merchant_serial_no: a.merchant_serial_no.clone(),
            platform_key_id: a.platform_key_id.clone(),
            platform_public_key_pem: a.platform_public_key_pem.clone(),
            appid: a.appid.clone(),
            secrets_set: true,
            update_time: Some(ts(a.updated_at)),
        },
    }
}

impl TenantApp {
    /// The tenant's merchant account, if any.
    pub async fn get_payment_account(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<Option<accounts::Model>> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let txn = scope.begin(self.db()).await?;
        let account = find(&txn, &scope).await?;
        txn.commit().await?;
        Ok(account)
    }

    /// The account with its keys sealed, for a module acting for the tenant.
    pub async fn merchant_credentials(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
    ) -> Result<accounts::Model> {
        self.get_payment_account(ctx, tenant)
            .await?
            .ok_or(TenantError::PaymentAccountMissing)
    }

    /// Sets the tenant's merchant account after checking every key loads; audited.
    pub async fn update_payment_account(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        input: AccountInput,
    ) -> Result<accounts::Model> {
        let (scope, _) = self.load_tenant(ctx, tenant).await?;
        let txn = scope.begin(self.db()).await?;
        let stored = find(&txn, &scope).await?;
        txn.commit().await?;
        let secrets = self.secrets();
        let private_key = match (&stored, input.private_key_pem.trim()) {
            (Some(s), "") => secrets.open(&s.private_key_enc)?,
            (_, k) => k.to_string(),
        };
        let apiv3 = match (&stored, input.apiv3_key.trim()) {
            (Some(s), "") => secrets.open(&s.apiv3_key_enc)?,
            (_, k) => k.to_string(),
        };
        let mut v = Vec::new();
        if input.appid.trim().is_empty() {
            v.push(FieldViolation::required("payment_account.appid"));
        }
        if let Err(mm_wechatpay::Error::InvalidKey { field, reason }) = MerchantKeys::new(
            input.mchid.trim(),
            input.merchant_serial_no.trim(),
            &private_key,
            &apiv3,
            input.platform_key_id.trim(),
            &input.platform_public_key_pem,
        ) {
            // Worded by the dashboard from the key's kind; the library's English stays for logs.
            let format = match field {
                "mchid" => "mchid",
                "merchant_private_key_pem" => "private_key",
                "platform_public_key_pem" => "public_key",
                "apiv3_key" => "apiv3_key",
                _ => "header_value",
            };
            let path = match field {
                "merchant_private_key_pem" | "apiv3_key" => field.to_string(),
                f => format!("payment_account.{f}"),
            };
            v.push(if reason == "must not be empty" {
                FieldViolation::required(path)
            } else {
                FieldViolation::new(path, reason)
                    .reason("INVALID_FORMAT")
                    .param("format", format)
            });
        }
        if !v.is_empty() {
            return Err(RequestError::Invalid(v).into());
        }
        let now = Utc::now();
        let row = accounts::Model {
            tenant_id: tenant,
            appid: input.appid.trim().to_string(),
            mchid: input.mchid.trim().to_string(),
            merchant_serial_no: input.merchant_serial_no.trim().to_string(),
            private_key_enc: secrets.seal(&private_key)?,
            apiv3_key_enc: secrets.seal(&apiv3)?,
            platform_key_id: input.platform_key_id.trim().to_string(),
            platform_public_key_pem: input.platform_public_key_pem.trim().to_string(),
            created_at: stored.as_ref().map_or(now, |s| s.created_at),
            updated_at: now,
        };
        let txn = scope.begin(self.db()).await?;
        put(&txn, &scope, row.clone(), stored.is_some()).await?;
        mm_kernel::audit::record(
            &txn,
            mm_kernel::audit::AuditRecord::by(
                ctx,
                Some(tenant),
                "tenant.payment_account.update",
                crate::names::PaymentAccountName::name(tenant),
            )
            .with(serde_json::json!({"mchid": row.mchid, "appid": row.appid})),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }
}
