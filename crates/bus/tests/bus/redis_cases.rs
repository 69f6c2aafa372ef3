//! Cases only Redis can show: consumers in other processes dying, pending lists, trimming.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bus::{Bus, RedisConfig, Subscription, handler};
use tokio_util::sync::CancellationToken;

use crate::kit::{
    Backend, SETTLE, dead_letters_of, event, eventually, hang, pending, recorder, retries_waiting,
    seen,
};

pub async fn an_event_whose_consumer_died_mid_handling_is_redelivered(backend: &Backend) {
    let (taken, hung) = hang();
    let first = backend.bus().subscribe(
        Subscription::new("g", &["x.created"]),
        hung,
        CancellationToken::new(),
    );
    let e = event("x.created");
    backend.bus().publish(&e).await.unwrap();
    eventually("the first consumer takes the event", || {
        taken.load(Ordering::SeqCst) == 1
    })
    .await;
    first.abort();

    let bus = backend.bus_with_visibility(Duration::from_millis(200));
    let stop = CancellationToken::new();
    let (after, h) = recorder(Duration::ZERO);
    bus.subscribe(Subscription::new("g", &["x.created"]), h, stop.clone());
    eventually("another consumer takes the event over", || {
        !seen(&after).is_empty()
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(seen(&after), vec![e.id]);
    assert!(bus.dead_letters("g").await.unwrap().is_empty());
    assert_eq!(pending(backend, "x.created", "g").await, 0, "acknowledged");
    stop.cancel();
}

pub async fn an_event_that_keeps_killing_its_consumers_is_dead_lettered(backend: &Backend) {
    let bus = backend.bus_with_visibility(Duration::from_millis(200));
    let mut sub = Subscription::new("g", &["x.created"]);
    sub.max_attempts = 2;
    let e = event("x.created");
    bus.publish(&e).await.unwrap();
    for delivery in 1..=2 {
        let (taken, hung) = hang();
        let consumer = bus.subscribe(sub.clone(), hung, CancellationToken::new());
        eventually("a consumer takes the event", || {
            taken.load(Ordering::SeqCst) == 1
        })
        .await;
        consumer.abort();
        assert_eq!(
            pending(backend, "x.created", "g").await,
            1,
            "delivery {delivery}"
        );
    }

    let stop = CancellationToken::new();
    let (after, h) = recorder(Duration::ZERO);
    bus.subscribe(sub, h, stop.clone());
    let dead = dead_letters_of(&bus, "g", 1).await;
    assert_eq!(dead[0].event, e);
    assert_eq!(dead[0].attempts, 2);
    assert!(dead[0].error.contains("stopped"), "{}", dead[0].error);
    assert!(seen(&after).is_empty(), "not run a third time");
    assert_eq!(pending(backend, "x.created", "g").await, 0);

    assert!(bus.replay("g", &e.id).await.unwrap());
    eventually("the replay is handled", || !seen(&after).is_empty()).await;
    assert_eq!(seen(&after), vec![e.id]);
    stop.cancel();
}

pub async fn a_retry_whose_consumer_died_is_taken_again(backend: &Backend) {
    // Attempt 1 fails, attempt 2 (from the retry set) never finishes, attempt 3 succeeds.
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let flaky = handler(move |_| {
        let n = c.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            match n {
                1 => Err("not yet".into()),
                2 => std::future::pending().await,
                _ => Ok(()),
            }
        }
    });
    let bus = backend.bus_with_visibility(Duration::from_millis(300));
    let mut sub = Subscription::new("g", &["x.created"]);
    sub.retry_base = Duration::from_millis(10);
    let first = bus.subscribe(sub.clone(), flaky.clone(), CancellationToken::new());
    let e = event("x.created");
    bus.publish(&e).await.unwrap();
    eventually("the retry is taken", || calls.load(Ordering::SeqCst) == 2).await;
    first.abort();
    assert_eq!(
        retries_waiting(backend, "g").await,
        1,
        "leased, not removed"
    );

    let stop = CancellationToken::new();
    bus.subscribe(sub, flaky, stop.clone());
    eventually("the lease runs out and the retry is taken again", || {
        calls.load(Ordering::SeqCst) >= 3
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(retries_waiting(backend, "g").await, 0);
    assert!(bus.dead_letters("g").await.unwrap().is_empty());
    assert_eq!(pending(backend, "x.created", "g").await, 0);
    stop.cancel();
}

pub async fn streams_are_trimmed(backend: &Backend) {
    let Backend::Redis { url, prefix } = backend else {
        return;
    };
    let config = RedisConfig {
        max_len: 10,
        ..RedisConfig::default()
    };
    let bus = Bus::redis_with(url, prefix, config).unwrap();
    for _ in 0..1000 {
        bus.publish(&event("x.created")).await.unwrap();
    }
    let (mut conn, prefix) = backend.redis_conn().await.unwrap();
    let len: usize = redis::cmd("XLEN")
        .arg(format!("{prefix}:stream:x.created"))
        .query_async(&mut conn)
        .await
        .unwrap();
    // `MAXLEN ~` trims whole radix-tree nodes (100 entries by default), so a node's worth stays.
    assert!(len <= 10 + 100, "{len} entries kept");
}
