//! One subscriber: reads its group's streams, takes over entries a dead consumer left pending,
//! and runs the group's retry pump beside it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::{AsyncCommands, RedisError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{RedisBus, envelope};
use crate::{Handler, Subscription, backoff};

/// Pause after a failed round grows from this...
const PAUSE_BASE: Duration = Duration::from_millis(100);
/// ...to at most this, so a consumer reconnects soon after Redis comes back.
const PAUSE_CAP: Duration = Duration::from_secs(5);

/// A subscriber of one group.
pub(super) struct Consumer {
    pub(super) bus: Arc<RedisBus>,
    pub(super) sub: Subscription,
    pub(super) handler: Handler,
    /// Unique per subscriber, so a restarted process never inherits a dead one's pending entries
    /// by name; they are taken over by idle time instead.
    name: String,
    streams: Vec<String>,
    /// Wakes the retry pump when this consumer schedules a retry.
    pub(super) retry_scheduled: Notify,
}

/// Where a delivery came from, so its outcome releases it there.
pub(super) enum Origin<'a> {
    /// A stream entry, acknowledged once its outcome is recorded.
    Stream { key: &'a str, entry_id: &'a str },
    /// A member of the group's retry set, removed once its outcome is final.
    Retry { id: &'a str },
}

pub(super) async fn run(
    bus: Arc<RedisBus>,
    mut sub: Subscription,
    handler: Handler,
    shutdown: CancellationToken,
) {
    // Every event gets at least one attempt, as on the in-process bus.
    sub.max_attempts = sub.max_attempts.max(1);
    let reader = match bus.reader() {
        Ok(reader) => reader,
        Err(e) => {
            tracing::error!(group = %sub.group, error = %e, "cannot open a Redis reader; not consuming");
            return;
        }
    };
    let streams = sub.types.iter().map(|t| bus.stream_key(t)).collect();
    let consumer = Consumer {
        name: format!("{}-{}", sub.group, ulid::Ulid::generate()),
        bus,
        sub,
        handler,
        streams,
        retry_scheduled: Notify::new(),
    };
    tokio::join!(
        consumer.read_loop(reader, &shutdown),
        consumer.retry_loop(&shutdown)
    );
    consumer.leave().await;
}

/// Sleeps `wait` unless shutdown comes first; false on shutdown.
pub(super) async fn pause(wait: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => false,
        () = tokio::time::sleep(wait) => true,
    }
}

/// The pause after `failures` failed rounds in a row.
pub(super) fn pause_after(failures: u32) -> Duration {
    backoff::delay(failures, PAUSE_BASE, PAUSE_CAP)
}

/// Progress of the read loop between rounds.
struct ReadState {
    groups_ready: bool,
    /// `XAUTOCLAIM` cursor per stream.
    cursors: Vec<String>,
    last_claim: Option<Instant>,
}

impl Consumer {
    async fn read_loop(&self, mut reader: ConnectionManager, shutdown: &CancellationToken) {
        if self.streams.is_empty() {
            shutdown.cancelled().await;
            return;
        }
        let mut state = ReadState {
            groups_ready: false,
            cursors: vec!["0-0".to_owned(); self.streams.len()],
            last_claim: None,
        };
        let mut failures = 0;
        while !shutdown.is_cancelled() {
            match self.read_round(&mut reader, &mut state, shutdown).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    // The stream or group vanished (a Redis without AOF restarted, or a manual
                    // delete): create them again rather than fail every round.
                    if e.code() == Some("NOGROUP") {
                        state.groups_ready = false;
                    }
                    failures += 1;
                    tracing::warn!(group = %self.sub.group, error = %e, "bus read failed; retrying");
                    if !pause(pause_after(failures), shutdown).await {
                        return;
                    }
                }
            }
        }
    }

    async fn read_round(
        &self,
        reader: &mut ConnectionManager,
        state: &mut ReadState,
        shutdown: &CancellationToken,
    ) -> Result<(), RedisError> {
        if !state.groups_ready {
            self.create_groups().await?;
            state.groups_ready = true;
        }
        let claim_every = (self.bus.config.visibility_timeout / 2).min(Duration::from_secs(1));
        if state.last_claim.is_none_or(|t| t.elapsed() >= claim_every) {
            state.last_claim = Some(Instant::now());
            self.take_over_stale(&mut state.cursors, shutdown).await?;
        }
        // Not raced against shutdown: entries a cancelled read had already taken would sit
        // unacknowledged for a whole visibility timeout. The block bounds the wait instead.
        let mut read = redis::cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(&self.sub.group)
            .arg(&self.name)
            .arg("COUNT")
            .arg(self.bus.config.batch)
            .arg("BLOCK")
            .arg(millis(self.bus.config.block))
            .arg("STREAMS")
            .arg(&self.streams);
        for _ in &self.streams {
            read.arg(">");
        }
        let reply: Option<StreamReadReply> = read.query_async(reader).await?;
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            for entry in stream.ids {
                if shutdown.is_cancelled() {
                    // Left pending: another consumer takes it over after the visibility timeout.
                    return Ok(());
                }
                self.handle(&stream.key, entry, 1).await;
            }
        }
        Ok(())
    }

    /// Creates the group on every stream at `0`, so events published before it are read too.
    async fn create_groups(&self) -> Result<(), RedisError> {
        let mut conn = self.bus.conn.clone();
        for key in &self.streams {
            let created: Result<(), RedisError> =
                conn.xgroup_create_mkstream(key, &self.sub.group, "0").await;
            match created {
                Err(e) if e.code() != Some("BUSYGROUP") => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Claims entries idle past the visibility timeout (their consumer died mid-handling).
    async fn take_over_stale(
        &self,
        cursors: &mut [String],
        shutdown: &CancellationToken,
    ) -> Result<(), RedisError> {
        let mut conn = self.bus.conn.clone();
        for (key, cursor) in self.streams.iter().zip(cursors.iter_mut()) {
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(key)
                .arg(&self.sub.group)
                .arg(&self.name)
                .arg(millis(self.bus.config.visibility_timeout))
                .arg(cursor.as_str())
                .arg("COUNT")
                .arg(self.bus.config.batch)
                .query_async(&mut conn)
                .await?;
            *cursor = reply.next_stream_id;
            for id in &reply.deleted_ids {
                tracing::error!(group = %self.sub.group, stream = %key, entry_id = %id,
                    "pending entry was trimmed from the stream before it was handled");
            }
            for entry in reply.claimed {
                if shutdown.is_cancelled() {
                    return Ok(());
                }
                let attempt = self.delivery_count(&mut conn, key, &entry.id).await?;
                self.handle(key, entry, attempt).await;
            }
        }
        Ok(())
    }

    /// Deliveries so far, from the pending list (`XAUTOCLAIM` has counted this one).
    async fn delivery_count(
        &self,
        conn: &mut ConnectionManager,
        key: &str,
        entry_id: &str,
    ) -> Result<u32, RedisError> {
        let pending: StreamPendingCountReply = conn
            .xpending_count(key, &self.sub.group, entry_id, entry_id, 1)
            .await?;
        let count = pending.ids.first().map_or(1, |p| p.times_delivered);
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Handles one stream entry as attempt number `attempt`.
    async fn handle(&self, key: &str, entry: StreamId, attempt: u32) {
        let origin = Origin::Stream {
            key,
            entry_id: &entry.id,
        };
        let event = match envelope(&entry) {
            Ok(event) => event,
            Err(e) => {
                // Only a foreign writer can produce this; it can never be handled, so it is
                // acknowledged rather than redelivered forever.
                tracing::error!(group = %self.sub.group, stream = %key, error = %e,
                    "malformed bus entry dropped");
                self.release(&origin).await;
                return;
            }
        };
        if attempt > self.sub.max_attempts {
            // Every attempt so far ended with its consumer gone (a crash, a kill): the event
            // itself may be what kills them, so it is not run again.
            let made = attempt - 1;
            let error = format!("the consumer stopped before finishing attempt {made}");
            self.dead_letter(&origin, &event, made, error).await;
            return;
        }
        match (self.handler)(event.clone()).await {
            Ok(()) => self.succeeded(&origin, &event).await,
            Err(e) => self.failed(&origin, &event, attempt, e.to_string()).await,
        }
    }

    /// On clean shutdown, removes this consumer from its groups unless it still owns entries
    /// (deleting it would drop them from the pending list, and so lose them).
    async fn leave(&self) {
        let mut conn = self.bus.conn.clone();
        for key in &self.streams {
            let pending: Result<StreamPendingCountReply, RedisError> = conn
                .xpending_consumer_count(key, &self.sub.group, "-", "+", 1, &self.name)
                .await;
            if matches!(&pending, Ok(p) if p.ids.is_empty()) {
                let removed: Result<usize, RedisError> = conn
                    .xgroup_delconsumer(key, &self.sub.group, &self.name)
                    .await;
                if let Err(e) = removed {
                    tracing::debug!(group = %self.sub.group, error = %e, "consumer not removed");
                }
            }
        }
    }
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
