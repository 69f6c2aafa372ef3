//! Payment collection events (MTN MoMo collection is later work; services consume these now).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Event: a mobile-money collection was confirmed by the provider.
pub const COLLECTION_SUCCEEDED: &str = "payments.collection.succeeded";

/// Payload of [`COLLECTION_SUCCEEDED`]: money was collected against a reference the payer typed
/// (for insurance quotes, the numeric payment reference of the chosen insurer's offer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectionSucceeded {
    /// The tenant the collection belongs to.
    pub tenant_id: String,
    /// The reference the payer gave (digits for MoMo USSD).
    pub reference: String,
    /// Amount collected, in minor units of `currency` (whole RWF: RWF has no minor unit).
    pub amount: i64,
    /// ISO 4217 code, e.g. `RWF`.
    pub currency: String,
    /// The payer's MSISDN (digits, no `+`), when the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<String>,
    /// The merchant code or account that received it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_code: Option<String>,
    /// The provider (`mtn_momo`, `airtel_money`).
    pub provider: String,
    /// The provider's transaction id (unique per provider).
    pub provider_transaction_id: String,
    /// When the provider confirmed it.
    pub collected_at: DateTime<Utc>,
}
