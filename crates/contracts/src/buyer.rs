//! The buyer service (port 4700): events it publishes about intents and purchases.
//!
//! Vendor keeps a projection of intents from these events (to refuse quotes on an intent that is
//! no longer open) and rejects the sibling quotes of a matched intent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Event: an intent was recorded (payload [`IntentChanged`]).
pub const INTENT_CREATED: &str = "buyer.intent.created";
/// Event: a purchase of one of the intent's quotes was reserved and accepted (payload [`IntentChanged`]).
pub const INTENT_MATCHED: &str = "buyer.intent.matched";
/// Event: the intent reached its `expiresAt` unmatched (payload [`IntentChanged`]).
pub const INTENT_EXPIRED: &str = "buyer.intent.expired";
/// Event: the buyer withdrew the intent (payload [`IntentChanged`]).
pub const INTENT_CANCELLED: &str = "buyer.intent.cancelled";
/// Event: a purchase was cancelled or voided before settlement (payload [`PurchaseCancelled`]).
pub const PURCHASE_CANCELLED: &str = "buyer.purchase.cancelled";

/// Where an intent is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IntentStatus {
    /// Open for quotes.
    Pending,
    /// A quote was bought.
    Matched,
    /// Reached its deadline unmatched.
    Expired,
    /// Withdrawn.
    Cancelled,
}

impl IntentStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Matched => "matched",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Payload of every `buyer.intent.*` event: the intent's state after the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntentChanged {
    /// Intent id.
    pub intent_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The buyer.
    pub buyer_id: String,
    /// Status after the change.
    pub status: IntentStatus,
    /// Channel it came from (`whatsapp`, ...).
    pub channel: String,
    /// Region asked for, when the payload names one.
    #[serde(default)]
    pub region: Option<String>,
    /// Categories asked for.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Deadline for quotes, if any.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// For `matched`: the quote bought.
    #[serde(default)]
    pub matched_quote_id: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When this change happened.
    pub changed_at: DateTime<Utc>,
}

/// Payload of `buyer.purchase.cancelled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseCancelled {
    /// Purchase id.
    pub purchase_id: String,
    /// The quote.
    pub quote_id: String,
    /// The intent.
    pub intent_id: String,
    /// The vendor.
    pub vendor_id: String,
    /// The buyer.
    pub buyer_id: String,
    /// Why: `cancelled`, `insufficient_funds`, `quote_unavailable`, `deadline_passed`, ...
    pub reason: String,
    /// When.
    pub cancelled_at: DateTime<Utc>,
}
