//! The inbox: a consumer records each event id it applies in the same transaction as the
//! effect, so an event delivered twice (the bus is at-least-once) takes effect once.

use chrono::Utc;

use crate::{Error, Tx, on};

/// Records that `consumer` applies `event_id` in `tx`. `false` means it was applied before:
/// skip the effect.
pub async fn first_time(tx: &mut Tx, consumer: &str, event_id: &str) -> Result<bool, Error> {
    let now = Utc::now();
    let done = on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO kit_inbox (consumer, event_id, applied_at) VALUES ($1, $2, $3)
         ON CONFLICT (consumer, event_id) DO NOTHING"
    )
    .bind(consumer)
    .bind(event_id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(done == 1)
}
