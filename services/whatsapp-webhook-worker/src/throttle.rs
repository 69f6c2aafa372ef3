//! The per-sender inbound limit (abuse): applied in processing, not at the webhook, because one
//! delivery carries many senders and a 429 would only make Meta retry the whole delivery. A
//! message over its sender's limit is deferred (its job runs later, no attempt spent), never
//! dropped.
//!
//! The limiter is `governor`'s keyed GCRA, in memory **per replica**: with N processing replicas
//! a sender gets up to N times the rate. Order per contact: while a contact has deferred
//! messages, its later messages are deferred behind them (also in memory per replica).

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

/// A contact within a tenant.
type Key = (String, String);

/// Forget a contact's deferred queue this long after its last deferral (its head job is gone:
/// purged, or taken by another replica), so the contact is never held forever.
const HOLD_GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(120);

/// Gap between successive deferrals of one contact, so they run in the order they were deferred.
const STEP: chrono::TimeDelta = chrono::TimeDelta::milliseconds(1);

/// The deferred messages of one contact, oldest first, and when the last one runs.
struct Held {
    wamids: VecDeque<String>,
    last_until: DateTime<Utc>,
}

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Process it now.
    Go,
    /// Defer it until this time (`ordered`: behind an earlier deferred message of the contact).
    Defer { until: DateTime<Utc>, ordered: bool },
}

/// The per-sender limiter and the contacts it holds back.
pub(crate) struct Throttle {
    limiter: Option<DefaultKeyedRateLimiter<Key>>,
    held: Mutex<HashMap<Key, Held>>,
    checks: AtomicU64,
}

impl Throttle {
    /// `per_minute` messages a minute per sender with `burst` at once; `per_minute` 0 disables.
    pub(crate) fn new(per_minute: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
            DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        Self {
            limiter,
            held: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
        }
    }

    /// Decides for message `wamid` of `contact` in `tenant`.
    pub(crate) fn check(&self, tenant: &str, contact: &str, wamid: &str) -> Verdict {
        let Some(limiter) = &self.limiter else {
            return Verdict::Go;
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            limiter.retain_recent();
        }
        let key = (tenant.to_owned(), contact.to_owned());
        let now = Utc::now();
        let mut held = match self.held.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if held
            .get(&key)
            .is_some_and(|h| now > h.last_until + HOLD_GRACE)
        {
            held.remove(&key);
        }
        let Some(h) = held.get_mut(&key) else {
            return match wait(limiter, &key) {
                None => Verdict::Go,
                Some(until) => {
                    let wamids = VecDeque::from([wamid.to_owned()]);
                    held.insert(
                        key,
                        Held {
                            wamids,
                            last_until: until,
                        },
                    );
                    Verdict::Defer {
                        until,
                        ordered: false,
                    }
                }
            };
        };
        if h.wamids.front().is_some_and(|w| w == wamid) {
            // Its turn: the head of the contact's deferred queue.
            return match wait(limiter, &key) {
                None => {
                    h.wamids.pop_front();
                    if h.wamids.is_empty() {
                        held.remove(&key);
                    }
                    Verdict::Go
                }
                Some(until) => {
                    h.last_until = h.last_until.max(until);
                    Verdict::Defer {
                        until,
                        ordered: false,
                    }
                }
            };
        }
        if !h.wamids.iter().any(|w| w == wamid) {
            h.wamids.push_back(wamid.to_owned());
        }
        h.last_until = h.last_until.max(now) + STEP;
        Verdict::Defer {
            until: h.last_until,
            ordered: true,
        }
    }
}

/// `None` when `key` may send now (a cell is taken), else when it may.
fn wait(limiter: &DefaultKeyedRateLimiter<Key>, key: &Key) -> Option<DateTime<Utc>> {
    let not_until = limiter.check_key(key).err()?;
    let wait: Duration = not_until.wait_time_from(limiter.clock().now());
    let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::TimeDelta::seconds(60));
    Some(Utc::now() + wait.max(STEP))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deferred(v: Verdict) -> bool {
        matches!(v, Verdict::Defer { .. })
    }

    #[test]
    fn a_sender_over_its_burst_is_deferred_and_others_are_not() {
        let t = Throttle::new(60, 2);
        assert_eq!(t.check("t", "a", "1"), Verdict::Go);
        assert_eq!(t.check("t", "a", "2"), Verdict::Go);
        assert!(matches!(
            t.check("t", "a", "3"),
            Verdict::Defer { ordered: false, .. }
        ));
        assert!(matches!(
            t.check("t", "a", "4"),
            Verdict::Defer { ordered: true, .. }
        ));
        assert_eq!(t.check("t", "b", "5"), Verdict::Go, "another sender");
        assert_eq!(t.check("u", "a", "6"), Verdict::Go, "another tenant");
        // Only the head may go; the later message stays behind it.
        assert!(deferred(t.check("t", "a", "4")));
    }

    #[test]
    fn zero_disables_the_limit() {
        let t = Throttle::new(0, 0);
        for i in 0..100 {
            assert_eq!(t.check("t", "a", &i.to_string()), Verdict::Go);
        }
    }
}
