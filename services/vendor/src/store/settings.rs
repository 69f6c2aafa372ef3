//! `vendor_settings` (per tenant) and `vendor_subscriptions` (paid periods).

use chrono::{DateTime, Utc};
use contracts::vendor::MarketplaceSettings;
use contracts::wallet::SubscriptionCharge;
use store::{Exec, on};

use crate::Error;
use crate::domain::{DEFAULT_FREE_CONTACTS, DEFAULT_WINDOW_DAYS};

#[derive(sqlx::FromRow)]
struct Row {
    tenant_id: String,
    free_contacts: i32,
    window_days: i32,
    updated_at: DateTime<Utc>,
}

impl From<Row> for MarketplaceSettings {
    fn from(r: Row) -> Self {
        Self {
            tenant_id: r.tenant_id,
            free_contacts: r.free_contacts,
            window_days: r.window_days,
            updated_at: Some(r.updated_at),
        }
    }
}

/// The tenant's settings, or the defaults (30 free quotes per 30 days).
pub(crate) async fn get(exec: Exec<'_>, tenant: &str) -> Result<MarketplaceSettings, Error> {
    let row: Option<Row> = on!(exec, |c| sqlx::query_as(
        "SELECT tenant_id, free_contacts, window_days, updated_at FROM vendor_settings
         WHERE tenant_id = $1"
    )
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row.map_or_else(
        || MarketplaceSettings {
            tenant_id: tenant.to_owned(),
            free_contacts: DEFAULT_FREE_CONTACTS,
            window_days: DEFAULT_WINDOW_DAYS,
            updated_at: None,
        },
        MarketplaceSettings::from,
    ))
}

/// Changes only the fields given (the rest keep their value, or the default).
pub(crate) async fn patch(
    exec: Exec<'_>,
    tenant: &str,
    free_contacts: Option<i32>,
    window_days: Option<i32>,
    now: DateTime<Utc>,
) -> Result<MarketplaceSettings, Error> {
    let row: Row = on!(exec, |c| sqlx::query_as(
        "INSERT INTO vendor_settings (tenant_id, free_contacts, window_days, updated_at)
         VALUES ($1, COALESCE($2, $3), COALESCE($4, $5), $6)
         ON CONFLICT (tenant_id) DO UPDATE SET
             free_contacts = COALESCE($2, vendor_settings.free_contacts),
             window_days = COALESCE($4, vendor_settings.window_days),
             updated_at = excluded.updated_at
         RETURNING tenant_id, free_contacts, window_days, updated_at"
    )
    .bind(tenant)
    .bind(free_contacts)
    .bind(DEFAULT_FREE_CONTACTS)
    .bind(window_days)
    .bind(DEFAULT_WINDOW_DAYS)
    .bind(now)
    .fetch_one(c)
    .await?);
    Ok(row.into())
}

/// Records a paid period (once per charging transfer).
pub(crate) async fn add_subscription(
    exec: Exec<'_>,
    tenant: &str,
    c: &SubscriptionCharge,
) -> Result<(), Error> {
    on!(exec, |conn| sqlx::query(
        "INSERT INTO vendor_subscriptions (transfer_id, tenant_id, vendor_id, period_start,
                                           period_end)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (transfer_id) DO NOTHING"
    )
    .bind(&c.transfer_id)
    .bind(tenant)
    .bind(&c.owner_id)
    .bind(c.period_start)
    .bind(c.period_end)
    .execute(conn)
    .await?
    .rows_affected());
    Ok(())
}

/// The end of the paid period covering `now`, if any.
pub(crate) async fn subscribed_until(
    exec: Exec<'_>,
    tenant: &str,
    vendor_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Error> {
    let end: Option<DateTime<Utc>> = on!(exec, |c| sqlx::query_scalar(
        "SELECT period_end FROM vendor_subscriptions
         WHERE vendor_id = $1 AND tenant_id = $2 AND period_start <= $3 AND period_end > $3
         ORDER BY period_end DESC LIMIT 1"
    )
    .bind(vendor_id)
    .bind(tenant)
    .bind(now)
    .fetch_optional(c)
    .await?);
    Ok(end)
}
