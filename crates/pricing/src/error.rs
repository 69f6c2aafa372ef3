//! The crate's outcomes: an invalid input, an invalid tariff document, and an insurer declining to quote.

use chrono::NaiveDate;

use crate::model::{Cover, Insurer, UsageType, VehicleCategory};

/// The quote input is invalid; nothing is priced. Maps to a 422 in a service.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A vehicle category that is not one of [`VehicleCategory::NAMES`].
    #[error("unknown vehicle category {0:?}")]
    UnknownCategory(String),
    /// A usage that is not one of [`UsageType::NAMES`].
    #[error("unknown usage type {0:?}")]
    UnknownUsage(String),
    /// An owner type that is not one of [`crate::OwnerType::NAMES`].
    #[error("unknown owner type {0:?}")]
    UnknownOwner(String),
    /// A cover that is not one of [`Cover::NAMES`].
    #[error("unknown cover {0:?}")]
    UnknownCover(String),
    /// An insurer slug that is not one of [`Insurer::NAMES`].
    #[error("unknown insurer {0:?}")]
    UnknownInsurer(String),
    /// The sum insured is negative or above [`crate::MAX_SUM_INSURED`].
    #[error("sum insured must be between 0 and {max} RWF, got {got}")]
    SumInsuredOutOfRange {
        /// The value given.
        got: i64,
        /// The largest accepted value.
        max: i64,
    },
    /// A cover with an own-damage premium needs a positive sum insured to price it.
    #[error("cover {0} needs a sum insured above 0")]
    SumInsuredRequired(Cover),
    /// Seats (driver included) must be at least 1 and at most [`crate::MAX_SEATS`].
    #[error("seats must be between 1 and {max}, got {got}")]
    SeatsOutOfRange {
        /// The value given.
        got: u16,
        /// The largest accepted value.
        max: u16,
    },
    /// A head count (passengers above the driver, COMESA passengers, occupants) exceeds what the seats allow.
    #[error("{what} is {got}, but the vehicle has {seats} seats")]
    TooManyPeople {
        /// Which count.
        what: &'static str,
        /// The value given.
        got: u16,
        /// Seats, driver included.
        seats: u16,
    },
    /// The vehicle age is implausible (above [`crate::MAX_VEHICLE_AGE_YEARS`]).
    #[error("vehicle age must be at most {max} years, got {got}")]
    VehicleAgeOutOfRange {
        /// The value given.
        got: u16,
        /// The largest accepted value.
        max: u16,
    },
    /// The cover period must be 1 to 366 days (the original silently clamped it).
    #[error("period must be between 1 and 366 days, got {0}")]
    PeriodOutOfRange(u16),
    /// The occupant personal-accident plan must be 1 to 5 (multiples of RWF 1,000,000 death cover).
    #[error("occupant plan must be between 1 and 5, got {0}")]
    OccupantPlanOutOfRange(u8),
    /// Occupant cover needs at least one occupant.
    #[error("occupant cover needs at least one occupant")]
    NoOccupants,
}

/// A tariff document is malformed or inconsistent; it is rejected whole, never half-loaded.
#[derive(Debug, thiserror::Error)]
pub enum TariffError {
    /// The JSON does not match the document schema (unknown field, unknown category, bad rate text...).
    #[error("tariff document is not valid JSON for the schema: {0}")]
    Json(#[from] serde_json::Error),
    /// The document parsed but breaks a rule; `path` names the offending field.
    #[error("tariff {version}: {path}: {reason}")]
    Invalid {
        /// The document's version, or `?` if that is what is wrong.
        version: String,
        /// Where in the document, e.g. `tp_base.private.CAR`.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A second document with the same version string.
    #[error("tariff version {0} is loaded twice")]
    DuplicateVersion(String),
    /// Two versions of one insurer's tariff start on the same day, so "which applies" is ambiguous.
    #[error("two tariffs for {insurer} take effect on {effective_from}")]
    DuplicateEffectiveDate {
        /// The insurer.
        insurer: Insurer,
        /// The shared date.
        effective_from: NaiveDate,
    },
}

/// Why an insurer gives no quote for a valid input. The other insurers may still quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Decline {
    /// The insurer has no tariff in force on the quote date.
    #[error("{} has no tariff in force on {on}", insurer.name())]
    NoTariff {
        /// The insurer.
        insurer: Insurer,
        /// The quote date.
        on: NaiveDate,
    },
    /// The insurer's tariff has no third-party rate for this usage and category (the original priced it at 0).
    #[error("{} does not offer third-party cover for a {category} used as {usage}", insurer.name())]
    ThirdPartyNotOffered {
        /// The insurer.
        insurer: Insurer,
        /// The vehicle category.
        category: VehicleCategory,
        /// The usage.
        usage: UsageType,
    },
    /// The insurer's tariff has no own-damage/theft/fire rate for this usage and category.
    #[error("{} does not offer {cover} cover for a {category} used as {usage}", insurer.name())]
    OwnDamageNotOffered {
        /// The insurer.
        insurer: Insurer,
        /// The vehicle category.
        category: VehicleCategory,
        /// The usage.
        usage: UsageType,
        /// The cover asked for.
        cover: Cover,
    },
    /// Own-damage cover is refused past the tariff's age limit; only `TP_ONLY` can be quoted.
    /// The message is the original's warning, word for word.
    #[error("Own Damage/Theft/Fire not permitted for vehicles older than {max_age_years} years.")]
    TooOldForOwnDamage {
        /// The insurer.
        insurer: Insurer,
        /// The tariff's limit; older vehicles are refused.
        max_age_years: u16,
    },
    /// The tariff has no mandatory-excess entry reachable for this vehicle (validation makes this unreachable:
    /// every tariff has a `CAR` entry).
    #[error("{} has no mandatory excess for a {category}", insurer.name())]
    NoMandatoryExcess {
        /// The insurer.
        insurer: Insurer,
        /// The vehicle category.
        category: VehicleCategory,
    },
}
