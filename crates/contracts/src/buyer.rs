//! The buyer service (port 4700): events it publishes about intents and purchases.
//!
//! Vendor keeps a projection of intents from these events (to refuse quotes on an intent that is
//! no longer open) and rejects the sibling quotes of a matched intent.

use chrono::{DateTime, Utc};
use platform::{Validate, Validator};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

// ---- The buyer service's HTTP API (added with the service; the types above are unchanged) ----

/// Who confirms a purchase (`POST /purchases/{id}/confirm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConfirmActor {
    /// The vendor says it delivered.
    Vendor,
    /// The buyer says it received.
    Buyer,
}

/// Where a purchase is in its saga.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PurchaseStatus {
    /// Recorded; the money is not reserved yet.
    Pending,
    /// The quote's amount is held by a pending wallet transfer; the vendor has not accepted yet.
    Reserved,
    /// The vendor accepted the quote and the intent is matched: awaiting both confirmations.
    Accepted,
    /// Both sides confirmed and the pending transfer was posted.
    Settled,
    /// Cancelled (by request, or at the settlement deadline); any reservation is voided.
    Cancelled,
    /// The saga could not complete (`reason` says why); any reservation is voided.
    Failed,
}

impl PurchaseStatus {
    /// The wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Reserved => "reserved",
            Self::Accepted => "accepted",
            Self::Settled => "settled",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    /// Reads [`PurchaseStatus::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "reserved" => Self::Reserved,
            "accepted" => Self::Accepted,
            "settled" => Self::Settled,
            "cancelled" => Self::Cancelled,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// Body of `POST /buyers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBuyer {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Display name (2-255 characters); shown, never used as an identifier.
    pub name: String,
    /// Segment, e.g. `retail`.
    #[serde(default)]
    pub segment: Option<String>,
    /// The profile service's `userId` of this buyer (unique per tenant).
    #[serde(default)]
    pub profile_user_id: Option<String>,
    /// WhatsApp number (E.164), the contact id of the WhatsApp services.
    #[serde(default)]
    pub whatsapp_e164: Option<String>,
}

/// A wallet account of a buyer, in one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyerWalletAccount {
    /// Asset code.
    pub asset: String,
    /// The wallet's account id (owner type `buyer`, owner id the buyer id).
    pub account_id: String,
}

/// Body of `POST /buyers/{id}/wallet-accounts`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenBuyerAccount {
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Asset code (`RWF`, `USD`, `TOKEN`).
    pub asset: String,
}

/// A buyer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    /// Buyer id (ULID).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Segment.
    pub segment: Option<String>,
    /// Profile link.
    pub profile_user_id: Option<String>,
    /// WhatsApp number (E.164).
    pub whatsapp_e164: Option<String>,
    /// Wallet accounts opened so far (on demand, per asset paid in).
    pub wallet_accounts: Vec<BuyerWalletAccount>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

/// Body of `POST /buyers/{id}/intents` (and of `POST /intents` with `buyerId`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateIntent {
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The buyer (required on `POST /intents`; on `/buyers/{id}/intents` it must match or be absent).
    #[serde(default)]
    pub buyer_id: Option<String>,
    /// Channel (`whatsapp`, ...), at least 2 characters.
    pub channel: String,
    /// What is asked for: a JSON object; `region` (string) and `categories` (array or
    /// comma-separated string) are read from it when present.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Deadline for quotes (RFC 3339 UTC, in the future); default: now + `BUYER_INTENT_TTL_SECONDS`.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// An intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    /// Intent id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The buyer.
    pub buyer_id: String,
    /// Channel.
    pub channel: String,
    /// The request as sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Region read from the payload.
    pub region: Option<String>,
    /// Categories read from the payload.
    pub categories: Vec<String>,
    /// Status.
    pub status: IntentStatus,
    /// Deadline for quotes.
    pub expires_at: Option<DateTime<Utc>>,
    /// The quote bought, once matched.
    pub matched_quote_id: Option<String>,
    /// Quotes received (from `vendor.quote.created` events).
    pub recent_quotes: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Query of the lists (`GET /intents`, `GET /purchases`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Page size, 1 to 100 (default 25).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this buyer's.
    pub buyer_id: Option<String>,
}

/// One row of `GET /intents` (the admin-app shape, camelCase, numbers as numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntentSummary {
    /// Intent id.
    pub id: String,
    /// The buyer.
    pub buyer_id: String,
    /// The buyer's display name.
    pub buyer_name: String,
    /// Channel.
    pub channel: String,
    /// Status.
    pub status: IntentStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Deadline.
    pub expires_at: Option<DateTime<Utc>>,
    /// Quotes received for it.
    pub recent_quotes: i64,
}

/// `GET /intents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntentList {
    /// Newest first.
    pub intents: Vec<IntentSummary>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Body of `POST /purchases` (requires an `Idempotency-Key`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePurchase {
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The vendor's quote to buy.
    pub quote_id: String,
    /// When sent, must be the buyer owning the quote's intent.
    #[serde(default)]
    pub buyer_id: Option<String>,
    /// When sent, must equal the quote's amount (minor units); `amount` is accepted as an alias.
    #[serde(default, alias = "amount")]
    pub amount_minor: Option<i64>,
    /// When sent, must equal the quote's currency.
    #[serde(default)]
    pub currency: Option<String>,
}

/// A purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Purchase {
    /// Purchase id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The buyer.
    pub buyer_id: String,
    /// The intent.
    pub intent_id: String,
    /// The quote bought.
    pub quote_id: String,
    /// The vendor.
    pub vendor_id: String,
    /// The quote's amount in minor units of `currency`.
    pub amount_minor: i64,
    /// The quote's currency (the wallet asset).
    pub currency: String,
    /// Status.
    pub status: PurchaseStatus,
    /// Why it failed or was cancelled: `insufficient_funds`, `quote_unavailable`,
    /// `intent_closed`, `wallet_refused`, `reservation_voided`, `deadline_passed`, `cancelled`
    /// (or the reason given to `POST /purchases/{id}/cancel`).
    pub reason: Option<String>,
    /// The wallet's pending transfer holding the money.
    pub transaction_id: Option<String>,
    /// Vendor confirmation.
    pub vendor_confirmed_at: Option<DateTime<Utc>>,
    /// Buyer confirmation.
    pub buyer_confirmed_at: Option<DateTime<Utc>>,
    /// When the vendor accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When the money was posted.
    pub settled_at: Option<DateTime<Utc>>,
    /// Same as `settledAt` (the original's name).
    pub fulfilled_at: Option<DateTime<Utc>>,
    /// When it was cancelled or failed.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Unless settled by then, it is cancelled and the reservation voided.
    pub deadline_at: DateTime<Utc>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// One row of `GET /purchases` (the admin-app shape, numbers as numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseSummary {
    /// Purchase id.
    pub id: String,
    /// The quote.
    pub quote_id: String,
    /// The vendor.
    pub vendor_id: String,
    /// The buyer.
    pub buyer_id: String,
    /// The buyer's display name.
    pub buyer_name: String,
    /// Status.
    pub status: PurchaseStatus,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Settled.
    pub fulfilled_at: Option<DateTime<Utc>>,
    /// Amount in minor units of `currency` (an integer, as `amountMinor`).
    pub amount: i64,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// Currency.
    pub currency: String,
}

/// `GET /purchases`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseList {
    /// Newest first.
    pub purchases: Vec<PurchaseSummary>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Body of `POST /purchases/{id}/confirm`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmPurchase {
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Who confirms.
    pub actor: ConfirmActor,
    /// Ignored when absent; when sent, must equal the purchase's amount.
    #[serde(default)]
    pub amount: Option<i64>,
    /// Ignored when absent; when sent, must equal the purchase's currency.
    #[serde(default)]
    pub currency: Option<String>,
}

/// Body of `POST /purchases/{id}/cancel` and `POST /intents/{id}/cancel`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Why (recorded as the reason; default `cancelled`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET /buyers/{id}/context`: the buyer with its newest intents and purchases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyerContext {
    /// The buyer.
    pub buyer: Buyer,
    /// Its 5 newest intents.
    pub intents: Vec<Intent>,
    /// Its 5 newest purchases.
    pub purchases: Vec<Purchase>,
    /// Trips (the original's admin-trips call always answered none; kept for shape).
    pub trips: Vec<serde_json::Value>,
}

fn tenant_ok(v: &mut Validator, tenant: Option<&str>) {
    v.len(tenant, "/tenantId", 1, 64);
}

impl Validate for CreateBuyer {
    fn validate(&self, v: &mut Validator) {
        tenant_ok(v, self.tenant_id.as_deref());
        v.len(Some(self.name.trim()), "/name", 2, 255);
        v.len(self.segment.as_deref(), "/segment", 1, 64);
        v.len(self.profile_user_id.as_deref(), "/profileUserId", 1, 64);
        if let Some(p) = &self.whatsapp_e164 {
            let digits = p.strip_prefix('+').unwrap_or("");
            v.check(
                (7..=15).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && !digits.starts_with('0'),
                "/whatsappE164",
                "must be in E.164 format (e.g. +250781234567)",
            );
        }
    }
}

impl Validate for OpenBuyerAccount {
    fn validate(&self, v: &mut Validator) {
        tenant_ok(v, self.tenant_id.as_deref());
        v.check(
            (2..=12).contains(&self.asset.len())
                && self
                    .asset
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "/asset",
            "must be an asset code such as RWF or TOKEN",
        );
    }
}

impl Validate for CreateIntent {
    fn validate(&self, v: &mut Validator) {
        tenant_ok(v, self.tenant_id.as_deref());
        v.len(self.buyer_id.as_deref(), "/buyerId", 1, 64);
        v.len(Some(&self.channel), "/channel", 2, 32);
        v.check(
            self.payload.is_object(),
            "/payload",
            "must be a JSON object",
        );
        v.check(
            serde_json::to_string(&self.payload).is_ok_and(|s| s.len() <= 16 * 1024),
            "/payload",
            "must be at most 16 KiB as JSON",
        );
    }
}

impl Validate for ListQuery {
    fn validate(&self, v: &mut Validator) {
        tenant_ok(v, self.tenant_id.as_deref());
        if let Some(l) = self.limit {
            v.check((1..=100).contains(&l), "limit", "must be 1 to 100");
        }
        v.len(self.cursor.as_deref(), "cursor", 1, 64);
        v.len(self.buyer_id.as_deref(), "buyerId", 1, 64);
    }
}

impl Validate for CreatePurchase {
    fn validate(&self, v: &mut Validator) {
        tenant_ok(v, self.tenant_id.as_deref());
        v.len(Some(&self.quote_id), "/quoteId", 1, 64);
        v.len(self.buyer_id.as_deref(), "/buyerId", 1, 64);
        if let Some(a) = self.amount_minor {
            v.check(a > 0, "/amountMinor", "must be positive");
        }
        v.len(self.currency.as_deref(), "/currency", 2, 12);
    }
}

impl Validate for ConfirmPurchase {
    fn validate(&self, v: &mut Validator) {
        tenant_ok(v, self.tenant_id.as_deref());
        v.len(self.currency.as_deref(), "/currency", 2, 12);
    }
}

impl Validate for CancelRequest {
    fn validate(&self, v: &mut Validator) {
        tenant_ok(v, self.tenant_id.as_deref());
        v.len(self.reason.as_deref(), "/reason", 1, 64);
    }
}

/// A saga job given up on (`GET /admin/saga`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadSagaJob {
    /// Job id.
    pub id: String,
    /// The job as queued: `{kind: advance|deadline|expire_intent, purchase_id | intent_id}`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Attempts made.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was given up on.
    pub dead_at: DateTime<Utc>,
}

/// `GET /admin/saga`: the saga queue's depth and its dead jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SagaQueue {
    /// Waiting to run (due or not: deadlines and expiries wait for their time).
    pub pending: i64,
    /// Claimed by a worker.
    pub running: i64,
    /// Given up on.
    pub dead: i64,
    /// Seconds the oldest due job has waited.
    pub oldest_due_age_s: i64,
    /// The dead jobs, oldest first (at most 100).
    pub dead_jobs: Vec<DeadSagaJob>,
}

/// `POST /admin/saga/replay`: how many dead jobs were put back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Replayed {
    /// Jobs re-queued.
    pub count: u64,
}
