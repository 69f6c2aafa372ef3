//! The `profiles` table. `visible_to` is the caller's bound tenant (`None` = any tenant), so a
//! tenant-bound token never reads or changes another tenant's rows.

use chrono::{DateTime, Utc};
use contracts::profile::Profile;
use sqlx::types::Json;
use store::{Exec, ResultExt, on};

use crate::Error;
use crate::domain::{NewProfile, ProfilePatch};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    tenant_id: String,
    whatsapp_e164: Option<String>,
    wa_user_id: Option<String>,
    display_name: Option<String>,
    email: Option<String>,
    locale: String,
    roles: Json<Vec<String>>,
    metadata: Json<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Profile {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            tenant_id: r.tenant_id,
            whatsapp_e164: r.whatsapp_e164,
            wa_user_id: r.wa_user_id,
            display_name: r.display_name,
            email: r.email,
            locale: r.locale,
            roles: r.roles.0,
            metadata: r.metadata.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Inserts a profile; a live profile with the same identity is [`Error::IdentityTaken`].
#[tracing::instrument(skip_all)]
pub(crate) async fn insert(exec: Exec<'_>, p: &NewProfile) -> Result<Profile, Error> {
    let now = Utc::now();
    let id = ulid::Ulid::generate().to_string();
    let row: Row = on!(exec, |c| sqlx::query_as(
        "INSERT INTO profiles (id, tenant_id, whatsapp_e164, wa_user_id, display_name, email,
                               locale, roles, metadata, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         RETURNING id, tenant_id, whatsapp_e164, wa_user_id, display_name, email, locale,
                   roles, metadata, created_at, updated_at"
    )
    .bind(&id)
    .bind(&p.tenant_id)
    .bind(&p.whatsapp_e164)
    .bind(&p.wa_user_id)
    .bind(&p.display_name)
    .bind(&p.email)
    .bind(&p.locale)
    .bind(Json(&p.roles))
    .bind(Json(&p.metadata))
    .bind(now)
    .fetch_one(c)
    .await
    .on_unique(|| Error::IdentityTaken))?;
    Ok(row.into())
}

/// A live profile by id.
#[tracing::instrument(skip_all)]
pub(crate) async fn find(
    exec: Exec<'_>,
    id: &str,
    visible_to: Option<&str>,
) -> Result<Option<Profile>, Error> {
    let row: Option<Row> = on!(exec, |c| sqlx::query_as(
        "SELECT id, tenant_id, whatsapp_e164, wa_user_id, display_name, email, locale,
                roles, metadata, created_at, updated_at
         FROM profiles
         WHERE id = $1 AND deleted_at IS NULL AND ($2 IS NULL OR tenant_id = $2)"
    )
    .bind(id)
    .bind(visible_to)
    .fetch_optional(c)
    .await?);
    Ok(row.map(Into::into))
}

/// Applies `patch`; `None` when no live visible profile has this id.
#[tracing::instrument(skip_all)]
pub(crate) async fn update(
    exec: Exec<'_>,
    id: &str,
    visible_to: Option<&str>,
    patch: &ProfilePatch,
) -> Result<Option<Profile>, Error> {
    let now = Utc::now();
    let row: Option<Row> = on!(exec, |c| sqlx::query_as(
        "UPDATE profiles SET
             whatsapp_e164 = COALESCE($1, whatsapp_e164),
             wa_user_id    = COALESCE($2, wa_user_id),
             display_name  = COALESCE($3, display_name),
             email         = COALESCE($4, email),
             locale        = COALESCE($5, locale),
             roles         = COALESCE($6, roles),
             metadata      = COALESCE($7, metadata),
             updated_at    = $8
         WHERE id = $9 AND deleted_at IS NULL AND ($10 IS NULL OR tenant_id = $10)
         RETURNING id, tenant_id, whatsapp_e164, wa_user_id, display_name, email, locale,
                   roles, metadata, created_at, updated_at"
    )
    .bind(&patch.whatsapp_e164)
    .bind(&patch.wa_user_id)
    .bind(&patch.display_name)
    .bind(&patch.email)
    .bind(&patch.locale)
    .bind(patch.roles.as_ref().map(Json))
    .bind(patch.metadata.as_ref().map(Json))
    .bind(now)
    .bind(id)
    .bind(visible_to)
    .fetch_optional(c)
    .await
    .on_unique(|| Error::IdentityTaken))?;
    Ok(row.map(Into::into))
}

/// Marks a profile deleted; `None` when no live visible profile has this id.
#[tracing::instrument(skip_all)]
pub(crate) async fn soft_delete(
    exec: Exec<'_>,
    id: &str,
    visible_to: Option<&str>,
) -> Result<Option<Profile>, Error> {
    let now = Utc::now();
    let row: Option<Row> = on!(exec, |c| sqlx::query_as(
        "UPDATE profiles SET deleted_at = $1, updated_at = $1
         WHERE id = $2 AND deleted_at IS NULL AND ($3 IS NULL OR tenant_id = $3)
         RETURNING id, tenant_id, whatsapp_e164, wa_user_id, display_name, email, locale,
                   roles, metadata, created_at, updated_at"
    )
    .bind(now)
    .bind(id)
    .bind(visible_to)
    .fetch_optional(c)
    .await?);
    Ok(row.map(Into::into))
}

/// Search filters, already normalised.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub(crate) tenant_id: String,
    pub(crate) phone: Option<String>,
    pub(crate) wa_user_id: Option<String>,
    /// A `LIKE` pattern over the lower-cased display name.
    pub(crate) name_like: Option<String>,
    /// A `LIKE` pattern over the (lower-case) e-mail.
    pub(crate) email_like: Option<String>,
    /// Only ids below this one (the previous page's last).
    pub(crate) before: Option<String>,
    pub(crate) limit: i64,
}

/// Live profiles matching every filter, newest first.
#[tracing::instrument(skip_all)]
pub(crate) async fn search(exec: Exec<'_>, f: &Filter) -> Result<Vec<Profile>, Error> {
    let rows: Vec<Row> = on!(exec, |c| sqlx::query_as(
        "SELECT id, tenant_id, whatsapp_e164, wa_user_id, display_name, email, locale,
                roles, metadata, created_at, updated_at
         FROM profiles
         WHERE tenant_id = $1 AND deleted_at IS NULL
           AND ($2 IS NULL OR whatsapp_e164 = $2)
           AND ($3 IS NULL OR wa_user_id = $3)
           AND ($4 IS NULL OR lower(display_name) LIKE $4 ESCAPE '\\')
           AND ($5 IS NULL OR email LIKE $5 ESCAPE '\\')
           AND ($6 IS NULL OR id < $6)
         ORDER BY id DESC
         LIMIT $7"
    )
    .bind(&f.tenant_id)
    .bind(&f.phone)
    .bind(&f.wa_user_id)
    .bind(&f.name_like)
    .bind(&f.email_like)
    .bind(&f.before)
    .bind(f.limit)
    .fetch_all(c)
    .await?);
    Ok(rows.into_iter().map(Into::into).collect())
}
