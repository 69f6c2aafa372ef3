use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use buyer::Buyer;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
pub use testkit::TestApp;
use wallet::Wallet;

use crate::fake_vendor::FakeVendor;

pub const READ: &str = "buyer:read";
pub const WRITE: &str = "buyer:write";
pub const TENANT: &str = "default";
const WALLET_ALL: &[&str] = &[
    "wallet:transfer.write",
    "wallet:accounts.read",
    "wallet:accounts.write",
    "wallet:admin",
];

/// The buyer service, the real wallet beside it, and a fake vendor.
pub struct World {
    pub app: TestApp,
    pub wallet: TestApp,
    pub vendor: FakeVendor,
    /// Answers of `POST /wallet/transfer` still to lose (the wallet acts; the buyer never hears).
    pub lost_answers: Arc<AtomicU32>,
}

impl World {
    pub async fn new() -> Self {
        Self::with(&[]).await
    }

    pub async fn with(extra: &[(&str, &str)]) -> Self {
        let wallet = TestApp::spawn::<Wallet>().await;
        let vendor = FakeVendor::start().await;
        let lost_answers = Arc::new(AtomicU32::new(0));
        let proxy = lossy_proxy(wallet.url(""), Arc::clone(&lost_answers)).await;
        let mut vars = vec![
            ("BUYER_WALLET_URL".to_owned(), proxy),
            ("BUYER_VENDOR_URL".to_owned(), vendor.server.uri()),
            ("BUYER_SAGA_RETRY_BASE_MS".to_owned(), "50".to_owned()),
        ];
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let app = TestApp::spawn_with::<Buyer>(&refs).await;
        Self {
            app,
            wallet,
            vendor,
            lost_answers,
        }
    }

    /// Stops the buyer service and starts it again on the same database (a crash and restart).
    pub async fn restart(self) -> Self {
        let Self {
            app,
            wallet,
            vendor,
            lost_answers,
        } = self;
        let app = app.restart::<Buyer>().await;
        Self {
            app,
            wallet,
            vendor,
            lost_answers,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.app
            .req(Method::POST, path, &[WRITE])
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_key(&self, path: &str, body: Value, key: &str) -> Response {
        self.app
            .req(Method::POST, path, &[WRITE])
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Value {
        let res = self
            .app
            .req(Method::GET, path, &[READ])
            .send()
            .await
            .unwrap();
        expect(res, StatusCode::OK).await
    }

    pub async fn buyer(&self, name: &str) -> String {
        let b = expect(
            self.post("/buyers", json!({"name": name})).await,
            StatusCode::CREATED,
        )
        .await;
        b["id"].as_str().unwrap().to_owned()
    }

    pub async fn intent(&self, buyer: &str) -> String {
        let body =
            json!({"channel": "whatsapp", "payload": {"region": "kigali", "categories": ["moto"]}});
        let i = expect(
            self.post(&format!("/buyers/{buyer}/intents"), body).await,
            StatusCode::CREATED,
        )
        .await;
        i["id"].as_str().unwrap().to_owned()
    }

    /// A buyer holding `amount` TOKEN (its account opened through the buyer API), an intent of
    /// it, and a vendor's quote of `price` for that intent: (buyer, buyer account, intent, quote).
    pub async fn setup(&self, amount: i64, price: i64) -> (String, String, String, String) {
        let buyer = self.buyer("Diane Umutesi").await;
        let b = expect(
            self.post(
                &format!("/buyers/{buyer}/wallet-accounts"),
                json!({"asset": "TOKEN"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let account = b["walletAccounts"][0]["accountId"]
            .as_str()
            .unwrap()
            .to_owned();
        self.fund(&account, amount).await;
        let intent = self.intent(&buyer).await;
        let quote = self.vendor.quote(TENANT, &intent, "vendor-1", price);
        (buyer, account, intent, quote)
    }

    async fn wallet_post(&self, path: &str, body: Value) -> Value {
        let res = self
            .wallet
            .req(Method::POST, path, WALLET_ALL)
            .header("idempotency-key", key())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap()
    }

    pub async fn fund(&self, account: &str, amount: i64) {
        let platform = self
            .wallet_post("/wallet/platform/provision", json!({"asset": "TOKEN"}))
            .await;
        if amount > 0 {
            self.wallet_post(
                "/wallet/transfer",
                json!({"sourceAccountId": platform["id"], "destinationAccountId": account,
                       "amountMinor": amount, "asset": "TOKEN"}),
            )
            .await;
        }
    }

    /// The vendor's TOKEN account (the wallet answers the one the saga opened).
    pub async fn vendor_account(&self, vendor: &str) -> String {
        let a = self
            .wallet
            .req(Method::POST, "/wallet/accounts", WALLET_ALL)
            .json(&json!({"ownerType": "vendor", "ownerId": vendor, "asset": "TOKEN"}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        a["id"].as_str().unwrap().to_owned()
    }

    /// (posted, pending debits, available) of a wallet account.
    pub async fn balances(&self, account: &str) -> (i64, i64, i64) {
        let res = self
            .wallet
            .req(
                Method::GET,
                &format!("/wallet/accounts/{account}"),
                WALLET_ALL,
            )
            .send()
            .await
            .unwrap();
        let a = expect(res, StatusCode::OK).await["account"].clone();
        (
            a["postedMinor"].as_i64().unwrap(),
            a["pendingDebitsMinor"].as_i64().unwrap(),
            a["availableMinor"].as_i64().unwrap(),
        )
    }

    /// Buys `quote` (a fresh idempotency key); asserts 201 and returns the purchase id.
    pub async fn purchase(&self, quote: &str) -> String {
        let p = expect(
            self.post_key("/purchases", json!({"quoteId": quote}), &key())
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(p["status"], "pending");
        p["id"].as_str().unwrap().to_owned()
    }

    /// Waits until the purchase reaches `status`; returns it.
    pub async fn wait_purchase(&self, id: &str, status: &str) -> Value {
        let path = format!("/purchases/{id}");
        testkit::eventually(Duration::from_secs(20), || async {
            let p = self.get(&path).await;
            (p["status"] == status).then_some(p)
        })
        .await
    }

    pub async fn confirm(&self, id: &str, actor: &str) -> Value {
        expect(
            self.post(&format!("/purchases/{id}/confirm"), json!({"actor": actor}))
                .await,
            StatusCode::OK,
        )
        .await
    }
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

/// Events of `kinds` the app publishes, collected from its bus.
pub fn record_events(app: &TestApp, kinds: &[&str]) -> Arc<Mutex<Vec<bus::Envelope>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let handler = bus::handler(move |e: bus::Envelope| {
        let sink = Arc::clone(&sink);
        async move {
            sink.lock().unwrap().push(e);
            Ok(())
        }
    });
    let group = format!("test-{}", ulid::Ulid::generate());
    let _task = app.bus.subscribe(
        bus::Subscription::new(group, kinds),
        handler,
        tokio_util::sync::CancellationToken::new(),
    );
    seen
}

/// Waits until `n` recorded events of `kind` were seen; returns them.
pub async fn wait_events(
    seen: &Arc<Mutex<Vec<bus::Envelope>>>,
    kind: &str,
    n: usize,
) -> Vec<bus::Envelope> {
    testkit::eventually(Duration::from_secs(10), || async {
        let got: Vec<_> = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.kind == kind)
            .cloned()
            .collect();
        (got.len() >= n).then_some(got)
    })
    .await
}

/// A proxy in front of the wallet that forwards every request and, while `lose` is above zero,
/// answers a `POST /wallet/transfer` with 503 after the wallet has handled it (a crash or a
/// network cut between the wallet's effect and the buyer recording it).
async fn lossy_proxy(target: String, lose: Arc<AtomicU32>) -> String {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::response::IntoResponse;

    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |req: Request| {
        let (client, target, lose) = (client.clone(), target.clone(), Arc::clone(&lose));
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let path = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let mut out = client
                .request(parts.method.clone(), format!("{target}{path}"))
                .body(bytes.to_vec());
            for (k, v) in &parts.headers {
                if k != "host" && k != "content-length" {
                    out = out.header(k, v);
                }
            }
            let res = out.send().await.unwrap();
            let status = res.status();
            let body = res.bytes().await.unwrap();
            let transfer = parts.method == reqwest::Method::POST && path == "/wallet/transfer";
            if transfer
                && lose
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
            {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            (
                status,
                [("content-type", "application/json")],
                Body::from(body),
            )
                .into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}
