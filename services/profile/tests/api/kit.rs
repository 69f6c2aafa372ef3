//! What the kit guarantees, seen through this service.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_touches_nothing_and_ready_names_its_checks() {
    let app = app().await;
    let h = expect(
        app.anon(Method::GET, "/health").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["service"], "profile");
    let r = expect(
        app.anon(Method::GET, "/ready").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["status"], "ready");
    assert_eq!(r["checks"]["database"]["status"], "ok");
    assert!(r["checks"]["database"]["latency_ms"].is_u64());
    assert!(r["uptime_s"].is_u64());
}

#[tokio::test]
async fn ready_is_503_when_the_database_is_unreachable() {
    let app = testkit::TestApp::spawn_unmigrated::<profile::Profile>(&[(
        "DATABASE_URL",
        "postgres://nobody@127.0.0.1:1/none",
    )])
    .await;
    let res = app.anon(Method::GET, "/ready").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = body(res).await;
    assert_eq!(r["checks"]["database"]["status"], "fail");
    expect(
        app.anon(Method::GET, "/health").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn metrics_use_route_templates() {
    let app = app().await;
    get(&app, "/api/v1/profiles/01ABC").await;
    get(&app, "/api/v1/profiles/01DEF").await;
    app.anon(Method::GET, "/no/such/route")
        .send()
        .await
        .unwrap();
    let text = app
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_server_requests_total"), "{text}");
    assert!(text.contains("route=\"/api/v1/profiles/{id}\""));
    assert!(!text.contains("01ABC"), "raw ids must not become labels");
    assert!(text.contains("route=\"unmatched\""));
    assert!(text.contains("http_server_request_duration_seconds_bucket"));
    // Both requests counted under one label set (its handle is resolved once and reused).
    let counted: f64 = text
        .lines()
        .filter(|l| {
            l.starts_with("http_server_requests_total{")
                && l.contains("route=\"/api/v1/profiles/{id}\"")
                && l.contains("status=\"404\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(counted >= 2.0, "{text}");
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let app = app().await;
    let res = app
        .anon(Method::GET, "/health")
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app
        .anon(Method::GET, "/health")
        .header("x-correlation-id", "corr-9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "corr-9");
    let res = app.anon(Method::GET, "/health").send().await.unwrap();
    assert_eq!(
        res.headers()["x-request-id"].len(),
        26,
        "a ULID is generated"
    );
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let res = app
        .anon(Method::GET, "/health")
        .header("traceparent", tp)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["traceparent"], tp);
    let res = get(&app, "/api/v1/profiles/nope").await;
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let b = expect(res, StatusCode::NOT_FOUND).await;
    assert_eq!(b["request_id"], id, "problem bodies quote the request id");
}

#[tokio::test]
async fn routes_are_denied_without_a_valid_token_or_scope() {
    let app = app().await;
    let res = app
        .anon(Method::GET, "/api/v1/profiles/x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let b = expect(res, StatusCode::UNAUTHORIZED).await;
    assert_eq!(b["code"], "auth.missing_token");
    let res = app
        .anon(Method::GET, "/api/v1/profiles/x")
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::UNAUTHORIZED).await["code"],
        "auth.invalid_token"
    );
    let res = app
        .req(Method::POST, "/api/v1/profiles", &[READ])
        .json(&json!({"waUserId": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::FORBIDDEN).await["code"],
        "auth.invalid_scope"
    );
    // A token for another service is refused here.
    let keys = platform::auth::JwtKeys::new(&[testkit::secret(testkit::TEST_JWT_KEY)]).unwrap();
    let wallet = keys
        .mint(
            "t",
            "wallet",
            &[READ],
            None,
            std::time::Duration::from_secs(60),
        )
        .unwrap();
    let res = app
        .anon(Method::GET, "/api/v1/profiles/x")
        .bearer_auth(wallet)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn bursts_get_429_with_retry_after_but_probes_are_exempt() {
    let app = testkit::TestApp::spawn_with::<profile::Profile>(&[
        ("RATE_LIMIT_PER_MINUTE", "60"),
        ("RATE_LIMIT_BURST", "3"),
    ])
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = get(&app, "/api/v1/profiles/x").await;
        statuses.push(res.status());
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
            let b = expect(res, StatusCode::TOO_MANY_REQUESTS).await;
            assert_eq!(b["code"], "rate_limit.exceeded");
        }
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        2
    );
    for _ in 0..10 {
        expect(
            app.anon(Method::GET, "/health").send().await.unwrap(),
            StatusCode::OK,
        )
        .await;
    }
}

#[tokio::test]
async fn failed_authentication_is_rate_limited_too() {
    let app = testkit::TestApp::spawn_with::<profile::Profile>(&[
        ("RATE_LIMIT_PER_MINUTE", "60"),
        ("RATE_LIMIT_BURST", "3"),
    ])
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = app
            .anon(Method::GET, "/api/v1/profiles/x")
            .bearer_auth("guess")
            .send()
            .await
            .unwrap();
        statuses.push(res.status());
    }
    assert_eq!(
        statuses,
        vec![
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "token guessing is throttled per address"
    );
}

#[tokio::test]
async fn oversized_bodies_are_413_and_unknown_routes_404_as_problems() {
    let app =
        testkit::TestApp::spawn_with::<profile::Profile>(&[("HTTP_BODY_LIMIT_BYTES", "1024")])
            .await;
    let big = "x".repeat(4096);
    let res = create(&app, json!({"waUserId": "a", "metadata": {"big": big}})).await;
    assert_eq!(
        expect(res, StatusCode::PAYLOAD_TOO_LARGE).await["code"],
        "request.too_large"
    );
    let res = app
        .anon(Method::GET, "/api/v1/unknown")
        .send()
        .await
        .unwrap();
    let b = expect(res, StatusCode::NOT_FOUND).await;
    assert!(b["detail"].as_str().unwrap().contains("/api/v1/unknown"));
    let res = app
        .req(Method::POST, "/api/v1/profiles/search", &[WRITE])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn responses_carry_security_headers_and_openapi_is_served() {
    let app = app().await;
    let res = app.anon(Method::GET, "/health").send().await.unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let doc = expect(
        app.anon(Method::GET, "/openapi.json").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(doc["paths"]["/api/v1/profiles/{id}"]["get"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn stopping_drains_and_ends_cleanly() {
    let app = app().await;
    create_ok(&app, "+250781234567").await;
    app.stop().await.expect("clean stop");
}
