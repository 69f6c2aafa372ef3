//! The immutable `insurance_quotes` and `insurance_quote_offers` tables and the payment-reference
//! sequence. Rows are inserted once and never updated (triggers refuse it).

use chrono::{DateTime, NaiveDate, Utc};
use contracts::pricing::{InsurerOffer, QuoteComparison};
use sqlx::types::Json;
use store::{Conn, Exec, Tx, on};

use crate::Error;

/// The next payment-reference number: a fresh row of `payment_reference_seq`, so two quotes never
/// share one, on either backend, whatever runs concurrently.
pub(crate) async fn next_reference(tx: &mut Tx) -> Result<u64, Error> {
    let (seq,): (i64,) = on!(tx.exec(), |c| sqlx::query_as(
        "INSERT INTO payment_reference_seq (created_at) VALUES ($1) RETURNING seq"
    )
    .bind(Utc::now())
    .fetch_one(c)
    .await?);
    // Sequences start at 1, so the number is never negative.
    Ok(u64::try_from(seq).unwrap_or(0))
}

/// `n` fresh payment-reference numbers in one statement (one round trip, whatever `n`).
pub(crate) async fn next_references(tx: &mut Tx, n: usize) -> Result<Vec<u64>, Error> {
    let sql: &'static str = match n {
        0 => return Ok(Vec::new()),
        1 => "INSERT INTO payment_reference_seq (created_at) VALUES ($1) RETURNING seq",
        2 => "INSERT INTO payment_reference_seq (created_at) VALUES ($1), ($1) RETURNING seq",
        3 => "INSERT INTO payment_reference_seq (created_at) VALUES ($1), ($1), ($1) RETURNING seq",
        4 => {
            "INSERT INTO payment_reference_seq (created_at) VALUES ($1), ($1), ($1), ($1)
             RETURNING seq"
        }
        _ => {
            let mut all = Vec::with_capacity(n);
            for _ in 0..n {
                all.push(next_reference(tx).await?);
            }
            return Ok(all);
        }
    };
    let now = Utc::now();
    let rows: Vec<(i64,)> = on!(tx.exec(), |c| sqlx::query_as(sql)
        .bind(now)
        .fetch_all(c)
        .await?);
    // Sequences start at 1, so a number is never negative.
    Ok(rows
        .into_iter()
        .map(|(seq,)| u64::try_from(seq).unwrap_or(0))
        .collect())
}

/// Stores a comparison and every insurer's answer (two statements).
pub(crate) async fn insert(tx: &mut Tx, q: &QuoteComparison) -> Result<(), Error> {
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO insurance_quotes (id, tenant_id, priced_on, input, created_at)
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(&q.id)
    .bind(&q.tenant_id)
    .bind(q.priced_on)
    .bind(Json(&q.input))
    .bind(q.created_at)
    .execute(c)
    .await?
    .rows_affected());
    let offers: Vec<(i32, &InsurerOffer)> = (0_i32..).zip(&q.offers).collect();
    store::insert_many!(
        tx.exec(),
        "INSERT INTO insurance_quote_offers (quote_id, position, insurer, status, tariff_version,
                                             total, payment_reference, offer) ",
        offers,
        |b, row| {
            let (position, offer) = *row;
            b.push_bind(&q.id)
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

/// A stored comparison; `None` when there is none with this id visible to `visible_to` (the
/// caller's bound tenant, `None` = any).
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
