//! The whatsapp-pricing service's errors, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, FieldError};

/// Everything a pricing request can end in besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such quote (or not visible to this caller's tenant).
    #[error("quote not found")]
    QuoteNotFound,
    /// No such tariff version.
    #[error("tariff version not found")]
    TariffNotFound,
    /// The insurer declined this quote, so there is nothing to pay.
    #[error("{0} gave no quote for this request, so it cannot be paid")]
    NotQuoted(&'static str),
    /// Field values that break the engine's rules (unknown category, seats out of range...).
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    /// A tariff document the engine rejects.
    #[error("{0}")]
    InvalidTariff(String),
    /// A new tariff version may not take effect before today.
    #[error(
        "effective_from {0} is in the past: a new version may take effect today at the earliest"
    )]
    TariffInThePast(chrono::NaiveDate),
    /// The version id is taken, or the insurer already has a version starting that day.
    #[error("{0}")]
    TariffConflict(String),
    /// A tenant-bound token tried to act for another tenant.
    #[error("this token may not act for that tenant")]
    TenantForbidden,
    /// Same key, different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The first request with this key is still running.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInFlight,
    /// A stored tariff no longer loads (the table was edited by hand).
    #[error("stored tariff {0} is invalid")]
    CorruptTariff(String, #[source] pricing::TariffError),
    /// A conversation kept losing version races (retried later by the caller).
    #[error("the conversation is being changed concurrently")]
    Contended,
    /// A dependency could not be called.
    #[error("{0}")]
    Dependency(String),
    /// The database could not be reached (pool exhausted or closed, connection lost): retry.
    #[error("the database is unavailable")]
    Unavailable(#[source] store::Error),
    /// Unexpected storage failure.
    #[error("storage failure")]
    Store(#[source] store::Error),
}

store::errors_from_store!(Error);

impl ApiError for Error {
    fn status(&self) -> StatusCode {
        match self {
            Self::QuoteNotFound | Self::TariffNotFound => StatusCode::NOT_FOUND,
            Self::NotQuoted(_)
            | Self::TariffConflict(_)
            | Self::IdempotencyInFlight
            | Self::Contended => StatusCode::CONFLICT,
            Self::Invalid(_)
            | Self::InvalidTariff(_)
            | Self::TariffInThePast(_)
            | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TenantForbidden => StatusCode::FORBIDDEN,
            Self::CorruptTariff(..) | Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Dependency(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::QuoteNotFound => "whatsapp-pricing.quote_not_found",
            Self::TariffNotFound => "whatsapp-pricing.tariff_not_found",
            Self::NotQuoted(_) => "whatsapp-pricing.not_quoted",
            Self::Invalid(_) => "whatsapp-pricing.invalid",
            Self::InvalidTariff(_) => "whatsapp-pricing.invalid_tariff",
            Self::TariffInThePast(_) => "whatsapp-pricing.tariff_in_the_past",
            Self::TariffConflict(_) => "whatsapp-pricing.tariff_conflict",
            Self::TenantForbidden => "whatsapp-pricing.tenant_forbidden",
            Self::IdempotencyKeyReused => "whatsapp-pricing.idempotency_key_reused",
            Self::IdempotencyInFlight => "whatsapp-pricing.idempotency_in_flight",
            Self::Contended => "whatsapp-pricing.contended",
            Self::Dependency(_) => "whatsapp-pricing.dependency",
            Self::Unavailable(_) => "whatsapp-pricing.unavailable",
            Self::CorruptTariff(..) | Self::Store(_) => "whatsapp-pricing.internal",
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }
}

impl Error {
    /// A failure, as the group-commit writer's error (it aborts the batch).
    pub(crate) fn into_store(self) -> store::Error {
        match self {
            Self::Store(e) | Self::Unavailable(e) => e,
            Self::IdempotencyKeyReused => store::Error::IdempotencyKeyReused,
            Self::IdempotencyInFlight => store::Error::IdempotencyInFlight,
            other => store::Error::Setup(other.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        platform::problem::respond(&self)
    }
}
