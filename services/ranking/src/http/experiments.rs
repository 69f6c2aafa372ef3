//! `/ranking/experiments`: A/B tests of weight sets (scope `ranking:admin`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::ranking::{CreateExperiment, Experiment, VariantStats};
use platform::{Authorized, ValidJson, ValidPath, ValidQuery, Validate, Validator};
use serde::Deserialize;
use utoipa::IntoParams;

use super::RankingAdmin;
use crate::Error;
use crate::state::AppState;
use crate::store::experiments::{self as sql, ExperimentRow, PURCHASE_SETTLED, QUOTE_ACCEPTED};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ranking/experiments", post(create_experiment))
        .route("/ranking/experiments/{id}", get(get_experiment))
}

/// Query of `GET /ranking/experiments/{id}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct TenantQuery {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    tenant_id: Option<String>,
}

impl Validate for TenantQuery {
    fn validate(&self, v: &mut Validator) {
        v.len(self.tenant_id.as_deref(), "tenantId", 1, 64);
    }
}

fn experiment(
    row: ExperimentRow,
    exposures: &[(String, i64)],
    outcomes: &[(String, String, i64)],
) -> Experiment {
    let count = |name: &str, kind: &str| {
        outcomes
            .iter()
            .filter(|(v, k, _)| v == name && k == kind)
            .map(|(_, _, n)| *n)
            .sum()
    };
    let stats = row
        .variants
        .0
        .iter()
        .map(|v| VariantStats {
            name: v.name.clone(),
            exposures: exposures
                .iter()
                .filter(|(n, _)| *n == v.name)
                .map(|(_, c)| *c)
                .sum(),
            quotes_accepted: count(&v.name, QUOTE_ACCEPTED),
            purchases_settled: count(&v.name, PURCHASE_SETTLED),
        })
        .collect();
    Experiment {
        id: row.id,
        tenant_id: row.tenant_id,
        name: row.name,
        variants: row.variants.0,
        stats,
        created_at: row.created_at,
    }
}

/// Create an experiment: two to eight named weight sets. Buyers are assigned a variant by a
/// stable hash of (experiment, buyer).
#[utoipa::path(post, path = "/ranking/experiments", request_body = CreateExperiment,
    responses((status = 201, body = Experiment), (status = 422, body = platform::Problem)))]
pub(super) async fn create_experiment(
    State(s): State<AppState>,
    auth: Authorized<RankingAdmin>,
    ValidJson(req): ValidJson<CreateExperiment>,
) -> Result<(StatusCode, Json<Experiment>), Error> {
    let tenant = auth
        .caller
        .tenant(req.tenant_id.as_deref(), &s.default_tenant)
        .ok_or(Error::TenantForbidden)?;
    let mut tx = s.db.begin().await?;
    let row = sql::insert(tx.exec(), &tenant, &req.name, &req.variants).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(experiment(row, &[], &[]))))
}

/// An experiment with its exposure and conversion counts per variant.
#[utoipa::path(get, path = "/ranking/experiments/{id}",
    params(("id" = String, Path, description = "experiment id"), TenantQuery),
    responses((status = 200, body = Experiment), (status = 404, body = platform::Problem)))]
pub(super) async fn get_experiment(
    State(s): State<AppState>,
    auth: Authorized<RankingAdmin>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<Experiment>, Error> {
    let tenant = auth
        .caller
        .tenant(q.tenant_id.as_deref(), &s.default_tenant)
        .ok_or(Error::ExperimentNotFound)?;
    let mut conn = s.db.conn().await?;
    let row = sql::find(conn.exec(), &tenant, &id)
        .await?
        .ok_or(Error::ExperimentNotFound)?;
    let exposures = sql::exposures(conn.exec(), &row.id).await?;
    let outcomes = sql::outcomes(conn.exec(), &row.id).await?;
    Ok(Json(experiment(row, &exposures, &outcomes)))
}
