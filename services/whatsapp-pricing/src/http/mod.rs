//! HTTP routes of the whatsapp-pricing service.

mod paylink;
pub(crate) mod quotes;
mod tariffs;

use axum::Router;
use utoipa::OpenApi;

use platform::openapi::BearerAuth;

use crate::state::AppState;

platform::scope! {
    pub(crate) PricingQuote = "pricing:quote";
    pub(crate) PricingAdmin = "pricing:admin";
}

/// Every route, behind the kit's auth layer (no route is public: there is no simulate endpoint).
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(quotes::router())
        .merge(tariffs::router())
        .merge(paylink::router())
        .with_state(state)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "EasyMO whatsapp-pricing service",
        description = "Motor-insurance quotes for BK, Old Mutual, Prime and Radiant; versioned tariffs; MoMo pay links."
    ),
    paths(
        quotes::create_quote,
        quotes::get_quote,
        tariffs::list_tariffs,
        tariffs::get_tariff,
        tariffs::publish_tariff,
        paylink::paylink,
    ),
    components(schemas(
        contracts::pricing::CreateQuote,
        contracts::pricing::OccupantCover,
        contracts::pricing::QuoteComparison,
        contracts::pricing::InsurerOffer,
        contracts::pricing::QuoteLine,
        contracts::pricing::InstalmentOption,
        contracts::pricing::InstalmentDue,
        contracts::pricing::Declined,
        contracts::pricing::Paylink,
        contracts::pricing::TariffList,
        contracts::pricing::TariffVersion,
        contracts::pricing::TariffChange,
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
