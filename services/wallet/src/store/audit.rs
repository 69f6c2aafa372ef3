//! The append-only audit log: every money movement and administrative action, with its actor,
//! request id and the balances before and after.

use chrono::Utc;
use sqlx::types::Json;
use store::{Tx, on};

use crate::Error;

/// Who did it.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    /// The calling service (token issuer).
    pub(crate) service: String,
    /// The request.
    pub(crate) request_id: Option<String>,
}

/// Appends one entry.
pub(crate) async fn record(
    tx: &mut Tx,
    tenant: &str,
    action: &str,
    subject: &str,
    actor: &Actor,
    details: serde_json::Value,
) -> Result<(), Error> {
    let id = ulid::Ulid::generate().to_string();
    let now = Utc::now();
    on!(tx.exec(), |c| {
        sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, action, subject_id, actor, request_id, details, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&id)
    .bind(tenant)
    .bind(action)
    .bind(subject)
    .bind(&actor.service)
    .bind(&actor.request_id)
    .bind(Json(&details))
    .bind(now)
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(())
}

/// One audit entry, as read back.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Entry {
    /// Entry id.
    pub(crate) id: String,
    /// Tenant.
    pub(crate) tenant_id: String,
    /// What was done (`transfer.post`, `account.provision`, ...).
    pub(crate) action: String,
    /// The transfer, account or tenant it concerns.
    pub(crate) subject_id: String,
    /// The calling service.
    pub(crate) actor: String,
    /// The request.
    pub(crate) request_id: Option<String>,
    /// Balances before and after, reasons.
    #[schema(value_type = Object)]
    pub(crate) details: Json<serde_json::Value>,
    /// When.
    pub(crate) created_at: chrono::DateTime<Utc>,
}

/// The entries about `subject`, oldest first.
pub(crate) async fn about(
    exec: store::Exec<'_>,
    subject: &str,
    visible_to: Option<&str>,
) -> Result<Vec<Entry>, Error> {
    Ok(on!(exec, |c| {
        sqlx::query_as(
        "SELECT id, tenant_id, action, subject_id, actor, request_id, details, created_at
         FROM audit_log WHERE subject_id = $1 AND ($2 IS NULL OR tenant_id = $2) ORDER BY id LIMIT 500"
    )
    .bind(subject)
    .bind(visible_to)
    .fetch_all(c)
    .await?
    }))
}
