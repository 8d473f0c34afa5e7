//! The rules of a payment, without I/O: what a payment's name, its payer, its listener and a
//! refund may look like, and what WeChat Pay's refund states mean to the paying module.

use chrono::{DateTime, FixedOffset, Utc};
use mm_kernel::error::{DomainError as _, FieldViolation, RequestError};
use mm_kernel::names::name_of;
use mm_kernel::{Role, TenantId};
use mm_proto::minimodules::payments::v1 as pb;
use mm_wechatpay::RefundStatus;

use crate::names::{PaymentName, UserName, Users};

/// A payment row's status: started (a prepay may exist) or paid (checked and recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Started, not (yet) known to be paid.
    Open,
    /// WeChat Pay reported it paid and it checked out against the account and the amount.
    Paid,
}

impl Status {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paid => "paid",
        }
    }
}

/// The longest out_trade_no WeChat Pay takes.
pub const MAX_PAYMENT_ID: usize = 32;
/// The longest out_refund_no WeChat Pay takes.
pub const MAX_REFUND_ID: usize = 64;
/// The longest description WeChat Pay takes (characters).
pub const MAX_DESCRIPTION: usize = 127;
/// The longest reference a paying module may hand over (the column's width).
pub const MAX_REFERENCE: usize = 64;
/// The longest listener path (the column's width).
pub const MAX_LISTENER: usize = 256;
/// The longest payer name (the column's width).
pub const MAX_PAYER: usize = 256;
/// How much of a refund reason is sent to WeChat Pay (characters).
pub const MAX_REASON: usize = 80;

/// WeChat's character set for out_trade_no and out_refund_no: letters, digits, `_-|*@`.
fn is_trade_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '|' | '*' | '@')
}

/// Why `id` cannot be a WeChat trade (or refund) number of at most `max` characters, if not.
fn trade_no_problem(id: &str, max: usize) -> Option<String> {
    if id.is_empty() || id.len() > max {
        Some(format!("must be 1 to {max} characters"))
    } else if !id.chars().all(is_trade_char) {
        Some("only letters, digits and _ - | * @".into())
    } else {
        None
    }
}

/// Parses "tenants/{tenant}/payments/{payment}"; the payment id becomes WeChat's out_trade_no,
/// so 1 to 32 letters, digits or `_-|*@`.
pub fn payment_name(name: &str, field: &str) -> Result<PaymentName, RequestError> {
    let n = PaymentName::parse(name, field)?;
    if let Some(why) = trade_no_problem(n.id(), MAX_PAYMENT_ID) {
        return Err(RequestError::invalid(field, format!("payment id {why}")));
    }
    Ok(n)
}

/// Why `path` cannot be a listener, if not: it must be the full path of a unary RPC of our
/// contracts ("/minimodules.<module>.v1.<Service>/<Method>") that module services may call.
pub fn listener_problem(path: &str) -> Option<String> {
    let shape = || {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        let word =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let parts: Vec<&str> = service.split('.').collect();
        (parts.len() >= 2 && parts.iter().all(|p| word(p)) && word(method)).then_some(())
    };
    if path.len() > MAX_LISTENER || shape().is_none() {
        return Some("must be a gRPC method path like \"/package.Service/Method\"".into());
    }
    match mm_proto::method(path) {
        None => Some(format!(
            "{path} is not a method of the platform's contracts"
        )),
        Some(m) if m.server_streaming => Some(format!("{path} is a stream, not a unary method")),
        Some(m) if !m.roles.contains(&Role::Service) => Some(format!(
            "{path} does not admit module services (ROLE_SERVICE)"
        )),
        Some(_) => None,
    }
}

/// What a paying module asks to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// The tenant.
    pub tenant: TenantId,
    /// The payment id (out_trade_no).
    pub payment_id: String,
    /// What the customer sees.
    pub description: String,
    /// Fen.
    pub amount_fen: i64,
    /// When WeChat stops taking it.
    pub expire_time: Option<DateTime<Utc>>,
    /// "tenants/{tenant}/users/{user}".
    pub payer: String,
    /// The listener's method path.
    pub listener: String,
    /// The paying module's id of what is paid.
    pub reference: String,
}

/// Checks a CreatePayment request, every field at once.
pub fn new_payment(r: &pb::CreatePaymentRequest) -> Result<NewPayment, RequestError> {
    let (tenant, payment_id) = payment_name(&r.name, "name")?.into_parts();
    let mut bad = Vec::new();
    let description = r.description.trim();
    if description.is_empty() || description.chars().count() > MAX_DESCRIPTION {
        bad.push(FieldViolation::new(
            "description",
            format!("must be 1 to {MAX_DESCRIPTION} characters"),
        ));
    }
    if r.amount_fen <= 0 {
        bad.push(FieldViolation::new("amount_fen", "must be more than 0"));
    }
    let expire_time = match &r.expire_time {
        None => None,
        Some(t) => match u32::try_from(t.nanos)
            .ok()
            .and_then(|n| DateTime::from_timestamp(t.seconds, n))
        {
            Some(t) => Some(t),
            None => {
                bad.push(FieldViolation::new("expire_time", "not a valid time"));
                None
            }
        },
    };
    match UserName::parse(&r.payer, "payer") {
        // Compared as text: the payer is stored and handed to identity as sent, so it must be
        // spelled as this tenant's names are (not, say, with the tenant id in upper case).
        Ok(p) if name_of::<Users>(tenant, p.id()) != r.payer => bad.push(FieldViolation::new(
            "payer",
            "must be a user of the payment's tenant",
        )),
        Ok(_) if r.payer.len() > MAX_PAYER => bad.push(FieldViolation::new(
            "payer",
            format!("at most {MAX_PAYER} characters"),
        )),
        Ok(_) => {}
        Err(e) => bad.extend(e.field_violations()),
    }
    if let Some(why) = listener_problem(&r.listener) {
        bad.push(FieldViolation::new("listener", why));
    }
    if r.reference.is_empty() || r.reference.chars().count() > MAX_REFERENCE {
        bad.push(FieldViolation::new(
            "reference",
            format!("must be 1 to {MAX_REFERENCE} characters"),
        ));
    }
    if !bad.is_empty() {
        return Err(RequestError::Invalid(bad));
    }
    Ok(NewPayment {
        tenant,
        payment_id,
        description: description.to_string(),
        amount_fen: r.amount_fen,
        expire_time,
        payer: r.payer.clone(),
        listener: r.listener.clone(),
        reference: r.reference.clone(),
    })
}

/// What a paying module asks to refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundAsk {
    /// The tenant.
    pub tenant: TenantId,
    /// The payment id (out_trade_no).
    pub payment_id: String,
    /// out_refund_no.
    pub refund_id: String,
    /// Fen to give back.
    pub refund_fen: i64,
    /// Fen paid.
    pub total_fen: i64,
    /// At most [`MAX_REASON`] characters, or none.
    pub reason: Option<String>,
}

/// Checks a RefundPayment request, every field at once.
pub fn refund_ask(r: &pb::RefundPaymentRequest) -> Result<RefundAsk, RequestError> {
    let (tenant, payment_id) = payment_name(&r.name, "name")?.into_parts();
    let mut bad = Vec::new();
    if let Some(why) = trade_no_problem(&r.refund_id, MAX_REFUND_ID) {
        bad.push(FieldViolation::new("refund_id", why));
    }
    if r.refund_fen <= 0 {
        bad.push(FieldViolation::new("refund_fen", "must be more than 0"));
    }
    if r.total_fen < r.refund_fen.max(1) {
        bad.push(FieldViolation::new(
            "total_fen",
            "must be at least the refund and more than 0",
        ));
    }
    if !bad.is_empty() {
        return Err(RequestError::Invalid(bad));
    }
    let reason: String = r.reason.trim().chars().take(MAX_REASON).collect();
    Ok(RefundAsk {
        tenant,
        payment_id,
        refund_id: r.refund_id.clone(),
        refund_fen: r.refund_fen,
        total_fen: r.total_fen,
        reason: (!reason.is_empty()).then_some(reason),
    })
}

/// Where a refund stands, as the contract says it: an unknown state WeChat may add later is
/// taken as still processing (its notification settles it).
pub fn refund_state(s: RefundStatus) -> pb::RefundState {
    match s {
        RefundStatus::Success => pb::RefundState::Succeeded,
        RefundStatus::Processing | RefundStatus::Unknown => pb::RefundState::Processing,
        RefundStatus::Closed => pb::RefundState::Closed,
        RefundStatus::Abnormal => pb::RefundState::Abnormal,
    }
}

/// What a refund notification reports to the paying module; `None` when it reports nothing
/// final (still processing, or a state we do not know).
pub fn refund_event(s: RefundStatus) -> Option<pb::PaymentEventKind> {
    match s {
        RefundStatus::Success => Some(pb::PaymentEventKind::Refunded),
        RefundStatus::Closed | RefundStatus::Abnormal => Some(pb::PaymentEventKind::RefundFailed),
        RefundStatus::Processing | RefundStatus::Unknown => None,
    }
}

/// The shop's offset for times handed to WeChat Pay (China Standard Time, as ordering and
/// booking always sent them).
pub fn shop_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// `time_expire` as WeChat Pay takes it: RFC 3339 to the second, in the shop's offset.
pub fn wechat_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&shop_offset())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTENER: &str = "/minimodules.payments.v1.PaymentService/CreatePayment";

    fn request(t: TenantId) -> pb::CreatePaymentRequest {
        pb::CreatePaymentRequest {
            name: format!("tenants/{t}/payments/0190a1b2c3d4e5f60718293a4b5c6d7e"),
            description: "订单 20261206-0001".into(),
            amount_fen: 1800,
            expire_time: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            payer: format!("tenants/{t}/users/0190a1b2-c3d4-e5f6-0718-293a4b5c6d7e"),
            listener: LISTENER.into(),
            reference: "0190a1b2-c3d4-e5f6-0718-293a4b5c6d7e".into(),
        }
    }

    fn fields(e: RequestError) -> Vec<String> {
        e.field_violations().into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn a_well_formed_payment_is_taken() {
        let t = TenantId::new();
        let p = new_payment(&request(t)).unwrap();
        assert_eq!(p.tenant, t);
        assert_eq!(p.payment_id, "0190a1b2c3d4e5f60718293a4b5c6d7e");
        assert_eq!(p.amount_fen, 1800);
        assert_eq!(p.expire_time.unwrap().timestamp(), 1_800_000_000);
    }

    #[test]
    fn payment_ids_are_what_wechat_takes_as_out_trade_no() {
        let t = TenantId::new();
        for ok in ["a", "A-b_c|d*e@f", &"9".repeat(32)] {
            assert!(
                payment_name(&format!("tenants/{t}/payments/{ok}"), "name").is_ok(),
                "{ok}"
            );
        }
        for bad in [&"9".repeat(33), "a.b", "订单", "a b", "a%20"] {
            assert!(
                payment_name(&format!("tenants/{t}/payments/{bad}"), "name").is_err(),
                "{bad}"
            );
        }
        assert!(payment_name("tenants/not-a-uuid/payments/a", "name").is_err());
        assert!(payment_name(&format!("tenants/{t}/orders/a"), "name").is_err());
        assert!(payment_name(&format!("tenants/{t}/payments/"), "name").is_err());
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let t = TenantId::new();
        let r = pb::CreatePaymentRequest {
            description: " ".into(),
            amount_fen: 0,
            expire_time: Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -1,
            }),
            payer: format!("tenants/{}/users/u1", TenantId::new()),
            listener: "ordering.OnPaymentEvent".into(),
            reference: String::new(),
            ..request(t)
        };
        assert_eq!(
            fields(new_payment(&r).unwrap_err()),
            [
                "description",
                "amount_fen",
                "expire_time",
                "payer",
                "listener",
                "reference"
            ]
        );
        let negative = pb::CreatePaymentRequest {
            amount_fen: -5,
            ..request(t)
        };
        assert_eq!(fields(new_payment(&negative).unwrap_err()), ["amount_fen"]);
        let long = pb::CreatePaymentRequest {
            description: "字".repeat(128),
            ..request(t)
        };
        assert_eq!(fields(new_payment(&long).unwrap_err()), ["description"]);
    }

    #[test]
    fn the_payer_is_a_user_of_the_same_tenant() {
        let t = TenantId::new();
        for payer in [
            "users/u1".to_string(),
            format!("tenants/{t}/staff/u1"),
            format!("tenants/{t}/users/"),
            format!("tenants/{t}/users/u1/x"),
            format!("tenants/{}/users/u1", t.to_string().to_uppercase()),
        ] {
            let r = pb::CreatePaymentRequest {
                payer: payer.clone(),
                ..request(t)
            };
            assert_eq!(fields(new_payment(&r).unwrap_err()), ["payer"], "{payer}");
        }
    }

    #[test]
    fn a_listener_is_a_unary_method_module_services_may_call() {
        assert_eq!(listener_problem(LISTENER), None);
        for bad in [
            "",
            "/",
            "CreatePayment",
            "/PaymentService/CreatePayment",
            "/minimodules.payments.v1.PaymentService/",
            "/minimodules.payments.v1.PaymentService/CreatePayment/x",
            "/minimodules..PaymentService/CreatePayment",
            "minimodules.payments.v1.PaymentService/CreatePayment",
        ] {
            assert!(
                listener_problem(bad)
                    .unwrap()
                    .contains("/package.Service/Method"),
                "{bad:?}"
            );
        }
        // Well formed but no method of ours.
        assert!(
            listener_problem("/minimodules.payments.v1.PaymentService/Nope")
                .unwrap()
                .contains("not a method")
        );
        // A public method: not for module services.
        assert!(
            listener_problem("/minimodules.payments.v1.PaymentService/HandleWechatNotification")
                .unwrap()
                .contains("ROLE_SERVICE")
        );
    }

    #[test]
    fn refunds_are_checked_and_their_reason_cut_to_80_characters() {
        let t = TenantId::new();
        let ok = pb::RefundPaymentRequest {
            name: format!("tenants/{t}/payments/p1"),
            refund_id: "p1".into(),
            refund_fen: 500,
            total_fen: 1800,
            reason: "退".repeat(100),
        };
        let r = refund_ask(&ok).unwrap();
        assert_eq!(r.reason.unwrap().chars().count(), 80);
        let blank = pb::RefundPaymentRequest {
            reason: "  ".into(),
            ..ok.clone()
        };
        assert_eq!(refund_ask(&blank).unwrap().reason, None);
        let bad = pb::RefundPaymentRequest {
            refund_id: "a.b".into(),
            refund_fen: 0,
            total_fen: 0,
            ..ok.clone()
        };
        assert_eq!(
            fields(refund_ask(&bad).unwrap_err()),
            ["refund_id", "refund_fen", "total_fen"]
        );
        let more_than_paid = pb::RefundPaymentRequest {
            refund_fen: 1801,
            ..ok
        };
        assert_eq!(
            fields(refund_ask(&more_than_paid).unwrap_err()),
            ["total_fen"]
        );
    }

    #[test]
    fn wechat_refund_states_map_to_the_contract() {
        use pb::{PaymentEventKind as K, RefundState as S};
        let rows = [
            (RefundStatus::Success, S::Succeeded, Some(K::Refunded)),
            (RefundStatus::Processing, S::Processing, None),
            (RefundStatus::Closed, S::Closed, Some(K::RefundFailed)),
            (RefundStatus::Abnormal, S::Abnormal, Some(K::RefundFailed)),
            (RefundStatus::Unknown, S::Processing, None),
        ];
        for (wechat, state, event) in rows {
            assert_eq!(refund_state(wechat), state, "{wechat:?}");
            assert_eq!(refund_event(wechat), event, "{wechat:?}");
        }
    }

    #[test]
    fn expiry_is_sent_in_china_standard_time() {
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(wechat_time(t), "2027-01-15T16:00:00+08:00");
    }
}
