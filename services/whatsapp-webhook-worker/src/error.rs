//! The webhook worker's errors, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::ApiError;

/// Everything a request can end in besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The handshake's mode or verify token is wrong.
    #[error("the verify token does not match")]
    VerifyTokenMismatch,
    /// The delivery's `X-Hub-Signature-256` is missing, malformed or wrong.
    #[error("invalid webhook signature: {0}")]
    InvalidSignature(#[source] whatsapp::SignatureError),
    /// A signed delivery that is not a WhatsApp notification.
    #[error("the body is not a WhatsApp webhook notification")]
    Malformed,
    /// A tenant-bound token tried to manage the queue, which spans every tenant.
    #[error("a tenant-bound token may not manage the processing queue")]
    TenantForbidden,
    /// Unexpected storage failure.
    #[error("storage failure")]
    Store(#[source] store::Error),
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Self {
        Self::Store(e)
    }
}

impl ApiError for Error {
    fn status(&self) -> StatusCode {
        match self {
            Self::VerifyTokenMismatch | Self::TenantForbidden => StatusCode::FORBIDDEN,
            Self::InvalidSignature(_) => StatusCode::UNAUTHORIZED,
            Self::Malformed => StatusCode::BAD_REQUEST,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::VerifyTokenMismatch => "whatsapp-webhook-worker.verify_token_mismatch",
            Self::InvalidSignature(_) => "whatsapp-webhook-worker.invalid_signature",
            Self::Malformed => "whatsapp-webhook-worker.malformed_notification",
            Self::TenantForbidden => "whatsapp-webhook-worker.tenant_forbidden",
            Self::Store(_) => "whatsapp-webhook-worker.internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        platform::problem::respond(&self)
    }
}
