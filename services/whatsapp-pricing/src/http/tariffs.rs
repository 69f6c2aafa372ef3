//! `/v1/tariffs`: the stored tariff versions (append-only) and publishing a new one.

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use contracts::pricing::{TariffList, TariffVersion};
use platform::auth::AuthError;
use platform::{Authorized, Caller, Scope, ValidJson, ValidPath, Validate, Validator};
use pricing::{Insurer, Tariff, TariffDocument};
use serde::Deserialize;

use super::{PricingAdmin, PricingQuote};
use crate::state::AppState;
use crate::store::tariffs::{self as sql, Action, VersionRow};
use crate::{Error, metrics};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/tariffs", get(list_tariffs).post(publish_tariff))
        .route("/v1/tariffs/{version}", get(get_tariff))
}

/// A caller holding `pricing:quote` or `pricing:admin`: both may read tariffs.
pub(super) struct TariffReader;

impl<St: Send + Sync> FromRequestParts<St> for TariffReader {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .ok_or(AuthError::MissingToken)?;
        if caller.has_scope(PricingQuote::NAME) || caller.has_scope(PricingAdmin::NAME) {
            Ok(Self)
        } else {
            Err(AuthError::InvalidScope)
        }
    }
}

fn version(row: VersionRow, in_force: bool) -> TariffVersion {
    TariffVersion {
        version: row.version,
        insurer: row.insurer,
        effective_from: row.effective_from,
        in_force,
        created_by: row.created_by,
        created_at: row.created_at,
    }
}

/// The version in force today for each insurer, every version, and the audit log.
#[utoipa::path(get, path = "/v1/tariffs", responses((status = 200, body = TariffList)))]
pub(super) async fn list_tariffs(
    State(s): State<AppState>,
    _: TariffReader,
) -> Result<Json<TariffList>, Error> {
    let book = s.book.fresh(&s.db).await?;
    let today = s.today();
    let in_force = book.in_force(today);
    let current_versions: Vec<&str> = Insurer::ALL
        .iter()
        .filter_map(|i| in_force.get(*i).map(Tariff::version))
        .collect();
    let mut conn = s.db.conn().await?;
    let rows = sql::versions(conn.exec()).await?;
    let changes = sql::changes(conn.exec()).await?;
    let versions: Vec<TariffVersion> = rows
        .into_iter()
        .map(|r| {
            let now = current_versions.contains(&r.version.as_str());
            version(r, now)
        })
        .collect();
    let mut current: Vec<TariffVersion> = versions.iter().filter(|v| v.in_force).cloned().collect();
    current.sort_by_key(|v| {
        v.insurer
            .parse::<Insurer>()
            .map(Insurer::index)
            .unwrap_or(usize::MAX)
    });
    Ok(Json(TariffList {
        today,
        current,
        versions,
        changes,
    }))
}

/// One version's tariff document, as stored (the starting point for the next version).
#[utoipa::path(get, path = "/v1/tariffs/{version}",
    params(("version" = String, Path, description = "version id")),
    responses((status = 200, description = "the tariff document"), (status = 404, body = platform::Problem)))]
pub(super) async fn get_tariff(
    State(s): State<AppState>,
    _: TariffReader,
    ValidPath(id): ValidPath<String>,
) -> Result<Json<serde_json::Value>, Error> {
    let mut conn = s.db.conn().await?;
    let doc = sql::document(conn.exec(), &id)
        .await?
        .ok_or(Error::TariffNotFound)?;
    Ok(Json(doc))
}

/// The body of `POST /v1/tariffs`: a tariff document, checked by the engine (not by the kit, so
/// every problem with it is one `invalid_tariff` answer).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(super) struct TariffBody(serde_json::Value);

impl Validate for TariffBody {
    fn validate(&self, _: &mut Validator) {}
}

/// Publish a new tariff version (append-only).
///
/// The document is validated whole by the tariff engine. Its `effective_from` must be today
/// (Africa/Kigali) or later, and differ from every other version of the insurer; its `version` must
/// be new. Published versions are never changed: to correct one, publish another.
#[utoipa::path(post, path = "/v1/tariffs", request_body(content = Object, description = "a tariff document"),
    responses(
        (status = 201, body = TariffVersion),
        (status = 409, description = "version or start date taken", body = platform::Problem),
        (status = 422, description = "invalid document, or effective_from in the past", body = platform::Problem),
    ))]
pub(super) async fn publish_tariff(
    State(s): State<AppState>,
    auth: Authorized<PricingAdmin>,
    ValidJson(TariffBody(body)): ValidJson<TariffBody>,
) -> Result<(StatusCode, Json<TariffVersion>), Error> {
    let tariff = serde_json::from_value::<TariffDocument>(body)
        .map_err(pricing::TariffError::from)
        .and_then(Tariff::from_document)
        .map_err(|e| Error::InvalidTariff(e.to_string()))?;
    let today = s.today();
    if tariff.effective_from() < today {
        return Err(Error::TariffInThePast(tariff.effective_from()));
    }
    let book = s.book.fresh(&s.db).await?;
    if book.version(tariff.version()).is_some() {
        return Err(Error::TariffConflict(format!(
            "tariff version {} already exists; versions are never changed, publish a new one",
            tariff.version()
        )));
    }
    if book
        .iter()
        .any(|t| t.insurer() == tariff.insurer() && t.effective_from() == tariff.effective_from())
    {
        return Err(Error::TariffConflict(format!(
            "{} already has a version taking effect on {}",
            tariff.insurer(),
            tariff.effective_from()
        )));
    }
    let actor = auth.caller.issuer;
    let mut tx = s.db.begin().await?;
    sql::insert(&mut tx, &tariff, &actor, Action::Published).await?;
    tx.commit().await?;
    // This replica prices with the new version from the next quote; others within their
    // refresh interval (`WHATSAPP_PRICING_TARIFF_REFRESH_MS`).
    s.book.fresh(&s.db).await?;
    metrics::tariff_added(Action::Published.as_str());
    tracing::info!(version = tariff.version(), %actor, "tariff version published");
    let mut conn = s.db.conn().await?;
    let row = sql::versions(conn.exec())
        .await?
        .into_iter()
        .find(|r| r.version == tariff.version())
        .ok_or(Error::TariffNotFound)?;
    let in_force = tariff.effective_from() == today;
    Ok((StatusCode::CREATED, Json(version(row, in_force))))
}
