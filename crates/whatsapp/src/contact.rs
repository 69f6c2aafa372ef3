//! Who a customer is. Meta used to name every customer by phone number (`from`, `wa_id`,
//! `recipient_id`); since usernames (2025-26) a customer may be known only by a business-scoped
//! user id (BSUID: `user_id`, `from_user_id`, `recipient_user_id`, or a parent BSUID shared across
//! portfolios). Both are first-class here: a contact is its phone number when Meta gives one,
//! else its user id.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A WhatsApp customer, as Meta identified them.
///
/// The phone number wins when both are known, because Meta recommends sending to phone numbers
/// (phone-number fields keep appearing in webhooks) and `to` takes precedence over `recipient`.
/// `Debug` is masked so that a stray `{:?}` does not put a number in a log.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactId {
    /// A phone number as Meta writes it (digits, no `+`), e.g. `250781234567`.
    Phone(String),
    /// A business-scoped user id (`US.13491208655302741918`) or a parent one
    /// (`US.ENT.11815799212886844830`).
    UserId(String),
}

impl ContactId {
    /// The contact from the identifiers Meta sent: the phone number when present and non-empty,
    /// else the first non-empty user id. `None` when Meta sent neither.
    pub fn from_parts<'a>(
        phone: Option<&str>,
        user_ids: impl IntoIterator<Item = Option<&'a str>>,
    ) -> Option<Self> {
        if let Some(p) = non_empty(phone) {
            return Some(Self::Phone(p.to_owned()));
        }
        user_ids
            .into_iter()
            .find_map(non_empty)
            .map(|u| Self::UserId(u.to_owned()))
    }

    /// A contact known by phone number.
    pub fn phone(number: impl Into<String>) -> Self {
        Self::Phone(number.into())
    }

    /// A contact known by business-scoped user id.
    pub fn user_id(id: impl Into<String>) -> Self {
        Self::UserId(id.into())
    }

    /// The raw identifier (for storage and for the Graph API, never for logs).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(s) | Self::UserId(s) => s,
        }
    }

    /// Whether this is a phone number.
    pub fn is_phone(&self) -> bool {
        matches!(self, Self::Phone(_))
    }

    /// The identifier masked for logs (`250781****567`).
    pub fn masked(&self) -> String {
        platform::pii::mask_phone(self.as_str())
    }
}

impl fmt::Debug for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Phone(_) => write!(f, "Phone({})", self.masked()),
            Self::UserId(_) => write!(f, "UserId({})", self.masked()),
        }
    }
}

/// Meta sends absent identifiers as missing keys or as empty strings; both mean "unknown".
fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phone_number_wins_when_present() {
        let id = ContactId::from_parts(Some("250781234567"), [Some("RW.123")]);
        assert_eq!(id, Some(ContactId::phone("250781234567")));
    }

    #[test]
    fn an_empty_or_missing_phone_falls_back_to_the_user_id() {
        let id = ContactId::from_parts(Some(""), [None, Some("RW.ENT.9")]);
        assert_eq!(id, Some(ContactId::user_id("RW.ENT.9")));
        let id = ContactId::from_parts(None, [Some("RW.1"), Some("RW.ENT.9")]);
        assert_eq!(id, Some(ContactId::user_id("RW.1")));
        assert_eq!(ContactId::from_parts(None, [Some(" ")]), None);
    }

    #[test]
    fn debug_output_is_masked() {
        let shown = format!("{:?}", ContactId::phone("250781234567"));
        assert!(!shown.contains("1234"), "{shown}");
    }
}
