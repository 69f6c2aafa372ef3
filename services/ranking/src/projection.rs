//! The projection of vendor signals: vendor, buyer and wallet events applied once each, through
//! the inbox, in the same transaction as their effect.

use bus::{Envelope, HandlerError, Subscription};
use chrono::Utc;
use contracts::marketplace::{
    BUYER_PURCHASE_SETTLED, PurchaseSettled, QuoteAccepted, QuoteCreated, VENDOR_CREATED,
    VENDOR_QUOTE_ACCEPTED, VENDOR_QUOTE_CREATED, VENDOR_UPDATED, VendorChanged,
};
use contracts::wallet::{
    SUBSCRIPTION_CHARGED, SubscriptionCharge, TRANSFER_COMPLETED, TRANSFER_POSTED,
    TRANSFER_REVERSED, TransferEvent,
};
use platform::Ctx;
use store::{Tx, inbox};

use crate::state::AppState;
use crate::store::{experiments, vendors};
use crate::{Error, metrics};

/// The consumer name in the inbox and the bus group.
pub(crate) const CONSUMER: &str = "ranking";

/// Every event type the projection consumes.
pub(crate) const TOPICS: &[&str] = &[
    VENDOR_CREATED,
    VENDOR_UPDATED,
    VENDOR_QUOTE_CREATED,
    VENDOR_QUOTE_ACCEPTED,
    BUYER_PURCHASE_SETTLED,
    TRANSFER_COMPLETED,
    TRANSFER_POSTED,
    TRANSFER_REVERSED,
    SUBSCRIPTION_CHARGED,
];

/// Subscribes the projection to the bus; it stops with the service.
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
    ctx.spawn("ranking-projection", async move {
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
        Ok(()) => {
            vendors::bump_version(tx.exec()).await?;
            "applied"
        }
        Err(Effect::Malformed(e)) => {
            // Retrying cannot fix a payload; record it as seen and say so.
            tracing::warn!(event_id = %event.id, kind = %event.kind, error = %e, "malformed event ignored");
            "ignored"
        }
        Err(Effect::Failed(e)) => return Err(e),
    };
    tx.commit().await?;
    s.snapshots.invalidate();
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
    let now = Utc::now();
    match e.kind.as_str() {
        VENDOR_CREATED | VENDOR_UPDATED => {
            let mut v: VendorChanged = e.payload()?;
            v.tenant_id = tenant.to_owned();
            vendors::upsert(tx.exec(), &v, now).await?;
        }
        VENDOR_QUOTE_CREATED => {
            let q: QuoteCreated = e.payload()?;
            if let Some(ms) = q.response_ms.filter(|ms| *ms >= 0) {
                vendors::add_response(tx.exec(), tenant, &q.vendor_id, ms, now).await?;
            }
        }
        VENDOR_QUOTE_ACCEPTED => {
            let q: QuoteAccepted = e.payload()?;
            vendors::accept_quote(tx.exec(), tenant, &q).await?;
            experiments::attribute(
                tx.exec(),
                tenant,
                &q.buyer_id,
                experiments::QUOTE_ACCEPTED,
                &q.quote_id,
                q.accepted_at,
            )
            .await?;
        }
        BUYER_PURCHASE_SETTLED => {
            let p: PurchaseSettled = e.payload()?;
            vendors::add_trip(tx.exec(), tenant, &p.vendor_id, now).await?;
            experiments::attribute(
                tx.exec(),
                tenant,
                &p.buyer_id,
                experiments::PURCHASE_SETTLED,
                &p.purchase_id,
                p.settled_at,
            )
            .await?;
        }
        TRANSFER_COMPLETED | TRANSFER_POSTED | TRANSFER_REVERSED => {
            let t: TransferEvent = e.payload()?;
            for leg in &t.transfer.legs {
                vendors::move_balance(tx.exec(), tenant, &leg.account_id, leg.amount_minor).await?;
            }
        }
        SUBSCRIPTION_CHARGED => {
            let c: SubscriptionCharge = e.payload()?;
            vendors::link_wallet(tx.exec(), tenant, &c.owner_id, &c.account_id).await?;
        }
        _ => {}
    }
    Ok(())
}
