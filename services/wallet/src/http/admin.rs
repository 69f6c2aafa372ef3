//! Administration: the asset catalogue and the audit log.

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use platform::{Authorized, ValidJson, ValidPath, Validate, Validator};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Admin, op_ctx, tenant};
use crate::Error;
use crate::state::AppState;
use crate::store::accounts;
use crate::store::audit::{self, Entry};

pub(super) fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/wallet/tenants/{tenant_id}/assets/{code}", put(put_asset))
        .route("/wallet/audit/{subject_id}", get(audit_trail))
}

/// An asset of the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Asset {
    /// Digits after the decimal point of one unit (RWF 0, USD 2).
    pub(crate) scale: i32,
}

impl Validate for Asset {
    fn validate(&self, v: &mut Validator) {
        v.check((0..=8).contains(&self.scale), "/scale", "must be 0 to 8");
    }
}

/// Add an asset to the tenant's catalogue (or change the scale of one no account holds yet).
#[utoipa::path(put, path = "/wallet/tenants/{tenant_id}/assets/{code}", request_body = Asset,
    params(("tenant_id" = String, Path, description = "tenant"), ("code" = String, Path, description = "asset code, e.g. KES")),
    responses((status = 200, body = Asset), (status = 422, body = platform::Problem)))]
pub(super) async fn put_asset(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
    ValidPath((tenant_id, code)): ValidPath<(String, String)>,
    ValidJson(asset): ValidJson<Asset>,
) -> Result<Json<Asset>, Error> {
    let tenant = tenant(&auth.caller, Some(&tenant_id), &s)?;
    let valid_code = (2..=12).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !valid_code {
        return Err(Error::Invalid(vec![platform::FieldError::new(
            "code",
            "must be 2 to 12 capital letters or digits",
        )]));
    }
    let ctx = op_ctx(&auth.caller, tenant.clone());
    let mut tx = s.db.begin().await?;
    if !accounts::put_asset(&mut tx, &tenant, &code, asset.scale).await? {
        return Err(Error::Invalid(vec![platform::FieldError::new(
            "/scale",
            "accounts already hold this asset at another scale",
        )]));
    }
    audit::record(
        &mut tx,
        &tenant,
        "asset.put",
        &code,
        &ctx.actor,
        json!({"scale": asset.scale}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(asset))
}

/// The audit trail of a transfer, account or tenant, oldest first.
#[utoipa::path(get, path = "/wallet/audit/{subject_id}", params(("subject_id" = String, Path, description = "transfer, account or tenant id")),
    responses((status = 200, body = [Entry])))]
pub(super) async fn audit_trail(
    State(s): State<AppState>,
    auth: Authorized<Admin>,
    ValidPath(subject): ValidPath<String>,
) -> Result<Json<Vec<Entry>>, Error> {
    let mut conn = s.db.conn().await?;
    Ok(Json(
        audit::about(conn.exec(), &subject, auth.caller.tenant_id.as_deref()).await?,
    ))
}
