//! `wa_outbound_messages`: what `POST /v1/messages` sent, and how far it got.

use chrono::{DateTime, Utc};
use store::{Error, Exec, Tx, on};

/// An outbound message row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) phone_number_id: String,
    pub(crate) contact_kind: String,
    pub(crate) contact_id: String,
    pub(crate) kind: String,
    pub(crate) payload: String,
    /// The inbound `wamid` this message answers (shown as a reply).
    pub(crate) reply_to: Option<String>,
    pub(crate) state: String,
    pub(crate) state_rank: i32,
    pub(crate) wamid: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// Stores a new message (state `queued`).
pub(crate) async fn insert(tx: &mut Tx, r: &Row) -> Result<(), Error> {
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO wa_outbound_messages (id, tenant_id, phone_number_id, contact_kind,
                 contact_id, kind, payload, reply_to, state, state_rank, wamid, error, created_at,
                 updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.phone_number_id)
    .bind(&r.contact_kind)
    .bind(&r.contact_id)
    .bind(&r.kind)
    .bind(&r.payload)
    .bind(&r.reply_to)
    .bind(&r.state)
    .bind(r.state_rank)
    .bind(&r.wamid)
    .bind(&r.error)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Records the send's outcome on message `id`: its `wamid` (when Meta took it), state and error.
/// Only a `queued` row moves (a job run twice records once); true when it moved.
pub(crate) async fn record_send(tx: &mut Tx, r: &Row) -> Result<bool, Error> {
    let n = on!(tx.exec(), |c| sqlx::query(
        "UPDATE wa_outbound_messages
         SET wamid = $2, state = $3, state_rank = $4, error = $5, updated_at = $6
         WHERE id = $1 AND state = 'queued'"
    )
    .bind(&r.id)
    .bind(&r.wamid)
    .bind(&r.state)
    .bind(r.state_rank)
    .bind(&r.error)
    .bind(r.updated_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Moves the message sent as `wamid` to `state` unless it is already as far (`rank`); true when
/// it moved.
pub(crate) async fn advance(
    tx: &mut Tx,
    wamid: &str,
    state: &str,
    rank: i32,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, Error> {
    let n = on!(tx.exec(), |c| sqlx::query(
        "UPDATE wa_outbound_messages
         SET state = $2, state_rank = $3, error = COALESCE($4, error), updated_at = $5
         WHERE wamid = $1 AND state_rank < $3"
    )
    .bind(wamid)
    .bind(state)
    .bind(rank)
    .bind(error)
    .bind(at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Message `id`, if stored.
pub(crate) async fn get(exec: Exec<'_>, id: &str) -> Result<Option<Row>, Error> {
    let row = on!(exec, |c| {
        sqlx::query_as(
        "SELECT id, tenant_id, phone_number_id, contact_kind, contact_id, kind, payload, reply_to,
                state, state_rank, wamid, error, created_at, updated_at
         FROM wa_outbound_messages WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await?
    });
    Ok(row)
}

/// When `contact` last wrote to business number `phone_number_id` (Meta's time when given).
pub(crate) async fn last_inbound(
    tx: &mut Tx,
    phone_number_id: &str,
    contact: &str,
) -> Result<Option<DateTime<Utc>>, Error> {
    let rows: Vec<(Option<DateTime<Utc>>, DateTime<Utc>)> = on!(tx.exec(), |c| sqlx::query_as(
        "SELECT sent_at, received_at FROM wa_inbound_messages
         WHERE contact_id = $1 AND phone_number_id = $2
         ORDER BY received_at DESC LIMIT 20"
    )
    .bind(contact)
    .bind(phone_number_id)
    .fetch_all(c)
    .await?);
    Ok(rows
        .into_iter()
        .map(|(sent, recv)| sent.unwrap_or(recv))
        .max())
}

/// The states already received for `wamid` (a callback can beat the send's answer).
pub(crate) async fn received_states(tx: &mut Tx, wamid: &str) -> Result<Vec<String>, Error> {
    let rows: Vec<(String,)> = on!(tx.exec(), |c| sqlx::query_as(
        "SELECT status FROM wa_statuses WHERE wamid = $1"
    )
    .bind(wamid)
    .fetch_all(c)
    .await?);
    Ok(rows.into_iter().map(|(s,)| s).collect())
}
