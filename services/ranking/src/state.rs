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
}

impl AppState {
    pub(crate) fn new(db: Db, config: Config, common: &CommonConfig) -> Self {
        Self {
            db,
            config: Arc::new(config),
            default_tenant: Arc::from(common.default_tenant_id.as_str()),
        }
    }
}
