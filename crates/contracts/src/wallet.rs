//! The wallet service (port 4400): a double-entry ledger of integer minor units per asset.

use chrono::{DateTime, Utc};
use platform::{Validate, Validator};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Event: a transfer posted (single-phase, or a pending one posted).
pub const TRANSFER_COMPLETED: &str = "wallet.transfer.completed";
/// Event: an amount was reserved by a pending transfer.
pub const TRANSFER_PENDING: &str = "wallet.transfer.pending";
/// Event: a pending transfer was posted.
pub const TRANSFER_POSTED: &str = "wallet.transfer.posted";
/// Event: a pending transfer was voided (by request or at its timeout).
pub const TRANSFER_VOIDED: &str = "wallet.transfer.voided";
/// Event: a transfer was reversed by a compensating transfer.
pub const TRANSFER_REVERSED: &str = "wallet.transfer.reversed";
/// Event: a vendor's subscription was charged for a period.
pub const SUBSCRIPTION_CHARGED: &str = "wallet.subscription.charged";

/// Who owns an account.
pub const OWNER_TYPES: &[&str] = &[
    "vendor",
    "buyer",
    "platform",
    "commission",
    "agent",
    "endorser",
];

/// An account and its balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Account id (ULID).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// `vendor`, `buyer`, `platform`, `commission`, `agent` or `endorser`.
    pub owner_type: String,
    /// The owner's id in its service (vendor id, buyer id; `platform` for the issuance account).
    pub owner_id: String,
    /// Asset code (`RWF`, `USD`, `TOKEN`).
    pub asset: String,
    /// `active` or `frozen`.
    pub status: String,
    /// Only the tenant's issuance (platform) account may go below zero.
    pub allow_negative: bool,
    /// Sum of posted postings, in minor units.
    pub posted_minor: i64,
    /// Reserved by pending transfers out of this account.
    pub pending_debits_minor: i64,
    /// Promised by pending transfers into this account.
    pub pending_credits_minor: i64,
    /// What can be spent: posted minus pending debits.
    pub available_minor: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /wallet/accounts`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenAccount {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// Owner type (not `platform`: use `/wallet/platform/provision`).
    pub owner_type: String,
    /// Owner id.
    pub owner_id: String,
    /// Asset code.
    pub asset: String,
}

/// Body of `POST /wallet/platform/provision`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProvisionPlatform {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Asset code; default `TOKEN`.
    pub asset: Option<String>,
}

/// One leg of a multi-leg transfer: a signed amount on an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Leg {
    /// Account.
    pub account_id: String,
    /// Negative debits the account, positive credits it; the legs sum to zero.
    pub amount_minor: i64,
}

/// Body of `POST /wallet/transfer`: either source/destination/amount, or `legs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferRequest {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Debited account.
    pub source_account_id: Option<String>,
    /// Credited account.
    pub destination_account_id: Option<String>,
    /// Amount in minor units of `asset`.
    pub amount_minor: Option<i64>,
    /// Legs of a multi-leg transfer (instead of source/destination/amount).
    pub legs: Option<Vec<Leg>>,
    /// Asset moved; every account must hold it.
    pub asset: String,
    /// Kind, e.g. `general`, `purchase`, `topup`, `subscription`.
    pub kind: Option<String>,
    /// Caller's reference.
    pub reference: Option<String>,
    /// Free-form data (at most 4 KiB as JSON).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// Reserve only (two-phase); post or void later.
    #[serde(default)]
    pub pending: bool,
    /// For a pending transfer: seconds until it voids itself (default 86400).
    pub timeout_seconds: Option<u64>,
}

/// A transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    /// Transfer id (ULID).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Kind.
    pub kind: String,
    /// Asset.
    pub asset: String,
    /// `posted`, `pending` or `voided`.
    pub state: String,
    /// The legs (for a pending transfer, what it reserves).
    pub legs: Vec<Leg>,
    /// Caller's reference.
    pub reference: Option<String>,
    /// The transfer this one reverses.
    pub reverses_id: Option<String>,
    /// When a pending transfer voids itself.
    pub timeout_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /wallet/transfers/{id}/post`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostPending {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Amount to post, at most the reserved one (two-leg transfers only); default all of it.
    pub amount_minor: Option<i64>,
}

/// Body of `POST /wallet/transfers/{id}/void` and `/reversal`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferAction {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// Why (recorded in the audit log).
    pub reason: Option<String>,
}

/// A posting: one signed movement on one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Posting {
    /// Posting id.
    pub id: String,
    /// Its transfer.
    pub transfer_id: String,
    /// Signed amount.
    pub amount_minor: i64,
    /// Posted at.
    pub created_at: DateTime<Utc>,
}

/// `GET /wallet/accounts/{id}`: the account and a page of its postings, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountStatement {
    /// The account.
    pub account: Account,
    /// Postings, newest first.
    pub postings: Vec<Posting>,
    /// Pass as `cursor` for older postings.
    pub next_cursor: Option<String>,
}

/// Query of `GET /wallet/accounts/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Postings per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Body of `POST /wallet/subscribe`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subscribe {
    /// Tenant.
    pub tenant_id: Option<String>,
    /// The vendor (owner id of its account in the plan's asset).
    pub vendor_id: Option<String>,
    /// Or the account to charge directly.
    pub account_id: Option<String>,
}

/// A subscription charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionCharge {
    /// The charging transfer.
    pub transfer_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The vendor charged.
    pub owner_id: String,
    /// The account charged.
    pub account_id: String,
    /// Price in minor units.
    pub amount_minor: i64,
    /// Asset.
    pub asset: String,
    /// Period start (inclusive).
    pub period_start: DateTime<Utc>,
    /// Period end (exclusive).
    pub period_end: DateTime<Utc>,
}

/// A tenant's subscription plan (`PUT /wallet/tenants/{tenantId}/subscription-plan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionPlan {
    /// Asset charged.
    pub asset: String,
    /// Price per period in minor units.
    pub price_minor: i64,
    /// Period length in days.
    pub period_days: u32,
}

/// Query of `GET /fx/convert`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FxQuery {
    /// Amount in major units of `currency`, as a decimal string or number (e.g. `1000`, `12.5`).
    pub amount: String,
    /// ISO currency code, e.g. `RWF`.
    pub currency: String,
}

/// A stored FX quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FxQuote {
    /// Quote id.
    pub id: String,
    /// Amount converted (decimal text).
    pub amount: String,
    /// Its currency.
    pub currency: String,
    /// USD per unit of `currency` (decimal text).
    pub rate: String,
    /// `api` or `fallback`.
    pub rate_source: String,
    /// Tokens (TOKEN minor units, scale 2; 1 TOKEN = 1 USD).
    pub tokens_minor: i64,
    /// Quoted at.
    pub created_at: DateTime<Utc>,
}

/// One account whose cached balance disagrees with its postings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Discrepancy {
    /// Account.
    pub account_id: String,
    /// Cached balance.
    pub cached_minor: i64,
    /// Sum of postings.
    pub postings_minor: i64,
}

/// A reconciliation run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReconciliationRun {
    /// Run id.
    pub id: String,
    /// Tenant checked, or all.
    pub tenant_id: Option<String>,
    /// Accounts checked.
    pub accounts_checked: i64,
    /// Accounts that disagree.
    pub discrepancies: Vec<Discrepancy>,
    /// Sum over all postings of the scope (zero in a sound ledger).
    pub ledger_sum_minor: i64,
    /// When it ran.
    pub created_at: DateTime<Utc>,
}

/// Payload of the transfer events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransferEvent {
    /// The transfer.
    pub transfer: Transfer,
    /// For a post, the amount posted; for a reversal, the original transfer's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_minor: Option<i64>,
}

const METADATA_MAX_BYTES: usize = 4096;

fn is_code(s: &str) -> bool {
    (2..=12).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

impl Validate for OpenAccount {
    fn validate(&self, v: &mut Validator) {
        v.check(
            OWNER_TYPES.contains(&self.owner_type.as_str()),
            "/ownerType",
            "must be vendor, buyer, platform, commission, agent or endorser",
        );
        v.check(
            self.owner_type != "platform",
            "/ownerType",
            "platform accounts are provisioned with /wallet/platform/provision",
        );
        v.len(Some(&self.owner_id), "/ownerId", 1, 128);
        v.check(
            is_code(&self.asset),
            "/asset",
            "must be an asset code such as RWF or TOKEN",
        );
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
    }
}

impl Validate for ProvisionPlatform {
    fn validate(&self, v: &mut Validator) {
        if let Some(a) = &self.asset {
            v.check(
                is_code(a),
                "/asset",
                "must be an asset code such as RWF or TOKEN",
            );
        }
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
    }
}

impl Validate for TransferRequest {
    fn validate(&self, v: &mut Validator) {
        v.check(
            is_code(&self.asset),
            "/asset",
            "must be an asset code such as RWF or TOKEN",
        );
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        v.len(self.kind.as_deref(), "/kind", 1, 32);
        v.len(self.reference.as_deref(), "/reference", 1, 128);
        match &self.legs {
            Some(legs) => {
                v.check(
                    self.source_account_id.is_none()
                        && self.destination_account_id.is_none()
                        && self.amount_minor.is_none(),
                    "/legs",
                    "give either legs or source, destination and amount",
                );
                v.check(
                    (2..=16).contains(&legs.len()),
                    "/legs",
                    "must hold 2 to 16 legs",
                );
                for (i, l) in legs.iter().enumerate() {
                    v.check(
                        l.amount_minor != 0,
                        &format!("/legs/{i}/amountMinor"),
                        "must not be zero",
                    );
                }
                let sum = legs
                    .iter()
                    .try_fold(0i64, |acc, l| acc.checked_add(l.amount_minor));
                v.check(sum == Some(0), "/legs", "the legs must sum to zero");
            }
            None => {
                v.check(
                    self.source_account_id.is_some(),
                    "/sourceAccountId",
                    "is required",
                );
                v.check(
                    self.destination_account_id.is_some(),
                    "/destinationAccountId",
                    "is required",
                );
                v.check(
                    self.amount_minor.is_some_and(|a| a > 0),
                    "/amountMinor",
                    "must be a positive whole number of minor units",
                );
                v.check(
                    self.source_account_id.is_none()
                        || self.source_account_id != self.destination_account_id,
                    "/destinationAccountId",
                    "must differ from the source account",
                );
            }
        }
        if let Some(t) = self.timeout_seconds {
            v.check(
                self.pending,
                "/timeoutSeconds",
                "applies to pending transfers only",
            );
            v.check(
                (1..=30 * 86_400).contains(&t),
                "/timeoutSeconds",
                "must be 1 second to 30 days",
            );
        }
        if let Some(m) = &self.metadata {
            v.check(
                m.is_object() && m.to_string().len() <= METADATA_MAX_BYTES,
                "/metadata",
                "must be an object of at most 4096 bytes",
            );
        }
    }
}

impl Validate for PostPending {
    fn validate(&self, v: &mut Validator) {
        if let Some(a) = self.amount_minor {
            v.check(a > 0, "/amountMinor", "must be positive");
        }
    }
}

impl Validate for TransferAction {
    fn validate(&self, v: &mut Validator) {
        v.len(self.reason.as_deref(), "/reason", 1, 500);
    }
}

impl Validate for StatementQuery {
    fn validate(&self, v: &mut Validator) {
        if let Some(l) = self.limit {
            v.check((1..=100).contains(&l), "limit", "must be 1 to 100");
        }
    }
}

impl Validate for Subscribe {
    fn validate(&self, v: &mut Validator) {
        v.check(
            self.vendor_id.is_some() || self.account_id.is_some(),
            "/vendorId",
            "give vendorId or accountId",
        );
    }
}

impl Validate for SubscriptionPlan {
    fn validate(&self, v: &mut Validator) {
        v.check(is_code(&self.asset), "/asset", "must be an asset code");
        v.check(self.price_minor > 0, "/priceMinor", "must be positive");
        v.check(
            (1..=366).contains(&self.period_days),
            "/periodDays",
            "must be 1 to 366",
        );
    }
}

impl Validate for FxQuery {
    fn validate(&self, v: &mut Validator) {
        v.check(
            is_code(&self.currency.to_ascii_uppercase()),
            "currency",
            "must be a currency code such as RWF",
        );
        v.len(Some(&self.amount), "amount", 1, 32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors<T: Validate>(t: &T) -> Vec<String> {
        let mut v = Validator::default();
        t.validate(&mut v);
        v.finish()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.pointer)
            .collect()
    }

    #[test]
    fn a_simple_transfer_needs_both_accounts_and_a_positive_amount() {
        let t = TransferRequest {
            asset: "TOKEN".into(),
            amount_minor: Some(0),
            ..Default::default()
        };
        assert_eq!(
            errors(&t),
            vec!["/sourceAccountId", "/destinationAccountId", "/amountMinor"]
        );
    }

    #[test]
    fn legs_must_balance() {
        let t = TransferRequest {
            asset: "TOKEN".into(),
            legs: Some(vec![
                Leg {
                    account_id: "a".into(),
                    amount_minor: -100,
                },
                Leg {
                    account_id: "b".into(),
                    amount_minor: 90,
                },
            ]),
            ..Default::default()
        };
        assert_eq!(errors(&t), vec!["/legs"]);
    }
}
