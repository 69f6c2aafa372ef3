//! Pricing invariants (spec 2.11 anchors) as property tests over every category, usage and cover.

use pricing::{
    Cover, Insurer, LineKind, MAX_SUM_INSURED, OccupantCover, Offer, OwnerType, QuoteInput,
    UsageType, VehicleCategory,
};
use proptest::prelude::*;
use proptest::sample::select;

use crate::helpers::offer;

prop_compose! {
    /// Any valid input: every enum value, sums insured up to the maximum, every period and option.
    fn any_input()(
        category in select(VehicleCategory::ALL.to_vec()),
        usage in select(UsageType::ALL.to_vec()),
        owner in select(OwnerType::ALL.to_vec()),
        cover in select(Cover::ALL.to_vec()),
        sum_insured in prop_oneof![1i64..=100_000_000, 1i64..=MAX_SUM_INSURED],
        seats in 1u16..=80,
        people in (0u16..=80, 0u16..=80, 1u16..=80),
        vehicle_age_years in 0u16..=20,
        period_days in 1u16..=366,
        options in any::<[bool; 5]>(),
        plan in 1u8..=5,
    ) -> QuoteInput {
        let [comesa, theft_territorial_extension, occupant, goods_are_flammable, government_excess_waiver] = options;
        QuoteInput {
            sum_insured,
            category,
            usage,
            owner,
            cover,
            seats,
            passengers_above_driver: people.0 % seats,
            vehicle_age_years,
            period_days,
            comesa,
            comesa_passengers: people.1 % (seats + 1),
            theft_territorial_extension,
            occupant: occupant.then_some(OccupantCover { plan, occupants: 1 + people.2 % seats }),
            goods_are_flammable,
            government_excess_waiver,
        }
    }
}

/// Every insurer's total, or `None` where it declines.
fn totals(input: &QuoteInput) -> Vec<Option<i64>> {
    Insurer::ALL
        .iter()
        .map(|i| offer(*i, input).ok().map(|q| q.total))
        .collect()
}

fn check_lines(offer: &Offer<'_>) -> Result<(), TestCaseError> {
    if let Ok(q) = offer {
        prop_assert_eq!(q.total, q.lines.iter().map(|l| l.amount).sum::<i64>());
        prop_assert!(q.total >= 0, "negative total {}", q.total);
        for l in q.lines.iter() {
            prop_assert!(
                l.kind == LineKind::ShortTermAdjustment || l.amount >= 0,
                "{:?} is negative",
                l
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_total_is_the_sum_of_the_lines_and_never_negative(input in any_input()) {
        prop_assert!(input.clone().validate().is_ok());
        for insurer in Insurer::ALL {
            check_lines(&offer(insurer, &input))?;
        }
    }

    #[test]
    fn the_premium_never_falls_as_the_sum_insured_grows(input in any_input(), extra in prop_oneof![0i64..=3, 0i64..=10_000_000]) {
        let mut bigger = input.clone();
        bigger.sum_insured = (input.sum_insured + extra).min(MAX_SUM_INSURED);
        for (small, big) in totals(&input).into_iter().zip(totals(&bigger)) {
            prop_assert_eq!(small.is_some(), big.is_some(), "the sum insured must not change whether an insurer quotes");
            if let (Some(small), Some(big)) = (small, big) {
                prop_assert!(small <= big, "{} > {}", small, big);
            }
        }
    }

    #[test]
    fn a_shorter_period_never_costs_more_than_a_full_year(input in any_input()) {
        let mut year = input.clone();
        year.period_days = 365;
        for (period, year) in totals(&input).into_iter().zip(totals(&year)) {
            if let (Some(period), Some(year)) = (period, year) {
                prop_assert!(period <= year, "{} days cost {} > a year's {}", input.period_days, period, year);
            }
        }
    }

    #[test]
    fn own_damage_cover_never_costs_less_than_tp_only(input in any_input()) {
        let mut tp = input.clone();
        tp.cover = Cover::TpOnly;
        for (cover, tp) in totals(&input).into_iter().zip(totals(&tp)) {
            if let (Some(cover), Some(tp)) = (cover, tp) {
                prop_assert!(cover >= tp, "{:?} costs {} < TP-only {}", input.cover, cover, tp);
            }
        }
    }
}
