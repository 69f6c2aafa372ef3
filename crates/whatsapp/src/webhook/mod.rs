//! Typed Cloud API webhook deliveries: `entry[].changes[].value` with its `messages`,
//! `statuses`, `contacts` and `errors`.
//!
//! Parsing is lenient by design: Meta adds message types and fields without notice and
//! redelivers for days what we refuse, so an unknown message type becomes
//! [`MessageKind::Unsupported`] with its JSON kept, unknown value fields are kept in
//! [`Value::extra`], and every list defaults to empty. Only a body that is not a
//! webhook envelope at all is an error.

mod content;
mod message;
mod status;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::contact::ContactId;

pub use content::{
    Context, Interactive, ListReply, Location, Media, NfmReply, Reaction, Referral,
    ReferredProduct, ReplyButton, SharedContact, TemplateButton, WelcomeMessage,
};
pub use message::{Message, MessageKind};
pub use status::{Conversation, Pricing, Status, StatusKind};

/// The largest webhook body Meta sends (3 MB); the service uses it as its body limit, so a
/// genuine delivery is never cut off and anything larger is refused before it is buffered.
pub const MAX_WEBHOOK_BYTES: usize = 3 * 1024 * 1024;

/// One webhook delivery: the whole POST body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// `whatsapp_business_account` for Cloud API deliveries.
    #[serde(default)]
    pub object: String,
    /// One entry per WhatsApp Business Account.
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// The changes for one WhatsApp Business Account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    #[serde(default)]
    pub id: String,
    /// What changed.
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change: `field` says which subscription it belongs to (`messages` for messages and
/// statuses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The subscribed field, e.g. `messages`.
    #[serde(default)]
    pub field: String,
    /// The change itself.
    pub value: Value,
}

/// The body of a change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Value {
    /// `whatsapp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    /// The business number the change concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// The customers the messages or statuses are about (profile name, phone, user id).
    #[serde(
        default,
        deserialize_with = "lenient_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub contacts: Vec<Contact>,
    /// Inbound messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    /// Status callbacks for messages we sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<Status>,
    /// Errors not tied to one message (e.g. a webhook-level failure).
    #[serde(
        default,
        deserialize_with = "lenient_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub errors: Vec<ErrorDetail>,
    /// Every other field, kept as sent (other subscriptions such as template status updates).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The business phone number a change belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The number as displayed, e.g. `15550783881`.
    #[serde(default)]
    pub display_phone_number: String,
    /// The Graph API id of the number: the `{phone_number_id}` to reply from.
    #[serde(default)]
    pub phone_number_id: String,
}

/// A customer named in a change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    /// Profile as the customer set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Phone number; absent or empty for customers Meta knows only by user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    /// Business-scoped user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Parent business-scoped user id (shared across portfolios).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_user_id: Option<String>,
}

impl Contact {
    /// Who this is: phone number when known, else user id.
    pub fn id(&self) -> Option<ContactId> {
        ContactId::from_parts(
            self.wa_id.as_deref(),
            [self.user_id.as_deref(), self.parent_user_id.as_deref()],
        )
    }

    /// Whether this contact is `id`, by any of its identifiers.
    pub fn is(&self, id: &ContactId) -> bool {
        let s = Some(id.as_str());
        match id {
            ContactId::Phone(_) => self.wa_id.as_deref() == s,
            ContactId::UserId(_) => {
                self.user_id.as_deref() == s || self.parent_user_id.as_deref() == s
            }
        }
    }
}

/// A customer's profile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Profile {
    /// Display name (personal data: never log it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// WhatsApp username, for customers who set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// An error Meta reports in a webhook (at value, message or status level).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Meta's error code, e.g. `131047` (re-engagement window closed).
    #[serde(default)]
    pub code: i64,
    /// Short title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Longer message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Extra detail, `{details}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    /// Link to Meta's documentation of the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

/// The `error_data` of an [`ErrorDetail`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorData {
    /// Human-readable details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl Notification {
    /// Parses a delivery from the raw body (verify the signature on the same bytes first).
    pub fn parse(raw_body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(raw_body)
    }

    /// Every change value of every entry, in delivery order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entry
            .iter()
            .flat_map(|e| e.changes.iter().map(|c| &c.value))
    }

    /// Every inbound message with the value it came in (for `metadata` and `contacts`).
    pub fn messages(&self) -> impl Iterator<Item = (&Value, &Message)> {
        self.values()
            .flat_map(|v| v.messages.iter().map(move |m| (v, m)))
    }

    /// Every status callback with the value it came in.
    pub fn statuses(&self) -> impl Iterator<Item = (&Value, &Status)> {
        self.values()
            .flat_map(|v| v.statuses.iter().map(move |s| (v, s)))
    }
}

impl Value {
    /// The business number's id (`metadata.phone_number_id`), if sent.
    pub fn phone_number_id(&self) -> Option<&str> {
        self.metadata
            .as_ref()
            .map(|m| m.phone_number_id.as_str())
            .filter(|s| !s.is_empty())
    }

    /// The contact entry for `id` (for the profile name), by any of its identifiers.
    pub fn contact(&self, id: &ContactId) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.is(id))
    }
}

/// An optional part parsed leniently: a malformed part is dropped rather than failing the
/// whole delivery, which Meta would otherwise redeliver for days.
pub(crate) fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let raw = serde_json::Value::deserialize(d)?;
    Ok(T::deserialize(&raw).ok())
}

/// Like [`lenient`], for parts with a default (lists).
pub(crate) fn lenient_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    lenient(d).map(Option::unwrap_or_default)
}

/// Meta's timestamps are Unix seconds in a string; `None` when unparsable.
pub(crate) fn unix_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(raw.trim().parse().ok()?, 0)
}
