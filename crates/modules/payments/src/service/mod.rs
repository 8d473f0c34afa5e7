//! The payments use cases, one file per concern: starting a payment (`start.rs`), asking WeChat
//! Pay how it stands, refunding and closing it (`settle.rs`), and WeChat Pay's notifications
//! (`notify.rs`). What happened to a payment's money is reported to the paying module that
//! started it, at the listener it named ([`PaymentsApp::report`]).
//!
//! The database is touched only in transactions of the payment's tenant (`scope.begin`), never
//! one held across a call to WeChat Pay or another module. A notification has no caller to
//! authorize: it is handled under the [`NOTIFICATIONS`] system scope, narrowed to the tenant of
//! the notify URL, whose merchant key must have signed it.

mod notify;
mod settle;
mod start;

use mm_kernel::module::ModuleContext;
use mm_kernel::names::name_of;
use mm_kernel::{TenantId, TenantScope};
use mm_proto::minimodules::payments::v1 as pb;
use sea_orm::DatabaseConnection;

use crate::domain::Status;
use crate::entity::payments;
use crate::error::{PaymentsError, Result};
use crate::merchant::WechatPay;
use crate::names::Payments;
use crate::repo;
use crate::upstream::Upstream;

/// The name of the [`mm_kernel::SystemScope`] WeChat Pay's notifications are handled under: they
/// come with no caller, only the tenant of the notify URL and a signature of that tenant's
/// merchant key.
pub const NOTIFICATIONS: &str = "payments.wechat_notification";

/// Where WeChat Pay posts notifications: `<public url>` + this + `/<tenant>` (the BFF route in
/// `bff.rs`).
pub const NOTIFY_PATH: &str = "/api/v1/payments/wechat/notify";

/// The payments service.
#[derive(Clone, Debug)]
pub struct PaymentsApp {
    db: DatabaseConnection,
    pay: WechatPay,
    upstream: Upstream,
}

impl PaymentsApp {
    /// The service over a module context.
    pub fn from_context(ctx: &ModuleContext) -> anyhow::Result<Self> {
        Ok(Self {
            db: ctx.db.clone(),
            pay: WechatPay::from_context(crate::upstream::MODULE, ctx, NOTIFY_PATH)?,
            upstream: Upstream::new(ctx.platform.clone(), ctx.keys.clone()),
        })
    }

    /// The payment, read in a transaction of the scope; PAYMENT_NOT_FOUND when never started.
    async fn load(&self, scope: &TenantScope, payment_id: &str) -> Result<payments::Model> {
        let txn = scope.begin(&self.db).await?;
        let row = repo::find(&txn, scope, payment_id).await?;
        txn.commit().await?;
        row.ok_or_else(|| PaymentsError::PaymentNotFound {
            payment: name_of::<Payments>(scope.tenant(), payment_id),
        })
    }

    /// Records a payment WeChat Pay reports paid (already checked against the account and the
    /// amount) and reports it to the paying module: answers the listener's `applied`. The row is
    /// marked first, so a failed report (answered as an error: WeChat retries, a refresh reports
    /// again) never loses the payment; the listener takes repeats.
    async fn paid(
        &self,
        scope: &TenantScope,
        row: &payments::Model,
        transaction_id: &str,
        notification: Option<(&str, &str)>,
    ) -> Result<bool> {
        if row.status != Status::Paid.as_str() {
            let txn = scope.begin(&self.db).await?;
            repo::mark_paid(&txn, scope, &row.payment_id, transaction_id).await?;
            txn.commit().await?;
        }
        let (notification_id, event_type) = notification.unwrap_or_default();
        self.report(
            scope.tenant(),
            row,
            pb::PaymentEvent {
                kind: pb::PaymentEventKind::Paid as i32,
                transaction_id: transaction_id.to_string(),
                notification_id: notification_id.to_string(),
                event_type: event_type.to_string(),
                ..Default::default()
            },
        )
        .await
    }

    /// Sends `event` (its payment, reference and amount filled in from `row`) to the row's
    /// listener.
    async fn report(
        &self,
        tenant: TenantId,
        row: &payments::Model,
        event: pb::PaymentEvent,
    ) -> Result<bool> {
        let event = pb::PaymentEvent {
            payment: name_of::<Payments>(tenant, &row.payment_id),
            reference: row.reference.clone(),
            amount_fen: row.amount_fen,
            ..event
        };
        self.upstream.report(tenant, &row.listener, event).await
    }
}
