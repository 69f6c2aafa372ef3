//! The candidates of a ranking request, read once and shared: a (tenant, region) snapshot of the
//! projection and its recent accepted quotes, reused by every request until the projection
//! changes.
//!
//! Without it each request read every candidate row (a thousand rows for a region of a
//! 10,000-vendor tenant), and the row-by-row hand-off from the SQLite thread capped ranking near
//! 170 requests/s. Every transaction that changes the projection bumps one version row; a
//! snapshot is keyed by that version, which requests re-read (one row) at most once per
//! `RANKING_SNAPSHOT_MS`, so a change by any replica shows within that time, a change by this
//! one at once, and an unchanged projection is never read again (re-reading it on a timer put
//! p99 at ~90 ms at 1,000 requests/s).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use quick_cache::sync::Cache;
use store::Db;

use crate::Error;
use crate::store::vendors::{self, VendorRow};

/// One (tenant, region) read.
pub(crate) struct Snapshot {
    /// Registered vendors, by vendor id.
    pub(crate) rows: Vec<VendorRow>,
    /// Accepted quotes per vendor within the recency window.
    pub(crate) recent: HashMap<String, i64>,
    /// The candidate limit cut the read short.
    pub(crate) truncated: bool,
}

/// (tenant, region, projection version, day): the day, because the recency window slides.
type Key = (String, Option<String>, i64, i64);

/// The version last read, and when.
#[derive(Clone, Copy)]
struct Seen {
    version: i64,
    at: Instant,
}

/// Snapshots by key; cheap to clone.
#[derive(Clone)]
pub(crate) struct Snapshots {
    cache: Arc<Cache<Key, Arc<Snapshot>>>,
    seen: Arc<Mutex<Option<Seen>>>,
    recheck: Duration,
}

impl Snapshots {
    /// Snapshots whose version is re-read after `recheck` (zero: every request reads).
    pub(crate) fn new(recheck: Duration) -> Self {
        Self {
            cache: Arc::new(Cache::new(256)),
            seen: Arc::new(Mutex::new(None)),
            recheck,
        }
    }

    /// This replica changed the projection: the next request re-reads the version.
    pub(crate) fn invalidate(&self) {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    async fn version(&self, db: &Db) -> Result<i64, Error> {
        let seen = *self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = seen.filter(|s| s.at.elapsed() < self.recheck) {
            return Ok(s.version);
        }
        let mut conn = db.conn().await?;
        let version = vendors::version(conn.exec()).await?;
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(Seen {
            version,
            at: Instant::now(),
        });
        Ok(version)
    }

    /// The snapshot of `tenant` and `region` at the projection's current version: shared when
    /// one exists, else read once however many requests ask at the same time.
    pub(crate) async fn get(
        &self,
        db: &Db,
        tenant: &str,
        region: Option<&str>,
        limit: i64,
        recent_days: i64,
    ) -> Result<Arc<Snapshot>, Error> {
        if self.recheck.is_zero() {
            return read(db, tenant, region, limit, recent_days)
                .await
                .map(Arc::new);
        }
        let key: Key = (
            tenant.to_owned(),
            region.map(str::to_owned),
            self.version(db).await?,
            Utc::now().timestamp().div_euclid(86_400),
        );
        self.cache
            .get_or_insert_async(&key, async {
                read(db, tenant, region, limit, recent_days)
                    .await
                    .map(Arc::new)
            })
            .await
    }
}

async fn read(
    db: &Db,
    tenant: &str,
    region: Option<&str>,
    limit: i64,
    recent_days: i64,
) -> Result<Snapshot, Error> {
    let since = Utc::now() - chrono::Duration::days(recent_days);
    let mut conn = db.conn().await?;
    // One more than the limit tells whether the limit cut the read.
    let mut rows =
        vendors::candidates(conn.exec(), tenant, region, limit.saturating_add(1)).await?;
    let recent = vendors::recent_counts(conn.exec(), tenant, since)
        .await?
        .into_iter()
        .collect();
    let truncated = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Snapshot {
        rows,
        recent,
        truncated,
    })
}
