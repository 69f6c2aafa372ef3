//! The saga's failure paths, crash recovery and settlement.

use std::time::Duration;

use contracts::buyer::{PURCHASE_CANCELLED, PurchaseCancelled};
use contracts::marketplace::{BUYER_PURCHASE_SETTLED, PurchaseSettled};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_quote_already_accepted_at_the_vendor_voids_the_reservation() {
    let w = World::new().await;
    let seen = record_events(&w.app, &[PURCHASE_CANCELLED]);
    let (_, account, intent, quote) = w.setup(1000, 600).await;
    // Between our read of the quote and our acceptance, another buyer took it.
    w.vendor.take(&quote);
    let id = w.purchase(&quote).await;
    let p = w.wait_purchase(&id, "failed").await;
    assert_eq!(p["reason"], "quote_unavailable");
    assert!(
        p["transactionId"].is_string(),
        "the money had been reserved"
    );
    testkit::eventually(Duration::from_secs(10), || async {
        (w.balances(&account).await == (1000, 0, 1000)).then_some(())
    })
    .await;
    assert_eq!(
        w.get(&format!("/intents/{intent}")).await["status"],
        "pending"
    );
    let e = wait_events(&seen, PURCHASE_CANCELLED, 1).await;
    let data: PurchaseCancelled = e[0].payload().unwrap();
    assert_eq!(data.reason, "quote_unavailable");
    assert_eq!(data.purchase_id, id);
}

#[tokio::test]
async fn a_saga_resumed_after_a_crash_between_steps_finishes_once() {
    let w = World::new().await;
    let (_, account, _, quote) = w.setup(1000, 600).await;
    // Step 1 completes; step 2 cannot (the vendor is down) when the process dies.
    w.vendor.set_down(true);
    let id = w.purchase(&quote).await;
    let p = w.wait_purchase(&id, "reserved").await;
    let transfer = p["transactionId"].clone();
    assert_eq!(w.balances(&account).await, (1000, 600, 400));
    let w = w.restart().await;
    w.vendor.set_down(false);
    let p = w.wait_purchase(&id, "accepted").await;
    assert_eq!(
        p["transactionId"], transfer,
        "the reservation was not made again"
    );
    assert_eq!(
        w.balances(&account).await,
        (1000, 600, 400),
        "reserved once"
    );
    w.confirm(&id, "VENDOR").await;
    w.confirm(&id, "BUYER").await;
    w.wait_purchase(&id, "settled").await;
    let vendor = w.vendor_account("vendor-1").await;
    assert_eq!(w.balances(&account).await, (400, 0, 400));
    assert_eq!(w.balances(&vendor).await, (600, 0, 600), "moved once");
}

#[tokio::test]
async fn settlement_posts_once_after_both_confirmations() {
    let w = World::new().await;
    let seen = record_events(&w.app, &[BUYER_PURCHASE_SETTLED]);
    let (_, account, _, quote) = w.setup(1000, 600).await;
    let id = w.purchase(&quote).await;
    // Confirmations wait for the vendor's acceptance.
    let early = w
        .post(
            &format!("/purchases/{id}/confirm"),
            json!({"actor": "BUYER"}),
        )
        .await;
    if early.status() == StatusCode::CONFLICT {
        assert_eq!(
            expect(early, StatusCode::CONFLICT).await["code"],
            "buyer.purchase_not_accepted"
        );
    }
    w.wait_purchase(&id, "accepted").await;
    let v = w.confirm(&id, "VENDOR").await;
    let stamp = v["vendorConfirmedAt"].clone();
    assert!(stamp.is_string());
    let v2 = w.confirm(&id, "VENDOR").await;
    assert_eq!(
        v2["vendorConfirmedAt"], stamp,
        "a repeated confirmation changes nothing"
    );
    assert_eq!(v2["status"], "accepted");
    assert_eq!(w.balances(&account).await, (1000, 600, 400));
    // Once both have confirmed, the purchase is being settled: it can no longer be cancelled.
    let both = w.confirm(&id, "BUYER").await;
    assert!(both["buyerConfirmedAt"].is_string());
    let res = w.post(&format!("/purchases/{id}/cancel"), json!({})).await;
    assert_eq!(
        expect(res, StatusCode::CONFLICT).await["code"],
        "buyer.purchase_closed"
    );
    let done = w.wait_purchase(&id, "settled").await;
    assert!(done["settledAt"].is_string());
    assert_eq!(done["fulfilledAt"], done["settledAt"]);
    for actor in ["BUYER", "VENDOR"] {
        let again = w.confirm(&id, actor).await;
        assert_eq!(again["status"], "settled");
        assert_eq!(again["settledAt"], done["settledAt"]);
    }
    let vendor = w.vendor_account("vendor-1").await;
    assert_eq!(w.balances(&account).await, (400, 0, 400));
    assert_eq!(w.balances(&vendor).await, (600, 0, 600));
    let e = wait_events(&seen, BUYER_PURCHASE_SETTLED, 1).await;
    let data: PurchaseSettled = e[0].payload().unwrap();
    assert_eq!((data.amount_minor, data.asset.as_str()), (600, "TOKEN"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.lock().unwrap().len(), 1, "settled once");
    // A settled purchase cannot be cancelled.
    let res = w.post(&format!("/purchases/{id}/cancel"), json!({})).await;
    assert_eq!(
        expect(res, StatusCode::CONFLICT).await["code"],
        "buyer.purchase_closed"
    );
}

#[tokio::test]
async fn at_its_deadline_a_purchase_nobody_fully_confirmed_is_voided() {
    let w = World::with(&[("BUYER_SETTLEMENT_DEADLINE_SECONDS", "2")]).await;
    let seen = record_events(&w.app, &[PURCHASE_CANCELLED]);
    let (_, account, _, quote) = w.setup(1000, 600).await;
    let id = w.purchase(&quote).await;
    w.wait_purchase(&id, "accepted").await;
    w.confirm(&id, "VENDOR").await;
    let p = w.wait_purchase(&id, "cancelled").await;
    assert_eq!(p["reason"], "deadline_passed");
    testkit::eventually(Duration::from_secs(10), || async {
        (w.balances(&account).await == (1000, 0, 1000)).then_some(())
    })
    .await;
    let e = wait_events(&seen, PURCHASE_CANCELLED, 1).await;
    assert_eq!(
        e[0].payload::<PurchaseCancelled>().unwrap().reason,
        "deadline_passed"
    );
    let res = w
        .post(
            &format!("/purchases/{id}/confirm"),
            json!({"actor": "BUYER"}),
        )
        .await;
    assert_eq!(
        expect(res, StatusCode::CONFLICT).await["code"],
        "buyer.purchase_closed"
    );
}

#[tokio::test]
async fn cancelling_before_settlement_voids_the_reservation() {
    let w = World::new().await;
    let (_, account, _, quote) = w.setup(1000, 600).await;
    let id = w.purchase(&quote).await;
    w.wait_purchase(&id, "accepted").await;
    let path = format!("/purchases/{id}/cancel");
    let c = expect(
        w.post(&path, json!({"reason": "buyer_declined"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c["status"], "cancelled");
    assert_eq!(c["reason"], "buyer_declined");
    let again = expect(w.post(&path, json!({})).await, StatusCode::OK).await;
    assert_eq!(again["cancelledAt"], c["cancelledAt"]);
    testkit::eventually(Duration::from_secs(10), || async {
        (w.balances(&account).await == (1000, 0, 1000)).then_some(())
    })
    .await;
    let res = w
        .app
        .req(
            reqwest::Method::GET,
            &format!("/purchases/{id}?tenantId=other"),
            &[READ],
        )
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_reservation_whose_answer_was_lost_is_not_made_twice() {
    let w = World::new().await;
    let (_, account, _, quote) = w.setup(1000, 600).await;
    // The wallet reserves, but the buyer hears 503 three times (its client's retry included, then
    // the job's retry): every retry carries the same key and is answered with the first transfer.
    w.lost_answers.store(3, std::sync::atomic::Ordering::SeqCst);
    let id = w.purchase(&quote).await;
    w.wait_purchase(&id, "accepted").await;
    assert_eq!(w.lost_answers.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(
        w.balances(&account).await,
        (1000, 600, 400),
        "one reservation"
    );
    w.confirm(&id, "VENDOR").await;
    w.confirm(&id, "BUYER").await;
    w.wait_purchase(&id, "settled").await;
    assert_eq!(w.balances(&account).await, (400, 0, 400), "moved once");
}
