//! `GET /webhook` (Meta's subscription handshake) and `POST /webhook` (deliveries): public
//! routes that authenticate with the verify token and the app secret's signature.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Utc;
use whatsapp::{MAX_WEBHOOK_BYTES, Notification, SIGNATURE_HEADER};

use crate::Error;
use crate::ingest::{Delivery, Stored};
use crate::metrics;
use crate::state::AppState;
use crate::store::messages::{NewMessage, NewStatus};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhook", get(handshake).post(receive))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
}

/// Meta's subscription handshake: the challenge as text when the verify token matches.
#[utoipa::path(get, path = "/webhook", security(()),
    params(("hub.mode" = String, Query), ("hub.verify_token" = String, Query), ("hub.challenge" = String, Query)),
    responses((status = 200, description = "the challenge", body = String),
              (status = 403, body = platform::Problem)))]
pub(super) async fn handshake(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, Error> {
    let challenge = whatsapp::signature::verify_challenge(
        q.get("hub.mode").map(String::as_str),
        q.get("hub.verify_token").map(String::as_str),
        q.get("hub.challenge").map(String::as_str),
        &s.config.verify_token,
    )
    .ok_or(Error::VerifyTokenMismatch)?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        challenge.to_owned(),
    ))
}

/// Rows of one delivery.
struct Rows {
    messages: Vec<NewMessage>,
    statuses: Vec<NewStatus>,
}

/// Splits a delivery into message and status rows. Messages without any sender id cannot be
/// routed: they are logged and skipped.
fn rows(n: &Notification) -> Rows {
    let received_at = Utc::now();
    let mut out = Rows {
        messages: Vec::new(),
        statuses: Vec::new(),
    };
    for (value, m) in n.messages() {
        let Some(sender) = m.sender() else {
            tracing::warn!(wamid = %m.id, "message without a sender id skipped");
            continue;
        };
        let Ok(message) = serde_json::to_string(m) else {
            tracing::warn!(wamid = %m.id, "message not serialisable; skipped");
            continue;
        };
        out.messages.push(NewMessage {
            wamid: m.id.clone(),
            phone_number_id: value.phone_number_id().map(str::to_owned),
            contact_kind: if sender.is_phone() {
                "phone"
            } else {
                "user_id"
            },
            contact_id: sender.as_str().to_owned(),
            profile_name: value
                .contact(&sender)
                .and_then(|c| c.profile.as_ref())
                .and_then(|p| p.name.clone()),
            message_type: m.kind.type_name().to_owned(),
            message,
            sent_at: m.time(),
            received_at,
        });
    }
    for (_, st) in n.statuses() {
        let status = serde_json::to_value(&st.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.statuses.push(NewStatus {
            wamid: st.id.clone(),
            status,
            recipient: st.recipient().map(|c| c.as_str().to_owned()),
            status_at: st.time(),
            payload: serde_json::to_string(st).unwrap_or_default(),
            received_at,
            rank: i32::from(st.status.rank()),
            error: st.errors.first().map(|e| {
                let text = e.message.as_deref().or(e.title.as_deref()).unwrap_or("");
                format!("{}: {text}", e.code)
            }),
        });
    }
    out
}

/// A delivery: verified on the raw bytes, then every new message and status stored (each new
/// message to be routed off the request path), in one transaction shared with the deliveries
/// that arrived alongside (group commit). 200 only after that commit.
#[utoipa::path(post, path = "/webhook", security(()),
    params(("X-Hub-Signature-256" = String, Header, description = "sha256=<hex HMAC of the raw body>")),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "stored"),
              (status = 400, body = platform::Problem),
              (status = 401, body = platform::Problem),
              (status = 413, body = platform::Problem),
              (status = 503, description = "no app secret configured", body = platform::Problem)))]
pub(super) async fn receive(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, Error> {
    let Some(secret) = &s.config.app_secret else {
        metrics::webhook("disabled");
        return Err(Error::WebhookDisabled);
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if let Err(e) = secret.verify(signature, &body) {
        metrics::webhook("invalid_signature");
        tracing::warn!(reason = %e, bytes = body.len(), "webhook delivery refused");
        return Err(Error::InvalidSignature(e));
    }
    let Ok(notification) = Notification::parse(&body) else {
        metrics::webhook("malformed");
        tracing::warn!(
            bytes = body.len(),
            "signed webhook delivery is not a notification"
        );
        return Err(Error::Malformed);
    };
    let rows = rows(&notification);
    let received = rows.messages.len() as u64;
    let delivery = Delivery {
        messages: rows.messages,
        statuses: rows.statuses,
    };
    let Stored { new, statuses } = match s.ingest.submit(delivery).await {
        Ok(Ok(stored)) => stored,
        Ok(Err(never)) => match never {},
        Err(e) => {
            metrics::webhook("failed");
            return Err(e.into());
        }
    };
    let duplicates = received - new;
    metrics::webhook("accepted");
    metrics::messages(new, duplicates);
    metrics::statuses(statuses);
    tracing::info!(
        messages = received,
        new,
        duplicates,
        statuses,
        "webhook delivery stored"
    );
    Ok(StatusCode::OK)
}
