//! The four golden values of spec 2.7, through `POST /v1/quotes`.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn golden_1_car_private_comprehensive_20m_is_804_600() {
    let app = app().await;
    let q = quote_ok(&app, &car()).await;
    all_quote(&q, 804_600);
    let bk = offer(&q, "bk");
    assert_eq!(
        lines(bk),
        [
            ("third_party_base".to_owned(), 57_600),
            ("own_damage".to_owned(), 742_000),
            ("transaction_fees".to_owned(), 5_000)
        ]
    );
    assert_eq!(bk["status"], "quoted");
    assert_eq!(bk["currency"], "RWF");
    assert_eq!(bk["tariffVersion"], "bk-2025.1");
    assert_eq!(
        bk["mandatoryExcess"],
        "5% MD, 2.5% Theft/Fire (min RWF 150,000)"
    );
    let plan = &bk["instalments"][0]["schedule"];
    let sum: i64 = plan
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 804_600, "instalments sum to the total");
}

#[tokio::test]
async fn golden_2_with_comesa_90_days_age_8_is_675_975() {
    let app = app().await;
    let mut body = car();
    body["comesa"] = json!(true);
    body["comesaPassengers"] = json!(4);
    body["periodDays"] = json!(90);
    body["vehicleAgeYears"] = json!(8);
    let q = quote_ok(&app, &body).await;
    all_quote(&q, 675_975);
    let prime = offer(&q, "prime");
    assert_eq!(prime["shortTermFactor"], "0.5");
    let adjustment = lines(prime)
        .into_iter()
        .find(|(k, _)| k == "short_term_adjustment")
        .unwrap();
    assert_eq!(adjustment.1, -499_750);
}

#[tokio::test]
async fn golden_3_minibus_taxi_tp_only_14_passengers_age_16_is_428_900() {
    let app = app().await;
    let body = json!({
        "sumInsured": 20_000_000, "category": "MINIBUS_VAN", "usage": "TAXI_PSV",
        "cover": "TP_ONLY", "seats": 15, "passengersAboveDriver": 14, "vehicleAgeYears": 16
    });
    let q = quote_ok(&app, &body).await;
    all_quote(&q, 428_900);
    assert_eq!(
        lines(offer(&q, "radiant")),
        [
            ("third_party_base".to_owned(), 153_600),
            ("seat_loading".to_owned(), 196_000),
            ("age_loading".to_owned(), 76_800),
            ("transaction_fees".to_owned(), 2_500)
        ]
    );
}

#[tokio::test]
async fn golden_4_pickup_private_comprehensive_10m_is_413_100_and_414_100_at_prime() {
    let app = app().await;
    let body = json!({
        "sumInsured": 10_000_000, "category": "PICKUP_SMALL_LORRY", "usage": "PRIVATE",
        "cover": "COMPREHENSIVE"
    });
    let q = quote_ok(&app, &body).await;
    let want = [
        ("bk", 413_100),
        ("old-mutual", 413_100),
        ("prime", 414_100),
        ("radiant", 413_100),
    ]
    .map(|(i, t)| (i.to_owned(), Some(t)));
    assert_eq!(totals(&q), want);
}

#[tokio::test]
async fn every_total_is_the_sum_of_its_lines_and_options_are_priced() {
    let app = app().await;
    let body = json!({
        "sumInsured": 15_000_000, "category": "JEEP_SUV", "usage": "PRIVATE", "cover": "TP_ONLY",
        "governmentExcessWaiver": true, "occupant": {"plan": 2}, "theftTerritorialExtension": true
    });
    let q = quote_ok(&app, &body).await;
    assert_eq!(
        q["input"]["occupant"]["occupants"], 4,
        "occupants default to passengers"
    );
    for o in q["offers"].as_array().unwrap() {
        if o["status"] != "quoted" {
            continue;
        }
        let sum: i64 = lines(o).iter().map(|(_, a)| a).sum();
        assert_eq!(o["total"].as_i64(), Some(sum), "{o}");
        assert!(
            lines(o)
                .iter()
                .any(|(k, _)| k == "occupant_personal_accident"),
            "{o}"
        );
        assert!(
            !lines(o)
                .iter()
                .any(|(k, _)| k == "government_excess_waiver"),
            "no waiver charged on TP-only cover"
        );
        assert!(
            o["warning"].as_str().is_some(),
            "the waiver request is explained: {o}"
        );
    }
}
