//! Marketplace events and wire types shared by buyer, vendor and ranking.
//!
//! The buyer and vendor services publish these through their outbox; the envelope's `tenant_id`
//! names the tenant, and `data` holds one of the payloads below (camelCase JSON).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Event: a vendor registered (payload [`VendorChanged`]).
pub const VENDOR_CREATED: &str = "vendor.created";
/// Event: a vendor's profile changed (payload [`VendorChanged`], the whole new state).
pub const VENDOR_UPDATED: &str = "vendor.updated";
/// Event: a vendor answered an intent with a quote (payload [`QuoteCreated`]).
pub const VENDOR_QUOTE_CREATED: &str = "vendor.quote.created";
/// Event: a buyer accepted a vendor's quote (payload [`QuoteAccepted`]).
pub const VENDOR_QUOTE_ACCEPTED: &str = "vendor.quote.accepted";
/// Event: a purchase was confirmed by both sides and paid (payload [`PurchaseSettled`]).
pub const BUYER_PURCHASE_SETTLED: &str = "buyer.purchase.settled";

/// Payload of `vendor.created` and `vendor.updated`: the vendor's current profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorChanged {
    /// Vendor id.
    pub vendor_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Display name (shown, never joined on).
    #[serde(default)]
    pub name: Option<String>,
    /// Region (matched exactly by ranking's `region` filter).
    pub region: String,
    /// Categories served.
    pub categories: Vec<String>,
    /// Rating 0-5 as entered on the vendor profile; an explicit 0 is a rating of 0.
    #[serde(default)]
    pub rating: Option<f64>,
    /// Fulfilment rate 0-1.
    #[serde(default)]
    pub fulfilment_rate: Option<f64>,
    /// The vendor's wallet account (its owner id in the wallet is the vendor id).
    #[serde(default)]
    pub wallet_account_id: Option<String>,
}

/// Payload of `vendor.quote.created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteCreated {
    /// Quote id.
    pub quote_id: String,
    /// The intent answered.
    pub intent_id: String,
    /// The quoting vendor.
    pub vendor_id: String,
    /// Milliseconds from the intent's creation to this quote.
    #[serde(default)]
    pub response_ms: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Payload of `vendor.quote.accepted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteAccepted {
    /// Quote id.
    pub quote_id: String,
    /// The intent.
    pub intent_id: String,
    /// The vendor whose quote was accepted.
    pub vendor_id: String,
    /// The buyer who accepted it.
    pub buyer_id: String,
    /// Accepted at.
    pub accepted_at: DateTime<Utc>,
}

/// Payload of `buyer.purchase.settled`: both sides confirmed and the money moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseSettled {
    /// Purchase id.
    pub purchase_id: String,
    /// The quote bought.
    pub quote_id: String,
    /// The vendor paid.
    pub vendor_id: String,
    /// The buyer.
    pub buyer_id: String,
    /// Amount in minor units of `asset`.
    pub amount_minor: i64,
    /// Asset code.
    pub asset: String,
    /// Settled at.
    pub settled_at: DateTime<Utc>,
}
