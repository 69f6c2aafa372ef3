//! Catalogue images: upload (multipart) and download.

use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use contracts::vendor::{TenantQuery, VendorImage};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt as _, PutPayload};
use platform::{Authorized, ValidPath, ValidQuery};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{VendorRead, VendorWrite, tenant};
use crate::domain::image::{self, ImageLimits, Refused};
use crate::state::AppState;
use crate::store::{images, vendors};
use crate::{Error, metrics};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/vendors/{id}/images", post(upload_image))
        .route("/vendors/{id}/images/{image_id}", get(get_image))
}

fn upload_error(e: &MultipartError, max: usize) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::ImageTooLarge(max)
    } else {
        Error::BadUpload(format!(
            "the multipart body is malformed: {}",
            e.body_text()
        ))
    }
}

/// The first file part's bytes, refused as soon as they pass `max`.
async fn read_file(mut mp: Multipart, max: usize) -> Result<Vec<u8>, Error> {
    while let Some(mut field) = mp.next_field().await.map_err(|e| upload_error(&e, max))? {
        if field.file_name().is_none() && field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| upload_error(&e, max))? {
            if bytes.len() + chunk.len() > max {
                return Err(Error::ImageTooLarge(max));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    Err(Error::BadUpload(
        "no file part: send the image as multipart/form-data field `file`".to_owned(),
    ))
}

fn urls(vendor_id: &str, image_id: &str) -> (String, String) {
    let base = format!("/vendors/{vendor_id}/images/{image_id}");
    (base.clone(), format!("{base}?size=thumb"))
}

/// Upload a catalogue image (`multipart/form-data`, field `file`). The type is decided by the
/// bytes (JPEG, PNG or WebP; else 415), size is bounded (413), dimensions are checked before
/// decoding (422 `image_dimensions`), a truncated file is refused (422 `image_invalid`). Stored
/// as a display JPEG and a thumbnail, EXIF-oriented, without any metadata.
#[utoipa::path(post, path = "/vendors/{id}/images",
    params(("id" = String, Path, description = "vendor id"), TenantQuery),
    request_body(content_type = "multipart/form-data", description = "field `file`: the image"),
    responses((status = 201, body = VendorImage), (status = 404, body = platform::Problem),
        (status = 413, body = platform::Problem), (status = 415, body = platform::Problem),
        (status = 422, body = platform::Problem)))]
pub(super) async fn upload_image(
    State(s): State<AppState>,
    auth: Authorized<VendorWrite>,
    ValidPath(vendor_id): ValidPath<String>,
    ValidQuery(q): ValidQuery<TenantQuery>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<VendorImage>), Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::VendorNotFound,
    )?;
    {
        let mut conn = s.db.conn().await?;
        vendors::find(conn.exec(), &tenant, &vendor_id)
            .await?
            .ok_or(Error::VendorNotFound)?;
    }
    let mp = mp.map_err(|e| Error::BadUpload(e.body_text()))?;
    let bytes = read_file(mp, s.config.image_max_bytes).await?;
    // Cheap refusals before taking a decode slot.
    if image::sniff(&bytes).is_none() {
        return Err(Error::ImageUnsupported);
    }
    let limits = ImageLimits {
        max_dimension: s.config.image_max_dimension,
        max_alloc: s.config.image_max_alloc,
        display_px: s.config.image_display_px,
        thumb_px: s.config.image_thumb_px,
    };
    let permit = s
        .decodes
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let started = Instant::now();
    let processed = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        image::process(&bytes, &limits)
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?;
    let processed = match processed {
        Ok(p) => {
            metrics::image_decode(started.elapsed(), "stored");
            p
        }
        Err(r) => {
            metrics::image_decode(started.elapsed(), "refused");
            return Err(match r {
                Refused::Unsupported => Error::ImageUnsupported,
                Refused::Dimensions(d) => Error::ImageDimensions(d),
                Refused::Invalid => Error::ImageInvalid,
            });
        }
    };
    let id = ulid::Ulid::generate().to_string();
    let row = images::ImageRow {
        display_key: format!("{tenant}/{vendor_id}/{id}/display.jpg"),
        thumb_key: format!("{tenant}/{vendor_id}/{id}/thumb.jpg"),
        id: id.clone(),
        vendor_id: vendor_id.clone(),
        width: i32::try_from(processed.width).unwrap_or(i32::MAX),
        height: i32::try_from(processed.height).unwrap_or(i32::MAX),
        created_at: Utc::now(),
    };
    // Bytes first, row second: a crash between leaves an unreferenced object, never a row
    // pointing at nothing.
    for (key, data) in [
        (&row.display_key, processed.display),
        (&row.thumb_key, processed.thumb),
    ] {
        s.images
            .put(&ObjectPath::from(key.as_str()), PutPayload::from(data))
            .await
            .map_err(Error::ImageStore)?;
    }
    let mut tx = s.db.begin().await?;
    images::insert(tx.exec(), &tenant, &row).await?;
    tx.commit().await?;
    let (url, thumbnail_url) = urls(&vendor_id, &id);
    Ok((
        StatusCode::CREATED,
        Json(VendorImage {
            id,
            vendor_id,
            url,
            thumbnail_url,
            width: processed.width,
            height: processed.height,
            content_type: "image/jpeg".to_owned(),
            created_at: row.created_at,
        }),
    ))
}

/// Query of `GET /vendors/{id}/images/{imageId}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct ImageQuery {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    tenant_id: Option<String>,
    /// `display` (default) or `thumb`.
    size: Option<String>,
}

impl platform::Validate for ImageQuery {
    fn validate(&self, v: &mut platform::Validator) {
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        v.check(
            self.size
                .as_deref()
                .is_none_or(|s| s == "display" || s == "thumb"),
            "/size",
            "must be display or thumb",
        );
    }
}

/// A stored copy of an image (`image/jpeg`).
#[utoipa::path(get, path = "/vendors/{id}/images/{image_id}",
    params(("id" = String, Path, description = "vendor id"),
        ("image_id" = String, Path, description = "image id"), ImageQuery),
    responses((status = 200, content_type = "image/jpeg", description = "the JPEG"),
        (status = 404, body = platform::Problem)))]
pub(super) async fn get_image(
    State(s): State<AppState>,
    auth: Authorized<VendorRead>,
    ValidPath((vendor_id, image_id)): ValidPath<(String, String)>,
    ValidQuery(q): ValidQuery<ImageQuery>,
) -> Result<Response, Error> {
    let tenant = tenant(
        &auth.caller,
        q.tenant_id.as_deref(),
        &s,
        Error::ImageNotFound,
    )?;
    let row = {
        let mut conn = s.db.conn().await?;
        images::find(conn.exec(), &tenant, &vendor_id, &image_id)
            .await?
            .ok_or(Error::ImageNotFound)?
    };
    let key = if q.size.as_deref() == Some("thumb") {
        row.thumb_key
    } else {
        row.display_key
    };
    let got = s
        .images
        .get(&ObjectPath::from(key))
        .await
        .map_err(|e| match e {
            object_store::Error::NotFound { .. } => Error::ImageNotFound,
            other => Error::ImageStore(other),
        })?;
    let bytes = got.bytes().await.map_err(Error::ImageStore)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=86400, immutable"),
        ],
        Body::from(bytes),
    )
        .into_response())
}
