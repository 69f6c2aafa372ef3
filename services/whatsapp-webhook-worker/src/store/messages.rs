//! `wa_inbound_messages` (deduplicated by `wamid`) and `wa_statuses`.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use store::{Error, Tx, insert_many, on};

/// Rows per multi-row statement: nine parameters a message keeps either backend far below its
/// parameter limit.
const CHUNK: usize = 1000;

/// An inbound message to store.
#[derive(Clone)]
pub(crate) struct NewMessage {
    pub(crate) wamid: String,
    pub(crate) phone_number_id: Option<String>,
    pub(crate) contact_kind: &'static str,
    pub(crate) contact_id: String,
    pub(crate) profile_name: Option<String>,
    pub(crate) message_type: String,
    pub(crate) message: String,
    pub(crate) sent_at: Option<DateTime<Utc>>,
    pub(crate) received_at: DateTime<Utc>,
}

/// A status callback to store.
pub(crate) struct NewStatus {
    pub(crate) wamid: String,
    pub(crate) status: String,
    pub(crate) recipient: Option<String>,
    pub(crate) status_at: Option<DateTime<Utc>>,
    pub(crate) payload: String,
    pub(crate) received_at: DateTime<Utc>,
    /// `whatsapp::webhook::StatusKind::rank` of `status`.
    pub(crate) rank: i32,
    /// Meta's first error, for a failure.
    pub(crate) error: Option<String>,
}

/// A stored message, as processing reads it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Stored {
    pub(crate) wamid: String,
    pub(crate) phone_number_id: Option<String>,
    pub(crate) contact_kind: String,
    pub(crate) contact_id: String,
    pub(crate) profile_name: Option<String>,
    pub(crate) message_type: String,
    pub(crate) message: String,
    pub(crate) received_at: DateTime<Utc>,
    pub(crate) processed_at: Option<DateTime<Utc>>,
}

/// The `wamid`s of `wamids` already stored.
pub(crate) async fn known(tx: &mut Tx, wamids: &[&str]) -> Result<HashSet<String>, Error> {
    let mut found = HashSet::new();
    for chunk in wamids.chunks(CHUNK) {
        let rows: Vec<(String,)> = on!(tx.exec(), |c| {
            let mut qb =
                sqlx::QueryBuilder::new("SELECT wamid FROM wa_inbound_messages WHERE wamid IN ");
            store::push_list(&mut qb, chunk.iter().copied());
            qb.build_query_as().fetch_all(c).await?
        });
        found.extend(rows.into_iter().map(|(w,)| w));
    }
    Ok(found)
}

/// Stores new messages with one statement per thousand. No `ON CONFLICT`: the caller checked
/// they are new in this transaction, so a conflict means another replica stored one meanwhile,
/// and the error makes the group-commit writer retry each delivery alone.
pub(crate) async fn insert_many(tx: &mut Tx, batch: &[NewMessage]) -> Result<(), Error> {
    for chunk in batch.chunks(CHUNK) {
        insert_many!(
            tx.exec(),
            "INSERT INTO wa_inbound_messages (wamid, phone_number_id, contact_kind, contact_id,
                 profile_name, message_type, message, sent_at, received_at) ",
            chunk,
            |b, m| {
                b.push_bind(&m.wamid)
                    .push_bind(&m.phone_number_id)
                    .push_bind(m.contact_kind)
                    .push_bind(&m.contact_id)
                    .push_bind(&m.profile_name)
                    .push_bind(&m.message_type)
                    .push_bind(&m.message)
                    .push_bind(m.sent_at)
                    .push_bind(m.received_at);
            }
        )?;
    }
    Ok(())
}

/// Stores a status callback; a redelivered `(wamid, status)` is ignored. True when new.
pub(crate) async fn insert_status(tx: &mut Tx, s: &NewStatus) -> Result<bool, Error> {
    let n = on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO wa_statuses (wamid, status, recipient, status_at, payload, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (wamid, status) DO NOTHING"
    )
    .bind(&s.wamid)
    .bind(&s.status)
    .bind(&s.recipient)
    .bind(s.status_at)
    .bind(&s.payload)
    .bind(s.received_at)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

/// The stored messages of `wamids` (those not stored are absent).
pub(crate) async fn get_many(tx: &mut Tx, wamids: &[&str]) -> Result<Vec<Stored>, Error> {
    let mut found = Vec::with_capacity(wamids.len());
    for chunk in wamids.chunks(CHUNK) {
        let rows: Vec<Stored> = on!(tx.exec(), |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT wamid, phone_number_id, contact_kind, contact_id, profile_name,
                        message_type, message, received_at, processed_at
                 FROM wa_inbound_messages WHERE wamid IN ",
            );
            store::push_list(&mut qb, chunk.iter().copied());
            qb.build_query_as().fetch_all(c).await?
        });
        found.extend(rows);
    }
    Ok(found)
}

/// Where a message went (`routed_to` is `None` for an opt-out).
pub(crate) struct Processed {
    pub(crate) wamid: String,
    pub(crate) tenant: String,
    pub(crate) routed_to: Option<&'static str>,
    pub(crate) at: DateTime<Utc>,
}

/// Records where each message of `batch` went, with one statement per thousand.
pub(crate) async fn mark_processed(tx: &mut Tx, batch: &[Processed]) -> Result<(), Error> {
    for chunk in batch.chunks(CHUNK) {
        insert_many!(
            tx.exec(),
            "WITH v (wamid, tenant_id, routed_to, processed_at) AS (",
            chunk,
            |b, p| {
                b.push_bind(&p.wamid)
                    .push_bind(&p.tenant)
                    .push_bind(p.routed_to)
                    .push_bind(p.at);
            },
            ") UPDATE wa_inbound_messages
               SET tenant_id = v.tenant_id, routed_to = v.routed_to, processed_at = v.processed_at
               FROM v WHERE wa_inbound_messages.wamid = v.wamid"
        )?;
    }
    Ok(())
}

/// Up to `limit` messages neither routed nor given a routing job on `queue`, oldest first: the
/// routing worker's first attempts (`crate::jobs`). A message given a job is marked `queued`
/// ([`mark_queued`]), which takes it out of the index read here; the key check covers a job made
/// without the mark (claimed before its batch, as on PostgreSQL). On PostgreSQL they are locked, those another replica holds are skipped, and the keys are
/// checked again once locked: a replica that claimed one just before has committed its job row
/// without changing the message's.
pub(crate) async fn unrouted(tx: &mut Tx, queue: &str, limit: i64) -> Result<Vec<String>, Error> {
    let rows: Vec<(String,)> = match tx.exec() {
        store::Exec::Sqlite(c) => {
            sqlx::query_as(
                "SELECT wamid FROM wa_inbound_messages INDEXED BY wa_inbound_messages_unrouted
                 WHERE processed_at IS NULL AND queued IS NULL AND NOT EXISTS (SELECT 1
                     FROM kit_jobs WHERE queue = $1 AND dedupe_key = wa_inbound_messages.wamid)
                 ORDER BY rowid LIMIT $2",
            )
            .bind(queue)
            .bind(limit)
            .fetch_all(c)
            .await?
        }
        store::Exec::Postgres(c) => {
            let locked: Vec<(String,)> = sqlx::query_as(
                "SELECT wamid FROM wa_inbound_messages
                 WHERE processed_at IS NULL AND queued IS NULL AND NOT EXISTS (SELECT 1
                     FROM kit_jobs WHERE queue = $1 AND dedupe_key = wa_inbound_messages.wamid)
                 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(queue)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
            if locked.is_empty() {
                return Ok(Vec::new());
            }
            let wamids: Vec<&str> = locked.iter().map(|(w,)| w.as_str()).collect();
            let taken: HashSet<String> = sqlx::query_scalar(
                "SELECT dedupe_key FROM kit_jobs WHERE queue = $1 AND dedupe_key = ANY($2)",
            )
            .bind(queue)
            .bind(&wamids)
            .fetch_all(&mut *c)
            .await?
            .into_iter()
            .collect();
            locked
                .into_iter()
                .filter(|(w,)| !taken.contains(w))
                .collect()
        }
    };
    Ok(rows.into_iter().map(|(w,)| w).collect())
}

/// Marks `wamids` as given a routing job (out of [`unrouted`]'s index).
pub(crate) async fn mark_queued(tx: &mut Tx, wamids: &[&str]) -> Result<(), Error> {
    for chunk in wamids.chunks(CHUNK) {
        on!(tx.exec(), |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "UPDATE wa_inbound_messages SET queued = TRUE WHERE wamid IN ",
            );
            store::push_list(&mut qb, chunk.iter().copied());
            qb.build().execute(c).await?.rows_affected()
        });
    }
    Ok(())
}

/// How many messages wait in [`unrouted`]'s index, and when the oldest was received: the index
/// alone is read, and one row. Reading `received_at` of every waiting row took 69 ms of the one
/// core at 118,000 messages behind (this way: 2.4 ms), every few seconds during a flood.
pub(crate) async fn unrouted_depth(db: &store::Db) -> Result<(i64, Option<DateTime<Utc>>), Error> {
    let mut conn = db.conn().await?;
    let (hint, order) = match conn.exec() {
        store::Exec::Sqlite(_) => ("INDEXED BY wa_inbound_messages_unrouted", "rowid"),
        store::Exec::Postgres(_) => ("", "seq"),
    };
    let waiting =
        format!("FROM wa_inbound_messages {hint} WHERE processed_at IS NULL AND queued IS NULL");
    let count = format!("SELECT COUNT(*) {waiting}");
    let (n,): (i64,) = on!(conn.exec(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        count.clone()
    ))
    .fetch_one(c)
    .await?);
    let first = format!("SELECT received_at {waiting} ORDER BY {order} LIMIT 1");
    let oldest: Option<(DateTime<Utc>,)> = on!(conn.exec(), |c| sqlx::query_as(
        sqlx::AssertSqlSafe(first.clone())
    )
    .fetch_optional(c)
    .await?);
    Ok((n, oldest.map(|(t,)| t)))
}

/// Purges `queue`'s dead jobs (`id` = one, `None` = all) and marks their messages processed
/// without a route, in one transaction: a message with neither route nor job would be routed
/// again as new. Returns how many jobs were purged.
pub(crate) async fn give_up_dead(
    db: &store::Db,
    queue: &str,
    id: Option<&str>,
    at: DateTime<Utc>,
) -> Result<u64, Error> {
    let mut tx = db.begin().await?;
    on!(tx.exec(), |c| sqlx::query(
        "UPDATE wa_inbound_messages SET processed_at = $1
         WHERE processed_at IS NULL AND wamid IN (SELECT dedupe_key FROM kit_jobs
             WHERE queue = $2 AND status = 'dead' AND ($3 IS NULL OR id = $3))"
    )
    .bind(at)
    .bind(queue)
    .bind(id)
    .execute(c)
    .await?
    .rows_affected());
    let n = store::jobs::purge_dead_in(&mut tx, queue, id).await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sqlx::migrate::Migrator;

    use super::*;

    /// The migration that made a stored message its own first routing attempt.
    const UNROUTED: i64 = 20_261_127_080_000;

    fn before_unrouted(m: &Migrator) -> Migrator {
        Migrator::with_migrations(m.iter().filter(|m| m.version < UNROUTED).cloned().collect())
    }

    fn message(wamid: &str) -> NewMessage {
        NewMessage {
            wamid: wamid.to_owned(),
            phone_number_id: Some("100".to_owned()),
            contact_kind: "phone",
            contact_id: "250781234567".to_owned(),
            profile_name: None,
            message_type: "text".to_owned(),
            message: r#"{"type":"text","text":{"body":"hi"}}"#.to_owned(),
            sent_at: None,
            received_at: Utc::now(),
        }
    }

    /// A message stored with its routing job before the migration is left to that job: routing
    /// it as unrouted too would route it twice. One with neither route nor job then (its dead
    /// job purged: "never route") is marked processed. Messages stored after are taken.
    #[tokio::test]
    async fn messages_stored_before_the_migration_are_not_taken_as_unrouted() {
        let dir = std::env::temp_dir().join(format!("wa-{}", ulid::Ulid::generate()));
        let mut env = platform::Env::from_map([("DATA_DIR", dir.to_string_lossy().into_owned())]);
        let pg = testkit::fresh_database().await;
        if let Some(pg) = &pg {
            env.set("DATABASE_URL", pg.url());
        }
        let common = platform::CommonConfig::load(&mut env, crate::NAME, 4910, true);
        let db = store::Db::connect(&common).await.unwrap();
        let all = &crate::MIGRATIONS;
        let old = store::Migrations {
            sqlite: before_unrouted(&all.sqlite),
            postgres: before_unrouted(&all.postgres),
        };
        db.migrate(&old).await.unwrap();
        // wamid.old as ingest stored it then, with a job keyed by nothing; wamid.gone's job was
        // dead-lettered and purged.
        let mut tx = db.begin().await.unwrap();
        insert_many(&mut tx, &[message("wamid.old"), message("wamid.gone")])
            .await
            .unwrap();
        let job = store::jobs::NewJob::new(
            crate::QUEUE,
            &serde_json::json!({"wamid": "wamid.old"}),
            &store::jobs::Retry::Schedule(vec![]),
        )
        .unwrap();
        store::jobs::enqueue(&mut tx, &job).await.unwrap();
        tx.commit().await.unwrap();

        db.migrate(all).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        assert!(
            unrouted(&mut tx, crate::QUEUE, 10)
                .await
                .unwrap()
                .is_empty()
        );
        insert_many(&mut tx, &[message("wamid.new")]).await.unwrap();
        assert_eq!(
            unrouted(&mut tx, crate::QUEUE, 10).await.unwrap(),
            vec!["wamid.new".to_owned()]
        );
        let before = get_many(&mut tx, &["wamid.old", "wamid.gone"])
            .await
            .unwrap();
        let processed = |w: &str| {
            before
                .iter()
                .find(|m| m.wamid == w)
                .is_some_and(|m| m.processed_at.is_some())
        };
        assert!(!processed("wamid.old"), "left to its job");
        assert!(processed("wamid.gone"), "given up on, as before");
        drop(tx);
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
