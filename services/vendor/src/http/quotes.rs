//! Quotes: create (behind the paywall), read, accept and reject (the buyer's purchase saga).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bus::Envelope;
use chrono::Utc;
use contracts::marketplace::{QuoteAccepted, VENDOR_QUOTE_ACCEPTED};
use contracts::vendor::{
    AcceptQuote, CreateQuote, OpenIntent, Quote, QuoteStatus, RejectQuote, TenantQuery,
};
use platform::extract::Idempotent;
use platform::{Authorized, ValidJson, ValidPath, ValidQuery};
use store::{Tx, idempotency, outbox};

use super::{QuoteWrite, VendorRead, tenant};
use crate::domain;
use crate::state::AppState;
use crate::store::{intents, quotes};
use crate::writer::{Lock, NewQuote, make_quote};
use crate::{Error, metrics};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/vendors/{id}/quotes", post(create_quote))
        .route("/quotes/{id}", get(get_quote))
        .route("/intents/{id}", get(get_intent))
        .route("/quotes/{id}/accept", post(accept_quote))
        .route("/quotes/{id}/reject", post(reject_quote))
}

fn outcome(e: &Error) -> &'static str {
    match e {
        Error::SubscriptionRequired => "subscription_required",
        Error::IntentUnknown => "intent_unknown",
        Error::IntentClosed(_) => "intent_closed",
        Error::QuoteExists => "duplicate",
        Error::VendorNotFound => "vendor_not_found",
        Error::CurrencyNotAllowed(..) => "currency_not_allowed",
        _ => "failed",
    }
}

/// Answer an open intent with a price. Refused when the intent is unknown (422) or closed
/// (409 `intent_closed`), when this vendor already quoted it (409 `quote_exists`), or when the
/// window's free quotes are spent and no paid period covers now (402 `subscription_required`).
/// Idempotent with an `Idempotency-Key`.
#[utoipa::path(post, path = "/vendors/{id}/quotes", request_body = CreateQuote,
    params(("id" = String, Path, description = "vendor id"),
        ("Idempotency-Key" = Option<String>, Header, description = "16-255 characters")),
    responses((status = 201, body = Quote),
        (status = 402, description = "subscription_required", body = platform::Problem),
        (status = 404, body = platform::Problem),
        (status = 409, description = "intent_closed, quote_exists", body = platform::Problem),
        (status = 422, description = "intent_unknown, currency_not_allowed", body = platform::Problem)))]
pub(super) async fn create_quote(
    State(s): State<AppState>,
    auth: Authorized<QuoteWrite>,
    ValidPath(vendor_id): ValidPath<String>,
    req: Idempotent<CreateQuote>,
) -> Result<Response, Error> {
    let caller = auth.caller;
    let tenant = tenant(
        &caller,
        req.body.tenant_id.as_deref(),
        &s,
        Error::VendorNotFound,
    )?;
    let body = &req.body;
    if !domain::currency_allowed(&body.currency, &s.config.currencies) {
        let e = Error::CurrencyNotAllowed(body.currency.clone(), s.config.currencies.join(", "));
        metrics::quote(outcome(&e));
        return Err(e);
    }
    let ttl = chrono::Duration::from_std(s.config.quote_ttl)
        .unwrap_or_else(|_| chrono::Duration::days(1));
    let op = NewQuote {
        tenant: tenant.clone(),
        vendor_id: vendor_id.clone(),
        body: body.clone(),
        ttl,
    };
    let result = match req.key.as_deref() {
        // Without a key: through the group-commit writer, sharing a commit with other quotes.
        None => match s.quotes.submit(op).await {
            Ok(Ok(row)) => {
                Ok((StatusCode::CREATED, Json(row.to_quote(Utc::now()))).into_response())
            }
            Ok(Err(refusal)) => Err(refusal),
            Err(e) => Err(Error::from(e)),
        },
        // With a key: its own transaction, where the stored response commits with the quote.
        Some(key) => {
            let idem = idempotency::Request {
                scope: format!("{tenant}:{}:quote:{vendor_id}", caller.issuer),
                key,
                hash: &req.request_hash,
            };
            idempotency::run(&s.db, Some(idem), async |tx: &mut Tx| {
                let row = make_quote(tx, &op, Lock::Take).await?;
                Ok::<_, Error>((StatusCode::CREATED, row.to_quote(Utc::now())))
            })
            .await
        }
    };
    match &result {
        Ok(_) => metrics::quote("created"),
        Err(e) => {
            if matches!(e, Error::SubscriptionRequired) {
                metrics::paywall_refused();
            }
            metrics::quote(outcome(e));
        }
    }
    result
}

/// One quote (a pending quote past its deadline reads as `expired`).
#[utoipa::path(get, path = "/quotes/{id}", params(("id" = String, Path, description = "quote id"), TenantQuery),
    responses((status = 200, body = Quote), (status = 404, body = platform::Problem)))]
pub(super) async fn get_quote(
    State(s): State<AppState>,
    auth: Authorized<VendorRead>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<Quote>, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::QuoteNotFound,
    )?;
    let mut conn = s.db.conn().await?;
    let row = quotes::find(conn.exec(), &tenant, &id)
        .await?
        .ok_or(Error::QuoteNotFound)?;
    Ok(Json(row.to_quote(Utc::now())))
}

/// Accept a pending, unexpired quote for a purchase, once (a conditional update). The same
/// `purchaseId` again gets the accepted quote back (a retried saga step); anything else finds it
/// not pending (409 `quote_not_pending`). The buyer must own the quote's intent (403).
#[utoipa::path(post, path = "/quotes/{id}/accept", request_body = AcceptQuote,
    params(("id" = String, Path, description = "quote id"), TenantQuery),
    responses((status = 200, body = Quote), (status = 403, description = "buyer_mismatch", body = platform::Problem),
        (status = 404, body = platform::Problem),
        (status = 409, description = "quote_not_pending", body = platform::Problem)))]
pub(super) async fn accept_quote(
    State(s): State<AppState>,
    auth: Authorized<QuoteWrite>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
    ValidJson(req): ValidJson<AcceptQuote>,
) -> Result<Json<Quote>, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::QuoteNotFound,
    )?;
    let now = Utc::now();
    let mut tx = s.db.begin().await?;
    let accepted = quotes::accept(
        tx.exec(),
        &tenant,
        &id,
        &req.buyer_id,
        &req.purchase_id,
        now,
    )
    .await?;
    let Some(row) = accepted else {
        let row = quotes::find(tx.exec(), &tenant, &id)
            .await?
            .ok_or(Error::QuoteNotFound)?;
        drop(tx);
        let status = row.status_at(now);
        if status == QuoteStatus::Accepted
            && row.purchase_id.as_deref() == Some(req.purchase_id.as_str())
        {
            return Ok(Json(row.to_quote(now)));
        }
        if status == QuoteStatus::Pending {
            // Pending and unexpired, so the intent's owner is someone else.
            return Err(Error::BuyerMismatch);
        }
        return Err(Error::QuoteNotPending(status.as_str()));
    };
    let payload = QuoteAccepted {
        quote_id: row.id.clone(),
        intent_id: row.intent_id.clone(),
        vendor_id: row.vendor_id.clone(),
        buyer_id: req.buyer_id.clone(),
        accepted_at: now,
    };
    let event = Envelope::new(VENDOR_QUOTE_ACCEPTED, "vendor", &tenant, payload)
        .map_err(store::Error::from)?;
    outbox::enqueue(&mut tx, &event).await?;
    tx.commit().await?;
    metrics::quote_closed("accepted", 1);
    Ok(Json(row.to_quote(now)))
}

/// Reject a pending quote (the buyer declined, or the saga released it). Rejecting a rejected
/// quote again answers it as it is; an accepted or expired one is 409 `quote_not_pending`.
#[utoipa::path(post, path = "/quotes/{id}/reject", request_body = RejectQuote,
    params(("id" = String, Path, description = "quote id"), TenantQuery),
    responses((status = 200, body = Quote), (status = 404, body = platform::Problem),
        (status = 409, description = "quote_not_pending", body = platform::Problem)))]
pub(super) async fn reject_quote(
    State(s): State<AppState>,
    auth: Authorized<QuoteWrite>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
    ValidJson(req): ValidJson<RejectQuote>,
) -> Result<Json<Quote>, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::QuoteNotFound,
    )?;
    let now = Utc::now();
    let reason = req.reason.as_deref().unwrap_or("buyer_declined");
    let mut tx = s.db.begin().await?;
    if let Some(row) = quotes::reject(tx.exec(), &tenant, &id, reason, now).await? {
        tx.commit().await?;
        metrics::quote_closed("rejected", 1);
        return Ok(Json(row.to_quote(now)));
    }
    let row = quotes::find(tx.exec(), &tenant, &id)
        .await?
        .ok_or(Error::QuoteNotFound)?;
    match row.status_at(now) {
        QuoteStatus::Rejected => Ok(Json(row.to_quote(now))),
        other => Err(Error::QuoteNotPending(other.as_str())),
    }
}

/// An intent as this service knows it from the buyer's events (404 until the first arrives).
#[utoipa::path(get, path = "/intents/{id}", params(("id" = String, Path, description = "intent id"), TenantQuery),
    responses((status = 200, body = OpenIntent), (status = 404, body = platform::Problem)))]
pub(super) async fn get_intent(
    State(s): State<AppState>,
    auth: Authorized<VendorRead>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<OpenIntent>, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::IntentNotFound,
    )?;
    let mut conn = s.db.conn().await?;
    let row = intents::find(conn.exec(), &tenant, &id)
        .await?
        .ok_or(Error::IntentNotFound)?;
    Ok(Json(row.view()))
}
