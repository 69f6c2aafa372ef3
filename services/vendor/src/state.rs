//! Handles shared by every handler, the projection and the jobs.

use std::sync::Arc;

use object_store::ObjectStore;
use platform::CommonConfig;
use store::Db;
use store::group::GroupConfig;
use tokio::sync::Semaphore;

use crate::Config;
use crate::wallet::WalletClient;
use crate::writer::QuoteWriter;

/// Application state: cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    pub(crate) config: Arc<Config>,
    pub(crate) default_tenant: Arc<str>,
    pub(crate) wallet: WalletClient,
    /// The group-commit writer of quotes.
    pub(crate) quotes: QuoteWriter,
    /// Where image copies are stored (local directory or S3-compatible bucket).
    pub(crate) images: Arc<dyn ObjectStore>,
    /// Bounds image decodes running at once (each holds a blocking thread and its pixels).
    pub(crate) decodes: Arc<Semaphore>,
}

impl AppState {
    pub(crate) fn new(
        db: Db,
        config: Config,
        common: &CommonConfig,
        wallet: WalletClient,
        images: Arc<dyn ObjectStore>,
    ) -> Self {
        let decodes = Arc::new(Semaphore::new(config.image_decode_concurrency));
        let quotes = QuoteWriter::spawn(
            db.clone(),
            GroupConfig {
                max_batch: config.quote_batch_max,
                max_wait: config.quote_batch_wait,
                ..GroupConfig::default()
            },
            "vendor-quotes",
        );
        Self {
            db,
            config: Arc::new(config),
            default_tenant: Arc::from(common.default_tenant_id.as_str()),
            wallet,
            quotes,
            images,
            decodes,
        }
    }
}
