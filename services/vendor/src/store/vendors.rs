//! `vendor_vendors`.

use chrono::{DateTime, Utc};
use contracts::marketplace::VendorChanged;
use contracts::vendor::{UpdateVendor, Vendor};
use sqlx::types::Json;
use store::{Exec, ResultExt, on};

use crate::Error;

/// One vendor row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct VendorRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) name: String,
    pub(crate) region: String,
    pub(crate) categories: Json<Vec<String>>,
    pub(crate) rating: Option<f64>,
    pub(crate) fulfilment_rate: Option<f64>,
    pub(crate) profile_user_id: Option<String>,
    pub(crate) whatsapp_e164: Option<String>,
    pub(crate) wallet_account_id: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

impl VendorRow {
    /// The payload of `vendor.created` / `vendor.updated`.
    pub(crate) fn changed(&self) -> VendorChanged {
        VendorChanged {
            vendor_id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            name: Some(self.name.clone()),
            region: self.region.clone(),
            categories: self.categories.0.clone(),
            rating: self.rating,
            fulfilment_rate: self.fulfilment_rate,
            wallet_account_id: self.wallet_account_id.clone(),
        }
    }
}

impl From<VendorRow> for Vendor {
    fn from(r: VendorRow) -> Self {
        Self {
            id: r.id,
            tenant_id: r.tenant_id,
            name: r.name,
            region: r.region,
            categories: r.categories.0,
            rating: r.rating,
            fulfilment_rate: r.fulfilment_rate,
            profile_user_id: r.profile_user_id,
            whatsapp_e164: r.whatsapp_e164,
            wallet_account_id: r.wallet_account_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

macro_rules! columns {
    () => {
        "id, tenant_id, name, region, categories, rating, fulfilment_rate, profile_user_id, \
         whatsapp_e164, wallet_account_id, created_at, updated_at"
    };
}

/// A new vendor (no wallet account yet).
pub(crate) struct NewVendor<'a> {
    pub(crate) id: &'a str,
    pub(crate) tenant_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) region: &'a str,
    pub(crate) categories: &'a [String],
    pub(crate) rating: Option<f64>,
    pub(crate) fulfilment_rate: Option<f64>,
    pub(crate) profile_user_id: Option<&'a str>,
    pub(crate) whatsapp_e164: Option<&'a str>,
}

/// Inserts a vendor; a second vendor for one profile user of a tenant is a conflict.
pub(crate) async fn insert(
    exec: Exec<'_>,
    v: &NewVendor<'_>,
    now: DateTime<Utc>,
) -> Result<VendorRow, Error> {
    let row: VendorRow = on!(exec, |c| sqlx::query_as(concat!(
        "INSERT INTO vendor_vendors (id, tenant_id, name, region, categories, rating,
                                     fulfilment_rate, profile_user_id, whatsapp_e164,
                                     created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         RETURNING ",
        columns!()
    ))
    .bind(v.id)
    .bind(v.tenant_id)
    .bind(v.name)
    .bind(v.region)
    .bind(Json(v.categories))
    .bind(v.rating)
    .bind(v.fulfilment_rate)
    .bind(v.profile_user_id)
    .bind(v.whatsapp_e164)
    .bind(now)
    .fetch_one(c)
    .await
    .on_unique(|| Error::ProfileTaken)?);
    Ok(row)
}

/// A vendor of the tenant.
pub(crate) async fn find(
    exec: Exec<'_>,
    tenant: &str,
    id: &str,
) -> Result<Option<VendorRow>, Error> {
    let row: Option<VendorRow> = on!(exec, |c| sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM vendor_vendors WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// A page of the tenant's vendors, newest first, after `cursor` (a vendor id).
pub(crate) async fn list(
    exec: Exec<'_>,
    tenant: &str,
    region: Option<&str>,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<VendorRow>, Error> {
    let rows: Vec<VendorRow> = on!(exec, |c| sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM vendor_vendors
         WHERE tenant_id = $1 AND ($2 IS NULL OR region = $2) AND ($3 IS NULL OR id < $3)
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(tenant)
    .bind(region)
    .bind(cursor)
    .bind(limit)
    .fetch_all(c)
    .await?);
    Ok(rows)
}

/// Applies the fields given; `None` when the tenant has no such vendor.
pub(crate) async fn update(
    exec: Exec<'_>,
    tenant: &str,
    id: &str,
    u: &UpdateVendor,
    now: DateTime<Utc>,
) -> Result<Option<VendorRow>, Error> {
    let row: Option<VendorRow> = on!(exec, |c| sqlx::query_as(concat!(
        "UPDATE vendor_vendors SET
             name = COALESCE($1, name),
             region = COALESCE($2, region),
             categories = COALESCE($3, categories),
             rating = COALESCE($4, rating),
             fulfilment_rate = COALESCE($5, fulfilment_rate),
             updated_at = $6
         WHERE id = $7 AND tenant_id = $8
         RETURNING ",
        columns!()
    ))
    .bind(u.name.as_deref())
    .bind(u.region.as_deref())
    .bind(u.categories.as_ref().map(Json))
    .bind(u.rating)
    .bind(u.fulfilment_rate)
    .bind(now)
    .bind(id)
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// Records the wallet account of a vendor that has none; `Some` (the row) only the first time.
pub(crate) async fn link_wallet(
    exec: Exec<'_>,
    tenant: &str,
    id: &str,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<VendorRow>, Error> {
    let row: Option<VendorRow> = on!(exec, |c| sqlx::query_as(concat!(
        "UPDATE vendor_vendors SET wallet_account_id = $1, updated_at = $2
         WHERE id = $3 AND tenant_id = $4 AND wallet_account_id IS NULL
         RETURNING ",
        columns!()
    ))
    .bind(account_id)
    .bind(now)
    .bind(id)
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row)
}

/// Takes the vendor's quote lock for the rest of the transaction (a row write: PostgreSQL locks
/// the row, SQLite the database), so paywall checks of one vendor run one at a time. `false`
/// when the tenant has no such vendor.
pub(crate) async fn lock_for_quote(exec: Exec<'_>, tenant: &str, id: &str) -> Result<bool, Error> {
    let n = on!(exec, |c| sqlx::query(
        "UPDATE vendor_vendors SET quote_seq = quote_seq + 1 WHERE id = $1 AND tenant_id = $2"
    )
    .bind(id)
    .bind(tenant)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// Whether the tenant has this vendor.
pub(crate) async fn exists(exec: Exec<'_>, tenant: &str, id: &str) -> Result<bool, Error> {
    let n: i64 = on!(exec, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM vendor_vendors WHERE id = $1 AND tenant_id = $2"
    )
    .bind(id)
    .bind(tenant)
    .fetch_one(c)
    .await?);
    Ok(n > 0)
}
