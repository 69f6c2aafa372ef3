//! Assembles a service's router with the kit's layers and serves it until its shutdown token
//! is cancelled, then drains within a bound.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::auth::{self, Authenticator};
use crate::health::{self, Readiness};
use crate::observe::Observe;
use crate::problem::Problem;
use crate::ratelimit::{self, Limiter};
use crate::request_id;
use crate::service::{Built, Ctx};

/// Headers every response carries unless the handler set its own.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("strict-transport-security", "max-age=63072000"),
];

/// What the edge layer needs: the service's observation and the limits enforced before a
/// handler runs.
#[derive(Clone)]
struct Edge {
    observe: Observe,
    body_limit: usize,
    timeout: Duration,
}

/// Everything every request goes through, in one layer rather than three nested ones (each
/// `from_fn` layer boxes the rest of the stack per request; merged, the kit's own per-request
/// cost fell by a third): settles the request id and trace context, observes the request
/// (span, log line, metrics), refuses a declared oversize body before it is read, bounds the
/// request's time, and adds the security headers and the echoed ids to the response.
async fn edge(State(e): State<Edge>, mut req: Request, next: Next) -> Response {
    let ctx = request_id::settle(&mut req);
    let observation = e.observe.start(&req);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut res = if declared.is_some_and(|n| n > e.body_limit) {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "request.too_large")
            .detail(format!("bodies are limited to {} bytes", e.body_limit))
            .into_response()
    } else {
        let run =
            tokio::time::timeout(e.timeout, next.run(req)).instrument(observation.span.clone());
        match request_id::scope(ctx.clone(), run).await {
            Ok(res) => res,
            Err(_) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "request.timeout")
                .detail("the request took too long and was abandoned")
                .into_response(),
        }
    };
    let h = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    e.observe.finish(observation, &res);
    request_id::echo(&mut res, &ctx);
    res
}

/// What stands between a request and its route: the rate limit, and for the service's own
/// routes the caller's token.
#[derive(Clone)]
struct Gate {
    limiter: Limiter,
    /// `None` for public routes (Meta's webhooks, the handshake).
    authn: Option<Authenticator>,
}

/// Authenticates (protected routes), then takes a rate-limit token, then refuses an
/// unauthenticated request: in that order so failed attempts are counted too, keyed by address.
async fn gate(State(g): State<Gate>, mut req: Request, next: Next) -> Response {
    let identified = g.authn.as_ref().map(|a| auth::authenticate(a, &mut req));
    let key = ratelimit::key(&g.limiter, &req);
    let remaining = match ratelimit::admit(&g.limiter, &key).await {
        Ok(remaining) => remaining,
        Err(refused) => return refused,
    };
    let mut res = match identified {
        Some(Err(e)) => e.into_response(),
        Some(Ok(())) | None => next.run(req).await,
    };
    ratelimit::stamp(&g.limiter, &mut res, remaining);
    res
}

async fn not_found(method: Method, uri: axum::http::Uri) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "request.not_found")
        .detail(format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Problem {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "request.method_not_allowed")
        .detail(format!("{method} is not allowed on {}", uri.path()))
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "request.internal").into_response()
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                request_id::X_REQUEST_ID.clone(),
            ])
            .expose_headers([request_id::X_REQUEST_ID.clone()])
            .max_age(Duration::from_secs(600)),
    )
}

/// The full router of a service: its routes behind auth and rate limits, the operational
/// routes, and the kit's layers.
pub(crate) fn app(
    built: Built,
    openapi: utoipa::openapi::OpenApi,
    ctx: &Ctx,
    readiness: Readiness,
) -> Router {
    let common = &ctx.common;
    let service = common.service;
    let mut limiter = Limiter::new(
        common.rate_limit_per_minute,
        common.rate_limit_burst,
        common.trusted_proxies.clone(),
    );
    if let Some(conn) = &ctx.redis {
        limiter = limiter.shared(
            conn.clone(),
            &format!("{}:ratelimit:{service}", common.redis_prefix),
            common.rate_limit_per_minute,
        );
    }
    let idle = limiter.clone();
    let shutdown = ctx.shutdown.clone();
    ctx.spawn("rate-limit-gc", async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = tick.tick() => idle.forget_idle(),
            }
        }
    });
    let authn = Authenticator::new(ctx.keys.clone(), service);
    // `Router::layer` wraps the routes present at that moment, so auth covers only `router`.
    let protected = built.router.layer(from_fn_with_state(
        Gate {
            limiter: limiter.clone(),
            authn: Some(authn),
        },
        gate,
    ));
    let public = built.public.layer(from_fn_with_state(
        Gate {
            limiter,
            authn: None,
        },
        gate,
    ));
    let openapi = Arc::new(openapi.to_json().unwrap_or_else(|_| "{}".to_owned()));
    let ops = Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .with_state(readiness)
        .route(
            "/metrics",
            get(move || async move { metrics_text(service) }),
        )
        .route(
            "/openapi.json",
            get(move || {
                let doc = Arc::clone(&openapi);
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        doc.to_string(),
                    )
                }
            }),
        );
    let mut router = protected
        .merge(public)
        .merge(ops)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(common.body_limit))
        .layer(CatchPanicLayer::custom(panic_response));
    if let Some(c) = cors(&common.cors_origins) {
        router = router.layer(c);
    }
    router.layer(from_fn_with_state(
        Edge {
            observe: Observe::new(service),
            body_limit: common.body_limit,
            timeout: common.request_timeout,
        },
        edge,
    ))
}

fn metrics_text(service: &'static str) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(service),
    )
}

/// Serves `router` on `listener` until `shutdown`, then gives in-flight requests `drain` to end.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    drain: Duration,
) -> std::io::Result<()> {
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned())
    .into_future();
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r,
        () = shutdown.cancelled() => {
            match tokio::time::timeout(drain, server).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::warn!(drain_ms = drain.as_millis(), "drain timed out; closing open connections");
                    Ok(())
                }
            }
        }
    }
}
