//! New quotes stored through the store's group-commit writer: the quotes that arrive within
//! `WHATSAPP_PRICING_BATCH_WAIT_US` share one transaction and one commit, and each caller is
//! answered only after the commit that holds its quote.
//!
//! A quote is priced, given its payment references (`crate::references`) and serialised before it
//! is submitted, so an operation only stores: the quotes (their offers a column of their row) and
//! the idempotency answers are written with one multi-row `INSERT` per table (`flush`), from the
//! very values the handler built (shared, not copied). Idempotency keys are handled inside the
//! batch, as the wallet does: `prepare` reads every key the batch carries in one statement; a key
//! stored before replays its quote, a key stored with another request is refused, and a key
//! repeated within the batch replays the answer given earlier in it. Another replica storing the
//! same key first makes the batch's insert of that key fail: the batch is then applied one
//! operation at a time, and the duplicate finds the stored key and replays it.
//!
//! A key's stored answer is the quote's id, not a copy of the ~6 KB body: the quote is immutable,
//! so a replay reads it back and answers the same bytes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use contracts::pricing::QuoteComparison;
use store::group::{GroupCommit, Op};
use store::idempotency::{self, Completed, InTx};
use store::{Error as StoreError, Tx};

use crate::Error;
use crate::store::quotes as sql;

/// An idempotency key with the request it was sent with.
#[derive(Debug, Clone)]
pub(crate) struct IdemKey {
    pub(crate) scope: String,
    pub(crate) key: String,
    pub(crate) hash: String,
}

/// A priced comparison to store, with the body it is answered with.
#[derive(Debug)]
pub(crate) struct NewQuote {
    pub(crate) idem: Option<IdemKey>,
    pub(crate) quote: Arc<QuoteComparison>,
    pub(crate) body: Bytes,
}

/// What a caller is answered with.
#[derive(Debug)]
pub(crate) enum Stored {
    /// The new quote is stored: answer its body.
    Created,
    /// The key was answered before: replay the stored quote with this id.
    ReplayQuote(String),
    /// The key was answered before with this body (a key stored before answers were ids).
    ReplayBody { status: u16, body: Bytes },
}

/// What one batch reads first and writes last.
#[derive(Default)]
pub(crate) struct Rows {
    /// What was stored before this batch for the keys its operations carry.
    stored: HashMap<(String, String), InTx>,
    /// Keys answered earlier in this batch: request hash and body (shared, not copied: ~6 KB).
    answered: HashMap<(String, String), (String, Bytes)>,
    /// Quotes to insert.
    quotes: Vec<Arc<QuoteComparison>>,
    /// Key answers to insert.
    answers: Vec<Completed>,
}

impl NewQuote {
    /// What is already known of this quote's key: answered earlier in this batch, or stored
    /// before it.
    fn known(&self, rows: &Rows) -> Option<Result<Stored, Error>> {
        let k = self.idem.as_ref()?;
        let id = (k.scope.clone(), k.key.clone());
        if let Some((hash, body)) = rows.answered.get(&id) {
            return Some(if *hash == k.hash {
                Ok(Stored::ReplayBody {
                    status: 201,
                    body: body.clone(),
                })
            } else {
                Err(Error::IdempotencyKeyReused)
            });
        }
        rows.stored.get(&id).map(|found| match found {
            InTx::Replay { status, body } if body.starts_with('{') => Ok(Stored::ReplayBody {
                status: *status,
                body: Bytes::from(body.clone()),
            }),
            InTx::Replay { body, .. } => Ok(Stored::ReplayQuote(body.clone())),
            InTx::Mismatch => Err(Error::IdempotencyKeyReused),
            InTx::InFlight | InTx::Fresh => Err(Error::IdempotencyInFlight),
        })
    }
}

impl Op for NewQuote {
    type Output = Stored;
    type Refusal = Error;
    type Batch = Rows;

    /// One read of every key the batch carries.
    async fn prepare(tx: &mut Tx, ops: &[&Self], rows: &mut Rows) -> Result<(), StoreError> {
        let keys: Vec<(&str, &str, &str)> = ops
            .iter()
            .filter_map(|q| q.idem.as_ref())
            .map(|k| (k.scope.as_str(), k.key.as_str(), k.hash.as_str()))
            .collect();
        rows.stored = idempotency::lookup_many(tx, &keys).await?;
        Ok(())
    }

    async fn apply(
        &self,
        _tx: &mut Tx,
        rows: &mut Rows,
    ) -> Result<Result<Stored, Error>, StoreError> {
        if let Some(known) = self.known(rows) {
            return Ok(known);
        }
        if let Some(k) = &self.idem {
            rows.answered.insert(
                (k.scope.clone(), k.key.clone()),
                (k.hash.clone(), self.body.clone()),
            );
            rows.answers.push(Completed {
                scope: k.scope.clone(),
                key: k.key.clone(),
                hash: k.hash.clone(),
                status: 201,
                body: self.quote.id.clone(),
            });
        }
        rows.quotes.push(Arc::clone(&self.quote));
        Ok(Ok(Stored::Created))
    }

    async fn flush(tx: &mut Tx, rows: Rows) -> Result<(), StoreError> {
        let quotes: Vec<&QuoteComparison> = rows.quotes.iter().map(Arc::as_ref).collect();
        sql::insert_many(tx, &quotes)
            .await
            .map_err(Error::into_store)?;
        idempotency::insert_completed(tx, &rows.answers).await
    }
}

/// The quote writer.
pub(crate) type QuoteWriter = GroupCommit<NewQuote>;
