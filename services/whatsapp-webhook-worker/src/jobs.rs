//! Processing: one job per new message, off the request path. The job reads the stored
//! message, decides its route, updates the contact's state, writes the event to the outbox and
//! completes itself, all in its batch's transaction: effects are exactly-once. A message over its
//! sender's limit ([`crate::throttle`]) is deferred instead (`store::jobs::defer_in`).
//!
//! The jobs of one claim share a transaction (`store::jobs::BatchHandler`), handled in claim
//! order, so a contact's messages still go one at a time and in order. One transaction per
//! message kept processing near 1,000 messages/s on a core, far behind ingest.

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

/// Longest routing holds back while webhooks wait on the ingest writer.
const YIELD_MAX: Duration = Duration::from_millis(10);

/// Jobs routed together while webhooks are arriving: a routing transaction holds the one write
/// connection, and the next ingest batch waits for it (16 jobs held it ~2-3 ms, which put the
/// p99 of webhooks at 10,000/s above 10 ms).
const BUSY_BATCH: usize = 4;

/// No webhook for this long: traffic is light, and routing takes full batches.
const QUIET: Duration = Duration::from_millis(5);

/// The queue's handler.
pub(crate) struct Processor(pub(crate) AppState);

/// What became of a job, reported after its transaction committed.
pub(crate) enum Done {
    /// Routed (`destination`), or `opted_out`.
    Processed(&'static str),
    /// Put off by the per-sender limit (`reason`: `rate_limited` or `ordering`).
    Deferred(&'static str),
    /// Nothing left to do (an unknown or already processed message).
    Skipped,
}

impl BatchHandler for Processor {
    type Done = Done;

    async fn handle(&self, tx: &mut Tx, job: &Job) -> Result<Result<Done, JobError>, store::Error> {
        process(&self.0, tx, job).await
    }

    /// Webhooks first: a delivery's 200 waits on the ingest writer, a routing job waits on
    /// nobody, and both need SQLite's one write lock (and, on this machine, the same core). While
    /// deliveries wait, routing holds back, for at most `YIELD_MAX`; while they keep arriving it
    /// takes small batches, so a sustained flood slows routing but never stops it.
    async fn admit(&self, limit: usize) -> usize {
        let ingest = &self.0.ingest;
        if ingest.waiting() == 0 && ingest.idle_for() >= QUIET {
            return limit;
        }
        let until = tokio::time::Instant::now() + YIELD_MAX;
        while ingest.waiting() > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        limit.min(BUSY_BATCH)
    }

    fn committed(&self, done: Done) {
        match done {
            Done::Processed(destination) => metrics::processed(destination),
            Done::Deferred(reason) => metrics::deferred(reason),
            Done::Skipped => {}
        }
    }
}

/// Processes one job in `tx` (see the module docs). `Ok(Err(_))`: this message cannot be routed
/// (retried, then dead-lettered), found before any write; `Err`: a database error.
async fn process(
    s: &AppState,
    tx: &mut Tx,
    job: &Job,
) -> Result<Result<Done, JobError>, store::Error> {
    let payload: JobPayload = match job.payload() {
        Ok(p) => p,
        Err(e) => return Ok(Err(e.into())),
    };
    let Some(m) = messages::get(tx, &payload.wamid).await? else {
        tracing::warn!(wamid = %payload.wamid, "job for an unknown message dropped");
        jobs::complete(tx, job).await?;
        return Ok(Ok(Done::Skipped));
    };
    if m.processed_at.is_some() {
        jobs::complete(tx, job).await?;
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
        tracing::info!(wamid = %m.wamid, contact = %masked, until = %until, reason,
            "message deferred by the per-sender limit");
        return Ok(Ok(Done::Deferred(reason)));
    }
    let text = parsed.kind.routing_text().map(str::to_owned);
    let state = contacts::get(tx, &tenant, &m.contact_id).await?;
    let active = state.active_service.as_deref().and_then(Destination::parse);
    let now = Utc::now();
    let contact = WaContact {
        kind: m.contact_kind.clone(),
        id: m.contact_id.clone(),
        profile_name: m.profile_name.clone(),
    };
    let destination = match domain::decide(text.as_deref(), active, &s.config.opt_out_keywords) {
        Decision::OptOut(keyword) => {
            contacts::opt_out(tx, &tenant, &m.contact_id, now).await?;
            let data = ContactOptedOut {
                tenant_id: tenant.clone(),
                contact,
                wamid: m.wamid.clone(),
                keyword,
                opted_out_at: state.opted_out_at.unwrap_or(now),
            };
            let event = Envelope::new(CONTACT_OPTED_OUT, crate::NAME, &tenant, &data)?
                .correlated(Some(m.wamid.clone()));
            store::outbox::enqueue(tx, &event).await?;
            messages::mark_processed(tx, &m.wamid, &tenant, None, now).await?;
            tracing::info!(wamid = %m.wamid, contact = %masked, "contact opted out");
            "opted_out"
        }
        Decision::Route { to, reason, sticky } => {
            if sticky != active {
                let name = sticky.map(Destination::as_str);
                contacts::set_active(tx, &tenant, &m.contact_id, name, now).await?;
            }
            let data = MessageRouted {
                service: to,
                reason,
                tenant_id: tenant.clone(),
                phone_number_id: m.phone_number_id.clone(),
                contact,
                wamid: m.wamid.clone(),
                message_type: m.message_type.clone(),
                routing_text: text,
                opted_out: state.opted_out_at.is_some(),
                message,
                received_at: m.received_at,
            };
            let event = Envelope::new(MESSAGE_ROUTED, crate::NAME, &tenant, &data)?
                .correlated(Some(m.wamid.clone()));
            store::outbox::enqueue(tx, &event).await?;
            if to == Destination::HomeMenu && !data.opted_out {
                home_menu(tx, s, &tenant, &m, now).await?;
            }
            messages::mark_processed(tx, &m.wamid, &tenant, Some(to.as_str()), now).await?;
            tracing::info!(wamid = %m.wamid, contact = %masked, service = to.as_str(),
                reason = ?reason, "message routed");
            to.as_str()
        }
    };
    jobs::complete(tx, job).await?;
    Ok(Ok(Done::Processed(destination)))
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
        Arc::new(Processor(s.clone())),
    );
}

/// Refreshes the queue-depth gauges; used by `/ready` and the admin API.
pub(crate) async fn stats(s: &AppState) -> Result<jobs::Stats, store::Error> {
    let st = jobs::stats(&s.db, QUEUE).await?;
    metrics::queue_depth(st.pending, st.dead);
    Ok(st)
}
