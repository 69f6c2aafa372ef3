//! Auth scopes, probes and metrics, seen through this service.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn every_route_needs_a_token_with_the_right_scope() {
    let app = app().await;
    for (method, path) in [
        (Method::POST, "/v1/quotes"),
        (Method::GET, "/v1/quotes/x"),
        (Method::GET, "/v1/paylink?quoteId=x&insurer=bk"),
        (Method::GET, "/v1/tariffs"),
        (Method::POST, "/v1/tariffs"),
    ] {
        let res = app.anon(method.clone(), path).send().await.unwrap();
        let b = expect(res, StatusCode::UNAUTHORIZED).await;
        assert_eq!(b["code"], "auth.missing_token", "{method} {path}");
    }
    let b = expect(
        app.req(Method::POST, "/v1/quotes", &[ADMIN])
            .json(&car())
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(b["code"], "auth.invalid_scope");
    let b = expect(
        app.req(Method::POST, "/v1/tariffs", &[QUOTE])
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        b["code"], "auth.invalid_scope",
        "quoting does not allow publishing tariffs"
    );
    expect(
        get(&app, "/v1/tariffs", &["pricing:other"]).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    expect(
        get(&app, "/v1/paylink?quoteId=x&insurer=bk", &[ADMIN]).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let res = app.anon(Method::POST, "/simulate").send().await.unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn probes_answer_and_metrics_count_quotes_by_insurer_and_outcome() {
    let app = app().await;
    let h = expect(
        app.anon(Method::GET, "/health").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(h["service"], "whatsapp-pricing");
    let r = expect(
        app.anon(Method::GET, "/ready").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["checks"]["database"]["status"], "ok");
    quote_ok(&app, &car()).await;
    let tractor =
        json!({"sumInsured": 0, "category": "TRACTOR", "usage": "PRIVATE", "cover": "TP_ONLY"});
    quote_ok(&app, &tractor).await;
    let text = app
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |insurer: &str, outcome: &str| {
        text.lines().any(|l| {
            l.starts_with("whatsapp_pricing_quotes_total")
                && l.contains(&format!("insurer=\"{insurer}\""))
                && l.contains(&format!("outcome=\"{outcome}\""))
        })
    };
    assert!(has("bk", "quoted"), "{text}");
    assert!(has("radiant", "third_party_not_offered"), "{text}");
    let doc = expect(
        app.anon(Method::GET, "/openapi.json").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(doc["paths"]["/v1/quotes"]["post"].is_object());
    assert!(doc["paths"]["/v1/paylink"]["get"].is_object());
}
