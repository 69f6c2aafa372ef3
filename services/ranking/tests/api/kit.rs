//! What the kit guarantees, seen through this service, and the service's own metrics.

use reqwest::{Method, StatusCode};

use crate::helpers::*;

#[tokio::test]
async fn ready_checks_the_database_and_metrics_show_ranking_work() {
    let app = app().await;
    let r = expect(
        app.anon(Method::GET, "/ready").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["checks"]["database"]["status"], "ok");
    seed_vendor(&app, vendor("v1", "kigali", &["moto"], None)).await;
    let text = app
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "ranking_latency_seconds",
        "ranking_candidates",
        "ranking_events_total",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    let doc = expect(
        app.anon(Method::GET, "/openapi.json").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(doc["paths"]["/ranking/vendors"].is_object());
}
