//! Business metrics of the whatsapp-pricing service.

use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use metrics::Counter;

/// The registered `whatsapp_pricing_quotes_total` counters by insurer and outcome. Registering a
/// labelled counter copies its key each time, and every quote counts four answers: a counter is
/// registered once (the recorder is installed before the service starts) and then only
/// incremented.
static QUOTE_OFFERS: LazyLock<RwLock<HashMap<(&str, &str), Counter>>> =
    LazyLock::new(RwLock::default);

/// One insurer's answer to a new quote: `outcome` is `quoted` or the decline code.
pub(crate) fn quote_offer(insurer: &'static str, outcome: &'static str) {
    let key = (insurer, outcome);
    let known = QUOTE_OFFERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    let counter = known.unwrap_or_else(|| {
        let counter = metrics::counter!(
            "whatsapp_pricing_quotes_total",
            "service" => "whatsapp-pricing",
            "insurer" => insurer,
            "outcome" => outcome
        );
        QUOTE_OFFERS
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, counter.clone());
        counter
    });
    counter.increment(1);
}

/// A tariff version was stored (`seeded` or `published`).
pub(crate) fn tariff_added(action: &'static str) {
    metrics::counter!(
        "whatsapp_pricing_tariff_versions_total",
        "service" => "whatsapp-pricing",
        "action" => action
    )
    .increment(1);
}

/// An input applied to a conversation: `applied`, `duplicate` or `malformed`.
pub(crate) fn conversation_input(kind: &'static str, outcome: &'static str) {
    metrics::counter!(
        "whatsapp_pricing_conversation_inputs_total",
        "service" => "whatsapp-pricing",
        "kind" => kind,
        "outcome" => outcome
    )
    .increment(1);
}

/// A conversation write lost a version race (another replica wrote first) and was retried.
pub(crate) fn conversation_race() {
    metrics::counter!(
        "whatsapp_pricing_conversation_races_total",
        "service" => "whatsapp-pricing"
    )
    .increment(1);
}

/// A reply handed to the worker: `queued`, `retried` or `refused`.
pub(crate) fn reply(outcome: &'static str) {
    metrics::counter!(
        "whatsapp_pricing_replies_total",
        "service" => "whatsapp-pricing",
        "outcome" => outcome
    )
    .increment(1);
}

/// A document reading: its latency and outcome (`ok` or the failure's code).
pub(crate) fn ocr(elapsed: std::time::Duration, outcome: &'static str) {
    metrics::histogram!(
        "whatsapp_pricing_ocr_duration_seconds",
        "service" => "whatsapp-pricing"
    )
    .record(elapsed.as_secs_f64());
    metrics::counter!(
        "whatsapp_pricing_ocr_total",
        "service" => "whatsapp-pricing",
        "outcome" => outcome
    )
    .increment(1);
}

/// A collection received: `paid`, `unmatched`, `amount_mismatch`, `already_paid`, ...
pub(crate) fn payment(outcome: &'static str) {
    metrics::counter!(
        "whatsapp_pricing_payments_total",
        "service" => "whatsapp-pricing",
        "outcome" => outcome
    )
    .increment(1);
}
