//! Vendors: auth, validation, the wallet account, paging, events.

use contracts::marketplace::{VENDOR_CREATED, VENDOR_UPDATED, VendorChanged};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn routes_need_a_token_with_the_right_scope() {
    let app = app().await;
    let body = json!({"name": "Moto Kigali", "region": "kigali", "categories": ["moto"]});
    let b = expect(
        app.anon(Method::POST, "/vendors")
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(b["code"], "auth.missing_token");
    let b = expect(
        app.req(Method::GET, "/vendors", &[WRITE])
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(b["code"], "auth.invalid_scope");
    expect(
        app.req(Method::GET, "/vendors", &[READ])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let b = expect(
        app.req(Method::GET, "/marketplace/settings", &[READ, WRITE])
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(b["code"], "auth.invalid_scope");
}

#[tokio::test]
async fn categories_are_required_and_an_explicit_zero_is_kept() {
    let app = app().await;
    let b = expect(
        post(
            &app,
            "/vendors",
            json!({"name": "Moto Kigali", "region": "kigali", "categories": []}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["errors"][0]["pointer"], "/categories");
    let b = expect(
        post(
            &app,
            "/vendors",
            json!({"name": "New Shop", "region": "kigali", "categories": ["shop"],
                   "rating": 0, "fulfilmentRate": 0, "profileUserId": "user-1",
                   "whatsappE164": "+250788123456"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["rating"], 0.0, "an explicit 0 is a rating of 0, not null");
    assert_eq!(b["fulfilmentRate"], 0.0);
    assert_eq!(b["profileUserId"], "user-1");
    let again = expect(
        post(
            &app,
            "/vendors",
            json!({"name": "Other", "region": "kigali", "categories": ["shop"], "profileUserId": "user-1"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["code"], "vendor.profile_taken");
}

#[tokio::test]
async fn a_new_vendor_gets_a_wallet_account_owned_by_its_id() {
    let pair = with_wallet(&[]).await;
    let (mut events, _g) = capture(&pair.vendor, &[VENDOR_CREATED, VENDOR_UPDATED]);
    let v = create_vendor(&pair.vendor, "Moto Kigali").await;
    let id = v["id"].as_str().unwrap();
    let account = v["walletAccountId"]
        .as_str()
        .expect("wallet account opened");
    let a = expect(
        pair.wallet
            .req(
                Method::GET,
                &format!("/wallet/accounts/{account}"),
                &["wallet:accounts.read"],
            )
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(a["account"]["ownerType"], "vendor");
    assert_eq!(
        a["account"]["ownerId"], id,
        "owner id is the vendor id, not a name"
    );
    assert_eq!(a["account"]["asset"], "TOKEN");
    let created = next_event(&mut events, VENDOR_CREATED).await;
    let c: VendorChanged = created.payload().unwrap();
    assert_eq!(c.vendor_id, id);
    let updated = next_event(&mut events, VENDOR_UPDATED).await;
    let u: VendorChanged = updated.payload().unwrap();
    assert_eq!(u.wallet_account_id.as_deref(), Some(account));
    let got = get(&pair.vendor, &format!("/vendors/{id}")).await;
    assert_eq!(got["walletAccountId"], account);
}

#[tokio::test]
async fn a_vendor_is_registered_while_the_wallet_is_down() {
    let app = app().await;
    let v = create_vendor(&app, "Moto Kigali").await;
    assert!(v["walletAccountId"].is_null(), "opened later by the job");
}

#[tokio::test]
async fn the_list_pages_by_cursor_and_shows_no_balances() {
    let app = app().await;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(vendor_id(&app, &format!("Vendor {n}")).await);
    }
    expect(
        post(
            &app,
            "/vendors",
            json!({"name": "Musanze Moto", "region": "musanze", "categories": ["moto"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let p1 = get(&app, "/vendors?region=kigali&limit=2").await;
    let list = p1["vendors"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], ids[2].as_str(), "newest first");
    let text = p1.to_string();
    assert!(!text.contains("balance"), "no wallet balances: {text}");
    let cursor = p1["nextCursor"].as_str().unwrap();
    let p2 = get(
        &app,
        &format!("/vendors?region=kigali&limit=2&cursor={cursor}"),
    )
    .await;
    let list = p2["vendors"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], ids[0].as_str());
    assert!(p2["nextCursor"].is_null());
    let b = expect(
        app.req(Method::GET, "/vendors?cursor=nope", &[READ])
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(b["code"], "vendor.invalid_cursor");
}

#[tokio::test]
async fn another_tenants_vendor_is_not_found() {
    let app = app().await;
    let id = vendor_id(&app, "Moto Kigali").await;
    let token = app.tenant_token("other", &[READ]);
    let b = expect(
        app.anon(Method::GET, &format!("/vendors/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(b["code"], "vendor.vendor_not_found");
}

#[tokio::test]
async fn an_update_changes_only_the_fields_given() {
    let app = app().await;
    let (mut events, _g) = capture(&app, &[VENDOR_UPDATED]);
    let id = vendor_id(&app, "Moto Kigali").await;
    let b = expect(
        app.req(Method::PATCH, &format!("/vendors/{id}"), &[WRITE])
            .json(&json!({"rating": 4.5}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(b["rating"], 4.5);
    assert_eq!(b["name"], "Moto Kigali");
    assert_eq!(b["categories"], json!(["moto"]));
    let e = next_event(&mut events, VENDOR_UPDATED).await;
    assert_eq!(e.payload::<VendorChanged>().unwrap().rating, Some(4.5));
}

#[tokio::test]
async fn the_job_opens_the_wallet_account_once_the_wallet_answers() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    // The wallet fails at first (an outage), then answers: the durable job links the account.
    let wallet = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/wallet/accounts"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&wallet)
        .await;
    let account = json!({"id": "acct-1", "tenantId": "default", "ownerType": "vendor",
        "ownerId": "x", "asset": "TOKEN", "status": "active", "allowNegative": false,
        "postedMinor": 0, "pendingDebitsMinor": 0, "pendingCreditsMinor": 0,
        "availableMinor": 0, "createdAt": "2026-11-26T00:00:00Z"});
    Mock::given(method("POST"))
        .and(path("/wallet/accounts"))
        .respond_with(ResponseTemplate::new(201).set_body_json(account))
        .mount(&wallet)
        .await;
    let app =
        testkit::TestApp::spawn_with::<vendor::Vendor>(&[("VENDOR_WALLET_URL", &wallet.uri())])
            .await;
    let (mut events, _g) = capture(&app, &[VENDOR_UPDATED]);
    let v = create_vendor(&app, "Moto Kigali").await;
    let id = v["id"].as_str().unwrap().to_owned();
    let e = next_event(&mut events, VENDOR_UPDATED).await;
    let u: VendorChanged = e.payload().unwrap();
    assert_eq!(
        (u.vendor_id.as_str(), u.wallet_account_id.as_deref()),
        (id.as_str(), Some("acct-1"))
    );
    assert_eq!(
        get(&app, &format!("/vendors/{id}")).await["walletAccountId"],
        "acct-1"
    );
}
