//! SQLite's WAL, managed off the commit path: its fsyncs and its checkpoints.
//!
//! **Fsyncs.** With `synchronous=FULL`, SQLite fsyncs the WAL inside every `COMMIT`, and the one
//! write connection waits: the group-commit writer could not start its next batch until the
//! disk answered, and the core sat idle meanwhile (with no fsync at all the webhook worker took
//! 13-19% more webhooks/s). So the connections run `synchronous=NORMAL`, which keeps the
//! database consistent but not durable, and durability is restored here: [`Wal::sync`] fsyncs
//! the WAL file after the commit, through a handle of our own (an fsync covers the file, not one
//! descriptor). [`crate::Tx::commit`] does it before returning, as `FULL` did; the group-commit
//! writer hands it to a task that makes one fsync for every batch committed so far and answers
//! their callers after it, while the writer goes on with the next batch. Measured, three
//! alternating rounds: the webhook worker's core busy 94% instead of 89-91%, and 1.5-4% more
//! webhooks/s in the closed loop.
//!
//! **Checkpoints.** SQLite's automatic checkpoint runs inside the `COMMIT` that fills the WAL
//! past 1,000 pages: that commit, and every caller waiting on it, pays for copying the WAL into
//! the database and its fsyncs. At 10,000 quotes/s it put whatsapp-pricing's p99 at
//! 10.0-16.6 ms, against 7.0-7.3 ms with no checkpoint at all. So the write connection never
//! checkpoints inside a commit (`wal_autocheckpoint=0`), and a task does, every [`EVERY`] while
//! there are commits:
//!
//! 1. a `PASSIVE` checkpoint on a read connection copies the WAL into the database while the
//!    writer goes on;
//! 2. once the WAL holds [`RESTART_AT`] pages, a second one on the write connection, between two
//!    transactions, copies the few pages committed since. The WAL is then wholly in the
//!    database, so the next transaction starts it over from the beginning. Checkpoints beside a
//!    writer that never pauses would let it grow without end.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::SqlitePool;

/// Time between checkpoints while the database is written. Measured at 10,000 quotes/s (with
/// the checkpoint on the write connection alone): 10 ms gave a p99 of 7.3-7.6 ms, 20 ms
/// 7.7-8.0 ms, 50 ms 9.0-9.3 ms.
const EVERY: Duration = Duration::from_millis(10);

/// WAL pages past which the writer's pass makes the WAL start over: SQLite's own default bound
/// (4 MiB of 4 KiB pages). Holding the writer for it only once in this many pages, rather than at
/// every tick, took the webhook worker's busy share from 84-86% to 88-89% of its core.
const RESTART_AT: i64 = 1024;

/// A database's WAL file, to make its commits durable.
#[derive(Debug)]
pub(crate) struct Wal {
    path: PathBuf,
}

impl Wal {
    /// The WAL of the database file `db` (SQLite names it `<db>-wal`).
    pub(crate) fn of(db: &Path) -> Self {
        let mut path = db.as_os_str().to_owned();
        path.push("-wal");
        Self { path: path.into() }
    }

    /// Makes every transaction committed before the call durable. Opened anew each time: SQLite
    /// deletes the file when its last connection closes (after copying it into the database and
    /// syncing that), so a handle kept open could outlive it. No file means no WAL to sync
    /// (that, or an in-memory database).
    pub(crate) async fn sync(self: &Arc<Self>) -> io::Result<()> {
        let wal = Arc::clone(self);
        tokio::task::spawn_blocking(move || match std::fs::File::open(&wal.path) {
            Ok(f) => f.sync_data(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        })
        .await
        .map_err(io::Error::other)?
    }
}

/// Checkpoints a SQLite database until its pools close. `commits` counts committed write
/// transactions: an idle database is left alone.
pub(crate) fn spawn_checkpoints(read: SqlitePool, write: SqlitePool, commits: Arc<AtomicU64>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen = 0;
        loop {
            tick.tick().await;
            if read.is_closed() || write.is_closed() {
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

#[cfg(test)]
mod tests {
    use platform::{CommonConfig, Env};

    use super::*;
    use crate::Db;

    /// The file synced is the WAL SQLite writes: were the name wrong, every sync would find no
    /// file and quietly make nothing durable.
    #[tokio::test]
    async fn the_file_synced_is_the_wal_sqlite_commits_to() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = Env::from_map([("DATA_DIR", dir.path().to_string_lossy().into_owned())]);
        let common = CommonConfig::load(&mut env, "waltest", 0, false);
        let db = Db::connect(&common).await.unwrap();
        let wal = db.wal.clone().expect("a SQLite database has a WAL");
        assert_eq!(wal.path, dir.path().join("waltest.db-wal"));
        let mut tx = db.begin().await.unwrap();
        crate::on!(tx.exec(), |c| sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(c)
            .await
            .unwrap()
            .rows_affected());
        tx.commit().await.unwrap();
        let len = std::fs::metadata(&wal.path).unwrap().len();
        assert!(len > 0, "the commit went to {}", wal.path.display());
        wal.sync().await.unwrap();
        db.close().await;
    }

    #[tokio::test]
    async fn a_wal_that_is_gone_needs_no_sync() {
        let dir = tempfile::tempdir().unwrap();
        let wal = Arc::new(Wal::of(&dir.path().join("none.db")));
        wal.sync().await.unwrap();
    }
}
