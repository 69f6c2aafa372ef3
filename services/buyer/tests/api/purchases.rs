//! `POST /purchases`: checks, idempotency, one purchase per quote, the admin list.

use contracts::buyer::{INTENT_MATCHED, IntentChanged};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_purchase_reserves_accepts_and_matches_the_intent() {
    let w = World::new().await;
    let seen = record_events(&w.app, &[INTENT_MATCHED]);
    let (buyer, account, intent, quote) = w.setup(1000, 600).await;
    let id = w.purchase(&quote).await;
    let p = w.wait_purchase(&id, "accepted").await;
    assert_eq!(p["buyerId"], buyer.as_str());
    assert_eq!(p["vendorId"], "vendor-1");
    assert_eq!(p["amountMinor"], 600);
    assert_eq!(p["currency"], "TOKEN");
    assert!(p["transactionId"].is_string());
    assert!(p["acceptedAt"].is_string());
    assert_eq!(
        w.balances(&account).await,
        (1000, 600, 400),
        "600 held, nothing moved"
    );
    let vendor = w.vendor_account("vendor-1").await;
    assert_eq!(w.balances(&vendor).await, (0, 0, 0));
    let q = w.vendor.get(&quote);
    assert_eq!(q.purchase_id.as_deref(), Some(id.as_str()));
    let i = w.get(&format!("/intents/{intent}")).await;
    assert_eq!(i["status"], "matched");
    assert_eq!(i["matchedQuoteId"], quote.as_str());
    let e = wait_events(&seen, INTENT_MATCHED, 1).await;
    let data: IntentChanged = e[0].payload().unwrap();
    assert_eq!(data.matched_quote_id.as_deref(), Some(quote.as_str()));
    assert_eq!(data.region.as_deref(), Some("kigali"));
    // The admin list: camelCase, numbers as numbers.
    let list = w.get("/purchases").await;
    let row = &list["purchases"][0];
    assert_eq!(row["id"], id.as_str());
    assert_eq!(row["buyerName"], "Diane Umutesi");
    assert_eq!(row["amount"], 600);
    assert_eq!(row["status"], "accepted");
    assert!(row["fulfilledAt"].is_null());
    let mine = w.get(&format!("/purchases?buyerId={buyer}&limit=1")).await;
    assert_eq!(mine["purchases"].as_array().unwrap().len(), 1);
    assert!(mine["nextCursor"].is_null());
    let none = w.get("/purchases?buyerId=someone-else").await;
    assert_eq!(none["purchases"], json!([]));
    let intents = w.get(&format!("/intents?buyerId={buyer}")).await;
    assert_eq!(intents["intents"][0]["status"], "matched");
}

#[tokio::test]
async fn a_retried_post_never_charges_twice() {
    let w = World::new().await;
    let (_, account, _, quote) = w.setup(1000, 600).await;
    let k = key();
    let body = json!({"quoteId": quote, "amountMinor": 600, "currency": "TOKEN"});
    let first = expect(
        w.post_key("/purchases", body.clone(), &k).await,
        StatusCode::CREATED,
    )
    .await;
    let res = w.post_key("/purchases", body, &k).await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let second = expect(res, StatusCode::CREATED).await;
    assert_eq!(first["id"], second["id"]);
    let id = first["id"].as_str().unwrap();
    w.wait_purchase(id, "accepted").await;
    assert_eq!(w.balances(&account).await, (1000, 600, 400));
    // The same key with another body, and no key at all.
    let res = w
        .post_key("/purchases", json!({"quoteId": "other"}), &k)
        .await;
    assert_eq!(
        expect(res, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "buyer.idempotency_key_reused"
    );
    let res = w.post("/purchases", json!({"quoteId": quote})).await;
    assert_eq!(
        expect(res, StatusCode::BAD_REQUEST).await["code"],
        "buyer.idempotency_key_missing"
    );
    // A second purchase of the same quote (a new key) is a conflict.
    let res = w
        .post_key("/purchases", json!({"quoteId": quote}), &key())
        .await;
    let code = expect(res, StatusCode::CONFLICT).await["code"].clone();
    assert!(
        code == "buyer.quote_already_purchased" || code == "buyer.quote_not_pending",
        "{code}"
    );
    assert_eq!(w.balances(&account).await, (1000, 600, 400));
}

#[tokio::test]
async fn the_request_must_match_the_quote() {
    let w = World::new().await;
    let (buyer, account, _, quote) = w.setup(1000, 600).await;
    let res = w
        .post_key(
            "/purchases",
            json!({"quoteId": quote, "amountMinor": 500}),
            &key(),
        )
        .await;
    let b = expect(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(b["code"], "buyer.amount_mismatch");
    assert_eq!(b["errors"][0]["pointer"], "/amountMinor");
    let res = w
        .post_key(
            "/purchases",
            json!({"quoteId": quote, "amount": 600, "currency": "RWF"}),
            &key(),
        )
        .await;
    assert_eq!(
        expect(res, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "buyer.amount_mismatch"
    );
    let res = w
        .post_key(
            "/purchases",
            json!({"quoteId": quote, "buyerId": "someone-else"}),
            &key(),
        )
        .await;
    assert_eq!(
        expect(res, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "buyer.not_intent_owner"
    );
    let res = w
        .post_key("/purchases", json!({"quoteId": "nope"}), &key())
        .await;
    assert_eq!(
        expect(res, StatusCode::NOT_FOUND).await["code"],
        "buyer.quote_not_found"
    );
    // Another tenant's quote is not found.
    let other = w.vendor.quote("other", "intent-x", "vendor-1", 600);
    let res = w
        .post_key("/purchases", json!({"quoteId": other}), &key())
        .await;
    expect(res, StatusCode::NOT_FOUND).await;
    // The named buyer owning the intent, with the quote's own amount, is fine.
    let res = w
        .post_key(
            "/purchases",
            json!({"quoteId": quote, "buyerId": buyer, "amount": 600, "currency": "TOKEN"}),
            &key(),
        )
        .await;
    expect(res, StatusCode::CREATED).await;
    assert_eq!(w.balances(&account).await.0, 1000);
}

#[tokio::test]
async fn two_concurrent_purchases_of_one_quote_one_succeeds_and_one_transfer_happens() {
    let w = World::new().await;
    let (_, account, _, quote) = w.setup(1000, 600).await;
    let body = json!({"quoteId": quote});
    let (k1, k2) = (key(), key());
    let (a, b) = futures::join!(
        w.post_key("/purchases", body.clone(), &k1),
        w.post_key("/purchases", body.clone(), &k2)
    );
    let mut statuses = vec![a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::CREATED, StatusCode::CONFLICT]);
    let (winner, loser) = if a.status() == StatusCode::CREATED {
        (a, b)
    } else {
        (b, a)
    };
    let refused: serde_json::Value = loser.json().await.unwrap();
    assert_eq!(refused["code"], "buyer.quote_already_purchased");
    let id = winner.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.wait_purchase(&id, "accepted").await;
    assert_eq!(
        w.balances(&account).await,
        (1000, 600, 400),
        "one reservation"
    );
    let list = w.get("/purchases").await;
    assert_eq!(list["purchases"].as_array().unwrap().len(), 1);
    assert_eq!(w.vendor.accepts(), 1);
    w.confirm(&id, "VENDOR").await;
    w.confirm(&id, "BUYER").await;
    w.wait_purchase(&id, "settled").await;
    assert_eq!(w.balances(&account).await, (400, 0, 400), "moved once");
}

#[tokio::test]
async fn insufficient_funds_fail_the_purchase_before_anything_is_accepted() {
    let w = World::new().await;
    let (_, account, intent, quote) = w.setup(100, 600).await;
    let id = w.purchase(&quote).await;
    let p = w.wait_purchase(&id, "failed").await;
    assert_eq!(p["reason"], "insufficient_funds");
    assert!(p["transactionId"].is_null());
    assert_eq!(w.vendor.accepts(), 0, "the vendor was never asked");
    assert_eq!(w.balances(&account).await, (100, 0, 100));
    assert_eq!(
        w.get(&format!("/intents/{intent}")).await["status"],
        "pending"
    );
    // The intent is still open: after a top-up the same quote can be bought.
    w.fund(&account, 500).await;
    let again = w.purchase(&quote).await;
    w.wait_purchase(&again, "accepted").await;
    assert_eq!(w.balances(&account).await, (600, 600, 0));
}

#[tokio::test]
async fn an_unreachable_vendor_is_a_503_and_nothing_is_recorded() {
    let w = World::with(&[("BUYER_VENDOR_URL", "http://127.0.0.1:9")]).await;
    let (_, account, _, quote) = w.setup(1000, 600).await;
    let res = w
        .post_key("/purchases", json!({"quoteId": quote}), &key())
        .await;
    assert_eq!(
        expect(res, StatusCode::SERVICE_UNAVAILABLE).await["code"],
        "buyer.dependency_unavailable"
    );
    assert_eq!(w.get("/purchases").await["purchases"], json!([]));
    assert_eq!(w.balances(&account).await, (1000, 0, 1000));
}
