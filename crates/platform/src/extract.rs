//! Extractors whose rejections are problem+json, never axum's plain text: malformed input is a
//! 400, a well-formed body whose fields break the rules a 422 listing every field, a body over the
//! limit a 413, a wrong content type a 415.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Json, body::Bytes};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::problem::{FieldError, Problem};

/// Field rules of an input type.
pub trait Validate {
    /// Records every broken rule in `v`.
    fn validate(&self, v: &mut Validator);
}

/// Collects field errors.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Records `detail` at `pointer` unless `ok`.
    pub fn check(&mut self, ok: bool, pointer: &str, detail: &str) {
        if !ok {
            self.push(pointer, detail);
        }
    }

    /// Records an error.
    pub fn push(&mut self, pointer: &str, detail: impl Into<String>) {
        self.errors.push(FieldError::new(pointer, detail));
    }

    /// Checks the length in characters of an optional string.
    pub fn len(&mut self, value: Option<&str>, pointer: &str, min: usize, max: usize) {
        if let Some(v) = value {
            let n = v.chars().count();
            if n < min || n > max {
                self.push(pointer, format!("must be {min} to {max} characters"));
            }
        }
    }

    /// `Ok` when nothing was recorded.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Runs `value`'s rules: a 422 problem listing every broken one.
pub fn validate<T: Validate>(value: &T) -> Result<(), Rejection> {
    let mut v = Validator::default();
    value.validate(&mut v);
    v.finish().map_err(|errors| {
        Rejection::from(
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "request.invalid")
                .title("The request is invalid")
                .errors(errors),
        )
    })
}

/// The rejection of every kit extractor (boxed: a problem is large, and rejections are rare).
#[derive(Debug)]
pub struct Rejection(pub Box<Problem>);

impl From<Problem> for Rejection {
    fn from(p: Problem) -> Self {
        Self(Box::new(p))
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

fn json_problem(r: &JsonRejection) -> Problem {
    match r {
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
        )
        .detail("expected Content-Type: application/json"),
        JsonRejection::BytesRejection(_) => too_large_or_unreadable(r.status()),
        JsonRejection::JsonDataError(e) => {
            Problem::invalid(vec![FieldError::new("", e.body_text())])
                .detail("the body does not match the expected shape")
        }
        other => Problem::invalid(vec![FieldError::new("", other.body_text())])
            .detail("the body is not valid JSON"),
    }
}

fn too_large_or_unreadable(status: StatusCode) -> Problem {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "request.too_large")
            .detail("the body is larger than this service accepts")
    } else {
        Problem::new(StatusCode::BAD_REQUEST, "request.invalid")
            .detail("the body could not be read")
    }
}

/// A JSON body, parsed and validated.
#[derive(Debug, Clone)]
pub struct ValidJson<T>(pub T);

impl<T, S> FromRequest<S> for ValidJson<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(req, state)
            .await
            .map_err(|r| Rejection::from(json_problem(&r)))?;
        validate(&value)?;
        Ok(Self(value))
    }
}

/// Query parameters, parsed and validated.
#[derive(Debug, Clone)]
pub struct ValidQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ValidQuery<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) =
            Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|r: QueryRejection| {
                    Rejection::from(Problem::invalid(vec![FieldError::new(
                        "query",
                        r.body_text(),
                    )]))
                })?;
        validate(&value)?;
        Ok(Self(value))
    }
}

/// Path parameters, parsed (a malformed id is a 400 naming the parameter).
#[derive(Debug, Clone)]
pub struct ValidPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ValidPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) =
            Path::<T>::from_request_parts(parts, state)
                .await
                .map_err(|r: PathRejection| {
                    Rejection::from(Problem::invalid(vec![FieldError::new(
                        "path",
                        r.body_text(),
                    )]))
                })?;
        Ok(Self(value))
    }
}

/// Header carrying the idempotency key (IETF `Idempotency-Key` draft).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// A JSON body with its `Idempotency-Key` (if sent) and a hash of what was asked, so that a
/// replay with another body can be told from a true retry.
#[derive(Debug, Clone)]
pub struct Idempotent<T> {
    /// The key, when the client sent one.
    pub key: Option<String>,
    /// SHA-256 of method, path and body bytes, hex.
    pub request_hash: String,
    /// The parsed, validated body.
    pub body: T,
}

impl<T> Idempotent<T> {
    /// The key, or `400 idempotency.key_missing` where the route requires one.
    pub fn require_key(&self) -> Result<&str, Rejection> {
        self.key.as_deref().ok_or_else(|| {
            Rejection::from(
                Problem::new(StatusCode::BAD_REQUEST, "idempotency.key_missing")
                    .detail("this route requires an Idempotency-Key header"),
            )
        })
    }
}

fn key_problem() -> Problem {
    Problem::invalid(vec![FieldError::new(
        "header:Idempotency-Key",
        "must be 16 to 255 visible ASCII characters",
    )])
}

impl<T, S> FromRequest<S> for Idempotent<T>
where
    T: DeserializeOwned + Validate,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let key = match req.headers().get(IDEMPOTENCY_KEY) {
            None => None,
            Some(v) => {
                let s = v
                    .to_str()
                    .map_err(|_| Rejection::from(key_problem()))?
                    .trim();
                let ok = (16..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic());
                if !ok {
                    return Err(Rejection::from(key_problem()));
                }
                Some(s.to_owned())
            }
        };
        let mut hasher = Sha256::new();
        hasher.update(req.method().as_str().as_bytes());
        hasher.update(b" ");
        hasher.update(req.uri().path().as_bytes());
        hasher.update(b"\n");
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !is_json {
            return Err(Rejection::from(json_problem(
                &JsonRejection::MissingJsonContentType(Default::default()),
            )));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| Rejection::from(too_large_or_unreadable(r.status())))?;
        hasher.update(&bytes);
        let Json(body) =
            Json::<T>::from_bytes(&bytes).map_err(|r| Rejection::from(json_problem(&r)))?;
        validate(&body)?;
        let request_hash = hex::encode(hasher.finalize());
        Ok(Self {
            key,
            request_hash,
            body,
        })
    }
}
