//! The client every paying module uses for the payments module's contract
//! (`minimodules.payments.v1.PaymentService`): start a payment, ask how it stands, refund, close.
//! It knows the contract, not WeChat Pay: the merchant account, signing and the notification all
//! live in the payments module. What happens to the money comes back to the paying module at the
//! listener of its own contract (`PaymentEvent` / `PaymentEventAck`).
//!
//! A module calls it with a one-minute `ROLE_SERVICE` token for the tenant it acts for, and keeps
//! a [`PaymentRefusal`] as one variant of its own error (`Payment(#[from] PaymentRefusal)`) whose
//! code, reason and metadata it passes on, so a third paying module (coupons bought,
//! memberships) needs no copy of the calls or of the refusal mapping.

use std::collections::HashMap;
use std::sync::Arc;

use mm_proto::minimodules::payments::v1 as pb;
use pb::payment_service_client::PaymentServiceClient;

use crate::TenantId;
use crate::auth::JwtKeys;
use crate::module_config::{is_retryable, service_request};
use crate::platform::Platform;

/// Why the payments service did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum PaymentRefusal {
    /// The payments service (or WeChat Pay behind it) could not be reached: worth a retry.
    #[error("the payments service is unavailable; retry shortly")]
    Unavailable,
    /// WeChat Pay answered with an error; its code is kept for the caller's message.
    #[error("WeChat Pay refused: {code}: {message}")]
    WechatPay {
        /// WeChat Pay's own error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// Payment is not usable for this shop or customer (no merchant account, no WeChat identity).
    #[error("{0}")]
    NotUsable(String),
    /// The payment does not match what was asked (amount, payer).
    #[error("{0}")]
    Mismatch(String),
    /// Anything else: a bug on one side of the contract.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl PaymentRefusal {
    /// The status code a paying module answers with: the refusal passes through unchanged.
    pub fn code(&self) -> tonic::Code {
        match self {
            Self::Unavailable => tonic::Code::Unavailable,
            Self::WechatPay { .. } | Self::NotUsable(_) => tonic::Code::FailedPrecondition,
            Self::Mismatch(_) => tonic::Code::InvalidArgument,
            Self::Internal(_) => tonic::Code::Internal,
        }
    }

    /// The reason a paying module answers with.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unavailable => "UNAVAILABLE",
            Self::WechatPay { .. } => "WECHAT_PAY_ERROR",
            Self::NotUsable(_) => "PAYMENT_UNAVAILABLE",
            Self::Mismatch(_) => "PAYMENT_MISMATCH",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The error's metadata: WeChat Pay's code, for the caller's message.
    pub fn metadata(&self) -> HashMap<String, String> {
        match self {
            Self::WechatPay { code, .. } => HashMap::from([("wechat_code".into(), code.clone())]),
            _ => HashMap::new(),
        }
    }

    /// Whether asking again later may succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable)
    }

    fn of(s: &tonic::Status) -> Self {
        let reason = crate::error::reason_of(s);
        match s.code() {
            _ if is_retryable(s) => Self::Unavailable,
            tonic::Code::FailedPrecondition if reason.as_deref() == Some("WECHAT_PAY_ERROR") => {
                Self::WechatPay {
                    code: wechat_code(s),
                    message: s.message().to_string(),
                }
            }
            tonic::Code::FailedPrecondition => Self::NotUsable(s.message().into()),
            tonic::Code::InvalidArgument if reason.as_deref() == Some("PAYMENT_MISMATCH") => {
                Self::Mismatch(s.message().into())
            }
            _ => Self::Internal(anyhow::anyhow!(
                "the payments service: {:?}: {}",
                s.code(),
                s.message()
            )),
        }
    }
}

/// WeChat Pay's error code, as the payments service passes it on (`wechat_code` in the error's
/// metadata).
fn wechat_code(s: &tonic::Status) -> String {
    use tonic_types::StatusExt as _;
    s.get_error_details()
        .error_info()
        .and_then(|i| i.metadata.get("wechat_code").cloned())
        .unwrap_or_default()
}

/// The payments contract as one paying module (`module`, the token's audience) calls it.
#[derive(Clone, Debug)]
pub struct Payments {
    channel: Platform,
    keys: Arc<JwtKeys>,
    module: &'static str,
}

type Answer<T> = Result<T, PaymentRefusal>;

impl Payments {
    /// Calls over the platform channel, as `module`.
    pub fn new(channel: Platform, keys: Arc<JwtKeys>, module: &'static str) -> Self {
        Self {
            channel,
            keys,
            module,
        }
    }

    fn request<T>(&self, t: TenantId, msg: T) -> Answer<tonic::Request<T>> {
        Ok(service_request(&self.keys, t, self.module, msg)?)
    }

    fn client(&self) -> PaymentServiceClient<Platform> {
        PaymentServiceClient::new(self.channel.clone())
    }

    /// Starts (or repeats: same name, same prepay) the payment `req` describes.
    pub async fn create(
        &self,
        t: TenantId,
        req: pb::CreatePaymentRequest,
    ) -> Answer<pb::CreatePaymentResponse> {
        let r = self.client().create_payment(self.request(t, req)?).await;
        Ok(r.map_err(|s| PaymentRefusal::of(&s))?.into_inner())
    }

    /// Asks how the payment `name` stands; a success has been applied (through the listener)
    /// before this answers.
    pub async fn refresh(&self, t: TenantId, name: String) -> Answer<pb::RefreshPaymentResponse> {
        let req = self.request(t, pb::RefreshPaymentRequest { name })?;
        let r = self.client().refresh_payment(req).await;
        Ok(r.map_err(|s| PaymentRefusal::of(&s))?.into_inner())
    }

    /// Asks for a refund (or repeats the one with the same refund id): where it stands now.
    pub async fn refund(
        &self,
        t: TenantId,
        req: pb::RefundPaymentRequest,
    ) -> Answer<pb::RefundState> {
        let r = self.client().refund_payment(self.request(t, req)?).await;
        Ok(r.map_err(|s| PaymentRefusal::of(&s))?.into_inner().state())
    }

    /// Closes the unpaid payment `name` (nothing to close is not an error).
    pub async fn close(&self, t: TenantId, name: String) -> Answer<()> {
        let req = self.request(t, pb::ClosePaymentRequest { name })?;
        let r = self.client().close_payment(req).await;
        r.map_err(|s| PaymentRefusal::of(&s))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_what_the_caller_needs() {
        use crate::error::{DomainError, RequestError, to_status};
        assert!(matches!(
            PaymentRefusal::of(&tonic::Status::unavailable("down")),
            PaymentRefusal::Unavailable
        ));
        assert!(matches!(
            PaymentRefusal::of(&tonic::Status::failed_precondition("no merchant account")),
            PaymentRefusal::NotUsable(m) if m == "no merchant account"
        ));
        // A refusal with a reason, as a module's error mapping sends it.
        #[derive(Debug, thiserror::Error)]
        #[error("mismatch")]
        struct Mismatch;
        impl DomainError for Mismatch {
            fn code(&self) -> tonic::Code {
                tonic::Code::InvalidArgument
            }
            fn reason(&self) -> &'static str {
                "PAYMENT_MISMATCH"
            }
            fn domain(&self) -> &'static str {
                "payments.minimodules"
            }
        }
        assert!(matches!(
            PaymentRefusal::of(&to_status(&Mismatch)),
            PaymentRefusal::Mismatch(_)
        ));
        assert!(matches!(
            PaymentRefusal::of(&to_status(&RequestError::invalid("amount", "bad"))),
            PaymentRefusal::Internal(_)
        ));
    }
}
