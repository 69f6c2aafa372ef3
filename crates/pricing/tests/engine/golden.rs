//! The four golden values of spec 2.7, through the public engine API, for every insurer they apply to.

use pricing::{Cover, Insurer, LineKind as L, UsageType, VehicleCategory as V, quote_all};

use crate::helpers::{book, input, lines, quote, today};

#[test]
fn golden_1_car_private_comprehensive_20m_full_year_age_5_is_804_600() {
    let i = input(V::Car, UsageType::Private, Cover::Comprehensive, 20_000_000);
    for insurer in Insurer::ALL {
        let q = quote(insurer, &i);
        assert_eq!(
            lines(&q),
            [
                (L::ThirdPartyBase, 57_600),
                (L::OwnDamage, 742_000),
                (L::TransactionFees, 5_000)
            ]
        );
        assert_eq!(q.total, 804_600, "{insurer}");
    }
}

#[test]
fn golden_2_same_with_comesa_90_days_age_8_is_675_975() {
    let mut i = input(V::Car, UsageType::Private, Cover::Comprehensive, 20_000_000);
    (
        i.comesa,
        i.comesa_passengers,
        i.period_days,
        i.vehicle_age_years,
    ) = (true, 4, 90, 8);
    for insurer in Insurer::ALL {
        let q = quote(insurer, &i);
        let want = [
            (L::ThirdPartyBase, 57_600),
            (L::OwnDamage, 742_000),
            (L::AgeLoading, 199_900),
            (L::ShortTermAdjustment, -499_750),
            (L::ComesaExtension, 136_725),
            (L::ComesaMedical, 12_000),
            (L::ComesaYellowCard, 10_000),
            (L::TransactionFees, 17_500),
        ];
        assert_eq!(lines(&q), want, "{insurer}");
        assert_eq!(q.total, 675_975, "{insurer}");
        assert_eq!(q.short_term_factor.to_string(), "0.5");
    }
}

#[test]
fn golden_3_minibus_taxi_tp_only_14_passengers_age_16_is_428_900() {
    let mut i = input(V::MinibusVan, UsageType::TaxiPsv, Cover::TpOnly, 20_000_000);
    (i.seats, i.passengers_above_driver, i.vehicle_age_years) = (15, 14, 16);
    for insurer in Insurer::ALL {
        let q = quote(insurer, &i);
        let want = [
            (L::ThirdPartyBase, 153_600),
            (L::SeatLoading, 196_000),
            (L::AgeLoading, 76_800),
            (L::TransactionFees, 2_500),
        ];
        assert_eq!(lines(&q), want, "{insurer}");
        assert_eq!(q.total, 428_900, "{insurer}");
    }
}

#[test]
fn golden_4_pickup_private_comprehensive_10m_is_413_100_and_414_100_at_prime() {
    let i = input(
        V::PickupSmallLorry,
        UsageType::Private,
        Cover::Comprehensive,
        10_000_000,
    );
    let offers = quote_all(&book().in_force(today()), &i.validate().unwrap());
    let totals: Vec<(Insurer, i64)> = offers
        .iter()
        .map(|o| o.as_ref().map(|q| (q.insurer, q.total)).unwrap())
        .collect();
    assert_eq!(
        totals,
        [
            (Insurer::Bk, 413_100),
            (Insurer::OldMutual, 413_100),
            (Insurer::Prime, 414_100),
            (Insurer::Radiant, 413_100)
        ]
    );
}

#[test]
fn every_quote_records_the_tariff_version_it_used() {
    let i = input(V::Car, UsageType::Private, Cover::Comprehensive, 20_000_000);
    assert_eq!(quote(Insurer::Bk, &i).tariff_version(), "bk-2025.1");
    assert_eq!(
        quote(Insurer::Radiant, &i).tariff_version(),
        "radiant-2025.1"
    );
    let json = serde_json::to_value(quote(Insurer::Prime, &i)).unwrap();
    assert_eq!(json["tariff_version"], "prime-2025.1");
    assert_eq!(json["total"], 804_600);
    assert_eq!(json["lines"][1]["kind"], "own_damage");
}
