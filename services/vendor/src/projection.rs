//! What the vendor service learns from events, each applied once through the inbox in the same
//! transaction as its effect: buyer intents (a quote needs an open intent; a matched intent's
//! sibling quotes are rejected), purchases cancelled after their quote was accepted (the quote is
//! released as rejected, so it no longer counts as bought) and paid subscription periods from the
//! wallet.

use bus::{Envelope, HandlerError, Subscription};
use contracts::buyer::{
    INTENT_CANCELLED, INTENT_CREATED, INTENT_EXPIRED, INTENT_MATCHED, IntentChanged,
    PURCHASE_CANCELLED, PurchaseCancelled,
};
use contracts::wallet::{SUBSCRIPTION_CHARGED, SubscriptionCharge};
use platform::Ctx;
use store::{Tx, inbox};

use crate::state::AppState;
use crate::store::{intents, quotes, settings};
use crate::{Error, metrics};

/// The consumer name in the inbox and the bus group.
pub(crate) const CONSUMER: &str = "vendor";

/// Every event type consumed.
pub(crate) const TOPICS: &[&str] = &[
    INTENT_CREATED,
    INTENT_MATCHED,
    INTENT_EXPIRED,
    INTENT_CANCELLED,
    PURCHASE_CANCELLED,
    SUBSCRIPTION_CHARGED,
];

/// Subscribes to the bus; it stops with the service.
pub(crate) fn subscribe(ctx: &Ctx, state: AppState) {
    let handler = bus::handler(move |event: Envelope| {
        let state = state.clone();
        async move {
            apply(&state, &event)
                .await
                .map_err(|e| Box::new(e) as HandlerError)
        }
    });
    let task = ctx.bus.subscribe(
        Subscription::new(CONSUMER, TOPICS),
        handler,
        ctx.shutdown.clone(),
    );
    ctx.spawn("vendor-projection", async move {
        task.await?;
        Ok(())
    });
}

/// Applies one event, once: a redelivery finds its id in the inbox and changes nothing.
pub(crate) async fn apply(s: &AppState, event: &Envelope) -> Result<(), Error> {
    let mut tx = s.db.begin().await?;
    if !inbox::first_time(&mut tx, CONSUMER, &event.id).await? {
        metrics::event(&event.kind, "duplicate");
        return Ok(());
    }
    let outcome = match effect(&mut tx, event).await {
        Ok(()) => "applied",
        Err(Effect::Malformed(e)) => {
            // Retrying cannot fix a payload; record it as seen and say so.
            tracing::warn!(event_id = %event.id, kind = %event.kind, error = %e, "malformed event ignored");
            "ignored"
        }
        Err(Effect::Failed(e)) => return Err(e),
    };
    tx.commit().await?;
    metrics::event(&event.kind, outcome);
    Ok(())
}

enum Effect {
    Malformed(serde_json::Error),
    Failed(Error),
}

impl From<Error> for Effect {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

impl From<serde_json::Error> for Effect {
    fn from(e: serde_json::Error) -> Self {
        Self::Malformed(e)
    }
}

async fn effect(tx: &mut Tx, e: &Envelope) -> Result<(), Effect> {
    let tenant = e.tenant_id.as_str();
    match e.kind.as_str() {
        INTENT_CREATED | INTENT_MATCHED | INTENT_EXPIRED | INTENT_CANCELLED => {
            let i: IntentChanged = e.payload()?;
            intents::upsert(tx.exec(), tenant, &i).await?;
            let closed = match e.kind.as_str() {
                INTENT_MATCHED => Some(("rejected", "sibling_matched")),
                INTENT_CANCELLED => Some(("rejected", "intent_cancelled")),
                INTENT_EXPIRED => Some(("expired", "intent_expired")),
                _ => None,
            };
            if let Some((status, reason)) = closed {
                let keep = i.matched_quote_id.as_deref();
                let n =
                    quotes::close_for_intent(tx.exec(), &i.intent_id, keep, status, reason).await?;
                if n > 0 {
                    metrics::quote_closed(status, n);
                }
            }
        }
        PURCHASE_CANCELLED => {
            let p: PurchaseCancelled = e.payload()?;
            // Only the quote this purchase accepted: a purchase that failed before acceptance
            // left its quote pending, and it stays buyable.
            let reason = format!("purchase_{}", p.reason);
            if quotes::release(tx.exec(), &p.quote_id, &p.purchase_id, &reason).await? {
                metrics::quote_closed("rejected", 1);
            }
        }
        SUBSCRIPTION_CHARGED => {
            let c: SubscriptionCharge = e.payload()?;
            settings::add_subscription(tx.exec(), tenant, &c).await?;
        }
        _ => {}
    }
    Ok(())
}
