//! Handles shared by every handler.

use std::sync::Arc;

use platform::client::HttpClient;
use store::Db;

use crate::Config;
use crate::writer::Writer;

/// Application state: cheap to clone.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    pub(crate) writer: Writer,
    pub(crate) config: Arc<Config>,
    pub(crate) default_tenant: Arc<str>,
    /// The FX API, when configured.
    pub(crate) fx: Option<HttpClient>,
}
