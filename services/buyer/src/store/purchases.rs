//! Purchases: one live purchase per quote and per intent (partial unique indexes), moved
//! through the saga by conditional updates only.

use chrono::{DateTime, Utc};
use contracts::buyer::{ConfirmActor, Purchase, PurchaseStatus, PurchaseSummary};
use store::{Exec, on};

use super::query::{self, Page};
use crate::Error;

macro_rules! cols {
    () => {
        "id, tenant_id, buyer_id, intent_id, quote_id, vendor_id, amount_minor, currency, status,
         reason, transfer_id, voided, vendor_confirmed_at, buyer_confirmed_at, accepted_at,
         settled_at, cancelled_at, deadline_at, created_at"
    };
}

/// A purchase row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct PurchaseRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) buyer_id: String,
    pub(crate) intent_id: String,
    pub(crate) quote_id: String,
    pub(crate) vendor_id: String,
    pub(crate) amount_minor: i64,
    pub(crate) currency: String,
    pub(crate) status: String,
    pub(crate) reason: Option<String>,
    pub(crate) transfer_id: Option<String>,
    pub(crate) voided: bool,
    pub(crate) vendor_confirmed_at: Option<DateTime<Utc>>,
    pub(crate) buyer_confirmed_at: Option<DateTime<Utc>>,
    pub(crate) accepted_at: Option<DateTime<Utc>>,
    pub(crate) settled_at: Option<DateTime<Utc>>,
    pub(crate) cancelled_at: Option<DateTime<Utc>>,
    pub(crate) deadline_at: DateTime<Utc>,
    pub(crate) created_at: DateTime<Utc>,
}

impl PurchaseRow {
    /// The stored status.
    pub(crate) fn status(&self) -> PurchaseStatus {
        PurchaseStatus::parse(&self.status).unwrap_or(PurchaseStatus::Failed)
    }

    /// Both sides have confirmed.
    pub(crate) fn confirmed(&self) -> bool {
        self.vendor_confirmed_at.is_some() && self.buyer_confirmed_at.is_some()
    }

    /// The wire shape.
    pub(crate) fn view(&self) -> Purchase {
        Purchase {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            buyer_id: self.buyer_id.clone(),
            intent_id: self.intent_id.clone(),
            quote_id: self.quote_id.clone(),
            vendor_id: self.vendor_id.clone(),
            amount_minor: self.amount_minor,
            currency: self.currency.clone(),
            status: self.status(),
            reason: self.reason.clone(),
            transaction_id: self.transfer_id.clone(),
            vendor_confirmed_at: self.vendor_confirmed_at,
            buyer_confirmed_at: self.buyer_confirmed_at,
            accepted_at: self.accepted_at,
            settled_at: self.settled_at,
            fulfilled_at: self.settled_at,
            cancelled_at: self.cancelled_at,
            deadline_at: self.deadline_at,
            created_at: self.created_at,
        }
    }
}

/// A new purchase, as stored.
pub(crate) struct NewPurchase<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) buyer_id: &'a str,
    pub(crate) intent_id: &'a str,
    pub(crate) quote_id: &'a str,
    pub(crate) vendor_id: &'a str,
    pub(crate) amount_minor: i64,
    pub(crate) currency: &'a str,
    pub(crate) deadline_at: DateTime<Utc>,
}

/// Stores a pending purchase. A live purchase of the same quote, or of another quote of the
/// same intent, is a conflict (the unique indexes decide, so two at once cannot both pass).
pub(crate) async fn insert(exec: Exec<'_>, new: &NewPurchase<'_>) -> Result<PurchaseRow, Error> {
    let now = Utc::now();
    let id = ulid::Ulid::generate().to_string();
    let row: Result<PurchaseRow, sqlx::Error> = on!(exec, |c| sqlx::query_as(concat!(
        "INSERT INTO buyer_purchases (id, tenant_id, buyer_id, intent_id, quote_id, vendor_id,
             amount_minor, currency, status, deadline_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $10) RETURNING ",
        cols!()
    ))
    .bind(&id)
    .bind(new.tenant)
    .bind(new.buyer_id)
    .bind(new.intent_id)
    .bind(new.quote_id)
    .bind(new.vendor_id)
    .bind(new.amount_minor)
    .bind(new.currency)
    .bind(new.deadline_at)
    .bind(now)
    .fetch_one(c)
    .await);
    row.map_err(|e| conflict(&e).unwrap_or_else(|| Error::from(e)))
}

/// Which live-purchase index a unique violation hit (PostgreSQL names the index, SQLite the
/// column); the transaction is aborted on PostgreSQL, so this cannot ask the database.
fn conflict(e: &sqlx::Error) -> Option<Error> {
    let sqlx::Error::Database(d) = e else {
        return None;
    };
    if d.kind() != sqlx::error::ErrorKind::UniqueViolation {
        return None;
    }
    let quote =
        d.constraint().is_some_and(|c| c.contains("quote")) || d.message().contains("quote_id");
    Some(if quote {
        Error::QuoteAlreadyPurchased
    } else {
        Error::IntentHasPurchase
    })
}

/// Whether quote `quote_id` has a live (not cancelled or failed) purchase.
pub(crate) async fn live_on_quote(exec: Exec<'_>, quote_id: &str) -> Result<bool, Error> {
    let row: Option<(i64,)> = on!(exec, |c| sqlx::query_as(
        "SELECT 1 FROM buyer_purchases
         WHERE quote_id = $1 AND status NOT IN ('cancelled', 'failed') LIMIT 1"
    )
    .bind(quote_id)
    .fetch_optional(c)
    .await?);
    Ok(row.is_some())
}

/// A purchase by id (any tenant: callers check it).
pub(crate) async fn find(exec: Exec<'_>, id: &str) -> Result<Option<PurchaseRow>, Error> {
    query::by_id(
        exec,
        concat!("SELECT ", cols!(), " FROM buyer_purchases WHERE id = $1"),
        id,
    )
    .await
}

/// The buyer's newest purchases.
pub(crate) async fn latest_of(
    exec: Exec<'_>,
    buyer_id: &str,
    n: i64,
) -> Result<Vec<PurchaseRow>, Error> {
    query::latest(
        exec,
        concat!(
            "SELECT ",
            cols!(),
            " FROM buyer_purchases WHERE buyer_id = $1 ORDER BY id DESC LIMIT $2"
        ),
        buyer_id,
        n,
    )
    .await
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    quote_id: String,
    vendor_id: String,
    buyer_id: String,
    buyer_name: String,
    status: String,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    settled_at: Option<DateTime<Utc>>,
    amount_minor: i64,
    currency: String,
}

/// A page of the tenant's purchases, newest first.
pub(crate) async fn list(exec: Exec<'_>, page: &Page<'_>) -> Result<Vec<PurchaseSummary>, Error> {
    let rows: Vec<SummaryRow> = query::page(
        exec,
        "SELECT p.id, p.quote_id, p.vendor_id, p.buyer_id, b.name AS buyer_name, p.status,
                p.reason, p.created_at, p.settled_at, p.amount_minor, p.currency
         FROM buyer_purchases p JOIN buyer_buyers b ON b.id = p.buyer_id
         WHERE p.tenant_id = $1 AND ($2 IS NULL OR p.buyer_id = $2) AND ($3 IS NULL OR p.id < $3)
         ORDER BY p.id DESC LIMIT $4",
        page,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PurchaseSummary {
            status: PurchaseStatus::parse(&r.status).unwrap_or(PurchaseStatus::Failed),
            id: r.id,
            quote_id: r.quote_id,
            vendor_id: r.vendor_id,
            buyer_id: r.buyer_id,
            buyer_name: r.buyer_name,
            reason: r.reason,
            created_at: r.created_at,
            fulfilled_at: r.settled_at,
            amount: r.amount_minor,
            amount_minor: r.amount_minor,
            currency: r.currency,
        })
        .collect())
}

/// Records the reservation's transfer (once); a pending purchase becomes `reserved`, a purchase
/// cancelled meanwhile keeps its status (the saga then voids the transfer).
pub(crate) async fn record_reservation(
    exec: Exec<'_>,
    id: &str,
    transfer_id: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "UPDATE buyer_purchases SET transfer_id = $2, updated_at = $3,
                status = CASE WHEN status = 'pending' THEN 'reserved' ELSE status END
         WHERE id = $1 AND transfer_id IS NULL"
    )
    .bind(id)
    .bind(transfer_id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// `reserved` -> `accepted`. `None` when the purchase was not reserved (cancelled meanwhile).
pub(crate) async fn mark_accepted(
    exec: Exec<'_>,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<PurchaseRow>, Error> {
    query::transition(
        exec,
        concat!(
            "UPDATE buyer_purchases SET status = 'accepted', accepted_at = $2, updated_at = $2
             WHERE id = $1 AND status = 'reserved' RETURNING ",
            cols!()
        ),
        id,
        now,
    )
    .await
}

/// Ends a live, unsettled purchase as `failed` or `cancelled` with `reason`. `None` when it was
/// already settled, cancelled or failed, or (unless `confirmed_too`) when both sides have
/// confirmed: its settlement is under way and a caller may no longer cancel it.
pub(crate) async fn close(
    exec: Exec<'_>,
    id: &str,
    status: PurchaseStatus,
    reason: &str,
    now: DateTime<Utc>,
    confirmed_too: bool,
) -> Result<Option<PurchaseRow>, Error> {
    let row = on!(exec, |c| sqlx::query_as(concat!(
        "UPDATE buyer_purchases SET status = $2, reason = $3, cancelled_at = $4, updated_at = $4
         WHERE id = $1 AND status IN ('pending', 'reserved', 'accepted')
           AND ($5 OR vendor_confirmed_at IS NULL OR buyer_confirmed_at IS NULL)
         RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(status.as_str())
    .bind(reason)
    .bind(now)
    .bind(confirmed_too)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// At the deadline: cancels a live purchase that is not confirmed by both sides (a confirmed one
/// is being settled and must not be voided). `None` when nothing changed.
pub(crate) async fn expire(
    exec: Exec<'_>,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<PurchaseRow>, Error> {
    query::transition(
        exec,
        concat!(
            "UPDATE buyer_purchases SET status = 'cancelled', reason = 'deadline_passed',
                    cancelled_at = $2, updated_at = $2
             WHERE id = $1 AND status IN ('pending', 'reserved', 'accepted')
               AND (vendor_confirmed_at IS NULL OR buyer_confirmed_at IS NULL)
             RETURNING ",
            cols!()
        ),
        id,
        now,
    )
    .await
}

/// The reservation was voided (or never made): nothing more to release.
pub(crate) async fn mark_voided(exec: Exec<'_>, id: &str) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "UPDATE buyer_purchases SET voided = TRUE WHERE id = $1"
    )
    .bind(id)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Stamps `actor`'s confirmation of an accepted purchase (the first stamp stays). `None` when
/// the purchase is not accepted.
pub(crate) async fn confirm(
    exec: Exec<'_>,
    id: &str,
    actor: ConfirmActor,
    now: DateTime<Utc>,
) -> Result<Option<PurchaseRow>, Error> {
    let sql = match actor {
        ConfirmActor::Vendor => concat!(
            "UPDATE buyer_purchases SET vendor_confirmed_at = COALESCE(vendor_confirmed_at, $2),
                    updated_at = $2
             WHERE id = $1 AND status = 'accepted' RETURNING ",
            cols!()
        ),
        ConfirmActor::Buyer => concat!(
            "UPDATE buyer_purchases SET buyer_confirmed_at = COALESCE(buyer_confirmed_at, $2),
                    updated_at = $2
             WHERE id = $1 AND status = 'accepted' RETURNING ",
            cols!()
        ),
    };
    query::transition(exec, sql, id, now).await
}

/// `accepted` (both confirmed) -> `settled`. `None` when it was not (settled before).
pub(crate) async fn mark_settled(
    exec: Exec<'_>,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<PurchaseRow>, Error> {
    query::transition(
        exec,
        concat!(
            "UPDATE buyer_purchases SET status = 'settled', settled_at = $2, updated_at = $2
             WHERE id = $1 AND status = 'accepted'
               AND vendor_confirmed_at IS NOT NULL AND buyer_confirmed_at IS NOT NULL
             RETURNING ",
            cols!()
        ),
        id,
        now,
    )
    .await
}
