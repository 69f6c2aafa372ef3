//! One function per tariff rule of spec 2.7; their unit tests are in `engine/tests.rs`.

use crate::input::{OccupantCover, QuoteInput};
use crate::model::{Cover, UsageType, VehicleCategory};
use crate::rate::{MICRO, Rate, mul_rate, round_to_rwf};
use crate::tariff::{
    AgeLoading, Comesa, CompiledOtf, ExcessWaiver, Fees, OccupantRates, SeatLoading, Tariff,
    TheftExtension,
};

/// Step 1: the TP base in micro-RWF, with the flammable-goods uplift (goods usage only). `None`: not offered.
pub(super) fn tp_base_micro(tariff: &Tariff, v: &QuoteInput) -> Option<i64> {
    let base = tariff.tp_base(v.usage, v.category, v.owner)? * MICRO;
    if v.usage == UsageType::CommercialGoods && v.goods_are_flammable {
        Some(base + mul_rate(base, tariff.doc().tp_base.flammable_goods_uplift))
    } else {
        Some(base)
    }
}

/// Step 2: seat and passenger loading, RWF. Taxi loading applies to minibuses and buses only.
pub(super) fn seat_loading(s: &SeatLoading, v: &QuoteInput) -> i64 {
    let seats = i64::from(v.seats);
    let passengers = i64::from(v.passengers_above_driver);
    match v.usage {
        UsageType::TaxiPsv
            if matches!(
                v.category,
                VehicleCategory::MinibusVan | VehicleCategory::Bus
            ) =>
        {
            s.taxi_per_passenger * passengers
        }
        UsageType::Hire => s.hire_per_seat * seats,
        UsageType::SchoolBus => s.school_bus_per_passenger * passengers,
        UsageType::CommercialGoods => s.goods_per_seat * seats,
        _ => 0,
    }
}

/// Step 3: the OTF rate the cover pays on the sum insured.
pub(super) const fn own_damage_rate(r: CompiledOtf, cover: Cover) -> Rate {
    match cover {
        Cover::TpOnly => Rate::ZERO,
        Cover::MdOnly => r.md,
        Cover::TheftOnly => r.theft,
        Cover::FireOnly => r.fire,
        Cover::OdTheftFire | Cover::Comprehensive => r.comprehensive,
    }
}

/// Step 7: the theft part of the cover, excluded from the COMESA base.
pub(super) const fn theft_rate(r: CompiledOtf, cover: Cover) -> Rate {
    match cover {
        Cover::TheftOnly | Cover::OdTheftFire | Cover::Comprehensive => r.theft,
        Cover::TpOnly | Cover::MdOnly | Cover::FireOnly => Rate::ZERO,
    }
}

/// Step 4: the age loading rate on TP + OTF. (Own damage past the age limit was refused before this.)
pub(super) const fn age_loading_rate(a: &AgeLoading, age_years: u16) -> Rate {
    if age_years > 10 {
        a.over_10_years
    } else if age_years > 5 {
        a.over_5_years
    } else {
        Rate::ZERO
    }
}

/// Step 7: the COMESA extension, RWF: `rate × (net premium excluding theft × factor)`. The base is built from
/// unrounded parts that are each ≥ 0 and grow with the sum insured, so the line is never negative and never
/// falls as the sum insured grows (the original subtracted theft even when OTF was not charged: −9,720).
pub(super) fn comesa_extension(c: &Comesa, net_excl_theft_micro: i64, factor: Rate) -> i64 {
    round_to_rwf(mul_rate(
        mul_rate(net_excl_theft_micro, factor),
        c.rate_of_net_premium_excl_theft,
    ))
}

/// Step 8: the theft territorial extension rate: goods and driving school pay the goods rate.
pub(super) const fn theft_extension_rate(t: &TheftExtension, usage: UsageType) -> Rate {
    match usage {
        UsageType::CommercialGoods | UsageType::DrivingSchool => t.goods,
        _ => t.private,
    }
}

/// Step 9: occupant personal accident, RWF: rate × (plan × limit) × occupants.
pub(super) fn occupant_premium(o: &OccupantRates, v: &QuoteInput, cover: OccupantCover) -> i64 {
    let rate = if v.category == VehicleCategory::Motorcycle {
        o.motorcycle
    } else {
        match v.usage {
            UsageType::CommercialGoods
            | UsageType::TaxiPsv
            | UsageType::Hire
            | UsageType::SchoolBus => o.commercial,
            UsageType::Private | UsageType::DrivingSchool => o.other,
        }
    };
    let death_limit = i64::from(cover.plan) * o.limit_per_plan;
    round_to_rwf(death_limit * i64::from(cover.occupants) * i64::from(rate.ppm()))
}

/// Step 10: the government excess waiver loading, RWF: `max(round(round(OTF × f) × load), minimum)`.
pub(super) fn excess_waiver(
    w: &ExcessWaiver,
    otf_micro: i64,
    factor: Rate,
    usage: UsageType,
) -> i64 {
    let otf_for_period = round_to_rwf(mul_rate(otf_micro, factor));
    let load = round_to_rwf(mul_rate(otf_for_period * MICRO, w.load_on_own_damage));
    let minimum = if usage == UsageType::Private {
        w.min_private
    } else {
        w.min_commercial
    };
    load.max(minimum)
}

/// Step 11: transaction fees, RWF.
pub(super) const fn fees(f: &Fees, guarantees: i64, comesa: bool) -> i64 {
    guarantees * f.per_guarantee + if comesa { f.comesa_per_vehicle } else { 0 }
}
