//! `vendor_quotes`.

use chrono::{DateTime, Utc};
use contracts::vendor::{Quote, QuoteStatus};
use store::{Exec, on};

use crate::Error;

/// One quote row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct QuoteRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) intent_id: String,
    pub(crate) vendor_id: String,
    pub(crate) amount_minor: i64,
    pub(crate) currency: String,
    pub(crate) eta_minutes: Option<i32>,
    pub(crate) status: String,
    pub(crate) purchase_id: Option<String>,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) accepted_at: Option<DateTime<Utc>>,
}

impl QuoteRow {
    /// The status as of `now`: a pending quote past its deadline is expired even before the
    /// sweep marks it.
    pub(crate) fn status_at(&self, now: DateTime<Utc>) -> QuoteStatus {
        match self.status.as_str() {
            "accepted" => QuoteStatus::Accepted,
            "rejected" => QuoteStatus::Rejected,
            "expired" => QuoteStatus::Expired,
            _ if self.expires_at <= now => QuoteStatus::Expired,
            _ => QuoteStatus::Pending,
        }
    }

    /// The wire shape as of `now`.
    pub(crate) fn to_quote(&self, now: DateTime<Utc>) -> Quote {
        Quote {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            intent_id: self.intent_id.clone(),
            vendor_id: self.vendor_id.clone(),
            amount_minor: self.amount_minor,
            currency: self.currency.clone(),
            eta_minutes: self.eta_minutes,
            status: self.status_at(now),
            purchase_id: self.purchase_id.clone(),
            expires_at: self.expires_at,
            created_at: self.created_at,
            accepted_at: self.accepted_at,
        }
    }
}

macro_rules! columns {
    () => {
        "id, tenant_id, intent_id, vendor_id, amount_minor, currency, eta_minutes, status, \
         purchase_id, expires_at, created_at, accepted_at"
    };
}

/// A new quote.
pub(crate) struct NewQuote<'a> {
    pub(crate) id: &'a str,
    pub(crate) tenant_id: &'a str,
    pub(crate) intent_id: &'a str,
    pub(crate) vendor_id: &'a str,
    pub(crate) amount_minor: i64,
    pub(crate) currency: &'a str,
    pub(crate) eta_minutes: Option<i32>,
    pub(crate) free: bool,
    pub(crate) expires_at: DateTime<Utc>,
}

/// Inserts a pending quote; a second quote of one vendor for one intent is refused without an
/// error (`ON CONFLICT DO NOTHING`), so a batch it shares with other quotes still commits.
pub(crate) async fn insert(
    exec: Exec<'_>,
    q: &NewQuote<'_>,
    now: DateTime<Utc>,
) -> Result<QuoteRow, Error> {
    let row: Option<QuoteRow> = on!(exec, |c| sqlx::query_as(concat!(
        "INSERT INTO vendor_quotes (id, tenant_id, intent_id, vendor_id, amount_minor, currency,
                                    eta_minutes, status, free, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10)
         ON CONFLICT (intent_id, vendor_id) DO NOTHING
         RETURNING ",
        columns!()
    ))
    .bind(q.id)
    .bind(q.tenant_id)
    .bind(q.intent_id)
    .bind(q.vendor_id)
    .bind(q.amount_minor)
    .bind(q.currency)
    .bind(q.eta_minutes)
    .bind(q.free)
    .bind(q.expires_at)
    .bind(now)
    .fetch_optional(c)
    .await?);
    row.ok_or(Error::QuoteExists)
}

/// A quote of the tenant.
pub(crate) async fn find(
    exec: Exec<'_>,
    tenant: &str,
    id: &str,
) -> Result<Option<QuoteRow>, Error> {
    let row: Option<QuoteRow> = on!(exec, |c| sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM vendor_quotes WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// Free quotes of the vendor since `since` (quotes made under a subscription do not count).
pub(crate) async fn free_used_since(
    exec: Exec<'_>,
    vendor_id: &str,
    since: DateTime<Utc>,
) -> Result<i64, Error> {
    let n: i64 = on!(exec, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM vendor_quotes WHERE vendor_id = $1 AND free = TRUE
         AND created_at >= $2"
    )
    .bind(vendor_id)
    .bind(since)
    .fetch_one(c)
    .await?);
    Ok(n)
}

/// Accepts a pending, unexpired quote whose intent the buyer owns; `None` when any of that
/// does not hold (the caller reads the quote to say which).
pub(crate) async fn accept(
    exec: Exec<'_>,
    tenant: &str,
    id: &str,
    buyer_id: &str,
    purchase_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<QuoteRow>, Error> {
    let row: Option<QuoteRow> = on!(exec, |c| sqlx::query_as(concat!(
        "UPDATE vendor_quotes SET status = 'accepted', buyer_id = $1, purchase_id = $2,
                                  accepted_at = $3
         WHERE id = $4 AND tenant_id = $5 AND status = 'pending' AND expires_at > $3
           AND EXISTS (SELECT 1 FROM vendor_intents i
                       WHERE i.id = vendor_quotes.intent_id AND i.buyer_id = $1)
         RETURNING ",
        columns!()
    ))
    .bind(buyer_id)
    .bind(purchase_id)
    .bind(now)
    .bind(id)
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// Rejects a pending quote; `None` when it is not pending.
pub(crate) async fn reject(
    exec: Exec<'_>,
    tenant: &str,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<QuoteRow>, Error> {
    let row: Option<QuoteRow> = on!(exec, |c| sqlx::query_as(concat!(
        "UPDATE vendor_quotes SET status = 'rejected', reject_reason = $1
         WHERE id = $2 AND tenant_id = $3 AND status = 'pending' AND expires_at > $4
         RETURNING ",
        columns!()
    ))
    .bind(reason)
    .bind(id)
    .bind(tenant)
    .bind(now)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// Closes every pending quote of an intent except `keep` with `status` (`rejected` or
/// `expired`) and `reason`; returns how many.
pub(crate) async fn close_for_intent(
    exec: Exec<'_>,
    intent_id: &str,
    keep: Option<&str>,
    status: &'static str,
    reason: &str,
) -> Result<u64, Error> {
    let n = on!(exec, |c| sqlx::query(
        "UPDATE vendor_quotes SET status = $1, reject_reason = $2
         WHERE intent_id = $3 AND status = 'pending' AND ($4 IS NULL OR id <> $4)"
    )
    .bind(status)
    .bind(reason)
    .bind(intent_id)
    .bind(keep)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n)
}

/// Rejects the quote `purchase_id` accepted, once its purchase was cancelled before settling;
/// true when it changed.
pub(crate) async fn release(
    exec: Exec<'_>,
    quote_id: &str,
    purchase_id: &str,
    reason: &str,
) -> Result<bool, Error> {
    let n = on!(exec, |c| sqlx::query(
        "UPDATE vendor_quotes SET status = 'rejected', reject_reason = $3
         WHERE id = $1 AND status = 'accepted' AND purchase_id = $2"
    )
    .bind(quote_id)
    .bind(purchase_id)
    .bind(reason)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Marks pending quotes past their deadline expired (at most `limit`); returns how many.
pub(crate) async fn expire_overdue(
    exec: Exec<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<u64, Error> {
    let n = on!(exec, |c| sqlx::query(
        "UPDATE vendor_quotes SET status = 'expired'
         WHERE id IN (SELECT id FROM vendor_quotes WHERE status = 'pending' AND expires_at <= $1
                      LIMIT $2)"
    )
    .bind(now)
    .bind(limit)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n)
}
