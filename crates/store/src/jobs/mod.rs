//! The durable job queue: work that must happen off the request path and survive crashes.
//!
//! A worker claims due jobs with a lease (a token and a deadline); a job whose worker dies is
//! claimed again when its lease runs out. A handler that completes its job inside its own effect
//! transaction ([`complete`]) gets exactly-once effects: the delete carries the lease token, so a
//! worker whose lease was taken over cannot commit. Failures are retried on a [`Retry`] policy,
//! then the job is parked as `dead` with its last error, to inspect and replay.

mod worker;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Db, Error, Exec, Tx, on};

/// Job ids: ULIDs that keep increasing within the millisecond too, so ordering claimed jobs by id
/// is enqueue order on both backends (messages of one contact are routed in arrival order).
fn next_id() -> String {
    static IDS: std::sync::Mutex<ulid::Generator> = std::sync::Mutex::new(ulid::Generator::new());
    let mut ids = IDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    ids.generate()
        .unwrap_or_else(|_| ulid::Ulid::generate())
        .to_string()
}

pub use worker::{
    BatchHandler, Handler, JobError, WorkerConfig, handler, hold, spawn_batch_worker, spawn_worker,
    stats_with, work_batch_after_start, work_batch_once, work_once,
};

/// When a failed job runs again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// Fixed delays before each retry; a job gets `delays.len() + 1` attempts.
    Schedule(Vec<Duration>),
    /// Exponential backoff with jitter, up to `max_attempts` attempts in all.
    Exponential {
        /// First delay.
        base: Duration,
        /// Longest delay.
        cap: Duration,
        /// Attempts in all.
        max_attempts: u32,
    },
}

impl Retry {
    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        match self {
            Self::Schedule(d) => u32::try_from(d.len()).unwrap_or(u32::MAX).saturating_add(1),
            Self::Exponential { max_attempts, .. } => (*max_attempts).max(1),
        }
    }

    /// Delay after failed attempt number `attempt` (1-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        match self {
            Self::Schedule(d) => {
                let i = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
                d.get(i).or(d.last()).copied().unwrap_or_default()
            }
            Self::Exponential { base, cap, .. } => bus::backoff::delay(attempt, *base, *cap),
        }
    }
}

/// A claimed job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    /// Job id (ULID).
    pub id: String,
    /// Queue name.
    pub queue: String,
    /// JSON payload.
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// This claim's lease token.
    pub lease_token: String,
    /// Work with no row in `kit_jobs` yet, taken from the handler's own rows
    /// ([`BatchHandler::unqueued`]): its first attempt. `id` is its key there. A row is made
    /// only if it is deferred or fails.
    #[sqlx(default)]
    pub unqueued: bool,
}

impl Job {
    /// Unqueued work (see [`Job::unqueued`]) on `queue`: `key` names it (at most one job row
    /// per key and queue is ever made for it), `payload` is what a job row would carry.
    pub fn unqueued(queue: &str, key: String, payload: String, retry: &Retry) -> Self {
        Self {
            id: key,
            queue: queue.to_owned(),
            payload,
            attempts: 1,
            max_attempts: i32::try_from(retry.max_attempts()).unwrap_or(i32::MAX),
            lease_token: String::new(),
            unqueued: true,
        }
    }

    /// The payload as `T`.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.payload)
    }
}

/// A job given up on.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeadJob {
    /// Job id.
    pub id: String,
    /// JSON payload.
    pub payload: String,
    /// Attempts made.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// When it died.
    pub updated_at: DateTime<Utc>,
}

/// A new job.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// Queue name.
    pub queue: &'a str,
    /// JSON payload.
    pub payload: serde_json::Value,
    /// At most one live job per key and queue (a second enqueue is a no-op).
    pub dedupe_key: Option<&'a str>,
    /// Not before this time (default now).
    pub run_at: Option<DateTime<Utc>>,
    /// Attempts allowed (from the queue's [`Retry`]).
    pub max_attempts: u32,
}

impl<'a> NewJob<'a> {
    /// A job on `queue` with `payload`, run as soon as possible.
    pub fn new(queue: &'a str, payload: &impl Serialize, retry: &Retry) -> Result<Self, Error> {
        Ok(Self {
            queue,
            payload: serde_json::to_value(payload)?,
            dedupe_key: None,
            run_at: None,
            max_attempts: retry.max_attempts(),
        })
    }
}

/// Queues `job` in `tx`; `None` when a job with the same dedupe key already exists.
pub async fn enqueue(tx: &mut Tx, job: &NewJob<'_>) -> Result<Option<String>, Error> {
    let id = next_id();
    let now = Utc::now();
    let payload = job.payload.to_string();
    let max = i32::try_from(job.max_attempts).unwrap_or(i32::MAX);
    let n = on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO kit_jobs (id, queue, payload, dedupe_key, status, max_attempts, run_at,
                               created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $7)
         ON CONFLICT DO NOTHING"
    )
    .bind(&id)
    .bind(job.queue)
    .bind(&payload)
    .bind(job.dedupe_key)
    .bind(max)
    .bind(job.run_at.unwrap_or(now))
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    tx.mark_jobs();
    Ok((n == 1).then_some(id))
}

/// Rows per multi-row `INSERT`: at most twelve parameters a job stays far below either backend's
/// limit.
const ENQUEUE_CHUNK: usize = 1000;

/// Queues every job of `batch` in `tx` with one multi-row statement per thousand jobs; a job
/// whose dedupe key is already live is skipped. Returns how many were queued.
pub async fn enqueue_many(tx: &mut Tx, batch: &[NewJob<'_>]) -> Result<u64, Error> {
    if batch.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let rows: Vec<(String, String, i32)> = batch
        .iter()
        .map(|j| {
            (
                next_id(),
                j.payload.to_string(),
                i32::try_from(j.max_attempts).unwrap_or(i32::MAX),
            )
        })
        .collect();
    let mut queued = 0;
    for (jobs, rows) in batch.chunks(ENQUEUE_CHUNK).zip(rows.chunks(ENQUEUE_CHUNK)) {
        let items: Vec<(&NewJob<'_>, &(String, String, i32))> = jobs.iter().zip(rows).collect();
        queued += crate::insert_many!(
            tx.exec(),
            "INSERT INTO kit_jobs (id, queue, payload, dedupe_key, status, max_attempts, run_at,
                                   created_at, updated_at) ",
            &items,
            |b, it| {
                let (job, (id, payload, max)) = it;
                b.push_bind(id.as_str())
                    .push_bind(job.queue)
                    .push_bind(payload.as_str())
                    .push_bind(job.dedupe_key)
                    .push_bind("pending")
                    .push_bind(*max)
                    .push_bind(job.run_at.unwrap_or(now))
                    .push_bind(now)
                    .push_bind(now);
            },
            " ON CONFLICT DO NOTHING"
        )?;
    }
    tx.mark_jobs();
    Ok(queued)
}

/// Claims up to `limit` due jobs of `queue` (and jobs whose lease ran out) for `lease`.
///
/// Due jobs and expired leases are two index range reads, each limited, merged: one query with
/// `OR` made SQLite sort the whole backlog on every claim (63 ms per claim at 200,000 pending
/// jobs, 6 ms this way), so a queue that fell behind fell further behind.
pub async fn claim(db: &Db, queue: &str, limit: i64, lease: Duration) -> Result<Vec<Job>, Error> {
    let mut tx = db.begin().await?;
    let jobs = claim_in(&mut tx, queue, limit, lease).await?;
    tx.commit().await?;
    Ok(jobs)
}

/// [`claim`] in `tx`: the claim holds only if `tx` commits (a batch worker claims in the batch's
/// own transaction, see [`work_batch_once`]).
pub(crate) async fn claim_in(
    tx: &mut Tx,
    queue: &str,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Job>, Error> {
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let token = ulid::Ulid::generate().to_string();
    let jobs: Vec<Job> = match tx.exec() {
        Exec::Sqlite(c) => {
            sqlx::query_as(
                "UPDATE kit_jobs SET status = 'running', attempts = attempts + 1,
                        lease_token = $1, locked_until = $2, updated_at = $3
                 WHERE id IN (SELECT id FROM (
                     SELECT id, run_at FROM (SELECT id, run_at FROM kit_jobs INDEXED BY kit_jobs_due
                         WHERE queue = $4 AND status = 'pending' AND run_at <= $3
                         ORDER BY run_at LIMIT $5)
                     UNION ALL
                     SELECT id, run_at FROM (SELECT id, run_at FROM kit_jobs INDEXED BY kit_jobs_due
                         WHERE queue = $4 AND status = 'running' AND locked_until < $3 LIMIT $5))
                   ORDER BY run_at LIMIT $5)
                 RETURNING id, queue, payload, attempts, max_attempts, lease_token",
            )
            .bind(&token)
            .bind(until)
            .bind(now)
            .bind(queue)
            .bind(limit)
            .fetch_all(c)
            .await?
        }
        // SKIP LOCKED: concurrent workers take different jobs instead of queueing on row locks
        // (in CTEs: PostgreSQL allows no FOR UPDATE under UNION).
        Exec::Postgres(c) => {
            sqlx::query_as(
                "WITH due AS (SELECT id, run_at FROM kit_jobs
                               WHERE queue = $4 AND status = 'pending' AND run_at <= $3
                               ORDER BY run_at LIMIT $5 FOR UPDATE SKIP LOCKED),
                      lapsed AS (SELECT id, run_at FROM kit_jobs
                                  WHERE queue = $4 AND status = 'running' AND locked_until < $3
                                  LIMIT $5 FOR UPDATE SKIP LOCKED)
                 UPDATE kit_jobs SET status = 'running', attempts = attempts + 1,
                        lease_token = $1, locked_until = $2, updated_at = $3
                 WHERE id IN (SELECT id FROM (SELECT id, run_at FROM due
                                              UNION ALL SELECT id, run_at FROM lapsed) AS c
                              ORDER BY run_at LIMIT $5)
                 RETURNING id, queue, payload, attempts, max_attempts, lease_token",
            )
            .bind(&token)
            .bind(until)
            .bind(now)
            .bind(queue)
            .bind(limit)
            .fetch_all(c)
            .await?
        }
    };
    Ok(jobs)
}

/// Completes `job` inside the handler's effect transaction. Fails with [`Error::LeaseLost`]
/// (so the effect rolls back) when another worker took the job over.
pub async fn complete(tx: &mut Tx, job: &Job) -> Result<(), Error> {
    let n = on!(tx.exec(), |c| sqlx::query(
        "DELETE FROM kit_jobs WHERE id = $1 AND lease_token = $2"
    )
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(c)
    .await?
    .rows_affected());
    if n == 1 {
        Ok(())
    } else {
        Err(Error::LeaseLost)
    }
}

/// Puts a claimed `job` back to `pending` until `until` without spending an attempt (the one its
/// claim counted is given back); for a handler that must wait, e.g. a rate limit. Clears the lease
/// token, so the worker's own completion after the handler returns `Ok` leaves the job alone.
/// False when the lease was lost (another worker holds the job).
pub async fn defer(db: &Db, job: &Job, until: DateTime<Utc>) -> Result<bool, Error> {
    let mut tx = db.begin().await?;
    let deferred = defer_in(&mut tx, job, until).await?;
    tx.commit().await?;
    Ok(deferred)
}

/// [`defer`] inside the caller's transaction (a [`BatchHandler`]'s). Unqueued work gets its job
/// row here, pending until `until` with no attempt spent.
pub async fn defer_in(tx: &mut Tx, job: &Job, until: DateTime<Utc>) -> Result<bool, Error> {
    if job.unqueued {
        queue_unqueued(tx, job, "pending", 0, until, None).await?;
        return Ok(true);
    }
    let n = on!(tx.exec(), |c| sqlx::query(
        "UPDATE kit_jobs SET status = 'pending', run_at = $1,
                attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                lease_token = NULL, locked_until = NULL, updated_at = $2
         WHERE id = $3 AND lease_token = $4"
    )
    .bind(until)
    .bind(Utc::now())
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// What became of a failed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// It runs again at this time.
    Retried(DateTime<Utc>),
    /// It ran out of attempts.
    Dead,
    /// Its lease was lost; the new holder decides.
    LeaseLost,
}

/// Records a failed attempt: schedules the next one, or parks the job as dead.
pub async fn fail(db: &Db, job: &Job, error: &str, retry: &Retry) -> Result<Failed, Error> {
    let mut tx = db.begin().await?;
    let failed = fail_in(&mut tx, job, error, retry).await?;
    tx.commit().await?;
    Ok(failed)
}

/// [`fail`] inside the caller's transaction (a batch's).
pub async fn fail_in(tx: &mut Tx, job: &Job, error: &str, retry: &Retry) -> Result<Failed, Error> {
    let now = Utc::now();
    let attempt = u32::try_from(job.attempts).unwrap_or(u32::MAX);
    let dead = job.attempts >= job.max_attempts;
    let run_at = now
        + chrono::Duration::from_std(retry.delay_after(attempt))
            .unwrap_or(chrono::Duration::seconds(1));
    // Errors can quote payloads at length; keep the row small.
    let error: String = error.chars().take(2000).collect();
    let status = if dead { "dead" } else { "pending" };
    if job.unqueued {
        queue_unqueued(tx, job, status, job.attempts, run_at, Some(&error)).await?;
        return Ok(if dead {
            Failed::Dead
        } else {
            Failed::Retried(run_at)
        });
    }
    let n = on!(tx.exec(), |c| sqlx::query(
        "UPDATE kit_jobs SET status = $1, run_at = $2, last_error = $3, lease_token = NULL,
                locked_until = NULL, updated_at = $4
         WHERE id = $5 AND lease_token = $6"
    )
    .bind(status)
    .bind(run_at)
    .bind(&error)
    .bind(now)
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(c)
    .await?
    .rows_affected());
    Ok(match (n, dead) {
        (0, _) => Failed::LeaseLost,
        (_, true) => Failed::Dead,
        (_, false) => Failed::Retried(run_at),
    })
}

/// Makes unqueued `job`'s row: `status` with `attempts` spent, to run at `run_at`. Its key is the
/// row's dedupe key, which the handler's [`BatchHandler::unqueued`] skips from then on.
async fn queue_unqueued(
    tx: &mut Tx,
    job: &Job,
    status: &str,
    attempts: i32,
    run_at: DateTime<Utc>,
    error: Option<&str>,
) -> Result<(), Error> {
    let now = Utc::now();
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO kit_jobs (id, queue, payload, dedupe_key, status, attempts, max_attempts,
                               run_at, last_error, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
    )
    .bind(next_id())
    .bind(&job.queue)
    .bind(&job.payload)
    .bind(&job.id)
    .bind(status)
    .bind(attempts)
    .bind(job.max_attempts)
    .bind(run_at)
    .bind(error)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    tx.mark_jobs();
    Ok(())
}

/// Gives each of the unqueued `work` its job row, claimed in `tx` (its first attempt counted)
/// with `token` (a new one if `None`) for `lease`: for rounds whose claim must commit before the
/// batch, which count attempts of job rows only. Returns the claimed jobs, in `work`'s order.
pub(crate) async fn claim_unqueued_in(
    tx: &mut Tx,
    work: Vec<Job>,
    token: Option<String>,
    lease: Duration,
) -> Result<Vec<Job>, Error> {
    if work.is_empty() {
        return Ok(work);
    }
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let token = token.unwrap_or_else(|| ulid::Ulid::generate().to_string());
    let mut claimed = Vec::with_capacity(work.len());
    for chunk in work.chunks(ENQUEUE_CHUNK) {
        let rows: Vec<(Job, &str)> = chunk
            .iter()
            .map(|w| {
                let job = Job {
                    id: next_id(),
                    queue: w.queue.clone(),
                    payload: w.payload.clone(),
                    attempts: 1,
                    max_attempts: w.max_attempts,
                    lease_token: token.clone(),
                    unqueued: false,
                };
                (job, w.id.as_str())
            })
            .collect();
        crate::insert_many!(
            tx.exec(),
            "INSERT INTO kit_jobs (id, queue, payload, dedupe_key, status, attempts, max_attempts,
                                   run_at, lease_token, locked_until, created_at, updated_at) ",
            &rows,
            |b, it| {
                let (job, key) = it;
                b.push_bind(job.id.as_str())
                    .push_bind(job.queue.as_str())
                    .push_bind(job.payload.as_str())
                    .push_bind(*key)
                    .push_bind("running")
                    .push_bind(job.attempts)
                    .push_bind(job.max_attempts)
                    .push_bind(now)
                    .push_bind(job.lease_token.as_str())
                    .push_bind(until)
                    .push_bind(now)
                    .push_bind(now);
            }
        )?;
        claimed.extend(rows.into_iter().map(|(job, _)| job));
    }
    Ok(claimed)
}

/// Dead jobs of `queue`, oldest first.
pub async fn dead(db: &Db, queue: &str, limit: i64) -> Result<Vec<DeadJob>, Error> {
    let mut conn = db.conn().await?;
    let rows = on!(conn.exec(), |c| sqlx::query_as(
        "SELECT id, payload, attempts, last_error, updated_at FROM kit_jobs
         WHERE queue = $1 AND status = 'dead' ORDER BY id LIMIT $2"
    )
    .bind(queue)
    .bind(limit)
    .fetch_all(c)
    .await?);
    Ok(rows)
}

/// Puts dead jobs of `queue` back to run now with fresh attempts (`id` = one job, `None` = all);
/// returns how many. Replaying twice is harmless: a job that is no longer dead is not touched.
pub async fn replay(db: &Db, queue: &str, id: Option<&str>) -> Result<u64, Error> {
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let n = on!(tx.exec(), |c| sqlx::query(
        "UPDATE kit_jobs SET status = 'pending', attempts = 0, run_at = $1, updated_at = $1
         WHERE queue = $2 AND status = 'dead' AND ($3 IS NULL OR id = $3)"
    )
    .bind(now)
    .bind(queue)
    .bind(id)
    .execute(c)
    .await?
    .rows_affected());
    tx.mark_jobs();
    tx.commit().await?;
    Ok(n)
}

/// Deletes the dead jobs of `queue` (`id` = one job, `None` = all); returns how many.
pub async fn purge_dead(db: &Db, queue: &str, id: Option<&str>) -> Result<u64, Error> {
    let mut tx = db.begin().await?;
    let n = purge_dead_in(&mut tx, queue, id).await?;
    tx.commit().await?;
    Ok(n)
}

/// [`purge_dead`] in the caller's transaction (with what the purge means to its handler).
pub async fn purge_dead_in(tx: &mut Tx, queue: &str, id: Option<&str>) -> Result<u64, Error> {
    let n = on!(tx.exec(), |c| sqlx::query(
        "DELETE FROM kit_jobs WHERE queue = $1 AND status = 'dead' AND ($2 IS NULL OR id = $2)"
    )
    .bind(queue)
    .bind(id)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n)
}

/// Depth and age of a queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Waiting to run (due or not).
    pub pending: i64,
    /// Claimed by a worker.
    pub running: i64,
    /// Given up on.
    pub dead: i64,
    /// Seconds the oldest due job has waited.
    pub oldest_due_age_s: i64,
}

#[derive(sqlx::FromRow)]
struct StatsRow {
    pending: i64,
    running: i64,
    dead: i64,
    oldest_due: Option<DateTime<Utc>>,
}

/// Counts of `queue` by status.
pub async fn stats(db: &Db, queue: &str) -> Result<Stats, Error> {
    let now = Utc::now();
    let mut conn = db.conn().await?;
    let row: StatsRow = on!(conn.exec(), |c| sqlx::query_as(
        "SELECT
            COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
            COALESCE(SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) AS running,
            COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) AS dead,
            MIN(CASE WHEN status = 'pending' AND run_at <= $2 THEN run_at END) AS oldest_due
         FROM kit_jobs WHERE queue = $1"
    )
    .bind(queue)
    .bind(now)
    .fetch_one(c)
    .await?);
    Ok(Stats {
        pending: row.pending,
        running: row.running,
        dead: row.dead,
        oldest_due_age_s: row.oldest_due.map_or(0, |t| (now - t).num_seconds().max(0)),
    })
}
