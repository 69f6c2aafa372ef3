//! Transfers, their legs and their postings. Postings are only ever inserted.

use chrono::{DateTime, Utc};
use contracts::wallet::{Leg, Transfer};
use store::{Exec, Tx, on};

use crate::Error;

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    id: String,
    tenant_id: String,
    kind: String,
    asset: String,
    state: String,
    reference: Option<String>,
    reverses_id: Option<String>,
    timeout_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct LegRow {
    account_id: String,
    amount: i64,
}

/// A transfer with its legs.
pub(crate) async fn find(mut exec: Exec<'_>, id: &str) -> Result<Option<Transfer>, Error> {
    let row: Option<Row> = on!(&mut exec, |c| {
        sqlx::query_as(
        "SELECT id, tenant_id, kind, asset, state, reference, reverses_id, timeout_at, created_at
         FROM transfers WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(&mut **c)
    .await?
    });
    let Some(r) = row else { return Ok(None) };
    let legs: Vec<LegRow> = on!(&mut exec, |c| sqlx::query_as(
        "SELECT account_id, amount FROM legs WHERE transfer_id = $1 ORDER BY account_id"
    )
    .bind(id)
    .fetch_all(&mut **c)
    .await?);
    Ok(Some(Transfer {
        id: r.id,
        tenant_id: r.tenant_id,
        kind: r.kind,
        asset: r.asset,
        state: r.state,
        legs: legs
            .into_iter()
            .map(|l| Leg {
                account_id: l.account_id,
                amount_minor: l.amount,
            })
            .collect(),
        reference: r.reference,
        reverses_id: r.reverses_id,
        timeout_at: r.timeout_at,
        created_at: r.created_at,
    }))
}

/// Moves a transfer from `from` to `to` state; false when it was not in `from` (someone else
/// posted or voided it first).
pub(crate) async fn transition(tx: &mut Tx, id: &str, from: &str, to: &str) -> Result<bool, Error> {
    let n = on!(tx.exec(), |c| sqlx::query(
        "UPDATE transfers SET state = $1 WHERE id = $2 AND state = $3"
    )
    .bind(to)
    .bind(id)
    .bind(from)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Whether `id` has been reversed.
pub(crate) async fn is_reversed(exec: Exec<'_>, id: &str) -> Result<bool, Error> {
    let n: i64 = on!(exec, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM transfers WHERE reverses_id = $1"
    )
    .bind(id)
    .fetch_one(c)
    .await?);
    Ok(n > 0)
}

/// Pending transfers past their timeout, oldest first.
pub(crate) async fn expired(
    exec: Exec<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, String)>, Error> {
    Ok(on!(exec, |c| sqlx::query_as(
        "SELECT id, tenant_id FROM transfers WHERE state = 'pending' AND timeout_at < $1
         ORDER BY timeout_at LIMIT $2"
    )
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await?))
}
