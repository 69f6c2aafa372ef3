//! The saga queue for operators (scope `buyer:admin`): depth, dead jobs, replay.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::buyer::{DeadSagaJob, Replayed, SagaQueue};
use platform::{Authorized, ValidQuery, Validate, Validator};
use serde::Deserialize;
use store::jobs;
use utoipa::IntoParams;

use super::BuyerAdmin;
use crate::Error;
use crate::jobs::QUEUE;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/saga", get(saga_queue))
        .route("/admin/saga/replay", post(replay_dead))
}

/// The queue spans every tenant: a tenant-bound token may not manage it.
fn operator(auth: &Authorized<BuyerAdmin>) -> Result<(), Error> {
    match auth.caller.tenant_id {
        Some(_) => Err(Error::TenantForbidden),
        None => Ok(()),
    }
}

/// The saga queue's depth and its dead jobs (oldest first, at most 100).
#[utoipa::path(get, path = "/admin/saga", responses((status = 200, body = SagaQueue)))]
pub(super) async fn saga_queue(
    State(s): State<AppState>,
    auth: Authorized<BuyerAdmin>,
) -> Result<Json<SagaQueue>, Error> {
    operator(&auth)?;
    let st = jobs::stats(&s.db, QUEUE).await?;
    let dead_jobs = jobs::dead(&s.db, QUEUE, 100)
        .await?
        .into_iter()
        .map(|j| DeadSagaJob {
            payload: serde_json::from_str(&j.payload).unwrap_or_default(),
            id: j.id,
            attempts: j.attempts,
            last_error: j.last_error,
            dead_at: j.updated_at,
        })
        .collect();
    Ok(Json(SagaQueue {
        pending: st.pending,
        running: st.running,
        dead: st.dead,
        oldest_due_age_s: st.oldest_due_age_s,
        dead_jobs,
    }))
}

/// Query of `POST /admin/saga/replay`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ReplayQuery {
    /// One job; all dead jobs when absent.
    job_id: Option<String>,
}

impl Validate for ReplayQuery {
    fn validate(&self, v: &mut Validator) {
        v.len(self.job_id.as_deref(), "jobId", 1, 64);
    }
}

/// Puts dead saga jobs back to run now with fresh attempts. Safe at any time: every saga step
/// is idempotent, and a job that is no longer dead is not touched.
#[utoipa::path(post, path = "/admin/saga/replay", params(ReplayQuery),
    responses((status = 200, body = Replayed)))]
pub(super) async fn replay_dead(
    State(s): State<AppState>,
    auth: Authorized<BuyerAdmin>,
    ValidQuery(q): ValidQuery<ReplayQuery>,
) -> Result<Json<Replayed>, Error> {
    operator(&auth)?;
    let count = jobs::replay(&s.db, QUEUE, q.job_id.as_deref()).await?;
    tracing::info!(job_id = ?q.job_id, count, "dead saga jobs replayed");
    Ok(Json(Replayed { count }))
}
