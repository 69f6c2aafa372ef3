//! The whatsapp-webhook-worker service (port 4910): routed messages and contact events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An inbound message was routed to a destination (exactly once per `wamid`).
pub const MESSAGE_ROUTED: &str = "whatsapp.message.routed";
/// A contact sent an opt-out keyword (`STOP`).
pub const CONTACT_OPTED_OUT: &str = "whatsapp.contact.opted_out";

/// Where an inbound message goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Destination {
    /// A greeting: show the home menu (the sticky service was cleared).
    #[serde(rename = "home_menu")]
    HomeMenu,
    /// The AI agents (`wa-ai-agents`): free text, and flows not on this platform (mobility,
    /// jobs, property).
    #[serde(rename = "wa-ai-agents")]
    AiAgents,
    /// The motor-insurance quote conversation (`whatsapp-pricing`).
    #[serde(rename = "whatsapp-pricing")]
    Pricing,
    /// Marketplace flows (buy and sell, shops and services).
    #[serde(rename = "marketplace")]
    Marketplace,
    /// Profile and wallet menus (my business, saved places, tokens, MoMo QR).
    #[serde(rename = "profile")]
    Profile,
}

impl Destination {
    /// The wire name (`wa-ai-agents`, `home_menu`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HomeMenu => "home_menu",
            Self::AiAgents => "wa-ai-agents",
            Self::Pricing => "whatsapp-pricing",
            Self::Marketplace => "marketplace",
            Self::Profile => "profile",
        }
    }

    /// The destination named `name` (as stored), if any.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::HomeMenu,
            Self::AiAgents,
            Self::Pricing,
            Self::Marketplace,
            Self::Profile,
        ]
        .into_iter()
        .find(|d| d.as_str() == name)
    }
}

/// Why a message went where it went (spec 3.2, first match wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RouteReason {
    /// A greeting word (`hi`, `menu`, ...): home menu, sticky service cleared.
    Greeting,
    /// An exact menu key (text or interactive reply id): the contact's active service is set.
    MenuKey,
    /// The contact's active (sticky) service kept the conversation.
    Sticky,
    /// Nothing matched: the AI agents.
    Fallback,
}

/// Who sent a message: a phone number, or a business-scoped user id when Meta sends no number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaContact {
    /// `phone` or `user_id`.
    pub kind: String,
    /// The phone number (digits, as Meta sends it) or the user id.
    pub id: String,
    /// The WhatsApp profile name, when Meta sent one.
    pub profile_name: Option<String>,
}

/// Payload of [`MESSAGE_ROUTED`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageRouted {
    /// Where it goes.
    pub service: Destination,
    /// Why.
    pub reason: RouteReason,
    /// The tenant of the receiving business number.
    pub tenant_id: String,
    /// The receiving business number's id (`metadata.phone_number_id`).
    pub phone_number_id: Option<String>,
    /// The sender.
    pub contact: WaContact,
    /// The message id (`wamid`).
    pub wamid: String,
    /// The message type (`text`, `interactive`, `image`, ...).
    pub message_type: String,
    /// What routing matched on: the text body or the interactive reply id.
    pub routing_text: Option<String>,
    /// Whether the contact has opted out of messages (replies within the service window only).
    pub opted_out: bool,
    /// The message as Meta sent it.
    #[schema(value_type = Object)]
    pub message: serde_json::Value,
    /// When the webhook delivering it was accepted.
    pub received_at: DateTime<Utc>,
}

/// Payload of [`CONTACT_OPTED_OUT`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactOptedOut {
    /// The tenant of the receiving business number.
    pub tenant_id: String,
    /// The contact.
    pub contact: WaContact,
    /// The message that carried the keyword.
    pub wamid: String,
    /// The keyword, as configured (`STOP`).
    pub keyword: String,
    /// When it was recorded.
    pub opted_out_at: DateTime<Utc>,
}

/// A job that ran out of attempts (admin API).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadJob {
    /// Job id.
    pub id: String,
    /// The message it processes (a reference, not the message: the DLQ holds no PII).
    pub wamid: Option<String>,
    /// Attempts made.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// When it died.
    pub dead_at: DateTime<Utc>,
}

/// Dead jobs, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadJobList {
    /// The jobs.
    pub items: Vec<DeadJob>,
}

/// How many jobs a replay or purge touched.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Affected {
    /// Jobs replayed or purged.
    pub count: u64,
}

/// Depth of the processing queue.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueStats {
    /// Waiting to run (due or not).
    pub pending: i64,
    /// Being processed.
    pub running: i64,
    /// In the dead-letter queue.
    pub dead: i64,
    /// Seconds the oldest due job has waited.
    pub oldest_due_age_s: i64,
}

/// Who an outbound message goes to: a phone number (digits, no `+`) or a business-scoped user id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// Phone number as Meta writes it, e.g. `250781234567`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Business-scoped user id, e.g. `US.13491208655302741918`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// A reply button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplyButton {
    /// Returned in the reply (at most 200 characters).
    pub id: String,
    /// Shown (at most 20 characters).
    pub title: String,
}

/// A row of a list message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListRow {
    /// Returned in the reply.
    pub id: String,
    /// Shown (at most 24 characters).
    pub title: String,
    /// Shown under the title (at most 72 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A section of a list message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListSection {
    /// Section title.
    pub title: String,
    /// Its rows (10 in all sections at most).
    pub rows: Vec<ListRow>,
}

/// A text value for a template placeholder (`{{1}}`, or `{{name}}` when `name` is set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TemplateParameter {
    /// The placeholder's name, for templates with named parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The value.
    pub text: String,
}

/// The kinds of media message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// JPEG or PNG.
    Image,
    /// AAC, MP3, OGG, ...
    Audio,
    /// MP4 or 3GPP.
    Video,
    /// Any file.
    Document,
    /// WebP.
    Sticker,
}

/// What an outbound message says, by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundContent {
    /// Free text (at most 4,096 characters).
    Text {
        /// The text.
        body: String,
        /// Preview the first link.
        #[serde(default, rename = "previewUrl")]
        preview_url: bool,
    },
    /// Reply buttons (1 to 3).
    Buttons {
        /// Body text.
        body: String,
        /// Header text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// Footer text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        /// The buttons.
        buttons: Vec<ReplyButton>,
    },
    /// A list (1 to 10 rows in all).
    List {
        /// Body text.
        body: String,
        /// The button that opens the list.
        button: String,
        /// Header text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        /// Footer text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        /// The sections.
        sections: Vec<ListSection>,
    },
    /// An approved template (the only kind allowed outside the 24 h service window).
    Template {
        /// Template name.
        name: String,
        /// Language code of the approved translation, e.g. `en_US`.
        language: String,
        /// Text parameter of the header, if it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<TemplateParameter>,
        /// The body's parameters, in placeholder order.
        #[serde(default)]
        parameters: Vec<TemplateParameter>,
    },
    /// An image, audio, video, document or sticker, by uploaded media id or HTTPS link.
    Media {
        /// The kind of media.
        #[serde(rename = "mediaType")]
        media_type: MediaType,
        /// Uploaded media id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Public HTTPS link.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
        /// Caption (images, videos, documents).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        /// File name (documents).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
    },
}

impl OutboundContent {
    /// The content's `type` name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Buttons { .. } => "buttons",
            Self::List { .. } => "list",
            Self::Template { .. } => "template",
            Self::Media { .. } => "media",
        }
    }
}

/// `POST /v1/messages`: a message to send from the tenant's business number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    /// Tenant (defaults to the caller's, or the default tenant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The recipient.
    pub to: Recipient,
    /// What to send.
    pub message: OutboundContent,
    /// Show the message as a reply to this inbound `wamid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

impl platform::Validate for SendMessage {
    fn validate(&self, v: &mut platform::Validator) {
        let phone = self.to.phone.as_deref().filter(|p| !p.is_empty());
        let user = self.to.user_id.as_deref().filter(|u| !u.is_empty());
        v.check(
            phone.is_some() != user.is_some(),
            "/to",
            "exactly one of phone or userId is required",
        );
        if let Some(p) = phone {
            v.check(
                (6..=20).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()),
                "/to/phone",
                "must be 6 to 20 digits, no +",
            );
        }
        v.len(user, "/to/userId", 1, 128);
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        v.len(self.reply_to.as_deref(), "/replyTo", 1, 256);
    }
}

/// A stored outbound message and its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundMessageView {
    /// Our id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Sending business number.
    pub phone_number_id: String,
    /// The recipient.
    pub to: Recipient,
    /// `text`, `buttons`, `list`, `template` or `media`.
    pub kind: String,
    /// `pending` (stored, not yet answered), `sent`, `delivered`, `read`, `played`, `deleted` or
    /// `failed`.
    pub state: String,
    /// Meta's message id once accepted.
    pub wamid: Option<String>,
    /// Why it failed (Meta's error).
    pub error: Option<String>,
    /// The request's `message` as asked.
    pub message: serde_json::Value,
    /// Stored at.
    pub created_at: DateTime<Utc>,
    /// Last state change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_round_trip_by_name() {
        for d in [
            Destination::HomeMenu,
            Destination::AiAgents,
            Destination::Pricing,
            Destination::Marketplace,
            Destination::Profile,
        ] {
            assert_eq!(Destination::parse(d.as_str()), Some(d));
            let json = serde_json::to_value(d).ok();
            assert_eq!(json, Some(serde_json::Value::from(d.as_str())));
        }
        assert_eq!(Destination::parse("mobility"), None);
    }
}
