//! Background work: opening each new vendor's wallet account (a durable job, retried until the
//! wallet answers), and marking overdue quotes expired.

use std::time::Duration;

use bus::Envelope;
use chrono::Utc;
use contracts::marketplace::VENDOR_UPDATED;
use platform::Ctx;
use serde::{Deserialize, Serialize};
use store::jobs::{self, Handler, JobError, NewJob, Retry, WorkerConfig};
use store::{Tx, outbox};

use crate::state::AppState;
use crate::store::{quotes, vendors};
use crate::{Error, metrics};

/// The queue of wallet-account openings.
pub(crate) const WALLET_QUEUE: &str = "vendor-wallet-open";

/// Payload of a wallet-opening job.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct OpenWallet {
    pub(crate) tenant_id: String,
    pub(crate) vendor_id: String,
}

fn retry() -> Retry {
    Retry::Exponential {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(300),
        max_attempts: 30,
    }
}

/// Queues the opening of a vendor's wallet account in `tx` (the vendor's own transaction).
pub(crate) async fn enqueue_open_wallet(tx: &mut Tx, job: &OpenWallet) -> Result<(), Error> {
    let mut new = NewJob::new(WALLET_QUEUE, job, &retry())?;
    new.dedupe_key = Some(&job.vendor_id);
    jobs::enqueue(tx, &new).await?;
    Ok(())
}

/// Opens the account and links it; `vendor.updated` tells the others. Safe to run twice: the
/// wallet returns the same account, and only the first link emits the event.
pub(crate) async fn open_wallet(
    s: &AppState,
    tenant: &str,
    vendor_id: &str,
    retry: bool,
) -> Result<Option<String>, JobError> {
    {
        let mut conn = s.db.conn().await?;
        match vendors::find(conn.exec(), tenant, vendor_id).await? {
            None => return Ok(None),
            Some(v) if v.wallet_account_id.is_some() => return Ok(v.wallet_account_id),
            Some(_) => {}
        }
    }
    let account = match s.wallet.open_vendor_account(tenant, vendor_id, retry).await {
        Ok(a) => a,
        Err(e) => {
            metrics::wallet_open("failed");
            return Err(Box::new(e));
        }
    };
    let mut tx = s.db.begin().await?;
    if let Some(row) =
        vendors::link_wallet(tx.exec(), tenant, vendor_id, &account, Utc::now()).await?
    {
        let event = Envelope::new(VENDOR_UPDATED, "vendor", tenant, row.changed())?;
        outbox::enqueue(&mut tx, &event).await?;
        metrics::wallet_open("linked");
    }
    tx.commit().await?;
    Ok(Some(account))
}

fn wallet_handler(s: AppState) -> Handler {
    jobs::handler(move |job| {
        let s = s.clone();
        async move {
            let p: OpenWallet = job.payload()?;
            open_wallet(&s, &p.tenant_id, &p.vendor_id, true).await?;
            Ok(())
        }
    })
}

/// Starts the wallet-opening worker.
pub(crate) fn spawn_wallet_worker(ctx: &Ctx, s: AppState) {
    let cfg = WorkerConfig::new(WALLET_QUEUE, retry());
    jobs::spawn_worker(ctx, s.db.clone(), cfg, wallet_handler(s));
}

/// Marks pending quotes past their deadline expired, every `quote_sweep`. Reads already show
/// such quotes as expired and accepting them is refused; the sweep makes the rows say so.
pub(crate) fn spawn_expiry(ctx: &Ctx, s: AppState) {
    let stop = ctx.shutdown.clone();
    ctx.spawn("quote-expiry", async move {
        let mut tick = tokio::time::interval(s.config.quote_sweep);
        loop {
            tokio::select! {
                () = stop.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            match expire_once(&s).await {
                Ok(n) if n > 0 => tracing::info!(quotes = n, "overdue quotes expired"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %platform::problem::cause_chain(&e), "quote expiry sweep failed"),
            }
        }
    });
}

async fn expire_once(s: &AppState) -> Result<u64, Error> {
    let mut tx = s.db.begin().await?;
    let n = quotes::expire_overdue(tx.exec(), Utc::now(), 500).await?;
    tx.commit().await?;
    if n > 0 {
        metrics::quote_closed("expired", n);
    }
    Ok(n)
}
