//! Per-request observation: a span carrying the request id, service and route template, one
//! JSON line when the response is sent, and the RED metrics. Installed with `Router::layer`, so
//! it runs after routing and sees the matched route template rather than the raw path (ids in
//! paths would explode the label cardinality).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::request_id::RequestId;

/// Label used for requests that matched no route (the 404 fallback).
pub(crate) const UNMATCHED: &str = "unmatched";

/// Middleware state: the service name.
#[derive(Clone, Copy)]
pub(crate) struct Observe {
    pub(crate) service: &'static str,
}

pub(crate) async fn observe(State(o): State<Observe>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let method = req.method().clone();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        service = o.service,
        request_id = %request_id,
        method = %method,
        route = %route,
    );
    crate::trace_context::adopt_parent(&span, req.headers());
    let res = next.run(req).instrument(span.clone()).await;
    let elapsed = start.elapsed();
    let status = res.status().as_u16();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if res.status().is_server_error() {
            tracing::warn!(status, latency_ms, request_id = %request_id, "request completed");
        } else {
            tracing::info!(status, latency_ms, request_id = %request_id, "request completed");
        }
    });
    let labels = [
        ("service", o.service.to_owned()),
        ("method", method.to_string()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_server_requests_total", &labels).increment(1);
    metrics::histogram!("http_server_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
    res
}
