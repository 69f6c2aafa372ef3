//! The marketplace in one process (wallet, profile, ranking, vendor, buyer on one bus) and the
//! calls the broker loop makes, each over HTTP with a service token.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode as AxumStatus;
use axum::response::{IntoResponse, Response as AxumResponse};
use e2e::{Cluster, eventually};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

pub const REGION: &str = "kigali";
pub const CATEGORY: &str = "moto";
/// How long an asynchronous effect (event relay, saga job) may take.
pub const WAIT: Duration = Duration::from_secs(30);

const WALLET_ALL: &[&str] = &[
    "wallet:transfer.write",
    "wallet:accounts.read",
    "wallet:accounts.write",
    "wallet:admin",
];
const BUYER: &[&str] = &["buyer:read", "buyer:write"];
const VENDOR: &[&str] = &["vendor:read", "vendor:write", "vendor:quote.write"];

/// The five services; `gate` sits between the buyer and the vendor when asked for.
pub struct World {
    pub c: Cluster,
    pub gate: Option<Gate>,
}

impl World {
    pub async fn new() -> Self {
        Self::start(false).await
    }

    /// With the buyer calling the vendor through a [`Gate`] that can refuse acceptances.
    pub async fn gated() -> Self {
        Self::start(true).await
    }

    async fn start(gated: bool) -> Self {
        let mut c = Cluster::new();
        c.add::<wallet::Wallet>(&[("WALLET_PENDING_SWEEP_MS", "200")], &[])
            .await;
        c.add::<profile::Profile>(&[], &[]).await;
        c.add::<ranking::Ranking>(&[], &[]).await;
        c.add::<vendor::Vendor>(
            &[("VENDOR_QUOTE_SWEEP_MS", "200")],
            &[("VENDOR_WALLET_URL", "wallet")],
        )
        .await;
        let saga = [("BUYER_SAGA_RETRY_BASE_MS", "50")];
        let gate = if gated {
            let gate = Gate::start(c.url("vendor", "")).await;
            let mut vars = saga.to_vec();
            vars.push(("BUYER_VENDOR_URL", gate.url.as_str()));
            c.add::<buyer::Buyer>(&vars, &[("BUYER_WALLET_URL", "wallet")])
                .await;
            Some(gate)
        } else {
            c.add::<buyer::Buyer>(
                &saga,
                &[
                    ("BUYER_WALLET_URL", "wallet"),
                    ("BUYER_VENDOR_URL", "vendor"),
                ],
            )
            .await;
            None
        };
        Self { c, gate }
    }

    // ---- raw calls ----

    pub async fn call(
        &self,
        service: &str,
        scopes: &[&str],
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Response {
        let mut req = self.c.req(service, method, path, scopes);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    pub async fn buyer_post(&self, path: &str, body: Value) -> Response {
        self.call("buyer", BUYER, Method::POST, path, Some(body), None)
            .await
    }

    pub async fn buyer_get(&self, path: &str) -> Value {
        let res = self
            .call("buyer", BUYER, Method::GET, path, None, None)
            .await;
        expect(res, StatusCode::OK).await
    }

    pub async fn vendor_post(&self, path: &str, body: Value) -> Response {
        self.call("vendor", VENDOR, Method::POST, path, Some(body), None)
            .await
    }

    pub async fn vendor_get(&self, path: &str) -> Value {
        let res = self
            .call("vendor", VENDOR, Method::GET, path, None, None)
            .await;
        expect(res, StatusCode::OK).await
    }

    async fn wallet_post(&self, path: &str, body: Value) -> Value {
        let res = self
            .call(
                "wallet",
                WALLET_ALL,
                Method::POST,
                path,
                Some(body),
                Some(&key()),
            )
            .await;
        let status = res.status();
        assert!(status.is_success(), "{path}: {status}");
        res.json().await.unwrap()
    }

    // ---- the loop's steps ----

    /// A profile, the buyer linked to it, its TOKEN account opened through the buyer API and
    /// funded with `amount` from the tenant's issuance account: (buyer, wallet account).
    pub async fn buyer(&self, name: &str, amount: i64) -> (String, String) {
        let phone = format!("+25078{:07}", rand_digits());
        let res = self
            .call(
                "profile",
                &["profile:write"],
                Method::POST,
                "/api/v1/profiles",
                Some(json!({"whatsappE164": phone, "name": name})),
                None,
            )
            .await;
        let profile = expect(res, StatusCode::CREATED).await;
        let b = expect(
            self.buyer_post(
                "/buyers",
                json!({"name": name, "profileUserId": profile["id"], "whatsappE164": phone}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let buyer = b["id"].as_str().unwrap().to_owned();
        let b = expect(
            self.buyer_post(
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
        (buyer, account)
    }

    /// Issues `amount` TOKEN to `account` from the tenant's issuance account (provisioned here).
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

    /// A vendor in the region and category, once its wallet account is open: (vendor, account).
    pub async fn vendor(&self, name: &str) -> (String, String) {
        let v = expect(
            self.vendor_post(
                "/vendors",
                json!({"name": name, "region": REGION, "categories": [CATEGORY], "rating": 4.5}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let id = v["id"].as_str().unwrap().to_owned();
        let path = format!("/vendors/{id}");
        let account = eventually(WAIT, || async {
            let v = self.vendor_get(&path).await;
            v["walletAccountId"].as_str().map(str::to_owned)
        })
        .await;
        (id, account)
    }

    /// `POST /intents` (the broker's route); `expires_at` RFC 3339 or the buyer's TTL.
    pub async fn intent(&self, buyer: &str, expires_at: Option<&str>) -> String {
        let mut body = json!({
            "buyerId": buyer,
            "channel": "whatsapp",
            "payload": {"region": REGION, "categories": [CATEGORY], "text": "moto to Kimironko"},
        });
        if let Some(at) = expires_at {
            body["expiresAt"] = json!(at);
        }
        let i = expect(self.buyer_post("/intents", body).await, StatusCode::CREATED).await;
        assert_eq!(i["status"], "pending");
        i["id"].as_str().unwrap().to_owned()
    }

    /// The vendor quotes `intent`, once the vendor has learned it from `buyer.intent.created`.
    pub async fn quote(&self, vendor: &str, intent: &str, amount: i64) -> String {
        let path = format!("/vendors/{vendor}/quotes");
        let body = json!({"intentId": intent, "amountMinor": amount, "currency": "TOKEN", "etaMinutes": 10});
        eventually(WAIT, || async {
            let res = self.vendor_post(&path, body.clone()).await;
            if res.status() == StatusCode::UNPROCESSABLE_ENTITY {
                let p: Value = res.json().await.unwrap();
                assert_eq!(p["code"], "vendor.intent_unknown", "{p}");
                return None;
            }
            let q = expect(res, StatusCode::CREATED).await;
            assert_eq!(q["status"], "pending");
            Some(q["id"].as_str().unwrap().to_owned())
        })
        .await
    }

    /// `POST /purchases` with `key`.
    pub async fn purchase_raw(&self, quote: &str, key: &str) -> Response {
        self.call(
            "buyer",
            BUYER,
            Method::POST,
            "/purchases",
            Some(json!({"quoteId": quote})),
            Some(key),
        )
        .await
    }

    /// Buys `quote`: 201 `pending`; returns the purchase id.
    pub async fn purchase(&self, quote: &str) -> String {
        let p = expect(self.purchase_raw(quote, &key()).await, StatusCode::CREATED).await;
        assert_eq!(p["status"], "pending");
        p["id"].as_str().unwrap().to_owned()
    }

    /// Waits until the purchase reaches `status`; returns it.
    pub async fn wait_purchase(&self, id: &str, status: &str) -> Value {
        let path = format!("/purchases/{id}");
        eventually(WAIT, || async {
            let p = self.buyer_get(&path).await;
            (p["status"] == status).then_some(p)
        })
        .await
    }

    /// Waits until the vendor shows the quote in `status`; returns it.
    pub async fn wait_quote(&self, id: &str, status: &str) -> Value {
        let path = format!("/quotes/{id}");
        eventually(WAIT, || async {
            let q = self.vendor_get(&path).await;
            (q["status"] == status).then_some(q)
        })
        .await
    }

    pub async fn confirm(&self, id: &str, actor: &str) -> Value {
        expect(
            self.buyer_post(&format!("/purchases/{id}/confirm"), json!({"actor": actor}))
                .await,
            StatusCode::OK,
        )
        .await
    }

    /// (posted, pending debits, available) of a wallet account.
    pub async fn balances(&self, account: &str) -> (i64, i64, i64) {
        let a = self.account(account).await["account"].clone();
        (
            a["postedMinor"].as_i64().unwrap(),
            a["pendingDebitsMinor"].as_i64().unwrap(),
            a["availableMinor"].as_i64().unwrap(),
        )
    }

    /// `GET /wallet/accounts/{id}`: `{account, postings, nextCursor}`.
    pub async fn account(&self, account: &str) -> Value {
        let res = self
            .call(
                "wallet",
                WALLET_ALL,
                Method::GET,
                &format!("/wallet/accounts/{account}?limit=100"),
                None,
                None,
            )
            .await;
        expect(res, StatusCode::OK).await
    }

    /// `GET /ranking/vendors` for the region and category.
    pub async fn ranked(&self) -> Vec<Value> {
        let res = self
            .call(
                "ranking",
                &["ranking:read"],
                Method::GET,
                &format!("/ranking/vendors?region={REGION}&categories={CATEGORY}&limit=100"),
                None,
                None,
            )
            .await;
        expect(res, StatusCode::OK).await["vendors"]
            .as_array()
            .unwrap()
            .clone()
    }
}

impl World {
    /// Waits until `GET /ranking/vendors` ranks every one of `vendors` (learned from
    /// `vendor.created`); returns the list.
    pub async fn wait_ranked(&self, vendors: &[&str]) -> Vec<Value> {
        eventually(WAIT, || async {
            let all = self.ranked().await;
            vendors
                .iter()
                .all(|v| {
                    all.iter()
                        .any(|r| r["id"] == json!(v) && r["vendorId"] == json!(v))
                })
                .then_some(all)
        })
        .await
    }
}

pub fn key() -> String {
    format!("e2e-{}", ulid::Ulid::generate())
}

fn rand_digits() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1_234_567);
    NEXT.fetch_add(1, Ordering::Relaxed) % 10_000_000
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

/// The problem `code` of a refusal with `status`.
pub async fn refused(res: Response, status: StatusCode) -> String {
    expect(res, status).await["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An HTTP pass-through to the vendor that, while closed, answers `POST /quotes/{id}/accept`
/// with 503 (the vendor unreachable for the saga's acceptance step only; its other calls, like
/// the purchase's check of the quote, go through).
pub struct Gate {
    pub url: String,
    closed: Arc<AtomicBool>,
    refused: Arc<AtomicU32>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct GateState {
    upstream: String,
    client: reqwest::Client,
    closed: Arc<AtomicBool>,
    refused: Arc<AtomicU32>,
}

impl Gate {
    async fn start(upstream: String) -> Self {
        let closed = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicU32::new(0));
        let state = GateState {
            upstream,
            client: reqwest::Client::new(),
            closed: Arc::clone(&closed),
            refused: Arc::clone(&refused),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            closed,
            refused,
            _server: server,
        }
    }

    /// Acceptances refused so far.
    pub fn refused(&self) -> u32 {
        self.refused.load(Ordering::SeqCst)
    }

    /// Closed: acceptances fail with 503 until opened again.
    pub fn close(&self, closed: bool) {
        self.closed.store(closed, Ordering::SeqCst);
    }
}

async fn forward(State(s): State<GateState>, req: Request) -> AxumResponse {
    let (parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    if s.closed.load(Ordering::SeqCst) && path.ends_with("/accept") {
        s.refused.fetch_add(1, Ordering::SeqCst);
        return (AxumStatus::SERVICE_UNAVAILABLE, "gate closed").into_response();
    }
    let body: Bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut out = s
        .client
        .request(parts.method, format!("{}{path}", s.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if name != axum::http::header::HOST && name != axum::http::header::CONTENT_LENGTH {
            out = out.header(name, value);
        }
    }
    match out.send().await {
        Ok(res) => {
            let status = res.status();
            let headers = res.headers().clone();
            let bytes = res.bytes().await.unwrap_or_default();
            let mut answer = (status, bytes).into_response();
            for (name, value) in &headers {
                if name != axum::http::header::CONTENT_LENGTH
                    && name != axum::http::header::TRANSFER_ENCODING
                {
                    answer.headers_mut().insert(name, value.clone());
                }
            }
            answer
        }
        Err(e) => (AxumStatus::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
