//! `POST /v1/messages` against a fake Graph API (wiremock): queued, then sent by the worker and
//! stored with its `wamid`, idempotent, refused for opted-out contacts and outside the 24 h
//! window, advanced by status callbacks.

use std::time::Duration;

use chrono::Utc;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use whatsapp_webhook_worker::WhatsappWebhookWorker as Worker;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

pub(crate) const SEND: &str = "whatsapp:send";
pub(crate) const ALINE: &str = "250781234567";
const TOKEN: &str = "graph-token-for-tests";

pub(crate) async fn app_sending(graph: &MockServer) -> TestApp {
    app_sending_with(graph, &[]).await
}

pub(crate) async fn app_sending_with(graph: &MockServer, extra: &[(&str, &str)]) -> TestApp {
    let uri = graph.uri();
    let mut vars: Vec<(&str, &str)> = base_env();
    vars.push(("WHATSAPP_WEBHOOK_WORKER_GRAPH_URL", &uri));
    vars.push(("WHATSAPP_WEBHOOK_WORKER_ACCESS_TOKEN", TOKEN));
    vars.extend_from_slice(extra);
    TestApp::spawn_with::<Worker>(&vars).await
}

/// Meta accepting a message from the mapped number whose body contains `body`, with `wamid`.
pub(crate) fn meta_accepts(wamid: &str, body: Value) -> Mock {
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{MAPPED}/messages")))
        .and(body_partial_json(body))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": ALINE, "wa_id": ALINE}],
            "messages": [{"id": wamid}]
        })))
}

/// Aline writes now: the service window is open.
pub(crate) async fn aline_writes(app: &TestApp, wamid: &str, body: &str) {
    let mut m = text(wamid, ALINE, body);
    m["timestamp"] = json!(Utc::now().timestamp().to_string());
    deliver(app, &delivery(MAPPED, vec![m], vec![])).await;
}

pub(crate) fn a_text(body: &str) -> Value {
    json!({"tenantId": "tenant-a", "to": {"phone": ALINE},
           "message": {"type": "text", "body": body}})
}

pub(crate) async fn post(app: &TestApp, body: &Value, key: Option<&str>) -> Response {
    let mut req = app.req(Method::POST, "/v1/messages", &[SEND]).json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

pub(crate) async fn show(app: &TestApp, id: &str) -> Value {
    let res = app
        .req(Method::GET, &format!("/v1/messages/{id}"), &[SEND])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await
}

/// Waits until the worker recorded the message's outcome; returns the stored message.
pub(crate) async fn settled(app: &TestApp, id: &str) -> Value {
    testkit::eventually(Duration::from_secs(15), || async move {
        let m = show(app, id).await;
        (m["state"] != "queued").then_some(m)
    })
    .await
}

#[tokio::test]
async fn a_text_is_sent_and_stored_with_its_wamid() {
    let graph = MockServer::start().await;
    meta_accepts(
        "wamid.out.1",
        json!({
            "to": ALINE, "type": "text", "text": {"body": "Muraho"},
            "context": {"message_id": "wamid.in.1"}
        }),
    )
    .expect(1)
    .mount(&graph)
    .await;
    let app = app_sending(&graph).await;
    aline_writes(&app, "wamid.in.1", "Muraho, I need a moto").await;
    let mut req = a_text("Muraho");
    req["replyTo"] = json!("wamid.in.1");
    let queued = expect(post(&app, &req, None).await, StatusCode::ACCEPTED).await;
    assert_eq!(queued["state"], "queued");
    assert_eq!(queued["wamid"], Value::Null);
    assert_eq!(queued["to"]["phone"], ALINE);
    assert_eq!(queued["phoneNumberId"], MAPPED);
    let stored = settled(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(stored["state"], "sent");
    assert_eq!(stored["wamid"], "wamid.out.1");
    assert_eq!(stored["kind"], "text");
    assert_eq!(stored["message"]["body"], "Muraho");
    let missing = app
        .req(Method::GET, "/v1/messages/nope", &[SEND])
        .send()
        .await
        .unwrap();
    expect(missing, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn an_idempotent_replay_sends_once() {
    let graph = MockServer::start().await;
    meta_accepts("wamid.out.2", json!({}))
        .expect(1)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    aline_writes(&app, "wamid.in.2", "Muraho, I need a moto").await;
    let key = "send-key-0000000001";
    let first = expect(
        post(&app, &a_text("Once"), Some(key)).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let res = post(&app, &a_text("Once"), Some(key)).await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let again = expect(res, StatusCode::ACCEPTED).await;
    assert_eq!(first, again);
    assert_eq!(
        settled(&app, first["id"].as_str().unwrap()).await["state"],
        "sent"
    );
    assert_eq!(count(&db(&app).await, "wa_outbound_messages").await, 1);
}

#[tokio::test]
async fn an_opted_out_contact_is_refused_and_nothing_is_sent() {
    let graph = MockServer::start().await;
    meta_accepts("wamid.never", json!({}))
        .expect(0)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    let ev = Events::watch(&app);
    aline_writes(&app, "wamid.in.3", "STOP").await;
    ev.of("wamid.in.3").await;
    let p = expect(
        post(&app, &a_text("Hello?"), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.contact_opted_out");
    assert_eq!(count(&db(&app).await, "wa_outbound_messages").await, 0);
}

#[tokio::test]
async fn outside_the_window_a_text_is_refused_but_a_template_goes() {
    let graph = MockServer::start().await;
    meta_accepts("wamid.out.4", json!({"type": "template"}))
        .expect(1)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    // Aline last wrote long ago (the helper's timestamp is in February 2025).
    deliver(
        &app,
        &delivery(MAPPED, vec![text("wamid.in.4", ALINE, "hello")], vec![]),
    )
    .await;
    let p = expect(
        post(&app, &a_text("Late"), None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.outside_service_window");
    let template = json!({"tenantId": "tenant-a", "to": {"phone": ALINE},
        "message": {"type": "template", "name": "order_update", "language": "en_US",
                    "parameters": [{"text": "Aline"}, {"text": "RWF 1,500"}]}});
    let queued = expect(post(&app, &template, None).await, StatusCode::ACCEPTED).await;
    assert_eq!(queued["kind"], "template");
    let sent = settled(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(sent["state"], "sent");
}

#[tokio::test]
async fn status_callbacks_move_the_message_forward_only() {
    let graph = MockServer::start().await;
    meta_accepts("wamid.out.5", json!({}))
        .expect(1)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    aline_writes(&app, "wamid.in.5", "Muraho, I need a moto").await;
    let queued = expect(
        post(&app, &a_text("Track me"), None).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    assert_eq!(settled(&app, id).await["state"], "sent");
    for (state, want) in [
        ("delivered", "delivered"),
        ("read", "read"),
        ("sent", "read"),
    ] {
        let st = status("wamid.out.5", state);
        deliver(&app, &delivery(MAPPED, vec![], vec![st])).await;
        assert_eq!(show(&app, id).await["state"], want, "after {state}");
    }
}

#[tokio::test]
async fn four_buttons_are_refused_and_nothing_is_sent() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    aline_writes(&app, "wamid.in.6", "Muraho, I need a moto").await;
    let buttons: Vec<Value> = (1..=4)
        .map(|i| json!({"id": format!("b{i}"), "title": format!("Option {i}")}))
        .collect();
    let req = json!({"tenantId": "tenant-a", "to": {"phone": ALINE},
        "message": {"type": "buttons", "body": "Pick one", "buttons": buttons}});
    let p = expect(
        post(&app, &req, None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.invalid_message");
    assert_eq!(p["errors"][0]["pointer"], "/message/buttons");
    assert_eq!(count(&db(&app).await, "wa_outbound_messages").await, 0);
}

#[tokio::test]
async fn sending_is_disabled_without_a_token() {
    let app = app().await;
    let p = expect(
        post(&app, &a_text("Hello"), None).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.sending_disabled");
    let r = expect(
        app.anon(Method::GET, "/ready").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["checks"]["whatsapp_sending"]["status"], "degraded");
    let res = app
        .req(Method::POST, "/v1/messages", &[ADMIN])
        .json(&a_text("Hello"))
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_callback_that_beats_the_send_answer_still_counts() {
    let graph = MockServer::start().await;
    meta_accepts("wamid.out.7", json!({}))
        .expect(1)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    aline_writes(&app, "wamid.in.7", "Muraho, I need a moto").await;
    let early = status("wamid.out.7", "delivered");
    deliver(&app, &delivery(MAPPED, vec![], vec![early])).await;
    let queued = expect(
        post(&app, &a_text("Quick"), None).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let sent = settled(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(sent["wamid"], "wamid.out.7");
    assert_eq!(sent["state"], "delivered");
}

#[tokio::test]
async fn a_greeting_is_answered_with_the_home_menu_once() {
    let graph = MockServer::start().await;
    meta_accepts(
        "wamid.menu.1",
        json!({
            "to": ALINE, "type": "interactive",
            "interactive": {"type": "list", "action": {"button": "View Services"}}
        }),
    )
    .expect(1)
    .mount(&graph)
    .await;
    let app = app_sending(&graph).await;
    aline_writes(&app, "wamid.hi.1", "Hi").await;
    // Meta redelivers the greeting: stored once, answered once.
    aline_writes(&app, "wamid.hi.1", "Hi").await;
    let sent = testkit::eventually(Duration::from_secs(15), || async {
        let got = graph.received_requests().await.unwrap_or_default();
        (!got.is_empty()).then_some(got)
    })
    .await;
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    let rows = &body["interactive"]["action"]["sections"][0]["rows"];
    assert_eq!(rows[0]["id"], "rides");
    assert_eq!(rows.as_array().unwrap().len(), 7);
    // One stored outbound message, sent.
    let db = db(&app).await;
    testkit::eventually(Duration::from_secs(10), || async {
        (count(&db, "wa_outbound_messages").await == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_opted_out_contact_gets_no_home_menu() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    aline_writes(&app, "wamid.stop.1", "STOP").await;
    aline_writes(&app, "wamid.hi.2", "menu").await;
    let db = db(&app).await;
    testkit::eventually(Duration::from_secs(10), || async {
        (count(&db, "wa_inbound_messages WHERE processed_at IS NOT NULL").await == 2).then_some(())
    })
    .await;
    assert_eq!(count(&db, "wa_outbound_messages").await, 0);
}
