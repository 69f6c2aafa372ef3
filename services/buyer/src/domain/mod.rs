//! Pure buyer logic: no I/O.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The steps of the purchase saga, as named in metrics and wallet idempotency keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Open the buyer's and the vendor's wallet accounts, then reserve with a pending transfer.
    Reserve,
    /// Accept the quote at the vendor.
    Accept,
    /// Post the pending transfer (both confirmed).
    Settle,
    /// Void the pending transfer (failed, cancelled or past the deadline).
    Void,
}

impl Step {
    /// The name used in metrics and keys.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Reserve => "reserve",
            Self::Accept => "accept",
            Self::Settle => "settle",
            Self::Void => "void",
        }
    }
}

/// The wallet `Idempotency-Key` of a saga step: derived from the purchase id only, so a step
/// retried after a crash is the same request to the wallet, answered with the first outcome.
pub(crate) fn wallet_key(purchase_id: &str, step: Step) -> String {
    format!("buyer-purchase-{purchase_id}-{}", step.as_str())
}

/// The region asked for: `payload.region` when it is a non-empty string.
pub(crate) fn region(payload: &Value) -> Option<String> {
    payload
        .get("region")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The categories asked for: `payload.categories` as an array of strings or a comma-separated
/// string, else `payload.category`; trimmed, empty items and duplicates dropped.
pub(crate) fn categories(payload: &Value) -> Vec<String> {
    let raw: Vec<String> = match payload
        .get("categories")
        .or_else(|| payload.get("category"))
    {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(csv)) => csv.split(',').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for c in raw {
        let c = c.trim();
        if !c.is_empty() && !out.iter().any(|o| o == c) {
            out.push(c.to_owned());
        }
    }
    out
}

/// Seconds the wallet keeps the reservation before voiding it itself: until the buyer's
/// settlement deadline, plus a margin, so the buyer's own deadline job always acts first.
pub(crate) fn wallet_timeout_seconds(
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    margin: Duration,
) -> u64 {
    let left = u64::try_from((deadline - now).num_seconds()).unwrap_or(0);
    left.saturating_add(margin.as_secs()).max(60)
}

/// Whether `cursor` can be an id this service issued (a ULID).
pub(crate) fn valid_cursor(cursor: &str) -> bool {
    cursor.len() == 26 && cursor.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn region_and_categories_are_read_from_the_payload() {
        let p = json!({"region": " kigali ", "categories": ["moto", " taxi", "", "moto"]});
        assert_eq!(region(&p).as_deref(), Some("kigali"));
        assert_eq!(categories(&p), vec!["moto", "taxi"]);
        let csv = json!({"categories": "cement, sand"});
        assert_eq!(categories(&csv), vec!["cement", "sand"]);
        let single = json!({"category": "moto", "region": ""});
        assert_eq!(categories(&single), vec!["moto"]);
        assert_eq!(region(&single), None);
        assert!(categories(&json!({"categories": 3})).is_empty());
    }

    #[test]
    fn wallet_keys_are_derived_from_the_purchase_and_step() {
        assert_eq!(
            wallet_key("01J", Step::Reserve),
            "buyer-purchase-01J-reserve"
        );
        assert_ne!(
            wallet_key("01J", Step::Settle),
            wallet_key("01J", Step::Void)
        );
    }

    #[test]
    fn the_wallet_timeout_outlives_the_deadline() {
        let now = Utc::now();
        let deadline = now + chrono::Duration::seconds(600);
        let t = wallet_timeout_seconds(deadline, now, Duration::from_secs(3600));
        assert_eq!(t, 4200);
        assert_eq!(
            wallet_timeout_seconds(
                now - chrono::Duration::seconds(5),
                now,
                Duration::from_secs(60)
            ),
            60
        );
    }

    #[test]
    fn cursors_are_ulids() {
        assert!(valid_cursor(&ulid::Ulid::generate().to_string()));
        assert!(!valid_cursor("x"));
        assert!(!valid_cursor("01J'; DROP TABLE buyer_intents--"));
    }
}
