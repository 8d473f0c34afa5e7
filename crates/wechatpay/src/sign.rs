//! RSA-SHA256 (PKCS#1 v1.5) signatures in both directions, with WeChat's message layouts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand08::Rng;
use rand08::distributions::Alphanumeric;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use sha2::Sha256;

use crate::{Error, MerchantKeys, VerifyError};

/// WeChat's documented replay window for signed responses and notifications.
pub const REPLAY_WINDOW_SECS: i64 = 5 * 60;

/// The scheme name in `Authorization`; WeChat rejects anything else.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// A random 32-character nonce, the length WeChat's own SDKs use.
pub fn nonce_str() -> String {
    rand08::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// base64(RSA-SHA256, PKCS#1 v1.5) of `message` with the merchant key, signed by ring.
pub(crate) fn sign_message(keys: &MerchantKeys, message: &str) -> Result<String, Error> {
    let key = &keys.merchant_key;
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        message.as_bytes(),
        &mut sig,
    )
    .map_err(|e| Error::Sign(e.to_string()))?;
    Ok(B64.encode(sig))
}

/// The `Authorization` header value for one request.
///
/// `url_path_with_query` must be exactly what goes on the request line (e.g.
/// `/v3/pay/transactions/out-trade-no/X?mchid=1`), and `body` exactly the bytes sent (empty for
/// GET): WeChat signs over the raw bytes, so re-serialising would break the signature.
pub fn authorization(
    keys: &MerchantKeys,
    method: &str,
    url_path_with_query: &str,
    body: &str,
    timestamp: i64,
    nonce: &str,
) -> Result<String, Error> {
    let message = format!("{method}\n{url_path_with_query}\n{timestamp}\n{nonce}\n{body}\n");
    let signature = sign_message(keys, &message)?;
    Ok(format!(
        "{AUTH_SCHEME} mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
        keys.mchid, keys.merchant_serial_no
    ))
}

/// The `Wechatpay-*` headers WeChat puts on responses and notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationHeaders {
    /// `Wechatpay-Timestamp`, seconds since the epoch as text.
    pub timestamp: String,
    /// `Wechatpay-Nonce`.
    pub nonce: String,
    /// `Wechatpay-Signature`, base64.
    pub signature: String,
    /// `Wechatpay-Serial`: which platform key signed.
    pub serial: String,
}

impl NotificationHeaders {
    /// Reads the four headers from an `http::HeaderMap` (as axum and reqwest expose).
    pub fn from_header_map(headers: &reqwest::header::HeaderMap) -> Result<Self, VerifyError> {
        let get = |name: &'static str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or(VerifyError::MissingHeader(name))
        };
        Ok(Self {
            timestamp: get("Wechatpay-Timestamp")?,
            nonce: get("Wechatpay-Nonce")?,
            signature: get("Wechatpay-Signature")?,
            serial: get("Wechatpay-Serial")?,
        })
    }
}

/// Checks that `body` with these headers was signed by the configured platform key within the
/// replay window around `now_unix`. Order matters: the cheap checks come first, and the key id
/// check comes before the signature so a rotated key gives a clear error.
pub fn verify(
    keys: &MerchantKeys,
    headers: &NotificationHeaders,
    body: &[u8],
    now_unix: i64,
) -> Result<(), VerifyError> {
    if headers.serial != keys.platform_key_id {
        return Err(VerifyError::UnknownSerial {
            serial: headers.serial.clone(),
            expected: keys.platform_key_id.clone(),
        });
    }
    let timestamp: i64 = headers
        .timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp(headers.timestamp.clone()))?;
    if (now_unix - timestamp).abs() > REPLAY_WINDOW_SECS {
        return Err(VerifyError::StaleTimestamp {
            timestamp,
            now: now_unix,
            window_secs: REPLAY_WINDOW_SECS,
        });
    }
    let sig_bytes = B64
        .decode(headers.signature.trim())
        .map_err(|_| VerifyError::BadSignature)?;
    let sig = Signature::try_from(sig_bytes.as_slice()).map_err(|_| VerifyError::BadSignature)?;
    // Built as bytes: the body need not be UTF-8 for the signature to be checked.
    let mut message = Vec::with_capacity(body.len() + 64);
    message.extend_from_slice(headers.timestamp.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(headers.nonce.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(body);
    message.push(b'\n');
    VerifyingKey::<Sha256>::new(keys.platform_key.clone())
        .verify(&message, &sig)
        .map_err(|_| VerifyError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::{PUBLIC, keys};

    const NOW: i64 = 1_700_000_000;

    /// Signs as WeChat would; the test keys use the merchant key pair as the "platform" key.
    fn signed(body: &str, timestamp: i64) -> NotificationHeaders {
        let nonce = nonce_str();
        let signature = sign_message(&keys(), &format!("{timestamp}\n{nonce}\n{body}\n")).unwrap();
        NotificationHeaders {
            timestamp: timestamp.to_string(),
            nonce,
            signature,
            serial: keys().platform_key_id,
        }
    }

    #[test]
    fn a_signed_message_verifies() {
        let h = signed(r#"{"a":1}"#, NOW);
        assert_eq!(verify(&keys(), &h, br#"{"a":1}"#, NOW + 10), Ok(()));
    }

    #[test]
    fn a_tampered_body_fails() {
        let h = signed(r#"{"total":1}"#, NOW);
        assert_eq!(
            verify(&keys(), &h, br#"{"total":100}"#, NOW),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn a_tampered_timestamp_or_nonce_fails() {
        let mut h = signed("{}", NOW);
        h.timestamp = (NOW + 1).to_string();
        assert_eq!(
            verify(&keys(), &h, b"{}", NOW),
            Err(VerifyError::BadSignature)
        );
        let mut h = signed("{}", NOW);
        h.nonce.push('x');
        assert_eq!(
            verify(&keys(), &h, b"{}", NOW),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn an_unknown_serial_fails_before_the_signature_is_checked() {
        let mut h = signed("{}", NOW);
        h.serial = "PUB_KEY_ID_OTHER".into();
        assert!(matches!(
            verify(&keys(), &h, b"{}", NOW),
            Err(VerifyError::UnknownSerial { .. })
        ));
    }

    #[test]
    fn a_timestamp_outside_five_minutes_fails_either_way() {
        let h = signed("{}", NOW);
        assert_eq!(verify(&keys(), &h, b"{}", NOW + 300), Ok(()));
        assert!(matches!(
            verify(&keys(), &h, b"{}", NOW + 301),
            Err(VerifyError::StaleTimestamp { .. })
        ));
        assert!(matches!(
            verify(&keys(), &h, b"{}", NOW - 301),
            Err(VerifyError::StaleTimestamp { .. })
        ));
    }

    #[test]
    fn garbage_signatures_are_bad_signatures_not_panics() {
        let mut h = signed("{}", NOW);
        h.signature = "not base64!".into();
        assert_eq!(
            verify(&keys(), &h, b"{}", NOW),
            Err(VerifyError::BadSignature)
        );
        h.signature = "AAAA".into();
        assert_eq!(
            verify(&keys(), &h, b"{}", NOW),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn authorization_header_has_wechat_layout_and_a_verifiable_signature() {
        let auth = authorization(&keys(), "GET", "/v3/x?mchid=1", "", NOW, "NONCE").unwrap();
        let rest = auth.strip_prefix("WECHATPAY2-SHA256-RSA2048 ").unwrap();
        assert!(rest.starts_with("mchid=\"1230000109\",nonce_str=\"NONCE\",signature=\""));
        assert!(rest.ends_with(&format!(
            "timestamp=\"{NOW}\",serial_no=\"MERCHANTSERIAL01\""
        )));
        let sig = rest
            .split("signature=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let sig = Signature::try_from(B64.decode(sig).unwrap().as_slice()).unwrap();
        use rsa::pkcs8::DecodePublicKey;
        let public = rsa::RsaPublicKey::from_public_key_pem(PUBLIC).unwrap();
        let message = format!("GET\n/v3/x?mchid=1\n{NOW}\nNONCE\n\n");
        VerifyingKey::<Sha256>::new(public)
            .verify(message.as_bytes(), &sig)
            .unwrap();
    }

    #[test]
    fn nonces_are_32_alphanumerics_and_differ() {
        let (a, b) = (nonce_str(), nonce_str());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
