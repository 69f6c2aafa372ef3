//! Read-through caches: in memory in one process, in Redis when `REDIS_URL` is set (so every
//! instance sees one copy and an invalidation reaches all of them). Entries expire after a TTL,
//! which bounds how long a read that raced a write can serve the old value. A cache failure is a
//! miss, never an error: the database stays the source of truth.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Breaker, BreakerConfig};

type Memory = quick_cache::sync::Cache<String, (Instant, Arc<str>)>;

#[derive(Clone)]
enum Backend {
    Memory(Arc<Memory>),
    Redis {
        conn: redis::aio::ConnectionManager,
        breaker: Arc<Breaker>,
    },
}

/// A named cache of JSON values.
#[derive(Clone)]
pub struct Cache {
    name: Arc<str>,
    ttl: Duration,
    backend: Backend,
}

impl Cache {
    /// A cache named `name`, holding up to `capacity` entries in memory (or every entry in Redis,
    /// under `<name>:`), each for `ttl`. Name it `<REDIS_KEY_PREFIX>:cache:<what>`.
    pub fn new(
        name: &str,
        capacity: usize,
        ttl: Duration,
        redis: Option<redis::aio::ConnectionManager>,
    ) -> Self {
        let backend = match redis {
            Some(conn) => Backend::Redis {
                conn,
                breaker: Arc::new(Breaker::new(
                    format!("redis-cache:{name}"),
                    BreakerConfig {
                        failure_threshold: 1,
                        open_for: Duration::from_secs(5),
                        half_open_permits: 1,
                    },
                )),
            },
            None => Backend::Memory(Arc::new(Memory::new(capacity.max(1)))),
        };
        Self {
            name: Arc::from(name),
            ttl,
            backend,
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.name)
    }

    fn count(&self, outcome: &'static str) {
        metrics::counter!("cache_requests_total", "cache" => self.name.to_string(), "outcome" => outcome)
            .increment(1);
    }

    /// The cached text for `key`.
    pub async fn get(&self, key: &str) -> Option<Arc<str>> {
        let hit = match &self.backend {
            Backend::Memory(m) => m
                .get(key)
                .filter(|(at, _)| at.elapsed() < self.ttl)
                .map(|(_, v)| v),
            Backend::Redis { conn, breaker } => {
                if breaker.acquire().is_err() {
                    None
                } else {
                    let mut c = conn.clone();
                    let r: redis::RedisResult<Option<String>> = c.get(self.key(key)).await;
                    breaker.record(r.is_ok());
                    r.ok().flatten().map(Arc::from)
                }
            }
        };
        self.count(if hit.is_some() { "hit" } else { "miss" });
        hit
    }

    /// Stores `value` under `key`.
    pub async fn put(&self, key: &str, value: &str) {
        match &self.backend {
            Backend::Memory(m) => m.insert(key.to_owned(), (Instant::now(), Arc::from(value))),
            Backend::Redis { conn, breaker } => {
                if breaker.acquire().is_ok() {
                    let mut c = conn.clone();
                    let r: redis::RedisResult<()> = c
                        .set_ex(self.key(key), value, self.ttl.as_secs().max(1))
                        .await;
                    breaker.record(r.is_ok());
                }
            }
        }
    }

    /// Drops `key` (call after the write commits).
    pub async fn invalidate(&self, key: &str) {
        match &self.backend {
            Backend::Memory(m) => {
                m.remove(key);
            }
            Backend::Redis { conn, breaker } => {
                // An invalidation is attempted even when the breaker is open: a stale entry is
                // worse than one slow call.
                let mut c = conn.clone();
                let r: redis::RedisResult<()> = c.del(self.key(key)).await;
                breaker.record(r.is_ok());
                if let Err(e) = r {
                    tracing::warn!(cache = %self.name, error = %e, "cache invalidation failed; entry expires with its TTL");
                }
            }
        }
    }

    /// The cached value for `key`, decoded.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let text = self.get(key).await?;
        serde_json::from_str(&text).ok()
    }

    /// Stores `value` as JSON.
    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) {
        if let Ok(text) = serde_json::to_string(value) {
            self.put(key, &text).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn round_trip(cache: &Cache) {
        let key = ulid::Ulid::generate().to_string();
        assert!(cache.get(&key).await.is_none());
        cache.put_json(&key, &serde_json::json!({"a": 1})).await;
        let v: serde_json::Value = cache.get_json(&key).await.unwrap();
        assert_eq!(v["a"], 1);
        cache.invalidate(&key).await;
        assert!(cache.get(&key).await.is_none());
    }

    #[tokio::test]
    async fn memory_entries_round_trip_and_invalidate() {
        round_trip(&Cache::new("t", 10, Duration::from_secs(60), None)).await;
    }

    #[tokio::test]
    async fn memory_entries_expire() {
        let c = Cache::new("t", 10, Duration::from_millis(1), None);
        c.put("k", "v").await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(c.get("k").await.is_none());
    }

    #[tokio::test]
    async fn redis_entries_round_trip_and_invalidate() {
        let Ok(url) = std::env::var("REDIS_URL") else {
            return;
        };
        let conn = crate::redis::connect(&secrecy::SecretString::from(url)).unwrap();
        round_trip(&Cache::new("t", 10, Duration::from_secs(60), Some(conn))).await;
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_a_miss_not_an_error() {
        let url = secrecy::SecretString::from("redis://127.0.0.1:1".to_owned());
        let c = Cache::new(
            "t",
            10,
            Duration::from_secs(60),
            Some(crate::redis::connect(&url).unwrap()),
        );
        c.put("k", "v").await;
        assert!(c.get("k").await.is_none());
    }
}
