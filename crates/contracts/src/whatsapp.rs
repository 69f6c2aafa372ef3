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
