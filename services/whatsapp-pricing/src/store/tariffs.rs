//! The append-only `tariffs` table and its audit log `tariff_changes`. Nothing here updates or
//! deletes a row.

use chrono::{DateTime, NaiveDate, Utc};
use contracts::pricing::TariffChange;
use pricing::Tariff;
use sqlx::types::Json;
use store::{Exec, ResultExt, Tx, on};

use crate::Error;

/// Why a version was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// A shipped tariff file, loaded at migration or first use.
    Seeded,
    /// `POST /v1/tariffs`.
    Published,
}

impl Action {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Seeded => "seeded",
            Self::Published => "published",
        }
    }
}

/// A stored version, without its document.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct VersionRow {
    pub(crate) version: String,
    pub(crate) insurer: String,
    pub(crate) effective_from: NaiveDate,
    pub(crate) created_by: String,
    pub(crate) created_at: DateTime<Utc>,
}

/// How many versions are stored.
pub(crate) async fn count(exec: Exec<'_>) -> Result<i64, Error> {
    let (n,): (i64,) = on!(exec, |c| sqlx::query_as("SELECT COUNT(*) FROM tariffs")
        .fetch_one(c)
        .await?);
    Ok(n)
}

/// Every version's id and document.
pub(crate) async fn documents(exec: Exec<'_>) -> Result<Vec<(String, serde_json::Value)>, Error> {
    let rows: Vec<(String, Json<serde_json::Value>)> = on!(exec, |c| sqlx::query_as(
        "SELECT version, document FROM tariffs ORDER BY insurer, effective_from"
    )
    .fetch_all(c)
    .await?);
    Ok(rows.into_iter().map(|(v, d)| (v, d.0)).collect())
}

/// One version's document.
pub(crate) async fn document(
    exec: Exec<'_>,
    version: &str,
) -> Result<Option<serde_json::Value>, Error> {
    let row: Option<(Json<serde_json::Value>,)> = on!(exec, |c| sqlx::query_as(
        "SELECT document FROM tariffs WHERE version = $1"
    )
    .bind(version)
    .fetch_optional(c)
    .await?);
    Ok(row.map(|(d,)| d.0))
}

/// Every version, by insurer then start date.
pub(crate) async fn versions(exec: Exec<'_>) -> Result<Vec<VersionRow>, Error> {
    let rows = on!(exec, |c| sqlx::query_as(
        "SELECT version, insurer, effective_from, created_by, created_at FROM tariffs
         ORDER BY insurer, effective_from"
    )
    .fetch_all(c)
    .await?);
    Ok(rows)
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    id: String,
    version: String,
    insurer: String,
    action: String,
    actor: String,
    at: DateTime<Utc>,
}

/// The audit log, oldest first.
pub(crate) async fn changes(exec: Exec<'_>) -> Result<Vec<TariffChange>, Error> {
    let rows: Vec<ChangeRow> = on!(exec, |c| sqlx::query_as(
        "SELECT id, version, insurer, action, actor, at FROM tariff_changes ORDER BY at, id"
    )
    .fetch_all(c)
    .await?);
    Ok(rows
        .into_iter()
        .map(|r| TariffChange {
            id: r.id,
            version: r.version,
            insurer: r.insurer,
            action: r.action,
            actor: r.actor,
            at: r.at,
        })
        .collect())
}

/// Stores a version and its audit entry. A seed skips a version (or start date) already stored
/// and answers `false`; a publish of a taken version or start date is
/// [`Error::TariffConflict`].
pub(crate) async fn insert(
    tx: &mut Tx,
    tariff: &Tariff,
    actor: &str,
    action: Action,
) -> Result<bool, Error> {
    let now = Utc::now();
    let insurer = tariff.insurer().as_str();
    let sql = match action {
        Action::Seeded => {
            "INSERT INTO tariffs (version, insurer, effective_from, document, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"
        }
        Action::Published => {
            "INSERT INTO tariffs (version, insurer, effective_from, document, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)"
        }
    };
    let inserted = on!(tx.exec(), |c| sqlx::query(sql)
        .bind(tariff.version())
        .bind(insurer)
        .bind(tariff.effective_from())
        .bind(Json(tariff.document()))
        .bind(actor)
        .bind(now)
        .execute(c)
        .await
        .on_unique(|| Error::TariffConflict(format!(
            "tariff version {} or a {insurer} version starting {} already exists",
            tariff.version(),
            tariff.effective_from()
        )))?
        .rows_affected());
    if inserted == 0 {
        return Ok(false);
    }
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO tariff_changes (id, version, insurer, action, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(ulid::Ulid::generate().to_string())
    .bind(tariff.version())
    .bind(insurer)
    .bind(action.as_str())
    .bind(actor)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(true)
}
