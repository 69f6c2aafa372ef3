//! The free-quota paywall, settings and subscriptions (from the real wallet's events).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn patch_settings(app: &TestApp, body: Value) -> Value {
    expect(
        app.req(Method::PATCH, "/marketplace/settings", &[ADMIN])
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

async fn entitlements(app: &TestApp, vendor: &str) -> Value {
    get(app, &format!("/vendors/{vendor}/entitlements")).await
}

#[tokio::test]
async fn settings_default_to_30_per_30_days_and_update_partially() {
    let app = app().await;
    let s = expect(
        app.req(Method::GET, "/marketplace/settings", &[ADMIN])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (s["freeContacts"].as_i64(), s["windowDays"].as_i64()),
        (Some(30), Some(30))
    );
    let s = patch_settings(&app, json!({"freeContacts": 5})).await;
    assert_eq!(
        (s["freeContacts"].as_i64(), s["windowDays"].as_i64()),
        (Some(5), Some(30))
    );
    let s = patch_settings(&app, json!({"windowDays": 7})).await;
    assert_eq!(
        (s["freeContacts"].as_i64(), s["windowDays"].as_i64()),
        (Some(5), Some(7)),
        "omitted fields keep their value"
    );
    let b = expect(
        app.req(Method::PATCH, "/marketplace/settings", &[ADMIN])
            .json(&json!({"windowDays": 0}))
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["errors"][0]["pointer"], "/windowDays");
}

/// Two free quotes made, one left; then 8 concurrent quotes (with or without an
/// `Idempotency-Key`, i.e. through their own transactions or the group-commit writer).
async fn last_free_slot(keyed: bool) {
    let app = app().await;
    patch_settings(&app, json!({"freeContacts": 3})).await;
    let v = vendor_id(&app, "Moto Kigali").await;
    for n in 0..10 {
        seed_intent(&app, &format!("intent-{n}"), "buyer-1").await;
    }
    quote_ok(&app, &v, "intent-0").await;
    quote_ok(&app, &v, "intent-1").await;
    let e = entitlements(&app, &v).await;
    assert_eq!(
        (
            e["freeUsed"].as_i64(),
            e["freeRemaining"].as_i64(),
            e["allowed"].as_bool()
        ),
        (Some(2), Some(1), Some(true))
    );
    let tries = (2..10).map(|n| {
        let app = &app;
        let v = v.clone();
        async move {
            let mut req = app
                .req(Method::POST, &format!("/vendors/{v}/quotes"), &[QUOTE])
                .json(&quote_body(&format!("intent-{n}"), 1000));
            if keyed {
                req = req.header("idempotency-key", format!("last-slot-key-{n:04}"));
            }
            req.send().await.unwrap()
        }
    });
    let mut created = 0;
    let mut refused = 0;
    for res in futures::future::join_all(tries).await {
        match res.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::PAYMENT_REQUIRED => {
                let b: Value = res.json().await.unwrap();
                assert_eq!(b["code"], "vendor.subscription_required");
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(
        (created, refused),
        (1, 7),
        "exactly one quote takes the last free slot"
    );
    let e = entitlements(&app, &v).await;
    assert_eq!(
        (
            e["freeUsed"].as_i64(),
            e["freeRemaining"].as_i64(),
            e["allowed"].as_bool(),
            e["subscribed"].as_bool()
        ),
        (Some(3), Some(0), Some(false), Some(false))
    );
}

#[tokio::test]
async fn concurrent_quotes_at_the_last_free_slot_let_exactly_one_through() {
    last_free_slot(false).await;
}

#[tokio::test]
async fn concurrent_keyed_quotes_at_the_last_free_slot_let_exactly_one_through() {
    last_free_slot(true).await;
}

#[tokio::test]
async fn a_paid_period_lifts_the_paywall_and_its_quotes_spend_no_free_quota() {
    let pair = with_wallet(&[]).await;
    let (vendor, wallet) = (&pair.vendor, &pair.wallet);
    patch_settings(vendor, json!({"freeContacts": 1})).await;
    let v = create_vendor(vendor, "Moto Kigali").await;
    let id = v["id"].as_str().unwrap().to_owned();
    let account = v["walletAccountId"].as_str().unwrap().to_owned();
    for n in 0..3 {
        seed_intent(vendor, &format!("intent-{n}"), "buyer-1").await;
    }
    quote_ok(vendor, &id, "intent-0").await;
    let b = expect(
        quote(vendor, &id, "intent-1").await,
        StatusCode::PAYMENT_REQUIRED,
    )
    .await;
    assert_eq!(b["code"], "vendor.subscription_required");
    // Fund the vendor's wallet from the platform and buy a period: the wallet's plan sets the
    // price (4 TOKEN per 30 days by default); its event reaches the vendor service.
    let all = [
        "wallet:transfer.write",
        "wallet:accounts.read",
        "wallet:accounts.write",
        "wallet:admin",
    ];
    let wpost = |path: &'static str, body: Value| {
        wallet
            .req(Method::POST, path, &all)
            .header(
                "idempotency-key",
                format!("test-{}", ulid::Ulid::generate()),
            )
            .json(&body)
            .send()
    };
    let platform = expect(
        wpost("/wallet/platform/provision", json!({"asset": "TOKEN"}))
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let fund = json!({"sourceAccountId": platform["id"], "destinationAccountId": account, "amountMinor": 1000, "asset": "TOKEN"});
    let t = wpost("/wallet/transfer", fund).await.unwrap();
    assert!(t.status().is_success(), "{}", t.text().await.unwrap());
    expect(
        wpost("/wallet/subscribe", json!({"vendorId": id}))
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let e = testkit::eventually(Duration::from_secs(10), || async {
        let e = entitlements(vendor, &id).await;
        (e["subscribed"] == true).then_some(e)
    })
    .await;
    assert_eq!(e["allowed"], true);
    assert!(e["subscribedUntil"].is_string());
    quote_ok(vendor, &id, "intent-1").await;
    quote_ok(vendor, &id, "intent-2").await;
    let e = entitlements(vendor, &id).await;
    assert_eq!(
        e["freeUsed"], 1,
        "quotes under a subscription do not use free quota"
    );
}
