//! The crate's one error type for outbound calls.

use serde::Deserialize;

/// Meta's error code for "too many messages from this business number" (throughput tier).
pub const CODE_THROUGHPUT: i64 = 130_429;
/// Meta's error code for "too many messages to this customer" (pair rate limit).
pub const CODE_PAIR_RATE: i64 = 131_056;

/// Why an outbound call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request breaks one of Meta's rules (a title too long, four buttons, a malformed
    /// id, ...); nothing was sent. A bug in the caller, never worth retrying.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Meta answered with an error.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// No answer: timeout, connection failure, or the circuit is open.
    #[error(transparent)]
    Upstream(#[from] platform::client::Error),
    /// A success answer we could not read.
    #[error("unreadable Graph API response: {0}")]
    Decode(String),
    /// A media file over the configured size; the download was stopped.
    #[error("media larger than {limit} bytes")]
    MediaTooLarge {
        /// The configured maximum.
        limit: usize,
    },
    /// The media URL Meta returned is neither HTTPS nor on the configured Graph host, so the
    /// bearer token is not sent to it.
    #[error("untrusted media URL")]
    UntrustedMediaUrl,
}

impl Error {
    /// Meta's error code, when Meta answered with one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Graph(g) => g.code,
            _ => None,
        }
    }
}

/// An error answer from the Graph API: the HTTP status plus Meta's `error` object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Graph API answered {status} (code {code:?}, subcode {subcode:?}): {message}")]
pub struct GraphError {
    /// HTTP status.
    pub status: u16,
    /// Meta's `error.code` (e.g. 100 invalid parameter, 130429 throughput, 131047 outside the
    /// 24 h window).
    pub code: Option<i64>,
    /// Meta's `error.error_subcode`.
    pub subcode: Option<i64>,
    /// Meta's `error.message`.
    pub message: String,
    /// Meta's `error.error_data.details`.
    pub details: Option<String>,
    /// Meta's `error.fbtrace_id`, to quote to Meta support.
    pub trace_id: Option<String>,
}

/// How a failed attempt may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Not at all: the same request would fail the same way (or might be sent twice).
    No,
    /// After the usual backoff.
    Backoff,
    /// After at least the per-customer pacing interval.
    PairPacing,
}

impl GraphError {
    /// Reads Meta's error body; falls back to the status alone when the body is not Meta's.
    pub(crate) fn from_body(status: u16, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Envelope {
            error: Body,
        }
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            message: String,
            code: Option<i64>,
            error_subcode: Option<i64>,
            error_data: Option<Data>,
            fbtrace_id: Option<String>,
        }
        #[derive(Deserialize)]
        struct Data {
            details: Option<String>,
        }
        match serde_json::from_slice::<Envelope>(body) {
            Ok(Envelope { error: e }) => Self {
                status,
                code: e.code,
                subcode: e.error_subcode,
                message: e.message,
                details: e.error_data.and_then(|d| d.details),
                trace_id: e.fbtrace_id,
            },
            Err(_) => Self {
                status,
                code: None,
                subcode: None,
                message: format!("HTTP {status}"),
                details: None,
                trace_id: None,
            },
        }
    }

    /// Whether Meta's answer is worth another attempt: throughput (130429) and pair-rate
    /// (131056) errors whatever the status, and any 5xx. Every other 4xx is final.
    pub fn is_retryable(&self) -> bool {
        self.retry() != Retry::No
    }

    pub(crate) fn retry(&self) -> Retry {
        match self.code {
            Some(CODE_PAIR_RATE) => Retry::PairPacing,
            Some(CODE_THROUGHPUT) => Retry::Backoff,
            _ if self.status >= 500 => Retry::Backoff,
            _ => Retry::No,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_error_bodies_are_read_and_classified() {
        let body = br#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}"#;
        let e = GraphError::from_body(400, body);
        assert_eq!(e.code, Some(CODE_THROUGHPUT));
        assert_eq!(e.trace_id.as_deref(), Some("Az8or2yhqkZfEZ-_4Qn_Bam"));
        assert!(e.is_retryable());
        let e = GraphError::from_body(400, br#"{"error":{"message":"bad","code":100}}"#);
        assert!(!e.is_retryable());
        let e = GraphError::from_body(429, b"slow down");
        assert!(!e.is_retryable(), "a 4xx without a retryable code is final");
        assert!(GraphError::from_body(502, b"<html>").is_retryable());
        assert_eq!(
            GraphError::from_body(400, br#"{"error":{"code":131056}}"#).retry(),
            Retry::PairPacing
        );
    }
}
