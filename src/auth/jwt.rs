//! Access tokens: HS256 JWTs with the algorithm pinned and `exp`, `nbf`, `iat`, `iss`, `aud` checked.
use crate::config::Config;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Clock skew tolerated when checking `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 5;

/// Which kind of principal a token was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A person.
    User,
    /// An institutional system.
    ServiceAccount,
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Principal id.
    pub sub: Uuid,
    /// Organization of the principal.
    pub org: Uuid,
    /// Principal kind.
    pub kind: PrincipalKind,
    /// Token use; always `access`.
    pub typ: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Token id.
    pub jti: Uuid,
}

/// Issues and verifies access tokens.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    /// Lifetime of access tokens in seconds.
    pub ttl_seconds: i64,
}

impl TokenService {
    /// Builds the service from the configured secret, issuer, audience and lifetime.
    pub fn new(config: &Config) -> Self {
        let secret = config.jwt_secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl_seconds: i64::try_from(config.access_token_ttl.as_secs()).unwrap_or(900),
        }
    }

    /// Signs a new access token for a principal.
    pub fn issue(&self, sub: Uuid, org: Uuid, kind: PrincipalKind) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub,
            org,
            kind,
            typ: "access".into(),
            iat: now,
            nbf: now,
            exp: now + self.ttl_seconds,
            jti: Uuid::now_v7(),
        };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Verifies signature, algorithm and registered claims; `None` for any invalid token.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let now = chrono::Utc::now().timestamp();
        let skew = i64::try_from(LEEWAY_SECONDS).unwrap_or(5);
        (data.claims.typ == "access" && data.claims.iat <= now + skew).then_some(data.claims)
    }
}
