//! `/buyers`: buyers, their wallet accounts and their context.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::buyer::{Buyer, BuyerContext, CreateBuyer, OpenBuyerAccount};
use platform::extract::Idempotent;
use platform::{Authorized, ValidJson, ValidPath, ValidQuery};
use store::{Tx, idempotency};

use super::{BuyerRead, BuyerWrite, TenantQuery, tenant, visible};
use crate::Error;
use crate::state::AppState;
use crate::store::{buyers, intents, purchases};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/buyers", post(create_buyer))
        .route("/buyers/{id}", get(get_buyer))
        .route("/buyers/{id}/wallet-accounts", post(open_wallet_account))
        .route("/buyers/{id}/context", get(buyer_context))
}

/// The buyer if the request may see it.
pub(super) async fn visible_buyer(
    s: &AppState,
    caller: &platform::Caller,
    requested: Option<&str>,
    id: &str,
) -> Result<buyers::BuyerRow, Error> {
    let mut conn = s.db.conn().await?;
    buyers::find(conn.exec(), id)
        .await?
        .filter(|b| visible(caller, requested, s, &b.tenant_id))
        .ok_or(Error::BuyerNotFound)
}

async fn with_accounts(s: &AppState, row: buyers::BuyerRow) -> Result<Buyer, Error> {
    let mut conn = s.db.conn().await?;
    let accounts = buyers::accounts(conn.exec(), &row.id).await?;
    Ok(row.view(accounts))
}

/// Register a buyer, linked to its profile (`profileUserId`, unique per tenant) and WhatsApp
/// number. Wallet accounts are opened on demand, in the asset the buyer pays in. Idempotent
/// with an `Idempotency-Key` header.
#[utoipa::path(post, path = "/buyers", request_body = CreateBuyer,
    params(("Idempotency-Key" = Option<String>, Header, description = "16-255 characters")),
    responses((status = 201, body = Buyer), (status = 409, description = "buyer_exists", body = platform::Problem),
        (status = 422, body = platform::Problem)))]
pub(super) async fn create_buyer(
    State(s): State<AppState>,
    auth: Authorized<BuyerWrite>,
    req: Idempotent<CreateBuyer>,
) -> Result<Response, Error> {
    let tenant = tenant(&auth.caller, req.body.tenant_id.as_deref(), &s)?;
    let idem = req.key.as_deref().map(|key| idempotency::Request {
        scope: format!("{tenant}:{}:buyers", auth.caller.issuer),
        key,
        hash: &req.request_hash,
    });
    let body = &req.body;
    idempotency::run(&s.db, idem, async |tx: &mut Tx| {
        let row = buyers::insert(tx.exec(), &tenant, body).await?;
        tracing::info!(buyer_id = %row.id, "buyer registered");
        Ok::<_, Error>((StatusCode::CREATED, row.view(Vec::new())))
    })
    .await
}

/// A buyer with its wallet accounts.
#[utoipa::path(get, path = "/buyers/{id}", params(("id" = String, Path, description = "buyer id"), TenantQuery),
    responses((status = 200, body = Buyer), (status = 404, body = platform::Problem)))]
pub(super) async fn get_buyer(
    State(s): State<AppState>,
    auth: Authorized<BuyerRead>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<Buyer>, Error> {
    let row = visible_buyer(&s, &auth.caller, q.tenant_id.as_deref(), &id).await?;
    Ok(Json(with_accounts(&s, row).await?))
}

/// Open (or find) the buyer's wallet account in `asset`, through the wallet API (owner type
/// `buyer`, owner id the buyer id). Purchases open it themselves when needed.
#[utoipa::path(post, path = "/buyers/{id}/wallet-accounts", request_body = OpenBuyerAccount,
    params(("id" = String, Path, description = "buyer id")),
    responses((status = 200, body = Buyer), (status = 404, body = platform::Problem),
        (status = 503, description = "the wallet is unavailable", body = platform::Problem)))]
pub(super) async fn open_wallet_account(
    State(s): State<AppState>,
    auth: Authorized<BuyerWrite>,
    ValidPath(id): ValidPath<String>,
    ValidJson(req): ValidJson<OpenBuyerAccount>,
) -> Result<Json<Buyer>, Error> {
    let row = visible_buyer(&s, &auth.caller, req.tenant_id.as_deref(), &id).await?;
    let account = s
        .clients
        .open_account(&row.tenant_id, "buyer", &row.id, &req.asset)
        .await
        .map_err(|_| Error::DependencyUnavailable("wallet"))?
        .map_err(|r| {
            Error::Upstream(format!(
                "the wallet refused the account: {} {}",
                r.status, r.code
            ))
        })?;
    let mut tx = s.db.begin().await?;
    buyers::save_account(tx.exec(), &row.id, &req.asset, &account.id).await?;
    tx.commit().await?;
    Ok(Json(with_accounts(&s, row).await?))
}

/// The buyer with its 5 newest intents and purchases; another tenant's buyer is not found.
#[utoipa::path(get, path = "/buyers/{id}/context", params(("id" = String, Path, description = "buyer id"), TenantQuery),
    responses((status = 200, body = BuyerContext), (status = 404, body = platform::Problem)))]
pub(super) async fn buyer_context(
    State(s): State<AppState>,
    auth: Authorized<BuyerRead>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
) -> Result<Json<BuyerContext>, Error> {
    let row = visible_buyer(&s, &auth.caller, q.tenant_id.as_deref(), &id).await?;
    let mut conn = s.db.conn().await?;
    let latest = intents::latest_of(conn.exec(), &row.id, 5).await?;
    let bought = purchases::latest_of(conn.exec(), &row.id, 5).await?;
    drop(conn);
    Ok(Json(BuyerContext {
        buyer: with_accounts(&s, row).await?,
        intents: latest.iter().map(intents::IntentRow::view).collect(),
        purchases: bought.iter().map(purchases::PurchaseRow::view).collect(),
        trips: Vec::new(),
    }))
}
