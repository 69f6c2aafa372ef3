//! `GET /v1/media/{id}` (scope `whatsapp:media.read`): an inbound message's media, fetched from
//! Meta with this worker's token, so no other service holds it.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use platform::Authorized;

use super::MediaRead;
use crate::Error;
use crate::state::AppState;

const OCTET_STREAM: &str = "application/octet-stream";

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/media/{id}", get(download))
}

/// Whether Meta's answer means "no such media": 404, or 400 with code 100 (Meta's answer for an
/// id it does not know); an id that is not a Graph API id is never sent.
fn not_found(e: &whatsapp::Error) -> bool {
    match e {
        whatsapp::Error::Invalid(_) => true,
        whatsapp::Error::Graph(g) => g.status == 404 || (g.status == 400 && g.code == Some(100)),
        _ => false,
    }
}

/// Download an inbound message's media (the `id` of its image, audio, video, document or
/// sticker): the file's bytes with Meta's content type.
///
/// `404` when Meta knows no such media, `502` when it cannot be fetched, `503` when no access
/// token is configured. Stored media ids are not tied to a tenant, so a tenant-bound token is
/// refused (`403 tenant_forbidden`).
#[utoipa::path(get, path = "/v1/media/{id}", params(("id" = String, Path, description = "Meta's media id")),
    responses(
        (status = 200, description = "The file, with Meta's content type", content_type = "application/octet-stream"),
        (status = 403, description = "tenant_forbidden", body = platform::Problem),
        (status = 404, description = "media_not_found", body = platform::Problem),
        (status = 502, description = "media_unavailable", body = platform::Problem),
        (status = 503, description = "sending_disabled", body = platform::Problem),
    ))]
pub(super) async fn download(
    State(s): State<AppState>,
    auth: Authorized<MediaRead>,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    if auth.caller.tenant_id.is_some() {
        return Err(Error::TenantForbidden);
    }
    let client = s.client.as_ref().ok_or(Error::SendingDisabled)?;
    let file = client.download_media(&id).await.map_err(|e| {
        if not_found(&e) {
            Error::MediaNotFound
        } else {
            Error::MediaUnavailable(e)
        }
    })?;
    let content_type = file
        .info
        .mime_type
        .as_deref()
        .and_then(|m| HeaderValue::from_str(m).ok())
        .unwrap_or(HeaderValue::from_static(OCTET_STREAM));
    tracing::debug!(media_id = %id, bytes = file.bytes.len(), "media fetched");
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        file.bytes,
    )
        .into_response())
}
