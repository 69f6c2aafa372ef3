//! Sending, off the request path: `POST /v1/messages` stores the message `queued` and enqueues a
//! `whatsapp.outbound` job in one transaction; this worker sends it with the `whatsapp` crate's
//! client, then records the outcome (`sent` + `wamid`, or `failed` with Meta's error) and
//! completes the job in one transaction. The Graph call holds no transaction.

use std::sync::Arc;

use chrono::Utc;
use contracts::whatsapp::OutboundContent;
use serde::{Deserialize, Serialize};
use store::jobs::{self, Handler, Job, JobError, WorkerConfig};
use whatsapp::ContactId;
use whatsapp::webhook::StatusKind;

use crate::metrics;
use crate::state::{AppState, OUTBOUND_QUEUE};
use crate::store::{contacts, outbound as rows};

/// The error recorded on a queued message whose contact opted out before it was sent.
pub(crate) const CONTACT_OPTED_OUT: &str = "contact_opted_out";

/// The payload of a send job: the stored message's id, never its content.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SendJob {
    pub(crate) id: String,
}

/// Stores `row` (state `queued`) and its send job in `tx`: the one way a message enters the
/// send queue, for `POST /v1/messages` and for the worker's own replies (the home menu).
pub(crate) async fn queue(
    tx: &mut store::Tx,
    s: &AppState,
    row: &rows::Row,
) -> Result<(), store::Error> {
    rows::insert(tx, row).await?;
    let job = SendJob { id: row.id.clone() };
    let mut new = jobs::NewJob::new(OUTBOUND_QUEUE, &job, &s.send_retry)?;
    new.dedupe_key = Some(&row.id);
    jobs::enqueue(tx, &new).await?;
    Ok(())
}

/// A delivery state's wire name (`sent`, `delivered`, ...).
pub(crate) fn state_name(k: &StatusKind) -> String {
    match serde_json::to_value(k) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "sent".to_owned(),
    }
}

/// How the send queue is worked (its own, shorter retry schedule).
pub(crate) fn worker_config(s: &AppState) -> WorkerConfig {
    let mut cfg = WorkerConfig::new(OUTBOUND_QUEUE, (*s.send_retry).clone());
    cfg.concurrency = s.config.concurrency;
    cfg.lease = s.config.job_lease;
    cfg
}

/// The send queue's handler.
pub(crate) fn handler(s: AppState) -> Handler {
    let s = Arc::new(s);
    jobs::handler(move |job| {
        let s = Arc::clone(&s);
        async move { process(&s, job).await }
    })
}

/// Whether Meta (or the way to it) says the same send may succeed later: the crate's retryable
/// Graph errors, an open circuit, or a connection never made. A timeout is final: the message
/// may already be on its way, and a retry could send it twice.
fn retryable(e: &whatsapp::Error) -> bool {
    match e {
        whatsapp::Error::Graph(g) => g.is_retryable(),
        whatsapp::Error::Upstream(platform::client::Error::CircuitOpen(_)) => true,
        whatsapp::Error::Upstream(platform::client::Error::Transport { source, .. }) => {
            source.is_connect()
        }
        _ => false,
    }
}

/// Records the final state of `row` and completes `job`, in one transaction. A sent message
/// takes the furthest state already reported for its `wamid` (a callback can beat the answer).
async fn finish(s: &AppState, job: &Job, mut row: rows::Row) -> Result<(), JobError> {
    let mut tx = s.db.begin().await?;
    if let Some(wamid) = &row.wamid {
        let furthest = rows::received_states(&mut tx, wamid)
            .await?
            .into_iter()
            .filter_map(|s| serde_json::from_value(serde_json::Value::String(s)).ok())
            .chain([StatusKind::Sent])
            .max_by_key(StatusKind::rank)
            .unwrap_or(StatusKind::Sent);
        row.state = state_name(&furthest);
        row.state_rank = i32::from(furthest.rank());
    }
    row.updated_at = Utc::now();
    let moved = rows::record_send(&mut tx, &row).await?;
    jobs::complete(&mut tx, job).await?;
    tx.commit().await?;
    if moved {
        metrics::outbound(&row.kind, &row.state);
        let to = platform::pii::mask_phone(&row.contact_id);
        tracing::info!(id = %row.id, to = %to, kind = %row.kind, state = %row.state,
            "outbound message recorded");
    }
    Ok(())
}

/// Sends one queued message (see the module docs).
async fn process(s: &AppState, job: Job) -> Result<(), JobError> {
    let payload: SendJob = job.payload()?;
    let mut tx = s.db.begin().await?;
    let row = rows::get(tx.exec(), &payload.id).await?;
    let Some(mut row) = row.filter(|r| r.state == "queued") else {
        // Unknown or already recorded (a job run again after its commit): nothing to send.
        jobs::complete(&mut tx, &job).await?;
        tx.commit().await?;
        return Ok(());
    };
    let opted_out = contacts::get(&mut tx, &row.tenant_id, &row.contact_id)
        .await?
        .opted_out_at
        .is_some();
    drop(tx);
    if opted_out {
        row.state = "failed".to_owned();
        row.state_rank = i32::from(StatusKind::Failed.rank());
        row.error = Some(CONTACT_OPTED_OUT.to_owned());
        return finish(s, &job, row).await;
    }
    // Sending is enabled wherever this worker runs; without a client the job waits for one.
    let client = s
        .client
        .as_ref()
        .ok_or("sending is disabled in this replica")?;
    let to = if row.contact_kind == "phone" {
        ContactId::phone(&row.contact_id)
    } else {
        ContactId::user_id(&row.contact_id)
    };
    let content: OutboundContent = serde_json::from_str(&row.payload)?;
    let message = crate::outbound::build(&content, row.reply_to.as_deref(), to)?;
    match client.send(&row.phone_number_id, &message).await {
        Ok(sent) => row.wamid = Some(sent.message_id),
        Err(e) if retryable(&e) && job.attempts < job.max_attempts => return Err(e.into()),
        Err(e) => {
            row.state = "failed".to_owned();
            row.state_rank = i32::from(StatusKind::Failed.rank());
            row.error = Some(e.to_string());
        }
    }
    finish(s, &job, row).await
}

/// Starts the send worker when this replica processes jobs and can send.
pub(crate) fn spawn(ctx: &platform::Ctx, s: &AppState) {
    if !s.config.processing || s.client.is_none() {
        return;
    }
    jobs::spawn_worker(ctx, s.db.clone(), worker_config(s), handler(s.clone()));
}
