//! The transactional outbox: an event is written in the same transaction as the state change
//! that caused it, and a relay publishes it to the bus after commit. A crash between commit and
//! publish delays the event; it never loses it (delivery is at-least-once).

use std::time::Duration;

use bus::{Bus, Envelope};
use chrono::Utc;
use platform::Ctx;

use crate::{Db, Error, Exec, Tx, on};

/// Events published per relay round.
const BATCH: i64 = 200;
/// Published events are kept this long, for inspection, then deleted.
const KEEP_PUBLISHED: chrono::Duration = chrono::Duration::hours(24);
/// Relay poll interval when no commit wakes it (events from another replica).
const POLL: Duration = Duration::from_secs(1);

/// Queues `event` in `tx`.
pub async fn enqueue(tx: &mut Tx, event: &Envelope) -> Result<(), Error> {
    let text = serde_json::to_string(event)?;
    let now = Utc::now();
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO kit_outbox (id, kind, envelope, created_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(&event.id)
    .bind(&event.kind)
    .bind(&text)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    tx.mark_outbox();
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Pending {
    id: String,
    envelope: String,
}

/// Publishes one batch; returns how many were published.
pub async fn relay_once(db: &Db, bus: &Bus) -> Result<usize, Error> {
    let mut tx = db.begin().await?;
    // On PostgreSQL, replicas relaying at once skip each other's rows instead of publishing
    // them twice; SQLite has a single writer, which serialises relays anyway.
    let rows: Vec<Pending> = match tx.exec() {
        Exec::Sqlite(c) => sqlx::query_as(
            "SELECT id, envelope FROM kit_outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(BATCH)
        .fetch_all(c)
        .await?,
        Exec::Postgres(c) => sqlx::query_as(
            "SELECT id, envelope FROM kit_outbox WHERE published_at IS NULL ORDER BY id LIMIT $1
                 FOR UPDATE SKIP LOCKED",
        )
        .bind(BATCH)
        .fetch_all(c)
        .await?,
    };
    let mut published = 0;
    for row in &rows {
        let event: Envelope = match serde_json::from_str(&row.envelope) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(event_id = %row.id, error = %e, "undecodable outbox row skipped");
                continue;
            }
        };
        if let Err(e) = bus.publish(&event).await {
            // Keep what was published; the rest goes next round.
            tracing::warn!(error = %e, "bus unavailable; outbox relay will retry");
            break;
        }
        let now = Utc::now();
        on!(tx.exec(), |c| sqlx::query(
            "UPDATE kit_outbox SET published_at = $1 WHERE id = $2"
        )
        .bind(now)
        .bind(&row.id)
        .execute(c)
        .await?
        .rows_affected());
        published += 1;
    }
    tx.commit().await?;
    if published > 0 {
        metrics::counter!("outbox_events_published_total")
            .increment(u64::try_from(published).unwrap_or(0));
    }
    Ok(published)
}

/// Deletes published events older than a day.
pub async fn purge(db: &Db) -> Result<u64, Error> {
    let cutoff = Utc::now() - KEEP_PUBLISHED;
    let mut tx = db.begin().await?;
    let n = on!(tx.exec(), |c| sqlx::query(
        "DELETE FROM kit_outbox WHERE published_at IS NOT NULL AND published_at < $1"
    )
    .bind(cutoff)
    .execute(c)
    .await?
    .rows_affected());
    tx.commit().await?;
    Ok(n)
}

/// Runs the relay for `db` until the service stops: woken by commits, polling as a fallback.
pub(crate) fn spawn_relay(ctx: &Ctx, db: Db) {
    let bus = ctx.bus.clone();
    let stop = ctx.shutdown.clone();
    ctx.spawn("outbox-relay", async move {
        loop {
            match relay_once(&db, &bus).await {
                Ok(n) if i64::try_from(n).is_ok_and(|n| n == BATCH) => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %platform::problem::cause_chain(&e), "outbox relay round failed"),
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = db.outbox_wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
        // Publish what the last requests committed before stopping.
        let _ = relay_once(&db, &bus).await;
        Ok(())
    });
}
