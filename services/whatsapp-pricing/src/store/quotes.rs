//! The immutable `insurance_quotes` table (rows are inserted once and never updated: triggers
//! refuse it), each row holding its offers, and the payment-reference counter.

use std::ops::Range;

use chrono::{DateTime, NaiveDate, Utc};
use contracts::pricing::{InsurerOffer, QuoteComparison};
use pricing::TariffBook;
use sqlx::types::Json;
use store::{Conn, Exec, Tx, on};

use super::offers::{self, StoredOffer};
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

/// Stores a comparison with every insurer's answer, in their stored form ([`offers`]).
pub(crate) async fn insert(tx: &mut Tx, q: &QuoteComparison) -> Result<(), Error> {
    insert_many(tx, &[q]).await
}

/// Stores many comparisons with one multi-row statement, their offers in their stored form
/// ([`offers`]: what the code cannot put back). A quote's offers are a column of its row, not rows
/// of their own: they are only ever read with their quote, and apart (four more rows and three more
/// b-trees) they cost about a quarter of the server's CPU per quote.
pub(crate) async fn insert_many(tx: &mut Tx, quotes: &[&QuoteComparison]) -> Result<(), Error> {
    store::insert_many!(
        tx.exec(),
        "INSERT INTO insurance_quotes (id, tenant_id, priced_on, input, offers, created_at) ",
        quotes,
        |b, q| {
            b.push_bind(&q.id)
                .push_bind(&q.tenant_id)
                .push_bind(q.priced_on)
                .push_bind(Json(&q.input))
                .push_bind(Json(offers::stored(&q.offers)))
                .push_bind(q.created_at);
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
    offers: Json<Vec<StoredOffer<'static>>>,
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
        "SELECT id, tenant_id, priced_on, input, offers, created_at FROM insurance_quotes
         WHERE id = $1 AND ($2 IS NULL OR tenant_id = $2)"
    )
    .bind(id)
    .bind(visible_to)
    .fetch_optional(c)
    .await?);
    Ok(row.map(|row| QuoteComparison {
        id: row.id,
        tenant_id: row.tenant_id,
        priced_on: row.priced_on,
        input: row.input.0,
        offers: offers::read(row.offers.0),
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
    let row: Option<(Json<Vec<StoredOffer<'static>>>,)> = on!(exec, |c| sqlx::query_as(
        "SELECT offers FROM insurance_quotes WHERE id = $1 AND ($2 IS NULL OR tenant_id = $2)"
    )
    .bind(quote_id)
    .bind(visible_to)
    .fetch_optional(c)
    .await?);
    Ok(row.and_then(|(offers,)| {
        offers
            .0
            .into_iter()
            .find(|o| o.insurer() == insurer)
            .map(StoredOffer::into_offer)
    }))
}

#[cfg(test)]
mod tests {
    use sqlx::migrate::Migrator;

    use super::*;

    /// The migration that moved a quote's offers into its row.
    const OFFERS_IN_ROW: i64 = 20_261_127_090_000;

    fn before_offers_moved(m: &Migrator) -> Migrator {
        Migrator::with_migrations(
            m.iter()
                .filter(|m| m.version < OFFERS_IN_ROW)
                .cloned()
                .collect(),
        )
    }

    fn offer(insurer: &str, total: i64) -> serde_json::Value {
        serde_json::json!({
            "insurer": insurer, "insurerName": insurer, "status": "quoted", "currency": "RWF",
            "total": total, "lines": [{"kind": "third_party_base", "label": "TP", "amount": total}],
            "instalments": [], "paymentReference": format!("{total}7"),
        })
    }

    #[tokio::test]
    async fn quotes_stored_before_their_offers_moved_keep_them_in_order() {
        let (db, _pg) = crate::store::test_db().await;
        let old = store::Migrations {
            sqlite: before_offers_moved(&crate::MIGRATIONS.sqlite),
            postgres: before_offers_moved(&crate::MIGRATIONS.postgres),
        };
        db.migrate(&old).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        on!(tx.exec(), |c| sqlx::query(
            "INSERT INTO insurance_quotes (id, tenant_id, priced_on, input, created_at)
             VALUES ($1, 't', $2, $3, $4)"
        )
        .bind("q1")
        .bind(NaiveDate::from_ymd_opt(2026, 11, 20))
        .bind(Json(serde_json::json!({"usage": "private"})))
        .bind(Utc::now())
        .execute(c)
        .await
        .unwrap()
        .rows_affected());
        // Stored out of position order: only the position puts them back in order.
        for (position, insurer, total) in [(1, "prime", 200_000), (0, "bk", 100_000)] {
            on!(tx.exec(), |c| sqlx::query(
                "INSERT INTO insurance_quote_offers (quote_id, position, insurer, status, total,
                                                     payment_reference, offer)
                 VALUES ('q1', $1, $2, 'quoted', $3, $4, $5)"
            )
            .bind(position)
            .bind(insurer)
            .bind(total)
            .bind(format!("{total}7"))
            .bind(Json(offer(insurer, total)))
            .execute(c)
            .await
            .unwrap()
            .rows_affected());
        }
        tx.commit().await.unwrap();

        db.migrate(&crate::MIGRATIONS).await.unwrap();
        let mut conn = db.conn().await.unwrap();
        let quote = find(&mut conn, "q1", Some("t")).await.unwrap().unwrap();
        let offers: Vec<_> = quote
            .offers
            .iter()
            .map(|o| (o.insurer.as_ref(), o.total, o.lines[0].amount))
            .collect();
        assert_eq!(
            offers,
            [
                ("bk", Some(100_000), 100_000),
                ("prime", Some(200_000), 200_000)
            ]
        );
        assert_eq!(quote.input["usage"], "private");
        let prime = find_offer(conn.exec(), "q1", "prime", None).await.unwrap();
        assert_eq!(
            prime.and_then(|o| o.payment_reference).as_deref(),
            Some("2000007")
        );
        assert!(
            find_offer(conn.exec(), "q1", "prime", Some("another tenant"))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            find_offer(conn.exec(), "q1", "radiant", None)
                .await
                .unwrap()
                .is_none()
        );
        drop(conn);
        db.close().await;
    }
}
