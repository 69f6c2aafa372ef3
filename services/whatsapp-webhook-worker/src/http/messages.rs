//! `POST /v1/messages` (queue a message from the tenant's business number, idempotent by
//! `Idempotency-Key`) and `GET /v1/messages/{id}` (scope `whatsapp:send`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use contracts::whatsapp::{OutboundMessageView, Recipient, SendMessage};
use platform::Authorized;
use platform::extract::Idempotent;
use store::{Tx, idempotency};

use super::Send;
use crate::send;
use crate::state::AppState;
use crate::store::{contacts, outbound as rows};
use crate::{Error, outbound};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/messages", post(send))
        .route("/v1/messages/{id}", get(show))
}

/// The wire view of a stored row.
fn view(r: rows::Row) -> OutboundMessageView {
    let to = if r.contact_kind == "phone" {
        Recipient {
            phone: Some(r.contact_id),
            user_id: None,
        }
    } else {
        Recipient {
            phone: None,
            user_id: Some(r.contact_id),
        }
    };
    OutboundMessageView {
        message: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
        id: r.id,
        tenant_id: r.tenant_id,
        phone_number_id: r.phone_number_id,
        to,
        kind: r.kind,
        state: r.state,
        wamid: r.wamid,
        error: r.error,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// Send a message: text, reply buttons, a list, a template or media, optionally as a reply.
///
/// Refused for an opted-out contact, and (except templates) more than 24 h after the contact's
/// last message. The message is stored `queued` with a send job and answered `202`; the worker
/// sends it and records Meta's `wamid` and state `sent`, or state `failed` with Meta's error
/// (see `GET /v1/messages/{id}`). Idempotent with an `Idempotency-Key` header: a retry returns
/// the first answer and queues nothing.
#[utoipa::path(post, path = "/v1/messages", request_body = SendMessage,
    params(("Idempotency-Key" = Option<String>, Header, description = "16-255 characters")),
    responses(
        (status = 202, body = OutboundMessageView),
        (status = 422, description = "invalid_message, contact_opted_out, outside_service_window, no_business_number", body = platform::Problem),
        (status = 503, description = "sending_disabled", body = platform::Problem),
    ))]
pub(super) async fn send(
    State(s): State<AppState>,
    auth: Authorized<Send>,
    req: Idempotent<SendMessage>,
) -> Result<Response, Error> {
    if s.client.is_none() {
        return Err(Error::SendingDisabled);
    }
    let caller = auth.caller;
    let tenant = caller
        .tenant(req.body.tenant_id.as_deref(), &s.default_tenant)
        .ok_or(Error::TenantForbidden)?;
    let number = s
        .config
        .sender(&tenant)
        .ok_or(Error::NoBusinessNumber)?
        .to_owned();
    let to = outbound::contact(&req.body.to).ok_or(Error::InvalidMessage {
        pointer: "/to",
        detail: "exactly one of phone or userId is required".into(),
    })?;
    // Built now only to check Meta's limits: the worker builds it again from the stored row.
    outbound::build(&req.body.message, req.body.reply_to.as_deref(), to.clone())?;
    let payload = serde_json::to_string(&req.body.message).map_err(store::Error::from)?;
    let scope = format!("{tenant}:{}:send_message", caller.issuer);
    let idem = req.key.as_deref().map(|key| idempotency::Request {
        scope,
        key,
        hash: &req.request_hash,
    });
    let content = &req.body.message;
    idempotency::run(&s.db, idem, async |tx: &mut Tx| {
        let now = Utc::now();
        if contacts::get(tx, &tenant, to.as_str())
            .await?
            .opted_out_at
            .is_some()
        {
            return Err(Error::ContactOptedOut);
        }
        let last = rows::last_inbound(tx, &number, to.as_str()).await?;
        if !outbound::allowed(content, last, now) {
            return Err(Error::OutsideServiceWindow);
        }
        let row = rows::Row {
            id: ulid::Ulid::generate().to_string(),
            tenant_id: tenant.clone(),
            phone_number_id: number.clone(),
            contact_kind: if to.is_phone() { "phone" } else { "user_id" }.to_owned(),
            contact_id: to.as_str().to_owned(),
            kind: content.kind().to_owned(),
            payload: payload.clone(),
            reply_to: req.body.reply_to.clone(),
            state: "queued".to_owned(),
            state_rank: 0,
            wamid: None,
            error: None,
            created_at: now,
            updated_at: now,
        };
        send::queue(tx, &s, &row).await?;
        tracing::info!(id = %row.id, to = %to.masked(), kind = %row.kind, "outbound message queued");
        Ok::<_, Error>((StatusCode::ACCEPTED, view(row)))
    })
    .await
}

/// An outbound message and how far it got (`sent`, `delivered`, `read`, ...).
#[utoipa::path(get, path = "/v1/messages/{id}", params(("id" = String, Path)),
    responses((status = 200, body = OutboundMessageView), (status = 404, body = platform::Problem)))]
pub(super) async fn show(
    State(s): State<AppState>,
    auth: Authorized<Send>,
    Path(id): Path<String>,
) -> Result<Json<OutboundMessageView>, Error> {
    let mut conn = s.db.conn().await?;
    let row = rows::get(conn.exec(), &id).await?;
    drop(conn);
    match row {
        Some(r) if auth.caller.may_see(&r.tenant_id) => Ok(Json(view(r))),
        _ => Err(Error::MessageNotFound),
    }
}
