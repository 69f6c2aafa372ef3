//! The rules a tariff document must satisfy before it can price anything. Each rule exists because the
//! engine relies on it: bounded amounts keep the arithmetic inside `i64`, positive TP bases mean "missing"
//! can never be confused with 0, contiguous short-term bands mean every period has a factor.

use super::document::{AmountTable, ExcessClass, OtfTable, TariffDocument};
use super::{MAX_TARIFF_AMOUNT, compile_otf};
use crate::error::TariffError;
use crate::input::MAX_VEHICLE_AGE_YEARS;
use crate::rate::Rate;

type Check = Result<(), TariffError>;

/// Builds the error for `path` in `doc`.
pub(super) fn invalid(doc: &TariffDocument, path: &str, reason: impl Into<String>) -> TariffError {
    TariffError::Invalid {
        version: doc.version.clone(),
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Checks every rule, returning the first broken one.
pub(super) fn validate(doc: &TariffDocument) -> Check {
    version(doc)?;
    tables(doc)?;
    scalars(doc)?;
    short_term(doc)?;
    excess(doc)?;
    instalments(doc)
}

fn version(doc: &TariffDocument) -> Check {
    let v = &doc.version;
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            doc,
            "version",
            "must be 1-64 characters of [A-Za-z0-9._-]",
        ))
    }
}

fn amount(doc: &TariffDocument, path: &str, value: i64, min: i64) -> Check {
    if (min..=MAX_TARIFF_AMOUNT).contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            doc,
            path,
            format!("{value} is outside {min}..={MAX_TARIFF_AMOUNT} RWF"),
        ))
    }
}

fn tables(doc: &TariffDocument) -> Check {
    let tp = &doc.tp_base;
    let mut amount_tables: Vec<(&str, &AmountTable)> = vec![
        ("tp_base.private", &tp.private),
        ("tp_base.taxi_psv", &tp.taxi_psv),
        ("tp_base.hire", &tp.hire),
        ("tp_base.goods", &tp.goods),
    ];
    if let Some(f) = &doc.owner_type_fallback {
        amount_tables.push(("owner_type_fallback.individual", &f.individual));
        amount_tables.push(("owner_type_fallback.corporate", &f.corporate));
    }
    for (name, table) in amount_tables {
        for (category, value) in table {
            // A TP base of 0 would be the original's silent "free cover"; absence is how "not offered" is said.
            amount(doc, &format!("{name}.{category}"), *value, 1)?;
        }
    }
    let od = &doc.own_damage;
    let otf_tables: [(&str, &OtfTable); 3] = [
        ("own_damage.private", &od.private),
        ("own_damage.commercial_passenger", &od.commercial_passenger),
        ("own_damage.commercial_goods", &od.commercial_goods),
    ];
    for (name, table) in otf_tables {
        for (category, rates) in table {
            if compile_otf(*rates).is_none() {
                return Err(invalid(
                    doc,
                    &format!("{name}.{category}"),
                    "md + theft + fire is above 100 %",
                ));
            }
        }
    }
    if compile_otf(od.flammable_goods).is_none() {
        return Err(invalid(
            doc,
            "own_damage.flammable_goods",
            "md + theft + fire is above 100 %",
        ));
    }
    Ok(())
}

fn scalars(doc: &TariffDocument) -> Check {
    let s = &doc.seat_loading;
    amount(
        doc,
        "seat_loading.taxi_per_passenger",
        s.taxi_per_passenger,
        0,
    )?;
    amount(doc, "seat_loading.hire_per_seat", s.hire_per_seat, 0)?;
    amount(
        doc,
        "seat_loading.school_bus_per_passenger",
        s.school_bus_per_passenger,
        0,
    )?;
    amount(doc, "seat_loading.goods_per_seat", s.goods_per_seat, 0)?;
    amount(
        doc,
        "comesa.medical_per_person",
        doc.comesa.medical_per_person,
        0,
    )?;
    amount(doc, "comesa.yellow_card_fee", doc.comesa.yellow_card_fee, 0)?;
    amount(
        doc,
        "occupant_personal_accident.limit_per_plan",
        doc.occupant_personal_accident.limit_per_plan,
        1,
    )?;
    amount(doc, "fees.per_guarantee", doc.fees.per_guarantee, 0)?;
    amount(
        doc,
        "fees.comesa_per_vehicle",
        doc.fees.comesa_per_vehicle,
        0,
    )?;
    if let Some(w) = &doc.government_excess_waiver {
        amount(
            doc,
            "government_excess_waiver.min_private",
            w.min_private,
            0,
        )?;
        amount(
            doc,
            "government_excess_waiver.min_commercial",
            w.min_commercial,
            0,
        )?;
    }
    if doc.age_loading.own_damage_max_age_years > MAX_VEHICLE_AGE_YEARS {
        return Err(invalid(
            doc,
            "age_loading.own_damage_max_age_years",
            "above the oldest accepted vehicle",
        ));
    }
    Ok(())
}

fn short_term(doc: &TariffDocument) -> Check {
    let path = "short_term";
    let mut next_day = 1u16;
    let mut last_factor = Rate::ZERO;
    for (i, band) in doc.short_term.iter().enumerate() {
        let here = format!("{path}[{i}]");
        if band.min_days != next_day || band.max_days < band.min_days || band.max_days > 366 {
            return Err(invalid(
                doc,
                &here,
                format!("bands must be contiguous from day 1; expected to start at {next_day}"),
            ));
        }
        // A longer period must never cost less than a shorter one.
        if band.factor < last_factor {
            return Err(invalid(
                doc,
                &here,
                "factors must not decrease as the period grows",
            ));
        }
        if (band.min_days..=band.max_days).contains(&365) && band.factor != Rate::ONE {
            return Err(invalid(
                doc,
                &here,
                "a full year (365 days) must have factor 1",
            ));
        }
        last_factor = band.factor;
        next_day = band.max_days.saturating_add(1);
    }
    if next_day != 367 {
        return Err(invalid(doc, path, "bands must end at day 366"));
    }
    Ok(())
}

fn excess(doc: &TariffDocument) -> Check {
    if !doc.mandatory_excess.contains_key(&ExcessClass::Car) {
        return Err(invalid(
            doc,
            "mandatory_excess",
            "must contain CAR, the fallback of every vehicle",
        ));
    }
    for (class, e) in &doc.mandatory_excess {
        amount(
            doc,
            &format!("mandatory_excess.{class}.minimum"),
            e.minimum,
            0,
        )?;
    }
    Ok(())
}

fn instalments(doc: &TariffDocument) -> Check {
    for (i, plan) in doc.instalments.iter().enumerate() {
        let here = format!("instalments[{i}]");
        if plan.name.trim().is_empty() {
            return Err(invalid(doc, &here, "a plan needs a name"));
        }
        if !(1..=3).contains(&plan.tranches.len()) {
            return Err(invalid(doc, &here, "a plan has 1 to 3 tranches"));
        }
        let mut last_month = 0u8;
        let mut total = 0u16;
        for t in &plan.tranches {
            if t.at_month <= last_month || t.at_month > 12 || t.percent == 0 {
                return Err(invalid(
                    doc,
                    &here,
                    "tranches need increasing months within 1..=12 and a percent above 0",
                ));
            }
            last_month = t.at_month;
            total += u16::from(t.percent);
        }
        if total != 100 {
            return Err(invalid(
                doc,
                &here,
                format!("tranche percents sum to {total}, not 100"),
            ));
        }
    }
    Ok(())
}
