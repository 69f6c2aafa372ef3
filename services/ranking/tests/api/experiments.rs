//! A/B experiments: deterministic assignment, exposures, attributed outcomes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn weights(rating: f64) -> Value {
    let rest = (1.0 - rating) / 5.0;
    json!({"rating": rating, "fulfilment": rest, "response": rest, "experience": rest,
           "recency": rest, "liquidity": rest})
}

#[tokio::test]
async fn variants_are_assigned_stably_and_outcomes_counted_per_variant() {
    let app = app().await;
    seed_vendor(&app, vendor("v1", "kigali", &["moto"], Some(5.0))).await;
    let res = app
        .req(Method::POST, "/ranking/experiments", &[READ])
        .json(&json!({"name": "x", "variants": []}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::FORBIDDEN).await;
    let res = app
        .req(Method::POST, "/ranking/experiments", &[ADMIN])
        .json(&json!({"name": "bad", "variants": [{"name": "a", "weights": weights(0.9)}]}))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let res = app
        .req(Method::POST, "/ranking/experiments", &[ADMIN])
        .json(&json!({"name": "rating-heavy", "variants": [
            {"name": "control", "weights": {"rating": 0.3, "fulfilment": 0.25, "response": 0.15,
                "experience": 0.15, "recency": 0.1, "liquidity": 0.05}},
            {"name": "heavy", "weights": weights(0.5)},
        ]}))
        .send()
        .await
        .unwrap();
    let exp = expect(res, StatusCode::CREATED).await;
    let id = exp["id"].as_str().unwrap().to_owned();
    let mut seen = std::collections::BTreeMap::new();
    for b in 0..12 {
        let buyer = format!("b{b}");
        let path = format!("/ranking/vendors?experimentId={id}&buyerId={buyer}");
        let one = get(&app, &path).await;
        let again = get(&app, &path).await;
        assert_eq!(
            one["assignment"], again["assignment"],
            "assignment is stable"
        );
        seen.insert(
            buyer,
            one["assignment"]["variant"].as_str().unwrap().to_owned(),
        );
    }
    publish(&app, &accepted("q1", "v1", "b0")).await;
    publish(&app, &accepted("q1", "v1", "b0")).await;
    publish(&app, &settled("p1", "v1", "b0")).await;
    publish(&app, &accepted("q2", "v1", "never-exposed")).await;
    let path = format!("/ranking/experiments/{id}");
    let body = testkit::eventually(std::time::Duration::from_secs(10), || async {
        let res = app.req(Method::GET, &path, &[ADMIN]).send().await.unwrap();
        let b = expect(res, StatusCode::OK).await;
        let settled: i64 = b["stats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["purchasesSettled"].as_i64().unwrap())
            .sum();
        (settled == 1).then_some(b)
    })
    .await;
    let stats = body["stats"].as_array().unwrap();
    let exposures: i64 = stats.iter().map(|s| s["exposures"].as_i64().unwrap()).sum();
    assert_eq!(exposures, 12, "each buyer exposed once");
    for s in stats {
        let name = s["name"].as_str().unwrap();
        let n = seen.values().filter(|v| *v == name).count();
        assert_eq!(s["exposures"], n);
        let b0 = name == seen["b0"];
        assert_eq!(s["quotesAccepted"], i64::from(b0));
        assert_eq!(s["purchasesSettled"], i64::from(b0));
    }
    let res = app
        .anon(Method::GET, &path)
        .bearer_auth(app.tenant_token("other", &[ADMIN]))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    let text = app.anon(Method::GET, "/metrics").send().await.unwrap();
    let text = text.text().await.unwrap();
    assert!(text.contains("ranking_experiment_exposures_total"));
}
