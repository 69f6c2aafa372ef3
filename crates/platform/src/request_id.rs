//! Request ids and trace context: accepted from the caller, or made here, echoed on the
//! response, and kept in a task-local so logs, problem bodies and outbound calls can read them
//! without threading them through every function.

use std::fmt;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

/// `X-Request-Id`.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Also read, for callers of the original platform.
static X_CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");
/// W3C trace context.
pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The id of the request being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the current request carries for correlation.
#[derive(Debug, Clone)]
pub struct TraceContext {
    /// The request id.
    pub request_id: RequestId,
    /// A valid incoming W3C `traceparent`, forwarded on outbound calls.
    pub traceparent: Option<HeaderValue>,
}

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// The request id of the request this task serves, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(|c| c.request_id.clone()).ok()
}

/// The whole trace context of the current request, if any.
pub fn current_context() -> Option<TraceContext> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `fut` with `ctx` as the current trace context (background work started by a request).
pub async fn scope<F: Future>(ctx: TraceContext, fut: F) -> F::Output {
    CURRENT.scope(ctx, fut).await
}

/// A caller-supplied id is kept only when it is short and plain, so it cannot inject into logs.
fn acceptable(v: &HeaderValue) -> Option<&str> {
    let s = v.to_str().ok()?.trim();
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b));
    ok.then_some(s)
}

/// `traceparent` = `00-<32 hex>-<16 hex>-<2 hex>`.
fn valid_traceparent(v: &HeaderValue) -> bool {
    let Ok(s) = v.to_str() else { return false };
    let parts: Vec<&str> = s.split('-').collect();
    let hex = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
    parts.len() == 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && parts[1] != "0".repeat(32)
        && hex(parts[2], 16)
        && parts[2] != "0".repeat(16)
        && hex(parts[3], 2)
}

/// Settles the request's id and trace context: the caller's when acceptable, else a new id.
/// The id is put on the request (header and extension) for the layers and handler inside.
pub(crate) fn settle(req: &mut Request) -> TraceContext {
    let headers = req.headers();
    let id = headers
        .get(&X_REQUEST_ID)
        .and_then(acceptable)
        .or_else(|| headers.get(&X_CORRELATION_ID).and_then(acceptable))
        .map(str::to_owned)
        .unwrap_or_else(|| ulid::Ulid::generate().to_string());
    let traceparent = headers
        .get(&TRACEPARENT)
        .filter(|v| valid_traceparent(v))
        .cloned();
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    let request_id = RequestId(Arc::from(id));
    req.extensions_mut().insert(request_id.clone());
    TraceContext {
        request_id,
        traceparent,
    }
}

/// Echoes the request id and trace context on the response.
pub(crate) fn echo(res: &mut Response, ctx: &TraceContext) {
    if let Ok(v) = HeaderValue::from_str(ctx.request_id.as_str()) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    if let Some(tp) = &ctx.traceparent {
        res.headers_mut().insert(TRACEPARENT.clone(), tp.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_ids_are_accepted() {
        assert_eq!(
            acceptable(&HeaderValue::from_static("abc-123")),
            Some("abc-123")
        );
        assert_eq!(acceptable(&HeaderValue::from_static("a b")), None);
        assert_eq!(acceptable(&HeaderValue::from_static("x\"}{")), None);
        let long = "a".repeat(129);
        assert_eq!(acceptable(&HeaderValue::from_str(&long).unwrap()), None);
    }

    #[test]
    fn traceparent_follows_w3c_format() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(valid_traceparent(&HeaderValue::from_static(ok)));
        let zero = "00-00000000000000000000000000000000-00f067aa0ba902b7-01";
        assert!(!valid_traceparent(&HeaderValue::from_static(zero)));
        assert!(!valid_traceparent(&HeaderValue::from_static("nonsense")));
    }
}
