//! Handles shared by every handler and the processing worker.

use std::sync::Arc;

use store::Db;
use store::group::GroupCommit;
use store::jobs::Retry;

use crate::Config;

/// The processing queue's name.
pub(crate) const QUEUE: &str = "whatsapp.inbound";

/// The send queue's name: one job per message accepted by `POST /v1/messages`.
pub(crate) const OUTBOUND_QUEUE: &str = "whatsapp.outbound";

/// Application state: one pointer, cheap to clone (axum clones it for every request).
pub(crate) type AppState = Arc<Inner>;

/// What the state holds.
pub(crate) struct Inner {
    pub(crate) db: Db,
    /// The group-commit writer deliveries are stored through.
    pub(crate) ingest: GroupCommit<crate::ingest::Delivery>,
    pub(crate) config: Arc<Config>,
    pub(crate) default_tenant: Arc<str>,
    /// The processing queue's retry schedule.
    pub(crate) retry: Arc<Retry>,
    /// The send queue's (shorter) retry schedule.
    pub(crate) send_retry: Arc<Retry>,
    /// The per-sender inbound limit (in memory, per replica).
    pub(crate) throttle: Arc<crate::throttle::Throttle>,
    /// The Graph API client; `None` when no access token is configured (sending disabled).
    pub(crate) client: Option<whatsapp::Client>,
}
