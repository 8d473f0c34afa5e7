//! Identity rules without I/O: what valid login names, passwords and phones are; password hashing
//! (argon2id, off the async runtime); refresh tokens (random, stored only as a SHA-256 hash, and
//! carrying their tenant so a lookup never crosses tenants); the encryption of secrets at rest.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mm_kernel::error::FieldViolation;
use rand08::RngCore as _;
use regex::Regex;
use sha2::{Digest as _, Sha256};

static LOGIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9._-]{2,63}$").expect("static regex"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\+?[0-9]{5,20}$").expect("static regex"));

/// Checks a login name (lower case; 3-64 of a-z 0-9 . _ -).
pub fn check_login(field: &str, login: &str, out: &mut Vec<FieldViolation>) {
    if !LOGIN.is_match(login) {
        out.push(FieldViolation::invalid_format(field, "login"));
    }
}

/// Checks a new password: 10-128 characters, not all one kind.
pub fn check_password(field: &str, password: &str, out: &mut Vec<FieldViolation>) {
    let n = password.chars().count();
    if n < 10 {
        out.push(
            FieldViolation::new(field, "must be 10 to 128 characters")
                .reason("TOO_SHORT")
                .param("min", 10),
        );
    } else if n > 128 {
        out.push(FieldViolation::too_long(field, 128));
    } else if password.chars().all(|c| c.is_ascii_digit())
        || password.chars().all(char::is_alphabetic)
    {
        out.push(FieldViolation::invalid_format(field, "password"));
    }
}

/// Checks a phone number; empty means none.
pub fn check_phone(field: &str, phone: &str, out: &mut Vec<FieldViolation>) {
    if !phone.is_empty() && !PHONE.is_match(phone) {
        out.push(FieldViolation::invalid_format(field, "phone"));
    }
}

/// Checks a display name.
pub fn check_display_name(field: &str, name: &str, out: &mut Vec<FieldViolation>) {
    if name.trim().is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        out.push(if name.trim().is_empty() {
            FieldViolation::required(field)
        } else {
            FieldViolation::too_long(field, 64)
        });
    }
}

/// Hashes a password with argon2id on a blocking thread (it takes tens of milliseconds by design).
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand08::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("Failed to hash a password: {e}"))
    })
    .await?
}

/// A hash of a password nobody has: verifying against it costs what a real check costs, so
/// answers for unknown accounts take as long as for known ones.
pub static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::encode_b64(b"minimodules-salt")
        .unwrap_or_else(|_| SaltString::generate(&mut rand08::rngs::OsRng));
    Argon2::default()
        .hash_password(b"not a password anyone has", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Verifies a password against a stored hash on a blocking thread.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A new refresh token for a tenant scope ("platform" for operators): `rt1.<scope>.<random>`.
pub fn new_refresh_token(scope: &str) -> String {
    let mut bytes = [0u8; 32];
    rand08::rngs::OsRng.fill_bytes(&mut bytes);
    format!("rt1.{scope}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Splits a refresh token into its scope and the hash that is stored.
pub fn parse_refresh_token(token: &str) -> Option<(String, String)> {
    let mut parts = token.splitn(3, '.');
    if parts.next()? != "rt1" {
        return None;
    }
    let scope = parts.next()?.to_string();
    let secret = parts.next()?;
    if secret.len() < 40 || scope.len() > 36 {
        return None;
    }
    Some((scope, hash_token(token)))
}

/// SHA-256 of a token, hex.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub use mm_kernel::secrets::SecretBox;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_length_and_variety() {
        let mut v = Vec::new();
        check_password("p", "short1", &mut v);
        check_password("p", "onlyletterslong", &mut v);
        check_password("p", "12345678901", &mut v);
        assert_eq!(v.len(), 3);
        let mut v = Vec::new();
        check_password("p", "correct horse 9", &mut v);
        assert!(v.is_empty());
    }

    #[tokio::test]
    async fn hashes_verify_only_their_password() {
        let h = hash_password("s3cret-password".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("s3cret-password".into(), h.clone()).await);
        assert!(!verify_password("wrong-password1".into(), h).await);
        assert!(!verify_password("x".into(), "not a hash".into()).await);
    }

    #[test]
    fn refresh_tokens_carry_their_scope_and_hash_stably() {
        let t = new_refresh_token("tenant-1");
        let (scope, hash) = parse_refresh_token(&t).unwrap();
        assert_eq!(scope, "tenant-1");
        assert_eq!(hash, hash_token(&t));
        assert_ne!(new_refresh_token("tenant-1"), t);
        assert!(parse_refresh_token("rt1.x.short").is_none());
        assert!(parse_refresh_token("garbage").is_none());
    }
}
