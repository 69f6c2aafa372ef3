//! The shared Redis connection of a service (rate limits, caches), when `REDIS_URL` is set.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};

use crate::health::Check;

/// A lazily connected, self-reconnecting handle: a service starts while Redis is down, and
/// `/ready` says so.
pub fn connect(url: &SecretString) -> Result<ConnectionManager, redis::RedisError> {
    let client = redis::Client::open(url.expose_secret())?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
        .set_number_of_retries(2);
    ConnectionManager::new_lazy_with_config(client, config)
}

/// A readiness check named `redis` (`PING`).
pub fn check(conn: &ConnectionManager) -> Check {
    let conn = conn.clone();
    Check::new("redis", move || {
        let mut conn = conn.clone();
        async move {
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    })
}
