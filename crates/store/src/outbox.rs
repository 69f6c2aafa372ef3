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

/// Queues several events in `tx` with one statement (for batch writers).
pub async fn enqueue_many(tx: &mut Tx, events: &[Envelope]) -> Result<(), Error> {
    if events.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = events
        .iter()
        .map(|e| Ok((e, serde_json::to_string(e)?)))
        .collect::<Result<Vec<_>, serde_json::Error>>()?;
    crate::insert_many!(
        tx.exec(),
        "INSERT INTO kit_outbox (id, kind, envelope, created_at) ",
        rows,
        |b, r| {
            b.push_bind(&r.0.id);
            b.push_bind(&r.0.kind);
            b.push_bind(&r.1);
            b.push_bind(now);
        }
    )?;
    tx.mark_outbox();
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Pending {
    id: String,
    envelope: String,
}

/// Publishes one batch; returns how many were published.
///
/// On SQLite the rows are read outside any write transaction, so publishing never holds the
/// database's single writer (the group-commit writer shares it); there is one relay per
/// process there. On PostgreSQL, replicas relaying at once lock their rows (`SKIP LOCKED`)
/// instead of publishing them twice. Either way the batch is marked published with one
/// statement.
pub async fn relay_once(db: &Db, bus: &Bus) -> Result<usize, Error> {
    match db.backend() {
        crate::Backend::Sqlite => {
            let rows: Vec<Pending> = {
                let mut conn = db.conn().await?;
                on!(conn.exec(), |c| sqlx::query_as(
                    "SELECT id, envelope FROM kit_outbox WHERE published_at IS NULL
                     ORDER BY id LIMIT $1"
                )
                .bind(BATCH)
                .fetch_all(c)
                .await?)
            };
            let published = publish(bus, &rows).await;
            // Nothing to mark: no transaction, which would take the one write connection from
            // the writers for an empty commit on every poll.
            if published.is_empty() {
                return Ok(0);
            }
            let mut tx = db.begin().await?;
            mark_published(&mut tx, &published).await?;
            tx.commit().await?;
            Ok(published.len())
        }
        crate::Backend::Postgres => {
            let mut tx = db.begin().await?;
            let rows: Vec<Pending> = match tx.exec() {
                Exec::Postgres(c) => {
                    sqlx::query_as(
                        "SELECT id, envelope FROM kit_outbox WHERE published_at IS NULL
                         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                    )
                    .bind(BATCH)
                    .fetch_all(c)
                    .await?
                }
                Exec::Sqlite(_) => Vec::new(),
            };
            let published = publish(bus, &rows).await;
            mark_published(&mut tx, &published).await?;
            tx.commit().await?;
            Ok(published.len())
        }
    }
}

/// Publishes rows in order until the bus refuses; returns the ids published (undecodable rows
/// are logged and skipped, so one bad row cannot block the rest).
async fn publish<'a>(bus: &Bus, rows: &'a [Pending]) -> Vec<&'a str> {
    let mut published = Vec::with_capacity(rows.len());
    for row in rows {
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
        published.push(row.id.as_str());
    }
    if !published.is_empty() {
        metrics::counter!("outbox_events_published_total")
            .increment(u64::try_from(published.len()).unwrap_or(0));
    }
    published
}

async fn mark_published(tx: &mut Tx, ids: &[&str]) -> Result<(), Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    match tx.exec() {
        Exec::Sqlite(c) => {
            let mut qb =
                sqlx::QueryBuilder::<sqlx::Sqlite>::new("UPDATE kit_outbox SET published_at = ");
            qb.push_bind(now).push(" WHERE id IN ");
            crate::push_list(&mut qb, ids.iter().copied());
            qb.build().execute(c).await?;
        }
        Exec::Postgres(c) => {
            sqlx::query("UPDATE kit_outbox SET published_at = $1 WHERE id = ANY($2)")
                .bind(now)
                .bind(ids)
                .execute(c)
                .await?;
        }
    }
    Ok(())
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
