//! The purchase saga, run by the `advance` job of [`crate::jobs`].
//!
//! One job (`advance`) drives a purchase from whatever state is stored to the next resting
//! state: `pending` -> reserve (pending wallet transfer) -> `reserved` -> accept at the vendor ->
//! `accepted` (intent matched). A failed or cancelled purchase with a reservation gets it voided;
//! an accepted purchase confirmed by both sides gets it posted (`settled`). Every outbound call
//! carries a key derived from the purchase id, and every state change is a conditional update,
//! so a step repeated after a crash (the job's lease runs out and another worker takes it, or
//! the process restarts) has its effect once. Failures to reach a dependency are retried with
//! exponential backoff, then the job is dead-lettered; the deadline job still voids the purchase.

use std::time::Instant;

use chrono::Utc;
use contracts::Envelope;
use contracts::buyer::{INTENT_MATCHED, PURCHASE_CANCELLED, PurchaseCancelled, PurchaseStatus};
use contracts::marketplace::{BUYER_PURCHASE_SETTLED, PurchaseSettled};
use contracts::vendor::AcceptQuote;
use contracts::wallet::TransferRequest;
use reqwest::StatusCode;
use serde::Serialize;
use store::{Tx, outbox};

use crate::clients::{CallError, Refusal};
use crate::domain::{self, Step};
use crate::state::AppState;
use crate::store::buyers;
use crate::store::intents::{self, IntentRow};
use crate::store::purchases::{self, PurchaseRow};
use crate::{Error, metrics};

/// A saga failure: retried, then dead-lettered with this text.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SagaError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Store(#[from] Error),
    #[error("the wallet's request is still in flight")]
    InFlight,
}

impl From<store::Error> for SagaError {
    fn from(e: store::Error) -> Self {
        Self::Store(e.into())
    }
}

/// An event about `tenant`, correlated with `id`.
pub(crate) fn event(
    kind: &str,
    tenant: &str,
    id: &str,
    data: impl Serialize,
) -> Result<Envelope, Error> {
    Ok(Envelope::new(kind, crate::NAME, tenant, data)?.correlated(Some(id.to_owned())))
}

async fn load(s: &AppState, id: &str) -> Result<Option<PurchaseRow>, Error> {
    let mut conn = s.db.conn().await?;
    purchases::find(conn.exec(), id).await
}

/// Drives the purchase to its next resting state (see the module docs).
pub(crate) async fn advance(s: &AppState, id: &str) -> Result<(), SagaError> {
    // Each round makes one transition; a purchase has at most five, so this always ends.
    for _ in 0..8 {
        let Some(p) = load(s, id).await? else {
            tracing::warn!(purchase_id = %id, "saga job for an unknown purchase dropped");
            return Ok(());
        };
        match p.status() {
            PurchaseStatus::Pending => reserve(s, &p).await?,
            PurchaseStatus::Reserved => accept(s, &p).await?,
            PurchaseStatus::Accepted if p.confirmed() => settle(s, &p).await?,
            PurchaseStatus::Cancelled | PurchaseStatus::Failed
                if p.transfer_id.is_some() && !p.voided =>
            {
                void(s, &p).await?;
            }
            _ => return Ok(()),
        }
    }
    Ok(())
}

/// Times a step and counts its outcome.
async fn timed<T>(
    step: Step,
    f: impl Future<Output = Result<Result<T, Refusal>, CallError>>,
) -> Result<Result<T, Refusal>, CallError> {
    let started = Instant::now();
    let out = f.await;
    let outcome = match &out {
        Ok(Ok(_)) => "ok",
        Ok(Err(_)) => "refused",
        Err(_) => "retry",
    };
    metrics::saga_step(step.as_str(), outcome, started.elapsed());
    out
}

/// The buyer's wallet account in `asset`: recorded, or opened now.
async fn buyer_account(
    s: &AppState,
    p: &PurchaseRow,
) -> Result<Result<String, Refusal>, SagaError> {
    let known = {
        let mut conn = s.db.conn().await?;
        buyers::accounts(conn.exec(), &p.buyer_id).await?
    };
    if let Some((_, id)) = known.into_iter().find(|(a, _)| *a == p.currency) {
        return Ok(Ok(id));
    }
    let account = match s
        .clients
        .open_account(&p.tenant_id, "buyer", &p.buyer_id, &p.currency)
        .await?
    {
        Ok(a) => a,
        Err(r) => return Ok(Err(r)),
    };
    let mut tx = s.db.begin().await?;
    buyers::save_account(tx.exec(), &p.buyer_id, &p.currency, &account.id).await?;
    tx.commit().await?;
    Ok(Ok(account.id))
}

/// Step 1: reserve the quote's amount with a pending transfer buyer -> vendor.
async fn reserve(s: &AppState, p: &PurchaseRow) -> Result<(), SagaError> {
    let source = match buyer_account(s, p).await? {
        Ok(id) => id,
        Err(r) => return refused(s, p, &r).await,
    };
    let key = (p.tenant_id.clone(), p.vendor_id.clone(), p.currency.clone());
    let dest = match s.vendor_accounts.get(&key) {
        Some(id) => id,
        None => match s
            .clients
            .open_account(&p.tenant_id, "vendor", &p.vendor_id, &p.currency)
            .await?
        {
            Ok(a) => {
                s.vendor_accounts.insert(key, a.id.clone());
                a.id
            }
            Err(r) => return refused(s, p, &r).await,
        },
    };
    // Every field is derived from the stored purchase, so a retry is the same request.
    let req = TransferRequest {
        tenant_id: Some(p.tenant_id.clone()),
        source_account_id: Some(source),
        destination_account_id: Some(dest),
        amount_minor: Some(p.amount_minor),
        asset: p.currency.clone(),
        kind: Some("purchase".to_owned()),
        reference: Some(p.id.clone()),
        metadata: Some(serde_json::json!({"quoteId": p.quote_id, "intentId": p.intent_id})),
        pending: true,
        timeout_seconds: Some(domain::wallet_timeout_seconds(
            p.deadline_at,
            p.created_at,
            s.config.wallet_timeout_margin,
        )),
        legs: None,
    };
    let key = domain::wallet_key(&p.id, Step::Reserve);
    match timed(Step::Reserve, s.clients.reserve(&p.tenant_id, &key, &req)).await? {
        Ok(t) => {
            let mut tx = s.db.begin().await?;
            purchases::record_reservation(tx.exec(), &p.id, &t.id, Utc::now()).await?;
            tx.commit().await?;
            tracing::info!(purchase_id = %p.id, transfer_id = %t.id, "purchase reserved");
            Ok(())
        }
        Err(r) => refused(s, p, &r).await,
    }
}

/// A wallet refusal of the reservation: the purchase fails (nothing was reserved or accepted).
async fn refused(s: &AppState, p: &PurchaseRow, r: &Refusal) -> Result<(), SagaError> {
    if r.status == StatusCode::CONFLICT && r.code.ends_with("idempotency_in_flight") {
        return Err(SagaError::InFlight);
    }
    if let Some(fault) = r.auth_fault() {
        return Err(fault.into());
    }
    let reason = if r.code.ends_with("insufficient_funds") {
        "insufficient_funds"
    } else {
        tracing::warn!(purchase_id = %p.id, status = %r.status, code = %r.code, "wallet refused the reservation");
        "wallet_refused"
    };
    close(s, &p.id, PurchaseStatus::Failed, reason).await?;
    Ok(())
}

/// Step 2: accept the quote at the vendor; then the purchase is accepted and the intent matched.
async fn accept(s: &AppState, p: &PurchaseRow) -> Result<(), SagaError> {
    let intent = {
        let mut conn = s.db.conn().await?;
        intents::find(conn.exec(), &p.intent_id).await?
    };
    if intent.as_ref().is_none_or(|i| i.status != "pending") {
        close(s, &p.id, PurchaseStatus::Failed, "intent_closed").await?;
        return Ok(());
    }
    let body = AcceptQuote {
        buyer_id: p.buyer_id.clone(),
        purchase_id: p.id.clone(),
    };
    match timed(
        Step::Accept,
        s.clients.accept(&p.tenant_id, &p.quote_id, &body),
    )
    .await?
    {
        Ok(_) => {
            let now = Utc::now();
            let mut tx = s.db.begin().await?;
            if purchases::mark_accepted(tx.exec(), &p.id, now)
                .await?
                .is_some()
            {
                if let Some(i) =
                    intents::mark_matched(tx.exec(), &p.intent_id, &p.quote_id, now).await?
                {
                    matched(&mut tx, &i).await?;
                }
                tx.commit().await?;
                metrics::purchase("accepted");
                tracing::info!(purchase_id = %p.id, quote_id = %p.quote_id, "quote accepted; intent matched");
            }
            Ok(())
        }
        Err(r) => {
            if let Some(fault) = r.auth_fault() {
                return Err(fault.into());
            }
            tracing::info!(purchase_id = %p.id, status = %r.status, code = %r.code, "the vendor refused the acceptance");
            close(s, &p.id, PurchaseStatus::Failed, "quote_unavailable").await?;
            Ok(())
        }
    }
}

async fn matched(tx: &mut Tx, i: &IntentRow) -> Result<(), Error> {
    let e = event(INTENT_MATCHED, &i.tenant_id, &i.id, i.changed())?;
    outbox::enqueue(tx, &e).await?;
    metrics::intent("matched");
    Ok(())
}

/// Ends a live purchase as failed or cancelled, with its `buyer.purchase.cancelled` event.
pub(crate) async fn close(
    s: &AppState,
    id: &str,
    status: PurchaseStatus,
    reason: &str,
) -> Result<Option<PurchaseRow>, Error> {
    let mut tx = s.db.begin().await?;
    let row = purchases::close(tx.exec(), id, status, reason, Utc::now(), true).await?;
    if let Some(p) = &row {
        cancelled(&mut tx, p).await?;
        tx.commit().await?;
        metrics::purchase(if status == PurchaseStatus::Failed {
            "failed"
        } else {
            "cancelled"
        });
        tracing::info!(purchase_id = %id, status = status.as_str(), reason, "purchase closed");
    }
    Ok(row)
}

/// Queues `buyer.purchase.cancelled` for a purchase just closed.
pub(crate) async fn cancelled(tx: &mut Tx, p: &PurchaseRow) -> Result<(), Error> {
    let data = PurchaseCancelled {
        purchase_id: p.id.clone(),
        quote_id: p.quote_id.clone(),
        intent_id: p.intent_id.clone(),
        vendor_id: p.vendor_id.clone(),
        buyer_id: p.buyer_id.clone(),
        reason: p.reason.clone().unwrap_or_else(|| "cancelled".to_owned()),
        cancelled_at: p.cancelled_at.unwrap_or_else(Utc::now),
    };
    outbox::enqueue(tx, &event(PURCHASE_CANCELLED, &p.tenant_id, &p.id, data)?).await?;
    Ok(())
}

/// Releases the reservation of a failed or cancelled purchase.
async fn void(s: &AppState, p: &PurchaseRow) -> Result<(), SagaError> {
    let (Some(t), reason) = (&p.transfer_id, p.reason.as_deref().unwrap_or("cancelled")) else {
        return Ok(());
    };
    let key = domain::wallet_key(&p.id, Step::Void);
    match timed(Step::Void, s.clients.void(&p.tenant_id, &key, t, reason)).await? {
        Ok(_) => {}
        // Already voided (its timeout), or unknown: nothing is held.
        Err(r) if r.status == StatusCode::CONFLICT || r.status == StatusCode::NOT_FOUND => {
            if r.code.ends_with("idempotency_in_flight") {
                return Err(SagaError::InFlight);
            }
            tracing::warn!(purchase_id = %p.id, code = %r.code, "reservation was no longer pending at void");
        }
        Err(r) => {
            return Err(r.unexpected("wallet", "void").into());
        }
    }
    let mut tx = s.db.begin().await?;
    purchases::mark_voided(tx.exec(), &p.id).await?;
    tx.commit().await?;
    tracing::info!(purchase_id = %p.id, transfer_id = %t, "reservation voided");
    Ok(())
}

/// Step 3 (both confirmed): post the pending transfer; the purchase is settled.
async fn settle(s: &AppState, p: &PurchaseRow) -> Result<(), SagaError> {
    let Some(t) = &p.transfer_id else {
        return Err(CallError::Unexpected(
            "wallet",
            "an accepted purchase without a reservation".into(),
        )
        .into());
    };
    let key = domain::wallet_key(&p.id, Step::Settle);
    match timed(Step::Settle, s.clients.post(&p.tenant_id, &key, t)).await? {
        Ok(_) => {}
        Err(r) if r.code.ends_with("idempotency_in_flight") => return Err(SagaError::InFlight),
        Err(r) if r.status == StatusCode::CONFLICT => {
            // Posted or voided by someone else: the wallet's record decides.
            let state = match s.clients.transfer(&p.tenant_id, t).await? {
                Ok(tr) => tr.state,
                Err(r) => r.code,
            };
            if state != "posted" {
                close(s, &p.id, PurchaseStatus::Failed, "reservation_voided").await?;
                return Ok(());
            }
        }
        Err(r) => {
            return Err(r.unexpected("wallet", "post").into());
        }
    }
    let mut tx = s.db.begin().await?;
    if let Some(done) = purchases::mark_settled(tx.exec(), &p.id, Utc::now()).await? {
        let data = PurchaseSettled {
            purchase_id: done.id.clone(),
            quote_id: done.quote_id.clone(),
            vendor_id: done.vendor_id.clone(),
            buyer_id: done.buyer_id.clone(),
            amount_minor: done.amount_minor,
            asset: done.currency.clone(),
            settled_at: done.settled_at.unwrap_or_else(Utc::now),
        };
        outbox::enqueue(
            &mut tx,
            &event(BUYER_PURCHASE_SETTLED, &done.tenant_id, &done.id, data)?,
        )
        .await?;
        tx.commit().await?;
        metrics::purchase("settled");
        tracing::info!(purchase_id = %p.id, "purchase settled");
    }
    Ok(())
}
