//! The pricing engine: spec 2.7's `priceOne`, step by step, in integer RWF, with the spec 2.10 defects fixed.
//!
//! Amounts in flight are micro-RWF; a line is rounded half up to whole RWF exactly where the original
//! rounded it, so the golden values reproduce. The input bounds ([`crate::MAX_SUM_INSURED`], seats) and the
//! tariff bounds ([`crate::MAX_TARIFF_AMOUNT`], rates ≤ 100 %) keep every intermediate below 10¹⁸, so the
//! plain `i64` arithmetic here cannot overflow.

mod rules;
#[cfg(test)]
mod tests;

use crate::error::Decline;
use crate::input::{QuoteInput, ValidInput};
use crate::model::Insurer;
use crate::quote::{Comparison, LineKind, Lines, Offer, Quote, Warning};
use crate::rate::{MICRO, Rate, mul_rate, round_to_rwf};
use crate::tariff::{InForce, Tariff};

/// Prices one input against one insurer's tariff.
///
/// # Errors
/// A [`Decline`] when the insurer does not quote: no TP or own-damage rate for the combination (never a
/// silent 0), or own-damage cover asked for a vehicle past the tariff's age limit (the fix for "comprehensive
/// is cheaper than TP after 15 years": such a request is refused with the original's warning as message,
/// and the caller can offer `TP_ONLY`).
pub fn price<'t>(tariff: &'t Tariff, input: &ValidInput) -> Offer<'t> {
    let v: &QuoteInput = input;
    let doc = tariff.doc();
    let insurer = tariff.insurer();
    let (category, usage, cover) = (v.category, v.usage, v.cover);

    // Refusals first, so a declined quote does no arithmetic.
    let tp_micro = rules::tp_base_micro(tariff, v).ok_or(Decline::ThirdPartyNotOffered {
        insurer,
        category,
        usage,
    })?;
    let otf = if cover.has_own_damage() {
        let max_age_years = doc.age_loading.own_damage_max_age_years;
        if v.vehicle_age_years > max_age_years {
            return Err(Decline::TooOldForOwnDamage {
                insurer,
                max_age_years,
            });
        }
        let rates = tariff.otf_rates(usage, category, v.goods_are_flammable);
        Some(rates.ok_or(Decline::OwnDamageNotOffered {
            insurer,
            category,
            usage,
            cover,
        })?)
    } else {
        None
    };
    let mandatory_excess = tariff
        .mandatory_excess(category, usage)
        .ok_or(Decline::NoMandatoryExcess { insurer, category })?;
    let excess_summary = tariff.excess_summary(category, usage).unwrap_or_default();

    let mut lines = Lines::new();
    let si = v.sum_insured;

    // Steps 1-5: the annual premium.
    lines.set(LineKind::ThirdPartyBase, round_to_rwf(tp_micro));
    let seat = rules::seat_loading(&doc.seat_loading, v);
    set_nonzero(&mut lines, LineKind::SeatLoading, seat);
    // SI (RWF) × rate (ppm) is exactly the premium in micro-RWF.
    let otf_micro = otf.map_or(0, |r| {
        si * i64::from(rules::own_damage_rate(r, cover).ppm())
    });
    if otf_micro != 0 {
        lines.set(LineKind::OwnDamage, round_to_rwf(otf_micro));
    }
    let age_rate = rules::age_loading_rate(&doc.age_loading, v.vehicle_age_years);
    let age_micro = mul_rate(tp_micro + otf_micro, age_rate);
    if age_micro != 0 {
        lines.set(LineKind::AgeLoading, round_to_rwf(age_micro));
    }
    let annual = lines.annual();

    // Step 6: short-term factor.
    let factor = tariff.short_term_factor(v.period_days);
    if factor != Rate::ONE {
        let period = round_to_rwf(mul_rate(annual * MICRO, factor));
        lines.set(LineKind::ShortTermAdjustment, period - annual);
    }

    // Step 7: COMESA.
    if v.comesa {
        let theft_micro = otf.map_or(0, |r| si * i64::from(rules::theft_rate(r, cover).ppm()));
        let net_excl_theft_micro = tp_micro + seat * MICRO + (otf_micro - theft_micro) + age_micro;
        let extension = rules::comesa_extension(&doc.comesa, net_excl_theft_micro, factor);
        set_nonzero(&mut lines, LineKind::ComesaExtension, extension);
        set_nonzero(
            &mut lines,
            LineKind::ComesaMedical,
            doc.comesa.medical_per_person * i64::from(v.comesa_passengers),
        );
        lines.set(LineKind::ComesaYellowCard, doc.comesa.yellow_card_fee);
    }

    // Steps 8-9: extensions not scaled by the period.
    if v.theft_territorial_extension {
        let rate = rules::theft_extension_rate(&doc.theft_territorial_extension, usage);
        set_nonzero(
            &mut lines,
            LineKind::TheftTerritorialExtension,
            round_to_rwf(si * i64::from(rate.ppm())),
        );
    }
    let occupant = v.occupant.map_or(0, |o| {
        rules::occupant_premium(&doc.occupant_personal_accident, v, o)
    });
    set_nonzero(&mut lines, LineKind::OccupantPersonalAccident, occupant);

    // Step 10: government excess waiver, never on TP-only cover (there is no own-damage excess to waive).
    let mut warning = None;
    if v.government_excess_waiver {
        match (cover.has_own_damage(), &doc.government_excess_waiver) {
            (false, _) => warning = Some(Warning::ExcessWaiverNeedsOwnDamageCover),
            (true, None) => warning = Some(Warning::ExcessWaiverNotOffered),
            (true, Some(w)) => {
                lines.set(
                    LineKind::GovernmentExcessWaiver,
                    rules::excess_waiver(w, otf_micro, factor, usage),
                );
            }
        }
    }

    // Step 11: one fee per guarantee, plus the COMESA vehicle fee.
    let guarantees = 1 + i64::from(otf_micro > 0) + i64::from(occupant > 0) + i64::from(v.comesa);
    lines.set(
        LineKind::TransactionFees,
        rules::fees(&doc.fees, guarantees, v.comesa),
    );

    Ok(Quote {
        insurer,
        tariff,
        total: lines.sum(),
        lines,
        short_term_factor: factor,
        mandatory_excess,
        excess_summary,
        warning,
    })
}

/// Prices one input for every insurer with the tariffs in force (see [`crate::TariffBook::in_force`]).
/// An insurer with no tariff in force answers [`Decline::NoTariff`].
pub fn quote_all<'t>(in_force: &InForce<'t>, input: &ValidInput) -> Comparison<'t> {
    let one = |insurer| match in_force.get(insurer) {
        Some(tariff) => price(tariff, input),
        None => Err(Decline::NoTariff {
            insurer,
            on: in_force.on,
        }),
    };
    // An array literal rather than `Insurer::ALL.map(..)`: each offer is written in place, where `map`
    // moved the whole 0.5 KB array through `memmove` (40 % of the time in the benchmark).
    let [bk, old_mutual, prime, radiant] = Insurer::ALL;
    [one(bk), one(old_mutual), one(prime), one(radiant)]
}

fn set_nonzero(lines: &mut Lines, kind: LineKind, amount: i64) {
    if amount != 0 {
        lines.set(kind, amount);
    }
}
