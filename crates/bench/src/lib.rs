//! Benchmark tools. `loadgen` offers a fixed request rate (open loop: latency is measured from
//! when each request was due, so a slow server cannot hide its queueing, unlike closed-loop
//! tools); `bare-axum` is the baseline the full middleware stack is compared with.

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
}
