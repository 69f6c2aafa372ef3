//! SQLite WAL checkpoints off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that fills the WAL past 1,000 pages:
//! that commit, and every caller waiting on it, pays for copying the WAL into the database and
//! its fsyncs. At 10,000 quotes/s it put whatsapp-pricing's p99 at 10.0-16.6 ms, against
//! 7.0-7.3 ms with no checkpoint at all. So the write connection never checkpoints inside a
//! commit (`wal_autocheckpoint=0`), and this task does, every [`EVERY`] while there are commits:
//!
//! 1. a `PASSIVE` checkpoint on a read connection copies the WAL into the database while the
//!    writer goes on;
//! 2. once the WAL holds [`RESTART_AT`] pages, a second one on the write connection, between two
//!    transactions, copies the few pages committed since. The WAL is then wholly in the
//!    database (unless a reader still holds an older snapshot: then the next tick tries again),
//!    so the next transaction starts it over from the beginning. Checkpoints beside a writer
//!    that never pauses would let it grow without end.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::SqlitePool;

/// Time between checkpoints while the database is written. Measured at 10,000 quotes/s (with
/// the checkpoint on the write connection alone): 10 ms gave a p99 of 7.3-7.6 ms, 20 ms
/// 7.7-8.0 ms, 50 ms 9.0-9.3 ms.
const EVERY: Duration = Duration::from_millis(10);

/// WAL pages past which the writer's pass makes the WAL start over: about SQLite's own default
/// bound (1,000 pages; 4 MiB of 4 KiB pages). Holding the writer for it only once in this many
/// pages, rather than at every tick, took the webhook worker's busy share from 84-86% to 88-89%
/// of its core.
const RESTART_AT: i64 = 1024;

/// Checkpoints a SQLite database until its pools close or the `Db` is dropped (the task then
/// holds the last `commits`). `commits` counts committed write transactions: an idle database is
/// left alone.
pub(crate) fn spawn(read: SqlitePool, write: SqlitePool, commits: Arc<AtomicU64>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen = 0;
        loop {
            tick.tick().await;
            if read.is_closed() || write.is_closed() || Arc::strong_count(&commits) == 1 {
                return;
            }
            let now = commits.load(Ordering::Relaxed);
            if now == seen {
                continue;
            }
            seen = now;
            if let Err(e) = checkpoint(&read, &write).await {
                if read.is_closed() || write.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "WAL checkpoint failed; retried at the next tick");
            }
        }
    });
}

async fn checkpoint(read: &SqlitePool, write: &SqlitePool) -> Result<(), sqlx::Error> {
    if passive(read).await? >= RESTART_AT {
        passive(write).await?;
    }
    Ok(())
}

/// A `PASSIVE` checkpoint on one of `pool`'s connections; answers the WAL's size in pages.
async fn passive(pool: &SqlitePool) -> Result<i64, sqlx::Error> {
    let (_busy, log, _copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    Ok(log)
}
