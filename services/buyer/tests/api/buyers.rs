//! Buyers: auth (spec 2.7), tenant scoping, profile links, context.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn auth_is_enforced_as_in_spec_2_7() {
    let w = World::new().await;
    let body = json!({"name": "Diane Umutesi"});
    let res = w
        .app
        .anon(Method::POST, "/buyers")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::UNAUTHORIZED).await["code"],
        "auth.missing_token"
    );
    let res = w
        .app
        .req(Method::POST, "/buyers", &[READ])
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::FORBIDDEN).await["code"],
        "auth.invalid_scope"
    );
    let b = expect(w.post("/buyers", body).await, StatusCode::CREATED).await;
    assert_eq!(b["tenantId"], TENANT, "the default tenant applies");
    assert_eq!(b["name"], "Diane Umutesi");
    assert_eq!(
        b["walletAccounts"],
        json!([]),
        "wallet accounts are opened on demand"
    );
    // Reads need buyer:read.
    let res = w
        .app
        .req(Method::GET, "/intents", &[WRITE])
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::FORBIDDEN).await["code"],
        "auth.invalid_scope"
    );
}

#[tokio::test]
async fn another_tenants_buyer_is_not_found() {
    let w = World::new().await;
    let b = expect(
        w.post("/buyers", json!({"tenantId": "other", "name": "Buyer"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = b["id"].as_str().unwrap();
    // Spec 2.7: a buyer of tenant "other" asked for with tenant "tenant".
    let res = w
        .post(
            &format!("/buyers/{id}/intents"),
            json!({"tenantId": "tenant", "channel": "whatsapp", "payload": {}}),
        )
        .await;
    assert_eq!(
        expect(res, StatusCode::NOT_FOUND).await["code"],
        "buyer.buyer_not_found"
    );
    let res = w
        .app
        .req(
            Method::GET,
            &format!("/buyers/{id}/context?tenantId=tenant"),
            &[READ],
        )
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    // Without a tenant the default applies: still not this buyer's.
    let res = w
        .app
        .req(Method::GET, &format!("/buyers/{id}/context"), &[READ])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    // A token bound to another tenant cannot see it either.
    let res = w
        .app
        .anon(Method::GET, &format!("/buyers/{id}/context?tenantId=other"))
        .bearer_auth(w.app.tenant_token("tenant", &[READ]))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::NOT_FOUND).await;
    let ctx = w.get(&format!("/buyers/{id}/context?tenantId=other")).await;
    assert_eq!(ctx["buyer"]["id"], id);
    assert_eq!(ctx["intents"], json!([]));
    assert_eq!(ctx["trips"], json!([]));
}

#[tokio::test]
async fn a_profile_links_one_buyer_per_tenant_and_bad_input_is_422() {
    let w = World::new().await;
    let body = json!({"name": "Eric", "profileUserId": "p-1", "whatsappE164": "+250781234567"});
    let b = expect(w.post("/buyers", body.clone()).await, StatusCode::CREATED).await;
    assert_eq!(b["profileUserId"], "p-1");
    assert_eq!(b["whatsappE164"], "+250781234567");
    let again = expect(w.post("/buyers", body).await, StatusCode::CONFLICT).await;
    assert_eq!(again["code"], "buyer.buyer_exists");
    let bad = expect(
        w.post(
            "/buyers",
            json!({"name": "E", "whatsappE164": "0781234567"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(bad["code"], "request.invalid");
    assert_eq!(bad["errors"].as_array().unwrap().len(), 2, "{bad}");
    // Idempotent creation: the same key answers the same buyer.
    let k = key();
    let one = expect(
        w.post_key("/buyers", json!({"name": "Same"}), &k).await,
        StatusCode::CREATED,
    )
    .await;
    let two = expect(
        w.post_key("/buyers", json!({"name": "Same"}), &k).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(one["id"], two["id"]);
}

#[tokio::test]
async fn the_context_shows_the_buyer_its_accounts_intents_and_purchases() {
    let w = World::new().await;
    let (buyer, account, intent, quote) = w.setup(1000, 600).await;
    let p = w.purchase(&quote).await;
    w.wait_purchase(&p, "accepted").await;
    let ctx = w.get(&format!("/buyers/{buyer}/context")).await;
    assert_eq!(
        ctx["buyer"]["walletAccounts"],
        json!([{"asset": "TOKEN", "accountId": account}])
    );
    assert_eq!(ctx["intents"][0]["id"], intent.as_str());
    assert_eq!(ctx["intents"][0]["status"], "matched");
    assert_eq!(ctx["purchases"][0]["id"], p.as_str());
    assert_eq!(ctx["purchases"][0]["amountMinor"], 600);
}
