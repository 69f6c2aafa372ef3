//! HTTP routes of the vendor service.

mod images;
mod quotes;
mod settings;
mod vendors;

use axum::Router;
use platform::Caller;
use platform::openapi::BearerAuth;
use utoipa::OpenApi;

use crate::Error;
use crate::state::AppState;

platform::scope! {
    pub(crate) VendorRead = "vendor:read";
    pub(crate) VendorWrite = "vendor:write";
    pub(crate) QuoteWrite = "vendor:quote.write";
    pub(crate) VendorAdmin = "vendor:admin";
}

/// Every route, behind the kit's auth layer.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(vendors::router())
        .merge(quotes::router())
        .merge(settings::router())
        .merge(images::router())
        .with_state(state)
}

/// The tenant a request acts for; another tenant than a bound token's is 404 (`not_found`).
pub(crate) fn tenant(
    caller: &Caller,
    requested: Option<&str>,
    s: &AppState,
    not_found: Error,
) -> Result<String, Error> {
    caller.tenant(requested, &s.default_tenant).ok_or(not_found)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "EasyMO vendor service", description = "Vendors, quotes, the free-quota paywall, catalogue images."),
    paths(
        vendors::create_vendor,
        vendors::list_vendors,
        vendors::get_vendor,
        vendors::update_vendor,
        vendors::get_entitlements,
        quotes::create_quote,
        quotes::get_quote,
        quotes::accept_quote,
        quotes::reject_quote,
        quotes::get_intent,
        settings::get_settings,
        settings::patch_settings,
        images::upload_image,
        images::get_image,
    ),
    components(schemas(
        contracts::vendor::CreateVendor,
        contracts::vendor::UpdateVendor,
        contracts::vendor::Vendor,
        contracts::vendor::VendorList,
        contracts::vendor::CreateQuote,
        contracts::vendor::Quote,
        contracts::vendor::QuoteStatus,
        contracts::vendor::AcceptQuote,
        contracts::vendor::RejectQuote,
        contracts::vendor::Entitlements,
        contracts::vendor::OpenIntent,
        contracts::buyer::IntentStatus,
        contracts::vendor::MarketplaceSettings,
        contracts::vendor::SettingsPatch,
        contracts::vendor::VendorImage,
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
