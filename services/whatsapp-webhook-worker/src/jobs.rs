//! Processing, off the request path. A stored message not routed yet is its own first attempt
//! (`store::jobs::BatchHandler::unqueued`): the worker reads it, decides its route, updates the
//! contact's state, writes the event to the outbox and marks the message routed, all in its
//! batch's transaction: effects are exactly-once. A message over its sender's limit
//! ([`crate::throttle`]) is deferred instead (`store::jobs::defer_in`), and one that fails is
//! retried: either way it gets a job on the queue then, keyed by its `wamid`. On PostgreSQL, and
//! in a worker's first round after it starts, messages get jobs claimed in a commit before being
//! handled (the store's guard against a message that kills its worker on every try).
//!
//! The jobs of one claim share a transaction (`store::jobs::BatchHandler`), handled in claim
//! order, so a contact's messages still go one at a time and in order; their reads and writes
//! are made together ([`Batch`]). One transaction per message kept processing near 1,000
//! messages/s on a core, far behind ingest.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use contracts::Envelope;
use contracts::whatsapp::{
    CONTACT_OPTED_OUT, ContactOptedOut, Destination, MESSAGE_ROUTED, MessageRouted, WaContact,
};
use serde::{Deserialize, Serialize};
use store::Tx;
use store::jobs::{self, BatchHandler, Job, JobError, WorkerConfig};

use crate::domain::{self, Decision};
use crate::metrics;
use crate::state::{AppState, QUEUE};
use crate::store::{contacts, messages, outbound as rows};
use crate::throttle::Verdict;

/// The payload of a processing job: a reference to the stored message, never its content.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct JobPayload {
    pub(crate) wamid: String,
}

/// A processing failure (retried, then dead-lettered with this text).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProcessError {
    /// The business number has no tenant and a mapping is required.
    #[error("no tenant is mapped for phone_number_id {0:?} (WHATSAPP_WEBHOOK_WORKER_TENANTS)")]
    UnmappedNumber(Option<String>),
}

/// How the queue is worked.
pub(crate) fn worker_config(s: &AppState) -> WorkerConfig {
    let mut cfg = WorkerConfig::new(QUEUE, (*s.retry).clone());
    cfg.concurrency = s.config.processing_batch;
    cfg.lease = s.config.job_lease;
    cfg
}

/// Longest routing holds back, from `BUSY_RATE` webhooks/s on, while webhooks wait on the ingest
/// writer. A routing round is a write transaction with its commit (on SQLite; two until session
/// 10, and still on PostgreSQL: the claim, then the batch), during which no webhook batch can
/// commit: under a flood that never lets up, one round per 10 ms cost the ingest 10-20% of its
/// rate (a 64-connection closed loop: 17.8-20.1k/s against 20.7-22.0k/s with 50 ms), while the
/// 400 messages/s it routed did not keep the backlog from growing anyway.
const YIELD_MAX: Duration = Duration::from_millis(50);

/// Pause before each routing round from `BUSY_RATE` webhooks/s on. Webhooks arriving evenly at
/// 10,000/s leave a moment with none waiting some 50 times a second, and routing took each one:
/// the p99 of webhooks was 7.9-9.5 ms, against 4.9-5.9 ms with the pause and 4.9-7.2 ms with no
/// routing at all (three runs each). Routing then does 50-80 messages/s, the backlog waits for
/// the flood to end.
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// Jobs routed together from `BUSY_RATE` webhooks/s on: a routing transaction holds the one write
/// connection, and the next ingest batch waits for it (16 jobs held it ~2-3 ms, which put the
/// p99 of webhooks at 10,000/s above 10 ms).
const BUSY_BATCH: usize = 4;

/// Longest routing holds back below `BUSY_RATE` for the moment no delivery is queued for the
/// next ingest batch. With webhooks arriving evenly (not in bursts a millisecond apart) such a
/// moment can be rarer than one per 50 ms, and routing, waiting out `YIELD_MAX` each round, fell
/// to 4,164-7,844 of 30,000 messages during 10 s at 3,000/s.
const GAP_YIELD_MAX: Duration = Duration::from_millis(2);

/// Jobs routed together below `BUSY_RATE`: a routing round (its transaction and commit) costs
/// about as much for 32 jobs as for 4. At 4,500 webhooks/s, 16 a round routed 33,940 of 45,000
/// messages during the load, 32 all of them.
const GAP_BATCH: usize = 32;

/// Webhooks/s from which routing gives way to every waiting webhook. On one core routing keeps
/// up with 3,000 and 4,500 webhooks/s arriving evenly (all routed during 10 s runs), not with
/// 6,000/s; at that rate ingest comes first.
const BUSY_RATE: f64 = 5_000.0;

/// The window the ingest rate is measured over.
const RATE_WINDOW: Duration = Duration::from_millis(100);

/// No webhook for this long: traffic is light, and routing takes full batches.
const QUIET: Duration = Duration::from_millis(5);

/// The queue's handler.
pub(crate) struct Processor {
    state: AppState,
    /// The ingest rate routing last measured (see [`Pace::rate`]).
    pace: std::sync::Mutex<Pace>,
}

/// Webhooks submitted to the ingest writer as of `at`, and the rate measured up to then.
struct Pace {
    at: tokio::time::Instant,
    submitted: u64,
    rate: f64,
}

impl Pace {
    /// Webhooks per second the ingest writer was given (`submitted` so far, at `now`), measured
    /// over at least `RATE_WINDOW`. A measure older than a few windows (routing was idle, or
    /// working through a backlog in a lull) would average a flood that just began with the lull
    /// before it: until a fresh window ends, the rate counts as busy.
    fn rate(&mut self, now: tokio::time::Instant, submitted: u64) -> f64 {
        let elapsed = now.duration_since(self.at);
        if elapsed < RATE_WINDOW {
            return self.rate;
        }
        let rate = if elapsed > RATE_WINDOW * 4 {
            BUSY_RATE
        } else {
            #[expect(
                clippy::cast_precision_loss,
                reason = "a count of webhooks in a window is far below 2^52"
            )]
            let n = submitted.saturating_sub(self.submitted) as f64;
            n / elapsed.as_secs_f64()
        };
        *self = Self {
            at: now,
            submitted,
            rate,
        };
        rate
    }
}

impl Processor {
    pub(crate) fn new(state: AppState) -> Self {
        let pace = Pace {
            at: tokio::time::Instant::now(),
            submitted: state.ingest.submitted(),
            rate: BUSY_RATE,
        };
        Self {
            state,
            pace: std::sync::Mutex::new(pace),
        }
    }

    fn ingest_rate(&self) -> f64 {
        let mut pace = self
            .pace
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pace.rate(tokio::time::Instant::now(), self.state.ingest.submitted())
    }
}

/// What became of a job, reported after its transaction committed.
pub(crate) enum Done {
    /// Routed (`destination`), or `opted_out`.
    Processed(&'static str),
    /// Put off by the per-sender limit (`reason`: `rate_limited` or `ordering`).
    Deferred(&'static str),
    /// Nothing left to do (an unknown or already processed message).
    Skipped,
}

/// What a routing batch reads before its first job and writes after its last: its messages and
/// contacts are read with a statement each, and its contacts, events and routes are written with
/// a statement each, instead of some six statements per message.
#[derive(Default)]
pub(crate) struct Batch {
    /// The batch's messages, by `wamid`.
    messages: HashMap<String, messages::Stored>,
    /// The batch's contacts by (tenant, contact id), as the messages routed so far left them:
    /// a contact's next message in the batch sees its previous one's effect.
    contacts: HashMap<(String, String), Contact>,
    events: Vec<Envelope>,
    processed: Vec<messages::Processed>,
    /// Messages deferred here, so given a job: out of the unrouted index.
    queued: Vec<String>,
}

/// A contact's routing state in a batch.
#[derive(Default)]
struct Contact {
    state: contacts::State,
    /// Changed by the batch: stored at its end.
    changed: bool,
}

impl BatchHandler for Processor {
    type Done = Done;
    type Batch = Batch;

    async fn unqueued(&self, tx: &mut Tx, limit: usize) -> Result<Vec<Job>, store::Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut work = Vec::new();
        for wamid in messages::unrouted(tx, QUEUE, limit).await? {
            let payload = serde_json::to_string(&JobPayload {
                wamid: wamid.clone(),
            })?;
            work.push(Job::unqueued(QUEUE, wamid, payload, &self.state.retry));
        }
        Ok(work)
    }

    async fn queued(&self, tx: &mut Tx, jobs: &[&Job]) -> Result<(), store::Error> {
        let payloads: Vec<JobPayload> = jobs.iter().filter_map(|j| j.payload().ok()).collect();
        let wamids: Vec<&str> = payloads.iter().map(|p| p.wamid.as_str()).collect();
        messages::mark_queued(tx, &wamids).await
    }

    async fn unqueued_depth(
        &self,
        db: &store::Db,
    ) -> Result<(i64, Option<chrono::DateTime<Utc>>), store::Error> {
        messages::unrouted_depth(db).await
    }

    async fn prepare(
        &self,
        tx: &mut Tx,
        jobs: &[Job],
        batch: &mut Batch,
    ) -> Result<(), store::Error> {
        let payloads: Vec<JobPayload> = jobs.iter().filter_map(|j| j.payload().ok()).collect();
        let wamids: Vec<&str> = payloads.iter().map(|p| p.wamid.as_str()).collect();
        let found = messages::get_many(tx, &wamids).await?;
        let s = &self.state;
        // One read per tenant (there is usually one): the key starts with the tenant.
        let mut wanted: HashMap<&str, Vec<&str>> = HashMap::new();
        for m in &found {
            if let Some(t) = s
                .config
                .tenant(m.phone_number_id.as_deref(), &s.default_tenant)
            {
                wanted.entry(t).or_default().push(&m.contact_id);
            }
        }
        for (tenant, ids) in wanted {
            for (id, state) in contacts::get_many(tx, tenant, &ids).await? {
                let contact = Contact {
                    state,
                    changed: false,
                };
                batch.contacts.insert((tenant.to_owned(), id), contact);
            }
        }
        batch.messages = found.into_iter().map(|m| (m.wamid.clone(), m)).collect();
        Ok(())
    }

    async fn handle(
        &self,
        tx: &mut Tx,
        job: &Job,
        batch: &mut Batch,
    ) -> Result<Result<Done, JobError>, store::Error> {
        process(&self.state, tx, job, batch).await
    }

    async fn flush(&self, tx: &mut Tx, batch: Batch) -> Result<(), store::Error> {
        let changed: Vec<contacts::Save<'_>> = batch
            .contacts
            .iter()
            .filter(|(_, c)| c.changed)
            .map(|((tenant, contact), c)| contacts::Save {
                tenant,
                contact,
                state: &c.state,
            })
            .collect();
        contacts::save_many(tx, &changed, Utc::now()).await?;
        store::outbox::enqueue_many(tx, &batch.events).await?;
        let deferred: Vec<&str> = batch.queued.iter().map(String::as_str).collect();
        messages::mark_queued(tx, &deferred).await?;
        messages::mark_processed(tx, &batch.processed).await
    }

    /// Webhooks first: a delivery's 200 waits on the ingest writer, a routing job waits on
    /// nobody, and both need SQLite's one write lock (and, on this machine, the same core).
    /// Below `BUSY_RATE` webhooks/s routing waits (at most `GAP_YIELD_MAX`) until no delivery is
    /// queued for the writer, those in the batch being committed waiting for its commit anyway,
    /// and takes `GAP_BATCH` jobs: enough to keep up. Above it, where one core cannot do both,
    /// routing pauses `BUSY_PAUSE`, then waits until no delivery is waiting at all (at most
    /// `YIELD_MAX`) and takes `BUSY_BATCH`: a flood slows routing but never stops it, and the
    /// webhooks keep the writer to themselves.
    async fn admit(&self, limit: usize) -> usize {
        let ingest = &self.state.ingest;
        let quiet = || ingest.waiting() == 0 && ingest.idle_for() >= QUIET;
        if quiet() {
            return limit;
        }
        let busy = self.ingest_rate() >= BUSY_RATE;
        if busy {
            tokio::time::sleep(BUSY_PAUSE).await;
            if quiet() {
                return limit;
            }
        }
        let until = tokio::time::Instant::now() + if busy { YIELD_MAX } else { GAP_YIELD_MAX };
        loop {
            let in_the_way = if busy {
                ingest.waiting()
            } else {
                ingest.queued()
            };
            if in_the_way == 0 || tokio::time::Instant::now() >= until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        limit.min(if busy { BUSY_BATCH } else { GAP_BATCH })
    }

    fn committed(&self, done: Done) {
        match done {
            Done::Processed(destination) => metrics::processed(destination),
            Done::Deferred(reason) => metrics::deferred(reason),
            Done::Skipped => {}
        }
    }
}

/// Processes one job of `batch` (see the module docs). `Ok(Err(_))`: this message cannot be
/// routed (retried, then dead-lettered), found before anything is written or buffered; `Err`: a
/// database error.
async fn process(
    s: &AppState,
    tx: &mut Tx,
    job: &Job,
    batch: &mut Batch,
) -> Result<Result<Done, JobError>, store::Error> {
    let payload: JobPayload = match job.payload() {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.into())),
    };
    let Some(m) = batch.messages.get_mut(&payload.wamid) else {
        tracing::warn!(wamid = %payload.wamid, "job for an unknown message dropped");
        return Ok(Ok(Done::Skipped));
    };
    if m.processed_at.is_some() {
        return Ok(Ok(Done::Skipped));
    }
    // What can fail for this message alone is checked before the first write and before the
    // per-sender limit, whose in-memory state a rolled-back batch would not undo.
    let checked = (|| -> Result<_, JobError> {
        let tenant = s
            .config
            .tenant(m.phone_number_id.as_deref(), &s.default_tenant)
            .ok_or_else(|| ProcessError::UnmappedNumber(m.phone_number_id.clone()))?
            .to_owned();
        let message: serde_json::Value = serde_json::from_str(&m.message)?;
        let parsed: whatsapp::webhook::Message = serde_json::from_value(message.clone())?;
        Ok((tenant, message, parsed))
    })();
    let (tenant, message, parsed) = match checked {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let masked = platform::pii::mask_phone(&m.contact_id);
    if let Verdict::Defer { until, ordered } = s.throttle.check(&tenant, &m.contact_id, &m.wamid) {
        let reason = if ordered { "ordering" } else { "rate_limited" };
        if !jobs::defer_in(tx, job, until).await? {
            return Err(store::Error::LeaseLost);
        }
        batch.queued.push(m.wamid.clone());
        tracing::info!(wamid = %m.wamid, contact = %masked, until = %until, reason,
            "message deferred by the per-sender limit");
        return Ok(Ok(Done::Deferred(reason)));
    }
    let text = parsed.kind.routing_text().map(str::to_owned);
    let contact = batch
        .contacts
        .entry((tenant.clone(), m.contact_id.clone()))
        .or_default();
    let active = contact
        .state
        .active_service
        .as_deref()
        .and_then(Destination::parse);
    let now = Utc::now();
    let who = WaContact {
        kind: m.contact_kind.clone(),
        id: m.contact_id.clone(),
        profile_name: m.profile_name.clone(),
    };
    let (event, routed_to) =
        match domain::decide(text.as_deref(), active, &s.config.opt_out_keywords) {
            Decision::OptOut(keyword) => {
                let opted_out_at = *contact.state.opted_out_at.get_or_insert(now);
                contact.changed = true;
                let data = ContactOptedOut {
                    tenant_id: tenant.clone(),
                    contact: who,
                    wamid: m.wamid.clone(),
                    keyword,
                    opted_out_at,
                };
                tracing::info!(wamid = %m.wamid, contact = %masked, "contact opted out");
                (
                    Envelope::new(CONTACT_OPTED_OUT, crate::NAME, &tenant, &data)?,
                    None,
                )
            }
            Decision::Route { to, reason, sticky } => {
                if sticky != active {
                    contact.state.active_service = sticky.map(|d| d.as_str().to_owned());
                    contact.changed = true;
                }
                let data = MessageRouted {
                    service: to,
                    reason,
                    tenant_id: tenant.clone(),
                    phone_number_id: m.phone_number_id.clone(),
                    contact: who,
                    wamid: m.wamid.clone(),
                    message_type: m.message_type.clone(),
                    routing_text: text,
                    opted_out: contact.state.opted_out_at.is_some(),
                    message,
                    received_at: m.received_at,
                };
                if to == Destination::HomeMenu && !data.opted_out {
                    home_menu(tx, s, &tenant, m, now).await?;
                }
                tracing::info!(wamid = %m.wamid, contact = %masked, service = to.as_str(),
                    reason = ?reason, "message routed");
                (
                    Envelope::new(MESSAGE_ROUTED, crate::NAME, &tenant, &data)?,
                    Some(to.as_str()),
                )
            }
        };
    batch.events.push(event.correlated(Some(m.wamid.clone())));
    batch.processed.push(messages::Processed {
        wamid: m.wamid.clone(),
        tenant,
        routed_to,
        at: now,
    });
    m.processed_at = Some(now);
    Ok(Ok(Done::Processed(routed_to.unwrap_or("opted_out"))))
}

/// Queues the home menu as the answer to a greeting, from the number that received it, in the
/// job's transaction: it is sent once per greeting, however often the job runs. Nothing is
/// queued when this replica cannot send.
async fn home_menu(
    tx: &mut store::Tx,
    s: &AppState,
    tenant: &str,
    m: &messages::Stored,
    now: chrono::DateTime<Utc>,
) -> Result<(), store::Error> {
    let (Some(_), Some(number)) = (&s.client, &m.phone_number_id) else {
        return Ok(());
    };
    let content = crate::menu::home();
    let row = rows::Row {
        id: ulid::Ulid::generate().to_string(),
        tenant_id: tenant.to_owned(),
        phone_number_id: number.clone(),
        contact_kind: m.contact_kind.clone(),
        contact_id: m.contact_id.clone(),
        kind: content.kind().to_owned(),
        payload: serde_json::to_string(&content)?,
        reply_to: None,
        state: "queued".to_owned(),
        state_rank: 0,
        wamid: None,
        error: None,
        created_at: now,
        updated_at: now,
    };
    crate::send::queue(tx, s, &row).await?;
    tracing::info!(id = %row.id, wamid = %m.wamid, "home menu queued");
    Ok(())
}

/// Starts the processing worker and a queue-depth gauge, unless this replica only ingests.
pub(crate) fn spawn(ctx: &platform::Ctx, s: &AppState) {
    if !s.config.processing {
        tracing::info!("processing disabled in this replica (ingest only)");
        return;
    }
    jobs::spawn_batch_worker(
        ctx,
        s.db.clone(),
        worker_config(s),
        Arc::new(Processor::new(s.clone())),
    );
}

/// Refreshes the queue-depth gauges; used by `/ready` and the admin API. Messages not routed yet
/// count as pending jobs.
pub(crate) async fn stats(s: &AppState) -> Result<jobs::Stats, store::Error> {
    let st = jobs::stats_with(&s.db, QUEUE, &Processor::new(s.clone())).await?;
    metrics::queue_depth(st.pending, st.dead);
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(at: tokio::time::Instant) -> Pace {
        Pace {
            at,
            submitted: 1_000,
            rate: BUSY_RATE,
        }
    }

    #[test]
    fn the_ingest_rate_is_measured_over_a_window() {
        let t0 = tokio::time::Instant::now();
        let mut p = pace(t0);
        // 300 webhooks in 100 ms: 3,000/s.
        let rate = p.rate(t0 + RATE_WINDOW, 1_300);
        assert!((rate - 3_000.0).abs() < 1.0, "{rate}");
        // Within the next window the measure stands, whatever came since.
        assert!((p.rate(t0 + RATE_WINDOW + Duration::from_millis(50), 9_999) - rate).abs() < 1e-9);
    }

    #[test]
    fn a_stale_ingest_rate_counts_as_busy_until_a_fresh_window_ends() {
        let t0 = tokio::time::Instant::now();
        let mut p = pace(t0);
        p.rate(t0 + RATE_WINDOW, 1_010);
        // Three seconds of lull, then a flood: averaged, it would look like light traffic.
        let later = t0 + Duration::from_secs(3);
        assert!(p.rate(later, 1_050) >= BUSY_RATE);
        // The next window measures the flood alone.
        let rate = p.rate(later + RATE_WINDOW, 2_050);
        assert!((rate - 10_000.0).abs() < 1.0, "{rate}");
        assert!(rate >= BUSY_RATE);
    }
}
