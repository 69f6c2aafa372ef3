//! Handles shared by every handler.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use platform::CommonConfig;
use store::Db;

use crate::Config;
use crate::book::BookCache;

/// Application state: cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    pub(crate) config: Arc<Config>,
    pub(crate) default_tenant: Arc<str>,
    /// The tariff versions stored, compiled once and reloaded when the table grows.
    pub(crate) book: Arc<BookCache>,
}

impl AppState {
    pub(crate) fn new(db: Db, config: Config, common: &CommonConfig) -> Self {
        Self {
            db,
            config: Arc::new(config),
            default_tenant: Arc::from(common.default_tenant_id.as_str()),
            book: Arc::new(BookCache::default()),
        }
    }

    /// Today in the tariffs' calendar (Africa/Kigali by default).
    pub(crate) fn today(&self) -> NaiveDate {
        (Utc::now() + Duration::minutes(i64::from(self.config.utc_offset_minutes))).date_naive()
    }
}
