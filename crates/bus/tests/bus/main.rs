//! The behaviour every backend shares. Each case runs on the in-process bus, and on Redis Streams
//! when `REDIS_URL` is set (CI runs the suite once without it and once with it); Redis cases are
//! skipped silently without it. Each Redis case works under its own key prefix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cases;
mod kit;
mod redis_cases;

use std::time::Duration;

use bus::Bus;
use kit::{Backend, event};

/// Runs each case against the memory bus and, with `REDIS_URL`, against Redis.
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $case() {
                super::cases::$case(&super::Backend::memory()).await;
            })*
        }
        mod redis_streams {
            $(#[tokio::test]
            async fn $case() {
                if let Some(backend) = super::Backend::redis() {
                    super::cases::$case(&backend).await;
                    backend.clean_up().await;
                }
            })*
        }
    };
}

/// Cases that need what only Redis has (other processes' consumers, pending lists).
macro_rules! on_redis {
    ($($case:ident),* $(,)?) => {
        mod redis_only {
            $(#[tokio::test]
            async fn $case() {
                if let Some(backend) = super::Backend::redis() {
                    super::redis_cases::$case(&backend).await;
                    backend.clean_up().await;
                }
            })*
        }
    };
}

on_every_backend!(
    every_group_gets_each_event_of_its_types_once,
    late_subscribers_receive_retained_events,
    failing_events_are_retried_then_dead_lettered_and_can_be_replayed,
    consumers_of_one_group_share_its_events,
);

on_redis!(
    an_event_whose_consumer_died_mid_handling_is_redelivered,
    an_event_that_keeps_killing_its_consumers_is_dead_lettered,
    a_retry_whose_consumer_died_is_taken_again,
    streams_are_trimmed,
);

#[tokio::test]
async fn a_redis_bus_starts_while_redis_is_down_and_ping_reports_it() {
    // Port 1 refuses connections: nothing listens there.
    let bus = Bus::redis("redis://127.0.0.1:1", "down").unwrap();
    let started = tokio::time::Instant::now();
    assert!(bus.ping().await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "ping fails fast"
    );
    assert!(bus.publish(&event("x.created")).await.is_err());
}

#[test]
fn a_redis_bus_needs_a_valid_url_and_a_runtime() {
    assert!(matches!(
        Bus::redis("redis://127.0.0.1:1", "x"),
        Err(bus::Error::Config(_))
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert!(matches!(
            Bus::redis("not a url", "x"),
            Err(bus::Error::Config(_))
        ));
    });
}

#[tokio::test]
async fn redis_ping_answers_when_redis_is_up() {
    if let Some(backend) = Backend::redis() {
        backend.bus().ping().await.unwrap();
    }
}
