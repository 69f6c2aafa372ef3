use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn every_money_movement_is_in_the_audit_trail_with_its_balances() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 500).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    let t = expect(
        transfer(&app, &buyer, &vendor, 120).await,
        StatusCode::CREATED,
    )
    .await;
    let id = t["id"].as_str().unwrap();
    let res = app
        .req(Method::GET, &format!("/wallet/audit/{id}"), &[ADMIN])
        .send()
        .await
        .unwrap();
    let trail = expect(res, StatusCode::OK).await;
    let entry = &trail[0];
    assert_eq!(entry["action"], "transfer.post");
    assert_eq!(entry["actor"], "testkit");
    assert!(entry["requestId"].is_string());
    let balances = entry["details"].as_array().unwrap();
    let of = |account: &str| {
        balances
            .iter()
            .find(|b| b["accountId"] == account)
            .unwrap()
            .clone()
    };
    assert_eq!(of(&buyer)["before"]["posted"], 500);
    assert_eq!(of(&buyer)["after"]["posted"], 380);
    assert_eq!(of(&vendor)["after"]["posted"], 120);
    let res = app
        .req(Method::GET, &format!("/wallet/audit/{id}"), &[READ])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn tenants_can_add_assets_but_not_rescale_held_ones() {
    let app = app().await;
    let put = |code: &str, scale: i32| {
        app.req(
            Method::PUT,
            &format!("/wallet/tenants/default/assets/{code}"),
            &[ADMIN],
        )
        .json(&json!({"scale": scale}))
        .send()
    };
    expect(put("KES", 2).await.unwrap(), StatusCode::OK).await;
    open(&app, "vendor", "v1", "KES").await;
    let b = expect(
        put("KES", 0).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "wallet.invalid");
    expect(
        put("kes", 2).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    expect(
        put("UGX", 9).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}
