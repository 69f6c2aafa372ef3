//! `/api/v1/profiles`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use contracts::profile::{
    CreateProfile, PROFILE_CREATED, PROFILE_UPDATED, Profile, ProfileChanged, ProfilePage,
    SearchProfiles, UpdateProfile,
};
use platform::extract::Idempotent;
use platform::{Authorized, Caller, ValidJson, ValidPath, ValidQuery};
use store::{Tx, idempotency, outbox};

use super::{ProfileRead, ProfileWrite};
use crate::domain::{self, NewProfile, ProfilePatch, phone};
use crate::state::AppState;
use crate::{Error, metrics, store as sql};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/profiles", axum::routing::post(create_profile))
        .route("/api/v1/profiles/search", get(search_profiles))
        .route(
            "/api/v1/profiles/{id}",
            get(get_profile)
                .put(update_profile)
                .patch(update_profile)
                .delete(delete_profile),
        )
}

/// Queues the change event in the same transaction as the change.
async fn emit(
    tx: &mut Tx,
    kind: &str,
    profile: &Profile,
    changed: Vec<String>,
    deleted: bool,
) -> Result<(), Error> {
    let payload = ProfileChanged {
        profile: profile.clone(),
        changed,
        deleted,
    };
    let event = contracts::Envelope::new(kind, "profile", &profile.tenant_id, payload)
        .map_err(store::Error::from)?
        .correlated(platform::request_id::current().map(|r| r.to_string()));
    outbox::enqueue(tx, &event).await?;
    Ok(())
}

/// Create a profile.
///
/// Idempotent with an `Idempotency-Key` header: a retry returns the first response.
#[utoipa::path(post, path = "/api/v1/profiles", request_body = CreateProfile,
    params(("Idempotency-Key" = Option<String>, Header, description = "16-255 characters")),
    responses(
        (status = 201, body = Profile),
        (status = 409, description = "identity taken (profile.identity_taken)", body = platform::Problem),
        (status = 422, description = "invalid fields", body = platform::Problem),
    ))]
pub(super) async fn create_profile(
    State(s): State<AppState>,
    auth: Authorized<ProfileWrite>,
    req: Idempotent<CreateProfile>,
) -> Result<Response, Error> {
    let caller = auth.caller;
    let tenant = caller
        .tenant(req.body.tenant_id.as_deref(), &s.default_tenant)
        .ok_or(Error::TenantForbidden)?;
    let scope = format!("{tenant}:{}:create_profile", caller.issuer);
    let idem = req.key.as_deref().map(|key| idempotency::Request {
        scope,
        key,
        hash: &req.request_hash,
    });
    let new = NewProfile::parse(req.body.clone(), tenant, &s.config.default_country_code)?;
    let res = idempotency::run(&s.db, idem, async |tx: &mut Tx| {
        let profile = sql::profiles::insert(tx.exec(), &new).await?;
        emit(tx, PROFILE_CREATED, &profile, Vec::new(), false).await?;
        Ok::<_, Error>((StatusCode::CREATED, profile))
    })
    .await?;
    if res.status() == StatusCode::CREATED {
        metrics::profile_changed("created");
    }
    Ok(res)
}

/// Get a profile.
#[utoipa::path(get, path = "/api/v1/profiles/{id}",
    params(("id" = String, Path, description = "profile id")),
    responses((status = 200, body = Profile), (status = 404, body = platform::Problem)))]
pub(super) async fn get_profile(
    State(s): State<AppState>,
    auth: Authorized<ProfileRead>,
    ValidPath(id): ValidPath<String>,
) -> Result<Json<Profile>, Error> {
    if let Some(p) = s.cache.get_json::<Profile>(&id).await {
        return if auth.caller.may_see(&p.tenant_id) {
            Ok(Json(p))
        } else {
            Err(Error::ProfileNotFound)
        };
    }
    let mut conn = s.db.conn().await?;
    // Read unfiltered so the cache holds the profile for every caller; visibility is checked
    // after, the same way as for a cache hit.
    let profile = sql::profiles::find(conn.exec(), &id, None)
        .await?
        .ok_or(Error::ProfileNotFound)?;
    drop(conn);
    s.cache.put_json(&id, &profile).await;
    if auth.caller.may_see(&profile.tenant_id) {
        Ok(Json(profile))
    } else {
        Err(Error::ProfileNotFound)
    }
}

/// Change a profile: only the fields given change.
#[utoipa::path(put, path = "/api/v1/profiles/{id}", request_body = UpdateProfile,
    params(("id" = String, Path, description = "profile id")),
    responses((status = 200, body = Profile), (status = 404, body = platform::Problem),
        (status = 409, body = platform::Problem), (status = 422, body = platform::Problem)))]
pub(super) async fn update_profile(
    State(s): State<AppState>,
    auth: Authorized<ProfileWrite>,
    ValidPath(id): ValidPath<String>,
    ValidJson(req): ValidJson<UpdateProfile>,
) -> Result<Json<Profile>, Error> {
    let patch = ProfilePatch::parse(req, &s.config.default_country_code)?;
    let mut tx = s.db.begin().await?;
    let profile = sql::profiles::update(tx.exec(), &id, auth.caller.tenant_id.as_deref(), &patch)
        .await?
        .ok_or(Error::ProfileNotFound)?;
    emit(&mut tx, PROFILE_UPDATED, &profile, patch.changed(), false).await?;
    tx.commit().await?;
    s.cache.invalidate(&id).await;
    metrics::profile_changed("updated");
    Ok(Json(profile))
}

/// Delete a profile (soft: it disappears from every read; the row is kept for audit and its
/// WhatsApp identity is freed).
#[utoipa::path(delete, path = "/api/v1/profiles/{id}",
    params(("id" = String, Path, description = "profile id")),
    responses((status = 204), (status = 404, body = platform::Problem)))]
pub(super) async fn delete_profile(
    State(s): State<AppState>,
    auth: Authorized<ProfileWrite>,
    ValidPath(id): ValidPath<String>,
) -> Result<StatusCode, Error> {
    let mut tx = s.db.begin().await?;
    let profile = sql::profiles::soft_delete(tx.exec(), &id, auth.caller.tenant_id.as_deref())
        .await?
        .ok_or(Error::ProfileNotFound)?;
    emit(&mut tx, PROFILE_UPDATED, &profile, Vec::new(), true).await?;
    tx.commit().await?;
    s.cache.invalidate(&id).await;
    metrics::profile_changed("deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn search_filter(
    q: SearchProfiles,
    caller: &Caller,
    s: &AppState,
) -> Result<sql::profiles::Filter, Error> {
    let tenant_id = caller
        .tenant(q.tenant_id.as_deref(), &s.default_tenant)
        .ok_or(Error::TenantForbidden)?;
    let phone = match q.phone {
        Some(p) => Some(
            phone::normalise(&p, &s.config.default_country_code).map_err(|e| {
                Error::Invalid(vec![platform::FieldError::new("phone", e.to_string())])
            })?,
        ),
        None => None,
    };
    Ok(sql::profiles::Filter {
        tenant_id,
        phone,
        wa_user_id: q.wa_user_id,
        name_like: q.name.as_deref().map(domain::like_contains),
        email_like: q.email.as_deref().map(domain::like_contains),
        before: q.cursor,
        limit: i64::from(q.limit.unwrap_or(20)),
    })
}

/// Search profiles by phone, user id, name or e-mail (all optional, combined with AND), newest
/// first, a page at a time.
#[utoipa::path(get, path = "/api/v1/profiles/search", params(SearchProfiles),
    responses((status = 200, body = ProfilePage), (status = 422, body = platform::Problem)))]
pub(super) async fn search_profiles(
    State(s): State<AppState>,
    auth: Authorized<ProfileRead>,
    ValidQuery(q): ValidQuery<SearchProfiles>,
) -> Result<Json<ProfilePage>, Error> {
    let mut filter = search_filter(q, &auth.caller, &s)?;
    let limit = filter.limit;
    // One extra row tells whether another page exists without a COUNT.
    filter.limit += 1;
    let mut conn = s.db.conn().await?;
    let mut profiles = sql::profiles::search(conn.exec(), &filter).await?;
    let more = i64::try_from(profiles.len()).unwrap_or(i64::MAX) > limit;
    profiles.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = more
        .then(|| profiles.last().map(|p| p.id.clone()))
        .flatten();
    Ok(Json(ProfilePage {
        profiles,
        next_cursor,
    }))
}
