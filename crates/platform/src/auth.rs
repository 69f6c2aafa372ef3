//! Service-to-service auth: HS256 JWTs with a required audience (the target service's name),
//! short expiry, and space-separated scopes. Deny by default: the server's gate layer runs
//! [`authenticate`] on every service route; only `/health`, `/ready`, `/metrics`,
//! `/openapi.json` and a service's explicitly public routes (provider webhooks, which check their
//! own signatures) skip it.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// Allowed clock skew when checking `exp`.
const LEEWAY_SECS: u64 = 5;

/// The claims of a service token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Who minted the token: the calling service, or `easymo-cli`.
    pub iss: String,
    /// The target service.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at.
    pub iat: u64,
    /// Token id.
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
    /// When present, the token acts for this tenant only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token.
    #[error("a bearer token is required")]
    MissingToken,
    /// Bad signature, wrong audience, expired or malformed.
    #[error("the bearer token is invalid or expired")]
    InvalidToken,
    /// Valid token without the route's scope.
    #[error("the token lacks the scope this route requires")]
    InvalidScope,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let (status, code) = match self {
            Self::MissingToken => (StatusCode::UNAUTHORIZED, "auth.missing_token"),
            Self::InvalidToken => (StatusCode::UNAUTHORIZED, "auth.invalid_token"),
            Self::InvalidScope => (StatusCode::FORBIDDEN, "auth.invalid_scope"),
        };
        let mut res = Problem::new(status, code)
            .detail(self.to_string())
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

/// Signing and verification keys: the first key signs, every key verifies (rotation).
#[derive(Clone)]
pub struct JwtKeys {
    signing: EncodingKey,
    verifying: Arc<Vec<DecodingKey>>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys([redacted])")
    }
}

impl JwtKeys {
    /// Keys from secrets; `None` when the list is empty.
    pub fn new(secrets: &[SecretString]) -> Option<Self> {
        let first = secrets.first()?;
        Some(Self {
            signing: EncodingKey::from_secret(first.expose_secret().as_bytes()),
            verifying: Arc::new(
                secrets
                    .iter()
                    .map(|s| DecodingKey::from_secret(s.expose_secret().as_bytes()))
                    .collect(),
            ),
        })
    }

    /// Mints a token for `aud` with `scopes`.
    pub fn mint(
        &self,
        iss: &str,
        aud: &str,
        scopes: &[&str],
        tenant_id: Option<&str>,
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = now_secs();
        let claims = Claims {
            iss: iss.to_owned(),
            aud: aud.to_owned(),
            iat: now,
            exp: now + ttl.as_secs(),
            jti: ulid::Ulid::generate().to_string(),
            scope: scopes.join(" "),
            tenant_id: tenant_id.map(str::to_owned),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.signing)
    }

    /// Verifies `token` for audience `aud` against every key.
    pub fn verify(&self, token: &str, aud: &str) -> Result<Claims, AuthError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&[aud]);
        v.set_required_spec_claims(&["exp", "aud", "iss"]);
        v.leeway = LEEWAY_SECS;
        for key in self.verifying.iter() {
            if let Ok(data) = jsonwebtoken::decode::<Claims>(token, key, &v) {
                return Ok(data.claims);
            }
        }
        Err(AuthError::InvalidToken)
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The verified caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The issuing service.
    pub issuer: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The tenant the token is bound to, if any.
    pub tenant_id: Option<String>,
}

impl Caller {
    /// Whether the token grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The tenant a request acts for: the one it names, else the token's, else `default`.
    /// `None` when the request names a tenant other than the token's: callers answer 404, so a
    /// tenant-bound token cannot even learn that another tenant's resource exists.
    pub fn tenant(&self, requested: Option<&str>, default: &str) -> Option<String> {
        match (&self.tenant_id, requested) {
            (Some(bound), Some(req)) if bound != req => None,
            (Some(bound), _) => Some(bound.clone()),
            (None, Some(req)) => Some(req.to_owned()),
            (None, None) => Some(default.to_owned()),
        }
    }

    /// Whether this caller may see a resource of `tenant`.
    pub fn may_see(&self, tenant: &str) -> bool {
        self.tenant_id.as_deref().is_none_or(|t| t == tenant)
    }
}

/// How many verified tokens a service remembers. Service clients reuse a token until it nears
/// expiry, so a handful of entries serve almost every request.
const VERIFIED_TOKENS: usize = 1024;

/// A token verified before: who it names and until when it holds.
struct Verified {
    caller: Caller,
    exp: u64,
}

/// Middleware state: the keys, the audience this service answers to, and the tokens verified
/// before. Verifying HS256 (base64, two JSON parses, an HMAC) cost a tenth of a quote's
/// instructions; a token seen before is only checked for expiry. Only verified tokens are
/// kept, and the keys of a running process never change, so a hit is the verification's own
/// answer.
#[derive(Clone)]
pub struct Authenticator {
    keys: JwtKeys,
    audience: &'static str,
    verified: Arc<quick_cache::sync::Cache<Box<str>, Arc<Verified>>>,
}

impl Authenticator {
    pub(crate) fn new(keys: JwtKeys, audience: &'static str) -> Self {
        Self {
            keys,
            audience,
            verified: Arc::new(quick_cache::sync::Cache::new(VERIFIED_TOKENS)),
        }
    }

    /// The caller `token` proves, at `now` (seconds since the epoch).
    fn caller(&self, token: &str, now: u64) -> Result<Caller, AuthError> {
        if let Some(seen) = self.verified.get(token) {
            // The same test `jsonwebtoken` makes: expired once `exp` is more than the leeway ago.
            return if seen.exp.saturating_add(LEEWAY_SECS) >= now {
                Ok(seen.caller.clone())
            } else {
                Err(AuthError::InvalidToken)
            };
        }
        let claims = self.keys.verify(token, self.audience)?;
        let caller = Caller {
            issuer: claims.iss,
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
            tenant_id: claims.tenant_id,
        };
        self.verified.insert(
            token.into(),
            Arc::new(Verified {
                caller: caller.clone(),
                exp: claims.exp,
            }),
        );
        Ok(caller)
    }
}

/// Verifies the bearer token for this audience and records the caller on the request. It
/// does not refuse the request itself: the rate limiter counts failed attempts too, keyed by
/// address, and the request is refused with this error afterwards.
pub(crate) fn authenticate(auth: &Authenticator, req: &mut Request) -> Result<(), AuthError> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let caller = match token {
        None => return Err(AuthError::MissingToken),
        Some(t) => auth.caller(t, now_secs())?,
    };
    req.extensions_mut().insert(caller);
    Ok(())
}

/// A scope a route requires; declare with [`crate::scope!`].
pub trait Scope: Send + Sync + 'static {
    /// The scope string, `<service>:<action>`.
    const NAME: &'static str;
}

/// Declares scope marker types: `platform::scope!(pub ProfileRead = "profile:read");`.
#[macro_export]
macro_rules! scope {
    ($($vis:vis $name:ident = $scope:literal;)+) => {$(
        #[doc = concat!("The `", $scope, "` scope.")]
        $vis struct $name;
        impl $crate::auth::Scope for $name {
            const NAME: &'static str = $scope;
        }
    )+};
}

/// Extractor: the caller, proven to hold scope `S` (403 otherwise).
pub struct Authorized<S: Scope> {
    /// The verified caller.
    pub caller: Caller,
    _scope: PhantomData<S>,
}

impl<S: Scope, St: Send + Sync> FromRequestParts<St> for Authorized<S> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(AuthError::MissingToken)?;
        if !caller.has_scope(S::NAME) {
            return Err(AuthError::InvalidScope);
        }
        Ok(Self {
            caller,
            _scope: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secrets: &[&str]) -> JwtKeys {
        let s: Vec<SecretString> = secrets
            .iter()
            .map(|k| SecretString::from((*k).to_owned()))
            .collect();
        JwtKeys::new(&s).unwrap()
    }

    const K1: &str = "first-key-0123456789abcdefghijklmnop";
    const K2: &str = "second-key-0123456789abcdefghijklmnop";

    #[test]
    fn a_token_verifies_only_for_its_audience() {
        let k = keys(&[K1]);
        let t = k
            .mint(
                "cli",
                "profile",
                &["profile:read"],
                None,
                Duration::from_secs(60),
            )
            .unwrap();
        let c = k.verify(&t, "profile").unwrap();
        assert_eq!(c.scope, "profile:read");
        assert_eq!(k.verify(&t, "wallet").unwrap_err(), AuthError::InvalidToken);
    }

    #[test]
    fn rotated_keys_still_verify_and_unknown_keys_do_not() {
        let old = keys(&[K2]);
        let t = old
            .mint("cli", "profile", &[], None, Duration::from_secs(60))
            .unwrap();
        assert!(keys(&[K1, K2]).verify(&t, "profile").is_ok());
        assert!(keys(&[K1]).verify(&t, "profile").is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let k = keys(&[K1]);
        let now = now_secs();
        let claims = Claims {
            iss: "cli".into(),
            aud: "profile".into(),
            exp: now - 60,
            iat: now - 120,
            jti: "x".into(),
            scope: String::new(),
            tenant_id: None,
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &k.signing).unwrap();
        assert!(k.verify(&t, "profile").is_err());
    }

    #[test]
    fn a_remembered_token_still_expires_and_a_bad_one_is_never_remembered() {
        let k = keys(&[K1]);
        let auth = Authenticator::new(k.clone(), "profile");
        // Minted within one second of `now`, so its expiry is exactly `now + 60` (a mint that
        // straddled a second would make the bounds below off by one).
        let (t, now) = loop {
            let before = now_secs();
            let t = k
                .mint(
                    "cli",
                    "profile",
                    &["profile:read", "profile:write"],
                    Some("t1"),
                    Duration::from_secs(60),
                )
                .unwrap();
            if now_secs() == before {
                break (t, before);
            }
        };
        let first = auth.caller(&t, now).unwrap();
        let again = auth.caller(&t, now).unwrap();
        assert_eq!(auth.verified.len(), 1, "verified once, then remembered");
        for c in [&first, &again] {
            assert_eq!(c.issuer, "cli");
            assert_eq!(c.scopes, ["profile:read", "profile:write"]);
            assert_eq!(c.tenant_id.as_deref(), Some("t1"));
        }
        // Within the leeway after expiry it still holds, as an unremembered token would; after
        // it, the remembered token is refused.
        assert!(auth.caller(&t, now + 60 + LEEWAY_SECS).is_ok());
        assert_eq!(
            auth.caller(&t, now + 61 + LEEWAY_SECS).unwrap_err(),
            AuthError::InvalidToken
        );
        // Another audience's token, or one signed with another key, is refused and not kept.
        let other = k
            .mint("cli", "wallet", &[], None, Duration::from_secs(60))
            .unwrap();
        let forged = keys(&[K2])
            .mint("cli", "profile", &[], None, Duration::from_secs(60))
            .unwrap();
        for bad in [&other, &forged] {
            assert_eq!(auth.caller(bad, now).unwrap_err(), AuthError::InvalidToken);
        }
        assert_eq!(auth.verified.len(), 1);
    }

    #[test]
    fn tenant_bound_callers_cannot_name_another_tenant() {
        let c = Caller {
            issuer: "x".into(),
            scopes: vec![],
            tenant_id: Some("t1".into()),
        };
        assert_eq!(c.tenant(None, "default").as_deref(), Some("t1"));
        assert_eq!(c.tenant(Some("t1"), "default").as_deref(), Some("t1"));
        assert_eq!(c.tenant(Some("t2"), "default"), None);
        assert!(!c.may_see("t2"));
        let free = Caller {
            tenant_id: None,
            ..c
        };
        assert_eq!(free.tenant(None, "default").as_deref(), Some("default"));
    }
}
