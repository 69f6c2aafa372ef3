//! Reconciliation: cached balances against the sums of postings, computed in SQL and stored per
//! run. It reports; it never rewrites a balance.

use chrono::{DateTime, Utc};
use contracts::wallet::{Discrepancy, ReconciliationRun};
use sqlx::types::Json;
use store::{Exec, Tx, on};

use crate::Error;

#[derive(sqlx::FromRow)]
struct Check {
    id: String,
    posted: i64,
    postings: i64,
}

/// Compares every account of `tenant` (or of all tenants) and stores the run.
pub(crate) async fn run(tx: &mut Tx, tenant: Option<&str>) -> Result<ReconciliationRun, Error> {
    let checks: Vec<Check> = on!(tx.exec(), |c| sqlx::query_as(
        "SELECT a.id, a.posted,
                CAST(COALESCE((SELECT SUM(p.amount) FROM postings p WHERE p.account_id = a.id), 0)
                     AS BIGINT) AS postings
         FROM accounts a WHERE ($1 IS NULL OR a.tenant_id = $1) ORDER BY a.id"
    )
    .bind(tenant)
    .fetch_all(c)
    .await?);
    let ledger_sum: i64 = on!(tx.exec(), |c| sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM postings p
         JOIN accounts a ON a.id = p.account_id WHERE ($1 IS NULL OR a.tenant_id = $1)"
    )
    .bind(tenant)
    .fetch_one(c)
    .await?);
    let discrepancies: Vec<Discrepancy> = checks
        .iter()
        .filter(|c| c.posted != c.postings)
        .map(|c| Discrepancy {
            account_id: c.id.clone(),
            cached_minor: c.posted,
            postings_minor: c.postings,
        })
        .collect();
    let run = ReconciliationRun {
        id: ulid::Ulid::generate().to_string(),
        tenant_id: tenant.map(str::to_owned),
        accounts_checked: i64::try_from(checks.len()).unwrap_or(i64::MAX),
        discrepancies,
        ledger_sum_minor: ledger_sum,
        created_at: Utc::now(),
    };
    on!(tx.exec(), |c| {
        sqlx::query(
        "INSERT INTO reconciliation_runs (id, tenant_id, accounts_checked, discrepancies, ledger_sum, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&run.id)
    .bind(&run.tenant_id)
    .bind(run.accounts_checked)
    .bind(Json(&run.discrepancies))
    .bind(run.ledger_sum_minor)
    .bind(run.created_at)
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(run)
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: String,
    tenant_id: Option<String>,
    accounts_checked: i64,
    discrepancies: Json<Vec<Discrepancy>>,
    ledger_sum: i64,
    created_at: DateTime<Utc>,
}

/// The latest run.
pub(crate) async fn latest(exec: Exec<'_>) -> Result<Option<ReconciliationRun>, Error> {
    let row: Option<RunRow> = on!(exec, |c| sqlx::query_as(
        "SELECT id, tenant_id, accounts_checked, discrepancies, ledger_sum, created_at
         FROM reconciliation_runs ORDER BY id DESC LIMIT 1"
    )
    .fetch_optional(c)
    .await?);
    Ok(row.map(|r| ReconciliationRun {
        id: r.id,
        tenant_id: r.tenant_id,
        accounts_checked: r.accounts_checked,
        discrepancies: r.discrepancies.0,
        ledger_sum_minor: r.ledger_sum,
        created_at: r.created_at,
    }))
}
