//! Intents: `POST /buyers/{id}/intents`, `POST /intents` (agent-core's route), lists, cancel.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use contracts::buyer::{
    CancelRequest, CreateIntent, INTENT_CANCELLED, INTENT_CREATED, Intent, IntentList, ListQuery,
};
use platform::extract::Idempotent;
use platform::{Authorized, Caller, ValidJson, ValidPath, ValidQuery};
use store::{Tx, idempotency, outbox};

use super::buyers::visible_buyer;
use super::{BuyerRead, BuyerWrite, TenantQuery, page, visible};
use crate::jobs::{self, Work};
use crate::saga;
use crate::state::AppState;
use crate::store::intents::{self, IntentRow, NewIntent};
use crate::{Error, metrics};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/buyers/{id}/intents", post(create_buyer_intent))
        .route("/intents", post(create_intent).get(list_intents))
        .route("/intents/{id}", get(get_intent))
        .route("/intents/{id}/cancel", post(cancel_intent))
}

/// Records a pending intent of `buyer_id`, its `buyer.intent.created` event and its expiry job.
async fn record(
    s: &AppState,
    caller: &Caller,
    buyer_id: &str,
    req: &Idempotent<CreateIntent>,
) -> Result<Response, Error> {
    let body = &req.body;
    let buyer = visible_buyer(s, caller, body.tenant_id.as_deref(), buyer_id).await?;
    let now = Utc::now();
    let expires_at = match body.expires_at {
        Some(t) if t <= now => return Err(Error::InvalidExpiry),
        Some(t) => t,
        None => now + chrono::Duration::from_std(s.config.intent_ttl).unwrap_or_default(),
    };
    let idem = req.key.as_deref().map(|key| idempotency::Request {
        scope: format!("{}:{}:intents", buyer.tenant_id, caller.issuer),
        key,
        hash: &req.request_hash,
    });
    idempotency::run(&s.db, idem, async |tx: &mut Tx| {
        let new = NewIntent {
            tenant: &buyer.tenant_id,
            buyer_id: &buyer.id,
            channel: &body.channel,
            payload: &body.payload,
            expires_at,
        };
        let row = intents::insert(tx.exec(), &new).await?;
        let e = saga::event(INTENT_CREATED, &row.tenant_id, &row.id, row.changed())?;
        outbox::enqueue(tx, &e).await?;
        let work = Work::ExpireIntent {
            intent_id: row.id.clone(),
        };
        let dedupe = format!("expire:{}", row.id);
        jobs::enqueue(tx, s, &work, Some(expires_at), Some(&dedupe)).await?;
        metrics::intent("pending");
        tracing::info!(intent_id = %row.id, buyer_id = %row.buyer_id, "intent recorded");
        Ok::<_, Error>((StatusCode::CREATED, row.view()))
    })
    .await
}

/// Record an intent of the buyer: pending until matched by a purchase, expired at `expiresAt`
/// (default now + `BUYER_INTENT_TTL_SECONDS`), or cancelled. Emits `buyer.intent.created`.
#[utoipa::path(post, path = "/buyers/{id}/intents", request_body = CreateIntent,
    params(("id" = String, Path, description = "buyer id"), ("Idempotency-Key" = Option<String>, Header, description = "16-255 characters")),
    responses((status = 201, body = Intent), (status = 404, description = "buyer_not_found", body = platform::Problem),
        (status = 422, body = platform::Problem)))]
pub(super) async fn create_buyer_intent(
    State(s): State<AppState>,
    auth: Authorized<BuyerWrite>,
    ValidPath(id): ValidPath<String>,
    req: Idempotent<CreateIntent>,
) -> Result<Response, Error> {
    if req.body.buyer_id.as_deref().is_some_and(|b| b != id) {
        return Err(Error::BuyerIdInvalid(
            "buyerId differs from the path's buyer",
        ));
    }
    record(&s, &auth.caller, &id, &req).await
}

/// The same with `buyerId` in the body: the route agent-core's broker calls (spec 5, Decision).
#[utoipa::path(post, path = "/intents", request_body = CreateIntent,
    params(("Idempotency-Key" = Option<String>, Header, description = "16-255 characters")),
    responses((status = 201, body = Intent), (status = 404, description = "buyer_not_found", body = platform::Problem),
        (status = 422, body = platform::Problem)))]
pub(super) async fn create_intent(
    State(s): State<AppState>,
    auth: Authorized<BuyerWrite>,
    req: Idempotent<CreateIntent>,
) -> Result<Response, Error> {
    let Some(buyer_id) = req.body.buyer_id.clone() else {
        return Err(Error::BuyerIdInvalid("buyerId is required"));
    };
    record(&s, &auth.caller, &buyer_id, &req).await
}

/// The tenant's intents, newest first, a page at a time (the admin-app shape).
#[utoipa::path(get, path = "/intents", params(ListQuery),
    responses((status = 200, body = IntentList), (status = 422, body = platform::Problem)))]
pub(super) async fn list_intents(
    State(s): State<AppState>,
    auth: Authorized<BuyerRead>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> Result<Json<IntentList>, Error> {
    let (list, next_cursor) = page::fetch(&s, &auth.caller, &q, intents::list, |r| &r.id).await?;
    Ok(Json(IntentList {
        intents: list,
        next_cursor,
    }))
}

async fn visible_intent(
    s: &AppState,
    caller: &Caller,
    requested: Option<&str>,
    id: &str,
) -> Result<IntentRow, Error> {
    let mut conn = s.db.conn().await?;
    intents::find(conn.exec(), id)
        .await?
        .filter(|i| visible(caller, requested, s, &i.tenant_id))
        .ok_or(Error::IntentNotFound)
}

/// An intent.
#[utoipa::path(get, path = "/intents/{id}", params(("id" = String, Path, description = "intent id"), TenantQuery),
    responses((status = 200, body = Intent), (status = 404, body = platform::Problem)))]
pub(super) async fn get_intent(
    State(s): State<AppState>,
    auth: Authorized<BuyerRead>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<Intent>, Error> {
    let row = visible_intent(&s, &auth.caller, q.tenant_id.as_deref(), &id).await?;
    Ok(Json(row.view()))
}

/// Withdraw a pending intent (emits `buyer.intent.cancelled`). Refused while a purchase of one
/// of its quotes is live; cancelling a cancelled intent answers it again.
#[utoipa::path(post, path = "/intents/{id}/cancel", request_body = CancelRequest,
    params(("id" = String, Path, description = "intent id")),
    responses((status = 200, body = Intent), (status = 404, body = platform::Problem),
        (status = 409, description = "intent_not_open, intent_has_purchase", body = platform::Problem)))]
pub(super) async fn cancel_intent(
    State(s): State<AppState>,
    auth: Authorized<BuyerWrite>,
    ValidPath(id): ValidPath<String>,
    ValidJson(req): ValidJson<CancelRequest>,
) -> Result<Json<Intent>, Error> {
    let row = visible_intent(&s, &auth.caller, req.tenant_id.as_deref(), &id).await?;
    let mut tx = s.db.begin().await?;
    let Some(done) = intents::cancel(tx.exec(), &row.id, Utc::now()).await? else {
        return match row.status.as_str() {
            "cancelled" => Ok(Json(row.view())),
            "pending" => Err(Error::IntentHasPurchase),
            _ => Err(Error::IntentNotOpen),
        };
    };
    let e = saga::event(INTENT_CANCELLED, &done.tenant_id, &done.id, done.changed())?;
    outbox::enqueue(&mut tx, &e).await?;
    tx.commit().await?;
    metrics::intent("cancelled");
    Ok(Json(done.view()))
}
