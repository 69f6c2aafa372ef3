//! The vendor service (port 4600): the quote shapes the buyer's purchase saga calls.
//!
//! `GET /quotes/{id}` answers a [`Quote`]; `POST /quotes/{id}/accept` takes an [`AcceptQuote`]
//! and `POST /quotes/{id}/reject` a [`RejectQuote`], both answering the quote after the change.
//! Accepting is a conditional update: only a pending, unexpired quote can be accepted, once; the
//! same `purchaseId` accepting again gets the accepted quote back (a saga step retried), any
//! other gets 409 `quote_not_pending`.

use chrono::{DateTime, Utc};
use platform::{Validate, Validator};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

/// Body of `POST /vendors`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateVendor {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Display name, 2-120 characters.
    pub name: String,
    /// Region (matched exactly), 2-64 characters.
    pub region: String,
    /// Categories served: at least one.
    pub categories: Vec<String>,
    /// Rating 0-5; an explicit 0 is kept as 0.
    #[serde(default)]
    pub rating: Option<f64>,
    /// Fulfilment rate 0-1; an explicit 0 is kept as 0.
    #[serde(default)]
    pub fulfilment_rate: Option<f64>,
    /// The vendor's user in the profile service (the identity link; unique per tenant).
    #[serde(default)]
    pub profile_user_id: Option<String>,
    /// The vendor's WhatsApp number, E.164 (`+250788123456`).
    #[serde(default)]
    pub whatsapp_e164: Option<String>,
}

/// Body of `PATCH /vendors/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateVendor {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
    /// Categories (at least one).
    #[serde(default)]
    pub categories: Option<Vec<String>>,
    /// Rating 0-5.
    #[serde(default)]
    pub rating: Option<f64>,
    /// Fulfilment rate 0-1.
    #[serde(default)]
    pub fulfilment_rate: Option<f64>,
}

/// A vendor as the API shows it (no wallet balances: those belong to the wallet service).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Vendor {
    /// Vendor id (ULID).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Categories served.
    pub categories: Vec<String>,
    /// Rating 0-5, or null.
    pub rating: Option<f64>,
    /// Fulfilment rate 0-1, or null.
    pub fulfilment_rate: Option<f64>,
    /// The profile service's user id, if linked.
    pub profile_user_id: Option<String>,
    /// WhatsApp number, if given.
    pub whatsapp_e164: Option<String>,
    /// The wallet account (owner type `vendor`, owner id = this id); null until opened.
    pub wallet_account_id: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// Query of `GET /vendors`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorQuery {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// Exact region.
    pub region: Option<String>,
    /// Vendors per page, 1 to 100 (default 25).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of vendors, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorList {
    /// The page.
    pub vendors: Vec<Vendor>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A query naming only a tenant.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    pub tenant_id: Option<String>,
}

/// `GET /intents/{id}`: an intent as the vendor service knows it (from `buyer.intent.*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenIntent {
    /// Intent id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The buyer.
    pub buyer_id: String,
    /// Status as last reported by the buyer service.
    pub status: crate::buyer::IntentStatus,
    /// Deadline for quotes, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /vendors/{id}/quotes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateQuote {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The intent answered (known to vendor from `buyer.intent.*` events).
    pub intent_id: String,
    /// Price in minor units of `currency`, > 0.
    pub amount_minor: i64,
    /// One of the allowed currencies (`VENDOR_CURRENCIES`).
    pub currency: String,
    /// Estimated minutes to fulfil, > 0.
    #[serde(default)]
    pub eta_minutes: Option<i32>,
}

/// `GET /vendors/{id}/entitlements`: may the vendor quote now, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entitlements {
    /// Vendor.
    pub vendor_id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Free quotes per window (tenant setting).
    pub free_contacts: i32,
    /// Window length in days (tenant setting).
    pub window_days: i32,
    /// Start of the rolling window.
    pub window_start: DateTime<Utc>,
    /// Free quotes used in the window (quotes made while subscribed do not count).
    pub free_used: i64,
    /// Free quotes left in the window.
    pub free_remaining: i64,
    /// Whether a paid subscription period covers now.
    pub subscribed: bool,
    /// End of the current paid period (exclusive), when subscribed.
    pub subscribed_until: Option<DateTime<Utc>>,
    /// Whether a quote would be allowed now.
    pub allowed: bool,
}

/// A tenant's marketplace settings (`GET /marketplace/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceSettings {
    /// Tenant.
    pub tenant_id: String,
    /// Free quotes per vendor per window (default 30).
    pub free_contacts: i32,
    /// Rolling window in days (default 30).
    pub window_days: i32,
    /// Last changed (null while the defaults apply).
    pub updated_at: Option<DateTime<Utc>>,
}

/// Body of `PATCH /marketplace/settings`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    /// Tenant; defaults to the token's, else `DEFAULT_TENANT_ID`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Free quotes per vendor per window, 0 to 100000.
    #[serde(default)]
    pub free_contacts: Option<i32>,
    /// Window in days, 1 to 365.
    #[serde(default)]
    pub window_days: Option<i32>,
}

/// A stored catalogue image: re-encoded JPEG, no metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorImage {
    /// Image id (ULID).
    pub id: String,
    /// Vendor.
    pub vendor_id: String,
    /// Display-size JPEG (`GET`, `vendor:read`).
    pub url: String,
    /// Thumbnail JPEG.
    pub thumbnail_url: String,
    /// Display width in pixels.
    pub width: u32,
    /// Display height in pixels.
    pub height: u32,
    /// Always `image/jpeg`.
    pub content_type: String,
    /// Created.
    pub created_at: DateTime<Utc>,
}

fn is_code(s: &str) -> bool {
    (2..=12).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
    })
}

fn check_profile(
    v: &mut Validator,
    rating: Option<f64>,
    fulfilment: Option<f64>,
    categories: Option<&[String]>,
) {
    if let Some(r) = rating {
        v.check(
            r.is_finite() && (0.0..=5.0).contains(&r),
            "/rating",
            "must be 0 to 5",
        );
    }
    if let Some(f) = fulfilment {
        v.check(
            f.is_finite() && (0.0..=1.0).contains(&f),
            "/fulfilmentRate",
            "must be 0 to 1",
        );
    }
    if let Some(c) = categories {
        v.check(
            (1..=32).contains(&c.len()),
            "/categories",
            "must hold 1 to 32 categories",
        );
        for (i, cat) in c.iter().enumerate() {
            v.len(Some(cat), &format!("/categories/{i}"), 1, 64);
        }
    }
}

impl Validate for CreateVendor {
    fn validate(&self, v: &mut Validator) {
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        v.len(Some(&self.name), "/name", 2, 120);
        v.len(Some(&self.region), "/region", 2, 64);
        check_profile(v, self.rating, self.fulfilment_rate, Some(&self.categories));
        v.len(self.profile_user_id.as_deref(), "/profileUserId", 1, 128);
        if let Some(p) = &self.whatsapp_e164 {
            v.check(
                is_e164(p),
                "/whatsappE164",
                "must be E.164, e.g. +250788123456",
            );
        }
    }
}

impl Validate for UpdateVendor {
    fn validate(&self, v: &mut Validator) {
        v.len(self.name.as_deref(), "/name", 2, 120);
        v.len(self.region.as_deref(), "/region", 2, 64);
        check_profile(
            v,
            self.rating,
            self.fulfilment_rate,
            self.categories.as_deref(),
        );
    }
}

impl Validate for VendorQuery {
    fn validate(&self, v: &mut Validator) {
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        v.len(self.region.as_deref(), "/region", 1, 64);
        if let Some(l) = self.limit {
            v.check((1..=100).contains(&l), "/limit", "must be 1 to 100");
        }
        v.len(self.cursor.as_deref(), "/cursor", 1, 128);
    }
}

impl Validate for TenantQuery {
    fn validate(&self, v: &mut Validator) {
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
    }
}

impl Validate for CreateQuote {
    fn validate(&self, v: &mut Validator) {
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        v.len(Some(&self.intent_id), "/intentId", 1, 128);
        v.check(
            self.amount_minor > 0,
            "/amountMinor",
            "must be greater than 0",
        );
        v.check(
            is_code(&self.currency),
            "/currency",
            "must be a currency code such as RWF or TOKEN",
        );
        if let Some(eta) = self.eta_minutes {
            v.check(
                eta > 0,
                "/etaMinutes",
                "must be a positive number of minutes",
            );
        }
    }
}

impl Validate for SettingsPatch {
    fn validate(&self, v: &mut Validator) {
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        if let Some(n) = self.free_contacts {
            v.check(
                (0..=100_000).contains(&n),
                "/freeContacts",
                "must be 0 to 100000",
            );
        }
        if let Some(d) = self.window_days {
            v.check((1..=365).contains(&d), "/windowDays", "must be 1 to 365");
        }
    }
}

impl Validate for AcceptQuote {
    fn validate(&self, v: &mut Validator) {
        v.len(Some(&self.buyer_id), "/buyerId", 1, 128);
        v.len(Some(&self.purchase_id), "/purchaseId", 1, 128);
    }
}

impl Validate for RejectQuote {
    fn validate(&self, v: &mut Validator) {
        v.len(self.reason.as_deref(), "/reason", 1, 64);
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
    fn a_vendor_needs_a_category_and_keeps_an_explicit_zero() {
        let mut c = CreateVendor {
            name: "Moto Kigali".into(),
            region: "kigali".into(),
            categories: vec![],
            rating: Some(0.0),
            fulfilment_rate: Some(0.0),
            ..CreateVendor::default()
        };
        assert_eq!(errors(&c), vec!["/categories"]);
        c.categories = vec!["moto".into()];
        assert!(errors(&c).is_empty());
        c.rating = Some(5.1);
        c.whatsapp_e164 = Some("0788".into());
        assert_eq!(errors(&c), vec!["/rating", "/whatsappE164"]);
    }

    #[test]
    fn a_quote_needs_a_positive_amount_and_a_code() {
        let q = CreateQuote {
            intent_id: "i".into(),
            amount_minor: 0,
            currency: "usd".into(),
            eta_minutes: Some(0),
            ..CreateQuote::default()
        };
        assert_eq!(errors(&q), vec!["/amountMinor", "/currency", "/etaMinutes"]);
    }
}
