//! The payments module's calls to other modules, always through their contracts with a
//! one-minute `ROLE_SERVICE` token for the tenant it acts for: identity (who pays, from which
//! mini-program) and the paying modules' listeners (what happened to their payments). The tenant
//! module's merchant account is fetched in `merchant.rs`.

use std::sync::Arc;

use mm_kernel::TenantId;
use mm_kernel::auth::JwtKeys;
use mm_kernel::module_config::{is_retryable, service_request};
use mm_kernel::platform::Platform;
use mm_proto::minimodules::identity::v1 as identity;
use mm_proto::minimodules::payments::v1 as pb;

use crate::error::{PaymentsError, Result};

/// The module name service tokens are minted for.
pub const MODULE: &str = "payments";

/// Clients of the other modules.
#[derive(Clone, Debug)]
pub struct Upstream {
    channel: Platform,
    keys: Arc<JwtKeys>,
}

impl Upstream {
    /// Calls over the platform channel, with service tokens signed by `keys`.
    pub fn new(channel: Platform, keys: Arc<JwtKeys>) -> Self {
        Self { channel, keys }
    }

    fn request<T>(&self, tenant: TenantId, msg: T) -> Result<tonic::Request<T>> {
        Ok(service_request(&self.keys, tenant, MODULE, msg)?)
    }

    /// The customer's openid and the shop's appid, for `payer` ("tenants/{t}/users/{u}").
    pub async fn payer(&self, tenant: TenantId, payer: &str) -> Result<(String, String)> {
        let mut client =
            identity::user_service_client::UserServiceClient::new(self.channel.clone());
        let r = client
            .get_payer(self.request(
                tenant,
                identity::GetPayerRequest {
                    name: payer.to_string(),
                },
            )?)
            .await
            .map_err(|s| match s.code() {
                tonic::Code::NotFound | tonic::Code::PermissionDenied => {
                    PaymentsError::PaymentUnavailable(format!(
                        "WeChat Pay needs a WeChat login: {}",
                        s.message()
                    ))
                }
                _ if is_retryable(&s) => PaymentsError::Unavailable("the identity service".into()),
                _ => PaymentsError::Internal(anyhow::anyhow!(
                    "GetPayer: {:?}: {}",
                    s.code(),
                    s.message()
                )),
            })?
            .into_inner();
        Ok((r.openid, r.appid))
    }

    /// Reports `event` to the paying module at `listener` (a unary method taking `PaymentEvent`
    /// and answering `PaymentEventAck`), as a module service of `tenant`. Answers the listener's
    /// `applied`; its refusal comes back as [`PaymentsError::Listener`] with its status.
    pub async fn report(
        &self,
        tenant: TenantId,
        listener: &str,
        event: pb::PaymentEvent,
    ) -> Result<bool> {
        let path = http::uri::PathAndQuery::try_from(listener)
            .map_err(|e| anyhow::anyhow!("listener {listener:?} is not a path: {e}"))?;
        let req = self.request(tenant, event)?;
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready().await.map_err(|e| {
            PaymentsError::Listener(tonic::Status::unavailable(format!(
                "{listener} cannot be reached: {e}"
            )))
        })?;
        let codec = tonic_prost::ProstCodec::<pb::PaymentEvent, pb::PaymentEventAck>::default();
        let ack = grpc.unary(req, path, codec).await.map_err(|s| {
            tracing::warn!(%listener, code = ?s.code(), message = s.message(), "the paying module did not take a payment event");
            PaymentsError::Listener(s)
        })?;
        Ok(ack.into_inner().applied)
    }
}
