//! `wa_inbound_messages` (deduplicated by `wamid`) and `wa_statuses`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use store::{Error, Tx, insert_many, on};

/// Rows per multi-row statement: nine parameters a message keeps either backend far below its
/// parameter limit.
const CHUNK: usize = 1000;

/// An inbound message to store.
#[derive(Clone)]
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

/// The `wamid`s of `wamids` already stored.
pub(crate) async fn known(tx: &mut Tx, wamids: &[&str]) -> Result<HashSet<String>, Error> {
    let mut found = HashSet::new();
    for chunk in wamids.chunks(CHUNK) {
        let rows: Vec<(String,)> = on!(tx.exec(), |c| {
            let mut qb =
                sqlx::QueryBuilder::new("SELECT wamid FROM wa_inbound_messages WHERE wamid IN ");
            store::push_list(&mut qb, chunk.iter().copied());
            qb.build_query_as().fetch_all(c).await?
        });
        found.extend(rows.into_iter().map(|(w,)| w));
    }
    Ok(found)
}

/// Stores new messages with one statement per thousand. No `ON CONFLICT`: the caller checked
/// they are new in this transaction, so a conflict means another replica stored one meanwhile,
/// and the error makes the group-commit writer retry each delivery alone.
pub(crate) async fn insert_many(tx: &mut Tx, batch: &[NewMessage]) -> Result<(), Error> {
    for chunk in batch.chunks(CHUNK) {
        insert_many!(
            tx.exec(),
            "INSERT INTO wa_inbound_messages (wamid, phone_number_id, contact_kind, contact_id,
                 profile_name, message_type, message, sent_at, received_at) ",
            chunk,
            |b, m| {
                b.push_bind(&m.wamid)
                    .push_bind(&m.phone_number_id)
                    .push_bind(m.contact_kind)
                    .push_bind(&m.contact_id)
                    .push_bind(&m.profile_name)
                    .push_bind(&m.message_type)
                    .push_bind(&m.message)
                    .push_bind(m.sent_at)
                    .push_bind(m.received_at);
            }
        )?;
    }
    Ok(())
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

/// The stored messages of `wamids` (those not stored are absent).
pub(crate) async fn get_many(tx: &mut Tx, wamids: &[&str]) -> Result<Vec<Stored>, Error> {
    let mut found = Vec::with_capacity(wamids.len());
    for chunk in wamids.chunks(CHUNK) {
        let rows: Vec<Stored> = on!(tx.exec(), |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT wamid, phone_number_id, contact_kind, contact_id, profile_name,
                        message_type, message, received_at, processed_at
                 FROM wa_inbound_messages WHERE wamid IN ",
            );
            store::push_list(&mut qb, chunk.iter().copied());
            qb.build_query_as().fetch_all(c).await?
        });
        found.extend(rows);
    }
    Ok(found)
}

/// Where a message went (`routed_to` is `None` for an opt-out).
pub(crate) struct Processed {
    pub(crate) wamid: String,
    pub(crate) tenant: String,
    pub(crate) routed_to: Option<&'static str>,
    pub(crate) at: DateTime<Utc>,
}

/// Records where each message of `batch` went, with one statement per thousand.
pub(crate) async fn mark_processed(tx: &mut Tx, batch: &[Processed]) -> Result<(), Error> {
    for chunk in batch.chunks(CHUNK) {
        insert_many!(
            tx.exec(),
            "WITH v (wamid, tenant_id, routed_to, processed_at) AS (",
            chunk,
            |b, p| {
                b.push_bind(&p.wamid)
                    .push_bind(&p.tenant)
                    .push_bind(p.routed_to)
                    .push_bind(p.at);
            },
            ") UPDATE wa_inbound_messages
               SET tenant_id = v.tenant_id, routed_to = v.routed_to, processed_at = v.processed_at
               FROM v WHERE wa_inbound_messages.wamid = v.wamid"
        )?;
    }
    Ok(())
}
