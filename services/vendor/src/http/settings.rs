//! `GET` and `PATCH /marketplace/settings`: the tenant's free quota, under `vendor:admin`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use contracts::vendor::{MarketplaceSettings, SettingsPatch, TenantQuery};
use platform::{Authorized, ValidJson, ValidQuery};

use super::{VendorAdmin, tenant};
use crate::Error;
use crate::state::AppState;
use crate::store::settings;

pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        "/marketplace/settings",
        get(get_settings).patch(patch_settings).post(patch_settings),
    )
}

/// The tenant's paywall settings (the defaults, 30 free quotes per 30 days, until set).
#[utoipa::path(get, path = "/marketplace/settings", params(TenantQuery),
    responses((status = 200, body = MarketplaceSettings), (status = 403, body = platform::Problem)))]
pub(super) async fn get_settings(
    State(s): State<AppState>,
    auth: Authorized<VendorAdmin>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<MarketplaceSettings>, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::TenantForbidden,
    )?;
    let mut conn = s.db.conn().await?;
    Ok(Json(settings::get(conn.exec(), &tenant).await?))
}

/// Change the fields given (`POST` is accepted as the same partial update, for the admin app).
#[utoipa::path(patch, path = "/marketplace/settings", request_body = SettingsPatch,
    responses((status = 200, body = MarketplaceSettings), (status = 422, body = platform::Problem)))]
pub(super) async fn patch_settings(
    State(s): State<AppState>,
    auth: Authorized<VendorAdmin>,
    ValidJson(p): ValidJson<SettingsPatch>,
) -> Result<Json<MarketplaceSettings>, Error> {
    let tenant = tenant(
        &auth.caller,
        p.tenant_id.as_deref(),
        &s,
        Error::TenantForbidden,
    )?;
    let mut tx = s.db.begin().await?;
    let out = settings::patch(
        tx.exec(),
        &tenant,
        p.free_contacts,
        p.window_days,
        Utc::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(out))
}
