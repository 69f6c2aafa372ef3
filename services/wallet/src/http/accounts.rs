//! Accounts: open, read with postings, provision the platform account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::wallet::{
    Account, AccountStatement, OpenAccount, ProvisionPlatform, StatementQuery,
};
use platform::extract::Idempotent;
use platform::{Authorized, ValidJson, ValidPath, ValidQuery};
use serde_json::json;

use super::{AccountsRead, AccountsWrite, Admin, op_ctx, submit, tenant};
use crate::Error;
use crate::state::AppState;
use crate::store::{accounts, audit};
use crate::writer::Action;

pub(super) fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/wallet/accounts", post(open_account))
        .route("/wallet/accounts/{id}", get(get_account))
        .route("/wallet/platform/provision", post(provision_platform))
}

/// Open an account for an owner (one per tenant, owner and asset: a second call returns it).
#[utoipa::path(post, path = "/wallet/accounts", request_body = OpenAccount,
    responses((status = 201, body = Account), (status = 200, description = "already open", body = Account),
        (status = 422, body = platform::Problem)))]
pub(super) async fn open_account(
    State(s): State<AppState>,
    auth: Authorized<AccountsWrite>,
    ValidJson(req): ValidJson<OpenAccount>,
) -> Result<(StatusCode, Json<Account>), Error> {
    let tenant = tenant(&auth.caller, req.tenant_id.as_deref(), &s)?;
    let ctx = op_ctx(&auth.caller, tenant.clone());
    let mut tx = s.db.begin().await?;
    let (created, row) =
        accounts::open(&mut tx, &tenant, &req.owner_type, &req.owner_id, &req.asset).await?;
    if created {
        audit::record(
            &mut tx,
            &tenant,
            "account.open",
            &row.id,
            &ctx.actor,
            json!({"asset": req.asset}),
        )
        .await?;
    }
    tx.commit().await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(row.into())))
}

/// An account with its balances and a page of its postings, newest first.
#[utoipa::path(get, path = "/wallet/accounts/{id}",
    params(("id" = String, Path, description = "account id"), StatementQuery),
    responses((status = 200, body = AccountStatement), (status = 404, body = platform::Problem)))]
pub(super) async fn get_account(
    State(s): State<AppState>,
    auth: Authorized<AccountsRead>,
    ValidPath(id): ValidPath<String>,
    ValidQuery(q): ValidQuery<StatementQuery>,
) -> Result<Json<AccountStatement>, Error> {
    let mut conn = s.db.conn().await?;
    let row = accounts::find(conn.exec(), &id)
        .await?
        .filter(|r| auth.caller.may_see(&r.tenant_id))
        .ok_or_else(|| Error::AccountNotFound(id.clone()))?;
    let limit = i64::from(q.limit.unwrap_or(20));
    let mut postings = accounts::postings(conn.exec(), &id, q.cursor.as_deref(), limit + 1).await?;
    let more = i64::try_from(postings.len()).unwrap_or(i64::MAX) > limit;
    postings.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = more
        .then(|| postings.last().map(|p| p.id.clone()))
        .flatten();
    Ok(Json(AccountStatement {
        account: row.into(),
        postings,
        next_cursor,
    }))
}

/// Provision the tenant's issuance (platform) account in an asset: exactly one per tenant and
/// asset; it alone may go below zero. Requires an `Idempotency-Key`.
#[utoipa::path(post, path = "/wallet/platform/provision", request_body = ProvisionPlatform,
    params(("Idempotency-Key" = String, Header, description = "16-255 characters")),
    responses((status = 201, body = Account), (status = 200, description = "already provisioned", body = Account)))]
pub(super) async fn provision_platform(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
    req: Idempotent<ProvisionPlatform>,
) -> Result<Response, Error> {
    let asset = req.body.asset.clone().unwrap_or_else(|| "TOKEN".to_owned());
    let action = Action::Provision { asset };
    submit(
        &s,
        &auth.caller,
        req.body.tenant_id.as_deref(),
        &req,
        "POST /wallet/platform/provision",
        action,
    )
    .await
}
