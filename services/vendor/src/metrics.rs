//! Business metrics of the vendor service.

use std::time::Duration;

/// A quote request ended (`outcome`: created, subscription_required, intent_unknown,
/// intent_closed, duplicate, ...).
pub(crate) fn quote(outcome: &'static str) {
    metrics::counter!("vendor_quotes_total", "service" => "vendor", "outcome" => outcome)
        .increment(1);
}

/// The paywall refused a quote.
pub(crate) fn paywall_refused() {
    metrics::counter!("vendor_paywall_refusals_total", "service" => "vendor").increment(1);
}

/// A quote left `pending` (`to`: accepted, rejected, expired).
pub(crate) fn quote_closed(to: &'static str, n: u64) {
    metrics::counter!("vendor_quote_transitions_total", "service" => "vendor", "to" => to)
        .increment(n);
}

/// One image decode and re-encode (`outcome`: stored, refused).
pub(crate) fn image_decode(elapsed: Duration, outcome: &'static str) {
    metrics::histogram!("vendor_image_decode_seconds", "service" => "vendor", "outcome" => outcome)
        .record(elapsed.as_secs_f64());
}

/// An event was applied to the intents/subscriptions projection (`outcome`: applied, duplicate,
/// ignored).
pub(crate) fn event(kind: &str, outcome: &'static str) {
    metrics::counter!("vendor_events_total", "service" => "vendor", "type" => kind.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// A vendor's wallet account was opened (`outcome`: linked, failed).
pub(crate) fn wallet_open(outcome: &'static str) {
    metrics::counter!("vendor_wallet_opens_total", "service" => "vendor", "outcome" => outcome)
        .increment(1);
}
