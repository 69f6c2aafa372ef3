//! The event bus: publish/subscribe with consumer groups, at-least-once delivery, acknowledgement
//! after the handler succeeds, retries with backoff and a dead-letter list after the last attempt.
//!
//! Effects are made exactly-once by the consumer (the store's inbox), not by the bus. The
//! in-process backend serves `easymo up` and tests; the Redis Streams backend serves deployments
//! with several processes.

pub mod backoff;
mod envelope;
mod memory;
mod redis;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use crate::redis::{RedisBus, RedisConfig};
pub use envelope::Envelope;
pub use memory::MemoryBus;

/// Longest wait between two attempts at an event.
pub(crate) const RETRY_CAP: Duration = Duration::from_secs(30);

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend refused or could not be reached.
    #[error("bus backend unavailable: {0}")]
    Unavailable(String),
    /// The backend's configuration is unusable (a bad URL, no runtime).
    #[error("bus misconfigured: {0}")]
    Config(String),
    /// An event or a stored entry could not be encoded or decoded.
    #[error("bus entry malformed: {0}")]
    Malformed(String),
}

/// A handler's failure; the bus retries, then dead-letters.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Handles one event.
pub type Handler =
    Arc<dyn Fn(Envelope) -> BoxFuture<'static, Result<(), HandlerError>> + Send + Sync>;

/// A consumer group's subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Group name: every group receives every event of its types once.
    pub group: String,
    /// Event types wanted.
    pub types: Vec<String>,
    /// Attempts before an event is dead-lettered.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time, with jitter.
    pub retry_base: Duration,
}

impl Subscription {
    /// A group for `types` with 5 attempts starting at 200 ms.
    pub fn new(group: impl Into<String>, types: &[&str]) -> Self {
        Self {
            group: group.into(),
            types: types.iter().map(|t| (*t).to_owned()).collect(),
            max_attempts: 5,
            retry_base: Duration::from_millis(200),
        }
    }
}

/// An event that exhausted its attempts.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The consumer group that failed it.
    pub group: String,
    /// The event.
    pub event: Envelope,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: String,
}

/// A handle to the bus; cheap to clone.
#[derive(Clone)]
pub enum Bus {
    /// In-process (embedded mode and tests).
    Memory(Arc<MemoryBus>),
    /// Redis Streams (services in separate processes).
    Redis(Arc<RedisBus>),
}

impl Bus {
    /// A new in-process bus.
    pub fn memory() -> Self {
        Self::Memory(Arc::new(MemoryBus::default()))
    }

    /// A Redis Streams bus at `url` (`redis://host:port`) whose keys all start with `prefix:`.
    /// It connects on first use, so it can be created while Redis is down ([`Bus::ping`] says
    /// so meanwhile). Must be called inside a Tokio runtime.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, Error> {
        Self::redis_with(url, prefix, RedisConfig::default())
    }

    /// [`Bus::redis`] with explicit tuning.
    pub fn redis_with(url: &str, prefix: &str, config: RedisConfig) -> Result<Self, Error> {
        Ok(Self::Redis(Arc::new(RedisBus::connect(
            url, prefix, config,
        )?)))
    }

    /// Publishes an event to every group subscribed to its type.
    pub async fn publish(&self, event: &Envelope) -> Result<(), Error> {
        match self {
            Self::Memory(m) => {
                m.publish(event.clone());
                Ok(())
            }
            Self::Redis(r) => r.publish(event).await,
        }
    }

    /// Starts a consumer for `sub`; it stops when `shutdown` is cancelled.
    pub fn subscribe(
        &self,
        sub: Subscription,
        handler: Handler,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        match self {
            Self::Memory(m) => m.subscribe(sub, handler, shutdown),
            Self::Redis(r) => r.subscribe(sub, handler, shutdown),
        }
    }

    /// Events a group gave up on, oldest first.
    pub async fn dead_letters(&self, group: &str) -> Result<Vec<DeadLetter>, Error> {
        match self {
            Self::Memory(m) => Ok(m.dead_letters(group)),
            Self::Redis(r) => r.dead_letters(group).await,
        }
    }

    /// Puts a dead-lettered event back in front of its group with fresh attempts; false when
    /// the group has no such dead letter (unknown, or already replayed).
    pub async fn replay(&self, group: &str, event_id: &str) -> Result<bool, Error> {
        match self {
            Self::Memory(m) => Ok(m.replay(group, event_id)),
            Self::Redis(r) => r.replay(group, event_id).await,
        }
    }

    /// Whether the backend answers (for `/ready`).
    pub async fn ping(&self) -> Result<(), Error> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Redis(r) => r.ping().await,
        }
    }
}

/// Wraps an async closure as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Envelope) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
{
    Arc::new(move |e| Box::pin(f(e)))
}
