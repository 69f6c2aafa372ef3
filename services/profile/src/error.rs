//! The profile service's errors, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, FieldError};

/// Everything a profile request can end in besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such profile (or not visible to this caller's tenant, or deleted).
    #[error("profile not found")]
    ProfileNotFound,
    /// No such saved location on this profile.
    #[error("saved location not found")]
    LocationNotFound,
    /// Another live profile of the tenant has this phone number or user id.
    #[error("a profile with this WhatsApp identity already exists")]
    IdentityTaken,
    /// The profile already has a location with this label.
    #[error("this profile already has a location with this label")]
    LabelTaken,
    /// Field values that break domain rules.
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    /// A tenant-bound token tried to write to another tenant.
    #[error("this token may not act for that tenant")]
    TenantForbidden,
    /// Same key, different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The first request with this key is still running.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInFlight,
    /// The database cannot be reached.
    #[error("the profile store is unavailable")]
    Unavailable(#[source] store::Error),
    /// Unexpected storage failure.
    #[error("storage failure")]
    Store(#[source] store::Error),
}

store::errors_from_store!(Error);

impl ApiError for Error {
    fn status(&self) -> StatusCode {
        match self {
            Self::ProfileNotFound | Self::LocationNotFound => StatusCode::NOT_FOUND,
            Self::IdentityTaken | Self::LabelTaken | Self::IdempotencyInFlight => {
                StatusCode::CONFLICT
            }
            Self::Invalid(_) | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TenantForbidden => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::ProfileNotFound => "profile.not_found",
            Self::LocationNotFound => "profile.location_not_found",
            Self::IdentityTaken => "profile.identity_taken",
            Self::LabelTaken => "profile.location_label_taken",
            Self::Invalid(_) => "profile.invalid",
            Self::TenantForbidden => "profile.tenant_forbidden",
            Self::IdempotencyKeyReused => "profile.idempotency_key_reused",
            Self::IdempotencyInFlight => "profile.idempotency_in_flight",
            Self::Unavailable(_) => "profile.unavailable",
            Self::Store(_) => "profile.internal",
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        platform::problem::respond(&self)
    }
}
