//! The tariff document: the JSON schema of one insurer's tariff version, as written in `tariffs/*.json`
//! and as a service would store it. Every struct denies unknown fields, so a typo is an error, not a
//! silently ignored rule.
//!
//! Rates are decimal strings ("0.0297", see [`Rate`]); amounts are whole RWF; tables are keyed by the
//! canonical category names, and a category absent from a table means "not offered".

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::model::{Insurer, VehicleCategory, string_enum};
use crate::rate::Rate;

/// A table of whole-RWF amounts by vehicle category; a missing category is not offered.
pub type AmountTable = BTreeMap<VehicleCategory, i64>;
/// A table of own-damage rates by vehicle category; a missing category is not offered.
pub type OtfTable = BTreeMap<VehicleCategory, OtfRates>;

/// One insurer's tariff, in force from `effective_from` until the next version of the same insurer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffDocument {
    /// The insurer this tariff prices.
    pub insurer: Insurer,
    /// A unique version id (`[A-Za-z0-9._-]`, at most 64 characters); every quote records it.
    pub version: String,
    /// First day (Africa/Kigali calendar) the tariff applies to.
    pub effective_from: NaiveDate,
    /// Free-text provenance and remarks; not read by the engine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Third-party base premiums (step 1).
    pub tp_base: TpBase,
    /// Third-party bases by owner type, used when the usage table has no entry (only Radiant has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_type_fallback: Option<OwnerTypeFallback>,
    /// Seat and passenger loadings (step 2).
    pub seat_loading: SeatLoading,
    /// Own damage, theft and fire rates (step 3).
    pub own_damage: OwnDamage,
    /// Age loading and the own-damage age limit (step 4).
    pub age_loading: AgeLoading,
    /// Short-term factors (step 6): contiguous bands from day 1 to day 366.
    pub short_term: Vec<ShortTermBand>,
    /// COMESA Yellow Card extension (step 7).
    pub comesa: Comesa,
    /// Territorial extension of theft cover (step 8).
    pub theft_territorial_extension: TheftExtension,
    /// Occupant personal accident (step 9).
    pub occupant_personal_accident: OccupantRates,
    /// Government excess waiver (step 10); absent if the insurer does not offer it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub government_excess_waiver: Option<ExcessWaiver>,
    /// Transaction fees (step 11).
    pub fees: Fees,
    /// Mandatory excess by vehicle class (step 13); must contain `CAR`, the last fallback.
    pub mandatory_excess: BTreeMap<ExcessClass, MandatoryExcess>,
    /// Instalment plans offered (step 14).
    pub instalments: Vec<InstalmentPlan>,
}

/// Third-party base premiums by usage table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TpBase {
    /// Private use.
    pub private: AmountTable,
    /// Taxi/PSV; its `BUS` entry also prices school buses.
    pub taxi_psv: AmountTable,
    /// Hire; its `BUS` entry prices school buses when taxi/PSV has none.
    pub hire: AmountTable,
    /// Commercial goods and driving school.
    pub goods: AmountTable,
    /// Uplift on the goods base for flammable goods (0.20 = +20 %).
    pub flammable_goods_uplift: Rate,
}

/// Third-party bases by owner type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerTypeFallback {
    /// Bases for individual owners.
    pub individual: AmountTable,
    /// Bases for corporate owners.
    pub corporate: AmountTable,
}

/// Seat and passenger loadings, RWF per head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatLoading {
    /// Taxi/PSV minibuses and buses: per passenger seat above the driver.
    pub taxi_per_passenger: i64,
    /// Hire: per seat, driver included.
    pub hire_per_seat: i64,
    /// School bus: per passenger seat above the driver.
    pub school_bus_per_passenger: i64,
    /// Commercial goods: per seat, driver included.
    pub goods_per_seat: i64,
}

/// Own damage, theft and fire rates by usage table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnDamage {
    /// Private use.
    pub private: OtfTable,
    /// Taxi/PSV, hire and school bus.
    pub commercial_passenger: OtfTable,
    /// Commercial goods and driving school.
    pub commercial_goods: OtfTable,
    /// Goods and driving school carrying flammable goods, whatever the category.
    pub flammable_goods: OtfRates,
}

/// Rates on the sum insured; comprehensive is their sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtfRates {
    /// Material (own) damage.
    pub md: Rate,
    /// Theft.
    pub theft: Rate,
    /// Fire.
    pub fire: Rate,
}

/// Age loading on TP + OTF, and the own-damage age limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeLoading {
    /// Loading for vehicles over 5 and up to 10 years old.
    pub over_5_years: Rate,
    /// Loading for vehicles over 10 years old.
    pub over_10_years: Rate,
    /// Own-damage cover is refused for vehicles older than this.
    pub own_damage_max_age_years: u16,
}

/// A short-term band: periods of `min_days..=max_days` pay `factor` of the annual premium.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShortTermBand {
    /// First day of the band.
    pub min_days: u16,
    /// Last day of the band.
    pub max_days: u16,
    /// Fraction of the annual premium.
    pub factor: Rate,
}

/// COMESA Yellow Card extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comesa {
    /// Rate on the period's net premium excluding theft.
    pub rate_of_net_premium_excl_theft: Rate,
    /// Medical fee per COMESA passenger, RWF.
    pub medical_per_person: i64,
    /// Yellow Card fee, RWF.
    pub yellow_card_fee: i64,
}

/// Territorial extension of theft cover, as a rate on the sum insured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TheftExtension {
    /// Every usage but goods and driving school.
    pub private: Rate,
    /// Goods and driving school.
    pub goods: Rate,
}

/// Occupant personal-accident rates on the death limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OccupantRates {
    /// Motorcycles, whatever the usage.
    pub motorcycle: Rate,
    /// Goods, taxi/PSV, hire and school bus.
    pub commercial: Rate,
    /// Private and driving school.
    pub other: Rate,
    /// Death limit per person per plan step, RWF (plan 2 = twice this).
    pub limit_per_plan: i64,
}

/// Government excess waiver loading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcessWaiver {
    /// Rate on the period's own-damage premium.
    pub load_on_own_damage: Rate,
    /// Minimum loading for private use, RWF.
    pub min_private: i64,
    /// Minimum loading for every other usage, RWF.
    pub min_commercial: i64,
}

/// Transaction fees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fees {
    /// Per guarantee (TP, OTF, occupant and COMESA each count one), RWF.
    pub per_guarantee: i64,
    /// Extra per vehicle with COMESA, RWF.
    pub comesa_per_vehicle: i64,
}

/// The excess the insured bears on a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MandatoryExcess {
    /// Share of a material-damage claim.
    pub material_damage_of_claim: Rate,
    /// Share of a theft or fire total loss.
    pub theft_fire_of_total_loss: Rate,
    /// Minimum excess, RWF.
    pub minimum: i64,
}

/// A way to pay the premium in up to three tranches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstalmentPlan {
    /// Display name ("Option 1 (1m/2m/9m)").
    pub name: String,
    /// Tranches in month order; percents sum to 100.
    pub tranches: Vec<Tranche>,
}

/// One instalment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tranche {
    /// Month of the policy year the tranche is due (1 to 12).
    pub at_month: u8,
    /// Percent of the total premium.
    pub percent: u8,
}

string_enum! {
    /// A mandatory-excess class: a vehicle category or one of the tariff's group classes.
    pub enum ExcessClass (unknown: InputError::UnknownCategory) {
        /// See [`VehicleCategory::Motorcycle`].
        Motorcycle = 0 => "MOTORCYCLE",
        /// See [`VehicleCategory::Tricycle`].
        Tricycle = 1 => "TRICYCLE",
        /// See [`VehicleCategory::Car`]; required, the last fallback.
        Car = 2 => "CAR",
        /// See [`VehicleCategory::JeepSuv`].
        JeepSuv = 3 => "JEEP_SUV",
        /// See [`VehicleCategory::PickupSmallLorry`].
        PickupSmallLorry = 4 => "PICKUP_SMALL_LORRY",
        /// See [`VehicleCategory::MinibusVan`].
        MinibusVan = 5 => "MINIBUS_VAN",
        /// See [`VehicleCategory::Bus`].
        Bus = 6 => "BUS",
        /// See [`VehicleCategory::HowoShacmanFusoFaw`].
        HowoShacmanFusoFaw = 7 => "HOWO_SHACMAN_FUSO_FAW",
        /// See [`VehicleCategory::TruckLorry5tPlus`].
        TruckLorry5tPlus = 8 => "TRUCK_LORRY_5T_PLUS",
        /// See [`VehicleCategory::Trailer`].
        Trailer = 9 => "TRAILER",
        /// See [`VehicleCategory::Tractor`].
        Tractor = 10 => "TRACTOR",
        /// See [`VehicleCategory::SpecialEngine`].
        SpecialEngine = 11 => "SPECIAL_ENGINE",
        /// Public service vehicles without their own entry.
        Psv = 12 => "PSV",
        /// School and private minibuses/buses without their own entry.
        MinibusesBusesSchool = 13 => "MINIBUSES_BUSES_SCHOOL",
        /// Goods vehicles without their own entry.
        TrucksLorriesTrailersTractors = 14 => "TRUCKS_LORRIES_TRAILERS_TRACTORS",
    }
}

impl From<VehicleCategory> for ExcessClass {
    fn from(c: VehicleCategory) -> Self {
        // The first 12 classes are the categories, in the same order.
        Self::ALL[c.index()]
    }
}
