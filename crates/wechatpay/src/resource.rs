//! AEAD_AES_256_GCM, which WeChat uses to encrypt notification resources (and a few responses).

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::{Error, MerchantKeys};

/// The only algorithm WeChat Pay v3 uses for resources.
pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// Decrypts `ciphertext_b64` (ciphertext with the 16-byte tag appended, base64) with the APIv3 key.
///
/// `nonce` and `associated_data` are used as the bytes of the strings WeChat sends, not decoded:
/// that is how WeChat defines them.
pub fn decrypt_resource(
    keys: &MerchantKeys,
    nonce: &str,
    associated_data: &str,
    ciphertext_b64: &str,
) -> Result<Vec<u8>, Error> {
    let nonce_bytes = <[u8; 12]>::try_from(nonce.as_bytes())
        .map_err(|_| Error::Decrypt(format!("nonce must be 12 bytes, got {}", nonce.len())))?;
    let data = B64
        .decode(ciphertext_b64.trim())
        .map_err(|e| Error::Decrypt(format!("ciphertext is not base64: {e}")))?;
    if data.len() < 16 {
        return Err(Error::Decrypt("ciphertext shorter than the GCM tag".into()));
    }
    let cipher = Aes256Gcm::new((&keys.apiv3_key).into());
    cipher
        .decrypt(
            &Nonce::from(nonce_bytes),
            Payload {
                msg: &data,
                aad: associated_data.as_bytes(),
            },
        )
        // Deliberately vague: GCM failure means wrong key, tampering or corruption, and
        // distinguishing them is impossible by design.
        .map_err(|_| Error::Decrypt("authentication failed (wrong APIv3 key or tampered)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::keys;

    // Produced by python3 `cryptography` AESGCM (see tests/fixtures/gen.sh), not by this crate.
    const CIPHERTEXT: &str = include_str!("../tests/fixtures/gcm_ciphertext.b64");
    const PLAINTEXT: &[u8] = include_bytes!("../tests/fixtures/gcm_plaintext.json");

    #[test]
    fn decrypts_a_vector_encrypted_by_python_cryptography() {
        let out = decrypt_resource(&keys(), "fixNonce1234", "transaction", CIPHERTEXT).unwrap();
        assert_eq!(out, PLAINTEXT);
    }

    #[test]
    fn a_tampered_tag_fails() {
        let mut raw = B64.decode(CIPHERTEXT.trim()).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let r = decrypt_resource(&keys(), "fixNonce1234", "transaction", &B64.encode(raw));
        assert!(matches!(r, Err(Error::Decrypt(_))));
    }

    #[test]
    fn wrong_associated_data_or_nonce_fails() {
        assert!(decrypt_resource(&keys(), "fixNonce1234", "refund", CIPHERTEXT).is_err());
        assert!(decrypt_resource(&keys(), "fixNonce1235", "transaction", CIPHERTEXT).is_err());
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        assert!(decrypt_resource(&keys(), "short", "transaction", CIPHERTEXT).is_err());
        assert!(decrypt_resource(&keys(), "fixNonce1234", "transaction", "***").is_err());
        assert!(decrypt_resource(&keys(), "fixNonce1234", "transaction", "AAAA").is_err());
    }
}
