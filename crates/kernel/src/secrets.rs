//! Secrets at rest (WeChat AppSecrets, merchant keys): sealed with AES-256-GCM under the
//! installation's key (`MINIMODULES_SECRETS__KEY`), each value with its own random nonce, so the
//! database alone reveals nothing.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore as _;

/// Encrypts and decrypts secrets at rest with AES-256-GCM; each value has its own random nonce.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox")
    }
}

impl SecretBox {
    /// A box with a 32-byte key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// `v1:` + base64(nonce ‖ ciphertext).
    pub fn seal(&self, plaintext: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(&Nonce::from(nonce), plaintext.as_bytes())
            .map_err(|_| anyhow::anyhow!("Failed to encrypt a secret"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("v1:{}", STANDARD.encode(out)))
    }

    /// Reverses [`SecretBox::seal`]; fails on a wrong key or tampered value.
    pub fn open(&self, sealed: &str) -> anyhow::Result<String> {
        let raw = sealed
            .strip_prefix("v1:")
            .ok_or_else(|| anyhow::anyhow!("unknown secret format"))?;
        let bytes = STANDARD.decode(raw)?;
        if bytes.len() < 13 {
            anyhow::bail!("secret too short");
        }
        let (nonce, ct) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into()?;
        let pt = self.cipher.decrypt(&Nonce::from(nonce), ct).map_err(|_| {
            anyhow::anyhow!("Failed to decrypt a secret: wrong key or tampered value")
        })?;
        Ok(String::from_utf8(pt)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key() {
        let a = SecretBox::new(&[7u8; 32]);
        let sealed = a.seal("s3cret").unwrap();
        assert!(!sealed.contains("s3cret"));
        assert_eq!(a.open(&sealed).unwrap(), "s3cret");
        assert!(SecretBox::new(&[8u8; 32]).open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(a.open(&tampered).is_err());
    }
}
