//! HTTP routes of the buyer service.

mod admin;
mod buyers;
mod intents;
mod page;
mod purchases;

use axum::Router;
use platform::openapi::BearerAuth;
use platform::{Caller, Validate, Validator};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use crate::Error;
use crate::state::AppState;

platform::scope! {
    pub(crate) BuyerRead = "buyer:read";
    pub(crate) BuyerWrite = "buyer:write";
    pub(crate) BuyerAdmin = "buyer:admin";
}

/// Every route, behind the kit's auth layer.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(buyers::router())
        .merge(intents::router())
        .merge(purchases::router())
        .merge(admin::router())
        .with_state(state)
}

/// Query of the single-resource reads.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TenantQuery {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    pub(crate) tenant_id: Option<String>,
}

impl Validate for TenantQuery {
    fn validate(&self, v: &mut Validator) {
        v.len(self.tenant_id.as_deref(), "tenantId", 1, 64);
    }
}

/// The tenant a request acts for (a tenant-bound token naming another tenant is refused).
pub(crate) fn tenant(
    caller: &Caller,
    requested: Option<&str>,
    s: &AppState,
) -> Result<String, Error> {
    caller
        .tenant(requested, &s.default_tenant)
        .ok_or(Error::TenantForbidden)
}

/// Whether a resource of `owner` tenant is visible to this request: the tenant it acts for
/// must be the resource's (another tenant's resource is not found, never forbidden).
pub(crate) fn visible(caller: &Caller, requested: Option<&str>, s: &AppState, owner: &str) -> bool {
    caller
        .tenant(requested, &s.default_tenant)
        .is_some_and(|t| t == owner)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "EasyMO buyer service", description = "Buyers, intents and purchases (a saga over wallet holds and vendor quotes)."),
    paths(
        buyers::create_buyer,
        buyers::get_buyer,
        buyers::open_wallet_account,
        buyers::buyer_context,
        intents::create_buyer_intent,
        intents::create_intent,
        intents::list_intents,
        intents::get_intent,
        intents::cancel_intent,
        purchases::create_purchase,
        purchases::list_purchases,
        purchases::get_purchase,
        purchases::confirm_purchase,
        purchases::cancel_purchase,
        admin::saga_queue,
        admin::replay_dead,
    ),
    components(schemas(
        contracts::buyer::CreateBuyer,
        contracts::buyer::Buyer,
        contracts::buyer::BuyerWalletAccount,
        contracts::buyer::OpenBuyerAccount,
        contracts::buyer::BuyerContext,
        contracts::buyer::CreateIntent,
        contracts::buyer::Intent,
        contracts::buyer::IntentStatus,
        contracts::buyer::IntentSummary,
        contracts::buyer::IntentList,
        contracts::buyer::IntentChanged,
        contracts::buyer::CreatePurchase,
        contracts::buyer::Purchase,
        contracts::buyer::PurchaseStatus,
        contracts::buyer::PurchaseSummary,
        contracts::buyer::PurchaseList,
        contracts::buyer::ConfirmPurchase,
        contracts::buyer::ConfirmActor,
        contracts::buyer::CancelRequest,
        contracts::buyer::PurchaseCancelled,
        contracts::marketplace::PurchaseSettled,
        contracts::buyer::SagaQueue,
        contracts::buyer::DeadSagaJob,
        contracts::buyer::Replayed,
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
