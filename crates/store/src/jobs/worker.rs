//! Job workers: claim, handle, complete or fail, until the service stops.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use platform::Ctx;

use super::{Failed, Job, Retry, claim, claim_in, claim_unqueued_in, fail, stats};
use crate::{Backend, Db, Error, Exec, Tx, on};

/// A handler's failure: retried per the queue's [`Retry`], then dead-lettered with this text.
pub type JobError = Box<dyn std::error::Error + Send + Sync>;

/// Handles one job. To make its effect exactly-once, it calls [`super::complete`] in the
/// effect's transaction; a handler that returns `Ok` without doing so is completed by the worker.
/// To run the job later without spending an attempt, the handler calls [`super::defer`] and
/// returns `Ok`: the defer clears the lease token, so the worker's completion finds nothing to
/// delete and the job stays pending until its new `run_at`.
pub type Handler = Arc<dyn Fn(Job) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// Wraps an async closure as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Job) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    Arc::new(move |j| Box::pin(f(j)))
}

/// How a queue is worked.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Queue name.
    pub queue: String,
    /// Jobs handled at once.
    pub concurrency: usize,
    /// How long a claim protects a job before another worker may take it.
    pub lease: Duration,
    /// Retry policy.
    pub retry: Retry,
    /// Poll interval when no enqueue wakes the worker (jobs of other replicas, delayed retries).
    pub poll: Duration,
}

impl WorkerConfig {
    /// `concurrency` 4, lease 60 s, poll 1 s.
    pub fn new(queue: impl Into<String>, retry: Retry) -> Self {
        Self {
            queue: queue.into(),
            concurrency: 4,
            lease: Duration::from_secs(60),
            retry,
            poll: Duration::from_secs(1),
        }
    }
}

/// Deletes the job if the handler did not; a lease lost here means another worker holds it, or the
/// handler deferred the job (its lease token is cleared), so nothing is deleted.
async fn complete_if_present(db: &Db, job: &Job) -> Result<(), Error> {
    let mut tx: Tx = db.begin().await?;
    on!(tx.exec(), |c| sqlx::query(
        "DELETE FROM kit_jobs WHERE id = $1 AND lease_token = $2"
    )
    .bind(&job.id)
    .bind(&job.lease_token)
    .execute(c)
    .await?
    .rows_affected());
    tx.commit().await
}

/// A job that keeps killing its worker comes back with attempts past the limit: it stops there.
fn expired(job: &Job) -> Option<JobError> {
    (job.attempts > job.max_attempts)
        .then(|| "lease expired on every attempt (the worker died or hung)".into())
}

fn observe(queue: &str, started: std::time::Instant, ok: bool) {
    metrics::histogram!("jobs_handler_duration_seconds", "queue" => queue.to_owned(),
        "outcome" => if ok { "ok" } else { "error" })
    .record(started.elapsed().as_secs_f64());
}

/// Schedules the failed `job`'s next attempt, or dead-letters it.
async fn failed(db: &Db, cfg: &WorkerConfig, job: &Job, e: &JobError) -> Result<(), Error> {
    let text = e.to_string();
    let f = fail(db, job, &text, &cfg.retry).await?;
    log_failure(cfg, job, &text, f);
    Ok(())
}

fn log_failure(cfg: &WorkerConfig, job: &Job, text: &str, f: Failed) {
    let queue = cfg.queue.clone();
    match f {
        Failed::Retried(at) => {
            tracing::warn!(queue = %cfg.queue, job_id = %job.id, attempt = job.attempts,
                retry_at = %at, error = %text, "job failed; will retry");
            metrics::counter!("jobs_retried_total", "queue" => queue).increment(1);
        }
        Failed::Dead => {
            tracing::error!(queue = %cfg.queue, job_id = %job.id, attempts = job.attempts,
                error = %text, "job dead-lettered");
            metrics::counter!("jobs_dead_lettered_total", "queue" => queue).increment(1);
        }
        Failed::LeaseLost => {
            tracing::warn!(queue = %cfg.queue, job_id = %job.id, "job lease lost while failing");
        }
    }
}

async fn run_one(db: &Db, cfg: &WorkerConfig, handler: &Handler, job: Job) -> Result<(), Error> {
    let started = std::time::Instant::now();
    let outcome = match expired(&job) {
        Some(e) => Err(e),
        None => handler(job.clone()).await,
    };
    observe(&cfg.queue, started, outcome.is_ok());
    match outcome {
        Ok(()) => {
            complete_if_present(db, &job).await?;
            metrics::counter!("jobs_completed_total", "queue" => cfg.queue.clone()).increment(1);
        }
        Err(e) => failed(db, cfg, &job, &e).await?,
    }
    Ok(())
}

/// Claims and handles one batch of due jobs; returns how many were handled. Tests call this to
/// drive the queue deterministically.
pub async fn work_once(db: &Db, cfg: &WorkerConfig, handler: &Handler) -> Result<usize, Error> {
    let limit = i64::try_from(cfg.concurrency.max(1)).unwrap_or(1);
    let jobs = claim(db, &cfg.queue, limit, cfg.lease).await?;
    let n = jobs.len();
    let runs = jobs.into_iter().map(|j| run_one(db, cfg, handler, j));
    for r in futures::future::join_all(runs).await {
        r?;
    }
    Ok(n)
}

/// A queue worked in batches: up to `concurrency` jobs are claimed and handled one after the
/// other, in enqueue order, in one transaction with one commit ([`work_batch_once`]). Per job
/// that saves the transactions and commits of its claim and of its effect; for the webhook
/// worker's routing that was ~700 us of a core per message, one job per transaction.
pub trait BatchHandler: Send + Sync + 'static {
    /// What a handled job reports once its transaction committed (for metrics and logs).
    type Done: Send;

    /// What the jobs of one batch share: what [`Self::prepare`] read for all of them, and the
    /// writes [`Self::handle`] buffered for [`Self::flush`] to make together. A few statements
    /// per batch instead of several per job: on SQLite each one is a hop to the connection's
    /// thread, made while the batch holds the one write lock webhook commits wait on.
    type Batch: Default + Send;

    /// Reads what the batch's jobs need, before the first is handled (default: nothing).
    fn prepare(
        &self,
        tx: &mut Tx,
        jobs: &[Job],
        batch: &mut Self::Batch,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (tx, jobs, batch);
        async { Ok(()) }
    }

    /// Handles `job` in `tx`, in claim order. The worker completes the batch's handled jobs with
    /// one statement, except those the handler put off ([`super::defer_in`]).
    /// `Ok(Err(e))`: the job failed *before writing or buffering anything*; its failed attempt
    /// is recorded in the same transaction and the batch goes on. `Err`: unexpected (a database
    /// error, a lost lease), and the transaction may be unusable: the batch rolls back and its
    /// jobs are handled again one per transaction.
    fn handle(
        &self,
        tx: &mut Tx,
        job: &Job,
        batch: &mut Self::Batch,
    ) -> impl Future<Output = Result<Result<Self::Done, JobError>, Error>> + Send;

    /// Writes what the batch's jobs buffered, after the last one (default: nothing).
    fn flush(
        &self,
        tx: &mut Tx,
        batch: Self::Batch,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (tx, batch);
        async { Ok(()) }
    }

    /// Work waiting in the handler's own rows with no job row yet, oldest first, at most `limit`
    /// ([`Job::unqueued`]; default: none). On SQLite a round takes it after its due jobs and
    /// handles it in the same transaction, so work done at the first try never costs a job row;
    /// what is deferred or fails gets one then. Where a claim commits before its batch (every
    /// round on PostgreSQL) it is given rows claimed with the due jobs. The handler must skip
    /// work whose key has a row on the queue (`dedupe_key`), and on PostgreSQL lock what it
    /// returns (`FOR UPDATE SKIP LOCKED`).
    fn unqueued(
        &self,
        tx: &mut Tx,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Job>, Error>> + Send {
        let _ = (tx, limit);
        async { Ok(Vec::new()) }
    }

    /// Called in a batch's transaction with the jobs that failed in it, whose rows now wait for
    /// a retry (made then, for unqueued work): for the handler to take that work out of what
    /// [`Self::unqueued`] reads, which must skip keys with rows anyway (default: nothing). Work
    /// the handler defers itself ([`super::defer_in`]) is the handler's to mark. Work claimed
    /// with a row before its batch is left unmarked: its batch usually finishes it.
    fn queued(&self, tx: &mut Tx, jobs: &[&Job]) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (tx, jobs);
        async { Ok(()) }
    }

    /// How much [`Self::unqueued`] work waits, and since when it has (default: none). The
    /// queue's gauges and [`stats_with`] count it as pending.
    fn unqueued_depth(
        &self,
        db: &Db,
    ) -> impl Future<Output = Result<(i64, Option<DateTime<Utc>>), Error>> + Send {
        let _ = db;
        async { Ok((0, None)) }
    }

    /// Called for each handled job after its transaction committed.
    fn committed(&self, done: Self::Done);

    /// Waits until the worker may claim again and says how many jobs it may take, at most
    /// `limit` (the default: at once, `limit`). A handler sharing its database with more urgent
    /// work waits for it here.
    fn admit(&self, limit: usize) -> impl Future<Output = usize> + Send {
        async move { limit }
    }
}

/// A job's outcome in a batch: handled, or failed (and how) with the error's text.
type Outcome<D> = Result<D, (String, Failed)>;

/// Takes hold of a claim's `jobs` for the transaction: fails with [`Error::LeaseLost`] (before
/// anything is written) when one was taken over since the claim because its lease ran out. On
/// PostgreSQL it also locks them, so no other worker can take them over before the commit; on
/// SQLite the transaction's write lock already keeps every other writer out.
pub async fn hold(tx: &mut Tx, jobs: &[Job]) -> Result<(), Error> {
    let Some(first) = jobs.first() else {
        return Ok(());
    };
    let lock = match tx.exec() {
        Exec::Sqlite(_) => "",
        Exec::Postgres(_) => " FOR UPDATE",
    };
    let held: Vec<(String,)> = on!(tx.exec(), |c| {
        let mut qb = sqlx::QueryBuilder::new("SELECT id FROM kit_jobs WHERE lease_token = ");
        qb.push_bind(&first.lease_token).push(" AND id IN ");
        crate::push_list(&mut qb, jobs.iter().map(|j| &j.id));
        qb.push(lock);
        qb.build_query_as().fetch_all(c).await?
    });
    if held.len() == jobs.len() {
        Ok(())
    } else {
        Err(Error::LeaseLost)
    }
}

/// Deletes the jobs of `ids` still holding their claim's `token`: the handled jobs but those the
/// handler put off (a deferral clears the token).
async fn complete_rest(tx: &mut Tx, token: &str, ids: &[&str]) -> Result<(), Error> {
    if ids.is_empty() {
        return Ok(());
    }
    on!(tx.exec(), |c| {
        let mut qb = sqlx::QueryBuilder::new("DELETE FROM kit_jobs WHERE lease_token = ");
        qb.push_bind(token).push(" AND id IN ");
        crate::push_list(&mut qb, ids.iter().copied());
        qb.build().execute(c).await?.rows_affected()
    });
    Ok(())
}

/// Handles the claimed `jobs` (in enqueue order) in `tx`, which the caller commits.
async fn handle_jobs<H: BatchHandler>(
    tx: &mut Tx,
    cfg: &WorkerConfig,
    handler: &H,
    jobs: &[Job],
) -> Result<Vec<Outcome<H::Done>>, Error> {
    let mut batch = H::Batch::default();
    handler.prepare(tx, jobs, &mut batch).await?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut handled = Vec::with_capacity(jobs.len());
    for job in jobs {
        let result = match expired(job) {
            Some(e) => Err(e),
            None => handler.handle(tx, job, &mut batch).await?,
        };
        outcomes.push(match result {
            Ok(done) => {
                if !job.unqueued {
                    handled.push(job.id.as_str());
                }
                Ok(done)
            }
            Err(e) => {
                let text = e.to_string();
                let f = super::fail_in(tx, job, &text, &cfg.retry).await?;
                handler.queued(tx, &[job]).await?;
                Err((text, f))
            }
        });
    }
    handler.flush(tx, batch).await?;
    if let Some(claimed) = jobs.iter().find(|j| !j.unqueued) {
        complete_rest(tx, &claimed.lease_token, &handled).await?;
    }
    Ok(outcomes)
}

/// Claims up to `limit` due jobs and, in what room they leave, the handler's unqueued work, each
/// given a job row claimed with them: one commit, which counts every attempt (a claim that
/// commits before its batch counts attempts of job rows only).
async fn claim_with_unqueued<H: BatchHandler>(
    db: &Db,
    cfg: &WorkerConfig,
    handler: &H,
    limit: i64,
) -> Result<Vec<Job>, Error> {
    let mut tx = db.begin().await?;
    let claimed = async {
        let (mut jobs, work) = take_in(&mut tx, cfg, handler, limit).await?;
        let token = jobs.first().map(|j| j.lease_token.clone());
        jobs.extend(claim_unqueued_in(&mut tx, work, token, cfg.lease).await?);
        Ok::<_, Error>(jobs)
    }
    .await;
    match claimed {
        Ok(jobs) => tx.commit().await.map(|()| jobs),
        Err(e) => {
            rollback(tx).await;
            Err(e)
        }
    }
}

/// Claims up to `limit` due jobs in `tx`, in enqueue order, and takes the handler's unqueued
/// work in the room they leave (after them: they were queued before any work still unqueued).
async fn take_in<H: BatchHandler>(
    tx: &mut Tx,
    cfg: &WorkerConfig,
    handler: &H,
    limit: i64,
) -> Result<(Vec<Job>, Vec<Job>), Error> {
    let mut jobs = claim_in(tx, &cfg.queue, limit, cfg.lease).await?;
    // A claim returns its rows in no set order on PostgreSQL; ids increase with enqueue time.
    jobs.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let room = usize::try_from(limit)
        .unwrap_or(1)
        .saturating_sub(jobs.len());
    let work = if room > 0 {
        handler.unqueued(tx, room).await?
    } else {
        Vec::new()
    };
    Ok((jobs, work))
}

/// Where a batch's claim is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClaimIn {
    /// In the batch's own transaction: one commit for the claim and the effects.
    Batch,
    /// In a transaction of its own, committed before the batch begins.
    OwnCommit,
}

/// How a round with jobs went.
enum Round<D> {
    /// Committed: the jobs, in enqueue order, with their outcomes, and when handling began
    /// (after the claim).
    Done(Vec<Job>, Vec<Outcome<D>>, std::time::Instant),
    /// The batch of `size` jobs rolled back. `claimed`: the jobs whose claim (and attempt) was
    /// committed before it (`ClaimIn::OwnCommit`); none when the claim rolled back with it.
    Aborted {
        error: Error,
        size: usize,
        claimed: Vec<Job>,
    },
}

/// Claims up to `limit` due jobs and handles them in one transaction. `Err` (nothing claimed,
/// nothing handled) when the claim itself fails.
async fn claim_and_handle<H: BatchHandler>(
    db: &Db,
    cfg: &WorkerConfig,
    handler: &H,
    limit: i64,
    claim_at: ClaimIn,
) -> Result<Round<H::Done>, Error> {
    let mut jobs = Vec::new();
    if claim_at == ClaimIn::OwnCommit {
        jobs = claim_with_unqueued(db, cfg, handler, limit).await?;
        if jobs.is_empty() {
            return Ok(Round::Done(jobs, Vec::new(), std::time::Instant::now()));
        }
    }
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        // Claimed and counted: they are handled one by one (or left to their lease).
        Err(error) if claim_at == ClaimIn::OwnCommit => {
            let size = jobs.len();
            return Ok(Round::Aborted {
                error,
                size,
                claimed: jobs,
            });
        }
        Err(error) => return Err(error),
    };
    if claim_at == ClaimIn::Batch {
        jobs = match take_in(&mut tx, cfg, handler, limit).await {
            Ok((mut jobs, work)) => {
                jobs.extend(work);
                jobs
            }
            Err(e) => {
                rollback(tx).await;
                return Err(e);
            }
        };
        if jobs.is_empty() {
            tx.commit().await?;
            return Ok(Round::Done(jobs, Vec::new(), std::time::Instant::now()));
        }
    }
    let started = std::time::Instant::now();
    let handled = async {
        if claim_at == ClaimIn::OwnCommit {
            hold(&mut tx, &jobs).await?;
        }
        handle_jobs(&mut tx, cfg, handler, &jobs).await
    }
    .await;
    let result = match handled {
        Ok(outcomes) => tx.commit().await.map(|()| outcomes),
        Err(e) => {
            rollback(tx).await;
            Err(e)
        }
    };
    Ok(match result {
        Ok(outcomes) => Round::Done(jobs, outcomes, started),
        Err(error) => Round::Aborted {
            error,
            size: jobs.len(),
            claimed: match claim_at {
                ClaimIn::Batch => Vec::new(),
                ClaimIn::OwnCommit => jobs,
            },
        },
    })
}

/// Rolls `tx` back before going on. A dropped transaction is rolled back by a task sqlx starts
/// when the connection goes back to its pool, in no set order with what comes next: an aborted
/// batch's jobs are claimed again right away, and on PostgreSQL a claim skips the rows a
/// transaction still locks.
async fn rollback(tx: Tx) {
    if let Err(e) = tx.rollback().await {
        tracing::debug!(error = %e, "rolling back an aborted job batch failed");
    }
}

async fn handle_alone<H: BatchHandler>(
    db: &Db,
    cfg: &WorkerConfig,
    handler: &H,
    job: &Job,
) -> Result<(), Error> {
    let started = std::time::Instant::now();
    let outcome = match expired(job) {
        Some(e) => Err(e),
        None => {
            async {
                let mut tx = db.begin().await?;
                let jobs = std::slice::from_ref(job);
                hold(&mut tx, jobs).await?;
                let mut batch = H::Batch::default();
                handler.prepare(&mut tx, jobs, &mut batch).await?;
                match handler.handle(&mut tx, job, &mut batch).await? {
                    Ok(done) => {
                        handler.flush(&mut tx, batch).await?;
                        complete_rest(&mut tx, &job.lease_token, &[job.id.as_str()]).await?;
                        tx.commit().await?;
                        Ok::<_, JobError>(done)
                    }
                    Err(e) => Err(e),
                }
            }
            .await
        }
    };
    observe(&cfg.queue, started, outcome.is_ok());
    match outcome {
        Ok(done) => {
            handler.committed(done);
            metrics::counter!("jobs_completed_total", "queue" => cfg.queue.clone()).increment(1);
        }
        Err(e) => failed(db, cfg, job, &e).await?,
    }
    Ok(())
}

/// Claims due jobs and handles them as one batch ([`BatchHandler`]); returns how many were
/// handled. Tests call this to drive the queue deterministically.
///
/// On SQLite the claim is made in the batch's own transaction: one commit per round, not one
/// for the claim and one for the effects, each a turn of the one write lock and an fsync. The
/// price: a batch that never commits has not counted its attempt. A batch that fails rolls back,
/// so the due jobs, its own among them, are then claimed with a commit of their own (counting
/// the attempt) and handled one per transaction: a job that always breaks its batch still runs
/// out of attempts. A job that kills the process is what [`work_batch_after_start`] is for:
/// one process works a SQLite file's queue, and its first round after a restart counts it.
///
/// On PostgreSQL the claim keeps its own commit: replicas share the queue, and a replica dying
/// in a batch would free the job, uncounted, for another replica to die on.
///
/// The handler's unqueued work ([`BatchHandler::unqueued`]) fills what room the due jobs leave:
/// in the batch itself on SQLite; wherever the claim commits before the batch, each is given a
/// job row claimed with the due jobs, in the claim's commit.
pub async fn work_batch_once<H: BatchHandler>(
    db: &Db,
    cfg: &WorkerConfig,
    handler: &H,
) -> Result<usize, Error> {
    let claim_at = match db.backend() {
        Backend::Sqlite => ClaimIn::Batch,
        Backend::Postgres => ClaimIn::OwnCommit,
    };
    batch_round(db, cfg, handler, claim_at).await
}

/// [`work_batch_once`] with the claim committed on its own before the batch, as a worker's first
/// round after it starts (until one succeeds). A job whose batch killed the process (its claim
/// never committed) is among the first due when the worker comes back: this round either counts its
/// attempt or finishes jobs due before it, so a job that kills the process on every try still runs
/// out of attempts (a claim past the last one dead-letters it) instead of killing it for ever.
pub async fn work_batch_after_start<H: BatchHandler>(
    db: &Db,
    cfg: &WorkerConfig,
    handler: &H,
) -> Result<usize, Error> {
    batch_round(db, cfg, handler, ClaimIn::OwnCommit).await
}

async fn batch_round<H: BatchHandler>(
    db: &Db,
    cfg: &WorkerConfig,
    handler: &H,
    claim_at: ClaimIn,
) -> Result<usize, Error> {
    let limit = handler.admit(cfg.concurrency.max(1)).await.max(1);
    let limit = i64::try_from(limit).unwrap_or(1);
    let (error, size, claimed) = match claim_and_handle(db, cfg, handler, limit, claim_at).await? {
        Round::Done(jobs, outcomes, started) => {
            let mut completed = 0u64;
            for (job, outcome) in jobs.iter().zip(outcomes) {
                // Each job of a batch is done when the batch commits: its latency is the batch's.
                observe(&cfg.queue, started, outcome.is_ok());
                match outcome {
                    Ok(done) => {
                        handler.committed(done);
                        completed += 1;
                    }
                    Err((text, f)) => log_failure(cfg, job, &text, f),
                }
            }
            if !jobs.is_empty() {
                metrics::counter!("jobs_completed_total", "queue" => cfg.queue.clone())
                    .increment(completed);
            }
            return Ok(jobs.len());
        }
        Round::Aborted {
            error,
            size,
            claimed,
        } => (error, size, claimed),
    };
    tracing::warn!(queue = %cfg.queue, size, error = %platform::problem::cause_chain(&error),
        "job batch aborted; handling its jobs one by one");
    metrics::counter!("jobs_batches_aborted_total", "queue" => cfg.queue.clone()).increment(1);
    let mut jobs = if claimed.is_empty() {
        // The batch's unqueued work, the oldest, is claimed with job rows: work that always
        // breaks its batch must count its attempts too.
        claim_with_unqueued(db, cfg, handler, limit).await?
    } else {
        claimed
    };
    jobs.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    // Every job gets its turn: one that cannot even record its failure (the database is down)
    // is left to its lease, the others still run.
    let mut first_error = None;
    for job in &jobs {
        if let Err(e) = handle_alone(db, cfg, handler, job).await {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(jobs.len()),
    }
}

/// [`stats`] of a batch worker's queue, its handler's unqueued work counted as pending (and its
/// oldest as the oldest due).
pub async fn stats_with<H: BatchHandler>(
    db: &Db,
    queue: &str,
    handler: &H,
) -> Result<super::Stats, Error> {
    let mut st = stats(db, queue).await?;
    let (waiting, oldest) = handler.unqueued_depth(db).await?;
    st.pending += waiting;
    if let Some(oldest) = oldest {
        let age = (Utc::now() - oldest).num_seconds().max(0);
        st.oldest_due_age_s = st.oldest_due_age_s.max(age);
    }
    Ok(st)
}

fn record_depth(queue: &str, s: super::Stats) {
    let q = queue.to_owned();
    #[expect(
        clippy::cast_precision_loss,
        reason = "queue depths are far below 2^52"
    )]
    {
        metrics::gauge!("jobs_pending", "queue" => q.clone()).set(s.pending as f64);
        metrics::gauge!("jobs_dead", "queue" => q.clone()).set(s.dead as f64);
        metrics::gauge!("jobs_oldest_due_age_seconds", "queue" => q).set(s.oldest_due_age_s as f64);
    }
}

/// Works `cfg.queue` until the service stops; a job in progress at shutdown finishes within the
/// drain bound or is taken over by another worker when its lease runs out.
pub fn spawn_worker(ctx: &Ctx, db: Db, cfg: WorkerConfig, handler: Handler) {
    let (d, c) = (db.clone(), cfg.clone());
    let (dd, q) = (db.clone(), cfg.queue.clone());
    spawn_loop(
        ctx,
        db,
        cfg,
        move || {
            let (d, c, h) = (d.clone(), c.clone(), Arc::clone(&handler));
            async move { work_once(&d, &c, &h).await }
        },
        move || {
            let (d, q) = (dd.clone(), q.clone());
            async move { stats(&d, &q).await }
        },
    );
}

/// [`spawn_worker`] for a [`BatchHandler`]: its rounds are [`work_batch_after_start`] until one
/// succeeds, then [`work_batch_once`].
pub fn spawn_batch_worker<H: BatchHandler>(ctx: &Ctx, db: Db, cfg: WorkerConfig, handler: Arc<H>) {
    let (d, c, h) = (db.clone(), cfg.clone(), Arc::clone(&handler));
    let (dd, q) = (db.clone(), cfg.queue.clone());
    let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
    spawn_loop(
        ctx,
        db,
        cfg,
        move || {
            let (d, c, h) = (d.clone(), c.clone(), Arc::clone(&h));
            let started = Arc::clone(&started);
            async move {
                if started.load(std::sync::atomic::Ordering::Relaxed) {
                    return work_batch_once(&d, &c, h.as_ref()).await;
                }
                let round = work_batch_after_start(&d, &c, h.as_ref()).await;
                started.store(round.is_ok(), std::sync::atomic::Ordering::Relaxed);
                round
            }
        },
        move || {
            let (d, q, h) = (dd.clone(), q.clone(), Arc::clone(&handler));
            async move { stats_with(&d, &q, h.as_ref()).await }
        },
    );
}

/// Runs `round` until the service stops, and every 5 s records the queue's `depth`.
fn spawn_loop<F, Fut, G, GFut>(ctx: &Ctx, db: Db, cfg: WorkerConfig, round: F, depth: G)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<usize, Error>> + Send,
    G: Fn() -> GFut + Send + 'static,
    GFut: Future<Output = Result<super::Stats, Error>> + Send,
{
    let stop = ctx.shutdown.clone();
    ctx.spawn("job-worker", async move {
        let mut last_depth = tokio::time::Instant::now();
        loop {
            let wake = db.jobs_wake.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            let handled = match round().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(queue = %cfg.queue, error = %platform::problem::cause_chain(&e), "job round failed");
                    0
                }
            };
            if last_depth.elapsed() >= Duration::from_secs(5) {
                if let Ok(s) = depth().await {
                    record_depth(&cfg.queue, s);
                }
                last_depth = tokio::time::Instant::now();
            }
            // A stopping service finishes the jobs in hand and leaves the rest queued: checked
            // here too, or a backlog kept the worker (and the shutdown) going until it was empty.
            if stop.is_cancelled() {
                return Ok(());
            }
            if handled > 0 {
                continue;
            }
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                () = &mut wake => {}
                () = tokio::time::sleep(cfg.poll) => {}
            }
        }
    });
}
