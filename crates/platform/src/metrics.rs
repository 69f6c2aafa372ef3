//! Prometheus metrics: one recorder per process, every series labelled with its `service`, so
//! the thirteen services of `easymo up` share it and each `/metrics` shows only its own series.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds: sub-millisecond to the request timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls reuse it). Called from a Tokio runtime,
/// it also starts the upkeep that folds recorded histogram samples into their buckets, so memory
/// stays flat between scrapes.
pub fn install() {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), LATENCY_BUCKETS)
            .and_then(|b| b.install_recorder());
        match recorder {
            Ok(handle) => {
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    let h = handle.clone();
                    rt.spawn(async move {
                        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
                        loop {
                            tick.tick().await;
                            h.run_upkeep();
                        }
                    });
                }
                Some(handle)
            }
            Err(e) => {
                tracing::error!(error = %e, "metrics recorder could not be installed");
                None
            }
        }
    });
}

/// The Prometheus text for `service`: its own series plus the process' series.
pub fn render(service: &str) -> String {
    install();
    let Some(Some(handle)) = HANDLE.get() else {
        return String::new();
    };
    handle.run_upkeep();
    let own = format!("service=\"{service}\"");
    let mut out = String::new();
    for line in handle.render().lines() {
        if line.starts_with('#') || !line.contains("service=\"") || line.contains(&own) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&process::render());
    out
}

/// Process metrics read from `/proc` (Linux); empty elsewhere.
mod process {
    use std::fmt::Write;

    /// Kernel clock ticks per second; 100 on every Linux this runs on.
    const TICKS: f64 = 100.0;

    pub(super) fn render() -> String {
        let mut out = String::new();
        if let Some(rss) = rss_bytes() {
            let _ = writeln!(
                out,
                "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}"
            );
        }
        if let Some((cpu, threads, start)) = stat() {
            let _ = writeln!(
                out,
                "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}\n\
                 # TYPE process_threads gauge\nprocess_threads {threads}"
            );
            if let Some(boot) = boot_time() {
                let _ = writeln!(
                    out,
                    "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {}",
                    boot + start
                );
            }
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            let _ = writeln!(
                out,
                "# TYPE process_open_fds gauge\nprocess_open_fds {}",
                fds.count()
            );
        }
        out
    }

    /// Resident set size, from `VmRSS` in kB.
    pub(super) fn rss_bytes() -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    /// (cpu seconds, threads, start seconds after boot) from `/proc/self/stat`.
    fn stat() -> Option<(f64, u64, f64)> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name may hold spaces; fields are counted after its closing parenthesis.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let utime: f64 = f.get(11)?.parse().ok()?;
        let stime: f64 = f.get(12)?.parse().ok()?;
        let threads: u64 = f.get(17)?.parse().ok()?;
        let start: f64 = f.get(19)?.parse().ok()?;
        Some(((utime + stime) / TICKS, threads, start / TICKS))
    }

    fn boot_time() -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        stat.lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()
    }
}

/// Resident memory of this process in bytes (Linux), for benchmarks and the audit.
pub fn rss_bytes() -> Option<u64> {
    process::rss_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_sees_only_its_own_series_and_the_process() {
        install();
        metrics::counter!("kit_test_total", "service" => "alpha").increment(1);
        metrics::counter!("kit_test_total", "service" => "beta").increment(1);
        let text = render("alpha");
        assert!(
            text.contains("kit_test_total{service=\"alpha\"} 1"),
            "{text}"
        );
        assert!(!text.contains("service=\"beta\""));
        if cfg!(target_os = "linux") {
            assert!(text.contains("process_resident_memory_bytes"));
        }
    }
}
