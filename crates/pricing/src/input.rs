//! What a quote is priced from, and its validation (parse, don't validate: the engine only takes a
//! [`ValidInput`]).

use std::ops::Deref;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::model::{Cover, OwnerType, UsageType, VehicleCategory};

/// The largest accepted sum insured, RWF (100 billion). Far above any vehicle, and low enough that every
/// intermediate amount of the engine fits an `i64` in micro-RWF with room to spare.
pub const MAX_SUM_INSURED: i64 = 100_000_000_000;
/// The most seats (driver included) a vehicle may declare.
pub const MAX_SEATS: u16 = 200;
/// The oldest vehicle age accepted, years.
pub const MAX_VEHICLE_AGE_YEARS: u16 = 100;

/// Everything one quote is priced from: the same input goes to every insurer.
///
/// **One sum insured.** The engine takes a single `sum_insured`; the caller resolves it before pricing, and
/// the figure the user typed must win over an OCR `sumInsuredHint` (spec 2.10: the original let OCR override
/// the user). OCR may only fill it when the user gave none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteInput {
    /// Sum insured in whole RWF: the value own-damage, theft and fire are rated on. May be 0 only for
    /// `TP_ONLY` cover.
    pub sum_insured: i64,
    /// Vehicle category.
    pub category: VehicleCategory,
    /// Usage.
    pub usage: UsageType,
    /// Owner type.
    pub owner: OwnerType,
    /// Cover asked for.
    pub cover: Cover,
    /// Seats, driver included (1 to [`MAX_SEATS`]).
    pub seats: u16,
    /// Passenger seats above the driver (less than `seats`).
    pub passengers_above_driver: u16,
    /// Vehicle age in whole years.
    pub vehicle_age_years: u16,
    /// Cover period in days, 1 to 366; 365 or more is a full year.
    pub period_days: u16,
    /// COMESA Yellow Card extension (cover in the COMESA region).
    pub comesa: bool,
    /// People the COMESA medical fee is charged for (at most `seats`).
    pub comesa_passengers: u16,
    /// Territorial extension of the theft cover.
    pub theft_territorial_extension: bool,
    /// Occupant personal-accident cover, if asked for.
    pub occupant: Option<OccupantCover>,
    /// The vehicle carries flammable goods (goods and driving-school usage only).
    pub goods_are_flammable: bool,
    /// Government excess waiver. The engine trusts this flag: the caller must check that the owner is a
    /// government body (the original let anyone set it).
    pub government_excess_waiver: bool,
}

/// Occupant personal-accident cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OccupantCover {
    /// Plan 1 to 5: the death limit per person in units of the tariff's plan limit (RWF 1,000,000).
    pub plan: u8,
    /// People covered (1 to `seats`).
    pub occupants: u16,
}

impl QuoteInput {
    /// A private-owner, full-year input with the original's defaults (5 seats, 4 passengers, 5 years old) and
    /// every option off; set fields to change it.
    #[must_use]
    pub const fn new(
        category: VehicleCategory,
        usage: UsageType,
        cover: Cover,
        sum_insured: i64,
    ) -> Self {
        Self {
            sum_insured,
            category,
            usage,
            owner: OwnerType::Individual,
            cover,
            seats: 5,
            passengers_above_driver: 4,
            vehicle_age_years: 5,
            period_days: 365,
            comesa: false,
            comesa_passengers: 0,
            theft_territorial_extension: false,
            occupant: None,
            goods_are_flammable: false,
            government_excess_waiver: false,
        }
    }

    /// Checks every bound the engine relies on and returns the input as a [`ValidInput`].
    ///
    /// # Errors
    /// The first [`InputError`] found.
    pub fn validate(self) -> Result<ValidInput, InputError> {
        if !(0..=MAX_SUM_INSURED).contains(&self.sum_insured) {
            return Err(InputError::SumInsuredOutOfRange {
                got: self.sum_insured,
                max: MAX_SUM_INSURED,
            });
        }
        if self.cover.has_own_damage() && self.sum_insured == 0 {
            return Err(InputError::SumInsuredRequired(self.cover));
        }
        if !(1..=MAX_SEATS).contains(&self.seats) {
            return Err(InputError::SeatsOutOfRange {
                got: self.seats,
                max: MAX_SEATS,
            });
        }
        let seats = self.seats;
        let too_many = |what, got| InputError::TooManyPeople { what, got, seats };
        if self.passengers_above_driver >= seats {
            return Err(too_many(
                "passengers above the driver",
                self.passengers_above_driver,
            ));
        }
        if self.comesa_passengers > seats {
            return Err(too_many("COMESA passengers", self.comesa_passengers));
        }
        if self.vehicle_age_years > MAX_VEHICLE_AGE_YEARS {
            return Err(InputError::VehicleAgeOutOfRange {
                got: self.vehicle_age_years,
                max: MAX_VEHICLE_AGE_YEARS,
            });
        }
        if !(1..=366).contains(&self.period_days) {
            return Err(InputError::PeriodOutOfRange(self.period_days));
        }
        if let Some(o) = self.occupant {
            if !(1..=5).contains(&o.plan) {
                return Err(InputError::OccupantPlanOutOfRange(o.plan));
            }
            if o.occupants == 0 {
                return Err(InputError::NoOccupants);
            }
            if o.occupants > seats {
                return Err(too_many("occupants", o.occupants));
            }
        }
        Ok(ValidInput(self))
    }
}

/// A [`QuoteInput`] that passed [`QuoteInput::validate`]; the only thing the engine prices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidInput(QuoteInput);

impl ValidInput {
    /// The validated input.
    #[must_use]
    pub const fn get(&self) -> &QuoteInput {
        &self.0
    }

    /// Gives the input back, e.g. to change a field and validate again.
    #[must_use]
    pub fn into_inner(self) -> QuoteInput {
        self.0
    }
}

impl Deref for ValidInput {
    type Target = QuoteInput;

    fn deref(&self) -> &QuoteInput {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn car() -> QuoteInput {
        QuoteInput::new(
            VehicleCategory::Car,
            UsageType::Private,
            Cover::Comprehensive,
            20_000_000,
        )
    }

    #[test]
    fn the_defaults_are_valid() {
        assert!(car().validate().is_ok());
    }

    type Change = fn(&mut QuoteInput);

    #[test]
    fn out_of_range_inputs_are_rejected_not_clamped() {
        let cases: [(Change, InputError); 9] = [
            (
                |i| i.sum_insured = -1,
                InputError::SumInsuredOutOfRange {
                    got: -1,
                    max: MAX_SUM_INSURED,
                },
            ),
            (
                |i| i.sum_insured = 0,
                InputError::SumInsuredRequired(Cover::Comprehensive),
            ),
            (
                |i| i.seats = 0,
                InputError::SeatsOutOfRange {
                    got: 0,
                    max: MAX_SEATS,
                },
            ),
            (
                |i| i.passengers_above_driver = 5,
                InputError::TooManyPeople {
                    what: "passengers above the driver",
                    got: 5,
                    seats: 5,
                },
            ),
            (
                |i| i.comesa_passengers = 6,
                InputError::TooManyPeople {
                    what: "COMESA passengers",
                    got: 6,
                    seats: 5,
                },
            ),
            (
                |i| i.vehicle_age_years = 101,
                InputError::VehicleAgeOutOfRange { got: 101, max: 100 },
            ),
            (|i| i.period_days = 0, InputError::PeriodOutOfRange(0)),
            (|i| i.period_days = 367, InputError::PeriodOutOfRange(367)),
            (
                |i| {
                    i.occupant = Some(OccupantCover {
                        plan: 6,
                        occupants: 1,
                    })
                },
                InputError::OccupantPlanOutOfRange(6),
            ),
        ];
        for (change, want) in cases {
            let mut input = car();
            change(&mut input);
            assert_eq!(input.validate(), Err(want));
        }
    }

    #[test]
    fn tp_only_needs_no_sum_insured() {
        let mut input = car();
        input.cover = Cover::TpOnly;
        input.sum_insured = 0;
        assert!(input.validate().is_ok());
    }

    #[test]
    fn json_input_with_an_unknown_category_or_field_is_rejected() {
        let mut json = serde_json::to_value(car()).unwrap();
        json["category"] = "HOVERCRAFT".into();
        assert!(serde_json::from_value::<QuoteInput>(json.clone()).is_err());
        json["category"] = "CAR".into();
        json["colour"] = "red".into();
        assert!(serde_json::from_value::<QuoteInput>(json).is_err());
    }
}
