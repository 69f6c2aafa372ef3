//! RFC 9457 problem details: the one error body every service returns.
//!
//! Each service maps its own error enum once, by implementing [`ApiError`]; only this module
//! renders the body, so the shape, the content type and the rule "a 5xx says nothing of its
//! cause" hold everywhere.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::request_id;

/// Content type of a problem body.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// One invalid field: a JSON pointer into the request and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer (`/whatsappE164`), or the query/path parameter name.
    pub pointer: String,
    /// What is wrong, for a person.
    pub detail: String,
}

impl FieldError {
    /// A field error at `pointer`.
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}

/// A problem+json body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:easymo:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened this time, safe to show the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable code `<service>.<outcome>`, for programs.
    pub code: String,
    /// Field errors of a validation failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The request id, to quote when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Seconds to wait before retrying (rate limits).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem with the given status and code; the title is the status' reason phrase.
    pub fn new(status: StatusCode, code: impl Into<String>) -> Self {
        let code = code.into();
        Self {
            type_: format!("urn:easymo:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: None,
            code,
            errors: Vec::new(),
            request_id: request_id::current().map(|r| r.to_string()),
            retry_after: None,
        }
    }

    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Sets the detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the field errors.
    pub fn errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// `400 request.invalid` with field errors.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "request.invalid")
            .title("The request is invalid")
            .errors(errors)
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let retry_after = self.retry_after;
        let mut res = (status, Json(self)).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// An error that knows its HTTP meaning. Implement once per crate error enum, then render with
/// [`respond`].
pub trait ApiError: std::error::Error {
    /// HTTP status.
    fn status(&self) -> StatusCode;
    /// Stable code, `<service>.<outcome>`.
    fn code(&self) -> &'static str;
    /// Short summary; defaults to the status' reason phrase.
    fn title(&self) -> Option<&'static str> {
        None
    }
    /// Field errors for validation failures.
    fn field_errors(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// Renders an [`ApiError`]: a 5xx body is opaque and its cause chain is logged once; a 4xx
/// carries its message as `detail`.
pub fn respond<E: ApiError>(err: &E) -> Response {
    let status = err.status();
    let mut problem = Problem::new(status, err.code());
    if let Some(title) = err.title() {
        problem = problem.title(title);
    }
    if status.is_server_error() {
        tracing::error!(code = err.code(), error = %cause_chain(err), "request failed");
    } else {
        problem = problem.detail(err.to_string()).errors(err.field_errors());
    }
    problem.into_response()
}

/// `outer: inner: root`, for one log line that holds the whole story.
pub fn cause_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("profile 7 is gone")]
    struct Gone;
    impl ApiError for Gone {
        fn status(&self) -> StatusCode {
            StatusCode::NOT_FOUND
        }
        fn code(&self) -> &'static str {
            "profile.not_found"
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("database password=hunter2 refused")]
    struct Broken;
    impl ApiError for Broken {
        fn status(&self) -> StatusCode {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        fn code(&self) -> &'static str {
            "profile.internal"
        }
    }

    async fn body(res: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn client_errors_carry_code_and_detail_as_problem_json() {
        let res = respond(&Gone);
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(res.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        let b = body(res).await;
        assert_eq!(b["code"], "profile.not_found");
        assert_eq!(b["type"], "urn:easymo:problem:profile.not_found");
        assert_eq!(b["detail"], "profile 7 is gone");
        assert_eq!(b["status"], 404);
    }

    #[tokio::test]
    async fn server_errors_hide_their_cause() {
        let b = body(respond(&Broken)).await;
        assert_eq!(b["status"], 500);
        assert!(b.get("detail").is_none());
        assert!(!b.to_string().contains("hunter2"));
    }
}
