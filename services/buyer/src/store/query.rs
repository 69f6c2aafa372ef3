//! The query shapes the aggregates share. Each aggregate keeps its own SQL text (a
//! `&'static str`); these bind its parameters in a fixed order and fetch on whichever backend is
//! live, so the order a shape's SQL must use is stated once, here.

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use store::{Exec, on};

use crate::Error;

/// A row type both backends can decode.
pub(crate) trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// One page of a tenant's list, newest first.
pub(crate) struct Page<'a> {
    pub(crate) tenant: &'a str,
    /// Only this buyer's rows; `None` for all of the tenant's.
    pub(crate) buyer: Option<&'a str>,
    /// The cursor: only rows with a smaller id (ids are ULIDs, so older ones).
    pub(crate) before: Option<&'a str>,
    pub(crate) limit: i64,
}

/// The row with id `$1`, if any.
pub(crate) async fn by_id<R: Row>(
    exec: Exec<'_>,
    sql: &'static str,
    id: &str,
) -> Result<Option<R>, Error> {
    Ok(on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(c)
        .await?))
}

/// Buyer `$1`'s newest rows, at most `$2`.
pub(crate) async fn latest<R: Row>(
    exec: Exec<'_>,
    sql: &'static str,
    buyer_id: &str,
    n: i64,
) -> Result<Vec<R>, Error> {
    Ok(on!(exec, |c| sqlx::query_as(sql)
        .bind(buyer_id)
        .bind(n)
        .fetch_all(c)
        .await?))
}

/// A page: `$1` the tenant, `$2` the buyer or NULL, `$3` the cursor or NULL, `$4` the limit.
pub(crate) async fn page<R: Row>(
    exec: Exec<'_>,
    sql: &'static str,
    page: &Page<'_>,
) -> Result<Vec<R>, Error> {
    Ok(on!(exec, |c| sqlx::query_as(sql)
        .bind(page.tenant)
        .bind(page.buyer)
        .bind(page.before)
        .bind(page.limit)
        .fetch_all(c)
        .await?))
}

/// A conditional `UPDATE … RETURNING` of row `$1` at time `$2`: the row when its condition held,
/// `None` when it did not (the row had moved on, so nothing changed).
pub(crate) async fn transition<R: Row>(
    exec: Exec<'_>,
    sql: &'static str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<R>, Error> {
    Ok(on!(exec, |c| sqlx::query_as(sql)
        .bind(id)
        .bind(now)
        .fetch_optional(c)
        .await?))
}
