//! Transfers, their legs and their postings. Postings are only ever inserted.

use chrono::{DateTime, Utc};
use contracts::wallet::{Leg, Transfer};
use sqlx::types::Json;
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

/// A new transfer.
pub(crate) struct New<'a> {
    pub(crate) tenant_id: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) asset: &'a str,
    pub(crate) state: &'a str,
    pub(crate) legs: &'a [Leg],
    pub(crate) reference: Option<&'a str>,
    pub(crate) metadata: &'a serde_json::Value,
    pub(crate) reverses_id: Option<&'a str>,
    pub(crate) timeout_at: Option<DateTime<Utc>>,
    pub(crate) actor: &'a str,
    pub(crate) request_id: Option<&'a str>,
}

/// Inserts a transfer with its legs; returns it.
pub(crate) async fn insert(tx: &mut Tx, t: &New<'_>) -> Result<Transfer, Error> {
    let id = ulid::Ulid::generate().to_string();
    let now = Utc::now();
    on!(tx.exec(), |c| {
        sqlx::query(
        "INSERT INTO transfers (id, tenant_id, kind, asset, state, reference, metadata, reverses_id,
                                timeout_at, actor, request_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )
    .bind(&id)
    .bind(t.tenant_id)
    .bind(t.kind)
    .bind(t.asset)
    .bind(t.state)
    .bind(t.reference)
    .bind(Json(t.metadata))
    .bind(t.reverses_id)
    .bind(t.timeout_at)
    .bind(t.actor)
    .bind(t.request_id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected()
    });
    for leg in t.legs {
        on!(tx.exec(), |c| sqlx::query(
            "INSERT INTO legs (transfer_id, account_id, amount) VALUES ($1, $2, $3)"
        )
        .bind(&id)
        .bind(&leg.account_id)
        .bind(leg.amount_minor)
        .execute(c)
        .await?
        .rows_affected());
    }
    Ok(Transfer {
        id,
        tenant_id: t.tenant_id.to_owned(),
        kind: t.kind.to_owned(),
        asset: t.asset.to_owned(),
        state: t.state.to_owned(),
        legs: t.legs.to_vec(),
        reference: t.reference.map(str::to_owned),
        reverses_id: t.reverses_id.map(str::to_owned),
        timeout_at: t.timeout_at,
        created_at: now,
    })
}

/// Posts `legs` of transfer `id`.
pub(crate) async fn insert_postings(tx: &mut Tx, id: &str, legs: &[Leg]) -> Result<(), Error> {
    let now = Utc::now();
    for leg in legs {
        let pid = ulid::Ulid::generate().to_string();
        on!(tx.exec(), |c| sqlx::query(
            "INSERT INTO postings (id, transfer_id, account_id, amount, created_at)
             VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(&pid)
        .bind(id)
        .bind(&leg.account_id)
        .bind(leg.amount_minor)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected());
    }
    Ok(())
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
