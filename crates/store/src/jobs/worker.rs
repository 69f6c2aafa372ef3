//! Job workers: claim, handle, complete or fail, until the service stops.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use platform::Ctx;

use super::{Failed, Job, Retry, claim, fail, stats};
use crate::{Db, Error, Tx, on};

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

async fn run_one(db: &Db, cfg: &WorkerConfig, handler: &Handler, job: Job) -> Result<(), Error> {
    let queue = cfg.queue.clone();
    let started = std::time::Instant::now();
    // A job that keeps killing its worker comes back with attempts past the limit: stop there.
    let outcome = if job.attempts > job.max_attempts {
        Err("lease expired on every attempt (the worker died or hung)".into())
    } else {
        handler(job.clone()).await
    };
    metrics::histogram!("jobs_handler_duration_seconds", "queue" => queue.clone(),
        "outcome" => if outcome.is_ok() { "ok" } else { "error" })
    .record(started.elapsed().as_secs_f64());
    match outcome {
        Ok(()) => {
            complete_if_present(db, &job).await?;
            metrics::counter!("jobs_completed_total", "queue" => queue).increment(1);
        }
        Err(e) => {
            let text = e.to_string();
            match fail(db, &job, &text, &cfg.retry).await? {
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

async fn record_depth(db: &Db, queue: &str) {
    if let Ok(s) = stats(db, queue).await {
        let q = queue.to_owned();
        #[expect(
            clippy::cast_precision_loss,
            reason = "queue depths are far below 2^52"
        )]
        {
            metrics::gauge!("jobs_pending", "queue" => q.clone()).set(s.pending as f64);
            metrics::gauge!("jobs_dead", "queue" => q.clone()).set(s.dead as f64);
            metrics::gauge!("jobs_oldest_due_age_seconds", "queue" => q)
                .set(s.oldest_due_age_s as f64);
        }
    }
}

/// Works `cfg.queue` until the service stops; a job in progress at shutdown finishes within the
/// drain bound or is taken over by another worker when its lease runs out.
pub fn spawn_worker(ctx: &Ctx, db: Db, cfg: WorkerConfig, handler: Handler) {
    let stop = ctx.shutdown.clone();
    ctx.spawn("job-worker", async move {
        let mut last_depth = tokio::time::Instant::now();
        loop {
            let wake = db.jobs_wake.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            let handled = match work_once(&db, &cfg, &handler).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(queue = %cfg.queue, error = %platform::problem::cause_chain(&e), "job round failed");
                    0
                }
            };
            if last_depth.elapsed() >= Duration::from_secs(5) {
                record_depth(&db, &cfg.queue).await;
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
