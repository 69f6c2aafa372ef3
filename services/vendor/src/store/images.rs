//! `vendor_images`: the stored copies of each catalogue image (bytes live in the object store).

use chrono::{DateTime, Utc};
use store::{Exec, on};

use crate::Error;

/// One image row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ImageRow {
    pub(crate) id: String,
    pub(crate) vendor_id: String,
    pub(crate) width: i32,
    pub(crate) height: i32,
    pub(crate) display_key: String,
    pub(crate) thumb_key: String,
    pub(crate) created_at: DateTime<Utc>,
}

/// Records an image whose copies are stored.
pub(crate) async fn insert(exec: Exec<'_>, tenant: &str, r: &ImageRow) -> Result<(), Error> {
    on!(exec, |c| sqlx::query(
        "INSERT INTO vendor_images (id, tenant_id, vendor_id, width, height, display_key,
                                    thumb_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&r.id)
    .bind(tenant)
    .bind(&r.vendor_id)
    .bind(r.width)
    .bind(r.height)
    .bind(&r.display_key)
    .bind(&r.thumb_key)
    .bind(r.created_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(())
}

/// An image of the tenant's vendor.
pub(crate) async fn find(
    exec: Exec<'_>,
    tenant: &str,
    vendor_id: &str,
    id: &str,
) -> Result<Option<ImageRow>, Error> {
    let row: Option<ImageRow> = on!(exec, |c| sqlx::query_as(
        "SELECT id, vendor_id, width, height, display_key, thumb_key, created_at
         FROM vendor_images WHERE id = $1 AND vendor_id = $2 AND tenant_id = $3"
    )
    .bind(id)
    .bind(vendor_id)
    .bind(tenant)
    .fetch_optional(c)
    .await?);
    Ok(row)
}
