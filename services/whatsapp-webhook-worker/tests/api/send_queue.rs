//! The send worker: `POST /v1/messages` only queues; the `whatsapp.outbound` job sends, records
//! Meta's refusal as `failed`, retries what Meta says may pass later, and re-checks the opt-out
//! just before sending.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;
use store::on;
use whatsapp_webhook_worker::{OUTBOUND_QUEUE, WhatsappWebhookWorker as Worker};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::outbound::{
    ALINE, a_text, aline_writes, app_sending, app_sending_with, post, settled, show,
};

#[tokio::test]
async fn a_queued_message_of_a_contact_who_opted_out_since_is_not_sent() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&graph)
        .await;
    // An ingest-only replica stores and queues, and sends nothing.
    let mut app =
        app_sending_with(&graph, &[("WHATSAPP_WEBHOOK_WORKER_PROCESSING", "false")]).await;
    aline_writes(&app, "wamid.q.1", "Muraho, I need a moto").await;
    let queued = expect(
        post(&app, &a_text("Later"), None).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let id = queued["id"].as_str().unwrap().to_owned();
    let db = db(&app).await;
    let st = store::jobs::stats(&db, OUTBOUND_QUEUE).await.unwrap();
    assert_eq!(st.pending, 1, "one send job, committed with the row");
    assert_eq!(show(&app, &id).await["state"], "queued");

    // Aline opts out before the worker gets to the message.
    let mut tx = db.begin().await.unwrap();
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO wa_contacts (tenant_id, contact_id, opted_out_at, updated_at)
         VALUES ('tenant-a', $1, $2, $2)"
    )
    .bind(ALINE)
    .bind(Utc::now())
    .execute(c)
    .await
    .unwrap()
    .rows_affected());
    tx.commit().await.unwrap();

    app.env.set("WHATSAPP_WEBHOOK_WORKER_PROCESSING", "true");
    let app = app.restart::<Worker>().await;
    let m = settled(&app, &id).await;
    assert_eq!(m["state"], "failed");
    assert_eq!(m["error"], "contact_opted_out");
    assert_eq!(m["wamid"], serde_json::Value::Null);
    let st = store::jobs::stats(&db, OUTBOUND_QUEUE).await.unwrap();
    assert_eq!(
        (st.pending, st.dead),
        (0, 0),
        "the job completed with the row"
    );
}

#[tokio::test]
async fn a_message_meta_refuses_is_failed_with_its_error() {
    let graph = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{MAPPED}/messages")))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "(#131026) Message undeliverable", "code": 131_026,
            "fbtrace_id": "trace-1"}})))
        .expect(1)
        .mount(&graph)
        .await;
    let app = app_sending(&graph).await;
    aline_writes(&app, "wamid.q.2", "Muraho, I need a moto").await;
    let queued = expect(post(&app, &a_text("Hi"), None).await, StatusCode::ACCEPTED).await;
    let m = settled(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(m["state"], "failed");
    assert!(m["error"].as_str().unwrap().contains("131026"), "{m}");
    assert_eq!(count(&db(&app).await, "kit_jobs").await, 0);
}

#[tokio::test]
async fn a_retryable_refusal_is_retried_by_the_job_and_then_sent() {
    let graph = MockServer::start().await;
    let busy = json!({"error": {"message": "Service unavailable", "code": 1, "fbtrace_id": "t"}});
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{MAPPED}/messages")))
        .respond_with(ResponseTemplate::new(503).set_body_json(busy))
        .up_to_n_times(4)
        .expect(4)
        .mount(&graph)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{MAPPED}/messages")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messages": [{"id": "wamid.q.3.out"}]})))
        .expect(1)
        .mount(&graph)
        .await;
    // The client tries 4 times per attempt; the job's second attempt succeeds.
    let app = app_sending_with(
        &graph,
        &[("WHATSAPP_WEBHOOK_WORKER_SEND_RETRY_SCHEDULE", "100ms")],
    )
    .await;
    aline_writes(&app, "wamid.q.3", "Muraho, I need a moto").await;
    let queued = expect(
        post(&app, &a_text("Again"), None).await,
        StatusCode::ACCEPTED,
    )
    .await;
    let m = settled(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(m["state"], "sent");
    assert_eq!(m["wamid"], "wamid.q.3.out");
}
