//! Exponential backoff with full jitter, shared by the bus, the job queue and outbound calls.

use std::time::Duration;

/// The delay before retry number `attempt` (1-based): a random point in
/// `[base * 2^(attempt-1) / 2, base * 2^(attempt-1)]`, capped at `cap`. Half-jitter keeps
/// retries spread out without ever retrying immediately.
pub fn delay(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let ceiling = base.saturating_mul(1u32 << exp).min(cap);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    let half = nanos / 2;
    Duration::from_nanos(half + rand::random_range(0..=nanos - half))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_within_bounds() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        for attempt in 1..=10 {
            let ceiling = (base * 2u32.pow(attempt - 1)).min(cap);
            let d = delay(attempt, base, cap);
            assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d:?}");
        }
    }
}
