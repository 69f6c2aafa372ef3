//! Accounts and their cached balances. Every balance change is a conditional `UPDATE`, so the
//! check and the change are one atomic step on both backends.

use chrono::{DateTime, Utc};
use contracts::wallet::{Account, Posting};
use store::{Exec, Tx, on};

use crate::Error;
use crate::domain::DEFAULT_ASSETS;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) owner_type: String,
    pub(crate) owner_id: String,
    pub(crate) asset: String,
    pub(crate) status: String,
    pub(crate) allow_negative: bool,
    pub(crate) posted: i64,
    pub(crate) pending_debits: i64,
    pub(crate) pending_credits: i64,
    pub(crate) created_at: DateTime<Utc>,
}

impl Row {
    pub(crate) fn available(&self) -> i64 {
        self.posted.saturating_sub(self.pending_debits)
    }
}

impl From<Row> for Account {
    fn from(r: Row) -> Self {
        Self {
            available_minor: r.available(),
            id: r.id,
            tenant_id: r.tenant_id,
            owner_type: r.owner_type,
            owner_id: r.owner_id,
            asset: r.asset,
            status: r.status,
            allow_negative: r.allow_negative,
            posted_minor: r.posted,
            pending_debits_minor: r.pending_debits,
            pending_credits_minor: r.pending_credits,
            created_at: r.created_at,
        }
    }
}

/// An account by id, any tenant (callers check the tenant).
pub(crate) async fn find(exec: Exec<'_>, id: &str) -> Result<Option<Row>, Error> {
    Ok(on!(exec, |c| sqlx::query_as(
        "SELECT id, tenant_id, owner_type, owner_id, asset, status, allow_negative, posted,
                pending_debits, pending_credits, created_at
         FROM accounts WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await?))
}

/// The account of an owner in an asset.
pub(crate) async fn find_by_owner(
    exec: Exec<'_>,
    tenant: &str,
    owner_type: &str,
    owner_id: &str,
    asset: &str,
) -> Result<Option<Row>, Error> {
    Ok(on!(exec, |c| sqlx::query_as(
        "SELECT id, tenant_id, owner_type, owner_id, asset, status, allow_negative, posted,
                pending_debits, pending_credits, created_at
         FROM accounts WHERE tenant_id = $1 AND owner_type = $2 AND owner_id = $3 AND asset = $4"
    )
    .bind(tenant)
    .bind(owner_type)
    .bind(owner_id)
    .bind(asset)
    .fetch_optional(c)
    .await?))
}

/// Seeds the tenant's default asset catalogue (idempotent).
pub(crate) async fn ensure_assets(tx: &mut Tx, tenant: &str) -> Result<(), Error> {
    for (code, scale) in DEFAULT_ASSETS {
        on!(tx.exec(), |c| sqlx::query(
            "INSERT INTO assets (tenant_id, code, scale) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(tenant)
        .bind(*code)
        .bind(*scale)
        .execute(c)
        .await?
        .rows_affected());
    }
    Ok(())
}

/// The scale of an asset in the tenant's catalogue.
pub(crate) async fn asset_scale(
    exec: Exec<'_>,
    tenant: &str,
    code: &str,
) -> Result<Option<i32>, Error> {
    Ok(on!(exec, |c| sqlx::query_scalar(
        "SELECT scale FROM assets WHERE tenant_id = $1 AND code = $2"
    )
    .bind(tenant)
    .bind(code)
    .fetch_optional(c)
    .await?))
}

/// Opens an account once: `(created, account)`; a second open returns the first account.
pub(crate) async fn open(
    tx: &mut Tx,
    tenant: &str,
    owner_type: &str,
    owner_id: &str,
    asset: &str,
) -> Result<(bool, Row), Error> {
    ensure_assets(tx, tenant).await?;
    if asset_scale(tx.exec(), tenant, asset).await?.is_none() {
        return Err(Error::UnknownAsset(asset.to_owned()));
    }
    let now = Utc::now();
    let id = ulid::Ulid::generate().to_string();
    let inserted = on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO accounts (id, tenant_id, owner_type, owner_id, asset, allow_negative,
                               created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING"
    )
    .bind(&id)
    .bind(tenant)
    .bind(owner_type)
    .bind(owner_id)
    .bind(asset)
    .bind(owner_type == "platform")
    .bind(now)
    .execute(c)
    .await?
    .rows_affected());
    let row = find_by_owner(tx.exec(), tenant, owner_type, owner_id, asset)
        .await?
        .ok_or_else(|| Error::AccountNotFound(id.clone()))?;
    Ok((inserted == 1, row))
}

/// Balances after a change.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub(crate) struct Balances {
    pub(crate) posted: i64,
    pub(crate) pending_debits: i64,
    pub(crate) pending_credits: i64,
}

/// A change to an account's three balances.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Delta {
    pub(crate) posted: i64,
    pub(crate) pending_debits: i64,
    pub(crate) pending_credits: i64,
}

impl Delta {
    /// Posts `amount` (signed).
    pub(crate) fn post(amount: i64) -> Self {
        Self {
            posted: amount,
            ..Self::default()
        }
    }
}

/// Who may be changed: the account must belong to `tenant`, hold `asset` and be active. Checked
/// in the same statement as the change, so no separate read is needed on the hot path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Guard<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) asset: &'a str,
}

/// Applies `d` in one conditional statement. With `check_funds`, refuses (returns `None`,
/// writing nothing) when the account would have less than zero available and may not go
/// negative; with a `guard`, also when the account is of another tenant or asset, or frozen.
/// The table's CHECK constraints catch anything this misses.
pub(crate) async fn apply(
    exec: Exec<'_>,
    id: &str,
    d: Delta,
    check_funds: bool,
    guard: Option<Guard<'_>>,
) -> Result<Option<Balances>, Error> {
    let now = Utc::now();
    let row = match guard {
        None => on!(exec, |c| sqlx::query_as(
            "UPDATE accounts SET posted = posted + $1, pending_debits = pending_debits + $2,
                    pending_credits = pending_credits + $3, updated_at = $5
             WHERE id = $4
               AND (NOT $6 OR allow_negative OR (posted + $1) - (pending_debits + $2) >= 0)
             RETURNING posted, pending_debits, pending_credits"
        )
        .bind(d.posted)
        .bind(d.pending_debits)
        .bind(d.pending_credits)
        .bind(id)
        .bind(now)
        .bind(check_funds)
        .fetch_optional(c)
        .await?),
        Some(g) => on!(exec, |c| sqlx::query_as(
            "UPDATE accounts SET posted = posted + $1, pending_debits = pending_debits + $2,
                    pending_credits = pending_credits + $3, updated_at = $5
             WHERE id = $4 AND tenant_id = $7 AND asset = $8 AND status = 'active'
               AND (NOT $6 OR allow_negative OR (posted + $1) - (pending_debits + $2) >= 0)
             RETURNING posted, pending_debits, pending_credits"
        )
        .bind(d.posted)
        .bind(d.pending_debits)
        .bind(d.pending_credits)
        .bind(id)
        .bind(now)
        .bind(check_funds)
        .bind(g.tenant)
        .bind(g.asset)
        .fetch_optional(c)
        .await?),
    };
    Ok(row)
}

#[derive(sqlx::FromRow)]
struct PostingRow {
    id: String,
    transfer_id: String,
    amount: i64,
    created_at: DateTime<Utc>,
}

/// A page of the account's postings, newest first.
pub(crate) async fn postings(
    exec: Exec<'_>,
    account: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<Posting>, Error> {
    let rows: Vec<PostingRow> = on!(exec, |c| sqlx::query_as(
        "SELECT id, transfer_id, amount, created_at FROM postings
         WHERE account_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    )
    .bind(account)
    .bind(before)
    .bind(limit)
    .fetch_all(c)
    .await?);
    Ok(rows
        .into_iter()
        .map(|r| Posting {
            id: r.id,
            transfer_id: r.transfer_id,
            amount_minor: r.amount,
            created_at: r.created_at,
        })
        .collect())
}

/// Adds (or rescales, if unused) an asset in the tenant's catalogue; false when the asset is
/// already held by accounts at another scale (rescaling would change what their balances mean).
pub(crate) async fn put_asset(
    tx: &mut Tx,
    tenant: &str,
    code: &str,
    scale: i32,
) -> Result<bool, Error> {
    ensure_assets(tx, tenant).await?;
    let in_use: i64 = on!(tx.exec(), |c| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM accounts a JOIN assets s ON s.tenant_id = a.tenant_id AND s.code = a.asset
         WHERE a.tenant_id = $1 AND a.asset = $2 AND s.scale <> $3"
    )
    .bind(tenant)
    .bind(code)
    .bind(scale)
    .fetch_one(c)
    .await?
    });
    if in_use > 0 {
        return Ok(false);
    }
    on!(tx.exec(), |c| sqlx::query(
        "INSERT INTO assets (tenant_id, code, scale) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, code) DO UPDATE SET scale = $3"
    )
    .bind(tenant)
    .bind(code)
    .bind(scale)
    .execute(c)
    .await?
    .rows_affected());
    Ok(true)
}

#[derive(sqlx::FromRow)]
struct Changed {
    id: String,
    posted: i64,
    pending_debits: i64,
    pending_credits: i64,
}

/// [`apply`] for several accounts in one statement (SQLite, where the single writer makes lock
/// order moot): returns the accounts changed; an account missing from the result was refused
/// and the caller undoes the others.
pub(crate) async fn apply_many(
    conn: &mut sqlx::SqliteConnection,
    changes: &[(&str, Delta, bool)],
    guard: Option<Guard<'_>>,
) -> Result<Vec<(String, Balances)>, Error> {
    let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new("WITH m(id, dp, dd, dc, chk) AS (");
    qb.push_values(changes.iter(), |mut b, (id, d, chk)| {
        b.push_bind(*id)
            .push_bind(d.posted)
            .push_bind(d.pending_debits)
            .push_bind(d.pending_credits)
            .push_bind(*chk);
    });
    qb.push(
        ") UPDATE accounts SET posted = accounts.posted + m.dp,
               pending_debits = accounts.pending_debits + m.dd,
               pending_credits = accounts.pending_credits + m.dc, updated_at = ",
    );
    qb.push_bind(Utc::now());
    qb.push(
        " FROM m WHERE accounts.id = m.id
           AND (NOT m.chk OR accounts.allow_negative
                OR (accounts.posted + m.dp) - (accounts.pending_debits + m.dd) >= 0)",
    );
    if let Some(g) = guard {
        qb.push(" AND accounts.tenant_id = ");
        qb.push_bind(g.tenant);
        qb.push(" AND accounts.asset = ");
        qb.push_bind(g.asset);
        qb.push(" AND accounts.status = 'active'");
    }
    qb.push(" RETURNING accounts.id, accounts.posted, accounts.pending_debits, accounts.pending_credits");
    let rows: Vec<Changed> = qb.build_query_as().fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let b = Balances {
                posted: r.posted,
                pending_debits: r.pending_debits,
                pending_credits: r.pending_credits,
            };
            (r.id, b)
        })
        .collect())
}
