//! A worker that dies mid-job: its lease runs out, another worker takes the job over and
//! processes it once; the dead worker can no longer complete it.

use std::time::Duration;

use store::on;

use whatsapp_webhook_worker::{QUEUE, WhatsappWebhookWorker as Worker};

use crate::helpers::*;

#[tokio::test]
async fn a_job_held_by_a_dead_worker_is_taken_over_and_processed_once() {
    // An ingest-only replica: it stores, and processes nothing.
    let mut app = app_with(&[("WHATSAPP_WEBHOOK_WORKER_PROCESSING", "false")]).await;
    let ev = Events::watch(&app);
    deliver(
        &app,
        &delivery(
            MAPPED,
            vec![text("wamid.c1", "250781234567", "insurance")],
            vec![],
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(ev.all().is_empty(), "an ingest-only replica routes nothing");
    // A stored message not routed yet counts as pending, though it has no job row.
    assert_eq!(queue(&app).await["pending"], 1);
    let m = metrics(&app).await;
    assert!(
        m.contains("whatsapp_queue_pending{service=\"whatsapp-webhook-worker\"} 1"),
        "{m}"
    );

    // A worker gives the message its job, as a first round after a start does (and every round
    // on PostgreSQL), claims it with a short lease, then "crashes".
    let db = db(&app).await;
    let mut tx = db.begin().await.unwrap();
    let retry = store::jobs::Retry::Schedule(vec![Duration::ZERO]);
    let mut job =
        store::jobs::NewJob::new(QUEUE, &serde_json::json!({"wamid": "wamid.c1"}), &retry).unwrap();
    job.dedupe_key = Some("wamid.c1");
    store::jobs::enqueue(&mut tx, &job).await.unwrap();
    on!(tx.exec(), |c| sqlx::query(
        "UPDATE wa_inbound_messages SET queued = TRUE WHERE wamid = 'wamid.c1'"
    )
    .execute(c)
    .await
    .unwrap()
    .rows_affected());
    tx.commit().await.unwrap();
    assert_eq!(
        queue(&app).await["pending"],
        1,
        "a message with a job counts once"
    );
    let stale = store::jobs::claim(&db, QUEUE, 10, Duration::from_millis(200))
        .await
        .unwrap();
    assert_eq!(stale.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A processing replica takes it over once the lease ran out.
    app.env.set("WHATSAPP_WEBHOOK_WORKER_PROCESSING", "true");
    let app = app.restart::<Worker>().await;
    let e = ev.of("wamid.c1").await;
    assert_eq!(e.data["service"], "whatsapp-pricing");

    // The crashed worker coming back can neither take hold of its batch nor complete the job
    // (and so cannot commit effects).
    let db = crate::helpers::db(&app).await;
    let mut tx = db.begin().await.unwrap();
    let late = store::jobs::hold(&mut tx, &stale).await;
    assert!(matches!(late, Err(store::Error::LeaseLost)), "{late:?}");
    let late = store::jobs::complete(&mut tx, &stale[0]).await;
    assert!(matches!(late, Err(store::Error::LeaseLost)), "{late:?}");
    drop(tx);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ev.all().len(), 1, "processed exactly once");
    assert_eq!(count(&db, "kit_jobs").await, 0);
}
