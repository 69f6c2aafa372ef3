//! The scoring of spec 4.4 (pure): worked scores, acceptance orderings, monotonicity.

use contracts::ranking::Weights;
use proptest::prelude::*;
use ranking::score::{Signals, order, score};

/// A spec row: rating, fulfilment, avgMs, totalTrips, balance (tokens; None = no wallet), recent.
fn row(
    rating: Option<f64>,
    f: Option<f64>,
    ms: Option<i64>,
    trips: i64,
    balance: Option<i64>,
    recent: i64,
) -> Signals {
    Signals {
        rating,
        fulfilment: f,
        avg_response_ms: ms,
        total_trips: trips,
        recent_trips: recent,
        balance_minor: balance.map(|b| b * 100),
    }
}

fn s(sig: &Signals) -> f64 {
    score(sig, &Weights::default())
}

#[test]
fn the_brand_new_vendor_keeps_its_worked_score() {
    // No evidence at all: every blended component equals the original default.
    assert!((s(&row(None, None, None, 0, None, 0)) - 0.485).abs() < 1e-9);
}

#[test]
fn worked_scores_with_evidence_move_up_by_the_prior() {
    // Rows with trips, recent quotes or a wallet now carry the prior as pseudo-evidence, so
    // their experience, recency and liquidity rise (spec 4.4's 0.8815, 0.4945, 0.723, 0.591,
    // 0.7465 and 0.4503 change); rating, fulfilment and response are unchanged.
    let cases = [
        (
            row(Some(4.9), Some(0.95), Some(1200), 400, Some(300), 10),
            0.9365,
        ),
        (
            row(Some(3.5), Some(0.6), Some(4000), 50, Some(20), 1),
            0.5495,
        ),
        (
            row(Some(4.2), Some(0.9), Some(1800), 120, Some(200), 8),
            0.778,
        ),
        (
            row(Some(3.8), Some(0.7), Some(2500), 60, Some(50), 3),
            0.646,
        ),
        (
            row(Some(4.8), Some(0.92), Some(1800), 245, Some(0), 1),
            0.8015,
        ),
        (row(None, None, None, 1, None, 1), 0.4903),
    ];
    for (sig, want) in cases {
        assert!(
            (s(&sig) - want).abs() < 1e-9,
            "{sig:?}: {} != {want}",
            s(&sig)
        );
    }
}

#[test]
fn acceptance_orderings_of_spec_4_7_hold() {
    let strong = row(Some(4.9), Some(0.95), Some(1200), 400, Some(300), 10);
    let weak = row(Some(3.5), Some(0.6), Some(4000), 50, Some(20), 1);
    assert!(s(&strong) > s(&weak));
    let alpha = row(Some(4.2), Some(0.9), Some(1800), 120, Some(200), 8);
    let beta = row(Some(3.8), Some(0.7), Some(2500), 60, Some(50), 3);
    assert!(s(&alpha) > s(&beta));
}

#[test]
fn the_defects_of_spec_4_8_3_are_gone() {
    let new = row(None, None, None, 0, None, 0);
    let one_trip = row(None, None, None, 1, None, 1);
    assert!(
        s(&one_trip) >= s(&new),
        "one trip no longer scores below none"
    );
    let no_wallet = row(None, None, None, 0, None, 0);
    let empty_wallet = row(None, None, None, 0, Some(0), 0);
    assert!(s(&empty_wallet) >= s(&no_wallet));
    // An explicit 0 rating is a 0, below the unrated prior, and below any better rating.
    assert!(s(&row(Some(0.0), None, None, 0, None, 0)) < s(&new));
}

fn signals() -> impl Strategy<Value = Signals> {
    (
        proptest::option::of(0.0f64..=5.0),
        proptest::option::of(0.0f64..=1.0),
        proptest::option::of(1i64..20_000),
        0i64..2_000,
        0i64..100,
        proptest::option::of(-10_000i64..200_000),
    )
        .prop_map(|(rating, fulfilment, ms, trips, recent, bal)| Signals {
            rating,
            fulfilment,
            avg_response_ms: ms,
            total_trips: trips,
            recent_trips: recent,
            balance_minor: bal,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn raising_any_one_input_never_lowers_the_score(
        base in signals(),
        dr in 0.0f64..=5.0,
        df in 0.0f64..=1.0,
        dt in 0i64..500,
        dn in 0i64..50,
        db in 0i64..100_000,
    ) {
        let w = Weights::default();
        let before = score(&base, &w);
        let mut up = base.clone();
        up.rating = Some((base.rating.unwrap_or(0.0) + dr).min(5.0));
        if base.rating.is_some() { prop_assert!(score(&up, &w) >= before); }
        let mut up = base.clone();
        up.fulfilment = Some((base.fulfilment.unwrap_or(0.0) + df).min(1.0));
        if base.fulfilment.is_some() { prop_assert!(score(&up, &w) >= before); }
        let mut up = base.clone();
        up.total_trips += dt;
        prop_assert!(score(&up, &w) >= before);
        let mut up = base.clone();
        up.recent_trips += dn;
        prop_assert!(score(&up, &w) >= before);
        let mut up = base.clone();
        up.balance_minor = Some(base.balance_minor.unwrap_or(0) + db);
        prop_assert!(score(&up, &w) >= before);
    }

    #[test]
    fn the_order_is_total_and_stable(mut list in proptest::collection::vec((signals(), 0u8..20), 0..40)) {
        let w = Weights::default();
        let mut keyed: Vec<(f64, String)> =
            list.drain(..).map(|(s, id)| (score(&s, &w), format!("v{id:02}"))).collect();
        let mut other = keyed.clone();
        other.reverse();
        keyed.sort_by(|a, b| order((a.0, &a.1), (b.0, &b.1)));
        other.sort_by(|a, b| order((a.0, &a.1), (b.0, &b.1)));
        prop_assert_eq!(&keyed, &other, "input order does not matter");
        for pair in keyed.windows(2) {
            prop_assert!(order((pair[0].0, &pair[0].1), (pair[1].0, &pair[1].1)) != std::cmp::Ordering::Greater);
        }
    }
}
