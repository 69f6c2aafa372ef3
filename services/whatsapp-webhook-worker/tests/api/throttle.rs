//! The per-sender inbound limit: a burst from one sender is deferred (never dropped) and
//! processed later in order, while another sender in the same delivery is not held back.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use store::on;

use crate::helpers::*;

const ALINE: &str = "250781234567";
const BOSCO: &str = "250788765432";

/// `wamid` → `processed_at` of every processed message.
async fn processed(app: &TestApp) -> HashMap<String, DateTime<Utc>> {
    let db = db(app).await;
    let mut conn = db.conn().await.unwrap();
    let rows: Vec<(String, DateTime<Utc>)> = on!(conn.exec(), |c| sqlx::query_as(
        "SELECT wamid, processed_at FROM wa_inbound_messages WHERE processed_at IS NOT NULL"
    )
    .fetch_all(c)
    .await
    .unwrap());
    rows.into_iter().collect()
}

#[tokio::test]
async fn a_burst_over_the_sender_limit_is_deferred_in_order_and_others_go_on() {
    // 10 a second with a burst of 2: ALINE's third message onwards waits.
    let app = app_with(&[
        ("WHATSAPP_WEBHOOK_WORKER_SENDER_RATE_PER_MINUTE", "600"),
        ("WHATSAPP_WEBHOOK_WORKER_SENDER_BURST", "2"),
    ])
    .await;
    let ev = Events::watch(&app);
    let mut messages: Vec<_> = (1..=6)
        .map(|i| text(&format!("wamid.a{i}"), ALINE, &format!("message {i}")))
        .collect();
    messages.push(text("wamid.b1", BOSCO, "hello there"));
    deliver(&app, &delivery(MAPPED, messages, vec![])).await;

    let events = ev.wait(7).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = ev.all();
    assert_eq!(all.len(), 7, "each message routed exactly once: {events:?}");
    let db = db(&app).await;
    assert_eq!(count(&db, "kit_jobs").await, 0, "no job left, none dead");
    // Deferred, they got jobs and left the index of messages routing takes as new.
    let mut conn = db.conn().await.unwrap();
    let queued: Vec<String> = on!(conn.exec(), |c| sqlx::query_scalar(
        "SELECT wamid FROM wa_inbound_messages WHERE queued IS NOT NULL ORDER BY wamid"
    )
    .fetch_all(c)
    .await
    .unwrap());
    assert_eq!(queued, ["wamid.a3", "wamid.a4", "wamid.a5", "wamid.a6"]);
    drop(conn);

    let at = processed(&app).await;
    assert_eq!(at.len(), 7, "none dropped");
    let aline: Vec<DateTime<Utc>> = (1..=6).map(|i| at[&format!("wamid.a{i}")]).collect();
    assert!(
        aline.windows(2).all(|w| w[0] < w[1]),
        "the sender's messages keep their order: {aline:?}"
    );
    assert!(
        at["wamid.b1"] < aline[2],
        "the other sender is not held behind the deferred burst"
    );
    assert!(
        aline[2] - aline[1] >= chrono::TimeDelta::milliseconds(50),
        "the third message waited for the limiter"
    );

    let m = metrics(&app).await;
    let deferred = m
        .lines()
        .find(|l| {
            l.starts_with("whatsapp_inbound_deferred_total")
                && l.contains("reason=\"rate_limited\"")
        })
        .unwrap_or_else(|| panic!("no deferral metric in:\n{m}"));
    let n: f64 = deferred.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 1.0, "{deferred}");
}
