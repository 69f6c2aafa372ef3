//! Business metrics of the webhook worker. The job queue adds `jobs_completed_total`,
//! `jobs_retried_total`, `jobs_dead_lettered_total`, `jobs_pending`, `jobs_dead` and
//! `jobs_oldest_due_age_seconds` (label `queue="whatsapp.inbound"`).

const SERVICE: &str = "whatsapp-webhook-worker";

/// A delivery was answered (`outcome`: accepted, invalid_signature, malformed, failed).
pub(crate) fn webhook(outcome: &'static str) {
    metrics::counter!("whatsapp_webhooks_total", "service" => SERVICE, "outcome" => outcome)
        .increment(1);
}

/// Messages stored for the first time, and redeliveries of stored ones.
pub(crate) fn messages(new: u64, duplicates: u64) {
    metrics::counter!("whatsapp_messages_received_total", "service" => SERVICE).increment(new);
    metrics::counter!("whatsapp_messages_duplicate_total", "service" => SERVICE)
        .increment(duplicates);
}

/// Status callbacks stored.
pub(crate) fn statuses(n: u64) {
    metrics::counter!("whatsapp_statuses_received_total", "service" => SERVICE).increment(n);
}

/// A message was processed (`destination`: where it was routed, or `opted_out`).
pub(crate) fn processed(destination: &'static str) {
    metrics::counter!("whatsapp_messages_processed_total", "service" => SERVICE, "destination" => destination)
        .increment(1);
}

/// A message was deferred by the per-sender limit (`reason`: `rate_limited`, or `ordering`:
/// behind an earlier deferred message of the same contact).
pub(crate) fn deferred(reason: &'static str) {
    metrics::counter!("whatsapp_inbound_deferred_total", "service" => SERVICE, "reason" => reason)
        .increment(1);
}

/// An outbound message was stored (`state`: `sent` or `failed`).
pub(crate) fn outbound(kind: &str, state: &str) {
    metrics::counter!("whatsapp_outbound_messages_total", "service" => SERVICE,
        "kind" => kind.to_owned(), "state" => state.to_owned())
    .increment(1);
}

/// Depth of the processing queue (also set by the job worker every 5 s).
pub(crate) fn queue_depth(pending: i64, dead: i64) {
    #[expect(
        clippy::cast_precision_loss,
        reason = "queue depths are far below 2^52"
    )]
    {
        metrics::gauge!("whatsapp_queue_pending", "service" => SERVICE).set(pending as f64);
        metrics::gauge!("whatsapp_queue_dead", "service" => SERVICE).set(dead as f64);
    }
}
