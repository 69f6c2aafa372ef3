//! The in-process backend: one retained log of events; each consumer group keeps its own
//! offset, so a group that subscribes late (a service started after another published) still
//! receives everything still retained, as a Redis Streams group created at `0` would. Consumers of
//! one group share its events: each is handed to one of them.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{DeadLetter, Envelope, Handler, RETRY_CAP, Subscription, backoff};

/// Most events kept for groups that have not consumed them yet.
const RETAIN: usize = 100_000;

#[derive(Default)]
struct Group {
    types: HashSet<String>,
    /// Every offset below this one is acknowledged (or not of the group's types).
    next: u64,
    /// Offsets from `next` on that a consumer is handling, so the others skip them.
    taken: HashSet<u64>,
    /// Offsets past `next` already acknowledged, waiting for those before them.
    done: BTreeSet<u64>,
    /// Dead-lettered events put back for another try, served before the log.
    replays: VecDeque<Envelope>,
}

impl Group {
    fn advance(&mut self) {
        while self.done.remove(&self.next) {
            self.next += 1;
        }
    }
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
        let mut found = None;
        for (i, e) in log.iter().enumerate().skip(start) {
            let offset = base + u64::try_from(i).unwrap_or(u64::MAX);
            if g.taken.contains(&offset) || g.done.contains(&offset) {
                continue;
            }
            if g.types.contains(&e.kind) {
                g.taken.insert(offset);
                found = Some((e.clone(), Some(offset)));
                break;
            }
            // Not ours: skip it for good.
            g.done.insert(offset);
        }
        g.advance();
        found
    }

    fn ack(&self, group: &str, offset: Option<u64>) {
        let mut s = self.lock();
        if let (Some(g), Some(off)) = (s.groups.get_mut(group), offset) {
            g.taken.remove(&off);
            if off >= g.next {
                g.done.insert(off);
                g.advance();
            }
        }
        trim(&mut s);
    }

    /// Hands an event this consumer will not finish back to the rest of its group.
    fn release(&self, group: &str, event: Envelope, offset: Option<u64>) {
        if let Some(g) = self.lock().groups.get_mut(group) {
            match offset {
                Some(off) => {
                    g.taken.remove(&off);
                }
                None => g.replays.push_front(event),
            }
        }
        self.wake.notify_waiters();
    }

    async fn consume(&self, sub: Subscription, handler: Handler, shutdown: CancellationToken) {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.next_for(&sub.group) {
                Some((event, offset)) => {
                    if !self.deliver(&sub, &handler, event.clone(), &shutdown).await {
                        self.release(&sub.group, event, offset);
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
    // A group overtaken by the retention limit loses what was dropped; its bookkeeping moves on.
    let base = s.base;
    for g in s.groups.values_mut() {
        if g.next < base {
            g.next = base;
            g.done = g.done.split_off(&base);
            g.taken.retain(|off| *off >= base);
            g.advance();
        }
    }
}
