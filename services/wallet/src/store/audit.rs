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
