//! `/api/v1/profiles/{id}/locations`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use contracts::profile::{CreateLocation, LocationList, SavedLocation};
use platform::{Authorized, ValidJson, ValidPath};

use super::{ProfileRead, ProfileWrite};
use crate::state::AppState;
use crate::{Error, store as sql};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/profiles/{id}/locations",
            get(list_locations).post(create_location),
        )
        .route(
            "/api/v1/profiles/{id}/locations/{location_id}",
            delete(delete_location),
        )
}

/// The saved locations of a profile, newest first.
#[utoipa::path(get, path = "/api/v1/profiles/{id}/locations",
    params(("id" = String, Path, description = "profile id")),
    responses((status = 200, body = LocationList), (status = 404, body = platform::Problem)))]
pub(super) async fn list_locations(
    State(s): State<AppState>,
    auth: Authorized<ProfileRead>,
    ValidPath(id): ValidPath<String>,
) -> Result<Json<LocationList>, Error> {
    let mut conn = s.db.conn().await?;
    sql::profiles::find(conn.exec(), &id, auth.caller.tenant_id.as_deref())
        .await?
        .ok_or(Error::ProfileNotFound)?;
    let locations = sql::locations::list(conn.exec(), &id).await?;
    Ok(Json(LocationList { locations }))
}

/// Save a location; labels are unique per profile.
#[utoipa::path(post, path = "/api/v1/profiles/{id}/locations", request_body = CreateLocation,
    params(("id" = String, Path, description = "profile id")),
    responses((status = 201, body = SavedLocation), (status = 404, body = platform::Problem),
        (status = 409, description = "label taken", body = platform::Problem)))]
pub(super) async fn create_location(
    State(s): State<AppState>,
    auth: Authorized<ProfileWrite>,
    ValidPath(id): ValidPath<String>,
    ValidJson(req): ValidJson<CreateLocation>,
) -> Result<(StatusCode, Json<SavedLocation>), Error> {
    let mut tx = s.db.begin().await?;
    let loc = sql::locations::insert(tx.exec(), &id, auth.caller.tenant_id.as_deref(), &req)
        .await?
        .ok_or(Error::ProfileNotFound)?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(loc)))
}

/// Delete a saved location.
#[utoipa::path(delete, path = "/api/v1/profiles/{id}/locations/{location_id}",
    params(("id" = String, Path, description = "profile id"),
        ("location_id" = String, Path, description = "location id")),
    responses((status = 204), (status = 404, body = platform::Problem)))]
pub(super) async fn delete_location(
    State(s): State<AppState>,
    auth: Authorized<ProfileWrite>,
    ValidPath((id, location_id)): ValidPath<(String, String)>,
) -> Result<StatusCode, Error> {
    let mut tx = s.db.begin().await?;
    let deleted = sql::locations::delete(
        tx.exec(),
        &id,
        &location_id,
        auth.caller.tenant_id.as_deref(),
    )
    .await?;
    tx.commit().await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::LocationNotFound)
    }
}
