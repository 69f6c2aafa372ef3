//! Intents: a buyer's request, open for quotes until matched, expired or cancelled.

use chrono::{DateTime, Utc};
use contracts::buyer::{Intent, IntentChanged, IntentStatus, IntentSummary};
use store::{Exec, on};

use super::query::{self, Page};
use crate::Error;

macro_rules! cols {
    () => {
        "id, tenant_id, buyer_id, channel, payload, region, categories, status, expires_at,
         matched_quote_id, quote_count, created_at, updated_at"
    };
}

/// An intent row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct IntentRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) buyer_id: String,
    pub(crate) channel: String,
    pub(crate) payload: String,
    pub(crate) region: Option<String>,
    pub(crate) categories: String,
    pub(crate) status: String,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) matched_quote_id: Option<String>,
    pub(crate) quote_count: i64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// Reads a stored status.
pub(crate) fn status(s: &str) -> IntentStatus {
    match s {
        "matched" => IntentStatus::Matched,
        "expired" => IntentStatus::Expired,
        "cancelled" => IntentStatus::Cancelled,
        _ => IntentStatus::Pending,
    }
}

impl IntentRow {
    fn category_list(&self) -> Vec<String> {
        serde_json::from_str(&self.categories).unwrap_or_default()
    }

    /// Whether quotes can still be bought: pending and before its deadline.
    pub(crate) fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.status == "pending" && self.expires_at.is_none_or(|t| t > now)
    }

    /// The wire shape.
    pub(crate) fn view(&self) -> Intent {
        Intent {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            buyer_id: self.buyer_id.clone(),
            channel: self.channel.clone(),
            payload: serde_json::from_str(&self.payload).unwrap_or_default(),
            region: self.region.clone(),
            categories: self.category_list(),
            status: status(&self.status),
            expires_at: self.expires_at,
            matched_quote_id: self.matched_quote_id.clone(),
            recent_quotes: self.quote_count,
            created_at: self.created_at,
        }
    }

    /// The payload of its `buyer.intent.*` events.
    pub(crate) fn changed(&self) -> IntentChanged {
        IntentChanged {
            intent_id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            buyer_id: self.buyer_id.clone(),
            status: status(&self.status),
            channel: self.channel.clone(),
            region: self.region.clone(),
            categories: self.category_list(),
            expires_at: self.expires_at,
            matched_quote_id: self.matched_quote_id.clone(),
            created_at: self.created_at,
            changed_at: self.updated_at,
        }
    }
}

/// A new intent, as stored.
pub(crate) struct NewIntent<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) buyer_id: &'a str,
    pub(crate) channel: &'a str,
    pub(crate) payload: &'a serde_json::Value,
    pub(crate) expires_at: DateTime<Utc>,
}

/// Stores a pending intent.
pub(crate) async fn insert(exec: Exec<'_>, new: &NewIntent<'_>) -> Result<IntentRow, Error> {
    let now = Utc::now();
    let id = ulid::Ulid::generate().to_string();
    let payload = serde_json::to_string(new.payload)?;
    let categories = serde_json::to_string(&crate::domain::categories(new.payload))?;
    let row = on!(exec, |c| sqlx::query_as(concat!(
        "INSERT INTO buyer_intents (id, tenant_id, buyer_id, channel, payload, region, categories,
                                    status, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $9) RETURNING ",
        cols!()
    ))
    .bind(&id)
    .bind(new.tenant)
    .bind(new.buyer_id)
    .bind(new.channel)
    .bind(&payload)
    .bind(crate::domain::region(new.payload))
    .bind(&categories)
    .bind(new.expires_at)
    .bind(now)
    .fetch_one(c)
    .await?);
    Ok(row)
}

/// An intent by id (any tenant: callers check it).
pub(crate) async fn find(exec: Exec<'_>, id: &str) -> Result<Option<IntentRow>, Error> {
    query::by_id(
        exec,
        concat!("SELECT ", cols!(), " FROM buyer_intents WHERE id = $1"),
        id,
    )
    .await
}

/// The buyer's newest intents.
pub(crate) async fn latest_of(
    exec: Exec<'_>,
    buyer_id: &str,
    n: i64,
) -> Result<Vec<IntentRow>, Error> {
    query::latest(
        exec,
        concat!(
            "SELECT ",
            cols!(),
            " FROM buyer_intents WHERE buyer_id = $1 ORDER BY id DESC LIMIT $2"
        ),
        buyer_id,
        n,
    )
    .await
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    buyer_id: String,
    buyer_name: String,
    channel: String,
    status: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    quote_count: i64,
}

/// A page of the tenant's intents, newest first (ids are ULIDs: id order is creation order).
pub(crate) async fn list(exec: Exec<'_>, page: &Page<'_>) -> Result<Vec<IntentSummary>, Error> {
    let rows: Vec<SummaryRow> = query::page(
        exec,
        "SELECT i.id, i.buyer_id, b.name AS buyer_name, i.channel, i.status, i.created_at,
                i.expires_at, i.quote_count
         FROM buyer_intents i JOIN buyer_buyers b ON b.id = i.buyer_id
         WHERE i.tenant_id = $1 AND ($2 IS NULL OR i.buyer_id = $2) AND ($3 IS NULL OR i.id < $3)
         ORDER BY i.id DESC LIMIT $4",
        page,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| IntentSummary {
            status: status(&r.status),
            id: r.id,
            buyer_id: r.buyer_id,
            buyer_name: r.buyer_name,
            channel: r.channel,
            created_at: r.created_at,
            expires_at: r.expires_at,
            recent_quotes: r.quote_count,
        })
        .collect())
}

/// Expires a pending intent past its deadline, unless a purchase of it is still being made
/// (pending or reserved): that purchase decides. `None` when nothing changed.
pub(crate) async fn expire(
    exec: Exec<'_>,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<IntentRow>, Error> {
    query::transition(
        exec,
        concat!(
            "UPDATE buyer_intents SET status = 'expired', updated_at = $2
             WHERE id = $1 AND status = 'pending' AND expires_at <= $2
               AND NOT EXISTS (SELECT 1 FROM buyer_purchases p WHERE p.intent_id = $1
                               AND p.status IN ('pending', 'reserved'))
             RETURNING ",
            cols!()
        ),
        id,
        now,
    )
    .await
}

/// Cancels a pending intent that no live purchase holds. `None` when nothing changed.
pub(crate) async fn cancel(
    exec: Exec<'_>,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<IntentRow>, Error> {
    query::transition(
        exec,
        concat!(
            "UPDATE buyer_intents SET status = 'cancelled', updated_at = $2
             WHERE id = $1 AND status = 'pending'
               AND NOT EXISTS (SELECT 1 FROM buyer_purchases p WHERE p.intent_id = $1
                               AND p.status NOT IN ('cancelled', 'failed'))
             RETURNING ",
            cols!()
        ),
        id,
        now,
    )
    .await
}

/// Matches a pending intent to the quote bought. `None` when it was not pending.
pub(crate) async fn mark_matched(
    exec: Exec<'_>,
    id: &str,
    quote_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<IntentRow>, Error> {
    let row = on!(exec, |c| sqlx::query_as(concat!(
        "UPDATE buyer_intents SET status = 'matched', matched_quote_id = $2, updated_at = $3
         WHERE id = $1 AND status = 'pending' RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(quote_id)
    .bind(now)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// Counts a quote received for the intent (from `vendor.quote.created`).
pub(crate) async fn add_quote(exec: Exec<'_>, id: &str) -> Result<bool, Error> {
    let n = on!(exec, |c| sqlx::query(
        "UPDATE buyer_intents SET quote_count = quote_count + 1 WHERE id = $1"
    )
    .bind(id)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}
