//! The projection: `ranking_vendors` and `ranking_accepted_quotes`.

use chrono::{DateTime, Utc};
use contracts::marketplace::VendorChanged;
use sqlx::types::Json;
use store::{Exec, on};

use crate::Error;
use crate::domain::score::Signals;

/// One vendor of the projection.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct VendorRow {
    pub(crate) vendor_id: String,
    pub(crate) tenant_id: String,
    pub(crate) name: Option<String>,
    pub(crate) region: String,
    pub(crate) categories: Json<Vec<String>>,
    pub(crate) profile_rating: Option<f64>,
    pub(crate) feedback_sum: f64,
    pub(crate) feedback_count: i64,
    pub(crate) fulfilment_rate: Option<f64>,
    pub(crate) avg_response_ms: Option<i64>,
    pub(crate) total_trips: i64,
    pub(crate) balance_minor: Option<i64>,
}

impl VendorRow {
    /// Ratings behind [`Self::rating`]: the profile's (if any) and each feedback.
    pub(crate) fn rating_count(&self) -> i64 {
        self.feedback_count + i64::from(self.profile_rating.is_some())
    }

    /// The running average of the profile rating and every feedback; `None` when unrated.
    #[expect(clippy::cast_precision_loss, reason = "rating counts far below 2^52")]
    pub(crate) fn rating(&self) -> Option<f64> {
        let n = self.rating_count();
        (n > 0).then(|| (self.profile_rating.unwrap_or(0.0) + self.feedback_sum) / n as f64)
    }

    /// The scoring inputs, given the vendor's recent accepted quotes.
    pub(crate) fn signals(&self, recent_trips: i64) -> Signals {
        Signals {
            rating: self.rating(),
            fulfilment: self.fulfilment_rate,
            avg_response_ms: self.avg_response_ms,
            total_trips: self.total_trips,
            recent_trips,
            balance_minor: self.balance_minor,
        }
    }
}

macro_rules! columns {
    () => {
        "vendor_id, tenant_id, name, region, categories, profile_rating, feedback_sum, \
         feedback_count, fulfilment_rate, avg_response_ms, total_trips, balance_minor"
    };
}

/// Creates or refreshes a vendor from its profile. The profile's rating counts as one rating in
/// the running average; feedback is kept apart, so a profile update never erases it.
pub(crate) async fn upsert(
    exec: Exec<'_>,
    v: &VendorChanged,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "INSERT INTO ranking_vendors (vendor_id, tenant_id, registered, name, region, categories,
                                     profile_rating, fulfilment_rate, wallet_account_id,
                                     updated_at)
         VALUES ($1, $2, TRUE, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (vendor_id) DO UPDATE SET
             registered = TRUE,
             name = excluded.name,
             region = excluded.region,
             categories = excluded.categories,
             profile_rating = excluded.profile_rating,
             fulfilment_rate = excluded.fulfilment_rate,
             wallet_account_id = COALESCE(excluded.wallet_account_id,
                                          ranking_vendors.wallet_account_id),
             updated_at = excluded.updated_at
         WHERE ranking_vendors.tenant_id = excluded.tenant_id"
    )
    .bind(&v.vendor_id)
    .bind(&v.tenant_id)
    .bind(&v.name)
    .bind(&v.region)
    .bind(Json(&v.categories))
    .bind(v.rating)
    .bind(v.fulfilment_rate)
    .bind(&v.wallet_account_id)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Adds a settled trip (creating an unregistered row if the vendor is not known yet).
pub(crate) async fn add_trip(
    exec: Exec<'_>,
    tenant: &str,
    vendor_id: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "INSERT INTO ranking_vendors (vendor_id, tenant_id, total_trips, updated_at)
         VALUES ($1, $2, 1, $3)
         ON CONFLICT (vendor_id) DO UPDATE SET
             total_trips = ranking_vendors.total_trips + 1, updated_at = excluded.updated_at
         WHERE ranking_vendors.tenant_id = excluded.tenant_id"
    )
    .bind(vendor_id)
    .bind(tenant)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Folds one quote's response time into the vendor's running average.
pub(crate) async fn add_response(
    exec: Exec<'_>,
    tenant: &str,
    vendor_id: &str,
    ms: i64,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "INSERT INTO ranking_vendors (vendor_id, tenant_id, avg_response_ms, response_count,
                                     updated_at)
         VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (vendor_id) DO UPDATE SET
             avg_response_ms = (COALESCE(ranking_vendors.avg_response_ms, 0)
                                * ranking_vendors.response_count + $3)
                               / (ranking_vendors.response_count + 1),
             response_count = ranking_vendors.response_count + 1,
             updated_at = excluded.updated_at
         WHERE ranking_vendors.tenant_id = excluded.tenant_id"
    )
    .bind(vendor_id)
    .bind(tenant)
    .bind(ms)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Records an accepted quote (once per quote id).
pub(crate) async fn accept_quote(
    exec: Exec<'_>,
    tenant: &str,
    q: &contracts::marketplace::QuoteAccepted,
) -> Result<(), Error> {
    on!(exec, |c| {
        sqlx::query(
        "INSERT INTO ranking_accepted_quotes (quote_id, tenant_id, vendor_id, buyer_id, accepted_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (quote_id) DO NOTHING"
    )
    .bind(&q.quote_id)
    .bind(tenant)
    .bind(&q.vendor_id)
    .bind(&q.buyer_id)
    .bind(q.accepted_at)
    .execute(c)
    .await?
    .rows_affected()
    });
    Ok(())
}

/// Moves a known vendor wallet's balance by `delta` minor units.
pub(crate) async fn move_balance(
    exec: Exec<'_>,
    tenant: &str,
    account_id: &str,
    delta: i64,
) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "UPDATE ranking_vendors SET balance_minor = COALESCE(balance_minor, 0) + $1
         WHERE wallet_account_id = $2 AND tenant_id = $3"
    )
    .bind(delta)
    .bind(account_id)
    .bind(tenant)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Links a wallet account to a vendor that has none yet.
pub(crate) async fn link_wallet(
    exec: Exec<'_>,
    tenant: &str,
    vendor_id: &str,
    account_id: &str,
) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "UPDATE ranking_vendors SET wallet_account_id = $1
         WHERE vendor_id = $2 AND tenant_id = $3 AND wallet_account_id IS NULL"
    )
    .bind(account_id)
    .bind(vendor_id)
    .bind(tenant)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// Registered vendors of a tenant (and region), at most `limit`, by id.
pub(crate) async fn candidates(
    exec: Exec<'_>,
    tenant: &str,
    region: Option<&str>,
    limit: i64,
) -> Result<Vec<VendorRow>, Error> {
    let rows: Vec<VendorRow> = on!(exec, |c| sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM ranking_vendors
         WHERE tenant_id = $1 AND registered = TRUE AND ($2 IS NULL OR region = $2)
         ORDER BY vendor_id LIMIT $3"
    ))
    .bind(tenant)
    .bind(region)
    .bind(limit)
    .fetch_all(c)
    .await?);
    Ok(rows)
}

/// Accepted quotes per vendor of a tenant since `since` (one GROUP BY, not one count each).
pub(crate) async fn recent_counts(
    exec: Exec<'_>,
    tenant: &str,
    since: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, Error> {
    let rows: Vec<(String, i64)> = on!(exec, |c| sqlx::query_as(
        "SELECT vendor_id, COUNT(*) FROM ranking_accepted_quotes
         WHERE tenant_id = $1 AND accepted_at >= $2 GROUP BY vendor_id"
    )
    .bind(tenant)
    .bind(since)
    .fetch_all(c)
    .await?);
    Ok(rows)
}

/// Adds one rating to the running average; `None` when the tenant has no such vendor.
pub(crate) async fn add_rating(
    exec: Exec<'_>,
    tenant: &str,
    vendor_id: &str,
    overall: f64,
    now: DateTime<Utc>,
) -> Result<Option<VendorRow>, Error> {
    let row: Option<VendorRow> = on!(exec, |c| sqlx::query_as(concat!(
        "UPDATE ranking_vendors SET
             feedback_sum = feedback_sum + $1,
             feedback_count = feedback_count + 1,
             updated_at = $2
         WHERE vendor_id = $3 AND tenant_id = $4 AND registered = TRUE
         RETURNING ",
        columns!()
    ))
    .bind(overall)
    .bind(now)
    .bind(vendor_id)
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// Accepted quotes of one vendor since `since`.
pub(crate) async fn recent_count(
    exec: Exec<'_>,
    vendor_id: &str,
    since: DateTime<Utc>,
) -> Result<i64, Error> {
    let n: i64 = on!(exec, |c| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM ranking_accepted_quotes WHERE vendor_id = $1 AND accepted_at >= $2"
    )
    .bind(vendor_id)
    .bind(since)
    .fetch_one(c)
    .await?
    });
    Ok(n)
}

/// Moves the projection's version; called in every transaction that changes what ranks.
pub(crate) async fn bump_version(exec: Exec<'_>) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "UPDATE ranking_version SET version = version + 1 WHERE id = 1"
    )
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The projection's version.
pub(crate) async fn version(exec: Exec<'_>) -> Result<i64, Error> {
    let (v,): (i64,) = on!(exec, |c| sqlx::query_as(
        "SELECT version FROM ranking_version WHERE id = 1"
    )
    .fetch_one(c)
    .await?);
    Ok(v)
}
