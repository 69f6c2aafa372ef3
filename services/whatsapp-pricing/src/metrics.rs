//! Business metrics of the whatsapp-pricing service.

/// One insurer's answer to a new quote: `outcome` is `quoted` or the decline code.
pub(crate) fn quote_offer(insurer: &'static str, outcome: &'static str) {
    metrics::counter!(
        "whatsapp_pricing_quotes_total",
        "service" => "whatsapp-pricing",
        "insurer" => insurer,
        "outcome" => outcome
    )
    .increment(1);
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
