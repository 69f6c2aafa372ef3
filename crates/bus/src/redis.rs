//! The Redis Streams backend, for deployments where services run as separate processes.
//!
//! Key layout (every key starts with the bus prefix, e.g. `easymo`):
//! - `{prefix}:stream:{type}`: one stream per event type, fields `id` (the envelope id) and
//!   `envelope` (its JSON), trimmed to about [`RedisConfig::max_len`] entries. Each subscribing
//!   group is a consumer group on it, created at `0` so a group created late still reads what is
//!   retained, as the in-process backend does.
//! - `{prefix}:retry:{group}`: a sorted set of event ids waiting for another attempt, scored by
//!   due time (Unix ms). Their state is in `{prefix}:retry:{group}:events` (id -> envelope and
//!   last error) and `{prefix}:retry:{group}:attempts` (id -> attempts started).
//! - `{prefix}:dead:{group}`: the dead-letter stream, fields `id`, `envelope`, `error`, `attempts`.
//!   It is not trimmed: each entry waits for an operator.
//!
//! Redis must run with AOF (`appendonly yes`) for acknowledged events to survive a restart.

mod consumer;
mod retry;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamId, StreamRangeReply};
use redis::{AsyncCommands, RedisError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{DeadLetter, Envelope, Error, Handler, Subscription};

/// Entries read from the dead-letter stream per round trip.
const DEAD_PAGE: usize = 500;

/// Tuning of the Redis Streams backend.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// How long a delivered entry may stay unacknowledged before another consumer of the group
    /// takes it over (its consumer is presumed dead). Also the lease on a retry being handled.
    /// Entries of one read wait their turn, so keep it above `batch` times the slowest handler,
    /// or slow events are handled twice (still at-least-once, never lost).
    pub visibility_timeout: Duration,
    /// Longest a read waits for new entries; bounds how long shutdown waits for a reader.
    pub block: Duration,
    /// Entries read (or retries claimed) per round.
    pub batch: usize,
    /// Entries kept per event stream (approximately: `MAXLEN ~`).
    pub max_len: usize,
}

impl Default for RedisConfig {
    /// 30 s visibility, 1 s reads, 10 entries per read, 100,000 entries per stream.
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            block: Duration::from_secs(1),
            batch: 10,
            max_len: 100_000,
        }
    }
}

/// Redis Streams bus: consumer groups, a retry set per group and a dead-letter stream per group.
pub struct RedisBus {
    client: redis::Client,
    /// Shared by publishers and every non-blocking command; reconnects on its own.
    conn: ConnectionManager,
    prefix: String,
    config: RedisConfig,
}

/// The keys of one group's retry state.
pub(crate) struct RetryKeys {
    /// Sorted set of ids by due time.
    set: String,
    /// Hash id -> [`retry::Record`].
    events: String,
    /// Hash id -> attempts started.
    attempts: String,
}

impl RedisBus {
    /// Does not connect: a service must start while Redis is down; `ping` reports it meanwhile.
    pub(crate) fn connect(url: &str, prefix: &str, config: RedisConfig) -> Result<Self, Error> {
        // The manager spawns its reconnect task on the current runtime; without one it would panic.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::Config(
                "the Redis bus must be created inside a Tokio runtime".into(),
            ));
        }
        let client = redis::Client::open(url).map_err(|e| Error::Config(e.to_string()))?;
        let conn = ConnectionManager::new_lazy_with_config(
            client.clone(),
            manager_config(Duration::from_secs(3)),
        )
        .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Self {
            client,
            conn,
            prefix: prefix.to_owned(),
            config,
        })
    }

    /// A dedicated connection for `XREADGROUP BLOCK`: a blocked command holds its connection, so
    /// on the shared one it would stall every publish behind it.
    fn reader(&self) -> Result<ConnectionManager, RedisError> {
        ConnectionManager::new_lazy_with_config(
            self.client.clone(),
            manager_config(self.config.block + Duration::from_secs(3)),
        )
    }

    fn stream_key(&self, kind: &str) -> String {
        format!("{}:stream:{kind}", self.prefix)
    }

    fn dead_key(&self, group: &str) -> String {
        format!("{}:dead:{group}", self.prefix)
    }

    fn retry_keys(&self, group: &str) -> RetryKeys {
        let set = format!("{}:retry:{group}", self.prefix);
        RetryKeys {
            events: format!("{set}:events"),
            attempts: format!("{set}:attempts"),
            set,
        }
    }

    pub(crate) async fn publish(&self, event: &Envelope) -> Result<(), Error> {
        let json = serde_json::to_string(event).map_err(|e| Error::Malformed(e.to_string()))?;
        redis::cmd("XADD")
            .arg(self.stream_key(&event.kind))
            .arg("MAXLEN")
            .arg("~")
            .arg(self.config.max_len)
            .arg("*")
            .arg("id")
            .arg(&event.id)
            .arg("envelope")
            .arg(json)
            .exec_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)
    }

    pub(crate) fn subscribe(
        self: &Arc<Self>,
        sub: Subscription,
        handler: Handler,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        tokio::spawn(consumer::run(Arc::clone(self), sub, handler, shutdown))
    }

    pub(crate) async fn dead_letters(&self, group: &str) -> Result<Vec<DeadLetter>, Error> {
        let mut out = Vec::new();
        for entry in self.dead_entries(group).await? {
            out.push(dead_letter(group, &entry)?);
        }
        Ok(out)
    }

    pub(crate) async fn replay(&self, group: &str, event_id: &str) -> Result<bool, Error> {
        let entries = self.dead_entries(group).await?;
        let Some(entry) = entries
            .iter()
            .find(|e| e.get::<String>("id").as_deref() == Some(event_id))
        else {
            return Ok(false);
        };
        let dead = dead_letter(group, entry)?;
        retry::replay(self, group, &entry.id, dead.event).await
    }

    pub(crate) async fn ping(&self) -> Result<(), Error> {
        redis::cmd("PING")
            .exec_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)
    }

    /// The whole dead-letter stream, oldest first, read in pages.
    async fn dead_entries(&self, group: &str) -> Result<Vec<StreamId>, Error> {
        let key = self.dead_key(group);
        let mut conn = self.conn.clone();
        let mut out: Vec<StreamId> = Vec::new();
        let mut start = "-".to_owned();
        loop {
            let page: StreamRangeReply = conn
                .xrange_count(&key, &start, "+", DEAD_PAGE)
                .await
                .map_err(unavailable)?;
            let full = page.ids.len() >= DEAD_PAGE;
            out.extend(page.ids);
            match out.last() {
                // `(` makes the range exclusive, so the last entry is not read twice.
                Some(last) if full => start = format!("({}", last.id),
                _ => return Ok(out),
            }
        }
    }
}

fn manager_config(response_timeout: Duration) -> ConnectionManagerConfig {
    // Few, short reconnect attempts: a command (or `/ready`) fails fast while Redis is down, and
    // the consumers' own backoff decides when to try again.
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(1))
}

fn unavailable(e: RedisError) -> Error {
    Error::Unavailable(e.to_string())
}

/// Parses the `envelope` field of a stream entry.
fn envelope(entry: &StreamId) -> Result<Envelope, Error> {
    let json: String = entry
        .get("envelope")
        .ok_or_else(|| Error::Malformed(format!("entry {} has no envelope", entry.id)))?;
    serde_json::from_str(&json).map_err(|e| Error::Malformed(format!("entry {}: {e}", entry.id)))
}

fn dead_letter(group: &str, entry: &StreamId) -> Result<DeadLetter, Error> {
    Ok(DeadLetter {
        group: group.to_owned(),
        event: envelope(entry)?,
        attempts: entry.get("attempts").unwrap_or(0),
        error: entry.get("error").unwrap_or_default(),
    })
}
