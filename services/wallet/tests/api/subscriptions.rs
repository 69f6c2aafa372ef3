use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

async fn vendor_with(app: &TestApp, tokens: i64) -> String {
    let (platform_account, _) = (provision_or_get(app).await, ());
    let vendor = open(app, "vendor", "v1", "TOKEN").await;
    if tokens > 0 {
        expect(
            transfer(app, &platform_account, &vendor, tokens).await,
            StatusCode::CREATED,
        )
        .await;
    }
    vendor
}

async fn provision_or_get(app: &TestApp) -> String {
    let r = post(
        app,
        "/wallet/platform/provision",
        json!({"asset": "TOKEN"}),
        Some(&key()),
    )
    .await;
    r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_subscription_charges_the_plan_once_per_period() {
    let app = app().await;
    let vendor = vendor_with(&app, 1000).await;
    let c = expect(
        post(
            &app,
            "/wallet/subscribe",
            json!({"vendorId": "v1"}),
            Some(&key()),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(c["amountMinor"], 400, "the default plan: 4 TOKEN");
    assert_eq!(c["ownerId"], "v1");
    assert_eq!(balances(&app, &vendor).await.0, 600);
    let again = expect(
        post(
            &app,
            "/wallet/subscribe",
            json!({"vendorId": "v1"}),
            Some(&key()),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "wallet.subscription_active");
    assert_eq!(balances(&app, &vendor).await.0, 600, "charged once");
}

#[tokio::test]
async fn the_price_comes_from_the_tenants_plan_not_the_caller() {
    let app = app().await;
    let vendor = vendor_with(&app, 1000).await;
    let plan = json!({"asset": "TOKEN", "priceMinor": 250, "periodDays": 7});
    let res = app
        .req(
            Method::PUT,
            "/wallet/tenants/default/subscription-plan",
            &[ADMIN],
        )
        .json(&plan)
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await;
    let with_price = json!({"vendorId": "v1", "tokens": 0.0001});
    expect(
        post(&app, "/wallet/subscribe", with_price, Some(&key())).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let c = expect(
        post(
            &app,
            "/wallet/subscribe",
            json!({"vendorId": "v1"}),
            Some(&key()),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(c["amountMinor"], 250);
    assert_eq!(balances(&app, &vendor).await.0, 750);
}

#[tokio::test]
async fn a_vendor_short_of_tokens_is_refused() {
    let app = app().await;
    vendor_with(&app, 100).await;
    let b = expect(
        post(
            &app,
            "/wallet/subscribe",
            json!({"vendorId": "v1"}),
            Some(&key()),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "wallet.insufficient_funds");
    let b = expect(
        post(
            &app,
            "/wallet/subscribe",
            json!({"vendorId": "nobody"}),
            Some(&key()),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(b["code"], "wallet.vendor_account_missing");
}

#[tokio::test]
async fn concurrent_subscriptions_of_one_vendor_charge_once() {
    let app = app().await;
    let vendor = vendor_with(&app, 10_000).await;
    let keys: Vec<String> = (0..8).map(|_| key()).collect();
    let results = futures::future::join_all(keys.iter().map(|k| {
        post(
            &app,
            "/wallet/subscribe",
            json!({"vendorId": "v1"}),
            Some(k),
        )
    }))
    .await;
    let charged = results
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    assert_eq!(charged, 1);
    assert!(
        results
            .iter()
            .all(|r| matches!(r.status(), StatusCode::CREATED | StatusCode::CONFLICT))
    );
    assert_eq!(balances(&app, &vendor).await.0, 9_600);
}
