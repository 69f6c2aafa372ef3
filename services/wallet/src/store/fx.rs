//! Stored FX quotes: each with the rate used and where it came from.

use contracts::wallet::FxQuote;
use store::{Tx, on};

use crate::Error;

/// Stores a quote.
pub(crate) async fn insert(tx: &mut Tx, q: &FxQuote) -> Result<(), Error> {
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO fx_quotes (id, amount, currency, rate, rate_source, tokens_minor, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(&q.id)
    .bind(&q.amount)
    .bind(&q.currency)
    .bind(&q.rate)
    .bind(&q.rate_source)
    .bind(q.tokens_minor)
    .bind(q.created_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}
