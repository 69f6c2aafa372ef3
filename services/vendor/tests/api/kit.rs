//! What the kit guarantees, seen through this service, and the service's own metrics.

use reqwest::{Method, StatusCode};

use crate::helpers::*;

#[tokio::test]
async fn ready_checks_the_database_and_the_wallet_breaker_and_metrics_show_vendor_work() {
    let pair = with_wallet(&[]).await;
    let app = &pair.vendor;
    let r = expect(
        app.anon(Method::GET, "/ready").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["checks"]["database"]["status"], "ok");
    assert_eq!(r["checks"]["dependency:wallet"]["status"], "ok");
    let v = vendor_id(app, "Moto Kigali").await;
    seed_intent(app, "intent-1", "buyer-1").await;
    quote_ok(app, &v, "intent-1").await;
    let text = app
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "vendor_quotes_total",
        "vendor_events_total",
        "vendor_wallet_opens_total",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    let doc = expect(
        app.anon(Method::GET, "/openapi.json").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(doc["paths"]["/vendors/{id}/quotes"].is_object());
}
