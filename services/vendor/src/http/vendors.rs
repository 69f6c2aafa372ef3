//! Vendors: create (with a wallet account), list, read, update; entitlements.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use bus::Envelope;
use chrono::Utc;
use contracts::marketplace::{VENDOR_CREATED, VENDOR_UPDATED};
use contracts::vendor::{
    CreateVendor, Entitlements, TenantQuery, UpdateVendor, Vendor, VendorList, VendorQuery,
};
use platform::{Authorized, ValidJson, ValidPath, ValidQuery};
use store::outbox;

use super::{VendorRead, VendorWrite, tenant};
use crate::Error;
use crate::domain::{self, Quota};
use crate::jobs::{self, OpenWallet};
use crate::state::AppState;
use crate::store::{quotes, settings, vendors};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/vendors", get(list_vendors).post(create_vendor))
        .route("/vendors/{id}", get(get_vendor).patch(update_vendor))
        .route("/vendors/{id}/entitlements", get(get_entitlements))
}

/// Register a vendor. Its wallet account (owner type `vendor`, owner id = the vendor id) is
/// opened through the wallet API: at once when the wallet answers, else by a retried job
/// (`walletAccountId` is null until then, and `vendor.updated` announces it).
#[utoipa::path(post, path = "/vendors", request_body = CreateVendor,
    responses((status = 201, body = Vendor), (status = 409, description = "profile_taken", body = platform::Problem),
        (status = 422, body = platform::Problem)))]
pub(super) async fn create_vendor(
    State(s): State<AppState>,
    auth: Authorized<VendorWrite>,
    ValidJson(req): ValidJson<CreateVendor>,
) -> Result<(StatusCode, Json<Vendor>), Error> {
    let tenant = tenant(
        &auth.caller,
        req.tenant_id.as_deref(),
        &s,
        Error::TenantForbidden,
    )?;
    let id = ulid::Ulid::generate().to_string();
    let mut tx = s.db.begin().await?;
    let row = vendors::insert(
        tx.exec(),
        &vendors::NewVendor {
            id: &id,
            tenant_id: &tenant,
            name: req.name.trim(),
            region: req.region.trim(),
            categories: &req.categories,
            rating: req.rating,
            fulfilment_rate: req.fulfilment_rate,
            profile_user_id: req.profile_user_id.as_deref(),
            whatsapp_e164: req.whatsapp_e164.as_deref(),
        },
        Utc::now(),
    )
    .await?;
    let event = Envelope::new(VENDOR_CREATED, "vendor", &tenant, row.changed())
        .map_err(store::Error::from)?;
    outbox::enqueue(&mut tx, &event).await?;
    jobs::enqueue_open_wallet(
        &mut tx,
        &OpenWallet {
            tenant_id: tenant.clone(),
            vendor_id: id.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    let mut vendor = Vendor::from(row);
    // One attempt now, so the answer usually carries the account; the job is the guarantee.
    match jobs::open_wallet(&s, &tenant, &id, false).await {
        Ok(account) => vendor.wallet_account_id = account,
        Err(e) => {
            tracing::warn!(vendor_id = %id, error = %e, "wallet account not opened yet; the job retries")
        }
    }
    Ok((StatusCode::CREATED, Json(vendor)))
}

/// The tenant's vendors, newest first, a page at a time (no wallet balances: ask the wallet).
#[utoipa::path(get, path = "/vendors", params(VendorQuery),
    responses((status = 200, body = VendorList), (status = 422, body = platform::Problem)))]
pub(super) async fn list_vendors(
    State(s): State<AppState>,
    auth: Authorized<VendorRead>,
    ValidQuery(q): ValidQuery<VendorQuery>,
) -> Result<Json<VendorList>, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::TenantForbidden,
    )?;
    if let Some(c) = q.cursor.as_deref()
        && !domain::valid_cursor(c)
    {
        return Err(Error::InvalidCursor);
    }
    let limit = i64::from(q.limit.unwrap_or(25));
    let mut conn = s.db.conn().await?;
    let mut rows = vendors::list(
        conn.exec(),
        &tenant,
        q.region.as_deref(),
        q.cursor.as_deref(),
        limit + 1,
    )
    .await?;
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
    Ok(Json(VendorList {
        vendors: rows.into_iter().map(Vendor::from).collect(),
        next_cursor,
    }))
}

/// One vendor of the tenant.
#[utoipa::path(get, path = "/vendors/{id}", params(("id" = String, Path, description = "vendor id"), TenantQuery),
    responses((status = 200, body = Vendor), (status = 404, body = platform::Problem)))]
pub(super) async fn get_vendor(
    State(s): State<AppState>,
    auth: Authorized<VendorRead>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<Vendor>, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::VendorNotFound,
    )?;
    let mut conn = s.db.conn().await?;
    let row = vendors::find(conn.exec(), &tenant, &id)
        .await?
        .ok_or(Error::VendorNotFound)?;
    Ok(Json(row.into()))
}

/// Change the fields given; `vendor.updated` carries the new profile.
#[utoipa::path(patch, path = "/vendors/{id}", request_body = UpdateVendor,
    params(("id" = String, Path, description = "vendor id"), TenantQuery),
    responses((status = 200, body = Vendor), (status = 404, body = platform::Problem),
        (status = 422, body = platform::Problem)))]
pub(super) async fn update_vendor(
    State(s): State<AppState>,
    auth: Authorized<VendorWrite>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
    ValidJson(req): ValidJson<UpdateVendor>,
) -> Result<Json<Vendor>, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::VendorNotFound,
    )?;
    let mut tx = s.db.begin().await?;
    let row = vendors::update(tx.exec(), &tenant, &id, &req, Utc::now())
        .await?
        .ok_or(Error::VendorNotFound)?;
    let event = Envelope::new(VENDOR_UPDATED, "vendor", &tenant, row.changed())
        .map_err(store::Error::from)?;
    outbox::enqueue(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(Json(row.into()))
}

/// May the vendor quote now: free quotes left in the rolling window, or a paid period.
#[utoipa::path(get, path = "/vendors/{id}/entitlements",
    params(("id" = String, Path, description = "vendor id"), TenantQuery),
    responses((status = 200, body = Entitlements), (status = 404, body = platform::Problem)))]
pub(super) async fn get_entitlements(
    State(s): State<AppState>,
    auth: Authorized<VendorRead>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<Entitlements>, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::VendorNotFound,
    )?;
    let now = Utc::now();
    let mut conn = s.db.conn().await?;
    vendors::find(conn.exec(), &tenant, &id)
        .await?
        .ok_or(Error::VendorNotFound)?;
    let set = settings::get(conn.exec(), &tenant).await?;
    let window_start = domain::window_start(now, set.window_days);
    let used = quotes::free_used_since(conn.exec(), &id, window_start).await?;
    let until = settings::subscribed_until(conn.exec(), &tenant, &id, now).await?;
    let quota = Quota::new(set.free_contacts, used, until.is_some());
    Ok(Json(Entitlements {
        vendor_id: id,
        tenant_id: tenant,
        free_contacts: set.free_contacts,
        window_days: set.window_days,
        window_start,
        free_used: quota.used,
        free_remaining: quota.remaining,
        subscribed: quota.subscribed,
        subscribed_until: until,
        allowed: quota.allowed(),
    }))
}
