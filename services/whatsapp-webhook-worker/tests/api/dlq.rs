//! A failing job ends in the dead-letter queue; replay processes it once; purge deletes it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whatsapp_webhook_worker::WhatsappWebhookWorker as Worker;

use crate::helpers::*;

async fn dead(app: &TestApp) -> Vec<Value> {
    let res = app
        .req(Method::GET, "/v1/admin/dlq", &[ADMIN])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::OK).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn wait_dead(app: &TestApp, n: usize) -> Vec<Value> {
    testkit::eventually(Duration::from_secs(15), || async move {
        let d = dead(app).await;
        (d.len() >= n).then_some(d)
    })
    .await
}

/// Messages to unmapped numbers fail when a mapping is required; three quick attempts.
const STRICT: &[(&str, &str)] = &[
    ("WHATSAPP_WEBHOOK_WORKER_REQUIRE_TENANT_MAPPING", "true"),
    ("WHATSAPP_WEBHOOK_WORKER_RETRY_SCHEDULE", "0ms,10ms"),
];

#[tokio::test]
async fn a_failing_job_is_dead_lettered_then_replayed_once_after_the_fix() {
    let mut app = app_with(STRICT).await;
    let ev = Events::watch(&app);
    deliver(
        &app,
        &delivery(
            UNMAPPED,
            vec![text("wamid.d1", "250781234567", "insurance")],
            vec![],
        ),
    )
    .await;
    let items = wait_dead(&app, 1).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["wamid"], "wamid.d1");
    assert_eq!(items[0]["attempts"], 3);
    assert!(
        items[0]["lastError"]
            .as_str()
            .unwrap()
            .contains("no tenant is mapped")
    );
    assert!(
        !items[0].to_string().contains("250781234567"),
        "the DLQ holds no phone numbers"
    );
    assert_eq!(queue(&app).await["dead"], 1);
    assert!(ev.all().is_empty());
    let m = metrics(&app).await;
    assert!(m.contains("jobs_dead_lettered_total"), "{m}");
    assert!(
        m.contains(
            "jobs_handler_duration_seconds_count{queue=\"whatsapp.inbound\",outcome=\"error\""
        ) || m.contains(
            "jobs_handler_duration_seconds_count{outcome=\"error\",queue=\"whatsapp.inbound\""
        ),
        "processing latency is measured: {m}"
    );

    // The runbook: fix the mapping, redeploy, replay.
    app.env.set(
        "WHATSAPP_WEBHOOK_WORKER_TENANTS",
        format!("{MAPPED}=tenant-a,{UNMAPPED}=tenant-b"),
    );
    let app = app.restart::<Worker>().await;
    let id = items[0]["id"].as_str().unwrap();
    let path = format!("/v1/admin/dlq/{id}/replay");
    let r = expect(
        app.req(Method::POST, &path, &[ADMIN]).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["count"], 1);
    let e = ev.of("wamid.d1").await;
    assert_eq!(e.data["tenantId"], "tenant-b");
    assert_eq!(e.data["service"], "whatsapp-pricing");
    // Replaying again is harmless.
    let r = expect(
        app.req(Method::POST, &path, &[ADMIN]).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["count"], 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ev.all().len(), 1, "processed exactly once");
    assert!(dead(&app).await.is_empty());
}

#[tokio::test]
async fn dead_jobs_can_be_replayed_all_at_once_or_purged() {
    let app = app_with(STRICT).await;
    for w in ["wamid.p1", "wamid.p2"] {
        deliver(
            &app,
            &delivery(UNMAPPED, vec![text(w, "250781234567", "hi")], vec![]),
        )
        .await;
    }
    wait_dead(&app, 2).await;
    // Still failing: replay-all puts both back, and they die again.
    let r = expect(
        app.req(Method::POST, "/v1/admin/dlq/replay", &[ADMIN])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["count"], 2);
    let items = wait_dead(&app, 2).await;
    let one = format!("/v1/admin/dlq/{}", items[0]["id"].as_str().unwrap());
    let r = expect(
        app.req(Method::DELETE, &one, &[ADMIN])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["count"], 1);
    let r = expect(
        app.req(Method::DELETE, "/v1/admin/dlq", &[ADMIN])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["count"], 1);
    assert!(dead(&app).await.is_empty());
    assert_eq!(
        count(&db(&app).await, "wa_inbound_messages").await,
        2,
        "messages are kept"
    );
    // Given up on: a purged message is not taken up again as one never routed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        dead(&app).await.is_empty(),
        "purged messages were routed again"
    );
    let q = queue(&app).await;
    assert_eq!((&q["pending"], &q["dead"]), (&json!(0), &json!(0)));
}
