//! The tariff book the service prices with: every stored version, compiled once and reloaded when
//! the `tariffs` table grows. The table is append-only, so its row count tells a stale book from a
//! fresh one, on every replica, with one indexed `COUNT(*)`.

use std::sync::Arc;

use pricing::{EMBEDDED_TARIFFS, Tariff, TariffBook};
use store::Db;
use tokio::sync::Mutex;

use crate::store::tariffs::{self as sql, Action};
use crate::{Error, metrics};

/// Who the shipped tariff files are recorded as added by.
pub(crate) const EMBEDDED_ACTOR: &str = "system:embedded";

/// The compiled book and the row count it was built from.
#[derive(Default)]
pub(crate) struct BookCache {
    loaded: Mutex<Option<(i64, Arc<TariffBook>)>>,
}

impl BookCache {
    /// Every stored version, compiled; seeds the shipped tariffs into an empty table first.
    pub(crate) async fn current(&self, db: &Db) -> Result<Arc<TariffBook>, Error> {
        let mut conn = db.conn().await?;
        let count = sql::count(conn.exec()).await?;
        drop(conn);
        if count == 0 {
            seed_embedded(db).await?;
        } else if let Some((n, book)) = self.loaded.lock().await.as_ref()
            && *n == count
        {
            return Ok(Arc::clone(book));
        }
        self.reload(db).await
    }

    /// Reads and compiles every stored version.
    async fn reload(&self, db: &Db) -> Result<Arc<TariffBook>, Error> {
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
        *self.loaded.lock().await = Some((count, Arc::clone(&book)));
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
