//! Benchmark tools. `loadgen` offers a fixed request rate (open loop: latency is measured from
//! when each request was due, so a slow server cannot hide its queueing, unlike closed-loop
//! tools); `bare-axum` is the baseline the full middleware stack is compared with. The library holds
//! the loops the `*-load` binaries share: [`closed_loop`] (peak rate) and [`open_loop`] (latency
//! at an offered rate; `BENCH_TIMELINE=1` adds its latencies per 100 ms, on stderr).

/// The `p` quantile (0..=1) of sorted microsecond samples, in milliseconds.
pub fn quantile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let last = sorted_us.len() - 1;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a sample vector"
    )]
    let i = ((last as f64) * p).round() as usize;
    #[expect(clippy::cast_precision_loss, reason = "microseconds fit in f64")]
    let ms = sorted_us[i.min(last)] as f64 / 1000.0;
    ms
}

/// One measured run: how many operations finished, over how long, their latencies (sorted
/// microseconds) and how many failed.
#[derive(Debug, Default)]
pub struct Run {
    /// Wall time of the run, in seconds.
    pub secs: f64,
    /// Latency of every finished operation, sorted, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Operations that did not succeed.
    pub failed: u64,
}

impl Run {
    /// Finished operations per second (failed ones included).
    pub fn rate(&self) -> f64 {
        if self.secs <= 0.0 {
            return 0.0;
        }
        self.latencies_us.len() as f64 / self.secs
    }

    /// Successful operations per second.
    pub fn ok_rate(&self) -> f64 {
        if self.secs <= 0.0 {
            return 0.0;
        }
        (self.latencies_us.len() as f64 - self.failed as f64).max(0.0) / self.secs
    }

    /// The `p` quantile of the latencies, in milliseconds.
    pub fn ms(&self, p: f64) -> f64 {
        quantile_ms(&self.latencies_us, p)
    }
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Closed loop: `clients` workers each run `op(worker, n)` back to back for `secs` seconds (the
/// peak rate the server sustains with that many connections). `op` answers whether it succeeded.
pub async fn closed_loop<F, Fut>(clients: usize, secs: u64, op: F) -> Run
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|worker| {
            let (op, stop) = (Arc::clone(&op), Arc::clone(&stop));
            tokio::spawn(async move {
                let (mut lat, mut failed, mut n) = (Vec::new(), 0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let ok = op(worker, n).await;
                    lat.push(micros(t.elapsed()));
                    failed += u64::from(!ok);
                    n += 1;
                }
                (lat, failed)
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut run = Run::default();
    for t in tasks {
        if let Ok((lat, failed)) = t.await {
            run.latencies_us.extend(lat);
            run.failed += failed;
        }
    }
    run.secs = started.elapsed().as_secs_f64();
    run.latencies_us.sort_unstable();
    run
}

/// Open loop: `rate` operations per second for `secs` seconds, at most `clients` in flight;
/// each latency is measured from when the operation was **due**, so queueing (in the server or
/// for a free connection) is counted, not hidden.
///
/// Due instants come from a thread that sleeps to each one, not from tokio's timer: that timer
/// fires on whole milliseconds, so each millisecond's operations left together, up to 1 ms late,
/// and the lateness counted as the server's. Against a server that answers at once, 10,000/s
/// measured a p50 of 1.2 ms and a p99 of 2.4 ms that way, 0.14 ms and 0.6-1.3 ms this way. (The
/// thread spawning the operations itself, without the channel, cost the load 10% more CPU.)
pub async fn open_loop<F, Fut>(rate: u64, secs: u64, clients: usize, op: F) -> anyhow::Result<Run>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let op = Arc::new(op);
    let slots = Arc::new(tokio::sync::Semaphore::new(clients));
    let interval = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let count = u32::try_from(rate * secs)?;
    let started = Instant::now();
    let (due_tx, mut due_rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for i in 0..count {
            let due = started + interval * i;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if due_tx.send((u64::from(i), due)).is_err() {
                return;
            }
        }
    });
    let expected = usize::try_from(count)?;
    let mut tasks = Vec::with_capacity(expected);
    while let Some((i, due)) = due_rx.recv().await {
        let permit = Arc::clone(&slots).acquire_owned().await?;
        let op = Arc::clone(&op);
        tasks.push(tokio::spawn(async move {
            let ok = op(i).await;
            drop(permit);
            (micros(due.elapsed()), ok)
        }));
    }
    if tasks.len() < expected {
        anyhow::bail!("the pacing thread stopped early");
    }
    let mut run = Run::default();
    for t in tasks {
        let (us, ok) = t.await?;
        run.latencies_us.push(us);
        run.failed += u64::from(!ok);
    }
    if std::env::var_os("BENCH_TIMELINE").is_some() {
        timeline(&run.latencies_us, rate);
    }
    run.secs = started.elapsed().as_secs_f64();
    run.latencies_us.sort_unstable();
    Ok(run)
}

/// Prints (to stderr) the p50, p99 and worst latency of each 100 ms of due times, from latencies
/// in the order the operations were due: a tail that comes from one moment of the run, or
/// recurs at an interval, shows here and not in the run's quantiles.
fn timeline(in_due_order: &[u64], rate: u64) {
    let per_slice = usize::try_from(rate / 10).unwrap_or(usize::MAX).max(1);
    for (i, slice) in in_due_order.chunks(per_slice).enumerate() {
        let mut sorted = slice.to_vec();
        sorted.sort_unstable();
        #[expect(clippy::cast_precision_loss, reason = "a slice index")]
        let at = i as f64 / 10.0;
        eprintln!(
            "due {at:5.1} s: n {} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            sorted.len(),
            quantile_ms(&sorted, 0.5),
            quantile_ms(&sorted, 0.99),
            quantile_ms(&sorted, 1.0)
        );
    }
}

/// A small deterministic generator (xorshift64*), so runs are repeatable without a `rand`
/// dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; 0 is remapped).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        let n64 = u64::try_from(n).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next_u64() % n64).unwrap_or(0)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_the_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|x| x * 1000).collect();
        assert!(
            (quantile_ms(&v, 0.5) - 51.0).abs() < 1e-9
                || (quantile_ms(&v, 0.5) - 50.0).abs() < 1e-9
        );
        assert!((quantile_ms(&v, 0.99) - 99.0).abs() < 1.01);
        assert!((quantile_ms(&[], 0.5)).abs() < 1e-9);
    }

    #[test]
    fn the_generator_is_repeatable_and_in_range() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..1000 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            assert!(x < 10);
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            b.unit();
        }
        assert_eq!(Rng::new(1).below(0), 0);
    }

    #[tokio::test]
    async fn the_loops_count_what_they_ran() {
        let run = closed_loop(2, 1, |_, n| async move {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            n % 2 == 0
        })
        .await;
        assert!(run.latencies_us.len() >= 100, "{}", run.latencies_us.len());
        assert!(run.failed > 0 && run.ok_rate() < run.rate());
        let run = open_loop(200, 1, 8, |i| async move { i < 150 })
            .await
            .unwrap();
        assert_eq!(run.latencies_us.len(), 200);
        assert_eq!(run.failed, 50);
    }
}
