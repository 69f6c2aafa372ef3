//! What happens after a delivery (acknowledge, schedule a retry, dead-letter), and the retry pump.
//!
//! Each outcome is one `MULTI` that records the new state and releases the delivery together, so a
//! crash between the two cannot lose the event (nor acknowledge it without its retry). The pump
//! leases due retries by pushing their score forward instead of removing them: a pump that dies
//! mid-handling leaves them to be taken again when the lease runs out.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::{Pipeline, RedisError, Script};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::RedisBus;
use super::consumer::{Consumer, Origin, millis, pause, pause_after};
use crate::{Envelope, Error, RETRY_CAP};

/// Longest the pump sleeps without looking: retries scheduled by other processes do not wake it.
const POLL: Duration = Duration::from_millis(500);

/// Takes up to `ARGV[3]` members due by `ARGV[1]`, leases them until `ARGV[2]` and counts the
/// attempt they start. Returns the next due score (or "") then `id, attempts, record` triples.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(due) do
  local record = redis.call('HGET', KEYS[2], id)
  if record then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    local n = redis.call('HINCRBY', KEYS[3], id, 1)
    table.insert(out, id)
    table.insert(out, tostring(n))
    table.insert(out, record)
  else
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[3], id)
  end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
table.insert(out, 1, first[2] or '')
return out
",
    )
});

/// Moves dead entry `ARGV[1]` back as retry `ARGV[2]` (record `ARGV[3]`, due `ARGV[4]`) with fresh
/// attempts. Only the caller whose `XDEL` removed the entry re-adds it, so a double replay is 0.
static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[2], 0)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
return 1
",
    )
});

/// A retry's state, stored in `{prefix}:retry:{group}:events`.
#[derive(Serialize, Deserialize)]
struct Record {
    event: Envelope,
    /// The last attempt's error, reported if the event dies without another one.
    error: String,
}

impl Consumer {
    pub(super) async fn retry_loop(&self, shutdown: &CancellationToken) {
        let mut failures = 0;
        while !shutdown.is_cancelled() {
            let wait = match self.retry_round(shutdown).await {
                Ok(Some(wait)) => {
                    failures = 0;
                    wait
                }
                // Some were due: there may be more.
                Ok(None) => continue,
                Err(e) => {
                    failures += 1;
                    tracing::warn!(group = %self.sub.group, error = %e, "bus retry pump failed");
                    pause_after(failures)
                }
            };
            tokio::select! {
                () = self.retry_scheduled.notified() => {}
                ok = pause(wait, shutdown) => if !ok { return },
            }
        }
    }

    /// Handles the due retries; `None` when it handled some, else how long until the next.
    async fn retry_round(
        &self,
        shutdown: &CancellationToken,
    ) -> Result<Option<Duration>, RedisError> {
        let keys = self.bus.retry_keys(&self.sub.group);
        let now = now_ms();
        let reply: Vec<String> = CLAIM
            .key(&keys.set)
            .key(&keys.events)
            .key(&keys.attempts)
            .arg(now)
            .arg(now + millis(self.bus.config.visibility_timeout))
            .arg(self.bus.config.batch)
            .invoke_async(&mut self.bus.conn.clone())
            .await?;
        let mut reply = reply.into_iter();
        let next_due = reply.next().and_then(|s| s.parse::<f64>().ok());
        let mut handled = false;
        while let (Some(id), Some(attempt), Some(record)) =
            (reply.next(), reply.next(), reply.next())
        {
            if shutdown.is_cancelled() {
                // Still leased: taken again when the lease runs out.
                return Ok(Some(POLL));
            }
            handled = true;
            let attempt = attempt.parse().unwrap_or(u32::MAX);
            self.handle_retry(&id, attempt, &record).await;
        }
        if handled {
            return Ok(None);
        }
        // Scores are whole milliseconds, well inside f64's exact range.
        let until_due = next_due.map_or(POLL, |due| {
            Duration::from_millis((due as u64).saturating_sub(now))
        });
        Ok(Some(until_due.min(POLL)))
    }

    async fn handle_retry(&self, id: &str, attempt: u32, record: &str) {
        let origin = Origin::Retry { id };
        let record: Record = match serde_json::from_str(record) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(group = %self.sub.group, event_id = %id, error = %e,
                    "malformed retry record dropped");
                self.release(&origin).await;
                return;
            }
        };
        if attempt > self.sub.max_attempts {
            // The lease ran out with no outcome: the pump died mid-handling (see `Consumer::handle`).
            let made = attempt - 1;
            let error = format!(
                "the consumer stopped before finishing attempt {made}; previous error: {}",
                record.error
            );
            self.dead_letter(&origin, &record.event, made, error).await;
            return;
        }
        match (self.handler)(record.event.clone()).await {
            Ok(()) => self.succeeded(&origin, &record.event).await,
            Err(e) => {
                self.failed(&origin, &record.event, attempt, e.to_string())
                    .await;
            }
        }
    }

    pub(super) async fn succeeded(&self, origin: &Origin<'_>, event: &Envelope) {
        metrics::counter!("bus_events_handled_total", "group" => self.sub.group.clone())
            .increment(1);
        tracing::debug!(group = %self.sub.group, event_id = %event.id, "event handled");
        self.release(origin).await;
    }

    /// Records failed attempt number `attempt`: schedules the next one, or dead-letters.
    pub(super) async fn failed(
        &self,
        origin: &Origin<'_>,
        event: &Envelope,
        attempt: u32,
        error: String,
    ) {
        if attempt >= self.sub.max_attempts {
            self.dead_letter(origin, event, attempt, error).await;
            return;
        }
        let wait = crate::backoff::delay(attempt, self.sub.retry_base, RETRY_CAP);
        tracing::warn!(group = %self.sub.group, event_id = %event.id, attempt, error = %error,
            "event handler failed; retrying");
        let keys = self.bus.retry_keys(&self.sub.group);
        let record = match serde_json::to_string(&Record {
            event: event.clone(),
            error,
        }) {
            Ok(r) => r,
            Err(e) => return self.unrecorded(event, &e.to_string()),
        };
        let mut pipe = redis::pipe();
        pipe.atomic().hset(&keys.events, &event.id, record).ignore();
        if let Origin::Stream { .. } = origin {
            // From the retry set the claim already counted this attempt.
            pipe.hset(&keys.attempts, &event.id, attempt).ignore();
        }
        pipe.zadd(&keys.set, &event.id, now_ms() + millis(wait))
            .ignore();
        if let Origin::Stream { .. } = origin {
            self.release_in(&mut pipe, origin);
        }
        if self.commit(&pipe, event).await {
            metrics::counter!("bus_events_retried_total", "group" => self.sub.group.clone())
                .increment(1);
            self.retry_scheduled.notify_one();
        }
    }

    /// Moves the event to the group's dead-letter stream and releases it.
    pub(super) async fn dead_letter(
        &self,
        origin: &Origin<'_>,
        event: &Envelope,
        attempts: u32,
        error: String,
    ) {
        let json = match serde_json::to_string(event) {
            Ok(j) => j,
            Err(e) => return self.unrecorded(event, &e.to_string()),
        };
        tracing::error!(group = %self.sub.group, event_id = %event.id, kind = %event.kind,
            attempts, error = %error, "event dead-lettered");
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XADD")
            .arg(self.bus.dead_key(&self.sub.group))
            .arg("*")
            .arg("id")
            .arg(&event.id)
            .arg("envelope")
            .arg(json)
            .arg("error")
            .arg(error)
            .arg("attempts")
            .arg(attempts)
            .ignore();
        self.release_in(&mut pipe, origin);
        if self.commit(&pipe, event).await {
            metrics::counter!("bus_events_dead_lettered_total", "group" => self.sub.group.clone())
                .increment(1);
        }
    }

    /// Acknowledges the delivery, or removes it from the retry set.
    pub(super) async fn release(&self, origin: &Origin<'_>) {
        let mut pipe = redis::pipe();
        pipe.atomic();
        self.release_in(&mut pipe, origin);
        if let Err(e) = pipe.exec_async(&mut self.bus.conn.clone()).await {
            tracing::warn!(group = %self.sub.group, error = %e,
                "bus acknowledgement failed; the event will be delivered again");
        }
    }

    fn release_in(&self, pipe: &mut Pipeline, origin: &Origin<'_>) {
        match origin {
            Origin::Stream { key, entry_id } => {
                pipe.xack(*key, &self.sub.group, &[*entry_id]).ignore();
            }
            Origin::Retry { id } => {
                let keys = self.bus.retry_keys(&self.sub.group);
                pipe.zrem(&keys.set, *id).ignore();
                pipe.hdel(&keys.events, *id).ignore();
                pipe.hdel(&keys.attempts, *id).ignore();
            }
        }
    }

    /// Runs an outcome's transaction; on failure the delivery stays unreleased and comes back.
    async fn commit(&self, pipe: &Pipeline, event: &Envelope) -> bool {
        match pipe.exec_async(&mut self.bus.conn.clone()).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(group = %self.sub.group, event_id = %event.id, error = %e,
                    "bus outcome not recorded; the event will be delivered again");
                false
            }
        }
    }

    fn unrecorded(&self, event: &Envelope, error: &str) {
        tracing::error!(group = %self.sub.group, event_id = %event.id, error,
            "event not serialisable; left to be delivered again");
    }
}

/// Puts dead entry `entry_id` of `group` back in its retry set, due now.
pub(super) async fn replay(
    bus: &RedisBus,
    group: &str,
    entry_id: &str,
    event: Envelope,
) -> Result<bool, Error> {
    let keys = bus.retry_keys(group);
    let id = event.id.clone();
    let record = serde_json::to_string(&Record {
        event,
        error: String::new(),
    })
    .map_err(|e| Error::Malformed(e.to_string()))?;
    let moved: i64 = REPLAY
        .key(bus.dead_key(group))
        .key(&keys.set)
        .key(&keys.events)
        .key(&keys.attempts)
        .arg(entry_id)
        .arg(&id)
        .arg(record)
        .arg(now_ms())
        .invoke_async(&mut bus.conn.clone())
        .await
        .map_err(super::unavailable)?;
    Ok(moved == 1)
}

fn now_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    millis(since_epoch)
}
