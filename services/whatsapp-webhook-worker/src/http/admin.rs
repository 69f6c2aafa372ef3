//! The dead-letter queue and queue depth, for operators (scope `whatsapp:admin`).

use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use contracts::whatsapp::{Affected, DeadJob, DeadJobList, QueueStats};
use platform::{Authorized, ValidQuery, Validate, Validator};
use serde::Deserialize;
use store::jobs;
use utoipa::IntoParams;

use super::Admin;
use crate::Error;
use crate::jobs::JobPayload;
use crate::state::{AppState, QUEUE};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/dlq", get(list_dead).delete(purge_all))
        .route("/v1/admin/dlq/replay", post(replay_all))
        .route("/v1/admin/dlq/{id}", delete(purge_one))
        .route("/v1/admin/dlq/{id}/replay", post(replay_one))
        .route("/v1/admin/queue", get(queue))
}

/// Paging of the dead-letter list.
#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct ListQuery {
    /// Most jobs returned (default 100, at most 1000).
    limit: Option<i64>,
}

/// Out-of-range limits are clamped, not refused.
impl Validate for ListQuery {
    fn validate(&self, _: &mut Validator) {}
}

/// Dead jobs, oldest first: the message reference, attempts and last error.
#[utoipa::path(get, path = "/v1/admin/dlq", params(ListQuery),
    responses((status = 200, body = DeadJobList)))]
pub(super) async fn list_dead(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> Result<Json<DeadJobList>, Error> {
    operator(&auth)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let items = jobs::dead(&s.db, QUEUE, limit)
        .await?
        .into_iter()
        .map(|j| DeadJob {
            wamid: serde_json::from_str::<JobPayload>(&j.payload)
                .ok()
                .map(|p| p.wamid),
            id: j.id,
            attempts: j.attempts,
            last_error: j.last_error,
            dead_at: j.updated_at,
        })
        .collect();
    Ok(Json(DeadJobList { items }))
}

/// The DLQ spans every tenant: a tenant-bound token may not manage it.
fn operator(auth: &Authorized<Admin>) -> Result<(), Error> {
    match auth.caller.tenant_id {
        Some(_) => Err(Error::TenantForbidden),
        None => Ok(()),
    }
}

async fn replay(s: &AppState, id: Option<&str>) -> Result<Json<Affected>, Error> {
    let count = jobs::replay(&s.db, QUEUE, id).await?;
    tracing::info!(job_id = ?id, count, "dead jobs replayed");
    Ok(Json(Affected { count }))
}

async fn purge(s: &AppState, id: Option<&str>) -> Result<Json<Affected>, Error> {
    let count = crate::store::messages::give_up_dead(&s.db, QUEUE, id, chrono::Utc::now()).await?;
    tracing::warn!(job_id = ?id, count, "dead jobs purged");
    Ok(Json(Affected { count }))
}

/// Puts one dead job back to run now with fresh attempts (idempotent: `count` 0 when it is no
/// longer dead).
#[utoipa::path(post, path = "/v1/admin/dlq/{id}/replay", params(("id" = String, Path)),
    responses((status = 200, body = Affected)))]
pub(super) async fn replay_one(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
    Path(id): Path<String>,
) -> Result<Json<Affected>, Error> {
    operator(&auth)?;
    replay(&s, Some(&id)).await
}

/// Puts every dead job back to run now.
#[utoipa::path(post, path = "/v1/admin/dlq/replay", responses((status = 200, body = Affected)))]
pub(super) async fn replay_all(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
) -> Result<Json<Affected>, Error> {
    operator(&auth)?;
    replay(&s, None).await
}

/// Deletes one dead job (the stored message stays, unrouted; it is marked processed so that
/// routing does not take it up again as new).
#[utoipa::path(delete, path = "/v1/admin/dlq/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Affected)))]
pub(super) async fn purge_one(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
    Path(id): Path<String>,
) -> Result<Json<Affected>, Error> {
    operator(&auth)?;
    purge(&s, Some(&id)).await
}

/// Deletes every dead job.
#[utoipa::path(delete, path = "/v1/admin/dlq", responses((status = 200, body = Affected)))]
pub(super) async fn purge_all(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
) -> Result<Json<Affected>, Error> {
    operator(&auth)?;
    purge(&s, None).await
}

/// Depth and age of the processing queue.
#[utoipa::path(get, path = "/v1/admin/queue", responses((status = 200, body = QueueStats)))]
pub(super) async fn queue(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
) -> Result<Json<QueueStats>, Error> {
    operator(&auth)?;
    let st = crate::jobs::stats(&s).await?;
    Ok(Json(QueueStats {
        pending: st.pending,
        running: st.running,
        dead: st.dead,
        oldest_due_age_s: st.oldest_due_age_s,
    }))
}
