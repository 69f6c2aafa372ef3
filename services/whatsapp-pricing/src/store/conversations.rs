//! `pricing_conversations` (one row per contact, optimistic `version`) and `pricing_payments`.

use chrono::{DateTime, Utc};
use store::{Tx, on};

use crate::Error;
use crate::conversation::Conversation;

/// Whose conversation: a tenant's contact (phone number or business-scoped user id).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Key {
    pub(crate) tenant_id: String,
    /// `phone` or `user_id`.
    pub(crate) kind: String,
    pub(crate) id: String,
}

/// A stored conversation and the version it was read at (0: not stored yet).
pub(crate) struct Loaded {
    pub(crate) conversation: Conversation,
    pub(crate) version: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    state: String,
    version: i64,
}

fn decode(row: Option<Row>) -> Result<Loaded, Error> {
    Ok(match row {
        Some(r) => Loaded {
            conversation: serde_json::from_str(&r.state)?,
            version: r.version,
        },
        None => Loaded {
            conversation: Conversation::default(),
            version: 0,
        },
    })
}

/// The contact's conversation (a fresh one when none is stored).
pub(crate) async fn load(tx: &mut Tx, key: &Key) -> Result<Loaded, Error> {
    let row: Option<Row> = on!(tx.exec(), |c| sqlx::query_as(
        "SELECT state, version FROM pricing_conversations
         WHERE tenant_id = $1 AND contact_kind = $2 AND contact_id = $3"
    )
    .bind(&key.tenant_id)
    .bind(&key.kind)
    .bind(&key.id)
    .fetch_optional(c)
    .await?);
    decode(row)
}

/// The conversation waiting for a payment with `reference`.
pub(crate) async fn by_reference(
    tx: &mut Tx,
    tenant: &str,
    reference: &str,
) -> Result<Option<(Key, Loaded)>, Error> {
    #[derive(sqlx::FromRow)]
    struct Found {
        contact_kind: String,
        contact_id: String,
        state: String,
        version: i64,
    }
    let row: Option<Found> = on!(tx.exec(), |c| sqlx::query_as(
        "SELECT contact_kind, contact_id, state, version FROM pricing_conversations
         WHERE tenant_id = $1 AND payment_reference = $2"
    )
    .bind(tenant)
    .bind(reference)
    .fetch_optional(c)
    .await?);
    let Some(f) = row else { return Ok(None) };
    let key = Key {
        tenant_id: tenant.to_owned(),
        kind: f.contact_kind,
        id: f.contact_id,
    };
    let loaded = decode(Some(Row {
        state: f.state,
        version: f.version,
    }))?;
    Ok(Some((key, loaded)))
}

/// Writes `conv` if the stored version is still `read_version`; `false` when another writer got
/// there first (the caller rolls back and retries).
pub(crate) async fn save(
    tx: &mut Tx,
    key: &Key,
    conv: &Conversation,
    read_version: i64,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let state = serde_json::to_string(conv)?;
    let stage = conv.stage.as_str();
    let reference = conv.awaited_reference();
    let n = if read_version == 0 {
        on!(tx.exec(), |c| sqlx::query(
            "INSERT INTO pricing_conversations (tenant_id, contact_kind, contact_id, stage, state,
                 payment_reference, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)
             ON CONFLICT (tenant_id, contact_kind, contact_id) DO NOTHING"
        )
        .bind(&key.tenant_id)
        .bind(&key.kind)
        .bind(&key.id)
        .bind(stage)
        .bind(&state)
        .bind(reference)
        .bind(now)
        .execute(c)
        .await?
        .rows_affected())
    } else {
        on!(tx.exec(), |c| sqlx::query(
            "UPDATE pricing_conversations
             SET stage = $4, state = $5, payment_reference = $6, version = version + 1,
                 updated_at = $7
             WHERE tenant_id = $1 AND contact_kind = $2 AND contact_id = $3 AND version = $8"
        )
        .bind(&key.tenant_id)
        .bind(&key.kind)
        .bind(&key.id)
        .bind(stage)
        .bind(&state)
        .bind(reference)
        .bind(now)
        .bind(read_version)
        .execute(c)
        .await?
        .rows_affected())
    };
    Ok(n == 1)
}

/// A collection as received.
pub(crate) struct Payment<'a> {
    pub(crate) event: &'a contracts::payments::CollectionSucceeded,
    pub(crate) outcome: &'a str,
    pub(crate) contact_id: Option<&'a str>,
}

/// Records a collection; `false` when this provider transaction was already recorded.
pub(crate) async fn record_payment(
    tx: &mut Tx,
    p: &Payment<'_>,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let e = p.event;
    let n = on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO pricing_payments (provider, provider_transaction_id, tenant_id, reference,
             amount, currency, outcome, contact_id, collected_at, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (provider, provider_transaction_id) DO NOTHING"
    )
    .bind(&e.provider)
    .bind(&e.provider_transaction_id)
    .bind(&e.tenant_id)
    .bind(&e.reference)
    .bind(e.amount)
    .bind(&e.currency)
    .bind(p.outcome)
    .bind(p.contact_id)
    .bind(e.collected_at)
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Stage;

    async fn db() -> (store::Db, Option<testkit::TestDatabase>) {
        let (db, pg) = crate::store::test_db().await;
        db.migrate(&crate::MIGRATIONS).await.unwrap();
        (db, pg)
    }

    #[tokio::test]
    async fn a_write_from_a_stale_version_writes_nothing() {
        let (db, _pg) = db().await;
        let key = Key {
            tenant_id: "t".into(),
            kind: "phone".into(),
            id: "250781234567".into(),
        };
        let now = Utc::now();
        let mut conv = Conversation::default();
        // Two replicas both see no conversation and both create one: one wins.
        let mut tx = db.begin().await.unwrap();
        assert!(save(&mut tx, &key, &conv, 0, now).await.unwrap());
        tx.commit().await.unwrap();
        let mut tx = db.begin().await.unwrap();
        assert!(!save(&mut tx, &key, &conv, 0, now).await.unwrap());
        drop(tx);
        // Both read version 1 and write: the second is refused.
        conv.stage = Stage::ConfirmFacts;
        let mut tx = db.begin().await.unwrap();
        assert!(save(&mut tx, &key, &conv, 1, now).await.unwrap());
        tx.commit().await.unwrap();
        conv.stage = Stage::Ready;
        let mut tx = db.begin().await.unwrap();
        assert!(!save(&mut tx, &key, &conv, 1, now).await.unwrap());
        drop(tx);
        let mut tx = db.begin().await.unwrap();
        let loaded = load(&mut tx, &key).await.unwrap();
        assert_eq!(
            (loaded.conversation.stage, loaded.version),
            (Stage::ConfirmFacts, 2)
        );
        drop(tx);
        db.close().await;
    }
}
