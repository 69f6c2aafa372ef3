use std::sync::{Arc, Mutex};
use std::time::Duration;

use platform::{CommonConfig, Service};
use reqwest::{Method, Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use store::{Db, on};
pub use testkit::TestApp;
use tokio_util::sync::CancellationToken;
use whatsapp_webhook_worker::WhatsappWebhookWorker as Worker;

pub const SECRET: &str = "meta-app-secret-for-tests";
pub const VERIFY: &str = "verify-token-for-tests";
pub const ADMIN: &str = "whatsapp:admin";
/// A business number mapped to `tenant-a`.
pub const MAPPED: &str = "106540352242922";
/// A business number in no mapping.
pub const UNMAPPED: &str = "999000111222333";

pub fn base_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN", VERIFY),
        ("WHATSAPP_WEBHOOK_WORKER_APP_SECRET", SECRET),
        (
            "WHATSAPP_WEBHOOK_WORKER_TENANTS",
            "106540352242922=tenant-a",
        ),
    ]
}

pub async fn app() -> TestApp {
    app_with(&[]).await
}

pub async fn app_with(extra: &[(&'static str, &'static str)]) -> TestApp {
    let mut vars = base_env();
    vars.extend_from_slice(extra);
    TestApp::spawn_with::<Worker>(&vars).await
}

pub fn sign_with(secret: &str, body: &[u8]) -> String {
    whatsapp::AppSecret::new(&SecretString::from(secret.to_owned()))
        .unwrap()
        .sign(body)
}

pub fn sign(body: &[u8]) -> String {
    sign_with(SECRET, body)
}

/// POSTs `body` to `/webhook` with `signature` (none when `None`).
pub async fn post_raw(app: &TestApp, body: Vec<u8>, signature: Option<&str>) -> Response {
    let mut req = app
        .anon(Method::POST, "/webhook")
        .header("content-type", "application/json");
    if let Some(s) = signature {
        req = req.header("x-hub-signature-256", s);
    }
    req.body(body).send().await.unwrap()
}

/// POSTs a correctly signed delivery; asserts 200.
pub async fn deliver(app: &TestApp, body: &Value) {
    let raw = serde_json::to_vec(body).unwrap();
    let sig = sign(&raw);
    let res = post_raw(app, raw, Some(&sig)).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
}

/// A delivery to business number `pnid` with `messages` and `statuses`.
pub fn delivery(pnid: &str, messages: Vec<Value>, statuses: Vec<Value>) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": pnid},
                    "contacts": [{"profile": {"name": "Aline Uwase"}, "wa_id": "250781234567"}],
                    "messages": messages,
                    "statuses": statuses
                }
            }]
        }]
    })
}

pub fn text(wamid: &str, from: &str, body: &str) -> Value {
    json!({"from": from, "id": wamid, "timestamp": "1739321024", "type": "text",
           "text": {"body": body}})
}

pub fn list_reply(wamid: &str, from: &str, id: &str, title: &str) -> Value {
    json!({"from": from, "id": wamid, "timestamp": "1739321024", "type": "interactive",
           "interactive": {"type": "list_reply", "list_reply": {"id": id, "title": title}}})
}

pub fn image(wamid: &str, from: &str) -> Value {
    json!({"from": from, "id": wamid, "timestamp": "1739321024", "type": "image",
           "image": {"id": "media-1", "mime_type": "image/jpeg"}})
}

pub fn status(wamid: &str, state: &str) -> Value {
    json!({"id": wamid, "status": state, "timestamp": "1739321300", "recipient_id": "250781234567"})
}

/// The app's own database, to look at what it stored.
pub async fn db(app: &TestApp) -> Db {
    let mut env = app.env.clone();
    let common = CommonConfig::load(&mut env, Worker::NAME, Worker::DEFAULT_PORT, true);
    Db::connect(&common).await.unwrap()
}

/// Rows of `table` (a literal table name).
pub async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let mut conn = db.conn().await.unwrap();
    let (n,): (i64,) = on!(conn.exec(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .fetch_one(c)
    .await
    .unwrap());
    n
}

/// Asserts nothing at all was stored.
pub async fn assert_nothing_stored(app: &TestApp) {
    let db = db(app).await;
    for t in [
        "wa_inbound_messages",
        "wa_statuses",
        "kit_jobs",
        "kit_outbox",
    ] {
        assert_eq!(count(&db, t).await, 0, "{t} must stay empty");
    }
}

/// Every event this service publishes, as the bus delivers them.
#[derive(Clone)]
pub struct Events {
    seen: Arc<Mutex<Vec<contracts::Envelope>>>,
    _stop: Arc<CancellationTokenGuard>,
}

struct CancellationTokenGuard(CancellationToken);

impl Drop for CancellationTokenGuard {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Events {
    pub fn watch(app: &TestApp) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let stop = CancellationToken::new();
        app.bus.subscribe(
            bus::Subscription::new(
                "test",
                &[
                    contracts::whatsapp::MESSAGE_ROUTED,
                    contracts::whatsapp::CONTACT_OPTED_OUT,
                ],
            ),
            bus::handler(move |e| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push(e);
                    Ok(())
                }
            }),
            stop.clone(),
        );
        Self {
            seen,
            _stop: Arc::new(CancellationTokenGuard(stop)),
        }
    }

    pub fn all(&self) -> Vec<contracts::Envelope> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits for at least `n` events; returns them all.
    pub async fn wait(&self, n: usize) -> Vec<contracts::Envelope> {
        testkit::eventually(Duration::from_secs(15), || {
            let all = self.all();
            async move { (all.len() >= n).then_some(all) }
        })
        .await
    }

    /// Waits for the event about `wamid`.
    pub async fn of(&self, wamid: &str) -> contracts::Envelope {
        testkit::eventually(Duration::from_secs(15), || {
            let found = self.all().into_iter().find(|e| e.data["wamid"] == wamid);
            async move { found }
        })
        .await
    }
}

/// Asserts the status and returns the JSON body (errors must be problem+json).
pub async fn expect(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    if got.is_client_error() || got.is_server_error() {
        assert_eq!(ct, "application/problem+json", "errors are problem+json");
    }
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// `GET /v1/admin/queue`.
pub async fn queue(app: &TestApp) -> Value {
    let res = app
        .req(Method::GET, "/v1/admin/queue", &[ADMIN])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await
}

pub async fn metrics(app: &TestApp) -> String {
    app.anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
