//! Tariff documents: the shipped files parse and round-trip, and each validation rule rejects what it must.

use serde_json::{Value, json};

use super::{EMBEDDED_TARIFFS, ExcessClass, Tariff};
use crate::error::TariffError;
use crate::model::VehicleCategory;

fn bk_json() -> Value {
    serde_json::from_str(EMBEDDED_TARIFFS[0].1).unwrap()
}

/// Loads BK's tariff after `change`, returning the error text.
fn rejected(change: impl FnOnce(&mut Value)) -> String {
    let mut doc = bk_json();
    change(&mut doc);
    match Tariff::from_json(&doc.to_string()) {
        Ok(_) => panic!("the changed document was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn shipped_tariffs_round_trip_through_their_stored_form() {
    for (file, json) in EMBEDDED_TARIFFS {
        let tariff = Tariff::from_json(json).unwrap();
        assert!(file.starts_with(tariff.insurer().as_str()), "{file}");
        assert_eq!(format!("{}.json", tariff.version()), file);
        let stored = serde_json::to_string(tariff.document()).unwrap();
        assert_eq!(
            Tariff::from_json(&stored).unwrap().document(),
            tariff.document()
        );
        let original: Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&stored).unwrap(),
            original,
            "{file}"
        );
    }
}

#[test]
fn schema_errors_are_rejected_whole() {
    let unknown_field = rejected(|d| d["tp_base"]["privat"] = json!({}));
    assert!(
        unknown_field.contains("unknown field `privat`"),
        "{unknown_field}"
    );
    let unknown_category = rejected(|d| d["tp_base"]["private"]["SPACESHIP"] = json!(1));
    assert!(
        unknown_category.contains("unknown variant `SPACESHIP`"),
        "{unknown_category}"
    );
    // Rates are decimal strings; a JSON number would have gone through f64.
    let number_rate = rejected(|d| d["comesa"]["rate_of_net_premium_excl_theft"] = json!(0.3));
    assert!(number_rate.contains("expected a string"), "{number_rate}");
    let bad_rate = rejected(|d| d["comesa"]["rate_of_net_premium_excl_theft"] = json!("30%"));
    assert!(bad_rate.contains("\"30%\""), "{bad_rate}");
    let missing = rejected(|d| drop(d.as_object_mut().unwrap().remove("fees")));
    assert!(missing.contains("missing field `fees`"), "{missing}");
}

#[test]
fn a_tp_base_of_zero_is_rejected_absence_means_not_offered() {
    let e = rejected(|d| d["tp_base"]["private"]["CAR"] = json!(0));
    assert!(e.contains("tp_base.private.CAR"), "{e}");
}

#[test]
fn amounts_and_rates_are_bounded() {
    let e = rejected(|d| d["fees"]["per_guarantee"] = json!(-1));
    assert!(e.contains("fees.per_guarantee"), "{e}");
    let e = rejected(|d| d["seat_loading"]["hire_per_seat"] = json!(100_000_001));
    assert!(e.contains("seat_loading.hire_per_seat"), "{e}");
    let e = rejected(|d| d["own_damage"]["private"]["CAR"]["md"] = json!("0.999"));
    assert!(
        e.contains("own_damage.private.CAR") && e.contains("100 %"),
        "{e}"
    );
}

#[test]
fn short_term_bands_must_cover_every_day_and_never_decrease() {
    let gap = rejected(|d| d["short_term"][1]["min_days"] = json!(3));
    assert!(
        gap.contains("short_term[1]") && gap.contains("contiguous"),
        "{gap}"
    );
    let short = rejected(|d| d["short_term"][11]["max_days"] = json!(365));
    assert!(short.contains("end at day 366"), "{short}");
    let decreasing = rejected(|d| d["short_term"][2]["factor"] = json!("0.07"));
    assert!(decreasing.contains("must not decrease"), "{decreasing}");
    let year = rejected(|d| d["short_term"][11]["factor"] = json!("0.95"));
    assert!(year.contains("full year"), "{year}");
}

#[test]
fn the_car_excess_is_required_as_the_last_fallback() {
    let e = rejected(|d| drop(d["mandatory_excess"].as_object_mut().unwrap().remove("CAR")));
    assert!(e.contains("must contain CAR"), "{e}");
}

#[test]
fn instalment_plans_have_at_most_3_tranches_summing_to_100() {
    let e = rejected(|d| d["instalments"][1]["tranches"][1]["percent"] = json!(40));
    assert!(e.contains("sum to 90"), "{e}");
    let e = rejected(|d| {
        d["instalments"][0]["tranches"]
            .as_array_mut()
            .unwrap()
            .push(json!({"at_month": 10, "percent": 0}));
    });
    assert!(e.contains("1 to 3 tranches"), "{e}");
    let e = rejected(|d| d["instalments"][1]["tranches"][1]["at_month"] = json!(2));
    assert!(e.contains("increasing months"), "{e}");
}

#[test]
fn the_version_is_a_short_identifier() {
    let e = rejected(|d| d["version"] = json!("bk 2025"));
    assert!(e.contains("version"), "{e}");
    assert!(matches!(Tariff::from_json("{}"), Err(TariffError::Json(_))));
}

#[test]
fn every_category_is_an_excess_class_of_the_same_name() {
    for c in VehicleCategory::ALL {
        assert_eq!(ExcessClass::from(c).as_str(), c.as_str());
    }
}
