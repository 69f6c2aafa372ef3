//! The durable job queue (`buyer-saga`): the purchase saga's steps, settlement deadlines and
//! intent expiries, each a job that survives crashes and is retried with backoff, then
//! dead-lettered (`GET /admin/saga`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use contracts::buyer::INTENT_EXPIRED;
use serde::{Deserialize, Serialize};
use store::jobs::{self, Handler, Job, JobError, NewJob, WorkerConfig};
use store::{Tx, outbox};

use crate::saga::{SagaError, advance, cancelled, event};
use crate::state::AppState;
use crate::store::{intents, purchases};
use crate::{Error, metrics};

/// The queue's name.
pub(crate) const QUEUE: &str = "buyer-saga";

/// A job of the queue.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Work {
    /// Move a purchase on from its stored state.
    Advance { purchase_id: String },
    /// The purchase's settlement deadline.
    Deadline { purchase_id: String },
    /// The intent's `expiresAt`.
    ExpireIntent { intent_id: String },
}

/// Queues `work` in `tx`, to run at `at` (default now); `dedupe` keeps one live job per key.
pub(crate) async fn enqueue(
    tx: &mut Tx,
    s: &AppState,
    work: &Work,
    at: Option<DateTime<Utc>>,
    dedupe: Option<&str>,
) -> Result<(), Error> {
    let mut job = NewJob::new(QUEUE, work, &s.retry)?;
    job.run_at = at;
    job.dedupe_key = dedupe;
    jobs::enqueue(tx, &job).await?;
    Ok(())
}

/// Starts the queue's worker.
pub(crate) fn spawn(ctx: &platform::Ctx, s: &AppState) {
    let mut cfg = WorkerConfig::new(QUEUE, (*s.retry).clone());
    cfg.concurrency = s.config.saga_concurrency;
    let state = Arc::new(s.clone());
    let handler: Handler = jobs::handler(move |job: Job| {
        let s = Arc::clone(&state);
        async move { run(&s, &job).await }
    });
    jobs::spawn_worker(ctx, s.db.clone(), cfg, handler);
}

async fn run(s: &AppState, job: &Job) -> Result<(), JobError> {
    match job.payload::<Work>()? {
        Work::Advance { purchase_id } => advance(s, &purchase_id).await?,
        Work::Deadline { purchase_id } => deadline(s, &purchase_id).await?,
        Work::ExpireIntent { intent_id } => {
            if let Some(at) = expire_intent(s, &intent_id).await? {
                jobs::defer(&s.db, job, at).await?;
            }
        }
    }
    Ok(())
}

/// The settlement deadline: a purchase not confirmed by both sides is cancelled and voided.
async fn deadline(s: &AppState, id: &str) -> Result<(), SagaError> {
    let mut tx = s.db.begin().await?;
    if let Some(p) = purchases::expire(tx.exec(), id, Utc::now()).await? {
        cancelled(&mut tx, &p).await?;
        tx.commit().await?;
        metrics::purchase("cancelled");
        tracing::info!(purchase_id = %id, "purchase cancelled at its settlement deadline");
    } else {
        drop(tx);
    }
    advance(s, id).await
}

/// The intent's deadline: expires it, or says when to look again (a purchase in flight holds it).
async fn expire_intent(s: &AppState, id: &str) -> Result<Option<DateTime<Utc>>, Error> {
    let now = Utc::now();
    let mut tx = s.db.begin().await?;
    if let Some(i) = intents::expire(tx.exec(), id, now).await? {
        outbox::enqueue(
            &mut tx,
            &event(INTENT_EXPIRED, &i.tenant_id, &i.id, i.changed())?,
        )
        .await?;
        tx.commit().await?;
        metrics::intent("expired");
        tracing::info!(intent_id = %id, "intent expired");
        return Ok(None);
    }
    let row = intents::find(tx.exec(), id).await?;
    drop(tx);
    Ok(match row {
        // Still pending: a purchase is being made; look again shortly.
        Some(i) if i.status == "pending" => {
            Some(now + chrono::Duration::from_std(s.config.saga_retry_base * 4).unwrap_or_default())
        }
        _ => None,
    })
}
