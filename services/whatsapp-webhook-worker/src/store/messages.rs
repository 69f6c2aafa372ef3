//! `wa_inbound_messages` (deduplicated by `wamid`) and `wa_statuses`.

use chrono::{DateTime, Utc};
use store::{Error, Tx, on};

/// An inbound message to store.
pub(crate) struct NewMessage {
    pub(crate) wamid: String,
    pub(crate) phone_number_id: Option<String>,
    pub(crate) contact_kind: &'static str,
    pub(crate) contact_id: String,
    pub(crate) profile_name: Option<String>,
    pub(crate) message_type: String,
    pub(crate) message: String,
    pub(crate) sent_at: Option<DateTime<Utc>>,
    pub(crate) received_at: DateTime<Utc>,
}

/// A status callback to store.
pub(crate) struct NewStatus {
    pub(crate) wamid: String,
    pub(crate) status: String,
    pub(crate) recipient: Option<String>,
    pub(crate) status_at: Option<DateTime<Utc>>,
    pub(crate) payload: String,
    pub(crate) received_at: DateTime<Utc>,
    /// `whatsapp::webhook::StatusKind::rank` of `status`.
    pub(crate) rank: i32,
    /// Meta's first error, for a failure.
    pub(crate) error: Option<String>,
}

/// A stored message, as processing reads it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Stored {
    pub(crate) wamid: String,
    pub(crate) phone_number_id: Option<String>,
    pub(crate) contact_kind: String,
    pub(crate) contact_id: String,
    pub(crate) profile_name: Option<String>,
    pub(crate) message_type: String,
    pub(crate) message: String,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) processed_at: Option<DateTime<Utc>>,
}

/// Stores `m` unless its `wamid` is already stored; true when it is new.
pub(crate) async fn insert(tx: &mut Tx, m: &NewMessage) -> Result<bool, Error> {
    let n = on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO wa_inbound_messages (wamid, phone_number_id, contact_kind, contact_id,
                 profile_name, message_type, message, sent_at, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (wamid) DO NOTHING"
    )
    .bind(&m.wamid)
    .bind(&m.phone_number_id)
    .bind(m.contact_kind)
    .bind(&m.contact_id)
    .bind(&m.profile_name)
    .bind(&m.message_type)
    .bind(&m.message)
    .bind(m.sent_at)
    .bind(m.received_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Stores a status callback; a redelivered `(wamid, status)` is ignored. True when new.
pub(crate) async fn insert_status(tx: &mut Tx, s: &NewStatus) -> Result<bool, Error> {
    let n = on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO wa_statuses (wamid, status, recipient, status_at, payload, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (wamid, status) DO NOTHING"
    )
    .bind(&s.wamid)
    .bind(&s.status)
    .bind(&s.recipient)
    .bind(s.status_at)
    .bind(&s.payload)
    .bind(s.received_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// The message `wamid`, if stored.
pub(crate) async fn get(tx: &mut Tx, wamid: &str) -> Result<Option<Stored>, Error> {
    let row = on!(tx.exec(), |c| sqlx::query_as(
        "SELECT wamid, phone_number_id, contact_kind, contact_id, profile_name, message_type,
                message, received_at, processed_at
         FROM wa_inbound_messages WHERE wamid = $1"
    )
    .bind(wamid)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// Records where `wamid` went (`routed_to` is `None` for an opt-out).
pub(crate) async fn mark_processed(
    tx: &mut Tx,
    wamid: &str,
    tenant: &str,
    routed_to: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    on!(tx.exec(), |c| sqlx::query(
        "UPDATE wa_inbound_messages SET tenant_id = $2, routed_to = $3, processed_at = $4
         WHERE wamid = $1"
    )
    .bind(wamid)
    .bind(tenant)
    .bind(routed_to)
    .bind(at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}
