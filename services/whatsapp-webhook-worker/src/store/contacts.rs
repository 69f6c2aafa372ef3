//! `wa_contacts`: the sticky service and the opt-out of each contact, per tenant.

use chrono::{DateTime, Utc};
use store::{Error, Tx, on};

/// A contact's routing state.
#[derive(Debug, Default, sqlx::FromRow)]
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

/// Sets (or clears) the contact's active service.
pub(crate) async fn set_active(
    tx: &mut Tx,
    tenant: &str,
    contact: &str,
    service: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO wa_contacts (tenant_id, contact_id, active_service, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, contact_id)
         DO UPDATE SET active_service = excluded.active_service, updated_at = excluded.updated_at"
    )
    .bind(tenant)
    .bind(contact)
    .bind(service)
    .bind(at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Records the opt-out (the first one's time is kept).
pub(crate) async fn opt_out(
    tx: &mut Tx,
    tenant: &str,
    contact: &str,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO wa_contacts (tenant_id, contact_id, opted_out_at, updated_at)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (tenant_id, contact_id)
         DO UPDATE SET opted_out_at = COALESCE(wa_contacts.opted_out_at, excluded.opted_out_at),
                       updated_at = excluded.updated_at"
    )
    .bind(tenant)
    .bind(contact)
    .bind(at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}
