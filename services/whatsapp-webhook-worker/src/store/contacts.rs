//! `wa_contacts`: the sticky service and the opt-out of each contact, per tenant.

use chrono::{DateTime, Utc};
use store::{Error, Tx, insert_many, on};

/// Contacts per statement: five parameters a row keep either backend far below its limit.
const CHUNK: usize = 1000;

/// A contact's routing state.
#[derive(Debug, Default, Clone, sqlx::FromRow)]
pub(crate) struct State {
    pub(crate) active_service: Option<String>,
    pub(crate) opted_out_at: Option<DateTime<Utc>>,
}

/// The state of `contact` (default when never seen).
pub(crate) async fn get(tx: &mut Tx, tenant: &str, contact: &str) -> Result<State, Error> {
    let row: Option<State> = on!(tx.exec(), |c| sqlx::query_as(
        "SELECT active_service, opted_out_at FROM wa_contacts
         WHERE tenant_id = $1 AND contact_id = $2"
    )
    .bind(tenant)
    .bind(contact)
    .fetch_optional(c)
    .await?);
    Ok(row.unwrap_or_default())
}

/// The stored states of `contacts` of `tenant`, by contact id (those never seen are absent).
pub(crate) async fn get_many(
    tx: &mut Tx,
    tenant: &str,
    contacts: &[&str],
) -> Result<Vec<(String, State)>, Error> {
    let mut found = Vec::with_capacity(contacts.len());
    for chunk in contacts.chunks(CHUNK) {
        let rows: Vec<(String, Option<String>, Option<DateTime<Utc>>)> = on!(tx.exec(), |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT contact_id, active_service, opted_out_at FROM wa_contacts
                 WHERE tenant_id = ",
            );
            qb.push_bind(tenant).push(" AND contact_id IN ");
            store::push_list(&mut qb, chunk.iter().copied());
            qb.build_query_as().fetch_all(c).await?
        });
        found.extend(rows.into_iter().map(|(id, active_service, opted_out_at)| {
            (
                id,
                State {
                    active_service,
                    opted_out_at,
                },
            )
        }));
    }
    Ok(found)
}

/// A contact's state to store.
pub(crate) struct Save<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) contact: &'a str,
    pub(crate) state: &'a State,
}

/// Stores the states of `batch` (one row per contact), with one statement per thousand. An
/// opt-out already stored keeps its first time.
pub(crate) async fn save_many(
    tx: &mut Tx,
    batch: &[Save<'_>],
    at: DateTime<Utc>,
) -> Result<(), Error> {
    for chunk in batch.chunks(CHUNK) {
        insert_many!(
            tx.exec(),
            "INSERT INTO wa_contacts (tenant_id, contact_id, active_service, opted_out_at,
                 updated_at) ",
            chunk,
            |b, s| {
                b.push_bind(s.tenant)
                    .push_bind(s.contact)
                    .push_bind(&s.state.active_service)
                    .push_bind(s.state.opted_out_at)
                    .push_bind(at);
            },
            " ON CONFLICT (tenant_id, contact_id) DO UPDATE
              SET active_service = excluded.active_service,
                  opted_out_at = COALESCE(wa_contacts.opted_out_at, excluded.opted_out_at),
                  updated_at = excluded.updated_at"
        )?;
    }
    Ok(())
}
