//! The event bus: publish/subscribe with consumer groups, at-least-once delivery, acknowledgement
//! after the handler succeeds, retries with backoff and a dead-letter list after the last attempt.
//!
//! Effects are made exactly-once by the consumer (the store's inbox), not by the bus. The
//! in-process backend serves `easymo up` and tests; the Redis Streams backend serves deployments
//! with several processes.

pub mod backoff;
mod envelope;
mod memory;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use envelope::Envelope;
pub use memory::MemoryBus;

/// Why a publish failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend refused or could not be reached.
    #[error("bus backend unavailable: {0}")]
    Unavailable(String),
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
}

impl Bus {
    /// A new in-process bus.
    pub fn memory() -> Self {
        Self::Memory(Arc::new(MemoryBus::default()))
    }

    /// Publishes an event to every group subscribed to its type.
    pub async fn publish(&self, event: &Envelope) -> Result<(), Error> {
        match self {
            Self::Memory(m) => {
                m.publish(event.clone());
                Ok(())
            }
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
        }
    }

    /// Events a group gave up on.
    pub async fn dead_letters(&self, group: &str) -> Vec<DeadLetter> {
        match self {
            Self::Memory(m) => m.dead_letters(group),
        }
    }

    /// Puts a dead-lettered event back in front of its group; false when unknown.
    pub async fn replay(&self, group: &str, event_id: &str) -> bool {
        match self {
            Self::Memory(m) => m.replay(group, event_id),
        }
    }

    /// Whether the backend answers (for `/ready`).
    pub async fn ping(&self) -> Result<(), Error> {
        match self {
            Self::Memory(_) => Ok(()),
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
