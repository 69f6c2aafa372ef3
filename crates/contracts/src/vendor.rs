//! The vendor service (port 4600): the quote shapes the buyer's purchase saga calls.
//!
//! `GET /quotes/{id}` answers a [`Quote`]; `POST /quotes/{id}/accept` takes an [`AcceptQuote`]
//! and `POST /quotes/{id}/reject` a [`RejectQuote`], both answering the quote after the change.
//! Accepting is a conditional update: only a pending, unexpired quote can be accepted, once; the
//! same `purchaseId` accepting again gets the accepted quote back (a saga step retried), any
//! other gets 409 `quote_not_pending`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a quote is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuoteStatus {
    /// Waiting for the buyer.
    Pending,
    /// Bought.
    Accepted,
    /// Refused, or a sibling of the quote bought.
    Rejected,
    /// Reached its deadline.
    Expired,
}

impl QuoteStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }
}

/// A vendor's priced answer to an intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// Quote id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The intent answered.
    pub intent_id: String,
    /// The quoting vendor.
    pub vendor_id: String,
    /// Price in minor units of `currency` (RWF has no minor unit: 1 = 1 RWF).
    pub amount_minor: i64,
    /// ISO 4217 code or `TOKEN`; the wallet asset the purchase is paid in.
    pub currency: String,
    /// Estimated minutes to fulfil.
    #[serde(default)]
    pub eta_minutes: Option<i32>,
    /// Status.
    pub status: QuoteStatus,
    /// The purchase that accepted it.
    #[serde(default)]
    pub purchase_id: Option<String>,
    /// After this the quote can no longer be accepted.
    pub expires_at: DateTime<Utc>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Accepted.
    #[serde(default)]
    pub accepted_at: Option<DateTime<Utc>>,
}

/// Body of `POST /quotes/{id}/accept`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptQuote {
    /// The buying buyer (must own the quote's intent).
    pub buyer_id: String,
    /// The purchase accepting it; a retry with the same id is answered with the same result.
    pub purchase_id: String,
}

/// Body of `POST /quotes/{id}/reject`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RejectQuote {
    /// Why, e.g. `sibling_matched`, `buyer_declined`.
    #[serde(default)]
    pub reason: Option<String>,
}
