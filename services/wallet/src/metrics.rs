//! Business metrics of the wallet.

/// A money operation ended (`kind`: transfer, pending, post, void, reversal, subscription).
pub(crate) fn operation(kind: &'static str, outcome: &str) {
    metrics::counter!("wallet_transfers_total", "service" => "wallet", "kind" => kind, "outcome" => outcome.to_owned())
        .increment(1);
}

/// The amount of a posted transfer, in minor units.
pub(crate) fn amount(asset: &str, minor: i64) {
    #[expect(clippy::cast_precision_loss, reason = "a histogram of amounts needs no exactness")]
    metrics::histogram!("wallet_transfer_amount_minor", "service" => "wallet", "asset" => asset.to_owned())
        .record(minor as f64);
}

/// An idempotent replay was served.
pub(crate) fn replay() {
    metrics::counter!("wallet_idempotent_replays_total", "service" => "wallet").increment(1);
}

/// Accounts found out of balance by the last reconciliation.
pub(crate) fn discrepancies(n: usize) {
    #[expect(clippy::cast_precision_loss, reason = "a count of accounts")]
    metrics::gauge!("wallet_reconciliation_discrepancies", "service" => "wallet").set(n as f64);
}
