//! The ranking service's errors, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, FieldError};

/// Everything a ranking request can end in besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such vendor in the tenant.
    #[error("vendor not found")]
    VendorNotFound,
    /// No such experiment in the tenant.
    #[error("experiment not found")]
    ExperimentNotFound,
    /// A malformed cursor.
    #[error("the cursor is not one this service issued")]
    InvalidCursor,
    /// A tenant-bound token named another tenant.
    #[error("this token may not act for that tenant")]
    TenantForbidden,
    /// Same `Idempotency-Key`, different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The first request with this key is still running.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInFlight,
    /// The database cannot be reached.
    #[error("the ranking store is unavailable")]
    Unavailable(#[source] store::Error),
    /// Unexpected storage failure.
    #[error("storage failure")]
    Store(#[source] store::Error),
}

store::errors_from_store!(Error);

impl ApiError for Error {
    fn status(&self) -> StatusCode {
        match self {
            Self::VendorNotFound | Self::ExperimentNotFound => StatusCode::NOT_FOUND,
            Self::InvalidCursor | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::IdempotencyInFlight => StatusCode::CONFLICT,
            Self::TenantForbidden => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::VendorNotFound => "ranking.vendor_not_found",
            Self::ExperimentNotFound => "ranking.experiment_not_found",
            Self::InvalidCursor => "ranking.invalid_cursor",
            Self::IdempotencyKeyReused => "ranking.idempotency_key_reused",
            Self::IdempotencyInFlight => "ranking.idempotency_in_flight",
            Self::TenantForbidden => "ranking.tenant_forbidden",
            Self::Unavailable(_) => "ranking.unavailable",
            Self::Store(_) => "ranking.internal",
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        platform::problem::respond(&self)
    }
}
