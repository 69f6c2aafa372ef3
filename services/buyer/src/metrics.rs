//! Business metrics of the buyer service.

use std::time::Duration;

/// A purchase reached `outcome`: created, settled, cancelled, failed.
pub(crate) fn purchase(outcome: &'static str) {
    metrics::counter!("buyer_purchases_total", "service" => "buyer", "outcome" => outcome)
        .increment(1);
}

/// One run of a saga step (`outcome`: ok, refused, retry).
pub(crate) fn saga_step(step: &'static str, outcome: &'static str, elapsed: Duration) {
    metrics::histogram!("buyer_saga_step_duration_seconds", "service" => "buyer", "step" => step, "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

/// An intent entered `status`.
pub(crate) fn intent(status: &'static str) {
    metrics::counter!("buyer_intents_total", "service" => "buyer", "status" => status).increment(1);
}

/// A vendor event was applied (`outcome`: applied, duplicate, ignored).
pub(crate) fn event(kind: &str, outcome: &'static str) {
    metrics::counter!("buyer_events_total", "service" => "buyer", "type" => kind.to_owned(), "outcome" => outcome)
        .increment(1);
}
