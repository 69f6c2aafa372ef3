//! Business metrics of the ranking service.

use std::time::Duration;

/// One ranking request: how long scoring took and how many candidates it scored.
pub(crate) fn ranked(elapsed: Duration, candidates: usize) {
    metrics::histogram!("ranking_latency_seconds", "service" => "ranking")
        .record(elapsed.as_secs_f64());
    #[expect(clippy::cast_precision_loss, reason = "a count of vendors")]
    metrics::histogram!("ranking_candidates", "service" => "ranking").record(candidates as f64);
}

/// A buyer was exposed to an experiment's variant for the first time.
pub(crate) fn exposure(variant: &str) {
    metrics::counter!("ranking_experiment_exposures_total", "service" => "ranking", "variant" => variant.to_owned())
        .increment(1);
}

/// An event was applied to the projection (`outcome`: applied, duplicate, ignored).
pub(crate) fn event(kind: &str, outcome: &'static str) {
    metrics::counter!("ranking_events_total", "service" => "ranking", "type" => kind.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// A tenant and region had more vendors than `RANKING_MAX_CANDIDATES`: some were not ranked.
pub(crate) fn candidates_truncated() {
    metrics::counter!("ranking_candidates_truncated_total", "service" => "ranking").increment(1);
}
