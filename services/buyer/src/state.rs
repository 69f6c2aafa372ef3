//! Handles shared by every handler and the saga.

use std::sync::Arc;
use std::time::Duration;

use platform::CommonConfig;
use store::Db;
use store::jobs::Retry;

use crate::Config;
use crate::clients::Clients;

/// Application state: cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    pub(crate) config: Arc<Config>,
    pub(crate) default_tenant: Arc<str>,
    pub(crate) clients: Clients,
    pub(crate) retry: Arc<Retry>,
    /// Vendor wallet accounts by (tenant, vendor, asset): an opened account never changes, so
    /// each is asked of the wallet once per instance, not once per purchase.
    pub(crate) vendor_accounts: Arc<quick_cache::sync::Cache<(String, String, String), String>>,
}

impl AppState {
    pub(crate) fn new(db: Db, config: Config, common: &CommonConfig, clients: Clients) -> Self {
        let retry = Retry::Exponential {
            base: config.saga_retry_base,
            cap: Duration::from_secs(60),
            max_attempts: config.saga_max_attempts,
        };
        Self {
            db,
            config: Arc::new(config),
            default_tenant: Arc::from(common.default_tenant_id.as_str()),
            clients,
            retry: Arc::new(retry),
            vendor_accounts: Arc::new(quick_cache::sync::Cache::new(10_000)),
        }
    }
}
