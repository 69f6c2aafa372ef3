//! The quote conversation end to end over HTTP: the real whatsapp-webhook-worker (signed
//! webhooks in, `POST /v1/messages` and `GET /v1/media/{id}` out) in front of a fake Graph API,
//! a fake vision model, and this service; the worker's routed events are carried to this
//! service's bus by a bridge subscription (each `TestApp` owns its in-process bus).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use contracts::Envelope;
use platform::{CommonConfig, Service};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use store::{Db, on};
use tokio_util::sync::CancellationToken;
use whatsapp_pricing::WhatsappPricing;
use whatsapp_webhook_worker::WhatsappWebhookWorker as Worker;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{TestApp, expect};

const SECRET: &str = "meta-app-secret-for-tests";
const GRAPH_TOKEN: &str = "graph-token-for-tests";
const PNID: &str = "106540352242922";
const ALINE: &str = "250781234567";
const MEDIA: &str = "1234567890";
const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4];

/// Meta accepting every message, each with a new wamid.
struct Accept(AtomicUsize);

impl Respond for Accept {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": ALINE, "wa_id": ALINE}],
            "messages": [{"id": format!("wamid.out.{n}")}]
        }))
    }
}

fn completion(doc: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1", "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": doc.to_string()}}]
    }))
}

struct World {
    graph: MockServer,
    vision: MockServer,
    worker: TestApp,
    pricing: TestApp,
    forwarded: Arc<Mutex<Vec<Envelope>>>,
    _bridge: Bridge,
}

/// Stops the bridge subscription with the test.
struct Bridge(CancellationToken);

impl Drop for Bridge {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

async fn world(doc: Value, ocr: bool) -> World {
    world_with(completion(&doc), ocr, &[]).await
}

async fn world_with(model: ResponseTemplate, ocr: bool, extra: &[(&str, &str)]) -> World {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PNID}/messages")))
        .respond_with(Accept(AtomicUsize::new(0)))
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v23.0/{MEDIA}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": MEDIA, "url": format!("{}/cdn/{MEDIA}", graph.uri()),
            "mime_type": "image/jpeg", "file_size": JPEG.len(), "sha256": "abc"
        })))
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/cdn/{MEDIA}")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(JPEG))
        .mount(&graph)
        .await;
    let vision = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(model)
        .mount(&vision)
        .await;
    let graph_uri = graph.uri();
    let worker = TestApp::spawn_with::<Worker>(&[
        (
            "WHATSAPP_WEBHOOK_WORKER_VERIFY_TOKEN",
            "verify-token-for-tests",
        ),
        ("WHATSAPP_WEBHOOK_WORKER_APP_SECRET", SECRET),
        (
            "WHATSAPP_WEBHOOK_WORKER_TENANTS",
            "106540352242922=tenant-a",
        ),
        ("WHATSAPP_WEBHOOK_WORKER_GRAPH_URL", &graph_uri),
        ("WHATSAPP_WEBHOOK_WORKER_ACCESS_TOKEN", GRAPH_TOKEN),
        ("WHATSAPP_WEBHOOK_WORKER_SENDER_RATE_PER_MINUTE", "0"),
    ])
    .await;
    let worker_url = worker.url("");
    let vision_uri = vision.uri();
    let mut vars = vec![
        ("WHATSAPP_PRICING_WORKER_URL", worker_url.as_str()),
        ("WHATSAPP_PRICING_OCR_BASE_URL", vision_uri.as_str()),
    ];
    if ocr {
        vars.push(("WHATSAPP_PRICING_OCR_API_KEY", "sk-test-vision-key"));
    }
    vars.extend_from_slice(extra);
    let pricing = TestApp::spawn_with::<WhatsappPricing>(&vars).await;
    // The bridge: what the worker publishes reaches this service's bus (and is kept, to
    // deliver a duplicate later).
    let forwarded = Arc::new(Mutex::new(Vec::new()));
    let stop_bridge = CancellationToken::new();
    let (to, seen) = (pricing.bus.clone(), forwarded.clone());
    worker.bus.subscribe(
        bus::Subscription::new("bridge", &[contracts::whatsapp::MESSAGE_ROUTED]),
        bus::handler(move |e: Envelope| {
            let (to, seen) = (to.clone(), seen.clone());
            async move {
                seen.lock().unwrap().push(e.clone());
                to.publish(&e).await?;
                Ok(())
            }
        }),
        stop_bridge.clone(),
    );
    World {
        graph,
        vision,
        worker,
        pricing,
        forwarded,
        _bridge: Bridge(stop_bridge),
    }
}

fn sign(body: &[u8]) -> String {
    whatsapp::AppSecret::new(&SecretString::from(SECRET.to_owned()))
        .unwrap()
        .sign(body)
}

/// Aline's message reaches the worker as a signed webhook.
async fn aline(w: &World, mut message: Value) {
    message["from"] = json!(ALINE);
    message["timestamp"] = json!(Utc::now().timestamp().to_string());
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PNID},
            "contacts": [{"profile": {"name": "Aline Uwase"}, "wa_id": ALINE}],
            "messages": [message]
        }}]}]
    });
    let raw = serde_json::to_vec(&body).unwrap();
    let res = w
        .worker
        .anon(Method::POST, "/webhook")
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(&raw))
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

fn wamid() -> String {
    format!("wamid.in.{}", ulid::Ulid::generate())
}

fn text(body: &str) -> Value {
    json!({"id": wamid(), "type": "text", "text": {"body": body}})
}

fn image() -> Value {
    json!({"id": wamid(), "type": "image", "image": {"id": MEDIA, "mime_type": "image/jpeg"}})
}

fn tap(kind: &str, id: &str) -> Value {
    json!({"id": wamid(), "type": "interactive",
           "interactive": {"type": kind, kind: {"id": id, "title": id}}})
}

/// What Meta was asked to send, in order.
async fn sent(w: &World) -> Vec<Value> {
    w.graph
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/messages"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// The text a sent message shows.
fn shown(m: &Value) -> String {
    m["text"]["body"]
        .as_str()
        .or_else(|| m["interactive"]["body"]["text"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Waits until Meta got `n` messages in all; returns the new ones since `from`.
async fn wait_sent(w: &World, from: usize, n: usize) -> Vec<Value> {
    testkit::eventually(Duration::from_secs(20), || async {
        let all = sent(w).await;
        (all.len() >= n).then(|| all[from..].to_vec())
    })
    .await
}

async fn pricing_db(app: &TestApp) -> Db {
    let mut env = app.env.clone();
    let common = CommonConfig::load(
        &mut env,
        WhatsappPricing::NAME,
        WhatsappPricing::DEFAULT_PORT,
        true,
    );
    Db::connect(&common).await.unwrap()
}

/// Aline's conversation: `(stage, version)`.
async fn conversation(app: &TestApp) -> Option<(String, i64)> {
    let db = pricing_db(app).await;
    let mut conn = db.conn().await.unwrap();
    let row: Option<(String, i64)> = on!(conn.exec(), |c| sqlx::query_as(
        "SELECT stage, version FROM pricing_conversations WHERE contact_id = $1"
    )
    .bind(ALINE)
    .fetch_optional(c)
    .await
    .unwrap());
    drop(conn);
    db.close().await;
    row
}

fn rav4() -> Value {
    json!({"plateNumber": "RAD 123 A", "make": "Toyota", "model": "RAV4", "bodyType": "Jeep",
           "year": 2018, "seats": 5, "usageHint": "PRIVATE"})
}

#[tokio::test]
async fn documents_to_facts_to_quote_to_payment_string_to_paid_across_a_restart() {
    let mut w = world(rav4(), true).await;
    aline(&w, text("insurance")).await;
    let got = wait_sent(&w, 0, 1).await;
    assert!(shown(&got[0]).starts_with("Welcome"), "{got:?}");

    // A document: acknowledged, read by the vision model (through the worker's media API),
    // the facts shown with buttons.
    aline(&w, image()).await;
    let got = wait_sent(&w, 1, 3).await;
    assert_eq!(shown(&got[0]), "Document received. Reading it now...");
    assert_eq!(got[1]["type"], "interactive");
    assert_eq!(got[1]["interactive"]["type"], "button");
    let facts = shown(&got[1]);
    assert!(
        facts.contains("JEEP_SUV") && facts.contains("RAD 123 A"),
        "{facts}"
    );
    let asked = w.vision.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&asked[0].body).unwrap();
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(
        body["messages"][1]["content"][1]["image_url"]["url"],
        "data:image/jpeg;base64,/9j/4AECAwQ="
    );

    aline(&w, tap("button_reply", "confirm")).await;
    let got = wait_sent(&w, 3, 4).await;
    assert!(shown(&got[0]).contains("sum insured"), "{got:?}");
    assert_eq!(
        conversation(&w.pricing).await.map(|c| c.0).as_deref(),
        Some("awaiting_sum_insured")
    );

    // A restart in the middle loses nothing.
    w.pricing = w.pricing.restart::<WhatsappPricing>().await;
    aline(&w, text("call me on 0788123456")).await;
    let got = wait_sent(&w, 4, 5).await;
    assert!(
        shown(&got[0]).contains("sum insured"),
        "a phone number is not a value: {got:?}"
    );
    aline(&w, text("20,000,000")).await;
    let got = wait_sent(&w, 5, 7).await;
    assert_eq!(shown(&got[0]), "Sum Insured noted: RWF 20,000,000.");
    let buttons = got[1]["interactive"]["action"]["buttons"]
        .as_array()
        .unwrap();
    assert!(buttons.len() <= 3);
    assert_eq!(conversation(&w.pricing).await.unwrap().0, "ready");

    aline(&w, tap("button_reply", "quote")).await;
    let got = wait_sent(&w, 7, 9).await;
    let comparison = shown(&got[0]);
    assert!(
        comparison.starts_with("*BK Insurance* — Total: *RWF "),
        "{comparison}"
    );
    assert!(comparison.contains("_Mandatory excess_: 5% MD, 2.5% Theft/Fire"));
    assert_eq!(comparison.matches("\n\n").count(), 3, "four blocks");
    assert_eq!(got[1]["interactive"]["type"], "list");
    let rows = got[1]["interactive"]["action"]["sections"][0]["rows"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!rows.is_empty() && rows.len() <= 10);
    let bk = rows.iter().find(|r| r["id"] == "insurer:bk").unwrap();

    aline(&w, tap("list_reply", "insurer:bk")).await;
    let got = wait_sent(&w, 9, 10).await;
    let pay = shown(&got[0]);
    assert!(pay.contains("dial *182*8*1*000123*"), "{pay}");
    assert!(pay.contains("%23"), "{pay}");
    let description = bk["description"].as_str().unwrap();
    let amount: i64 = description
        .trim_start_matches("Total RWF ")
        .replace(',', "")
        .parse()
        .unwrap();
    let reference = pay
        .split("Reference: ")
        .nth(1)
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_owned();
    assert!(pay.contains(&format!("*{amount}*{reference}#")), "{pay}");
    let (stage, version) = conversation(&w.pricing).await.unwrap();
    assert_eq!(stage, "awaiting_payment");

    // A duplicate event changes nothing.
    let last = w.forwarded.lock().unwrap().last().cloned().unwrap();
    w.pricing.bus.publish(&last).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sent(&w).await.len(), 10, "no second payment string");
    assert_eq!(
        conversation(&w.pricing).await,
        Some((stage, version)),
        "no write"
    );

    // The collection arrives: paid, once, and Aline is told.
    let paid = contracts::payments::CollectionSucceeded {
        tenant_id: "tenant-a".into(),
        reference: reference.clone(),
        amount,
        currency: "RWF".into(),
        payer: Some(ALINE.into()),
        merchant_code: Some("000123".into()),
        provider: "mtn_momo".into(),
        provider_transaction_id: "momo-tx-1".into(),
        collected_at: Utc::now(),
    };
    let event = Envelope::new(
        contracts::payments::COLLECTION_SUCCEEDED,
        "payments",
        "tenant-a",
        &paid,
    )
    .unwrap();
    w.pricing.bus.publish(&event).await.unwrap();
    let got = wait_sent(&w, 10, 11).await;
    assert!(shown(&got[0]).starts_with("Payment received"), "{got:?}");
    assert_eq!(conversation(&w.pricing).await.unwrap().0, "paid");
    w.pricing.bus.publish(&event).await.unwrap();
    let again = Envelope::new(
        contracts::payments::COLLECTION_SUCCEEDED,
        "payments",
        "tenant-a",
        &paid,
    )
    .unwrap();
    w.pricing.bus.publish(&again).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(sent(&w).await.len(), 11, "confirmed once");

    let metrics = w
        .pricing
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("whatsapp_pricing_ocr_duration_seconds"),
        "{metrics}"
    );
    assert!(metrics.contains("whatsapp_pricing_payments_total"));
}

#[tokio::test]
async fn an_unreadable_document_asks_for_typed_facts() {
    let w = world(json!({"plateNumber": 42, "colour": "red"}), true).await;
    aline(&w, text("insurance")).await;
    wait_sent(&w, 0, 1).await;
    aline(&w, image()).await;
    let got = wait_sent(&w, 1, 3).await;
    assert!(shown(&got[1]).contains("could not read"), "{got:?}");
    aline(&w, text("minibus taxi 2015 14 seats")).await;
    let got = wait_sent(&w, 3, 4).await;
    assert!(shown(&got[0]).contains("MINIBUS_VAN"), "{got:?}");
    assert_eq!(conversation(&w.pricing).await.unwrap().0, "confirm_facts");
}

#[tokio::test]
async fn without_a_model_key_the_service_is_ready_degraded_and_asks_for_typed_facts() {
    let w = world(rav4(), false).await;
    let ready = expect(
        w.pricing.anon(Method::GET, "/ready").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(ready["checks"]["ocr"]["status"], "degraded", "{ready}");
    aline(&w, text("insurance")).await;
    wait_sent(&w, 0, 1).await;
    aline(&w, image()).await;
    let got = wait_sent(&w, 1, 2).await;
    assert!(shown(&got[0]).contains("cannot read documents"), "{got:?}");
    assert!(w.vision.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn messages_routed_elsewhere_are_not_ours() {
    let w = world(rav4(), true).await;
    aline(&w, text("hello")).await;
    testkit::eventually(Duration::from_secs(10), || async {
        (!w.forwarded.lock().unwrap().is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The worker may answer a greeting itself (home menu); this service says nothing.
    let ours = sent(&w)
        .await
        .iter()
        .filter(|m| shown(m).contains("motor insurance"))
        .count();
    assert_eq!(ours, 0);
    assert_eq!(conversation(&w.pricing).await, None);
}

#[tokio::test]
async fn a_vision_model_outage_ends_in_typed_facts_after_the_attempts() {
    let w = world_with(
        ResponseTemplate::new(503),
        true,
        &[("WHATSAPP_PRICING_OCR_ATTEMPTS", "1")],
    )
    .await;
    aline(&w, text("insurance")).await;
    wait_sent(&w, 0, 1).await;
    aline(&w, image()).await;
    let got = wait_sent(&w, 1, 3).await;
    assert!(shown(&got[1]).contains("could not read"), "{got:?}");
    // The model client retried the 503s before the job gave up.
    assert!(w.vision.received_requests().await.unwrap().len() >= 2);
    let metrics = w
        .pricing
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.lines().any(
            |l| l.starts_with("whatsapp_pricing_ocr_total") && l.contains("outcome=\"status\"")
        ),
        "{metrics}"
    );
}
