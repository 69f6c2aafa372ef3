//! The in-process backend: one retained log of events; each consumer group keeps its own
//! offset, so a group that subscribes late (a service started after another published) still
//! receives everything still retained, as a Redis Streams group created at `0` would.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{DeadLetter, Envelope, Handler, Subscription, backoff};

/// Most events kept for groups that have not consumed them yet.
const RETAIN: usize = 100_000;
/// Longest wait between retries.
const RETRY_CAP: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Group {
    types: HashSet<String>,
    /// Offset of the next event this group has not acknowledged.
    next: u64,
    /// Dead-lettered events put back for another try, served before the log.
    replays: VecDeque<Envelope>,
}

#[derive(Default)]
struct State {
    log: VecDeque<Envelope>,
    /// Offset of `log[0]`.
    base: u64,
    groups: HashMap<String, Group>,
    dead: Vec<DeadLetter>,
}

/// In-process bus.
#[derive(Default)]
pub struct MemoryBus {
    state: Mutex<State>,
    wake: Notify,
}

impl MemoryBus {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the log half-updated (every mutation is a
        // single push/pop), so a poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn publish(&self, event: Envelope) {
        {
            let mut s = self.lock();
            s.log.push_back(event);
            trim(&mut s);
        }
        self.wake.notify_waiters();
    }

    pub(crate) fn subscribe(
        self: &std::sync::Arc<Self>,
        sub: Subscription,
        handler: Handler,
        shutdown: CancellationToken,
    ) -> JoinHandle<()> {
        {
            let mut s = self.lock();
            let base = s.base;
            let g = s.groups.entry(sub.group.clone()).or_insert_with(|| Group {
                next: base,
                ..Group::default()
            });
            g.types.extend(sub.types.iter().cloned());
        }
        let bus = std::sync::Arc::clone(self);
        tokio::spawn(async move { bus.consume(sub, handler, shutdown).await })
    }

    /// The next event for `group` and the offset to acknowledge after it (`None` for a replay).
    fn next_for(&self, group: &str) -> Option<(Envelope, Option<u64>)> {
        let mut s = self.lock();
        let base = s.base;
        let State { log, groups, .. } = &mut *s;
        let g = groups.get_mut(group)?;
        if let Some(e) = g.replays.pop_front() {
            return Some((e, None));
        }
        let start = usize::try_from(g.next.saturating_sub(base)).unwrap_or(usize::MAX);
        for (i, e) in log.iter().enumerate().skip(start) {
            let offset = base + u64::try_from(i).unwrap_or(u64::MAX);
            if g.types.contains(&e.kind) {
                return Some((e.clone(), Some(offset)));
            }
            // Not ours: skip it for good.
            g.next = offset + 1;
        }
        None
    }

    fn ack(&self, group: &str, offset: Option<u64>) {
        let mut s = self.lock();
        if let (Some(g), Some(off)) = (s.groups.get_mut(group), offset) {
            g.next = g.next.max(off + 1);
        }
        trim(&mut s);
    }

    async fn consume(&self, sub: Subscription, handler: Handler, shutdown: CancellationToken) {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.next_for(&sub.group) {
                Some((event, offset)) => {
                    if !self.deliver(&sub, &handler, event, &shutdown).await {
                        return;
                    }
                    self.ack(&sub.group, offset);
                }
                None => {
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = &mut notified => {}
                    }
                }
            }
        }
    }

    /// Runs the handler until it succeeds or attempts run out; false when shutting down
    /// mid-retry (the event stays unacknowledged).
    async fn deliver(
        &self,
        sub: &Subscription,
        handler: &Handler,
        event: Envelope,
        shutdown: &CancellationToken,
    ) -> bool {
        let mut attempt = 1;
        loop {
            match handler(event.clone()).await {
                Ok(()) => {
                    metrics::counter!("bus_events_handled_total", "group" => sub.group.clone())
                        .increment(1);
                    return true;
                }
                Err(e) if attempt >= sub.max_attempts => {
                    tracing::error!(group = %sub.group, event_id = %event.id, kind = %event.kind,
                        attempts = attempt, error = %e, "event dead-lettered");
                    metrics::counter!("bus_events_dead_lettered_total", "group" => sub.group.clone())
                        .increment(1);
                    self.lock().dead.push(DeadLetter {
                        group: sub.group.clone(),
                        event,
                        attempts: attempt,
                        error: e.to_string(),
                    });
                    return true;
                }
                Err(e) => {
                    tracing::warn!(group = %sub.group, event_id = %event.id, attempt,
                        error = %e, "event handler failed; retrying");
                    metrics::counter!("bus_events_retried_total", "group" => sub.group.clone())
                        .increment(1);
                    let wait = backoff::delay(attempt, sub.retry_base, RETRY_CAP);
                    tokio::select! {
                        () = shutdown.cancelled() => return false,
                        () = tokio::time::sleep(wait) => {}
                    }
                    attempt += 1;
                }
            }
        }
    }

    pub(crate) fn dead_letters(&self, group: &str) -> Vec<DeadLetter> {
        self.lock()
            .dead
            .iter()
            .filter(|d| d.group == group)
            .cloned()
            .collect()
    }

    pub(crate) fn replay(&self, group: &str, event_id: &str) -> bool {
        let found = {
            let mut s = self.lock();
            let Some(pos) = s
                .dead
                .iter()
                .position(|d| d.group == group && d.event.id == event_id)
            else {
                return false;
            };
            let dl = s.dead.remove(pos);
            match s.groups.get_mut(group) {
                Some(g) => {
                    g.replays.push_back(dl.event);
                    true
                }
                None => false,
            }
        };
        self.wake.notify_waiters();
        found
    }
}

/// Drops events every group has acknowledged, and the oldest beyond [`RETAIN`].
fn trim(s: &mut State) {
    let min_next = s.groups.values().map(|g| g.next).min();
    let mut drop_below = min_next.unwrap_or(s.base);
    let len = u64::try_from(s.log.len()).unwrap_or(u64::MAX);
    let retain = u64::try_from(RETAIN).unwrap_or(u64::MAX);
    if len > retain {
        drop_below = drop_below.max(s.base + len - retain);
    }
    if min_next.is_none() && len <= retain {
        // No group yet: keep everything for the first subscribers.
        return;
    }
    while s.base < drop_below && s.log.pop_front().is_some() {
        s.base += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::{Bus, handler};

    fn event(kind: &str) -> Envelope {
        Envelope::new(kind, "test", "t1", serde_json::json!({"n": 1})).unwrap()
    }

    async fn eventually(mut f: impl FnMut() -> bool) {
        for _ in 0..2000 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("condition not reached");
    }

    #[tokio::test]
    async fn every_group_gets_each_event_of_its_types_once() {
        let bus = Bus::memory();
        let stop = CancellationToken::new();
        let a = Arc::new(AtomicU32::new(0));
        let b = Arc::new(AtomicU32::new(0));
        for (group, count) in [("a", a.clone()), ("b", b.clone())] {
            bus.subscribe(
                Subscription::new(group, &["x.created"]),
                handler(move |_| {
                    let c = count.clone();
                    async move {
                        c.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }
                }),
                stop.clone(),
            );
        }
        bus.publish(&event("x.created")).await.unwrap();
        bus.publish(&event("y.other")).await.unwrap();
        bus.publish(&event("x.created")).await.unwrap();
        eventually(|| a.load(Ordering::SeqCst) == 2 && b.load(Ordering::SeqCst) == 2).await;
        stop.cancel();
    }

    #[tokio::test]
    async fn late_subscribers_receive_retained_events() {
        let bus = Bus::memory();
        bus.publish(&event("x.created")).await.unwrap();
        let seen = Arc::new(AtomicU32::new(0));
        let s = seen.clone();
        let stop = CancellationToken::new();
        bus.subscribe(
            Subscription::new("late", &["x.created"]),
            handler(move |_| {
                let s = s.clone();
                async move {
                    s.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            }),
            stop.clone(),
        );
        eventually(|| seen.load(Ordering::SeqCst) == 1).await;
        stop.cancel();
    }

    #[tokio::test(start_paused = true)]
    async fn failing_events_are_retried_then_dead_lettered_and_can_be_replayed() {
        let bus = Bus::memory();
        let calls = Arc::new(AtomicU32::new(0));
        let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, h) = (calls.clone(), healthy.clone());
        let stop = CancellationToken::new();
        let mut sub = Subscription::new("g", &["x.created"]);
        sub.max_attempts = 3;
        bus.subscribe(
            sub,
            handler(move |_| {
                let (c, h) = (c.clone(), h.clone());
                async move {
                    c.fetch_add(1, Ordering::SeqCst);
                    if h.load(Ordering::SeqCst) {
                        Ok(())
                    } else {
                        Err("downstream refused".into())
                    }
                }
            }),
            stop.clone(),
        );
        let e = event("x.created");
        bus.publish(&e).await.unwrap();
        let mut dead = Vec::new();
        for _ in 0..200 {
            dead = bus.dead_letters("g").await;
            if !dead.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].attempts, 3);
        assert_eq!(dead[0].error, "downstream refused");
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        healthy.store(true, Ordering::SeqCst);
        assert!(bus.replay("g", &e.id).await);
        for _ in 0..200 {
            if calls.load(Ordering::SeqCst) == 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert!(bus.dead_letters("g").await.is_empty());
        assert!(
            !bus.replay("g", &e.id).await,
            "a replayed event is no longer dead"
        );
        stop.cancel();
    }
}
