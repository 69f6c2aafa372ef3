//! The whatsapp-pricing service (port 4920): motor-insurance quotes, tariff versions and MoMo
//! payment links.
//!
//! Vocabularies (category, usage, owner, cover, insurer) travel as their canonical spellings
//! (`"CAR"`, `"PRIVATE"`, `"bk"`); the service checks them against the tariff engine and answers
//! an unknown one with a 422 naming the field, never a silent 0.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use platform::{Validate, Validator};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Body of `POST /v1/quotes`: one vehicle, priced for every insurer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateQuote {
    /// Tenant; defaults to the token's tenant, else `DEFAULT_TENANT_ID`.
    pub tenant_id: Option<String>,
    /// Sum insured, whole RWF (the figure the user gave wins over any OCR hint). May be 0 only
    /// for `TP_ONLY`.
    pub sum_insured: i64,
    /// Vehicle category (`CAR`, `JEEP_SUV`, `MINIBUS_VAN`, ...).
    pub category: String,
    /// Usage (`PRIVATE`, `TAXI_PSV`, `HIRE`, `SCHOOL_BUS`, `COMMERCIAL_GOODS`, `DRIVING_SCHOOL`).
    pub usage: String,
    /// Cover (`TP_ONLY`, `MD_ONLY`, `THEFT_ONLY`, `FIRE_ONLY`, `OD_THEFT_FIRE`, `COMPREHENSIVE`).
    pub cover: String,
    /// Owner type (`INDIVIDUAL`, `CORPORATE`); default `INDIVIDUAL`.
    pub owner: Option<String>,
    /// Seats, driver included; default 5.
    pub seats: Option<u16>,
    /// Passenger seats above the driver; default `seats - 1`.
    pub passengers_above_driver: Option<u16>,
    /// Vehicle age in whole years; default 5.
    pub vehicle_age_years: Option<u16>,
    /// Cover period in days (1 to 366); default 365.
    pub period_days: Option<u16>,
    /// COMESA Yellow Card extension; default false.
    pub comesa: Option<bool>,
    /// People the COMESA medical fee is charged for; default the passengers above the driver.
    pub comesa_passengers: Option<u16>,
    /// Territorial extension of the theft cover; default false.
    pub theft_territorial_extension: Option<bool>,
    /// Occupant personal-accident cover.
    pub occupant: Option<OccupantCover>,
    /// The vehicle carries flammable goods; default false.
    pub goods_are_flammable: Option<bool>,
    /// Government excess waiver; the calling service vouches that the owner is a government body.
    pub government_excess_waiver: Option<bool>,
}

/// Occupant personal-accident cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OccupantCover {
    /// Plan 1 to 5 (death cover in units of RWF 1,000,000 per person).
    pub plan: u8,
    /// People covered; default the passengers above the driver.
    pub occupants: Option<u16>,
}

impl Validate for CreateQuote {
    fn validate(&self, v: &mut Validator) {
        v.len(self.tenant_id.as_deref(), "/tenantId", 1, 64);
        v.check(self.sum_insured >= 0, "/sumInsured", "must not be negative");
        v.len(Some(&self.category), "/category", 1, 64);
        v.len(Some(&self.usage), "/usage", 1, 64);
        v.len(Some(&self.cover), "/cover", 1, 64);
    }
}

/// One line of a quote, whole RWF (only the short-term adjustment is negative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLine {
    /// Stable kind (`third_party_base`, `own_damage`, `transaction_fees`, ...).
    pub kind: Cow<'static, str>,
    /// Customer-facing label.
    pub label: Cow<'static, str>,
    /// Amount, RWF.
    pub amount: i64,
}

/// One amount of an instalment plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstalmentDue {
    /// Month of the policy year it is due.
    pub at_month: u8,
    /// Amount, RWF.
    pub amount: i64,
}

/// An instalment plan applied to the quote's total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstalmentOption {
    /// Plan name, e.g. "Option 2 (3m/9m)".
    pub name: String,
    /// The amounts due; they sum to the total.
    pub schedule: Vec<InstalmentDue>,
}

/// Why an insurer gave no quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Declined {
    /// Stable code: `third_party_not_offered`, `own_damage_not_offered`,
    /// `too_old_for_own_damage`, `no_tariff`, `no_mandatory_excess`.
    pub code: String,
    /// Short reason, e.g. "not offered by this insurer".
    pub reason: String,
    /// The full sentence for the customer.
    pub detail: String,
}

// Fixed words (slug, name, status, currency, line kinds and labels) are `Cow`: the service
// borrows them from static data when it prices (no allocation per word, four offers a quote); a
// deserialised offer owns them.
/// One insurer's answer: a priced offer (`status = "quoted"`) or a refusal (`"declined"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InsurerOffer {
    /// Insurer slug (`bk`, `old-mutual`, `prime`, `radiant`).
    pub insurer: Cow<'static, str>,
    /// Display name.
    pub insurer_name: Cow<'static, str>,
    /// `quoted` or `declined`.
    pub status: Cow<'static, str>,
    /// Always `RWF`.
    pub currency: Cow<'static, str>,
    /// Gross premium, RWF: the sum of `lines`. Absent when declined (never 0 for "not offered").
    pub total: Option<i64>,
    /// The tariff version priced with.
    pub tariff_version: Option<String>,
    /// Itemised lines.
    pub lines: Vec<QuoteLine>,
    /// Short-term factor applied, as a decimal (`"0.5"`; `"1"` for a full year).
    pub short_term_factor: Option<String>,
    /// The mandatory excess, e.g. "5% MD, 2.5% Theft/Fire (min RWF 150,000)".
    pub mandatory_excess: Option<String>,
    /// Instalment plans offered.
    pub instalments: Vec<InstalmentOption>,
    /// Something the customer should know about this quote.
    pub warning: Option<String>,
    /// Unique numeric MoMo payment reference (with a Luhn check digit).
    pub payment_reference: Option<String>,
    /// Why there is no quote.
    pub declined: Option<Declined>,
}

/// A stored comparison: the input and every insurer's answer, immutable once created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteComparison {
    /// Quote id (ULID).
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The calendar day (Africa/Kigali) whose tariffs priced it.
    pub priced_on: NaiveDate,
    /// The input as priced, every default filled in.
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    /// One answer per insurer, in the order BK, Old Mutual, Prime, Radiant.
    pub offers: Vec<InsurerOffer>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Query of `GET /v1/paylink`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaylinkQuery {
    /// The quote id.
    pub quote_id: String,
    /// The chosen insurer's slug.
    pub insurer: String,
}

impl Validate for PaylinkQuery {
    fn validate(&self, v: &mut Validator) {
        v.len(Some(&self.quote_id), "quoteId", 1, 64);
        v.len(Some(&self.insurer), "insurer", 1, 64);
    }
}

/// How to pay one insurer's quote with MTN MoMo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paylink {
    /// The quote id.
    pub quote_id: String,
    /// Insurer slug.
    pub insurer: String,
    /// Display name.
    pub insurer_name: String,
    /// Amount, RWF.
    pub amount: i64,
    /// The quote's payment reference.
    pub reference: String,
    /// The insurer's MoMo merchant code.
    pub merchant_code: String,
    /// `*182*8*1*<merchant>*<amount>*<reference>#`.
    pub ussd: String,
    /// `tel:` link dialling `ussd`, with `#` encoded as `%23`.
    pub tel: String,
}

/// One stored tariff version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TariffVersion {
    /// Version id, recorded by every quote priced with it.
    pub version: String,
    /// Insurer slug.
    pub insurer: String,
    /// First day (Africa/Kigali) it applies.
    pub effective_from: NaiveDate,
    /// Whether it is the insurer's version in force today.
    pub in_force: bool,
    /// Who added it (`system:embedded` for the shipped files).
    pub created_by: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// One entry of the append-only tariff audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TariffChange {
    /// Change id (ULID).
    pub id: String,
    /// The version added.
    pub version: String,
    /// Insurer slug.
    pub insurer: String,
    /// `seeded` (shipped file) or `published` (`POST /v1/tariffs`).
    pub action: String,
    /// Who did it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// `GET /v1/tariffs`: the versions in force, every version, and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TariffList {
    /// The day "in force" refers to (Africa/Kigali).
    pub today: NaiveDate,
    /// Each insurer's version in force today.
    pub current: Vec<TariffVersion>,
    /// Every version, by insurer then start date.
    pub versions: Vec<TariffVersion>,
    /// Every change, oldest first.
    pub changes: Vec<TariffChange>,
}
