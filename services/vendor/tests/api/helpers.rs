use std::time::Duration;

use bus::{Envelope, Subscription};
use chrono::{DateTime, Utc};
use contracts::buyer::{INTENT_CREATED, IntentChanged, IntentStatus};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
pub use testkit::TestApp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vendor::Vendor;
use wallet::Wallet;

pub const READ: &str = "vendor:read";
pub const WRITE: &str = "vendor:write";
pub const QUOTE: &str = "vendor:quote.write";
pub const ADMIN: &str = "vendor:admin";
pub const ALL: &[&str] = &[READ, WRITE, QUOTE, ADMIN];
pub const TENANT: &str = "default";

/// A closed port: wallet calls fail at once (the job keeps retrying in the background).
const NO_WALLET: &str = "http://127.0.0.1:9";

pub async fn app() -> TestApp {
    app_with(&[]).await
}

pub async fn app_with(vars: &[(&str, &str)]) -> TestApp {
    let mut all = vec![("VENDOR_WALLET_URL", NO_WALLET)];
    all.extend_from_slice(vars);
    TestApp::spawn_with::<Vendor>(&all).await
}

/// The vendor service and the real wallet service it calls, with the wallet's events forwarded
/// to the vendor's bus (as one bus carries both under `easymo up`).
pub struct Pair {
    pub vendor: TestApp,
    pub wallet: TestApp,
    _forward: tokio_util::sync::DropGuard,
}

pub async fn with_wallet(vars: &[(&str, &str)]) -> Pair {
    let wallet = TestApp::spawn::<Wallet>().await;
    let url = wallet.url("");
    let mut all = vec![("VENDOR_WALLET_URL", url.as_str())];
    all.extend_from_slice(vars);
    let vendor = TestApp::spawn_with::<Vendor>(&all).await;
    let stop = CancellationToken::new();
    let target = vendor.bus.clone();
    let handler = bus::handler(move |e: Envelope| {
        let target = target.clone();
        async move {
            target
                .publish(&e)
                .await
                .map_err(|e| Box::new(e) as bus::HandlerError)
        }
    });
    let _task = wallet.bus.subscribe(
        Subscription::new("test-forward", &[contracts::wallet::SUBSCRIPTION_CHARGED]),
        handler,
        stop.clone(),
    );
    Pair {
        vendor,
        wallet,
        _forward: stop.drop_guard(),
    }
}

/// Collects the events of `types` published on the app's bus.
pub fn capture(
    app: &TestApp,
    types: &[&str],
) -> (
    mpsc::UnboundedReceiver<Envelope>,
    tokio_util::sync::DropGuard,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let handler = bus::handler(move |e: Envelope| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(e);
            Ok(())
        }
    });
    let _task = app.bus.subscribe(
        Subscription::new(format!("test-{}", ulid::Ulid::generate()), types),
        handler,
        stop.clone(),
    );
    (rx, stop.drop_guard())
}

/// The next captured event of `kind` (within 10 s).
pub async fn next_event(rx: &mut mpsc::UnboundedReceiver<Envelope>, kind: &str) -> Envelope {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = rx.recv().await.expect("bus open");
            if e.kind == kind {
                return e;
            }
        }
    })
    .await
    .expect("event within 10 s")
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

pub async fn post(app: &TestApp, path: &str, body: Value) -> Response {
    app.req(Method::POST, path, ALL)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn get(app: &TestApp, path: &str) -> Value {
    expect(
        app.req(Method::GET, path, ALL).send().await.unwrap(),
        StatusCode::OK,
    )
    .await
}

/// Registers a vendor; returns its body.
pub async fn create_vendor(app: &TestApp, name: &str) -> Value {
    expect(
        post(
            app,
            "/vendors",
            json!({"name": name, "region": "kigali", "categories": ["moto"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await
}

pub async fn vendor_id(app: &TestApp, name: &str) -> String {
    create_vendor(app, name).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn intent(
    id: &str,
    buyer: &str,
    status: IntentStatus,
    expires_at: Option<DateTime<Utc>>,
) -> IntentChanged {
    IntentChanged {
        intent_id: id.to_owned(),
        tenant_id: TENANT.to_owned(),
        buyer_id: buyer.to_owned(),
        status,
        channel: "whatsapp".to_owned(),
        region: Some("kigali".to_owned()),
        categories: vec!["moto".to_owned()],
        expires_at,
        matched_quote_id: None,
        created_at: Utc::now(),
        changed_at: Utc::now(),
    }
}

pub async fn publish_intent(app: &TestApp, kind: &str, i: &IntentChanged) {
    let e = Envelope::new(kind, "buyer", &i.tenant_id, i).unwrap();
    app.bus.publish(&e).await.unwrap();
}

/// Publishes a pending intent and waits until the vendor service knows it in `status`.
pub async fn seed_intent(app: &TestApp, id: &str, buyer: &str) {
    let i = intent(id, buyer, IntentStatus::Pending, None);
    publish_intent(app, INTENT_CREATED, &i).await;
    wait_intent(app, id, "pending").await;
}

pub async fn wait_intent(app: &TestApp, id: &str, status: &str) {
    let path = format!("/intents/{id}");
    testkit::eventually(Duration::from_secs(10), || async {
        let res = app.req(Method::GET, &path, &[READ]).send().await.unwrap();
        if res.status() != StatusCode::OK {
            return None;
        }
        let b: Value = res.json().await.unwrap();
        (b["status"] == status).then_some(())
    })
    .await;
}

pub fn quote_body(intent: &str, amount: i64) -> Value {
    json!({"intentId": intent, "amountMinor": amount, "currency": "RWF", "etaMinutes": 12})
}

pub async fn quote(app: &TestApp, vendor: &str, intent: &str) -> Response {
    post(
        app,
        &format!("/vendors/{vendor}/quotes"),
        quote_body(intent, 2500),
    )
    .await
}

pub async fn quote_ok(app: &TestApp, vendor: &str, intent: &str) -> Value {
    expect(quote(app, vendor, intent).await, StatusCode::CREATED).await
}
