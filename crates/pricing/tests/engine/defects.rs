//! Spec 2.10 correctness defects that concern the engine, one test each, named after the defect.

use pricing::{
    Cover, Decline, ExcessSummary, InputError, Insurer, LineKind, PaymentReference, QuoteInput,
    UsageType, VehicleCategory as V, Warning, momo_tel_link, momo_ussd, quote_all,
};

use crate::helpers::{book, input, offer, quote, today};

#[test]
fn defect_ocr_overrides_the_user_sum_insured_the_engine_takes_one_sum_insured() {
    // The engine has a single `sum_insured` (documented on `QuoteInput`): the caller puts the user's figure
    // there, and the premium follows exactly that figure.
    let user = input(V::Car, UsageType::Private, Cover::Comprehensive, 10_000_000);
    let q = quote(Insurer::Bk, &user);
    assert_eq!(
        q.lines.amount(LineKind::OwnDamage),
        Some(371_000),
        "0.0371 × the user's 10,000,000"
    );
}

#[test]
fn defect_the_excess_prints_3_percent_now_2_5_percent() {
    let q = quote(
        Insurer::Bk,
        &input(V::Car, UsageType::Private, Cover::Comprehensive, 20_000_000),
    );
    assert_eq!(
        ExcessSummary(q.mandatory_excess).to_string(),
        "5% MD, 2.5% Theft/Fire (min RWF 150,000)"
    );
    assert_eq!(q.excess_summary, "5% MD, 2.5% Theft/Fire (min RWF 150,000)");
}

#[test]
fn defect_the_comesa_line_can_be_negative_now_never() {
    // The original's −9,720: a 16-year-old motorcycle, comprehensive, SI 2M, COMESA. Theft was subtracted
    // although age had blocked OTF. Now own damage is refused there, and TP-only COMESA is positive.
    let mut i = input(
        V::Motorcycle,
        UsageType::Private,
        Cover::Comprehensive,
        2_000_000,
    );
    (i.vehicle_age_years, i.comesa) = (16, true);
    assert!(matches!(
        offer(Insurer::Bk, &i),
        Err(Decline::TooOldForOwnDamage { .. })
    ));
    i.cover = Cover::TpOnly;
    let q = quote(Insurer::Bk, &i);
    assert_eq!(
        q.lines.amount(LineKind::ComesaExtension),
        Some(17_550),
        "0.3 × (39,000 + 19,500 age loading)"
    );
}

#[test]
fn defect_the_government_waiver_is_charged_on_tp_only_now_not() {
    let mut i = input(V::Car, UsageType::Private, Cover::TpOnly, 20_000_000);
    i.government_excess_waiver = true;
    let q = quote(Insurer::Bk, &i);
    assert_eq!(q.lines.amount(LineKind::GovernmentExcessWaiver), None);
    assert_eq!(q.total, 60_100, "the original charged 150,100");
    assert_eq!(q.warning, Some(Warning::ExcessWaiverNeedsOwnDamageCover));
    i.cover = Cover::Comprehensive;
    let q = quote(Insurer::Bk, &i);
    assert_eq!(
        q.lines.amount(LineKind::GovernmentExcessWaiver),
        Some(90_000),
        "max(74,200, 90,000)"
    );
}

#[test]
fn defect_comprehensive_is_cheaper_than_tp_after_15_years_now_refused() {
    // The original: a 16-year-old motorcycle cost 41,500 comprehensive but 61,000 TP-only.
    let mut i = input(
        V::Motorcycle,
        UsageType::Private,
        Cover::Comprehensive,
        2_000_000,
    );
    i.vehicle_age_years = 16;
    let declined = offer(Insurer::Bk, &i).unwrap_err();
    assert_eq!(
        declined,
        Decline::TooOldForOwnDamage {
            insurer: Insurer::Bk,
            max_age_years: 15
        }
    );
    assert_eq!(
        declined.to_string(),
        "Own Damage/Theft/Fire not permitted for vehicles older than 15 years."
    );
    i.cover = Cover::TpOnly;
    assert_eq!(quote(Insurer::Bk, &i).total, 61_000);
    // 15 years is still allowed.
    i.cover = Cover::Comprehensive;
    i.vehicle_age_years = 15;
    assert!(quote(Insurer::Bk, &i).total > 61_000);
}

#[test]
fn defect_tp_can_silently_be_0_now_not_offered() {
    let i = input(V::Tractor, UsageType::CommercialGoods, Cover::TpOnly, 0)
        .validate()
        .unwrap();
    for offer in quote_all(&book().in_force(today()), &i) {
        assert!(
            matches!(
                offer,
                Err(Decline::ThirdPartyNotOffered {
                    category: V::Tractor,
                    ..
                })
            ),
            "{offer:?}"
        );
    }
    // A missing own-damage rate is not offered either (a taxi tricycle has TP but no OTF rate).
    let i = input(
        V::Tricycle,
        UsageType::TaxiPsv,
        Cover::Comprehensive,
        3_000_000,
    );
    let declined = offer(Insurer::Bk, &i).unwrap_err();
    assert!(matches!(declined, Decline::OwnDamageNotOffered { .. }));
    assert_eq!(
        declined.to_string(),
        "BK Insurance does not offer COMPREHENSIVE cover for a TRICYCLE used as TAXI_PSV"
    );
}

#[test]
fn defect_references_collide_now_unique_and_numeric() {
    let mut seen = std::collections::HashSet::new();
    for sequence in (0..50_000).chain(u64::MAX - 1_000..=u64::MAX) {
        let r = PaymentReference::from_sequence(sequence);
        assert!(r.as_str().bytes().all(|b| b.is_ascii_digit()), "{r}");
        assert!(seen.insert(r.to_string()), "{r} repeats");
        assert_eq!(
            PaymentReference::parse(r.as_str()).map(|r| r.sequence()),
            Some(sequence)
        );
    }
}

#[test]
fn defect_the_hash_in_the_tel_link_is_not_escaped_now_percent_23() {
    let reference = PaymentReference::from_sequence(1_234);
    let ussd = momo_ussd(Insurer::Prime.profile(), 414_100, &reference);
    assert_eq!(ussd, "*182*8*1*000377*414100*00012344#");
    let tel = momo_tel_link(&ussd);
    assert_eq!(tel, "tel:*182*8*1*000377*414100*00012344%23");
    assert!(!tel.contains('#'));
}

#[test]
fn defect_enums_are_not_validated_now_unknown_values_are_errors() {
    assert_eq!(
        "LIMO".parse::<V>(),
        Err(InputError::UnknownCategory("LIMO".into()))
    );
    assert_eq!(
        "RIDESHARE".parse::<UsageType>(),
        Err(InputError::UnknownUsage("RIDESHARE".into()))
    );
    assert_eq!(
        "EVERYTHING".parse::<Cover>(),
        Err(InputError::UnknownCover("EVERYTHING".into()))
    );
    let mut json =
        serde_json::to_value(input(V::Car, UsageType::Private, Cover::Comprehensive, 1)).unwrap();
    json["cover"] = "EVERYTHING".into();
    let err = serde_json::from_value::<QuoteInput>(json).unwrap_err();
    assert!(
        err.to_string().contains("unknown variant `EVERYTHING`"),
        "{err}"
    );
}
