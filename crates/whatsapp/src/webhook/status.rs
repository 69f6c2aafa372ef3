//! Status callbacks for messages we sent. They arrive out of order (a `read` can come before its
//! `delivered`) and more than once, so consumers keep the furthest state per `wamid`
//! ([`StatusKind::rank`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ErrorDetail, lenient, lenient_default, unix_time};
use crate::contact::ContactId;

/// One status callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The `wamid` of the message we sent (as returned by the send call).
    #[serde(default)]
    pub id: String,
    /// What happened to it.
    #[serde(default)]
    pub status: StatusKind,
    /// Unix seconds, as Meta sends them (a string).
    #[serde(default)]
    pub timestamp: String,
    /// Recipient's phone number; absent for sends to a user id, and sometimes for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<String>,
    /// Recipient's business-scoped user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_user_id: Option<String>,
    /// Recipient's parent business-scoped user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_parent_user_id: Option<String>,
    /// `individual` or `group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_type: Option<String>,
    /// The conversation the message was billed in.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub conversation: Option<Conversation>,
    /// How the message is priced.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub pricing: Option<Pricing>,
    /// Why a `failed` message failed (e.g. 131047: outside the 24 h window).
    #[serde(
        default,
        deserialize_with = "lenient_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub errors: Vec<ErrorDetail>,
    /// The opaque data we attached when sending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
}

/// A message's delivery state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    /// Accepted by WhatsApp's servers.
    Sent,
    /// On the customer's device.
    Delivered,
    /// Opened by the customer.
    Read,
    /// Not delivered; see [`Status::errors`].
    Failed,
    /// Deleted by the customer.
    Deleted,
    /// A voice message was played.
    Played,
    /// A state this crate does not know, kept as sent.
    #[serde(untagged)]
    Other(String),
}

/// A callback without a state reads as an unknown one rather than failing the delivery.
impl Default for StatusKind {
    fn default() -> Self {
        Self::Other(String::new())
    }
}

impl StatusKind {
    /// Progress order, to keep the furthest state when callbacks arrive out of order: `failed`
    /// is final, then `played` > `read` > `delivered` > `sent`. Unknown states rank lowest so
    /// they never overwrite a known one.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Other(_) => 0,
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
            Self::Played => 4,
            Self::Deleted => 5,
            Self::Failed => 6,
        }
    }
}

/// The conversation a message was billed in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Conversation {
    /// Conversation id.
    #[serde(default)]
    pub id: String,
    /// When it expires (Unix seconds as a string), on the first `sent` of a conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_timestamp: Option<String>,
    /// `{type}`: `user_initiated`, `business_initiated`, `service`, `marketing`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<serde_json::Value>,
}

/// How a message is priced.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pricing {
    /// Whether it is charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billable: Option<bool>,
    /// `CBP` (per conversation) or `PMP` (per message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_model: Option<String>,
    /// `service`, `utility`, `marketing`, `authentication`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// `regular`, `free_customer_service`, `free_entry_point`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Status {
    /// The recipient: phone number when Meta sent one, else user id.
    pub fn recipient(&self) -> Option<ContactId> {
        ContactId::from_parts(
            self.recipient_id.as_deref(),
            [
                self.recipient_user_id.as_deref(),
                self.recipient_parent_user_id.as_deref(),
            ],
        )
    }

    /// When the state changed.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        unix_time(&self.timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_states_are_kept_and_rank_lowest() {
        let s: StatusKind = serde_json::from_str("\"bounced\"").unwrap();
        assert_eq!(s, StatusKind::Other("bounced".into()));
        assert!(s.rank() < StatusKind::Sent.rank());
        let r: StatusKind = serde_json::from_str("\"read\"").unwrap();
        assert_eq!(r, StatusKind::Read);
        assert!(StatusKind::Failed.rank() > r.rank());
    }
}
