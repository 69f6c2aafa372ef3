//! Handles shared by every handler.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use platform::CommonConfig;
use store::Db;

use crate::Config;
use crate::book::BookCache;
use crate::references::{self, References};
use crate::writer::QuoteWriter;

/// Application state: one pointer, cheap to clone (axum clones it for every request).
pub(crate) type AppState = Arc<Inner>;

/// What the state holds.
pub(crate) struct Inner {
    pub(crate) db: Db,
    pub(crate) config: Arc<Config>,
    pub(crate) default_tenant: Arc<str>,
    /// The tariff versions stored, compiled once and reloaded when the table grows.
    pub(crate) book: Arc<BookCache>,
    /// The group-commit writer `POST /v1/quotes` stores through.
    pub(crate) quotes: QuoteWriter,
    /// Payment-reference numbers reserved for `POST /v1/quotes`.
    pub(crate) references: References,
}

impl Inner {
    /// Starts the quote writer (needs a Tokio runtime).
    pub(crate) fn start(db: Db, config: Config, common: &CommonConfig) -> AppState {
        let quotes = QuoteWriter::spawn(
            db.clone(),
            store::group::GroupConfig {
                max_batch: config.batch_max,
                max_wait: config.batch_wait,
                ..store::group::GroupConfig::default()
            },
            "whatsapp-pricing.quotes",
        );
        Arc::new(Self {
            book: Arc::new(BookCache::new(config.tariff_refresh)),
            db,
            config: Arc::new(config),
            default_tenant: Arc::from(common.default_tenant_id.as_str()),
            quotes,
            references: References::new(references::BLOCK),
        })
    }

    /// Today in the tariffs' calendar (Africa/Kigali by default).
    pub(crate) fn today(&self) -> NaiveDate {
        (Utc::now() + Duration::minutes(i64::from(self.config.utc_offset_minutes))).date_naive()
    }
}
