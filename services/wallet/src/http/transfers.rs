//! Transfers: create (posted or pending), read, post, void, reverse.

use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use contracts::wallet::{PostPending, Transfer, TransferAction, TransferRequest};
use platform::extract::Idempotent;
use platform::{Authorized, ValidPath};

use super::{AccountsRead, Admin, TransferWrite, submit};
use crate::Error;
use crate::state::AppState;
use crate::store::transfers;
use crate::writer::Action;

pub(super) fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/wallet/transfer", post(create_transfer))
        .route("/wallet/transfers/{id}", get(get_transfer))
        .route("/wallet/transfers/{id}/post", post(post_transfer))
        .route("/wallet/transfers/{id}/void", post(void_transfer))
        .route("/wallet/transfers/{id}/reversal", post(reverse_transfer))
}

/// Move an asset between accounts, atomically: source/destination/amount, or signed `legs`
/// summing to zero. With `pending: true` the amount is only reserved (post or void it later, or
/// it voids itself after `timeoutSeconds`). Requires an `Idempotency-Key`.
#[utoipa::path(post, path = "/wallet/transfer", request_body = TransferRequest,
    params(("Idempotency-Key" = String, Header, description = "16-255 characters")),
    responses((status = 201, body = Transfer),
        (status = 422, description = "insufficient_funds, asset_mismatch, idempotency_key_reused, ...", body = platform::Problem),
        (status = 409, description = "idempotency_in_flight", body = platform::Problem)))]
pub(super) async fn create_transfer(
    State(s): State<AppState>,
    auth: Authorized<TransferWrite>,
    req: Idempotent<TransferRequest>,
) -> Result<Response, Error> {
    let action = Action::Transfer(req.body.clone());
    submit(
        &s,
        &auth.caller,
        req.body.tenant_id.as_deref(),
        &req,
        "POST /wallet/transfer",
        action,
    )
    .await
}

/// A transfer with its legs.
#[utoipa::path(get, path = "/wallet/transfers/{id}", params(("id" = String, Path, description = "transfer id")),
    responses((status = 200, body = Transfer), (status = 404, body = platform::Problem)))]
pub(super) async fn get_transfer(
    State(s): State<AppState>,
    auth: Authorized<AccountsRead>,
    ValidPath(id): ValidPath<String>,
) -> Result<Json<Transfer>, Error> {
    let mut conn = s.db.conn().await?;
    transfers::find(conn.exec(), &id)
        .await?
        .filter(|t| auth.caller.may_see(&t.tenant_id))
        .map(Json)
        .ok_or(Error::TransferNotFound)
}

/// Post a pending transfer, all of it or (two-leg transfers) a smaller amount; the rest of the
/// reservation is released. Requires an `Idempotency-Key`.
#[utoipa::path(post, path = "/wallet/transfers/{id}/post", request_body = PostPending,
    params(("id" = String, Path, description = "transfer id"), ("Idempotency-Key" = String, Header, description = "16-255 characters")),
    responses((status = 200, body = Transfer), (status = 409, description = "transfer_not_pending", body = platform::Problem)))]
pub(super) async fn post_transfer(
    State(s): State<AppState>,
    auth: Authorized<TransferWrite>,
    ValidPath(id): ValidPath<String>,
    req: Idempotent<PostPending>,
) -> Result<Response, Error> {
    let action = Action::Post {
        id,
        amount: req.body.amount_minor,
    };
    submit(
        &s,
        &auth.caller,
        req.body.tenant_id.as_deref(),
        &req,
        "POST /wallet/transfers/{id}/post",
        action,
    )
    .await
}

/// Void a pending transfer: its reservation is released. Requires an `Idempotency-Key`.
#[utoipa::path(post, path = "/wallet/transfers/{id}/void", request_body = TransferAction,
    params(("id" = String, Path, description = "transfer id"), ("Idempotency-Key" = String, Header, description = "16-255 characters")),
    responses((status = 200, body = Transfer), (status = 409, description = "transfer_not_pending", body = platform::Problem)))]
pub(super) async fn void_transfer(
    State(s): State<AppState>,
    auth: Authorized<TransferWrite>,
    ValidPath(id): ValidPath<String>,
    req: Idempotent<TransferAction>,
) -> Result<Response, Error> {
    let action = Action::Void {
        id,
        reason: req.body.reason.clone(),
    };
    submit(
        &s,
        &auth.caller,
        req.body.tenant_id.as_deref(),
        &req,
        "POST /wallet/transfers/{id}/void",
        action,
    )
    .await
}

/// Reverse a posted transfer with a compensating transfer (once). Requires `wallet:admin` and an
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/wallet/transfers/{id}/reversal", request_body = TransferAction,
    params(("id" = String, Path, description = "transfer id"), ("Idempotency-Key" = String, Header, description = "16-255 characters")),
    responses((status = 201, body = Transfer), (status = 409, description = "already_reversed", body = platform::Problem)))]
pub(super) async fn reverse_transfer(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
    ValidPath(id): ValidPath<String>,
    req: Idempotent<TransferAction>,
) -> Result<Response, Error> {
    let action = Action::Reverse {
        id,
        reason: req.body.reason.clone(),
    };
    submit(
        &s,
        &auth.caller,
        req.body.tenant_id.as_deref(),
        &req,
        "POST /wallet/transfers/{id}/reversal",
        action,
    )
    .await
}
