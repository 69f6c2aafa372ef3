//! The `saved_locations` table. Every statement checks the owning profile is live and visible
//! in the same statement, so there is no window between the check and the write.

use chrono::{DateTime, Utc};
use contracts::profile::{CreateLocation, SavedLocation};
use store::{Exec, ResultExt, on};

use crate::Error;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    profile_id: String,
    label: String,
    latitude: f64,
    longitude: f64,
    address: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<Row> for SavedLocation {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            profile_id: r.profile_id,
            label: r.label,
            latitude: r.latitude,
            longitude: r.longitude,
            address: r.address,
            created_at: r.created_at,
        }
    }
}

/// Adds a location; `None` when the profile is not live or not visible.
#[tracing::instrument(skip_all)]
pub(crate) async fn insert(
    exec: Exec<'_>,
    profile_id: &str,
    visible_to: Option<&str>,
    loc: &CreateLocation,
) -> Result<Option<SavedLocation>, Error> {
    let id = ulid::Ulid::generate().to_string();
    let now = Utc::now();
    let row: Option<Row> = on!(exec, |c| {
        sqlx::query_as(
        "INSERT INTO saved_locations (id, profile_id, label, latitude, longitude, address, created_at)
         SELECT $1, p.id, $3, $4, $5, $6, $7 FROM profiles p
         WHERE p.id = $2 AND p.deleted_at IS NULL AND ($8 IS NULL OR p.tenant_id = $8)
         RETURNING id, profile_id, label, latitude, longitude, address, created_at"
    )
    .bind(&id)
    .bind(profile_id)
    .bind(loc.label.trim())
    .bind(loc.latitude)
    .bind(loc.longitude)
    .bind(&loc.address)
    .bind(now)
    .bind(visible_to)
    .fetch_optional(c)
    .await
    .on_unique(|| Error::LabelTaken)
    })?;
    Ok(row.map(Into::into))
}

/// The locations of a profile, newest first.
#[tracing::instrument(skip_all)]
pub(crate) async fn list(exec: Exec<'_>, profile_id: &str) -> Result<Vec<SavedLocation>, Error> {
    let rows: Vec<Row> = on!(exec, |c| sqlx::query_as(
        "SELECT id, profile_id, label, latitude, longitude, address, created_at
         FROM saved_locations WHERE profile_id = $1 ORDER BY id DESC"
    )
    .bind(profile_id)
    .fetch_all(c)
    .await?);
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Deletes a location of a live, visible profile; false when there was none.
#[tracing::instrument(skip_all)]
pub(crate) async fn delete(
    exec: Exec<'_>,
    profile_id: &str,
    location_id: &str,
    visible_to: Option<&str>,
) -> Result<bool, Error> {
    let n = on!(exec, |c| sqlx::query(
        "DELETE FROM saved_locations
         WHERE id = $1 AND profile_id = $2
           AND EXISTS (SELECT 1 FROM profiles p WHERE p.id = $2 AND p.deleted_at IS NULL
                       AND ($3 IS NULL OR p.tenant_id = $3))"
    )
    .bind(location_id)
    .bind(profile_id)
    .bind(visible_to)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}
