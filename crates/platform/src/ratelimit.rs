//! Rate limiting per client and route (GCRA, from `governor`), answering 429 with `Retry-After`
//! and `RateLimit-*` headers. The client is the verified calling service when the request carries
//! a valid token, else the peer address; `X-Forwarded-For` is believed only from trusted proxies
//! (the rightmost untrusted hop), since anyone can write that header.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::auth::Caller;
use crate::problem::Problem;

type Keyed =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The limiter of one service.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Keyed>,
    clock: DefaultClock,
    burst: u32,
    trusted_proxies: Arc<Vec<IpAddr>>,
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
        }
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

/// Middleware: one token per request, keyed by client, method and route.
pub async fn limit(State(l): State<Limiter>, req: Request, next: Next) -> Response {
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
    let key = format!("{client}|{}|{route}", req.method());
    match l.take(&key) {
        Ok(remaining) => {
            let mut res = next.run(req).await;
            let h = res.headers_mut();
            h.insert("ratelimit-limit", HeaderValue::from(l.burst));
            h.insert("ratelimit-remaining", HeaderValue::from(remaining));
            res
        }
        Err(wait) => {
            metrics::counter!("http_rate_limited_total").increment(1);
            let mut problem = Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit.exceeded")
                .title("Too many requests")
                .detail(format!("retry after {wait} s"));
            problem.retry_after = Some(wait);
            let mut res = problem.into_response();
            let h = res.headers_mut();
            h.insert("ratelimit-limit", HeaderValue::from(l.burst));
            h.insert("ratelimit-remaining", HeaderValue::from(0));
            h.insert("ratelimit-reset", HeaderValue::from(wait));
            res
        }
    }
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
