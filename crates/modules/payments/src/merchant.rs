//! The tenant's WeChat Pay merchant account as the payments module uses it. The tenant module
//! keeps the account (one per tenant, for every paying module) and hands it out with the keys
//! still sealed, to service tokens only; this module opens them here with the platform's secret
//! key, so the keys never cross the wire in the clear, even in a mesh.
//!
//! (Moved here from the kernel: the kernel knows no WeChat Pay.)

use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::auth::JwtKeys;
use mm_kernel::module::ModuleContext;
use mm_kernel::module_config::{is_retryable, service_request};
use mm_kernel::names::tenant_name;
use mm_kernel::platform::Platform;
use mm_kernel::secrets::SecretBox;
use mm_proto::minimodules::tenant::v1 as pb;
use mm_wechatpay::MerchantKeys;

/// Why a merchant account could not be had.
#[derive(Debug, thiserror::Error)]
pub enum MerchantError {
    /// The tenant has not set up WeChat Pay.
    #[error("WeChat Pay is not set up for this shop")]
    Missing,
    /// The tenant service did not answer; worth a retry.
    #[error("the tenant service is unavailable")]
    Unavailable,
    /// Stored keys that do not open or load, or an unexpected answer.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A merchant account with its keys opened.
pub struct MerchantAccount {
    /// The mini-program appid payments are bound to ("" for any).
    pub appid: String,
    /// The merchant id.
    pub mchid: String,
    /// Keys for signing requests and checking and decrypting WeChat Pay's answers.
    pub keys: MerchantKeys,
}

impl MerchantAccount {
    /// Why a transaction WeChat Pay reports as paid is not this merchant's payment of
    /// `amount_fen` (another merchant, another mini-program, another amount), if it is not.
    pub fn mismatch(&self, t: &mm_wechatpay::Transaction, amount_fen: i64) -> Option<String> {
        if t.mchid != self.mchid {
            Some(format!("merchant {} is not this shop's", t.mchid))
        } else if !self.appid.is_empty() && t.appid != self.appid {
            Some(format!("appid {} is not this shop's", t.appid))
        } else if t.amount.total != amount_fen {
            Some(format!(
                "paid {} fen where {amount_fen} fen were due",
                t.amount.total
            ))
        } else {
            None
        }
    }
}

/// Merchant accounts, fetched through the tenant contract.
#[derive(Clone)]
pub struct Merchants {
    module: &'static str,
    channel: Platform,
    keys: Arc<JwtKeys>,
    secrets: SecretBox,
}

impl std::fmt::Debug for Merchants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merchants")
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

impl Merchants {
    /// Accounts fetched as `module` over the platform channel, opened with `secret_key`.
    pub fn new(
        module: &'static str,
        channel: Platform,
        keys: Arc<JwtKeys>,
        secret_key: &[u8; 32],
    ) -> Self {
        Self {
            module,
            channel,
            keys,
            secrets: SecretBox::new(secret_key),
        }
    }

    /// The tenant's account, keys opened and loaded.
    pub async fn get(&self, tenant: TenantId) -> Result<MerchantAccount, MerchantError> {
        let req = service_request(
            &self.keys,
            tenant,
            self.module,
            pb::GetMerchantCredentialsRequest {
                name: format!("{}/paymentAccount", tenant_name(tenant)),
            },
        )?;
        let r = pb::tenant_service_client::TenantServiceClient::new(self.channel.clone())
            .get_merchant_credentials(req)
            .await
            .map_err(|s| match s.code() {
                tonic::Code::NotFound => MerchantError::Missing,
                _ if is_retryable(&s) => MerchantError::Unavailable,
                _ => MerchantError::Internal(anyhow::anyhow!(
                    "GetMerchantCredentials: {:?}: {}",
                    s.code(),
                    s.message()
                )),
            })?
            .into_inner();
        let a = r.payment_account.unwrap_or_default();
        let keys = MerchantKeys::new(
            &a.mchid,
            &a.merchant_serial_no,
            &self.secrets.open(&r.sealed_private_key)?,
            &self.secrets.open(&r.sealed_apiv3_key)?,
            &a.platform_key_id,
            &a.platform_public_key_pem,
        )
        .map_err(|e| anyhow::anyhow!("stored merchant keys do not load: {e}"))?;
        Ok(MerchantAccount {
            appid: a.appid,
            mchid: a.mchid,
            keys,
        })
    }
}

/// WeChat Pay as this module uses it: the shop's merchant account, the protocol client, and the
/// URL WeChat Pay posts notifications to (`<public url><notify_path>/<tenant>`, the BFF route
/// that hands them to [`crate::PaymentsApp`]).
#[derive(Clone)]
pub struct WechatPay {
    merchants: Merchants,
    /// The WeChat Pay API client (the real host or the local fake).
    pub client: mm_wechatpay::Client,
    notify_base: String,
}

impl std::fmt::Debug for WechatPay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPay")
            .field("notify_base", &self.notify_base)
            .finish_non_exhaustive()
    }
}

impl WechatPay {
    /// WeChat Pay for `module`, its notifications expected at `notify_path` on the public URL.
    pub fn from_context(
        module: &'static str,
        ctx: &ModuleContext,
        notify_path: &str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            merchants: Merchants::new(
                module,
                ctx.platform.clone(),
                ctx.keys.clone(),
                &ctx.secret_key,
            ),
            client: mm_wechatpay::Client::new(&ctx.wechat_pay_base_url)
                .map_err(|e| anyhow::anyhow!("Failed to build the WeChat Pay client: {e}"))?,
            notify_base: format!("{}{notify_path}", ctx.public_base_url.trim_end_matches('/')),
        })
    }

    /// Where WeChat Pay posts the tenant's notifications.
    pub fn notify_url(&self, tenant: TenantId) -> String {
        format!("{}/{tenant}", self.notify_base)
    }

    /// The tenant's account, keys opened; `None` when the shop has not set WeChat Pay up.
    pub async fn account(
        &self,
        tenant: TenantId,
    ) -> Result<Option<MerchantAccount>, MerchantError> {
        match self.merchants.get(tenant).await {
            Ok(a) => Ok(Some(a)),
            Err(MerchantError::Missing) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The tenant's account, keys opened; [`MerchantError::Missing`] when not set up.
    pub async fn require_account(
        &self,
        tenant: TenantId,
    ) -> Result<MerchantAccount, MerchantError> {
        self.merchants.get(tenant).await
    }
}
