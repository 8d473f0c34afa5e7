//! Payment and refund notifications that WeChat POSTs to the merchant's notify_url.

use serde::Deserialize;

use crate::resource::{ALGORITHM, decrypt_resource};
use crate::sign::verify;
use crate::{Error, MerchantKeys, NotificationHeaders, RefundNotice, Transaction};

/// HTTP status to answer a notification that was handled (WeChat accepts 200 or 204, empty body).
pub const NOTIFICATION_ACK_STATUS: u16 = 204;

/// Body to answer (with a 4xx/5xx status) a notification that was not handled; WeChat retries.
pub fn notification_failure_body(message: &str) -> String {
    serde_json::json!({"code": "FAIL", "message": message}).to_string()
}

/// A verified, decrypted notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// WeChat's notification id; the same event retried keeps its id, so it is the dedupe key.
    pub id: String,
    pub create_time: String,
    /// e.g. `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`.
    pub event_type: String,
    pub summary: String,
    pub resource: NotificationResource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationResource {
    Transaction(Transaction),
    Refund(RefundNotice),
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(default)]
    create_time: String,
    event_type: String,
    #[serde(default)]
    summary: String,
    resource: EncryptedResource,
}

#[derive(Deserialize)]
struct EncryptedResource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

/// Verifies, decrypts and parses a notification.
///
/// `body` must be the raw request body: the signature covers its exact bytes. Nothing in the
/// body is trusted until the signature and the AEAD tag have both checked out.
pub fn parse_notification(
    keys: &MerchantKeys,
    headers: &NotificationHeaders,
    body: &[u8],
    now_unix: i64,
) -> Result<Notification, Error> {
    verify(keys, headers, body, now_unix)?;
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| Error::UnexpectedResponse {
            status: 0,
            detail: format!("notification envelope: {e}"),
        })?;
    let r = &envelope.resource;
    if r.algorithm != ALGORITHM {
        return Err(Error::Decrypt(format!(
            "unsupported algorithm {:?}",
            r.algorithm
        )));
    }
    let plain = decrypt_resource(keys, &r.nonce, &r.associated_data, &r.ciphertext)?;
    let bad =
        |e: serde_json::Error| Error::Decrypt(format!("resource is not the expected JSON: {e}"));
    let resource = if envelope.event_type.starts_with("TRANSACTION.") {
        NotificationResource::Transaction(serde_json::from_slice(&plain).map_err(bad)?)
    } else if envelope.event_type.starts_with("REFUND.") {
        NotificationResource::Refund(serde_json::from_slice(&plain).map_err(bad)?)
    } else {
        return Err(Error::UnexpectedResponse {
            status: 0,
            detail: format!("unsupported event_type {:?}", envelope.event_type),
        });
    };
    Ok(Notification {
        id: envelope.id,
        create_time: envelope.create_time,
        event_type: envelope.event_type,
        summary: envelope.summary,
        resource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::keys;
    use crate::sign::sign_message;
    use crate::{TradeState, VerifyError};

    // A whole notification made outside this crate: the resource encrypted by python3
    // `cryptography`, the body signed by `openssl dgst -sha256 -sign` (tests/fixtures/gen.sh).
    const BODY: &str = include_str!("../tests/fixtures/notification_body.json");
    const OPENSSL_SIGNATURE: &str = include_str!("../tests/fixtures/notification_signature.b64");
    const TIMESTAMP: i64 = 1_700_000_000;
    const NONCE: &str = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";

    fn headers() -> NotificationHeaders {
        NotificationHeaders {
            timestamp: TIMESTAMP.to_string(),
            nonce: NONCE.into(),
            signature: OPENSSL_SIGNATURE.trim().into(),
            serial: keys().platform_key_id().into(),
        }
    }

    #[test]
    fn parses_a_notification_signed_by_openssl_and_encrypted_by_python() {
        let n = parse_notification(&keys(), &headers(), BODY.as_bytes(), TIMESTAMP + 30).unwrap();
        assert_eq!(n.id, "EV-2018022511223320873");
        assert_eq!(n.event_type, "TRANSACTION.SUCCESS");
        let NotificationResource::Transaction(t) = n.resource else {
            panic!("expected a transaction");
        };
        assert_eq!(t.trade_state, TradeState::Success);
        assert_eq!(t.out_trade_no, "1217752501201407033233368018");
        assert_eq!(t.amount.total, 100);
        assert_eq!(t.attach.as_deref(), Some("order-42"));
        assert_eq!(t.payer.unwrap().openid, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    }

    #[test]
    fn our_signature_equals_openssls_for_the_same_message() {
        // PKCS#1 v1.5 is deterministic, so byte equality proves the message layout and padding.
        let ours = sign_message(&keys(), &format!("{TIMESTAMP}\n{NONCE}\n{BODY}\n")).unwrap();
        assert_eq!(ours, OPENSSL_SIGNATURE.trim());
    }

    #[test]
    fn a_replayed_notification_after_five_minutes_is_refused() {
        let r = parse_notification(&keys(), &headers(), BODY.as_bytes(), TIMESTAMP + 301);
        assert!(matches!(
            r,
            Err(Error::Verify(VerifyError::StaleTimestamp { .. }))
        ));
    }

    #[test]
    fn a_notification_with_an_edited_body_is_refused() {
        let edited = BODY.replace("\"summary\":\"支付成功\"", "\"summary\":\"x\"");
        assert_ne!(edited, BODY);
        let r = parse_notification(&keys(), &headers(), edited.as_bytes(), TIMESTAMP);
        assert!(matches!(r, Err(Error::Verify(VerifyError::BadSignature))));
    }

    #[test]
    fn a_validly_signed_notification_with_a_forged_resource_is_refused() {
        // Whoever holds the platform key could sign anything, but only the APIv3 key holder can
        // make a resource that decrypts: flip one ciphertext character and re-sign.
        let v: serde_json::Value = serde_json::from_str(BODY).unwrap();
        let ct = v["resource"]["ciphertext"].as_str().unwrap();
        let flipped = if ct.starts_with('A') { "B" } else { "A" };
        let forged = BODY.replacen(ct, &format!("{flipped}{}", &ct[1..]), 1);
        let sig = sign_message(&keys(), &format!("{TIMESTAMP}\n{NONCE}\n{forged}\n")).unwrap();
        let h = NotificationHeaders {
            signature: sig,
            ..headers()
        };
        let r = parse_notification(&keys(), &h, forged.as_bytes(), TIMESTAMP);
        assert!(matches!(r, Err(Error::Decrypt(_))));
    }

    #[test]
    fn failure_reply_is_wechats_fail_json() {
        let v: serde_json::Value =
            serde_json::from_str(&notification_failure_body("db down")).unwrap();
        assert_eq!(v, serde_json::json!({"code": "FAIL", "message": "db down"}));
    }
}
