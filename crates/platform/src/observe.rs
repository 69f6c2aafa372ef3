//! Per-request observation: a span carrying the request id, service and route template, one
//! JSON line when the response is sent, and the RED metrics. It runs after routing (the edge
//! layer is installed with `Router::layer`), so it sees the matched route template rather than
//! the raw path (ids in paths would explode the label cardinality).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use metrics::{Counter, Histogram};

use crate::request_id::RequestId;

/// Label used for requests that matched no route (the 404 fallback).
pub(crate) const UNMATCHED: &str = "unmatched";

/// A service's request metrics, by route template, method and status.
#[derive(Clone)]
pub(crate) struct Observe {
    service: &'static str,
    meters: Arc<Meters>,
}

/// The counter and histogram of one route, method and status.
struct Meter {
    method: Method,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

/// Metric handles resolved once per route, method and status: a request records its metrics
/// without building and hashing a label set twice (a dozen allocations per request).
#[derive(Default)]
struct Meters(RwLock<HashMap<String, Vec<Meter>>>);

/// One request being observed.
pub(crate) struct Observation {
    start: Instant,
    route: String,
    method: Method,
    request_id: String,
    pub(crate) span: tracing::Span,
}

impl Observe {
    pub(crate) fn new(service: &'static str) -> Self {
        Self {
            service,
            meters: Arc::default(),
        }
    }

    /// Starts observing `req` (its request id settled already).
    pub(crate) fn start(&self, req: &Request) -> Observation {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or(UNMATCHED, MatchedPath::as_str)
            .to_owned();
        let method = req.method().clone();
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let span = tracing::info_span!(
            "request",
            service = self.service,
            request_id = %request_id,
            method = %method,
            route = %route,
        );
        crate::trace_context::adopt_parent(&span, req.headers());
        Observation {
            start: Instant::now(),
            route,
            method,
            request_id,
            span,
        }
    }

    /// Logs the response and records its metrics.
    pub(crate) fn finish(&self, o: Observation, res: &Response) {
        let elapsed = o.start.elapsed();
        let status = res.status().as_u16();
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        let request_id = &o.request_id;
        o.span.in_scope(|| {
            if res.status().is_server_error() {
                tracing::warn!(status, latency_ms, request_id = %request_id, "request completed");
            } else {
                tracing::info!(status, latency_ms, request_id = %request_id, "request completed");
            }
        });
        self.record(&o.route, &o.method, status, elapsed.as_secs_f64());
    }

    /// Counts the request and records its duration under its route, method and status.
    fn record(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let record = |m: &Meter| {
            m.requests.increment(1);
            m.duration.record(seconds);
        };
        let found = |list: &[Meter]| {
            list.iter()
                .position(|m| m.status == status && m.method == *method)
        };
        // A poisoned lock only means another request panicked mid-insert; the map is intact.
        {
            let map = self.meters.0.read().unwrap_or_else(|e| e.into_inner());
            if let Some(list) = map.get(route)
                && let Some(i) = found(list)
            {
                return record(&list[i]);
            }
        }
        let mut map = self.meters.0.write().unwrap_or_else(|e| e.into_inner());
        let list = map.entry(route.to_owned()).or_default();
        let i = found(list).unwrap_or_else(|| {
            let labels = [
                ("service", self.service.to_owned()),
                ("method", method.to_string()),
                ("route", route.to_owned()),
                ("status", status.to_string()),
            ];
            list.push(Meter {
                method: method.clone(),
                status,
                requests: metrics::counter!("http_server_requests_total", &labels),
                duration: metrics::histogram!("http_server_request_duration_seconds", &labels),
            });
            list.len() - 1
        });
        record(&list[i]);
    }
}
