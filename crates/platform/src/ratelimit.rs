//! Rate limiting per client and route (GCRA), answering 429 with `Retry-After` and `RateLimit-*`
//! headers. The client is the verified calling service when the request carries a valid token,
//! else the peer address; `X-Forwarded-For` is believed only from trusted proxies (the rightmost
//! untrusted hop), since anyone can write that header.
//!
//! In one process the limiter is `governor`'s; with `REDIS_URL` the state lives in Redis (one
//! atomic Lua script, Redis' clock), so every instance of a service shares the budget. If Redis
//! cannot be reached the instance falls back to its own in-memory limiter rather than failing
//! open.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::auth::Caller;
use crate::problem::Problem;

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// GCRA over a Redis key. ARGV: emission interval and burst tolerance in microseconds. Returns
/// `{1, remaining}` or `{0, wait_us}`.
const GCRA: &str = r"
local t = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tau then
  return {0, tat - now - tau}
end
local new_tat = tat + t
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
return {1, math.floor((tau + t - (new_tat - now)) / t)}
";

#[derive(Clone)]
struct Shared {
    conn: redis::aio::ConnectionManager,
    script: Arc<redis::Script>,
    prefix: Arc<str>,
    emission_us: u64,
    tolerance_us: u64,
    /// After a Redis failure, requests skip Redis for a while instead of each waiting on it.
    breaker: Arc<crate::client::Breaker>,
}

/// The limiter of one service.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Keyed>,
    clock: DefaultClock,
    burst: u32,
    trusted_proxies: Arc<Vec<IpAddr>>,
    shared: Option<Shared>,
}

impl Limiter {
    /// `per_minute` sustained requests, `burst` at once, per client and route.
    pub fn new(per_minute: u32, burst: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst_nz = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(rate).allow_burst(burst_nz);
        Self {
            inner: Arc::new(
                RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            ),
            clock: DefaultClock::default(),
            burst: burst_nz.get(),
            trusted_proxies: Arc::new(trusted_proxies),
            shared: None,
        }
    }

    /// Keeps the state in Redis under `prefix`, shared by every instance.
    pub fn shared(
        mut self,
        conn: redis::aio::ConnectionManager,
        prefix: &str,
        per_minute: u32,
    ) -> Self {
        let emission_us = 60_000_000 / u64::from(per_minute.max(1));
        self.shared = Some(Shared {
            conn,
            script: Arc::new(redis::Script::new(GCRA)),
            prefix: Arc::from(prefix),
            emission_us,
            tolerance_us: emission_us * u64::from(self.burst.saturating_sub(1)),
            breaker: Arc::new(crate::client::Breaker::new(
                "redis-ratelimit",
                crate::client::BreakerConfig {
                    failure_threshold: 1,
                    open_for: std::time::Duration::from_secs(5),
                    half_open_permits: 1,
                },
            )),
        });
        self
    }

    /// Takes one request for `key`, from Redis when shared, else (or when Redis fails) locally.
    pub async fn take_async(&self, key: &str) -> Result<u32, u64> {
        if let Some(s) = self.shared.as_ref().filter(|s| s.breaker.acquire().is_ok()) {
            let mut conn = s.conn.clone();
            let res: Result<(i64, i64), _> = s
                .script
                .key(format!("{}:{key}", s.prefix))
                .arg(s.emission_us)
                .arg(s.tolerance_us)
                .invoke_async(&mut conn)
                .await;
            s.breaker.record(res.is_ok());
            match res {
                Ok((1, remaining)) => return Ok(u32::try_from(remaining.max(0)).unwrap_or(0)),
                Ok((_, wait_us)) => {
                    let wait = u64::try_from(wait_us.max(0)).unwrap_or(0);
                    return Err(wait.div_ceil(1_000_000).max(1));
                }
                Err(e) => {
                    metrics::counter!("rate_limit_backend_errors_total").increment(1);
                    tracing::debug!(error = %e, "shared rate limiter unavailable; limiting locally");
                }
            }
        }
        self.take(key)
    }

    /// Forgets clients idle long enough to be back at full burst (bounds memory).
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }

    /// Takes one request for `key`: `Ok(remaining)` or `Err(seconds to wait)`.
    pub fn take(&self, key: &str) -> Result<u32, u64> {
        match self.inner.check_key(&key.to_owned()) {
            Ok(snapshot) => Ok(snapshot.remaining_burst_capacity()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            }
        }
    }

    /// The client address, honouring `X-Forwarded-For` only from trusted proxies.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let hops: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|h| h.trim().parse().ok())
            .collect();
        Some(
            hops.into_iter()
                .rev()
                .find(|ip| !self.trusted_proxies.contains(ip))
                .unwrap_or(peer),
        )
    }
}

/// The key a request's token is taken under: client, method and route.
pub(crate) fn key(l: &Limiter, req: &Request) -> String {
    let client = match req.extensions().get::<Caller>() {
        Some(c) => format!("svc:{}", c.issuer),
        None => {
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip());
            l.client_ip(peer, req.headers())
                .map_or_else(|| "ip:unknown".to_owned(), |ip| format!("ip:{ip}"))
        }
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(crate::observe::UNMATCHED, MatchedPath::as_str);
    format!("{client}|{}|{route}", req.method())
}

/// Takes one token under `key` (see [`key`]): the remaining burst, or the 429 answer.
pub(crate) async fn admit(l: &Limiter, key: &str) -> Result<u32, Response> {
    l.take_async(key).await.map_err(|wait| {
        metrics::counter!("http_rate_limited_total").increment(1);
        let mut problem = Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit.exceeded")
            .title("Too many requests")
            .detail(format!("retry after {wait} s"));
        problem.retry_after = Some(wait);
        let mut res = problem.into_response();
        stamp(l, &mut res, 0);
        res.headers_mut()
            .insert("ratelimit-reset", HeaderValue::from(wait));
        res
    })
}

/// The budget left, on the response.
pub(crate) fn stamp(l: &Limiter, res: &mut Response, remaining: u32) {
    let h = res.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(l.burst));
    h.insert("ratelimit-remaining", HeaderValue::from(remaining));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_limit_is_refused_with_a_wait() {
        let l = Limiter::new(60, 3, vec![]);
        assert_eq!(l.take("a"), Ok(2));
        assert_eq!(l.take("a"), Ok(1));
        assert_eq!(l.take("a"), Ok(0));
        let wait = l.take("a").unwrap_err();
        assert!((1..=1).contains(&wait), "{wait}");
        assert!(l.take("b").is_ok(), "other clients keep their own budget");
    }

    /// With `REDIS_URL`, two limiters (two instances of a service) share one budget.
    #[tokio::test]
    async fn instances_share_one_budget_in_redis() {
        let Ok(url) = std::env::var("REDIS_URL") else {
            return;
        };
        let url = secrecy::SecretString::from(url);
        let prefix = format!("test:{}", ulid::Ulid::generate());
        let a =
            Limiter::new(60, 3, vec![]).shared(crate::redis::connect(&url).unwrap(), &prefix, 60);
        let b =
            Limiter::new(60, 3, vec![]).shared(crate::redis::connect(&url).unwrap(), &prefix, 60);
        assert_eq!(a.take_async("k").await, Ok(2));
        assert_eq!(b.take_async("k").await, Ok(1));
        assert_eq!(a.take_async("k").await, Ok(0));
        let wait = b.take_async("k").await.unwrap_err();
        assert!((1..=2).contains(&wait), "{wait}");
    }

    #[tokio::test]
    async fn an_unreachable_redis_falls_back_to_local_limits() {
        let url = secrecy::SecretString::from("redis://127.0.0.1:1".to_owned());
        let l = Limiter::new(1, 2, vec![]).shared(crate::redis::connect(&url).unwrap(), "x", 1);
        assert!(l.take_async("k").await.is_ok());
        assert!(l.take_async("k").await.is_ok());
        assert!(l.take_async("k").await.is_err(), "still limited, not open");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let l = Limiter::new(60, 3, vec![proxy]);
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.1.1.1, 2.2.2.2".parse().unwrap());
        let stranger: IpAddr = "9.9.9.9".parse().unwrap();
        assert_eq!(l.client_ip(Some(stranger), &h), Some(stranger));
        assert_eq!(
            l.client_ip(Some(proxy), &h),
            Some("2.2.2.2".parse().unwrap())
        );
    }
}
