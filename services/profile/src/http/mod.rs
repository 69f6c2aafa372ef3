//! HTTP routes of the profile service.

mod locations;
mod profiles;

use axum::Router;
use utoipa::OpenApi;

use platform::openapi::BearerAuth;

use crate::state::AppState;

platform::scope! {
    pub(crate) ProfileRead = "profile:read";
    pub(crate) ProfileWrite = "profile:write";
}

/// Every route, behind the kit's auth layer.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(profiles::router())
        .merge(locations::router())
        .with_state(state)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "EasyMO profile service", description = "User profiles and saved places."),
    paths(
        profiles::create_profile,
        profiles::get_profile,
        profiles::update_profile,
        profiles::delete_profile,
        profiles::search_profiles,
        locations::list_locations,
        locations::create_location,
        locations::delete_location,
    ),
    components(schemas(
        contracts::profile::Profile,
        contracts::profile::CreateProfile,
        contracts::profile::UpdateProfile,
        contracts::profile::ProfilePage,
        contracts::profile::SavedLocation,
        contracts::profile::CreateLocation,
        contracts::profile::LocationList,
        contracts::profile::ProfileChanged,
        platform::Problem,
        platform::FieldError,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
struct ApiDoc;

/// The OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
