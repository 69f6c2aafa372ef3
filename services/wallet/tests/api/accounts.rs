use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn opening_an_account_twice_returns_the_same_account() {
    let app = app().await;
    let body = json!({"ownerType": "vendor", "ownerId": "v1", "asset": "RWF"});
    let a = expect(
        post(&app, "/wallet/accounts", body.clone(), None).await,
        StatusCode::CREATED,
    )
    .await;
    let b = expect(
        post(&app, "/wallet/accounts", body, None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["allowNegative"], false);
    let bad = json!({"ownerType": "vendor", "ownerId": "v1", "asset": "XAU"});
    assert_eq!(
        expect(
            post(&app, "/wallet/accounts", bad, None).await,
            StatusCode::UNPROCESSABLE_ENTITY
        )
        .await["code"],
        "wallet.unknown_asset"
    );
    let platform = json!({"ownerType": "platform", "ownerId": "p", "asset": "RWF"});
    expect(
        post(&app, "/wallet/accounts", platform, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn there_is_exactly_one_platform_account_per_tenant_and_asset() {
    let app = app().await;
    let keys: Vec<String> = (0..6).map(|_| key()).collect();
    let results = futures::future::join_all(keys.iter().map(|k| {
        post(
            &app,
            "/wallet/platform/provision",
            json!({"asset": "TOKEN"}),
            Some(k),
        )
    }))
    .await;
    let mut ids = Vec::new();
    for r in results {
        assert!(r.status().is_success(), "{}", r.status());
        ids.push(r.json::<serde_json::Value>().await.unwrap()["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn postings_page_newest_first() {
    let app = app().await;
    let (buyer, _) = funded(&app, "b1", 1000).await;
    let vendor = open(&app, "vendor", "v1", "TOKEN").await;
    for amount in [1, 2, 3, 4, 5] {
        expect(
            transfer(&app, &buyer, &vendor, amount).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let page = |cursor: Option<&str>| {
        let path = match cursor {
            Some(c) => format!("/wallet/accounts/{vendor}?limit=2&cursor={c}"),
            None => format!("/wallet/accounts/{vendor}?limit=2"),
        };
        app.req(Method::GET, &path, &[READ]).send()
    };
    let mut amounts = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let b = expect(page(cursor.as_deref()).await.unwrap(), StatusCode::OK).await;
        amounts.extend(
            b["postings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["amountMinor"].as_i64().unwrap()),
        );
        match b["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(amounts, vec![5, 4, 3, 2, 1]);
}
