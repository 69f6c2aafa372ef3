//! Pure translation between the wire contract and the tariff engine: request → [`ValidInput`]
//! (every problem named by its JSON pointer), engine [`Offer`] → [`InsurerOffer`].

use std::str::FromStr;

use contracts::pricing::{
    CreateQuote, Declined, InstalmentDue, InstalmentOption, InsurerOffer, QuoteLine,
};
use platform::FieldError;
use pricing::{
    Cover, Decline, InputError, InstalmentPlan, Insurer, OccupantCover, Offer, OwnerType,
    PaymentReference, QuoteInput, UsageType, ValidInput, VehicleCategory,
};

use crate::Error;

/// The short reason every "not offered" decline carries.
pub(crate) const NOT_OFFERED: &str = "not offered by this insurer";

fn parse<T: FromStr>(
    value: &str,
    pointer: &str,
    names: &[&str],
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let parsed = value.parse().ok();
    if parsed.is_none() {
        errors.push(FieldError::new(
            pointer,
            format!(
                "unknown value {value:?}; expected one of {}",
                names.join(", ")
            ),
        ));
    }
    parsed
}

/// The JSON pointer of the field an engine input error is about.
fn pointer_of(e: &InputError) -> &'static str {
    match e {
        InputError::UnknownCategory(_) => "/category",
        InputError::UnknownUsage(_) => "/usage",
        InputError::UnknownOwner(_) => "/owner",
        InputError::UnknownCover(_) => "/cover",
        InputError::UnknownInsurer(_) => "/insurer",
        InputError::SumInsuredOutOfRange { .. } | InputError::SumInsuredRequired(_) => {
            "/sumInsured"
        }
        InputError::SeatsOutOfRange { .. } => "/seats",
        InputError::TooManyPeople { what, .. } => match *what {
            "COMESA passengers" => "/comesaPassengers",
            "occupants" => "/occupant/occupants",
            _ => "/passengersAboveDriver",
        },
        InputError::VehicleAgeOutOfRange { .. } => "/vehicleAgeYears",
        InputError::PeriodOutOfRange(_) => "/periodDays",
        InputError::OccupantPlanOutOfRange(_) => "/occupant/plan",
        InputError::NoOccupants => "/occupant/occupants",
    }
}

/// Resolves defaults (spec 2.6 "Inputs") and validates with the engine.
///
/// # Errors
/// [`Error::Invalid`] listing every unknown vocabulary value, else the engine's first complaint.
pub(crate) fn parse_input(req: &CreateQuote) -> Result<ValidInput, Error> {
    let mut errors = Vec::new();
    let category = parse::<VehicleCategory>(
        &req.category,
        "/category",
        &VehicleCategory::NAMES,
        &mut errors,
    );
    let usage = parse::<UsageType>(&req.usage, "/usage", &UsageType::NAMES, &mut errors);
    let cover = parse::<Cover>(&req.cover, "/cover", &Cover::NAMES, &mut errors);
    let owner = match &req.owner {
        Some(o) => parse::<OwnerType>(o, "/owner", &OwnerType::NAMES, &mut errors),
        None => Some(OwnerType::Individual),
    };
    let (Some(category), Some(usage), Some(cover), Some(owner)) = (category, usage, cover, owner)
    else {
        return Err(Error::Invalid(errors));
    };
    let mut input = QuoteInput::new(category, usage, cover, req.sum_insured);
    input.owner = owner;
    input.seats = req.seats.unwrap_or(5);
    input.passengers_above_driver = req
        .passengers_above_driver
        .unwrap_or_else(|| input.seats.saturating_sub(1));
    input.vehicle_age_years = req.vehicle_age_years.unwrap_or(5);
    input.period_days = req.period_days.unwrap_or(365);
    input.comesa = req.comesa.unwrap_or(false);
    input.comesa_passengers = if input.comesa {
        req.comesa_passengers
            .unwrap_or(input.passengers_above_driver)
    } else {
        req.comesa_passengers.unwrap_or(0)
    };
    input.theft_territorial_extension = req.theft_territorial_extension.unwrap_or(false);
    input.occupant = req.occupant.map(|o| OccupantCover {
        plan: o.plan,
        occupants: o.occupants.unwrap_or(input.passengers_above_driver),
    });
    input.goods_are_flammable = req.goods_are_flammable.unwrap_or(false);
    input.government_excess_waiver = req.government_excess_waiver.unwrap_or(false);
    input
        .validate()
        .map_err(|e| Error::Invalid(vec![FieldError::new(pointer_of(&e), e.to_string())]))
}

/// The stable code of a decline, also its metric outcome.
pub(crate) const fn decline_code(d: &Decline) -> &'static str {
    match d {
        Decline::NoTariff { .. } => "no_tariff",
        Decline::ThirdPartyNotOffered { .. } => "third_party_not_offered",
        Decline::OwnDamageNotOffered { .. } => "own_damage_not_offered",
        Decline::TooOldForOwnDamage { .. } => "too_old_for_own_damage",
        Decline::NoMandatoryExcess { .. } => "no_mandatory_excess",
    }
}

/// The metric outcome of an offer: `quoted` or the decline code.
pub(crate) fn outcome(offer: &Offer<'_>) -> &'static str {
    match offer {
        Ok(_) => "quoted",
        Err(d) => decline_code(d),
    }
}

/// The schedules of an insurer's instalment plans for a total, on the wire.
pub(crate) fn instalments(plans: &[InstalmentPlan], total: i64) -> Vec<InstalmentOption> {
    plans
        .iter()
        .map(|plan| InstalmentOption {
            name: plan.name.clone(),
            schedule: plan
                .schedule(total)
                .as_slice()
                .iter()
                .map(|i| InstalmentDue {
                    at_month: i.at_month,
                    amount: i.amount,
                })
                .collect(),
        })
        .collect()
}

/// One insurer's answer on the wire; a quoted offer carries `reference`.
pub(crate) fn to_wire(
    insurer: Insurer,
    offer: &Offer<'_>,
    reference: Option<PaymentReference>,
) -> InsurerOffer {
    let mut out = InsurerOffer {
        insurer: insurer.as_str().into(),
        insurer_name: insurer.name().into(),
        status: "declined".into(),
        currency: "RWF".into(),
        total: None,
        tariff_version: None,
        lines: Vec::new(),
        short_term_factor: None,
        mandatory_excess: None,
        instalments: Vec::new(),
        warning: None,
        payment_reference: None,
        declined: None,
    };
    match offer {
        Ok(q) => {
            out.status = "quoted".into();
            out.total = Some(q.total);
            out.tariff_version = Some(q.tariff_version().to_owned());
            out.lines = q
                .lines
                .iter()
                .map(|l| QuoteLine {
                    kind: l.kind.as_str().into(),
                    label: l.kind.label().into(),
                    amount: l.amount,
                })
                .collect();
            out.short_term_factor = Some(q.short_term_factor.to_string());
            out.mandatory_excess = Some(q.excess_summary.to_owned());
            out.instalments = instalments(q.instalments(), q.total);
            out.warning = q.warning.map(|w| w.message().to_owned());
            out.payment_reference = reference.map(|r| r.to_string());
        }
        Err(d) => {
            let reason = match d {
                Decline::ThirdPartyNotOffered { .. } | Decline::OwnDamageNotOffered { .. } => {
                    NOT_OFFERED.to_owned()
                }
                other => other.to_string(),
            };
            out.declined = Some(Declined {
                code: decline_code(d).to_owned(),
                reason,
                detail: d.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(category: &str) -> CreateQuote {
        CreateQuote {
            sum_insured: 20_000_000,
            category: category.into(),
            usage: "PRIVATE".into(),
            cover: "COMPREHENSIVE".into(),
            ..CreateQuote::default()
        }
    }

    #[test]
    fn defaults_follow_the_original() {
        let i = parse_input(&req("CAR")).unwrap();
        assert_eq!(
            (i.seats, i.passengers_above_driver, i.vehicle_age_years),
            (5, 4, 5)
        );
        assert_eq!((i.period_days, i.comesa_passengers), (365, 0));
    }

    #[test]
    fn unknown_values_are_each_named() {
        let mut r = req("HOVERCRAFT");
        r.cover = "FULL".into();
        let Err(Error::Invalid(errors)) = parse_input(&r) else {
            panic!("accepted")
        };
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/category", "/cover"]);
    }

    #[test]
    fn engine_bounds_name_their_field() {
        let mut r = req("CAR");
        r.period_days = Some(400);
        let Err(Error::Invalid(errors)) = parse_input(&r) else {
            panic!("accepted")
        };
        assert_eq!(errors[0].pointer, "/periodDays");
    }
}
