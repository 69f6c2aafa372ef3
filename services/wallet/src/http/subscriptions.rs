//! Vendor subscriptions: the tenant's plan and the charges against it.

use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::wallet::{Subscribe, SubscriptionCharge, SubscriptionPlan};
use platform::extract::Idempotent;
use platform::{Authorized, ValidJson, ValidPath};
use serde_json::json;

use super::{AccountsRead, Admin, TransferWrite, op_ctx, submit, tenant};
use crate::Error;
use crate::state::AppState;
use crate::store::{accounts, audit, subscriptions};
use crate::writer::Action;

pub(super) fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/wallet/subscribe", post(subscribe))
        .route(
            "/wallet/tenants/{tenant_id}/subscription-plan",
            get(get_plan).put(put_plan),
        )
}

/// Charge a vendor the tenant's plan for its next period (price and period come from the plan,
/// never from the caller; one charge per period). Requires an `Idempotency-Key`.
#[utoipa::path(post, path = "/wallet/subscribe", request_body = Subscribe,
    params(("Idempotency-Key" = String, Header, description = "16-255 characters")),
    responses((status = 201, body = SubscriptionCharge),
        (status = 409, description = "subscription_active", body = platform::Problem),
        (status = 422, description = "insufficient_funds, platform_account_missing", body = platform::Problem)))]
pub(super) async fn subscribe(
    State(s): State<AppState>,
    auth: Authorized<TransferWrite>,
    req: Idempotent<Subscribe>,
) -> Result<Response, Error> {
    let action = Action::Subscribe(req.body.clone());
    submit(
        &s,
        &auth.caller,
        req.body.tenant_id.as_deref(),
        &req,
        "POST /wallet/subscribe",
        action,
    )
    .await
}

/// Set the tenant's subscription plan.
#[utoipa::path(put, path = "/wallet/tenants/{tenant_id}/subscription-plan", request_body = SubscriptionPlan,
    params(("tenant_id" = String, Path, description = "tenant")),
    responses((status = 200, body = SubscriptionPlan), (status = 422, body = platform::Problem)))]
pub(super) async fn put_plan(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
    ValidPath(tenant_id): ValidPath<String>,
    ValidJson(plan): ValidJson<SubscriptionPlan>,
) -> Result<Json<SubscriptionPlan>, Error> {
    let tenant = tenant(&auth.caller, Some(&tenant_id), &s)?;
    let ctx = op_ctx(&auth.caller, tenant.clone());
    let mut tx = s.db.begin().await?;
    accounts::ensure_assets(&mut tx, &tenant).await?;
    if accounts::asset_scale(tx.exec(), &tenant, &plan.asset)
        .await?
        .is_none()
    {
        return Err(Error::UnknownAsset(plan.asset));
    }
    subscriptions::set_plan(&mut tx, &tenant, &plan).await?;
    let details = json!({"asset": plan.asset, "priceMinor": plan.price_minor, "periodDays": plan.period_days});
    audit::record(
        &mut tx,
        &tenant,
        "subscription_plan.set",
        &tenant,
        &ctx.actor,
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(plan))
}

/// The tenant's subscription plan (the default, 4 TOKEN per 30 days, until one is set).
#[utoipa::path(get, path = "/wallet/tenants/{tenant_id}/subscription-plan",
    params(("tenant_id" = String, Path, description = "tenant")),
    responses((status = 200, body = SubscriptionPlan)))]
pub(super) async fn get_plan(
    State(s): State<AppState>,
    auth: Authorized<AccountsRead>,
    ValidPath(tenant_id): ValidPath<String>,
) -> Result<Json<SubscriptionPlan>, Error> {
    let tenant = tenant(&auth.caller, Some(&tenant_id), &s)?;
    let mut conn = s.db.conn().await?;
    Ok(Json(subscriptions::plan(conn.exec(), &tenant).await?))
}
