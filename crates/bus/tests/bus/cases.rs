//! Cases every backend passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use bus::{Subscription, handler};
use tokio_util::sync::CancellationToken;

use crate::kit::{
    Backend, SETTLE, dead_letters_of, event, eventually, recorder, retries_waiting, seen,
};

pub async fn every_group_gets_each_event_of_its_types_once(backend: &Backend) {
    let bus = backend.bus();
    let stop = CancellationToken::new();
    let (a, ha) = recorder(Duration::ZERO);
    let (b, hb) = recorder(Duration::ZERO);
    bus.subscribe(Subscription::new("a", &["x.created"]), ha, stop.clone());
    bus.subscribe(Subscription::new("b", &["x.created"]), hb, stop.clone());
    let (first, second) = (event("x.created"), event("x.created"));
    bus.publish(&first).await.unwrap();
    bus.publish(&event("y.other")).await.unwrap();
    bus.publish(&second).await.unwrap();

    eventually("both groups handle both events", || {
        seen(&a).len() >= 2 && seen(&b).len() >= 2
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    let want = vec![first.id, second.id];
    assert_eq!(seen(&a), want);
    assert_eq!(seen(&b), want);
    stop.cancel();
}

pub async fn late_subscribers_receive_retained_events(backend: &Backend) {
    let bus = backend.bus();
    let early = event("x.created");
    bus.publish(&early).await.unwrap();
    let stop = CancellationToken::new();
    let (late, h) = recorder(Duration::ZERO);
    bus.subscribe(Subscription::new("late", &["x.created"]), h, stop.clone());

    eventually("the late group handles the event", || {
        !seen(&late).is_empty()
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(seen(&late), vec![early.id]);
    stop.cancel();
}

pub async fn failing_events_are_retried_then_dead_lettered_and_can_be_replayed(backend: &Backend) {
    let bus = backend.bus();
    let calls = Arc::new(AtomicU32::new(0));
    let healthy = Arc::new(AtomicBool::new(false));
    let (c, h) = (calls.clone(), healthy.clone());
    let stop = CancellationToken::new();
    let mut sub = Subscription::new("g", &["x.created"]);
    sub.max_attempts = 3;
    sub.retry_base = Duration::from_millis(10);
    let failing = handler(move |_| {
        let (c, h) = (c.clone(), h.clone());
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            if h.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("downstream refused".into())
            }
        }
    });
    bus.subscribe(sub, failing, stop.clone());
    let e = event("x.created");
    bus.publish(&e).await.unwrap();

    let dead = dead_letters_of(&bus, "g", 1).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3, "tried max_attempts times");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].group, "g");
    assert_eq!(dead[0].event, e);
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].error, "downstream refused");
    assert_eq!(retries_waiting(backend, "g").await, 0, "dead, not waiting");
    assert!(bus.dead_letters("other").await.unwrap().is_empty());

    healthy.store(true, Ordering::SeqCst);
    assert!(!bus.replay("g", "no-such-event").await.unwrap());
    assert!(bus.replay("g", &e.id).await.unwrap());
    eventually("the replayed event is handled", || {
        calls.load(Ordering::SeqCst) >= 4
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(calls.load(Ordering::SeqCst), 4, "a replay is handled once");
    assert!(bus.dead_letters("g").await.unwrap().is_empty());
    assert_eq!(retries_waiting(backend, "g").await, 0);
    assert!(
        !bus.replay("g", &e.id).await.unwrap(),
        "a replayed event is no longer dead"
    );
    stop.cancel();
}

pub async fn consumers_of_one_group_share_its_events(backend: &Backend) {
    // Two handles, as two processes of one service would have.
    let (one, two) = (backend.bus(), backend.bus());
    let stop = CancellationToken::new();
    let (a, ha) = recorder(Duration::from_millis(20));
    let (b, hb) = recorder(Duration::from_millis(20));
    one.subscribe(Subscription::new("g", &["x.created"]), ha, stop.clone());
    two.subscribe(Subscription::new("g", &["x.created"]), hb, stop.clone());
    let mut published = Vec::new();
    for _ in 0..20 {
        let e = event("x.created");
        one.publish(&e).await.unwrap();
        published.push(e.id);
    }

    eventually("every event is handled", || {
        seen(&a).len() + seen(&b).len() >= 20
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    let (a, b) = (seen(&a), seen(&b));
    assert!(
        !a.is_empty() && !b.is_empty(),
        "both consumers work: {a:?} / {b:?}"
    );
    let mut handled: Vec<String> = a.into_iter().chain(b).collect();
    handled.sort();
    published.sort();
    assert_eq!(
        handled, published,
        "each event handled once across the group"
    );
    stop.cancel();
}
