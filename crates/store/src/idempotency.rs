//! HTTP idempotency keys (IETF `Idempotency-Key` draft), stored in the database.
//!
//! A request with a key first *claims* it in a short transaction (so a concurrent duplicate sees
//! it and gets 409). Its effect then runs in its own transaction, which also stores the response
//! against the key: the effect and the "done" mark commit together or not at all, so an effect
//! is applied once whatever crashes where. A claim left by a crashed request expires after
//! [`LEASE`] and can be taken again. A replay returns the stored status and body; the same key
//! with another request is refused. Keys are purged after [`RETAIN`].

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Db, Error, Tx, on};

/// How long a claim protects an unfinished request.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// How long keys are kept.
pub const RETAIN: chrono::Duration = chrono::Duration::hours(24);
/// Response header marking a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";

/// What a request asks, for idempotency.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Who and where: `<tenant>:<caller>:<route>`, so keys of different callers never collide.
    pub scope: String,
    /// The client's key.
    pub key: &'a str,
    /// Hash of the request (method, path, body).
    pub hash: &'a str,
}

/// The outcome of a claim.
#[derive(Debug)]
pub enum Claim {
    /// First time (or a crashed attempt's lease expired): run the effect.
    Fresh,
    /// Done before: answer with this.
    Replay {
        /// Stored status.
        status: u16,
        /// Stored JSON body.
        body: String,
    },
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    request_hash: String,
    status: Option<i32>,
    body: Option<String>,
    locked_until: Option<DateTime<Utc>>,
}

/// The outcome of a claim made inside a caller's transaction (see [`claim_in`]).
#[derive(Debug)]
pub enum InTx {
    /// First time: run the effect in this transaction, then [`complete`].
    Fresh,
    /// Done before: answer with this.
    Replay {
        /// Stored status.
        status: u16,
        /// Stored JSON body.
        body: String,
    },
    /// Another request with this key is running.
    InFlight,
    /// The key was used with another request.
    Mismatch,
}

/// Claims `req`'s key inside `tx`, for writers that batch many requests in one transaction:
/// the claim commits (or rolls back) with the effect, and every outcome is a value, never an
/// error that would abort the batch.
pub async fn claim_in(tx: &mut Tx, req: &Request<'_>) -> Result<InTx, Error> {
    let now = Utc::now();
    let inserted = on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO kit_idempotency (scope, key, request_hash, locked_until, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING"
    )
    .bind(&req.scope)
    .bind(req.key)
    .bind(req.hash)
    .bind(now + LEASE)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    if inserted == 1 {
        return Ok(InTx::Fresh);
    }
    // The row exists (it cannot vanish inside this transaction but for a purge racing it).
    Ok(lookup(tx, req).await?.unwrap_or(InTx::InFlight))
}

/// What a batch writer knows of a key before running its effect: `None` for a new key. It
/// writes nothing; the answer is stored with [`insert_completed`] at the end of the batch, and a
/// concurrent writer that stored the same key first makes that insert fail (and the batch roll
/// back), so the effect still happens once.
pub async fn lookup(tx: &mut Tx, req: &Request<'_>) -> Result<Option<InTx>, Error> {
    let row: Option<KeyRow> = on!(tx.exec(), |c| sqlx::query_as(
        "SELECT request_hash, status, body, locked_until FROM kit_idempotency
         WHERE scope = $1 AND key = $2"
    )
    .bind(&req.scope)
    .bind(req.key)
    .fetch_optional(c)
    .await?);
    let Some(row) = row else { return Ok(None) };
    if row.request_hash != req.hash {
        return Ok(Some(InTx::Mismatch));
    }
    Ok(Some(match (row.status, row.body) {
        (Some(status), Some(body)) => {
            metrics::counter!("idempotent_replays_total").increment(1);
            InTx::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body,
            }
        }
        _ => InTx::InFlight,
    }))
}

#[derive(sqlx::FromRow)]
struct FoundRow {
    scope: String,
    key: String,
    request_hash: String,
    status: Option<i32>,
    body: Option<String>,
}

/// [`lookup`] for many keys at once: what is stored for each `(scope, key)` found.
pub async fn lookup_many(
    tx: &mut Tx,
    keys: &[(&str, &str, &str)],
) -> Result<std::collections::HashMap<(String, String), InTx>, Error> {
    let mut found = std::collections::HashMap::new();
    if keys.is_empty() {
        return Ok(found);
    }
    let hashes: std::collections::HashMap<(&str, &str), &str> =
        keys.iter().map(|(s, k, h)| ((*s, *k), *h)).collect();
    let rows: Vec<FoundRow> = match tx.exec() {
        crate::Exec::Sqlite(c) => {
            let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT scope, key, request_hash, status, body FROM kit_idempotency WHERE (scope, key) IN (",
            );
            qb.push_values(keys.iter(), |mut b, (s, k, _)| {
                b.push_bind(*s).push_bind(*k);
            });
            qb.push(")");
            qb.build_query_as().fetch_all(c).await?
        }
        crate::Exec::Postgres(c) => {
            let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                "SELECT scope, key, request_hash, status, body FROM kit_idempotency WHERE (scope, key) IN (",
            );
            qb.push_values(keys.iter(), |mut b, (s, k, _)| {
                b.push_bind(*s).push_bind(*k);
            });
            qb.push(")");
            qb.build_query_as().fetch_all(c).await?
        }
    };
    for r in rows {
        let hash = hashes
            .get(&(r.scope.as_str(), r.key.as_str()))
            .copied()
            .unwrap_or_default();
        let state = if r.request_hash != hash {
            InTx::Mismatch
        } else if let (Some(status), Some(body)) = (r.status, r.body) {
            metrics::counter!("idempotent_replays_total").increment(1);
            InTx::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body,
            }
        } else {
            InTx::InFlight
        };
        found.insert((r.scope, r.key), state);
    }
    Ok(found)
}

/// A finished request's answer, to store with its key.
#[derive(Debug, Clone)]
pub struct Completed {
    /// Key scope.
    pub scope: String,
    /// The key.
    pub key: String,
    /// Request hash.
    pub hash: String,
    /// Status answered.
    pub status: u16,
    /// Body answered.
    pub body: String,
}

/// Stores answers with one statement. A key stored meanwhile by another writer is a unique
/// violation: the caller's transaction must roll back.
pub async fn insert_completed(tx: &mut Tx, rows: &[Completed]) -> Result<(), Error> {
    let now = Utc::now();
    crate::insert_many!(
        tx.exec(),
        "INSERT INTO kit_idempotency (scope, key, request_hash, status, body, created_at) ",
        rows,
        |b, r| {
            b.push_bind(&r.scope);
            b.push_bind(&r.key);
            b.push_bind(&r.hash);
            b.push_bind(i32::from(r.status));
            b.push_bind(&r.body);
            b.push_bind(now);
        }
    )?;
    Ok(())
}

/// Claims `req`'s key.
pub async fn claim(db: &Db, req: &Request<'_>) -> Result<Claim, Error> {
    let now = Utc::now();
    let until = now + LEASE;
    let mut tx = db.begin().await?;
    let inserted = on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO kit_idempotency (scope, key, request_hash, locked_until, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING"
    )
    .bind(&req.scope)
    .bind(req.key)
    .bind(req.hash)
    .bind(until)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    if inserted == 1 {
        tx.commit().await?;
        return Ok(Claim::Fresh);
    }
    let row: KeyRow = on!(tx.exec(), |c| sqlx::query_as(
        "SELECT request_hash, status, body, locked_until FROM kit_idempotency
         WHERE scope = $1 AND key = $2"
    )
    .bind(&req.scope)
    .bind(req.key)
    .fetch_one(c)
    .await?);
    if row.request_hash != req.hash {
        return Err(Error::IdempotencyKeyReused);
    }
    if let (Some(status), Some(body)) = (row.status, row.body) {
        metrics::counter!("idempotent_replays_total").increment(1);
        return Ok(Claim::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        });
    }
    // In flight: someone holds the lease. A lease that ran out belonged to a crashed request;
    // take it over (compare-and-set on the old lease, so only one taker wins).
    if row.locked_until.is_some_and(|t| t < now) {
        let taken = on!(tx.exec(), |c| sqlx::query(
            "UPDATE kit_idempotency SET locked_until = $1
             WHERE scope = $2 AND key = $3 AND status IS NULL AND locked_until = $4"
        )
        .bind(until)
        .bind(&req.scope)
        .bind(req.key)
        .bind(row.locked_until)
        .execute(c)
        .await?
        .rows_affected());
        if taken == 1 {
            tx.commit().await?;
            return Ok(Claim::Fresh);
        }
    }
    Err(Error::IdempotencyInFlight)
}

/// Stores the response in the effect's transaction. Fails (and so rolls the effect back) when
/// another holder finished first, which can only happen after this holder's lease ran out.
pub async fn complete(
    tx: &mut Tx,
    req: &Request<'_>,
    status: u16,
    body: &str,
) -> Result<(), Error> {
    let done = on!(tx.exec(), |c| sqlx::query(
        "UPDATE kit_idempotency SET status = $1, body = $2, locked_until = NULL
         WHERE scope = $3 AND key = $4 AND status IS NULL"
    )
    .bind(i32::from(status))
    .bind(body)
    .bind(&req.scope)
    .bind(req.key)
    .execute(c)
    .await?
    .rows_affected());
    if done == 1 {
        Ok(())
    } else {
        Err(Error::IdempotencyInFlight)
    }
}

/// Gives the key back after a failed effect, so a retry runs it again.
pub async fn release(db: &Db, req: &Request<'_>) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    on!(tx.exec(), |c| sqlx::query(
        "DELETE FROM kit_idempotency WHERE scope = $1 AND key = $2 AND status IS NULL"
    )
    .bind(&req.scope)
    .bind(req.key)
    .execute(c)
    .await?
    .rows_affected());
    tx.commit().await
}

/// Deletes keys older than [`RETAIN`].
pub async fn purge(db: &Db) -> Result<u64, Error> {
    let cutoff = Utc::now() - RETAIN;
    let mut tx = db.begin().await?;
    let n = on!(tx.exec(), |c| sqlx::query(
        "DELETE FROM kit_idempotency WHERE created_at < $1"
    )
    .bind(cutoff)
    .execute(c)
    .await?
    .rows_affected());
    tx.commit().await?;
    Ok(n)
}

fn replay_response(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(REPLAYED, HeaderValue::from_static("true"));
    res
}

/// Runs `effect` in a transaction, exactly once per idempotency key when `req` is given.
///
/// The effect returns its status and body; the body is stored with the key so a replay answers
/// byte for byte. An effect that fails releases the key (nothing was applied).
pub async fn run<T, E, F>(db: &Db, req: Option<Request<'_>>, effect: F) -> Result<Response, E>
where
    T: Serialize,
    E: From<Error>,
    F: AsyncFnOnce(&mut Tx) -> Result<(StatusCode, T), E>,
{
    let Some(req) = req else {
        let mut tx = db.begin().await?;
        let (status, body) = effect(&mut tx).await?;
        tx.commit().await?;
        return Ok((status, Json(body)).into_response());
    };
    if let Claim::Replay { status, body } = claim(db, &req).await? {
        return Ok(replay_response(status, body));
    }
    let result = async {
        let mut tx = db.begin().await?;
        let (status, body) = effect(&mut tx).await?;
        let text = serde_json::to_string(&body).map_err(Error::from)?;
        complete(&mut tx, &req, status.as_u16(), &text).await?;
        tx.commit().await?;
        Ok::<_, E>((status, text))
    }
    .await;
    match result {
        Ok((status, text)) => {
            let mut res = (status, text).into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(res)
        }
        Err(e) => {
            if let Err(release_err) = release(db, &req).await {
                tracing::warn!(error = %release_err, "idempotency key not released; it expires with its lease");
            }
            Err(e)
        }
    }
}
