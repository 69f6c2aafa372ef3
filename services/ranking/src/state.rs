//! Handles shared by every handler and the projection.

use std::sync::Arc;

use platform::CommonConfig;
use store::Db;

use crate::Config;

/// Application state: cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    pub(crate) config: Arc<Config>,
    pub(crate) default_tenant: Arc<str>,
    /// Candidate snapshots shared by ranking requests.
    pub(crate) snapshots: crate::snapshot::Snapshots,
}

impl AppState {
    pub(crate) fn new(db: Db, config: Config, common: &CommonConfig) -> Self {
        Self {
            db,
            snapshots: crate::snapshot::Snapshots::new(config.snapshot_window),
            config: Arc::new(config),
            default_tenant: Arc::from(common.default_tenant_id.as_str()),
        }
    }
}
