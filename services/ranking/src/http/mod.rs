//! HTTP routes of the ranking service.

mod experiments;
mod vendors;

use axum::Router;
use utoipa::OpenApi;

use platform::openapi::BearerAuth;

use crate::state::AppState;

platform::scope! {
    pub(crate) RankingRead = "ranking:read";
    pub(crate) FeedbackWrite = "ranking:feedback.write";
    pub(crate) RankingAdmin = "ranking:admin";
}

/// Every route, behind the kit's auth layer.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(vendors::router())
        .merge(experiments::router())
        .with_state(state)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "EasyMO ranking service", description = "Vendor ranking, feedback and experiments."),
    paths(
        vendors::list_vendors,
        vendors::feedback,
        experiments::create_experiment,
        experiments::get_experiment,
    ),
    components(schemas(
        contracts::ranking::VendorRanking,
        contracts::ranking::RankedVendor,
        contracts::ranking::ScoreComponents,
        contracts::ranking::Assignment,
        contracts::ranking::Feedback,
        contracts::ranking::FeedbackScores,
        contracts::ranking::Weights,
        contracts::ranking::Variant,
        contracts::ranking::CreateExperiment,
        contracts::ranking::Experiment,
        contracts::ranking::VariantStats,
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
