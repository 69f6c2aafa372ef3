//! The broker loop end to end (spec section 5): buyer, vendor, ranking, profile and wallet in one
//! process on one bus, as `easymo up` runs them, walked over HTTP with service tokens, on SQLite
//! or (with `TEST_DATABASE_URL`) PostgreSQL, and with `REDIS_URL` on Redis Streams.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod world;

use e2e::eventually;
use reqwest::StatusCode;
use serde_json::{Value, json};
use world::{WAIT, World, expect, key, refused};

const FUNDS: i64 = 10_000;

/// Buyer, three vendors of one region and category, an intent, the ranked vendors and a quote
/// from each: (buyer, buyer account, intent, [(vendor, vendor account, quote, amount)]).
async fn market(
    w: &World,
    funds: i64,
) -> (String, String, String, Vec<(String, String, String, i64)>) {
    let (buyer, account) = w.buyer("Diane Umutesi", funds).await;
    let mut vendors = Vec::new();
    for name in ["Moto Express", "Kigali Riders", "Nyamirambo Moto"] {
        vendors.push(w.vendor(name).await);
    }
    let intent = w.intent(&buyer, None).await;
    // Ranking learned the vendors from `vendor.created`: every one is a candidate.
    let ids: Vec<&str> = vendors.iter().map(|(v, _)| v.as_str()).collect();
    w.wait_ranked(&ids).await;
    // The paywall lets each of them quote (free quota).
    for id in &ids {
        let e = w.vendor_get(&format!("/vendors/{id}/entitlements")).await;
        assert_eq!(e["allowed"], true, "{e}");
    }
    let mut quotes = Vec::new();
    for (i, (vendor, vendor_account)) in vendors.into_iter().enumerate() {
        let amount = 2_500 + 500 * i64::try_from(i).unwrap();
        let quote = w.quote(&vendor, &intent, amount).await;
        quotes.push((vendor, vendor_account, quote, amount));
    }
    (buyer, account, intent, quotes)
}

#[tokio::test]
async fn broker_loop_settles_and_moves_money_exactly_once() {
    let w = World::new().await;
    let (_buyer, account, intent, quotes) = market(&w, FUNDS).await;
    assert_eq!(w.balances(&account).await, (FUNDS, 0, FUNDS));

    // The buyer's intent counts the quotes (from `vendor.quote.created`).
    let path = format!("/intents/{intent}");
    eventually(WAIT, || async {
        let i = w.buyer_get(&path).await;
        (i["recentQuotes"] == 3).then_some(())
    })
    .await;

    let (vendor, vendor_account, quote, amount) = quotes[1].clone();
    let k = key();
    let first = expect(w.purchase_raw(&quote, &k).await, StatusCode::CREATED).await;
    let id = first["id"].as_str().unwrap().to_owned();
    // A retried request (same key) is the same purchase, never a second charge.
    let again = expect(w.purchase_raw(&quote, &k).await, StatusCode::CREATED).await;
    assert_eq!(again["id"], first["id"]);

    // Reserve, then accept: the money is held (pending), not moved.
    let p = w.wait_purchase(&id, "accepted").await;
    assert!(p["transactionId"].is_string());
    assert_eq!(
        w.balances(&account).await,
        (FUNDS, amount, FUNDS - amount),
        "exactly the quote's amount is reserved"
    );
    assert_eq!(w.balances(&vendor_account).await, (0, 0, 0));
    let q = w.wait_quote(&quote, "accepted").await;
    assert_eq!(q["purchaseId"], json!(id));
    assert_eq!(w.buyer_get(&path).await["status"], "matched");
    // The siblings are rejected at the vendor (from `buyer.intent.matched`).
    for (_, _, sibling, _) in [&quotes[0], &quotes[2]] {
        w.wait_quote(sibling, "rejected").await;
    }
    // A matched intent takes no more quotes.
    let late = w.vendor("Late Moto").await;
    let res = w
        .vendor_post(
            &format!("/vendors/{}/quotes", late.0),
            json!({"intentId": intent, "amountMinor": 900, "currency": "TOKEN"}),
        )
        .await;
    assert_eq!(
        refused(res, StatusCode::CONFLICT).await,
        "vendor.intent_closed"
    );

    // Both sides confirm: the pending transfer is posted once.
    let v = w.confirm(&id, "VENDOR").await;
    assert!(v["vendorConfirmedAt"].is_string());
    w.confirm(&id, "BUYER").await;
    let done = w.wait_purchase(&id, "settled").await;
    assert!(done["settledAt"].is_string());
    assert_eq!(done["transactionId"], p["transactionId"]);
    assert_eq!(
        w.balances(&account).await,
        (FUNDS - amount, 0, FUNDS - amount)
    );
    assert_eq!(w.balances(&vendor_account).await, (amount, 0, amount));
    // Repeated confirmations change nothing.
    w.confirm(&id, "BUYER").await;
    w.confirm(&id, "VENDOR").await;
    assert_eq!(w.balances(&vendor_account).await, (amount, 0, amount));
    let postings = w.account(&vendor_account).await["postings"].clone();
    assert_eq!(
        postings.as_array().unwrap().len(),
        1,
        "one posting on the vendor: {postings}"
    );
    // The other vendors got nothing.
    for (_, other, _, _) in [&quotes[0], &quotes[2]] {
        assert_eq!(w.balances(other).await, (0, 0, 0));
    }

    // Ranking counts the settled trip for that vendor (from `buyer.purchase.settled`) and sees
    // its balance move (from the wallet's events).
    let ranked = eventually(WAIT, || async {
        let all = w.ranked().await;
        let me = all.iter().find(|r| r["vendorId"] == json!(vendor))?.clone();
        (me["totalTrips"] == 1 && me["balanceMinor"] == json!(amount)).then_some(all)
    })
    .await;
    for r in &ranked {
        if r["vendorId"] != json!(vendor) {
            assert_eq!(r["totalTrips"], 0, "{r}");
        }
    }
}

#[tokio::test]
async fn insufficient_funds_fail_the_purchase_and_leave_everything_as_it_was() {
    let w = World::new().await;
    let (buyer, account, intent, quotes) = market(&w, 1_000).await;
    let (_, vendor_account, quote, amount) = quotes[0].clone();
    assert!(amount > 1_000);
    let id = w.purchase(&quote).await;
    let p = w.wait_purchase(&id, "failed").await;
    assert_eq!(p["reason"], "insufficient_funds");
    assert_eq!(w.balances(&account).await, (1_000, 0, 1_000));
    assert_eq!(w.balances(&vendor_account).await, (0, 0, 0));
    // The vendor was never asked: the quote is still pending and the intent still open.
    let q = w.vendor_get(&format!("/quotes/{quote}")).await;
    assert_eq!(q["status"], "pending");
    assert!(q["purchaseId"].is_null());
    assert_eq!(
        w.buyer_get(&format!("/intents/{intent}")).await["status"],
        "pending"
    );
    for (_, _, sibling, _) in &quotes {
        assert_eq!(
            w.vendor_get(&format!("/quotes/{sibling}")).await["status"],
            "pending"
        );
    }
    // The failed purchase frees the quote and the intent: once funded, the buyer buys it.
    w.fund(&account, amount).await;
    let id = w.purchase(&quote).await;
    w.wait_purchase(&id, "accepted").await;
    let total = 1_000 + amount;
    assert_eq!(w.balances(&account).await, (total, amount, 1_000));
    let purchases = w.buyer_get(&format!("/purchases?buyerId={buyer}")).await;
    assert_eq!(purchases["purchases"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_expired_intent_takes_no_quote_and_no_purchase() {
    let w = World::new().await;
    let (buyer, account) = w.buyer("Eric Habimana", FUNDS).await;
    let (v1, v1_account) = w.vendor("Moto Express").await;
    let (v2, _) = w.vendor("Kigali Riders").await;
    let expires = (chrono::Utc::now() + chrono::Duration::seconds(4)).to_rfc3339();
    let intent = w.intent(&buyer, Some(&expires)).await;
    let quote = w.quote(&v1, &intent, 2_000).await;
    let q = w.vendor_get(&format!("/quotes/{quote}")).await;
    let quote_end = chrono::DateTime::parse_from_rfc3339(q["expiresAt"].as_str().unwrap()).unwrap();
    let intent_end = chrono::DateTime::parse_from_rfc3339(&expires).unwrap();
    assert!(
        quote_end <= intent_end,
        "a quote never outlives its intent: {q}"
    );

    // The buyer's expiry job closes it and tells the vendor (`buyer.intent.expired`).
    let path = format!("/intents/{intent}");
    eventually(WAIT, || async {
        (w.buyer_get(&path).await["status"] == "expired").then_some(())
    })
    .await;
    eventually(WAIT, || async {
        (w.vendor_get(&path).await["status"] == "expired").then_some(())
    })
    .await;
    w.wait_quote(&quote, "expired").await;

    // The vendor refuses new quotes on it; the buyer refuses to buy the old one.
    let res = w
        .vendor_post(
            &format!("/vendors/{v2}/quotes"),
            json!({"intentId": intent, "amountMinor": 1_500, "currency": "TOKEN"}),
        )
        .await;
    assert_eq!(
        refused(res, StatusCode::CONFLICT).await,
        "vendor.intent_closed"
    );
    let code = refused(w.purchase_raw(&quote, &key()).await, StatusCode::CONFLICT).await;
    assert!(
        code == "buyer.quote_not_pending" || code == "buyer.intent_not_open",
        "{code}"
    );
    let purchases = w.buyer_get(&format!("/purchases?buyerId={buyer}")).await;
    assert_eq!(purchases["purchases"], json!([]), "nothing recorded");
    assert_eq!(w.balances(&account).await, (FUNDS, 0, FUNDS));
    assert_eq!(w.balances(&v1_account).await, (0, 0, 0));
}

#[tokio::test]
async fn a_quote_is_bought_once_under_concurrent_purchases() {
    let w = World::new().await;
    let (buyer, account, _intent, quotes) = market(&w, FUNDS).await;
    let (_, vendor_account, quote, amount) = quotes[0].clone();

    let (k1, k2) = (key(), key());
    let (a, b) = tokio::join!(w.purchase_raw(&quote, &k1), w.purchase_raw(&quote, &k2));
    let mut answers = Vec::new();
    for res in [a, b] {
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        answers.push((status, body));
    }
    answers.sort_by_key(|(s, _)| *s);
    assert_eq!(answers[0].0, StatusCode::CREATED, "{answers:?}");
    assert_eq!(answers[1].0, StatusCode::CONFLICT, "{answers:?}");
    // Both live-purchase indexes refuse the second purchase; either backend names the quote.
    assert_eq!(answers[1].1["code"], "buyer.quote_already_purchased");
    let id = answers[0].1["id"].as_str().unwrap().to_owned();

    w.wait_purchase(&id, "accepted").await;
    let q = w.wait_quote(&quote, "accepted").await;
    assert_eq!(q["purchaseId"], json!(id));
    assert_eq!(
        w.balances(&account).await,
        (FUNDS, amount, FUNDS - amount),
        "one reservation"
    );

    // The quote is taken: another purchase of it, or of a sibling (rejected, intent matched),
    // is refused; the vendor refuses another acceptance of it.
    let code = refused(w.purchase_raw(&quote, &key()).await, StatusCode::CONFLICT).await;
    assert!(
        code == "buyer.quote_already_purchased" || code == "buyer.quote_not_pending",
        "{code}"
    );
    let sibling = quotes[1].2.clone();
    w.wait_quote(&sibling, "rejected").await;
    let code = refused(w.purchase_raw(&sibling, &key()).await, StatusCode::CONFLICT).await;
    assert!(
        code == "buyer.quote_not_pending" || code == "buyer.intent_not_open",
        "{code}"
    );
    let res = w
        .vendor_post(
            &format!("/quotes/{quote}/accept"),
            json!({"buyerId": buyer, "purchaseId": "01J0000000000000000000000X"}),
        )
        .await;
    assert_eq!(
        refused(res, StatusCode::CONFLICT).await,
        "vendor.quote_not_pending"
    );

    w.confirm(&id, "VENDOR").await;
    w.confirm(&id, "BUYER").await;
    w.wait_purchase(&id, "settled").await;
    assert_eq!(
        w.balances(&account).await,
        (FUNDS - amount, 0, FUNDS - amount)
    );
    assert_eq!(w.balances(&vendor_account).await, (amount, 0, amount));
    let purchases = w.buyer_get(&format!("/purchases?buyerId={buyer}")).await;
    assert_eq!(purchases["purchases"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_crash_between_reservation_and_acceptance_resumes_exactly_once() {
    let mut w = World::gated().await;
    let (_buyer, account, intent, quotes) = market(&w, FUNDS).await;
    let (_, vendor_account, quote, amount) = quotes[2].clone();

    // The vendor cannot be reached for the acceptance: the saga stops after reserving.
    w.gate.as_ref().unwrap().close(true);
    let id = w.purchase(&quote).await;
    let p = w.wait_purchase(&id, "reserved").await;
    let gate = w.gate.as_ref().unwrap();
    eventually(WAIT, || async { (gate.refused() > 0).then_some(()) }).await;
    let transfer = p["transactionId"].clone();
    assert!(transfer.is_string());
    assert_eq!(w.balances(&account).await, (FUNDS, amount, FUNDS - amount));
    assert_eq!(
        w.vendor_get(&format!("/quotes/{quote}")).await["status"],
        "pending"
    );

    // The buyer goes down between the steps; the vendor comes back; the buyer restarts.
    w.c.stop("buyer").await;
    w.gate.as_ref().unwrap().close(false);
    w.c.start("buyer").await;

    let p = w.wait_purchase(&id, "accepted").await;
    assert_eq!(p["transactionId"], transfer, "not reserved again");
    assert_eq!(
        w.balances(&account).await,
        (FUNDS, amount, FUNDS - amount),
        "reserved once"
    );
    let q = w.wait_quote(&quote, "accepted").await;
    assert_eq!(q["purchaseId"], json!(id));
    assert_eq!(
        w.buyer_get(&format!("/intents/{intent}")).await["status"],
        "matched"
    );
    for (_, _, sibling, _) in &quotes[..2] {
        w.wait_quote(sibling, "rejected").await;
    }

    w.confirm(&id, "VENDOR").await;
    w.confirm(&id, "BUYER").await;
    w.wait_purchase(&id, "settled").await;
    assert_eq!(
        w.balances(&account).await,
        (FUNDS - amount, 0, FUNDS - amount)
    );
    assert_eq!(w.balances(&vendor_account).await, (amount, 0, amount));
    let postings = w.account(&vendor_account).await["postings"].clone();
    assert_eq!(postings.as_array().unwrap().len(), 1, "{postings}");
}
