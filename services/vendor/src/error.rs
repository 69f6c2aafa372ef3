//! The vendor service's errors, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, FieldError};

/// Everything a vendor request can end in besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such vendor in the tenant.
    #[error("vendor not found")]
    VendorNotFound,
    /// No such quote in the tenant.
    #[error("quote not found")]
    QuoteNotFound,
    /// No such intent known in the tenant.
    #[error("intent not found")]
    IntentNotFound,
    /// No such image of the vendor.
    #[error("image not found")]
    ImageNotFound,
    /// Another vendor of the tenant is linked to this profile user.
    #[error("another vendor is linked to this profile user")]
    ProfileTaken,
    /// The intent has not reached this service (no `buyer.intent.created` seen).
    #[error("the intent is unknown to the vendor service")]
    IntentUnknown,
    /// The intent no longer takes quotes.
    #[error("the intent is {0} and takes no more quotes")]
    IntentClosed(&'static str),
    /// This vendor already quoted this intent.
    #[error("this vendor has already quoted this intent")]
    QuoteExists,
    /// The currency is not one quotes may use.
    #[error("currency {0} is not accepted; use one of {1}")]
    CurrencyNotAllowed(String, String),
    /// Free quota used up and no active subscription.
    #[error("the free quotes of this window are used up and the vendor has no active subscription")]
    SubscriptionRequired,
    /// The quote is not pending (already accepted by another purchase, rejected or expired).
    #[error("the quote is {0}, not pending")]
    QuoteNotPending(&'static str),
    /// The accepting buyer does not own the quote's intent.
    #[error("this buyer does not own the quote's intent")]
    BuyerMismatch,
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
    /// The upload is larger than `VENDOR_IMAGE_MAX_BYTES`.
    #[error("the image is larger than {0} bytes")]
    ImageTooLarge(usize),
    /// The bytes are not a JPEG, PNG or WebP image.
    #[error("the file is not a JPEG, PNG or WebP image")]
    ImageUnsupported,
    /// The image declares more pixels than this service decodes (a decompression bomb).
    #[error("{0}")]
    ImageDimensions(String),
    /// The image could not be decoded (truncated or corrupt).
    #[error("the image is truncated or corrupt")]
    ImageInvalid,
    /// The multipart body is malformed or has no file part.
    #[error("{0}")]
    BadUpload(String),
    /// The image store failed.
    #[error("the image store failed")]
    ImageStore(#[source] object_store::Error),
    /// The database cannot be reached.
    #[error("the vendor store is unavailable")]
    Unavailable(#[source] store::Error),
    /// Unexpected storage failure.
    #[error("storage failure")]
    Store(#[source] store::Error),
    /// Unexpected internal failure.
    #[error("internal failure")]
    Internal(#[source] anyhow::Error),
}

store::errors_from_store!(Error);

impl ApiError for Error {
    fn status(&self) -> StatusCode {
        match self {
            Self::VendorNotFound
            | Self::QuoteNotFound
            | Self::IntentNotFound
            | Self::ImageNotFound => StatusCode::NOT_FOUND,
            Self::ProfileTaken
            | Self::IntentClosed(_)
            | Self::QuoteExists
            | Self::QuoteNotPending(_)
            | Self::IdempotencyInFlight => StatusCode::CONFLICT,
            Self::IntentUnknown
            | Self::CurrencyNotAllowed(..)
            | Self::InvalidCursor
            | Self::IdempotencyKeyReused
            | Self::ImageDimensions(_)
            | Self::ImageInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            Self::SubscriptionRequired => StatusCode::PAYMENT_REQUIRED,
            Self::BuyerMismatch | Self::TenantForbidden => StatusCode::FORBIDDEN,
            Self::ImageTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ImageUnsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadUpload(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::ImageStore(_) | Self::Store(_) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::VendorNotFound => "vendor.vendor_not_found",
            Self::QuoteNotFound => "vendor.quote_not_found",
            Self::IntentNotFound => "vendor.intent_not_found",
            Self::ImageNotFound => "vendor.image_not_found",
            Self::ProfileTaken => "vendor.profile_taken",
            Self::IntentUnknown => "vendor.intent_unknown",
            Self::IntentClosed(_) => "vendor.intent_closed",
            Self::QuoteExists => "vendor.quote_exists",
            Self::CurrencyNotAllowed(..) => "vendor.currency_not_allowed",
            Self::SubscriptionRequired => "vendor.subscription_required",
            Self::QuoteNotPending(_) => "vendor.quote_not_pending",
            Self::BuyerMismatch => "vendor.buyer_mismatch",
            Self::InvalidCursor => "vendor.invalid_cursor",
            Self::TenantForbidden => "vendor.tenant_forbidden",
            Self::IdempotencyKeyReused => "vendor.idempotency_key_reused",
            Self::IdempotencyInFlight => "vendor.idempotency_in_flight",
            Self::ImageTooLarge(_) => "vendor.image_too_large",
            Self::ImageUnsupported => "vendor.image_unsupported",
            Self::ImageDimensions(_) => "vendor.image_dimensions",
            Self::ImageInvalid => "vendor.image_invalid",
            Self::BadUpload(_) => "vendor.bad_upload",
            Self::ImageStore(_) => "vendor.image_store",
            Self::Unavailable(_) => "vendor.unavailable",
            Self::Store(_) | Self::Internal(_) => "vendor.internal",
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::CurrencyNotAllowed(..) => vec![FieldError::new("/currency", self.to_string())],
            _ => Vec::new(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        platform::problem::respond(&self)
    }
}
