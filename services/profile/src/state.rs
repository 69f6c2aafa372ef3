//! Handles shared by every handler.

use std::sync::Arc;

use platform::CommonConfig;
use platform::cache::Cache;
use store::Db;

use crate::Config;

/// Application state: cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    pub(crate) config: Arc<Config>,
    pub(crate) default_tenant: Arc<str>,
    /// Profiles by id, as returned by `GET /api/v1/profiles/{id}`.
    pub(crate) cache: Cache,
}

impl AppState {
    pub(crate) fn new(
        db: Db,
        config: Config,
        common: &CommonConfig,
        redis: Option<redis::aio::ConnectionManager>,
    ) -> Self {
        let name = format!("{}:cache:profile", common.redis_prefix);
        let cache = Cache::new(&name, config.cache_capacity, config.cache_ttl, redis);
        Self {
            cache,
            db,
            config: Arc::new(config),
            default_tenant: Arc::from(common.default_tenant_id.as_str()),
        }
    }
}
