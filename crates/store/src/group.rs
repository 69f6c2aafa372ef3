//! The group-commit writer: one task applies queued write operations in batches, one transaction
//! and one commit per batch, and answers each caller only after its batch is durable.
//!
//! One commit per request caps this 2-core machine near 4,000 durable writes/s; a batch of ten
//! to a hundred shares one fsync. Each operation keeps its own outcome: an operation that is
//! refused (overdraft, duplicate) must write nothing, which it ensures with conditional
//! `UPDATE … RETURNING` and `INSERT … ON CONFLICT DO NOTHING` (an error would abort the whole
//! PostgreSQL transaction), so the rest of its batch commits. An unexpected error aborts the batch,
//! and its operations are then applied one by one, each in its own transaction, so one bad
//! operation fails alone. No savepoint per operation: PostgreSQL slows sharply past 64
//! subtransactions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::{Db, Error, Tx};

/// A write the group-commit writer can batch.
pub trait Op: Send + Sync + 'static {
    /// The result of an applied operation.
    type Output: Send + 'static;
    /// A domain refusal: the operation wrote nothing, and the batch goes on.
    type Refusal: Send + 'static;
    /// Rows the operations of one batch leave to be written together at its end (one multi-row
    /// `INSERT` per table instead of one statement per row); `()` when they write directly.
    type Batch: Default + Send;

    /// Applies the operation in `tx`, buffering inserts in `batch`. `Ok(Err(refusal))` must leave
    /// no write behind; `Err` is unexpected and aborts the batch.
    fn apply(
        &self,
        tx: &mut Tx,
        batch: &mut Self::Batch,
    ) -> impl Future<Output = Result<Result<Self::Output, Self::Refusal>, Error>> + Send;

    /// Reads what every operation of the batch will need, in one statement, before the first is
    /// applied (for example the idempotency keys they carry).
    fn prepare(
        tx: &mut Tx,
        ops: &[&Self],
        batch: &mut Self::Batch,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (tx, ops, batch);
        async { Ok(()) }
    }

    /// Writes what the batch buffered, before its commit. A failure (such as a unique
    /// constraint another instance won) aborts the batch like any unexpected error.
    fn flush(tx: &mut Tx, batch: Self::Batch) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (tx, batch);
        async { Ok(()) }
    }
}

/// What a caller gets: its outcome, after its batch committed.
pub type Outcome<O> = Result<Result<<O as Op>::Output, <O as Op>::Refusal>, Error>;

struct Pending<O: Op> {
    op: O,
    reply: oneshot::Sender<Outcome<O>>,
    /// When the caller queued it: its wait for company counts from here, so an operation that
    /// queued behind a commit in progress waits no further once that commit ends.
    queued: Instant,
}

/// Batching limits.
#[derive(Debug, Clone, Copy)]
pub struct GroupConfig {
    /// Most operations per transaction.
    pub max_batch: usize,
    /// Longest an operation waits for others to join its batch.
    pub max_wait: Duration,
    /// Operations queued before callers wait for room (backpressure).
    pub queue: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            max_batch: 128,
            max_wait: Duration::from_millis(1),
            queue: 8192,
        }
    }
}

/// A handle to a writer task; cheap to clone.
pub struct GroupCommit<O: Op> {
    sender: mpsc::Sender<Pending<O>>,
    /// Operations submitted and not yet answered.
    waiting: Arc<AtomicUsize>,
    /// When the writer started, and microseconds from then to the last submission.
    started: Instant,
    last_submit_us: Arc<AtomicU64>,
    /// Operations submitted since the writer started.
    submitted: Arc<AtomicU64>,
}

impl<O: Op> Clone for GroupCommit<O> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
            waiting: Arc::clone(&self.waiting),
            started: self.started,
            last_submit_us: Arc::clone(&self.last_submit_us),
            submitted: Arc::clone(&self.submitted),
        }
    }
}

/// Counts an operation from its submission until its caller stops waiting (answered, or gone).
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(Arc::clone(count))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The writer is gone (the service is stopping).
fn closed() -> Error {
    Error::Setup("the group-commit writer has stopped".into())
}

impl<O: Op> GroupCommit<O> {
    /// Starts a writer over `db`. It stops when every handle is dropped, after finishing the
    /// operations already queued.
    pub fn spawn(db: Db, config: GroupConfig, name: &'static str) -> Self {
        let (sender, receiver) = mpsc::channel(config.queue.max(1));
        tokio::spawn(run(db, config, name, receiver));
        Self {
            sender,
            waiting: Arc::new(AtomicUsize::new(0)),
            started: Instant::now(),
            last_submit_us: Arc::new(AtomicU64::new(0)),
            submitted: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Operations submitted and not yet answered: lets background work on the same database
    /// give way while callers wait on this writer.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Operations submitted and not yet taken into a batch by the writer: a transaction started
    /// on the same database now would delay them, while those already in a batch are only
    /// waiting for its commit.
    pub fn queued(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    /// Operations submitted since the writer started: their rate tells background work how
    /// busy the writer's callers keep it.
    pub fn submitted(&self) -> u64 {
        self.submitted.load(Ordering::Relaxed)
    }

    /// How long since the last operation was submitted: lets background work tell a lull in
    /// traffic from the gap between two batches.
    pub fn idle_for(&self) -> Duration {
        let last = Duration::from_micros(self.last_submit_us.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    /// Queues `op` and waits until its batch is durable.
    pub async fn submit(&self, op: O) -> Outcome<O> {
        let _waiting = Waiting::new(&self.waiting);
        self.submitted.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        let queued = Instant::now();
        let since_start = queued.duration_since(self.started).as_micros();
        self.last_submit_us.store(
            u64::try_from(since_start).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.sender
            .send(Pending { op, reply, queued })
            .await
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

async fn run<O: Op>(
    db: Db,
    config: GroupConfig,
    name: &'static str,
    mut rx: mpsc::Receiver<Pending<O>>,
) {
    let sizes = metrics::histogram!("group_commit_batch_size", "writer" => name);
    let durations = metrics::histogram!("group_commit_duration_seconds", "writer" => name);
    let mut batch: Vec<Pending<O>> = Vec::with_capacity(config.max_batch);
    while let Some(first) = rx.recv().await {
        let deadline = first.queued + config.max_wait;
        batch.push(first);
        while batch.len() < config.max_batch {
            // Take what is already queued without waiting, then wait out the deadline.
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(p)) => batch.push(p),
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        }
        sizes.record(f64::from(u32::try_from(batch.len()).unwrap_or(u32::MAX)));
        let started = Instant::now();
        apply_batch(&db, name, std::mem::take(&mut batch)).await;
        durations.record(started.elapsed().as_secs_f64());
    }
}

async fn apply_batch<O: Op>(db: &Db, name: &'static str, batch: Vec<Pending<O>>) {
    match try_batch(db, &batch).await {
        Ok(outcomes) => {
            for (p, o) in batch.into_iter().zip(outcomes) {
                let _ = p.reply.send(Ok(o));
            }
        }
        Err(e) => {
            tracing::warn!(writer = name, size = batch.len(), error = %crate::error_chain(&e),
                "batch aborted; applying its operations one by one");
            metrics::counter!("group_commit_batches_aborted_total", "writer" => name).increment(1);
            for p in batch {
                let outcome = apply_alone(db, &p.op).await;
                let _ = p.reply.send(outcome);
            }
        }
    }
}

async fn try_batch<O: Op>(
    db: &Db,
    batch: &[Pending<O>],
) -> Result<Vec<Result<O::Output, O::Refusal>>, Error> {
    let mut tx = db.begin().await?;
    let mut rows = O::Batch::default();
    let ops: Vec<&O> = batch.iter().map(|p| &p.op).collect();
    O::prepare(&mut tx, &ops, &mut rows).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for p in batch {
        outcomes.push(p.op.apply(&mut tx, &mut rows).await?);
    }
    O::flush(&mut tx, rows).await?;
    tx.commit().await?;
    Ok(outcomes)
}

async fn apply_alone<O: Op>(db: &Db, op: &O) -> Outcome<O> {
    let mut tx = db.begin().await?;
    let mut rows = O::Batch::default();
    O::prepare(&mut tx, &[op], &mut rows).await?;
    let outcome = op.apply(&mut tx, &mut rows).await?;
    O::flush(&mut tx, rows).await?;
    tx.commit().await?;
    Ok(outcome)
}
