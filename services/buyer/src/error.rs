//! The buyer service's errors, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, FieldError};

/// Everything a buyer request can end in besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such buyer in the tenant.
    #[error("buyer not found")]
    BuyerNotFound,
    /// No such intent in the tenant.
    #[error("intent not found")]
    IntentNotFound,
    /// No such purchase in the tenant.
    #[error("purchase not found")]
    PurchaseNotFound,
    /// The vendor knows no such quote in the tenant.
    #[error("quote not found")]
    QuoteNotFound,
    /// Another buyer of the tenant is linked to this profile.
    #[error("a buyer is already linked to this profile")]
    BuyerExists,
    /// The request's amount or currency differs from the quote's.
    #[error("the amount or currency differs from the quote's ({0})")]
    AmountMismatch(String),
    /// `buyerId` is missing (`POST /intents`) or differs from the path's.
    #[error("{0}")]
    BuyerIdInvalid(&'static str),
    /// The named buyer does not own the quote's intent.
    #[error("the buyer does not own the quote's intent")]
    NotIntentOwner,
    /// The quote is no longer pending (or has expired) at the vendor.
    #[error("the quote is not pending")]
    QuoteNotPending,
    /// The intent is matched, expired or cancelled.
    #[error("the intent is not open")]
    IntentNotOpen,
    /// A live purchase of this quote exists.
    #[error("this quote is already being purchased")]
    QuoteAlreadyPurchased,
    /// A live purchase of another quote of this intent exists.
    #[error("another purchase of this intent is in progress")]
    IntentHasPurchase,
    /// Confirmations are taken once the vendor has accepted.
    #[error("the purchase is not accepted yet")]
    PurchaseNotAccepted,
    /// The purchase is settled, cancelled or failed.
    #[error("the purchase is {0}")]
    PurchaseClosed(&'static str),
    /// `expiresAt` is in the past.
    #[error("expiresAt must be in the future")]
    InvalidExpiry,
    /// A malformed cursor.
    #[error("the cursor is not one this service issued")]
    InvalidCursor,
    /// A tenant-bound token named another tenant.
    #[error("this token may not act for that tenant")]
    TenantForbidden,
    /// The route requires an `Idempotency-Key`.
    #[error("this route requires an Idempotency-Key header")]
    IdempotencyKeyMissing,
    /// Same `Idempotency-Key`, different request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// The first request with this key is still running.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInFlight,
    /// The wallet or the vendor service cannot be reached.
    #[error("{0} is unavailable")]
    DependencyUnavailable(&'static str),
    /// The wallet or the vendor answered something the contract does not allow.
    #[error("{0}")]
    Upstream(String),
    /// The database cannot be reached.
    #[error("the buyer store is unavailable")]
    Unavailable(#[source] store::Error),
    /// Unexpected storage failure.
    #[error("storage failure")]
    Store(#[source] store::Error),
}

store::errors_from_store!(Error);

impl ApiError for Error {
    fn status(&self) -> StatusCode {
        match self {
            Self::BuyerNotFound
            | Self::IntentNotFound
            | Self::PurchaseNotFound
            | Self::QuoteNotFound => StatusCode::NOT_FOUND,
            Self::BuyerExists
            | Self::QuoteNotPending
            | Self::IntentNotOpen
            | Self::QuoteAlreadyPurchased
            | Self::IntentHasPurchase
            | Self::PurchaseNotAccepted
            | Self::PurchaseClosed(_)
            | Self::IdempotencyInFlight => StatusCode::CONFLICT,
            Self::AmountMismatch(_)
            | Self::BuyerIdInvalid(_)
            | Self::NotIntentOwner
            | Self::InvalidExpiry
            | Self::InvalidCursor
            | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TenantForbidden => StatusCode::FORBIDDEN,
            Self::IdempotencyKeyMissing => StatusCode::BAD_REQUEST,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::DependencyUnavailable(_) | Self::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::BuyerNotFound => "buyer.buyer_not_found",
            Self::IntentNotFound => "buyer.intent_not_found",
            Self::PurchaseNotFound => "buyer.purchase_not_found",
            Self::QuoteNotFound => "buyer.quote_not_found",
            Self::BuyerExists => "buyer.buyer_exists",
            Self::AmountMismatch(_) => "buyer.amount_mismatch",
            Self::BuyerIdInvalid(_) => "buyer.invalid_buyer_id",
            Self::NotIntentOwner => "buyer.not_intent_owner",
            Self::QuoteNotPending => "buyer.quote_not_pending",
            Self::IntentNotOpen => "buyer.intent_not_open",
            Self::QuoteAlreadyPurchased => "buyer.quote_already_purchased",
            Self::IntentHasPurchase => "buyer.intent_has_purchase",
            Self::PurchaseNotAccepted => "buyer.purchase_not_accepted",
            Self::PurchaseClosed(_) => "buyer.purchase_closed",
            Self::InvalidExpiry => "buyer.invalid_expiry",
            Self::InvalidCursor => "buyer.invalid_cursor",
            Self::TenantForbidden => "buyer.tenant_forbidden",
            Self::IdempotencyKeyMissing => "buyer.idempotency_key_missing",
            Self::IdempotencyKeyReused => "buyer.idempotency_key_reused",
            Self::IdempotencyInFlight => "buyer.idempotency_in_flight",
            Self::DependencyUnavailable(_) => "buyer.dependency_unavailable",
            Self::Upstream(_) => "buyer.upstream_error",
            Self::Unavailable(_) => "buyer.unavailable",
            Self::Store(_) => "buyer.internal",
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::AmountMismatch(field) => vec![FieldError::new(
                format!("/{field}"),
                "must equal the quote's",
            )],
            _ => Vec::new(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        platform::problem::respond(&self)
    }
}
