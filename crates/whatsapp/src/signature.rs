//! Proof that a webhook came from Meta: `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of
//! the request body keyed with the app secret.
//!
//! The MAC covers the raw bytes exactly as received. Re-serialising the parsed JSON is never
//! equivalent: Meta escapes non-ASCII as `\uXXXX` (and `/` as `\/`), which serde_json writes
//! back as UTF-8, so the bytes (and the MAC) differ for any message with an accent or an emoji.

use std::fmt;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header Meta signs webhook deliveries with (lower-case, as `http` names it).
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

const PREFIX: &str = "sha256=";

/// Why a delivery's signature was refused. Every case is a 401 to Meta; the variants exist for
/// logs and metrics, since a malformed header is more often a misconfigured proxy than an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header (or an empty one).
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    #[error("malformed X-Hub-Signature-256 header")]
    Malformed,
    /// Well-formed, but not the MAC of this body under our secret.
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// The app secret webhook signatures are keyed with, held as a keyed MAC ready to clone.
#[derive(Clone)]
pub struct AppSecret(Hmac<Sha256>);

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret([REDACTED])")
    }
}

impl AppSecret {
    /// Keys the MAC with `secret`; `None` when it is empty, because an empty key lets anyone
    /// sign.
    pub fn new(secret: &SecretString) -> Option<Self> {
        let key = secret.expose_secret().as_bytes();
        if key.is_empty() {
            return None;
        }
        // HMAC takes keys of any length, so this never fails; `ok()` keeps the code panic-free.
        <Hmac<Sha256> as Mac>::new_from_slice(key).ok().map(Self)
    }

    /// Checks `header` (the value of `X-Hub-Signature-256`) against `raw_body`, the request
    /// body as received. The comparison is constant-time.
    pub fn verify(&self, header: Option<&str>, raw_body: &[u8]) -> Result<(), SignatureError> {
        let header = header
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(SignatureError::Missing)?;
        let hex_part = header
            .strip_prefix(PREFIX)
            .ok_or(SignatureError::Malformed)?;
        let claimed = hex::decode(hex_part).map_err(|_| SignatureError::Malformed)?;
        if claimed.len() != 32 {
            return Err(SignatureError::Malformed);
        }
        let mut mac = self.0.clone();
        mac.update(raw_body);
        // `verify_slice` compares in constant time (it uses `subtle` underneath).
        mac.verify_slice(&claimed)
            .map_err(|_| SignatureError::Mismatch)
    }

    /// The header value Meta would send for `raw_body` (`sha256=<hex>`): for tests and for
    /// replaying a stored delivery through the same path.
    pub fn sign(&self, raw_body: &[u8]) -> String {
        let mut mac = self.0.clone();
        mac.update(raw_body);
        format!("{PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
    }
}

/// The webhook subscription handshake (`GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`):
/// returns the challenge to echo when the mode is `subscribe` and the token matches `expected`
/// in constant time, else `None` (answer 403). An empty expected token never matches.
pub fn verify_challenge<'a>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
    expected: &SecretString,
) -> Option<&'a str> {
    let expected = expected.expose_secret().as_bytes();
    let token = token?.as_bytes();
    let matches = !expected.is_empty() && bool::from(token.ct_eq(expected));
    (mode == Some("subscribe") && matches)
        .then_some(challenge)
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> AppSecret {
        AppSecret::new(&SecretString::from("s3cret")).unwrap()
    }

    #[test]
    fn an_empty_secret_is_refused() {
        assert!(AppSecret::new(&SecretString::from("")).is_none());
    }

    #[test]
    fn a_signature_made_by_sign_verifies() {
        let s = secret();
        let sig = s.sign(b"{}");
        assert_eq!(sig.len(), PREFIX.len() + 64);
        assert_eq!(s.verify(Some(&sig), b"{}"), Ok(()));
        assert_eq!(s.verify(Some(&sig), b"{ }"), Err(SignatureError::Mismatch));
    }

    #[test]
    fn the_challenge_is_echoed_only_for_the_right_token() {
        let expected = SecretString::from("tok");
        let ok = verify_challenge(Some("subscribe"), Some("tok"), Some("42"), &expected);
        assert_eq!(ok, Some("42"));
        assert_eq!(
            verify_challenge(Some("subscribe"), Some("tok2"), Some("42"), &expected),
            None
        );
        assert_eq!(
            verify_challenge(Some("unsubscribe"), Some("tok"), Some("42"), &expected),
            None
        );
        assert_eq!(
            verify_challenge(
                Some("subscribe"),
                Some(""),
                Some("42"),
                &SecretString::from("")
            ),
            None
        );
    }
}
