use std::fmt;
use std::sync::Arc;

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

use crate::Error;

/// WeChat Pay keys are RSA-2048; a shorter key is a copy-paste mistake, not a choice.
const MIN_RSA_BITS: usize = 2048;

/// One merchant's credentials plus the WeChat Pay platform key that signs what WeChat sends.
///
/// Built once from configuration; every field is checked here so that a bad setting fails at
/// startup with the field's name instead of as a signature error on the first payment.
#[derive(Clone)]
pub struct MerchantKeys {
    pub(crate) mchid: String,
    pub(crate) merchant_serial_no: String,
    /// The merchant's key as ring holds it: signing is ring's constant-time RSA, not the rsa
    /// crate's, whose private-key operations leak timing (RUSTSEC-2023-0071, no fixed release).
    pub(crate) merchant_key: Arc<ring::signature::RsaKeyPair>,
    pub(crate) apiv3_key: [u8; 32],
    pub(crate) platform_key_id: String,
    pub(crate) platform_key: RsaPublicKey,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidKey {
        field,
        reason: reason.into(),
    }
}

fn non_empty(field: &'static str, value: &str) -> Result<String, Error> {
    let v = value.trim();
    if v.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    // These values go into the Authorization header between quotes.
    if v.chars().any(|c| c == '"' || c == ',' || c.is_control()) {
        return Err(invalid(
            field,
            "must not contain quotes, commas or control characters",
        ));
    }
    Ok(v.to_owned())
}

impl MerchantKeys {
    /// Checks and parses a merchant's settings.
    ///
    /// - `merchant_private_key_pem`: the `apiclient_key.pem` WeChat's tool produces (PKCS#8
    ///   `BEGIN PRIVATE KEY`); PKCS#1 `BEGIN RSA PRIVATE KEY` is accepted too.
    /// - `apiv3_key`: the 32-character APIv3 key set in the merchant platform.
    /// - `platform_key_id`: what WeChat sends as `Wechatpay-Serial`: a `PUB_KEY_ID_...` public key
    ///   id, or a platform certificate serial number.
    /// - `platform_public_key_pem`: that key, SPKI `BEGIN PUBLIC KEY` (PKCS#1 accepted too).
    pub fn new(
        mchid: &str,
        merchant_serial_no: &str,
        merchant_private_key_pem: &str,
        apiv3_key: &str,
        platform_key_id: &str,
        platform_public_key_pem: &str,
    ) -> Result<Self, Error> {
        let mchid = non_empty("mchid", mchid)?;
        if !mchid.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid("mchid", "must be digits only"));
        }
        let merchant_serial_no = non_empty("merchant_serial_no", merchant_serial_no)?;
        let merchant_key = parse_private_key(merchant_private_key_pem)?;
        let apiv3_key = parse_apiv3_key(apiv3_key)?;
        let platform_key_id = non_empty("platform_key_id", platform_key_id)?;
        let platform_key = parse_public_key(platform_public_key_pem)?;
        Ok(Self {
            mchid,
            merchant_serial_no,
            merchant_key,
            apiv3_key,
            platform_key_id,
            platform_key,
        })
    }

    /// The merchant id (商户号).
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// Serial number of the merchant API certificate, sent as `serial_no` in Authorization.
    pub fn merchant_serial_no(&self) -> &str {
        &self.merchant_serial_no
    }

    /// The `Wechatpay-Serial` value that signed responses and notifications must carry.
    pub fn platform_key_id(&self) -> &str {
        &self.platform_key_id
    }
}

fn parse_private_key(pem: &str) -> Result<Arc<ring::signature::RsaKeyPair>, Error> {
    const FIELD: &str = "merchant_private_key_pem";
    let pem = pem.trim();
    let key = if pem.contains("BEGIN PRIVATE KEY") {
        RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| invalid(FIELD, format!("not an RSA PKCS#8 private key: {e}")))?
    } else if pem.contains("BEGIN RSA PRIVATE KEY") {
        RsaPrivateKey::from_pkcs1_pem(pem)
            .map_err(|e| invalid(FIELD, format!("not an RSA PKCS#1 private key: {e}")))?
    } else {
        return Err(invalid(
            FIELD,
            "expected a PEM \"BEGIN PRIVATE KEY\" (apiclient_key.pem) or \"BEGIN RSA PRIVATE KEY\"",
        ));
    };
    if key.size() * 8 < MIN_RSA_BITS {
        return Err(invalid(
            FIELD,
            format!("RSA key shorter than {MIN_RSA_BITS} bits"),
        ));
    }
    // Parsed once here (either PEM form), then handed to ring as PKCS#8 for every signature.
    let der = key
        .to_pkcs8_der()
        .map_err(|e| invalid(FIELD, format!("cannot re-encode the key: {e}")))?;
    let pair = ring::signature::RsaKeyPair::from_pkcs8(der.as_bytes())
        .map_err(|e| invalid(FIELD, format!("not a usable RSA signing key: {e}")))?;
    Ok(Arc::new(pair))
}

fn parse_public_key(pem: &str) -> Result<RsaPublicKey, Error> {
    const FIELD: &str = "platform_public_key_pem";
    let pem = pem.trim();
    let key = if pem.contains("BEGIN PUBLIC KEY") {
        RsaPublicKey::from_public_key_pem(pem)
            .map_err(|e| invalid(FIELD, format!("not an RSA SPKI public key: {e}")))?
    } else if pem.contains("BEGIN RSA PUBLIC KEY") {
        RsaPublicKey::from_pkcs1_pem(pem)
            .map_err(|e| invalid(FIELD, format!("not an RSA PKCS#1 public key: {e}")))?
    } else if pem.contains("BEGIN CERTIFICATE") {
        return Err(invalid(
            FIELD,
            "this is a platform certificate; pass its public key (openssl x509 -pubkey -noout)",
        ));
    } else {
        return Err(invalid(FIELD, "expected a PEM \"BEGIN PUBLIC KEY\""));
    };
    if key.size() * 8 < MIN_RSA_BITS {
        return Err(invalid(
            FIELD,
            format!("RSA key shorter than {MIN_RSA_BITS} bits"),
        ));
    }
    Ok(key)
}

fn parse_apiv3_key(key: &str) -> Result<[u8; 32], Error> {
    const FIELD: &str = "apiv3_key";
    if !key.is_ascii() {
        return Err(invalid(FIELD, "must be ASCII"));
    }
    // Length in bytes is the AES-256 key length; do not echo the key in the message.
    <[u8; 32]>::try_from(key.as_bytes()).map_err(|_| {
        invalid(
            FIELD,
            format!("must be exactly 32 characters, got {}", key.len()),
        )
    })
}

impl fmt::Debug for MerchantKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantKeys")
            .field("mchid", &self.mchid)
            .field("merchant_serial_no", &self.merchant_serial_no)
            .field("merchant_private_key", &"<redacted>")
            .field("apiv3_key", &"<redacted>")
            .field("platform_key_id", &self.platform_key_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const PKCS8: &str = include_str!("../tests/fixtures/test_key_pkcs8.pem");
    pub const PKCS1: &str = include_str!("../tests/fixtures/test_key_pkcs1.pem");
    pub const PUBLIC: &str = include_str!("../tests/fixtures/test_key_public.pem");
    pub const APIV3: &str = "TestApiV3Key0123456789abcdefABCD";
    pub const PLATFORM_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";

    /// Keys whose "platform" key is the merchant's own public key, so tests can sign as WeChat.
    pub fn keys() -> MerchantKeys {
        MerchantKeys::new(
            "1230000109",
            "MERCHANTSERIAL01",
            PKCS8,
            APIV3,
            PLATFORM_ID,
            PUBLIC,
        )
        .expect("fixture keys are valid")
    }

    fn field_of(r: Result<MerchantKeys, Error>) -> &'static str {
        match r {
            Err(Error::InvalidKey { field, .. }) => field,
            other => panic!("expected InvalidKey, got {other:?}"),
        }
    }

    #[test]
    fn accepts_pkcs8_and_pkcs1_private_keys() {
        assert!(MerchantKeys::new("1", "S", PKCS8, APIV3, PLATFORM_ID, PUBLIC).is_ok());
        assert!(MerchantKeys::new("1", "S", PKCS1, APIV3, PLATFORM_ID, PUBLIC).is_ok());
    }

    #[test]
    fn each_bad_setting_is_reported_by_field_name() {
        let k = |m, s, p, a, i, pk| field_of(MerchantKeys::new(m, s, p, a, i, pk));
        assert_eq!(k("", "S", PKCS8, APIV3, PLATFORM_ID, PUBLIC), "mchid");
        assert_eq!(k("12a", "S", PKCS8, APIV3, PLATFORM_ID, PUBLIC), "mchid");
        assert_eq!(
            k("1", " ", PKCS8, APIV3, PLATFORM_ID, PUBLIC),
            "merchant_serial_no"
        );
        assert_eq!(
            k("1", "S", PUBLIC, APIV3, PLATFORM_ID, PUBLIC),
            "merchant_private_key_pem"
        );
        assert_eq!(
            k(
                "1",
                "S",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                APIV3,
                PLATFORM_ID,
                PUBLIC
            ),
            "merchant_private_key_pem"
        );
        assert_eq!(
            k("1", "S", PKCS8, "short", PLATFORM_ID, PUBLIC),
            "apiv3_key"
        );
        assert_eq!(
            k(
                "1",
                "S",
                PKCS8,
                "密钥密钥密钥密钥密钥密钥密钥密钥",
                PLATFORM_ID,
                PUBLIC
            ),
            "apiv3_key"
        );
        assert_eq!(k("1", "S", PKCS8, APIV3, "", PUBLIC), "platform_key_id");
        assert_eq!(
            k("1", "S", PKCS8, APIV3, PLATFORM_ID, PKCS8),
            "platform_public_key_pem"
        );
    }

    #[test]
    fn debug_output_does_not_contain_secrets() {
        let shown = format!("{:?}", keys());
        assert!(shown.contains("1230000109"));
        assert!(!shown.contains(APIV3));
        assert!(!shown.contains("PRIVATE"));
    }
}
