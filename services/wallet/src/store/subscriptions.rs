//! Subscription plans (set by the tenant's admin, never by the caller) and charges (one per
//! vendor and period, by primary key).

use chrono::{DateTime, Utc};
use contracts::wallet::SubscriptionPlan;
use store::{Exec, Tx, on};

use crate::Error;
use crate::domain::DEFAULT_PLAN;

#[derive(sqlx::FromRow)]
struct PlanRow {
    asset: String,
    price_minor: i64,
    period_days: i32,
}

/// The tenant's plan, or the default (4 TOKEN per 30 days).
pub(crate) async fn plan(exec: Exec<'_>, tenant: &str) -> Result<SubscriptionPlan, Error> {
    let row: Option<PlanRow> = on!(exec, |c| sqlx::query_as(
        "SELECT asset, price_minor, period_days FROM subscription_plans WHERE tenant_id = $1"
    )
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(match row {
        Some(r) => SubscriptionPlan {
            asset: r.asset,
            price_minor: r.price_minor,
            period_days: u32::try_from(r.period_days).unwrap_or(30),
        },
        None => SubscriptionPlan {
            asset: DEFAULT_PLAN.0.to_owned(),
            price_minor: DEFAULT_PLAN.1,
            period_days: DEFAULT_PLAN.2,
        },
    })
}

/// Sets the tenant's plan.
pub(crate) async fn set_plan(tx: &mut Tx, tenant: &str, p: &SubscriptionPlan) -> Result<(), Error> {
    let now = Utc::now();
    let days = i32::try_from(p.period_days).unwrap_or(30);
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO subscription_plans (tenant_id, asset, price_minor, period_days, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id) DO UPDATE SET asset = $2, price_minor = $3, period_days = $4,
                                               updated_at = $5"
    )
    .bind(tenant)
    .bind(&p.asset)
    .bind(p.price_minor)
    .bind(days)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// The vendor's latest period: (its number, its end).
pub(crate) async fn latest_period(
    exec: Exec<'_>,
    tenant: &str,
    owner: &str,
) -> Result<Option<(i64, DateTime<Utc>)>, Error> {
    Ok(on!(exec, |c| sqlx::query_as(
        "SELECT seq, period_end FROM subscription_charges WHERE tenant_id = $1 AND owner_id = $2
         ORDER BY seq DESC LIMIT 1"
    )
    .bind(tenant)
    .bind(owner)
    .fetch_optional(c)
    .await?))
}
