//! HTTP routes of the wallet.

mod accounts;
mod admin;
mod fx;
mod reconcile;
mod subscriptions;
mod transfers;

use axum::Router;
use platform::Caller;
use platform::extract::Idempotent;
use platform::openapi::BearerAuth;
use utoipa::OpenApi;

use crate::Error;
use crate::ledger::OpCtx;
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::writer::{self, Action, Command, IdemKey};

platform::scope! {
    pub(crate) TransferWrite = "wallet:transfer.write";
    pub(crate) AccountsRead = "wallet:accounts.read";
    pub(crate) AccountsWrite = "wallet:accounts.write";
    pub(crate) Admin = "wallet:admin";
}

/// Runs a reconciliation (for the schedule).
pub(crate) async fn run_reconciliation(
    s: &AppState,
    tenant: Option<&str>,
) -> Result<contracts::wallet::ReconciliationRun, Error> {
    reconcile::run(s, tenant, None).await
}

/// Every route, behind the kit's auth layer.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(accounts::router())
        .merge(transfers::router())
        .merge(subscriptions::router())
        .merge(fx::router())
        .merge(reconcile::router())
        .merge(admin::router())
        .with_state(state)
}

/// The tenant a request acts for.
pub(crate) fn tenant(
    caller: &Caller,
    requested: Option<&str>,
    s: &AppState,
) -> Result<String, Error> {
    caller
        .tenant(requested, &s.default_tenant)
        .ok_or(Error::TenantForbidden)
}

/// The context of a money operation: the tenant, the calling service and this request's id.
pub(crate) fn op_ctx(caller: &Caller, tenant: String) -> OpCtx {
    OpCtx {
        tenant,
        actor: Actor {
            service: caller.issuer.clone(),
            request_id: platform::request_id::current().map(|r| r.to_string()),
        },
    }
}

/// The required idempotency key of a money-moving route, scoped per tenant and endpoint.
pub(crate) fn idem_key<T>(
    req: &Idempotent<T>,
    tenant: &str,
    endpoint: &str,
) -> Result<IdemKey, Error> {
    let key = req.key.as_deref().ok_or(Error::IdempotencyKeyMissing)?;
    Ok(IdemKey {
        scope: format!("{tenant}:{endpoint}"),
        key: key.to_owned(),
        hash: req.request_hash.clone(),
    })
}

/// Runs a money-moving request through the writer: tenant, required idempotency key (scoped to
/// the tenant and `endpoint`), then the command.
pub(crate) async fn submit<T>(
    s: &AppState,
    caller: &Caller,
    requested_tenant: Option<&str>,
    req: &Idempotent<T>,
    endpoint: &str,
    action: Action,
) -> Result<axum::response::Response, Error> {
    let tenant = tenant(caller, requested_tenant, s)?;
    let idem = idem_key(req, &tenant, endpoint)?;
    let cmd = Command {
        idem: Some(idem),
        ctx: op_ctx(caller, tenant),
        action,
    };
    Ok(writer::execute(&s.writer, cmd).await)
}

#[derive(OpenApi)]
#[openapi(
    info(title = "EasyMO wallet service", description = "Double-entry token ledger."),
    paths(
        accounts::open_account,
        accounts::get_account,
        accounts::provision_platform,
        transfers::create_transfer,
        transfers::get_transfer,
        transfers::post_transfer,
        transfers::void_transfer,
        transfers::reverse_transfer,
        subscriptions::subscribe,
        subscriptions::put_plan,
        subscriptions::get_plan,
        fx::convert,
        reconcile::reconcile,
        reconcile::reconcile_tenant,
        reconcile::latest_run,
        admin::put_asset,
        admin::audit_trail,
    ),
    components(schemas(
        contracts::wallet::Account,
        contracts::wallet::OpenAccount,
        contracts::wallet::ProvisionPlatform,
        contracts::wallet::Leg,
        contracts::wallet::TransferRequest,
        contracts::wallet::Transfer,
        contracts::wallet::PostPending,
        contracts::wallet::TransferAction,
        contracts::wallet::Posting,
        contracts::wallet::AccountStatement,
        contracts::wallet::Subscribe,
        contracts::wallet::SubscriptionCharge,
        contracts::wallet::SubscriptionPlan,
        contracts::wallet::FxQuote,
        contracts::wallet::Discrepancy,
        contracts::wallet::ReconciliationRun,
        contracts::wallet::TransferEvent,
        admin::Asset,
        crate::store::audit::Entry,
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
