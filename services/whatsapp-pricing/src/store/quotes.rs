//! The immutable `insurance_quotes` and `insurance_quote_offers` tables (rows are inserted once and
//! never updated: triggers refuse it) and the payment-reference counter.

use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use contracts::pricing::{InsurerOffer, QuoteComparison};
use pricing::TariffBook;
use sqlx::types::Json;
use store::{Conn, Exec, Tx, on};

use crate::{Error, domain};

/// Reserves `n` payment-reference numbers with one statement: the counter row moves past them,
/// so no one else is ever given them (the row is locked until `exec`'s transaction ends).
pub(crate) async fn reserve_references(exec: Exec<'_>, n: u64) -> Result<Range<u64>, Error> {
    let by = i64::try_from(n).map_err(|_| {
        Error::Store(store::Error::Setup(format!(
            "cannot reserve {n} payment references"
        )))
    })?;
    let (last,): (i64,) = on!(exec, |c| sqlx::query_as(
        "UPDATE payment_reference_counter SET last = last + $1 WHERE id = 1 RETURNING last"
    )
    .bind(by)
    .fetch_one(c)
    .await?);
    // The counter starts at 0 and only grows (CHECK last >= 0), so `last` is never negative.
    let end = u64::try_from(last).unwrap_or(0) + 1;
    Ok(end.saturating_sub(n)..end)
}

/// Leaves out what is stored of an offer: its instalment schedules, which the tariff version
/// (immutable) and the total determine; [`restore_instalments`] puts them back on read.
pub(crate) fn slim(offer: &mut InsurerOffer) {
    if offer.tariff_version.is_some() && offer.total.is_some() {
        offer.instalments = Vec::new();
    }
}

/// Puts back the instalment schedules of a stored quote's offers from the tariff versions they
/// were priced with. An offer stored with its schedules (before they were left out) keeps them.
/// Answers the versions `book` lacks (published by another replica since its snapshot).
pub(crate) fn restore_instalments(quote: &mut QuoteComparison, book: &TariffBook) -> Vec<String> {
    let mut missing = Vec::new();
    for offer in &mut quote.offers {
        let (Some(version), Some(total)) = (&offer.tariff_version, offer.total) else {
            continue;
        };
        if !offer.instalments.is_empty() {
            continue;
        }
        match book.version(version) {
            Some(tariff) => offer.instalments = domain::instalments(tariff.instalments(), total),
            None => missing.push(version.clone()),
        }
    }
    missing
}

/// Stores a comparison and every insurer's answer (two statements), without the derivable
/// instalment schedules.
pub(crate) async fn insert(tx: &mut Tx, q: &QuoteComparison) -> Result<(), Error> {
    let mut stored = q.clone();
    stored.offers.iter_mut().for_each(slim);
    insert_stored(tx, &[Arc::new(stored)]).await
}

/// Stores many comparisons, already in their stored form (see [`slim`]), with two
/// multi-row statements: one for the quotes, one for all their offers.
pub(crate) async fn insert_stored(
    tx: &mut Tx,
    quotes: &[Arc<QuoteComparison>],
) -> Result<(), Error> {
    store::insert_many!(
        tx.exec(),
        "INSERT INTO insurance_quotes (id, tenant_id, priced_on, input, created_at) ",
        quotes,
        |b, q| {
            b.push_bind(&q.id)
                .push_bind(&q.tenant_id)
                .push_bind(q.priced_on)
                .push_bind(Json(&q.input))
                .push_bind(q.created_at);
        }
    )?;
    let offers: Vec<(&str, i32, &InsurerOffer)> = quotes
        .iter()
        .flat_map(|q| (0_i32..).zip(&q.offers).map(|(i, o)| (q.id.as_str(), i, o)))
        .collect();
    store::insert_many!(
        tx.exec(),
        "INSERT INTO insurance_quote_offers (quote_id, position, insurer, status, tariff_version,
                                             total, payment_reference, offer) ",
        offers,
        |b, row| {
            let (quote_id, position, offer) = *row;
            b.push_bind(quote_id)
                .push_bind(position)
                .push_bind(&offer.insurer)
                .push_bind(&offer.status)
                .push_bind(&offer.tariff_version)
                .push_bind(offer.total)
                .push_bind(&offer.payment_reference)
                .push_bind(Json(offer));
        }
    )?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct QuoteRow {
    id: String,
    tenant_id: String,
    priced_on: NaiveDate,
    input: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
}

/// A stored comparison as stored (see [`restore_instalments`]); `None` when there is none with
/// this id visible to `visible_to` (the caller's bound tenant, `None` = any).
pub(crate) async fn find(
    conn: &mut Conn,
    id: &str,
    visible_to: Option<&str>,
) -> Result<Option<QuoteComparison>, Error> {
    let row: Option<QuoteRow> = on!(conn.exec(), |c| sqlx::query_as(
        "SELECT id, tenant_id, priced_on, input, created_at FROM insurance_quotes
         WHERE id = $1 AND ($2 IS NULL OR tenant_id = $2)"
    )
    .bind(id)
    .bind(visible_to)
    .fetch_optional(c)
    .await?);
    let Some(row) = row else { return Ok(None) };
    let offers: Vec<(Json<InsurerOffer>,)> = on!(conn.exec(), |c| sqlx::query_as(
        "SELECT offer FROM insurance_quote_offers WHERE quote_id = $1 ORDER BY position"
    )
    .bind(id)
    .fetch_all(c)
    .await?);
    Ok(Some(QuoteComparison {
        id: row.id,
        tenant_id: row.tenant_id,
        priced_on: row.priced_on,
        input: row.input.0,
        offers: offers.into_iter().map(|(o,)| o.0).collect(),
        created_at: row.created_at,
    }))
}

/// One insurer's stored answer to a quote visible to `visible_to`.
pub(crate) async fn find_offer(
    exec: Exec<'_>,
    quote_id: &str,
    insurer: &str,
    visible_to: Option<&str>,
) -> Result<Option<InsurerOffer>, Error> {
    let row: Option<(Json<InsurerOffer>,)> = on!(exec, |c| {
        sqlx::query_as(
        "SELECT o.offer FROM insurance_quote_offers o JOIN insurance_quotes q ON q.id = o.quote_id
         WHERE o.quote_id = $1 AND o.insurer = $2 AND ($3 IS NULL OR q.tenant_id = $3)"
    )
    .bind(quote_id)
    .bind(insurer)
    .bind(visible_to)
    .fetch_optional(c)
    .await?
    });
    Ok(row.map(|(o,)| o.0))
}
