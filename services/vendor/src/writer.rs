//! Making a quote, and the group-commit writer that batches quotes: requests queue, one
//! transaction applies a batch and commits once, each caller gets its own outcome after the
//! commit is durable (ARCHITECTURE: quotes are a hot write path).
//!
//! Paywall checks of one vendor must run one after the other. Each quote's transaction first
//! takes its vendor's lock (a row write: PostgreSQL holds the row lock, SQLite its write lock, until
//! commit); a batch takes the locks of all its vendors up front, in id order, so two replicas'
//! batches cannot deadlock. A refused quote writes nothing but that lock.

use bus::Envelope;
use chrono::Utc;
use contracts::marketplace::{QuoteCreated, VENDOR_QUOTE_CREATED};
use contracts::vendor::CreateQuote;
use store::group::{GroupCommit, Op};
use store::{Tx, outbox};

use crate::Error;
use crate::domain::{self, Quota};
use crate::store::{intents, quotes, settings, vendors};

/// How the vendor's quote lock is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    /// Take it now (a transaction of its own).
    Take,
    /// Already held (the batch took it in `prepare`).
    Held,
}

/// A quote to make.
#[derive(Debug, Clone)]
pub(crate) struct NewQuote {
    pub(crate) tenant: String,
    pub(crate) vendor_id: String,
    pub(crate) body: CreateQuote,
    pub(crate) ttl: chrono::Duration,
}

/// The quote's effect in `tx`: the vendor's lock, the intent, the quota, the row and its event.
pub(crate) async fn make_quote(
    tx: &mut Tx,
    q: &NewQuote,
    lock: Lock,
) -> Result<quotes::QuoteRow, Error> {
    let (tenant, vendor_id, body) = (q.tenant.as_str(), q.vendor_id.as_str(), &q.body);
    let now = Utc::now();
    let known = match lock {
        Lock::Take => vendors::lock_for_quote(tx.exec(), tenant, vendor_id).await?,
        Lock::Held => vendors::exists(tx.exec(), tenant, vendor_id).await?,
    };
    if !known {
        return Err(Error::VendorNotFound);
    }
    let intent = intents::find(tx.exec(), tenant, &body.intent_id)
        .await?
        .ok_or(Error::IntentUnknown)?;
    match intent.status.as_str() {
        "pending" if intent.expires_at.is_some_and(|e| e <= now) => {
            return Err(Error::IntentClosed("expired"));
        }
        "pending" => {}
        "matched" => return Err(Error::IntentClosed("matched")),
        "cancelled" => return Err(Error::IntentClosed("cancelled")),
        _ => return Err(Error::IntentClosed("expired")),
    }
    let set = settings::get(tx.exec(), tenant).await?;
    let until = settings::subscribed_until(tx.exec(), tenant, vendor_id, now).await?;
    let quota = if until.is_some() {
        Quota::new(set.free_contacts, 0, true)
    } else {
        let since = domain::window_start(now, set.window_days);
        let used = quotes::free_used_since(tx.exec(), vendor_id, since).await?;
        Quota::new(set.free_contacts, used, false)
    };
    if !quota.allowed() {
        return Err(Error::SubscriptionRequired);
    }
    let id = ulid::Ulid::generate().to_string();
    let row = quotes::insert(
        tx.exec(),
        &quotes::NewQuote {
            id: &id,
            tenant_id: tenant,
            intent_id: &body.intent_id,
            vendor_id,
            amount_minor: body.amount_minor,
            currency: &body.currency,
            eta_minutes: body.eta_minutes,
            free: quota.spends_free(),
            expires_at: domain::quote_expiry(now, q.ttl, intent.expires_at),
        },
        now,
    )
    .await?;
    let payload = QuoteCreated {
        quote_id: row.id.clone(),
        intent_id: row.intent_id.clone(),
        vendor_id: row.vendor_id.clone(),
        response_ms: Some((now - intent.created_at).num_milliseconds().max(0)),
        created_at: row.created_at,
    };
    let event = Envelope::new(VENDOR_QUOTE_CREATED, "vendor", tenant, payload)
        .map_err(store::Error::from)?;
    outbox::enqueue(tx, &event).await?;
    Ok(row)
}

/// The quote writer.
pub(crate) type QuoteWriter = GroupCommit<NewQuote>;

/// Splits an outcome into a refusal (the batch goes on) or an unexpected failure (it aborts).
fn split(e: Error) -> Result<Error, store::Error> {
    match e {
        Error::Store(s) | Error::Unavailable(s) => Err(s),
        refusal => Ok(refusal),
    }
}

impl Op for NewQuote {
    type Output = quotes::QuoteRow;
    type Refusal = Error;
    type Batch = ();

    async fn prepare(tx: &mut Tx, ops: &[&Self], (): &mut ()) -> Result<(), store::Error> {
        let mut ids: Vec<(&str, &str)> = ops
            .iter()
            .map(|o| (o.vendor_id.as_str(), o.tenant.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for (vendor_id, tenant) in ids {
            vendors::lock_for_quote(tx.exec(), tenant, vendor_id)
                .await
                .or_else(|e| split(e).map(|_| false))?;
        }
        Ok(())
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        (): &mut (),
    ) -> Result<Result<quotes::QuoteRow, Error>, store::Error> {
        match make_quote(tx, self, Lock::Held).await {
            Ok(row) => Ok(Ok(row)),
            Err(e) => split(e).map(Err),
        }
    }
}
