use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn reserve(
    app: &TestApp,
    from: &str,
    to: &str,
    amount: i64,
    timeout: Option<u64>,
) -> serde_json::Value {
    let mut body = json!({"sourceAccountId": from, "destinationAccountId": to, "amountMinor": amount, "asset": "TOKEN", "pending": true});
    if let Some(t) = timeout {
        body["timeoutSeconds"] = json!(t);
    }
    expect(
        post(app, "/wallet/transfer", body, Some(&key())).await,
        StatusCode::CREATED,
    )
    .await
}

#[tokio::test]
async fn a_reservation_lowers_available_but_not_posted_and_posts_in_part() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 100).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let t = reserve(&app, &buyer, &vendor, 80, None).await;
    assert_eq!(t["state"], "pending");
    assert_eq!(balances(&app, &buyer).await, (100, 80, 20));
    // Pending reservations count against overdrafts.
    let b = expect(
        transfer(&app, &buyer, &vendor, 30).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "wallet.insufficient_funds");
    let path = format!("/wallet/transfers/{}/post", t["id"].as_str().unwrap());
    let too_much = expect(
        post(&app, &path, json!({"amountMinor": 81}), Some(&key())).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(too_much["code"], "wallet.invalid_post_amount");
    let posted = expect(
        post(&app, &path, json!({"amountMinor": 60}), Some(&key())).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(posted["state"], "posted");
    assert_eq!(
        balances(&app, &buyer).await,
        (40, 0, 40),
        "the unposted 20 is released"
    );
    assert_eq!(balances(&app, &vendor).await.0, 60);
    let again = expect(
        post(&app, &path, json!({}), Some(&key())).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "wallet.transfer_not_pending");
    let void = format!("/wallet/transfers/{}/void", t["id"].as_str().unwrap());
    expect(
        post(&app, &void, json!({}), Some(&key())).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_sound(&app).await;
}

#[tokio::test]
async fn a_void_releases_the_reservation_once() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 100).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let t = reserve(&app, &buyer, &vendor, 70, None).await;
    let void = format!("/wallet/transfers/{}/void", t["id"].as_str().unwrap());
    let v = expect(
        post(&app, &void, json!({"reason": "cancelled"}), Some(&key())).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v["state"], "voided");
    assert_eq!(balances(&app, &buyer).await, (100, 0, 100));
    assert_eq!(balances(&app, &vendor).await, (0, 0, 0));
    expect(
        post(&app, &void, json!({}), Some(&key())).await,
        StatusCode::CONFLICT,
    )
    .await;
    let post_path = format!("/wallet/transfers/{}/post", t["id"].as_str().unwrap());
    expect(
        post(&app, &post_path, json!({}), Some(&key())).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_sound(&app).await;
}

#[tokio::test]
async fn a_pending_transfer_voids_itself_at_its_timeout() {
    let app = app_with(&[("WALLET_PENDING_SWEEP_MS", "50")]).await;
    let (buyer, _) = funded(&app, "b1", 100).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let t = reserve(&app, &buyer, &vendor, 50, Some(1)).await;
    assert_eq!(balances(&app, &buyer).await.2, 50);
    let id = t["id"].as_str().unwrap().to_owned();
    testkit::eventually(Duration::from_secs(10), || {
        let app = &app;
        let id = id.clone();
        async move {
            let res = app
                .req(
                    reqwest::Method::GET,
                    &format!("/wallet/transfers/{id}"),
                    &[READ],
                )
                .send()
                .await
                .ok()?;
            let b: serde_json::Value = res.json().await.ok()?;
            (b["state"] == "voided").then_some(())
        }
    })
    .await;
    assert_eq!(balances(&app, &buyer).await, (100, 0, 100));
}
