//! Send pacing: a token bucket per business number (Meta's throughput tier, 80 msg/s by default)
//! and one per (business number, customer) pair (Meta allows about one message every 6 s to one
//! customer, error 131056 past that). Callers wait for a slot instead of failing: a reply that
//! leaves a few milliseconds late beats one Meta refuses.
//!
//! The limiter runs on tokio's clock rather than governor's default one, so tests can pause
//! time and check the spacing exactly, with no real sleeping.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

/// Pacing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    /// Messages per second from one business number (Meta's default tier: 80; higher tiers
    /// go to 1,000). At most this many leave in any one second.
    pub per_number_per_second: NonZeroU32,
    /// Messages to one customer from one business number; `None` turns it off.
    pub per_recipient: Option<PairLimit>,
}

/// A per-customer token bucket: `burst` at once, then one per `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairLimit {
    /// Messages that may leave back to back.
    pub burst: NonZeroU32,
    /// Time to earn one more.
    pub every: Duration,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self {
            per_number_per_second: NonZeroU32::new(80).unwrap_or(NonZeroU32::MIN),
            // Meta: one message per 6 s per customer, with bursts that borrow from later slots
            // (up to 45), so a bot's text-then-buttons reply is not held back.
            per_recipient: Some(PairLimit {
                burst: NonZeroU32::new(45).unwrap_or(NonZeroU32::MIN),
                every: Duration::from_secs(6),
            }),
        }
    }
}

/// governor's clock, read from tokio's (pausable) time.
#[derive(Debug, Clone)]
struct TokioClock {
    start: tokio::time::Instant,
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.start.elapsed())
    }
}

type Keyed<K> = RateLimiter<K, DashMapStateStore<K>, TokioClock, NoOpMiddleware<Nanos>>;

/// Keys are dropped once their buckets are full again, every this many acquisitions, so a
/// long-running sender's memory does not grow with every customer it ever wrote to.
const SWEEP_EVERY: u64 = 4096;

/// The limiter shared by every send of one client.
pub struct SendLimiter {
    clock: TokioClock,
    per_number: Keyed<String>,
    per_pair: Option<Keyed<(String, String)>>,
    acquired: AtomicU64,
}

impl fmt::Debug for SendLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendLimiter")
            .field("numbers", &self.per_number.len())
            .field("pairs", &self.per_pair.as_ref().map(Keyed::len))
            .finish()
    }
}

impl SendLimiter {
    /// A limiter with these settings. It reads tokio's clock, so under paused time (tests)
    /// it follows the paused clock.
    pub fn new(limits: SendLimits) -> Self {
        let clock = TokioClock {
            start: tokio::time::Instant::now(),
        };
        let per_number = RateLimiter::new(
            Quota::per_second(limits.per_number_per_second),
            DashMapStateStore::default(),
            clock.clone(),
        );
        let per_pair = limits.per_recipient.and_then(|p| {
            let quota = Quota::with_period(p.every)?.allow_burst(p.burst);
            Some(RateLimiter::new(
                quota,
                DashMapStateStore::default(),
                clock.clone(),
            ))
        });
        Self {
            clock,
            per_number,
            per_pair,
            acquired: AtomicU64::new(0),
        }
    }

    /// Waits until `number` (a business `phone_number_id`) may send to `recipient`, then takes
    /// the slot. The per-customer slot is taken first: its wait is the long one, and taking
    /// the number's slot before it would waste throughput other customers could use.
    pub async fn until_ready(&self, number: &str, recipient: &str) {
        if let Some(pairs) = &self.per_pair {
            let key = (number.to_owned(), recipient.to_owned());
            self.wait(pairs, &key).await;
        }
        self.wait(&self.per_number, &number.to_owned()).await;
        if self.acquired.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
    }

    async fn wait<K>(&self, limiter: &Keyed<K>, key: &K)
    where
        K: std::hash::Hash + Eq + Clone,
    {
        while let Err(not_until) = limiter.check_key(key) {
            let wait = not_until.wait_time_from(self.clock.now());
            metrics::counter!("wa_send_throttled_total").increment(1);
            // A zero wait can only come from rounding; yield so the loop cannot spin hot.
            if wait.is_zero() {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(wait).await;
            }
        }
    }

    fn sweep(&self) {
        self.per_number.retain_recent();
        if let Some(p) = &self.per_pair {
            p.retain_recent();
            p.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;

    fn limits(per_second: u32, pair: Option<(u32, u64)>) -> SendLimits {
        SendLimits {
            per_number_per_second: NonZeroU32::new(per_second).unwrap(),
            per_recipient: pair.map(|(burst, secs)| PairLimit {
                burst: NonZeroU32::new(burst).unwrap(),
                every: Duration::from_secs(secs),
            }),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn sends_from_one_number_are_spaced_to_its_rate() {
        let l = SendLimiter::new(limits(2, None));
        let start = Instant::now();
        for i in 0..5 {
            l.until_ready("n1", &format!("c{i}")).await;
        }
        // A burst of 2, then one every 500 ms: the 5th leaves at 1.5 s.
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
    }

    #[tokio::test(start_paused = true)]
    async fn two_numbers_do_not_wait_for_each_other() {
        let l = SendLimiter::new(limits(2, None));
        let start = Instant::now();
        for n in ["n1", "n2"] {
            l.until_ready(n, "c").await;
            l.until_ready(n, "c").await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn one_customer_is_paced_by_the_pair_limit() {
        let l = SendLimiter::new(limits(80, Some((2, 6))));
        let start = Instant::now();
        l.until_ready("n1", "c1").await;
        l.until_ready("n1", "c1").await;
        l.until_ready("n1", "c2").await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "burst of 2, other customers free"
        );
        l.until_ready("n1", "c1").await;
        assert_eq!(start.elapsed(), Duration::from_secs(6));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_waiters_all_get_a_slot() {
        let l = std::sync::Arc::new(SendLimiter::new(limits(10, None)));
        let start = Instant::now();
        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let l = l.clone();
                tokio::spawn(async move { l.until_ready("n1", &format!("c{i}")).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // 10 at once, then 20 more at 100 ms each.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
