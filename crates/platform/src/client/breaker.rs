//! A circuit breaker per outbound dependency: after `failure_threshold` consecutive failures it
//! opens and refuses calls at once for `open_for`, then lets at most `half_open_permits` trial
//! calls through; one success closes it, one failure opens it again. Only failures that say
//! the dependency is unwell count (5xx, 429, timeouts, refused connections), never a 4xx.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Breaker settings.
#[derive(Debug, Clone, Copy)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit refuses calls.
    pub open_for: Duration,
    /// Trial calls allowed at once while half-open.
    pub half_open_permits: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(30),
            half_open_permits: 1,
        }
    }
}

/// The breaker's state, as exported (`circuit_breaker_state`: 0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Calls flow.
    Closed,
    /// Trial calls only.
    HalfOpen,
    /// Calls are refused.
    Open,
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { in_flight: u32 },
}

/// One dependency's breaker.
#[derive(Debug)]
pub struct Breaker {
    name: String,
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

/// The circuit is open: the call was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open;

impl Breaker {
    /// A closed breaker for dependency `name`.
    pub fn new(name: impl Into<String>, config: BreakerConfig) -> Self {
        let b = Self {
            name: name.into(),
            config,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        };
        b.export(State::Closed);
        b
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn export(&self, state: State) {
        let v = match state {
            State::Closed => 0.0,
            State::HalfOpen => 1.0,
            State::Open => 2.0,
        };
        metrics::gauge!("circuit_breaker_state", "dependency" => self.name.clone()).set(v);
    }

    /// The current state (an open circuit whose time is up reads as half-open).
    pub fn state(&self) -> State {
        match *self.lock() {
            Inner::Closed { .. } => State::Closed,
            Inner::HalfOpen { .. } => State::HalfOpen,
            Inner::Open { until } if Instant::now() >= until => State::HalfOpen,
            Inner::Open { .. } => State::Open,
        }
    }

    /// Asks to make a call.
    pub fn acquire(&self) -> Result<(), Open> {
        let mut g = self.lock();
        match &mut *g {
            Inner::Closed { .. } => Ok(()),
            Inner::Open { until } if Instant::now() >= *until => {
                *g = Inner::HalfOpen { in_flight: 1 };
                drop(g);
                self.export(State::HalfOpen);
                Ok(())
            }
            Inner::Open { .. } => Err(Open),
            Inner::HalfOpen { in_flight } if *in_flight < self.config.half_open_permits => {
                *in_flight += 1;
                Ok(())
            }
            Inner::HalfOpen { .. } => Err(Open),
        }
    }

    /// Reports the outcome of a call made after [`Breaker::acquire`].
    pub fn record(&self, healthy: bool) {
        let mut g = self.lock();
        let next = match (&mut *g, healthy) {
            (Inner::Closed { failures }, true) => {
                *failures = 0;
                None
            }
            (Inner::Closed { failures }, false) => {
                *failures += 1;
                (*failures >= self.config.failure_threshold).then_some(State::Open)
            }
            (Inner::HalfOpen { .. }, true) => Some(State::Closed),
            (Inner::HalfOpen { .. }, false) => Some(State::Open),
            // A call that started before the circuit opened: its outcome changes nothing.
            (Inner::Open { .. }, _) => None,
        };
        if let Some(state) = next {
            *g = match state {
                State::Closed => Inner::Closed { failures: 0 },
                _ => Inner::Open {
                    until: Instant::now() + self.config.open_for,
                },
            };
            drop(g);
            if state == State::Open {
                tracing::warn!(dependency = %self.name, "circuit opened");
            } else {
                tracing::info!(dependency = %self.name, "circuit closed");
            }
            self.export(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(
            "dep",
            BreakerConfig {
                failure_threshold: 3,
                open_for: Duration::from_secs(10),
                half_open_permits: 1,
            },
        )
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_and_probes_after_the_pause() {
        let b = breaker();
        for _ in 0..3 {
            b.acquire().unwrap();
            b.record(false);
        }
        assert_eq!(b.state(), State::Open);
        assert_eq!(b.acquire(), Err(Open));
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(b.acquire().is_ok(), "one trial call");
        assert_eq!(b.acquire(), Err(Open), "only one permit while half-open");
        b.record(true);
        assert_eq!(b.state(), State::Closed);
        assert!(b.acquire().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_trial_opens_the_circuit_again() {
        let b = breaker();
        for _ in 0..3 {
            b.record(false);
        }
        tokio::time::advance(Duration::from_secs(11)).await;
        b.acquire().unwrap();
        b.record(false);
        assert_eq!(b.state(), State::Open);
    }

    #[test]
    fn successes_reset_the_failure_count() {
        let b = breaker();
        b.record(false);
        b.record(false);
        b.record(true);
        b.record(false);
        b.record(false);
        assert_eq!(b.state(), State::Closed);
    }
}
