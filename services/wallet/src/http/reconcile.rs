//! Reconciliation runs, on demand (the schedule is a background job).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::wallet::ReconciliationRun;
use platform::{Authorized, ValidPath};
use serde_json::json;

use super::{Admin, op_ctx, tenant};
use crate::Error;
use crate::state::AppState;
use crate::store::{audit, reconcile as sql};

pub(super) fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/wallet/reconcile", post(reconcile))
        .route(
            "/wallet/reconcile/tenant/{tenant_id}",
            post(reconcile_tenant),
        )
        .route("/wallet/reconciliation/latest", get(latest_run))
}

pub(crate) async fn run(
    s: &AppState,
    tenant: Option<&str>,
    ctx: Option<&crate::ledger::OpCtx>,
) -> Result<ReconciliationRun, Error> {
    let mut tx = s.db.begin().await?;
    let run = sql::run(&mut tx, tenant).await?;
    if let Some(ctx) = ctx {
        let details = json!({"run": run.id, "discrepancies": run.discrepancies.len()});
        audit::record(
            &mut tx,
            &ctx.tenant,
            "reconcile",
            &run.id,
            &ctx.actor,
            details,
        )
        .await?;
    }
    tx.commit().await?;
    crate::metrics::discrepancies(run.discrepancies.len());
    if !run.discrepancies.is_empty() || run.ledger_sum_minor != 0 {
        tracing::error!(run = %run.id, discrepancies = run.discrepancies.len(), ledger_sum = run.ledger_sum_minor,
            "ledger out of balance");
    }
    Ok(run)
}

/// Reconcile every account of every tenant (a tenant-bound token: its own tenant).
#[utoipa::path(post, path = "/wallet/reconcile", responses((status = 200, body = ReconciliationRun)))]
pub(super) async fn reconcile(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
) -> Result<Json<ReconciliationRun>, Error> {
    let scope = auth.caller.tenant_id.clone();
    let ctx = op_ctx(
        &auth.caller,
        scope
            .clone()
            .unwrap_or_else(|| s.default_tenant.to_string()),
    );
    Ok(Json(run(&s, scope.as_deref(), Some(&ctx)).await?))
}

/// Reconcile one tenant's accounts.
#[utoipa::path(post, path = "/wallet/reconcile/tenant/{tenant_id}", params(("tenant_id" = String, Path, description = "tenant")),
    responses((status = 200, body = ReconciliationRun)))]
pub(super) async fn reconcile_tenant(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
    ValidPath(tenant_id): ValidPath<String>,
) -> Result<Json<ReconciliationRun>, Error> {
    let tenant = tenant(&auth.caller, Some(&tenant_id), &s)?;
    let ctx = op_ctx(&auth.caller, tenant.clone());
    Ok(Json(run(&s, Some(&tenant), Some(&ctx)).await?))
}

/// The latest run.
#[utoipa::path(get, path = "/wallet/reconciliation/latest",
    responses((status = 200, body = ReconciliationRun), (status = 404, body = platform::Problem)))]
pub(super) async fn latest_run(
    State(s): State<AppState>,
    _auth: Authorized<Admin>,
) -> Result<Json<ReconciliationRun>, Error> {
    let mut conn = s.db.conn().await?;
    sql::latest(conn.exec())
        .await?
        .map(Json)
        .ok_or(Error::NoReconciliation)
}
