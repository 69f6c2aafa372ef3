//! Quotes: open intents only, one per (intent, vendor), currencies, expiry, accept and reject.

use std::time::Duration;

use chrono::Utc;
use contracts::buyer::{INTENT_CANCELLED, INTENT_EXPIRED, INTENT_MATCHED, IntentStatus};
use contracts::marketplace::{
    QuoteAccepted, QuoteCreated, VENDOR_QUOTE_ACCEPTED, VENDOR_QUOTE_CREATED,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn code(b: &Value) -> &str {
    b["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_quote_needs_an_intent_the_buyer_service_announced() {
    let app = app().await;
    let (mut events, _g) = capture(&app, &[VENDOR_QUOTE_CREATED]);
    let v = vendor_id(&app, "Moto Kigali").await;
    let b = expect(
        quote(&app, &v, "intent-1").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&b), "vendor.intent_unknown");
    let deadline = Utc::now() + chrono::Duration::hours(2);
    let i = intent("intent-1", "buyer-1", IntentStatus::Pending, Some(deadline));
    publish_intent(&app, contracts::buyer::INTENT_CREATED, &i).await;
    wait_intent(&app, "intent-1", "pending").await;
    let q = quote_ok(&app, &v, "intent-1").await;
    assert_eq!(q["status"], "pending");
    assert_eq!(q["amountMinor"], 2500);
    assert_eq!(q["currency"], "RWF");
    let expires: chrono::DateTime<Utc> = serde_json::from_value(q["expiresAt"].clone()).unwrap();
    assert!(expires <= deadline, "a quote never outlives its intent");
    let e = next_event(&mut events, VENDOR_QUOTE_CREATED).await;
    let c: QuoteCreated = e.payload().unwrap();
    assert_eq!(c.quote_id, q["id"].as_str().unwrap());
    assert_eq!(c.vendor_id, v);
    let got = get(&app, &format!("/quotes/{}", c.quote_id)).await;
    assert_eq!(got, q);
    let again = expect(quote(&app, &v, "intent-1").await, StatusCode::CONFLICT).await;
    assert_eq!(code(&again), "vendor.quote_exists");
}

#[tokio::test]
async fn currencies_outside_the_allowed_list_are_refused() {
    let app = app().await;
    let v = vendor_id(&app, "Moto Kigali").await;
    seed_intent(&app, "intent-1", "buyer-1").await;
    let path = format!("/vendors/{v}/quotes");
    let body = json!({"intentId": "intent-1", "amountMinor": 100, "currency": "GBP"});
    let b = expect(
        post(&app, &path, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&b), "vendor.currency_not_allowed");
    let body = json!({"intentId": "intent-1", "amountMinor": 0, "currency": "usd"});
    let b = expect(
        post(&app, &path, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code(&b), "request.invalid");
    let body = json!({"intentId": "intent-1", "amountMinor": 100, "currency": "TOKEN"});
    expect(post(&app, &path, body).await, StatusCode::CREATED).await;
}

#[tokio::test]
async fn closed_intents_take_no_quotes() {
    let app = app().await;
    let v = vendor_id(&app, "Moto Kigali").await;
    for (id, kind, status) in [
        ("i-expired", INTENT_EXPIRED, IntentStatus::Expired),
        ("i-matched", INTENT_MATCHED, IntentStatus::Matched),
        ("i-cancelled", INTENT_CANCELLED, IntentStatus::Cancelled),
    ] {
        seed_intent(&app, id, "buyer-1").await;
        publish_intent(&app, kind, &intent(id, "buyer-1", status, None)).await;
        wait_intent(&app, id, status.as_str()).await;
        let b = expect(quote(&app, &v, id).await, StatusCode::CONFLICT).await;
        assert_eq!(code(&b), "vendor.intent_closed", "{id}");
    }
    // Past its deadline but not yet expired by the buyer's job: refused too.
    let past = Some(Utc::now() - chrono::Duration::minutes(1));
    let i = intent("i-overdue", "buyer-1", IntentStatus::Pending, past);
    publish_intent(&app, contracts::buyer::INTENT_CREATED, &i).await;
    wait_intent(&app, "i-overdue", "pending").await;
    let b = expect(quote(&app, &v, "i-overdue").await, StatusCode::CONFLICT).await;
    assert_eq!(code(&b), "vendor.intent_closed");
    // A late `created` never reopens a closed intent.
    publish_intent(
        &app,
        contracts::buyer::INTENT_CREATED,
        &intent("i-expired", "buyer-1", IntentStatus::Pending, None),
    )
    .await;
    seed_intent(&app, "i-later", "buyer-1").await;
    wait_intent(&app, "i-expired", "expired").await;
}

async fn accept(app: &TestApp, quote: &str, buyer: &str, purchase: &str) -> reqwest::Response {
    post(
        app,
        &format!("/quotes/{quote}/accept"),
        json!({"buyerId": buyer, "purchaseId": purchase}),
    )
    .await
}

#[tokio::test]
async fn a_quote_is_accepted_once_and_a_retry_of_the_same_purchase_gets_it_back() {
    let app = app().await;
    let (mut events, _g) = capture(&app, &[VENDOR_QUOTE_ACCEPTED]);
    let v1 = vendor_id(&app, "Moto One").await;
    let v2 = vendor_id(&app, "Moto Two").await;
    seed_intent(&app, "intent-1", "buyer-1").await;
    let q1 = quote_ok(&app, &v1, "intent-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q2 = quote_ok(&app, &v2, "intent-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = expect(
        accept(&app, &q1, "buyer-2", "p-0").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(code(&b), "vendor.buyer_mismatch");
    let a = expect(accept(&app, &q1, "buyer-1", "p-1").await, StatusCode::OK).await;
    assert_eq!(a["status"], "accepted");
    assert_eq!(a["purchaseId"], "p-1");
    let again = expect(accept(&app, &q1, "buyer-1", "p-1").await, StatusCode::OK).await;
    assert_eq!(again, a, "a retried saga step gets the same quote");
    let b = expect(
        accept(&app, &q1, "buyer-1", "p-2").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code(&b), "vendor.quote_not_pending");
    let e = next_event(&mut events, VENDOR_QUOTE_ACCEPTED).await;
    let p: QuoteAccepted = e.payload().unwrap();
    assert_eq!(
        (p.quote_id.as_str(), p.buyer_id.as_str()),
        (q1.as_str(), "buyer-1")
    );
    // The intent is matched: its other quotes are rejected, the bought one stays accepted.
    let mut m = intent("intent-1", "buyer-1", IntentStatus::Matched, None);
    m.matched_quote_id = Some(q1.clone());
    publish_intent(&app, INTENT_MATCHED, &m).await;
    let path = format!("/quotes/{q2}");
    testkit::eventually(Duration::from_secs(10), || async {
        (get(&app, &path).await["status"] == "rejected").then_some(())
    })
    .await;
    assert_eq!(
        get(&app, &format!("/quotes/{q1}")).await["status"],
        "accepted"
    );
    let b = expect(
        accept(&app, &q2, "buyer-1", "p-3").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code(&b), "vendor.quote_not_pending");
}

#[tokio::test]
async fn a_cancelled_purchase_releases_only_the_quote_it_accepted() {
    let app = app().await;
    let v1 = vendor_id(&app, "Moto One").await;
    let v2 = vendor_id(&app, "Moto Two").await;
    seed_intent(&app, "intent-1", "buyer-1").await;
    let q1 = quote_ok(&app, &v1, "intent-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q2 = quote_ok(&app, &v2, "intent-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(accept(&app, &q1, "buyer-1", "p-1").await, StatusCode::OK).await;
    let cancelled = |quote: &str, purchase: &str, vendor: &str| {
        let p = contracts::buyer::PurchaseCancelled {
            purchase_id: purchase.to_owned(),
            quote_id: quote.to_owned(),
            intent_id: "intent-1".to_owned(),
            vendor_id: vendor.to_owned(),
            buyer_id: "buyer-1".to_owned(),
            reason: "deadline_passed".to_owned(),
            cancelled_at: chrono::Utc::now(),
        };
        bus::Envelope::new(contracts::buyer::PURCHASE_CANCELLED, "buyer", TENANT, &p).unwrap()
    };
    // Other purchases' cancellations (ones that failed before acceptance) change nothing; the
    // intent published after them shows they were handled.
    app.bus
        .publish(&cancelled(&q1, "p-other", &v1))
        .await
        .unwrap();
    app.bus.publish(&cancelled(&q2, "p-2", &v2)).await.unwrap();
    seed_intent(&app, "intent-2", "buyer-1").await;
    assert_eq!(
        get(&app, &format!("/quotes/{q1}")).await["status"],
        "accepted"
    );
    assert_eq!(
        get(&app, &format!("/quotes/{q2}")).await["status"],
        "pending"
    );
    let e = cancelled(&q1, "p-1", &v1);
    app.bus.publish(&e).await.unwrap();
    let path = format!("/quotes/{q1}");
    testkit::eventually(Duration::from_secs(10), || async {
        (get(&app, &path).await["status"] == "rejected").then_some(())
    })
    .await;
    // Redelivered: applied once, nothing else moves.
    app.bus.publish(&e).await.unwrap();
    assert_eq!(
        get(&app, &format!("/quotes/{q2}")).await["status"],
        "pending"
    );
    let b = expect(
        accept(&app, &q1, "buyer-1", "p-3").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code(&b), "vendor.quote_not_pending");
}

#[tokio::test]
async fn concurrent_purchases_of_one_quote_accept_it_once() {
    let app = app().await;
    let v = vendor_id(&app, "Moto One").await;
    seed_intent(&app, "intent-1", "buyer-1").await;
    let q = quote_ok(&app, &v, "intent-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tries = (0..8).map(|n| {
        let app = &app;
        let q = q.clone();
        async move { accept(app, &q, "buyer-1", &format!("p-{n}")).await.status() }
    });
    let statuses = futures::future::join_all(tries).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let conflict = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflict), (1, 7), "{statuses:?}");
}

#[tokio::test]
async fn a_rejected_quote_stays_rejected_and_an_accepted_one_cannot_be_rejected() {
    let app = app().await;
    let v1 = vendor_id(&app, "Moto One").await;
    let v2 = vendor_id(&app, "Moto Two").await;
    seed_intent(&app, "intent-1", "buyer-1").await;
    let q1 = quote_ok(&app, &v1, "intent-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q2 = quote_ok(&app, &v2, "intent-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/quotes/{q1}/reject");
    let r = expect(
        post(&app, &path, json!({"reason": "buyer_declined"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["status"], "rejected");
    expect(post(&app, &path, json!({})).await, StatusCode::OK).await;
    let b = expect(
        accept(&app, &q1, "buyer-1", "p-1").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(b["detail"], "the quote is rejected, not pending");
    expect(accept(&app, &q2, "buyer-1", "p-2").await, StatusCode::OK).await;
    let b = expect(
        post(&app, &format!("/quotes/{q2}/reject"), json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(code(&b), "vendor.quote_not_pending");
    let b = expect(
        app.req(Method::GET, "/quotes/nope", &[READ])
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code(&b), "vendor.quote_not_found");
}

#[tokio::test]
async fn quotes_expire_and_an_expired_quote_cannot_be_accepted() {
    let app = app_with(&[
        ("VENDOR_QUOTE_TTL_SECS", "1"),
        ("VENDOR_QUOTE_SWEEP_MS", "200"),
    ])
    .await;
    let v = vendor_id(&app, "Moto One").await;
    seed_intent(&app, "intent-1", "buyer-1").await;
    let q = quote_ok(&app, &v, "intent-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/quotes/{q}");
    testkit::eventually(Duration::from_secs(10), || async {
        (get(&app, &path).await["status"] == "expired").then_some(())
    })
    .await;
    let b = expect(
        accept(&app, &q, "buyer-1", "p-1").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(b["detail"], "the quote is expired, not pending");
}

#[tokio::test]
async fn an_expired_intent_expires_its_pending_quotes() {
    let app = app().await;
    let v = vendor_id(&app, "Moto One").await;
    seed_intent(&app, "intent-1", "buyer-1").await;
    let q = quote_ok(&app, &v, "intent-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    publish_intent(
        &app,
        INTENT_EXPIRED,
        &intent("intent-1", "buyer-1", IntentStatus::Expired, None),
    )
    .await;
    let path = format!("/quotes/{q}");
    testkit::eventually(Duration::from_secs(10), || async {
        (get(&app, &path).await["status"] == "expired").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_retried_quote_with_the_same_key_is_made_once() {
    let app = app().await;
    let v = vendor_id(&app, "Moto One").await;
    seed_intent(&app, "intent-1", "buyer-1").await;
    let send = || {
        app.req(Method::POST, &format!("/vendors/{v}/quotes"), &[QUOTE])
            .header("idempotency-key", "quote-retry-0000000001")
            .json(&quote_body("intent-1", 900))
            .send()
    };
    let a = expect(send().await.unwrap(), StatusCode::CREATED).await;
    let res = send().await.unwrap();
    assert_eq!(
        res.headers()
            .get("idempotent-replayed")
            .map(|h| h.to_str().unwrap()),
        Some("true")
    );
    let b = expect(res, StatusCode::CREATED).await;
    assert_eq!(a["id"], b["id"]);
}
