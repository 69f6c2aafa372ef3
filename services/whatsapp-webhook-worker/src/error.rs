//! The webhook worker's errors, mapped to HTTP once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, FieldError};

/// Everything a request can end in besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The handshake's mode or verify token is wrong.
    #[error("the verify token does not match")]
    VerifyTokenMismatch,
    /// The delivery's `X-Hub-Signature-256` is missing, malformed or wrong.
    #[error("invalid webhook signature: {0}")]
    InvalidSignature(#[source] whatsapp::SignatureError),
    /// No app secret is configured, so no delivery can be verified (development only: production
    /// refuses to start without it).
    #[error("webhook ingestion is disabled: WHATSAPP_WEBHOOK_WORKER_APP_SECRET is not set")]
    WebhookDisabled,
    /// A signed delivery that is not a WhatsApp notification.
    #[error("the body is not a WhatsApp webhook notification")]
    Malformed,
    /// A tenant-bound token tried to manage the queue (which spans every tenant) or to act for
    /// another tenant.
    #[error("a tenant-bound token may not manage the processing queue or act for another tenant")]
    TenantForbidden,
    /// No access token is configured: this replica cannot send.
    #[error("sending is disabled: WHATSAPP_WEBHOOK_WORKER_ACCESS_TOKEN is not set")]
    SendingDisabled,
    /// The contact opted out of messages.
    #[error("the contact opted out")]
    ContactOptedOut,
    /// A free-form message more than 24 h after the contact's last message: only templates go.
    #[error("more than 24 h since the contact's last message: only a template may be sent")]
    OutsideServiceWindow,
    /// The message breaks one of Meta's rules (`pointer` names the field).
    #[error("invalid message: {detail}")]
    InvalidMessage {
        /// JSON pointer of the field.
        pointer: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The tenant has no business number in `..._TENANTS`.
    #[error("no business number is mapped to this tenant (WHATSAPP_WEBHOOK_WORKER_TENANTS)")]
    NoBusinessNumber,
    /// No such outbound message (or not the caller's tenant's).
    #[error("message not found")]
    MessageNotFound,
    /// The `Idempotency-Key` was used with another request.
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` is still running.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInFlight,
    /// Meta knows no media with this id (or it is not a Graph API id).
    #[error("media not found")]
    MediaNotFound,
    /// Meta's media could not be fetched (an outage, a timeout, a file over the limit).
    #[error("the media could not be fetched from the Graph API")]
    MediaUnavailable(#[source] whatsapp::Error),
    /// The database cannot be reached.
    #[error("the whatsapp-webhook-worker store is unavailable")]
    Unavailable(#[source] store::Error),
    /// Unexpected storage failure.
    #[error("storage failure")]
    Store(#[source] store::Error),
}

store::errors_from_store!(Error);

impl ApiError for Error {
    fn status(&self) -> StatusCode {
        match self {
            Self::VerifyTokenMismatch | Self::TenantForbidden => StatusCode::FORBIDDEN,
            Self::InvalidSignature(_) => StatusCode::UNAUTHORIZED,
            Self::Malformed => StatusCode::BAD_REQUEST,
            Self::SendingDisabled | Self::WebhookDisabled => StatusCode::SERVICE_UNAVAILABLE,
            Self::ContactOptedOut
            | Self::OutsideServiceWindow
            | Self::InvalidMessage { .. }
            | Self::NoBusinessNumber
            | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MessageNotFound | Self::MediaNotFound => StatusCode::NOT_FOUND,
            Self::MediaUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::IdempotencyInFlight => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::VerifyTokenMismatch => "whatsapp-webhook-worker.verify_token_mismatch",
            Self::InvalidSignature(_) => "whatsapp-webhook-worker.invalid_signature",
            Self::Malformed => "whatsapp-webhook-worker.malformed_notification",
            Self::TenantForbidden => "whatsapp-webhook-worker.tenant_forbidden",
            Self::SendingDisabled => "whatsapp-webhook-worker.sending_disabled",
            Self::WebhookDisabled => "whatsapp-webhook-worker.webhook_disabled",
            Self::ContactOptedOut => "whatsapp-webhook-worker.contact_opted_out",
            Self::OutsideServiceWindow => "whatsapp-webhook-worker.outside_service_window",
            Self::InvalidMessage { .. } => "whatsapp-webhook-worker.invalid_message",
            Self::NoBusinessNumber => "whatsapp-webhook-worker.no_business_number",
            Self::MessageNotFound => "whatsapp-webhook-worker.message_not_found",
            Self::MediaNotFound => "whatsapp-webhook-worker.media_not_found",
            Self::MediaUnavailable(_) => "whatsapp-webhook-worker.media_unavailable",
            Self::IdempotencyKeyReused => "whatsapp-webhook-worker.idempotency_key_reused",
            Self::IdempotencyInFlight => "whatsapp-webhook-worker.idempotency_in_flight",
            Self::Unavailable(_) => "whatsapp-webhook-worker.unavailable",
            Self::Store(_) => "whatsapp-webhook-worker.internal",
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::InvalidMessage { pointer, detail } => {
                vec![FieldError::new(*pointer, detail.clone())]
            }
            _ => Vec::new(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        platform::problem::respond(&self)
    }
}
