//! Tariffs as versioned, append-only data: seeded from the shipped files, published by admins,
//! effective from their date; quotes record the version they used.

use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn bk_document(app: &TestApp) -> Value {
    expect(
        get(app, "/v1/tariffs/bk-2025.1", &[ADMIN]).await,
        StatusCode::OK,
    )
    .await
}

async fn publish(app: &TestApp, doc: &Value) -> reqwest::Response {
    app.req(Method::POST, "/v1/tariffs", &[ADMIN])
        .json(doc)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_shipped_tariffs_are_stored_and_audited() {
    let app = app().await;
    let list = expect(get(&app, "/v1/tariffs", &[QUOTE]).await, StatusCode::OK).await;
    let current: Vec<&str> = list["current"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(
        current,
        [
            "bk-2025.1",
            "old-mutual-2025.1",
            "prime-2025.1",
            "radiant-2025.1"
        ]
    );
    assert_eq!(list["versions"].as_array().unwrap().len(), 4);
    let changes = list["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 4);
    assert!(
        changes
            .iter()
            .all(|c| c["action"] == "seeded" && c["actor"] == "system:embedded")
    );
    assert_eq!(list["today"], kigali_today().to_string());
    // A restart seeds nothing twice.
    let app = app.restart::<whatsapp_pricing::WhatsappPricing>().await;
    let list = expect(get(&app, "/v1/tariffs", &[ADMIN]).await, StatusCode::OK).await;
    assert_eq!(list["changes"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_new_version_takes_effect_and_old_quotes_keep_theirs() {
    let app = app().await;
    let before = quote_ok(&app, &car()).await;
    let mut doc = bk_document(&app).await;
    doc["version"] = json!("bk-2026.1");
    doc["effective_from"] = json!(kigali_today().to_string());
    doc["tp_base"]["private"]["CAR"] = json!(60_000);
    let v = expect(publish(&app, &doc).await, StatusCode::CREATED).await;
    assert_eq!(v["version"], "bk-2026.1");
    assert_eq!(v["inForce"], true);
    assert_eq!(v["createdBy"], "testkit");

    let after = quote_ok(&app, &car()).await;
    assert_eq!(
        offer(&after, "bk")["total"],
        807_000,
        "TP base 60,000 instead of 57,600"
    );
    assert_eq!(offer(&after, "bk")["tariffVersion"], "bk-2026.1");
    assert_eq!(
        offer(&after, "prime")["total"],
        804_600,
        "other insurers are unchanged"
    );
    assert_eq!(offer(&after, "prime")["tariffVersion"], "prime-2025.1");

    let id = before["id"].as_str().unwrap();
    let old = expect(
        get(&app, &format!("/v1/quotes/{id}"), &[QUOTE]).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(old, before, "a stored quote never changes");
    assert_eq!(offer(&old, "bk")["tariffVersion"], "bk-2025.1");

    let list = expect(get(&app, "/v1/tariffs", &[ADMIN]).await, StatusCode::OK).await;
    assert_eq!(list["current"][0]["version"], "bk-2026.1");
    assert_eq!(
        list["versions"].as_array().unwrap().len(),
        5,
        "history is kept"
    );
    let last = list["changes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("published"), Some("testkit"))
    );
}

#[tokio::test]
async fn a_future_version_is_stored_but_not_yet_in_force() {
    let app = app().await;
    let mut doc = bk_document(&app).await;
    doc["version"] = json!("bk-next");
    doc["effective_from"] = json!((kigali_today() + Duration::days(30)).to_string());
    doc["tp_base"]["private"]["CAR"] = json!(99_000);
    let v = expect(publish(&app, &doc).await, StatusCode::CREATED).await;
    assert_eq!(v["inForce"], false);
    let q = quote_ok(&app, &car()).await;
    assert_eq!(offer(&q, "bk")["tariffVersion"], "bk-2025.1");
}

#[tokio::test]
async fn past_duplicate_and_invalid_versions_are_refused() {
    let app = app().await;
    let base = bk_document(&app).await;

    let mut past = base.clone();
    past["version"] = json!("bk-past");
    past["effective_from"] = json!((kigali_today() - Duration::days(1)).to_string());
    let b = expect(publish(&app, &past).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(b["code"], "whatsapp-pricing.tariff_in_the_past");

    let mut same_version = base.clone();
    same_version["effective_from"] = json!((kigali_today() + Duration::days(5)).to_string());
    let b = expect(publish(&app, &same_version).await, StatusCode::CONFLICT).await;
    assert_eq!(b["code"], "whatsapp-pricing.tariff_conflict");

    let mut first = base.clone();
    first["version"] = json!("bk-a");
    first["effective_from"] = json!((kigali_today() + Duration::days(5)).to_string());
    expect(publish(&app, &first).await, StatusCode::CREATED).await;
    let mut same_day = first.clone();
    same_day["version"] = json!("bk-b");
    let b = expect(publish(&app, &same_day).await, StatusCode::CONFLICT).await;
    assert_eq!(b["code"], "whatsapp-pricing.tariff_conflict");

    let mut unknown = base.clone();
    unknown["version"] = json!("bk-bad");
    unknown["effective_from"] = json!((kigali_today() + Duration::days(9)).to_string());
    unknown["tp_base"]["private"]["HOVERCRAFT"] = json!(1000);
    let b = expect(
        publish(&app, &unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "whatsapp-pricing.invalid_tariff");

    let mut negative = unknown.clone();
    negative["tp_base"]["private"] = json!({"CAR": 0});
    let b = expect(
        publish(&app, &negative).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(b["detail"].as_str().unwrap().contains("tp_base"), "{b}");

    let list = expect(get(&app, "/v1/tariffs", &[ADMIN]).await, StatusCode::OK).await;
    assert_eq!(
        list["versions"].as_array().unwrap().len(),
        5,
        "only bk-a was added"
    );
    expect(
        get(&app, "/v1/tariffs/nope", &[ADMIN]).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn stored_tariffs_and_quotes_cannot_be_changed_even_by_hand() {
    let app = app().await;
    quote_ok(&app, &car()).await;
    for sql in [
        "UPDATE tariffs SET effective_from = effective_from",
        "DELETE FROM tariffs",
        "UPDATE tariff_changes SET actor = 'someone else'",
        "UPDATE insurance_quotes SET offers = '[]'",
        "DELETE FROM insurance_quotes",
    ] {
        let err = raw_sql(&app, sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}
