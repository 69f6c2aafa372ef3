use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
pub use testkit::TestApp;
use wallet::Wallet;

pub const WRITE: &str = "wallet:transfer.write";
pub const READ: &str = "wallet:accounts.read";
pub const OPEN: &str = "wallet:accounts.write";
pub const ADMIN: &str = "wallet:admin";
pub const ALL: &[&str] = &[WRITE, READ, OPEN, ADMIN];

pub async fn app() -> TestApp {
    TestApp::spawn::<Wallet>().await
}

pub async fn app_with(vars: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with::<Wallet>(vars).await
}

pub fn key() -> String {
    format!("test-{}", ulid::Ulid::generate())
}

/// Asserts the status and returns the body.
pub async fn expect(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("JSON")
    }
}

pub async fn post(app: &TestApp, path: &str, body: Value, idem: Option<&str>) -> Response {
    let mut req = app.req(Method::POST, path, ALL).json(&body);
    if let Some(k) = idem {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

pub async fn open(app: &TestApp, owner_type: &str, owner_id: &str, asset: &str) -> String {
    let res = post(
        app,
        "/wallet/accounts",
        json!({"ownerType": owner_type, "ownerId": owner_id, "asset": asset}),
        None,
    )
    .await;
    let b = expect(res, StatusCode::CREATED).await;
    b["id"].as_str().unwrap().to_owned()
}

pub async fn transfer(app: &TestApp, from: &str, to: &str, amount: i64) -> Response {
    post(
        app,
        "/wallet/transfer",
        json!({"sourceAccountId": from, "destinationAccountId": to, "amountMinor": amount, "asset": "TOKEN"}),
        Some(&key()),
    )
    .await
}

/// A TOKEN account of a new buyer holding `amount`, and the platform account that issued it.
pub async fn funded(app: &TestApp, owner: &str, amount: i64) -> (String, String) {
    let platform = match post(
        app,
        "/wallet/platform/provision",
        json!({"asset": "TOKEN"}),
        Some(&key()),
    )
    .await
    {
        r if r.status().is_success() => r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        r => panic!("provision failed: {}", r.status()),
    };
    let account = open(app, "buyer", owner, "TOKEN").await;
    if amount > 0 {
        expect(
            transfer(app, &platform, &account, amount).await,
            StatusCode::CREATED,
        )
        .await;
    }
    (account, platform)
}

pub async fn account(app: &TestApp, id: &str) -> Value {
    let res = app
        .req(Method::GET, &format!("/wallet/accounts/{id}"), &[READ])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await
}

/// (posted, pending debits, available).
pub async fn balances(app: &TestApp, id: &str) -> (i64, i64, i64) {
    let a = account(app, id).await["account"].clone();
    (
        a["postedMinor"].as_i64().unwrap(),
        a["pendingDebitsMinor"].as_i64().unwrap(),
        a["availableMinor"].as_i64().unwrap(),
    )
}

pub async fn reconcile(app: &TestApp) -> Value {
    let res = app
        .req(Method::POST, "/wallet/reconcile", &[ADMIN])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await
}

/// The ledger is sound: every cached balance equals its postings, and the postings sum to zero.
pub async fn assert_sound(app: &TestApp) {
    let run = reconcile(app).await;
    assert_eq!(run["discrepancies"], json!([]), "{run}");
    assert_eq!(run["ledgerSumMinor"], 0, "{run}");
}
