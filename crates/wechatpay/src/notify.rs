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

/// `parse_notification` on hostile input, as a bounded property-based fuzz in the normal test
/// suite (cargo-fuzz needs a nightly compiler): whatever the bytes and headers, it answers an
/// error or a notification and never panics. Unsigned input must be refused; signed input (as
/// whoever holds the platform key could send) reaches the envelope, the decryption and the
/// resource parser. Run longer with `PROPTEST_CASES=5000 cargo test -p mm-wechatpay fuzz`.
#[cfg(test)]
mod fuzz {
    use aes_gcm::aead::{Aead, Payload};
    use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::keys::tests::{APIV3, keys};
    use crate::sign::sign_message;

    const NOW: i64 = 1_700_000_000;

    fn text(max: usize) -> impl Strategy<Value = String> {
        vec(any::<char>(), 0..max).prop_map(String::from_iter)
    }

    /// Headers as WeChat would send them for `body`, signed with the platform key.
    fn signed(body: &str, nonce: &str) -> NotificationHeaders {
        let signature = sign_message(&keys(), &format!("{NOW}\n{nonce}\n{body}\n")).unwrap();
        NotificationHeaders {
            timestamp: NOW.to_string(),
            nonce: nonce.into(),
            signature,
            serial: keys().platform_key_id().into(),
        }
    }

    fn encrypt(nonce: &[u8; 12], aad: &str, plain: &[u8]) -> String {
        let key: [u8; 32] = APIV3.as_bytes().try_into().unwrap();
        let ct = Aes256Gcm::new((&key).into())
            .encrypt(
                &Nonce::from(*nonce),
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .unwrap();
        B64.encode(ct)
    }

    fn envelope(event_type: &str, algorithm: &str, nonce: &str, aad: &str, ct: &str) -> String {
        serde_json::json!({
            "id": "EV-fuzz",
            "create_time": "2023-11-14T22:13:20+08:00",
            "event_type": event_type,
            "resource_type": "encrypt-resource",
            "summary": "fuzz",
            "resource": {
                "algorithm": algorithm,
                "ciphertext": ct,
                "associated_data": aad,
                "nonce": nonce,
            }
        })
        .to_string()
    }

    fn event_type() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("TRANSACTION.SUCCESS".to_string()),
            Just("REFUND.SUCCESS".to_string()),
            text(24),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn any_bytes_and_headers_are_refused(
            body in vec(any::<u8>(), 0..512),
            timestamp in text(24),
            nonce in text(40),
            signature in text(400),
            serial in text(48),
            now in any::<i64>(),
        ) {
            let h = NotificationHeaders { timestamp, nonce, signature, serial };
            prop_assert!(parse_notification(&keys(), &h, &body, now).is_err());
        }

        #[test]
        fn any_signed_text_is_refused(body in text(256), nonce in text(32)) {
            let h = signed(&body, &nonce);
            prop_assert!(parse_notification(&keys(), &h, body.as_bytes(), NOW).is_err());
        }

        #[test]
        fn signed_envelopes_with_hostile_resources_are_refused(
            event_type in event_type(),
            algorithm in prop_oneof![Just(crate::ALGORITHM.to_string()), text(20)],
            nonce in text(16),
            aad in text(16),
            ciphertext in prop_oneof![vec(any::<u8>(), 0..64).prop_map(|b| B64.encode(b)), text(64)],
        ) {
            let body = envelope(&event_type, &algorithm, &nonce, &aad, &ciphertext);
            let h = signed(&body, "fuzz-nonce");
            prop_assert!(parse_notification(&keys(), &h, body.as_bytes(), NOW).is_err());
        }

        #[test]
        fn encrypted_resources_of_any_content_never_panic(
            event_type in event_type(),
            plain in prop_oneof![
                vec(any::<u8>(), 0..256),
                text(128).prop_map(String::into_bytes),
                Just(br#"{"mchid":"1230000109","appid":"wx0123456789abcdef","out_trade_no":"x","transaction_id":"t","trade_state":"SUCCESS","amount":{"total":-1}}"#.to_vec()),
            ],
            nonce in any::<[u8; 12]>().prop_map(|n| n.map(|b| b'a' + b % 26)),
        ) {
            let nonce_text = std::str::from_utf8(&nonce).unwrap();
            let ct = encrypt(&nonce, "transaction", &plain);
            let body = envelope(&event_type, crate::ALGORITHM, nonce_text, "transaction", &ct);
            let h = signed(&body, "fuzz-nonce");
            // Either outcome is fine; a panic is not.
            let _ = parse_notification(&keys(), &h, body.as_bytes(), NOW);
        }
    }
}
