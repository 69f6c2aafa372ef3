//! Purchases: `POST /purchases` records one and starts its saga; confirmations settle it.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use contracts::buyer::{
    CancelRequest, ConfirmPurchase, CreatePurchase, ListQuery, Purchase, PurchaseList,
    PurchaseStatus,
};
use contracts::vendor::{Quote, QuoteStatus};
use platform::extract::Idempotent;
use platform::{Authorized, Caller, ValidJson, ValidPath, ValidQuery};
use store::idempotency::{self, Claim};

use super::{BuyerRead, BuyerWrite, TenantQuery, page, tenant, visible};
use crate::clients::CallError;
use crate::jobs::{self, Work};
use crate::saga;
use crate::state::AppState;
use crate::store::intents::{self, IntentRow};
use crate::store::purchases::{self, NewPurchase, PurchaseRow};
use crate::{Error, metrics};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/purchases", post(create_purchase).get(list_purchases))
        .route("/purchases/{id}", get(get_purchase))
        .route("/purchases/{id}/confirm", post(confirm_purchase))
        .route("/purchases/{id}/cancel", post(cancel_purchase))
}

fn unavailable(e: CallError) -> Error {
    match e {
        CallError::Unavailable(dep, _) => Error::DependencyUnavailable(dep),
        CallError::Unexpected(_, why) => Error::Upstream(why),
    }
}

/// The checks of spec 2.8 #2 against the vendor's quote and our intent.
fn check(
    tenant: &str,
    body: &CreatePurchase,
    quote: &Quote,
    intent: Option<&IntentRow>,
) -> Result<(), Error> {
    if quote.tenant_id != tenant {
        return Err(Error::QuoteNotFound);
    }
    let Some(intent) = intent.filter(|i| i.tenant_id == tenant) else {
        return Err(Error::QuoteNotFound);
    };
    if body.amount_minor.is_some_and(|a| a != quote.amount_minor) {
        return Err(Error::AmountMismatch("amountMinor".into()));
    }
    if body
        .currency
        .as_deref()
        .is_some_and(|c| c != quote.currency)
    {
        return Err(Error::AmountMismatch("currency".into()));
    }
    if body
        .buyer_id
        .as_deref()
        .is_some_and(|b| b != intent.buyer_id)
    {
        return Err(Error::NotIntentOwner);
    }
    let now = Utc::now();
    if quote.status != QuoteStatus::Pending || quote.expires_at <= now {
        return Err(Error::QuoteNotPending);
    }
    if !intent.is_open(now) {
        return Err(Error::IntentNotOpen);
    }
    Ok(())
}

/// Fetches and checks the quote, then records the purchase with its saga and deadline jobs,
/// and the idempotency key's response, in one transaction.
async fn record(
    s: &AppState,
    tenant: &str,
    body: &CreatePurchase,
    idem: &idempotency::Request<'_>,
) -> Result<Purchase, Error> {
    let quote = s
        .clients
        .quote(tenant, &body.quote_id)
        .await
        .map_err(unavailable)?
        .ok_or(Error::QuoteNotFound)?;
    let intent = {
        let mut conn = s.db.conn().await?;
        intents::find(conn.exec(), &quote.intent_id).await?
    };
    check(tenant, body, &quote, intent.as_ref())?;
    let Some(intent) = intent else {
        return Err(Error::QuoteNotFound);
    };
    let deadline =
        Utc::now() + chrono::Duration::from_std(s.config.settlement_deadline).unwrap_or_default();
    let mut tx = s.db.begin().await?;
    let new = NewPurchase {
        tenant,
        buyer_id: &intent.buyer_id,
        intent_id: &intent.id,
        quote_id: &quote.id,
        vendor_id: &quote.vendor_id,
        amount_minor: quote.amount_minor,
        currency: &quote.currency,
        deadline_at: deadline,
    };
    let row = match purchases::insert(tx.exec(), &new).await {
        Err(Error::IntentHasPurchase) => {
            drop(tx);
            // SQLite names whichever live index it checked first; when it is this very quote
            // that was bought, say so.
            let mut conn = s.db.conn().await?;
            return Err(if purchases::live_on_quote(conn.exec(), &quote.id).await? {
                Error::QuoteAlreadyPurchased
            } else {
                Error::IntentHasPurchase
            });
        }
        other => other?,
    };
    let advance = Work::Advance {
        purchase_id: row.id.clone(),
    };
    jobs::enqueue(&mut tx, s, &advance, None, None).await?;
    let at_deadline = Work::Deadline {
        purchase_id: row.id.clone(),
    };
    let dedupe = format!("deadline:{}", row.id);
    jobs::enqueue(&mut tx, s, &at_deadline, Some(deadline), Some(&dedupe)).await?;
    let view = row.view();
    let text = serde_json::to_string(&view)?;
    idempotency::complete(&mut tx, idem, StatusCode::CREATED.as_u16(), &text).await?;
    tx.commit().await?;
    metrics::purchase("created");
    tracing::info!(purchase_id = %row.id, quote_id = %row.quote_id, "purchase recorded; saga queued");
    Ok(view)
}

/// Buy a vendor's quote. Checks the quote (tenant, still pending, amount and currency equal to
/// the request's when sent) and the intent (the buyer's, still open), records the purchase
/// (`pending`; one live purchase per quote and per intent) and answers 201 at once; the saga then
/// reserves the money (`reserved`), accepts the quote at the vendor and matches the intent
/// (`accepted`), or fails with a `reason`. Requires an `Idempotency-Key`: a retry answers the
/// first response and never charges twice.
#[utoipa::path(post, path = "/purchases", request_body = CreatePurchase,
    params(("Idempotency-Key" = String, Header, description = "16-255 characters")),
    responses((status = 201, body = Purchase),
        (status = 404, description = "quote_not_found", body = platform::Problem),
        (status = 409, description = "quote_not_pending, intent_not_open, quote_already_purchased, intent_has_purchase", body = platform::Problem),
        (status = 422, description = "amount_mismatch, not_intent_owner", body = platform::Problem),
        (status = 503, description = "the vendor is unavailable", body = platform::Problem)))]
pub(super) async fn create_purchase(
    State(s): State<AppState>,
    auth: Authorized<BuyerWrite>,
    req: Idempotent<CreatePurchase>,
) -> Result<Response, Error> {
    let tenant = tenant(&auth.caller, req.body.tenant_id.as_deref(), &s)?;
    let key = req.key.as_deref().ok_or(Error::IdempotencyKeyMissing)?;
    let idem = idempotency::Request {
        scope: format!("{tenant}:{}:purchases", auth.caller.issuer),
        key,
        hash: &req.request_hash,
    };
    if let Claim::Replay { status, body } = idempotency::claim(&s.db, &idem).await? {
        let mut res =
            (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(idempotency::REPLAYED, HeaderValue::from_static("true"));
        return Ok(res);
    }
    match record(&s, &tenant, &req.body, &idem).await {
        Ok(view) => Ok((StatusCode::CREATED, Json(view)).into_response()),
        Err(e) => {
            if let Err(release) = idempotency::release(&s.db, &idem).await {
                tracing::warn!(error = %release, "idempotency key not released; it expires with its lease");
            }
            Err(e)
        }
    }
}

/// The tenant's purchases, newest first, a page at a time (the admin-app shape).
#[utoipa::path(get, path = "/purchases", params(ListQuery),
    responses((status = 200, body = PurchaseList), (status = 422, body = platform::Problem)))]
pub(super) async fn list_purchases(
    State(s): State<AppState>,
    auth: Authorized<BuyerRead>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> Result<Json<PurchaseList>, Error> {
    let (list, next_cursor) = page::fetch(&s, &auth.caller, &q, purchases::list, |r| &r.id).await?;
    Ok(Json(PurchaseList {
        purchases: list,
        next_cursor,
    }))
}

async fn visible_purchase(
    s: &AppState,
    caller: &Caller,
    requested: Option<&str>,
    id: &str,
) -> Result<PurchaseRow, Error> {
    let mut conn = s.db.conn().await?;
    purchases::find(conn.exec(), id)
        .await?
        .filter(|p| visible(caller, requested, s, &p.tenant_id))
        .ok_or(Error::PurchaseNotFound)
}

/// A purchase: its status and, when it failed or was cancelled, why.
#[utoipa::path(get, path = "/purchases/{id}", params(("id" = String, Path, description = "purchase id"), TenantQuery),
    responses((status = 200, body = Purchase), (status = 404, body = platform::Problem)))]
pub(super) async fn get_purchase(
    State(s): State<AppState>,
    auth: Authorized<BuyerRead>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<Purchase>, Error> {
    let row = visible_purchase(&s, &auth.caller, q.tenant_id.as_deref(), &id).await?;
    Ok(Json(row.view()))
}

/// Runs the saga now (its job is queued too, so a failure here is retried there).
async fn advance_now(s: &AppState, id: &str) -> Result<Purchase, Error> {
    if let Err(e) = saga::advance(s, id).await {
        tracing::warn!(purchase_id = %id, error = %e, "saga step failed; the queued job retries it");
    }
    let mut conn = s.db.conn().await?;
    purchases::find(conn.exec(), id)
        .await?
        .map(|p| p.view())
        .ok_or(Error::PurchaseNotFound)
}

/// Confirm an accepted purchase as the `VENDOR` or the `BUYER` (idempotent per actor: the first
/// confirmation's time stays). When both have confirmed, the pending transfer is posted and the
/// purchase is `settled` (`settledAt`, `buyer.purchase.settled`).
#[utoipa::path(post, path = "/purchases/{id}/confirm", request_body = ConfirmPurchase,
    params(("id" = String, Path, description = "purchase id")),
    responses((status = 200, body = Purchase), (status = 404, body = platform::Problem),
        (status = 409, description = "purchase_not_accepted, purchase_closed", body = platform::Problem),
        (status = 422, description = "amount_mismatch", body = platform::Problem)))]
pub(super) async fn confirm_purchase(
    State(s): State<AppState>,
    auth: Authorized<BuyerWrite>,
    ValidPath(id): ValidPath<String>,
    ValidJson(req): ValidJson<ConfirmPurchase>,
) -> Result<Json<Purchase>, Error> {
    let row = visible_purchase(&s, &auth.caller, req.tenant_id.as_deref(), &id).await?;
    if req.amount.is_some_and(|a| a != row.amount_minor) {
        return Err(Error::AmountMismatch("amount".into()));
    }
    if req.currency.as_deref().is_some_and(|c| c != row.currency) {
        return Err(Error::AmountMismatch("currency".into()));
    }
    let mut tx = s.db.begin().await?;
    let Some(done) = purchases::confirm(tx.exec(), &row.id, req.actor, Utc::now()).await? else {
        return match row.status() {
            PurchaseStatus::Settled => Ok(Json(row.view())),
            PurchaseStatus::Pending | PurchaseStatus::Reserved => Err(Error::PurchaseNotAccepted),
            st => Err(Error::PurchaseClosed(st.as_str())),
        };
    };
    if !done.confirmed() {
        tx.commit().await?;
        return Ok(Json(done.view()));
    }
    let work = Work::Advance {
        purchase_id: done.id.clone(),
    };
    jobs::enqueue(&mut tx, &s, &work, None, None).await?;
    tx.commit().await?;
    Ok(Json(advance_now(&s, &done.id).await?))
}

/// Cancel a purchase before settlement: it becomes `cancelled` (`buyer.purchase.cancelled`) and
/// its reservation is voided. Once both sides have confirmed it is being settled and can no
/// longer be cancelled (409). Cancelling a cancelled purchase answers it again.
#[utoipa::path(post, path = "/purchases/{id}/cancel", request_body = CancelRequest,
    params(("id" = String, Path, description = "purchase id")),
    responses((status = 200, body = Purchase), (status = 404, body = platform::Problem),
        (status = 409, description = "purchase_closed (settled or failed)", body = platform::Problem)))]
pub(super) async fn cancel_purchase(
    State(s): State<AppState>,
    auth: Authorized<BuyerWrite>,
    ValidPath(id): ValidPath<String>,
    ValidJson(req): ValidJson<CancelRequest>,
) -> Result<Json<Purchase>, Error> {
    let row = visible_purchase(&s, &auth.caller, req.tenant_id.as_deref(), &id).await?;
    let reason = req.reason.as_deref().unwrap_or("cancelled");
    let mut tx = s.db.begin().await?;
    let Some(done) = purchases::close(
        tx.exec(),
        &row.id,
        PurchaseStatus::Cancelled,
        reason,
        Utc::now(),
        false,
    )
    .await?
    else {
        return match row.status() {
            PurchaseStatus::Cancelled => Ok(Json(row.view())),
            PurchaseStatus::Accepted => Err(Error::PurchaseClosed("being settled")),
            st => Err(Error::PurchaseClosed(st.as_str())),
        };
    };
    saga::cancelled(&mut tx, &done).await?;
    let work = Work::Advance {
        purchase_id: done.id.clone(),
    };
    jobs::enqueue(&mut tx, &s, &work, None, None).await?;
    tx.commit().await?;
    metrics::purchase("cancelled");
    Ok(Json(advance_now(&s, &done.id).await?))
}
