//! Processing: one job per new message, off the request path. The job reads the stored
//! message, decides its route, updates the contact's state, writes the event to the outbox and
//! completes itself, all in one transaction: effects are exactly-once. A message over its
//! sender's limit ([`crate::throttle`]) is deferred instead: `store::jobs::defer`, then `Ok`.

use std::sync::Arc;

use chrono::Utc;
use contracts::Envelope;
use contracts::whatsapp::{
    CONTACT_OPTED_OUT, ContactOptedOut, Destination, MESSAGE_ROUTED, MessageRouted, WaContact,
};
use serde::{Deserialize, Serialize};
use store::jobs::{self, Handler, Job, JobError, WorkerConfig};

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
    cfg.concurrency = s.config.concurrency;
    cfg.lease = s.config.job_lease;
    cfg
}

/// The queue's handler.
pub(crate) fn handler(s: AppState) -> Handler {
    let s = Arc::new(s);
    jobs::handler(move |job| {
        let s = Arc::clone(&s);
        async move { process(&s, job).await }
    })
}

/// Processes one job (see the module docs).
async fn process(s: &AppState, job: Job) -> Result<(), JobError> {
    let payload: JobPayload = job.payload()?;
    let mut tx = s.db.begin().await?;
    let Some(m) = messages::get(&mut tx, &payload.wamid).await? else {
        tracing::warn!(wamid = %payload.wamid, "job for an unknown message dropped");
        jobs::complete(&mut tx, &job).await?;
        tx.commit().await?;
        return Ok(());
    };
    if m.processed_at.is_some() {
        jobs::complete(&mut tx, &job).await?;
        tx.commit().await?;
        return Ok(());
    }
    let tenant = s
        .config
        .tenant(m.phone_number_id.as_deref(), &s.default_tenant)
        .ok_or_else(|| ProcessError::UnmappedNumber(m.phone_number_id.clone()))?
        .to_owned();
    let masked = platform::pii::mask_phone(&m.contact_id);
    if let Verdict::Defer { until, ordered } = s.throttle.check(&tenant, &m.contact_id, &m.wamid) {
        // Read-only so far: end the transaction before the deferral writes.
        drop(tx);
        let reason = if ordered { "ordering" } else { "rate_limited" };
        if jobs::defer(&s.db, &job, until).await? {
            metrics::deferred(reason);
            tracing::info!(wamid = %m.wamid, contact = %masked, until = %until, reason,
                "message deferred by the per-sender limit");
        } else {
            tracing::warn!(wamid = %m.wamid, "job lease lost before its deferral");
        }
        return Ok(());
    }
    let message: serde_json::Value = serde_json::from_str(&m.message)?;
    let parsed: whatsapp::webhook::Message = serde_json::from_value(message.clone())?;
    let text = parsed.kind.routing_text().map(str::to_owned);
    let state = contacts::get(&mut tx, &tenant, &m.contact_id).await?;
    let active = state.active_service.as_deref().and_then(Destination::parse);
    let now = Utc::now();
    let contact = WaContact {
        kind: m.contact_kind.clone(),
        id: m.contact_id.clone(),
        profile_name: m.profile_name.clone(),
    };
    let destination = match domain::decide(text.as_deref(), active, &s.config.opt_out_keywords) {
        Decision::OptOut(keyword) => {
            contacts::opt_out(&mut tx, &tenant, &m.contact_id, now).await?;
            let data = ContactOptedOut {
                tenant_id: tenant.clone(),
                contact,
                wamid: m.wamid.clone(),
                keyword,
                opted_out_at: state.opted_out_at.unwrap_or(now),
            };
            let event = Envelope::new(CONTACT_OPTED_OUT, crate::NAME, &tenant, &data)?
                .correlated(Some(m.wamid.clone()));
            store::outbox::enqueue(&mut tx, &event).await?;
            messages::mark_processed(&mut tx, &m.wamid, &tenant, None, now).await?;
            tracing::info!(wamid = %m.wamid, contact = %masked, "contact opted out");
            "opted_out"
        }
        Decision::Route { to, reason, sticky } => {
            if sticky != active {
                let name = sticky.map(Destination::as_str);
                contacts::set_active(&mut tx, &tenant, &m.contact_id, name, now).await?;
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
            store::outbox::enqueue(&mut tx, &event).await?;
            if to == Destination::HomeMenu && !data.opted_out {
                home_menu(&mut tx, s, &tenant, &m, now).await?;
            }
            messages::mark_processed(&mut tx, &m.wamid, &tenant, Some(to.as_str()), now).await?;
            tracing::info!(wamid = %m.wamid, contact = %masked, service = to.as_str(),
                reason = ?reason, "message routed");
            to.as_str()
        }
    };
    jobs::complete(&mut tx, &job).await?;
    tx.commit().await?;
    metrics::processed(destination);
    Ok(())
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
    jobs::spawn_worker(ctx, s.db.clone(), worker_config(s), handler(s.clone()));
}

/// Refreshes the queue-depth gauges; used by `/ready` and the admin API.
pub(crate) async fn stats(s: &AppState) -> Result<jobs::Stats, store::Error> {
    let st = jobs::stats(&s.db, QUEUE).await?;
    metrics::queue_depth(st.pending, st.dead);
    Ok(st)
}
