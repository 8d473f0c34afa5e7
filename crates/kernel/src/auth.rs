//! Access tokens: HS256 JWTs carrying subject, tenant, role and permissions, bound to an audience and
//! issuer, signed with a key chosen by `kid` so keys can rotate (verify with old and new, sign with
//! the current). Only algorithms we issue are accepted, so "alg: none" and algorithm confusion fail.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::context::Principal;
use crate::ids::TenantId;
use mm_proto::Role;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Subject id.
    pub sub: String,
    /// Tenant id; absent for platform operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// Role name: customer, staff, admin, operator.
    pub role: String,
    /// Permissions granted to staff.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub perms: Vec<String>,
    /// Session (refresh-token family) id, for revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at; a token issued in the future (beyond [`CLOCK_LEEWAY_SECS`]) is refused.
    pub iat: u64,
    /// Not before, when present: the token is refused until then. We do not issue it, but a
    /// token that carries one must not be honoured early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
}

/// How far clocks of the instances that issue and verify tokens may disagree, in seconds: applied
/// to `exp`, `nbf` and `iat` alike.
pub const CLOCK_LEEWAY_SECS: u64 = 5;

/// Why a token was refused. Deliberately coarse toward clients.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Bad signature, expired, wrong audience, unknown key or malformed.
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Role name as it appears in tokens.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Customer => "customer",
        Role::Staff => "staff",
        Role::Admin => "admin",
        Role::Operator => "operator",
        Role::Service => "service",
        Role::Unspecified => "unspecified",
    }
}

fn parse_role(s: &str) -> Option<Role> {
    match s {
        "customer" => Some(Role::Customer),
        "staff" => Some(Role::Staff),
        "admin" => Some(Role::Admin),
        "operator" => Some(Role::Operator),
        "service" => Some(Role::Service),
        _ => None,
    }
}

/// Service tokens per (tenant, module), each with its expiry (seconds since the epoch).
type HeldServiceTokens = HashMap<(TenantId, String), (String, u64)>;

/// Signing and verification keys.
#[derive(Clone)]
pub struct JwtKeys {
    current_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    issuer: String,
    audience: String,
    access_ttl_secs: u64,
    /// Service tokens minted by this process.
    service_tokens: Arc<Mutex<HeldServiceTokens>>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("current_kid", &self.current_kid)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from the current secret and any previous ones still accepted.
    pub fn new(
        current_kid: &str,
        current: &SecretString,
        previous: &[(String, SecretString)],
        issuer: &str,
        audience: &str,
        access_ttl_secs: u64,
    ) -> Self {
        let mut decoding = HashMap::new();
        decoding.insert(
            current_kid.to_string(),
            DecodingKey::from_secret(current.expose_secret().as_bytes()),
        );
        for (kid, secret) in previous {
            decoding.insert(
                kid.clone(),
                DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            );
        }
        Self {
            current_kid: current_kid.to_string(),
            encoding: EncodingKey::from_secret(current.expose_secret().as_bytes()),
            decoding,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            access_ttl_secs,
            service_tokens: Arc::default(),
        }
    }

    /// Signs an access token for a principal, valid for the configured lifetime.
    pub fn issue(&self, principal: &Principal) -> Result<String, TokenError> {
        self.issue_with_ttl(principal, self.access_ttl_secs)
    }

    /// Signs an access token valid for `ttl_secs`.
    pub fn issue_with_ttl(
        &self,
        principal: &Principal,
        ttl_secs: u64,
    ) -> Result<String, TokenError> {
        self.issue_at(principal, ttl_secs, now_secs())
    }

    fn issue_at(
        &self,
        principal: &Principal,
        ttl_secs: u64,
        now: u64,
    ) -> Result<String, TokenError> {
        let claims = Claims {
            sub: principal.subject.clone(),
            tid: principal.tenant.map(|t| t.to_string()),
            role: role_name(principal.role).to_string(),
            perms: principal.permissions.clone(),
            sid: principal.session.clone(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl_secs,
            iat: now,
            nbf: None,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }

    /// Verifies a token and returns its principal.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid("unexpected algorithm".into()));
        }
        let kid = header
            .kid
            .ok_or_else(|| TokenError::Invalid("missing kid".into()))?;
        let key = self
            .decoding
            .get(&kid)
            .ok_or_else(|| TokenError::Invalid("unknown key id".into()))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = CLOCK_LEEWAY_SECS;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let c = data.claims;
        // jsonwebtoken does not look at `iat`. A token "issued" in the future was not issued by
        // a clock of ours: it is forged or minted to outlive its stated lifetime.
        if c.iat > now_secs() + CLOCK_LEEWAY_SECS {
            return Err(TokenError::Invalid("issued in the future".into()));
        }
        let role = parse_role(&c.role).ok_or_else(|| TokenError::Invalid("unknown role".into()))?;
        let tenant = match (&c.tid, role) {
            (None, Role::Operator) => None,
            (Some(t), r) if r != Role::Operator => Some(
                TenantId::parse(t, "tid").map_err(|_| TokenError::Invalid("bad tenant".into()))?,
            ),
            _ => {
                return Err(TokenError::Invalid(
                    "tenant claim does not fit the role".into(),
                ));
            }
        };
        Ok(Principal {
            subject: c.sub,
            tenant,
            role,
            permissions: c.perms,
            session: c.sid,
        })
    }
}

/// How long a service token is valid.
pub const SERVICE_TOKEN_TTL_SECS: u64 = 60;

/// A held service token is handed out only while at least this much of its life is left, so the
/// call it goes with is verified well before it expires (verification allows 5 s of clock skew,
/// never more); after that a fresh one is minted.
pub const SERVICE_TOKEN_MIN_LEFT_SECS: u64 = 30;

/// How many held service tokens prompt a sweep of the stale ones (the map grows with tenants).
const SERVICE_TOKENS_SWEEP_AT: usize = 4096;

/// A one-minute token for `module`'s service to call another module's contract for `tenant`.
///
/// Minted once and reused for the first half of its life: a module calls others on every order
/// or booking, and signing a fresh JWT per call bought nothing (the token is never handed to a
/// client and carries no per-call claim).
pub fn service_token(keys: &JwtKeys, tenant: TenantId, module: &str) -> Result<String, TokenError> {
    keys.service_token_at(tenant, module, now_secs())
}

impl JwtKeys {
    fn service_token_at(
        &self,
        tenant: TenantId,
        module: &str,
        now: u64,
    ) -> Result<String, TokenError> {
        let key = (tenant, module.to_string());
        let mut held = match self.service_tokens.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        if let Some((token, exp)) = held.get(&key)
            && *exp >= now + SERVICE_TOKEN_MIN_LEFT_SECS
        {
            return Ok(token.clone());
        }
        let token = self.issue_at(
            &Principal {
                subject: format!("service:{module}"),
                tenant: Some(tenant),
                role: Role::Service,
                ..Principal::default()
            },
            SERVICE_TOKEN_TTL_SECS,
            now,
        )?;
        if held.len() >= SERVICE_TOKENS_SWEEP_AT {
            held.retain(|_, (_, exp)| *exp >= now + SERVICE_TOKEN_MIN_LEFT_SECS);
        }
        held.insert(key, (token.clone(), now + SERVICE_TOKEN_TTL_SECS));
        Ok(token)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(
            "k1",
            &SecretString::from(secret.to_string()),
            &[],
            "mm",
            "minimodules",
            900,
        )
    }

    fn admin(t: TenantId) -> Principal {
        Principal {
            subject: "u1".into(),
            tenant: Some(t),
            role: Role::Admin,
            permissions: vec![],
            session: None,
        }
    }

    /// The expiry a token claims (read without verifying: the test checks what was served).
    fn exp_of(token: &str) -> u64 {
        use base64::Engine as _;
        let payload = token.split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice::<Claims>(&json).unwrap().exp
    }

    #[test]
    fn a_service_token_is_reused_for_half_its_life_and_never_past_it() {
        let k = keys("s3cret-s3cret-s3cret-s3cret-s3cret");
        let (t, other) = (TenantId::new(), TenantId::new());
        let t0 = now_secs();
        let first = k.service_token_at(t, "ordering", t0).unwrap();
        assert_eq!(exp_of(&first), t0 + SERVICE_TOKEN_TTL_SECS);
        let p = k.verify(&first).unwrap();
        assert_eq!((p.role, p.tenant), (Role::Service, Some(t)));
        assert_eq!(p.subject, "service:ordering");
        // Reused while at least half its life is left...
        for dt in [0, 1, SERVICE_TOKEN_TTL_SECS - SERVICE_TOKEN_MIN_LEFT_SECS] {
            assert_eq!(k.service_token_at(t, "ordering", t0 + dt).unwrap(), first);
        }
        // ...per tenant and module...
        assert_ne!(k.service_token_at(other, "ordering", t0).unwrap(), first);
        assert_ne!(k.service_token_at(t, "booking", t0).unwrap(), first);
        // ...and replaced after that, well before it expires.
        for dt in [
            SERVICE_TOKEN_TTL_SECS - SERVICE_TOKEN_MIN_LEFT_SECS + 1,
            SERVICE_TOKEN_TTL_SECS,
            10 * SERVICE_TOKEN_TTL_SECS,
        ] {
            let now = t0 + dt;
            let served = k.service_token_at(t, "ordering", now).unwrap();
            assert_ne!(served, first, "at +{dt}s");
            assert!(
                exp_of(&served) >= now + SERVICE_TOKEN_MIN_LEFT_SECS,
                "at +{dt}s a token with too little life left was served"
            );
        }
    }

    #[test]
    fn round_trips_a_principal() {
        let k = keys("s3cret-s3cret-s3cret-s3cret-s3cret");
        let p = admin(TenantId::new());
        assert_eq!(k.verify(&k.issue(&p).unwrap()).unwrap(), p);
    }

    #[test]
    fn refuses_a_token_signed_with_another_key() {
        let t = keys("another-secret-another-secret-xx")
            .issue(&admin(TenantId::new()))
            .unwrap();
        assert!(
            keys("s3cret-s3cret-s3cret-s3cret-s3cret")
                .verify(&t)
                .is_err()
        );
    }

    #[test]
    fn refuses_alg_none_and_expired_tokens() {
        let k = keys("s3cret-s3cret-s3cret-s3cret-s3cret");
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        let body = b64.encode(
            r#"{"sub":"x","role":"operator","iss":"mm","aud":"minimodules","exp":9999999999,"iat":0}"#,
        );
        assert!(k.verify(&format!("{header}.{body}.")).is_err());
        let expired = k.issue_with_ttl(&admin(TenantId::new()), 0).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        // Leeway is 5s, so craft an expiry well in the past by using a key with a negative window.
        let old = Claims {
            sub: "u".into(),
            tid: None,
            role: "operator".into(),
            perms: vec![],
            sid: None,
            iss: "mm".into(),
            aud: "minimodules".into(),
            exp: 1000,
            iat: 900,
            nbf: None,
        };
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("k1".into());
        let tok = jsonwebtoken::encode(
            &h,
            &old,
            &EncodingKey::from_secret(b"s3cret-s3cret-s3cret-s3cret-s3cret"),
        )
        .unwrap();
        assert!(k.verify(&tok).is_err());
        assert!(
            k.verify(&expired).is_ok(),
            "within leeway a fresh token still verifies"
        );
    }

    fn signed(claims: &Claims) -> String {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("k1".into());
        jsonwebtoken::encode(
            &h,
            claims,
            &EncodingKey::from_secret(b"s3cret-s3cret-s3cret-s3cret-s3cret"),
        )
        .unwrap()
    }

    #[test]
    fn refuses_tokens_not_yet_valid_or_issued_in_the_future_within_a_leeway() {
        let k = keys("s3cret-s3cret-s3cret-s3cret-s3cret");
        let now = now_secs();
        let claims = |iat: u64, nbf: Option<u64>| Claims {
            sub: "u".into(),
            tid: None,
            role: "operator".into(),
            perms: vec![],
            sid: None,
            iss: "mm".into(),
            aud: "minimodules".into(),
            exp: now + 3600,
            iat,
            nbf,
        };
        assert!(k.verify(&signed(&claims(now, Some(now + 600)))).is_err());
        assert!(k.verify(&signed(&claims(now + 600, None))).is_err());
        assert!(k.verify(&signed(&claims(now + 2, Some(now + 2)))).is_ok());
        assert!(k.verify(&signed(&claims(now - 60, Some(now - 60)))).is_ok());
    }

    #[test]
    fn refuses_a_token_for_another_audience() {
        let other = JwtKeys::new(
            "k1",
            &SecretString::from("s3cret-s3cret-s3cret-s3cret-s3cret".to_string()),
            &[],
            "mm",
            "elsewhere",
            900,
        );
        let t = other.issue(&admin(TenantId::new())).unwrap();
        assert!(
            keys("s3cret-s3cret-s3cret-s3cret-s3cret")
                .verify(&t)
                .is_err()
        );
    }
}
