//! Intents: both routes, events, expiry by job, cancel, lists with cursors, quote counts.

use std::time::Duration;

use contracts::buyer::{INTENT_CANCELLED, INTENT_CREATED, INTENT_EXPIRED, IntentChanged};
use contracts::marketplace::{QuoteCreated, VENDOR_QUOTE_CREATED};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn post_intents_takes_the_buyer_in_the_body_and_emits_created_with_region_and_categories() {
    let w = World::new().await;
    let seen = record_events(&w.app, &[INTENT_CREATED]);
    let buyer = w.buyer("Buyer").await;
    let body = json!({"buyerId": buyer, "channel": "whatsapp",
        "payload": {"from": "Kigali Heights", "region": "kigali", "categories": "moto, taxi"}});
    let i = expect(w.post("/intents", body).await, StatusCode::CREATED).await;
    assert_eq!(i["status"], "pending");
    assert_eq!(i["buyerId"], buyer.as_str());
    assert_eq!(i["payload"]["from"], "Kigali Heights");
    assert!(i["expiresAt"].is_string(), "a default expiry applies");
    let events = wait_events(&seen, INTENT_CREATED, 1).await;
    let data: IntentChanged = events[0].payload().unwrap();
    assert_eq!(data.intent_id, i["id"].as_str().unwrap());
    assert_eq!(data.region.as_deref(), Some("kigali"));
    assert_eq!(data.categories, vec!["moto", "taxi"]);
    assert_eq!(events[0].source, "buyer");
    // Without buyerId, or with a past expiresAt: 422.
    let res = w
        .post("/intents", json!({"channel": "whatsapp", "payload": {}}))
        .await;
    assert_eq!(
        expect(res, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "buyer.invalid_buyer_id"
    );
    let res = w
        .post(
            &format!("/buyers/{buyer}/intents"),
            json!({"channel": "whatsapp", "payload": {}, "expiresAt": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        expect(res, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "buyer.invalid_expiry"
    );
    let res = w
        .post(
            &format!("/buyers/{buyer}/intents"),
            json!({"channel": "whatsapp", "payload": [1]}),
        )
        .await;
    expect(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let res = w
        .post(
            "/intents",
            json!({"buyerId": "nobody", "channel": "whatsapp", "payload": {}}),
        )
        .await;
    expect(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn an_intent_expires_at_its_deadline_and_cannot_be_bought_then() {
    let w = World::new().await;
    let seen = record_events(&w.app, &[INTENT_EXPIRED]);
    let (buyer, account, _, _) = w.setup(1000, 600).await;
    let at = (chrono::Utc::now() + chrono::Duration::milliseconds(800)).to_rfc3339();
    let i = expect(
        w.post(
            &format!("/buyers/{buyer}/intents"),
            json!({"channel": "whatsapp", "payload": {}, "expiresAt": at}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let id = i["id"].as_str().unwrap().to_owned();
    let quote = w.vendor.quote(TENANT, &id, "vendor-1", 100);
    let path = format!("/intents/{id}");
    testkit::eventually(Duration::from_secs(10), || async {
        (w.get(&path).await["status"] == "expired").then_some(())
    })
    .await;
    let e = wait_events(&seen, INTENT_EXPIRED, 1).await;
    assert_eq!(e[0].payload::<IntentChanged>().unwrap().intent_id, id);
    let res = w
        .post_key("/purchases", json!({"quoteId": quote}), &key())
        .await;
    assert_eq!(
        expect(res, StatusCode::CONFLICT).await["code"],
        "buyer.intent_not_open"
    );
    assert_eq!(
        w.balances(&account).await,
        (1000, 0, 1000),
        "nothing reserved"
    );
    assert_eq!(w.vendor.accepts(), 0);
}

#[tokio::test]
async fn a_pending_intent_can_be_cancelled_once() {
    let w = World::new().await;
    let seen = record_events(&w.app, &[INTENT_CANCELLED]);
    let buyer = w.buyer("Buyer").await;
    let id = w.intent(&buyer).await;
    let path = format!("/intents/{id}/cancel");
    let c = expect(w.post(&path, json!({})).await, StatusCode::OK).await;
    assert_eq!(c["status"], "cancelled");
    let again = expect(w.post(&path, json!({})).await, StatusCode::OK).await;
    assert_eq!(again["status"], "cancelled");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        wait_events(&seen, INTENT_CANCELLED, 1).await.len(),
        1,
        "one event"
    );
}

#[tokio::test]
async fn the_intent_list_pages_newest_first_and_counts_quotes_from_vendor_events() {
    let w = World::new().await;
    let buyer = w.buyer("Buyer").await;
    let ids = [
        w.intent(&buyer).await,
        w.intent(&buyer).await,
        w.intent(&buyer).await,
    ];
    // Spec 2.7: an intent with 2 quotes has recentQuotes 2 (a redelivered event counts once).
    for n in 0..2 {
        let e = bus::Envelope::new(
            VENDOR_QUOTE_CREATED,
            "vendor",
            TENANT,
            QuoteCreated {
                quote_id: format!("q{n}"),
                intent_id: ids[2].clone(),
                vendor_id: "v1".into(),
                response_ms: Some(1000),
                created_at: chrono::Utc::now(),
            },
        )
        .unwrap();
        w.app.bus.publish(&e).await.unwrap();
        w.app.bus.publish(&e).await.unwrap();
    }
    let page = testkit::eventually(Duration::from_secs(10), || async {
        let p = w.get("/intents?limit=2").await;
        (p["intents"][0]["recentQuotes"] == 2).then_some(p)
    })
    .await;
    let got: Vec<_> = page["intents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(got, vec![json!(ids[2]), json!(ids[1])]);
    let first = &page["intents"][0];
    assert_eq!(first["buyerName"], "Buyer");
    assert_eq!(first["channel"], "whatsapp");
    assert!(first["recentQuotes"].is_i64());
    let cursor = page["nextCursor"].as_str().unwrap();
    let rest = w.get(&format!("/intents?limit=2&cursor={cursor}")).await;
    assert_eq!(rest["intents"].as_array().unwrap().len(), 1);
    assert_eq!(rest["intents"][0]["id"], ids[0].as_str());
    assert!(rest["nextCursor"].is_null());
    let res = w
        .app
        .req(reqwest::Method::GET, "/intents?cursor=bogus", &[READ])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let other = w.get("/intents?tenantId=other").await;
    assert_eq!(other["intents"], json!([]));
}
