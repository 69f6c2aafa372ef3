//! Pure vendor logic: no I/O.

pub(crate) mod image;

use chrono::{DateTime, Utc};

/// Free quotes per window when a tenant has set none (spec 3.4).
pub(crate) const DEFAULT_FREE_CONTACTS: i32 = 30;
/// Window in days when a tenant has set none (spec 3.4).
pub(crate) const DEFAULT_WINDOW_DAYS: i32 = 30;

/// The currency as given, when it is one of `allowed` (exact, upper case).
pub(crate) fn currency_allowed(currency: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|c| c == currency)
}

/// A quote's deadline: its time to live from `now`, but never after its intent's deadline.
pub(crate) fn quote_expiry(
    now: DateTime<Utc>,
    ttl: chrono::Duration,
    intent_deadline: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let own = now + ttl;
    intent_deadline.map_or(own, |d| d.min(own))
}

/// What the paywall decides from a tenant's settings and a vendor's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quota {
    /// Free quotes used in the window.
    pub(crate) used: i64,
    /// Free quotes left.
    pub(crate) remaining: i64,
    /// A paid period covers now.
    pub(crate) subscribed: bool,
}

impl Quota {
    /// `free_contacts` per window, `used` of them spent, `subscribed` or not.
    pub(crate) fn new(free_contacts: i32, used: i64, subscribed: bool) -> Self {
        Self {
            used,
            remaining: (i64::from(free_contacts) - used).max(0),
            subscribed,
        }
    }

    /// Whether one more quote may be made.
    pub(crate) fn allowed(&self) -> bool {
        self.subscribed || self.remaining > 0
    }

    /// Whether the next quote spends free quota (quotes under a subscription do not).
    pub(crate) fn spends_free(&self) -> bool {
        !self.subscribed
    }
}

/// Start of the rolling window ending `now`.
pub(crate) fn window_start(now: DateTime<Utc>, window_days: i32) -> DateTime<Utc> {
    now - chrono::Duration::days(i64::from(window_days))
}

/// A vendor-list cursor is the last vendor's id (ids are ULIDs, so they sort by creation).
pub(crate) fn valid_cursor(cursor: &str) -> bool {
    cursor.len() == 26 && cursor.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_counts_down_and_a_subscription_lifts_it() {
        let q = Quota::new(2, 1, false);
        assert_eq!((q.remaining, q.allowed(), q.spends_free()), (1, true, true));
        let q = Quota::new(2, 2, false);
        assert!(!q.allowed());
        let q = Quota::new(2, 5, true);
        assert_eq!(
            (q.remaining, q.allowed(), q.spends_free()),
            (0, true, false)
        );
        assert!(!Quota::new(0, 0, false).allowed());
    }

    #[test]
    fn a_quote_never_outlives_its_intent() {
        let now = Utc::now();
        let ttl = chrono::Duration::hours(24);
        assert_eq!(quote_expiry(now, ttl, None), now + ttl);
        let soon = now + chrono::Duration::hours(1);
        assert_eq!(quote_expiry(now, ttl, Some(soon)), soon);
    }

    #[test]
    fn currencies_match_exactly() {
        let allowed = vec!["RWF".to_owned(), "TOKEN".to_owned()];
        assert!(currency_allowed("RWF", &allowed));
        assert!(!currency_allowed("rwf", &allowed));
        assert!(!currency_allowed("GBP", &allowed));
    }

    #[test]
    fn cursors_are_ulids() {
        assert!(valid_cursor(&ulid::Ulid::generate().to_string()));
        assert!(!valid_cursor("x"));
        assert!(!valid_cursor("01ARZ3NDEKTSV4RRFFQ69G5FA'"));
    }
}
