//! A unit test per tariff rule of spec 2.7, against the shipped BK (and Radiant) tariff.

use super::rules::*;
use crate::input::{OccupantCover, QuoteInput};
use crate::model::OwnerType;
use crate::model::{Cover, UsageType, VehicleCategory};
use crate::rate::{MICRO, Rate, round_to_rwf};
use crate::tariff::Tariff;
use crate::tariff::{EMBEDDED_TARIFFS, MandatoryExcess};

fn bk() -> Tariff {
    Tariff::from_json(EMBEDDED_TARIFFS[0].1).unwrap()
}

fn radiant() -> Tariff {
    Tariff::from_json(EMBEDDED_TARIFFS[3].1).unwrap()
}

fn input(category: VehicleCategory, usage: UsageType) -> QuoteInput {
    QuoteInput::new(category, usage, Cover::Comprehensive, 10_000_000)
}

fn ppm(r: &str) -> u32 {
    r.parse::<Rate>().unwrap().ppm()
}

#[test]
fn rule_1_tp_base_by_usage_and_category() {
    let t = bk();
    let tp = |c, u| tp_base_micro(&t, &input(c, u)).map(round_to_rwf);
    assert_eq!(tp(VehicleCategory::Car, UsageType::Private), Some(57_600));
    assert_eq!(tp(VehicleCategory::Car, UsageType::TaxiPsv), Some(131_400));
    assert_eq!(
        tp(VehicleCategory::PickupSmallLorry, UsageType::Hire),
        Some(150_900)
    );
    assert_eq!(
        tp(
            VehicleCategory::TruckLorry5tPlus,
            UsageType::CommercialGoods
        ),
        Some(226_800)
    );
    assert_eq!(
        tp(VehicleCategory::Trailer, UsageType::DrivingSchool),
        Some(129_600)
    );
    // School bus: the taxi/PSV BUS base whatever the category.
    assert_eq!(
        tp(VehicleCategory::Car, UsageType::SchoolBus),
        Some(153_600)
    );
    // Missing combination: not offered, never 0.
    assert_eq!(
        tp(VehicleCategory::Tractor, UsageType::CommercialGoods),
        None
    );
    assert_eq!(tp(VehicleCategory::Tricycle, UsageType::Private), None);
}

#[test]
fn rule_1_flammable_goods_pay_20_percent_more_tp() {
    let t = bk();
    let mut v = input(VehicleCategory::Motorcycle, UsageType::CommercialGoods);
    v.goods_are_flammable = true;
    // 103,606 × 1.2 = 124,327.2: kept unrounded for the age loading, shown as 124,327.
    assert_eq!(tp_base_micro(&t, &v), Some(124_327_200_000));
    v.usage = UsageType::DrivingSchool;
    assert_eq!(
        tp_base_micro(&t, &v),
        Some(103_606 * MICRO),
        "the uplift is for goods usage only"
    );
}

#[test]
fn rule_1_owner_type_fallback_applies_only_where_the_usage_table_has_no_base() {
    let t = radiant();
    let mut v = input(VehicleCategory::Motorcycle, UsageType::Hire);
    assert_eq!(tp_base_micro(&t, &v), Some(90_800 * MICRO));
    v.owner = OwnerType::Corporate;
    assert_eq!(tp_base_micro(&t, &v), Some(39_000 * MICRO));
    v.usage = UsageType::Private;
    assert_eq!(
        tp_base_micro(&t, &v),
        Some(39_000 * MICRO),
        "the usage table wins when it has a base"
    );
    assert_eq!(
        tp_base_micro(&bk(), &input(VehicleCategory::Motorcycle, UsageType::Hire)),
        None
    );
}

#[test]
fn rule_2_seat_loading_by_usage() {
    let s = bk().doc().seat_loading;
    let mut v = input(VehicleCategory::MinibusVan, UsageType::TaxiPsv);
    (v.seats, v.passengers_above_driver) = (15, 14);
    assert_eq!(seat_loading(&s, &v), 14_000 * 14);
    v.category = VehicleCategory::Car;
    assert_eq!(
        seat_loading(&s, &v),
        0,
        "taxi loading is for minibuses and buses only"
    );
    v.usage = UsageType::Hire;
    assert_eq!(seat_loading(&s, &v), 14_000 * 15, "hire counts the driver");
    v.usage = UsageType::SchoolBus;
    assert_eq!(seat_loading(&s, &v), 5_000 * 14);
    v.usage = UsageType::CommercialGoods;
    assert_eq!(seat_loading(&s, &v), 7_500 * 15);
    v.usage = UsageType::Private;
    assert_eq!(seat_loading(&s, &v), 0);
}

#[test]
fn rule_3_otf_rate_by_cover_and_usage_table() {
    let t = bk();
    let car = t
        .otf_rates(UsageType::Private, VehicleCategory::Car, false)
        .unwrap();
    assert_eq!(own_damage_rate(car, Cover::MdOnly).ppm(), ppm("0.0297"));
    assert_eq!(own_damage_rate(car, Cover::TheftOnly).ppm(), ppm("0.0044"));
    assert_eq!(own_damage_rate(car, Cover::FireOnly).ppm(), ppm("0.003"));
    assert_eq!(
        own_damage_rate(car, Cover::Comprehensive).ppm(),
        ppm("0.0371")
    );
    assert_eq!(
        own_damage_rate(car, Cover::OdTheftFire).ppm(),
        ppm("0.0371")
    );
    assert_eq!(own_damage_rate(car, Cover::TpOnly), Rate::ZERO);
    let hire = t
        .otf_rates(UsageType::Hire, VehicleCategory::Car, false)
        .unwrap();
    assert_eq!(
        hire.md.ppm(),
        ppm("0.0282"),
        "hire uses the commercial passenger table"
    );
    let school = t
        .otf_rates(UsageType::DrivingSchool, VehicleCategory::Trailer, false)
        .unwrap();
    assert_eq!(
        school.md.ppm(),
        ppm("0.028"),
        "driving school uses the goods table"
    );
    let flammable = t
        .otf_rates(UsageType::CommercialGoods, VehicleCategory::Car, true)
        .unwrap();
    assert_eq!(flammable.comprehensive.ppm(), ppm("0.0407"));
    assert_eq!(
        t.otf_rates(UsageType::TaxiPsv, VehicleCategory::Tricycle, false),
        None
    );
}

#[test]
fn rule_4_age_loading_steps_at_5_and_10_years() {
    let a = bk().doc().age_loading;
    assert_eq!(age_loading_rate(&a, 5), Rate::ZERO);
    assert_eq!(age_loading_rate(&a, 6).ppm(), 250_000);
    assert_eq!(age_loading_rate(&a, 10).ppm(), 250_000);
    assert_eq!(age_loading_rate(&a, 11).ppm(), 500_000);
    assert_eq!(age_loading_rate(&a, 16).ppm(), 500_000);
    assert_eq!(a.own_damage_max_age_years, 15);
}

#[test]
fn rule_6_short_term_factor_table() {
    let t = bk();
    let f = |d| t.short_term_factor(d).to_string();
    let want = [
        (1, "0.05"),
        (2, "0.075"),
        (3, "0.075"),
        (4, "0.1"),
        (8, "0.1"),
        (9, "0.125"),
        (15, "0.125"),
        (16, "0.25"),
        (30, "0.25"),
        (31, "0.4"),
        (60, "0.4"),
        (61, "0.5"),
        (90, "0.5"),
        (91, "0.6"),
        (120, "0.6"),
        (121, "0.7"),
        (150, "0.7"),
        (151, "0.75"),
        (180, "0.75"),
        (181, "0.9"),
        (210, "0.9"),
        (211, "1"),
        (365, "1"),
        (366, "1"),
    ];
    for (days, factor) in want {
        assert_eq!(f(days), factor, "{days} days");
    }
}

#[test]
fn rule_7_comesa_extension_is_30_percent_of_the_period_net_excluding_theft() {
    let c = bk().doc().comesa;
    let half: Rate = "0.5".parse().unwrap();
    assert_eq!(comesa_extension(&c, 911_500 * MICRO, half), 136_725);
    assert_eq!(comesa_extension(&c, 911_500 * MICRO, Rate::ONE), 273_450);
    assert_eq!(comesa_extension(&c, 0, half), 0);
    assert_eq!((c.medical_per_person, c.yellow_card_fee), (3_000, 10_000));
    let car = bk()
        .otf_rates(UsageType::Private, VehicleCategory::Car, false)
        .unwrap();
    assert_eq!(theft_rate(car, Cover::Comprehensive).ppm(), ppm("0.0044"));
    assert_eq!(theft_rate(car, Cover::MdOnly), Rate::ZERO);
}

#[test]
fn rule_8_theft_territorial_extension_rate_by_usage() {
    let t = bk().doc().theft_territorial_extension;
    assert_eq!(
        theft_extension_rate(&t, UsageType::Private).ppm(),
        ppm("0.006")
    );
    assert_eq!(
        theft_extension_rate(&t, UsageType::TaxiPsv).ppm(),
        ppm("0.006")
    );
    assert_eq!(
        theft_extension_rate(&t, UsageType::CommercialGoods).ppm(),
        ppm("0.01")
    );
    assert_eq!(
        theft_extension_rate(&t, UsageType::DrivingSchool).ppm(),
        ppm("0.01")
    );
}

#[test]
fn rule_9_occupant_personal_accident_by_vehicle_and_usage() {
    let o = bk().doc().occupant_personal_accident;
    let cover = OccupantCover {
        plan: 2,
        occupants: 3,
    };
    let v = input(VehicleCategory::Car, UsageType::Private);
    assert_eq!(
        occupant_premium(&o, &v, cover),
        30_000,
        "0.005 × 2,000,000 × 3"
    );
    let v = input(VehicleCategory::Car, UsageType::TaxiPsv);
    assert_eq!(
        occupant_premium(&o, &v, cover),
        60_000,
        "0.01 × 2,000,000 × 3"
    );
    let v = input(VehicleCategory::Motorcycle, UsageType::TaxiPsv);
    assert_eq!(
        occupant_premium(&o, &v, cover),
        48_000,
        "0.008 × 2,000,000 × 3"
    );
}

#[test]
fn rule_10_excess_waiver_is_10_percent_of_period_otf_with_a_minimum() {
    let w = bk().doc().government_excess_waiver.unwrap();
    assert_eq!(
        excess_waiver(&w, 742_000 * MICRO, Rate::ONE, UsageType::Private),
        90_000
    );
    assert_eq!(
        excess_waiver(&w, 742_000 * MICRO, Rate::ONE, UsageType::TaxiPsv),
        130_000
    );
    assert_eq!(
        excess_waiver(&w, 2_000_000 * MICRO, Rate::ONE, UsageType::Private),
        200_000
    );
    assert_eq!(
        excess_waiver(
            &w,
            2_000_000 * MICRO,
            "0.5".parse().unwrap(),
            UsageType::Private
        ),
        100_000
    );
}

#[test]
fn rule_11_fees_per_guarantee_plus_comesa() {
    let f = bk().doc().fees;
    assert_eq!(fees(&f, 1, false), 2_500);
    assert_eq!(fees(&f, 3, true), 17_500);
}

#[test]
fn rule_13_mandatory_excess_own_entry_then_usage_fallback() {
    let t = bk();
    let min = |c, u| {
        t.mandatory_excess(c, u)
            .map(|e: &MandatoryExcess| e.minimum)
    };
    assert_eq!(
        min(VehicleCategory::Motorcycle, UsageType::Private),
        Some(100_000)
    );
    assert_eq!(min(VehicleCategory::Car, UsageType::Private), Some(150_000));
    assert_eq!(
        min(VehicleCategory::JeepSuv, UsageType::Hire),
        Some(200_000)
    );
    assert_eq!(
        min(
            VehicleCategory::TruckLorry5tPlus,
            UsageType::CommercialGoods
        ),
        Some(850_000)
    );
    assert_eq!(
        min(VehicleCategory::Tricycle, UsageType::TaxiPsv),
        Some(500_000),
        "PSV class"
    );
    assert_eq!(
        min(VehicleCategory::Tractor, UsageType::CommercialGoods),
        Some(850_000),
        "heavy goods"
    );
    assert_eq!(
        min(VehicleCategory::Tractor, UsageType::Hire),
        Some(150_000),
        "CAR, the last fallback"
    );
    let e = t
        .mandatory_excess(VehicleCategory::Car, UsageType::Private)
        .unwrap();
    assert_eq!(
        (
            e.material_damage_of_claim.ppm(),
            e.theft_fire_of_total_loss.ppm()
        ),
        (50_000, 25_000)
    );
}
