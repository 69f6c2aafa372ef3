//! The tariff book the service prices with: every stored version, compiled once and kept in
//! memory as a snapshot, so a quote reads no tariff row. The `tariffs` table is append-only, so
//! its row count tells a stale snapshot from a fresh one: the snapshot is rechecked (one indexed
//! `COUNT(*)`) at most once per `WHATSAPP_PRICING_TARIFF_REFRESH_MS` by whichever request finds it
//! due, at once after this replica publishes a version, and whenever a stored quote names a
//! version the snapshot lacks. Replicas converge within one refresh interval. The book holds every
//! version with its `effective_from`, and each quote resolves the versions in force on its own
//! day, so a future version takes effect at its date with no reload.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use pricing::{EMBEDDED_TARIFFS, Tariff, TariffBook};
use store::Db;
use tokio::sync::Mutex;

use crate::store::tariffs::{self as sql, Action};
use crate::{Error, metrics};

/// Who the shipped tariff files are recorded as added by.
pub(crate) const EMBEDDED_ACTOR: &str = "system:embedded";

/// A compiled book, the row count it was built from, and when that count was last confirmed.
#[derive(Clone)]
struct Snapshot {
    count: i64,
    book: Arc<TariffBook>,
    checked: Instant,
}

/// The current snapshot (read without waiting) and the lock its refreshes take turns on.
pub(crate) struct BookCache {
    snapshot: RwLock<Option<Snapshot>>,
    refreshing: Mutex<()>,
    every: Duration,
}

impl BookCache {
    /// A cache that rechecks the database at most once per `every`.
    pub(crate) fn new(every: Duration) -> Self {
        Self {
            snapshot: RwLock::new(None),
            refreshing: Mutex::new(()),
            every,
        }
    }

    fn loaded(&self) -> Option<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The snapshot, with no database access while it is fresh. When it is due, one request
    /// rechecks it and the others meanwhile keep pricing with the current one.
    pub(crate) async fn current(&self, db: &Db) -> Result<Arc<TariffBook>, Error> {
        let loaded = self.loaded();
        if let Some(s) = &loaded {
            if s.checked.elapsed() < self.every {
                return Ok(Arc::clone(&s.book));
            }
            let Ok(_turn) = self.refreshing.try_lock() else {
                return Ok(Arc::clone(&s.book));
            };
            return self.check(db).await;
        }
        let _turn = self.refreshing.lock().await;
        match self.loaded() {
            Some(s) if s.checked.elapsed() < self.every => Ok(s.book),
            _ => self.check(db).await,
        }
    }

    /// The book as stored now (rechecked whatever the snapshot's age): after a publish, before
    /// listing versions, or when a quote names a version the snapshot lacks.
    pub(crate) async fn fresh(&self, db: &Db) -> Result<Arc<TariffBook>, Error> {
        let _turn = self.refreshing.lock().await;
        self.check(db).await
    }

    /// Counts the stored versions and recompiles when the count changed; seeds the shipped
    /// tariffs into an empty table first. The caller holds `refreshing`.
    async fn check(&self, db: &Db) -> Result<Arc<TariffBook>, Error> {
        let mut conn = db.conn().await?;
        let count = sql::count(conn.exec()).await?;
        drop(conn);
        if count == 0 {
            seed_embedded(db).await?;
        } else if let Some(mut s) = self.loaded()
            && s.count == count
        {
            s.checked = Instant::now();
            let book = Arc::clone(&s.book);
            *self
                .snapshot
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(s);
            return Ok(book);
        }
        self.reload(db).await
    }

    /// Reads and compiles every stored version.
    async fn reload(&self, db: &Db) -> Result<Arc<TariffBook>, Error> {
        let checked = Instant::now();
        let mut conn = db.conn().await?;
        let rows = sql::documents(conn.exec()).await?;
        drop(conn);
        let mut book = TariffBook::new();
        for (version, doc) in rows {
            let tariff = serde_json::from_value(doc)
                .map_err(pricing::TariffError::from)
                .and_then(Tariff::from_document)
                .map_err(|e| Error::CorruptTariff(version.clone(), e))?;
            book.insert(tariff)
                .map_err(|e| Error::CorruptTariff(version, e))?;
        }
        let count = i64::try_from(book.iter().count()).unwrap_or(i64::MAX);
        let book = Arc::new(book);
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Snapshot {
            count,
            book: Arc::clone(&book),
            checked,
        });
        Ok(book)
    }
}

/// Stores each shipped tariff file whose version is not stored yet, with its audit entry; returns
/// how many were added. Safe to run on every start and from several processes at once.
pub(crate) async fn seed_embedded(db: &Db) -> Result<usize, Error> {
    let mut tx = db.begin().await?;
    let mut added = 0;
    for (file, json) in EMBEDDED_TARIFFS {
        let tariff =
            Tariff::from_json(json).map_err(|e| Error::CorruptTariff(file.to_owned(), e))?;
        if sql::insert(&mut tx, &tariff, EMBEDDED_ACTOR, Action::Seeded).await? {
            added += 1;
        }
    }
    tx.commit().await?;
    for _ in 0..added {
        metrics::tariff_added(Action::Seeded.as_str());
    }
    Ok(added)
}
