//! Quotes received per intent, from `vendor.quote.created` (the buyer never reads the vendor's
//! tables): each event applied once, through the inbox.

use bus::{Envelope, HandlerError, Subscription};
use contracts::marketplace::{QuoteCreated, VENDOR_QUOTE_CREATED};
use platform::Ctx;
use store::inbox;

use crate::state::AppState;
use crate::store::intents;
use crate::{Error, metrics};

/// The consumer name in the inbox and the bus group.
const CONSUMER: &str = "buyer";

/// Subscribes to the vendor's quote events; stops with the service.
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
        Subscription::new(CONSUMER, &[VENDOR_QUOTE_CREATED]),
        handler,
        ctx.shutdown.clone(),
    );
    ctx.spawn("buyer-quote-counts", async move {
        task.await?;
        Ok(())
    });
}

async fn apply(s: &AppState, event: &Envelope) -> Result<(), Error> {
    let mut tx = s.db.begin().await?;
    if !inbox::first_time(&mut tx, CONSUMER, &event.id).await? {
        metrics::event(&event.kind, "duplicate");
        return Ok(());
    }
    let outcome = match event.payload::<QuoteCreated>() {
        Ok(q) if intents::add_quote(tx.exec(), &q.intent_id).await? => "applied",
        Ok(_) => "ignored",
        Err(e) => {
            tracing::warn!(event_id = %event.id, error = %e, "malformed quote event ignored");
            "ignored"
        }
    };
    tx.commit().await?;
    metrics::event(&event.kind, outcome);
    Ok(())
}
