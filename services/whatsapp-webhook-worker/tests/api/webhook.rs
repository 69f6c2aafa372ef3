//! The webhook: handshake, signature on the raw bytes, durable dedupe.

use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::helpers::*;

#[tokio::test]
async fn the_handshake_echoes_the_challenge_only_for_the_right_token() {
    let app = app().await;
    let ok = app
        .anon(Method::GET, "/webhook")
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY),
            ("hub.challenge", "1158201444"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(
        ok.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    for q in [
        [
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "wrong"),
            ("hub.challenge", "1"),
        ],
        [
            ("hub.mode", "unsubscribe"),
            ("hub.verify_token", VERIFY),
            ("hub.challenge", "1"),
        ],
        [
            ("hub.mode", "subscribe"),
            ("hub.verify_token", ""),
            ("hub.challenge", "1"),
        ],
    ] {
        let res = app
            .anon(Method::GET, "/webhook")
            .query(&q)
            .send()
            .await
            .unwrap();
        let p = expect(res, StatusCode::FORBIDDEN).await;
        assert_eq!(p["code"], "whatsapp-webhook-worker.verify_token_mismatch");
    }
}

#[tokio::test]
async fn bad_signatures_are_refused_and_store_nothing() {
    let app = app().await;
    let body = serde_json::to_vec(&delivery(
        MAPPED,
        vec![text("wamid.forged", "250781234567", "hi")],
        vec![status("wamid.out1", "delivered")],
    ))
    .unwrap();
    let good = sign(&body);
    let truncated = body[..body.len() - 10].to_vec();
    let other_secret = sign_with("another-app-secret", &body);
    let forged = format!("sha256={}", "ab".repeat(32));
    let cases: Vec<(&str, Vec<u8>, Option<String>)> = vec![
        ("missing", body.clone(), None),
        ("forged", body.clone(), Some(forged)),
        ("truncated body", truncated, Some(good.clone())),
        (
            "replayed body, other signature",
            body.clone(),
            Some(other_secret),
        ),
        (
            "not sha256",
            body.clone(),
            Some(good.replace("sha256=", "sha1=")),
        ),
        ("not hex", body.clone(), Some("sha256=zz".to_owned())),
    ];
    for (name, raw, sig) in cases {
        let res = post_raw(&app, raw, sig.as_deref()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name}");
        let p = expect(res, StatusCode::UNAUTHORIZED).await;
        assert_eq!(
            p["code"], "whatsapp-webhook-worker.invalid_signature",
            "{name}"
        );
    }
    assert_nothing_stored(&app).await;
    assert!(
        metrics(&app)
            .await
            .contains("outcome=\"invalid_signature\"")
    );
}

#[tokio::test]
async fn signed_garbage_is_a_bad_request_and_oversize_is_413() {
    let app = app().await;
    let raw = b"[1,2,3]".to_vec();
    let sig = sign(&raw);
    let p = expect(
        post_raw(&app, raw, Some(&sig)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.malformed_notification");
    let big = vec![b' '; whatsapp::MAX_WEBHOOK_BYTES + 1];
    let sig = sign(&big);
    expect(
        post_raw(&app, big, Some(&sig)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn every_message_and_status_is_stored_with_one_job_per_new_message() {
    let app = app().await;
    let events = Events::watch(&app);
    let body = delivery(
        MAPPED,
        vec![
            text("wamid.a", "250781234567", "hi"),
            text("wamid.b", "250781234567", "insurance"),
        ],
        vec![
            status("wamid.out1", "sent"),
            status("wamid.out1", "delivered"),
        ],
    );
    deliver(&app, &body).await;
    // Meta redelivers: nothing new.
    deliver(&app, &body).await;
    let db = db(&app).await;
    assert_eq!(count(&db, "wa_inbound_messages").await, 2);
    assert_eq!(count(&db, "wa_statuses").await, 2);
    events.wait(2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(events.all().len(), 2, "one event per message");
    let m = metrics(&app).await;
    assert!(m.contains("whatsapp_messages_duplicate_total"), "{m}");
    assert!(m.contains("whatsapp_messages_received_total"), "{m}");
}

#[tokio::test]
async fn one_webhook_delivered_many_times_at_once_is_stored_and_routed_once() {
    let app = app().await;
    let events = Events::watch(&app);
    let raw = serde_json::to_vec(&delivery(
        MAPPED,
        vec![text(
            "wamid.concurrent",
            "250781234567",
            "I need a moto to Kimironko",
        )],
        vec![],
    ))
    .unwrap();
    let sig = sign(&raw);
    let posts = (0..24).map(|_| post_raw(&app, raw.clone(), Some(&sig)));
    for res in futures::future::join_all(posts).await {
        assert_eq!(res.status(), StatusCode::OK);
    }
    let db = db(&app).await;
    assert_eq!(count(&db, "wa_inbound_messages").await, 1);
    events.wait(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = events.all();
    assert_eq!(all.len(), 1, "exactly one event: {all:?}");
    assert_eq!(all[0].kind, "whatsapp.message.routed");
    assert_eq!(count(&db, "kit_jobs").await, 0, "the job completed");
}

#[tokio::test]
async fn ready_checks_the_database_and_the_queue() {
    let app = app().await;
    let r = expect(
        app.anon(Method::GET, "/ready").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["checks"]["database"]["status"], "ok");
    assert_eq!(r["checks"]["job_queue"]["status"], "ok");
}

#[tokio::test]
async fn without_an_app_secret_deliveries_get_503_and_ready_says_why() {
    // Development only (`easymo up` on a fresh clone); production refuses to start.
    let app = TestApp::spawn_with::<whatsapp_webhook_worker::WhatsappWebhookWorker>(&[]).await;
    let body = serde_json::to_vec(&delivery(
        MAPPED,
        vec![text("wamid.d1", "250788000001", "hi")],
        vec![],
    ))
    .unwrap();
    let sig = sign(&body);
    let p = expect(
        post_raw(&app, body, Some(&sig)).await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert_eq!(p["code"], "whatsapp-webhook-worker.webhook_disabled");
    assert_nothing_stored(&app).await;
    let handshake = app
        .anon(
            Method::GET,
            "/webhook?hub.mode=subscribe&hub.verify_token=&hub.challenge=1",
        )
        .send()
        .await
        .unwrap();
    expect(handshake, StatusCode::FORBIDDEN).await;
    let r = expect(
        app.anon(Method::GET, "/ready").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["checks"]["webhook_ingest"]["status"], "degraded");
}

#[tokio::test]
async fn the_admin_api_needs_its_scope() {
    let app = app().await;
    let res = app.anon(Method::GET, "/v1/admin/dlq").send().await.unwrap();
    expect(res, StatusCode::UNAUTHORIZED).await;
    let res = app
        .req(Method::GET, "/v1/admin/dlq", &["profile:read"])
        .send()
        .await
        .unwrap();
    expect(res, StatusCode::FORBIDDEN).await;
    assert_eq!(queue(&app).await["dead"], 0);
}
