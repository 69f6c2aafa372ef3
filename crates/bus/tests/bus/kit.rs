//! The backends under test and what the cases share.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bus::{Bus, DeadLetter, Envelope, Handler, RedisConfig, handler};

/// How long a case waits for an effect before failing.
pub const PATIENCE: Duration = Duration::from_secs(15);
/// How long a case watches for an effect that must not happen (a duplicate delivery).
pub const SETTLE: Duration = Duration::from_millis(400);

pub enum Backend {
    Memory(Bus),
    Redis { url: String, prefix: String },
}

impl Backend {
    pub fn memory() -> Self {
        Self::Memory(Bus::memory())
    }

    pub fn redis() -> Option<Self> {
        let url = std::env::var("REDIS_URL").ok()?;
        let prefix = format!("bustest-{}", ulid::Ulid::generate());
        Some(Self::Redis { url, prefix })
    }

    /// A handle on this backend's events; for Redis, a new connection, as another process has.
    pub fn bus(&self) -> Bus {
        self.bus_with_visibility(Duration::from_secs(10))
    }

    /// A handle whose consumers take over entries idle longer than `visibility`.
    pub fn bus_with_visibility(&self, visibility: Duration) -> Bus {
        match self {
            Self::Memory(bus) => bus.clone(),
            Self::Redis { url, prefix } => {
                let config = RedisConfig {
                    visibility_timeout: visibility,
                    block: Duration::from_millis(100),
                    ..RedisConfig::default()
                };
                Bus::redis_with(url, prefix, config).unwrap()
            }
        }
    }

    pub async fn redis_conn(&self) -> Option<(redis::aio::MultiplexedConnection, &str)> {
        let Self::Redis { url, prefix } = self else {
            return None;
        };
        let client = redis::Client::open(url.as_str()).unwrap();
        Some((
            client.get_multiplexed_async_connection().await.unwrap(),
            prefix,
        ))
    }

    /// Deletes the case's keys, so the shared server does not fill up with test data.
    pub async fn clean_up(&self) {
        let Some((mut conn, prefix)) = self.redis_conn().await else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query_async(&mut conn)
            .await
            .unwrap();
        if !keys.is_empty() {
            redis::cmd("DEL")
                .arg(keys)
                .exec_async(&mut conn)
                .await
                .unwrap();
        }
    }
}

pub fn event(kind: &str) -> Envelope {
    Envelope::new(kind, "test", "t1", serde_json::json!({"n": 1})).unwrap()
}

/// Event ids handled, in order.
pub type Seen = Arc<Mutex<Vec<String>>>;

/// A handler that records each event id, taking `work` per event.
pub fn recorder(work: Duration) -> (Seen, Handler) {
    let seen = Seen::default();
    let s = seen.clone();
    let h = handler(move |e: Envelope| {
        let s = s.clone();
        async move {
            tokio::time::sleep(work).await;
            s.lock().unwrap().push(e.id);
            Ok(())
        }
    });
    (seen, h)
}

pub fn seen(s: &Seen) -> Vec<String> {
    s.lock().unwrap().clone()
}

/// A handler that takes each event and never finishes, like a consumer killed mid-handling.
pub fn hang() -> (Arc<AtomicU32>, Handler) {
    let taken = Arc::new(AtomicU32::new(0));
    let t = taken.clone();
    let h = handler(move |_| {
        t.fetch_add(1, Ordering::SeqCst);
        std::future::pending()
    });
    (taken, h)
}

pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub async fn dead_letters_of(bus: &Bus, group: &str, n: usize) -> Vec<DeadLetter> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let dead = bus.dead_letters(group).await.unwrap();
        if dead.len() >= n {
            return dead;
        }
        assert!(tokio::time::Instant::now() < deadline, "no dead letter");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Entries of `kind`'s stream delivered to `group` and not yet acknowledged.
pub async fn pending(backend: &Backend, kind: &str, group: &str) -> usize {
    let (mut conn, prefix) = backend.redis_conn().await.unwrap();
    let summary: (usize, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg(format!("{prefix}:stream:{kind}"))
        .arg(group)
        .query_async(&mut conn)
        .await
        .unwrap();
    summary.0
}

/// Events waiting in `group`'s retry set (none on the in-process bus, which retries in place).
pub async fn retries_waiting(backend: &Backend, group: &str) -> usize {
    let Some((mut conn, prefix)) = backend.redis_conn().await else {
        return 0;
    };
    let set = format!("{prefix}:retry:{group}");
    let (waiting, records, attempts): (usize, usize, usize) = redis::pipe()
        .zcard(&set)
        .hlen(format!("{set}:events"))
        .hlen(format!("{set}:attempts"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        (records, attempts),
        (waiting, waiting),
        "retry state in step"
    );
    waiting
}
