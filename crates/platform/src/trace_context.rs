//! W3C trace context through OpenTelemetry's propagator: an incoming `traceparent` becomes the
//! parent of the request span, and outbound calls carry the current span. With trace export
//! off the propagator is a no-op and the incoming header is forwarded as it came.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct Read<'a>(&'a HeaderMap);

impl Extractor for Read<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct Write<'a>(&'a mut HeaderMap);

impl Injector for Write<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(key), HeaderValue::try_from(value)) {
            self.0.insert(k, v);
        }
    }
}

/// Makes the trace context in `headers` the parent of `span`.
pub(crate) fn adopt_parent(span: &tracing::Span, headers: &HeaderMap) {
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Read(headers)));
    // Fails only when no OpenTelemetry layer is installed: then there is nothing to link.
    let _ = span.set_parent(cx);
}

/// Writes the current span's trace context into `headers`.
pub(crate) fn inject_current(headers: &mut HeaderMap) {
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut Write(headers)));
}
