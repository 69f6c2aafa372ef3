//! `vendor_intents`: the projection of buyer intents, from `buyer.intent.*` events.

use chrono::{DateTime, Utc};
use contracts::buyer::{IntentChanged, IntentStatus};
use contracts::vendor::OpenIntent;
use store::{Exec, on};

use crate::Error;

/// One projected intent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct IntentRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) buyer_id: String,
    pub(crate) status: String,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
}

impl IntentRow {
    /// The wire shape.
    pub(crate) fn view(&self) -> OpenIntent {
        let status = match self.status.as_str() {
            "matched" => IntentStatus::Matched,
            "expired" => IntentStatus::Expired,
            "cancelled" => IntentStatus::Cancelled,
            _ => IntentStatus::Pending,
        };
        OpenIntent {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            buyer_id: self.buyer_id.clone(),
            status,
            expires_at: self.expires_at,
            created_at: self.created_at,
        }
    }
}

/// Records an intent's new state. A closed intent never reopens (events of one intent may
/// arrive out of order), and an intent of another tenant is never overwritten.
pub(crate) async fn upsert(exec: Exec<'_>, tenant: &str, i: &IntentChanged) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "INSERT INTO vendor_intents (id, tenant_id, buyer_id, status, expires_at,
                                     matched_quote_id, created_at, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET
             status = CASE WHEN vendor_intents.status = 'pending' THEN excluded.status
                           ELSE vendor_intents.status END,
             matched_quote_id = COALESCE(vendor_intents.matched_quote_id,
                                         excluded.matched_quote_id),
             expires_at = COALESCE(excluded.expires_at, vendor_intents.expires_at),
             changed_at = excluded.changed_at
         WHERE vendor_intents.tenant_id = excluded.tenant_id"
    )
    .bind(&i.intent_id)
    .bind(tenant)
    .bind(&i.buyer_id)
    .bind(i.status.as_str())
    .bind(i.expires_at)
    .bind(i.matched_quote_id.as_deref())
    .bind(i.created_at)
    .bind(i.changed_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// An intent of the tenant.
pub(crate) async fn find(
    exec: Exec<'_>,
    tenant: &str,
    id: &str,
) -> Result<Option<IntentRow>, Error> {
    let row: Option<IntentRow> = on!(exec, |c| sqlx::query_as(
        "SELECT id, tenant_id, buyer_id, status, expires_at, created_at FROM vendor_intents
         WHERE id = $1 AND tenant_id = $2"
    )
    .bind(id)
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row)
}
