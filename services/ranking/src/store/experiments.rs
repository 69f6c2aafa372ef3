//! Experiments, exposures and attributed outcomes.

use chrono::{DateTime, Utc};
use contracts::ranking::Variant;
use sqlx::types::Json;
use store::{Exec, on};

use crate::Error;

/// An experiment row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ExperimentRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) name: String,
    pub(crate) variants: Json<Vec<Variant>>,
    pub(crate) created_at: DateTime<Utc>,
}

/// Outcome kind: a quote accepted by an exposed buyer.
pub(crate) const QUOTE_ACCEPTED: &str = "quote_accepted";
/// Outcome kind: a purchase settled by an exposed buyer.
pub(crate) const PURCHASE_SETTLED: &str = "purchase_settled";

/// Stores a new experiment.
pub(crate) async fn insert(
    exec: Exec<'_>,
    tenant: &str,
    name: &str,
    variants: &[Variant],
) -> Result<ExperimentRow, Error> {
    let id = ulid::Ulid::generate().to_string();
    let row: ExperimentRow = on!(exec, |c| sqlx::query_as(
        "INSERT INTO ranking_experiments (id, tenant_id, name, variants, created_at)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, tenant_id, name, variants, created_at"
    )
    .bind(&id)
    .bind(tenant)
    .bind(name)
    .bind(Json(variants))
    .bind(Utc::now())
    .fetch_one(c)
    .await?);
    Ok(row)
}

/// An experiment of the tenant.
pub(crate) async fn find(
    exec: Exec<'_>,
    tenant: &str,
    id: &str,
) -> Result<Option<ExperimentRow>, Error> {
    let row: Option<ExperimentRow> = on!(exec, |c| sqlx::query_as(
        "SELECT id, tenant_id, name, variants, created_at FROM ranking_experiments
         WHERE id = $1 AND tenant_id = $2"
    )
    .bind(id)
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// Records a buyer's exposure; `true` the first time.
pub(crate) async fn expose(
    exec: Exec<'_>,
    tenant: &str,
    experiment_id: &str,
    buyer_id: &str,
    variant: &str,
) -> Result<bool, Error> {
    let n = on!(exec, |c| {
        sqlx::query(
        "INSERT INTO ranking_exposures (experiment_id, buyer_id, tenant_id, variant, exposed_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (experiment_id, buyer_id) DO NOTHING"
    )
    .bind(experiment_id)
    .bind(buyer_id)
    .bind(tenant)
    .bind(variant)
    .bind(Utc::now())
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(n == 1)
}

/// Attributes an outcome of `buyer` to the variant of every experiment it was exposed to
/// before `at`, once per (experiment, kind, reference).
pub(crate) async fn attribute(
    exec: Exec<'_>,
    tenant: &str,
    buyer_id: &str,
    kind: &str,
    ref_id: &str,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "INSERT INTO ranking_outcomes (experiment_id, kind, ref_id, variant, occurred_at)
         SELECT experiment_id, $1, $2, variant, $3 FROM ranking_exposures
         WHERE tenant_id = $4 AND buyer_id = $5 AND exposed_at <= $3
         ON CONFLICT (experiment_id, kind, ref_id) DO NOTHING"
    )
    .bind(kind)
    .bind(ref_id)
    .bind(at)
    .bind(tenant)
    .bind(buyer_id)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Exposures per variant.
pub(crate) async fn exposures(
    exec: Exec<'_>,
    experiment_id: &str,
) -> Result<Vec<(String, i64)>, Error> {
    let rows: Vec<(String, i64)> = on!(exec, |c| sqlx::query_as(
        "SELECT variant, COUNT(*) FROM ranking_exposures WHERE experiment_id = $1
         GROUP BY variant"
    )
    .bind(experiment_id)
    .fetch_all(c)
    .await?);
    Ok(rows)
}

/// Outcomes per variant and kind.
pub(crate) async fn outcomes(
    exec: Exec<'_>,
    experiment_id: &str,
) -> Result<Vec<(String, String, i64)>, Error> {
    let rows: Vec<(String, String, i64)> = on!(exec, |c| sqlx::query_as(
        "SELECT variant, kind, COUNT(*) FROM ranking_outcomes WHERE experiment_id = $1
         GROUP BY variant, kind"
    )
    .bind(experiment_id)
    .fetch_all(c)
    .await?);
    Ok(rows)
}
